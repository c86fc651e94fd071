//! Step 3 of the rule: the Parzen mixture of a group (one kernel per
//! trial plus the prior), built and sampled here; scored in
//! [`super::scan`].

use super::*;

/// One parameter of a mixture: every kernel's factor for it.
pub(super) enum Factor {
    /// A continuous or discrete numeric parameter: truncated Gaussians.
    Numeric {
        /// Per kernel: centre, bandwidth and its inverse.
        loc: Vec<f64>,
        scale: Vec<f64>,
        inv: Vec<f64>,
        /// Discrete only: the distinct `(centre, bandwidth)` pairs, sorted,
        /// so a cell's mass is computed once per pair rather than once per
        /// kernel (an int parameter has few distinct centres); and each
        /// kernel's index into them. Empty for a continuous parameter.
        uniq: Vec<(f64, f64)>,
        uid: Vec<u32>,
    },
    /// Unordered choices: each trial's kernel has log probability `hit` on
    /// its choice and `miss` on the others; the prior kernel (`u32::MAX`)
    /// has `uniform` everywhere.
    Categorical {
        choice: Vec<u32>,
        hit: f64,
        miss: f64,
        uniform: f64,
    },
}

/// A mixture of product kernels over the parameters `dims`, stored
/// parameter-major (one vector per parameter and quantity) so that scoring
/// a candidate is a few straight passes over contiguous arrays.
pub(super) struct Mixture {
    pub(super) dims: Vec<usize>,
    pub(super) n_kernels: usize,
    /// Cumulative normalised weights, for drawing a kernel.
    pub(super) cum_w: Vec<f64>,
    /// Per kernel: log weight minus the per-parameter normalisers.
    pub(super) konst: Vec<f64>,
    /// One per entry of `dims`.
    pub(super) factors: Vec<Factor>,
    /// Positions in `dims` of the continuous, discrete and categorical
    /// parameters.
    pub(super) cont: Vec<usize>,
    pub(super) disc: Vec<usize>,
    pub(super) cat: Vec<usize>,
    /// The continuous parameters' centres and inverse bandwidths in
    /// blocks of [`BLOCK`] kernels: block by block, within a block
    /// parameter by parameter (the order of `cont`), [`BLOCK`] values
    /// each; the last block is padded with zeros. So scoring reads one
    /// contiguous stretch a block, without index arithmetic or checks.
    pub(super) cont_loc: Vec<f64>,
    pub(super) cont_inv: Vec<f64>,
}

/// Kernels a block in [`Mixture::log_pdf_all`]: each block's partial sums
/// stay in registers while every continuous parameter passes over it.
pub(super) const BLOCK: usize = 8;

/// Kernels whose log density is this far below the largest add less than
/// `e^-40` (1e-17) each to the sum, so [`Mixture::log_pdf_all`] leaves
/// them out: in double precision they cannot change it.
pub(super) const NEGLIGIBLE: f64 = 40.0;

/// Reusable buffers for [`Mixture::log_pdf_all`], per point.
#[derive(Default)]
pub(super) struct Scratch {
    /// The continuous coordinates, `cont.len()` a point.
    pub(super) xs: Vec<f64>,
    /// The discrete parameters' log cell masses, one run of `uniq` per
    /// discrete parameter, `stride` a point.
    pub(super) masses: Vec<f64>,
    /// The largest log density so far.
    pub(super) max: Vec<f64>,
    /// The log densities that may count in the sum, in kernel order.
    pub(super) kept: Vec<Vec<f64>>,
    /// Spare vectors for [`Mixture::build`], given back by
    /// [`Mixture::recycle`].
    pub(super) spare: Vec<Vec<f64>>,
    /// [`sorted_keys_into`]'s and [`clip_sigmas`]'s buffers.
    pub(super) keys: Vec<(u64, u32)>,
    pub(super) counts: Vec<u32>,
    pub(super) buckets: Vec<u32>,
    pub(super) lo: Vec<u64>,
    pub(super) hi: Vec<u64>,
    pub(super) starts: Vec<u32>,
    pub(super) ends: Vec<u32>,
    pub(super) state: Vec<u8>,
    /// The last large bad mixture's work, for the next one.
    pub(super) memo: Memo,
}

