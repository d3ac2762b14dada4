//! The `accrual` command end to end: every subcommand on small traces, and bad input giving
//! one clear line and a non-zero exit.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};

use accrual::Nanos;
use accrual_eval::hb_gen::generate_mix;
use accrual_eval::rtt_gen::{RttScenario, generate};
use accrual_eval::spec::Tuned;

fn accrual(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_accrual"))
        .args(args)
        .output()
        .expect("the accrual binary runs")
}

fn dir(name: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("accrual-cli-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(&d).unwrap();
    d
}

fn s(p: &Path) -> &str {
    p.to_str().unwrap()
}

fn ok(out: &Output) -> String {
    assert!(
        out.status.success(),
        "failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout.clone()).unwrap()
}

/// One line on standard error, naming the problem; a non-zero exit; no panic.
fn fails_with(out: &Output, needle: &str) {
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "should fail: {err}");
    assert!(!err.contains("panicked"), "{err}");
    assert_eq!(err.trim_end().lines().count(), 1, "one line: {err}");
    assert!(err.contains(needle), "`{needle}` not in: {err}");
}

fn gen_trace(d: &Path) -> PathBuf {
    let trace = d.join("wan.csv");
    ok(&accrual(&[
        "gen",
        "--scenario",
        "wan",
        "--seed",
        "3",
        "--duration",
        "60s",
        "--peers",
        "3",
        "--out",
        s(&trace),
    ]));
    trace
}

#[test]
fn gen_is_deterministic() {
    let d = dir("gen");
    let a = gen_trace(&d);
    let bytes = std::fs::read(&a).unwrap();
    let b = d.join("again.csv");
    ok(&accrual(&[
        "gen",
        "--scenario",
        "wan",
        "--seed",
        "3",
        "--duration",
        "60s",
        "--peers",
        "3",
        "--out",
        s(&b),
    ]));
    assert_eq!(bytes, std::fs::read(&b).unwrap());
    assert!(
        String::from_utf8(bytes)
            .unwrap()
            .starts_with("# accrual heartbeat trace v1\npeer,seq,send_ns,recv_ns\n")
    );
}

#[test]
fn gen_writes_a_mix() {
    let d = dir("mix");
    let out = d.join("mix.csv");
    ok(&accrual(&[
        "gen",
        "--mix",
        "lan=2,jvm=1",
        "--seed",
        "4",
        "--duration",
        "30s",
        "--out",
        s(&out),
    ]));
    let mix = "lan=2,jvm=1".parse().unwrap();
    let mut expected = Vec::new();
    generate_mix(&mix, 4, Nanos::from_secs(30))
        .write(&mut expected)
        .unwrap();
    assert_eq!(std::fs::read(&out).unwrap(), expected);
}

#[test]
fn eval_on_a_trace_writes_table_json_and_plot() {
    let d = dir("eval");
    let trace = gen_trace(&d);
    let (json, svg) = (d.join("out.json"), d.join("out.svg"));
    let table = ok(&accrual(&[
        "eval",
        "--trace",
        s(&trace),
        "--detector",
        "fixed",
        "--detector",
        "phi-normal:threshold=8",
        "--budget",
        "10",
        "--json",
        s(&json),
        "--plot",
        s(&svg),
    ]));
    assert!(table.contains("fixed") && table.contains("phi-normal") && table.contains("oracle"));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let points = doc["points"].as_array().unwrap();
    assert_eq!(points.len(), 41); // the fixed grid and one φ spec
    for key in [
        "detector",
        "family",
        "mistake_rate_per_hour",
        "detection_time_mean_s",
        "stale",
    ] {
        assert!(points[0].get(key).is_some(), "{key}");
    }
    assert_eq!(
        points[40]["detector"],
        "phi-normal:threshold=8,window=1000,min-std=0ns,pause=0ns,first=1s"
    );
    assert!(
        doc["frontiers"]
            .as_array()
            .unwrap()
            .iter()
            .any(|f| f["family"] == "oracle")
    );
    assert!(std::fs::read_to_string(&svg).unwrap().starts_with("<svg"));
}

#[test]
fn eval_without_a_trace_runs_the_suite_and_writes_a_report() {
    let d = dir("suite");
    let report = d.join("report");
    let table = ok(&accrual(&[
        "eval",
        "--peers",
        "2",
        "--duration",
        "20s",
        "--out",
        s(&report),
        "--detector",
        "fixed",
        "--detector",
        "default",
    ]));
    for scenario in [
        "lan",
        "datacenter",
        "wan",
        "cloud-vm",
        "jvm",
        "monitor-stall",
        "mixed",
    ] {
        assert!(table.contains(scenario), "{scenario}");
        assert!(report.join(format!("{scenario}.json")).exists());
        assert!(report.join(format!("{scenario}.svg")).exists());
    }
}

#[test]
fn replay_writes_sorted_deadlines() {
    let d = dir("replay");
    let trace = gen_trace(&d);
    let out = d.join("deadlines.csv");
    ok(&accrual(&[
        "replay",
        "--trace",
        s(&trace),
        "--detector",
        "fixed:timeout=1s",
        "--out",
        s(&out),
    ]));
    let text = std::fs::read_to_string(&out).unwrap();
    let mut lines = text.lines();
    assert_eq!(lines.next(), Some("peer,arrival_ns,deadline_ns"));
    let rows: Vec<(String, u64, u64)> = lines
        .map(|l| {
            let f: Vec<&str> = l.split(',').collect();
            (
                f[0].to_owned(),
                f[1].parse().unwrap(),
                f[2].parse().unwrap(),
            )
        })
        .collect();
    assert!(
        rows.windows(2)
            .all(|w| (&w[0].0, w[0].1) < (&w[1].0, w[1].1))
    );
    assert!(rows.iter().all(|r| r.2 == r.1 + 1_000_000_000));
}

#[test]
fn timeouts_replays_policies() {
    let d = dir("timeouts");
    let trace = d.join("rtt.csv");
    let mut f = std::fs::File::create(&trace).unwrap();
    generate(RttScenario::Mixed, 1, 5, 300, Nanos::from_secs(1))
        .write(&mut f)
        .unwrap();
    let json = d.join("t.json");
    let table = ok(&accrual(&[
        "timeouts",
        "--trace",
        s(&trace),
        "--policy",
        "rfc6298:floor=200ms",
        "--policy",
        "default",
        "--json",
        s(&json),
    ]));
    assert!(table.contains("rfc6298") && table.contains("default") && table.contains("oracle"));
    let doc: serde_json::Value = serde_json::from_slice(&std::fs::read(&json).unwrap()).unwrap();
    let first = &doc["points"][0];
    assert_eq!(
        first["policy"],
        "rfc6298:floor=200ms,cap=60s,granularity=1ms,initial=1s"
    );
    assert!(first["premature_rate"].is_number() && first["mean_timeout_s"].is_number());
}

#[test]
fn tune_prints_a_configuration_the_library_reads_back() {
    let d = dir("tune");
    let trace = gen_trace(&d);
    let text = ok(&accrual(&["tune", "--trace", s(&trace), "--budget", "20"]));
    let tuned: Tuned = toml::from_str(&text).unwrap();
    assert!(tuned.spec().is_ok());
    assert!(text.contains("# achieved"));
    let json = ok(&accrual(&[
        "tune",
        "--trace",
        s(&trace),
        "--budget",
        "20",
        "--format",
        "json",
    ]));
    let back: Tuned = serde_json::from_str(&json).unwrap();
    assert_eq!(back, tuned);
}

#[test]
fn bad_input_gives_one_clear_line() {
    let d = dir("bad");
    let trace = gen_trace(&d);
    let t = s(&trace);
    let bad = d.join("bad.csv");
    std::fs::write(&bad, "peer,seq,send_ns,recv_ns\na,0,,100\na,one,,200\n").unwrap();
    let empty = d.join("empty.csv");
    std::fs::write(&empty, "peer,seq,send_ns,recv_ns\n").unwrap();
    let rtt = d.join("rtt.csv");
    std::fs::write(&rtt, "peer,sent_ns,rtt_ns\na,0,5000000\n").unwrap();
    let (b, e, r) = (s(&bad), s(&empty), s(&rtt));
    let cases: &[(&[&str], &str)] = &[
        (
            &["eval", "--trace", t, "--detector", "phi-gamma"],
            "unknown detector family `phi-gamma`",
        ),
        (
            &["eval", "--trace", t, "--detector", "fixed:timout=1s"],
            "unknown key `timout`",
        ),
        (
            &["eval", "--trace", t, "--detector", "fixed:timeout=1 parsec"],
            "unknown unit",
        ),
        (
            &[
                "gen",
                "--scenario",
                "lan",
                "--duration",
                "ten",
                "--out",
                "x.csv",
            ],
            "--duration",
        ),
        (
            &["gen", "--scenario", "moon", "--out", "x.csv"],
            "unknown scenario `moon`",
        ),
        (
            &["gen", "--mix", "lan=4,moon=1", "--out", "x.csv"],
            "--mix: mix entry `moon=1`: unknown kind `moon`",
        ),
        (
            &["gen", "--mix", "lan=4", "--peers", "3", "--out", "x.csv"],
            "cannot be used with",
        ),
        (&["gen", "--out", "x.csv"], "--scenario"),
        (
            &["eval", "--trace", "/nonexistent/t.csv"],
            "/nonexistent/t.csv: cannot read",
        ),
        (
            &["eval", "--trace", b],
            "bad.csv:3:2: seq must be a whole number",
        ),
        (&["eval", "--trace", e], "the trace has no heartbeats"),
        (
            &["tune", "--trace", e, "--budget", "1"],
            "the trace has no heartbeats",
        ),
        (
            &["timeouts", "--trace", t],
            "header must be `peer,sent_ns,rtt_ns`",
        ),
        (
            &["timeouts", "--trace", r, "--policy", "rfc6298:flor=1s"],
            "unknown key `flor` for rfc6298 (keys: floor, cap, granularity, initial)",
        ),
        (
            &["timeouts", "--trace", r, "--policy", "tcp"],
            "unknown timeout policy `tcp`",
        ),
        (
            &["timeouts", "--trace", r, "--policy", "fixed:timeout=soon"],
            "timeout: invalid number",
        ),
        (&["eval", "--budget", "-1"], "--budget"),
        (&["frobnicate"], "unrecognized subcommand"),
        (&["replay", "--trace", t], "--detector"),
    ];
    for (args, needle) in cases {
        fails_with(&accrual(args), needle);
    }
}

#[test]
fn every_subcommand_has_help() {
    for sub in ["eval", "replay", "timeouts", "gen", "tune"] {
        let out = accrual(&[sub, "--help"]);
        assert!(out.status.success());
        assert!(String::from_utf8_lossy(&out.stdout).contains("Usage: accrual"));
    }
}

/// A usage error: one line naming the problem, exit code 2 (as for clap's own usage errors),
/// no panic and no abort.
fn refused_with(out: &Output, needle: &str) {
    fails_with(out, needle);
    assert_eq!(
        out.status.code(),
        Some(2),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn sizes_beyond_the_limits_are_refused_before_anything_is_built() {
    let d = dir("sizes");
    let out = d.join("g.csv");
    let o = s(&out);
    let cases: &[(&[&str], &str)] = &[
        (
            &[
                "gen",
                "--scenario",
                "lan",
                "--duration",
                "9000000s",
                "--out",
                o,
            ],
            "--peers and --duration: a lan trace of 20 peers over 9000000s may hold 1890000021 rows",
        ),
        (
            &[
                "gen",
                "--scenario",
                "lan",
                "--duration",
                "9000000s",
                "--out",
                o,
            ],
            "more than the limit of 50000000",
        ),
        (
            &[
                "gen",
                "--scenario",
                "lan",
                "--peers",
                "1000000000",
                "--out",
                o,
            ],
            "--peers: 1000000000 is more than the limit of 100000",
        ),
        (
            &["gen", "--mix", "lan=18446744073709551615,jvm=1", "--out", o],
            "--mix: the counts add up to 18446744073709551616 peers, more than the limit of 100000",
        ),
        (
            &[
                "gen",
                "--mix",
                "lan=100000",
                "--duration",
                "1000s",
                "--out",
                o,
            ],
            "--mix and --duration",
        ),
        (
            &[
                "eval",
                "--duration",
                "18446744073s",
                "--peers",
                "1",
                "--out",
                o,
            ],
            "more than the limit of 50000000",
        ),
        (
            &["eval", "--peers", "1000000000", "--out", o],
            "--peers: 1000000000 is more than the limit of 100000",
        ),
        (
            &["eval", "--threads", "100000", "--out", o],
            "--threads: 100000 is more than the limit of 256",
        ),
        (
            &["eval", "--threads", "0", "--out", o],
            "--threads: must be at least 1",
        ),
        (&["eval", "--budget", "-1"], "--budget"),
        (
            &["eval", "--detector", "fixed:timeout=soon", "--out", o],
            "--detector",
        ),
    ];
    for (args, needle) in cases {
        refused_with(&accrual(args), needle);
    }
    assert!(!out.exists(), "nothing is written when refused");
}

#[test]
fn a_large_thread_count_within_the_limit_runs() {
    let d = dir("threads");
    let trace = gen_trace(&d);
    let table = ok(&accrual(&[
        "eval",
        "--trace",
        s(&trace),
        "--detector",
        "fixed:timeout=1s",
        "--threads",
        "256",
    ]));
    assert!(table.contains("fixed"));
}

/// When nothing is scored the metrics are undefined: the command says why and exits non-zero,
/// and `tune` recommends nothing, rather than reporting a detection time of 0.
#[test]
fn nothing_scored_is_refused_naming_why() {
    let d = dir("unscored");
    let trace = gen_trace(&d); // 60 s of 100 ms heartbeats: at most 600 a peer
    let t = s(&trace);
    let single = d.join("single.csv");
    std::fs::write(
        &single,
        "peer,seq,send_ns,recv_ns\na,0,,1000\nb,0,,2000\n@monitor,0,0,0\n",
    )
    .unwrap();
    let one = s(&single);
    let cases: &[(&[&str], &str)] = &[
        (
            &["tune", "--trace", t, "--budget", "1", "--warmup", "1000"],
            "no recommendation: nothing scored: the warmup of 1000 heartbeats is too large",
        ),
        (
            &[
                "eval",
                "--trace",
                t,
                "--detector",
                "fixed",
                "--warmup",
                "1000",
            ],
            "nothing scored: the warmup of 1000 heartbeats is too large",
        ),
        (
            &["tune", "--trace", one, "--budget", "1"],
            "nothing scored: too few heartbeats",
        ),
        (
            &["eval", "--trace", one, "--detector", "fixed"],
            "nothing scored: too few heartbeats",
        ),
    ];
    for (args, needle) in cases {
        let out = accrual(args);
        fails_with(&out, needle);
        assert!(out.stdout.is_empty(), "nothing recommended or tabled");
    }
}

/// `gen` and `eval` refuse zero peers alike, with the same message.
#[test]
fn zero_peers_are_refused_alike() {
    let d = dir("zero");
    let out = d.join("z.csv");
    for args in [
        &["gen", "--scenario", "lan", "--peers", "0", "--out", s(&out)][..],
        &["eval", "--peers", "0", "--out", s(&d.join("r"))][..],
    ] {
        refused_with(&accrual(args), "error: --peers: must be at least 1");
    }
    assert!(!out.exists());
}

/// A trace saved with a byte-order mark reads as without one.
#[test]
fn a_trace_with_a_byte_order_mark_is_read() {
    let d = dir("bom");
    let trace = gen_trace(&d);
    let mut bytes = "\u{feff}".as_bytes().to_vec();
    bytes.extend(std::fs::read(&trace).unwrap());
    // The BOM must come first: drop the comment line the generator writes.
    let text = String::from_utf8(bytes)
        .unwrap()
        .replacen("# accrual heartbeat trace v1\n", "", 1);
    let bom = d.join("bom.csv");
    std::fs::write(&bom, text).unwrap();
    let args = |t: &Path| -> Vec<String> {
        ["eval", "--trace", s(t), "--detector", "fixed:timeout=1s"]
            .map(String::from)
            .to_vec()
    };
    let a = ok(&accrual(
        &args(&trace).iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    let b = ok(&accrual(
        &args(&bom).iter().map(String::as_str).collect::<Vec<_>>(),
    ));
    assert_eq!(a, b);
}
