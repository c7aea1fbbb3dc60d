//! One storage trait for sessions and JWT revocations.
//!
//! A [`SessionStore`] holds three kinds of entries, each filed under a [`LookupKey`]
//! that tokenstile derives:
//!
//! - **sessions**: a [`SessionRecord`] under the key of its session ID;
//! - **revoked tokens**: "the token with this `iss` and `jti` is revoked until *t*";
//! - **watermarks**: "tokens of this subject from this issuer issued at or before *c*
//!   are revoked", kept until a time of their own ([`Watermark`]).
//!
//! Every entry carries the time after which it is dead, so a store can hand expiry to its
//! backend (a Redis TTL) or purge it itself. The trait is synchronous, `no_std` and takes
//! `&mut self` for every call, because a microcontroller has no `Mutex`; a thread-safe
//! store implements it for a shared reference instead (see [`SharedStore`] with feature
//! `std`). [`AsyncSessionStore`] is the same contract with `async fn`s, and every
//! `SessionStore` is also an `AsyncSessionStore`.
//!
//! Stores in this crate: [`MemoryStore`] (fixed capacity, no allocator) and, with feature
//! `std`, [`SharedStore`]. With feature `conformance`, the `conformance` module holds the
//! test suite every store must pass.
//!
//! # For framework authors
//!
//! Don't call the store directly for sessions: [`SessionPolicy`] implements the session
//! lifecycle over any store (timeouts, throttled touch, rotation, log out everywhere), and
//! [`jwt::revoke_token`](crate::jwt::revoke_token) and its siblings implement token
//! revocation. Keep one store per application and pass it to each call.
//!
//! ```
//! use tokenstile::UnixTime;
//! use tokenstile::session::{Rotated, SessionError, SessionId, SessionPolicy};
//! use tokenstile::store::MemoryStore;
//! # struct Rng(u8);
//! # impl rand_core::TryRng for Rng {
//! #     type Error = core::convert::Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Self::Error> { let mut b = [0; 4]; self.try_fill_bytes(&mut b)?; Ok(u32::from_le_bytes(b)) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Self::Error> { let mut b = [0; 8]; self.try_fill_bytes(&mut b)?; Ok(u64::from_le_bytes(b)) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Self::Error> {
//! #         self.0 = self.0.wrapping_add(1);
//! #         dst.fill(self.0);
//! #         Ok(())
//! #     }
//! # }
//! # impl rand_core::TryCryptoRng for Rng {}
//! # let mut rng = Rng(0); // Use the platform's CSPRNG or hardware TRNG.
//!
//! // Application data: small and fixed-size.
//! #[derive(Clone, Debug, PartialEq)]
//! struct Data {
//!     user_id: u64,
//!     admin: bool,
//! }
//!
//! // 64 entries, no allocator.
//! let mut store: MemoryStore<Data, 64> = MemoryStore::new();
//! let policy = SessionPolicy::new(); // idle 30 min, absolute 8 h, touch every 60 s
//! let now = UnixTime::from_secs(1_700_000_000);
//!
//! // Log in: a new session for user 42, its ID goes into the cookie.
//! let id = policy.create(&mut store, &mut rng, "42", Data { user_id: 42, admin: false }, now)?;
//! let mut cookie = [0u8; SessionId::ENCODED_LEN];
//! let cookie = id.encode(&mut cookie);
//!
//! // A later request presents the cookie.
//! let presented = SessionId::parse(cookie).map_err(|_| "bad cookie")?;
//! let later = now.saturating_add(300);
//! let session = policy.load(&mut store, &presented, later)?;
//! assert_eq!(session.data().user_id, 42);
//!
//! // Privilege change: new ID, same data, the old ID is dead at once.
//! let Rotated { id: new_id, mut record } = policy.rotate(&mut store, &mut rng, &presented, later)?;
//! record.data_mut().admin = true;
//! policy.save(&mut store, &new_id, record, later)?;
//! assert!(matches!(policy.load(&mut store, &presented, later), Err(SessionError::NotFound)));
//!
//! // Log out everywhere.
//! assert_eq!(policy.destroy_subject(&mut store, "42")?, 1);
//! assert!(matches!(policy.load(&mut store, &new_id, later), Err(SessionError::NotFound)));
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # For store implementors
//!
//! Implement [`SessionStore`] (or [`AsyncSessionStore`] for an async backend) and read
//! its contract; run the conformance suite (feature `conformance`) from your tests. This
//! store keeps everything in a `BTreeMap`; it is complete, if not fast:
//!
//! ```
//! use std::collections::BTreeMap;
//! use std::convert::Infallible;
//!
//! use tokenstile::UnixTime;
//! use tokenstile::session::SessionRecord;
//! use tokenstile::store::{LookupKey, SessionStore, StoreErrorKind, SubjectKey, Watermark};
//!
//! enum Entry<D> {
//!     Session(SessionRecord<D>),
//!     Revoked(UnixTime),
//!     Watermark(Watermark),
//! }
//!
//! impl<D> Entry<D> {
//!     fn expires_at(&self) -> UnixTime {
//!         match self {
//!             Entry::Session(r) => r.expires_at(),
//!             Entry::Revoked(until) => *until,
//!             Entry::Watermark(w) => w.expires_at(),
//!         }
//!     }
//! }
//!
//! struct MapStore<D>(BTreeMap<[u8; 32], Entry<D>>);
//!
//! impl<D: Clone> MapStore<D> {
//!     fn live(&self, key: &LookupKey, now: UnixTime) -> Option<&Entry<D>> {
//!         self.0.get(key.as_bytes()).filter(|e| now < e.expires_at())
//!     }
//!
//!     fn live_session(&mut self, key: &LookupKey, now: UnixTime) -> Option<&mut SessionRecord<D>> {
//!         match self.0.get_mut(key.as_bytes()) {
//!             Some(Entry::Session(r)) if r.is_live(now) => Some(r),
//!             _ => None,
//!         }
//!     }
//! }
//!
//! impl<D: Clone> SessionStore for MapStore<D> {
//!     type Data = D;
//!     // A real backend has failures: map them to a type implementing `StoreError`.
//!     type Error = StoreErrorKind;
//!
//!     fn create(&mut self, key: &LookupKey, record: SessionRecord<D>, now: UnixTime)
//!         -> Result<(), StoreErrorKind> {
//!         if self.live(key, now).is_some() {
//!             return Err(StoreErrorKind::Conflict); // never overwrite, whatever kind is there
//!         }
//!         self.0.insert(*key.as_bytes(), Entry::Session(record));
//!         Ok(())
//!     }
//!
//!     fn get(&mut self, key: &LookupKey, now: UnixTime)
//!         -> Result<Option<SessionRecord<D>>, StoreErrorKind> {
//!         Ok(self.live_session(key, now).map(|r| r.clone()))
//!     }
//!
//!     fn update(&mut self, key: &LookupKey, record: SessionRecord<D>, now: UnixTime)
//!         -> Result<bool, StoreErrorKind> {
//!         Ok(self.live_session(key, now).map(|r| *r = record).is_some())
//!     }
//!
//!     fn touch(&mut self, key: &LookupKey, idle_deadline: UnixTime, now: UnixTime)
//!         -> Result<bool, StoreErrorKind> {
//!         Ok(self.live_session(key, now).map(|r| r.touch(idle_deadline, now)).is_some())
//!     }
//!
//!     fn remove(&mut self, key: &LookupKey) -> Result<bool, StoreErrorKind> {
//!         if !matches!(self.0.get(key.as_bytes()), Some(Entry::Session(_))) {
//!             return Ok(false);
//!         }
//!         Ok(self.0.remove(key.as_bytes()).is_some())
//!     }
//!
//!     fn rotate(&mut self, old: &LookupKey, new: &LookupKey, now: UnixTime)
//!         -> Result<Option<SessionRecord<D>>, StoreErrorKind> {
//!         if self.live(new, now).is_some() {
//!             return Err(StoreErrorKind::Conflict);
//!         }
//!         if self.live_session(old, now).is_none() {
//!             return Ok(None);
//!         }
//!         match self.0.remove(old.as_bytes()) {
//!             Some(Entry::Session(record)) => {
//!                 self.0.insert(*new.as_bytes(), Entry::Session(record.clone()));
//!                 Ok(Some(record))
//!             }
//!             _ => Ok(None),
//!         }
//!     }
//!
//!     fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, StoreErrorKind> {
//!         let before = self.0.len();
//!         self.0.retain(|_, e| !matches!(e, Entry::Session(r) if r.subject() == subject));
//!         Ok(before - self.0.len())
//!     }
//!
//!     fn revoke(&mut self, key: &LookupKey, until: UnixTime, now: UnixTime)
//!         -> Result<(), StoreErrorKind> {
//!         let until = match self.live(key, now) {
//!             Some(Entry::Revoked(old)) => until.max(*old),
//!             Some(_) => return Err(StoreErrorKind::Conflict),
//!             None => until,
//!         };
//!         self.0.insert(*key.as_bytes(), Entry::Revoked(until));
//!         Ok(())
//!     }
//!
//!     fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, StoreErrorKind> {
//!         Ok(matches!(self.live(key, now), Some(Entry::Revoked(_))))
//!     }
//!
//!     fn raise_watermark(&mut self, key: &LookupKey, mark: Watermark, now: UnixTime)
//!         -> Result<(), StoreErrorKind> {
//!         let mark = match self.live(key, now) {
//!             Some(Entry::Watermark(old)) => mark.merge(*old),
//!             Some(_) => return Err(StoreErrorKind::Conflict),
//!             None => mark,
//!         };
//!         self.0.insert(*key.as_bytes(), Entry::Watermark(mark));
//!         Ok(())
//!     }
//!
//!     fn watermark(&mut self, key: &LookupKey, now: UnixTime)
//!         -> Result<Option<Watermark>, StoreErrorKind> {
//!         Ok(match self.live(key, now) {
//!             Some(Entry::Watermark(mark)) => Some(*mark),
//!             _ => None,
//!         })
//!     }
//!
//!     fn purge_expired(&mut self, now: UnixTime) -> Result<usize, StoreErrorKind> {
//!         let before = self.0.len();
//!         self.0.retain(|_, e| now < e.expires_at());
//!         Ok(before - self.0.len())
//!     }
//! }
//!
//! # #[cfg(feature = "conformance")]
//! # {
//! # use tokenstile::store::conformance;
//! # struct Rng(u64);
//! # impl rand_core::TryRng for Rng {
//! #     type Error = Infallible;
//! #     fn try_next_u32(&mut self) -> Result<u32, Infallible> { let mut b = [0; 4]; self.try_fill_bytes(&mut b)?; Ok(u32::from_le_bytes(b)) }
//! #     fn try_next_u64(&mut self) -> Result<u64, Infallible> { let mut b = [0; 8]; self.try_fill_bytes(&mut b)?; Ok(u64::from_le_bytes(b)) }
//! #     fn try_fill_bytes(&mut self, dst: &mut [u8]) -> Result<(), Infallible> {
//! #         for b in dst { self.0 = self.0.wrapping_mul(6364136223846793005).wrapping_add(1); *b = (self.0 >> 56) as u8; }
//! #         Ok(())
//! #     }
//! # }
//! # impl rand_core::TryCryptoRng for Rng {}
//! // In your tests (feature `conformance`):
//! let mut store = MapStore::<u32>(BTreeMap::new());
//! conformance::check_store(&mut store, &mut Rng(1), UnixTime::from_secs(1_700_000_000), |n| n)?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`SessionRecord`]: crate::session::SessionRecord
//! [`SessionPolicy`]: crate::session::SessionPolicy
//! [`SharedStore`]: crate::store::SharedStore

