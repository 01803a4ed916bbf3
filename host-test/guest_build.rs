//! How the guest is built: the one definition, included by `build.rs` (which
//! builds the component) and by the reproducibility test (which builds the
//! guest again from a copy of the sources elsewhere and compares bytes).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
pub const GUEST_PACKAGE: &str = "get-totp-code";
pub const GUEST_PROFILE: &str = "wasm";

/// The nested `cargo build` of the guest from the workspace at `root` into
/// `target_dir`, with `cargo_home` remapped (see [`remap_path_flags`]).
pub fn guest_build_command(
    cargo: &OsStr,
    root: &Path,
    target_dir: &Path,
    cargo_home: Option<&Path>,
) -> Command {
    let mut command = Command::new(cargo);
    command
        .current_dir(root)
        .args(["build", "--lib", "--package", GUEST_PACKAGE])
        .args(["--target", WASM_TARGET, "--profile", GUEST_PROFILE])
        .env("CARGO_TARGET_DIR", target_dir)
        // Panic locations of dependencies name their sources by absolute
        // path; map the machine's prefixes to fixed ones so the artifact is
        // the same wherever it is built. `--config` arrays are appended to
        // the guest's own rustflags in .cargo/config.toml.
        .args(["--config", &remap_path_flags(root, cargo_home)])
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
    command
}

/// Where that build leaves the core module.
pub fn core_module_path(target_dir: &Path) -> PathBuf {
    target_dir
        .join(WASM_TARGET)
        .join(GUEST_PROFILE)
        .join("get_totp_code.wasm")
}

/// `target.wasm32-unknown-unknown.rustflags` remapping the cargo home
/// (registry and git sources) to `/cargo` and the repository to
/// `/get-totp-code`; the standard library's paths are already `/rustc/...`.
pub fn remap_path_flags(root: &Path, cargo_home: Option<&Path>) -> String {
    let mut remaps = vec![format!(
        "--remap-path-prefix={}=/get-totp-code",
        root.display()
    )];
    if let Some(cargo_home) = cargo_home {
        remaps.push(format!(
            "--remap-path-prefix={}=/cargo",
            cargo_home.display()
        ));
    }
    // Debug formatting quotes and escapes like a TOML basic string.
    let flags: Vec<String> = remaps.iter().map(|flag| format!("{flag:?}")).collect();
    format!("target.{WASM_TARGET}.rustflags=[{}]", flags.join(", "))
}

/// `$CARGO_HOME`, else `$HOME/.cargo`, as cargo itself finds it.
pub fn cargo_home() -> Option<PathBuf> {
    std::env::var_os("CARGO_HOME")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|home| PathBuf::from(home).join(".cargo")))
}
