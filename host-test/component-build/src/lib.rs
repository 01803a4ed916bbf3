//! Builds the get_totp_code component for the host crate's `build.rs`, and
//! the guest's core module for the reproducibility test.
//!
//! The pattern of wasmtime's `crates/test-programs/artifacts`: a nested
//! cargo build with its own target dir (the outer one is locked by the
//! build script that calls this), then `wit-component` turns the core
//! module into a component whose only imports are those the WIT world
//! declares. The guest's own flags are in `.cargo/config.toml`; the build
//! adds only path remapping (so the artifact holds no path of this machine)
//! and, after componentizing, the package's metadata.

pub mod compose;
pub mod guest;
pub mod link;
pub mod metadata;
pub mod wit;

use std::env;
use std::path::{Path, PathBuf};

use guest::{GUEST, WasmPackage};
use metadata::Metadata;

/// The WASI provider, reading the environment (`wasi:cli/environment`).
pub const ENVIRONMENT_PROVIDER: WasmPackage = WasmPackage {
    name: "totp-wasi-provider",
    features: &[],
};

/// The WASI provider, reading `wasi:config/store@0.2.0-draft`.
pub const CONFIG_PROVIDER: WasmPackage = WasmPackage {
    name: "totp-wasi-provider",
    features: &["wasi-config"],
};

/// The adapter that re-exports the tool as an Obelisk activity.
pub const OBELISK_ADAPTER: WasmPackage = WasmPackage {
    name: "totp-obelisk-adapter",
    features: &[],
};

/// A build of the tool for a family of third-party hosts: the unchanged
/// tool composed with a provider (and, for Obelisk, the adapter).
#[derive(Debug, Clone, Copy)]
pub struct StandardBuild {
    /// The constant `totp_host::artifact` names it by.
    pub constant: &'static str,
    /// Its file name, in the build output and in `totp-host dist`.
    pub file: &'static str,
    /// The hosts it serves, as `inspect` and the README say.
    pub serves: &'static str,
    pub provider: WasmPackage,
    /// Whether the Obelisk adapter wraps it.
    pub activity: bool,
}

/// One build per family of hosts (they link different versions of the
/// configuration interface, and Obelisk wants an interface export); the
/// provider's code is one source in each.
pub const STANDARD_BUILDS: [StandardBuild; 3] = [
    StandardBuild {
        constant: "WASI_BUILD",
        file: "get_totp_code_wasi.wasm",
        serves: "the wasmtime CLI and WASI 0.2 hosts that pass environment variables \
                 (recent Wassette)",
        provider: ENVIRONMENT_PROVIDER,
        activity: false,
    },
    StandardBuild {
        constant: "OBELISK_BUILD",
        file: "get_totp_code_obelisk.wasm",
        serves: "Obelisk 0.38 activities (environment variables from `env_vars`)",
        provider: ENVIRONMENT_PROVIDER,
        activity: true,
    },
    StandardBuild {
        constant: "WASSETTE_BUILD",
        file: "get_totp_code_wassette.wasm",
        serves: "Wassette 0.2 (secrets through wasi:config/store@0.2.0-draft)",
        provider: CONFIG_PROVIDER,
        activity: false,
    },
];

