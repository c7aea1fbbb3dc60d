//! The fixture itself: a missing server fails loudly, and a dropped one is gone.

use std::ffi::OsStr;
use std::panic::{AssertUnwindSafe, catch_unwind};

use crate::server::RedisServer;

#[test]
fn a_missing_redis_server_fails_the_test() {
    let started = catch_unwind(AssertUnwindSafe(|| {
        RedisServer::start_with(OsStr::new("/nonexistent/redis-server"))
    }));
    let panic = started.err().expect("a server from a missing binary");
    let message = panic
        .downcast_ref::<String>()
        .expect("a formatted panic message");
    assert!(message.contains("not found"), "{message}");
    assert!(
        message.contains("apt-get install -y redis-server"),
        "{message}"
    );
}

#[test]
fn dropping_the_fixture_stops_the_server() {
    let server = RedisServer::start();
    let client = server.client();
    let mut connection = server.connection();
    assert_eq!(
        redis::cmd("PING").query::<String>(&mut connection).unwrap(),
        "PONG"
    );
    // Nothing is persisted.
    let save: Vec<String> = redis::cmd("CONFIG")
        .arg("GET")
        .arg("save")
        .query(&mut connection)
        .unwrap();
    assert_eq!(save, ["save", ""]);
    drop(server);
    assert!(redis::cmd("PING").query::<String>(&mut connection).is_err());
    assert!(client.get_connection().is_err());
}