impl Scratch {
    /// An empty vector with room for `n` numbers: a kept one that has the
    /// room when there is one (growing a vector copies its old contents,
    /// whatever its length), else the most recently kept, grown.
    pub(super) fn take(&mut self, n: usize) -> Vec<f64> {
        let at = self.spare.iter().rposition(|v| v.capacity() >= n);
        let mut v = match at {
            Some(i) => self.spare.swap_remove(i),
            None => self.spare.pop().unwrap_or_default(),
        };
        v.clear();
        v.reserve(n);
        v
    }

    /// Keep `v` for a later [`Scratch::take`] (a bounded number of them).
    pub(super) fn give(&mut self, v: Vec<f64>) {
        if self.spare.len() < 256 {
            self.spare.push(v);
        }
    }
}

impl Mixture {
    /// [`Mixture::build`] with fresh buffers, from one vector a point.
    #[cfg(test)]
    pub(super) fn new<P: AsRef<[f64]>>(
        points: &[P],
        dims: &[usize],
        kinds: &[Kind],
        s: &TpeSettings,
    ) -> Mixture {
        let rows: Vec<f64> = points
            .iter()
            .flat_map(|p| p.as_ref().iter().copied())
            .collect();
        Mixture::build(&rows, &[], dims, kinds, s, &mut Scratch::default())
    }

