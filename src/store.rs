//! The storage traits for sessions and JWT revocations, the values they carry, and the
//! in-memory stores.
//!
//! # The model
//!
//! One store holds everything that makes logout instant, for sessions and for JWTs alike.
//! It is described by three small traits that share one error type, in the way
//! embedded-hal's bus traits share `ErrorType`:
//!
//! | trait | holds | used by |
//! |---|---|---|
//! | [`Store`] | the error type, and purging of dead entries | everything below |
//! | [`SessionStore<D>`] | [`SessionRecord<D>`]s under the [`LookupKey`] of their ID, indexed by [`SubjectKey`] | [`SessionPolicy`] |
//! | [`RevocationStore`] | revoked tokens and per-subject [`Watermark`]s | [`jwt::revoke_token`] and its siblings |
//!
//! A device that only verifies JWTs implements [`RevocationStore`] and nothing else; a
//! server store implements both and stays *one* store, so "log out" means the same place
//! whichever credential the client holds. The in-crate stores ([`MemoryStore`],
//! [`SharedStore`]) and the Redis store implement every trait.
//!
//! **Why async, once.** Every method returns a future, and every future is `Send`: a
//! network store (Redis, SQL) needs the first, a multi-threaded web server the second,
//! and code generic over `S: SessionStore<D>` gets both without extra bounds. An in-memory
//! store writes plain code inside `async fn`s and its futures are ready at once, so the
//! lifecycle and revocation functions are written once, as `async fn`s, and a program
//! without an executor (a bare-metal firmware, a test) drives them with [`block_on`]:
//!
//! ```
//! # use tokenstile::store::{block_on, MemoryStore, Store};
//! # use tokenstile::UnixTime;
//! let mut store: MemoryStore<(), 8, 8> = MemoryStore::new();
//! let purged = block_on(store.purge_expired(UnixTime::from_secs(10)))?;
//! assert_eq!(purged, 0);
//! # Ok::<(), tokenstile::store::StoreErrorKind>(())
//! ```
//!
//! Methods take `&mut self`, because a microcontroller has no `Mutex`. A store shared by
//! many threads is a cheap handle that each task clones ([`SharedStore`], the Redis
//! store), with the locking or the connection inside.
//!
//! **Why hashed keys.** Stores never see a session ID or a token: they see a
//! [`LookupKey`], a SHA-256 digest only tokenstile can derive. A leaked store holds no
//! bearer secrets, and a variable-time lookup compares digests, not secrets.
//!
//! **Why versions.** Two requests that load the same session and both save must not
//! silently overwrite each other (the second save could put back a privilege the first
//! removed, or undo a logout). Every record carries a version, and
//! [`SessionStore::update`] is a compare-and-swap on it: a save based on a stale read
//! fails with [`SessionError::Stale`], and the application loads again and retries.
//!
//! # For framework authors
//!
//! Don't call the store methods for sessions: [`SessionPolicy`] implements the lifecycle
//! over any [`SessionStore`] (timeouts, throttled touch, rotation, versioned saves,
//! listing a subject's sessions, ending one or all of them, a per-subject limit), and
//! [`jwt::revoke_token`], [`jwt::revoke_subject`] and [`jwt::verify_not_revoked`]
//! implement JWT revocation over any [`RevocationStore`]. Keep one store per application
//! and pass `&mut store` (or a clone of a shared handle) to each call.
//!
//! ```
//! use tokenstile::UnixTime;
//! use tokenstile::session::{SessionError, SessionId, SessionPolicy};
//! use tokenstile::store::{block_on, MemoryStore};
//!
//! // Application data: small and fixed-size.
//! #[derive(Clone, Debug, PartialEq)]
//! struct Data {
//!     user_id: u64,
//!     admin: bool,
//! }
//!
//! let mut rng = getrandom::SysRng; // the OS's CSPRNG; a TRNG on a device
//! // 64 sessions and 64 revocations, no allocator.
//! let mut store: MemoryStore<Data, 64, 64> = MemoryStore::new();
//! let policy = SessionPolicy::new(); // idle 30 min, absolute 8 h, touch every 60 s
//! let now = UnixTime::from_secs(1_700_000_000);
//!
//! // Log in: a new session for user 42, its ID goes into the cookie.
//! let data = Data { user_id: 42, admin: false };
//! let id = block_on(policy.create(&mut store, &mut rng, "42", data, now))?;
//! let mut cookie = [0u8; SessionId::ENCODED_LEN];
//! let cookie = id.encode(&mut cookie);
//!
//! // A later request presents the cookie.
//! let presented = SessionId::parse(cookie).map_err(|_| "bad cookie")?;
//! let later = now.saturating_add(300);
//! let session = block_on(policy.load(&mut store, &presented, later))?;
//! assert_eq!(session.data().user_id, 42);
//!
//! // Privilege change: a new ID, the old one is dead at once; then save the new data.
//! let rotated = block_on(policy.rotate(&mut store, &mut rng, &presented, later))?;
//! let mut record = rotated.record;
//! record.data_mut().admin = true;
//! block_on(policy.save(&mut store, &rotated.id, &mut record, later))?;
//! assert!(matches!(
//!     block_on(policy.load(&mut store, &presented, later)),
//!     Err(SessionError::NotFound)
//! ));
//!
//! // Log out everywhere.
//! assert_eq!(block_on(policy.destroy_subject(&mut store, "42"))?, 1);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # For store implementors
//!
//! Implement [`Store`], then [`SessionStore<D>`] and [`RevocationStore`], reading their
//! contracts; run the conformance suite (feature `conformance`) from your tests. A device
//! that only verifies JWTs implements [`Store`] and the four required methods of
//! [`RevocationStore`] (the revocation half of the example below) and runs
//! `conformance::check_revocations`. An
//! in-memory store writes ordinary code inside `async fn`s; a network store awaits its
//! client. This store keeps everything in `BTreeMap`s; it is complete, if not fast:
//!
//! ```
//! use std::collections::BTreeMap;
//!
//! use tokenstile::UnixTime;
//! use tokenstile::store::{
//!     CreateOutcome, LookupKey, RevocationStore, SessionHandle, SessionRecord, SessionSink,
//!     SessionStore, Store, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome,
//!     Watermark, WhenFull,
//! };
//!
//! #[derive(Default)]
//! struct MapStore<D> {
//!     sessions: BTreeMap<[u8; 32], SessionRecord<D>>,
//!     revoked: BTreeMap<[u8; 32], UnixTime>,
//!     watermarks: BTreeMap<[u8; 32], Watermark>,
//! }
//!
//! impl<D> MapStore<D> {
//!     /// The keys and records of `subject`'s live sessions.
//!     fn of_subject(&self, subject: &SubjectKey, now: UnixTime)
//!         -> impl Iterator<Item = (&[u8; 32], &SessionRecord<D>)> {
//!         self.sessions.iter().filter(move |(_, r)| r.subject() == subject && r.is_live(now))
//!     }
//!
//!     fn live_mut(&mut self, key: &LookupKey, now: UnixTime) -> Option<&mut SessionRecord<D>> {
//!         self.sessions.get_mut(key.as_bytes()).filter(|r| r.is_live(now))
//!     }
//! }
//!
//! impl<D: Send> Store for MapStore<D> {
//!     // A real backend has failures: map them to a type implementing `StoreError`.
//!     type Error = StoreErrorKind;
//!
//!     async fn purge_expired(&mut self, now: UnixTime) -> Result<usize, StoreErrorKind> {
//!         let before = self.sessions.len() + self.revoked.len() + self.watermarks.len();
//!         self.sessions.retain(|_, r| r.is_live(now));
//!         self.revoked.retain(|_, until| now < *until);
//!         self.watermarks.retain(|_, w| now < w.expires_at());
//!         Ok(before - self.sessions.len() - self.revoked.len() - self.watermarks.len())
//!     }
//! }
//!
//! impl<D: Clone + Send + Sync> SessionStore<D> for MapStore<D> {
//!     async fn create(&mut self, key: &LookupKey, record: SessionRecord<D>,
//!         limit: Option<SubjectLimit>, now: UnixTime) -> Result<CreateOutcome, StoreErrorKind> {
//!         if self.live_mut(key, now).is_some() {
//!             return Err(StoreErrorKind::Conflict); // never overwrite
//!         }
//!         let mut ended = 0;
//!         if let Some(limit) = limit {
//!             while self.of_subject(record.subject(), now).count() >= limit.max() {
//!                 if limit.when_full() == WhenFull::Refuse {
//!                     return Ok(CreateOutcome::LimitReached);
//!                 }
//!                 let oldest = self.of_subject(record.subject(), now)
//!                     .min_by_key(|(k, r)| (r.created(), **k))
//!                     .map(|(k, _)| *k);
//!                 if let Some(oldest) = oldest {
//!                     self.sessions.remove(&oldest);
//!                     ended += 1;
//!                 }
//!             }
//!         }
//!         self.sessions.insert(*key.as_bytes(), record);
//!         Ok(CreateOutcome::Created { ended })
//!     }
//!
//!     async fn get(&mut self, key: &LookupKey, now: UnixTime)
//!         -> Result<Option<SessionRecord<D>>, StoreErrorKind> {
//!         Ok(self.live_mut(key, now).map(|r| r.clone()))
//!     }
//!
//!     async fn update(&mut self, key: &LookupKey, version: u64, data: &D,
//!         idle_deadline: UnixTime, now: UnixTime) -> Result<UpdateOutcome, StoreErrorKind> {
//!         Ok(match self.live_mut(key, now) {
//!             None => UpdateOutcome::NotFound,
//!             Some(r) => match r.apply_update(version, data.clone(), idle_deadline, now) {
//!                 Some(version) => UpdateOutcome::Updated { version },
//!                 None => UpdateOutcome::Stale,
//!             },
//!         })
//!     }
//!
//!     async fn touch(&mut self, key: &LookupKey, idle_deadline: UnixTime, now: UnixTime)
//!         -> Result<bool, StoreErrorKind> {
//!         Ok(self.live_mut(key, now).map(|r| r.touch(idle_deadline, now)).is_some())
//!     }
//!
//!     async fn remove(&mut self, key: &LookupKey) -> Result<bool, StoreErrorKind> {
//!         Ok(self.sessions.remove(key.as_bytes()).is_some())
//!     }
//!
//!     async fn rotate(&mut self, old: &LookupKey, new: &LookupKey, now: UnixTime)
//!         -> Result<Option<SessionRecord<D>>, StoreErrorKind> {
//!         if self.live_mut(new, now).is_some() {
//!             return Err(StoreErrorKind::Conflict);
//!         }
//!         if self.live_mut(old, now).is_none() {
//!             return Ok(None);
//!         }
//!         let record = self.sessions.remove(old.as_bytes());
//!         if let Some(record) = &record {
//!             self.sessions.insert(*new.as_bytes(), record.clone());
//!         }
//!         Ok(record)
//!     }
//!
//!     async fn remove_subject(&mut self, subject: &SubjectKey, keep: Option<&LookupKey>)
//!         -> Result<usize, StoreErrorKind> {
//!         let before = self.sessions.len();
//!         let keep = keep.map(LookupKey::as_bytes);
//!         self.sessions.retain(|k, r| r.subject() != subject || Some(k) == keep);
//!         Ok(before - self.sessions.len())
//!     }
//!
//!     async fn list_subject<O: SessionSink<D> + Send>(&mut self, subject: &SubjectKey,
//!         now: UnixTime, out: &mut O) -> Result<usize, StoreErrorKind> {
//!         let mut n = 0;
//!         for (key, record) in self.of_subject(subject, now) {
//!             out.push(SessionHandle::from_bytes(*key), record.clone());
//!             n += 1;
//!         }
//!         Ok(n)
//!     }
//! }
//!
//! impl<D: Send> RevocationStore for MapStore<D> {
//!     async fn revoke(&mut self, key: &LookupKey, until: UnixTime, _now: UnixTime)
//!         -> Result<(), StoreErrorKind> {
//!         let stored = self.revoked.entry(*key.as_bytes()).or_insert(until);
//!         *stored = until.max(*stored); // never lowered
//!         Ok(())
//!     }
//!
//!     async fn is_revoked(&mut self, key: &LookupKey, now: UnixTime)
//!         -> Result<bool, StoreErrorKind> {
//!         Ok(self.revoked.get(key.as_bytes()).is_some_and(|until| now < *until))
//!     }
//!
//!     async fn raise_watermark(&mut self, key: &LookupKey, mark: Watermark, now: UnixTime)
//!         -> Result<(), StoreErrorKind> {
//!         let merged = match self.watermarks.get(key.as_bytes()) {
//!             Some(old) if now < old.expires_at() => mark.merge(*old),
//!             // Nothing live to raise: one that is dead already changes nothing.
//!             _ if mark.expires_at() <= now => return Ok(()),
//!             _ => mark,
//!         };
//!         self.watermarks.insert(*key.as_bytes(), merged);
//!         Ok(())
//!     }
//!
//!     async fn watermark(&mut self, key: &LookupKey, now: UnixTime)
//!         -> Result<Option<Watermark>, StoreErrorKind> {
//!         Ok(self.watermarks.get(key.as_bytes()).filter(|w| now < w.expires_at()).copied())
//!     }
//! }
//!
//! # #[cfg(feature = "conformance")]
//! # {
//! use tokenstile::store::conformance;
//! // In your tests (feature `conformance`):
//! let now = UnixTime::from_secs(1_700_000_000);
//! let mut store = MapStore::<u32>::default();
//! tokenstile::store::block_on(conformance::check_store(&mut store, &mut getrandom::SysRng, now, |n| n))?;
//! # }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! [`SessionPolicy`]: crate::session::SessionPolicy
//! [`SessionError::Stale`]: crate::session::SessionError::Stale
//! [`jwt::revoke_token`]: crate::jwt::revoke_token
//! [`jwt::revoke_subject`]: crate::jwt::revoke_subject
//! [`jwt::verify_not_revoked`]: crate::jwt::verify_not_revoked

