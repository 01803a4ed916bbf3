//! A throwaway PostgreSQL server for the tests: `initdb` into a temporary
//! directory and `pg_ctl start` on a Unix socket there, as an unprivileged
//! user (PostgreSQL refuses to run as root). Stopped when dropped; `.ci/run`
//! stops any left behind by a crashed test run.
//!
//! Needs Debian's `postgresql` package (binaries under
//! `/usr/lib/postgresql/<version>/bin`); like oathtool, the suite installs it
//! with apt-get when it runs as root, and otherwise fails saying so.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The user the servers run as when the tests run as root.
const SERVER_USER: &str = "nobody";

pub struct PgServer {
    /// The data directory, which also holds the socket.
    dir: tempfile::TempDir,
    bin: PathBuf,
}

/// Where `initdb` and `pg_ctl` are, installing them when possible.
fn postgres_bin() -> PathBuf {
    static BIN: OnceLock<PathBuf> = OnceLock::new();
    BIN.get_or_init(|| {
        if find_bin().is_none() && crate::process::is_root() {
            eprintln!("installing postgresql with apt-get (the PostgreSQL store's tests)");
            let install = || {
                Command::new("apt-get")
                    .args(["install", "-y", "-qq", "postgresql"])
                    .env("DEBIAN_FRONTEND", "noninteractive")
                    .status()
                    .is_ok_and(|s| s.success())
            };
            if !install() {
                let _ = Command::new("apt-get").args(["update", "-qq"]).status();
                install();
            }
        }
        find_bin().expect(
            "the PostgreSQL store's tests need PostgreSQL's initdb and pg_ctl: \
             install the `postgresql` package (Debian/Ubuntu: `apt-get install postgresql`)",
        )
    })
    .clone()
}

/// The newest `/usr/lib/postgresql/<version>/bin` with initdb.
fn find_bin() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .filter_map(|entry| {
            let version = entry.file_name().to_str()?.parse().ok()?;
            let bin = entry.path().join("bin");
            bin.join("initdb").exists().then_some((version, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, bin)| bin)
}

/// Runs a PostgreSQL program as the server's user.
fn as_server_user(program: &Path, args: &[&str]) -> Output {
    let mut command = if crate::process::is_root() {
        let mut command = Command::new("runuser");
        command.args(["-u", SERVER_USER, "--"]).arg(program);
        command
    } else {
        Command::new(program)
    };
    command
        .args(args)
        .output()
        .expect("PostgreSQL programs run")
}

#[track_caller]
fn check(output: Output, what: &str) {
    assert!(
        output.status.success(),
        "{what} failed: {}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    );
}

impl PgServer {
    /// A new server with an empty `postgres` database.
    pub fn start() -> PgServer {
        let bin = postgres_bin();
        let dir = tempfile::Builder::new()
            .prefix("totp-pg-")
            .tempdir()
            .expect("a temporary directory");
        if crate::process::is_root() {
            check(
                Command::new("chown")
                    .arg(SERVER_USER)
                    .arg(dir.path())
                    .output()
                    .unwrap(),
                "chown",
            );
        }
        let data = dir.path().to_str().unwrap().to_owned();
        check(
            as_server_user(
                &bin.join("initdb"),
                &[
                    "-D",
                    &data,
                    "-U",
                    "postgres",
                    "-A",
                    "trust",
                    "--no-locale",
                    "-E",
                    "UTF8",
                    "--no-sync",
                ],
            ),
            "initdb",
        );
        let server = PgServer { dir, bin };
        server.start_again();
        server
    }

    /// Starts the (stopped) server on its socket.
    pub fn start_again(&self) {
        let data = self.dir.path().to_str().unwrap();
        let options =
            format!("-k {data} -c listen_addresses='' -c fsync=off -c max_connections=200");
        check(
            as_server_user(
                &self.bin.join("pg_ctl"),
                &[
                    "-D",
                    data,
                    "-o",
                    &options,
                    "-l",
                    &format!("{data}/log"),
                    "-w",
                    "start",
                ],
            ),
            "pg_ctl start",
        );
    }

    /// Stops the server at once (its clients see their connections drop).
    pub fn stop(&self) {
        let data = self.dir.path().to_str().unwrap();
        check(
            as_server_user(
                &self.bin.join("pg_ctl"),
                &["-D", data, "-m", "immediate", "-w", "stop"],
            ),
            "pg_ctl stop",
        );
    }

    /// The connection string of its `postgres` database.
    pub fn url(&self) -> String {
        format!(
            "host={} user=postgres dbname=postgres",
            self.dir.path().display()
        )
    }

    /// Runs SQL with psql (test set-up between cases).
    pub fn psql(&self, sql: &str) {
        let data = self.dir.path().to_str().unwrap();
        check(
            Command::new(self.bin.join("psql"))
                .args([
                    "-h",
                    data,
                    "-U",
                    "postgres",
                    "-d",
                    "postgres",
                    "-q",
                    "-v",
                    "ON_ERROR_STOP=1",
                    "-c",
                    sql,
                ])
                .output()
                .unwrap(),
            "psql",
        );
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        let data = self.dir.path().to_str().unwrap().to_owned();
        let _ = as_server_user(
            &self.bin.join("pg_ctl"),
            &["-D", &data, "-m", "immediate", "stop"],
        );
    }
}
