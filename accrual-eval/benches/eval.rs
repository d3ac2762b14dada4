//! The evaluation pipeline: reading a heartbeat trace of a million rows, and replaying it.

use std::hint::black_box;

use accrual::Nanos;
use accrual_eval::hb_gen::{Scenario, generate};
use accrual_eval::run::replay;
use accrual_eval::{DetectorSpec, HeartbeatTrace, score};
use criterion::{Criterion, Throughput, criterion_group, criterion_main};

fn read_and_replay(c: &mut Criterion) {
    // 100 peers × 1000 s of 100 ms heartbeats: about a million rows.
    let trace = generate(Scenario::Mixed, 1, 100, Nanos::from_secs(1_000));
    let rows = trace.rows() as u64;
    let mut bytes = Vec::new();
    trace.write(&mut bytes).unwrap();
    let mut group = c.benchmark_group("trace");
    group.sample_size(10);
    group.throughput(Throughput::Elements(rows));
    group.bench_function("read_1m_rows", |b| {
        b.iter(|| HeartbeatTrace::parse(black_box(&bytes[..]), "bench").unwrap())
    });
    for spec in [
        "fixed:timeout=1s",
        "phi-normal:threshold=8",
        "default:threshold=20",
    ] {
        let spec: DetectorSpec = spec.parse().unwrap();
        group.bench_function(format!("replay_score/{}", spec.family), |b| {
            b.iter(|| score(&replay(&trace, &spec).unwrap(), 0, &trace.ticks))
        });
    }
    group.finish();
}

criterion_group!(benches, read_and_replay);
criterion_main!(benches);
