//! A real HTTP load balancer on 127.0.0.1 in front of four backend processes, under real
//! faults, three ways:
//!
//! * `tower-fixed`: tower's power-of-two-choices balancer (`tower::balance::p2c::Balance`)
//!   over Peak-EWMA load (`tower::load::PeakEwmaDiscover`), each backend behind a fixed 1 s
//!   `tower::timeout::Timeout`;
//! * `tower-health-check`: the same, plus an active health check of every backend each second
//!   that takes it out of rotation after 3 failed checks and back in after a passing one (the
//!   common proxy default);
//! * `accrual`: an [`accrual::Monitor`] fed by the backends' UDP heartbeats
//!   (`accrual::runtime::Heartbeater` on each backend, `Service::listen_with` on the proxy)
//!   and by every request's outcome, behind the `accrual::tower` layers: the pool is the
//!   backends the heartbeats trust (`PoolDiscover`); each backend gets its adaptive request
//!   timeout and a cost of requests in flight weighted by `2^φ`, and is unready while its
//!   outcomes eject it (`EndpointLayer`); power of two choices picks a backend and a slow
//!   request is copied to a different one after the first one's hedge delay (`Hedge`); a
//!   failed request is retried (tower's `Retry`); hedges and retries share a budget of 10 % of
//!   requests.
//!
//! Each configuration gets four fresh backends (one healthy; one jittery, 0–20 ms of extra
//! latency; one stopped with `SIGSTOP` and continued with `SIGCONT`; one killed with
//! `SIGKILL`) and the same open-loop load (a fixed request rate from a client in this process
//! through the proxy; latencies are measured from each request's scheduled time). A fault-free
//! run of `accrual` comes first, as the baseline of its p99. Then it prints, per
//! configuration: client-visible failures, p50, p99 and p99.9 latency, the time from `SIGKILL`
//! to the last request sent to the killed backend, the requests sent to the stopped backend
//! after its deadline (its heartbeat deadline, `Monitor::deadline`, read 5 ms after the stop, for
//! `accrual`; the stop plus the 1 s timeout for the others), the time from `SIGCONT` to the
//! first request that the continued backend served again, and the hedges and retries spent.
//!
//! ```sh
//! cargo run --release --example load_balancer --features tokio,tower -- \
//!     --duration 20 --rate 300 --stop-at 5 --stop-for 3 --kill-at 12 --json lb.json
//! ```
//!
//! Every option has that default; `--baseline SECS` sets the length of the fault-free run (0:
//! none) and `--help` lists them. `--json FILE` also writes one object per configuration.
//!
//! The program re-executes itself as each backend (the role is passed in the environment).
//! Every wait is bounded; the backends are killed when the run ends, however it ends, and exit
//! by themselves when their standard input closes. `tests/load_balancer.rs` runs a short
//! version as a test.

