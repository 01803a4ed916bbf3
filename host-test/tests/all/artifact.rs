//! The component as an artifact: its import surface is exactly the WIT
//! world's, its tool definition is well formed, it stays small, it names
//! itself, and it holds no path of the machine that built it.

use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use totp_host::artifact::Surface;
use wasmtime::component::Component;

use crate::util::tool;

#[test]
fn component_imports_exactly_the_three_declared_interfaces() {
    let engine = tool().wasmtime_engine();
    let component = Component::new(engine, totp_host::artifact::COMPONENT_BYTES).unwrap();
    let imports: BTreeSet<String> = component
        .component_type()
        .imports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let expected: BTreeSet<String> = [
        "agent-tools:totp/secrets@0.2.0",
        "agent-tools:totp/workflow@0.2.0",
        "wasi:clocks/wall-clock@0.2.0",
    ]
    .into_iter()
    .map(String::from)
    .collect();
    assert_eq!(imports, expected);
}

#[test]
fn component_exports_the_tool_functions() {
    let engine = tool().wasmtime_engine();
    let component = Component::new(engine, totp_host::artifact::COMPONENT_BYTES).unwrap();
    let exports: BTreeSet<String> = component
        .component_type()
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let expected: BTreeSet<String> = ["describe", "get-totp-code", "invoke"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(exports, expected);
}

/// The size goal, with every feature in (size is deterministic for a given
/// toolchain and lock file). The guest's core module stays within 64 KiB;
/// wit-component's layout adds its shim and fix-up modules around it.
#[test]
fn component_fits_in_68_kib() {
    let size = totp_host::artifact::COMPONENT_BYTES.len();
    assert!(size <= 68 << 10, "component is {size} bytes");
}

#[test]
fn describe_is_a_tool_definition_with_optional_username() {
    let definition: serde_json::Value = serde_json::from_str(&tool().describe().unwrap()).unwrap();
    assert_eq!(definition["name"], "get_totp_code");
    assert!(
        definition["description"]
            .as_str()
            .unwrap()
            .contains("expires_in")
    );
    let parameters = &definition["parameters"];
    assert_eq!(parameters["type"], "object");
    assert_eq!(parameters["properties"]["username"]["type"], "string");
    assert_eq!(parameters["properties"]["username"]["default"], "");
    assert_eq!(parameters["required"], serde_json::json!([]));
}

/// The metadata `build.rs` embeds, read back from the bytes: the guest
/// package's own name, version and licence.
#[test]
fn component_carries_the_guest_package_metadata() {
    let surface = Surface::read(totp_host::artifact::COMPONENT_BYTES).unwrap();
    let metadata = &surface.metadata;
    assert_eq!(metadata["name"], "get-totp-code", "{metadata:?}");
    assert_eq!(metadata["version"], get_totp_code_version(), "{metadata:?}");
    assert_eq!(metadata["licenses"], "MIT OR Apache-2.0", "{metadata:?}");
    assert!(metadata["description"].contains("RFC 6238"), "{metadata:?}");
}

/// The root Cargo.toml's package version (the guest's).
fn get_totp_code_version() -> String {
    let manifest = include_str!("../../../Cargo.toml");
    manifest
        .lines()
        .find_map(|line| line.strip_prefix("version = "))
        .map(|value| value.trim_matches('"').to_owned())
        .expect("the root Cargo.toml has a package version")
}

/// Reproducibility: building elsewhere must not change the bytes, so no
/// path of this machine may be in them (panic locations of dependencies
/// carried `$CARGO_HOME/registry/src/...` before build.rs remapped them).
#[test]
fn component_holds_no_path_of_this_machine() {
    let bytes = totp_host::artifact::COMPONENT_BYTES;
    let repo_root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap();
    let mut machine_paths = vec![repo_root.to_path_buf()];
    machine_paths.extend(std::env::var_os("CARGO_HOME").map(PathBuf::from));
    machine_paths.extend(std::env::var_os("HOME").map(PathBuf::from));
    machine_paths.push(PathBuf::from("/root/"));
    machine_paths.push(PathBuf::from("/home/"));
    for path in machine_paths {
        let needle = path.to_string_lossy();
        assert!(
            !contains(bytes, needle.as_bytes()),
            "the component contains {needle:?}"
        );
    }
    // The remapped prefixes are there instead: the remap took effect.
    assert!(contains(bytes, b"/cargo/registry/src/"));
}

use totp_component_build::guest::{self, GUEST};
use totp_test_support::process::contains;

/// Two checkouts at different paths, with different cargo homes, build the
/// same guest bytes: the sources are copied elsewhere (the files git
/// tracks), the cargo home is another directory that links to this one's
/// registry, and the guest is built there exactly as `build.rs` builds it.
#[test]
fn another_checkout_builds_the_same_guest() {
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap();
    let ours = GUEST.core_module_path(
        std::path::Path::new(totp_host::artifact::COMPONENT_PATH)
            .parent()
            .unwrap(),
    );
    let elsewhere = tempfile::Builder::new()
        .prefix("another-checkout-")
        .tempdir()
        .unwrap();
    let checkout = elsewhere.path().join("src").join("get-totp-code");
    let listed = std::process::Command::new("git")
        .args(["ls-files", "-z"])
        .current_dir(root)
        .output()
        .expect("git lists the sources");
    assert!(listed.status.success(), "{listed:?}");
    for file in listed.stdout.split(|&b| b == 0).filter(|f| !f.is_empty()) {
        let file = std::str::from_utf8(file).unwrap();
        let to = checkout.join(file);
        std::fs::create_dir_all(to.parent().unwrap()).unwrap();
        std::fs::copy(root.join(file), &to).unwrap();
    }
    let cargo_home = elsewhere.path().join("cargo-home");
    std::fs::create_dir_all(&cargo_home).unwrap();
    let registry = guest::cargo_home().unwrap().join("registry");
    std::os::unix::fs::symlink(&registry, cargo_home.join("registry")).unwrap();

    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let target_dir = elsewhere.path().join("target");
    let output = GUEST
        .build_command(&cargo, &checkout, &target_dir, Some(&cargo_home))
        .args(["--offline", "--locked", "--quiet"])
        .env("CARGO_HOME", &cargo_home)
        .output()
        .unwrap();
    assert!(
        output.status.success(),
        "{}",
        String::from_utf8_lossy(&output.stderr)
    );
    let theirs = std::fs::read(GUEST.core_module_path(&target_dir)).unwrap();
    assert!(
        theirs == std::fs::read(&ours).unwrap(),
        "the guest built in {} differs from {}",
        checkout.display(),
        ours.display()
    );
}
