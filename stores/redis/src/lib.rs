#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

mod codec;
mod connect;
mod error;
mod ops;
mod store;

pub use connect::{Durability, OnWeakServer, Options, ServerSettings};
pub use error::Error;
pub use store::RedisStore;

/// The key prefix of [`RedisStore::new`] and of [`Options::new`].
pub const DEFAULT_PREFIX: &str = "tokenstile:";
