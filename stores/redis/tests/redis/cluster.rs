//! Redis Cluster: three masters on loopback, created by the test with
//! `redis-cli --cluster create`, and the store on the redis crate's cluster connection.

use std::process::Command;
use std::time::{Duration, Instant};

use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use tokenstile::store::{RevocationStore, SessionStore, conformance};
use tokenstile_redis::RedisStore;

use crate::server::RedisServer;
use crate::support::{Profile, key, now, profile, record, subject};

/// Three cluster-enabled masters sharing the 16384 slots, stopped by PID when dropped.
struct Cluster {
    nodes: Vec<RedisServer>,
}

impl Cluster {
    fn start() -> Self {
        let nodes: Vec<RedisServer> = (0..3)
            .map(|_| {
                RedisServer::start_configured(&[
                    "--cluster-enabled",
                    "yes",
                    "--cluster-config-file",
                    "nodes.conf",
                    "--cluster-node-timeout",
                    "5000",
                    "--save",
                    "",
                    "--appendonly",
                    "no",
                ])
            })
            .collect();
        let cli = std::env::var_os("REDIS_CLI").unwrap_or_else(|| "redis-cli".into());
        let output = Command::new(&cli)
            .arg("--cluster")
            .arg("create")
            .args(nodes.iter().map(|n| format!("127.0.0.1:{}", n.port())))
            .args(["--cluster-replicas", "0", "--cluster-yes"])
            .output()
            .unwrap_or_else(|e| panic!("cannot run {cli:?} (Debian package redis-tools): {e}"));
        assert!(
            output.status.success(),
            "redis-cli --cluster create failed:\n{}{}",
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
        let cluster = Self { nodes };
        cluster.wait_until_ok();
        cluster
    }

    /// Waits until every node reports `cluster_state:ok` and knows all three masters.
    fn wait_until_ok(&self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        for node in &self.nodes {
            let mut connection = node.connection();
            loop {
                let info: String = redis::cmd("CLUSTER")
                    .arg("INFO")
                    .query(&mut connection)
                    .unwrap();
                if info.contains("cluster_state:ok") && info.contains("cluster_known_nodes:3") {
                    break;
                }
                assert!(Instant::now() < deadline, "cluster not ok:\n{info}");
                std::thread::sleep(Duration::from_millis(100));
            }
        }
    }

    async fn connection(&self) -> ClusterConnection {
        ClusterClient::new(self.nodes.iter().map(RedisServer::url).collect::<Vec<_>>())
            .unwrap()
            .get_async_connection()
            .await
            .unwrap()
    }

    /// How many keys each node holds.
    fn sizes(&self) -> Vec<u64> {
        self.nodes
            .iter()
            .map(|n| redis::cmd("DBSIZE").query(&mut n.connection()).unwrap())
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_store_passes_conformance_on_a_three_master_cluster() {
    let cluster = Cluster::start();
    let mut store = RedisStore::new(cluster.connection().await);
    conformance::check_store(&mut store, &mut rand::rng(), now(), profile)
        .await
        .unwrap();
    conformance::check_store(&mut store, &mut rand::rng(), now(), |n| n)
        .await
        .unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sessions_share_one_slot_and_revocations_spread_over_the_shards() {
    let cluster = Cluster::start();
    let mut store = RedisStore::with_prefix(cluster.connection().await, "app:");
    let now = now();
    // Many subjects, logins, rotations, log-outs: no CROSSSLOT anywhere.
    for i in 0..30 {
        let alice = subject();
        let (a, b) = (key(), key());
        store
            .create(&a, record(&alice, i, now, 60, 600), None, now)
            .await
            .unwrap();
        store
            .create(&b, record(&alice, i, now, 60, 600), None, now)
            .await
            .unwrap();
        let c = key();
        assert!(
            SessionStore::<Profile>::rotate(&mut store, &b, &c, now)
                .await
                .unwrap()
                .is_some()
        );
        assert_eq!(
            SessionStore::<Profile>::remove_subject(&mut store, &alice, Some(&c))
                .await
                .unwrap(),
            1
        );
        assert!(
            SessionStore::<Profile>::get(&mut store, &c, now)
                .await
                .unwrap()
                .is_some()
        );
    }
    let with_sessions = cluster.sizes();
    // 30 kept sessions and their subjects' two sets, all on one node.
    let mut sorted = with_sessions.clone();
    sorted.sort_unstable();
    assert_eq!(sorted, [0, 0, 90], "{with_sessions:?}");

    for _ in 0..60 {
        store
            .revoke(&key(), now.saturating_add(60), now)
            .await
            .unwrap();
    }
    let sizes = cluster.sizes();
    let revocations: Vec<u64> = sizes
        .iter()
        .zip(&with_sessions)
        .map(|(a, b)| a - b)
        .collect();
    assert_eq!(revocations.iter().sum::<u64>(), 60);
    assert!(revocations.iter().all(|&n| n > 0), "{revocations:?}");
}
