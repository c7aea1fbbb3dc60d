//! Real database servers for the tests: MariaDB and PostgreSQL, each installed into a
//! fresh temporary directory, listening on a free loopback port (and a unix socket in
//! that directory), started as a process group of their own and killed by PID.
//!
//! The servers come from Debian's packages (`mariadb-server`, `postgresql`), which
//! `.ci/test` installs. If a server can't be started the test fails with its log: these
//! tests are never skipped.

use std::ffi::OsStr;
use std::net::TcpListener;
use std::os::unix::process::CommandExt as _;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

static NEXT_DIR: AtomicU32 = AtomicU32::new(0);

/// A fresh directory under the system temp dir, removed by the server's `Drop`.
fn temp_dir(kind: &str) -> PathBuf {
    let n = NEXT_DIR.fetch_add(1, Ordering::Relaxed);
    let dir =
        std::env::temp_dir().join(format!("tokenstile-sql-{kind}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// A port nobody listens on right now.
fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

/// The uid and gid of a system user, from `id`.
fn user_ids(user: &str) -> (u32, u32) {
    let id = |flag: &str| -> u32 {
        let out = Command::new("id")
            .args([flag, user])
            .output()
            .unwrap_or_else(|e| panic!("cannot run `id`: {e}"));
        assert!(
            out.status.success(),
            "no system user {user:?}: is its database server package installed? \
             (Debian: `apt-get install -y mariadb-server postgresql`)"
        );
        String::from_utf8_lossy(&out.stdout).trim().parse().unwrap()
    };
    (id("-u"), id("-g"))
}

fn chown_tree(path: &Path, uid: u32, gid: u32) {
    std::os::unix::fs::chown(path, Some(uid), Some(gid)).unwrap();
    if path.is_dir() {
        for entry in std::fs::read_dir(path).unwrap() {
            chown_tree(&entry.unwrap().path(), uid, gid);
        }
    }
}

/// Runs a setup command to completion, failing the test with its output if it fails.
fn run(what: &str, command: &mut Command) {
    let out = command
        .output()
        .unwrap_or_else(|e| panic!("cannot run {what}: {e}. Install the database server packages (Debian: `apt-get install -y mariadb-server postgresql`); these tests never skip."));
    assert!(
        out.status.success(),
        "{what} failed ({}):\n{}\n{}",
        out.status,
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}

/// Kills the process group led by `child` (the server and any workers it forked) with
/// SIGKILL, and reaps the leader.
fn kill_group(child: &mut Child) {
    let pgid = child.id();
    let _ = Command::new("kill")
        .args(["-KILL", "--", &format!("-{pgid}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status();
    let _ = child.kill();
    let _ = child.wait();
    // Wait for the group's other members to be gone, so a restart finds the data
    // directory free.
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        let alive = Command::new("kill")
            .args(["-0", "--", &format!("-{pgid}")])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .is_ok_and(|s| s.success());
        if !alive {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Waits until a TCP connection to `port` succeeds, or fails the test with `log`.
fn wait_for_port(child: &mut Child, port: u16, name: &str, log: &dyn Fn() -> String) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while Instant::now() < deadline {
        if let Some(status) = child.try_wait().unwrap() {
            panic!(
                "{name} exited with {status} while starting; its log:\n{}",
                log()
            );
        }
        if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
            return;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!(
        "{name} did not listen on port {port} within 60 s; its log:\n{}",
        log()
    );
}

/// The server binary: `$MARIADBD`, or `mariadbd` in `/usr/sbin` or on `PATH`.
fn mariadbd() -> PathBuf {
    if let Some(path) = std::env::var_os("MARIADBD") {
        return path.into();
    }
    let sbin = PathBuf::from("/usr/sbin/mariadbd");
    if sbin.exists() {
        sbin
    } else {
        PathBuf::from("mariadbd")
    }
}

/// A MariaDB (or MySQL) server, `mariadbd`, on a data directory of its own.
pub(crate) struct MariaDb {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
}

impl MariaDb {
    /// Installs a data directory with `mariadb-install-db` and starts the server.
    pub(crate) fn start() -> Self {
        let dir = temp_dir("mariadb");
        let data = dir.join("data");
        let (uid, gid) = user_ids("mysql");
        chown_tree(&dir, uid, gid);
        run(
            "mariadb-install-db",
            Command::new("mariadb-install-db")
                .arg("--no-defaults")
                .arg("--user=mysql")
                .arg(format!("--datadir={}", data.display()))
                .arg("--auth-root-authentication-method=normal")
                .arg("--skip-test-db")
                .arg("--skip-name-resolve"),
        );
        let mut server = Self {
            child: None,
            dir,
            port: free_port(),
        };
        server.restart();
        server
    }

    /// Starts the server on the existing data directory (after a crash: InnoDB recovers).
    pub(crate) fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let data = self.dir.join("data");
        let mut child = Command::new(mariadbd())
            .arg("--no-defaults")
            .arg("--user=mysql")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", data.join("mysqld.sock").display()))
            .arg(format!("--pid-file={}", data.join("mysqld.pid").display()))
            .arg(format!("--log-error={}", self.log_path().display()))
            .arg(format!("--port={}", self.port))
            .arg("--bind-address=127.0.0.1")
            .arg("--skip-name-resolve")
            .arg("--innodb-buffer-pool-size=64M")
            // The durability the crash test relies on, as the default states it.
            .arg("--innodb-flush-log-at-trx-commit=1")
            .arg("--max-connections=200")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run mariadbd: {e}. Install it (Debian: `apt-get install -y mariadb-server`); these tests never skip."));
        let log = || std::fs::read_to_string(self.log_path()).unwrap_or_default();
        wait_for_port(&mut child, self.port, "mariadbd", &log);
        self.child = Some(child);
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("data").join("error.log")
    }

    /// The server's URL for database `db` (which [`create_database`] makes).
    pub(crate) fn url(&self, db: &str) -> String {
        format!("mysql://root@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `db`.
    pub(crate) async fn create_database(&self, db: &str) {
        use sqlx::Connection as _;
        let mut conn = sqlx::MySqlConnection::connect(&self.url("mysql"))
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE IF NOT EXISTS {db}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    /// SIGKILLs the server (a crash).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A PostgreSQL server, run as the `postgres` user (it refuses root) on a data
/// directory of its own.
pub(crate) struct Postgres {
    child: Option<Child>,
    dir: PathBuf,
    port: u16,
    ids: (u32, u32),
}

/// Where Debian installs PostgreSQL's server binaries: `$PG_BIN`, or the newest
/// `/usr/lib/postgresql/<version>/bin`.
fn pg_bin(name: &str) -> PathBuf {
    if let Some(dir) = std::env::var_os("PG_BIN") {
        return PathBuf::from(dir).join(name);
    }
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            let v = e.file_name().to_str()?.parse().ok()?;
            Some((v, e.path().join("bin")))
        })
        .collect();
    versions.sort();
    match versions.pop() {
        Some((_, bin)) => bin.join(name),
        None => panic!(
            "no PostgreSQL server under /usr/lib/postgresql: install it (Debian: \
             `apt-get install -y postgresql`) or set PG_BIN; these tests never skip"
        ),
    }
}

impl Postgres {
    /// Creates a cluster with `initdb` and starts the server.
    pub(crate) fn start() -> Self {
        let dir = temp_dir("postgres");
        let ids = user_ids("postgres");
        chown_tree(&dir, ids.0, ids.1);
        let data = dir.join("data");
        run(
            "initdb",
            Command::new(pg_bin("initdb"))
                .arg("-D")
                .arg(&data)
                .args([
                    "-U",
                    "postgres",
                    "--auth=trust",
                    "-E",
                    "UTF8",
                    "--no-instructions",
                ])
                .current_dir(&dir)
                .uid(ids.0)
                .gid(ids.1),
        );
        let mut server = Self {
            child: None,
            dir,
            port: free_port(),
            ids,
        };
        server.restart();
        server
    }

    /// Starts the server on the existing cluster (after a crash: WAL recovery).
    pub(crate) fn restart(&mut self) {
        assert!(self.child.is_none(), "the server is running");
        let log = std::fs::File::create(self.log_path()).unwrap();
        std::os::unix::fs::chown(self.log_path(), Some(self.ids.0), Some(self.ids.1)).unwrap();
        let mut child = Command::new(pg_bin("postgres"))
            .arg("-D")
            .arg(self.dir.join("data"))
            .arg("-p")
            .arg(self.port.to_string())
            .arg("-k")
            .arg(&self.dir)
            .args(["-c", "listen_addresses=127.0.0.1"])
            // The durability the crash test relies on, as the defaults state it.
            .args(["-c", "fsync=on", "-c", "synchronous_commit=on"])
            .args(["-c", "max_connections=200", "-c", "shared_buffers=32MB"])
            .current_dir(&self.dir)
            .uid(self.ids.0)
            .gid(self.ids.1)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(log)
            .process_group(0)
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run postgres: {e}; these tests never skip"));
        let log = || std::fs::read_to_string(self.log_path()).unwrap_or_default();
        wait_for_port(&mut child, self.port, "postgres", &log);
        // Listening is not accepting: wait for the end of startup (or crash recovery).
        let deadline = Instant::now() + Duration::from_secs(60);
        loop {
            let ready = Command::new(pg_bin("pg_isready"))
                .args(["-q", "-h", "127.0.0.1", "-p", &self.port.to_string()])
                .status()
                .is_ok_and(|s| s.success());
            if ready {
                break;
            }
            if let Some(status) = child.try_wait().unwrap() {
                panic!(
                    "postgres exited with {status} while starting; its log:\n{}",
                    log()
                );
            }
            assert!(
                Instant::now() < deadline,
                "postgres did not accept connections within 60 s; its log:\n{}",
                log()
            );
            std::thread::sleep(Duration::from_millis(50));
        }
        self.child = Some(child);
    }

    fn log_path(&self) -> PathBuf {
        self.dir.join("postgres.log")
    }

    /// The server's URL for database `db`.
    pub(crate) fn url(&self, db: &str) -> String {
        format!("postgres://postgres@127.0.0.1:{}/{db}", self.port)
    }

    /// Creates database `db`.
    pub(crate) async fn create_database(&self, db: &str) {
        use sqlx::Connection as _;
        let mut conn = sqlx::PgConnection::connect(&self.url("postgres"))
            .await
            .unwrap();
        sqlx::query(&format!("CREATE DATABASE {db}"))
            .execute(&mut conn)
            .await
            .unwrap();
    }

    /// SIGKILLs the server and its backends (a crash).
    pub(crate) fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            kill_group(&mut child);
        }
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// A temporary directory for SQLite files, removed on drop.
pub(crate) struct SqliteDir {
    dir: PathBuf,
}

impl SqliteDir {
    pub(crate) fn new() -> Self {
        Self {
            dir: temp_dir("sqlite"),
        }
    }

    pub(crate) fn file(&self, name: impl AsRef<OsStr>) -> PathBuf {
        self.dir.join(name.as_ref())
    }
}

impl Drop for SqliteDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}
