//! Real processes, real faults: the scenario of `examples/cluster.rs` (a monitor and four
//! nodes on 127.0.0.1; a node stopped and continued, a node killed, the monitor stopped,
//! forged and malformed datagrams), with its expectations checked and its timings bounded.
//!
//! This test has its own `main` (`harness = false`): it re-executes itself as the monitor and
//! the nodes. Every wait is bounded and the children are killed however the run ends.

#[cfg(unix)]
#[path = "../examples/cluster.rs"]
#[allow(dead_code)]
mod example;

#[cfg(unix)]
fn main() -> std::process::ExitCode {
    use std::process::ExitCode;
    use std::time::Duration;

    if let Some(code) = example::cluster::role_main() {
        return code;
    }
    let exe = match std::env::current_exe() {
        Ok(exe) => exe,
        Err(e) => {
            eprintln!("cannot find the test binary: {e}");
            return ExitCode::FAILURE;
        }
    };
    println!("running 1 test");
    let mut narration = Vec::new();
    let result = example::cluster::run(&exe, &mut narration);
    print!("{}", String::from_utf8_lossy(&narration));
    let report = match result {
        Ok(report) => report,
        Err(e) => {
            println!("test cluster_faults ... FAILED: {e}");
            println!("0 passed, 1 failed");
            return ExitCode::FAILURE;
        }
    };
    println!("{report}");
    // Generous bounds: the machine may be loaded. The run itself already required the stopped
    // node to be suspected within its 2 s stop, no healthy node suspected after the monitor's
    // stop, and every bad datagram counted.
    let checks = [
        (
            "the stopped node is trusted again within 3 s of SIGCONT",
            report.stopped_trusted_after < Duration::from_secs(3),
        ),
        (
            "the killed node is suspected before it is declared dead",
            report.killed_suspected_after <= report.killed_dead_after,
        ),
        (
            "the killed node is declared dead within 10 s",
            report.killed_dead_after < Duration::from_secs(10),
        ),
        (
            "the monitor measured a stall of at least 2.5 s",
            report.monitor_stall >= Duration::from_millis(2_500),
        ),
        (
            "no healthy node suspected after the monitor's stall",
            report.healthy_suspected == 0,
        ),
        (
            "every forged and tampered datagram refused",
            report.forged_refused == report.forged_sent && report.forged_sent > 0,
        ),
        (
            "every malformed datagram refused",
            report.malformed_refused == report.malformed_sent && report.malformed_sent > 0,
        ),
        (
            "every replay ignored",
            report.replayed_ignored == report.replayed_sent,
        ),
        (
            "every untagged datagram refused",
            report.untagged_refused == report.untagged_sent,
        ),
        ("no verdict changed by them", report.verdicts_changed == 0),
        (
            "the whole run within 50 s",
            report.total < Duration::from_secs(50),
        ),
    ];
    let failed: Vec<&str> = checks
        .iter()
        .filter(|(_, ok)| !ok)
        .map(|(what, _)| *what)
        .collect();
    if failed.is_empty() {
        println!("test cluster_faults ... ok");
        println!("1 passed, 0 failed");
        ExitCode::SUCCESS
    } else {
        for what in failed {
            println!("check failed: {what}");
        }
        println!("test cluster_faults ... FAILED");
        println!("0 passed, 1 failed");
        ExitCode::FAILURE
    }
}

#[cfg(not(unix))]
fn main() {
    println!("the cluster test sends Unix signals: skipped on this platform");
}
