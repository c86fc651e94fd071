//! Tests of the GP strategy as a whole: the strategy contract, settings
//! validation, convergence on small problems, and (ignored by default)
//! the benchmark runs behind the numbers in the report.

use super::super::random::Random;
use super::super::{contract, Observation, Spec};
use super::*;
use crate::objective::function::{self, Function};
use crate::space::ParamWire;
use crate::value::Value;
use std::collections::BTreeMap;

#[test]
fn contract() {
    contract::check(Spec::Gp(GpSettings::default()));
}

#[test]
fn contract_constant_liar() {
    contract::check(Spec::Gp(GpSettings {
        pending: Pending::ConstantLiar,
        ..GpSettings::default()
    }));
}

fn settings(src: &str) -> Result<GpSettings, String> {
    let v: toml::Value = toml::from_str(src).unwrap();
    GpSettings::from_toml(Some(&v))
}

#[test]
fn absent_table_gives_defaults() {
    let s = GpSettings::from_toml(None).unwrap();
    assert_eq!(s, GpSettings::default());
    assert_eq!(s.n_startup, 10);
    assert_eq!(s.pending, Pending::KrigingBeliever);
}

#[test]
fn settings_are_read() {
    let s = settings("n_startup = 5\npending = 'constant_liar'\njitter = 1e-8").unwrap();
    assert_eq!(s.n_startup, 5);
    assert_eq!(s.pending, Pending::ConstantLiar);
    assert_eq!(s.jitter, 1e-8);
    assert_eq!(s.n_restarts, 4);
}

#[test]
fn unknown_key_rejected() {
    assert!(settings("n_start = 5").unwrap_err().contains("n_start"));
}

#[test]
fn unknown_pending_rejected() {
    assert!(settings("pending = 'liar'").is_err());
}

#[test]
fn n_startup_cannot_be_zero() {
    let e = settings("n_startup = 0").unwrap_err();
    assert!(e.contains("n_startup must be between 1"), "{e}");
}

#[test]
fn n_restarts_range() {
    assert!(settings("n_restarts = 0").is_err());
    assert!(settings("n_restarts = 65").is_err());
    assert!(settings("n_restarts = 64").is_ok());
}

#[test]
fn acquisition_counts_range() {
    assert!(settings("n_acq_starts = 0").is_err());
    assert!(settings("n_sweep = 0").is_err());
    assert!(settings("acq_iters = 0").is_err());
    assert!(settings("fit_iters = 0").is_err());
    assert!(settings("fit_points = 7").is_err());
}

#[test]
fn jitter_must_be_small_and_positive() {
    for bad in ["0.0", "-1e-6", "0.5", "nan"] {
        let e = settings(&format!("jitter = {bad}")).unwrap_err();
        assert!(e.contains("jitter must be in (0, 1e-2]"), "{bad}: {e}");
    }
}

#[test]
fn settings_serialise_with_stable_names() {
    let j = serde_json::to_string(&GpSettings::default()).unwrap();
    assert_eq!(
        j,
        r#"{"n_startup":10,"n_restarts":4,"fit_iters":12,"fit_points":128,"n_sweep":256,"n_acq_starts":6,"acq_iters":20,"jitter":1e-6,"pending":"kriging_believer"}"#
    );
}

/// A space of the function's reference domain.
pub(crate) fn function_space(f: Function, dim: usize) -> Space {
    let mut w = BTreeMap::new();
    for (name, d) in f.default_domain(dim) {
        let src = match d {
            function::Domain::Float { low, high, log } => {
                format!("type = 'float'\nlow = {low:?}\nhigh = {high:?}\nlog = {log}")
            }
            function::Domain::Int { low, high } => {
                format!("type = 'int'\nlow = {low}\nhigh = {high}")
            }
            function::Domain::Categorical(c) => {
                let list: Vec<String> = c.iter().map(|s| format!("'{s}'")).collect();
                format!("type = 'categorical'\nchoices = [{}]", list.join(", "))
            }
        };
        let pw: ParamWire = toml::from_str(&src).unwrap();
        w.insert(name, pw);
    }
    Space::from_wire(&w).unwrap()
}

