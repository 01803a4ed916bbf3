//! The standard-WASI builds as files: what they import and export, and how
//! `dist` and `inspect` present them. Their behaviour is tested in the real
//! hosts (`wasmtime_cli`, `obelisk`).

use totp_host::artifact::{
    OBELISK_BUILD, STANDARD_BUILDS, Surface, WASI_BUILD, WASSETTE_BUILD, sha256_hex,
};

use totp_test_support::process::json_report;

/// Only standard WASI: no import of the tool's own interfaces is left for
/// the host to fill, and the wall clock and configuration are the only
/// things asked for (plus what WASI itself needs for those).
#[test]
fn standard_builds_import_only_standard_wasi() {
    for build in STANDARD_BUILDS {
        let surface = Surface::read(build.bytes).unwrap();
        assert!(
            surface.imports.iter().all(|name| name.starts_with("wasi:")),
            "{}: {:?}",
            build.file,
            surface.imports
        );
        assert!(
            surface
                .imports
                .iter()
                .any(|name| name.starts_with("wasi:clocks/wall-clock@0.2")),
            "{}: {:?}",
            build.file,
            surface.imports
        );
        assert_eq!(
            surface.metadata["name"],
            build.file.trim_end_matches(".wasm").replace('_', "-")
        );
    }
    let imports = |bytes| Surface::read(bytes).unwrap().imports;
    assert!(imports(WASI_BUILD.bytes).contains(&"wasi:cli/environment@0.2.0".to_owned()));
    assert!(imports(OBELISK_BUILD.bytes).contains(&"wasi:cli/environment@0.2.0".to_owned()));
    assert!(imports(WASSETTE_BUILD.bytes).contains(&"wasi:config/store@0.2.0-draft".to_owned()));
}

/// A host that turns every export into a tool offers exactly one; Obelisk
/// sees one interface.
#[test]
fn standard_builds_export_one_tool() {
    let exports = |bytes| Surface::read(bytes).unwrap().exports;
    assert_eq!(exports(WASI_BUILD.bytes), ["get-totp-code"]);
    assert_eq!(exports(WASSETTE_BUILD.bytes), ["get-totp-code"]);
    assert_eq!(
        exports(OBELISK_BUILD.bytes),
        ["agent-tools:totp-activity/tool@0.2.0"]
    );
}

#[test]
fn dist_and_inspect_describe_the_standard_builds() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().to_str().unwrap();
    totp_host_report(&["dist", "--out", out]);
    let sums = std::fs::read_to_string(dir.path().join("SHA256SUMS")).unwrap();
    for build in STANDARD_BUILDS {
        let sha256 = sha256_hex(build.bytes);
        assert!(
            sums.contains(&format!("{sha256}  {}\n", build.file)),
            "{}: {sums}",
            build.file
        );
        let path = dir.path().join(build.file);
        assert_eq!(std::fs::read(&path).unwrap(), build.bytes);
        let report = totp_host_report(&["inspect", path.to_str().unwrap()]);
        assert_eq!(report["standard_build"]["file"], build.file, "{report}");
        assert_eq!(report["standard_build"]["serves"], build.serves, "{report}");
        assert_eq!(report["sha256"], sha256, "{report}");
    }
    let embedded = totp_host_report(&["inspect"]);
    let listed: Vec<&str> = embedded["standard_builds"]
        .as_array()
        .unwrap()
        .iter()
        .map(|build| build["file"].as_str().unwrap())
        .collect();
    assert_eq!(listed, STANDARD_BUILDS.map(|build| build.file));
}

fn totp_host_report(args: &[&str]) -> serde_json::Value {
    json_report(env!("CARGO_BIN_EXE_totp-host"), args)
}