    /// The mixture of the points in `rows` (each the coordinates of every
    /// parameter of `kinds`, one after another, in trial order) restricted
    /// to `dims`, plus the prior kernel (last); its vectors are taken from
    /// `sc` (see [`Mixture::recycle`]).
    ///
    /// `ids` names the points (ascending; their positions in `observed ++
    /// pending`), or is empty. A large mixture over every parameter with
    /// ids keeps its per-parameter work in `sc`'s [`Memo`], and the next
    /// one reuses it for the points it shares, bit for bit.
    pub(super) fn build(
        rows: &[f64],
        ids: &[usize],
        dims: &[usize],
        kinds: &[Kind],
        s: &TpeSettings,
        sc: &mut Scratch,
    ) -> Mixture {
        let points = rows.chunks_exact(kinds.len().max(1));
        let m = points.len();
        let nk = m + 1;
        let min_sigma = 1.0 / (m as f64 + 2.0).min(100.0);
        // The memo is taken out of `sc` while the mixture is built (and
        // put back at the end), so both can be borrowed.
        let mut memo = std::mem::take(&mut sc.memo);
        let shape = MemoShape {
            endpoints: s.consider_endpoints,
            min_sigma: min_sigma.to_bits(),
        };
        let plan = (ids.len() == m && m >= MEMO_MIN && dims.iter().copied().eq(0..kinds.len()))
            .then(|| memo.plan(rows, ids, shape, kinds));
        let mut w = sc.take(nk);
        trial_weights_into(m, &mut w);
        w.push(if m == 0 { 1.0 } else { s.prior_weight });
        let total: f64 = w.iter().sum();
        let mut cum_w = sc.take(nk);
        let mut acc = 0.0;
        for x in &w {
            acc += x / total;
            cum_w.push(acc);
        }
        let mut konst = sc.take(nk);
        konst.extend(w.iter().map(|x| (x / total).ln()));
        sc.give(w);
        // Per kernel: the product over continuous parameters of bandwidth
        // times truncation mass (each at least 0.01 * 0.34, so no underflow).
        let mut norm = sc.take(nk);
        norm.resize(nk, 1.0);
        let mut factors = Vec::with_capacity(dims.len());
        for &j in dims {
            // Room for the prior kernel, pushed last (no copy).
            let mut locs = sc.take(nk);
            locs.extend(points.clone().map(|p| p[j]));
            match kinds[j] {
                Kind::Categorical(nc) => {
                    let pw = s.prior_weight / nk as f64;
                    let z = 1.0 + nc as f64 * pw;
                    let mut choice = Vec::with_capacity(nk);
                    choice.extend(locs.iter().map(|&c| c as u32));
                    choice.push(u32::MAX);
                    factors.push(Factor::Categorical {
                        choice,
                        hit: ((1.0 + pw) / z).ln(),
                        miss: (pw / z).ln(),
                        uniform: -(nc as f64).ln(),
                    });
                }
                Kind::Continuous | Kind::Discrete(_) => {
                    let mut scale = sc.take(nk);
                    if let Some(plan) = &plan {
                        let rule = (s.consider_endpoints, min_sigma);
                        memo.sigmas(j, &locs, ids, plan, rule, sc, &mut scale);
                        memo.keep_scale(j, &scale);
                    } else if !clip_sigmas(&locs, s.consider_endpoints, min_sigma, sc, &mut scale) {
                        sorted_sigmas(&locs, s.consider_endpoints, min_sigma, sc, &mut scale);
                    }
                    let mut loc = locs;
                    // The prior kernel: centre 0.5, bandwidth 1.
                    loc.push(0.5);
                    scale.push(1.0);
                    // Most kernels of a large group sit at the clip, and
                    // share its inverse (the same division, done once).
                    let inv_min = 1.0 / min_sigma;
                    let mut inv = sc.take(nk);
                    inv.extend(
                        scale
                            .iter()
                            .map(|&sg| if sg == min_sigma { inv_min } else { 1.0 / sg }),
                    );
                    let (mut uniq, mut uid) = (Vec::new(), Vec::new());
                    if kinds[j] == Kind::Continuous {
                        let mut kept = sc.take(nk);
                        kept.resize(nk, 0.0);
                        match plan.as_ref().filter(|p| p.reuse) {
                            // A kept point with the same bandwidth has the
                            // same factor.
                            Some(p) => {
                                let (olds, oldf) = (&memo.cur.scale[j], &memo.cur.factor[j]);
                                let new = kept.iter_mut().zip(&p.from).zip(&scale).zip(&loc);
                                for (((f, &o), &sg), &l) in new {
                                    *f = match (olds.get(o as usize), oldf.get(o as usize)) {
                                        (Some(s0), Some(&f0)) if s0.to_bits() == sg.to_bits() => f0,
                                        _ => norm_factor(l, sg),
                                    };
                                }
                                kept[m] = norm_factor(loc[m], scale[m]);
                            }
                            None => {
                                for ((f, &l), &sg) in kept.iter_mut().zip(&loc).zip(&scale) {
                                    *f = norm_factor(l, sg);
                                }
                            }
                        }
                        for ((z, c), &f) in norm.iter_mut().zip(konst.iter_mut()).zip(&kept) {
                            *z *= f;
                            *c -= LN_SQRT_2PI;
                        }
                        if plan.is_some() {
                            // The points' factors (not the prior's).
                            kept.pop();
                            memo.keep_factors(j, kept, sc);
                        } else {
                            sc.give(kept);
                        }
                    } else {
                        // Distinct pairs in a total order; keys are unique
                        // with the kernel index, so an unstable sort is
                        // deterministic.
                        let mut order: Vec<(u64, u64, u32)> = (0..nk)
                            .map(|k| (total_key(loc[k]), total_key(scale[k]), k as u32))
                            .collect();
                        order.sort_unstable();
                        uid = vec![0u32; nk];
                        for &(_, _, k) in &order {
                            let pair = (loc[k as usize], scale[k as usize]);
                            if uniq.last() != Some(&pair) {
                                uniq.push(pair);
                            }
                            uid[k as usize] = (uniq.len() - 1) as u32;
                        }
                        let norms: Vec<f64> = uniq
                            .iter()
                            .map(|&(l, sg)| log_mass(-l / sg, (1.0 - l) / sg))
                            .collect();
                        for (c, &u) in konst.iter_mut().zip(&uid) {
                            *c -= norms[u as usize];
                        }
                    }
                    factors.push(Factor::Numeric {
                        loc,
                        scale,
                        inv,
                        uniq,
                        uid,
                    });
                }
            }
        }
        match &plan {
            Some(p) => {
                // A kept point with the same normaliser has the same log.
                let (old, next) = (&memo.cur, &mut memo.next);
                next.norm.clear();
                next.norm.extend_from_slice(&norm[..m]);
                next.ln_norm.clear();
                next.ln_norm.resize(m, 0.0);
                for ((ln, &o), &z) in next.ln_norm.iter_mut().zip(&p.from).zip(&norm) {
                    *ln = match (old.norm.get(o as usize), old.ln_norm.get(o as usize)) {
                        (Some(z0), Some(&l0)) if z0.to_bits() == z.to_bits() => l0,
                        _ => z.ln(),
                    };
                }
                for (c, &ln) in konst.iter_mut().zip(&next.ln_norm) {
                    *c -= ln;
                }
                konst[m] -= norm[m].ln();
            }
            None => {
                for (c, z) in konst.iter_mut().zip(&norm) {
                    *c -= z.ln();
                }
            }
        }
        if let Some(p) = plan {
            memo.finish(p, shape, kinds, rows, ids);
        }
        sc.memo = memo;
        sc.give(norm);
        let of_kind = |want: fn(&Kind) -> bool| -> Vec<usize> {
            (0..dims.len())
                .filter(|&jd| want(&kinds[dims[jd]]))
                .collect()
        };
        let cont = of_kind(|k| *k == Kind::Continuous);
        let nc = cont.len();
        let len = nk.div_ceil(BLOCK) * BLOCK * nc;
        // Written in order, block by block, each run of eight as one
        // fixed-size copy (no zeroing pass, no library call a run).
        let (mut cont_loc, mut cont_inv) = (sc.take(len), sc.take(len));
        let numeric: Vec<(&[f64], &[f64])> = cont
            .iter()
            .filter_map(|&jd| match &factors[jd] {
                Factor::Numeric { loc, inv, .. } => Some((loc.as_slice(), inv.as_slice())),
                Factor::Categorical { .. } => None,
            })
            .collect();
        for b in (0..nk).step_by(BLOCK) {
            for &(loc, inv) in &numeric {
                let (l, v) = (&loc[b..nk.min(b + BLOCK)], &inv[b..nk.min(b + BLOCK)]);
                match (<&[f64; BLOCK]>::try_from(l), <&[f64; BLOCK]>::try_from(v)) {
                    (Ok(l), Ok(v)) => {
                        cont_loc.extend_from_slice(l);
                        cont_inv.extend_from_slice(v);
                    }
                    _ => {
                        cont_loc.extend_from_slice(l);
                        cont_loc.resize(cont_loc.len() + BLOCK - l.len(), 0.0);
                        cont_inv.extend_from_slice(v);
                        cont_inv.resize(cont_inv.len() + BLOCK - v.len(), 0.0);
                    }
                }
            }
        }
        Mixture {
            cont,
            cont_loc,
            cont_inv,
            disc: of_kind(|k| matches!(k, Kind::Discrete(_))),
            cat: of_kind(|k| matches!(k, Kind::Categorical(_))),
            dims: dims.to_vec(),
            n_kernels: nk,
            cum_w,
            konst,
            factors,
        }
    }

