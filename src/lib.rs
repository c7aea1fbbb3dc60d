// README.md links to items with full docs.rs URLs, so that its links also work on the
// repository page; these definitions come first and so win in the crate docs, pointing at
// the items of this build.
//! [`Hs256Key`]: jwt::Hs256Key
//! [`KeyRing`]: jwt::KeyRing
//! [`SessionId`]: session::SessionId
//! [`LookupKey`]: store::LookupKey
//! [`SessionPolicy`]: session::SessionPolicy
//! [`http::find_cookie`]: http::find_cookie
//! [`CookieOptions`]: http::CookieOptions
//! [`jwt::revoke_token`]: jwt::revoke_token
//! [`jwt::revoke_subject`]: jwt::revoke_subject
//! [`jwt::verify_not_revoked`]: jwt::verify_not_revoked
//! [`SessionHandle`]: store::SessionHandle
//! [`refresh::RefreshPolicy::issue`]: refresh::RefreshPolicy::issue
//! [`refresh::RefreshPolicy::refresh`]: refresh::RefreshPolicy::refresh
//! [`refresh::RefreshPolicy::logout`]: refresh::RefreshPolicy::logout
//! [`refresh::RefreshPolicy::logout_everywhere`]: refresh::RefreshPolicy::logout_everywhere
//! [`refresh::cookie_options`]: refresh::cookie_options
//! [`store::block_on`]: store::block_on
//! [`store::Store`]: store::Store
//! [`store::SessionStore<D>`]: store::SessionStore
//! [`store::RevocationStore`]: store::RevocationStore
//! [`store::MemoryStore`]: store::MemoryStore
//! [manual-targets]: manual::targets
//! [manual-benchmarks]: manual::benchmarks
//! [manual-testing]: manual::testing
// Without `std` there is no `SharedStore`, and README's docs.rs link stands.
#![cfg_attr(feature = "std", doc = "[`store::SharedStore`]: store::SharedStore")]
#![no_std]
#![forbid(unsafe_code)]
#![cfg_attr(docsrs, feature(doc_cfg))]
#![doc = include_str!("../README.md")]

#[cfg(any(feature = "alloc", test))]
extern crate alloc;
#[cfg(any(feature = "std", test))]
extern crate std;

mod b64;
mod bytes;
mod copy;
mod ct;
mod error;
pub mod http;
pub mod jwt;
pub mod manual;
pub mod refresh;
pub mod session;
mod sha256;
pub mod store;
mod time;

pub use error::{Claim, DecodeError, EncodeError, Error, JsonError, KeyError, VerifyError};
pub use time::{Clock, UnixTime};

#[cfg(feature = "std")]
pub use time::SystemClock;
