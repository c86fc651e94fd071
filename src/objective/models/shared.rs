//! Work a model shares across the trials of a search on one training
//! matrix (one fold, or one rung's subsample of it).
//!
//! A cross-validated search trains many candidates on the same fold; much
//! of a fit depends only on the fold's rows, not on the candidate (the Gram
//! matrix of a linear model, the binned features of a boosting model). A
//! [`Shared`] keeps such work by key, made once and handed to every trial.
//!
//! # Why sharing cannot change a result
//!
//! What is kept under a key must be a pure function of the training matrix
//! and the key (never of which candidates ran before, or in what order).
//! Then a trial computes the same bits whether it makes the value or finds
//! it made, on any thread count, after a resume and on replay. Each user
//! states this for its keys, and tests it by comparing a search with and
//! without sharing ([`Shared::disabled`]).
//!
//! # Makers run off the thread pool
//!
//! A maker must not put work on the rayon pool: a thread waiting there may
//! pick up another trial that asks for the same key, and wait for itself.
//!
//! # Memory
//!
//! A [`Shared`] keeps at most [`SHARED_BYTES`] (as each value's maker
//! reports it); past that a value is made for the trial that asked and
//! dropped after it. That changes time, never a score.

use std::any::Any;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, OnceLock};

/// At most this many bytes are kept by one [`Shared`]. With k folds a
/// search keeps at most k times it (plus one per rung of `samples`).
pub const SHARED_BYTES: usize = 64 << 20;

/// A memory budget from the environment variable `name` (a number of
/// bytes; unset or anything else: `None`). Budgets change time and
/// memory, never a result, so reading them from the environment is safe.
pub(crate) fn bytes_from_env(name: &str) -> Option<usize> {
    std::env::var(name).ok()?.trim().parse().ok()
}

/// A slot is an `OnceLock<Arc<T>>` for the `T` named in its key.
type Slot = Arc<dyn Any + Send + Sync>;

/// Values shared by the trials on one training matrix (see the module doc).
pub struct Shared {
    slots: Mutex<BTreeMap<String, Slot>>,
    /// Bytes kept so far (as the makers reported them).
    kept: Mutex<usize>,
    /// At most this many bytes are kept; 0 keeps nothing.
    budget: usize,
}

impl Default for Shared {
    fn default() -> Self {
        Shared::with_budget(SHARED_BYTES)
    }
}

impl std::fmt::Debug for Shared {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Shared")
            .field("budget", &self.budget)
            .finish_non_exhaustive()
    }
}

impl Shared {
    /// Keeping at most `budget` bytes.
    pub fn with_budget(budget: usize) -> Shared {
        Shared {
            slots: Mutex::new(BTreeMap::new()),
            kept: Mutex::new(0),
            budget,
        }
    }

    /// Keeping nothing: every fit makes its own values (what a fit outside
    /// a search does, and what tests compare sharing against).
    pub fn disabled() -> Shared {
        Shared::with_budget(0)
    }

    /// Whether it keeps nothing ([`Shared::disabled`], or a budget of 0):
    /// then every value is made for its caller alone, and its maker may
    /// use the rayon pool.
    pub fn keeps_nothing(&self) -> bool {
        self.budget == 0
    }

    /// The value under `key`: made by `make` (which returns it and the
    /// bytes it holds) the first time, and kept while the budget allows.
    /// A trial asking while another makes it waits for that one, so the
    /// work is done once. `key` must name everything the value depends on
    /// besides the training matrix; the value's type is part of the key.
    pub fn get_or_make<T: Any + Send + Sync>(
        &self,
        key: &str,
        make: impl FnOnce() -> (T, usize),
    ) -> Arc<T> {
        let full = format!("{}\u{0}{key}", std::any::type_name::<T>());
        let slot = {
            // A poisoned lock only means another trial panicked while
            // holding it (the map itself is never left half-changed).
            let mut slots = self.slots.lock().unwrap_or_else(|e| e.into_inner());
            match slots.get(&full) {
                Some(slot) => Some(Arc::clone(slot)),
                None if self.used() < self.budget => {
                    let slot: Slot = Arc::new(OnceLock::<Arc<T>>::new());
                    slots.insert(full, Arc::clone(&slot));
                    Some(slot)
                }
                None => None,
            }
        };
        // The type is in the key, so the downcast always succeeds.
        let Some(cell) = slot.and_then(|s| s.downcast::<OnceLock<Arc<T>>>().ok()) else {
            return Arc::new(make().0);
        };
        Arc::clone(cell.get_or_init(|| {
            let (value, bytes) = make();
            let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
            *kept = kept.saturating_add(bytes);
            Arc::new(value)
        }))
    }

    fn used(&self) -> usize {
        *self.kept.lock().unwrap_or_else(|e| e.into_inner())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_value_is_made_once_and_shared() {
        let shared = Shared::default();
        let calls = AtomicUsize::new(0);
        let make = || {
            calls.fetch_add(1, Ordering::SeqCst);
            (vec![1.0_f64, 2.0], 16)
        };
        let a = shared.get_or_make("gram", make);
        let b = shared.get_or_make("gram", make);
        assert_eq!(*a, vec![1.0, 2.0]);
        assert!(Arc::ptr_eq(&a, &b));
        assert_eq!(calls.load(Ordering::SeqCst), 1);
        // Another key, or another type under the same key, is another value.
        let c = shared.get_or_make("other", make);
        assert!(!Arc::ptr_eq(&a, &c));
        let d = shared.get_or_make("gram", || (7_u8, 1));
        assert_eq!(*d, 7);
        assert_eq!(calls.load(Ordering::SeqCst), 2);
    }

    #[test]
    fn past_the_budget_values_are_made_for_each_caller() {
        let shared = Shared::with_budget(10);
        let calls = AtomicUsize::new(0);
        let make = |bytes| {
            calls.fetch_add(1, Ordering::SeqCst);
            (0_u32, bytes)
        };
        shared.get_or_make("big", || make(100));
        shared.get_or_make("big", || make(100));
        assert_eq!(calls.load(Ordering::SeqCst), 1, "the first is kept");
        shared.get_or_make("next", || make(1));
        shared.get_or_make("next", || make(1));
        assert_eq!(calls.load(Ordering::SeqCst), 3, "over budget: not kept");
        let off = Shared::disabled();
        off.get_or_make("x", || make(1));
        off.get_or_make("x", || make(1));
        assert_eq!(calls.load(Ordering::SeqCst), 5);
    }

    #[test]
    fn concurrent_callers_wait_for_one_maker() {
        let shared = Shared::default();
        let calls = AtomicUsize::new(0);
        std::thread::scope(|s| {
            for _ in 0..8 {
                s.spawn(|| {
                    shared.get_or_make("slow", || {
                        calls.fetch_add(1, Ordering::SeqCst);
                        std::thread::sleep(std::time::Duration::from_millis(20));
                        (1_i64, 8)
                    })
                });
            }
        });
        assert_eq!(calls.load(Ordering::SeqCst), 1);
    }
}
