//! Request outcomes as evidence: passive ejection, probation, the cap, the level the pool
//! sees, and the lock-free answers of a `Backend`, on a `ManualClock`.

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::task::{Context, Poll, Wake, Waker};

use accrual::monitor::{Admission, EjectionConfig, FailureClass, Monitor, MonitorConfig, Outcome};
use accrual::{ConfigError, Level, ManualClock, Nanos};

const OK: Outcome = Outcome::Success {
    latency: Nanos::from_millis(2),
};
const GATEWAY: Outcome = Outcome::Failed {
    class: FailureClass::Gateway,
    latency: Nanos::from_millis(1),
};

fn monitor(cfg: MonitorConfig) -> (ManualClock, Arc<Monitor<&'static str, ManualClock>>) {
    let clock = ManualClock::new(Nanos::from_secs(100));
    let m = Arc::new(Monitor::with_clock(cfg, clock.clone()).unwrap());
    (clock, m)
}

/// `n` ticks of 100 ms.
fn ticks(clock: &ManualClock, m: &Monitor<&'static str, ManualClock>, n: usize) {
    for _ in 0..n {
        clock.advance(Nanos::from_millis(100));
        m.tick(m.now());
    }
}

#[test]
fn consecutive_gateway_failures_eject_at_once_and_a_success_breaks_the_run() {
    let (_, m) = monitor(MonitorConfig::default());
    for b in ["a", "b", "c"] {
        m.record_outcome(&b, OK).unwrap();
    }
    // Two failures, a success, two failures: no run of three.
    for o in [GATEWAY, Outcome::Refused, OK, GATEWAY, Outcome::Refused] {
        m.record_outcome(&"a", o).unwrap();
    }
    assert_eq!(m.admission(&"a"), Some(Admission::Admitted));
    // A server error is not a gateway failure; a client error is the request's fault.
    for class in [FailureClass::Server, FailureClass::Client] {
        let o = Outcome::Failed {
            class,
            latency: Nanos::from_millis(1),
        };
        m.record_outcome(&"b", o).unwrap();
        m.record_outcome(&"b", o).unwrap();
        m.record_outcome(&"b", o).unwrap();
        assert_eq!(m.admission(&"b"), Some(Admission::Admitted), "{class:?}");
    }
    // A timeout is one.
    m.record_outcome(
        &"a",
        Outcome::TimedOut {
            waited: Nanos::from_secs(1),
        },
    )
    .unwrap();
    assert_eq!(m.admission(&"a"), Some(Admission::Ejected));
}

#[test]
fn an_ejected_backend_is_tried_once_on_probation_and_ejections_back_off() {
    let (clock, m) = monitor(MonitorConfig::default());
    for b in ["a", "b", "c"] {
        m.record_outcome(&b, OK).unwrap();
    }
    let a = m.backend(&"a").unwrap();
    for _ in 0..3 {
        m.record_outcome(&"a", Outcome::Refused).unwrap();
    }
    assert_eq!(a.admission(), Admission::Ejected);
    assert!(!a.try_acquire());
    // The first ejection lasts 1 s: still out after 0.9 s, on probation after 1 s.
    ticks(&clock, &m, 9);
    assert_eq!(a.admission(), Admission::Ejected);
    ticks(&clock, &m, 1);
    assert_eq!(a.admission(), Admission::Probation);
    // One trial request at a time.
    assert!(a.try_acquire());
    assert!(!a.try_acquire());
    // It fails: ejected again, for 2 s.
    m.record_outcome(&"a", Outcome::Refused).unwrap();
    assert_eq!(a.admission(), Admission::Ejected);
    ticks(&clock, &m, 19);
    assert_eq!(a.admission(), Admission::Ejected);
    ticks(&clock, &m, 1);
    assert_eq!(a.admission(), Admission::Probation);
    // A cancelled trial frees the trial; a successful one readmits.
    assert!(a.try_acquire());
    m.record_outcome(
        &"a",
        Outcome::Cancelled {
            waited: Nanos::from_millis(5),
        },
    )
    .unwrap();
    assert_eq!(a.admission(), Admission::Probation);
    assert!(a.try_acquire());
    m.record_outcome(&"a", OK).unwrap();
    assert_eq!(a.admission(), Admission::Admitted);
    assert!(a.try_acquire() && a.try_acquire());
}

