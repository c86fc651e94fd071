//! Root hash, seed derivation and named RNG streams: the one place where
//! hpsearch decides where randomness comes from.
//!
//! # Derivation (part of the results format: changing it changes every search)
//!
//! * **Root hash** = SHA-256 of the canonical JSON of the resolved search
//!   (see `config::Search::canonical`), written as 64 lowercase hex digits.
//! * **Search seed** = the first 8 bytes, little-endian, of
//!   `SHA-256("hpsearch/search/v1" || 0x00 || root)`: for search-wide
//!   sequences such as the scrambled Sobol design.
//! * **Trial seed** `seed_i` = the first 8 bytes, little-endian, of
//!   `SHA-256("hpsearch/trial/v1" || 0x00 || root (32 bytes) || i as u64 LE)`.
//! * **Named stream** `stream(seed, name)` = a `Xoshiro256PlusPlus` whose
//!   32-byte state is `SHA-256("hpsearch/stream/v1" || 0x00 || name || 0x00
//!   || seed as u64 LE)`. Trial `i` draws its proposal from
//!   `stream(seed_i, "proposal")` and trains from `sub_seed(seed_i,
//!   "training", fold)`; cross-validation folds come from `sub_seed(user
//!   seed, "folds", 0)` so every trial is scored on the same folds. The
//!   Sobol design is scrambled with `sub_seed(search seed, "sobol/owen",
//!   dimension)` (see `strategy::sobol`). Every stream's name is a
//!   constant of [`streams`].
//!
//! SHA-256 (not a fast mixer) because the derivation must never change and
//! must give unrelated streams for neighbouring indices; its cost is noise
//! next to a trial.
//!
//! # Example
//!
//! ```
//! use hpsearch::seed::{self, streams, RootHash};
//! use rand::RngCore;
//!
//! // A search's root hash is the SHA-256 of its canonical form
//! // (`config::Search::root` computes it); here, of `{}`.
//! let root = RootHash::of(b"{}");
//! assert_eq!(
//!     root.hex(),
//!     "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
//! );
//! // Trial 0's seed, and the training seed of its fold 2: the same on
//! // every machine, whatever the thread count.
//! let trial = root.trial_seed(0);
//! assert_eq!(trial, 5334828449605815608);
//! let fold_2 = seed::sub_seed(trial, streams::TRAINING, 2);
//! assert_ne!(fold_2, seed::sub_seed(trial, streams::TRAINING, 3));
//! // A named stream is an explicit RNG: equal seeds, equal draws.
//! let a = seed::stream(trial, streams::PROPOSAL).next_u64();
//! let b = seed::stream(trial, streams::PROPOSAL).next_u64();
//! assert_eq!(a, b);
//! ```

use rand::SeedableRng;
use rand_xoshiro::Xoshiro256PlusPlus;
use sha2::{Digest, Sha256};

/// The root hash of a search: 32 bytes, shown as hex.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct RootHash(pub [u8; 32]);

impl RootHash {
    /// Hash a canonical encoding.
    pub fn of(canonical: &[u8]) -> RootHash {
        RootHash(Sha256::digest(canonical).into())
    }

    /// 64 lowercase hex digits.
    pub fn hex(&self) -> String {
        hex(&self.0)
    }

    /// Parse 64 hex digits.
    pub fn from_hex(s: &str) -> Option<RootHash> {
        if s.len() != 64 || !s.is_ascii() {
            return None;
        }
        let mut out = [0u8; 32];
        for (i, b) in out.iter_mut().enumerate() {
            *b = u8::from_str_radix(&s[2 * i..2 * i + 2], 16).ok()?;
        }
        Some(RootHash(out))
    }

    /// A seed for the whole search (not one trial): for sequences addressed
    /// by trial index, such as the scrambling of a Sobol design.
    pub fn search_seed(&self) -> u64 {
        let mut h = Sha256::new();
        h.update(b"hpsearch/search/v1\0");
        h.update(self.0);
        first_u64(&h.finalize())
    }

    /// The seed of trial `index`.
    pub fn trial_seed(&self, index: u64) -> u64 {
        let mut h = Sha256::new();
        h.update(b"hpsearch/trial/v1\0");
        h.update(self.0);
        h.update(index.to_le_bytes());
        first_u64(&h.finalize())
    }
}

