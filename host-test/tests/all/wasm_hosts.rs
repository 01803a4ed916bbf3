//! The third-party WebAssembly hosts the standard builds are tested in,
//! found on the machine: the real `wasmtime` and `obelisk` binaries, and
//! libfaketime to set the wall clock a host's WASI reads. A missing host is
//! built from crates.io by `host-test/wasm-hosts/install.sh` (once per
//! machine; `.ci/run` calls it first), as the suites install oathtool; when
//! that cannot be done the test FAILS with what to install. Nothing is
//! skipped.

use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

const INSTALL: &str = "host-test/wasm-hosts/install.sh";

/// `name` on PATH or in cargo's bin directory, answering `--version` with
/// a version that starts with `major.`; installed first when it is not.
fn host_binary(name: &str, major: &str) -> PathBuf {
    if installed(name, major).is_none() {
        install_hosts();
    }
    installed(name, major).unwrap_or_else(|| {
        panic!(
            "{name} {major}x is not installed and `{INSTALL}` did not install it; run it \
             (from the repository root; it builds it from crates.io with cargo install)"
        )
    })
}

/// Runs the install script once per test process, whichever host asked.
fn install_hosts() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        eprintln!(
            "building the wasmtime CLI and Obelisk from crates.io with `{INSTALL}` \
             (once per machine; it takes about an hour on 2 cores)"
        );
        let root = totp_test_support::python::repo_root();
        let _ = Command::new("bash")
            .arg(root.join(INSTALL))
            .current_dir(&root)
            .status();
    });
}

/// The binary when it is there at the right version.
fn installed(name: &str, major: &str) -> Option<PathBuf> {
    let cargo_bin = totp_component_build::guest::cargo_home()
        .map(|home| home.join("bin").join(name))
        .filter(|path| path.exists());
    let binary = cargo_bin.unwrap_or_else(|| PathBuf::from(name));
    let version = Command::new(&binary)
        .arg("--version")
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| String::from_utf8_lossy(&out.stdout).into_owned());
    match version {
        Some(version)
            if version
                .split_whitespace()
                .nth(1)
                .is_some_and(|v| v.starts_with(major)) =>
        {
            Some(binary)
        }
        // Missing, or another version: the install script builds this one.
        _ => None,
    }
}

/// The wasmtime CLI of the host's own wasmtime major version.
pub fn wasmtime() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| host_binary("wasmtime", "48."))
        .clone()
}

/// The Obelisk release the activity build targets.
pub fn obelisk() -> PathBuf {
    static BINARY: OnceLock<PathBuf> = OnceLock::new();
    BINARY
        .get_or_init(|| host_binary("obelisk", "0.38."))
        .clone()
}

/// libfaketime's preload library: the hosts read the wall clock with no
/// way to set it, and every case has its own time.
pub fn faketime_library() -> PathBuf {
    static LIBRARY: OnceLock<PathBuf> = OnceLock::new();
    LIBRARY
        .get_or_init(|| {
            let found = || {
                [
                    "/usr/lib/x86_64-linux-gnu/faketime/libfaketime.so.1",
                    "/usr/lib/aarch64-linux-gnu/faketime/libfaketime.so.1",
                    "/usr/lib/faketime/libfaketime.so.1",
                    "/usr/lib64/faketime/libfaketime.so.1",
                ]
                .into_iter()
                .map(PathBuf::from)
                .find(|path| path.exists())
            };
            if found().is_none() && totp_test_support::process::is_root() {
                eprintln!("installing faketime with apt-get (sets the hosts' wall clock)");
                let _ = Command::new("apt-get")
                    .args(["install", "-y", "-qq", "faketime"])
                    .status();
            }
            found().unwrap_or_else(|| {
                panic!(
                    "libfaketime is missing; install it (Debian/Ubuntu: `apt-get install faketime`)"
                )
            })
        })
        .clone()
}

/// `command` with its wall clock stopped at Unix time `time`, however
/// long it takes to compile the component (the monotonic clock, which
/// timeouts use, is left alone).
pub fn at_time(command: &mut Command, time: u64) -> &mut Command {
    command
        .env("LD_PRELOAD", faketime_library())
        .env("FAKETIME_FMT", "%s")
        .env("FAKETIME", time.to_string())
        .env("FAKETIME_DONT_FAKE_MONOTONIC", "1")
}

/// Where a test writes a host's files for this run.
pub fn scratch(name: &str) -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}
