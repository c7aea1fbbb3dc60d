//! Atomicity under concurrency: many application servers (each its own connection)
//! racing on one subject or one session.

use std::num::NonZeroUsize;

use tokenstile::store::{
    CreateOutcome, SessionHandle, SessionRecord, SessionStore, SubjectLimit, UpdateOutcome,
    WhenFull,
};

use crate::server::RedisServer;
use crate::support::{Profile, key, now, profile, record, store, subject};

const SERVERS: usize = 8;

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_limit_holds_under_concurrent_logins() {
    let server = RedisServer::start();
    let now = now();
    let alice = subject();
    let limit = Some(SubjectLimit::new(
        NonZeroUsize::new(5).unwrap(),
        WhenFull::Refuse,
    ));
    let mut tasks = Vec::new();
    for s in 0..SERVERS {
        let mut store = store(&server).await;
        tasks.push(tokio::spawn(async move {
            let mut created = 0;
            for i in 0..20 {
                let outcome = store
                    .create(
                        &key(),
                        record(&alice, (s * 100 + i) as u32, now, 60, 600),
                        limit,
                        now,
                    )
                    .await
                    .unwrap();
                if outcome != CreateOutcome::LimitReached {
                    created += 1;
                }
            }
            created
        }));
    }
    let mut created = 0;
    for task in tasks {
        created += task.await.unwrap();
    }
    assert_eq!(created, 5);
    let mut store = store(&server).await;
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(
        store.list_subject(&alice, now, &mut listed).await.unwrap(),
        5
    );

    // Ending the oldest instead: the subject never has more than the limit.
    let bob = subject();
    let limit = Some(SubjectLimit::new(
        NonZeroUsize::new(3).unwrap(),
        WhenFull::EndOldest,
    ));
    let mut tasks = Vec::new();
    for s in 0..SERVERS {
        let mut store = store.clone();
        tasks.push(tokio::spawn(async move {
            let mut ended = 0;
            for i in 0..20 {
                match store
                    .create(
                        &key(),
                        record(&bob, (s * 100 + i) as u32, now, 60, 600),
                        limit,
                        now,
                    )
                    .await
                    .unwrap()
                {
                    CreateOutcome::Created { ended: n } => ended += n,
                    other => panic!("{other:?}"),
                }
            }
            ended
        }));
    }
    let mut ended = 0;
    for task in tasks {
        ended += task.await.unwrap();
    }
    assert_eq!(ended, SERVERS * 20 - 3);
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    assert_eq!(store.list_subject(&bob, now, &mut listed).await.unwrap(), 3);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_saves_of_one_version_have_one_winner() {
    let server = RedisServer::start();
    let now = now();
    let k = key();
    let mut first = store(&server).await;
    first
        .create(&k, record(&subject(), 0, now, 60, 600), None, now)
        .await
        .unwrap();
    for round in 1..=10u64 {
        let mut tasks = Vec::new();
        for s in 0..SERVERS {
            let mut store = first.clone();
            tasks.push(tokio::spawn(async move {
                // Every server read version `round` and saves its own change.
                let outcome = store
                    .update(&k, round, &profile(s as u32), now.saturating_add(60), now)
                    .await
                    .unwrap();
                (s, outcome)
            }));
        }
        let mut winners = Vec::new();
        for task in tasks {
            let (s, outcome) = task.await.unwrap();
            match outcome {
                UpdateOutcome::Updated { version } => {
                    assert_eq!(version, round + 1);
                    winners.push(s);
                }
                UpdateOutcome::Stale => {}
                other => panic!("{other:?}"),
            }
        }
        assert_eq!(winners.len(), 1, "round {round}: {winners:?}");
        let got: SessionRecord<Profile> = first.get(&k, now).await.unwrap().unwrap();
        assert_eq!(got.data(), &profile(winners[0] as u32));
        assert_eq!(got.version(), round + 1);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn log_out_everywhere_leaves_nothing_usable_while_logins_and_touches_race() {
    let server = RedisServer::start();
    let now = now();
    let alice = subject();
    let mut main = store(&server).await;
    let mut before = Vec::new();
    for i in 0..2000 {
        let k = key();
        main.create(&k, record(&alice, i, now, 600, 600), None, now)
            .await
            .unwrap();
        before.push(k);
    }
    // Other servers keep logging alice in, touching and rotating her sessions.
    let mut tasks = Vec::new();
    for s in 0..4u32 {
        let mut store = store(&server).await;
        let old = before[s as usize];
        tasks.push(tokio::spawn(async move {
            let mut created = Vec::new();
            let mut current = old;
            for i in 0..150 {
                let k = key();
                store
                    .create(&k, record(&alice, s * 1000 + i, now, 600, 600), None, now)
                    .await
                    .unwrap();
                created.push(k);
                let _ = SessionStore::<Profile>::touch(
                    &mut store,
                    &current,
                    now.saturating_add(600),
                    now,
                )
                .await
                .unwrap();
                let next = key();
                if SessionStore::<Profile>::rotate(&mut store, &current, &next, now)
                    .await
                    .unwrap()
                    .is_some()
                {
                    current = next;
                }
            }
            (created, current)
        }));
    }
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    SessionStore::<Profile>::remove_subject(&mut main, &alice, None)
        .await
        .unwrap();
    // Everything created before the call returned is gone; what the others created
    // afterwards may remain. Each session either was taken or is still whole.
    for k in &before {
        assert!(
            SessionStore::<Profile>::get(&mut main, k, now)
                .await
                .unwrap()
                .is_none()
        );
    }
    let mut survivors = 0;
    for task in tasks {
        let (created, _) = task.await.unwrap();
        for k in created {
            if let Some(r) = SessionStore::<Profile>::get(&mut main, &k, now)
                .await
                .unwrap()
            {
                assert_eq!(r.subject(), &alice);
                survivors += 1;
            }
        }
    }
    let mut listed: Vec<(SessionHandle, SessionRecord<Profile>)> = Vec::new();
    let listed_n = main.list_subject(&alice, now, &mut listed).await.unwrap();
    // What is listed is exactly what survived: the rotated chains started from sessions
    // created before the call, so none of them survives it.
    assert_eq!(listed_n, survivors);
    // A second log-out takes exactly what is listed, and then nothing is left.
    let taken = SessionStore::<Profile>::remove_subject(&mut main, &alice, None)
        .await
        .unwrap();
    assert_eq!(taken, listed_n);
    let mut raw = server.connection();
    let names: Vec<String> = redis::Commands::keys(&mut raw, "*").unwrap();
    assert!(names.is_empty(), "{} keys left", names.len());
}
