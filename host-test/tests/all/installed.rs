//! The release directory, installed as its users install it: the wheel into
//! a fresh venv whose `PATH` has no Rust, the npm tarball into an empty
//! project, the binary run in a clean environment. The suites then run
//! against what was installed, not against anything staged from `target/`.
//!
//! These need a release directory (`host-test/release/dist.sh DIR`), named
//! by `TOTP_DIST`; they are ignored by a plain `cargo test`, and `.ci/run`
//! runs them after writing one:
//!
//!     TOTP_DIST=$PWD/dist cargo test --test all installed -- --ignored

use std::path::{Path, PathBuf};
use std::process::Command;

use serde_json::Value;
use totp_test_support::judge;
use totp_test_support::python::{repo_root, run, target_tmp};

use crate::util::{RFC6238, TotpHost};

const NEEDS_DIST: &str = "needs a release directory in TOTP_DIST (host-test/release/dist.sh)";

/// The release directory, its SHA256SUMS checked.
fn dist() -> PathBuf {
    let dir = PathBuf::from(std::env::var_os("TOTP_DIST").expect(NEEDS_DIST));
    run(
        Command::new("sha256sum")
            .args(["--check", "--quiet", "SHA256SUMS"])
            .current_dir(&dir),
        "sha256sum --check of the release directory",
    );
    dir
}

/// The one file in `dir` whose name starts with `prefix` and ends with
/// `suffix`.
fn artifact(dir: &Path, prefix: &str, suffix: &str) -> PathBuf {
    let found: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| {
            let name = path.file_name().unwrap().to_string_lossy();
            name.starts_with(prefix) && name.ends_with(suffix)
        })
        .collect();
    assert_eq!(
        found.len(),
        1,
        "one {prefix}*{suffix} in {}: {found:?}",
        dir.display()
    );
    found.into_iter().next().unwrap()
}

/// An empty directory under target/tmp.
fn fresh_dir(name: &str) -> PathBuf {
    let dir = target_tmp().join(name);
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// `PATH` for the installed package's runs: the venv and the system, and
/// none of cargo's directories.
fn path_without_rust(bin: &Path) -> String {
    format!("{}:/usr/local/bin:/usr/bin:/bin", bin.display())
}

fn results(output: &std::process::Output, what: &str) -> serde_json::Map<String, Value> {
    serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "{what} did not print a JSON object ({e}): {}",
            String::from_utf8_lossy(&output.stdout)
        )
    })
}

#[test]
#[ignore = "needs a release directory in TOTP_DIST (host-test/release/dist.sh)"]
fn the_wheel_installed_without_rust_passes_the_package_suites() {
    let dist = dist();
    let wheel = artifact(
        &dist,
        "get_totp_code-",
        "-abi3-manylinux2014_x86_64.manylinux_2_17_x86_64.whl",
    );
    let venv = fresh_dir("installed-wheel");
    run(
        Command::new("python3").arg("-m").arg("venv").arg(&venv),
        "python3 -m venv",
    );
    let bin = venv.join("bin");
    // The suites' own dependencies, pinned where every other suite's are.
    run(
        Command::new(bin.join("pip"))
            .args(["install", "--quiet", "--disable-pip-version-check", "-r"])
            .arg(repo_root().join("host-test/wasmtime-py/requirements.txt"))
            .arg(&wheel),
        "pip install of the wheel",
    );
    let python = || {
        let mut command = Command::new(bin.join("python"));
        command
            .env_clear()
            .env("PATH", path_without_rust(&bin))
            .env("HOME", &venv)
            .env("PYTHONDONTWRITEBYTECODE", "1")
            .env("GET_TOTP_CODE_README", repo_root().join("README.md"))
            // Outside the repository: nothing but the venv provides the package.
            .current_dir(&venv);
        command
    };
    let located = run(
        python().args([
            "-c",
            "import shutil, get_totp_code as p; \
             assert shutil.which('cargo') is None and shutil.which('rustc') is None; \
             print(p.__file__, p.__version__)",
        ]),
        "importing the installed package",
    );
    let located = String::from_utf8_lossy(&located.stdout).into_owned();
    assert!(
        located.starts_with(&venv.join("lib").display().to_string()),
        "the package came from elsewhere: {located}"
    );
    assert!(
        located.trim_end().ends_with(env!("CARGO_PKG_VERSION")),
        "{located}"
    );

    let tests = repo_root().join("host-test/python/tests");
    let pytest = run(
        python()
            .args(["-m", "pytest", "-q", "-p", "no:cacheprovider", "--rootdir"])
            .arg(&tests)
            .arg(&tests),
        "the package's pytest suite against the installed wheel",
    );
    println!("{}", String::from_utf8_lossy(&pytest.stdout));
    let cases = run(
        python()
            .arg(tests.join("run_cases.py"))
            .arg(repo_root().join("host-test/conformance/cases.json")),
        "the conformance cases through the installed wheel",
    );
    judge::judge("the installed wheel", &results(&cases, "run_cases.py"));
}

