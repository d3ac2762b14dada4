//! `accrual`: measure failure detectors and timeout policies on traces (`qos-spec.md` §7).

#![forbid(unsafe_code)]

mod plot;

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

use accrual::Nanos;
use accrual_eval::hb_gen::{self, Scenario};
use accrual_eval::rtt::TimeoutSpec;
use accrual_eval::spec::{Tuned, short};
use accrual_eval::{
    DetectorSpec, EvalError, Family, HeartbeatTrace, NotScored, Point, RttTrace, SpecError,
    best_within, evaluate, frontier, oracle, replay_timeouts, timeout_oracle,
};
use clap::{Parser, Subcommand};

/// Measure failure detectors and timeout policies: how fast each notices a failure against how
/// often it accuses a healthy peer.
#[derive(Parser, Debug)]
#[command(name = "accrual", version, about, long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand, Debug)]
enum Command {
    /// Sweep detectors over a trace, or over the built-in scenario suite when no trace is given.
    Eval(EvalArgs),
    /// Write every deadline of one detector on a trace.
    Replay {
        /// The heartbeat trace (CSV, qos-spec §1).
        #[arg(long)]
        trace: PathBuf,
        /// The detector spec, e.g. `phi-normal:threshold=8,window=1000`.
        #[arg(long)]
        detector: String,
        /// Where to write `peer,arrival_ns,deadline_ns`.
        #[arg(long)]
        out: PathBuf,
    },
    /// Replay request-timeout policies over a round-trip-time trace (qos-spec §6).
    Timeouts {
        /// The RTT trace (CSV, qos-spec §6).
        #[arg(long)]
        trace: PathBuf,
        /// Policy specs (`fixed:timeout=2s`, `rfc6298:floor=1s`, `quantile:multiplier=2`,
        /// `default:quantile=0.999`); a bare family sweeps its knob. Default: every family.
        #[arg(long = "policy")]
        policies: Vec<String>,
        /// Premature-timeout budgets (fractions of replies) for the frontier table.
        #[arg(long = "budget", default_values_t = vec![0.01, 0.001], allow_negative_numbers = true)]
        budgets: Vec<f64>,
        /// Write the points and frontiers as JSON.
        #[arg(long)]
        json: Option<PathBuf>,
    },
    /// Write a synthetic heartbeat trace.
    Gen {
        /// One of lan, datacenter, wan, cloud-vm, jvm, monitor-stall, mixed.
        #[arg(long, required_unless_present = "mix")]
        scenario: Option<String>,
        /// Instead of a scenario, a fleet of this composition: `kind=count,...` with kinds lan,
        /// datacenter, wan, cloud-vm, jvm (e.g. `lan=16,jvm=4`).
        #[arg(long, conflicts_with_all = ["scenario", "peers"])]
        mix: Option<String>,
        /// The seed: the same seed gives the same bytes.
        #[arg(long, default_value_t = 1)]
        seed: u64,
        /// How long the trace covers, e.g. `30s`, `1800s`.
        #[arg(long, default_value = "600s")]
        duration: String,
        /// How many peers.
        #[arg(long, default_value_t = 20)]
        peers: usize,
        /// Where to write the trace.
        #[arg(long)]
        out: PathBuf,
    },
    /// Recommend the `default` detector configuration that meets a budget on a trace.
    Tune {
        /// The heartbeat trace.
        #[arg(long)]
        trace: PathBuf,
        /// Mistakes per peer-hour allowed.
        #[arg(long, allow_negative_numbers = true)]
        budget: f64,
        /// Heartbeats per peer skipped before scoring.
        #[arg(long, default_value_t = 0)]
        warmup: usize,
        /// Print TOML (default) or JSON.
        #[arg(long, default_value = "toml")]
        format: String,
    },
}

