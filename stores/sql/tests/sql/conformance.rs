//! The public conformance suite, and what it can't see: several data types in one
//! store, data of the wrong type, purging in batches, migrations run twice.

use std::num::{NonZeroU32, NonZeroUsize};

use tokenstile::UnixTime;
use tokenstile::store::conformance::{check_revocations, check_sessions, check_store};
use tokenstile::store::{
    LookupKey, SessionRecord, SessionStore, Store, StoreErrorKind, SubjectKey, SubjectLimit,
    WhenFull,
};

use crate::support::{Data, Database, now};

pub(crate) async fn run<DB: Database>(db: &DB) {
    let mut store = db.open("conf_").await;
    let mut rng = rand::rng();
    check_store(&mut store, &mut rng, now(), Data::new)
        .await
        .unwrap_or_else(|e| panic!("{}: {e}", db.name()));
    // One store serves several data types.
    check_sessions(&mut store, &mut rng, now(), |n: u32| n)
        .await
        .unwrap_or_else(|e| panic!("{} (u32 data): {e}", db.name()));
    check_sessions(&mut store, &mut rng, now(), |n: u32| {
        format!("\u{1f511} {n} '\"\\")
    })
    .await
    .unwrap_or_else(|e| panic!("{} (string data): {e}", db.name()));
    check_revocations(&mut store, &mut rng, now())
        .await
        .unwrap_or_else(|e| panic!("{} (revocations): {e}", db.name()));
}

/// Keys the tests make up: digests of random session IDs, as the lifecycle derives them.
pub(crate) fn key() -> LookupKey {
    let id = tokenstile::session::SessionId::generate(&mut rand::rng()).unwrap();
    id.lookup_key()
}

pub(crate) fn subject() -> SubjectKey {
    SubjectKey::from_bytes(rand::random())
}

pub(crate) fn record(
    subject: &SubjectKey,
    data: Data,
    now: UnixTime,
    life: u64,
) -> SessionRecord<Data> {
    SessionRecord::new(
        *subject,
        data,
        now,
        now.saturating_add(life),
        now.saturating_add(life),
    )
}

