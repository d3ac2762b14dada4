//! Real processes, real faults: a monitor process and four node processes heartbeating to it
//! over UDP on 127.0.0.1, with authenticated datagrams, then:
//!
//! 1. node 1 is stopped (`SIGSTOP`) for 2 s and continued: it is suspected, then trusted again;
//! 2. node 2 is killed (`SIGKILL`): it is declared dead;
//! 3. the monitor itself is stopped for 3 s: no healthy node is suspected when it resumes;
//! 4. forged, tampered, untagged, replayed and malformed datagrams are sent at the monitor:
//!    all are refused, and no verdict changes.
//!
//! ```sh
//! cargo run --release --features tokio --example cluster
//! ```
//!
//! The program re-executes itself as the monitor and as each node (the role is passed in the
//! environment). Every wait is bounded; the children are killed when the run ends, however it
//! ends, and exit by themselves when their standard input closes. `tests/runtime_cluster.rs`
//! runs the same scenario as a test.

#[cfg(not(unix))]
fn main() {
    eprintln!("this example sends Unix signals: it runs on Unix only");
}

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    if let Some(code) = cluster::role_main() {
        return code;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find this program's path: {e}");
            return std::process::ExitCode::FAILURE;
        }
    };
    match cluster::run(&exe, &mut std::io::stdout()) {
        Ok(report) => {
            println!();
            println!("{report}");
            std::process::ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("cluster run failed: {e}");
            std::process::ExitCode::FAILURE
        }
    }
}

#[cfg(unix)]
#[allow(dead_code)]
pub mod cluster {
    use std::collections::HashMap;
    use std::fmt;
    use std::hash::{BuildHasher, RandomState};
    use std::io::{BufRead, BufReader, Write};
    use std::net::{SocketAddr, UdpSocket};
    use std::path::Path;
    use std::process::{Child, ChildStdin, Command, ExitCode, Stdio};
    use std::sync::Arc;
    use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
    use std::time::{Duration, Instant};

    use accrual::monitor::{DetectorConfig, Monitor, MonitorConfig};
    use accrual::runtime::wire::{Key, Kind, Message, TAGGED_LEN, VERSION};
    use accrual::runtime::{
        Event, HeartbeatConfig, Heartbeater, NetConfig, Service, ServiceConfig, TokioClock,
    };
    use accrual::{AdaptiveConfig, Nanos};
    use nix::sys::signal::{Signal, kill};
    use nix::unistd::Pid;

    /// The environment variables that make this program a child.
    const ROLE: &str = "ACCRUAL_CLUSTER_ROLE";
    const KEY: &str = "ACCRUAL_CLUSTER_KEY";
    const ID: &str = "ACCRUAL_CLUSTER_ID";
    const TO: &str = "ACCRUAL_CLUSTER_MONITOR";

    /// Node ids: 1 is stopped and continued, 2 killed, 3 and 4 stay healthy.
    const NODES: [u64; 4] = [1, 2, 3, 4];
    const HEARTBEAT: Duration = Duration::from_millis(100);
    const NODE_STOP: Duration = Duration::from_secs(2);
    const MONITOR_STOP: Duration = Duration::from_secs(3);
    /// After the monitor resumes, how long healthy nodes are watched for false suspicions.
    const AFTER_MONITOR_STOP: Duration = Duration::from_secs(3);
    /// Learning time after every node is alive.
    const WARM_UP: Duration = Duration::from_secs(3);

    fn parse_key(hex: &str) -> Option<Key> {
        let bytes: Option<Vec<u8>> = (0..hex.len() / 2)
            .map(|i| u8::from_str_radix(hex.get(2 * i..2 * i + 2)?, 16).ok())
            .collect();
        Key::new(&bytes?).ok()
    }

    /// 32 bytes from the standard library's randomly seeded hasher: enough for a key that
    /// lives one run.
    fn fresh_key() -> (String, Vec<u8>) {
        let mut bytes = Vec::with_capacity(32);
        for i in 0u64..4 {
            bytes.extend_from_slice(&RandomState::new().hash_one(i).to_be_bytes());
        }
        let hex = bytes.iter().map(|b| format!("{b:02x}")).collect();
        (hex, bytes)
    }