#[cfg(feature = "conformance")]
pub mod conformance;
mod error;
mod key;
mod memory;
mod record;
#[cfg(feature = "std")]
mod shared;
mod table;

pub use error::{StoreError, StoreErrorKind};
pub use key::{InvalidHandle, LookupKey, SessionHandle, SubjectKey};
pub use memory::MemoryStore;
pub use record::{SessionRecord, Watermark};
#[cfg(feature = "std")]
pub use shared::SharedStore;

use core::num::NonZeroUsize;

use crate::time::UnixTime;

/// What every store has: an error type, and a way to delete dead entries.
///
/// # Contract shared by every store trait
///
/// **Keys are untrusted input.** A key passed to a read, a touch, a removal or a rotation
/// is derived from whatever a client sent; it may name nothing. Answer "absent" for it, in
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
/// entry must treat dead ones as absent, judged by the `now` passed in: a backend with its
/// own clock has to compare the stored expiry with `now` too, not only rely on its TTLs.
/// Dead entries may linger until [`purge_expired`](Self::purge_expired), or vanish at any
/// time.
///
/// **Nothing live is lost silently.** A store never drops a live entry to make room: when
/// it is full of live entries, writing a new one fails with [`StoreErrorKind::Capacity`].
/// A removal that returns `Ok` has removed: no later read sees the entries.
///
/// **Failed means unchanged.** A call that returns `Err` has changed nothing. The one
/// exception is a network store's timeout: the backend may have applied a call whose
/// answer never arrived, so a `Backend` error after a timeout leaves the state unknown
/// (retrying is safe: every write is idempotent or refused as a conflict or a stale
/// version).
///
/// **Atomicity.** Each method is one atomic step with respect to every other call on the
/// same store, including calls from other processes sharing the backend.
///
/// **Futures.** Every method returns a `Send` future. Stores whose futures never wait
/// (in-memory ones) are driven by [`block_on`] where there is no executor.
pub trait Store: Send {
    /// What can go wrong, classified by [`StoreError::kind`].
    type Error: StoreError;

