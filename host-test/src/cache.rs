//! A per-user cache of the precompiled component, so that a short-lived
//! process (the CLI) deserializes machine code instead of running Cranelift.
//!
//! Deserializing runs whatever native code the file holds, so nothing is
//! deserialized unless it passes [`verify`]: the directory and the file
//! belong to this user and only this user may write them, and the file's
//! keyed digest (HMAC-SHA-256 under the store key, kept beside it as
//! `<file>.mac`) matches, which no one without the key can forge. The bytes
//! checked are the bytes deserialized (read once, into memory). On any
//! mismatch the component is compiled again, the cache replaced, and the
//! reason said on stderr.

use std::hash::{Hash, Hasher};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use wasmtime::component::Component;
use wasmtime::error::Context;
use wasmtime::{Engine, Result};

use crate::store_key::StoreKey;
use crate::util::hex;

/// What the digest of a cache file is for (see [`StoreKey::mac`]).
const MAC_LABEL: &str = "totp-host precompiled component v1";

/// Why a cache file was not used.
#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum Rejection {
    #[error("there is no cached copy yet")]
    Missing,
    #[error("{0} is not owned by this user")]
    NotOwned(PathBuf),
    #[error("{0} is writable by group or others")]
    Writable(PathBuf),
    #[error("{0} cannot be read: {1}")]
    Unreadable(PathBuf, String),
    #[error("{0} does not match its keyed digest")]
    DigestMismatch(PathBuf),
}

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

fn mac_path(path: &Path) -> PathBuf {
    let mut name = path.as_os_str().to_owned();
    name.push(".mac");
    PathBuf::from(name)
}

/// Owned by this process's user, and not writable by group or others.
fn check_owner_and_mode(path: &Path) -> Result<(), Rejection> {
    let metadata = std::fs::symlink_metadata(path)
        .map_err(|e| Rejection::Unreadable(path.to_owned(), e.to_string()))?;
    // SAFETY: getuid has no preconditions and cannot fail.
    let uid = unsafe { libc::getuid() };
    if metadata.uid() != uid {
        return Err(Rejection::NotOwned(path.to_owned()));
    }
    if metadata.mode() & 0o022 != 0 {
        return Err(Rejection::Writable(path.to_owned()));
    }
    Ok(())
}

/// The cache file's bytes, when the directory, the file and its digest
/// pass every check; nothing else is ever deserialized.
pub fn verify(path: &Path, key: &StoreKey) -> Result<Vec<u8>, Rejection> {
    if !path.exists() {
        return Err(Rejection::Missing);
    }
    if let Some(dir) = path.parent() {
        check_owner_and_mode(dir)?;
    }
    check_owner_and_mode(path)?;
    let bytes =
        std::fs::read(path).map_err(|e| Rejection::Unreadable(path.to_owned(), e.to_string()))?;
    let recorded = std::fs::read_to_string(mac_path(path)).unwrap_or_default();
    let expected = hex(&key.mac(MAC_LABEL, &bytes));
    // Not secret, but compared in constant time anyway: it costs nothing.
    let same = recorded.trim().len() == expected.len()
        && recorded
            .trim()
            .bytes()
            .zip(expected.bytes())
            .fold(0u8, |acc, (a, b)| acc | (a ^ b))
            == 0;
    if !same {
        return Err(Rejection::DigestMismatch(path.to_owned()));
    }
    Ok(bytes)
}

/// Deserializes the cached artifact when it verifies, or compiles and
/// stores it.
pub fn load_or_compile(engine: &Engine, cache_dir: &Path, key: &StoreKey) -> Result<Component> {
    let path = cache_path(engine, cache_dir);
    match verify(&path, key) {
        Ok(bytes) => {
            // SAFETY: these bytes are the ones whose keyed digest this user
            // wrote after compiling them with this engine configuration
            // (the file name says so); wasmtime checks its header too.
            if let Ok(component) = unsafe { Component::deserialize(engine, &bytes) } {
                return Ok(component);
            }
        }
        Err(Rejection::Missing) => {}
        Err(rejection) => {
            tracing::warn!("not using the precompiled cache ({rejection}); compiling again")
        }
    }
    let compiled = engine
        .precompile_component(crate::artifact::COMPONENT_BYTES)
        .context("compiling the get_totp_code component")?;
    store(&path, &compiled, key);
    // SAFETY: these bytes were produced by `precompile_component` just now.
    unsafe { Component::deserialize(engine, &compiled) }.context("loading the compiled component")
}

/// Best effort: a read-only or full disk only costs the next process a
/// compile. The directory is made private; the file and its digest are
/// written to temporary names and renamed, so a reader never sees a
/// partial file. A directory this user does not own is left alone.
fn store(path: &Path, compiled: &[u8], key: &StoreKey) {
    let Some(dir) = path.parent() else { return };
    if std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .is_err()
        || check_owner_and_mode(dir).is_err()
    {
        return;
    }
    let write = |target: &Path, bytes: &[u8]| -> std::io::Result<()> {
        let temporary = target.with_extension(format!("tmp{}", std::process::id()));
        let _ = std::fs::remove_file(&temporary);
        let written = std::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temporary)
            .and_then(|mut file| std::io::Write::write_all(&mut file, bytes))
            .and_then(|()| std::fs::rename(&temporary, target));
        if written.is_err() {
            let _ = std::fs::remove_file(&temporary);
        }
        written
    };
    let mac = hex(&key.mac(MAC_LABEL, compiled));
    // The digest first: a reader that sees the new file sees its digest.
    if write(&mac_path(path), mac.as_bytes()).is_ok() {
        let _ = write(path, compiled);
    }
}

/// Signs every cached copy in `cache_dir` that verifies under `old_key`
/// again under `new_key` (a store re-keyed: the copies stay usable without
/// a compile). A copy that does not verify is left as it is: the next
/// process refuses it and compiles. Returns how many were signed again.
pub fn resign(cache_dir: &Path, old_key: &StoreKey, new_key: &StoreKey) -> usize {
    let Ok(entries) = std::fs::read_dir(cache_dir) else {
        return 0;
    };
    let mut resigned = 0;
    for entry in entries.flatten() {
        let path = entry.path();
        if path.extension().is_some_and(|ext| ext == "mac") || !mac_path(&path).exists() {
            continue;
        }
        if let Ok(bytes) = verify(&path, old_key) {
            store(&path, &bytes, new_key);
            if verify(&path, new_key).is_ok() {
                resigned += 1;
            }
        }
    }
    resigned
}

/// `$XDG_CACHE_HOME/totp-host` (`~/.cache/totp-host` on Linux).
pub fn default_cache_dir() -> Option<PathBuf> {
    dirs::cache_dir().map(|dir| dir.join("totp-host"))
}
