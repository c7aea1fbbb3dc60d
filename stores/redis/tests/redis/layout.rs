//! What lands in Redis: key names from lookup keys (never IDs), values, the subject index.

use std::collections::BTreeSet;

use redis::Commands;
use tokenstile::store::{SessionStore, SubjectKey, Watermark};

use crate::server::RedisServer;
use crate::support::{Profile, hex, key, now, record, session_id};
use tokenstile_redis::RedisStore;

fn all_keys(connection: &mut redis::Connection) -> BTreeSet<String> {
    connection.keys("*").unwrap()
}

#[test]
fn keys_are_built_from_digests_never_from_ids() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store: RedisStore<_, Profile> = RedisStore::with_prefix(server.connection(), "app:");
    let now = now();
    let id = session_id();
    let subject = SubjectKey::new("alice@example.com");
    store
        .create(&id.lookup_key(), record(&subject, 1, now, 60, 600), now)
        .unwrap();
    let lookup = hex(id.lookup_key().as_bytes());
    let subject_hex = hex(subject.as_bytes());
    let session_key = format!("app:session:{lookup}");
    let index_key = format!("app:subject:{subject_hex}");
    assert_eq!(
        all_keys(&mut raw),
        BTreeSet::from([session_key.clone(), index_key.clone()])
    );
    let members: BTreeSet<String> = raw.smembers(&index_key).unwrap();
    assert_eq!(members, BTreeSet::from([lookup]));

    // Neither the ID's text form nor its bytes are anywhere in Redis.
    let mut text = [0; tokenstile::session::SessionId::ENCODED_LEN];
    let secrets = [id.encode(&mut text).to_owned(), hex(id.expose_secret())];
    let value: Vec<u8> = raw.get(&session_key).unwrap();
    let value = String::from_utf8(value).unwrap();
    for secret in &secrets {
        assert!(!session_key.contains(secret.as_str()) && !value.contains(secret.as_str()));
    }
    assert!(
        !value.contains("alice"),
        "the subject is stored as its digest"
    );
    assert!(value.starts_with("s1:"));
    assert!(value.ends_with(r#"{"user":"user-1 \"quoted\" ünïcode","role":1}"#));

    let (revoked, marked) = (key(), key());
    store.revoke(&revoked, now.saturating_add(60), now).unwrap();
    store
        .raise_watermark(&marked, Watermark::new(now, now.saturating_add(60)), now)
        .unwrap();
    let revoked_key = format!("app:revoked:{}", hex(revoked.as_bytes()));
    let watermark_key = format!("app:watermark:{}", hex(marked.as_bytes()));
    assert_eq!(
        all_keys(&mut raw),
        BTreeSet::from([
            session_key,
            index_key,
            revoked_key.clone(),
            watermark_key.clone()
        ])
    );
    let revocation: String = raw.get(&revoked_key).unwrap();
    assert_eq!(revocation, format!("r1:{:020}", now.as_secs() + 60));
    let watermark: String = raw.get(&watermark_key).unwrap();
    assert_eq!(
        watermark,
        format!("w1:{:020}:{:020}", now.as_secs(), now.as_secs() + 60)
    );
}

#[test]
fn prefixes_keep_stores_apart() {
    let server = RedisServer::start();
    let mut a: RedisStore<_, Profile> = RedisStore::with_prefix(server.connection(), "a:");
    let mut b: RedisStore<_, Profile> = RedisStore::with_prefix(server.connection(), "b:");
    let default: RedisStore<redis::Connection, Profile> = RedisStore::new(server.connection());
    assert_eq!(default.prefix(), tokenstile_redis::DEFAULT_PREFIX);
    assert_eq!(a.prefix(), "a:");
    let now = now();
    let (k, s) = (key(), crate::support::subject());
    a.create(&k, record(&s, 1, now, 60, 60), now).unwrap();
    assert!(b.get(&k, now).unwrap().is_none());
    b.create(&k, record(&s, 2, now, 60, 60), now).unwrap();
    assert_eq!(b.remove_subject(&s).unwrap(), 1);
    assert_eq!(a.get(&k, now).unwrap().map(|r| r.data().role), Some(1));
    a.revoke(&k, now.saturating_add(60), now).unwrap();
    assert!(!b.is_revoked(&k, now).unwrap());
}

#[test]
fn the_subject_index_forgets_expired_and_removed_sessions() {
    let server = RedisServer::start();
    let mut raw = server.connection();
    let mut store: RedisStore<_, Profile> = RedisStore::new(server.connection());
    let now = now();
    let s = crate::support::subject();
    let index = format!("tokenstile:subject:{}", hex(s.as_bytes()));
    let (gone, removed, kept) = (key(), key(), key());
    store
        .create(&gone, record(&s, 1, now, 60, 60), now)
        .unwrap();
    store
        .create(&removed, record(&s, 2, now, 60, 60), now)
        .unwrap();
    // As if Redis had expired it.
    let _: () = raw
        .del(format!("tokenstile:session:{}", hex(gone.as_bytes())))
        .unwrap();
    assert!(store.remove(&removed).unwrap());
    let members: BTreeSet<String> = raw.smembers(&index).unwrap();
    assert_eq!(members, BTreeSet::from([hex(gone.as_bytes())]));
    // The next login prunes the member whose session is gone.
    store
        .create(&kept, record(&s, 3, now, 60, 60), now)
        .unwrap();
    let members: BTreeSet<String> = raw.smembers(&index).unwrap();
    assert_eq!(members, BTreeSet::from([hex(kept.as_bytes())]));
}
