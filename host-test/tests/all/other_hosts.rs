//! The Python and Node hosts' suites, run from `cargo test`, so that one
//! command checks all three hosts against the same case file; and the three
//! CLIs side by side on the same stores.
//!
//! Needs python3 (with venv), node and npm, and oathtool (for the case
//! file's freshness check and the differential test). A missing tool FAILS
//! the test with what to install; nothing is skipped.
//!
//! - Python: a venv under the target dir (`target/tmp/conformance-venv`),
//!   rebuilt only when `host-test/python/requirements.txt` changes.
//! - Node: `npm ci` in `host-test/js` when `node_modules` is missing or older
//!   than `package-lock.json`; the tests transpile the component with jco
//!   into `host-test/js/generated` when it changed.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

use crate::conformance::{check, load_cases};

pub fn repo_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_path_buf()
}

/// Runs `command`; panics with its output when it cannot start or fails.
fn run(command: &mut Command, what: &str) -> Output {
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

/// oathtool is the one oracle a Rust-only machine lacks. As the build
/// installs its wasm target itself, the suite installs oathtool where it
/// can (root with apt-get, as on CI and these dev machines), once per run;
/// elsewhere it fails with what to install.
pub fn require_oathtool() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if runs("oathtool", &["--version"]) || !runs("apt-get", &["--version"]) || !is_root() {
            return;
        }
        eprintln!("installing oathtool with apt-get (second oracle of the conformance suites)");
        if !runs("apt-get", &["install", "-y", "-qq", "oathtool"]) {
            let _ = runs("apt-get", &["update", "-qq"]);
            let _ = runs("apt-get", &["install", "-y", "-qq", "oathtool"]);
        }
    });
    require(
        "oathtool",
        "install it (Debian/Ubuntu: `apt-get install oathtool`; macOS: `brew install oath-toolkit`)",
    );
}

fn runs(program: &str, args: &[&str]) -> bool {
    Command::new(program)
        .args(args)
        .output()
        .is_ok_and(|out| out.status.success())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| out.stdout.trim_ascii() == b"0")
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
    let requirements_path = repo_root().join("host-test/python/requirements.txt");
    let requirements = std::fs::read_to_string(&requirements_path).unwrap();
    let venv = Path::new(env!("CARGO_TARGET_TMPDIR")).join("conformance-venv");
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
        "pip install -r host-test/python/requirements.txt",
    );
    std::fs::write(&stamp, requirements).unwrap();
    python
}

/// `npm ci` in host-test/js unless node_modules matches package-lock.json.
fn node_modules() -> PathBuf {
    static READY: Mutex<bool> = Mutex::new(false);
    let js = repo_root().join("host-test/js");
    let mut ready = READY.lock().unwrap_or_else(|e| e.into_inner());
    if !*ready {
        require(
            "node",
            "install Node.js 20+ (Debian/Ubuntu: `apt-get install nodejs npm`)",
        );
        require("npm", "install npm (Debian/Ubuntu: `apt-get install npm`)");
        let lock = std::fs::read_to_string(js.join("package-lock.json")).unwrap();
        let stamp = js.join("node_modules/.conformance-package-lock.json");
        if std::fs::read_to_string(&stamp).ok().as_deref() != Some(&lock) {
            run(
                Command::new("npm")
                    .args(["ci", "--no-audit", "--no-fund"])
                    .current_dir(&js),
                "npm ci in host-test/js",
            );
            std::fs::write(&stamp, lock).unwrap();
        }
        *ready = true;
    }
    js
}

fn component_env(command: &mut Command) -> &mut Command {
    command.env(
        "GET_TOTP_CODE_COMPONENT",
        totp_host::artifact::COMPONENT_PATH,
    )
}

fn report(what: &str, output: &Output) {
    let stdout = String::from_utf8_lossy(&output.stdout);
    let tail: Vec<&str> = stdout.lines().rev().take(12).collect();
    eprintln!(
        "{what}:\n{}",
        tail.into_iter().rev().collect::<Vec<_>>().join("\n")
    );
}

#[test]
fn python_host_passes_the_conformance_suite() {
    let python = venv_python();
    let started = std::time::Instant::now();
    let output = run(
        component_env(
            Command::new(python)
                .args(["-m", "pytest", "-q", "-s", "-p", "no:cacheprovider"])
                .arg(repo_root().join("host-test/python")),
        ),
        "the Python host's pytest suite",
    );
    report("pytest host-test/python", &output);
    eprintln!("python suite: {:.1?}", started.elapsed());
}

