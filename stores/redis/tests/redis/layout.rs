//! What lands in Redis: key names from digests (never session IDs), values, the subject's
//! sorted sets, and TTLs at each entry's own deadline.

use std::collections::BTreeSet;
use std::time::Duration;

use redis::Commands;
use tokenstile::store::{LookupKey, RevocationStore, SessionStore, SubjectKey, Watermark};
use tokenstile_redis::{OnWeakServer, Options, RedisStore};

use crate::server::RedisServer;
use crate::support::{Profile, hex, key, now, record, session_id};

#[tokio::test]
async fn keys_are_built_from_digests_never_from_ids() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = RedisStore::connect(
        server.client(),
        Options::new(OnWeakServer::Accept).prefix("app:"),
    )
    .await
    .unwrap();
    let now = now();
    let id = session_id();
    let subject = SubjectKey::new("alice@example.com");
    store
        .create(
            &id.lookup_key(),
            record(&subject, 1, now, 60, 600),
            None,
            now,
        )
        .await
        .unwrap();
    let lookup = hex(id.lookup_key().as_bytes());
    let subject_hex = hex(subject.as_bytes());
    let session_key = format!("{{app:sessions}}:session:{lookup}");
    let index_key = format!("{{app:sessions}}:subject:{subject_hex}");
    let age_key = format!("{{app:sessions}}:age:{subject_hex}");
    let names: BTreeSet<String> = raw.keys("*").unwrap();
    assert_eq!(
        names,
        BTreeSet::from([session_key.clone(), index_key.clone(), age_key.clone()])
    );
    // The index is scored by expiry, the creation-order set by creation time.
    let index: Vec<(String, u64)> = raw.zrange_withscores(&index_key, 0, -1).unwrap();
    assert_eq!(index, [(lookup.clone(), now.as_secs() + 60)]);
    let age: Vec<(String, u64)> = raw.zrange_withscores(&age_key, 0, -1).unwrap();
    assert_eq!(age, [(lookup.clone(), now.as_secs())]);

    // Neither the ID's text form nor its bytes are anywhere in Redis.
    let mut text = [0; tokenstile::session::SessionId::ENCODED_LEN];
    let secrets = [id.encode(&mut text).to_owned(), hex(id.expose_secret())];
    let value: Vec<u8> = raw.get(&session_key).unwrap();
    let value = String::from_utf8(value).unwrap();
    for secret in &secrets {
        for name in &names {
            assert!(!name.contains(secret.as_str()));
        }
        assert!(!value.contains(secret.as_str()));
    }
    assert!(
        !value.contains("alice"),
        "the subject is stored as its digest"
    );
    assert!(value.starts_with(&format!(
        "s2:{:020}:{:020}:{:020}:{:020}:{:020}:{subject_hex}:",
        now.as_secs(),
        now.as_secs(),
        now.as_secs() + 60,
        now.as_secs() + 600,
        1
    )));
    assert!(value.ends_with(r#""role":1}"#), "{value}");

    let token = key();
    store
        .revoke(&token, now.saturating_add(30), now)
        .await
        .unwrap();
    let revoked: String = raw
        .get(format!("app:revoked:{}", hex(token.as_bytes())))
        .unwrap();
    assert_eq!(revoked, format!("r1:{:020}", now.as_secs() + 30));
    let mark = key();
    let watermark = Watermark::new(now, now.saturating_add(90));
    store.raise_watermark(&mark, watermark, now).await.unwrap();
    let stored: String = raw
        .get(format!("app:watermark:{}", hex(mark.as_bytes())))
        .unwrap();
    assert_eq!(
        stored,
        format!("w1:{:020}:{:020}", now.as_secs(), now.as_secs() + 90)
    );
}

#[tokio::test]
async fn every_entry_expires_at_its_own_deadline() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = crate::support::store(&server).await;
    let now = now();
    let (k, alice) = (key(), crate::support::subject());
    store
        .create(&k, record(&alice, 1, now, 60, 600), None, now)
        .await
        .unwrap();
    let ms = |raw: &mut redis::Connection, name: &str| -> i64 { raw.pttl(name).unwrap() };
    let session = crate::support::session_name(&k);
    let index = crate::support::index_name(&alice);
    assert!((59_000..=60_000).contains(&ms(&mut raw, &session)));
    assert!(ms(&mut raw, &index) >= ms(&mut raw, &session) - 10);
    let token = key();
    store
        .revoke(&token, now.saturating_add(300), now)
        .await
        .unwrap();
    // A revocation is kept five minutes past its deadline (see the next test).
    let revoked = format!("tokenstile:revoked:{}", hex(token.as_bytes()));
    assert!((599_000..=600_000).contains(&ms(&mut raw, &revoked)));

    // Redis itself drops a session at its deadline: one with a 1 s idle timeout is gone
    // from Redis (not merely hidden) a little later.
    let short = key();
    store
        .create(&short, record(&alice, 2, now, 1, 600), None, now)
        .await
        .unwrap();
    tokio::time::sleep(Duration::from_millis(2100)).await;
    assert!(
        !raw.exists::<_, bool>(crate::support::session_name(&short))
            .unwrap()
    );
    assert!(
        SessionStore::<Profile>::get(&mut store, &short, crate::support::now())
            .await
            .unwrap()
            .is_none()
    );
}