#[cfg(feature = "conformance")]
pub mod conformance;
mod key;
mod memory;
#[cfg(feature = "std")]
mod shared;
mod table;

pub use key::{LookupKey, SubjectKey, Watermark};
pub use memory::MemoryStore;
#[cfg(feature = "std")]
pub use shared::SharedStore;

use core::convert::Infallible;
use core::fmt;

use crate::session::SessionRecord;
use crate::time::UnixTime;

/// Storage for sessions, revoked tokens and revocation watermarks.
///
/// # Contract
///
/// **Keys are untrusted input.** A key passed to [`get`](Self::get),
/// [`touch`](Self::touch), [`remove`](Self::remove) or [`rotate`](Self::rotate) is
/// derived from whatever a client sent; it may name nothing. Answer "absent" for it, in
/// time that doesn't depend on how much of it matches stored keys beyond what a hash table
/// lookup on a SHA-256 digest reveals.
///
/// **Values are sensitive.** Records hold application data and deadlines; keep them out of
/// logs and error messages.
///
/// **Expiry.** Every entry has a time at which it dies: a record's
/// [`expires_at`](SessionRecord::expires_at), a revocation's `until`, a watermark's
/// [`expires_at`](Watermark::expires_at). An entry is *live* at `now` when `now` is
/// before that time. Reads must not return dead entries, and writes that need a live
/// entry ([`update`](Self::update), [`touch`](Self::touch), [`rotate`](Self::rotate)) must
/// treat dead ones as absent, judged by the `now` passed in: a backend with its own clock
/// has to compare the stored expiry with `now` too (in the Lua script, for Redis), not only
/// rely on its TTLs. Dead entries may linger until [`purge_expired`](Self::purge_expired) or vanish at
/// any time: a backend with its own clock (Redis TTLs) may drop them by that clock.
///
/// **Nothing live is lost silently.** A store must never drop a live entry to make room:
/// when it is full of live entries, writing a new one fails with
/// [`StoreErrorKind::Capacity`]. [`remove`](Self::remove) and
/// [`remove_subject`](Self::remove_subject) must reliably delete: once they return `Ok`,
/// no later read may see the entries.
///
/// **May be lossy:** a [`touch`](Self::touch) may be dropped under contention (the session
/// then ends earlier, never later), dead entries may linger, and `purge_expired` may do
/// nothing if the backend expires entries itself.
///
/// **Atomicity.** Each method is one atomic step with respect to every other call on the
/// same store, including calls from other processes sharing the backend:
/// [`create`](Self::create) is check-and-insert (`SET NX`), [`update`](Self::update) and
/// [`touch`](Self::touch) never recreate a removed entry (`SET XX`), [`rotate`](Self::rotate)
/// moves an entry so that no reader sees both keys or neither, [`revoke`](Self::revoke)
/// and [`raise_watermark`](Self::raise_watermark) never lower what is stored, and
/// [`remove_subject`](Self::remove_subject) leaves no session of the subject behind, even
/// one created concurrently before it returned. On Redis each is one command or one Lua
/// script; entries can be given `PEXPIREAT` at their expiry.
///
/// **Kinds.** Keys of different kinds never collide, so a store may keep sessions,
/// revocations and watermarks in separate namespaces or in one. In one, an entry of another
/// kind under a key counts as absent for reads and as a conflict for writes.
///
/// `&mut self` everywhere: an embedded store needs no locking, and a thread-safe store
/// implements the trait for `&Store` (the blanket impl for `&mut T` covers passing a
/// store by reference).
pub trait SessionStore {
    /// The application data kept in each session.
    type Data;

