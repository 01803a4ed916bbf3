//! The Python (wasmtime-py) and Node (jco) hosts, run from `cargo test`:
//! each runs the case file and prints its results, which the one checker in
//! `conformance` judges; and the three CLIs side by side on the same stores.
//!
//! Needs python3 (with venv), node and npm, and oathtool (for the case
//! file's freshness check and the differential test). A missing tool FAILS
//! the test with what to install; nothing is skipped.
//!
//! - Python: a venv under the target dir (`target/tmp/conformance-venv`),
//!   rebuilt only when `host-test/wasmtime-py/requirements.txt` changes.
//! - Node: `npm ci` in `host-test/js` when `node_modules` is missing or older
//!   than `package-lock.json`; the runner transpiles the component with jco
//!   into `host-test/js/generated` when it changed.

use std::path::PathBuf;
use std::process::{Command, Output};
use std::sync::{Mutex, OnceLock};

use serde_json::{Map, Value};

use crate::conformance::{case, check, judge};
use totp_test_support::python::{repo_root, require, run, venv_python};

/// oathtool is the one oracle a Rust-only machine lacks. As the build
/// installs its wasm target itself, the suite installs oathtool where it
/// can (root with apt-get, as on CI and these dev machines), once per run;
/// elsewhere it fails with what to install.
pub fn require_oathtool() {
    static INSTALLED: OnceLock<()> = OnceLock::new();
    INSTALLED.get_or_init(|| {
        if runs("oathtool", &["--version"])
            || !runs("apt-get", &["--version"])
            || !totp_test_support::process::is_root()
        {
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

/// `npm ci` in host-test/js unless node_modules matches package-lock.json,
/// then the component transpiled into generated/ (once per test process).
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
        // Transpile here, under the lock: the tests run several Node
        // processes at once, and each would otherwise find generated/
        // stale and rebuild it while another is reading or writing it.
        run(
            component_env(Command::new("node").arg("transpile.mjs").current_dir(&js)),
            "jco transpile in host-test/js",
        );
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

/// A runner's stdout: one JSON object, case name to result text.
fn results(output: &Output) -> Map<String, Value> {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "runner output is not a JSON object ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
fn python_host_passes_the_conformance_cases() {
    let output = run(
        component_env(
            Command::new(venv_python()).arg(repo_root().join("host-test/wasmtime-py/run_cases.py")),
        ),
        "the Python host's case runner",
    );
    judge("the Python (wasmtime-py) host", &results(&output));
}

/// Whatever its directory does, the Python host returns a JSON result.
#[test]
fn python_host_turns_directory_failures_into_results() {
    run(
        component_env(
            Command::new(venv_python())
                .args(["-m", "pytest", "-q", "-p", "no:cacheprovider"])
                .arg("test_hostile_directories.py")
                .env("PYTHONDONTWRITEBYTECODE", "1")
                .current_dir(repo_root().join("host-test/wasmtime-py")),
        ),
        "the Python host's hostile-directory tests",
    );
}

#[test]
fn node_host_passes_the_conformance_cases() {
    let js = node_modules();
    let output = run(
        component_env(Command::new("node").arg("run-cases.mjs").current_dir(&js)),
        "the Node host's case runner",
    );
    judge("the Node (jco) host", &results(&output));
}

/// The Node host's audit trail (`host-test/js/audit.test.mjs`): the Rust
/// host's events in every sink, and a failing sink withholds the code.
#[test]
fn node_host_audits_every_call_and_fails_closed() {
    let js = node_modules();
    run(
        component_env(
            Command::new("node")
                .args(["--test", "audit.test.mjs"])
                .current_dir(&js),
        ),
        "the Node host's audit tests",
    );
}

/// Whatever its directory does, the Node host returns a JSON result
/// (`host-test/js/hostile.test.mjs`, the Python package's cases).
#[test]
fn node_host_turns_directory_failures_into_results() {
    let js = node_modules();
    run(
        component_env(
            Command::new("node")
                .args(["--test", "hostile.test.mjs"])
                .current_dir(&js),
        ),
        "the Node host's hostile-directory tests",
    );
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
         `python host-test/conformance/generate.py` (in the venv of host-test/wasmtime-py/requirements.txt):\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
}

/// The three CLIs print the same JSON and exit status for the same store.
#[test]
fn the_three_clis_agree() {
    let python = venv_python();
    let js = node_modules();
    let dir = tempfile::tempdir().unwrap();
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
        let case = case(name);
        let sqlite = dir.path().join(format!("{name}.sqlite3"));
        let json_store = dir.path().join(format!("{name}.json"));
        totp_host::Store::sqlite(&sqlite)
            .unwrap()
            .import(&case.store)
            .unwrap();
        std::fs::write(&json_store, serde_json::to_string(&case.store).unwrap()).unwrap();

        let mut args = vec!["get-totp-code".to_owned(), "--at".to_owned()];
        args.push(case.time.to_string());
        if !case.username.is_empty() {
            args.extend(["--username".to_owned(), case.username.clone()]);
        }
        if let Some(node) = &case.node {
            args.extend(["--workflow".to_owned(), node.workflow_id.clone()]);
            args.extend(["--node".to_owned(), node.node_id.clone()]);
        }
        let rust = Command::new(env!("CARGO_BIN_EXE_totp-host"))
            .arg("--db")
            .arg(&sqlite)
            .args(&args)
            .output()
            .unwrap();
        let python_out = component_env(
            Command::new(&python)
                .arg(repo_root().join("host-test/wasmtime-py/totp_host.py"))
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

/// Usage and start-up errors exit 2 in every CLI, and `describe` prints the
/// same tool definition.
#[test]
fn the_three_clis_agree_on_usage_errors_and_describe() {
    let python = venv_python();
    let js = node_modules();
    let dir = tempfile::tempdir().unwrap();
    let db = dir.path().join("empty.sqlite3");
    let db = db.to_str().unwrap();
    let missing = dir.path().join("nope.wasm");
    let missing = missing.to_str().unwrap();
    let clis: [(&str, Vec<String>); 3] = [
        ("rust", vec![env!("CARGO_BIN_EXE_totp-host").to_owned()]),
        (
            "python",
            vec![
                python.to_str().unwrap().to_owned(),
                repo_root()
                    .join("host-test/wasmtime-py/totp_host.py")
                    .to_str()
                    .unwrap()
                    .to_owned(),
            ],
        ),
        (
            "node",
            vec![
                "node".to_owned(),
                js.join("totp-host.mjs").to_str().unwrap().to_owned(),
            ],
        ),
    ];
    let mut definitions = Vec::new();
    for (host, command) in &clis {
        let cli = |args: &[&str]| {
            component_env(Command::new(&command[0]).args(&command[1..]).args(args))
                .output()
                .unwrap()
        };
        for args in [
            &["--db", db, "get-totp-code", "--workflow", "wf-1"][..],
            &["--db", db, "get-totp-code", "--at", "yesterday"],
            &["--db", db, "get-totp-code", "--bogus"],
        ] {
            assert_eq!(cli(args).status.code(), Some(2), "{host} {args:?}");
        }
        if *host != "rust" {
            // The other hosts take --component PATH and need --db.
            assert_eq!(
                cli(&["get-totp-code", "--username", "x"]).status.code(),
                Some(2)
            );
            let output = cli(&["--db", db, "--component", missing, "get-totp-code"]);
            assert_eq!(output.status.code(), Some(2), "{host}");
            assert!(
                String::from_utf8_lossy(&output.stderr).contains("nope.wasm"),
                "{host}"
            );
        }
        let described = cli(&["describe"]);
        assert_eq!(described.status.code(), Some(0), "{host}: {described:?}");
        definitions.push(String::from_utf8_lossy(&described.stdout).trim().to_owned());
    }
    assert!(
        definitions.iter().all(|d| d == &definitions[0]),
        "{definitions:?}"
    );
}
