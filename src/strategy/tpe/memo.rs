//! The bad mixture built from the last proposal's (`Memo`): each
//! parameter's sorted order merged, only the bandwidths next to a change
//! worked out again, kernel normalisers reused while point and bandwidth
//! are the same bit for bit.

use super::*;

/// Groups smaller than this are built afresh: the memo would not pay.
pub(super) const MEMO_MIN: usize = 64;

/// No earlier kernel (in [`Plan::from`]).
pub(super) const NONE: u32 = u32::MAX;

/// What shapes a mixture's numbers besides its points and their kinds:
/// the endpoint rule and the bandwidth clip.
#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct MemoShape {
    pub(super) endpoints: bool,
    pub(super) min_sigma: u64,
}

/// The per-parameter work of the last large bad mixture (over every
/// parameter), kept so that the next one, which usually holds the same
/// points plus one or two, redoes only what changed: each parameter's
/// sorted order is merged rather than sorted again, and a kernel's
/// normaliser and its logarithm are reused where its point, its bandwidth
/// and the shape are the same, bit for bit. So a proposal stays a pure
/// function of its inputs (a test builds mixtures with and without it).
#[derive(Default)]
pub(super) struct Memo {
    /// `None` until a mixture is kept.
    pub(super) shape: Option<MemoShape>,
    pub(super) kinds: Vec<Kind>,
    /// The kept points' ids (ascending) and coordinates (`d` a row).
    pub(super) ids: Vec<usize>,
    pub(super) rows: Vec<f64>,
    /// The kept mixture's numbers, and the ones being built.
    pub(super) cur: MemoParts,
    pub(super) next: MemoParts,
    /// The last plan, for its vectors.
    pub(super) spare: Plan,
}

/// A mixture's numbers that [`Memo`] keeps, for its points (not the prior).
#[derive(Default)]
pub(super) struct MemoParts {
    /// Per numeric parameter: `(total_key(x), id)` of every point, sorted.
    pub(super) order: Vec<Vec<(u64, u32)>>,
    /// Per numeric parameter: each point's clipped bandwidth; per
    /// continuous parameter, its [`norm_factor`].
    pub(super) scale: Vec<Vec<f64>>,
    pub(super) factor: Vec<Vec<f64>>,
    /// Per point: the product of its factors, and its logarithm.
    pub(super) norm: Vec<f64>,
    pub(super) ln_norm: Vec<f64>,
}

/// How a new mixture's points relate to the kept one's.
#[derive(Default)]
pub(super) struct Plan {
    /// Whether the kept mixture can be reused at all.
    pub(super) reuse: bool,
    /// Per point: the kept point with the same id and coordinates, or
    /// [`NONE`].
    pub(super) from: Vec<u32>,
    /// The points that are not kept ones, in order.
    pub(super) fresh: Vec<u32>,
    /// The kept points that are gone (or changed), by kept index, in order.
    pub(super) gone: Vec<u32>,
    /// By id: the point's position in the new mixture.
    pub(super) pos: Vec<u32>,
}

