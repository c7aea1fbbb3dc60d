//! Pages beyond the API reference: where the crate runs, what it costs, how it is tested.
//!
//! This module holds no code. Each page is also a Markdown file in the repository, named
//! below, and its figures are checked against fresh measurements by `.ci/figures`.

#[doc = include_str!("../docs/targets.md")]
pub mod targets {}

#[doc = include_str!("../BENCHMARKING.md")]
pub mod benchmarks {}

#[doc = include_str!("../docs/testing.md")]
pub mod testing {}
