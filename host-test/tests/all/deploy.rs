//! Deploying the component: `totp-host dist` writes files `sha256sum -c`
//! accepts, `--component` with `--component-sha256` runs exactly that
//! build, and a wrong digest, a non-component or a component asking for
//! more imports is refused at load (exit 2) with a message saying why.

use std::path::Path;
use std::process::Output;

use crate::util::totp_host;
use serde_json::Value;
use sha2::{Digest, Sha256};
use totp_test_support::process::contains;

fn stdout_json(output: &Output) -> Value {
    let stdout = String::from_utf8_lossy(&output.stdout);
    serde_json::from_str(stdout.trim()).unwrap_or_else(|e| {
        panic!(
            "not JSON ({e}): {stdout:?}, stderr {:?}",
            String::from_utf8_lossy(&output.stderr)
        )
    })
}

fn path_str(path: &Path) -> &str {
    path.to_str().expect("temporary paths are UTF-8")
}

/// Writes a dist directory; returns the component's hex SHA-256 as listed.
fn dist(dir: &Path) -> String {
    let output = totp_host(&["dist", "--out", path_str(dir)]);
    assert!(output.status.success(), "{output:?}");
    let sums = std::fs::read_to_string(dir.join("SHA256SUMS")).unwrap();
    let mut component_sha256 = None;
    for line in sums.lines() {
        let (hex, name) = line.split_once("  ").expect("sha256sum format");
        let bytes = std::fs::read(dir.join(name)).unwrap();
        let actual: String = Sha256::digest(&bytes)
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect();
        assert_eq!(hex, actual, "{name}");
        if name == "get_totp_code.wasm" {
            assert_eq!(bytes, totp_host::artifact::COMPONENT_BYTES);
            component_sha256 = Some(actual);
        }
    }
    assert!(
        sums.contains("  get_totp_code.wit.wasm\n"),
        "the WIT package is listed: {sums}"
    );
    component_sha256.expect("the component is listed")
}

#[test]
fn dist_files_check_and_the_pinned_component_runs() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("dist");
    let sha256 = dist(&out);
    let component = out.join("get_totp_code.wasm");
    let db = dir.path().join("store.sqlite3");
    let output = totp_host(&[
        "--component",
        path_str(&component),
        "--component-sha256",
        &sha256.to_uppercase(),
        "--db",
        path_str(&db),
        "get-totp-code",
        "--username",
        "x",
    ]);
    // The tool ran and answered (exit 1: no such user), rather than the
    // host refusing to start (exit 2).
    assert_eq!(output.status.code(), Some(1), "{output:?}");
    assert_eq!(stdout_json(&output)["error_code"], "user_not_found");
}

/// The WIT package is a binary WIT package (a component) of the world.
#[test]
fn dist_wit_package_is_the_world_in_binary_form() {
    let dir = tempfile::tempdir().unwrap();
    dist(dir.path());
    let bytes = std::fs::read(dir.path().join("get_totp_code.wit.wasm")).unwrap();
    assert!(wasmparser::Parser::is_component(&bytes));
    assert!(contains(&bytes, b"agent-tools:totp"));
    assert!(contains(&bytes, b"get-totp-code"));
}

/// Runs `get-totp-code` with `--component` set to `bytes`; asserts exit 2
/// and returns stderr.
fn refused(bytes: &[u8], extra_args: &[&str]) -> String {
    let dir = tempfile::tempdir().unwrap();
    let component = dir.path().join("third-party.wasm");
    std::fs::write(&component, bytes).unwrap();
    let db = dir.path().join("store.sqlite3");
    let mut args = vec!["--component", path_str(&component)];
    args.extend_from_slice(extra_args);
    args.extend(["--db", path_str(&db), "get-totp-code", "--username", "x"]);
    let output = totp_host(&args);
    assert_eq!(output.status.code(), Some(2), "{output:?}");
    assert!(output.stdout.is_empty(), "{output:?}");
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn a_wrong_digest_is_refused() {
    let wrong = "0".repeat(64);
    let message = refused(
        totp_host::artifact::COMPONENT_BYTES,
        &["--component-sha256", &wrong],
    );
    assert!(message.contains("SHA-256"), "{message}");
    assert!(message.contains(&wrong), "{message}");
    let actual = totp_host::artifact::sha256_hex(totp_host::artifact::COMPONENT_BYTES);
    assert!(message.contains(&actual), "{message}");
}

#[test]
fn a_malformed_expected_digest_is_refused() {
    let message = refused(
        totp_host::artifact::COMPONENT_BYTES,
        &["--component-sha256", "abc"],
    );
    assert!(message.contains("not 64 hex digits"), "{message}");
}

#[test]
fn a_file_that_is_not_a_component_is_refused() {
    let core_module = wat::parse_str("(module)").unwrap();
    for bytes in [&b"not wasm at all"[..], &core_module] {
        let message = refused(bytes, &[]);
        assert!(message.contains("not a WebAssembly component"), "{message}");
    }
}

#[test]
fn a_component_importing_more_than_the_world_is_refused() {
    let bytes = wat::parse_str(
        r#"(component
          (import "wasi:filesystem/preopens@0.2.0" (instance
            (export "get-directories" (func (result u32))))))"#,
    )
    .unwrap();
    let message = refused(&bytes, &[]);
    assert!(
        message.contains("imports wasi:filesystem/preopens@0.2.0 beyond"),
        "{message}"
    );
}

/// Within the world's imports but without its exports: refused at link.
#[test]
fn a_component_without_the_tool_exports_is_refused() {
    let bytes = wat::parse_str("(component)").unwrap();
    let message = refused(&bytes, &[]);
    assert!(message.contains("does not fit"), "{message}");
}

#[test]
fn inspect_describes_the_embedded_component_and_a_file() {
    let embedded = totp_host(&["inspect"]);
    assert!(embedded.status.success(), "{embedded:?}");
    let report = stdout_json(&embedded);
    let bytes = totp_host::artifact::COMPONENT_BYTES;
    assert_eq!(report["world"], "agent-tools:totp/get-totp-code@0.2.0");
    assert_eq!(report["size"], bytes.len());
    assert_eq!(report["sha256"], totp_host::artifact::sha256_hex(bytes));
    assert_eq!(report["metadata"]["name"], "get-totp-code");
    assert_eq!(
        report["imports"],
        serde_json::json!([
            "agent-tools:totp/secrets@0.2.0",
            "agent-tools:totp/workflow@0.2.0",
            "wasi:clocks/wall-clock@0.2.0"
        ])
    );
    let mut exports: Vec<&str> = report["exports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v.as_str().unwrap())
        .collect();
    exports.sort_unstable();
    assert_eq!(exports, ["describe", "get-totp-code", "invoke"]);

    let dir = tempfile::tempdir().unwrap();
    let hostile = dir.path().join("hostile.wasm");
    let wat = r#"(component
      (import "wasi:filesystem/preopens@0.2.0" (instance)))"#;
    std::fs::write(&hostile, wat::parse_str(wat).unwrap()).unwrap();
    let file = totp_host(&["inspect", path_str(&hostile)]);
    assert!(file.status.success(), "{file:?}");
    let report = stdout_json(&file);
    assert_eq!(report["world"], Value::Null);
    assert_eq!(
        report["imports"],
        serde_json::json!(["wasi:filesystem/preopens@0.2.0"])
    );
}