#[test]
fn node_host_passes_the_conformance_suite() {
    let js = node_modules();
    let started = std::time::Instant::now();
    let output = run(
        component_env(
            Command::new("node")
                .args(["--test", "test/"])
                .current_dir(&js),
        ),
        "the Node host's node --test suite",
    );
    report("node --test host-test/js/test", &output);
    eprintln!("node suite: {:.1?}", started.elapsed());
}

#[test]
fn committed_case_file_is_what_the_generator_writes() {
    require_oathtool();
    let python = venv_python();
    let output = Command::new(python)
        .arg(repo_root().join("host-test/conformance/generate.py"))
        .arg("--check")
        .output()
        .expect("the generator runs");
    assert!(
        output.status.success(),
        "host-test/conformance/cases.json is stale or the oracles disagree; re-run \
         `python host-test/conformance/generate.py` (in the venv of host-test/python/requirements.txt):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The three CLIs print the same JSON and exit status for the same store.
#[test]
fn the_three_clis_agree() {
    let python = venv_python();
    let js = node_modules();
    let dir = tempfile::tempdir().unwrap();
    let cases = load_cases();
    for name in [
        "resolve_through_tool_edge",
        "otpauth_sha512_8_digits_60s",
        "base32_grouped_lower",
        "unknown_user",
        "no_context",
        "ambiguous_3_agents",
        "invalid_secret_uri_digits_9",
        "unsupported_secret_hotp",
    ] {
        let case = cases
            .iter()
            .find(|case| case["name"] == name)
            .unwrap_or_else(|| panic!("no case {name}"));
        let sqlite = dir.path().join(format!("{name}.sqlite3"));
        let json_store = dir.path().join(format!("{name}.json"));
        write_sqlite(&case["store"], &sqlite);
        std::fs::write(&json_store, case["store"].to_string()).unwrap();

        let mut args = vec!["get-totp-code".to_owned(), "--at".to_owned()];
        args.push(case["time"].to_string());
        if let Some(username) = case["username"].as_str().filter(|u| !u.is_empty()) {
            args.extend(["--username".to_owned(), username.to_owned()]);
        }
        if let Some(node) = case["node"].as_object() {
            for (flag, key) in [("--workflow", "workflow_id"), ("--node", "node_id")] {
                args.extend([flag.to_owned(), node[key].as_str().unwrap().to_owned()]);
            }
        }
        let rust = Command::new(env!("CARGO_BIN_EXE_totp-host"))
            .arg("--db")
            .arg(&sqlite)
            .args(&args)
            .output()
            .unwrap();
        let python_out = component_env(
            Command::new(&python)
                .arg(repo_root().join("host-test/python/totp_host.py"))
                .arg("--db")
                .arg(&sqlite)
                .args(&args),
        )
        .output()
        .unwrap();
        let node_out = component_env(
            Command::new("node")
                .arg(js.join("totp-host.mjs"))
                .arg("--db")
                .arg(&json_store)
                .args(&args),
        )
        .output()
        .unwrap();
        let rust_text = String::from_utf8_lossy(&rust.stdout).trim().to_owned();
        assert_eq!(
            check(case, &rust_text),
            Vec::<String>::new(),
            "{name}: totp-host {rust_text} {}",
            String::from_utf8_lossy(&rust.stderr)
        );
        for (host, output) in [("python", &python_out), ("node", &node_out)] {
            let text = String::from_utf8_lossy(&output.stdout).trim().to_owned();
            assert_eq!(
                (output.status.code(), text.as_str()),
                (rust.status.code(), rust_text.as_str()),
                "{name}: the {host} CLI differs from totp-host; stderr {}",
                String::from_utf8_lossy(&output.stderr)
            );
        }
    }
}

fn write_sqlite(store: &Value, path: &Path) {
    let directory = totp_host::SqliteDirectory::open(path).unwrap();
    for user in store["users"].as_array().unwrap() {
        directory
            .put_user(
                user["username"].as_str().unwrap(),
                user["is_agent"].as_bool().unwrap(),
                user["totp_secret"].as_str(),
            )
            .unwrap();
    }
    for workflow in store["workflows"].as_array().unwrap() {
        directory
            .put_workflow(workflow["id"].as_str().unwrap(), workflow["slug"].as_str())
            .unwrap();
    }
    for edge in store["edges"].as_array().unwrap() {
        let field = |key: &str| edge[key].as_str().unwrap();
        directory
            .put_edge(
                field("workflow_id"),
                field("source"),
                field("target"),
                field("label"),
            )
            .unwrap();
    }
}