    /// What can go wrong, classified by [`StoreError::kind`].
    type Error: StoreError;

    /// Files a new session under `key`.
    ///
    /// Never overwrites: if a live session is filed under `key`, nothing changes and the
    /// call fails with [`StoreErrorKind::Conflict`]. A dead entry may be replaced,
    /// or reported as a conflict if the backend still holds it.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Conflict`] as above, [`StoreErrorKind::Capacity`] if the store is
    /// full of live entries, or a backend failure.
    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Self::Data>,
        now: UnixTime,
    ) -> Result<(), Self::Error>;

    /// The live session filed under `key`, if any.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`] for a record that can't be
    /// decoded.
    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Self::Data>>, Self::Error>;

    /// Replaces the live session filed under `key` with `record`, which has the same
    /// subject and creation time. Returns `false`, and writes nothing, if no live session
    /// is filed under `key`: an update never resurrects a removed session.
    ///
    /// # Errors
    ///
    /// A backend failure.
    fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Self::Data>,
        now: UnixTime,
    ) -> Result<bool, Self::Error>;

    /// Records activity on the live session filed under `key`, as
    /// [`SessionRecord::touch`] does: `last_seen` becomes at least `now` and the idle
    /// deadline at least `idle_deadline`; the data and the absolute deadline are left as
    /// they are. Returns `false`, and writes nothing, if no live session is filed under
    /// `key`.
    ///
    /// # Errors
    ///
    /// A backend failure.
    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error>;

    /// Deletes the session filed under `key`, live or dead, and reports whether there was
    /// one. Entries of other kinds are not touched.
    ///
    /// # Errors
    ///
    /// A backend failure. `Ok` means the entry is gone.
    fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error>;

    /// Moves the live session filed under `old` to `new`, unchanged, and returns it.
    ///
    /// Atomic: afterwards `old` names nothing and `new` the session, and no reader sees
    /// both or neither. Returns `None`, and changes nothing, if no live session is filed
    /// under `old`.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Conflict`], changing nothing, if a live session is filed under
    /// `new` (including `new == old`); or a backend failure.
    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Self::Data>>, Self::Error>;

    /// Deletes every session of `subject`, live or dead, and reports how many live ones
    /// there were (dead ones may be counted too).
    ///
    /// # Errors
    ///
    /// A backend failure. `Ok` means they are all gone.
    fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Self::Error>;

    /// Files "revoked until `until`" under `key`. If the key is already revoked, the later
    /// of the two times is kept. Storing nothing is fine when `until` is not after `now`.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Capacity`] if the store is full of live entries, or a backend
    /// failure. A revocation that was not stored is an error, never silent.
    fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error>;

    /// Whether a live revocation is filed under `key`.
    ///
    /// # Errors
    ///
    /// A backend failure.
    fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error>;

    /// Files `watermark` under `key`, merged with the live watermark already there
    /// ([`Watermark::merge`]): a watermark is only ever raised.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Capacity`] if the store is full of live entries, or a backend
    /// failure.
    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error>;

    /// The live watermark filed under `key`, if any.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`].
    fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error>;

    /// Deletes entries that are dead at `now` and reports how many. Never deletes a live
    /// entry. A backend that expires entries on its own may return `Ok(0)`.
    ///
    /// # Errors
    ///
    /// A backend failure.
    fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error>;

    /// How many entries the store can hold at most, if it has a fixed limit.
    fn capacity(&self) -> Option<usize> {
        None
    }
}