#[cfg(not(unix))]
fn main() {
    eprintln!("this example sends Unix signals: it runs on Unix only");
}

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    use std::process::ExitCode;

    if let Some(code) = load_balancer::role_main() {
        return code;
    }
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match load_balancer::Options::parse(&args) {
        Ok(Some(options)) => options,
        Ok(None) => {
            println!("{}", load_balancer::USAGE);
            return ExitCode::SUCCESS;
        }
        Err(e) => {
            eprintln!("load_balancer: {e}\n\n{}", load_balancer::USAGE);
            return ExitCode::from(2);
        }
    };
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this program's path: {e}");
            return ExitCode::FAILURE;
        }
    };
    let summary = match load_balancer::run(&exe, &options, &mut std::io::stdout()) {
        Ok(summary) => summary,
        Err(e) => {
            eprintln!("load balancer run failed: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!();
    println!("{summary}");
    if let Some(path) = &options.json {
        if let Err(e) = std::fs::write(path, summary.json()) {
            eprintln!("cannot write {}: {e}", path.display());
            return ExitCode::FAILURE;
        }
        println!("wrote {}", path.display());
    }
    ExitCode::SUCCESS
}

#[cfg(unix)]
#[allow(dead_code)]
pub mod load_balancer {
    use std::convert::Infallible;
    use std::fmt;
    use std::future::Future;
    use std::hash::{BuildHasher, RandomState};
    use std::io::{BufRead, BufReader, Write};
    use std::net::SocketAddr;
    use std::path::{Path, PathBuf};
    use std::pin::Pin;
    use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::{Arc, Mutex, mpsc};
    use std::task::{Context, Poll, Waker};
    use std::time::{Duration, Instant};

    use accrual::monitor::{Admission, DetectorConfig, FailureClass, Monitor, MonitorConfig};
    use accrual::runtime::{HeartbeatConfig, Heartbeater, NetConfig, Service, ServiceConfig};
    use accrual::tower::{EndpointLayer, FailFast, Hedge, HedgeConfig, PoolDiscover, Verdict};
    use accrual::{AdaptiveConfig, Level, Nanos, TimeoutConfig, TokioClock};
    use bytes::Bytes;
    use http_body_util::{BodyExt, Empty, Full};
    use hyper::body::Incoming;
    use hyper::server::conn::http1;
    use hyper::service::service_fn;
    use hyper::{Request, Response, StatusCode, Uri};
    use hyper_util::client::legacy::Client;
    use hyper_util::client::legacy::connect::HttpConnector;
    use hyper_util::rt::{TokioExecutor, TokioIo};
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;
    use tokio::net::TcpListener;
    use tokio::task::JoinSet;
    use tower::balance::p2c::Balance;
    use tower::buffer::Buffer;
    use tower::discover::ServiceList;
    use tower::load::{CompleteOnResponse, PeakEwmaDiscover};
    use tower::retry::Retry;
    use tower::timeout::Timeout;
    use tower::util::BoxService;
    use tower::{Layer, ServiceExt};

    /// The environment variables that make this program a backend.
    const ROLE: &str = "ACCRUAL_LB_ROLE";
    const INDEX: &str = "ACCRUAL_LB_INDEX";
    const JITTER: &str = "ACCRUAL_LB_JITTER_MS";
    const HEARTBEAT_TO: &str = "ACCRUAL_LB_HEARTBEAT_TO";

    /// The backends, by index.
    const BACKENDS: usize = 4;
    const JITTERY: usize = 1;
    const STALLED: usize = 2;
    const KILLED: usize = 3;
    const NAMES: [&str; BACKENDS] = ["healthy", "jittery", "stalled", "killed"];

    /// What a backend spends on every request, and the most the jittery one adds.
    const SERVICE_TIME: Duration = Duration::from_millis(1);
    const JITTER_MAX: Duration = Duration::from_millis(20);
    /// How often backends send heartbeats (to the `accrual` proxy only).
    const HEARTBEAT: Duration = Duration::from_millis(50);
    /// The tower configurations' timeout per request.
    const FIXED_TIMEOUT: Duration = Duration::from_secs(1);
    /// Peak-EWMA's estimate before any response, and its decay: Linkerd's choices.
    const EWMA_DEFAULT_RTT: Duration = Duration::from_millis(30);
    const EWMA_DECAY: Duration = Duration::from_secs(10);
    /// The health check of `tower-health-check`: every second, with half a second to answer;
    /// 3 failures in a row take a backend out, one pass puts it back.
    const CHECK_EVERY: Duration = Duration::from_secs(1);
    const CHECK_TIMEOUT: Duration = Duration::from_millis(500);
    const CHECK_FAILURES: u32 = 3;
    /// The retry budget of `accrual`: tokens earned per request, the most kept, and the tokens
    /// a hedge must leave for retries.
    const BUDGET_RATIO: f64 = 0.1;
    const BUDGET_MAX: f64 = 50.0;
    const HEDGE_RESERVE: f64 = 5.0;
    /// How long `accrual` waits for a ready backend before it fails a request.
    const NO_BACKEND_WAIT: Duration = Duration::from_millis(100);
    /// How long the client waits for the proxy before it counts a failure.
    const CLIENT_TIMEOUT: Duration = Duration::from_secs(5);
    /// Bounded waits of the orchestration.
    const START_LIMIT: Duration = Duration::from_secs(10);
    const ALIVE_LIMIT: Duration = Duration::from_secs(5);

    pub const USAGE: &str = "\
usage: load_balancer [--duration SECS] [--rate REQ_PER_SEC] [--stop-at SECS] [--stop-for SECS]
                     [--kill-at SECS] [--baseline SECS] [--json FILE]

  --duration SECS   load per configuration (default 20)
  --rate N          requests per second, open loop (default 300)
  --stop-at SECS    when the stalled backend gets SIGSTOP, from the start of the load (default 5)
  --stop-for SECS   how long it stays stopped before SIGCONT (default 3)
  --kill-at SECS    when the killed backend gets SIGKILL (default 12)
  --baseline SECS   length of the fault-free accrual run, 0 for none (default: --duration)
  --json FILE       also write the results, one object per configuration
Durations are seconds (\"2.5\") or carry a unit (\"500ms\", \"3s\").";

    /// What to run.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Options {
        /// Load per configuration.
        pub duration: Duration,
        /// Requests per second.
        pub rate: f64,
        /// When the stalled backend is stopped, from the start of the load.
        pub stop_at: Duration,
        /// How long it stays stopped.
        pub stop_for: Duration,
        /// When the killed backend is killed.
        pub kill_at: Duration,
        /// The fault-free run's length (zero: none).
        pub baseline: Duration,
        /// Where to write the JSON results.
        pub json: Option<PathBuf>,
    }

    impl Default for Options {
        fn default() -> Self {
            Options {
                duration: Duration::from_secs(20),
                rate: 300.0,
                stop_at: Duration::from_secs(5),
                stop_for: Duration::from_secs(3),
                kill_at: Duration::from_secs(12),
                baseline: Duration::from_secs(20),
                json: None,
            }
        }
    }

    fn parse_duration(flag: &str, value: &str) -> Result<Duration, String> {
        let v = value.trim();
        let (number, scale) = if let Some(ms) = v.strip_suffix("ms") {
            (ms, 1e-3)
        } else if let Some(s) = v.strip_suffix('s') {
            (s, 1.0)
        } else {
            (v, 1.0)
        };
        let secs = number
            .trim()
            .parse::<f64>()
            .ok()
            .map(|n| n * scale)
            .filter(|s| s.is_finite() && *s >= 0.0 && *s <= 3600.0)
            .ok_or_else(|| {
                format!("{flag} takes a duration from 0 to 3600 s, such as 2.5 or 500ms: {value:?}")
            })?;
        Ok(Duration::from_secs_f64(secs))
    }

    impl Options {
        /// The short run of the CI test: a few seconds per configuration, the faults early.
        pub fn ci() -> Self {
            Options {
                duration: Duration::from_secs(6),
                rate: 300.0,
                stop_at: Duration::from_millis(800),
                stop_for: Duration::from_millis(1_500),
                kill_at: Duration::from_millis(1_200),
                baseline: Duration::from_millis(2_500),
                json: None,
            }
        }

        /// Parses the command line (without the program's name); `None` for `--help`.
        pub fn parse(args: &[String]) -> Result<Option<Options>, String> {
            let mut o = Options::default();
            let mut baseline = None;
            let mut it = args.iter();
            while let Some(flag) = it.next() {
                if flag == "--help" || flag == "-h" {
                    return Ok(None);
                }
                let (flag, inline) = match flag.split_once('=') {
                    Some((f, v)) => (f, Some(v.to_string())),
                    None => (flag.as_str(), None),
                };
                let known = [
                    "--duration",
                    "--rate",
                    "--stop-at",
                    "--stop-for",
                    "--kill-at",
                    "--baseline",
                    "--json",
                ];
                if !known.contains(&flag) {
                    return Err(format!("unknown argument {flag:?}"));
                }
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| format!("{flag} needs a value"))?,
                };
                match flag {
                    "--duration" => o.duration = parse_duration(flag, &value)?,
                    "--stop-at" => o.stop_at = parse_duration(flag, &value)?,
                    "--stop-for" => o.stop_for = parse_duration(flag, &value)?,
                    "--kill-at" => o.kill_at = parse_duration(flag, &value)?,
                    "--baseline" => baseline = Some(parse_duration(flag, &value)?),
                    "--json" => o.json = Some(PathBuf::from(value)),
                    _ => {
                        o.rate = value
                            .trim()
                            .parse::<f64>()
                            .ok()
                            .filter(|r| r.is_finite())
                            .ok_or_else(|| format!("--rate takes a number: {value:?}"))?;
                    }
                }
            }
            o.baseline = baseline.unwrap_or(o.duration);
            o.validate()?;
            Ok(Some(o))
        }

        /// Checks that the schedule fits in the run.
        pub fn validate(&self) -> Result<(), String> {
            if !(1.0..=5_000.0).contains(&self.rate) {
                return Err(format!(
                    "--rate must be from 1 to 5000 requests per second, not {}",
                    self.rate
                ));
            }
            if self.duration < Duration::from_secs(1) || self.duration > Duration::from_secs(600) {
                return Err(format!(
                    "--duration must be from 1 to 600 s, not {:?}",
                    self.duration
                ));
            }
            if self.baseline > Duration::from_secs(600) {
                return Err("--baseline must be at most 600 s".into());
            }
            if self.stop_for.is_zero() {
                return Err("--stop-for must be positive".into());
            }
            if self.stop_at + self.stop_for >= self.duration {
                return Err(format!(
                    "the stop ({:?} + {:?}) must end before the load does ({:?})",
                    self.stop_at, self.stop_for, self.duration
                ));
            }
            if self.kill_at >= self.duration {
                return Err(format!(
                    "--kill-at ({:?}) must come before the load ends ({:?})",
                    self.kill_at, self.duration
                ));
            }
            Ok(())
        }
    }

    /// A small, lock-free random source (SplitMix64), seeded from the standard library's
    /// randomly keyed hasher.
    struct Rng(AtomicU64);

    impl Rng {
        fn new() -> Self {
            Rng(AtomicU64::new(RandomState::new().hash_one(0x5eed_u64)))
        }

        fn next_u64(&self) -> u64 {
            let mut z = self
                .0
                .fetch_add(0x9e37_79b9_7f4a_7c15, Ordering::Relaxed)
                .wrapping_add(0x9e37_79b9_7f4a_7c15);
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^ (z >> 31)
        }

        /// Uniform in `0..n` (`n > 0`).
        fn below(&self, n: u64) -> u64 {
            ((u128::from(self.next_u64()) * u128::from(n)) >> 64) as u64
        }
    }

    // ---------------------------------------------------------------------------------------
    // The backend role.

    /// Runs the child role named in the environment, if any, and returns its exit code.
    pub fn role_main() -> Option<ExitCode> {
        let role = std::env::var(ROLE).ok()?;
        let rt = match tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()
        {
            Ok(rt) => rt,
            Err(e) => {
                eprintln!("{role}: no runtime: {e}");
                return Some(ExitCode::FAILURE);
            }
        };
        let result = match role.as_str() {
            "backend" => rt.block_on(backend_role()),
            other => Err(format!("unknown role {other}")),
        };
        Some(match result {
            Ok(()) => ExitCode::SUCCESS,
            Err(e) => {
                eprintln!("{role}: {e}");
                ExitCode::FAILURE
            }
        })
    }

    /// Resolves when standard input closes: the parent is gone or done with us.
    fn stdin_closed() -> tokio::sync::oneshot::Receiver<()> {
        let (tx, rx) = tokio::sync::oneshot::channel();
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                if line.is_err() {
                    break;
                }
            }
            let _ = tx.send(());
        });
        rx
    }

    async fn backend_role() -> Result<(), String> {
        let index: u64 = std::env::var(INDEX)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("no backend index")?;
        let jitter = std::env::var(JITTER)
            .ok()
            .and_then(|s| s.parse::<u64>().ok())
            .map_or(Duration::ZERO, Duration::from_millis);
        let heartbeat_to: Option<SocketAddr> = std::env::var(HEARTBEAT_TO)
            .ok()
            .and_then(|s| s.parse().ok());
        let listener = TcpListener::bind("127.0.0.1:0")
            .await
            .map_err(|e| format!("bind: {e}"))?;
        let address = listener.local_addr().map_err(|e| e.to_string())?;
        // Heartbeats to the proxy, on loopback without a key (see examples/cluster.rs for
        // authenticated ones).
        let beats = match heartbeat_to {
            Some(to) => {
                let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
                    .await
                    .map_err(|e| e.to_string())?;
                let mut config = HeartbeatConfig::new(index, to);
                config.interval = Nanos::from_duration(HEARTBEAT);
                Some(Heartbeater::start(socket, config).map_err(|e| e.to_string())?)
            }
            None => None,
        };
        println!("listening {address}");
        let _ = std::io::stdout().flush();
        let rng = Arc::new(Rng::new());
        let mut closed = stdin_closed();
        let mut connections = JoinSet::new();
        loop {
            tokio::select! {
                _ = &mut closed => break,
                accepted = listener.accept() => {
                    let Ok((stream, _)) = accepted else {
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        continue;
                    };
                    let _ = stream.set_nodelay(true);
                    let rng = rng.clone();
                    connections.spawn(async move {
                        let service = service_fn(move |req: Request<Incoming>| {
                            let rng = rng.clone();
                            async move {
                                if req.uri().path() != "/health" {
                                    let extra = if jitter.is_zero() {
                                        Duration::ZERO
                                    } else {
                                        let us = jitter.as_micros() as u64 + 1;
                                        Duration::from_micros(rng.below(us))
                                    };
                                    tokio::time::sleep(SERVICE_TIME + extra).await;
                                }
                                let body = Bytes::from(format!("backend {index}\n"));
                                Ok::<_, Infallible>(Response::new(Full::new(body)))
                            }
                        });
                        let io = TokioIo::new(stream);
                        let _ = http1::Builder::new().serve_connection(io, service).await;
                    });
                    while connections.try_join_next().is_some() {}
                }
            }
        }
        if let Some(beats) = beats {
            beats.shutdown().await;
        }
        Ok(())
    }

    // ---------------------------------------------------------------------------------------
    // The backends as seen by the parent.

    /// The backend processes; every one still running is killed (and reaped) on drop, so a
    /// failed or panicking run leaves nothing behind.
    struct Backends {
        kids: Vec<Option<(Child, ChildStdin)>>,
    }

    impl Drop for Backends {
        fn drop(&mut self) {
            for (mut child, stdin) in self.kids.drain(..).flatten() {
                drop(stdin);
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    impl Backends {
        fn child(&self, i: usize) -> Result<&Child, String> {
            self.kids
                .get(i)
                .and_then(Option::as_ref)
                .map(|(c, _)| c)
                .ok_or_else(|| format!("backend {i} is gone"))
        }

        fn signal(&self, i: usize, signal: Signal) -> Result<(), String> {
            let pid = i32::try_from(self.child(i)?.id()).map_err(|_| "pid out of range")?;
            kill(Pid::from_raw(pid), signal).map_err(|e| format!("{signal}: {e}"))
        }

        /// `SIGKILL`, then reaps it.
        fn kill(&mut self, i: usize) -> Result<(), String> {
            let (mut child, stdin) = self
                .kids
                .get_mut(i)
                .and_then(Option::take)
                .ok_or_else(|| format!("backend {i} is gone"))?;
            let result = child.kill().map_err(|e| format!("SIGKILL: {e}"));
            let _ = child.wait();
            drop(stdin);
            result
        }
    }

    /// Starts the four backends, heartbeating to `heartbeat_to` if given, and waits (bounded)
    /// for each one's address.
    fn spawn_backends(
        exe: &Path,
        heartbeat_to: Option<SocketAddr>,
    ) -> Result<(Backends, Vec<SocketAddr>), String> {
        let mut backends = Backends { kids: Vec::new() };
        let mut waiting = Vec::new();
        for i in 0..BACKENDS {
            let mut cmd = Command::new(exe);
            cmd.env(ROLE, "backend")
                .env(INDEX, i.to_string())
                .env(
                    JITTER,
                    if i == JITTERY {
                        JITTER_MAX.as_millis().to_string()
                    } else {
                        "0".into()
                    },
                )
                .stdin(Stdio::piped())
                .stdout(Stdio::piped())
                .stderr(Stdio::inherit());
            if let Some(to) = heartbeat_to {
                cmd.env(HEARTBEAT_TO, to.to_string());
            }
            let mut child = cmd
                .spawn()
                .map_err(|e| format!("cannot start backend {i}: {e}"))?;
            let stdin = child.stdin.take().ok_or("no stdin")?;
            let stdout = child.stdout.take().ok_or("no stdout")?;
            backends.kids.push(Some((child, stdin)));
            let (tx, rx) = mpsc::channel();
            std::thread::spawn(move || {
                for line in BufReader::new(stdout).lines() {
                    let Ok(line) = line else { break };
                    if let Some(a) = line.strip_prefix("listening ") {
                        let _ = tx.send(a.trim().to_string());
                    }
                }
            });
            waiting.push(rx);
        }
        let end = Instant::now() + START_LIMIT;
        let mut addresses = Vec::new();
        for (i, rx) in waiting.into_iter().enumerate() {
            let line = rx
                .recv_timeout(end.saturating_duration_since(Instant::now()))
                .map_err(|_| format!("backend {i} did not start within {START_LIMIT:?}"))?;
            let address: SocketAddr = line
                .parse()
                .map_err(|_| format!("backend {i} printed a bad address {line:?}"))?;
            if !address.ip().is_loopback() {
                return Err(format!("backend {i} listens on {address}, not loopback"));
            }
            addresses.push(address);
        }
        Ok((backends, addresses))
    }

    // ---------------------------------------------------------------------------------------
    // Requests from the proxy to one backend.

    type HttpClient = Client<HttpConnector, Empty<Bytes>>;

    fn http_client() -> HttpClient {
        let mut connector = HttpConnector::new();
        connector.set_nodelay(true);
        Client::builder(TokioExecutor::new())
            .pool_max_idle_per_host(256)
            .build(connector)
    }

    /// Why a request through the proxy, or an attempt at one backend, failed.
    #[derive(Debug, Clone, PartialEq)]
    pub enum Failure {
        /// The connection was refused.
        Refused,
        /// The connection broke (reset, closed) before a whole reply.
        Broken(String),
        /// An error status from the backend.
        Status(u16),
        /// No reply in time.
        TimedOut,
        /// No backend to send it to.
        NoBackend,
    }

    impl fmt::Display for Failure {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            match self {
                Failure::Refused => write!(f, "connection refused"),
                Failure::Broken(e) => write!(f, "connection broken: {e}"),
                Failure::Status(s) => write!(f, "backend answered {s}"),
                Failure::TimedOut => write!(f, "timed out"),
                Failure::NoBackend => write!(f, "no backend"),
            }
        }
    }

    impl std::error::Error for Failure {}

    impl Failure {
        fn status(&self) -> StatusCode {
            match self {
                Failure::TimedOut => StatusCode::GATEWAY_TIMEOUT,
                Failure::NoBackend => StatusCode::SERVICE_UNAVAILABLE,
                _ => StatusCode::BAD_GATEWAY,
            }
        }

        /// From a tower stack's error.
        fn from_box(e: tower::BoxError) -> Failure {
            if e.is::<tower::timeout::error::Elapsed>() {
                return Failure::TimedOut;
            }
            match e.downcast_ref::<accrual::tower::Error>() {
                Some(accrual::tower::Error::TimedOut { .. }) => return Failure::TimedOut,
                Some(accrual::tower::Error::NoBackend { .. }) => return Failure::NoBackend,
                _ => {}
            }
            match e.downcast::<Failure>() {
                Ok(f) => *f,
                Err(e) => Failure::Broken(e.to_string()),
            }
        }
    }

    type Reply = Result<Bytes, Failure>;

    /// One attempt at a backend, as its log keeps it.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    enum Fate {
        Served,
        Failed,
        /// Given up on (timed out or cancelled) before any answer.
        Abandoned,
    }

    #[derive(Debug, Clone, Copy)]
    struct Attempt {
        sent: Instant,
        ended: Instant,
        fate: Fate,
    }

    /// Every attempt the proxy made at one backend.
    #[derive(Debug, Default)]
    struct Log {
        attempts: Mutex<Vec<Attempt>>,
    }

    /// Writes an attempt into the log when dropped (as abandoned, unless told otherwise).
    struct Recording<'a> {
        log: &'a Log,
        sent: Instant,
        fate: Fate,
    }

    impl Drop for Recording<'_> {
        fn drop(&mut self) {
            let a = Attempt {
                sent: self.sent,
                ended: Instant::now(),
                fate: self.fate,
            };
            if let Ok(mut v) = self.log.attempts.lock() {
                v.push(a);
            }
        }
    }

    /// One backend, from the proxy's side.
    #[derive(Clone)]
    struct Endpoint {
        uri: Uri,
        health: Uri,
        client: HttpClient,
        log: Arc<Log>,
    }

    impl Endpoint {
        fn new(address: SocketAddr, client: HttpClient) -> Result<Self, String> {
            let uri = format!("http://{address}/work")
                .parse()
                .map_err(|e| format!("{e}"))?;
            let health = format!("http://{address}/health")
                .parse()
                .map_err(|e| format!("{e}"))?;
            Ok(Endpoint {
                uri,
                health,
                client,
                log: Arc::new(Log::default()),
            })
        }

        async fn get(&self, uri: Uri) -> Reply {
            let req = Request::get(uri)
                .body(Empty::<Bytes>::new())
                .map_err(|e| Failure::Broken(e.to_string()))?;
            let response = self.client.request(req).await.map_err(|e| {
                if e.is_connect() {
                    Failure::Refused
                } else {
                    Failure::Broken(e.to_string())
                }
            })?;
            let status = response.status();
            let body = response
                .into_body()
                .collect()
                .await
                .map_err(|e| Failure::Broken(e.to_string()))?
                .to_bytes();
            if status.is_success() {
                Ok(body)
            } else {
                Err(Failure::Status(status.as_u16()))
            }
        }

        /// A request, logged.
        async fn send(&self) -> Reply {
            let mut rec = Recording {
                log: &self.log,
                sent: Instant::now(),
                fate: Fate::Abandoned,
            };
            let reply = self.get(self.uri.clone()).await;
            rec.fate = if reply.is_ok() {
                Fate::Served
            } else {
                Fate::Failed
            };
            reply
        }

        /// A health check, not logged as a request.
        async fn check(&self) -> bool {
            matches!(
                tokio::time::timeout(CHECK_TIMEOUT, self.get(self.health.clone())).await,
                Ok(Ok(_))
            )
        }
    }

    type BoxFuture<T> = Pin<Box<dyn Future<Output = T> + Send>>;

    /// How the proxy serves one request: the configuration under test.
    type Route = Arc<dyn Fn() -> BoxFuture<Reply> + Send + Sync>;

    // ---------------------------------------------------------------------------------------
    // (a) and (b): tower.

    /// An endpoint as a tower service, always ready (`None`: one that refuses everything).
    #[derive(Clone)]
    struct EndpointService(Option<Endpoint>);

    impl tower::Service<()> for EndpointService {
        type Response = Bytes;
        type Error = Failure;
        type Future = BoxFuture<Reply>;

        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), Failure>> {
            Poll::Ready(Ok(()))
        }

        fn call(&mut self, _: ()) -> Self::Future {
            let endpoint = self.0.clone();
            Box::pin(async move {
                match endpoint {
                    Some(e) => e.send().await,
                    None => Err(Failure::Refused),
                }
            })
        }
    }

    /// Whether the health checks keep a backend in rotation.
    #[derive(Debug, Default)]
    struct Gate {
        out: AtomicBool,
        wakers: Mutex<Vec<Waker>>,
    }

    impl Gate {
        fn set_out(&self, out: bool) {
            self.out.store(out, Ordering::Release);
            if !out && let Ok(mut w) = self.wakers.lock() {
                for waker in w.drain(..) {
                    waker.wake();
                }
            }
        }

        fn is_out(&self) -> bool {
            self.out.load(Ordering::Acquire)
        }
    }

    /// A service that is not ready while its gate is out: the balancer then moves it to its
    /// pending set, and takes it back when the gate opens.
    struct Gated<S> {
        inner: S,
        gate: Arc<Gate>,
    }

    impl<S: tower::Service<()>> tower::Service<()> for Gated<S> {
        type Response = S::Response;
        type Error = S::Error;
        type Future = S::Future;

        fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), S::Error>> {
            if self.gate.is_out() {
                if let Ok(mut w) = self.gate.wakers.lock()
                    && !w.iter().any(|x| x.will_wake(cx.waker()))
                {
                    w.push(cx.waker().clone());
                }
                // Checked again after registering: a readmission in between wakes no one.
                if self.gate.is_out() {
                    return Poll::Pending;
                }
            }
            self.inner.poll_ready(cx)
        }

        fn call(&mut self, req: ()) -> Self::Future {
            self.inner.call(req)
        }
    }

    /// p2c over Peak-EWMA, each backend behind a fixed timeout and a gate (which stays open
    /// unless health checks close it). Must be called on the runtime (the buffer spawns its
    /// worker).
    fn tower_route(endpoints: &[Endpoint], gates: &[Arc<Gate>]) -> Route {
        let services: Vec<_> = endpoints
            .iter()
            .zip(gates)
            .map(|(e, gate)| Gated {
                inner: Timeout::new(EndpointService(Some(e.clone())), FIXED_TIMEOUT),
                gate: gate.clone(),
            })
            .collect();
        let discover = ServiceList::new::<()>(services);
        let ewma = PeakEwmaDiscover::new::<()>(
            discover,
            EWMA_DEFAULT_RTT,
            EWMA_DECAY,
            CompleteOnResponse::default(),
        );
        let balance: Balance<_, ()> = Balance::new(ewma);
        // Boxed before it is buffered: the balancer's own future type is one the compiler
        // cannot prove `Send` inside an async block.
        let buffer = Buffer::new(BoxService::new(balance), 4_096);
        Arc::new(move || {
            // Boxed outside any async block, for the same reason.
            let call: BoxFuture<Result<Bytes, tower::BoxError>> =
                Box::pin(buffer.clone().oneshot(()));
            Box::pin(async move { call.await.map_err(Failure::from_box) })
        })
    }

    /// What happened when in a run: the faults (no backend), and each change of a backend's
    /// standing.
    type Timeline = Arc<Mutex<Vec<(Instant, Option<usize>, String)>>>;

    /// The active health check of one backend, for ever (the task is aborted at the end).
    async fn health_check(i: usize, endpoint: Endpoint, gate: Arc<Gate>, changes: Timeline) {
        let mut ticks = tokio::time::interval(CHECK_EVERY);
        ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        let mut failures = 0;
        loop {
            ticks.tick().await;
            let passed = endpoint.check().await;
            let change = if passed {
                failures = 0;
                gate.is_out().then(|| {
                    gate.set_out(false);
                    "back in rotation: a health check passed".to_string()
                })
            } else {
                failures += 1;
                (failures >= CHECK_FAILURES && !gate.is_out()).then(|| {
                    gate.set_out(true);
                    format!("out of rotation: {failures} health checks failed")
                })
            };
            if let Some(c) = change
                && let Ok(mut v) = changes.lock()
            {
                v.push((Instant::now(), Some(i), c));
            }
        }
    }

    // ---------------------------------------------------------------------------------------
    // (c): accrual.

    /// The retry budget of `accrual`, for hedges and retries alike: each request earns
    /// `BUDGET_RATIO` of a token, each hedge or retry spends one, so that together they stay
    /// within that share of requests. Hedges must leave `HEDGE_RESERVE` tokens for retries.
    #[derive(Debug, Default)]
    pub struct Budget {
        tokens: Mutex<f64>,
        hedges: AtomicU64,
        retries: AtomicU64,
    }

    impl Budget {
        fn earn(&self) {
            if let Ok(mut t) = self.tokens.lock() {
                *t = (*t + BUDGET_RATIO).min(BUDGET_MAX);
            }
        }

        /// Spends a token if `reserve` more are left after it.
        fn spend(&self, reserve: f64) -> bool {
            let Ok(mut t) = self.tokens.lock() else {
                return false;
            };
            if *t >= 1.0 + reserve {
                *t -= 1.0;
                true
            } else {
                false
            }
        }
    }

    /// The budget as [`Hedge`] spends it: a deposit per request, a withdrawal per hedge.
    #[derive(Debug, Clone)]
    struct HedgeBudget(Arc<Budget>);

    impl tower::retry::budget::Budget for HedgeBudget {
        fn deposit(&self) {
            self.0.earn();
        }

        fn withdraw(&self) -> bool {
            let ok = self.0.spend(HEDGE_RESERVE);
            if ok {
                self.0.hedges.fetch_add(1, Ordering::Relaxed);
            }
            ok
        }
    }

    /// Retries a failed request within the budget, at most `left` times; a request that found
    /// no backend at all is not retried.
    #[derive(Debug, Clone)]
    struct RetryPolicy {
        budget: Arc<Budget>,
        left: u8,
    }

    impl tower::retry::Policy<(), Bytes, tower::BoxError> for RetryPolicy {
        type Future = std::future::Ready<()>;

        fn retry(
            &mut self,
            _: &mut (),
            result: &mut Result<Bytes, tower::BoxError>,
        ) -> Option<Self::Future> {
            let Err(e) = result else {
                return None;
            };
            if self.left == 0
                || matches!(
                    e.downcast_ref::<accrual::tower::Error>(),
                    Some(accrual::tower::Error::NoBackend { .. })
                )
                || !self.budget.spend(0.0)
            {
                return None;
            }
            self.left -= 1;
            self.budget.retries.fetch_add(1, Ordering::Relaxed);
            Some(std::future::ready(()))
        }

        fn clone_request(&mut self, _: &()) -> Option<()> {
            Some(())
        }
    }

    /// What an attempt's result says about the backend.
    fn classify(result: Result<&Bytes, &Failure>) -> Verdict {
        match result {
            Ok(_) => Verdict::Success,
            Err(Failure::Status(s)) => Verdict::Failed(match s {
                502..=504 => FailureClass::Gateway,
                500..=599 => FailureClass::Server,
                _ => FailureClass::Client,
            }),
            Err(_) => Verdict::Refused,
        }
    }

    /// The `accrual` configuration's monitor: the default adaptive detector told the heartbeat
    /// interval; one false suspicion per hour per backend, the load-balancing choice of
    /// docs/load-balancing.md; request timeouts that start from 100 ms, not 1 s, for backends
    /// on this host (the adaptive policy's prior sits at that initial timeout and fades over a
    /// few thousand replies: with 1 s, a backend's timeout stays above a second for the whole
    /// run); and a monitor tick half a second late taken as a stall of the proxy, so that
    /// scheduling delays on a busy machine do not hold suspicions back.
    fn accrual_monitor() -> Result<Arc<Monitor<u64, TokioClock>>, String> {
        let config = MonitorConfig {
            detector: DetectorConfig::Adaptive(AdaptiveConfig {
                first_interval: Nanos::from_duration(HEARTBEAT),
                prior_pause: Nanos::from_duration(HEARTBEAT * 3),
                ..AdaptiveConfig::default()
            }),
            mistakes_per_hour: Some(1.0),
            timeout: TimeoutConfig {
                initial: Nanos::from_millis(100),
                ..TimeoutConfig::default()
            },
            stall_threshold: Nanos::from_millis(500),
            ..MonitorConfig::default()
        };
        Ok(Arc::new(
            Monitor::with_clock(config, TokioClock::new()).map_err(|e| e.to_string())?,
        ))
    }

    /// Configuration (c), on the `accrual::tower` layers: the pool is the backends the
    /// heartbeats trust ([`PoolDiscover`], fed by the service that `Service::listen_with`
    /// feeds); each backend is an [`EndpointLayer`] endpoint (its adaptive request timeout,
    /// every outcome recorded, unready while ejected, one trial request on probation, a cost of
    /// requests in flight weighted by `2^φ`); [`Hedge`] picks by power of two choices and
    /// copies a slow request to a different backend after the first one's hedge delay;
    /// [`FailFast`] bounds the wait for a ready backend; tower's `Retry` retries a failed
    /// request. Hedges and retries share one budget. Must be called on the runtime (the
    /// buffer spawns its worker).
    fn accrual_route(
        service: &Arc<Service<u64, TokioClock>>,
        endpoints: &[Endpoint],
    ) -> Result<(Route, Arc<Budget>), String> {
        let monitor = service.monitor().clone();
        let endpoints = endpoints.to_vec();
        let discover = PoolDiscover::new(service, move |key: &u64| {
            // A heartbeat from an id that is none of ours gets an endpoint that refuses.
            let endpoint = usize::try_from(*key)
                .ok()
                .and_then(|i| endpoints.get(i))
                .cloned();
            EndpointLayer::new(monitor.clone(), *key)
                .classify(classify)
                .layer(EndpointService(endpoint))
        });
        let budget = Arc::new(Budget::default());
        let hedge = Hedge::new(
            discover,
            HedgeBudget(budget.clone()),
            HedgeConfig::default(),
        )
        .map_err(|e| e.to_string())?;
        let balancer = FailFast::new(hedge, Nanos::from_duration(NO_BACKEND_WAIT));
        // Boxed before it is buffered, for the reason `tower_route` gives.
        let buffer = Buffer::new(BoxService::new(balancer), 4_096);
        // A retry goes back through the balancer, which knows nothing of the backend that just
        // failed: the one that refused it, with nothing in flight, may be the cheapest again.
        // As many retries as the failures in a row that eject a backend: one that fails every
        // attempt is ejected before a request runs out of them.
        let ejecting = service
            .monitor()
            .config()
            .ejection
            .consecutive_gateway_failures;
        let retry = Retry::new(
            RetryPolicy {
                budget: budget.clone(),
                left: u8::try_from(ejecting).unwrap_or(u8::MAX).max(1),
            },
            buffer,
        );
        let route: Route = Arc::new(move || {
            let call: BoxFuture<Result<Bytes, tower::BoxError>> =
                Box::pin(retry.clone().oneshot(()));
            Box::pin(async move { call.await.map_err(Failure::from_box) })
        });
        Ok((route, budget))
    }

    // ---------------------------------------------------------------------------------------
    // The proxy and the load.

    /// Serves HTTP on `listener`, each request by `route`, until aborted.
    async fn proxy(listener: TcpListener, route: Route) {
        let mut connections = JoinSet::new();
        loop {
            let Ok((stream, _)) = listener.accept().await else {
                tokio::time::sleep(Duration::from_millis(1)).await;
                continue;
            };
            let _ = stream.set_nodelay(true);
            let route = route.clone();
            connections.spawn(async move {
                let service = service_fn(move |_req: Request<Incoming>| {
                    let reply = route();
                    async move {
                        let response = match reply.await {
                            Ok(body) => Response::new(Full::new(body)),
                            Err(e) => {
                                let mut r = Response::new(Full::new(Bytes::from(e.to_string())));
                                *r.status_mut() = e.status();
                                r
                            }
                        };
                        Ok::<_, Infallible>(response)
                    }
                });
                let _ = http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), service)
                    .await;
            });
            while connections.try_join_next().is_some() {}
        }
    }

    /// One client request as the client saw it.
    #[derive(Debug, Clone)]
    struct Sample {
        /// When it was scheduled.
        at: Instant,
        latency: Duration,
        /// Why it failed: the proxy's status and message, or the client's own error.
        error: Option<String>,
    }

    /// Open-loop load: request `k` is sent at `start + k / rate` whatever became of the
    /// earlier ones, and its latency counts from then.
    async fn load(proxy: SocketAddr, rate: f64, duration: Duration, start: Instant) -> Vec<Sample> {
        let client: HttpClient = http_client();
        let uri: Uri = match format!("http://{proxy}/").parse() {
            Ok(u) => u,
            Err(_) => return Vec::new(),
        };
        let n = (rate * duration.as_secs_f64()).round() as u64;
        let mut requests = JoinSet::new();
        let mut samples = Vec::with_capacity(n as usize);
        for k in 0..n {
            let at = start + Duration::from_secs_f64(k as f64 / rate);
            tokio::time::sleep_until(tokio::time::Instant::from_std(at)).await;
            let client = client.clone();
            let uri = uri.clone();
            requests.spawn(async move {
                let reply = tokio::time::timeout(CLIENT_TIMEOUT, async {
                    let req = Request::get(uri)
                        .body(Empty::<Bytes>::new())
                        .map_err(|e| e.to_string())?;
                    let response = client.request(req).await.map_err(|e| e.to_string())?;
                    let status = response.status();
                    let body = response
                        .into_body()
                        .collect()
                        .await
                        .map_err(|e| e.to_string())?
                        .to_bytes();
                    if status == StatusCode::OK {
                        Ok(())
                    } else {
                        Err(format!(
                            "{} {}",
                            status.as_u16(),
                            String::from_utf8_lossy(&body).trim()
                        ))
                    }
                })
                .await;
                let error = match reply {
                    Ok(Ok(())) => None,
                    Ok(Err(e)) => Some(e),
                    Err(_) => Some(format!("no answer within {CLIENT_TIMEOUT:?}")),
                };
                Sample {
                    at,
                    latency: at.elapsed(),
                    error,
                }
            });
            while let Some(done) = requests.try_join_next() {
                samples.extend(done.ok());
            }
        }
        while let Some(done) = requests.join_next().await {
            samples.extend(done.ok());
        }
        samples
    }

    // ---------------------------------------------------------------------------------------
    // One configuration's run.

    /// The configurations.
    #[derive(Debug, Clone, Copy, PartialEq, Eq)]
    pub enum Config {
        /// (a) p2c over Peak-EWMA with a fixed 1 s timeout.
        TowerFixed,
        /// (b) (a) with active health checks.
        TowerHealthCheck,
        /// (c) accrual.
        Accrual,
    }

    impl Config {
        pub fn name(self) -> &'static str {
            match self {
                Config::TowerFixed => "tower-fixed",
                Config::TowerHealthCheck => "tower-health-check",
                Config::Accrual => "accrual",
            }
        }
    }

    /// What one configuration's run measured.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Outcome {
        /// The configuration (`accrual` for the baseline too).
        pub config: Config,
        /// Whether the faults were injected.
        pub faults: bool,
        /// Client requests, and those that failed (an error status, a broken connection, or
        /// no answer within 5 s).
        pub requests: u64,
        pub failures: u64,
        /// Client-visible latency quantiles, in ms, over every request.
        pub p50_ms: f64,
        pub p99_ms: f64,
        pub p999_ms: f64,
        /// From `SIGKILL` to the last request sent to the killed backend (0 if none after).
        pub kill_to_last_request_ms: Option<f64>,
        /// Requests sent to the killed backend after `SIGKILL`.
        pub requests_after_kill: Option<u64>,
        /// From the first failed request to the killed backend (a refused or reset
        /// connection) to the last request sent to it.
        pub first_failure_to_last_request_ms: Option<f64>,
        /// The stalled backend's deadline, after `SIGSTOP`.
        pub stall_deadline_ms: Option<f64>,
        /// Requests sent to the stalled backend after that deadline and before `SIGCONT`.
        pub requests_after_stall_deadline: Option<u64>,
        /// From `SIGCONT` to the first request sent to the continued backend that it served;
        /// `None` if none was.
        pub readmit_ms: Option<f64>,
        /// Hedged and retried attempts.
        pub hedges: u64,
        pub retries: u64,
        /// Attempts the proxy made at each backend (hedges and retries included).
        pub attempts: [u64; BACKENDS],
    }

    fn ms(d: Duration) -> f64 {
        d.as_secs_f64() * 1e3
    }

    /// The `q` quantile (nearest rank) of sorted `v`, in ms.
    fn quantile(v: &[Duration], q: f64) -> f64 {
        if v.is_empty() {
            return 0.0;
        }
        let rank = (q * v.len() as f64).ceil() as usize;
        ms(v[rank.clamp(1, v.len()) - 1])
    }

    fn sleep_until(at: Instant) {
        let now = Instant::now();
        if at > now {
            std::thread::sleep(at - now);
        }
    }

    /// The faults, from the start of the load.
    #[derive(Debug, Clone, Copy)]
    struct Faults {
        stop_at: Duration,
        stop_for: Duration,
        kill_at: Duration,
    }

    /// An instant on the monitor's time line as a std instant.
    fn instant_of(monitor: &Monitor<u64, TokioClock>, at: Nanos) -> Instant {
        let (now_i, now_n) = (Instant::now(), monitor.now());
        if at >= now_n {
            now_i + (at - now_n).as_duration()
        } else {
            now_i
                .checked_sub((now_n - at).as_duration())
                .unwrap_or(now_i)
        }
    }

    /// Runs one configuration against four fresh backends, narrating to `out`.
    #[allow(clippy::too_many_arguments)]
    fn run_config(
        rt: &tokio::runtime::Runtime,
        exe: &Path,
        config: Config,
        rate: f64,
        duration: Duration,
        faults: Option<Faults>,
        out: &mut dyn Write,
    ) -> Result<Outcome, String> {
        let say = |out: &mut dyn Write, text: String| {
            let _ = writeln!(out, "{text}");
        };
        // What happened when: the faults, and every change of a backend's standing.
        let changes = Timeline::default();
        let note = |at: Instant, text: String| {
            if let Ok(mut v) = changes.lock() {
                v.push((at, None, text));
            }
        };
        // The accrual side: a monitor, its evaluator, and its heartbeat listener.
        let mut service = None;
        let mut monitor = None;
        let mut heartbeat_to = None;
        if config == Config::Accrual {
            let m = accrual_monitor()?;
            let (s, address) = rt.block_on(async {
                let s = Service::start(m.clone(), ServiceConfig::default())
                    .map_err(|e| e.to_string())?;
                let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
                    .await
                    .map_err(|e| e.to_string())?;
                // Keyed by the backend's index, the id its heartbeater sends.
                let address = s
                    .listen_with(socket, NetConfig::default(), |id, _from| id)
                    .map_err(|e| e.to_string())?;
                Ok::<_, String>((s, address))
            })?;
            service = Some(Arc::new(s));
            monitor = Some(m);
            heartbeat_to = Some(address);
        }
        let (mut backends, addresses) = spawn_backends(exe, heartbeat_to)?;
        let client = rt.block_on(async { http_client() });
        let endpoints = addresses
            .iter()
            .map(|&a| Endpoint::new(a, client.clone()))
            .collect::<Result<Vec<_>, String>>()?;
        let gates: Vec<Arc<Gate>> = (0..BACKENDS).map(|_| Arc::new(Gate::default())).collect();
        let mut tasks = Vec::new();
        let mut accrual = None;
        let route = match config {
            Config::TowerFixed => rt.block_on(async { tower_route(&endpoints, &gates) }),
            Config::TowerHealthCheck => {
                for (i, (e, g)) in endpoints.iter().zip(&gates).enumerate() {
                    tasks.push(rt.spawn(health_check(i, e.clone(), g.clone(), changes.clone())));
                }
                rt.block_on(async { tower_route(&endpoints, &gates) })
            }
            Config::Accrual => {
                let m = monitor.as_ref().ok_or("no monitor")?;
                let s = service.as_ref().ok_or("no service")?;
                // The accrual proxy starts once it has heard every backend.
                let end = Instant::now() + ALIVE_LIMIT;
                while (0..BACKENDS as u64).any(|k| m.level(&k) != Some(Level::Alive)) {
                    if Instant::now() > end {
                        return Err(format!(
                            "the backends were not all alive within {ALIVE_LIMIT:?}: {:?}",
                            m.levels()
                        ));
                    }
                    std::thread::sleep(Duration::from_millis(10));
                }
                let (route, budget) = rt.block_on(async { accrual_route(s, &endpoints) })?;
                // Narration: each backend's admission and heartbeat verdict, as it changes.
                let watched = m.clone();
                let log = changes.clone();
                tasks.push(rt.spawn(async move {
                    let mut last = vec![String::new(); BACKENDS];
                    loop {
                        let now = watched.now();
                        for (i, seen) in last.iter_mut().enumerate() {
                            let key = i as u64;
                            let mut s = match watched.admission(&key) {
                                Some(Admission::Probation) => "on probation".to_string(),
                                Some(Admission::Ejected) => "ejected by its outcomes".to_string(),
                                _ => "admitted".to_string(),
                            };
                            match watched.level(&key) {
                                Some(Level::Suspect) => s.push_str(", suspect"),
                                Some(Level::Dead) => s.push_str(", dead"),
                                _ => {}
                            }
                            if watched.deadline(&key).is_some_and(|d| now > d) {
                                s.push_str(", past its heartbeat deadline");
                            }
                            if *seen != s {
                                if !seen.is_empty()
                                    && let Ok(mut v) = log.lock()
                                {
                                    v.push((Instant::now(), Some(i), s.clone()));
                                }
                                *seen = s;
                            }
                        }
                        tokio::time::sleep(Duration::from_millis(2)).await;
                    }
                }));
                accrual = Some(budget);
                route
            }
        };
        let listener = rt
            .block_on(TcpListener::bind("127.0.0.1:0"))
            .map_err(|e| format!("proxy bind: {e}"))?;
        let proxy_address = listener.local_addr().map_err(|e| e.to_string())?;
        tasks.push(rt.spawn(proxy(listener, route)));

        let start = Instant::now() + Duration::from_millis(50);
        let t = |at: Instant| at.saturating_duration_since(start).as_secs_f64();
        say(
            out,
            format!(
                "{}{}: proxy {proxy_address}, backends {addresses:?}; {rate} req/s for {:.1} s",
                config.name(),
                if faults.is_some() {
                    ""
                } else {
                    " (fault-free)"
                },
                duration.as_secs_f64()
            ),
        );
        let load_task = rt.spawn(load(proxy_address, rate, duration, start));

        // The faults, in time order.
        let mut stopped = None;
        let mut continued = None;
        let mut killed = None;
        let mut stall_deadline = None;
        if let Some(f) = faults {
            let mut events = [
                (f.stop_at, 0u8),
                (f.stop_at + f.stop_for, 1),
                (f.kill_at, 2),
            ];
            events.sort();
            for (at, what) in events {
                sleep_until(start + at);
                match what {
                    0 => {
                        // The instant is taken before the signal: the proxy may see
                        // its effects before this thread runs again.
                        let now = Instant::now();
                        backends.signal(STALLED, Signal::SIGSTOP)?;
                        stopped = Some(now);
                        let deadline = match &monitor {
                            Some(m) => {
                                // Read once any heartbeat already on its way has landed.
                                std::thread::sleep(Duration::from_millis(5));
                                let learned: Vec<String> = (0..BACKENDS)
                                    .map(|i| {
                                        let key = i as u64;
                                        format!(
                                            "{} {:.1}/{:.1} ms",
                                            NAMES[i],
                                            ms(m.request_timeout(&key).as_duration()),
                                            ms(m.hedge_delay(&key).as_duration())
                                        )
                                    })
                                    .collect();
                                note(
                                    now,
                                    format!(
                                        "learned request timeout / hedge delay: {}",
                                        learned.join(", ")
                                    ),
                                );
                                m.deadline(&(STALLED as u64)).map(|d| instant_of(m, d))
                            }
                            None => Some(now + FIXED_TIMEOUT),
                        };
                        stall_deadline = deadline;
                        note(
                            now,
                            format!(
                                "SIGSTOP backend {STALLED} (stalled) for {:.1} s; its deadline: {}",
                                f.stop_for.as_secs_f64(),
                                deadline.map_or("none".into(), |d| format!(
                                    "+{:.0} ms{}",
                                    ms(d.saturating_duration_since(now)),
                                    if monitor.is_some() {
                                        " (heartbeats)"
                                    } else {
                                        " (the fixed timeout)"
                                    }
                                ))
                            ),
                        );
                    }
                    1 => {
                        let now = Instant::now();
                        backends.signal(STALLED, Signal::SIGCONT)?;
                        continued = Some(now);
                        note(now, format!("SIGCONT backend {STALLED} (stalled)"));
                    }
                    _ => {
                        let now = Instant::now();
                        backends.kill(KILLED)?;
                        killed = Some(now);
                        note(now, format!("SIGKILL backend {KILLED} (killed)"));
                    }
                }
            }
        }

        let limit = duration + CLIENT_TIMEOUT + Duration::from_secs(10);
        let samples = rt
            .block_on(async { tokio::time::timeout(limit, load_task).await })
            .map_err(|_| format!("the load did not finish within {limit:?}"))?
            .map_err(|e| format!("the load failed: {e}"))?;
        for task in &tasks {
            task.abort();
        }
        // The pool's discover holds the service weakly: this is the one strong reference.
        if let Some(s) = service.and_then(|s| Arc::try_unwrap(s).ok()) {
            rt.block_on(s.shutdown());
        }
        drop(backends);

        let mut narrated = changes.lock().map(|v| v.clone()).unwrap_or_default();
        narrated.sort_by_key(|(at, ..)| *at);
        let shown = 30;
        for (at, i, what) in narrated.iter().take(shown) {
            let text = match i {
                Some(i) => format!("backend {i} ({}): {what}", NAMES[*i]),
                None => what.clone(),
            };
            say(out, format!("  {:>6.3}s {text}", t(*at)));
        }
        if narrated.len() > shown {
            say(
                out,
                format!("  ... and {} more changes", narrated.len() - shown),
            );
        }

        // The measurements.
        let mut latencies: Vec<Duration> = samples.iter().map(|s| s.latency).collect();
        latencies.sort();
        let attempts = |i: usize| {
            endpoints[i]
                .log
                .attempts
                .lock()
                .map(|v| v.clone())
                .unwrap_or_default()
        };
        let mut outcome = Outcome {
            config,
            faults: faults.is_some(),
            requests: samples.len() as u64,
            failures: samples.iter().filter(|s| s.error.is_some()).count() as u64,
            p50_ms: quantile(&latencies, 0.5),
            p99_ms: quantile(&latencies, 0.99),
            p999_ms: quantile(&latencies, 0.999),
            kill_to_last_request_ms: None,
            requests_after_kill: None,
            first_failure_to_last_request_ms: None,
            stall_deadline_ms: None,
            requests_after_stall_deadline: None,
            readmit_ms: None,
            hedges: 0,
            retries: 0,
            attempts: [0; BACKENDS],
        };
        for (i, n) in outcome.attempts.iter_mut().enumerate() {
            *n = attempts(i).len() as u64;
        }
        if let Some(budget) = &accrual {
            outcome.hedges = budget.hedges.load(Ordering::Relaxed);
            outcome.retries = budget.retries.load(Ordering::Relaxed);
        }
        if let Some(kill) = killed {
            let log = attempts(KILLED);
            let after: Vec<&Attempt> = log.iter().filter(|a| a.sent >= kill).collect();
            let last = log.iter().map(|a| a.sent).max();
            outcome.requests_after_kill = Some(after.len() as u64);
            outcome.kill_to_last_request_ms =
                Some(last.map_or(0.0, |l| ms(l.saturating_duration_since(kill))));
            let first_failure = log
                .iter()
                .filter(|a| a.ended >= kill && a.fate == Fate::Failed)
                .map(|a| a.ended)
                .min();
            if let (Some(f), Some(l)) = (first_failure, last) {
                outcome.first_failure_to_last_request_ms = Some(ms(l.saturating_duration_since(f)));
            }
        }
        if let (Some(stop), Some(cont)) = (stopped, continued) {
            let log = attempts(STALLED);
            if let Some(deadline) = stall_deadline {
                outcome.stall_deadline_ms = Some(ms(deadline.saturating_duration_since(stop)));
                outcome.requests_after_stall_deadline = Some(
                    log.iter()
                        .filter(|a| a.sent > deadline && a.sent < cont)
                        .count() as u64,
                );
            }
            outcome.readmit_ms = log
                .iter()
                .filter(|a| a.sent >= cont && a.fate == Fate::Served)
                .map(|a| a.sent)
                .min()
                .map(|a| ms(a - cont));
        }
        // Failures by reason, with when the first and last of each were sent.
        let mut reasons: Vec<(String, u64, Instant, Instant)> = Vec::new();
        for s in &samples {
            let Some(e) = &s.error else { continue };
            match reasons.iter_mut().find(|(r, ..)| r == e) {
                Some((_, n, _, last)) => {
                    *n += 1;
                    *last = (*last).max(s.at);
                }
                None => reasons.push((e.clone(), 1, s.at, s.at)),
            }
        }
        reasons.sort_by_key(|r| std::cmp::Reverse(r.1));
        for (reason, n, first, last) in reasons.iter().take(5) {
            say(
                out,
                format!(
                    "  failed x{n}: {reason} (sent from {:.3}s to {:.3}s)",
                    t(*first),
                    t(*last)
                ),
            );
        }
        let per_backend: Vec<String> = outcome
            .attempts
            .iter()
            .zip(NAMES)
            .map(|(n, name)| format!("{name} {n}"))
            .collect();
        say(
            out,
            format!("  attempts per backend: {}", per_backend.join(", ")),
        );
        say(
            out,
            format!(
                "  {} requests, {} failed; p50 {:.1} ms, p99 {:.1} ms, p99.9 {:.1} ms; \
                 {} hedges, {} retries",
                outcome.requests,
                outcome.failures,
                outcome.p50_ms,
                outcome.p99_ms,
                outcome.p999_ms,
                outcome.hedges,
                outcome.retries
            ),
        );
        Ok(outcome)
    }

    // ---------------------------------------------------------------------------------------
    // The whole run.

    /// Every configuration's outcome, and the fault-free baseline.
    #[derive(Debug, Clone, PartialEq)]
    pub struct Summary {
        pub options: Options,
        /// `accrual` without faults, if run.
        pub baseline: Option<Outcome>,
        /// (a), (b) and (c), in that order.
        pub outcomes: Vec<Outcome>,
    }

    impl Summary {
        /// The outcome of `config` under faults.
        pub fn get(&self, config: Config) -> Option<&Outcome> {
            self.outcomes.iter().find(|o| o.config == config)
        }

        /// The targets for `accrual`: what each asks, what was measured, and whether it is
        /// met.
        pub fn targets(&self) -> Vec<(String, String, bool)> {
            let Some(c) = self.get(Config::Accrual) else {
                return Vec::new();
            };
            let mut t = Vec::new();
            t.push((
                "0 client-visible failures while a healthy backend remains".to_string(),
                c.failures.to_string(),
                c.failures == 0,
            ));
            let spent = (c.hedges + c.retries) as f64 / c.requests.max(1) as f64;
            t.push((
                "hedges + retries within 10 % of requests".to_string(),
                format!("{:.1} %", spent * 100.0),
                spent <= 0.1,
            ));
            if c.requests_after_kill == Some(0) {
                t.push((
                    "last request to the killed backend <= 10 ms after its first refused (or \
                     reset) connection"
                        .to_string(),
                    "no request sent to it after SIGKILL".to_string(),
                    true,
                ));
            } else if let Some(v) = c.first_failure_to_last_request_ms {
                t.push((
                    "last request to the killed backend <= 10 ms after its first refused (or \
                     reset) connection"
                        .to_string(),
                    format!("{v:.1} ms"),
                    v <= 10.0,
                ));
            }
            if let Some(v) = c.requests_after_stall_deadline {
                t.push((
                    "<= 5 requests to the stalled backend after its deadline".to_string(),
                    v.to_string(),
                    v <= 5,
                ));
            }
            if let Some(b) = &self.baseline {
                let ratio = c.p99_ms / b.p99_ms.max(1e-9);
                t.push((
                    "p99 <= 1.5x the fault-free run's".to_string(),
                    format!("{:.1} ms / {:.1} ms = {ratio:.2}x", c.p99_ms, b.p99_ms),
                    ratio <= 1.5,
                ));
            }
            t
        }

        /// One JSON object per configuration, in an array.
        pub fn json(&self) -> String {
            let objects: Vec<serde_json::Value> = self
                .outcomes
                .iter()
                .map(|o| {
                    let mut v = serde_json::json!({
                        "config": o.config.name(),
                        "requests": o.requests,
                        "failures": o.failures,
                        "p50_ms": o.p50_ms,
                        "p99_ms": o.p99_ms,
                        "p999_ms": o.p999_ms,
                        "kill_to_last_request_ms": o.kill_to_last_request_ms,
                        "requests_after_stall_deadline": o.requests_after_stall_deadline,
                        "readmit_ms": o.readmit_ms,
                        "hedges": o.hedges,
                        "retries": o.retries,
                        "requests_after_kill": o.requests_after_kill,
                        "first_failure_to_last_request_ms": o.first_failure_to_last_request_ms,
                        "stall_deadline_ms": o.stall_deadline_ms,
                        "attempts_per_backend": o.attempts,
                        "duration_s": self.options.duration.as_secs_f64(),
                        "rate": self.options.rate,
                    });
                    if o.config == Config::Accrual
                        && let (Some(b), Some(obj)) = (&self.baseline, v.as_object_mut())
                    {
                        obj.insert("baseline_p99_ms".into(), b.p99_ms.into());
                        obj.insert("baseline_failures".into(), b.failures.into());
                    }
                    v
                })
                .collect();
            let mut s = serde_json::to_string_pretty(&objects).unwrap_or_default();
            s.push('\n');
            s
        }
    }

    fn opt(v: Option<f64>) -> String {
        v.map_or("-".into(), |v| format!("{v:.1}"))
    }

    impl fmt::Display for Summary {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            let o = &self.options;
            writeln!(
                f,
                "{} req/s for {:.1} s per configuration; SIGSTOP at {:.1} s for {:.1} s, \
                 SIGKILL at {:.1} s",
                o.rate,
                o.duration.as_secs_f64(),
                o.stop_at.as_secs_f64(),
                o.stop_for.as_secs_f64(),
                o.kill_at.as_secs_f64()
            )?;
            writeln!(
                f,
                "{:<20} {:>8} {:>8} {:>8} {:>8} {:>9} {:>10} {:>9} {:>9} {:>7} {:>7}",
                "config",
                "requests",
                "failures",
                "p50 ms",
                "p99 ms",
                "p99.9 ms",
                "kill->last",
                "after ddl",
                "readmit",
                "hedges",
                "retries"
            )?;
            let rows = self
                .baseline
                .iter()
                .map(|b| ("accrual, fault-free", b))
                .chain(self.outcomes.iter().map(|o| (o.config.name(), o)));
            for (name, r) in rows {
                writeln!(
                    f,
                    "{:<20} {:>8} {:>8} {:>8.1} {:>8.1} {:>9.1} {:>10} {:>9} {:>9} {:>7} {:>7}",
                    name,
                    r.requests,
                    r.failures,
                    r.p50_ms,
                    r.p99_ms,
                    r.p999_ms,
                    opt(r.kill_to_last_request_ms),
                    r.requests_after_stall_deadline
                        .map_or("-".into(), |v| v.to_string()),
                    match (r.readmit_ms, r.faults) {
                        (None, true) => "never".into(),
                        (v, _) => opt(v),
                    },
                    r.hedges,
                    r.retries
                )?;
            }
            writeln!(
                f,
                "(kill->last: ms from SIGKILL to the last request sent to the killed backend; \
                 after ddl: requests sent to the stopped backend past its deadline; readmit: ms \
                 from SIGCONT to the first request it served; never: none within the run)"
            )?;
            for r in &self.outcomes {
                writeln!(
                    f,
                    "{:<20} stall deadline +{} ms after SIGSTOP; {} requests to the killed \
                     backend after SIGKILL, the last {} ms after its first failure",
                    r.config.name(),
                    opt(r.stall_deadline_ms),
                    r.requests_after_kill.map_or("-".into(), |v| v.to_string()),
                    opt(r.first_failure_to_last_request_ms)
                )?;
            }
            let targets = self.targets();
            if !targets.is_empty() {
                writeln!(f, "targets for accrual:")?;
            }
            for (what, measured, met) in targets {
                writeln!(
                    f,
                    "  [{}] {what}: {measured}",
                    if met { "met" } else { "not met" }
                )?;
            }
            Ok(())
        }
    }

    /// Runs the baseline and the three configurations, starting `exe` (a program that calls
    /// [`role_main`] first) as the backends, narrating to `out`.
    pub fn run(exe: &Path, options: &Options, out: &mut dyn Write) -> Result<Summary, String> {
        options.validate()?;
        let rt = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(2)
            .enable_all()
            .build()
            .map_err(|e| format!("no runtime: {e}"))?;
        let faults = Faults {
            stop_at: options.stop_at,
            stop_for: options.stop_for,
            kill_at: options.kill_at,
        };
        let baseline = if options.baseline.is_zero() {
            None
        } else {
            Some(run_config(
                &rt,
                exe,
                Config::Accrual,
                options.rate,
                options.baseline,
                None,
                out,
            )?)
        };
        let mut outcomes = Vec::new();
        for config in [
            Config::TowerFixed,
            Config::TowerHealthCheck,
            Config::Accrual,
        ] {
            outcomes.push(run_config(
                &rt,
                exe,
                config,
                options.rate,
                options.duration,
                Some(faults),
                out,
            )?);
        }
        rt.shutdown_timeout(Duration::from_secs(1));
        Ok(Summary {
            options: options.clone(),
            baseline,
            outcomes,
        })
    }
}