impl Memo {
    /// Match the points of `rows` (`d` numbers each, named by `ids`)
    /// against the kept points. Reuse pays only when few changed;
    /// otherwise the plan rebuilds (and keeps) everything.
    pub(super) fn plan(
        &mut self,
        rows: &[f64],
        ids: &[usize],
        shape: MemoShape,
        kinds: &[Kind],
    ) -> Plan {
        let d = kinds.len();
        let m = ids.len();
        let top = ids.iter().chain(&self.ids).max().map_or(0, |&i| i + 1);
        // The last plan's vectors, cleared.
        let mut plan = std::mem::take(&mut self.spare);
        plan.reuse = self.shape == Some(shape) && self.kinds == kinds;
        plan.from.clear();
        plan.from.resize(m, NONE);
        plan.fresh.clear();
        plan.gone.clear();
        plan.pos.clear();
        plan.pos.resize(top, NONE);
        let ascending = ids.windows(2).all(|w| w[0] < w[1]);
        if !ascending || top > u32::MAX as usize {
            plan.reuse = false;
        }
        for (k, &id) in ids.iter().enumerate() {
            plan.pos[id] = k as u32;
        }
        if plan.reuse {
            let (old, kept) = (&self.ids, &self.rows);
            let mut a = 0;
            for (k, (p, &id)) in rows.chunks_exact(d).zip(ids).enumerate() {
                while a < old.len() && old[a] < id {
                    plan.gone.push(a as u32);
                    a += 1;
                }
                if a < old.len() && old[a] == id {
                    // Bit for bit, without a branch a number.
                    let differ = p
                        .iter()
                        .zip(&kept[a * d..(a + 1) * d])
                        .fold(0, |acc, (x, y)| acc | (x.to_bits() ^ y.to_bits()));
                    if differ == 0 {
                        plan.from[k] = a as u32;
                    } else {
                        plan.gone.push(a as u32);
                    }
                    a += 1;
                }
            }
            plan.gone.extend(a as u32..old.len() as u32);
            let kept = plan.from.iter().filter(|&&f| f != NONE).count();
            // Each change costs a little in the merge; many cost more
            // than sorting again.
            if (m - kept) + (old.len() - kept) > m / 4 {
                plan.reuse = false;
                plan.from.fill(NONE);
            }
        }
        let fresh = (0..m as u32).filter(|&k| plan.from[k as usize] == NONE);
        plan.fresh.extend(fresh);
        self.next.order.resize_with(d, Vec::new);
        self.next.scale.resize_with(d, Vec::new);
        self.next.factor.resize_with(d, Vec::new);
        self.next.norm.clear();
        self.next.ln_norm.clear();
        plan
    }

