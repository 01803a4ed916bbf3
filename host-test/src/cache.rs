//! A per-user cache of the precompiled component, so that a short-lived
//! process (the CLI) deserializes machine code instead of running Cranelift.

use std::hash::{Hash, Hasher};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::error::Context;
use wasmtime::{Engine, Result};

/// The cache file for this component and engine. The name changes with the
/// component's bytes (digest computed at build time) and with everything
/// wasmtime says affects compatibility (its version, target, settings).
pub fn cache_path(engine: &Engine, cache_dir: &Path) -> PathBuf {
    let mut hasher = std::hash::DefaultHasher::new();
    engine.precompile_compatibility_hash().hash(&mut hasher);
    cache_dir.join(format!(
        "get_totp_code-{:016x}-{:016x}.cwasm",
        crate::artifact::COMPONENT_DIGEST,
        hasher.finish()
    ))
}

/// Deserializes the cached artifact, or compiles and stores it.
pub fn load_or_compile(engine: &Engine, cache_dir: &Path) -> Result<Component> {
    let path = cache_path(engine, cache_dir);
    if path.exists() {
        // SAFETY: the file is one this process's code wrote (atomically,
        // below) into the user's own cache directory, for this exact engine
        // configuration; wasmtime checks its header and version too.
        if let Ok(component) = unsafe { Component::deserialize_file(engine, &path) } {
            return Ok(component);
        }
        // Unreadable or stale: fall through and replace it.
    }
    let compiled = engine
        .precompile_component(crate::artifact::COMPONENT_BYTES)
        .context("compiling the get_totp_code component")?;
    store(&path, &compiled);
    // SAFETY: these bytes were produced by `precompile_component` just now.
    unsafe { Component::deserialize(engine, &compiled) }.context("loading the compiled component")
}

/// Best effort: a read-only or full disk only costs the next process a
/// compile. Written to a temporary name and renamed, so a reader never sees
/// a partial file.
fn store(path: &Path, compiled: &[u8]) {
    let Some(dir) = path.parent() else { return };
    if std::fs::create_dir_all(dir).is_err() {
        return;
    }
    let temporary = path.with_extension(format!("tmp{}", std::process::id()));
    if std::fs::write(&temporary, compiled).is_ok() && std::fs::rename(&temporary, path).is_err() {
        let _ = std::fs::remove_file(&temporary);
    }
}

/// `$XDG_CACHE_HOME/totp-host` (`~/.cache/totp-host` on Linux).
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("totp-host"))
}
