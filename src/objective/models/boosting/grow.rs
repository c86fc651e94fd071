//! One tree of `gradient_boosting` (scikit-learn's `TreeGrower`): the
//! histograms of a node's rows, the best split of each feature, and
//! best-first growth up to the leaf and depth limits. It works on bins
//! and gradients only; it never sees raw features, losses or targets.

use rand_xoshiro::Xoshiro256PlusPlus;
use rayon::prelude::*;
use std::cmp::Ordering;
use std::collections::BinaryHeap;

use super::bins::{Binned, MISSING, N_BINS};
use super::Node;
use crate::objective::models::tree::below;

/// scikit-learn's `min_hessian_to_split`.
const MIN_HESSIAN: f64 = 1e-3;

#[derive(Clone, Copy, Debug, Default)]
struct Bin {
    g: f64,
    h: f64,
    n: u32,
}

/// Per-feature histograms of one node: `hist[f][bin]`.
type Hist = Vec<[Bin; N_BINS]>;

/// Gradients and hessians of the rows of one tree.
pub(super) struct Grads<'a> {
    pub(super) g: &'a [f32],
    /// `None`: every hessian is 1 (squared error), counted instead.
    pub(super) h: Option<&'a [f32]>,
}

/// A node with fewer row × feature cells than this is summed by one task.
const PARALLEL_CELLS: usize = 1 << 15;

/// The histograms of `rows` (ascending): each feature's bins summed over
/// the rows in their order, one feature a task.
///
/// Why the bits never depend on the threads: a task owns a whole feature
/// and walks the rows in order, so every bin is the same sum in the same
/// order whether the features are spread over threads or summed by one.
fn build_hist(binned: &Binned, rows: &[u32], grads: &Grads<'_>) -> Hist {
    let mut hist = vec![[Bin::default(); N_BINS]; binned.n_features()];
    // Every row (the root of a tree grown on all rows): ascending, so the
    // rows are 0..n and a column is read straight, not through `rows`.
    let all = rows.len() == binned.cols.first().map_or(0, Vec::len);
    match grads.h {
        Some(hs) => {
            // The gradient and hessian of each row in order, as f64 once
            // for every feature.
            let gh: Vec<[f64; 2]> = rows
                .iter()
                .map(|&r| [f64::from(grads.g[r as usize]), f64::from(hs[r as usize])])
                .collect();
            let add = |out: &mut [Bin; N_BINS], bin: u8, [g, h]: [f64; 2]| {
                let b = &mut out[usize::from(bin)];
                b.g += g;
                b.h += h;
                b.n += 1;
            };
            each_feature(binned, rows.len(), &mut hist, |out, col| {
                if all {
                    col.iter().zip(&gh).for_each(|(&bin, &v)| add(out, bin, v));
                } else {
                    for (&r, &v) in rows.iter().zip(&gh) {
                        add(out, col[r as usize], v);
                    }
                }
            });
        }
        None => {
            let gs: Vec<f64> = rows
                .iter()
                .map(|&r| f64::from(grads.g[r as usize]))
                .collect();
            let add = |out: &mut [Bin; N_BINS], bin: u8, g: f64| {
                let b = &mut out[usize::from(bin)];
                b.g += g;
                b.n += 1;
            };
            each_feature(binned, rows.len(), &mut hist, |out, col| {
                if all {
                    col.iter().zip(&gs).for_each(|(&bin, &g)| add(out, bin, g));
                } else {
                    for (&r, &g) in rows.iter().zip(&gs) {
                        add(out, col[r as usize], g);
                    }
                }
                // Every hessian is 1: a bin's sum is its count.
                for b in out.iter_mut() {
                    b.h = f64::from(b.n);
                }
            });
        }
    }
    hist
}