    /// Deletes entries that are dead at `now`, of every kind, and reports how many: the
    /// sessions, revocations and watermarks it deleted, not rows of the store's own
    /// bookkeeping (such as a subject's index) that went with them. Never deletes a live
    /// entry.
    ///
    /// The default does nothing and returns `Ok(0)`, which is right for a backend that
    /// expires entries on its own (Redis TTLs). A store with a fixed capacity
    /// ([`session_capacity`](SessionStore::session_capacity),
    /// [`revocation_capacity`](RevocationStore::revocation_capacity)) holds its entries
    /// itself and must delete them here, as the conformance suite checks.
    ///
    /// # Errors
    ///
    /// A backend failure.
    fn purge_expired(
        &mut self,
        now: UnixTime,
    ) -> impl Future<Output = Result<usize, Self::Error>> + Send {
        let _ = now;
        async { Ok(0) }
    }
}

/// Sessions: [`SessionRecord<D>`]s filed under the [`LookupKey`] of their ID and indexed
/// by their [`SubjectKey`].
///
/// Read the contract of [`Store`] first; this trait adds:
///
/// - [`create`](Self::create) is check-and-insert: it never overwrites a live session, and
///   it enforces a per-subject limit in the same step;
/// - [`update`](Self::update) is compare-and-swap on the record's version and writes the
///   data alone, never the subject, the creation time or the absolute deadline;
///   [`update`](Self::update) and [`touch`](Self::touch) never recreate a removed session;
/// - [`rotate`](Self::rotate) moves a session so that no reader sees both keys or neither;
/// - [`remove_subject`](Self::remove_subject) leaves no session of the subject behind
///   (except the one it was asked to keep), even one created concurrently before it
///   returned;
/// - a [`touch`](Self::touch) may be dropped under contention: the session then ends
///   earlier, never later.
///
/// A live session key never changes owner: keys are digests of 256-bit random IDs and
/// `create` never overwrites a live session, so while a key's session is live no other
/// subject's is filed under it.
pub trait SessionStore<D: Send + Sync>: Store {
    /// Files a new session under `key`, within `limit` live sessions of its subject.
    ///
    /// Never overwrites: if a live session is filed under `key`, nothing changes and the
    /// call fails with [`StoreErrorKind::Conflict`]. A dead entry may be replaced, or
    /// reported as a conflict if the backend still holds it.
    ///
    /// With a `limit`, the subject's live sessions are counted in the same atomic step:
    /// when there are already [`max`](SubjectLimit::max), the store either refuses
    /// ([`CreateOutcome::LimitReached`], nothing changed) or ends the oldest ones (by
    /// creation time) to make room, as [`when_full`](SubjectLimit::when_full) says.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Conflict`] as above, [`StoreErrorKind::Capacity`] if the store is
    /// full of live sessions, or a backend failure.
    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> impl Future<Output = Result<CreateOutcome, Self::Error>> + Send;