#[test]
fn an_outlier_success_rate_is_ejected_at_the_interval() {
    let (clock, m) = monitor(MonitorConfig::default());
    let backends = ["a", "b", "c", "d", "e"];
    ticks(&clock, &m, 1);
    for i in 0..100 {
        for b in backends {
            // "c" fails every other request with a server error, never twice in a row
            // through the gateway.
            let o = if b == "c" && i % 2 == 0 {
                Outcome::Failed {
                    class: FailureClass::Server,
                    latency: Nanos::from_millis(1),
                }
            } else {
                OK
            };
            m.record_outcome(&b, o).unwrap();
        }
    }
    assert_eq!(m.admission(&"c"), Some(Admission::Admitted));
    // The interval (1 s) ends: "c" is judged an outlier.
    ticks(&clock, &m, 10);
    for b in backends {
        let want = if b == "c" {
            Admission::Ejected
        } else {
            Admission::Admitted
        };
        assert_eq!(m.admission(&b), Some(want), "{b}");
    }
    // Turned off, nobody is.
    let cfg = MonitorConfig {
        ejection: EjectionConfig {
            success_rate_stdev_factor: 0.0,
            ..Default::default()
        },
        ..Default::default()
    };
    let (clock, m) = monitor(cfg);
    ticks(&clock, &m, 1);
    for i in 0..100 {
        for b in backends {
            let o = if b == "c" && i % 2 == 0 {
                Outcome::Failed {
                    class: FailureClass::Server,
                    latency: Nanos::from_millis(1),
                }
            } else {
                OK
            };
            m.record_outcome(&b, o).unwrap();
        }
    }
    ticks(&clock, &m, 10);
    assert_eq!(m.admission(&"c"), Some(Admission::Admitted));
}

#[test]
fn the_ejection_cap_fails_open() {
    // Two backends, at most half out: the second to fail stays admitted.
    let (_, m) = monitor(MonitorConfig::default());
    m.record_outcome(&"a", OK).unwrap();
    m.record_outcome(&"b", OK).unwrap();
    for _ in 0..3 {
        m.record_outcome(&"a", Outcome::Refused).unwrap();
        m.record_outcome(&"b", Outcome::Refused).unwrap();
    }
    assert_eq!(m.admission(&"a"), Some(Admission::Ejected));
    for _ in 0..10 {
        m.record_outcome(&"b", Outcome::Refused).unwrap();
    }
    assert_eq!(m.admission(&"b"), Some(Admission::Admitted));
    // Removing the ejected one frees its place in the cap.
    m.record_outcome(&"c", OK).unwrap();
    m.record_outcome(&"d", OK).unwrap();
    assert!(m.remove(&"a"));
    for _ in 0..3 {
        m.record_outcome(&"b", Outcome::Refused).unwrap();
    }
    assert_eq!(m.admission(&"b"), Some(Admission::Ejected));
}

#[test]
fn an_ejected_backend_is_suspect_until_readmitted() {
    let (clock, m) = monitor(MonitorConfig::default());
    for _ in 0..20 {
        for b in ["a", "b", "c"] {
            m.heartbeat(&b).unwrap();
            m.record_outcome(&b, OK).unwrap();
        }
        ticks(&clock, &m, 1);
    }
    assert_eq!(m.level(&"a"), Some(Level::Alive));
    for _ in 0..3 {
        m.record_outcome(&"a", Outcome::Refused).unwrap();
    }
    // Heartbeats go on: the outcomes alone make it a suspect.
    for b in ["a", "b", "c"] {
        m.heartbeat(&b).unwrap();
    }
    ticks(&clock, &m, 1);
    assert_eq!(m.level(&"a"), Some(Level::Suspect));
    for _ in 0..10 {
        for b in ["a", "b", "c"] {
            m.heartbeat(&b).unwrap();
        }
        ticks(&clock, &m, 1);
    }
    assert_eq!(m.admission(&"a"), Some(Admission::Probation));
    assert_eq!(m.level(&"a"), Some(Level::Suspect));
    m.record_outcome(&"a", OK).unwrap();
    m.heartbeat(&"a").unwrap();
    ticks(&clock, &m, 1);
    assert_eq!(m.level(&"a"), Some(Level::Alive));
}

