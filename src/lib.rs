#![no_std]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

#[cfg(feature = "alloc")]
extern crate alloc;
#[cfg(feature = "std")]
extern crate std;

mod error;
pub mod http;
pub mod jwt;
mod time;

pub use error::{Claim, DecodeError, EncodeError, Error, JsonError, KeyError, VerifyError};
pub use time::{Clock, UnixTime};

#[cfg(feature = "std")]
pub use time::SystemClock;