    /// The live session filed under `key`, if any.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`] for a record that can't be read.
    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<SessionRecord<D>>, Self::Error>> + Send;

    /// Replaces the data of the live session filed under `key`, if its version is
    /// `version`, as [`SessionRecord::apply_update`] does: activity is recorded at `now`,
    /// the idle deadline becomes at least `idle_deadline`, and the version is incremented.
    /// Nothing else about the record changes.
    ///
    /// Returns [`UpdateOutcome::Stale`] if the stored version differs (another write came
    /// first) and [`UpdateOutcome::NotFound`] if no live session is filed under `key`;
    /// both change nothing.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`].
    fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<UpdateOutcome, Self::Error>> + Send;

    /// Records activity on the live session filed under `key`, as
    /// [`SessionRecord::touch`] does: `last_seen` becomes at least `now` and the idle
    /// deadline at least `idle_deadline`; the data, the version and the absolute deadline
    /// are left as they are. Returns `false`, and writes nothing, if no live session is
    /// filed under `key`.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`].
    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Deletes the session filed under `key`, live or dead, and reports whether there was
    /// one.
    ///
    /// # Errors
    ///
    /// A backend failure. `Ok` means the session is gone.
    fn remove(&mut self, key: &LookupKey)
    -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Moves the live session filed under `old` to `new`, unchanged, and returns it.
    ///
    /// Atomic: afterwards `old` names nothing and `new` the session, and no reader sees
    /// both or neither. Returns `None`, and changes nothing, if no live session is filed
    /// under `old`.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Conflict`], changing nothing, if a live session is filed under
    /// `new` (including `new == old`); [`StoreErrorKind::Corrupt`] for a record that can't
    /// be read (nothing moved); or a backend failure. When no live session is filed under
    /// `old` and one is under `new`, a store may answer either `None` or `Conflict` (the
    /// in-memory stores say `Conflict`, the SQL store `None`): neither changes anything.
    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<SessionRecord<D>>, Self::Error>> + Send;

