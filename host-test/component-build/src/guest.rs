//! How a wasm crate of the workspace is built into a core module: the one
//! definition, used by the component build and by the reproducibility test
//! (which builds the guest again from a copy of the sources elsewhere and
//! compares bytes).

use std::ffi::OsStr;
use std::path::{Path, PathBuf};
use std::process::Command;

pub const WASM_TARGET: &str = "wasm32-unknown-unknown";
/// The root `Cargo.toml`'s profile for every wasm crate.
pub const WASM_PROFILE: &str = "wasm";

/// A crate of the workspace built for [`WASM_TARGET`] into a core module.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WasmPackage {
    /// The package name, as `cargo build --package` takes it.
    pub name: &'static str,
    /// Cargo features to enable (the package's defaults stay on).
    pub features: &'static [&'static str],
}

/// The tool itself: the crate at the repository root.
pub const GUEST: WasmPackage = WasmPackage {
    name: "get-totp-code",
    features: &[],
};

impl WasmPackage {
    /// The core module's file name: the library target's name.
    pub fn module_file(&self) -> String {
        format!("{}.wasm", self.name.replace('-', "_"))
    }

    /// The nested `cargo build` of this package from the workspace at
    /// `root` into `target_dir`, with `cargo_home` remapped (see
    /// [`remap_path_flags`]).
    pub fn build_command(
        &self,
        cargo: &OsStr,
        root: &Path,
        target_dir: &Path,
        cargo_home: Option<&Path>,
    ) -> Command {
        let mut command = Command::new(cargo);
        command
            .current_dir(root)
            .args(["build", "--lib", "--package", self.name])
            .args(["--target", WASM_TARGET, "--profile", WASM_PROFILE]);
        if !self.features.is_empty() {
            command.args(["--features", &self.features.join(",")]);
        }
        command
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
    pub fn core_module_path(&self, target_dir: &Path) -> PathBuf {
        target_dir
            .join(WASM_TARGET)
            .join(WASM_PROFILE)
            .join(self.module_file())
    }
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

/// Builds `package` with the cargo running this build, into `target_dir`;
/// returns the core module's bytes (read at once: builds of the same
/// package with other features write the same path).
pub fn build(package: &WasmPackage, root: &Path, target_dir: &Path) -> Result<Vec<u8>, BuildError> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let status = package
        .build_command(&cargo, root, target_dir, cargo_home().as_deref())
        .status()
        .map_err(|source| BuildError::Cargo {
            package: package.name,
            source,
        })?;
    if !status.success() {
        return Err(BuildError::Failed {
            package: package.name,
            status,
        });
    }
    let path = package.core_module_path(target_dir);
    std::fs::read(&path).map_err(|source| BuildError::Read { path, source })
}

/// Why a nested wasm build gave no module.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error("could not run cargo to build {package}: {source}")]
    Cargo {
        package: &'static str,
        source: std::io::Error,
    },
    #[error("building {package} for {WASM_TARGET} failed ({status})")]
    Failed {
        package: &'static str,
        status: std::process::ExitStatus,
    },
    #[error("reading {}: {source}", path.display())]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error(
        "the {WASM_TARGET} Rust target is missing and `rustup target add {WASM_TARGET}` {0}; \
         install the target's standard library and build again"
    )]
    MissingTarget(String),
}

/// The README promises a first build on a machine with only Rust: the wasm
/// crates need the wasm target's standard library, and rustup's
/// auto-install is often off, so add it once (or say plainly how to).
pub fn ensure_wasm_target() -> Result<(), BuildError> {
    let rustc = std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into());
    let libdir = Command::new(&rustc)
        .args(["--print", "target-libdir", "--target", WASM_TARGET])
        .output()
        .ok()
        .filter(|out| out.status.success())
        .map(|out| PathBuf::from(String::from_utf8_lossy(&out.stdout).trim()));
    if libdir.is_some_and(|dir| has_std(&dir)) {
        return Ok(());
    }
    println!(
        "cargo:warning=installing the {WASM_TARGET} target with rustup (needed to build the component)"
    );
    match Command::new("rustup")
        .args(["target", "add", WASM_TARGET])
        .status()
    {
        Ok(status) if status.success() => Ok(()),
        Ok(status) => Err(BuildError::MissingTarget(format!("failed ({status})"))),
        Err(err) => Err(BuildError::MissingTarget(format!("could not run ({err})"))),
    }
}

fn has_std(libdir: &Path) -> bool {
    std::fs::read_dir(libdir).is_ok_and(|entries| {
        entries
            .flatten()
            .any(|e| e.file_name().to_string_lossy().starts_with("libstd-"))
    })
}
