//! The checks of [`SessionStore`].

use core::num::NonZeroUsize;

use rand_core::TryCryptoRng;

use super::{Check, ConformanceFailure, Suite, numbered_key};
use crate::store::{
    CreateOutcome, LookupKey, SessionHandle, SessionRecord, SessionSink, SessionStore,
    StoreError as _, StoreErrorKind, SubjectKey, SubjectLimit, UpdateOutcome, WhenFull,
};
use crate::time::UnixTime;

impl<S, R, F, D> Suite<'_, S, R, F>
where
    D: Clone + PartialEq + Send + Sync,
    S: SessionStore<D> + ?Sized,
    R: TryCryptoRng + ?Sized,
    F: FnMut(u32) -> D,
{
    pub(super) async fn sessions(&mut self) -> Result<(), ConformanceFailure> {
        self.create_get_update_remove().await?;
        self.update_is_versioned().await?;
        self.create_never_overwrites().await?;
        self.expiry().await?;
        self.touch().await?;
        self.rotate().await?;
        self.remove_subject().await?;
        self.list_subject().await?;
        self.remove_owned().await?;
        self.limit_refuses().await?;
        self.limit_ends_oldest().await?;
        self.purge_expired_sessions().await?;
        self.session_capacity().await
    }

    async fn create_get_update_remove(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("create_get_update_remove");
        let key = self.session_key(c)?;
        let subject = self.subject(c)?;
        let record = self.record(&subject, 1, 0, 1000, 2000);
        let other = (self.sample)(2);
        let now = self.now;

        self.expect_absent(c, &key, now, "an unknown key to be absent")
            .await?;
        self.expect_update(c, &key, 1, &other, now, UpdateOutcome::NotFound)
            .await?;
        self.expect_absent(c, &key, now, "update not to create a session")
            .await?;

        self.create(c, &key, record.clone()).await?;
        let got = self
            .expect_live(c, &key, now, "get to return the created session")
            .await?;
        c.ensure(got == record, "get to return the record as created")?;
        c.ensure(got.version() == 1, "a new session to be at version 1")?;

        self.expect_update(
            c,
            &key,
            1,
            &other,
            self.t(5),
            UpdateOutcome::Updated { version: 2 },
        )
        .await?;
        let got = self
            .expect_live(c, &key, self.t(5), "an updated session to be live")
            .await?;
        c.ensure(
            got.data() == &other && got.version() == 2 && got.last_seen() == self.t(5),
            "update to write the data, record activity and increment the version",
        )?;
        // The update at +5 asked for an idle deadline of +1005, past the created +1000.
        c.ensure(
            got.idle_deadline() == self.t(1005),
            "update to move the idle deadline to the one given",
        )?;
        self.expect_live(
            c,
            &key,
            self.t(1002),
            "an updated session to outlive its old idle deadline",
        )
        .await?;
        c.ensure(
            got.subject() == record.subject()
                && got.created() == record.created()
                && got.absolute_deadline() == record.absolute_deadline(),
            "update to leave the subject, creation time and absolute deadline alone",
        )?;

        c.equal(
            self.store.remove(&key).await,
            &true,
            "remove of a live session to return true",
        )?;
        self.expect_absent(c, &key, now, "a removed session to be gone")
            .await?;
        c.equal(
            self.store.remove(&key).await,
            &false,
            "a second remove to return false",
        )?;
        self.expect_update(c, &key, 2, &other, now, UpdateOutcome::NotFound)
            .await?;
        self.expect_absent(c, &key, now, "update never to resurrect a removed session")
            .await
    }

    async fn update_is_versioned(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("update_is_versioned");
        let key = self.session_key(c)?;
        let subject = self.subject(c)?;
        let record = self.record(&subject, 1, 0, 1000, 2000);
        let (first, second) = ((self.sample)(2), (self.sample)(3));
        let now = self.now;

        self.create(c, &key, record).await?;
        // Two requests read version 1; the first to write wins, the second is stale.
        self.expect_update(
            c,
            &key,
            1,
            &first,
            now,
            UpdateOutcome::Updated { version: 2 },
        )
        .await?;
        self.expect_update(c, &key, 1, &second, now, UpdateOutcome::Stale)
            .await?;
        let got = self
            .expect_live(c, &key, now, "the session to survive a stale update")
            .await?;
        c.ensure(
            got.data() == &first && got.version() == 2,
            "a stale update to change nothing",
        )?;
        // A version from the future is stale too.
        self.expect_update(c, &key, 9, &second, now, UpdateOutcome::Stale)
            .await?;
        self.expect_update(
            c,
            &key,
            2,
            &second,
            now,
            UpdateOutcome::Updated { version: 3 },
        )
        .await?;
        // Touches and rotations keep the version.
        let touched = self.store.touch(&key, self.t(1500), self.t(10)).await;
        c.equal(touched, &true, "touch of a live session to return true")?;
        let moved = self.session_key(c)?;
        let rotated = c.ok(self.store.rotate(&key, &moved, now).await, "rotate")?;
        c.ensure(
            rotated.is_some_and(|r| r.version() == 3 && r.data() == &second),
            "touch and rotate to keep the version and the data",
        )?;
        // An update at `now` asks for an idle deadline of +1000, before the touch's +1500.
        self.expect_update(
            c,
            &moved,
            3,
            &first,
            now,
            UpdateOutcome::Updated { version: 4 },
        )
        .await?;
        let got = self
            .expect_live(c, &moved, now, "an updated session to be live")
            .await?;
        c.ensure(
            got.last_seen() == self.t(10) && got.idle_deadline() == self.t(1500),
            "update never to move last_seen or the idle deadline backwards",
        )?;
        self.remove_all(c, &[moved]).await
    }

    async fn create_never_overwrites(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("create_never_overwrites");
        let key = self.session_key(c)?;
        let subject = self.subject(c)?;
        let first = self.record(&subject, 1, 0, 1000, 2000);
        let intruder = self.record(&subject, 2, 0, 1000, 2000);

        self.create(c, &key, first.clone()).await?;
        let again = self.store.create(&key, intruder, None, self.t(1)).await;
        c.error_kind(
            again,
            StoreErrorKind::Conflict,
            "a second create under a live key to fail with Conflict",
        )?;
        let got = self
            .expect_live(c, &key, self.t(1), "the first session to survive")
            .await?;
        c.ensure(
            got == first,
            "the first record to survive a conflicting create",
        )?;
        self.remove_all(c, &[key]).await
    }

    async fn expiry(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("expiry");
        let idle = self.session_key(c)?;
        let absolute = self.session_key(c)?;
        let subject = self.subject(c)?;
        // One dies at its idle deadline, the other at its absolute deadline.
        let by_idle = self.record(&subject, 1, 0, 100, 200);
        let by_absolute = self.record(&subject, 2, 0, 200, 100);
        let (before, at) = (self.t(99), self.t(100));
        let replacement = (self.sample)(3);

        for (key, record) in [(&idle, by_idle), (&absolute, by_absolute)] {
            self.create(c, key, record).await?;
            self.expect_live(c, key, before, "a session to be live before its deadline")
                .await?;
            self.expect_absent(c, key, at, "get not to return a session at its deadline")
                .await?;
            self.expect_update(c, key, 1, &replacement, at, UpdateOutcome::NotFound)
                .await?;
            let touched = self.store.touch(key, self.t(1000), at).await;
            c.equal(
                touched,
                &false,
                "touch of an expired session to return false",
            )?;
            self.expect_absent(c, key, at, "update and touch not to revive a session")
                .await?;
            let to = self.session_key(c)?;
            let rotated = c.ok(self.store.rotate(key, &to, at).await, "rotate")?;
            c.ensure(
                rotated.is_none(),
                "rotate of an expired session to return None",
            )?;
            self.expect_absent(c, &to, self.now, "a refused rotation not to create its key")
                .await?;
        }
        self.remove_all(c, &[idle, absolute]).await
    }

    async fn touch(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("touch");
        let key = self.session_key(c)?;
        let subject = self.subject(c)?;
        let record = self.record(&subject, 1, 0, 100, 1000);

        self.create(c, &key, record.clone()).await?;
        let touched = self.store.touch(&key, self.t(150), self.t(50)).await;
        c.equal(touched, &true, "touch of a live session to return true")?;
        let got = self
            .expect_live(
                c,
                &key,
                self.t(120),
                "a touched session to outlive its old idle deadline",
            )
            .await?;
        c.ensure(
            got.last_seen() == self.t(50) && got.idle_deadline() == self.t(150),
            "touch to set last_seen and the idle deadline",
        )?;
        c.ensure(
            got.data() == record.data()
                && got.absolute_deadline() == record.absolute_deadline()
                && got.created() == record.created()
                && got.subject() == record.subject()
                && got.version() == record.version(),
            "touch to leave the data, version, subject, creation time and absolute deadline alone",
        )?;

        // An older touch arriving late moves nothing backwards.
        let touched = self.store.touch(&key, self.t(120), self.t(40)).await;
        c.equal(touched, &true, "touch of a live session to return true")?;
        let got = self
            .expect_live(c, &key, self.t(60), "a touched session to be live")
            .await?;
        c.ensure(
            got.last_seen() == self.t(50) && got.idle_deadline() == self.t(150),
            "touch never to move last_seen or the idle deadline backwards",
        )?;

        self.remove_all(c, &[key]).await?;
        let touched = self.store.touch(&key, self.t(500), self.t(60)).await;
        c.equal(
            touched,
            &false,
            "touch of a removed session to return false",
        )?;
        self.expect_absent(
            c,
            &key,
            self.t(60),
            "touch never to resurrect a removed session",
        )
        .await
    }

    async fn rotate(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("rotate");
        let (old, new, other) = (
            self.session_key(c)?,
            self.session_key(c)?,
            self.session_key(c)?,
        );
        let subject = self.subject(c)?;
        let record = self.record(&subject, 1, 0, 1000, 2000);
        let occupant = self.record(&subject, 2, 0, 1000, 2000);
        let now = self.now;

        self.create(c, &old, record.clone()).await?;
        let rotated = c.ok(
            self.store.rotate(&old, &new, now).await,
            "rotate to succeed",
        )?;
        c.ensure(
            rotated.as_ref() == Some(&record),
            "rotate to return the moved record",
        )?;
        self.expect_absent(c, &old, now, "the old key to be gone after a rotation")
            .await?;
        let got = self
            .expect_live(c, &new, now, "the new key to hold the session")
            .await?;
        c.ensure(got == record, "the moved record to be unchanged")?;

        // Onto a live key: refused, both left as they were.
        self.create(c, &other, occupant.clone()).await?;
        let refused = self.store.rotate(&new, &other, now).await;
        c.error_kind(
            refused,
            StoreErrorKind::Conflict,
            "rotate onto a live key to fail with Conflict",
        )?;
        let refused = self.store.rotate(&new, &new, now).await;
        c.error_kind(
            refused,
            StoreErrorKind::Conflict,
            "rotate onto its own key to fail with Conflict",
        )?;
        let got = self
            .expect_live(c, &new, now, "a refused rotation to keep the session")
            .await?;
        c.ensure(got == record, "a refused rotation to change nothing")?;
        let got = self
            .expect_live(c, &other, now, "a refused rotation to keep the occupant")
            .await?;
        c.ensure(
            got == occupant,
            "a refused rotation not to overwrite the occupant",
        )?;

        // The subject index follows the move.
        let count = self.count_subject(c, &subject, now).await?;
        c.ensure(
            count == 2,
            "a rotated session to be listed under its subject once",
        )?;
        let removed = self.store.remove_subject(&subject, None).await;
        c.ok(removed, "remove_subject to succeed")?;
        self.expect_absent(c, &new, now, "remove_subject to find a rotated session")
            .await?;

        // From an unknown key: nothing happens.
        let from_unknown = c.ok(self.store.rotate(&old, &new, now).await, "rotate")?;
        c.ensure(
            from_unknown.is_none(),
            "rotate from an unknown key to return None",
        )?;
        self.expect_absent(c, &new, now, "rotate from an unknown key not to create one")
            .await
    }

    async fn remove_subject(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("remove_subject");
        let (alice, bob) = (self.subject(c)?, self.subject(c)?);
        let keys = [
            self.session_key(c)?,
            self.session_key(c)?,
            self.session_key(c)?,
        ];
        let bobs = self.session_key(c)?;
        let now = self.now;

        for (n, key) in (1..).zip(&keys) {
            let record = self.record(&alice, n, 0, 1000, 2000);
            self.create(c, key, record).await?;
        }
        let record = self.record(&bob, 9, 0, 1000, 2000);
        self.create(c, &bobs, record).await?;

        // "Log out my other sessions": all but the current one.
        let removed = self.store.remove_subject(&alice, Some(&keys[0])).await;
        c.equal(
            removed,
            &2,
            "remove_subject with `keep` to report the others",
        )?;
        self.expect_live(
            c,
            &keys[0],
            now,
            "remove_subject to keep the session it was told to",
        )
        .await?;
        for key in &keys[1..] {
            self.expect_absent(c, key, now, "remove_subject to remove every other session")
                .await?;
        }
        // "Log out everywhere".
        let removed = self.store.remove_subject(&alice, None).await;
        c.equal(removed, &1, "remove_subject to report what it removed")?;
        self.expect_absent(c, &keys[0], now, "remove_subject to remove every session")
            .await?;
        self.expect_live(
            c,
            &bobs,
            now,
            "remove_subject to leave other subjects alone",
        )
        .await?;
        let removed = self.store.remove_subject(&alice, None).await;
        c.equal(
            removed,
            &0,
            "remove_subject of a subject without sessions to report 0",
        )?;
        // A session created after the removal is not affected by it.
        let record = self.record(&alice, 4, 0, 1000, 2000);
        self.create(c, &keys[1], record).await?;
        self.expect_live(c, &keys[1], now, "a later login to work")
            .await?;
        self.remove_all(c, &[keys[1], bobs]).await
    }

    async fn list_subject(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("list_subject");
        let (alice, bob) = (self.subject(c)?, self.subject(c)?);
        let keys = [
            self.session_key(c)?,
            self.session_key(c)?,
            self.session_key(c)?,
        ];
        let (dying, bobs) = (self.session_key(c)?, self.session_key(c)?);
        let now = self.now;

        let mut created = [None, None, None];
        for ((n, key), slot) in (1..).zip(&keys).zip(&mut created) {
            let record = self.record(&alice, n, n.into(), 1000, 2000);
            self.create(c, key, record.clone()).await?;
            *slot = Some(record);
        }
        let record = self.record(&alice, 7, 0, 50, 50);
        self.create(c, &dying, record).await?;
        let record = self.record(&bob, 8, 0, 1000, 2000);
        self.create(c, &bobs, record).await?;

        let at = self.t(60);
        let mut all: heapless::Vec<(SessionHandle, SessionRecord<D>), 8> = heapless::Vec::new();
        let count = self.store.list_subject(&alice, at, &mut all).await;
        c.equal(
            count,
            &3,
            "list_subject to count the subject's live sessions only",
        )?;
        c.ensure(
            all.len() == 3,
            "list_subject to hand over each live session once",
        )?;
        for (key, record) in keys.iter().zip(&created) {
            let handle = SessionHandle::new(*key);
            let listed = all.iter().filter(|(h, _)| *h == handle).count();
            c.ensure(
                listed == 1,
                "each session to be listed once, under its own handle",
            )?;
            let same = all
                .iter()
                .any(|(h, r)| *h == handle && Some(r) == record.as_ref());
            c.ensure(same, "a listed record to be the stored one")?;
        }
        let mut one: heapless::Vec<(SessionHandle, SessionRecord<D>), 1> = heapless::Vec::new();
        let count = self.store.list_subject(&alice, at, &mut one).await;
        c.equal(count, &3, "list_subject to count past a full sink")?;
        let mut none: heapless::Vec<(SessionHandle, SessionRecord<D>), 1> = heapless::Vec::new();
        let unknown = self.subject(c)?;
        let count = self.store.list_subject(&unknown, at, &mut none).await;
        c.equal(count, &0, "an unknown subject to have no sessions")?;
        c.ensure(none.is_empty(), "an unknown subject to list nothing")?;

        let removed = self.store.remove_subject(&alice, None).await;
        c.ok(removed, "remove_subject to succeed")?;
        let count = self.count_subject(c, &alice, now).await?;
        c.ensure(
            count == 0,
            "a subject logged out everywhere to list nothing",
        )?;
        self.remove_all(c, &[bobs]).await
    }

    async fn remove_owned(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("remove_owned");
        let (alice, mallory) = (self.subject(c)?, self.subject(c)?);
        let key = self.session_key(c)?;
        let now = self.now;

        let record = self.record(&alice, 1, 0, 1000, 2000);
        self.create(c, &key, record).await?;
        let removed = self.store.remove_owned(&key, &mallory, now).await;
        c.equal(
            removed,
            &false,
            "remove_owned for another subject to remove nothing",
        )?;
        self.expect_live(c, &key, now, "another subject's handle to end nothing")
            .await?;
        let removed = self.store.remove_owned(&key, &alice, now).await;
        c.equal(
            removed,
            &true,
            "remove_owned for the owner to remove the session",
        )?;
        self.expect_absent(c, &key, now, "a session ended by handle to be gone")
            .await?;
        let removed = self.store.remove_owned(&key, &alice, now).await;
        c.equal(
            removed,
            &false,
            "remove_owned of a removed session to return false",
        )?;
        // A dead session is no session: ending it by handle reports nothing ended.
        let short = self.record(&alice, 2, 0, 50, 50);
        self.create(c, &key, short).await?;
        let removed = self.store.remove_owned(&key, &alice, self.t(60)).await;
        c.equal(
            removed,
            &false,
            "remove_owned of an expired session to return false",
        )?;
        self.remove_all(c, &[key]).await
    }

    async fn limit_refuses(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("limit_refuses");
        let subject = self.subject(c)?;
        let keys = [
            self.session_key(c)?,
            self.session_key(c)?,
            self.session_key(c)?,
        ];
        let short = self.session_key(c)?;
        let limit = Some(SubjectLimit::new(
            NonZeroUsize::MIN.saturating_add(1),
            WhenFull::Refuse,
        ));
        let now = self.now;

        // A short-lived session and a long one fill the limit of two.
        let record = self.record(&subject, 1, 0, 50, 50);
        let created = self.store.create(&short, record, limit, now).await;
        c.equal(
            created,
            &CreateOutcome::Created { ended: 0 },
            "create within the limit",
        )?;
        let record = self.record(&subject, 2, 0, 1000, 2000);
        let created = self.store.create(&keys[0], record, limit, now).await;
        c.equal(
            created,
            &CreateOutcome::Created { ended: 0 },
            "create within the limit",
        )?;
        let record = self.record(&subject, 3, 0, 1000, 2000);
        let refused = self
            .store
            .create(&keys[1], record.clone(), limit, now)
            .await;
        c.equal(
            refused,
            &CreateOutcome::LimitReached,
            "create beyond a refusing limit to report LimitReached",
        )?;
        self.expect_absent(c, &keys[1], now, "a refused create to file nothing")
            .await?;
        self.expect_live(c, &short, now, "a refused create to end nothing")
            .await?;
        // Without a limit, the same create goes through.
        let other = self.record(&subject, 4, 0, 1000, 2000);
        self.create(c, &keys[2], other).await?;
        self.remove_all(c, &[keys[2]]).await?;

        // Once the short one is dead, it no longer counts.
        let later = self.t(60);
        let created = self.store.create(&keys[1], record, limit, later).await;
        c.equal(
            created,
            &CreateOutcome::Created { ended: 0 },
            "a dead session not to count against the limit",
        )?;
        self.remove_all(c, &[keys[0], keys[1], short]).await
    }

    async fn limit_ends_oldest(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("limit_ends_oldest");
        let (subject, other) = (self.subject(c)?, self.subject(c)?);
        let keys = [
            self.session_key(c)?,
            self.session_key(c)?,
            self.session_key(c)?,
        ];
        let others = self.session_key(c)?;
        let limit = Some(SubjectLimit::new(
            NonZeroUsize::MIN.saturating_add(1),
            WhenFull::EndOldest,
        ));
        let at = self.t(10);

        let record = self.record(&other, 9, 0, 1000, 2000);
        self.create(c, &others, record).await?;
        // Created at +2, +1 and +3: the second key holds the oldest.
        for (key, (n, created)) in keys.iter().zip([(1, 2), (2, 1), (3, 3)]) {
            let record = self.record(&subject, n, created, 1000, 2000);
            let outcome = self.store.create(key, record, limit, at).await;
            let want = if n == 3 { 1 } else { 0 };
            c.equal(
                outcome,
                &CreateOutcome::Created { ended: want },
                "create to end the oldest sessions beyond the limit",
            )?;
        }
        self.expect_absent(c, &keys[1], at, "the oldest session to be ended")
            .await?;
        // A create under the key of the session it would end to make room: a conflict,
        // not an overwrite, and nothing is ended.
        let intruder = self.record(&subject, 4, 4, 1000, 2000);
        let again = self.store.create(&keys[0], intruder, limit, at).await;
        c.error_kind(
            again,
            StoreErrorKind::Conflict,
            "a create under a live key that the limit would end to fail with Conflict",
        )?;
        let kept = self
            .expect_live(c, &keys[0], at, "newer sessions to survive")
            .await?;
        c.ensure(
            kept.data() == &(self.sample)(1),
            "a conflicting create not to replace the session",
        )?;
        self.expect_live(c, &keys[2], at, "the new session to be filed")
            .await?;
        self.expect_live(c, &others, at, "another subject's sessions not to count")
            .await?;
        self.remove_all(c, &[keys[0], keys[2], others]).await?;

        // A dead session doesn't count either: with the oldest session live and a newer
        // one dead, a login at the limit finds one live session and ends nothing.
        let subject = self.subject(c)?;
        let (oldest, dead, login) = (
            self.session_key(c)?,
            self.session_key(c)?,
            self.session_key(c)?,
        );
        let now = self.now;
        let record = self.record(&subject, 5, 0, 1000, 2000);
        let created = self.store.create(&oldest, record, limit, now).await;
        c.equal(
            created,
            &CreateOutcome::Created { ended: 0 },
            "create within the limit",
        )?;
        let record = self.record(&subject, 6, 1, 5, 5);
        let created = self.store.create(&dead, record, limit, now).await;
        c.equal(
            created,
            &CreateOutcome::Created { ended: 0 },
            "create within the limit",
        )?;
        let later = self.t(6);
        let record = self.record(&subject, 7, 6, 1000, 2000);
        let created = self.store.create(&login, record, limit, later).await;
        c.equal(
            created,
            &CreateOutcome::Created { ended: 0 },
            "a dead session not to count against the limit, so that a login ends no live \
             session",
        )?;
        self.expect_live(
            c,
            &oldest,
            later,
            "a live session not to be ended for a dead one",
        )
        .await?;
        self.expect_live(c, &login, later, "the new session to be filed")
            .await?;
        self.remove_all(c, &[oldest, dead, login]).await
    }

    async fn purge_expired_sessions(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("purge_expired_sessions");
        let (doomed, kept) = (self.session_key(c)?, self.session_key(c)?);
        // Subjects of their own: the doomed session's subject goes with it, and what a
        // store keeps about the subject (an index) must not count as an entry purged.
        let (doomed_subject, subject) = (self.subject(c)?, self.subject(c)?);
        let short = self.record(&doomed_subject, 1, 0, 100, 100);
        let long = self.record(&subject, 2, 0, 10_000, 10_000);
        let at = self.t(200);

        // What is dead at +200 already goes first: the purge below finds only `doomed`.
        c.ok(
            self.store.purge_expired(at).await,
            "purge_expired to succeed",
        )?;
        self.create(c, &doomed, short).await?;
        self.create(c, &kept, long).await?;
        // Read at a time it is live, the expired session is found only if it is still
        // in the store.
        let before = self.session_stored(c, &doomed).await?;
        let purged = c.ok(
            self.store.purge_expired(at).await,
            "purge_expired to succeed",
        )?;
        c.nothing_left_to_purge(&mut *self.store, at).await?;
        self.expect_live(c, &kept, at, "purge never to remove a live session")
            .await?;
        let after = self.session_stored(c, &doomed).await?;
        let capacity = self.store.session_capacity();
        c.purged(purged, before, after, capacity)?;
        self.remove_all(c, &[doomed, kept]).await
    }

    async fn session_capacity(&mut self) -> Result<(), ConformanceFailure> {
        let c = Check("session_capacity");
        let Some(capacity) = self.store.session_capacity() else {
            return Ok(());
        };
        let salt = self.salt(c)?;
        let key = |n: usize| numbered_key(&salt, n);
        let filled = self.fill_sessions(c, &salt, capacity).await?;
        for n in 0..filled {
            self.expect_live(
                c,
                &key(n),
                self.now,
                "a full store to keep every live session",
            )
            .await?;
        }

        // A rotation needs no room of its own: a full store moves a session, and back.
        let moved = self.session_key(c)?;
        for (from, to) in [(key(0), moved), (moved, key(0))] {
            let rotated = self.store.rotate(&from, &to, self.now).await;
            let rotated = c.ok(rotated, "rotate to succeed in a full store")?;
            c.ensure(
                rotated.is_some(),
                "rotate to move a session in a full store",
            )?;
            self.expect_absent(
                c,
                &from,
                self.now,
                "a session rotated in a full store to be gone from its old key",
            )
            .await?;
            let got = self
                .expect_live(
                    c,
                    &to,
                    self.now,
                    "a session rotated in a full store to be found under its new key",
                )
                .await?;
            c.ensure(
                rotated.as_ref() == Some(&got),
                "rotate in a full store to move the record unchanged",
            )?;
        }

        // Freed room is usable again.
        c.equal(
            self.store.remove(&key(0)).await,
            &true,
            "remove to succeed in a full store",
        )?;
        let subject = self.subject(c)?;
        let long = self.record(&subject, 1, 0, 10_000, 20_000);
        self.create(c, &key(filled), long.clone()).await?;

        // An expired session is purged for a new one; live ones never are.
        c.equal(
            self.store.remove(&key(1)).await,
            &true,
            "remove to succeed in a full store",
        )?;
        let short = self.record(&subject, 2, 0, 50, 50);
        self.create(c, &key(1), short).await?;
        let later = self.t(60);
        let newest = filled.saturating_add(1);
        let created = self.store.create(&key(newest), long, None, later).await;
        c.equal(
            created,
            &CreateOutcome::Created { ended: 0 },
            "create in a full store to reuse an expired session's room",
        )?;
        for n in 2..=newest {
            self.expect_live(
                c,
                &key(n),
                later,
                "making room never to drop a live session",
            )
            .await?;
        }
        for n in 0..=newest {
            c.ok(self.store.remove(&key(n)).await, "remove to succeed")?;
        }
        Ok(())
    }

    /// Fills the store with live sessions under `numbered_key(salt, n)` until it refuses
    /// with `Capacity`, and returns how many it took.
    pub(super) async fn fill_sessions(
        &mut self,
        c: Check,
        salt: &[u8; 32],
        capacity: usize,
    ) -> Result<usize, ConformanceFailure> {
        let subject = self.subject(c)?;
        let long = self.record(&subject, 1, 0, 10_000, 20_000);
        let mut filled = 0usize;
        loop {
            if filled > capacity {
                return Err(c.fail(
                    "create in a full store to fail with Capacity, never to end a live \
                     session to make room (the store took more than its capacity)",
                ));
            }
            let key = numbered_key(salt, filled);
            match self.store.create(&key, long.clone(), None, self.now).await {
                Ok(_) => filled = filled.saturating_add(1),
                Err(e) if e.kind() == StoreErrorKind::Capacity => break,
                Err(e) => return Err(c.store_error(&e, "create to succeed or fail with Capacity")),
            }
        }
        c.ensure(
            filled >= 2,
            "room for at least two sessions when the check starts",
        )?;
        Ok(filled)
    }

    /// A record of `subject` with sample data `n`, created `created` seconds after `now`,
    /// with deadlines `idle` and `absolute` seconds after `now`.
    pub(super) fn record(
        &mut self,
        subject: &SubjectKey,
        n: u32,
        created: u64,
        idle: u64,
        absolute: u64,
    ) -> SessionRecord<D> {
        let data = (self.sample)(n);
        SessionRecord::new(
            *subject,
            data,
            self.t(created),
            self.t(idle),
            self.t(absolute),
        )
    }

    async fn create(
        &mut self,
        c: Check,
        key: &LookupKey,
        record: SessionRecord<D>,
    ) -> Result<(), ConformanceFailure> {
        let created = self.store.create(key, record, None, self.now).await;
        c.equal(
            created,
            &CreateOutcome::Created { ended: 0 },
            "create to succeed",
        )
    }

    async fn expect_live(
        &mut self,
        c: Check,
        key: &LookupKey,
        at: UnixTime,
        expected: &'static str,
    ) -> Result<SessionRecord<D>, ConformanceFailure> {
        c.ok(self.store.get(key, at).await, expected)?
            .ok_or_else(|| c.fail(expected))
    }

    async fn expect_absent(
        &mut self,
        c: Check,
        key: &LookupKey,
        at: UnixTime,
        expected: &'static str,
    ) -> Result<(), ConformanceFailure> {
        let got = c.ok(self.store.get(key, at).await, expected)?;
        c.ensure(got.is_none(), expected)
    }

    async fn expect_update(
        &mut self,
        c: Check,
        key: &LookupKey,
        version: u64,
        data: &D,
        at: UnixTime,
        want: UpdateOutcome,
    ) -> Result<(), ConformanceFailure> {
        let expected = match want {
            UpdateOutcome::NotFound => "update of a missing session to report NotFound",
            UpdateOutcome::Stale => "update at a stale version to report Stale",
            _ => "update at the current version to succeed with the next version",
        };
        let updated = self
            .store
            .update(key, version, data, at.saturating_add(1000), at)
            .await;
        c.equal(updated, &want, expected)
    }

    /// 1 if the store holds the session filed under `key` (read at `now`), else 0.
    async fn session_stored(
        &mut self,
        c: Check,
        key: &LookupKey,
    ) -> Result<usize, ConformanceFailure> {
        let found = c.ok(self.store.get(key, self.now).await, "get to succeed")?;
        Ok(usize::from(found.is_some()))
    }

    async fn count_subject(
        &mut self,
        c: Check,
        subject: &SubjectKey,
        at: UnixTime,
    ) -> Result<usize, ConformanceFailure> {
        let mut sink = Counter;
        c.ok(
            self.store.list_subject(subject, at, &mut sink).await,
            "list_subject to succeed",
        )
    }

    async fn remove_all(&mut self, c: Check, keys: &[LookupKey]) -> Result<(), ConformanceFailure> {
        for key in keys {
            c.ok(self.store.remove(key).await, "remove to succeed")?;
        }
        Ok(())
    }
}

/// A sink that keeps nothing: the store's count is the answer.
struct Counter;

impl<D> SessionSink<D> for Counter {
    fn push(&mut self, _: SessionHandle, _: SessionRecord<D>) {}
}