    /// Runs the child role named in the environment, if any, and returns its exit code.
    pub fn role_main() -> Option<ExitCode> {
        let role = std::env::var(ROLE).ok()?;
        let key = std::env::var(KEY).ok().and_then(|k| parse_key(&k));
        let Some(key) = key else {
            eprintln!("{role}: no usable key in {KEY}");
            return Some(ExitCode::FAILURE);
        };
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
            "monitor" => rt.block_on(monitor_role(key)),
            "node" => rt.block_on(node_role(key)),
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

    /// Reads standard input on a thread: its lines, then `None` at its end.
    fn stdin_lines() -> tokio::sync::mpsc::Receiver<Option<String>> {
        let (tx, rx) = tokio::sync::mpsc::channel(16);
        std::thread::spawn(move || {
            for line in std::io::stdin().lock().lines() {
                let Ok(line) = line else { break };
                if tx.blocking_send(Some(line)).is_err() {
                    return;
                }
            }
            let _ = tx.blocking_send(None);
        });
        rx
    }

    async fn node_role(key: Key) -> Result<(), String> {
        let id: u64 = std::env::var(ID)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("no node id")?;
        let to: SocketAddr = std::env::var(TO)
            .ok()
            .and_then(|s| s.parse().ok())
            .ok_or("no monitor address")?;
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let mut config = HeartbeatConfig::new(id, to);
        config.interval = Nanos::from_duration(HEARTBEAT);
        config.key = Some(key);
        let beats = Heartbeater::start(socket, config).map_err(|e| e.to_string())?;
        let mut input = stdin_lines();
        while let Some(Some(_)) = input.recv().await {}
        beats.shutdown().await;
        Ok(())
    }

    async fn monitor_role(key: Key) -> Result<(), String> {
        // The default detector, told the interval its peers beat at and that pauses of a few
        // intervals are to be expected from the start.
        let config = MonitorConfig {
            detector: DetectorConfig::Adaptive(AdaptiveConfig {
                first_interval: Nanos::from_duration(HEARTBEAT),
                prior_pause: Nanos::from_duration(HEARTBEAT * 3),
                ..AdaptiveConfig::default()
            }),
            // A tick half a second late is a stall of the monitor: on a busy machine, shorter
            // scheduling delays then do not hold suspicions back.
            stall_threshold: Nanos::from_millis(500),
            ..MonitorConfig::default()
        };
        let monitor = Monitor::with_clock(config, TokioClock::new()).map_err(|e| e.to_string())?;
        let service = Service::start(Arc::new(monitor), ServiceConfig::default())
            .map_err(|e| e.to_string())?;
        let socket = tokio::net::UdpSocket::bind("127.0.0.1:0")
            .await
            .map_err(|e| e.to_string())?;
        let config = NetConfig {
            key: Some(key),
            probe_interval: Some(Nanos::from_millis(500)),
            ..NetConfig::default()
        };
        let address = service.listen(socket, config).map_err(|e| e.to_string())?;
        let mut events = service.subscribe();
        println!("listening {address}");
        let mut input = stdin_lines();
        loop {
            tokio::select! {
                event = events.recv() => match event {
                    Ok(Event::Transition { peer, transition: t, .. }) => println!(
                        "transition {peer} {} {} {} {:.3}",
                        t.from, t.to, t.at.as_nanos(), t.phi
                    ),
                    Ok(Event::Stall { stall, holding_until, .. }) => println!(
                        "stall {} {}",
                        stall.duration().as_nanos(),
                        holding_until.map_or(0, |h| (h - stall.resumed).as_nanos())
                    ),
                    Ok(Event::Collective { collective: c, .. }) => {
                        println!("collective {} {} {}", c.suspects, c.peers, c.held)
                    }
                    Ok(_) => {}
                    Err(tokio::sync::broadcast::error::RecvError::Lagged(n)) => {
                        println!("lagged {n}");
                        for (peer, level) in service.levels().peers {
                            println!("level {peer} {level}");
                        }
                    }
                    Err(_) => break,
                },
                line = input.recv() => match line {
                    Some(Some(cmd)) if cmd.trim() == "stats" => {
                        let s = service.net_stats().unwrap_or_default();
                        println!(
                            "stats received={} heartbeats={} replayed={} refused={} malformed={} \
                             forged={} untagged={} unverifiable={} pings={} pongs={} probes={} \
                             probe_timeouts={} probes_discarded={} peers={}",
                            s.received, s.heartbeats, s.replayed, s.refused, s.malformed,
                            s.forged, s.untagged, s.unverifiable, s.pings, s.pongs, s.probes,
                            s.probe_timeouts, s.probes_discarded, service.monitor().len()
                        );
                        let mut peers = service.monitor().levels();
                        peers.sort();
                        for (peer, level) in peers {
                            let m = service.monitor();
                            let stats = m.stats(&peer);
                            let samples = stats
                                .and_then(|s| s.timeouts)
                                .map_or(0, |t| t.samples);
                            let suspect_after = stats
                                .and_then(|s| s.meaning.timeout)
                                .map_or(0, |t| (t.as_nanos() + 500_000) / 1_000_000);
                            println!(
                                "peer {peer} {level} rtt_samples={samples} request_timeout={} \
                                 suspect_after={}",
                                Nanos::from_millis(m.request_timeout(&peer).as_nanos() / 1_000_000),
                                Nanos::from_millis(suspect_after)
                            );
                        }
                        println!("end");
                    }
                    Some(Some(_)) => {}
                    Some(None) | None => break,
                },
            }
        }
        service.shutdown().await;
        println!("bye");
        Ok(())
    }

    /// The child processes; every one still running is killed (and reaped) on drop, so a
    /// failed or panicking run leaves nothing behind.
    struct Children {
        monitor: Option<(Child, ChildStdin)>,
        nodes: HashMap<u64, (Child, ChildStdin)>,
    }

    impl Drop for Children {
        fn drop(&mut self) {
            let all = self
                .monitor
                .take()
                .into_iter()
                .chain(self.nodes.drain().map(|(_, c)| c));
            for (mut child, stdin) in all {
                drop(stdin);
                let _ = child.kill();
                let _ = child.wait();
            }
        }
    }

    fn signal(child: &Child, signal: Signal) -> Result<(), String> {
        let pid = i32::try_from(child.id()).map_err(|_| "pid out of range".to_string())?;
        kill(Pid::from_raw(pid), signal).map_err(|e| format!("{signal}: {e}"))
    }

    /// The monitor's output lines, as they arrive, with the instant each was read.
    struct Output {
        lines: Receiver<(Instant, String)>,
        log: Vec<(Instant, String)>,
    }

    impl Output {
        /// Waits at most `limit` for a line satisfying `want`; returns it and when it came.
        fn wait(
            &mut self,
            limit: Duration,
            what: &str,
            mut want: impl FnMut(&[&str]) -> bool,
        ) -> Result<(Instant, String), String> {
            let end = Instant::now() + limit;
            loop {
                let left = end.saturating_duration_since(Instant::now());
                match self.lines.recv_timeout(left) {
                    Ok((at, line)) => {
                        self.log.push((at, line.clone()));
                        let words: Vec<&str> = line.split_whitespace().collect();
                        if want(&words) {
                            return Ok((at, line));
                        }
                    }
                    Err(RecvTimeoutError::Timeout) => {
                        return Err(format!("no {what} within {limit:?}"));
                    }
                    Err(RecvTimeoutError::Disconnected) => {
                        return Err(format!("the monitor exited before {what}"));
                    }
                }
            }
        }

        /// Collects every line for `period`.
        fn collect(&mut self, period: Duration) -> Vec<(Instant, String)> {
            let end = Instant::now() + period;
            let mut out = Vec::new();
            while let Ok(l) = self
                .lines
                .recv_timeout(end.saturating_duration_since(Instant::now()))
            {
                self.log.push(l.clone());
                out.push(l);
            }
            out
        }
    }

    fn is_transition(w: &[&str], peer: u64, to: &str) -> bool {
        w.len() >= 4 && w[0] == "transition" && w[1] == peer.to_string() && w[3] == to
    }

    /// The monitor's counters, from a `stats` line.
    fn counters(line: &str) -> HashMap<String, u64> {
        line.split_whitespace()
            .filter_map(|kv| kv.split_once('='))
            .filter_map(|(k, v)| Some((k.to_string(), v.parse().ok()?)))
            .collect()
    }

    /// What the run measured.
    #[derive(Debug, Clone, Default)]
    pub struct Report {
        /// Step 1: from `SIGSTOP` to the node's suspicion.
        pub stopped_suspected_after: Duration,
        /// Step 1: whether the stopped node was also declared dead before it resumed.
        pub stopped_declared_dead: bool,
        /// Step 1: from `SIGCONT` to the node being trusted again.
        pub stopped_trusted_after: Duration,
        /// Step 2: from `SIGKILL` to the suspicion.
        pub killed_suspected_after: Duration,
        /// Step 2: from `SIGKILL` to the declaration of death.
        pub killed_dead_after: Duration,
        /// Step 3: the stall the monitor measured of itself, and how long after it it held
        /// suspicions back.
        pub monitor_stall: Duration,
        /// Step 3: the hold after the stall.
        pub monitor_hold: Duration,
        /// Step 3: healthy nodes suspected or declared dead after the monitor resumed.
        pub healthy_suspected: usize,
        /// Step 4: datagrams sent, by family, and what the monitor counted.
        pub forged_sent: u64,
        /// Forged and tampered datagrams the monitor refused for their tag.
        pub forged_refused: u64,
        /// Untagged datagrams sent.
        pub untagged_sent: u64,
        /// Untagged datagrams refused.
        pub untagged_refused: u64,
        /// Replayed (validly tagged, old sequence number) datagrams sent.
        pub replayed_sent: u64,
        /// Replays ignored.
        pub replayed_ignored: u64,
        /// Malformed datagrams sent, of lengths from 0 to 65,000 bytes.
        pub malformed_sent: u64,
        /// Malformed datagrams refused.
        pub malformed_refused: u64,
        /// Step 4: level changes while and after the bad datagrams arrived.
        pub verdicts_changed: usize,
        /// Peers the monitor knew after step 4 (forged ids must not add any).
        pub peers_after: u64,
        /// Round-trip samples the prober recorded per node (nodes 1, 3 and 4 at the end).
        pub rtt_samples: Vec<(u64, u64)>,
        /// The whole run.
        pub total: Duration,
    }

    fn secs(d: Duration) -> String {
        format!("{:.3} s", d.as_secs_f64())
    }

    impl fmt::Display for Report {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            writeln!(f, "summary")?;
            writeln!(
                f,
                "  1. node stopped for {}: suspected after {}{}, trusted again {} after SIGCONT",
                secs(NODE_STOP),
                secs(self.stopped_suspected_after),
                if self.stopped_declared_dead {
                    " (and declared dead)"
                } else {
                    ""
                },
                secs(self.stopped_trusted_after)
            )?;
            writeln!(
                f,
                "  2. node killed: suspected after {}, declared dead after {}",
                secs(self.killed_suspected_after),
                secs(self.killed_dead_after)
            )?;
            writeln!(
                f,
                "  3. monitor stopped for {}: it measured a stall of {}, held suspicions for {} \
                 more; healthy nodes suspected: {}",
                secs(MONITOR_STOP),
                secs(self.monitor_stall),
                secs(self.monitor_hold),
                self.healthy_suspected
            )?;
            writeln!(
                f,
                "  4. bad datagrams: forged or tampered {}/{} refused, untagged {}/{} refused, \
                 replayed {}/{} ignored, malformed {}/{} refused; verdicts changed: {}, peers: {}",
                self.forged_refused,
                self.forged_sent,
                self.untagged_refused,
                self.untagged_sent,
                self.replayed_ignored,
                self.replayed_sent,
                self.malformed_refused,
                self.malformed_sent,
                self.verdicts_changed,
                self.peers_after
            )?;
            let rtts: Vec<String> = self
                .rtt_samples
                .iter()
                .map(|(p, n)| format!("node {p}: {n}"))
                .collect();
            writeln!(f, "  round-trip samples: {}", rtts.join(", "))?;
            write!(f, "  total {}", secs(self.total))
        }
    }

