//! The checks of [`RevocationStore`], and of a store that holds both kinds.

use rand_core::TryCryptoRng;

use super::{Check, ConformanceFailure, Suite, numbered_key};
use crate::session::SessionId;
use crate::store::{
    LookupKey, RevocationCheck, RevocationStore, SessionStore, StoreError as _, StoreErrorKind,
    Watermark,
};
use crate::time::UnixTime;

impl<S, R, F> Suite<'_, S, R, F>
where
    S: RevocationStore + ?Sized,
    R: TryCryptoRng + ?Sized,
{
    pub(super) async fn revocations(&mut self) -> Result<(), ConformanceFailure> {
        // Each check in a window of its own, so that a store with room for two entries
        // passes.
        self.revoke().await?;
        self.next_window();
        self.watermark().await?;
        self.next_window();
        self.check_revoked().await?;
        self.next_window();
        self.purge_expired_revocations().await?;
        self.next_window();
        self.revocation_capacity().await
    }

    async fn revoke(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("revoke");
        let key = self.revocation_key(c)?;
        let now = self.now;

        c.equal(
            self.store.is_revoked(&key, now).await,
            &false,
            "an unknown token not to be revoked",
        )?;
        c.ok(
            self.store.revoke(&key, self.t(100), now).await,
            "revoke to succeed",
        )?;
        c.equal(
            self.store.is_revoked(&key, self.t(99)).await,
            &true,
            "a revocation to hold until its end",
        )?;
        c.equal(
            self.store.is_revoked(&key, self.t(100)).await,
            &false,
            "a revocation to end at its end",
        )?;
        // Never lowered: an earlier end leaves the later one in force.
        c.ok(
            self.store.revoke(&key, self.t(50), now).await,
            "revoke to succeed",
        )?;
        c.equal(
            self.store.is_revoked(&key, self.t(99)).await,
            &true,
            "a revocation never to be shortened",
        )?;
        c.ok(
            self.store.revoke(&key, self.t(200), now).await,
            "revoke to succeed",
        )?;
        c.equal(
            self.store.is_revoked(&key, self.t(150)).await,
            &true,
            "a revocation to be extended",
        )?;

        // A revocation that ends now or earlier needs no entry.
        let stale = self.revocation_key(c)?;
        c.ok(
            self.store.revoke(&stale, now, now).await,
            "revoke of an expired token to succeed",
        )?;
        c.equal(
            self.store.is_revoked(&stale, now).await,
            &false,
            "a revocation ending now not to be live",
        )
    }

    async fn watermark(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("watermark");
        let key = self.revocation_key(c)?;
        let now = self.now;

        c.equal(
            self.store.watermark(&key, now).await,
            &None,
            "an unknown subject to have no watermark",
        )?;
        let first = Watermark::new(self.t(10), self.t(100));
        c.ok(
            self.store.raise_watermark(&key, first, now).await,
            "raise_watermark to succeed",
        )?;
        c.equal(
            self.store.watermark(&key, self.t(99)).await,
            &Some(first),
            "the watermark to be stored as given",
        )?;
        c.equal(
            self.store.watermark(&key, self.t(100)).await,
            &None,
            "a watermark to end at its expiry",
        )?;

        let lower = Watermark::new(self.t(5), self.t(50));
        c.ok(
            self.store.raise_watermark(&key, lower, now).await,
            "raise_watermark to succeed",
        )?;
        c.equal(
            self.store.watermark(&key, now).await,
            &Some(first),
            "a lower watermark never to lower the stored one",
        )?;
        let higher = Watermark::new(self.t(20), self.t(80));
        c.ok(
            self.store.raise_watermark(&key, higher, now).await,
            "raise_watermark to succeed",
        )?;
        let merged = Watermark::new(self.t(20), self.t(100));
        c.equal(
            self.store.watermark(&key, now).await,
            &Some(merged),
            "raising to keep the later cutoff and the later expiry",
        )?;
        // A watermark already dead when raised still raises the live one's cutoff.
        let dead_on_arrival = Watermark::new(self.t(30), self.t(40));
        c.ok(
            self.store
                .raise_watermark(&key, dead_on_arrival, self.t(40))
                .await,
            "raise_watermark to succeed",
        )?;
        c.equal(
            self.store.watermark(&key, self.t(40)).await,
            &Some(Watermark::new(self.t(30), self.t(100))),
            "a raise whose own expiry has passed still to raise the cutoff",
        )?;
        // Once the stored watermark has ended by the writer's clock, one dead on arrival
        // changes nothing: a reader whose clock is behind still finds the stored one.
        c.ok(
            self.store
                .raise_watermark(&key, Watermark::new(now, self.t(60)), self.t(100))
                .await,
            "raise_watermark to succeed",
        )?;
        c.equal(
            self.store.watermark(&key, self.t(90)).await,
            &Some(Watermark::new(self.t(30), self.t(100))),
            "a raise dead on arrival, once the stored watermark has ended, to change nothing",
        )
    }

    /// `check_revoked` (the default, or a store's own) answers as the single calls do.
    async fn check_revoked(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("check_revoked");
        // Never more than two live entries at once: `revoked` until +100 and `short`
        // until +10, then, once `short` has ended, the watermark `mark` from +10 to +100.
        let (revoked, short, mark) = (
            self.revocation_key(c)?,
            self.revocation_key(c)?,
            self.revocation_key(c)?,
        );
        let (absent, no_mark) = (self.revocation_key(c)?, self.revocation_key(c)?);
        let now = self.now;
        for (key, until) in [(&revoked, 100), (&short, 10)] {
            c.ok(
                self.store.revoke(key, self.t(until), now).await,
                "revoke to succeed",
            )?;
        }

        use RevocationCheck::{NotRevoked, Revoked};
        let before_mark: [Case<'_>; 3] = [
            (&[&absent, &short], Some(&mark), 9, Revoked(1)),
            (&[&short, &revoked], None, 9, Revoked(0)),
            (&[&absent], Some(&no_mark), 0, NotRevoked(None)),
        ];
        self.check_cases(c, &revoked, &before_mark).await?;

        let watermark = Watermark::new(self.t(5), self.t(100));
        c.ok(
            self.store
                .raise_watermark(&mark, watermark, self.t(10))
                .await,
            "raise_watermark to succeed",
        )?;
        let with_mark: [Case<'_>; 11] = [
            (&[], None, 20, NotRevoked(None)),
            (&[], Some(&mark), 20, NotRevoked(Some(watermark))),
            (&[], Some(&no_mark), 20, NotRevoked(None)),
            (&[&absent], None, 20, NotRevoked(None)),
            (
                &[&absent, &short],
                Some(&mark),
                20,
                NotRevoked(Some(watermark)),
            ),
            (&[&short, &revoked], None, 20, Revoked(1)),
            (&[&revoked], Some(&mark), 20, Revoked(0)),
            (&[&absent, &revoked], Some(&no_mark), 99, Revoked(1)),
            (&[&absent, &short, &absent, &revoked], None, 20, Revoked(3)),
            (&[&revoked, &short], Some(&mark), 100, NotRevoked(None)),
            (
                &[&absent, &absent],
                Some(&mark),
                99,
                NotRevoked(Some(watermark)),
            ),
        ];
        self.check_cases(c, &revoked, &with_mark).await
    }

    /// Asks `check_revoked` and the single calls each case's question (the entries, the
    /// watermark, the time after `now`), and checks both give the case's answer.
    async fn check_cases(
        &mut self,
        c: Check,
        filler: &LookupKey,
        cases: &[Case<'_>],
    ) -> Result<(), ConformanceFailure> {
        for &(entries, watermark, at, want) in cases {
            let at = self.t(at);
            let mut keys = [*filler; 4];
            for (slot, key) in keys.iter_mut().zip(entries) {
                *slot = **key;
            }
            let keys = keys.get(..entries.len()).unwrap_or_default();
            let single = self.one_by_one(c, keys, watermark, at).await?;
            c.ensure(
                single == want,
                "is_revoked and watermark to give what the check expects",
            )?;
            c.equal(
                self.store.check_revoked(keys, watermark, at).await,
                &want,
                "check_revoked to answer as is_revoked and watermark do",
            )?;
        }
        Ok(())
    }

    /// What `check_revoked` must answer, from the single calls.
    async fn one_by_one(
        &mut self,
        c: Check,
        entries: &[LookupKey],
        watermark: Option<&LookupKey>,
        now: UnixTime,
    ) -> Result<RevocationCheck, ConformanceFailure> {
        for (index, key) in entries.iter().enumerate() {
            if c.ok(
                self.store.is_revoked(key, now).await,
                "is_revoked to succeed",
            )? {
                return Ok(RevocationCheck::Revoked(index));
            }
        }
        let found = match watermark {
            Some(key) => c.ok(self.store.watermark(key, now).await, "watermark to succeed")?,
            None => None,
        };
        Ok(RevocationCheck::NotRevoked(found))
    }

    async fn purge_expired_revocations(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("purge_expired_revocations");
        // A dead revocation beside a live watermark, then (once those have expired) a
        // dead watermark beside a live revocation: two entries at a time.
        self.purge_round(c, 0, Kind::Revocation).await?;
        self.purge_round(c, 400, Kind::Watermark).await
    }

    /// Files an entry of `dead` kind that ends at `start` + 100 and one of the other kind
    /// that ends at `start` + 300, both at `now` + `start`, and purges at `start` + 200.
    async fn purge_round(
        &mut self,
        c: Check,
        start: u64,
        dead: Kind,
    ) -> Result<(), ConformanceFailure> {
        let (doomed, kept) = (self.revocation_key(c)?, self.revocation_key(c)?);
        let (begin, at) = (self.t(start), self.t(start.saturating_add(200)));
        let (dies, lives) = (
            self.t(start.saturating_add(100)),
            self.t(start.saturating_add(300)),
        );

        // What is dead at `at` already goes first: the purge below finds only `doomed`.
        c.ok(
            self.store.purge_expired(at).await,
            "purge_expired to succeed",
        )?;
        self.file(c, dead, &doomed, Watermark::new(begin, dies), begin)
            .await?;
        let live = Watermark::new(begin, lives);
        self.file(c, dead.other(), &kept, live, begin).await?;
        // Read at a time it is live, the expired entry is found only if it is still in the
        // store.
        let before = self.entry_stored(c, dead, &doomed, begin).await?;
        let purged = c.ok(
            self.store.purge_expired(at).await,
            "purge_expired to succeed",
        )?;
        c.nothing_left_to_purge(&mut *self.store, at).await?;
        let found = match dead.other() {
            Kind::Revocation => c.equal(
                self.store.is_revoked(&kept, at).await,
                &true,
                "purge never to remove a live revocation",
            ),
            Kind::Watermark => c.equal(
                self.store.watermark(&kept, at).await,
                &Some(live),
                "purge never to remove a live watermark",
            ),
        };
        found?;
        let after = self.entry_stored(c, dead, &doomed, begin).await?;
        let capacity = self.store.revocation_capacity();
        c.purged(purged, before, after, capacity)
    }

    /// Files a revocation until `mark`'s expiry, or raises the watermark `mark`, at `now`.
    async fn file(
        &mut self,
        c: Check,
        kind: Kind,
        key: &LookupKey,
        mark: Watermark,
        now: UnixTime,
    ) -> Result<(), ConformanceFailure> {
        match kind {
            Kind::Revocation => c.ok(
                self.store.revoke(key, mark.expires_at(), now).await,
                "revoke to succeed",
            ),
            Kind::Watermark => c.ok(
                self.store.raise_watermark(key, mark, now).await,
                "raise_watermark to succeed",
            ),
        }
    }

    /// 1 if a live entry of `kind` is filed under `key` at `at`, else 0.
    async fn entry_stored(
        &mut self,
        c: Check,
        kind: Kind,
        key: &LookupKey,
        at: UnixTime,
    ) -> Result<usize, ConformanceFailure> {
        let found = match kind {
            Kind::Revocation => c.ok(
                self.store.is_revoked(key, at).await,
                "is_revoked to succeed",
            )?,
            Kind::Watermark => c
                .ok(self.store.watermark(key, at).await, "watermark to succeed")?
                .is_some(),
        };
        Ok(usize::from(found))
    }

    async fn revocation_capacity(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("revocation_capacity");
        let Some(capacity) = self.store.revocation_capacity() else {
            return Ok(());
        };
        // Fill with revocations that end at +50, until the store refuses.
        let salt = self.salt(c)?;
        let key = |n: usize| numbered_key(&salt, n);
        let mut filled = 0usize;
        loop {
            if filled > capacity {
                return Err(c.fail(
                    "revoke in a full store to fail with Capacity, never to drop a live \
                     revocation to make room (the store took more than its capacity)",
                ));
            }
            match self.store.revoke(&key(filled), self.t(50), self.now).await {
                Ok(()) => filled = filled.saturating_add(1),
                Err(e) if e.kind() == StoreErrorKind::Capacity => break,
                Err(e) => return Err(c.store_error(&e, "revoke to succeed or fail with Capacity")),
            }
        }
        c.ensure(
            filled >= 2,
            "room for at least two revocations when the check starts",
        )?;
        for n in 0..filled {
            c.equal(
                self.store.is_revoked(&key(n), self.now).await,
                &true,
                "a full store to keep every live revocation",
            )?;
        }
        let mark = Watermark::new(self.now, self.t(50));
        let subject = self.revocation_key(c)?;
        let refused = self.store.raise_watermark(&subject, mark, self.now).await;
        c.error_kind(
            refused,
            StoreErrorKind::Capacity,
            "a watermark in a full store to fail with Capacity",
        )?;
        // An entry already filed needs no room: revoked again for longer in a full store
        // (a second logout of the same token), it is kept longer.
        c.ok(
            self.store.revoke(&key(0), self.t(80), self.now).await,
            "revoking an entry already filed to succeed in a full store",
        )?;
        c.equal(
            self.store.is_revoked(&key(0), self.t(70)).await,
            &true,
            "a revocation revoked again for longer to be kept longer",
        )?;
        // Once they have expired, their room is reused.
        let later = self.t(60);
        c.ok(
            self.store.revoke(&key(filled), self.t(100), later).await,
            "revoke to reuse expired revocations' room",
        )?;
        c.equal(
            self.store.is_revoked(&key(filled), later).await,
            &true,
            "the new revocation to be stored",
        )
    }

    /// The key of a fresh random token.
    fn revocation_key(&mut self, c: Check) -> Result<LookupKey, ConformanceFailure> {
        let id = SessionId::generate(&mut *self.rng)
            .map_err(|_| c.fail("the RNG passed to the suite to work"))?;
        let mut jti = [0; SessionId::ENCODED_LEN];
        Ok(LookupKey::for_revoked_token(
            Some("tokenstile conformance"),
            id.encode(&mut jti),
        ))
    }
}

impl<S, R, F, D> Suite<'_, S, R, F>
where
    D: Clone + PartialEq + Send + Sync,
    S: SessionStore<D> + RevocationStore + ?Sized,
    R: TryCryptoRng + ?Sized,
    F: FnMut(u32) -> D,
{
    /// A store full of sessions still takes a revocation: logout is never blocked.
    pub(super) async fn sessions_never_block_revocations(
        &mut self,
    ) -> Result<(), ConformanceFailure> {
        let c = Check("sessions_never_block_revocations");
        let Some(capacity) = self.store.session_capacity() else {
            return Ok(());
        };
        // Past the revocation checks' entries, which have expired.
        self.next_window();
        let salt = self.salt(c)?;
        let filled = self.fill_sessions(c, &salt, capacity).await?;
        let token = self.revocation_key(c)?;
        let stored = self.store.revoke(&token, self.t(100), self.now).await;
        c.ok(
            stored,
            "a revocation to be stored in a store full of sessions",
        )?;
        c.equal(
            self.store.is_revoked(&token, self.now).await,
            &true,
            "the revocation to be in force",
        )?;
        let mark = Watermark::new(self.now, self.t(100));
        let subject = self.revocation_key(c)?;
        let raised = self.store.raise_watermark(&subject, mark, self.now).await;
        c.ok(
            raised,
            "a watermark to be stored in a store full of sessions",
        )?;
        for n in 0..filled {
            c.ok(
                self.store.remove(&numbered_key(&salt, n)).await,
                "remove to succeed",
            )?;
        }
        Ok(())
    }
}

/// A question for `check_revoked` (the entries, the watermark, the time after `now`) and
/// its answer.
type Case<'k> = (
    &'k [&'k LookupKey],
    Option<&'k LookupKey>,
    u64,
    RevocationCheck,
);

/// The two kinds of revocation entry.
#[derive(Clone, Copy)]
enum Kind {
    Revocation,
    Watermark,
}

impl Kind {
    const fn other(self) -> Self {
        match self {
            Self::Revocation => Self::Watermark,
            Self::Watermark => Self::Revocation,
        }
    }
}