    /// Deletes every session of `subject`, live or dead, except the one filed under
    /// `keep`, and reports how many live ones there were (dead ones may be counted too).
    ///
    /// `keep: None` is "log out everywhere"; `keep: Some(current)` is "log out my other
    /// sessions".
    ///
    /// # Errors
    ///
    /// A backend failure. `Ok` means they are all gone.
    fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> impl Future<Output = Result<usize, Self::Error>> + Send;

    /// Hands each live session of `subject` to `out`, with its [`SessionHandle`], in no
    /// particular order, and returns how many there are (even if `out` kept fewer).
    ///
    /// A store may read a very large subject in pages rather than in one atomic step
    /// (the Redis store does above a thousand sessions); a session ended or rotated while
    /// the pages are read may then be missed or listed under both keys, and one created
    /// meanwhile listed or not, but every session live throughout the call must be
    /// listed once, whatever happens to the others meanwhile (a touch or an update that
    /// moves a session in the store's order included).
    ///
    /// A store that serves several data types (the serializing ones do) keeps one list
    /// per subject, not per type: the sessions of one subject are all read as `D`, and
    /// one whose data is another type's fails the call as corrupt, as [`get`](Self::get)
    /// does, or is listed as a `D` if its data happens to decode as one. Where one user has sessions of two types, give them two subjects (such as
    /// `web:42` and `device:42`); the subject limits and
    /// [`remove_subject`](Self::remove_subject) count and end a subject's sessions of
    /// every type.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`].
    fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> impl Future<Output = Result<usize, Self::Error>> + Send;