pub(crate) async fn extras<DB: Database>(db: &DB) {
    let name = db.name();
    let mut store = db.open("extra_").await;
    // Migrating again is harmless.
    let again = db.open("extra_").await;
    drop(again);

    // Data of another type is reported as corrupt, never as something else.
    let (k, s, t) = (key(), subject(), now());
    SessionStore::<Data>::create(&mut store, &k, record(&s, Data::new(7), t, 600), None, t)
        .await
        .unwrap();
    let wrong = SessionStore::<u32>::get(&mut store, &k, t).await;
    assert_eq!(
        wrong.map(|_| ()).map_err(|e| e.kind()),
        Err(StoreErrorKind::Corrupt),
        "{name}: data of another type must read as corrupt"
    );
    let right = SessionStore::<Data>::get(&mut store, &k, t).await.unwrap();
    assert_eq!(right.map(|r| r.into_data()), Some(Data::new(7)), "{name}");

    // A row edited behind the store's back: its own deadlines decide, not `expires_at`.
    let edited = db.open("edited_").await;
    let mut edited_store = edited.clone();
    let (k, s3) = (key(), subject());
    SessionStore::<Data>::create(
        &mut edited_store,
        &k,
        record(&s3, Data::new(3), t, 600),
        None,
        t,
    )
    .await
    .unwrap();
    let past = i64::try_from(t.as_secs()).unwrap() - 1;
    db.execute(
        &edited,
        &format!("UPDATE edited_sessions SET idle_deadline = {past}"),
    )
    .await;
    let dead = SessionStore::<Data>::get(&mut edited_store, &k, t)
        .await
        .unwrap();
    assert!(
        dead.is_none(),
        "{name}: a session past its idle deadline is dead"
    );
    let mut listed: Vec<(tokenstile::store::SessionHandle, SessionRecord<Data>)> = Vec::new();
    assert_eq!(
        SessionStore::<Data>::list_subject(&mut edited_store, &s3, t, &mut listed)
            .await
            .unwrap(),
        0,
        "{name}: a session past its idle deadline is not listed"
    );
    // A version at the column's limit can't be incremented: the update is stale, not a
    // database error, and the session unchanged.
    db.execute(
        &edited,
        &format!(
            "UPDATE edited_sessions SET idle_deadline = {}, version = {}",
            past + 601,
            i64::MAX
        ),
    )
    .await;
    let at_limit = SessionStore::<Data>::get(&mut edited_store, &k, t)
        .await
        .unwrap()
        .unwrap();
    assert_eq!(at_limit.version(), i64::MAX.unsigned_abs(), "{name}");
    let outcome = SessionStore::<Data>::update(
        &mut edited_store,
        &k,
        at_limit.version(),
        &Data::new(4),
        t.saturating_add(600),
        t,
    )
    .await;
    assert_eq!(
        outcome.map_err(|e| e.kind()),
        Ok(tokenstile::store::UpdateOutcome::Stale),
        "{name}: a version that can't be incremented is stale"
    );
    let unchanged = SessionStore::<Data>::get(&mut edited_store, &k, t)
        .await
        .unwrap();
    assert_eq!(
        unchanged.map(|r| r.into_data()),
        Some(Data::new(3)),
        "{name}"
    );
    let missing = SessionStore::<Data>::update(
        &mut edited_store,
        &key(),
        i64::MAX.unsigned_abs(),
        &Data::new(4),
        t.saturating_add(600),
        t,
    )
    .await;
    assert_eq!(
        missing.map_err(|e| e.kind()),
        Ok(tokenstile::store::UpdateOutcome::NotFound),
        "{name}: a missing session is missing whatever the version"
    );

    // Purging goes in batches, and leaves live rows alone.
    let small = crate::support::options("batch_").with_purge_batch(NonZeroU32::new(7).unwrap());
    let mut batched = db.open_with(small).await;
    let live = key();
    SessionStore::<Data>::create(
        &mut batched,
        &live,
        record(&s, Data::new(1), t, 10_000),
        None,
        t,
    )
    .await
    .unwrap();
    for n in 0..30 {
        SessionStore::<Data>::create(
            &mut batched,
            &key(),
            record(&s, Data::new(n), t, 5),
            None,
            t,
        )
        .await
        .unwrap();
    }
    for _ in 0..20 {
        tokenstile::store::RevocationStore::revoke(&mut batched, &key(), t.saturating_add(5), t)
            .await
            .unwrap();
    }
    let purged = batched.purge_expired(t.saturating_add(10)).await.unwrap();
    assert_eq!(
        purged, 50,
        "{name}: purge must delete every dead row, and only those"
    );
    let kept = SessionStore::<Data>::get(&mut batched, &live, t.saturating_add(10))
        .await
        .unwrap();
    assert!(kept.is_some(), "{name}: purge must keep live sessions");
    assert_eq!(
        batched.purge_expired(t.saturating_add(10)).await.unwrap(),
        0,
        "{name}"
    );

    // Another prefix is another set of tables.
    let elsewhere = SessionStore::<Data>::get(&mut batched, &k, t)
        .await
        .unwrap();
    assert!(
        elsewhere.is_none(),
        "{name}: prefixes must not share tables"
    );

    // Failed means unchanged: a create onto a live key of its own subject fails before it
    // ends anything, and one that ends the oldest session for the limit and then finds
    // its key taken by another subject's session is rolled back, the oldest session with
    // it.
    let s2 = subject();
    let limit = Some(SubjectLimit::new(
        NonZeroUsize::new(2).unwrap(),
        WhenFull::EndOldest,
    ));
    let (oldest, newer) = (key(), key());
    for (n, k) in [(0, &oldest), (1, &newer)] {
        let r = record(&s2, Data::new(n), t.saturating_add(u64::from(n)), 600);
        SessionStore::<Data>::create(&mut store, k, r, limit, t)
            .await
            .unwrap();
    }
    let r = record(&s2, Data::new(9), t.saturating_add(5), 600);
    let taken = SessionStore::<Data>::create(&mut store, &newer, r, limit, t).await;
    assert_eq!(
        taken.map_err(|e| e.kind()),
        Err(StoreErrorKind::Conflict),
        "{name}: a create onto a live key must fail with Conflict"
    );
    let kept = SessionStore::<Data>::get(&mut store, &oldest, t)
        .await
        .unwrap();
    assert_eq!(
        kept.map(|r| r.into_data()),
        Some(Data::new(0)),
        "{name}: a failed create must not have ended the oldest session"
    );
    let elsewhere = key();
    let other = record(&subject(), Data::new(7), t, 600);
    SessionStore::<Data>::create(&mut store, &elsewhere, other, None, t)
        .await
        .unwrap();
    let r = record(&s2, Data::new(9), t.saturating_add(5), 600);
    let taken = SessionStore::<Data>::create(&mut store, &elsewhere, r, limit, t).await;
    assert_eq!(
        taken.map_err(|e| e.kind()),
        Err(StoreErrorKind::Conflict),
        "{name}: a create onto another subject's live key must fail with Conflict"
    );
    for (k, n) in [(&oldest, 0), (&newer, 1), (&elsewhere, 7)] {
        let kept = SessionStore::<Data>::get(&mut store, k, t).await.unwrap();
        assert_eq!(
            kept.map(|r| r.into_data()),
            Some(Data::new(n)),
            "{name}: a create rolled back after ending the oldest session for the limit \
             must leave every session as it was"
        );
    }
}

/// [`tokenstile_sql::AnyStore`] on a URL: the right database, and the whole suite through
/// it.
pub(crate) async fn any_store(url: &str, database: &str) {
    let options = crate::support::options("any_");
    let mut store = tokenstile_sql::AnyStore::connect(url, options)
        .await
        .unwrap_or_else(|e| panic!("{database}: AnyStore::connect: {e:?}"));
    assert_eq!(store.database(), database);
    check_store(&mut store, &mut rand::rng(), now(), Data::new)
        .await
        .unwrap_or_else(|e| panic!("{database} through AnyStore: {e}"));
}