/// The names of every seed stream, the one place they are spelled.
///
/// Each is an input to [`stream`] or [`sub_seed`], so its string is part of
/// every result drawn from it: changing one changes every search that uses
/// it. Give a new use of randomness a new name here; never reuse one.
pub mod streams {
    /// Random search's proposals: `stream(trial seed, PROPOSAL)`.
    pub const PROPOSAL: &str = "proposal";
    /// TPE's proposals: `stream(trial seed, TPE)`.
    pub const TPE: &str = "tpe";
    /// The Gaussian process's acquisition sweep: `stream(trial seed, GP)`.
    pub const GP: &str = "gp";
    /// The Gaussian process's hyperparameter fit (cold starts):
    /// `stream(search seed, GP_FIT)`.
    pub const GP_FIT: &str = "gp-fit";
    /// The Sobol design's Owen scrambling, one sub-seed a dimension:
    /// `sub_seed(search seed, SOBOL_OWEN, dimension)`.
    pub const SOBOL_OWEN: &str = "sobol/owen";
    /// Sobol points past the design's end:
    /// `stream(sub_seed(search seed, SOBOL_EXTRA, index), SOBOL_EXTRA)`.
    pub const SOBOL_EXTRA: &str = "sobol/extra";
    /// Cross-validation folds, the same for every trial:
    /// `sub_seed(user seed, FOLDS, 0)`.
    pub const FOLDS: &str = "folds";
    /// Nested subsamples of the training rows, one a fold:
    /// `sub_seed(user seed, SUBSAMPLE, fold)`.
    pub const SUBSAMPLE: &str = "subsample";
    /// A model's training on one fold: `sub_seed(trial seed, TRAINING, fold)`.
    pub const TRAINING: &str = "training";
    /// The refit on all rows for an artifact: `sub_seed(trial seed, REFIT, 0)`.
    pub const REFIT: &str = "refit";

    /// Every name above, for the test that they are distinct.
    #[cfg(test)]
    pub(crate) const ALL: [&str; 10] = [
        PROPOSAL,
        TPE,
        GP,
        GP_FIT,
        SOBOL_OWEN,
        SOBOL_EXTRA,
        FOLDS,
        SUBSAMPLE,
        TRAINING,
        REFIT,
    ];
}

/// A named RNG stream derived from a seed.
pub fn stream(seed: u64, name: &str) -> Xoshiro256PlusPlus {
    Xoshiro256PlusPlus::from_seed(stream_state(seed, name))
}

/// A `u64` seed for part `index` of stream `name` (a fold, a tree):
/// for code that takes seeds, not RNGs.
pub fn sub_seed(seed: u64, name: &str, index: u64) -> u64 {
    let mut h = Sha256::new();
    h.update(b"hpsearch/sub/v1\0");
    h.update(name.as_bytes());
    h.update([0u8]);
    h.update(seed.to_le_bytes());
    h.update(index.to_le_bytes());
    first_u64(&h.finalize())
}

fn stream_state(seed: u64, name: &str) -> [u8; 32] {
    let mut h = Sha256::new();
    h.update(b"hpsearch/stream/v1\0");
    h.update(name.as_bytes());
    h.update([0u8]);
    h.update(seed.to_le_bytes());
    h.finalize().into()
}

fn first_u64(bytes: &[u8]) -> u64 {
    let mut b = [0u8; 8];
    b.copy_from_slice(&bytes[..8]);
    u64::from_le_bytes(b)
}

/// Lowercase hex of bytes.
pub fn hex(bytes: &[u8]) -> String {
    use std::fmt::Write;
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;
    use rand::RngCore;

    // Fixed vectors: if one of these changes, every recorded search stops
    // resuming and replaying. Change them only with a format version bump.
    #[test]
    fn root_hash_vector() {
        assert_eq!(
            RootHash::of(b"{}").hex(),
            "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"
        );
    }

    #[test]
    fn trial_seed_vectors() {
        let root = RootHash::of(b"{}");
        let got: Vec<u64> = (0..3).map(|i| root.trial_seed(i)).collect();
        assert_eq!(got, PINNED_TRIAL_SEEDS);
        assert_eq!(root.search_seed(), 5183087706835281785);
    }

    #[test]
    fn stream_vectors() {
        let mut r = stream(42, "proposal");
        let got = [r.next_u64(), r.next_u64()];
        assert_eq!(got, PINNED_STREAM);
        assert_eq!(sub_seed(42, "training", 3), PINNED_SUB);
    }

    #[test]
    fn streams_are_distinct() {
        let a = stream(1, "proposal").next_u64();
        let b = stream(1, "training").next_u64();
        let c = stream(2, "proposal").next_u64();
        assert!(a != b && a != c && b != c);
        assert_ne!(sub_seed(1, "folds", 0), sub_seed(1, "folds", 1));
    }

    #[test]
    fn hex_round_trip() {
        let r = RootHash::of(b"abc");
        assert_eq!(RootHash::from_hex(&r.hex()), Some(r));
        assert_eq!(RootHash::from_hex("zz"), None);
    }

    // Computed independently with Python's hashlib (see the module doc).
    const PINNED_TRIAL_SEEDS: [u64; 3] = [
        5334828449605815608,
        15847641157761603477,
        16802861408540473263,
    ];
    const PINNED_STREAM: [u64; 2] = [2319232457586992097, 4543519544250247450];
    const PINNED_SUB: u64 = 496310578951545222;

    /// The names reach every hash drawn from them: they are pinned here
    /// and must be distinct.
    #[test]
    fn stream_names_are_pinned_and_distinct() {
        assert_eq!(
            streams::ALL,
            [
                "proposal",
                "tpe",
                "gp",
                "gp-fit",
                "sobol/owen",
                "sobol/extra",
                "folds",
                "subsample",
                "training",
                "refit"
            ]
        );
        let mut names = streams::ALL.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), streams::ALL.len());
    }
}