    /// Deletes the live session filed under `key` only if it belongs to `subject`, and
    /// reports whether it did.
    ///
    /// The default reads the session and removes it if the subject matches. That is
    /// atomic enough, because a key never changes owner (see the trait docs).
    ///
    /// # Errors
    ///
    /// A backend failure.
    fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        async move {
            match self.get(key, now).await? {
                Some(record) if record.subject() == subject => self.remove(key).await,
                _ => Ok(false),
            }
        }
    }

    /// How many sessions the store can hold at most, if it has a fixed limit.
    fn session_capacity(&self) -> Option<usize> {
        None
    }
}

/// JWT revocations: revoked tokens and per-subject watermarks.
///
/// Read the contract of [`Store`] first; this trait adds that [`revoke`](Self::revoke)
/// and [`raise_watermark`](Self::raise_watermark) never lower what is stored, and that a
/// revocation that was not stored is an error, never silent. A store with a fixed
/// capacity keeps revocations apart from sessions, so a store full of sessions can still
/// log a token out.
pub trait RevocationStore: Store {
    /// Files "revoked until `until`" under `key`. If the key is already revoked, the later
    /// of the two times is kept. Storing nothing is fine when `until` is not after `now`.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Capacity`] if the store is full of live revocations, or a backend
    /// failure.
    fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// Whether a live revocation is filed under `key`.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`].
    fn is_revoked(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send;

    /// Files `watermark` under `key`, merged with the live watermark already there
    /// ([`Watermark::merge`]): a watermark is only ever raised. One already dead at `now`
    /// still raises a live one's cutoff, and changes nothing where none is live: a
    /// watermark that has ended by this `now` stays as it is for a reader whose clock is
    /// behind.
    ///
    /// # Errors
    ///
    /// [`StoreErrorKind::Capacity`] if the store is full of live revocations, or a backend
    /// failure.
    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send;

    /// The live watermark filed under `key`, if any.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`].
    fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<Watermark>, Self::Error>> + Send;

    /// Whether any of `entries` is revoked and, if none is, the live watermark filed under
    /// `watermark`: everything [`jwt::check_not_revoked`] asks about one token, in one
    /// call.
    ///
    /// The answer is what these calls in this order give, and the default makes them:
    /// [`is_revoked`](Self::is_revoked) for each entry, stopping at the first that is
    /// revoked ([`RevocationCheck::Revoked`] with its index in `entries`); then, if none
    /// is, [`watermark`](Self::watermark) for `watermark`
    /// ([`RevocationCheck::NotRevoked`], with `None` if no watermark was asked for or
    /// none is live). An error any of those calls would return is returned instead.
    ///
    /// A network store overrides this to read everything in one round trip (the Redis
    /// and SQL stores do); an override must answer exactly as the default does, for the
    /// same entries, including a [`StoreErrorKind::Corrupt`] entry that the default would
    /// reach. It reads all the entries at once, so unlike the default it may also fail on
    /// an entry after the first revoked one, and it may read them atomically or not. It
    /// changes nothing.
    ///
    /// # Errors
    ///
    /// A backend failure, or [`StoreErrorKind::Corrupt`].
    ///
    /// [`jwt::check_not_revoked`]: crate::jwt::check_not_revoked
    fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> impl Future<Output = Result<RevocationCheck, Self::Error>> + Send {
        async move {
            for (index, key) in entries.iter().enumerate() {
                if self.is_revoked(key, now).await? {
                    return Ok(RevocationCheck::Revoked(index));
                }
            }
            let watermark = match watermark {
                Some(key) => self.watermark(key, now).await?,
                None => None,
            };
            Ok(RevocationCheck::NotRevoked(watermark))
        }
    }

    /// How many revocations and watermarks the store can hold at most, if it has a fixed
    /// limit: one limit for both together, so that a store full of revocations refuses a
    /// new watermark with [`StoreErrorKind::Capacity`] too (the conformance suite checks
    /// it).
    fn revocation_capacity(&self) -> Option<usize> {
        None
    }
}

/// What [`RevocationStore::check_revoked`] found.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum RevocationCheck {
    /// The entry at this index of `entries` is revoked, and no entry before it is. No
    /// watermark is reported (the default doesn't read it): the token is refused either
    /// way.
    Revoked(usize),
    /// No entry is revoked. The live watermark filed under the key asked for, if a key
    /// was given and a watermark is live there.
    NotRevoked(Option<Watermark>),
}