/// The async form of [`SessionStore`], for backends reached over the network.
///
/// The contract is the same, method for method. Every [`SessionStore`] is an
/// `AsyncSessionStore` whose futures are ready at once, so code written against this
/// trait accepts both.
///
/// The methods are `async fn`s, so their futures are `Send` exactly when the concrete
/// store's are: a multi-threaded executor accepts them for a concrete store type. Code
/// generic over `S: AsyncSessionStore` can't require `Send` futures on stable Rust; such
/// code can add its own trait with `Send` bounds and implement it for the stores it uses.
///
/// Because of the blanket impl for `SessionStore`, there is no impl for `&mut T`: pass
/// `&mut store` where a function takes `&mut S`.
#[allow(async_fn_in_trait)]
pub trait AsyncSessionStore {
    /// The application data kept in each session.
    type Data;

    /// What can go wrong, classified by [`StoreError::kind`].
    type Error: StoreError;

    /// See [`SessionStore::create`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::create`].
    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Self::Data>,
        now: UnixTime,
    ) -> Result<(), Self::Error>;

    /// See [`SessionStore::get`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::get`].
    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Self::Data>>, Self::Error>;

    /// See [`SessionStore::update`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::update`].
    async fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Self::Data>,
        now: UnixTime,
    ) -> Result<bool, Self::Error>;

    /// See [`SessionStore::touch`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::touch`].
    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error>;

    /// See [`SessionStore::remove`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::remove`].
    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error>;

    /// See [`SessionStore::rotate`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::rotate`].
    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Self::Data>>, Self::Error>;

    /// See [`SessionStore::remove_subject`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::remove_subject`].
    async fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Self::Error>;

    /// See [`SessionStore::revoke`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::revoke`].
    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error>;

    /// See [`SessionStore::is_revoked`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::is_revoked`].
    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error>;

    /// See [`SessionStore::raise_watermark`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::raise_watermark`].
    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error>;

    /// See [`SessionStore::watermark`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::watermark`].
    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error>;

    /// See [`SessionStore::purge_expired`].
    ///
    /// # Errors
    ///
    /// As [`SessionStore::purge_expired`].
    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error>;

    /// See [`SessionStore::capacity`].
    fn capacity(&self) -> Option<usize> {
        None
    }
}

