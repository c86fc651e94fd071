//! hpsearch: reproducible hyperparameter search.
//!
//! A search file (TOML) names a space, a strategy and an objective; `run`
//! evaluates trials in parallel and writes a journal that is the same, byte
//! for byte, whatever the thread count. See `design.md` in the repository
//! for the contract and the README for the user's view.
//!
//! | module | owns |
//! | --- | --- |
//! | [`config`] | the TOML schema, validation, defaults, canonical form; what a model accepts |
//! | [`space`] | parameter kinds, sampling, grid enumeration |
//! | [`value`] | parameter values and maps (in name order), shared by every module |
//! | [`seed`] | root hash, seed derivation, named RNG streams |
//! | `numeric` | special functions, the AVX2 dispatch, where libm may be used |
//! | [`benchmark`] | the built-in benchmark functions (formulas, names, parameter checks) |
//! | [`strategy`] | the `Strategy` trait; grid, random, sobol, tpe, gp |
//! | [`objective`] | the `Objective` trait; built-in models and their list, functions, commands |
//! | [`data`] | CSV loading and hashing, preprocessing, folds, metrics, the `Task` |
//! | [`pruner`] | whether a running trial stops early, from settled curves |
//! | [`search`] | the coordinator: parallel evaluation, ordered commit |
//! | [`journal`] | the results folder: write, read, validate, resume |
//! | [`replay`] | replay, export, predict |
//! | [`drift`] | the model artifact and its training-data profile; drift checks of new data |
//! | [`inspect`] | show, list, compare and the HTML report (read-only) |
//! | [`storage`] | one search on many machines through PostgreSQL |
//! | [`interrupt`] | the stop token, the Ctrl-C handler, the running process groups |
//! | [`engine`] | the library's entry point: a search from a file or from parts, run, resume, stop token, ask/tell |
//!
//! The command line (arguments, progress, exit codes) is the binary's own
//! module, `src/cli.rs`, a thin caller of [`engine`].
//!
//! Modules are layered, each using only those in earlier groups (no import
//! cycle; `scripts/module_cycles.py` checks): `value`, `seed`, `numeric`,
//! `interrupt`; `space`, `benchmark`; `data`; `strategy`; `config`;
//! `objective`; `journal`, `pruner`; `search`; `storage`, `drift`;
//! `replay`, `inspect`; `engine`. See design.md, "Shape of the code".

#![warn(missing_docs)]

pub mod benchmark;
pub mod config;
pub mod data;
pub mod drift;
pub mod engine;
pub mod inspect;
pub mod interrupt;
pub mod journal;
pub(crate) mod numeric;
pub mod objective;
pub mod pruner;
pub mod replay;
pub mod search;
pub mod seed;
pub mod space;
pub mod storage;
pub mod strategy;
pub mod value;