#[derive(clap::Args, Debug)]
struct EvalArgs {
    /// A heartbeat trace (CSV, qos-spec §1). Without one, the built-in suite is generated.
    #[arg(long)]
    trace: Option<PathBuf>,
    /// Detector specs; a bare family sweeps its knob. Default: every family.
    #[arg(long = "detector")]
    detectors: Vec<String>,
    /// Heartbeats per peer fed but not scored (default: 0 with --trace; in the suite, the
    /// first third of each trace, so that learning detectors are scored as they run for days).
    #[arg(long)]
    warmup: Option<usize>,
    /// Mistake budgets (per peer-hour) for the frontier table.
    #[arg(long = "budget", default_values_t = vec![1.0, 0.1], allow_negative_numbers = true)]
    budgets: Vec<f64>,
    /// With --trace: write the points and frontiers as JSON.
    #[arg(long)]
    json: Option<PathBuf>,
    /// With --trace: write the SVG plot.
    #[arg(long)]
    plot: Option<PathBuf>,
    /// Without --trace: the report folder.
    #[arg(long, default_value = "accrual-report")]
    out: PathBuf,
    /// Without --trace: the suite's seed.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Without --trace: peers per scenario.
    #[arg(long, default_value_t = 20)]
    peers: usize,
    /// Without --trace: how long each scenario covers.
    #[arg(long, default_value = "1800s")]
    duration: String,
    /// Threads for the sweeps (default: every core).
    #[arg(long)]
    threads: Option<usize>,
}

/// Why a command failed: a flag's value is refused (exit 2, as for clap's own usage errors), or
/// the work itself failed (exit 1: an unreadable trace, a malformed row, a write error).
#[derive(Debug)]
enum Failure {
    Usage(String),
    Run(String),
}

impl From<String> for Failure {
    fn from(message: String) -> Self {
        Failure::Run(message)
    }
}

/// A usage error: a flag's value is refused.
fn usage(message: impl Into<String>) -> Failure {
    Failure::Usage(message.into())
}

type Result<T> = std::result::Result<T, Failure>;

/// The most rows (heartbeats and monitor ticks) a generated trace may hold: about 1.6 GB in
/// memory at 32 bytes a row, more once written.
const MAX_ROWS: u128 = 50_000_000;

/// The most threads `--threads` may ask for.
const MAX_THREADS: usize = 256;

fn main() -> ExitCode {
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            use clap::error::ErrorKind;
            if matches!(e.kind(), ErrorKind::DisplayHelp | ErrorKind::DisplayVersion) {
                let _ = e.print();
                return ExitCode::SUCCESS;
            }
            // One line: the error and its details, without clap's usage block and tips.
            let text = e.render().to_string();
            let line: Vec<&str> = text
                .lines()
                .map(str::trim)
                .take_while(|l| !l.starts_with("Usage:") && !l.starts_with("For more information"))
                .filter(|l| !l.is_empty() && !l.starts_with("tip:"))
                .collect();
            eprintln!("{} (see accrual --help)", line.join(" "));
            return ExitCode::from(2);
        }
    };
    match run(cli.command) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure::Usage(message)) => {
            eprintln!("error: {message}");
            ExitCode::from(2)
        }
        Err(Failure::Run(message)) => {
            eprintln!("error: {message}");
            ExitCode::FAILURE
        }
    }
}

fn run(command: Command) -> Result<()> {
    match command {
        Command::Eval(args) => eval(args),
        Command::Replay {
            trace,
            detector,
            out,
        } => replay(&trace, &detector, &out),
        Command::Timeouts {
            trace,
            policies,
            budgets,
            json,
        } => timeouts(&trace, &policies, &budgets, json.as_deref()),
        Command::Gen {
            scenario,
            mix,
            seed,
            duration,
            peers,
            out,
        } => {
            let duration = parse_duration("--duration", &duration)?;
            let trace = match (mix, scenario) {
                (Some(mix), _) => {
                    let mix: hb_gen::Mix = mix.parse().map_err(|e| usage(format!("--mix: {e}")))?;
                    for &(kind, _) in mix.kinds() {
                        check_rows(kind, mix.peers(), duration, "--mix")?;
                    }
                    hb_gen::generate_mix(&mix, seed, duration)
                }
                (None, Some(scenario)) => {
                    let scenario: Scenario = scenario.parse().map_err(usage)?;
                    check_peers(peers)?;
                    check_rows(scenario, peers, duration, "--peers")?;
                    hb_gen::generate(scenario, seed, peers, duration)
                }
                (None, None) => return Err(usage("gen: --scenario or --mix is required")),
            };
            write_file(&out, |w| trace.write(w))
        }
        Command::Tune {
            trace,
            budget,
            warmup,
            format,
        } => tune(&trace, budget, warmup, &format),
    }
}

fn parse_duration(flag: &str, text: &str) -> Result<Nanos> {
    text.parse().map_err(|e| usage(format!("{flag}: {e}")))
}