/// A store error, classified.
pub trait StoreError: core::error::Error {
    /// What kind of failure this is.
    fn kind(&self) -> StoreErrorKind;
}

/// What kind of failure a [`StoreError`] is.
///
/// It is also a `StoreError` itself, for stores whose failures need no more detail.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum StoreErrorKind {
    /// The backend failed or could not be reached. Retrying may help.
    Backend,
    /// The store is full of live entries; nothing was dropped to make room.
    Capacity,
    /// A live entry is already filed under the key: a session ID collision, or a rotation
    /// onto an ID in use. Nothing was overwritten.
    Conflict,
    /// A stored entry could not be decoded.
    Corrupt,
    /// Anything else.
    Other,
}

impl fmt::Display for StoreErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Backend => "store backend failure",
            Self::Capacity => "store is full",
            Self::Conflict => "store entry already exists",
            Self::Corrupt => "stored entry is corrupt",
            Self::Other => "store failure",
        })
    }
}

impl core::error::Error for StoreErrorKind {}

impl StoreError for StoreErrorKind {
    fn kind(&self) -> StoreErrorKind {
        *self
    }
}

impl StoreError for Infallible {
    fn kind(&self) -> StoreErrorKind {
        match *self {}
    }
}

impl<T: SessionStore + ?Sized> SessionStore for &mut T {
    type Data = T::Data;
    type Error = T::Error;

    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Self::Data>,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        T::create(self, key, record, now)
    }

    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Self::Data>>, Self::Error> {
        T::get(self, key, now)
    }

    fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Self::Data>,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        T::update(self, key, record, now)
    }

    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        T::touch(self, key, idle_deadline, now)
    }

    fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error> {
        T::remove(self, key)
    }

    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Self::Data>>, Self::Error> {
        T::rotate(self, old, new, now)
    }

    fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Self::Error> {
        T::remove_subject(self, subject)
    }

    fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        T::revoke(self, key, until, now)
    }

    fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error> {
        T::is_revoked(self, key, now)
    }

    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        T::raise_watermark(self, key, watermark, now)
    }

    fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error> {
        T::watermark(self, key, now)
    }

    fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error> {
        T::purge_expired(self, now)
    }

    fn capacity(&self) -> Option<usize> {
        T::capacity(self)
    }
}

