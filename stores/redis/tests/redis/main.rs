//! Integration tests against a real `redis-server` (see `redis/server.rs`).
#![allow(
    clippy::unwrap_used,
    clippy::expect_used,
    clippy::panic,
    clippy::indexing_slicing,
    clippy::arithmetic_side_effects,
    clippy::std_instead_of_core,
    clippy::std_instead_of_alloc,
    missing_docs,
    unreachable_pub
)]

mod atomicity;
mod conformance;
mod errors;
mod fixture;
mod layout;
mod operations;
mod server;
mod shared;
mod support;
mod ttl;