/// `--peers` of a generated trace: at least 1, at most [`hb_gen::MAX_PEERS`].
fn check_peers(peers: usize) -> Result<()> {
    if peers == 0 {
        return Err(usage("--peers: must be at least 1"));
    }
    if peers > hb_gen::MAX_PEERS {
        return Err(usage(format!(
            "--peers: {peers} is more than the limit of {}",
            hb_gen::MAX_PEERS
        )));
    }
    Ok(())
}

/// Refuses a generated trace that could hold more than [`MAX_ROWS`] rows: `peers` ×
/// (`duration` ÷ the scenario's shortest heartbeat interval), ticks included. `flag` names the
/// flag that sets the peers.
fn check_rows(scenario: Scenario, peers: usize, duration: Nanos, flag: &str) -> Result<()> {
    let rows = scenario.rows_at_most(peers, duration);
    if rows > MAX_ROWS {
        return Err(usage(format!(
            "{flag} and --duration: a {scenario} trace of {peers} {} over {duration} may hold {rows} rows (a heartbeat every {} per peer, and the monitor's ticks), more than the limit of {MAX_ROWS}; lower {flag} or --duration",
            if peers == 1 { "peer" } else { "peers" },
            scenario.shortest_interval()
        )));
    }
    Ok(())
}

fn check_budgets(budgets: &[f64]) -> Result<()> {
    match budgets.iter().find(|b| !b.is_finite() || **b < 0.0) {
        Some(b) => Err(usage(format!(
            "--budget: {} is not a non-negative number",
            short(*b)
        ))),
        None => Ok(()),
    }
}

fn write_file(path: &Path, f: impl FnOnce(&mut dyn Write) -> std::io::Result<()>) -> Result<()> {
    let mut file = std::io::BufWriter::new(
        std::fs::File::create(path)
            .map_err(|e| format!("{}: cannot write: {e}", path.display()))?,
    );
    f(&mut file)
        .and_then(|()| file.flush())
        .map_err(|e| Failure::Run(format!("{}: cannot write: {e}", path.display())))
}

/// `--threads`, or every core: at least 1, at most [`MAX_THREADS`].
fn threads(requested: Option<usize>) -> Result<usize> {
    match requested {
        None => Ok(std::thread::available_parallelism()
            .map_or(2, |n| n.get())
            .min(MAX_THREADS)),
        Some(0) => Err(usage("--threads: must be at least 1")),
        Some(n) if n > MAX_THREADS => Err(usage(format!(
            "--threads: {n} is more than the limit of {MAX_THREADS}"
        ))),
        Some(n) => Ok(n),
    }
}

/// Expands specs: a bare family name sweeps its grid; anything else is one spec.
fn detector_specs(given: &[String]) -> Result<Vec<DetectorSpec>> {
    if given.is_empty() {
        return Ok(Family::ALL.iter().flat_map(|f| f.grid()).collect());
    }
    let mut out = Vec::new();
    for text in given {
        match text.trim().parse::<Family>() {
            Ok(family) if !text.contains(':') => out.extend(family.grid()),
            _ => out.push(
                text.parse::<DetectorSpec>()
                    .map_err(|e| usage(format!("--detector `{text}`: {e}")))?,
            ),
        }
    }
    Ok(out)
}

fn families_of(points: &[Point]) -> Vec<Family> {
    let mut f: Vec<Family> = points.iter().map(|p| p.family).collect();
    f.sort();
    f.dedup();
    f
}

fn progress(label: String, total: usize) -> impl Fn(usize) + Sync {
    move |done: usize| {
        if done == total || done.is_multiple_of(25) {
            eprint!("\r{label}: {done}/{total} sweeps");
            if done == total {
                eprintln!();
            }
        }
    }
}

/// The frontiers of every family (and the oracle) at every budget, as JSON values.
fn frontiers_json(
    points: &[Point],
    trace: &HeartbeatTrace,
    warmup: usize,
    budgets: &[f64],
) -> Vec<serde_json::Value> {
    let mut out = Vec::new();
    for &b in budgets {
        for f in families_of(points) {
            out.push(serde_json::json!({
                "family": f.name(), "budget": b, "detection_time_mean_s": finite(frontier(points, f, b)),
            }));
        }
        let o = oracle_time(trace, warmup, b);
        out.push(serde_json::json!({
            "family": "oracle", "budget": b, "detection_time_mean_s": finite(o),
        }));
    }
    out
}

