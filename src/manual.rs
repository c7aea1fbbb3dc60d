//! Pages beyond the API reference: where the crate runs, what it costs, how it is tested.
//!
//! This module holds no code. Each page is a Markdown file of the repository, shown here
//! as it reads there: [`targets`] is `docs/targets.md`, [`benchmarks`] is
//! `BENCHMARKING.md`, and [`testing`] is `docs/testing.md`. The sizes and stack figures
//! in [`targets`] and the instruction counts in [`benchmarks`] are compared with fresh
//! measurements in CI.

#[doc = include_str!("../docs/targets.md")]
pub mod targets {}

#[doc = include_str!("../BENCHMARKING.md")]
pub mod benchmarks {}

#[doc = include_str!("../docs/testing.md")]
pub mod testing {}
