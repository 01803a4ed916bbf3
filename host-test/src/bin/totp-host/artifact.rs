//! `totp-host inspect` and `totp-host dist`: the component as a file.

use std::path::Path;
use std::process::ExitCode;

use totp_host::artifact::{
    COMPONENT_BYTES, STANDARD_BUILDS, Surface, WORLD, sha256_hex, world_surface,
};
use wasmtime::Result;
use wasmtime::error::Context;

/// Prints what the component at `path` (or the embedded one) declares.
/// `world` is the get-totp-code world's name when its imports are within
/// the world's and it exports every tool function, else null. A file that
/// is one of the standard-WASI builds says which and what it serves; the
/// embedded component lists those builds.
pub fn inspect(path: Option<&Path>) -> Result<ExitCode> {
    let bytes = match path {
        Some(path) => std::fs::read(path).with_context(|| format!("reading {}", path.display()))?,
        None => COMPONENT_BYTES.to_vec(),
    };
    let surface = Surface::read(&bytes)?;
    let world = world_surface();
    let fits = surface.imports_beyond(&world).is_empty()
        && world
            .exports
            .iter()
            .all(|name| surface.exports.contains(name));
    let mut out = serde_json::json!({
        "world": fits.then_some(WORLD),
        "imports": surface.imports,
        "exports": surface.exports,
        "metadata": surface.metadata,
        "size": bytes.len(),
        "sha256": sha256_hex(&bytes),
    });
    if let Some(build) = STANDARD_BUILDS.iter().find(|build| build.bytes == bytes) {
        out["standard_build"] = serde_json::json!({"file": build.file, "serves": build.serves});
    }
    if path.is_none() {
        let builds = STANDARD_BUILDS
            .iter()
            .map(|build| {
                let surface = Surface::read(build.bytes)?;
                Ok(serde_json::json!({
                    "file": build.file,
                    "serves": build.serves,
                    "imports": surface.imports,
                    "exports": surface.exports,
                    "size": build.bytes.len(),
                    "sha256": sha256_hex(build.bytes),
                }))
            })
            .collect::<Result<Vec<_>>>()?;
        out["standard_builds"] = builds.into();
    }
    println!("{out:#}");
    Ok(ExitCode::SUCCESS)
}

/// Writes the dist directory and prints its files with their digests.
pub fn dist(out: &Path) -> Result<ExitCode> {
    let files =
        totp_host::dist::write_dist(out).with_context(|| format!("writing {}", out.display()))?;
    println!(
        "{}",
        serde_json::json!({"dir": out.display().to_string(), "files": files})
    );
    Ok(ExitCode::SUCCESS)
}
