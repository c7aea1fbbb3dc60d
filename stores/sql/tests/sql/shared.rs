//! Two independent pools on one database, as two application servers would have: each
//! sees the other's logins, logouts and revocations at once.

use tokenstile::session::{SessionError, SessionPolicy};
use tokenstile::store::{RevocationStore, SessionStore, Watermark};

use crate::support::{Data, Database, now};

pub(crate) async fn run<DB: Database>(db: &DB) {
    let name = db.name();
    let mut a = db.open("shared_").await;
    let mut b = db.open("shared_").await;
    let policy = SessionPolicy::new().with_touch_interval(0);
    let mut rng = rand::rng();
    let t = now();

    // A login on A is valid on B at once.
    let id = policy
        .create(&mut a, &mut rng, "alice", Data::new(1), t)
        .await
        .unwrap();
    let seen = policy.load::<Data, _>(&mut b, &id, t).await.unwrap();
    assert_eq!(seen.data(), &Data::new(1), "{name}: B sees A's login");

    // A save on B is what A loads; a stale save on A is refused.
    let mut record = seen;
    record.data_mut().saves = 1;
    policy.save(&mut b, &id, &mut record, t).await.unwrap();
    let mut on_a = policy.load::<Data, _>(&mut a, &id, t).await.unwrap();
    assert_eq!(on_a.data().saves, 1, "{name}: A sees B's save");
    let mut stale = on_a.clone();
    on_a.data_mut().saves = 2;
    policy.save(&mut a, &id, &mut on_a, t).await.unwrap();
    stale.data_mut().saves = 99;
    assert!(
        matches!(
            policy.save(&mut b, &id, &mut stale, t).await,
            Err(SessionError::Stale)
        ),
        "{name}: a save based on a stale read on the other server is refused"
    );

    // A rotation on B moves the session for A.
    let rotated = policy
        .rotate::<Data, _, _>(&mut b, &mut rng, &id, t)
        .await
        .unwrap();
    assert!(
        matches!(
            policy.load::<Data, _>(&mut a, &id, t).await,
            Err(SessionError::NotFound)
        ),
        "{name}: A no longer accepts the rotated-away ID"
    );
    let moved = policy
        .load::<Data, _>(&mut a, &rotated.id, t)
        .await
        .unwrap();
    assert_eq!(
        moved.data().saves,
        2,
        "{name}: the rotated session keeps its data"
    );

    // A logout on A is a logout on B.
    policy
        .destroy::<Data, _>(&mut a, &rotated.id)
        .await
        .unwrap();
    assert!(
        matches!(
            policy.load::<Data, _>(&mut b, &rotated.id, t).await,
            Err(SessionError::NotFound)
        ),
        "{name}: B sees A's logout"
    );

    // "Log out everywhere" on B ends A's sessions too, and B lists none left.
    let one = policy
        .create(&mut a, &mut rng, "bob", Data::new(2), t)
        .await
        .unwrap();
    let two = policy
        .create(&mut b, &mut rng, "bob", Data::new(3), t)
        .await
        .unwrap();
    let mut listed: Vec<_> = Vec::new();
    let count = policy
        .list::<Data, _, _>(&mut b, "bob", t, &mut listed)
        .await
        .unwrap();
    assert_eq!(
        (count, listed.len()),
        (2, 2),
        "{name}: B lists A's and its own session"
    );
    assert_eq!(
        policy
            .destroy_subject::<Data, _>(&mut b, "bob")
            .await
            .unwrap(),
        2
    );
    for id in [one, two] {
        assert!(
            matches!(
                policy.load::<Data, _>(&mut a, &id, t).await,
                Err(SessionError::NotFound)
            ),
            "{name}: A sees B's log-out-everywhere"
        );
    }
    assert!(
        !SessionStore::<Data>::remove(&mut a, &id.lookup_key())
            .await
            .unwrap(),
        "{name}: the session was removed already"
    );

    // A token revoked on A is revoked on B; a watermark raised on B holds on A, and
    // a lower one from A doesn't lower it.
    let token = crate::conformance::key();
    assert!(!b.is_revoked(&token, t).await.unwrap());
    a.revoke(&token, t.saturating_add(600), t).await.unwrap();
    assert!(
        b.is_revoked(&token, t).await.unwrap(),
        "{name}: B sees A's revocation"
    );
    let subject = crate::conformance::key();
    let mark = Watermark::new(t, t.saturating_add(600));
    b.raise_watermark(&subject, mark, t).await.unwrap();
    a.raise_watermark(
        &subject,
        Watermark::new(t.saturating_add(0), t.saturating_add(60)),
        t,
    )
    .await
    .unwrap();
    assert_eq!(
        a.watermark(&subject, t).await.unwrap(),
        Some(mark),
        "{name}: A sees B's watermark"
    );
}