impl RevocationCheck {
    /// Whether a token issued at `iat` (`None`: without `iat`) is revoked by what was
    /// found: an entry is revoked, or the watermark [revokes](Watermark::revokes) it.
    #[must_use]
    pub fn revokes(&self, iat: Option<UnixTime>) -> bool {
        match self {
            Self::Revoked(_) => true,
            Self::NotRevoked(watermark) => watermark.is_some_and(|mark| mark.revokes(iat)),
        }
    }
}

/// A per-subject limit on live sessions, enforced by [`SessionStore::create`].
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct SubjectLimit {
    max: NonZeroUsize,
    when_full: WhenFull,
}

impl SubjectLimit {
    /// At most `max` live sessions per subject; `when_full` says what a login beyond that
    /// does.
    #[must_use]
    pub const fn new(max: NonZeroUsize, when_full: WhenFull) -> Self {
        Self { max, when_full }
    }

    /// The most live sessions a subject may have.
    #[must_use]
    pub const fn max(&self) -> usize {
        self.max.get()
    }

    /// What happens to a login beyond the limit.
    #[must_use]
    pub const fn when_full(&self) -> WhenFull {
        self.when_full
    }

    /// The same limit, refusing logins beyond it.
    pub(crate) const fn refusing(self) -> Self {
        Self {
            when_full: WhenFull::Refuse,
            ..self
        }
    }
}

/// What a login beyond a [`SubjectLimit`] does.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum WhenFull {
    /// End the subject's oldest sessions (by creation time) to make room.
    EndOldest,
    /// Refuse the login.
    Refuse,
}

/// What [`SessionStore::create`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CreateOutcome {
    /// The session was filed, after ending `ended` older sessions of its subject to stay
    /// within the limit.
    Created {
        /// How many sessions were ended to make room.
        ended: usize,
    },
    /// The subject already has as many live sessions as the limit allows, and the limit
    /// refuses more. Nothing changed.
    LimitReached,
}

/// What [`SessionStore::update`] did.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum UpdateOutcome {
    /// No live session is filed under the key. Nothing changed.
    NotFound,
    /// The stored version is not the one the caller read: another write came first.
    /// Nothing changed.
    Stale,
    /// The data was written; the record is now at `version`.
    Updated {
        /// The record's new version.
        version: u64,
    },
}

/// Receives the sessions [`SessionStore::list_subject`] finds.
///
/// Implemented for `heapless::Vec` (which keeps as many as fit) and, with feature
/// `alloc`, for `Vec`.
pub trait SessionSink<D> {
    /// Takes one session. A sink that is full drops it; the store goes on counting.
    fn push(&mut self, handle: SessionHandle, record: SessionRecord<D>);
}

/// Passes on to `out` only the sessions `keep` accepts, and counts them: a policy lists
/// the sessions *it* counts as live, which a timeout shortened since the records were
/// written makes fewer than the store's.
pub(crate) struct KeepOnly<'o, O, F> {
    out: &'o mut O,
    keep: F,
    kept: usize,
}

impl<'o, O, F> KeepOnly<'o, O, F> {
    pub(crate) fn new(out: &'o mut O, keep: F) -> Self {
        Self { out, keep, kept: 0 }
    }

    /// How many sessions were accepted (passed on, whether or not `out` had room).
    pub(crate) fn kept(&self) -> usize {
        self.kept
    }
}

impl<D, O, F> SessionSink<D> for KeepOnly<'_, O, F>
where
    O: SessionSink<D>,
    F: FnMut(&SessionRecord<D>) -> bool,
{
    fn push(&mut self, handle: SessionHandle, record: SessionRecord<D>) {
        if (self.keep)(&record) {
            self.kept = self.kept.saturating_add(1);
            self.out.push(handle, record);
        }
    }
}

impl<D, const N: usize> SessionSink<D> for heapless::Vec<(SessionHandle, SessionRecord<D>), N> {
    fn push(&mut self, handle: SessionHandle, record: SessionRecord<D>) {
        // A full vector keeps what it has; the count the store returns tells the rest.
        let _full = heapless::Vec::push(self, (handle, record));
    }
}

