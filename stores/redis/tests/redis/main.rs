//! Integration tests against real `redis-server` processes (see `redis/server.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    clippy::cast_possible_truncation,
    missing_docs,
    unreachable_pub
)]

mod bounded;
#[cfg(feature = "cluster")]
mod cluster;
mod concurrency;
mod conformance;
mod fixture;
mod layout;
mod operations;
mod refresh;
mod resilience;
mod round_trips;
mod server;
mod support;
mod unchanged;