/// Runs a future made over a synchronous store to completion, without an executor.
///
/// Such a future never suspends: the only `.await`s in it are on the [`AsyncSessionStore`]
/// methods of a [`SessionStore`], which come from the blanket impl below (no other impl can
/// exist for a `SessionStore`) and return at once. The first poll therefore completes it,
/// and the loop only spares the code a panic path. This lets each lifecycle and revocation
/// operation be written once, as an `async fn`, and still be offered synchronously.
pub(crate) fn complete<F: Future>(future: F) -> F::Output {
    let mut future = core::pin::pin!(future);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    loop {
        if let core::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
    }
}

impl<S: SessionStore> AsyncSessionStore for S {
    type Data = S::Data;
    type Error = S::Error;

    async fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Self::Data>,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        SessionStore::create(self, key, record, now)
    }

    async fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Self::Data>>, Self::Error> {
        SessionStore::get(self, key, now)
    }

    async fn update(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<Self::Data>,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        SessionStore::update(self, key, record, now)
    }

    async fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> Result<bool, Self::Error> {
        SessionStore::touch(self, key, idle_deadline, now)
    }

    async fn remove(&mut self, key: &LookupKey) -> Result<bool, Self::Error> {
        SessionStore::remove(self, key)
    }

    async fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<SessionRecord<Self::Data>>, Self::Error> {
        SessionStore::rotate(self, old, new, now)
    }

    async fn remove_subject(&mut self, subject: &SubjectKey) -> Result<usize, Self::Error> {
        SessionStore::remove_subject(self, subject)
    }

    async fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        SessionStore::revoke(self, key, until, now)
    }

    async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime) -> Result<bool, Self::Error> {
        SessionStore::is_revoked(self, key, now)
    }

    async fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> Result<(), Self::Error> {
        SessionStore::raise_watermark(self, key, watermark, now)
    }

    async fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> Result<Option<Watermark>, Self::Error> {
        SessionStore::watermark(self, key, now)
    }

    async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, Self::Error> {
        SessionStore::purge_expired(self, now)
    }

    fn capacity(&self) -> Option<usize> {
        SessionStore::capacity(self)
    }
}