    /// Parameter `j`'s clipped bandwidths into `out` (one per point), as
    /// [`sigmas_in_order`] and the clip give them. Reusing: the kept
    /// order loses the gone points and gains the fresh ones, and only the
    /// points next to a change (and the outermost ones) are worked out
    /// again; every other point has the same neighbours, so the same
    /// bandwidth as before. Otherwise all are worked out from a sort. The
    /// new order (with ids) is kept for the next mixture.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn sigmas(
        &mut self,
        j: usize,
        locs: &[f64],
        ids: &[usize],
        plan: &Plan,
        (endpoints, min_sigma): (bool, f64),
        sc: &mut Scratch,
        out: &mut Vec<f64>,
    ) {
        let m = locs.len();
        let d = self.kinds.len();
        let next = &mut self.next.order[j];
        next.clear();
        if !plan.reuse {
            sorted_sigmas(locs, endpoints, min_sigma, sc, out);
            next.extend(
                sc.keys
                    .iter()
                    .map(|&(key, k)| (key, ids[k as usize] as u32)),
            );
            return;
        }
        let old = &self.cur.order[j];
        // Where the kept order loses and gains points.
        let mut cut: Vec<usize> = plan
            .gone
            .iter()
            .map(|&a| {
                let key = total_key(self.rows[a as usize * d + j]);
                let e = (key, self.ids[a as usize] as u32);
                old.partition_point(|x| *x < e)
            })
            .collect();
        cut.sort_unstable();
        let mut fresh: Vec<(usize, (u64, u32))> = plan
            .fresh
            .iter()
            .map(|&k| {
                let e = (total_key(locs[k as usize]), ids[k as usize] as u32);
                (old.partition_point(|x| *x < e), e)
            })
            .collect();
        fresh.sort_unstable();
        // Positions in the new order next to which something changed.
        let mut touched = Vec::with_capacity(cut.len() + fresh.len() + 4);
        let (mut cuts, mut adds) = (cut.iter().peekable(), fresh.iter().peekable());
        let mut at = 0;
        loop {
            let e = match (cuts.peek(), adds.peek()) {
                (None, None) => break,
                (Some(&&c), None) => c,
                (None, Some(&&(p, _))) => p,
                (Some(&&c), Some(&&(p, _))) => c.min(p),
            };
            next.extend_from_slice(&old[at..e]);
            at = e;
            while let Some(&(_, f)) = adds.next_if(|&&(p, _)| p == e) {
                touched.push(next.len());
                next.push(f);
            }
            if cuts.next_if(|&&c| c == e).is_some() {
                touched.push(next.len());
                at = e + 1;
            }
        }
        next.extend_from_slice(&old[at..]);
        touched.extend([0, 1, m.saturating_sub(2), m.saturating_sub(1)]);
        // Kept points keep their bandwidths; fresh ones are next to a
        // change, so worked out below.
        let kept = &self.cur.scale[j];
        out.clear();
        out.extend(plan.from.iter().map(|&o| match kept.get(o as usize) {
            Some(&sg) => sg,
            None => f64::NAN,
        }));
        let key = |r: usize| from_key(next[r].0);
        for &t in &touched {
            for r in t.saturating_sub(1)..(t + 2).min(m) {
                let sg = gap_at(key, r, m, endpoints);
                out[plan.pos[next[r].1 as usize] as usize] = sg.clamp(min_sigma, 1.0);
            }
        }
    }

    /// Keep parameter `j`'s clipped bandwidths (the points' only).
    pub(super) fn keep_scale(&mut self, j: usize, scale: &[f64]) {
        let next = &mut self.next.scale[j];
        next.clear();
        next.extend_from_slice(scale);
    }

    /// Keep parameter `j`'s factors (the points' only).
    pub(super) fn keep_factors(&mut self, j: usize, factors: Vec<f64>, sc: &mut Scratch) {
        sc.give(std::mem::replace(&mut self.next.factor[j], factors));
    }

    /// The new mixture becomes the kept one.
    pub(super) fn finish(
        &mut self,
        plan: Plan,
        shape: MemoShape,
        kinds: &[Kind],
        rows: &[f64],
        ids: &[usize],
    ) {
        std::mem::swap(&mut self.cur, &mut self.next);
        self.spare = plan;
        self.shape = Some(shape);
        self.kinds.clear();
        self.kinds.extend_from_slice(kinds);
        self.ids.clear();
        self.ids.extend_from_slice(ids);
        self.rows.clear();
        self.rows.extend_from_slice(rows);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::strategy::tpe::tests::*;

    /// Every number of a mixture, as bits, for comparisons.
    fn mixture_bits(m: &Mixture) -> Vec<u64> {
        let mut out: Vec<u64> = [&m.cum_w, &m.konst, &m.cont_loc, &m.cont_inv]
            .iter()
            .flat_map(|v| v.iter().map(|x| x.to_bits()))
            .collect();
        for f in &m.factors {
            match f {
                Factor::Numeric {
                    loc,
                    scale,
                    inv,
                    uniq,
                    uid,
                } => {
                    for v in [loc, scale, inv] {
                        out.extend(v.iter().map(|x| x.to_bits()));
                    }
                    out.extend(uniq.iter().flat_map(|&(a, b)| [a.to_bits(), b.to_bits()]));
                    out.extend(uid.iter().map(|&u| u as u64));
                }
                Factor::Categorical {
                    choice,
                    hit,
                    miss,
                    uniform,
                } => {
                    out.extend(choice.iter().map(|&c| c as u64));
                    out.extend([hit.to_bits(), miss.to_bits(), uniform.to_bits()]);
                }
            }
        }
        out
    }

    /// A bad mixture built with the last one's memo equals one built
    /// afresh, bit for bit, through every kind of change between two
    /// proposals: points added at the end and in the middle, removed,
    /// moved (same id, new coordinates), many changed at once, ties and
    /// edge points, the clip changing with the group's size, the endpoint
    /// rule changing, and a smaller space.
    #[test]
    fn memo_builds_equal_fresh_builds() {
        let kinds = vec![
            Kind::Continuous,
            Kind::Discrete(Cells::Uniform(7)),
            Kind::Categorical(3),
            Kind::Continuous,
        ];
        let mut rng = seed::stream(21, "memo");
        let point = |rng: &mut Xoshiro256PlusPlus| -> Vec<f64> {
            let r = unit(rng);
            kinds
                .iter()
                .map(|k| match k {
                    Kind::Categorical(n) => (unit(rng) * *n as f64).floor(),
                    Kind::Discrete(c) => {
                        let (lo, hi) = c.cell(unit(rng));
                        0.5 * (lo + hi)
                    }
                    // Clustered, with ties and the edges now and then.
                    Kind::Continuous if r < 0.05 => 0.0,
                    Kind::Continuous if r < 0.1 => 1.0,
                    Kind::Continuous if r < 0.2 => 0.25,
                    Kind::Continuous => 0.3 + 0.1 * unit(rng),
                })
                .collect()
        };
        // The group: (id, coordinates), ids ascending.
        let mut group: Vec<(usize, Vec<f64>)> = (0..80).map(|i| (2 * i, point(&mut rng))).collect();
        let mut next_id = 200;
        let mut sc = Scratch::default();
        let mut s = TpeSettings::default();
        let dims: Vec<usize> = (0..kinds.len()).collect();
        let mut reused = 0;
        for step in 0..120 {
            match step % 10 {
                // Append one or two.
                0..=2 => {
                    for _ in 0..1 + step % 2 {
                        group.push((next_id, point(&mut rng)));
                        next_id += 1;
                    }
                }
                // Insert at a free odd id in the middle.
                3 => {
                    let at = (unit(&mut rng) * group.len() as f64) as usize;
                    let id = group[at].0.saturating_sub(1);
                    if group.iter().all(|(i, _)| *i != id) {
                        group.insert(at, (id, point(&mut rng)));
                    }
                }
                // Remove one.
                4 => {
                    let at = (unit(&mut rng) * group.len() as f64) as usize;
                    group.remove(at);
                }
                // Move one: same id, new coordinates.
                5 => {
                    let at = (unit(&mut rng) * group.len() as f64) as usize;
                    group[at].1 = point(&mut rng);
                }
                // Many changes at once.
                6 if step % 40 == 6 => {
                    for g in group.iter_mut().step_by(2) {
                        g.1 = point(&mut rng);
                    }
                }
                // The endpoint rule flips for a while.
                7 => s.consider_endpoints = step % 30 == 7,
                // Sometimes no change at all.
                _ => {}
            }
            let ids: Vec<usize> = group.iter().map(|(i, _)| *i).collect();
            let pts: Vec<&[f64]> = group.iter().map(|(_, p)| p.as_slice()).collect();
            // Whether the kept mixture has this one's shape (so the memo
            // is used, unless too much changed).
            let m = group.len();
            let shape = MemoShape {
                endpoints: s.consider_endpoints,
                min_sigma: (1.0 / (m as f64 + 2.0).min(100.0)).to_bits(),
            };
            let before = sc.memo.shape == Some(shape);
            let kept = Mixture::build(&pts.concat(), &ids, &dims, &kinds, &s, &mut sc);
            let fresh = Mixture::new(&pts, &dims, &kinds, &s);
            assert_eq!(mixture_bits(&kept), mixture_bits(&fresh), "step {step}");
            reused += before as usize;
            kept.recycle(&mut sc);
        }
        assert!(reused > 80, "{reused}");
        // A smaller space (fewer parameters) with the same ids starts over.
        let narrow = &kinds[..2];
        let ids: Vec<usize> = group.iter().map(|(i, _)| *i).collect();
        let pts: Vec<&[f64]> = group.iter().map(|(_, p)| &p[..2]).collect();
        let kept = Mixture::build(&pts.concat(), &ids, &[0, 1], narrow, &s, &mut sc);
        let fresh = Mixture::new(&pts, &[0, 1], narrow, &s);
        assert_eq!(mixture_bits(&kept), mixture_bits(&fresh));
    }
}