/// `fill(histogram, column)` for every feature: one rayon task a feature
/// for a node of many rows, in turn on this thread for a small one (the
/// same sums either way).
fn each_feature(
    binned: &Binned,
    n_rows: usize,
    hist: &mut Hist,
    fill: impl Fn(&mut [Bin; N_BINS], &[u8]) + Sync,
) {
    if n_rows * binned.n_features() < PARALLEL_CELLS {
        hist.iter_mut()
            .zip(&binned.cols)
            .for_each(|(out, col)| fill(out, col));
    } else {
        hist.par_iter_mut()
            .zip(binned.cols.par_iter())
            .for_each(|(out, col)| fill(out, col));
    }
}

/// `parent -= child`, bin by bin (the parent's histograms become the
/// other child's).
fn subtract(parent: &mut Hist, child: &Hist) {
    for (p, c) in parent.iter_mut().flatten().zip(child.iter().flatten()) {
        p.g -= c.g;
        p.h -= c.h;
        p.n -= c.n;
    }
}

// -------------------------------------------------------------- growing --

/// scikit-learn's `compute_node_value`.
fn node_value(g: f64, h: f64, l2: f64) -> f64 {
    -g / (h + l2 + 1e-15)
}

#[derive(Clone, Copy, Debug)]
struct Split {
    gain: f64,
    feature: usize,
    bin: usize,
    missing_left: bool,
    g_left: f64,
    h_left: f64,
}

/// Settings of one tree's growth.
pub(super) struct GrowParams {
    pub(super) max_leaf_nodes: Option<usize>,
    pub(super) max_depth: Option<usize>,
    pub(super) min_samples_leaf: usize,
    pub(super) l2: f64,
    /// Features a split may use (`None`: all), drawn per node.
    pub(super) n_sub_features: Option<usize>,
}

/// The best split of one feature (scikit-learn's two scans), or `None`.
#[allow(clippy::too_many_arguments)]
fn best_split_of(
    binned: &Binned,
    f: usize,
    hist: &[Bin],
    n: u32,
    sum_g: f64,
    sum_h: f64,
    value: f64,
    p: &GrowParams,
) -> Option<Split> {
    let msl = p.min_samples_leaf as u32;
    let nb = binned.n_bins_non_missing(f);
    let has_missing = binned.has_missing[f];
    let loss_node = sum_g * value;
    let gain_of = |gl: f64, hl: f64, gr: f64, hr: f64| {
        let vl = node_value(gl, hl, p.l2);
        let vr = node_value(gr, hr, p.l2);
        loss_node - gl * vl - gr * vr
    };
    let mut best: Option<Split> = None;
    let mut best_gain = -1.0;
    // Left to right: missing values go right.
    let end = nb - 1 + usize::from(has_missing);
    let (mut gl, mut hl, mut nl) = (0.0, 0.0, 0u32);
    for (b, bin) in hist.iter().enumerate().take(end) {
        nl += bin.n;
        let nr = n - nl;
        hl += bin.h;
        let hr = sum_h - hl;
        gl += bin.g;
        let gr = sum_g - gl;
        if nl < msl {
            continue;
        }
        if nr < msl {
            break;
        }
        if hl < MIN_HESSIAN {
            continue;
        }
        if hr < MIN_HESSIAN {
            break;
        }
        let gain = gain_of(gl, hl, gr, hr);
        if gain > best_gain && gain > 0.0 {
            best_gain = gain;
            best = Some(Split {
                gain,
                feature: f,
                bin: b,
                missing_left: false,
                g_left: gl,
                h_left: hl,
            });
        }
    }
    // Right to left: missing values go left.
    if has_missing && nb >= 2 {
        let (mut gr, mut hr, mut nr) = (0.0, 0.0, 0u32);
        for b in (0..nb - 1).rev() {
            let bin = hist[b + 1];
            nr += bin.n;
            let nl = n - nr;
            hr += bin.h;
            let hl = sum_h - hr;
            gr += bin.g;
            let gl = sum_g - gr;
            if nr < msl {
                continue;
            }
            if nl < msl {
                break;
            }
            if hr < MIN_HESSIAN {
                continue;
            }
            if hl < MIN_HESSIAN {
                break;
            }
            let gain = gain_of(gl, hl, gr, hr);
            if gain > best_gain && gain > 0.0 {
                best_gain = gain;
                best = Some(Split {
                    gain,
                    feature: f,
                    bin: b,
                    missing_left: true,
                    g_left: gl,
                    h_left: hl,
                });
            }
        }
    }
    best
}

