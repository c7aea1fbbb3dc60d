#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

mod codec;
mod error;
mod ops;
mod store;

#[cfg(feature = "tokio")]
mod async_store;

pub use error::Error;
pub use store::RedisStore;

#[cfg(feature = "tokio")]
pub use async_store::AsyncRedisStore;

/// The key prefix of [`RedisStore::new`] (and `AsyncRedisStore::new`).
pub const DEFAULT_PREFIX: &str = "tokenstile:";