/// The Redis names of the revocation `token` and the watermark `mark`, each with the
/// milliseconds it has left.
fn lifetimes(
    raw: &mut redis::Connection,
    token: &LookupKey,
    mark: &LookupKey,
) -> [(String, i64); 2] {
    [
        format!("tokenstile:revoked:{}", hex(token.as_bytes())),
        format!("tokenstile:watermark:{}", hex(mark.as_bytes())),
    ]
    .map(|name| {
        let left = raw.pttl(&name).unwrap();
        (name, left)
    })
}

/// A revocation or watermark written by a server whose clock runs ahead stays in Redis
/// past its deadline by that clock, so a server whose clock is behind still finds it
/// while it judges it live.
#[tokio::test]
async fn a_writer_ahead_does_not_cut_revocations_short() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = crate::support::store(&server).await;
    let now = now();
    // The writer is 8 s ahead; both entries last until now + 10.
    let ahead = now.saturating_add(8);
    let until = now.saturating_add(10);
    let (token, mark) = (key(), key());
    store.revoke(&token, until, ahead).await.unwrap();
    store
        .raise_watermark(&mark, Watermark::new(now, until), ahead)
        .await
        .unwrap();
    for (name, left) in lifetimes(&mut raw, &token, &mark) {
        assert!((301_000..=302_000).contains(&left), "{name}: {left} ms");
    }
    // 2.5 s later, by a reader on time, both are live for 7 more seconds.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let reader = now.saturating_add(3);
    assert!(store.is_revoked(&token, reader).await.unwrap());
    assert_eq!(
        store.watermark(&mark, reader).await.unwrap(),
        Some(Watermark::new(now, until))
    );
}

/// A second writer whose clock runs ahead, writing the same revocation or a watermark
/// already kept longer, leaves the Redis lifetime the first writer gave it: readers on
/// the first writer's time rely on it.
#[tokio::test]
async fn a_later_writer_ahead_keeps_the_lifetime_an_entry_has() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store = crate::support::store(&server).await;
    let now = now();
    let until = now.saturating_add(600);
    let (token, mark) = (key(), key());
    store.revoke(&token, until, now).await.unwrap();
    store
        .raise_watermark(&mark, Watermark::new(now, until), now)
        .await
        .unwrap();
    // The second writer is 400 s ahead: by its clock the entries have 200 s to go, and
    // its own request (the same revocation, an older watermark) changes no deadline.
    let ahead = now.saturating_add(400);
    store.revoke(&token, until, ahead).await.unwrap();
    store
        .raise_watermark(
            &mark,
            Watermark::new(now.saturating_sub(5), now.saturating_add(500)),
            ahead,
        )
        .await
        .unwrap();
    for (name, left) in lifetimes(&mut raw, &token, &mark) {
        assert!((895_000..=900_000).contains(&left), "{name}: {left} ms");
    }
    assert_eq!(
        store.watermark(&mark, now).await.unwrap(),
        Some(Watermark::new(now, until))
    );
}
