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

    // Failed means unchanged: a create that ends the oldest session for the limit and
    // then finds its key taken is rolled back, the oldest session with it.
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
