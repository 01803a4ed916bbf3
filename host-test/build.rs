//! Builds the guest crate for `wasm32-unknown-unknown` and componentizes it,
//! so that `cargo run`/`cargo test` at the root need nothing else.
//!
//! The pattern of wasmtime's `crates/test-programs/artifacts`: a nested cargo
//! build with its own target dir (the outer one is locked by this build),
//! then `wit-component` turns the core module into a component whose only
//! imports are those the WIT world declares. The component's path is written
//! to `OUT_DIR/component.rs` for `include_bytes!`. The guest's own flags are
//! in `.cargo/config.toml`, so a hand-run guest build gives the same bytes.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

const WASM_TARGET: &str = "wasm32-unknown-unknown";
const GUEST_PACKAGE: &str = "get-totp-code";
const GUEST_PROFILE: &str = "wasm";

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let root = manifest_dir.parent().unwrap().to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());
    for watched in [
        "src",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    pack_relative_relocations();
    ensure_wasm_target();
    let target_dir = guest_target_dir(&out_dir);
    let module = build_guest(&root, &target_dir);
    let component = componentize(&module);

    // One copy for include_bytes!, one at a stable path for the Python and
    // JavaScript hosts and for operators who want the bare .wasm.
    let component_path = out_dir.join("get_totp_code.wasm");
    std::fs::write(&component_path, &component).unwrap();
    let shared_path = target_dir.join("get_totp_code.component.wasm");
    std::fs::write(&shared_path, &component).unwrap();
    std::fs::write(
        out_dir.join("component.rs"),
        format!(
            "/// The get_totp_code component, built by host-test/build.rs.\n\
             pub const COMPONENT_BYTES: &[u8] = include_bytes!({component_path:?});\n\
             /// The same component at a stable path (`target/guest/...`).\n\
             pub const COMPONENT_PATH: &str = {shared_path:?};\n\
             /// A digest of the component's bytes (not cryptographic): the key\n\
             /// of precompiled copies in the cache.\n\
             pub const COMPONENT_DIGEST: u64 = {digest:#x};\n",
            digest = fnv1a(&component),
        ),
    )
    .unwrap();
}

/// The README promises a first build on a machine with only Rust: the
/// guest needs the wasm target's standard library, and rustup's
/// auto-install is often off, so add it once (or say plainly how to).
fn ensure_wasm_target() {
    let rustc = env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if libdir.is_some_and(|dir| has_std(&dir)) {
        return;
    }
    println!(
        "cargo:warning=installing the {WASM_TARGET} target with rustup (needed to build the component)"
    );
    let status = Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status();
    match status {
        Ok(status) if status.success() => {}
        Ok(status) => panic!("`rustup target add {WASM_TARGET}` failed ({status}); run it by hand"),
        Err(err) => panic!(
            "the {WASM_TARGET} Rust target is missing and rustup is not available ({err}); \
             install the target's standard library for {rustc} and build again"
        ),
    }
}

fn has_std(libdir: &Path) -> bool {
    std::fs::read_dir(libdir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}

/// Runs the nested `cargo build` of the guest; returns the core module path.
fn build_guest(root: &Path, target_dir: &Path) -> PathBuf {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--lib", "--package", GUEST_PACKAGE])
        .args(["--target", WASM_TARGET, "--profile", GUEST_PROFILE])
        .env("CARGO_TARGET_DIR", target_dir)
        // Flags meant for the host build must not leak into the guest's
        // (and would override the guest's own in .cargo/config.toml).
        .env_remove("RUSTFLAGS")
        .env_remove("CARGO_ENCODED_RUSTFLAGS")
        .env_remove("CARGO_BUILD_TARGET")
        .env_remove("CARGO_BUILD_RUSTFLAGS")
        .env_remove("CARGO_PRIMARY_PACKAGE")
        // `cargo clippy` lints through this wrapper; the guest is linted on
        // its own (see .ci/run), and a wrapper here would defeat caching.
        .env_remove("RUSTC_WORKSPACE_WRAPPER");
    let status = command.status().expect("failed to run cargo for the guest");
    assert!(status.success(), "building the guest component failed");
    target_dir
        .join(WASM_TARGET)
        .join(GUEST_PROFILE)
        .join("get_totp_code.wasm")
}

/// One guest build serves every host profile: `<target>/guest` when OUT_DIR
/// has the usual `<target>/<profile>/build/<pkg>/out` shape.
fn guest_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .nth(4)
        .filter(|target| target.join("CACHEDIR.TAG").exists())
        .map(|target| target.join("guest"))
        .unwrap_or_else(|| out_dir.join("guest"))
}

fn componentize(module_path: &Path) -> Vec<u8> {
    let module = std::fs::read(module_path)
        .unwrap_or_else(|e| panic!("reading {}: {e}", module_path.display()));
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(&module)
        .and_then(|encoder| encoder.encode())
        .unwrap_or_else(|e| panic!("componentizing {}: {e:?}", module_path.display()))
}

/// FNV-1a: a stable digest without a dependency, for cache keys only.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// A CLI that prints one code is mostly process start-up; compact relative
/// relocations (glibc 2.36+, GNU ld 2.38+) make the dynamic loader's share
/// of it several times smaller. Only where the linker takes them.
fn pack_relative_relocations() {
    if env::var("CARGO_CFG_TARGET_OS").as_deref() == Ok("linux")
        && env::var("CARGO_CFG_TARGET_ENV").as_deref() == Ok("gnu")
        && linker_supports_relr()
    {
        println!("cargo:rustc-link-arg-bins=-Wl,-z,pack-relative-relocs");
    }
}

/// Whether the system linker takes `-z pack-relative-relocs` (older GNU ld
/// warns and ignores unknown `-z` options, so ask it for its version).
fn linker_supports_relr() -> bool {
    let Ok(output) = Command::new("ld").arg("--version").output() else {
        return false;
    };
    let text = String::from_utf8_lossy(&output.stdout);
    let Some(version) = text
        .lines()
        .next()
        .and_then(|line| line.split_whitespace().last())
    else {
        return false;
    };
    let mut parts = version.split('.').map(|p| p.parse::<u32>().unwrap_or(0));
    let (major, minor) = (parts.next().unwrap_or(0), parts.next().unwrap_or(0));
    text.starts_with("GNU ld") && (major, minor) >= (2, 38)
}
