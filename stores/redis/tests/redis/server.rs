//! A real `redis-server` for the tests: one process per test, on a free loopback port,
//! stopped by its PID when the fixture is dropped.

use std::io::ErrorKind;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A running `redis-server`. The binary is `$REDIS_SERVER` if set, else `redis-server`
/// on `PATH`. If it can't be started the test fails: these tests never skip.
pub(crate) struct RedisServer {
    child: Option<Child>,
    binary: std::ffi::OsString,
    args: Vec<String>,
    port: u16,
    dir: PathBuf,
}

/// Without persistence: the default for tests.
pub(crate) const NO_PERSISTENCE: &[&str] = &["--save", "", "--appendonly", "no"];

impl RedisServer {
    pub(crate) fn start() -> Self {
        Self::start_configured(NO_PERSISTENCE)
    }

    /// Starts `redis-server` with these extra arguments (persistence settings and such).
    pub(crate) fn start_configured(args: &[&str]) -> Self {
        let binary = std::env::var_os("REDIS_SERVER").unwrap_or_else(|| "redis-server".into());
        Self::start_binary(&binary, args)
    }

    /// Starts the given `redis-server` binary.
    pub(crate) fn start_with(binary: &std::ffi::OsStr) -> Self {
        Self::start_binary(binary, NO_PERSISTENCE)
    }

    fn start_binary(binary: &std::ffi::OsStr, args: &[&str]) -> Self {
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
            let mut server = Self {
                child: None,
                binary: binary.to_owned(),
                args: args.iter().map(|a| (*a).to_owned()).collect(),
                port,
                dir,
            };
            match server.spawn() {
                Ok(()) => return server,
                Err(log) => last_log = log,
            }
        }
        panic!("redis-server did not start; its last log:\n{last_log}");
    }

    /// Runs the server process on this fixture's port and directory.
    fn spawn(&mut self) -> Result<(), String> {
        let spawned = Command::new(&self.binary)
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--daemonize", "no"])
            .args(&self.args)
            .arg("--dir")
            .arg(&self.dir)
            .arg("--logfile")
            .arg(self.dir.join("redis.log"))
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn();
        let child = match spawned {
            Ok(child) => child,
            Err(e) if e.kind() == ErrorKind::NotFound => {
                let _ = std::fs::remove_dir_all(&self.dir);
                panic!(
                    "cannot run {:?}: not found. The Redis store tests need a real \
                     redis-server: install it (Debian: `apt-get install -y redis-server`) or \
                     set REDIS_SERVER to its path. They are never skipped.",
                    self.binary
                )
            }
            Err(e) => panic!("cannot run {:?}: {e}", self.binary),
        };
        self.child = Some(child);
        self.wait_for_ping()
    }

    #[cfg_attr(not(feature = "cluster"), allow(dead_code))]
    pub(crate) fn port(&self) -> u16 {
        self.port
    }

    pub(crate) fn url(&self) -> String {
        format!("redis://127.0.0.1:{}/", self.port)
    }

    pub(crate) fn client(&self) -> redis::Client {
        redis::Client::open(self.url()).unwrap()
    }

    /// A new, independent blocking connection, for inspecting what the store wrote.
    pub(crate) fn connection(&self) -> redis::Connection {
        self.client().get_connection().unwrap()
    }

    /// Kills the server with SIGKILL (by its PID) and waits for it to exit: no shutdown,
    /// no final save.
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and directory (so it reloads whatever
    /// it persisted there).
    pub(crate) fn restart(&mut self) {
        self.kill();
        if let Err(log) = self.spawn() {
            panic!("redis-server did not restart:\n{log}");
        }
    }

    /// Waits until the server answers `PING`, or returns its log if it exited or timed out.
    fn wait_for_ping(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(20);
        let client = self.client();
        while Instant::now() < deadline {
            let child = self.child.as_mut().unwrap();
            if let Some(status) = child.try_wait().unwrap() {
                self.child = None;
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
        Err(format!("no PONG within 20 s\n{}", self.log()))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default()
    }
}

impl Drop for RedisServer {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A port nobody listens on right now: bind port 0 on loopback and read what we got.
pub(crate) fn free_port() -> u16 {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap().port()
}
