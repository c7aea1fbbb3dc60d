//! Opaque server-side sessions.
//!
//! A [`SessionId`] is the bearer secret a client presents, typically in a cookie. A store
//! keeps a [`SessionRecord`] for it under the ID's lookup key, a SHA-256 digest, never
//! under the ID itself. [`SessionPolicy`] holds the timeouts and implements the lifecycle
//! over any [`SessionStore`](crate::store::SessionStore), as `async fn`s (see
//! [`block_on`](crate::store::block_on) for programs without an executor):
//!
//! | operation | method | when |
//! |---|---|---|
//! | create | [`SessionPolicy::create`] | login |
//! | load and validate | [`SessionPolicy::load`] | every request |
//! | save changed data (versioned) | [`SessionPolicy::save`] | after changing the data |
//! | rotate the ID, keeping the data | [`SessionPolicy::rotate`] | login, privilege change |
//! | destroy | [`SessionPolicy::destroy`] | logout |
//! | destroy all of a subject | [`SessionPolicy::destroy_subject`] | "log out everywhere", password change |
//! | destroy all others of a subject | [`SessionPolicy::destroy_others`] | "sign out of all other sessions" |
//! | list a subject's sessions | [`SessionPolicy::list`] | "where you're signed in" |
//! | end one of them by handle | [`SessionPolicy::end_session`] | "sign out of this device" |
//! | purge expired | [`SessionPolicy::purge_expired`] | now and then |
//!
//! See the [`store`](crate::store) module for a complete example.
//!
//! [`SessionRecord`]: crate::store::SessionRecord

mod id;
mod lifecycle;

pub(crate) use id::decode_secret;
pub use id::{SessionId, SessionIdError};
pub use lifecycle::{Rotated, SessionError, SessionPolicy};