/// Best regret after `n` sequential trials (window `w`) of `strategy`.
pub(crate) fn run_regret(
    strategy: &dyn Strategy,
    f: Function,
    dim: usize,
    n: u64,
    w: usize,
    search_seed: u64,
) -> f64 {
    let s = function_space(f, dim);
    let mut props: Vec<Params> = Vec::new();
    let mut obs: Vec<Observation> = Vec::new();
    let mut best = f64::INFINITY;
    for i in 0..n {
        let seen = (i as usize + 1).saturating_sub(w);
        let t = Trial {
            space: &s,
            index: i,
            seed: search_seed
                .wrapping_mul(0x9E37_79B9_7F4A_7C15)
                .wrapping_add(i * 7919),
            search_seed,
        };
        let h = History {
            observed: &obs[..seen],
            pending: &props[seen..],
        };
        let p = strategy.propose(&t, &h);
        let v = f.evaluate(&p).unwrap();
        best = best.min(v);
        obs.push(Observation::new(&s, p.clone(), Some(v)));
        props.push(p);
    }
    best - f.minimum(dim)
}

fn median(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v[v.len() / 2]
}

#[test]
fn quadratic_1d_converges_near_its_minimum() {
    let w: BTreeMap<String, ParamWire> =
        toml::from_str("x = { type = 'float', low = -3.0, high = 5.0 }").unwrap();
    let s = Space::from_wire(&w).unwrap();
    let gp = Gp::new(GpSettings {
        n_startup: 4,
        ..GpSettings::default()
    });
    let mut obs: Vec<Observation> = Vec::new();
    for i in 0..16 {
        let t = Trial {
            space: &s,
            index: i,
            seed: 100 + i,
            search_seed: 5,
        };
        let p = gp.propose(
            &t,
            &History {
                observed: &obs,
                pending: &[],
            },
        );
        let x = p["x"].as_f64().unwrap();
        obs.push(Observation::new(&s, p, Some((x - 1.234) * (x - 1.234))));
    }
    let best = obs
        .iter()
        .map(|o| o.loss.unwrap())
        .fold(f64::INFINITY, f64::min);
    assert!(best < 1e-4, "best loss {best}");
}

#[test]
fn branin_beats_random_search() {
    let gp = Gp::new(GpSettings::default());
    let mut g = Vec::new();
    let mut r = Vec::new();
    for seed in [1, 2, 3] {
        g.push(run_regret(&gp, Function::Branin, 2, 60, 1, seed));
        r.push(run_regret(&Random, Function::Branin, 2, 60, 1, seed));
    }
    let (mg, mr) = (median(g.clone()), median(r.clone()));
    // Random search at 60 trials is typically ~0.1-0.5 off; the GP should
    // be within 1e-3 and at least 100 times closer.
    assert!(mg < 1e-3 && mg * 100.0 < mr, "gp {g:?} random {r:?}");
}

#[test]
fn failed_trials_are_left_out() {
    // With every other trial failed the model still proposes valid points
    // near the minimum of a quadratic.
    let w: BTreeMap<String, ParamWire> = toml::from_str(
        "x = { type = 'float', low = 0.0, high = 1.0 }\ny = { type = 'int', low = 0, high = 20 }",
    )
    .unwrap();
    let s = Space::from_wire(&w).unwrap();
    let gp = Gp::new(GpSettings {
        n_startup: 4,
        ..GpSettings::default()
    });
    let mut obs: Vec<Observation> = Vec::new();
    for i in 0..24 {
        let t = Trial {
            space: &s,
            index: i,
            seed: 7 * i + 1,
            search_seed: 9,
        };
        let p = gp.propose(
            &t,
            &History {
                observed: &obs,
                pending: &[],
            },
        );
        let x = p["x"].as_f64().unwrap();
        let y = p["y"].as_i64().unwrap() as f64;
        let loss = (i % 2 == 0).then(|| (x - 0.7).powi(2) + (y - 13.0).powi(2) / 400.0);
        obs.push(Observation::new(&s, p, loss));
    }
    let best = obs
        .iter()
        .filter_map(|o| o.loss)
        .fold(f64::INFINITY, f64::min);
    assert!(best < 2e-3, "{best}");
    assert!(obs.iter().any(|o| o.params["y"] == Value::Int(13)));
}