    /// Give this mixture's vectors back to `sc` for the next
    /// [`Mixture::build`].
    pub(super) fn recycle(self, sc: &mut Scratch) {
        for v in [self.cum_w, self.konst, self.cont_loc, self.cont_inv] {
            sc.give(v);
        }
        for f in self.factors {
            if let Factor::Numeric {
                loc, scale, inv, ..
            } = f
            {
                for v in [loc, scale, inv] {
                    sc.give(v);
                }
            }
        }
    }

    /// Draw one point: a kernel, then each parameter from it.
    #[cfg(test)]
    pub(super) fn sample(&self, kinds: &[Kind], rng: &mut impl RngCore) -> Vec<Cand> {
        let mut out = Vec::new();
        self.sample_into(kinds, rng, &mut out);
        out
    }

    /// [`Mixture::sample`], appended to `out`.
    pub(super) fn sample_into(&self, kinds: &[Kind], rng: &mut impl RngCore, out: &mut Vec<Cand>) {
        let r = unit(rng);
        let k = self
            .cum_w
            .partition_point(|&c| c <= r)
            .min(self.n_kernels - 1);
        self.sample_kernel(k, kinds, rng, out)
    }

    /// Draw one point from kernel `k` alone, appended to `out`.
    pub(super) fn sample_kernel(
        &self,
        k: usize,
        kinds: &[Kind],
        rng: &mut impl RngCore,
        out: &mut Vec<Cand>,
    ) {
        let draws = self
            .dims
            .iter()
            .zip(&self.factors)
            .map(|(&j, f)| match (f, &kinds[j]) {
                (
                    Factor::Categorical {
                        choice, hit, miss, ..
                    },
                    Kind::Categorical(nc),
                ) => {
                    let v = categorical_draw(choice[k], *hit, *miss, *nc, unit(rng));
                    Cand {
                        x: v as f64,
                        lo: 0.0,
                        hi: 0.0,
                    }
                }
                (Factor::Numeric { loc, scale, .. }, kind) => {
                    let x = trunc_normal(loc[k], scale[k], rng);
                    let (lo, hi) = match kind {
                        Kind::Discrete(cells) => cells.cell(x),
                        _ => (0.0, 0.0),
                    };
                    Cand { x, lo, hi }
                }
                // A factor is built from its parameter's kind.
                (Factor::Categorical { .. }, _) => Cand {
                    x: 0.0,
                    lo: 0.0,
                    hi: 0.0,
                },
            });
        out.extend(draws);
    }
}