#[test]
fn a_cancelled_request_is_a_lower_bound_never_a_timeout() {
    let (clock, m) = monitor(MonitorConfig::default());
    for _ in 0..200 {
        m.record_outcome(&"a", OK).unwrap();
    }
    let before = m.stats(&"a").unwrap().timeouts.unwrap();
    let timeout = m.request_timeout(&"a");
    // A hedged request that lost: its guard is dropped after 50 ms.
    let guard = m.start_request(&"a").unwrap();
    clock.advance(Nanos::from_millis(50));
    drop(guard);
    let after = m.stats(&"a").unwrap().timeouts.unwrap();
    assert_eq!(
        (after.samples, after.timeouts),
        (before.samples, before.timeouts)
    );
    assert_eq!(m.request_timeout(&"a"), timeout);
    // A guard told of a timeout records one.
    let guard = m.start_request(&"a").unwrap();
    clock.advance(timeout);
    guard.timed_out();
    assert_eq!(m.stats(&"a").unwrap().timeouts.unwrap().timeouts, 1);
    assert!(m.request_timeout(&"a") > timeout);
}

#[test]
fn a_backend_handle_reads_fresh_answers_and_wakes_on_readmission() {
    struct Count(AtomicUsize);
    impl Wake for Count {
        fn wake(self: Arc<Self>) {
            self.0.fetch_add(1, Ordering::SeqCst);
        }
    }
    let (clock, m) = monitor(MonitorConfig::default());
    for b in ["a", "b", "c"] {
        m.record_outcome(&b, OK).unwrap();
    }
    let a = m.backend(&"a").unwrap();
    for _ in 0..5_000 {
        m.record_outcome(
            &"a",
            Outcome::Success {
                latency: Nanos::from_millis(20),
            },
        )
        .unwrap();
    }
    // The handle's answer is the monitor's, without asking the monitor.
    assert_eq!(a.request_timeout(), m.request_timeout(&"a"));
    assert!(a.request_timeout() < Nanos::from_secs(1));
    ticks(&clock, &m, 1);
    assert_eq!(a.hedge_delay(), m.hedge_delay(&"a"));
    assert!(a.hedge_delay() >= Nanos::from_millis(20) && a.hedge_delay() < Nanos::from_millis(40));

    let count = Arc::new(Count(AtomicUsize::new(0)));
    let waker = Waker::from(Arc::clone(&count));
    let mut cx = Context::from_waker(&waker);
    assert_eq!(a.poll_ready(&mut cx), Poll::Ready(()));
    for _ in 0..3 {
        m.record_outcome(&"a", Outcome::Refused).unwrap();
    }
    assert_eq!(a.poll_ready(&mut cx), Poll::Pending);
    assert_eq!(a.poll_ready(&mut cx), Poll::Pending);
    ticks(&clock, &m, 5);
    assert_eq!(count.0.load(Ordering::SeqCst), 0);
    ticks(&clock, &m, 5);
    // Woken once (the waker was registered once), and ready for the trial.
    assert_eq!(count.0.load(Ordering::SeqCst), 1);
    assert_eq!(a.poll_ready(&mut cx), Poll::Ready(()));
    // While the trial is out, others wait; a cancelled trial wakes them, and so does a
    // successful one.
    assert!(a.try_acquire());
    assert_eq!(a.poll_ready(&mut cx), Poll::Pending);
    m.record_outcome(
        &"a",
        Outcome::Cancelled {
            waited: Nanos::from_millis(1),
        },
    )
    .unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 2);
    assert!(a.try_acquire());
    assert_eq!(a.poll_ready(&mut cx), Poll::Pending);
    m.record_outcome(&"a", OK).unwrap();
    assert_eq!(count.0.load(Ordering::SeqCst), 3);
    assert_eq!(a.poll_ready(&mut cx), Poll::Ready(()));
}

