//! The built-in benchmark functions, evaluated as objectives. They live in
//! [`crate::benchmark`], below `config` (which checks a search file's
//! `function = …` with them); this path is kept for the library's users.

pub use crate::benchmark::*;
