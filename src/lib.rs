#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod error;
pub mod http;
pub mod jwt;
pub mod refresh;
pub mod session;
pub mod store;
mod time;

pub use error::{Claim, DecodeError, EncodeError, Error, JsonError, KeyError, VerifyError};
pub use time::{Clock, UnixTime};

#[cfg(feature = "std")]
pub use time::SystemClock;