#[test]
fn every_ejection_rule_names_its_field() {
    let bad = [
        (
            EjectionConfig {
                success_rate_stdev_factor: f64::NAN,
                ..Default::default()
            },
            "ejection.success_rate_stdev_factor",
        ),
        (
            EjectionConfig {
                success_rate_min_requests: 0,
                ..Default::default()
            },
            "ejection.success_rate_min_requests",
        ),
        (
            EjectionConfig {
                success_rate_min_backends: 1,
                ..Default::default()
            },
            "ejection.success_rate_min_backends",
        ),
        (
            EjectionConfig {
                interval: Nanos::ZERO,
                ..Default::default()
            },
            "ejection.interval",
        ),
        (
            EjectionConfig {
                base_ejection: Nanos::ZERO,
                ..Default::default()
            },
            "ejection.base_ejection",
        ),
        (
            EjectionConfig {
                max_ejection: Nanos::from_millis(10),
                ..Default::default()
            },
            "ejection.base_ejection",
        ),
    ];
    for (cfg, field) in bad {
        let err = MonitorConfig {
            ejection: cfg.clone(),
            ..Default::default()
        }
        .validate()
        .unwrap_err();
        assert!(err.to_string().contains(field), "{cfg:?}: {err}");
        assert!(!matches!(err, ConfigError::ZeroCount { field: "x" }));
    }
}

/// A backend ejected by its outcomes whose heartbeats have also stopped (killed, stopped) is
/// not put on probation when its ejection runs out: its trial would only fail. It is at the
/// tick after its next heartbeat.
#[test]
fn a_backend_with_late_heartbeats_waits_out_its_ejection() {
    let (clock, m) = monitor(MonitorConfig::default());
    for _ in 0..50 {
        for b in ["a", "b", "c"] {
            m.heartbeat(&b).unwrap();
            m.record_outcome(&b, OK).unwrap();
        }
        ticks(&clock, &m, 1);
    }
    for _ in 0..3 {
        m.record_outcome(&"a", Outcome::Refused).unwrap();
    }
    // "a" is silent from now on; the others beat. Its 1 s ejection runs out; it stays out.
    for _ in 0..30 {
        for b in ["b", "c"] {
            m.heartbeat(&b).unwrap();
        }
        ticks(&clock, &m, 1);
    }
    assert_eq!(m.admission(&"a"), Some(Admission::Ejected));
    // Its heartbeats resume: on probation at the next tick.
    m.heartbeat(&"a").unwrap();
    ticks(&clock, &m, 1);
    assert_eq!(m.admission(&"a"), Some(Admission::Probation));
}

/// An unanswered probe or request is not hearing from the peer: a peer silent since its last
/// heartbeat expires `expire_after` after it, however many probes time out meanwhile, and a
/// probe that times out after the expiry does not bring it back.
#[test]
fn unanswered_probes_and_requests_do_not_keep_a_silent_peer() {
    for unanswered in ["probe", "request"] {
        let cfg = MonitorConfig {
            expire_after: Some(Nanos::from_secs(5)),
            max_dead_fraction: 1.0,
            ..Default::default()
        };
        let (clock, m) = monitor(cfg);
        for _ in 0..20 {
            clock.advance(Nanos::from_millis(100));
            m.heartbeat(&"a").unwrap();
            m.tick(m.now());
        }
        // Silent from here on. A prober pings every held peer each second; each ping times
        // out a second later, possibly after the peer was dropped.
        let last_heard = m.now();
        let mut expired_at = None;
        let mut outstanding = false;
        for step in 1..600u64 {
            clock.advance(Nanos::from_millis(100));
            let now = m.now();
            if step % 10 == 0 {
                if outstanding {
                    match unanswered {
                        "probe" => {
                            let _ = m.record_probe(&"a", None);
                        }
                        _ => {
                            if m.contains(&"a") {
                                m.record_timeout(&"a", Nanos::from_secs(1)).unwrap();
                            }
                        }
                    }
                }
                outstanding = m.contains(&"a");
            }
            let e = m.tick(now);
            if e.expired.contains(&"a") {
                assert!(expired_at.is_none(), "{unanswered}: expired twice");
                expired_at = Some(now);
            }
        }
        let at = expired_at.unwrap_or_else(|| panic!("{unanswered}: never expired"));
        assert!(
            at - last_heard <= Nanos::from_millis(5_200),
            "{unanswered}: expired {:?} after it was last heard",
            at - last_heard
        );
        assert!(!m.contains(&"a"), "{unanswered}: brought back");
    }
}