/// The README's TypeScript example (its one ```ts block).
fn readme_example(language: &str) -> String {
    let readme = std::fs::read_to_string(repo_root().join("README.md")).unwrap();
    let fence = format!("```{language}\n");
    let start = readme.find(&fence).expect("README has the example") + fence.len();
    let end = start + readme[start..].find("```").unwrap();
    assert!(
        !readme[end..].contains(&fence),
        "README has one ```{language} block"
    );
    readme[start..end].to_owned()
}

#[test]
#[ignore = "needs a release directory in TOTP_DIST (host-test/release/dist.sh)"]
fn the_npm_package_installed_in_an_empty_project_passes_the_cases_and_type_checks() {
    let dist = dist();
    let tarball = artifact(&dist, "get-totp-code-", ".tgz");
    let project = fresh_dir("installed-npm");
    std::fs::write(
        project.join("package.json"),
        r#"{"name": "uses-get-totp-code", "private": true, "type": "module"}"#,
    )
    .unwrap();
    // The type checker at the version the package develops against.
    let manifest: Value = serde_json::from_slice(
        &std::fs::read(repo_root().join("host-test/js/package.json")).unwrap(),
    )
    .unwrap();
    let typescript = manifest["devDependencies"]["typescript"]
        .as_str()
        .expect("host-test/js pins typescript");
    run(
        Command::new("npm")
            .args(["install", "--silent", "--no-audit", "--no-fund"])
            .arg(&tarball)
            .arg(format!("typescript@{typescript}"))
            .current_dir(&project),
        "npm install of the tarball",
    );
    // The conformance runner, outside the repository: it imports the API
    // by the package's name, which now resolves to node_modules.
    std::fs::copy(
        repo_root().join("host-test/js/run-cases.mjs"),
        project.join("run-cases.mjs"),
    )
    .unwrap();
    let cases = run(
        Command::new("node")
            .arg("run-cases.mjs")
            .arg(repo_root().join("host-test/conformance/cases.json"))
            .current_dir(&project),
        "the conformance cases through the installed npm package",
    );
    judge::judge(
        "the installed npm package",
        &results(&cases, "run-cases.mjs"),
    );

    std::fs::write(project.join("example.ts"), readme_example("ts")).unwrap();
    let tsc = |extra: &[&str]| {
        run(
            Command::new("node_modules/.bin/tsc")
                .args([
                    "--strict",
                    "--module",
                    "nodenext",
                    "--moduleResolution",
                    "nodenext",
                    "--target",
                    "es2022",
                ])
                .args(extra)
                .arg("example.ts")
                .current_dir(&project),
            "tsc on the README's example",
        )
    };
    tsc(&["--noEmit"]);
    // And it runs: a code for the example's agent.
    tsc(&["--outDir", "out"]);
    let printed = run(
        Command::new("node")
            .arg("out/example.js")
            .current_dir(&project),
        "the README's example",
    );
    let result: Value = serde_json::from_slice(&printed.stdout).unwrap();
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["username"], "agent_my-workflow_agent_abc123");
}

#[test]
#[ignore = "needs a release directory in TOTP_DIST (host-test/release/dist.sh)"]
fn the_release_binary_prints_codes_in_a_clean_environment() {
    let dist = dist();
    let home = fresh_dir("installed-binary");
    let binary = home.join("totp-host");
    std::fs::copy(dist.join("totp-host"), &binary).unwrap();
    let host = TotpHost::released(&binary, &home);

    // A code from the demo store it makes on first use.
    let demo = host.run(&["get-totp-code"]);
    assert!(demo.status.success(), "{demo:?}");
    let result: Value = serde_json::from_slice(&demo.stdout).unwrap();
    assert_eq!(result["success"], true, "{result}");
    assert!(
        result["totp_code"]
            .as_str()
            .is_some_and(|code| code.len() == 6 && code.bytes().all(|b| b.is_ascii_digit())),
        "{result}"
    );

    // And the published RFC 6238 code, through a store it provisions.
    let db = home.join("rfc.sqlite3");
    let key = home.join("store.key");
    let on_db = host.with_db(&db).sealed(&key);
    on_db.provision("wf", "wf", "tool", "n1", &RFC6238.sha1_secret());
    let code = on_db.run(&["get-totp-code", "--username", "agent_wf_n1", "--at", "59"]);
    assert!(code.status.success(), "{code:?}");
    let result: Value = serde_json::from_slice(&code.stdout).unwrap();
    assert_eq!(result["totp_code"], RFC6238.sha1_code(59), "{result}");
}