#[test]
fn all_equal_losses_do_not_break_the_model() {
    let w: BTreeMap<String, ParamWire> =
        toml::from_str("x = { type = 'float', low = 0.0, high = 1.0 }").unwrap();
    let s = Space::from_wire(&w).unwrap();
    let gp = Gp::new(GpSettings {
        n_startup: 3,
        ..GpSettings::default()
    });
    let obs: Vec<Observation> = (0..5)
        .map(|i| Observation::new(&s, s.from_unit(&[i as f64 / 5.0]), Some(1.0)))
        .collect();
    let t = Trial {
        space: &s,
        index: 5,
        seed: 1,
        search_seed: 1,
    };
    let p = gp.propose(
        &t,
        &History {
            observed: &obs,
            pending: &[],
        },
    );
    assert!(p["x"].as_f64().unwrap().is_finite());
}

#[test]
fn log_ei_gradient_matches_finite_differences() {
    let kern = Kernel {
        theta: vec![4.0, 0.5, 2.0],
        scale: 1.7,
        noise: 1e-4,
    };
    let x: Vec<f64> = (0..8)
        .flat_map(|i| {
            let t = i as f64 / 8.0;
            [t, (5.0 * t).sin().abs(), (1.0 - t) * t]
        })
        .collect();
    let y: Vec<f64> = (0..8).map(|i| ((i * 5) % 7) as f64 / 3.0 - 1.0).collect();
    let post = Posterior::new(kern, x, &y, -1.0, 1e-6).unwrap();
    for z in [[0.3, 0.2, 0.9], [0.55, 0.7, 0.1], [0.9, 0.05, 0.5]] {
        let (v, g) = post.log_ei(&z, true);
        assert!(v.is_finite());
        for j in 0..3 {
            let h = 1e-6;
            let mut a = z;
            let mut b = z;
            a[j] += h;
            b[j] -= h;
            let fd = (post.log_ei(&a, false).0 - post.log_ei(&b, false).0) / (2.0 * h);
            assert!(
                (g[j] - fd).abs() < 1e-5 * fd.abs().max(1.0),
                "{z:?} {j}: {} vs {fd}",
                g[j]
            );
        }
    }
}

#[test]
fn batched_sweep_matches_single_point_log_ei() {
    let kern = Kernel {
        theta: vec![3.0, 0.7],
        scale: 1.3,
        noise: 1e-4,
    };
    let x: Vec<f64> = (0..9)
        .flat_map(|i| {
            let t = i as f64 / 9.0;
            [t, (4.0 * t).cos().abs()]
        })
        .collect();
    let y: Vec<f64> = (0..9).map(|i| ((i * 4) % 5) as f64 / 2.0 - 1.0).collect();
    let post = Posterior::new(kern, x, &y, -1.0, 1e-6).unwrap();
    let zs: Vec<f64> = (0..37).map(|i| ((i * 13) % 37) as f64 / 36.0).collect();
    let zs = &zs[..36];
    let many = post.log_ei_many(zs);
    assert_eq!(many.len(), 18);
    for (v, z) in many.iter().zip(zs.chunks_exact(2)) {
        let one = post.log_ei(z, false).0;
        assert!(
            (v - one).abs() < 1e-9 * one.abs().max(1.0),
            "{z:?}: {v} vs {one}"
        );
    }
}

