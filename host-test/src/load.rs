//! Loading a third-party build of the component from a file, refusing it
//! before it runs when it is not the pinned build, not a component, or asks
//! for more than the WIT world grants.

use std::path::{Path, PathBuf};

use wasmtime::component::Component;

use crate::artifact::{NotAComponent, Surface, sha256_hex, world_surface};
use crate::audit::Audit;
use crate::component::TotpTool;
use crate::sandbox::SandboxConfig;

/// Why a component file was refused.
#[derive(Debug, thiserror::Error)]
pub enum LoadError {
    #[error("reading the component {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("the expected SHA-256 {0:?} is not 64 hex digits")]
    BadExpectedDigest(String),
    #[error("the component {path} has SHA-256 {actual}, expected {expected}")]
    DigestMismatch {
        path: PathBuf,
        expected: String,
        actual: String,
    },
    #[error("{path}: {source}")]
    NotAComponent {
        path: PathBuf,
        source: NotAComponent,
    },
    #[error(
        "the component {path} imports {} beyond the get-totp-code world",
        imports.join(", ")
    )]
    ExtraImports { path: PathBuf, imports: Vec<String> },
    /// Compiling or linking failed: invalid code, or an import or export
    /// whose type is not the world's.
    #[error("the component {path} does not fit the get-totp-code world: {source:#}")]
    Incompatible {
        path: PathBuf,
        source: wasmtime::Error,
    },
}

impl TotpTool {
    /// Loads the component at `path` in place of the embedded one. With
    /// `expected_sha256` (hex, any case) its bytes must have that digest; it
    /// must be a component, import nothing beyond the world, and link
    /// against the host imports. It is compiled here, not cached: the
    /// precompiled cache holds only the embedded component.
    pub fn from_file(
        path: &Path,
        expected_sha256: Option<&str>,
        config: SandboxConfig,
        audit: Audit,
    ) -> Result<Self, LoadError> {
        let bytes = std::fs::read(path).map_err(|source| LoadError::Read {
            path: path.to_owned(),
            source,
        })?;
        // The digest first: a pinned deployment parses nothing it did not pin.
        if let Some(expected) = expected_sha256 {
            let expected = normalize_digest(expected)?;
            let actual = sha256_hex(&bytes);
            if actual != expected {
                return Err(LoadError::DigestMismatch {
                    path: path.to_owned(),
                    expected,
                    actual,
                });
            }
        }
        let surface = Surface::read(&bytes).map_err(|source| LoadError::NotAComponent {
            path: path.to_owned(),
            source,
        })?;
        let imports = surface.imports_beyond(&world_surface());
        if !imports.is_empty() {
            return Err(LoadError::ExtraImports {
                path: path.to_owned(),
                imports,
            });
        }
        let incompatible = |source| LoadError::Incompatible {
            path: path.to_owned(),
            source,
        };
        let engine = Self::engine(&config).map_err(incompatible)?;
        let component = Component::new(&engine, &bytes).map_err(incompatible)?;
        Self::from_component(engine, &component, config, audit).map_err(incompatible)
    }
}

/// Lowercase hex of a 64-hex-digit SHA-256, as `sha256_hex` prints it.
fn normalize_digest(digest: &str) -> Result<String, LoadError> {
    let digest = digest.trim();
    if digest.len() == 64 && digest.bytes().all(|b| b.is_ascii_hexdigit()) {
        Ok(digest.to_ascii_lowercase())
    } else {
        Err(LoadError::BadExpectedDigest(digest.to_owned()))
    }
}
