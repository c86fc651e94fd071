//! Scoring points under a mixture: the plain per-kernel pass
//! ([`Mixture::log_pdf_all`]) and the block scan of continuous kernels,
//! compiled for AVX2 beside the baseline (same operations, same order),
//! keeping only the terms within `e^-40` of the largest.

use super::*;

impl Mixture {
    /// `log p(x)` for one point over `self.dims`.
    #[cfg(test)]
    pub(super) fn log_pdf(&self, x: &[Cand], sc: &mut Scratch) -> f64 {
        let mut out = Vec::new();
        self.log_pdf_all(&[x], sc, &mut out);
        out[0]
    }

    /// `log p(x)` for every point of `points` (each over `self.dims`),
    /// into `out`: `max + ln sum exp(t_k - max)` over the kernels' log
    /// densities `t_k`, summed in kernel order, leaving out the kernels
    /// more than [`NEGLIGIBLE`] below the largest.
    ///
    /// The points are scored together, a block of kernels at a time (each
    /// block read once for all of them), and each point keeps a running
    /// largest term and the terms that may still count, so most terms are
    /// never stored. A term at most the running largest minus
    /// [`NEGLIGIBLE`] is at most the final one minus it too, so dropping
    /// it early drops what the final filter would; every kept term gets
    /// the same operations in the same order as in one pass a kernel.
    pub(super) fn log_pdf_all<C: AsRef<[Cand]>>(
        &self,
        points: &[C],
        sc: &mut Scratch,
        out: &mut Vec<f64>,
    ) {
        const B: usize = BLOCK;
        let n = points.len();
        let nc = self.cont.len();
        sc.xs.clear();
        sc.masses.clear();
        for x in points {
            let x = x.as_ref();
            sc.xs.extend(self.cont.iter().map(|&jd| x[jd].x));
            for &jd in &self.disc {
                if let Factor::Numeric { uniq, .. } = &self.factors[jd] {
                    let xj = x[jd];
                    sc.masses.extend(
                        uniq.iter()
                            .map(|&(l, sg)| log_mass((xj.lo - l) / sg, (xj.hi - l) / sg)),
                    );
                }
            }
        }
        let stride = sc.masses.len() / n.max(1);
        sc.max.clear();
        sc.max.resize(n, f64::NEG_INFINITY);
        sc.kept.resize_with(n, Vec::new);
        for kept in &mut sc.kept {
            kept.clear();
        }
        if nc == 0 {
            // No distances: each term starts at `konst` (`konst - 0.5 *
            // 0.0` is `konst` to the bit).
            for (c, x) in points.iter().enumerate() {
                let masses = &sc.masses[c * stride..(c + 1) * stride];
                for (k, &kc) in self.konst.iter().enumerate() {
                    let t = self.add_discrete(k, kc, x.as_ref(), masses);
                    keep(t, &mut sc.max[c], &mut sc.kept[c]);
                }
            }
        } else if self.disc.is_empty() && self.cat.is_empty() {
            let (loc, inv, konst) = (&self.cont_loc, &self.cont_inv, &self.konst);
            scan_plain(loc, inv, konst, &sc.xs, nc, &mut sc.max, &mut sc.kept);
        } else {
            let blocks = self.cont_loc.chunks_exact(B * nc);
            let blocks = blocks.zip(self.cont_inv.chunks_exact(B * nc));
            for (b, ((lb, vb), konst)) in blocks.zip(self.konst.chunks(B)).enumerate() {
                let state = sc.max.iter_mut().zip(sc.kept.iter_mut());
                for (c, (x, (max, kept))) in points.iter().zip(state).enumerate() {
                    let q = block_distances(lb, vb, &sc.xs[c * nc..(c + 1) * nc]);
                    let masses = &sc.masses[c * stride..(c + 1) * stride];
                    for (i, &kc) in konst.iter().enumerate() {
                        let t = self.add_discrete(b * B + i, kc - 0.5 * q[i], x.as_ref(), masses);
                        keep(t, max, kept);
                    }
                }
            }
        }
        out.clear();
        out.extend(sc.max.iter().zip(&sc.kept).map(|(&max, kept)| {
            if max == f64::NEG_INFINITY {
                return max;
            }
            let floor = max - NEGLIGIBLE;
            let sum: f64 = kept
                .iter()
                .filter(|&&t| t > floor)
                .map(|&t| (t - max).exp())
                .sum();
            max + sum.ln()
        }));
    }

