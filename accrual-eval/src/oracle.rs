//! Fixed per-group thresholds chosen with hindsight, for the oracles of `qos-spec.md` §5 and §6.

/// The assignment a hindsight search chose.
pub(crate) struct Hindsight {
    /// Values above their group's threshold, in all.
    pub(crate) misses: u64,
    /// `Σ weight · threshold`.
    pub(crate) cost: f64,
    /// Each group's threshold.
    pub(crate) choices: Vec<u64>,
}

/// For each group `(weight, values sorted ascending)`, a threshold `T` (one of its values, or
/// 0 for a group without values) costs `weight · T` and misses the values above `T`. Returns
/// the total misses and cost of the assignment that a Lagrangian search finds with at most
/// `allowed` misses: for a price λ per miss each group minimises its own `weight·T + λ·misses`,
/// and λ is bisected to the smallest price that meets the budget. The result lies on the lower
/// convex hull of the trade-off, so no assignment on that hull does better. `None` only if the
/// budget cannot be met at any price (never, as `T` = the largest value misses nothing).
pub(crate) fn hindsight(groups: &[(f64, Vec<u64>)], allowed: u64) -> Option<Hindsight> {
    let choose = |lambda: f64| -> Hindsight {
        let mut h = Hindsight {
            misses: 0,
            cost: 0.0,
            choices: Vec::with_capacity(groups.len()),
        };
        for (weight, values) in groups {
            let m = values.len();
            if m == 0 {
                h.choices.push(0);
                continue;
            }
            let (mut best, mut pick) = (f64::INFINITY, (0u64, 0f64, 0u64));
            for (i, &t) in values.iter().enumerate() {
                if i + 1 < m && values[i + 1] == t {
                    continue; // the last of equal values misses fewest
                }
                let missed = (m - 1 - i) as u64;
                let c = weight * t as f64 + lambda * missed as f64;
                if c < best {
                    best = c;
                    pick = (missed, weight * t as f64, t);
                }
            }
            h.misses += pick.0;
            h.cost += pick.1;
            h.choices.push(pick.2);
        }
        h
    };
    let (mut lo, mut hi) = (0.0f64, 1.0f64);
    while choose(hi).misses > allowed {
        hi *= 2.0;
        if hi > 1e60 {
            return None;
        }
    }
    for _ in 0..200 {
        let mid = 0.5 * (lo + hi);
        if mid <= lo || mid >= hi {
            break;
        }
        if choose(mid).misses > allowed {
            lo = mid;
        } else {
            hi = mid;
        }
    }
    Some(choose(hi))
}
