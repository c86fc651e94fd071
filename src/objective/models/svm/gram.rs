//! Dot products shared by the fits of one process: the SVM's training
//! Gram matrix `xᵢ · xⱼ` and the cross products of a scored matrix with
//! the training rows, kept by the exact bits of the matrices they come
//! from.
//!
//! A search fits the same training fold (and, with `resource = "samples"`,
//! the same rung subsample) once per candidate, and scores the same
//! validation fold; only `C` and `gamma` change. The dot products do not
//! depend on either, so they are computed once and each fit only turns
//! them into kernel values (`exp(−γ(‖a‖² + ‖b‖² − 2a·b))`), which is most
//! of the kernel's cost gone (64 features: one exponential per entry
//! instead of 64 products and sums).
//!
//! # Determinism
//!
//! A cached product is computed by the same functions, on the same bits,
//! as the one it replaces, so a hit and a miss give the same bits: the
//! cache changes time and memory, never a result, whatever the thread
//! count or the order in which trials fill it. Entries are found by
//! comparing the matrices bit for bit (no hash, so no collision), and
//! which entry an eviction drops (least recently used, by a counter, not
//! a clock) only decides what is recomputed.
//!
//! # Memory
//!
//! At most [`GRAM_BYTES`] of entries (their products and the matrices
//! that key them) are kept; `HPSEARCH_SVM_GRAM_BYTES` overrides it (0
//! turns the cache off). A matrix whose entry alone is larger is never
//! kept: its fits compute their kernel directly, as without a cache.
//! Digits (1,437 training rows a fold) needs about 21 MB a fold.

use std::sync::{Arc, Mutex, MutexGuard, OnceLock};

use super::{cross_dots, kernel_matrix, Kernel};

/// The default cap on the bytes the cache keeps (see the module doc).
pub const GRAM_BYTES: usize = 256 << 20;

/// The training Gram matrix of one class-ordered training matrix.
#[derive(Debug)]
pub(crate) struct TrainGram {
    /// Identifies this entry to the cross products made with it.
    id: u64,
    /// The training rows, row-major `n × d`: the key.
    xs: Vec<f64>,
    n: usize,
    d: usize,
    /// `dots[i·n + j] = xs_i · xs_j`, the bits of
    /// `kernel_matrix(…, Kernel::Linear)`.
    pub dots: Vec<f64>,
}

impl TrainGram {
    /// Rows and features of the training matrix.
    pub fn shape(&self) -> (usize, usize) {
        (self.n, self.d)
    }
}

/// Dot products of the rows of a scored matrix with a training matrix's.
#[derive(Debug)]
pub(crate) struct CrossGram {
    /// The [`TrainGram::id`] of the training matrix.
    train: u64,
    /// The scored rows, row-major: the key.
    x: Vec<f64>,
    /// `dots[t·n + p]`: scored row `t` · training row `p` (class order).
    pub dots: Vec<f64>,
}

enum Item {
    Train(Arc<TrainGram>),
    Cross(Arc<CrossGram>),
}

struct Entry {
    /// The counter's value at the last use.
    last: u64,
    bytes: usize,
    item: Item,
}

#[derive(Default)]
struct State {
    /// Counts uses, for least-recently-used eviction.
    tick: u64,
    next_id: u64,
    bytes: usize,
    entries: Vec<Entry>,
}

/// A bounded store of Gram matrices, shared by threads.
pub(crate) struct GramCache {
    budget: usize,
    state: Mutex<State>,
}

impl std::fmt::Debug for GramCache {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "GramCache({} bytes)", self.budget)
    }
}

/// Whether two matrices have the same bits (so the same products).
fn same_bits(a: &[f64], b: &[f64]) -> bool {
    a.len() == b.len() && a.iter().zip(b).all(|(x, y)| x.to_bits() == y.to_bits())
}

impl GramCache {
    /// An empty cache keeping at most `budget` bytes.
    pub fn new(budget: usize) -> GramCache {
        GramCache {
            budget,
            state: Mutex::new(State::default()),
        }
    }

