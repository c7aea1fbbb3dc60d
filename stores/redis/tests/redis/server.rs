//! A real `redis-server` for the tests: one process per test, on a free loopback port,
//! without persistence, killed when the fixture is dropped.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`. The binary is `$REDIS_SERVER` if set, else `redis-server`
/// on `PATH`. If it can't be started the test fails: these tests never skip.
pub(crate) struct RedisServer {
    child: Child,
    port: u16,
    dir: PathBuf,
}

impl RedisServer {
    pub(crate) fn start() -> Self {
        let binary = std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
        Self::start_with(binary.as_ref())
    }

    /// Starts the given `redis-server` binary.
    pub(crate) fn start_with(binary: &std::ffi::OsStr) -> Self {
        let mut last_log = String::new();
        // Another process may take the free port between our probe and Redis binding it:
        // try a few ports before giving up.
        for _ in 0..5 {
            let port = free_port();
            let dir = std::env::temp_dir().join(format!(
                "tokenstile-redis-test-{}-{port}",
                std::process::id()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let log = dir.join("redis.log");
            let spawned = Command::new(binary)
                .args(["--port", &port.to_string(), "--bind", "127.0.0.1"])
                .args(["--save", "", "--appendonly", "no", "--daemonize", "no"])
                .arg("--dir")
                .arg(&dir)
                .arg("--logfile")
                .arg(&log)
                .stdin(Stdio::null())
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn();
            if spawned.is_err() {
                let _ = std::fs::remove_dir_all(&dir);
            }
            let child = match spawned {
                Ok(child) => child,
                Err(e) if e.kind() == ErrorKind::NotFound => panic!(
                    "cannot run {binary:?}: not found. The Redis store tests need a real \
                     redis-server: install it (Debian: `apt-get install -y redis-server`) or \
                     set REDIS_SERVER to its path. They are never skipped."
                ),
                Err(e) => panic!("cannot run {binary:?}: {e}"),
            };
            let mut server = Self { child, port, dir };
            match server.wait_for_ping() {
                Ok(()) => return server,
                Err(log) => last_log = log,
            }
        }
        panic!("redis-server did not start; its last log:\n{last_log}");
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub(crate) fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).unwrap()
    }

    /// A new, independent connection: each one stands for one application server.
    pub(crate) fn connection(&self) -> redis::Connection {
        self.client().get_connection().unwrap()
    }

    /// Waits until the server answers `PING`, or returns its log if it exited or timed out.
    fn wait_for_ping(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(10);
        let client = self.client();
        while Instant::now() < deadline {
            if let Some(status) = self.child.try_wait().unwrap() {
                return Err(format!("exited with {status}\n{}", self.log()));
            }
            if let Ok(mut connection) =
                client.get_connection_with_timeout(Duration::from_millis(200))
                && redis::cmd("PING")
                    .query::<String>(&mut connection)
                    .as_deref()
                    == Ok("PONG")
            {
                return Ok(());
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        Err(format!("no PONG within 10 s\n{}", self.log()))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on right now: bind port 0 on loopback and read what we got.
fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