/// A continuous kernel's normaliser for one parameter: its bandwidth times
/// the mass of `N(l, sg)` on [0, 1].
#[inline]
pub(super) fn norm_factor(l: f64, sg: f64) -> f64 {
    // Both ends more than TAIL_END bandwidths away (with a margin far
    // above the divisions' rounding): `mass` would return exactly
    // 1 - 0 - 0, so skip its two divisions.
    let m = if l > TAIL_SAFE * sg && 1.0 - l > TAIL_SAFE * sg {
        1.0
    } else {
        mass(-l / sg, (1.0 - l) / sg)
    };
    sg * m
}

/// A draw from a categorical kernel given a uniform `r`: the kernel of a
/// trial on `choice` (or the uniform prior kernel, `u32::MAX`).
pub(super) fn categorical_draw(choice: u32, hit: f64, miss: f64, nc: usize, r: f64) -> usize {
    let (hit, miss) = (hit.exp(), miss.exp());
    let uniform = (-(nc as f64).ln()).exp();
    let mut acc = 0.0;
    for v in 0..nc {
        acc += if choice == u32::MAX {
            uniform
        } else if v as u32 == choice {
            hit
        } else {
            miss
        };
        if r < acc {
            return v;
        }
    }
    nc - 1
}

/// A standard normal draw (Box–Muller, cosine branch).
pub(super) fn normal(rng: &mut impl RngCore) -> f64 {
    let r = (-2.0 * (1.0 - unit(rng)).ln()).sqrt();
    let theta = std::f64::consts::TAU * unit(rng);
    r * theta.cos()
}