/// The oracle's mean detection time at `budget` (`+∞` when no assignment meets it). Only
/// asked after a sweep scored the trace, so something is scored.
fn oracle_time(trace: &HeartbeatTrace, warmup: usize, budget: f64) -> f64 {
    match oracle(trace, warmup, budget) {
        Ok(Some((score, _))) => score.detection_time_mean_s,
        Ok(None) | Err(_) => f64::INFINITY,
    }
}

/// A failed sweep, naming the trace; when nothing is scored, what to change.
fn sweep_failed(what: &str, e: EvalError) -> Failure {
    let hint = match e {
        EvalError::NotScored(NotScored::WarmupTooLarge { .. }) => "; lower --warmup",
        _ => "",
    };
    Failure::Run(format!("{what}: {e}{hint}"))
}

fn finite(x: f64) -> Option<f64> {
    x.is_finite().then_some(x)
}

fn seconds(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.3}s")
    } else {
        "-".to_owned()
    }
}

fn plot_points(title: &str, points: &[Point]) -> String {
    let curves: Vec<plot::Curve> = families_of(points)
        .into_iter()
        .map(|f| {
            let mut pts: Vec<(f64, f64)> = points
                .iter()
                .filter(|p| p.family == f)
                .map(|p| (p.score.detection_time_mean_s, p.score.mistake_rate_per_hour))
                .collect();
            pts.sort_by(|a, b| a.0.total_cmp(&b.0));
            plot::Curve {
                name: f.name().to_owned(),
                points: pts,
            }
        })
        .collect();
    plot::svg(
        title,
        "mean detection time (s)",
        "mistakes per peer-hour (log; 0 drawn at 0.01)",
        &curves,
        0.01,
    )
}

fn eval(args: EvalArgs) -> Result<()> {
    check_budgets(&args.budgets)?;
    let warmup = match (args.warmup, &args.trace) {
        (Some(w), _) => w,
        (None, Some(_)) => 0,
        (None, None) => {
            let d = parse_duration("--duration", &args.duration)?;
            (d.as_nanos() / 3 / hb_gen::INTERVAL.as_nanos()) as usize
        }
    };
    let specs = detector_specs(&args.detectors)?;
    let threads = threads(args.threads)?;
    let mut out = std::io::stdout().lock();
    let table_header = |out: &mut dyn Write, families: &[Family]| -> std::io::Result<()> {
        write!(out, "{:<14} {:>7}", "scenario", "budget")?;
        for f in families {
            write!(out, " {:>11}", f.name())?;
        }
        writeln!(out, " {:>11}", "oracle")
    };
    let table_rows = |out: &mut dyn Write,
                      name: &str,
                      points: &[Point],
                      trace: &HeartbeatTrace|
     -> std::io::Result<()> {
        for &b in &args.budgets {
            write!(out, "{name:<14} {b:>7}")?;
            for f in families_of(points) {
                write!(out, " {:>11}", seconds(frontier(points, f, b)))?;
            }
            let o = oracle_time(trace, warmup, b);
            writeln!(out, " {:>11}", seconds(o))?;
        }
        Ok(())
    };
    let io = |e: std::io::Error| format!("cannot write the table: {e}");
    if let Some(path) = &args.trace {
        let trace = HeartbeatTrace::read(path).map_err(|e| e.to_string())?;
        if trace.peers.is_empty() {
            return Err(format!("{}: the trace has no heartbeats", path.display()).into());
        }
        let points = evaluate(
            &trace,
            &specs,
            warmup,
            threads,
            &progress(path.display().to_string(), specs.len()),
        )
        .map_err(|e| sweep_failed(&path.display().to_string(), e))?;
        writeln!(
            out,
            "mean detection time at each budget (mistakes per peer-hour); - where none meets it"
        )
        .map_err(io)?;
        table_header(&mut out, &families_of(&points)).map_err(io)?;
        table_rows(&mut out, "trace", &points, &trace).map_err(io)?;
        if let Some(json) = &args.json {
            let doc = serde_json::json!({
                "points": points, "frontiers": frontiers_json(&points, &trace, warmup, &args.budgets),
            });
            write_file(json, |w| {
                serde_json::to_writer_pretty(w, &doc).map_err(std::io::Error::other)
            })?;
        }
        if let Some(svg) = &args.plot {
            let text = plot_points(&path.display().to_string(), &points);
            write_file(svg, |w| w.write_all(text.as_bytes()))?;
        }
        return Ok(());
    }
    // The built-in suite.
    let duration = parse_duration("--duration", &args.duration)?;
    check_peers(args.peers)?;
    for scenario in Scenario::ALL {
        check_rows(scenario, args.peers, duration, "--peers")?;
    }
    std::fs::create_dir_all(&args.out)
        .map_err(|e| format!("{}: cannot create: {e}", args.out.display()))?;
    writeln!(
        out,
        "built-in suite: {} peers per scenario, {duration} each, seed {}, the first {warmup} heartbeats of each peer not scored; mean detection time at each budget (mistakes per peer-hour); - where none meets it",
        args.peers, args.seed
    )
    .map_err(io)?;
    let mut header_done = false;
    for scenario in Scenario::ALL {
        let trace = hb_gen::generate(scenario, args.seed, args.peers, duration);
        let points = evaluate(
            &trace,
            &specs,
            warmup,
            threads,
            &progress(scenario.name().to_owned(), specs.len()),
        )
        .map_err(|e| sweep_failed(scenario.name(), e))?;
        if !header_done {
            table_header(&mut out, &families_of(&points)).map_err(io)?;
            header_done = true;
        }
        table_rows(&mut out, scenario.name(), &points, &trace).map_err(io)?;
        let doc = serde_json::json!({
            "scenario": scenario.name(), "points": points,
            "frontiers": frontiers_json(&points, &trace, warmup, &args.budgets),
        });
        write_file(&args.out.join(format!("{}.json", scenario.name())), |w| {
            serde_json::to_writer_pretty(w, &doc).map_err(std::io::Error::other)
        })?;
        let text = plot_points(scenario.name(), &points);
        write_file(&args.out.join(format!("{}.svg", scenario.name())), |w| {
            w.write_all(text.as_bytes())
        })?;
    }
    writeln!(
        out,
        "wrote {}/ (JSON and an SVG plot per scenario)",
        args.out.display()
    )
    .map_err(io)?;
    Ok(())
}