    /// Kernel `k`'s term `t` plus its discrete parameters' log cell masses
    /// (`masses`, from [`Mixture::log_pdf_all`]) and its categorical
    /// parameters' log probabilities, in parameter order.
    pub(super) fn add_discrete(&self, k: usize, mut t: f64, x: &[Cand], masses: &[f64]) -> f64 {
        let mut off = 0;
        for &jd in &self.disc {
            if let Factor::Numeric { uniq, uid, .. } = &self.factors[jd] {
                t += masses[off + uid[k] as usize];
                off += uniq.len();
            }
        }
        for &jd in &self.cat {
            if let Factor::Categorical {
                choice,
                hit,
                miss,
                uniform,
            } = &self.factors[jd]
            {
                let c = choice[k];
                t += if c == x[jd].x as u32 {
                    *hit
                } else if c == u32::MAX {
                    *uniform
                } else {
                    *miss
                };
            }
        }
        t
    }
}

/// Squared standardised distances of `xs` (a point's continuous
/// coordinates) to one block's eight kernels, every continuous parameter in
/// turn, in `cont` order (as one pass a parameter would sum them); the
/// partial sums stay in registers.
#[inline(always)]
pub(super) fn block_distances(lb: &[f64], vb: &[f64], xs: &[f64]) -> [f64; BLOCK] {
    const B: usize = BLOCK;
    let mut q = [0.0f64; B];
    for ((l, v), &xj) in lb.chunks_exact(B).zip(vb.chunks_exact(B)).zip(xs) {
        let l: &[f64; B] = l.try_into().unwrap_or(&[0.0; B]);
        let v: &[f64; B] = v.try_into().unwrap_or(&[0.0; B]);
        for i in 0..B {
            let z = (xj - l[i]) * v[i];
            q[i] += z * z;
        }
    }
    q
}

avx2_dispatch! {
    /// [`Mixture::log_pdf_all`] for a mixture of continuous parameters
    /// only (`nc` of them): every block of kernels against every point.
    fn scan_plain(
        loc: &[f64],
        inv: &[f64],
        konst: &[f64],
        xs: &[f64],
        nc: usize,
        max: &mut [f64],
        kept: &mut [Vec<f64>]
    ) = scan_plain_body;
}

#[inline(always)]
pub(super) fn scan_plain_body(
    loc: &[f64],
    inv: &[f64],
    konst: &[f64],
    xs: &[f64],
    nc: usize,
    max: &mut [f64],
    kept: &mut [Vec<f64>],
) {
    const B: usize = BLOCK;
    // Newest kernels first: they weigh the most and sit where the search
    // now samples, so the largest term tends to come early and most older
    // blocks are dropped whole. The kept terms come out newest first and
    // are put back in kernel order at the end.
    let blocks = loc.chunks_exact(B * nc).zip(inv.chunks_exact(B * nc));
    for ((lb, vb), konst) in blocks.zip(konst.chunks(B)).rev() {
        for ((xs, max), kept) in xs.chunks_exact(nc).zip(max.iter_mut()).zip(kept.iter_mut()) {
            let q = block_distances(lb, vb, xs);
            if let Ok(konst) = <&[f64; B]>::try_from(konst) {
                let mut t = [0.0f64; B];
                for i in 0..B {
                    t[i] = konst[i] - 0.5 * q[i];
                }
                // The block's largest term (NaN skipped, like `keep`):
                // when it cannot count, none can, and it is not a new
                // largest either.
                let top = t
                    .iter()
                    .fold(f64::NEG_INFINITY, |a, &v| if v > a { v } else { a });
                if top > *max - NEGLIGIBLE {
                    for &t in t.iter().rev() {
                        keep(t, max, kept);
                    }
                }
            } else {
                for (&kc, &q) in konst.iter().zip(&q).rev() {
                    keep(kc - 0.5 * q, max, kept);
                }
            }
        }
    }
    for kept in kept {
        kept.reverse();
    }
}