/// A node waiting to be split, in the grower.
struct Open {
    id: usize,
    start: usize,
    end: usize,
    depth: usize,
    sum_g: f64,
    sum_h: f64,
    value: f64,
    hist: Hist,
    split: Split,
}

/// Heap order: largest gain first, then the earliest node.
struct Key {
    gain: f64,
    id: usize,
}

impl PartialEq for Key {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other) == Ordering::Equal
    }
}
impl Eq for Key {}
impl PartialOrd for Key {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}
impl Ord for Key {
    fn cmp(&self, other: &Self) -> Ordering {
        self.gain
            .total_cmp(&other.gain)
            .then_with(|| other.id.cmp(&self.id))
    }
}

/// A tree being grown: its nodes (split nodes still hold their bin) and
/// the row range of each finished leaf.
pub(super) struct Grown {
    pub(super) nodes: Vec<Node>,
    /// `(node, start, end, leaf value)`: each leaf's node index and its
    /// rows' range in the row buffer.
    pub(super) leaves: Vec<(usize, usize, usize, f64)>,
}

/// Grow one tree on `rows` (ascending; reordered in place) by best-first
/// splitting, scikit-learn's `TreeGrower`. Leaf values are not yet shrunk.
pub(super) fn grow(
    binned: &Binned,
    rows: &mut [u32],
    grads: &Grads<'_>,
    p: &GrowParams,
    rng: &mut Xoshiro256PlusPlus,
) -> Grown {
    let n_features = binned.n_features();
    let mut nodes = vec![Node::Leaf { value: 0.0 }];
    let mut leaves = Vec::new();
    let m = rows.len();
    let hist = build_hist(binned, rows, grads);
    let (sum_g, sum_h) = hist[0]
        .iter()
        .fold((0.0, 0.0), |(g, h), b| (g + b.g, h + b.h));
    let msl = p.min_samples_leaf;
    let mut scratch: Vec<u32> = Vec::with_capacity(m);
    let mut features: Vec<usize> = (0..n_features).collect();

    // The best split of a node over this node's feature draw.
    let mut find =
        |hist: &[[Bin; N_BINS]], n: usize, g: f64, h: f64, value: f64| -> Option<Split> {
            let chosen: &[usize] = match p.n_sub_features {
                Some(k) if k < n_features => {
                    for i in 0..k {
                        let j = i + below(rng, n_features - i);
                        features.swap(i, j);
                    }
                    features[..k].sort_unstable();
                    &features[..k]
                }
                _ => &features[..],
            };
            let mut best: Option<Split> = None;
            for &f in chosen {
                let s = best_split_of(binned, f, &hist[f], n as u32, g, h, value, p);
                if let Some(s) = s {
                    if best.is_none_or(|b| s.gain > b.gain) {
                        best = Some(s);
                    }
                }
            }
            best
        };

    let mut heap: BinaryHeap<Key> = BinaryHeap::new();
    let mut open: Vec<Option<Open>> = vec![None];
    if m < 2 * msl || sum_h < MIN_HESSIAN {
        leaves.push((0, 0, m, 0.0));
        return Grown { nodes, leaves };
    }
    match find(&hist, m, sum_g, sum_h, 0.0) {
        Some(split) => {
            heap.push(Key {
                gain: split.gain,
                id: 0,
            });
            open[0] = Some(Open {
                id: 0,
                start: 0,
                end: m,
                depth: 0,
                sum_g,
                sum_h,
                value: 0.0,
                hist,
                split,
            });
        }
        None => {
            leaves.push((0, 0, m, 0.0));
            return Grown { nodes, leaves };
        }
    }

    while let Some(key) = heap.pop() {
        let Some(node) = open.get_mut(key.id).and_then(Option::take) else {
            continue;
        };
        let s = node.split;
        // Stable partition of the node's rows.
        let col = &binned.cols[s.feature];
        let goes_left = |r: u32| {
            let b = col[r as usize];
            if b == MISSING {
                s.missing_left
            } else {
                usize::from(b) <= s.bin
            }
        };
        // Why no branch: which side a row goes is data, so a branch on it
        // mispredicts about every other row. Each row is written to both
        // sides and only the side it belongs to moves on (the same order
        // as a branchy partition; `w <= i`, so no unread row is overwritten).
        scratch.clear();
        scratch.resize(node.end - node.start, 0);
        let (mut w, mut k) = (node.start, 0);
        for i in node.start..node.end {
            let r = rows[i];
            let left = goes_left(r);
            rows[w] = r;
            scratch[k] = r;
            w += usize::from(left);
            k += usize::from(!left);
        }
        rows[w..node.end].copy_from_slice(&scratch[..k]);
        let mid = w;
        let n_left = mid - node.start;
        let n_right = node.end - mid;
        let missing_left = if binned.has_missing[s.feature] {
            s.missing_left
        } else {
            n_left > n_right
        };
        let depth = node.depth + 1;
        let (gl, hl) = (s.g_left, s.h_left);
        let (gr, hr) = (node.sum_g - gl, node.sum_h - hl);
        let vl = node_value(gl, hl, p.l2);
        let vr = node_value(gr, hr, p.l2);
        let (left, right) = (nodes.len(), nodes.len() + 1);
        let threshold = binned.thresholds[s.feature]
            .get(s.bin)
            .copied()
            .unwrap_or(f64::MAX);
        nodes[node.id] = Node::Split {
            feature: s.feature,
            threshold,
            missing_left,
            left,
            right,
        };
        nodes.push(Node::Leaf { value: vl });
        nodes.push(Node::Leaf { value: vr });
        open.extend([None, None]);
        let n_leaf = leaves.len() + heap.len() + 2;

        let finish_all = p.max_leaf_nodes == Some(n_leaf);
        let at_depth = p.max_depth == Some(depth);
        let left_leaf = finish_all || at_depth || n_left < 2 * msl;
        let right_leaf = finish_all || at_depth || n_right < 2 * msl;
        let mut children = [
            (left, node.start, mid, gl, hl, vl, left_leaf, None::<Hist>),
            (right, mid, node.end, gr, hr, vr, right_leaf, None::<Hist>),
        ];
        if !(left_leaf && right_leaf) {
            let small = usize::from(n_left >= n_right);
            let (_, a, b, ..) = children[small];
            let h_small = build_hist(binned, &rows[a..b], grads);
            let mut h_large = node.hist;
            subtract(&mut h_large, &h_small);
            children[1 - small].7 = Some(h_large);
            children[small].7 = Some(h_small);
        }
        for (id, a, b, g, h, v, is_leaf, hist) in children {
            let split = match (&hist, is_leaf) {
                (Some(hh), false) => find(hh, b - a, g, h, v),
                _ => None,
            };
            match (split, hist) {
                (Some(split), Some(hist)) => {
                    heap.push(Key {
                        gain: split.gain,
                        id,
                    });
                    open[id] = Some(Open {
                        id,
                        start: a,
                        end: b,
                        depth,
                        sum_g: g,
                        sum_h: h,
                        value: v,
                        hist,
                        split,
                    });
                }
                _ => leaves.push((id, a, b, v)),
            }
        }
        if finish_all {
            // Every node still waiting becomes a leaf.
            while let Some(k) = heap.pop() {
                if let Some(o) = open.get_mut(k.id).and_then(Option::take) {
                    leaves.push((o.id, o.start, o.end, o.value));
                }
            }
        }
    }
    Grown { nodes, leaves }
}
