//! Builds the guest crate for `wasm32-unknown-unknown` and componentizes it,
//! so that `cargo run`/`cargo test` at the root need nothing else.
//!
//! The pattern of wasmtime's `crates/test-programs/artifacts`: a nested cargo
//! build with its own target dir (the outer one is locked by this build),
//! then `wit-component` turns the core module into a component whose only
//! imports are those the WIT world declares, and `component_layout.rs` lays
//! it out as two core instances instead of wit-component's three (a tenth
//! of a fresh call's cost). The component's path is written
//! to `OUT_DIR/component.rs` for `include_bytes!`. The guest's own flags are
//! in `.cargo/config.toml`; this build adds only path remapping (so the
//! artifact holds no path of this machine) and, after componentizing, the
//! guest package's metadata (name, version, description, licences, git
//! revision) as the custom sections `wasm-metadata` writes. The WIT package
//! is encoded here too (binary WIT, for `totp-host dist`), so the runtime
//! needs no WIT parser.

use std::env;
use std::path::{Path, PathBuf};
use std::process::Command;

use wasm_metadata::AddMetadataField::Set;

#[path = "component_layout.rs"]
mod component_layout;
#[path = "guest_build.rs"]
mod guest_build;

use guest_build::{GUEST_PACKAGE, WASM_TARGET, cargo_home, core_module_path, guest_build_command};

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
    let component = component_layout::without_shim(&componentize(&module));
    let component = add_metadata(&component, &root);
    let (wit_package, world) = encode_wit_package(&root.join("wit"));
    let wit_path = out_dir.join("get_totp_code.wit.wasm");
    std::fs::write(&wit_path, &wit_package).unwrap();

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
             pub const COMPONENT_DIGEST: u64 = {digest:#x};\n\
             /// The WIT package the component implements, in binary form.\n\
             pub const WIT_PACKAGE_BYTES: &[u8] = include_bytes!({wit_path:?});\n\
             /// The world it targets, as `namespace:package/world@version`.\n\
             pub const WORLD: &str = {world:?};\n",
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
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = guest_build_command(&cargo, root, target_dir, cargo_home().as_deref())
        .status()
        .expect("failed to run cargo for the guest");
    assert!(status.success(), "building the guest component failed");
    core_module_path(target_dir)
}

/// Names the component with the guest package's own metadata (read with
/// `cargo metadata`, so Cargo.toml stays the one place it is written) and
/// the commit it was built from, when this is a git checkout.
fn add_metadata(component: &[u8], root: &Path) -> Vec<u8> {
    let package = guest_package(root);
    let field = |key: &str| package[key].as_str().map(str::to_owned);
    let mut metadata = wasm_metadata::AddMetadata::default();
    metadata.name = Set(field("name").expect("the guest package has a name"));
    if let Some(version) = field("version") {
        metadata.version = Set(wasm_metadata::Version::new(version));
    }
    if let Some(description) = field("description") {
        metadata.description = Set(wasm_metadata::Description::new(description));
    }
    if let Some(license) = field("license") {
        let licenses = wasm_metadata::Licenses::new(&license)
            .unwrap_or_else(|e| panic!("the guest's license {license:?}: {e}"));
        metadata.licenses = Set(licenses);
    }
    // No repository URL is declared; when Cargo.toml gets one, it is the source.
    if let Some(repository) = field("repository") {
        let source = wasm_metadata::Source::new(&repository)
            .unwrap_or_else(|e| panic!("the guest's repository {repository:?}: {e}"));
        metadata.source = Set(source);
    }
    if let Some(revision) = git_revision(root) {
        metadata.revision = Set(wasm_metadata::Revision::new(revision));
    }
    metadata
        .to_wasm(component)
        .unwrap_or_else(|e| panic!("adding metadata to the component: {e:?}"))
}

/// The guest package's entry in `cargo metadata --no-deps`.
fn guest_package(root: &Path) -> serde_json::Value {
    let cargo = env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let output = Command::new(cargo)
        .current_dir(root)
        .args([
            "metadata",
            "--no-deps",
            "--offline",
            "--format-version",
            "1",
        ])
        .output()
        .expect("failed to run cargo metadata");
    assert!(output.status.success(), "cargo metadata failed");
    let metadata: serde_json::Value =
        serde_json::from_slice(&output.stdout).expect("cargo metadata prints JSON");
    metadata["packages"]
        .as_array()
        .and_then(|packages| packages.iter().find(|p| p["name"] == GUEST_PACKAGE))
        .cloned()
        .expect("cargo metadata lists the guest package")
}

/// `git rev-parse HEAD` at the repository root, when git is there and this
/// is a checkout; the build reruns when HEAD moves. A tarball build has no
/// revision (and then matches any checkout's bytes but for this section).
fn git_revision(root: &Path) -> Option<String> {
    let git = |args: &[&str]| {
        Command::new("git")
            .current_dir(root)
            .args(args)
            .output()
            .ok()
            .filter(|out| out.status.success())
            .map(|out| String::from_utf8_lossy(&out.stdout).trim().to_owned())
    };
    let revision = git(&["rev-parse", "HEAD"])?;
    let head = git(&["rev-parse", "--git-path", "HEAD"])?;
    println!("cargo:rerun-if-changed={}", root.join(head).display());
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        let reference = git(&["rev-parse", "--git-path", &branch])?;
        println!("cargo:rerun-if-changed={}", root.join(reference).display());
    }
    Some(revision)
}

/// The WIT package of `wit/` in binary form, and its world's full name.
fn encode_wit_package(wit_dir: &Path) -> (Vec<u8>, String) {
    let mut resolve = wit_parser::Resolve::default();
    let (package, _) = resolve
        .push_dir(wit_dir)
        .unwrap_or_else(|e| panic!("parsing {}: {e:?}", wit_dir.display()));
    let world = resolve
        .select_world(&[package], None)
        .unwrap_or_else(|e| panic!("choosing the world of {}: {e:?}", wit_dir.display()));
    let name = &resolve.packages[package].name;
    let world_name = match &name.version {
        Some(version) => format!(
            "{}:{}/{}@{version}",
            name.namespace, name.name, resolve.worlds[world].name
        ),
        None => format!(
            "{}:{}/{}",
            name.namespace, name.name, resolve.worlds[world].name
        ),
    };
    let bytes = wit_component::encode(&resolve, package)
        .unwrap_or_else(|e| panic!("encoding the WIT package: {e:?}"));
    (bytes, world_name)
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
