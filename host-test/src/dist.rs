//! `totp-host dist`: the files a deployment pins — the component, its
//! standard-WASI builds for third-party hosts, the WIT package it
//! implements (binary WIT), and their SHA-256 sums in the format
//! `sha256sum -c` checks.

use std::path::Path;

use crate::artifact::{COMPONENT_BYTES, STANDARD_BUILDS, WIT_PACKAGE_BYTES, sha256_hex};

/// The component's file name in a dist directory.
pub const COMPONENT_FILE: &str = "get_totp_code.wasm";
/// The binary WIT package's file name in a dist directory.
pub const WIT_PACKAGE_FILE: &str = "get_totp_code.wit.wasm";
/// The checksum file's name.
pub const SUMS_FILE: &str = "SHA256SUMS";

/// A file written by [`write_dist`], with its SHA-256 (hex).
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct DistFile {
    pub name: &'static str,
    pub sha256: String,
    pub size: usize,
}

/// Writes the embedded component, its standard-WASI builds, the WIT package
/// and `SHA256SUMS` into `dir` (created when missing; files of those names
/// are replaced).
pub fn write_dist(dir: &Path) -> std::io::Result<Vec<DistFile>> {
    std::fs::create_dir_all(dir)?;
    let mut files = Vec::new();
    let mut sums = String::new();
    let standard_builds = STANDARD_BUILDS.map(|build| (build.file, build.bytes));
    let all = [(COMPONENT_FILE, COMPONENT_BYTES)]
        .into_iter()
        .chain(standard_builds)
        .chain([(WIT_PACKAGE_FILE, WIT_PACKAGE_BYTES)]);
    for (name, bytes) in all {
        std::fs::write(dir.join(name), bytes)?;
        let sha256 = sha256_hex(bytes);
        // sha256sum's text-mode line: digest, two spaces, file name.
        sums.push_str(&format!("{sha256}  {name}\n"));
        files.push(DistFile {
            name,
            sha256,
            size: bytes.len(),
        });
    }
    std::fs::write(dir.join(SUMS_FILE), sums)?;
    Ok(files)
}
