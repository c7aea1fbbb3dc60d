//! Redis Cluster: three masters on loopback, created by the test with
//! `redis-cli --cluster create`, and the store on the redis crate's cluster connection.

use std::process::Command;
use std::time::{Duration, Instant};

use redis::cluster::ClusterClient;
use redis::cluster_async::ClusterConnection;
use tokenstile::store::{
    LookupKey, RevocationCheck, RevocationStore, SessionStore, Watermark, conformance,
};
use tokenstile_redis::RedisStore;

use crate::round_trips::{Counters, Meter};
use crate::server::RedisServer;
use crate::support::{Profile, hex, key, now, profile, record, subject};

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
        // No retries, as the README asks: a script sent again after a lost reply would
        // meet its own write.
        ClusterClient::builder(self.nodes.iter().map(RedisServer::url).collect::<Vec<_>>())
            .retries(0)
            .build()
            .unwrap()
            .get_async_connection()
            .await
            .unwrap()
    }

    /// The node (an index into `nodes`) that serves the slot of the key `name`.
    fn node_of(&self, name: &str) -> usize {
        let slot: u16 = redis::cmd("CLUSTER")
            .arg("KEYSLOT")
            .arg(name)
            .query(&mut self.nodes[0].connection())
            .unwrap();
        let serves = |node: &RedisServer| {
            let nodes: String = redis::cmd("CLUSTER")
                .arg("NODES")
                .query(&mut node.connection())
                .unwrap();
            let me = nodes.lines().find(|l| l.contains("myself")).unwrap();
            // `<id> <addr> <flags> <master> <ping> <pong> <epoch> <state> <slots>...`
            me.split(' ').skip(8).any(|range| {
                let (from, to) = range.split_once('-').unwrap_or((range, range));
                (from.parse::<u16>().unwrap()..=to.parse().unwrap()).contains(&slot)
            })
        };
        let owners: Vec<usize> = (0..self.nodes.len())
            .filter(|&i| serves(&self.nodes[i]))
            .collect();
        assert_eq!(owners.len(), 1, "slot {slot}: {owners:?}");
        owners[0]
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

/// A fresh key whose Redis key (`name` of it) lives on a node not in `taken`.
fn key_elsewhere(
    cluster: &Cluster,
    name: impl Fn(&LookupKey) -> String,
    taken: &[usize],
) -> (LookupKey, usize) {
    loop {
        let key = key();
        let node = cluster.node_of(&name(&key));
        if !taken.contains(&node) {
            return (key, node);
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_check_is_one_request_to_each_shard_at_once() {
    let cluster = Cluster::start();
    let mut store = RedisStore::with_prefix(cluster.connection().await, "app:");
    let now = now();
    // A token whose jti entry, sid entry and watermark are on three different masters.
    let revoked = |k: &LookupKey| format!("app:revoked:{}", hex(k.as_bytes()));
    let watermark = |k: &LookupKey| format!("app:watermark:{}", hex(k.as_bytes()));
    let (token, a) = key_elsewhere(&cluster, revoked, &[]);
    let (family, b) = key_elsewhere(&cluster, revoked, &[a]);
    let (mark, c) = key_elsewhere(&cluster, watermark, &[a, b]);
    let mut nodes = [a, b, c];
    nodes.sort_unstable();
    assert_eq!(nodes, [0, 1, 2]);
    let raised = Watermark::new(now, now.saturating_add(60));
    store.raise_watermark(&mark, raised, now).await.unwrap();
    // The cluster client connects to a node when it first sends there: open them all.
    let entries = [token, family];
    store
        .check_revoked(&entries, Some(&mark), now)
        .await
        .unwrap();

    let mut meters: Vec<Meter> = cluster
        .nodes
        .iter()
        .map(|n| Meter::new(n.connection()))
        .collect();
    let mut measure = async |store: &mut RedisStore<_>, want: RevocationCheck| {
        let starts: Vec<Counters> = meters.iter_mut().map(Meter::start).collect();
        let found = store
            .check_revoked(&entries, Some(&mark), now)
            .await
            .unwrap();
        assert_eq!(found, want);
        let costs: Vec<Counters> = meters
            .iter_mut()
            .zip(starts)
            .map(|(meter, start)| meter.since(start))
            .collect();
        // One `MGET` of the node's key on each master, each read and answered in one go;
        // the cluster client queues the three before it awaits any reply (redis 1.8,
        // `cluster_async`: a multi-slot command is split by slot and the parts joined).
        for cost in &costs {
            assert_eq!(
                (
                    cost.reads,
                    cost.writes,
                    cost.commands,
                    cost.mgets,
                    cost.gets
                ),
                (1, 1, 1, 1, 0),
                "{costs:?}"
            );
        }
    };
    measure(&mut store, RevocationCheck::NotRevoked(Some(raised))).await;
    store
        .revoke(&family, now.saturating_add(60), now)
        .await
        .unwrap();
    measure(&mut store, RevocationCheck::Revoked(1)).await;
}
