//! The Python package's suites, run by `cargo test`: the native module this
//! build just made is staged with the package's Python sources in a temp
//! dir and imported by real Python (the venv the other hosts' suites use),
//! without maturin.
//!
//! - `pytest_suite_passes`: `python -m pytest host-test/python/tests`.
//! - `package_passes_the_conformance_cases`: the case file through the
//!   package (`tests/run_cases.py` prints the results), judged by the same
//!   checker as every other host's (`totp_test_support::judge`).

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::OnceLock;

use totp_test_support::judge;
use totp_test_support::python::{repo_root, run, venv_python};

fn package_root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The cdylib cargo built for this test run: `target/<profile>/deps/lib….so`,
/// beside this test's binary (`cargo test` leaves the copy in
/// `target/<profile>/` as the last `cargo build` made it).
fn native_module() -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let deps_dir = exe.parent().unwrap();
    let name = format!(
        "{}get_totp_code_native{}",
        std::env::consts::DLL_PREFIX,
        std::env::consts::DLL_SUFFIX
    );
    let path = deps_dir.join(name);
    assert!(path.exists(), "{} was not built", path.display());
    path
}

/// A directory holding `get_totp_code/` (the package's Python files and the
/// native module as `_native.abi3.so`), for PYTHONPATH. Made once per run.
fn staged_package() -> PathBuf {
    static STAGED: OnceLock<PathBuf> = OnceLock::new();
    STAGED
        .get_or_init(|| {
            let staged = Path::new(env!("CARGO_TARGET_TMPDIR")).join("python-package");
            let package = staged.join("get_totp_code");
            let _ = std::fs::remove_dir_all(&staged);
            std::fs::create_dir_all(&package).unwrap();
            let sources = package_root().join("python/get_totp_code");
            for entry in std::fs::read_dir(&sources).unwrap() {
                let entry = entry.unwrap();
                if entry.file_type().unwrap().is_file() {
                    std::fs::copy(entry.path(), package.join(entry.file_name())).unwrap();
                }
            }
            // Copied, not linked: a later build must not change a module a
            // running suite has loaded.
            std::fs::copy(native_module(), package.join("_native.abi3.so")).unwrap();
            staged
        })
        .clone()
}

fn python() -> Command {
    let mut command = Command::new(venv_python());
    command
        .env("PYTHONPATH", staged_package())
        .env("PYTHONDONTWRITEBYTECODE", "1")
        .current_dir(package_root());
    command
}

#[test]
fn pytest_suite_passes() {
    let output = run(
        python().args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]),
        "the Python package's pytest suite",
    );
    // Shown with --nocapture: which tests ran.
    println!("{}", String::from_utf8_lossy(&output.stdout));
}

#[test]
fn package_passes_the_conformance_cases() {
    let output = run(
        python()
            .arg("tests/run_cases.py")
            .arg(repo_root().join("host-test/conformance/cases.json")),
        "the Python package's case runner",
    );
    let results = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "runner output is not a JSON object ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    });
    judge::judge("the Python package (over a Python directory)", &results);
}
