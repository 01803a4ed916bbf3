//! The metadata sections every built component carries: the package's own
//! name, version, description and licences (read with `cargo metadata`, so
//! Cargo.toml stays the one place they are written) and the commit it was
//! built from.

use std::path::Path;
use std::process::Command;

use wasm_metadata::AddMetadataField::Set;

/// What `wasm-metadata` writes into a component.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Metadata {
    pub name: String,
    pub version: Option<String>,
    pub description: Option<String>,
    pub license: Option<String>,
    pub repository: Option<String>,
    pub revision: Option<String>,
}

/// Why the metadata could not be read or written.
#[derive(Debug, thiserror::Error)]
pub enum MetadataError {
    #[error("cargo metadata: {0}")]
    Cargo(String),
    #[error("cargo metadata lists no package {0}")]
    NoPackage(String),
    #[error("the package's {field} {value:?}: {message}")]
    Field {
        field: &'static str,
        value: String,
        message: String,
    },
    #[error("adding metadata to the component: {0}")]
    Write(String),
}

impl Metadata {
    /// The metadata of workspace package `package` at `root`.
    pub fn of_package(root: &Path, package: &str) -> Result<Self, MetadataError> {
        let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
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
            .map_err(|e| MetadataError::Cargo(e.to_string()))?;
        if !output.status.success() {
            return Err(MetadataError::Cargo(
                String::from_utf8_lossy(&output.stderr).into_owned(),
            ));
        }
        let metadata: serde_json::Value = serde_json::from_slice(&output.stdout)
            .map_err(|e| MetadataError::Cargo(e.to_string()))?;
        let entry = metadata["packages"]
            .as_array()
            .and_then(|packages| packages.iter().find(|p| p["name"] == package))
            .ok_or_else(|| MetadataError::NoPackage(package.to_owned()))?;
        let field = |key: &str| entry[key].as_str().map(str::to_owned);
        Ok(Metadata {
            name: package.to_owned(),
            version: field("version"),
            description: field("description"),
            license: field("license"),
            repository: field("repository"),
            revision: git_revision(root),
        })
    }

    /// The same metadata under another component name (a composition is
    /// named for the hosts it serves, and versioned with the tool).
    pub fn renamed(&self, name: &str, description: String) -> Self {
        Metadata {
            name: name.to_owned(),
            description: Some(description),
            ..self.clone()
        }
    }

    /// `component` with these sections added.
    pub fn add_to(&self, component: &[u8]) -> Result<Vec<u8>, MetadataError> {
        let field_error = |field, value: &str, e: &dyn std::fmt::Display| MetadataError::Field {
            field,
            value: value.to_owned(),
            message: e.to_string(),
        };
        let mut metadata = wasm_metadata::AddMetadata::default();
        metadata.name = Set(self.name.clone());
        if let Some(version) = &self.version {
            metadata.version = Set(wasm_metadata::Version::new(version.clone()));
        }
        if let Some(description) = &self.description {
            metadata.description = Set(wasm_metadata::Description::new(description.clone()));
        }
        if let Some(license) = &self.license {
            let licenses = wasm_metadata::Licenses::new(license)
                .map_err(|e| field_error("license", license, &e))?;
            metadata.licenses = Set(licenses);
        }
        // No repository URL is declared; when Cargo.toml gets one, it is the source.
        if let Some(repository) = &self.repository {
            let source = wasm_metadata::Source::new(repository)
                .map_err(|e| field_error("repository", repository, &e))?;
            metadata.source = Set(source);
        }
        if let Some(revision) = &self.revision {
            metadata.revision = Set(wasm_metadata::Revision::new(revision.clone()));
        }
        metadata
            .to_wasm(component)
            .map_err(|e| MetadataError::Write(format!("{e:?}")))
    }
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
