//! Nothing: this package is its benchmarks and tests (see `Cargo.toml`).
#![no_std]