/// One term of [`Mixture::log_pdf_all`], in kernel order: a new largest
/// (NaN never is), and kept unless it is [`NEGLIGIBLE`] below the largest.
#[inline]
pub(super) fn keep(t: f64, max: &mut f64, kept: &mut Vec<f64>) {
    if t > *max {
        *max = t;
    }
    if t > *max - NEGLIGIBLE {
        kept.push(t);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// `log p(x)` the plain way: every kernel's term, in kernel order.
    fn log_pdf_reference(m: &Mixture, x: &[Cand]) -> f64 {
        let terms: Vec<f64> = (0..m.n_kernels)
            .map(|k| {
                let mut q = 0.0;
                for &jd in &m.cont {
                    if let Factor::Numeric { loc, inv, .. } = &m.factors[jd] {
                        let z = (x[jd].x - loc[k]) * inv[k];
                        q += z * z;
                    }
                }
                let mut t = m.konst[k] - 0.5 * q;
                for &jd in &m.disc {
                    if let Factor::Numeric { uniq, uid, .. } = &m.factors[jd] {
                        let (l, sg) = uniq[uid[k] as usize];
                        t += log_mass((x[jd].lo - l) / sg, (x[jd].hi - l) / sg);
                    }
                }
                for &jd in &m.cat {
                    if let Factor::Categorical {
                        choice,
                        hit,
                        miss,
                        uniform,
                    } = &m.factors[jd]
                    {
                        let c = choice[k];
                        t += if c == x[jd].x as u32 {
                            *hit
                        } else if c == u32::MAX {
                            *uniform
                        } else {
                            *miss
                        };
                    }
                }
                t
            })
            .collect();
        let max = terms.iter().fold(f64::NEG_INFINITY, |a, &t| a.max(t));
        if max == f64::NEG_INFINITY {
            return max;
        }
        let sum: f64 = terms
            .iter()
            .filter(|&&t| t > max - 40.0)
            .map(|&t| (t - max).exp())
            .sum();
        max + sum.ln()
    }

    /// Scoring many points at once, by blocks, skipping negligible terms
    /// (and on AVX2 machines in the wide build) gives the plain pass's
    /// bits, for every kind of parameter and group size.
    #[test]
    fn batch_scores_equal_the_plain_pass() {
        let kinds = vec![
            Kind::Continuous,
            Kind::Discrete(Cells::Uniform(5)),
            Kind::Categorical(3),
            Kind::Continuous,
            Kind::Continuous,
        ];
        let s = TpeSettings::default();
        let mut rng = seed::stream(5, "batch");
        for dims in [
            vec![0, 1, 2, 3, 4],
            vec![0, 3, 4],
            vec![1, 2],
            vec![2],
            vec![3],
        ] {
            for m in [0, 1, 7, 9, 64, 300] {
                // Points clustered near 0.3, as a late bad group is.
                let pts: Vec<Vec<f64>> = (0..m)
                    .map(|_| {
                        kinds
                            .iter()
                            .map(|k| match k {
                                Kind::Categorical(n) => (unit(&mut rng) * *n as f64).floor(),
                                Kind::Discrete(c) => {
                                    let (lo, hi) = c.cell(unit(&mut rng));
                                    0.5 * (lo + hi)
                                }
                                Kind::Continuous => 0.3 + 0.2 * (unit(&mut rng) - 0.5),
                            })
                            .collect()
                    })
                    .collect();
                let mix = Mixture::new(&pts, &dims, &kinds, &s);
                let points: Vec<Vec<Cand>> =
                    (0..40).map(|_| mix.sample(&kinds, &mut rng)).collect();
                let mut sc = Scratch::default();
                let mut got = Vec::new();
                mix.log_pdf_all(&points, &mut sc, &mut got);
                assert_eq!(got.len(), points.len());
                for (x, g) in points.iter().zip(&got) {
                    let want = log_pdf_reference(&mix, x);
                    assert_eq!(g.to_bits(), want.to_bits(), "dims {dims:?} m {m}");
                    assert!(g.is_finite());
                }
            }
        }
    }
}