#[test]
fn fit_cache_never_changes_a_proposal() {
    // One object sees history A, then B (A's first 15 trials, then other
    // losses), then A again; a fresh object on each must agree.
    let s = function_space(Function::Branin, 2);
    let gp = Gp::new(GpSettings::default());
    let history = |shift: f64| -> Vec<Observation> {
        (0..24)
            .map(|i| {
                let p = s.from_unit(&[(i as f64 * 0.618) % 1.0, (i as f64 * 0.382) % 1.0]);
                let v = Function::Branin.evaluate(&p).unwrap();
                let v = if i >= 15 { v + shift } else { v };
                Observation::new(&s, p, Some(v))
            })
            .collect()
    };
    let (a, b) = (history(0.0), history(3.0));
    let t = Trial {
        space: &s,
        index: 24,
        seed: 77,
        search_seed: 5,
    };
    let prop = |g: &Gp, o: &[Observation]| {
        g.propose(
            &t,
            &History {
                observed: o,
                pending: &[],
            },
        )
    };
    let pa = prop(&gp, &a);
    let pb = prop(&gp, &b);
    assert_ne!(pa, pb);
    assert_eq!(pb, prop(&Gp::new(GpSettings::default()), &b));
    assert_eq!(pa, prop(&gp, &a));
    assert_eq!(pa, prop(&Gp::new(GpSettings::default()), &a));
    // A prefix of A (fewer trials) too.
    assert_eq!(
        prop(&gp, &a[..20]),
        prop(&Gp::new(GpSettings::default()), &a[..20])
    );
}

#[test]
fn avx2_and_baseline_acquisition_agree_bit_for_bit() {
    let kern = Kernel {
        theta: vec![3.0, 0.7, 1.5],
        scale: 1.3,
        noise: 1e-4,
    };
    let x: Vec<f64> = (0..19)
        .flat_map(|i| {
            let t = i as f64 / 19.0;
            [t, (4.0 * t).cos().abs(), (7.0 * t).sin().abs()]
        })
        .collect();
    let y: Vec<f64> = (0..19).map(|i| ((i * 4) % 5) as f64 / 2.0 - 1.0).collect();
    let post = Posterior::new(kern, x, &y, -1.0, 1e-6).unwrap();
    let zs: Vec<f64> = (0..33).map(|i| ((i * 13) % 37) as f64 / 36.0).collect();
    let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
    assert_eq!(
        bits(&post.log_ei_many(&zs)),
        bits(&post.log_ei_many_body(&zs))
    );
    for z in zs.chunks_exact(3) {
        let (v, g) = post.log_ei(z, true);
        let (vb, gb) = post.log_ei_body(z, true);
        assert_eq!(v.to_bits(), vb.to_bits());
        assert_eq!(bits(&g), bits(&gb));
    }
}

/// FNV-1a over every proposal of a sequential search (window `w`) on
/// `space` with `loss`: names, and each value's exact bits.
fn proposal_hash(
    space: &Space,
    loss: &dyn Fn(&Params) -> f64,
    n: u64,
    w: usize,
    search_seed: u64,
) -> u64 {
    let gp = Gp::new(GpSettings::default());
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    let mut eat = |bytes: &[u8]| {
        for b in bytes {
            h ^= u64::from(*b);
            h = h.wrapping_mul(0x0100_0000_01b3);
        }
    };
    let mut props: Vec<Params> = Vec::new();
    let mut obs: Vec<Observation> = Vec::new();
    for i in 0..n {
        let seen = (i as usize + 1).saturating_sub(w);
        let t = Trial {
            space,
            index: i,
            seed: search_seed.wrapping_mul(31).wrapping_add(i * 7919),
            search_seed,
        };
        let p = gp.propose(
            &t,
            &History {
                observed: &obs[..seen],
                pending: &props[seen..],
            },
        );
        for (k, v) in &p {
            eat(k.as_bytes());
            match v {
                Value::Float(f) => eat(&f.to_bits().to_le_bytes()),
                Value::Int(x) => eat(&x.to_le_bytes()),
                Value::Str(s) => eat(s.as_bytes()),
                Value::Bool(b) => eat(&[u8::from(*b)]),
            }
        }
        obs.push(Observation::new(space, p.clone(), Some(loss(&p))));
        props.push(p);
    }
    h
}