/// A draw from N(loc, sigma) truncated to [0, 1], by rejection. The
/// acceptance rate is above 1/3 for `loc` in [0, 1] and `sigma <= 1`; the
/// cap only guards against a degenerate kernel.
pub(super) fn trunc_normal(loc: f64, sigma: f64, rng: &mut impl RngCore) -> f64 {
    for _ in 0..1000 {
        let x = loc + sigma * normal(rng);
        if (0.0..=1.0).contains(&x) {
            return x;
        }
    }
    loc.clamp(0.0, 1.0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::tpe::tests::*;

    #[test]
    fn multivariate_bandwidths_are_neighbour_gaps_with_a_magic_clip() {
        // Optuna 5: per parameter, the larger gap to the neighbouring
        // points, clipped to [1 / min(100, m + 2), 1]; the prior kernel is
        // centred at 0.5 with bandwidth 1.
        let kinds = vec![Kind::Continuous; 2];
        let pts = vec![vec![0.1, 0.5], vec![0.5, 0.52], vec![0.9, 0.6]];
        let m = Mixture::new(&pts, &[0, 1], &kinds, &TpeSettings::default());
        assert_eq!(m.n_kernels, 4);
        let scales = |jd: usize| match &m.factors[jd] {
            Factor::Numeric { loc, scale, .. } => (loc.clone(), scale.clone()),
            Factor::Categorical { .. } => panic!("numeric"),
        };
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-15);
        // x0: gaps 0.4 and 0.4; the ends use their inner gap.
        let (loc, sc) = scales(0);
        assert_eq!(loc, vec![0.1, 0.5, 0.9, 0.5]);
        assert!(close(&sc, &[0.4, 0.4, 0.4, 1.0]), "{sc:?}");
        // x1: gaps 0.02 and 0.08, clipped up to 1 / 5.
        let (_, sc) = scales(1);
        assert!(close(&sc, &[0.2, 0.2, 0.2, 1.0]), "{sc:?}");
        // 200 points: the clip is 1 / 100.
        let many: Vec<Vec<f64>> = (0..200).map(|i| vec![i as f64 / 200.0, 0.5]).collect();
        let m = Mixture::new(&many, &[0, 1], &kinds, &TpeSettings::default());
        let Factor::Numeric { scale, .. } = &m.factors[0] else {
            panic!("numeric")
        };
        assert!(close(&scale[..200], &[0.01; 200]), "{:?}", &scale[..3]);
    }

    #[test]
    fn univariate_bandwidth_uses_neighbour_gaps() {
        // Sorted: 0.3, 0.35, 0.9 (the prior's 0.5 is not a neighbour).
        // With the ends 0 and 1 the gaps give 0.3, 0.55, 0.55; without,
        // the outermost use their inner gap: 0.05 and 0.55.
        let locs = [0.9, 0.3, 0.35];
        let no_ends = neighbour_sigmas(&locs, false);
        let ends = neighbour_sigmas(&locs, true);
        let close = |a: &[f64], b: &[f64]| a.iter().zip(b).all(|(x, y)| (x - y).abs() < 1e-15);
        assert!(close(&no_ends, &[0.55, 0.05, 0.55]), "{no_ends:?}");
        assert!(close(&ends, &[0.55, 0.3, 0.55]), "{ends:?}");
        // One point: the larger gap to the ends, endpoints or not.
        assert!(close(&neighbour_sigmas(&[0.2], false), &[0.8]));
        // Ties: the earlier trial takes the gap below, the later the gap
        // above.
        let tied = neighbour_sigmas(&[0.5, 0.2, 0.5, 0.6], false);
        assert!(close(&tied, &[0.3, 0.3, 0.1, 0.1]), "{tied:?}");
        // Then clipped at 1 / min(100, 3 + 2) = 0.2.
        let s = TpeSettings {
            multivariate: false,
            ..TpeSettings::default()
        };
        let pts: Vec<Vec<f64>> = locs.iter().map(|&x| vec![x]).collect();
        let m = Mixture::new(&pts, &[0], &[Kind::Continuous], &s);
        let Factor::Numeric { scale, .. } = &m.factors[0] else {
            panic!("numeric")
        };
        assert!(close(scale, &[0.55, 0.2, 0.55, 1.0]), "{scale:?}");
    }

    #[test]
    fn categorical_kernels_count_with_a_prior() {
        // Two points on choices 0 and 2 of 3; prior weight 1 over 3 kernels:
        // a point's kernel has (1 + 1/3) / (1 + 3 * 1/3) = 2/3 on its choice,
        // 1/6 elsewhere; the prior kernel is uniform.
        let pts = vec![vec![0.0], vec![2.0]];
        let m = Mixture::new(&pts, &[0], &[Kind::Categorical(3)], &TpeSettings::default());
        let Factor::Categorical {
            choice,
            hit,
            miss,
            uniform,
        } = &m.factors[0]
        else {
            panic!("categorical")
        };
        assert_eq!(choice, &[0, 2, u32::MAX]);
        assert!((hit.exp() - 2.0 / 3.0).abs() < 1e-15);
        assert!((miss.exp() - 1.0 / 6.0).abs() < 1e-15);
        assert!((uniform.exp() - 1.0 / 3.0).abs() < 1e-15);
        // p(choice 1) = 1/3 (1/6 + 1/6 + 1/3) = 2/9.
        let mut buf = Scratch::default();
        let x = [Cand {
            x: 1.0,
            lo: 0.0,
            hi: 0.0,
        }];
        let p = m.log_pdf(&x, &mut buf).exp();
        assert!((p - 2.0 / 9.0).abs() < 1e-15, "{p}");
    }

    #[test]
    fn continuous_density_integrates_to_one() {
        let pts = vec![vec![0.05], vec![0.6], vec![0.62]];
        let m = Mixture::new(&pts, &[0], &[Kind::Continuous], &TpeSettings::default());
        let mut buf = Scratch::default();
        let n = 20_000;
        let total: f64 = (0..n)
            .map(|i| {
                let x = [Cand {
                    x: (i as f64 + 0.5) / n as f64,
                    lo: 0.0,
                    hi: 0.0,
                }];
                m.log_pdf(&x, &mut buf).exp() / n as f64
            })
            .sum();
        assert!((total - 1.0).abs() < 1e-6, "{total}");
    }

    #[test]
    fn discrete_masses_sum_to_one() {
        // Int 1..=10 on a log scale: the cells tile [0, 1].
        let s = space("n = { type = 'int', low = 1, high = 10, log = true }");
        let kind = Kind::of(&s.params[0]);
        let Kind::Discrete(cells) = &kind else {
            panic!("{kind:?}")
        };
        let pts = vec![vec![s.params[0].to_unit(&Value::Int(3))]];
        let m = Mixture::new(
            &pts,
            &[0],
            std::slice::from_ref(&kind),
            &TpeSettings::default(),
        );
        let mut buf = Scratch::default();
        let mut total = 0.0;
        for v in 1..=10 {
            let u = s.params[0].to_unit(&Value::Int(v));
            let (lo, hi) = cells.cell(u);
            let x = [Cand { x: u, lo, hi }];
            total += m.log_pdf(&x, &mut buf).exp();
        }
        assert!((total - 1.0).abs() < 1e-12, "{total}");
        assert_eq!(cells.cell(0.0).0, 0.0);
        assert_eq!(cells.cell(1.0).1, 1.0);
    }
}
