//! `totp-host inspect` and `totp-host dist`: the component as a file.

use std::path::Path;
use std::process::ExitCode;

use totp_host::artifact::{COMPONENT_BYTES, Surface, WORLD, sha256_hex, world_surface};
use wasmtime::Result;
use wasmtime::error::Context;

/// Prints what the component at `path` (or the embedded one) declares.
/// `world` is the get-totp-code world's name when its imports are within
/// the world's and it exports every tool function, else null.
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
    let out = serde_json::json!({
        "world": fits.then_some(WORLD),
        "imports": surface.imports,
        "exports": surface.exports,
        "metadata": surface.metadata,
        "size": bytes.len(),
        "sha256": sha256_hex(&bytes),
    });
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