fn replay(trace: &Path, detector: &str, out: &Path) -> Result<()> {
    let spec: DetectorSpec = detector
        .parse()
        .map_err(|e| usage(format!("--detector `{detector}`: {e}")))?;
    let trace = HeartbeatTrace::read(trace).map_err(|e| e.to_string())?;
    let mut peers = accrual_eval::run::replay(&trace, &spec).map_err(|e| e.to_string())?;
    peers.sort_by(|a, b| a.name.cmp(&b.name));
    write_file(out, |w| {
        writeln!(w, "peer,arrival_ns,deadline_ns")?;
        for p in &peers {
            for (a, d) in p.arrivals.iter().zip(&p.deadlines) {
                match d {
                    Some(d) => writeln!(w, "{},{a},{d}", p.name)?,
                    None => writeln!(w, "{},{a},", p.name)?,
                }
            }
        }
        Ok(())
    })
}

fn timeouts(trace: &Path, policies: &[String], budgets: &[f64], json: Option<&Path>) -> Result<()> {
    check_budgets(budgets)?;
    let trace = RttTrace::read(trace).map_err(|e| e.to_string())?;
    let mut specs: Vec<TimeoutSpec> = Vec::new();
    let given: Vec<String> = if policies.is_empty() {
        TimeoutSpec::FAMILIES
            .iter()
            .map(|s| s.to_string())
            .collect()
    } else {
        policies.to_vec()
    };
    for text in &given {
        if TimeoutSpec::FAMILIES.contains(&text.trim()) {
            specs.extend(TimeoutSpec::grid(
                text.trim(),
                &accrual::TimeoutConfig::default(),
            ));
        } else {
            specs.push(
                text.parse()
                    .map_err(|e| usage(format!("--policy `{text}`: {e}")))?,
            );
        }
    }
    let mut points = Vec::new();
    for s in &specs {
        let report = replay_timeouts(&trace, &s.config)
            .map_err(|e| usage(format!("--policy `{s}`: {}", SpecError::Config(e))))?;
        points.push((s, report));
    }
    let as_points: Vec<accrual_eval::TimeoutPoint> = points
        .iter()
        .map(|(s, r)| accrual_eval::TimeoutPoint {
            family: s.family,
            knob: 0.0,
            report: *r,
        })
        .collect();
    let mut out = std::io::stdout().lock();
    let io = |e: std::io::Error| format!("cannot write the table: {e}");
    writeln!(
        out,
        "mean timeout at each premature-timeout budget; - where none meets it"
    )
    .map_err(io)?;
    write!(out, "{:>8}", "budget").map_err(io)?;
    let mut families: Vec<&str> = specs.iter().map(|s| s.family).collect();
    families.dedup();
    for f in &families {
        write!(out, " {:>10}", f).map_err(io)?;
    }
    writeln!(out, " {:>10}", "oracle").map_err(io)?;
    let mut frontiers = Vec::new();
    for &b in budgets {
        write!(out, "{b:>8}").map_err(io)?;
        for f in &families {
            let v = best_within(&as_points, f, b);
            frontiers
                .push(serde_json::json!({"family": f, "budget": b, "mean_timeout_s": finite(v)}));
            write!(out, " {:>10}", seconds(v)).map_err(io)?;
        }
        let o = timeout_oracle(&trace, b).map_or(f64::INFINITY, |r| r.mean_timeout_s);
        frontiers.push(
            serde_json::json!({"family": "oracle", "budget": b, "mean_timeout_s": finite(o)}),
        );
        writeln!(out, " {:>10}", seconds(o)).map_err(io)?;
    }
    if let Some(path) = json {
        let pts: Vec<serde_json::Value> = points
            .iter()
            .map(|(s, r)| {
                let mut v = serde_json::to_value(r).unwrap_or_default();
                if let Some(m) = v.as_object_mut() {
                    m.insert("policy".into(), s.to_string().into());
                    m.insert("family".into(), s.family.into());
                }
                v
            })
            .collect();
        let doc = serde_json::json!({"points": pts, "frontiers": frontiers});
        write_file(path, |w| {
            serde_json::to_writer_pretty(w, &doc).map_err(std::io::Error::other)
        })?;
    }
    Ok(())
}

