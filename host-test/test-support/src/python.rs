//! The Python venv every suite shares (`target/tmp/conformance-venv`, from
//! `host-test/wasmtime-py/requirements.txt`), and running commands.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::OnceLock;

/// The workspace root (where Cargo.lock is), from any member crate.
pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .ancestors()
        .find(|dir| dir.join("Cargo.lock").exists())
        .expect("the workspace root above this crate")
        .to_path_buf()
}

/// Runs `command`; panics with its output when it cannot start or fails.
pub fn run(command: &mut Command, what: &str) -> Output {
    let output = command
        .output()
        .unwrap_or_else(|e| panic!("{what}: cannot run {command:?}: {e}"));
    if !output.status.success() {
        panic!(
            "{what} failed ({}):\n--- stdout\n{}\n--- stderr\n{}",
            output.status,
            String::from_utf8_lossy(&output.stdout),
            String::from_utf8_lossy(&output.stderr)
        );
    }
    output
}

/// Panics with an install hint unless `program --version` runs.
pub fn require(program: &str, install: &str) {
    let found = Command::new(program)
        .arg("--version")
        .output()
        .is_ok_and(|out| out.status.success());
    assert!(
        found,
        "`{program}` is required by the conformance suites and was not found: {install}"
    );
}

/// The venv's python, with requirements.txt installed (once per process;
/// reused across runs while requirements.txt is unchanged).
pub fn venv_python() -> PathBuf {
    static PYTHON: OnceLock<PathBuf> = OnceLock::new();
    PYTHON.get_or_init(make_venv).clone()
}

fn make_venv() -> PathBuf {
    require(
        "python3",
        "install Python 3.10+ with venv (Debian/Ubuntu: `apt-get install python3 python3-venv`)",
    );
    let requirements_path = repo_root().join("host-test/wasmtime-py/requirements.txt");
    let requirements = std::fs::read_to_string(&requirements_path).unwrap();
    let venv = target_tmp().join("conformance-venv");
    let python = venv.join("bin/python");
    let stamp = venv.join("requirements.txt");
    if python.exists() && std::fs::read_to_string(&stamp).ok().as_deref() == Some(&requirements) {
        return python;
    }
    let _ = std::fs::remove_dir_all(&venv);
    run(
        Command::new("python3").args(["-m", "venv"]).arg(&venv),
        "creating the Python venv (Debian/Ubuntu: `apt-get install python3-venv`)",
    );
    run(
        Command::new(&python)
            .args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                "-r",
            ])
            .arg(&requirements_path),
        "pip install -r host-test/wasmtime-py/requirements.txt",
    );
    std::fs::write(&stamp, requirements).unwrap();
    python
}

/// `target/tmp` (what Cargo gives integration tests as `CARGO_TARGET_TMPDIR`),
/// found from the running test binary: `target/<profile>/deps/<test>`.
pub fn target_tmp() -> PathBuf {
    let exe = std::env::current_exe().expect("the test binary's path");
    let target = exe
        .ancestors()
        .nth(3)
        .expect("a test binary under target/<profile>/deps");
    target.join("tmp")
}