/// Beyond `fit_points`, the chain refits only when `m - fit_points` is
/// even: the link for one trial more keeps the previous hyperparameters,
/// the link for two more is a new fit (and a fresh object, as on a resume,
/// gets the same bits).
#[test]
fn beyond_fit_points_the_chain_refits_every_second_trial() {
    let d = 2;
    let mut rng = seed::stream(5, "refit-test");
    let x: Vec<f64> = (0..24 * d).map(|_| unit(&mut rng)).collect();
    let loss: Vec<f64> = x
        .chunks_exact(d)
        .map(|p| (p[0] - 0.3).powi(2) + 2.0 * (p[1] - 0.6).powi(2))
        .collect();
    let gp = || {
        Gp::new(GpSettings {
            n_startup: 5,
            fit_points: 16,
            ..GpSettings::default()
        })
    };
    let fit = |g: &Gp, m: usize| g.fitted(&x[..m * d], &loss[..m], d, 9);
    let g = gp();
    let (at16, at17, at18) = (fit(&g, 16), fit(&g, 17), fit(&g, 18));
    let bits = |v: &[f64]| v.iter().map(|e| e.to_bits()).collect::<Vec<_>>();
    assert_eq!(bits(&at17), bits(&at16));
    assert_ne!(bits(&at18), bits(&at17));
    // Below fit_points every link is a fit of its own.
    assert_ne!(bits(&fit(&g, 15)), bits(&fit(&g, 14)));
    assert_eq!(bits(&fit(&gp(), 18)), bits(&at18));
    assert_eq!(bits(&fit(&gp(), 17)), bits(&at16));
}

/// Pins the exact proposals (hashed) of searches long enough to use the
/// fit's subset (past `fit_points` = 128 successes): any change to the
/// arithmetic, even in the last bit, changes a hash. Speed work must keep
/// these values.
#[test]
fn proposals_are_pinned_bit_for_bit() {
    let s = function_space(Function::Hartmann6, 6);
    let f = |p: &Params| Function::Hartmann6.evaluate(p).unwrap();
    let w1 = proposal_hash(&s, &f, 220, 1, 11);
    let w4 = proposal_hash(&s, &f, 140, 4, 12);
    let wire: BTreeMap<String, ParamWire> = toml::from_str(
        "a = { type = 'float', low = -2.0, high = 3.0 }\n\
         b = { type = 'float', low = 1e-3, high = 10.0, log = true }\n\
         c = { type = 'int', low = 0, high = 9 }\n\
         k = { type = 'categorical', choices = ['x', 'y', 'z'] }",
    )
    .unwrap();
    let mixed = Space::from_wire(&wire).unwrap();
    let g = |p: &Params| {
        let a = p["a"].as_f64().unwrap();
        let b = p["b"].as_f64().unwrap().ln();
        let c = p["c"].as_i64().unwrap() as f64;
        let k = match &p["k"] {
            Value::Str(s) if s == "y" => 0.0,
            Value::Str(s) if s == "z" => 0.5,
            _ => 1.0,
        };
        (a - 0.7).powi(2) + (b + 1.0).powi(2) / 4.0 + (c - 6.0).powi(2) / 9.0 + k
    };
    let mx = proposal_hash(&mixed, &g, 140, 2, 13);
    println!("hashes {w1:#018x} {w4:#018x} {mx:#018x}");
    assert_eq!(
        [w1, w4, mx],
        [
            0x4a5e_d49b_79ab_0b57,
            0xbe56_6fb6_3912_519f,
            0x72ff_67d9_881b_e424,
        ]
    );
}

/// A cost probe: the first `HPS_GP_PROBE_TRIALS` (default
/// 200) proposals of `proposals_are_pinned_bit_for_bit`'s sequential
/// hartmann6 search, for callgrind. Running it at 180 and at 200 trials
/// and taking the difference isolates proposals 181–200 (docs/strategies.md,
/// "Proposal cost"). At 200 trials it also checks the hash.
#[test]
#[ignore]
fn cost_probe() {
    let n: u64 = std::env::var("HPS_GP_PROBE_TRIALS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(200);
    let s = function_space(Function::Hartmann6, 6);
    let f = |p: &Params| Function::Hartmann6.evaluate(p).unwrap();
    let h = proposal_hash(&s, &f, n, 1, 11);
    println!("hash {h:#018x}");
    // The first 200 proposals of the pinned search (since the fit chain
    // refits every second trial beyond fit_points).
    if n == 200 {
        assert_eq!(h, 0xd10f_d5c9_4441_3efd);
    }
}