#[cfg(feature = "alloc")]
impl<D> SessionSink<D> for alloc::vec::Vec<(SessionHandle, SessionRecord<D>)> {
    fn push(&mut self, handle: SessionHandle, record: SessionRecord<D>) {
        alloc::vec::Vec::push(self, (handle, record));
    }
}

impl<T: Store + ?Sized> Store for &mut T {
    type Error = T::Error;

    fn purge_expired(
        &mut self,
        now: UnixTime,
    ) -> impl Future<Output = Result<usize, Self::Error>> + Send {
        T::purge_expired(self, now)
    }
}

impl<D: Send + Sync, T: SessionStore<D> + ?Sized> SessionStore<D> for &mut T {
    fn create(
        &mut self,
        key: &LookupKey,
        record: SessionRecord<D>,
        limit: Option<SubjectLimit>,
        now: UnixTime,
    ) -> impl Future<Output = Result<CreateOutcome, Self::Error>> + Send {
        T::create(self, key, record, limit, now)
    }

    fn get(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<SessionRecord<D>>, Self::Error>> + Send {
        T::get(self, key, now)
    }

    fn update(
        &mut self,
        key: &LookupKey,
        version: u64,
        data: &D,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<UpdateOutcome, Self::Error>> + Send {
        T::update(self, key, version, data, idle_deadline, now)
    }

    fn touch(
        &mut self,
        key: &LookupKey,
        idle_deadline: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        T::touch(self, key, idle_deadline, now)
    }

    fn remove(
        &mut self,
        key: &LookupKey,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        T::remove(self, key)
    }

    fn rotate(
        &mut self,
        old: &LookupKey,
        new: &LookupKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<SessionRecord<D>>, Self::Error>> + Send {
        T::rotate(self, old, new, now)
    }

    fn remove_subject(
        &mut self,
        subject: &SubjectKey,
        keep: Option<&LookupKey>,
    ) -> impl Future<Output = Result<usize, Self::Error>> + Send {
        T::remove_subject(self, subject, keep)
    }

    fn list_subject<O: SessionSink<D> + Send>(
        &mut self,
        subject: &SubjectKey,
        now: UnixTime,
        out: &mut O,
    ) -> impl Future<Output = Result<usize, Self::Error>> + Send {
        T::list_subject(self, subject, now, out)
    }

    fn remove_owned(
        &mut self,
        key: &LookupKey,
        subject: &SubjectKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        T::remove_owned(self, key, subject, now)
    }

    fn session_capacity(&self) -> Option<usize> {
        T::session_capacity(self)
    }
}

impl<T: RevocationStore + ?Sized> RevocationStore for &mut T {
    fn revoke(
        &mut self,
        key: &LookupKey,
        until: UnixTime,
        now: UnixTime,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        T::revoke(self, key, until, now)
    }

    fn is_revoked(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<bool, Self::Error>> + Send {
        T::is_revoked(self, key, now)
    }

    fn raise_watermark(
        &mut self,
        key: &LookupKey,
        watermark: Watermark,
        now: UnixTime,
    ) -> impl Future<Output = Result<(), Self::Error>> + Send {
        T::raise_watermark(self, key, watermark, now)
    }

    fn watermark(
        &mut self,
        key: &LookupKey,
        now: UnixTime,
    ) -> impl Future<Output = Result<Option<Watermark>, Self::Error>> + Send {
        T::watermark(self, key, now)
    }

    fn check_revoked(
        &mut self,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> impl Future<Output = Result<RevocationCheck, Self::Error>> + Send {
        T::check_revoked(self, entries, watermark, now)
    }

    fn revocation_capacity(&self) -> Option<usize> {
        T::revocation_capacity(self)
    }
}

/// Runs `future` to completion on the current thread, without an executor.
///
/// This is how code with no executor (a bare-metal firmware, a test, a synchronous
/// handler) calls the lifecycle and revocation functions over an in-memory store: those
/// futures never wait, so the first poll completes them and this returns at once.
///
/// A future that does wait is polled again and again (a busy loop, as
/// `embassy_futures::block_on` does) until it completes; over a network store, use the
/// application's executor instead.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = core::pin::pin!(future);
    let mut cx = core::task::Context::from_waker(core::task::Waker::noop());
    loop {
        if let core::task::Poll::Ready(output) = future.as_mut().poll(&mut cx) {
            return output;
        }
        core::hint::spin_loop();
    }
}
