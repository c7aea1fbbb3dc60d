//! Opaque server-side sessions.
//!
//! A [`SessionId`] is the bearer secret a client presents; a store keeps a
//! [`SessionRecord`] under the ID's lookup key.

mod id;
mod record;

pub use id::{SessionId, SessionIdError};
pub use record::SessionRecord;