fn tune(path: &Path, budget: f64, warmup: usize, format: &str) -> Result<()> {
    check_budgets(&[budget])?;
    if format != "toml" && format != "json" {
        return Err(usage(format!("--format: `{format}` is not toml or json")));
    }
    let trace = HeartbeatTrace::read(path).map_err(|e| e.to_string())?;
    if trace.peers.is_empty() {
        return Err(format!("{}: the trace has no heartbeats", path.display()).into());
    }
    let specs = Family::Adaptive.grid();
    let points = evaluate(
        &trace,
        &specs,
        warmup,
        threads(None)?,
        &progress("tune".to_owned(), specs.len()),
    )
    .map_err(|e| sweep_failed(&format!("{}: no recommendation", path.display()), e))?;
    let best = points
        .iter()
        .filter(|p| p.score.mistake_rate_per_hour <= budget)
        .min_by(|a, b| {
            a.score
                .detection_time_mean_s
                .total_cmp(&b.score.detection_time_mean_s)
        })
        .ok_or_else(|| {
            format!(
                "no rate in the adaptive grid meets {} mistakes per peer-hour on this trace",
                short(budget)
            )
        })?;
    let tuned = Tuned {
        mistakes_per_hour: Some(best.knob),
        ..Tuned::at(8.0)
    };
    let summary = format!(
        "achieved {:.4} mistakes per peer-hour, mean detection time {:.4} s, p99 {:.4} s",
        best.score.mistake_rate_per_hour,
        best.score.detection_time_mean_s,
        best.score.detection_time_p99_s
    );
    let mut out = std::io::stdout().lock();
    let text = if format == "toml" {
        format!(
            "# accrual tune: the default detector for {} within {} mistakes per peer-hour\n# {summary}\n{}",
            path.display(),
            short(budget),
            toml::to_string(&tuned).map_err(|e| e.to_string())?
        )
    } else {
        // JSON has no comments: the summary goes to standard error.
        eprintln!("{summary}");
        serde_json::to_string_pretty(&tuned).map_err(|e| e.to_string())? + "\n"
    };
    out.write_all(text.as_bytes())
        .map_err(|e| Failure::Run(format!("cannot write: {e}")))
}