    fn spawn(
        exe: &Path,
        role: &str,
        key: &str,
        extra: &[(&str, String)],
    ) -> Result<(Child, ChildStdin), String> {
        let mut cmd = Command::new(exe);
        cmd.env(ROLE, role)
            .env(KEY, key)
            .stdin(Stdio::piped())
            .stdout(if role == "monitor" {
                Stdio::piped()
            } else {
                Stdio::null()
            })
            .stderr(Stdio::inherit());
        for (k, v) in extra {
            cmd.env(k, v);
        }
        let mut child = cmd
            .spawn()
            .map_err(|e| format!("cannot start the {role}: {e}"))?;
        let stdin = child.stdin.take().ok_or("no stdin")?;
        Ok((child, stdin))
    }

    /// Runs the whole scenario, starting `exe` (a program that calls [`role_main`] first) as
    /// the children, narrating to `out`. Any broken expectation is an error.
    pub fn run(exe: &Path, out: &mut dyn Write) -> Result<Report, String> {
        let started = Instant::now();
        let mut report = Report::default();
        let (key_hex, key_bytes) = fresh_key();
        let key = Key::new(&key_bytes).map_err(|e| e.to_string())?;
        let mut kids = Children {
            monitor: None,
            nodes: HashMap::new(),
        };
        let say_at = |out: &mut dyn Write, at: Instant, text: String| {
            let _ = writeln!(out, "{:>6.2}s  {text}", (at - started).as_secs_f64());
        };
        let say = |out: &mut dyn Write, text: String| say_at(out, Instant::now(), text);

        // The monitor, and its output on a thread.
        let (mut monitor, stdin) = spawn(exe, "monitor", &key_hex, &[])?;
        let stdout = monitor.stdout.take().ok_or("no monitor stdout")?;
        kids.monitor = Some((monitor, stdin));
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send((Instant::now(), line)).is_err() {
                    break;
                }
            }
        });
        let mut output = Output {
            lines: rx,
            log: Vec::new(),
        };
        let (_, line) = output.wait(Duration::from_secs(10), "listening line", |w| {
            w.first() == Some(&"listening")
        })?;
        let address: SocketAddr = line
            .split_whitespace()
            .nth(1)
            .and_then(|a| a.parse().ok())
            .ok_or("bad listening line")?;
        if !address.ip().is_loopback() {
            return Err(format!("the monitor listens on {address}, not loopback"));
        }

        for id in NODES {
            let node = spawn(
                exe,
                "node",
                &key_hex,
                &[(ID, id.to_string()), (TO, address.to_string())],
            )?;
            kids.nodes.insert(id, node);
        }
        say(
            out,
            format!(
                "monitor on {address}; nodes {NODES:?} heartbeating every {HEARTBEAT:?}, \
                 HMAC-authenticated"
            ),
        );
        let mut alive = std::collections::HashSet::<u64>::new();
        output.wait(Duration::from_secs(10), "every node alive", |w| {
            alive.extend(NODES.iter().filter(|&&id| is_transition(w, id, "alive")));
            alive.len() == NODES.len()
        })?;
        say(
            out,
            format!("all nodes alive; learning for {}", secs(WARM_UP)),
        );
        for (_, line) in output.collect(WARM_UP) {
            if line.starts_with("transition") {
                return Err(format!("unexpected during warm-up: {line}"));
            }
        }

        ask_stats(&mut kids, &mut output)?;
        let learned: Vec<String> = NODES
            .iter()
            .map(|&id| format!("node {id} {}", peer_field(&output, id, "suspect_after")))
            .collect();
        say(
            out,
            format!("learned: suspect after a silence of {}", learned.join(", ")),
        );

        // 1. A node stopped and continued.
        let node1 = &kids.nodes.get(&1).ok_or("no node 1")?.0;
        signal(node1, Signal::SIGSTOP)?;
        let stopped = Instant::now();
        say(out, format!("1. SIGSTOP node 1 for {}", secs(NODE_STOP)));
        let (at, _) = output.wait(NODE_STOP, "suspicion of the stopped node", |w| {
            is_transition(w, 1, "suspect") || is_transition(w, 1, "dead")
        })?;
        report.stopped_suspected_after = at - stopped;
        say(
            out,
            format!(
                "   node 1 suspected after {}",
                secs(report.stopped_suspected_after)
            ),
        );
        for (at, line) in output.collect(NODE_STOP.saturating_sub(stopped.elapsed())) {
            let w: Vec<&str> = line.split_whitespace().collect();
            if is_transition(&w, 1, "dead") {
                report.stopped_declared_dead = true;
                say_at(
                    out,
                    at,
                    format!("   node 1 declared dead after {}", secs(at - stopped)),
                );
            } else if line.starts_with("transition") {
                return Err(format!("unexpected while node 1 is stopped: {line}"));
            }
        }
        signal(node1, Signal::SIGCONT)?;
        let continued = Instant::now();
        say(out, "   SIGCONT node 1".into());
        let (at, _) = output.wait(Duration::from_secs(5), "trust in the continued node", |w| {
            is_transition(w, 1, "alive")
        })?;
        report.stopped_trusted_after = at - continued;
        say(
            out,
            format!(
                "   node 1 trusted again {} after SIGCONT",
                secs(report.stopped_trusted_after)
            ),
        );

        // 2. A node killed.
        let (mut node2, stdin2) = kids.nodes.remove(&2).ok_or("no node 2")?;
        node2.kill().map_err(|e| format!("SIGKILL: {e}"))?;
        let killed = Instant::now();
        let _ = node2.wait();
        drop(stdin2);
        say(out, "2. SIGKILL node 2".into());
        let (at, _) = output.wait(
            Duration::from_secs(10),
            "suspicion of the killed node",
            |w| is_transition(w, 2, "suspect") || is_transition(w, 2, "dead"),
        )?;
        report.killed_suspected_after = at - killed;
        say(
            out,
            format!(
                "   node 2 suspected after {}",
                secs(report.killed_suspected_after)
            ),
        );
        let (at, _) = output.wait(Duration::from_secs(15), "death of the killed node", |w| {
            is_transition(w, 2, "dead")
        })?;
        report.killed_dead_after = at - killed;
        say(
            out,
            format!(
                "   node 2 declared dead after {}",
                secs(report.killed_dead_after)
            ),
        );

        // 3. The monitor stopped.
        let monitor = &kids.monitor.as_ref().ok_or("no monitor")?.0;
        signal(monitor, Signal::SIGSTOP)?;
        say(
            out,
            format!("3. SIGSTOP the monitor for {}", secs(MONITOR_STOP)),
        );
        std::thread::sleep(MONITOR_STOP);
        signal(monitor, Signal::SIGCONT)?;
        say(out, "   SIGCONT the monitor".into());
        let mut stall = None;
        for (at, line) in output.collect(AFTER_MONITOR_STOP) {
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.first() == Some(&"stall") && w.len() >= 3 {
                let d = Duration::from_nanos(w[1].parse().unwrap_or(0));
                let h = Duration::from_nanos(w[2].parse().unwrap_or(0));
                if d >= MONITOR_STOP / 2 && stall.is_none() {
                    stall = Some((d, h));
                    say_at(
                        out,
                        at,
                        format!(
                            "   the monitor noticed its own stall of {}; holding suspicions for {}",
                            secs(d),
                            secs(h)
                        ),
                    );
                }
            } else if w.first() == Some(&"transition") {
                say_at(out, at, format!("   {line}"));
                if w.len() >= 4 && (w[3] == "suspect" || w[3] == "dead") && w[1] != "2" {
                    report.healthy_suspected += 1;
                }
            }
        }
        let (d, h) = stall.ok_or("the monitor did not notice its stall")?;
        report.monitor_stall = d;
        report.monitor_hold = h;
        say(
            out,
            format!(
                "   healthy nodes suspected in the {} after: {}",
                secs(AFTER_MONITOR_STOP),
                report.healthy_suspected
            ),
        );
        if report.healthy_suspected > 0 {
            return Err("a healthy node was suspected after the monitor's stall".into());
        }

        // 4. Bad datagrams.
        let stats_before = ask_stats(&mut kids, &mut output)?;
        let socket = UdpSocket::bind("127.0.0.1:0").map_err(|e| e.to_string())?;
        let bad = bad_datagrams(&key);
        say(
            out,
            format!(
                "4. {} bad datagrams at the monitor: {} forged or tampered, {} untagged, {} \
                 replayed, {} malformed",
                bad.forged.len() + bad.untagged.len() + bad.replayed.len() + bad.malformed.len(),
                bad.forged.len(),
                bad.untagged.len(),
                bad.replayed.len(),
                bad.malformed.len()
            ),
        );
        let attack = Instant::now();
        let mut sent = 0;
        for d in bad
            .forged
            .iter()
            .chain(&bad.untagged)
            .chain(&bad.replayed)
            .chain(&bad.malformed)
        {
            socket
                .send_to(d, address)
                .map_err(|e| format!("sending a {}-byte datagram: {e}", d.len()))?;
            sent += 1;
            if sent % 8 == 0 {
                // Paced, so that the monitor's socket buffer never overflows.
                std::thread::sleep(Duration::from_millis(2));
            }
        }
        let expect = |name: &str, n: usize| stats_before.get(name).copied().unwrap_or(0) + n as u64;
        let want = [
            ("forged", expect("forged", bad.forged.len())),
            ("untagged", expect("untagged", bad.untagged.len())),
            ("replayed", expect("replayed", bad.replayed.len())),
            ("malformed", expect("malformed", bad.malformed.len())),
        ];
        let mut stats_after = HashMap::new();
        let settle = Instant::now() + Duration::from_secs(5);
        while Instant::now() < settle {
            std::thread::sleep(Duration::from_millis(250));
            stats_after = ask_stats(&mut kids, &mut output)?;
            if want.iter().all(|(k, v)| stats_after.get(*k) >= Some(v)) {
                break;
            }
        }
        let delta = |name: &str| {
            let before = stats_before.get(name).copied().unwrap_or(0);
            stats_after
                .get(name)
                .copied()
                .unwrap_or(0)
                .saturating_sub(before)
        };
        report.forged_sent = bad.forged.len() as u64;
        report.forged_refused = delta("forged");
        report.untagged_sent = bad.untagged.len() as u64;
        report.untagged_refused = delta("untagged");
        report.replayed_sent = bad.replayed.len() as u64;
        report.replayed_ignored = delta("replayed");
        report.malformed_sent = bad.malformed.len() as u64;
        report.malformed_refused = delta("malformed");
        report.peers_after = stats_after.get("peers").copied().unwrap_or(0);
        // Any level change from the first bad datagram to a second after the counts settled.
        output.collect(Duration::from_secs(1));
        let changes: Vec<&String> = output
            .log
            .iter()
            .filter(|(at, l)| *at >= attack && l.starts_with("transition"))
            .map(|(_, l)| l)
            .collect();
        report.verdicts_changed = changes.len();
        say(
            out,
            format!(
                "   refused: forged or tampered {}, untagged {}, malformed {}; replays ignored {}; \
                 verdicts changed: {}",
                report.forged_refused,
                report.untagged_refused,
                report.malformed_refused,
                report.replayed_ignored,
                report.verdicts_changed
            ),
        );
        for (k, v) in want {
            let got = stats_after.get(k).copied().unwrap_or(0);
            if got != v {
                return Err(format!("the monitor counted {k} = {got}, expected {v}"));
            }
        }
        if report.verdicts_changed > 0 || report.peers_after != NODES.len() as u64 {
            return Err(format!(
                "bad datagrams changed something: {changes:?}, {} peers",
                report.peers_after
            ));
        }
        let levels = peer_levels(&output);
        for (id, want) in [(1, "alive"), (2, "dead"), (3, "alive"), (4, "alive")] {
            if levels.get(&id).map(String::as_str) != Some(want) {
                return Err(format!(
                    "node {id} is {:?}, expected {want}",
                    levels.get(&id)
                ));
            }
        }
        report.rtt_samples = [1, 3, 4]
            .iter()
            .map(|&id| (id, rtt_samples(&output, id)))
            .collect();

        // Graceful end: the monitor exits when its input closes.
        let (mut monitor, stdin) = kids.monitor.take().ok_or("no monitor")?;
        drop(stdin);
        output.wait(Duration::from_secs(5), "the monitor's goodbye", |w| {
            w.first() == Some(&"bye")
        })?;
        let _ = monitor.wait();
        report.total = started.elapsed();
        Ok(report)
    }

    /// Asks the monitor for its counters and levels.
    fn ask_stats(kids: &mut Children, output: &mut Output) -> Result<HashMap<String, u64>, String> {
        let (_, stdin) = kids.monitor.as_mut().ok_or("no monitor")?;
        writeln!(stdin, "stats").map_err(|e| e.to_string())?;
        let (_, line) = output.wait(Duration::from_secs(5), "stats", |w| {
            w.first() == Some(&"stats")
        })?;
        output.wait(Duration::from_secs(5), "end of stats", |w| {
            w.first() == Some(&"end")
        })?;
        Ok(counters(&line))
    }

    /// The levels in the latest `peer` lines.
    fn peer_levels(output: &Output) -> HashMap<u64, String> {
        let mut levels = HashMap::new();
        for (_, line) in &output.log {
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.len() >= 3
                && w[0] == "peer"
                && let Ok(id) = w[1].parse()
            {
                levels.insert(id, w[2].to_string());
            }
        }
        levels
    }

    /// A `key=value` field of the latest `peer` line of `id`.
    fn peer_field(output: &Output, id: u64, key: &str) -> String {
        let mut value = String::from("?");
        for (_, line) in &output.log {
            let w: Vec<&str> = line.split_whitespace().collect();
            if w.len() >= 3 && w[0] == "peer" && w[1] == id.to_string() {
                for kv in &w[3..] {
                    if let Some((k, v)) = kv.split_once('=')
                        && k == key
                    {
                        value = v.to_string();
                    }
                }
            }
        }
        value
    }

    fn rtt_samples(output: &Output, id: u64) -> u64 {
        peer_field(output, id, "rtt_samples").parse().unwrap_or(0)
    }

    struct Bad {
        forged: Vec<Vec<u8>>,
        untagged: Vec<Vec<u8>>,
        replayed: Vec<Vec<u8>>,
        malformed: Vec<Vec<u8>>,
    }

    /// The attack: heartbeats that would keep the dead node 2 alive (or add a node 99),
    /// forged with another key, tampered with, untagged, or replayed with old sequence
    /// numbers; and malformed datagrams of every kind of wrongness and length.
    fn bad_datagrams(key: &Key) -> Bad {
        let wrong = Key::new(b"not the cluster's key, a guess").ok();
        let beat = |sender, seq| Message {
            kind: Kind::Heartbeat,
            sender,
            seq,
            timestamp: Nanos::from_secs(1),
        };
        let far = u64::MAX / 2;
        let mut forged = Vec::new();
        for i in 0..40 {
            let sender = if i % 4 == 3 { 99 } else { 2 };
            forged.push(
                beat(sender, far + i)
                    .encode(wrong.as_ref())
                    .as_bytes()
                    .to_vec(),
            );
            // Tampered: genuinely tagged, then its sender or sequence number changed.
            let mut t = beat(1, 0).encode(Some(key)).as_bytes().to_vec();
            t[3 + (i as usize % 16)] ^= 0x5a;
            forged.push(t);
        }
        let untagged = (0..40)
            .map(|i| beat(2, far + i).encode(None).as_bytes().to_vec())
            .collect();
        // Genuine tags, sequence numbers below the nodes' (which start at the wall clock).
        let replayed = (0..40)
            .map(|i| {
                beat(if i % 2 == 0 { 2 } else { 3 }, i)
                    .encode(Some(key))
                    .as_bytes()
                    .to_vec()
            })
            .collect();
        let genuine = beat(2, far).encode(Some(key)).as_bytes().to_vec();
        let mut malformed: Vec<Vec<u8>> = Vec::new();
        // Every length from 0 to 200 but the two valid ones: a genuine datagram cut short or
        // padded, and the same lengths of noise.
        let mut x = 0x9e37_79b9_7f4a_7c15u64;
        let mut noise = move || {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            (x >> 24) as u8
        };
        for len in 0..=200usize {
            if len == TAGGED_LEN || len == accrual::runtime::wire::HEADER_LEN {
                continue;
            }
            let mut cut: Vec<u8> = genuine.iter().copied().cycle().take(len).collect();
            if len > TAGGED_LEN {
                cut.truncate(TAGGED_LEN);
                cut.resize(len, 0);
            }
            malformed.push(cut);
            let mut n: Vec<u8> = (0..len).map(|_| noise()).collect();
            if let Some(b) = n.first_mut() {
                *b |= 0x80; // never version 1
            }
            malformed.push(n);
        }
        // The right length, one field wrong.
        for (at, value) in [
            (0, 0),
            (0, VERSION + 1),
            (0, 255),
            (1, 0),
            (1, 4),
            (1, 255),
            (2, 2),
            (2, 0x81),
        ] {
            let mut d = genuine.clone();
            d[at] = value;
            malformed.push(d);
        }
        // Large ones.
        for len in [1_000, 9_000, 65_000] {
            malformed.push((0..len).map(|i| (i % 251) as u8).collect());
        }
        Bad {
            forged,
            untagged,
            replayed,
            malformed,
        }
    }
}