    /// The process's cache, sized by `HPSEARCH_SVM_GRAM_BYTES` (a number of
    /// bytes; anything else leaves [`GRAM_BYTES`]).
    pub fn global() -> &'static Arc<GramCache> {
        static GLOBAL: OnceLock<Arc<GramCache>> = OnceLock::new();
        GLOBAL.get_or_init(|| {
            let budget =
                crate::objective::models::shared::bytes_from_env("HPSEARCH_SVM_GRAM_BYTES")
                    .unwrap_or(GRAM_BYTES);
            Arc::new(GramCache::new(budget))
        })
    }

    fn lock(&self) -> MutexGuard<'_, State> {
        // The state is consistent between statements (nothing in here
        // panics while holding it), so a poisoned lock is still good.
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Bytes kept now.
    #[cfg(test)]
    pub fn bytes(&self) -> usize {
        self.lock().bytes
    }

    /// Make room for `bytes` (evicting the least recently used entries)
    /// and keep `item`.
    fn insert(&self, st: &mut State, bytes: usize, item: Item) {
        while st.bytes + bytes > self.budget && !st.entries.is_empty() {
            let oldest = st
                .entries
                .iter()
                .enumerate()
                .min_by_key(|(_, e)| e.last)
                .map_or(0, |(i, _)| i);
            let gone = st.entries.swap_remove(oldest);
            st.bytes -= gone.bytes;
        }
        st.tick += 1;
        st.bytes += bytes;
        st.entries.push(Entry {
            last: st.tick,
            bytes,
            item,
        });
    }

    /// The Gram matrix of the row-major `n × d` matrix `xs`, from the
    /// cache or computed and kept; `None` when it alone would exceed the
    /// budget.
    pub fn train(&self, xs: &[f64], n: usize, d: usize) -> Option<Arc<TrainGram>> {
        let bytes = n
            .checked_mul(n)?
            .checked_add(xs.len())?
            .checked_mul(std::mem::size_of::<f64>())?;
        if bytes > self.budget || xs.len() != n * d {
            return None;
        }
        if let Some(found) = self.find_train(xs, n, d) {
            return Some(found);
        }
        // Computed unlocked: another thread may compute the same one at
        // once; the first kept wins, the bits are the same.
        let dots = kernel_matrix(xs, &[], n, d, Kernel::Linear);
        let mut st = self.lock();
        if let Some(found) = find_train_in(&mut st, xs, n, d) {
            return Some(found);
        }
        let g = Arc::new(TrainGram {
            id: st.next_id,
            xs: xs.to_vec(),
            n,
            d,
            dots,
        });
        st.next_id += 1;
        self.insert(&mut st, bytes, Item::Train(Arc::clone(&g)));
        Some(g)
    }

    fn find_train(&self, xs: &[f64], n: usize, d: usize) -> Option<Arc<TrainGram>> {
        find_train_in(&mut self.lock(), xs, n, d)
    }

    /// The products of the row-major rows `x` (of the training matrix's
    /// width) with the training rows of `train`, from the cache or
    /// computed and kept; `None` when they alone would exceed the budget.
    pub fn cross(&self, train: &TrainGram, x: &[f64]) -> Option<Arc<CrossGram>> {
        let (n, d) = train.shape();
        if d == 0 || !x.len().is_multiple_of(d) {
            return None;
        }
        let rows = x.len() / d;
        let bytes = rows
            .checked_mul(n)?
            .checked_add(x.len())?
            .checked_mul(std::mem::size_of::<f64>())?;
        if bytes > self.budget {
            return None;
        }
        let find = |st: &mut State| {
            st.tick += 1;
            let tick = st.tick;
            st.entries.iter_mut().find_map(|e| match &e.item {
                Item::Cross(c) if c.train == train.id && same_bits(&c.x, x) => {
                    e.last = tick;
                    Some(Arc::clone(c))
                }
                _ => None,
            })
        };
        if let Some(found) = find(&mut self.lock()) {
            return Some(found);
        }
        let mut dots = vec![0.0; rows * n];
        cross_dots(x, &train.xs, n, d, &mut dots);
        let mut st = self.lock();
        if let Some(found) = find(&mut st) {
            return Some(found);
        }
        let c = Arc::new(CrossGram {
            train: train.id,
            x: x.to_vec(),
            dots,
        });
        self.insert(&mut st, bytes, Item::Cross(Arc::clone(&c)));
        Some(c)
    }
}

fn find_train_in(st: &mut State, xs: &[f64], n: usize, d: usize) -> Option<Arc<TrainGram>> {
    st.tick += 1;
    let tick = st.tick;
    st.entries.iter_mut().find_map(|e| match &e.item {
        Item::Train(g) if g.n == n && g.d == d && same_bits(&g.xs, xs) => {
            e.last = tick;
            Some(Arc::clone(g))
        }
        _ => None,
    })
}