/// Why the component could not be built.
#[derive(Debug, thiserror::Error)]
pub enum BuildError {
    #[error(transparent)]
    Guest(#[from] guest::BuildError),
    #[error("componentizing {package}: {message}")]
    Componentize {
        package: &'static str,
        message: String,
    },
    #[error(transparent)]
    Metadata(#[from] metadata::MetadataError),
    #[error(transparent)]
    Wit(#[from] wit::WitError),
    #[error(transparent)]
    Compose(#[from] compose::ComposeError),
    #[error("writing {}: {source}", path.display())]
    Write {
        path: PathBuf,
        source: std::io::Error,
    },
}

/// wit-component's component for a core module built by wit-bindgen.
pub fn componentize(package: &WasmPackage, module: &[u8]) -> Result<Vec<u8>, BuildError> {
    wit_component::ComponentEncoder::default()
        .validate(true)
        .module(module)
        .and_then(|encoder| encoder.encode())
        .map_err(|e| BuildError::Componentize {
            package: package.name,
            message: format!("{e:?}"),
        })
}

/// What `build.rs` of the host crate does: builds the component, writes it
/// to `OUT_DIR` and to a stable path beside the nested build, and writes
/// `OUT_DIR/component.rs` with the constants the host includes.
pub fn build_script() {
    if let Err(error) = try_build_script() {
        // A build script reports by failing; the message is the whole story.
        panic!("{error}");
    }
}

fn try_build_script() -> Result<(), BuildError> {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").expect("run by cargo"));
    let root = manifest_dir
        .parent()
        .expect("the host crate is inside the repository")
        .to_path_buf();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("run by cargo"));
    for watched in [
        "src",
        "wit",
        "Cargo.toml",
        "Cargo.lock",
        ".cargo/config.toml",
        "host-test/wasi-provider",
        "host-test/obelisk-adapter",
    ] {
        println!("cargo:rerun-if-changed={}", root.join(watched).display());
    }

    link::pack_relative_relocations();
    guest::ensure_wasm_target()?;
    let target_dir = guest_target_dir(&out_dir);
    let module = guest::build(&GUEST, &root, &target_dir)?;
    let metadata = Metadata::of_package(&root, GUEST.name)?;
    let component = metadata.add_to(&componentize(&GUEST, &module)?)?;
    let (wit_package, world) = wit::encode_package(&root.join("wit"))?;
    let wit_path = out_dir.join("get_totp_code.wit.wasm");
    write(&wit_path, &wit_package)?;

    // One copy for include_bytes!, one at a stable path for the Python and
    // JavaScript hosts and for operators who want the bare .wasm.
    let component_path = out_dir.join("get_totp_code.wasm");
    write(&component_path, &component)?;
    let shared_path = target_dir.join("get_totp_code.component.wasm");
    write(&shared_path, &component)?;
    let mut constants = format!(
        "/// The get_totp_code component, built by host-test/component-build.\n\
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
    );

    // An embedder that ships only the plain component (the Python module)
    // skips building and composing the others: `standard-builds` off.
    if env::var_os("CARGO_FEATURE_STANDARD_BUILDS").is_none() {
        constants.push_str(
            "/// Every standard-WASI build: none (`standard-builds` is off).\n\
             pub const STANDARD_BUILDS: [StandardBuild; 0] = [];\n",
        );
        return write(&out_dir.join("component.rs"), constants.as_bytes());
    }
    let adapter = componentize(
        &OBELISK_ADAPTER,
        &guest::build(&OBELISK_ADAPTER, &root, &target_dir)?,
    )?;
    // Each provider once, though several builds share one.
    let mut providers: Vec<(WasmPackage, Vec<u8>)> = Vec::new();
    for build in STANDARD_BUILDS {
        if !providers
            .iter()
            .any(|(package, _)| *package == build.provider)
        {
            let module = guest::build(&build.provider, &root, &target_dir)?;
            providers.push((build.provider, componentize(&build.provider, &module)?));
        }
    }
    for build in STANDARD_BUILDS {
        let provider = &providers
            .iter()
            .find(|(package, _)| *package == build.provider)
            .expect("built above")
            .1;
        let composed = if build.activity {
            compose::activity_build(&component, provider, &adapter)?
        } else {
            compose::standard_build(&component, provider)?
        };
        let name = build.file.trim_end_matches(".wasm").replace('_', "-");
        let composed = metadata
            .renamed(
                &name,
                format!(
                    "The get_totp_code agent tool over standard WASI, for {}.",
                    build.serves
                ),
            )
            .add_to(&composed)?;
        let path = out_dir.join(build.file);
        write(&path, &composed)?;
        write(&target_dir.join(build.file), &composed)?;
        constants.push_str(&format!(
            "/// The standard-WASI build for {serves}.\n\
             pub const {constant}: StandardBuild = StandardBuild {{\n    \
                 file: {file:?},\n    \
                 serves: {serves:?},\n    \
                 bytes: include_bytes!({path:?}),\n\
             }};\n",
            serves = build.serves,
            constant = build.constant,
            file = build.file,
        ));
    }
    constants.push_str(&format!(
        "/// Every standard-WASI build, in the order `dist` writes them.\n\
         pub const STANDARD_BUILDS: [StandardBuild; {}] = [{}];\n",
        STANDARD_BUILDS.len(),
        STANDARD_BUILDS.map(|build| build.constant).join(", "),
    ));
    write(&out_dir.join("component.rs"), constants.as_bytes())
}

fn write(path: &Path, bytes: &[u8]) -> Result<(), BuildError> {
    std::fs::write(path, bytes).map_err(|source| BuildError::Write {
        path: path.to_owned(),
        source,
    })
}

/// One nested build serves every host profile: `<target>/guest` when
/// OUT_DIR has the usual `<target>/<profile>/build/<pkg>/out` shape.
pub fn guest_target_dir(out_dir: &Path) -> PathBuf {
    out_dir
        .ancestors()
        .nth(4)
        .filter(|target| target.join("CACHEDIR.TAG").exists())
        .map(|target| target.join("guest"))
        .unwrap_or_else(|| out_dir.join("guest"))
}

/// FNV-1a: a stable digest without a dependency, for cache keys only.
fn fnv1a(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |hash, &byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}
