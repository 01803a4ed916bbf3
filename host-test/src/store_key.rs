//! Secrets at rest: the store key, and the sealed form of a stored secret.
//!
//! A secret written by this host is `enc:v1:` followed by base64 (standard,
//! padded) of a 24-byte random nonce and the XChaCha20-Poly1305 ciphertext
//! of the secret text, with the username as associated data, so a sealed
//! value copied onto another user's row does not open. Rows that hold plain
//! text (written by operators' scripts) are read as they are.
//!
//! The key is 32 random bytes: from `--key-file PATH`, from the environment
//! variable [`KEY_ENV`] (base64, for containers), or from the per-user file
//! [`default_key_path`], created with mode 0600 on first use. A key file
//! that group or others can read is refused.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, MetadataExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use chacha20poly1305::aead::{Aead, KeyInit, Payload};
use chacha20poly1305::{Key, XChaCha20Poly1305, XNonce};
use hmac::{Hmac, Mac};
use zeroize::Zeroizing;

/// The prefix of a sealed secret, with the format's version.
pub const SEALED_PREFIX: &str = "enc:v1:";

/// The environment variable that may hold the key, base64 of 32 bytes.
pub const KEY_ENV: &str = "TOTP_HOST_KEY";

const KEY_BYTES: usize = 32;
const NONCE_BYTES: usize = 24;

/// Why a key could not be had or a value not opened. Messages name files
/// and causes, never key material or secret text.
#[derive(Debug, thiserror::Error)]
pub enum KeyError {
    #[error("{path}: {source}")]
    Io {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{0}: the key file is readable by group or others; `chmod 600` it")]
    TooOpen(PathBuf),
    #[error("{0}: a key file holds exactly 32 bytes")]
    WrongLength(PathBuf),
    #[error("{KEY_ENV} must be the base64 of exactly 32 bytes")]
    BadEnvironment,
    #[error("no per-user configuration directory; pass --key-file PATH or set {KEY_ENV}")]
    NoDefaultLocation,
    #[error("no randomness available: {0}")]
    NoRandomness(String),
}

/// Why a stored secret could not be opened: the one text the agent gets
/// (`host_error`), whatever the cause, and never any of the value.
#[derive(Debug, thiserror::Error)]
#[error("cannot decrypt the stored secret")]
pub struct CannotDecrypt;

/// The 256-bit store key, wiped from memory when dropped.
pub struct StoreKey {
    key: Zeroizing<[u8; KEY_BYTES]>,
}

impl std::fmt::Debug for StoreKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("StoreKey(<redacted>)")
    }
}

/// `$XDG_CONFIG_HOME/totp-host/store.key` (`~/.config/...` on Linux).
pub fn default_key_path() -> Option<PathBuf> {
    dirs::config_dir().map(|dir| dir.join("totp-host").join("store.key"))
}

impl StoreKey {
    /// A key from bytes (tests, embedders with their own key management).
    pub fn from_bytes(bytes: [u8; KEY_BYTES]) -> Self {
        StoreKey {
            key: Zeroizing::new(bytes),
        }
    }

    /// A fresh random key.
    pub fn generate() -> Result<Self, KeyError> {
        let mut key = Zeroizing::new([0u8; KEY_BYTES]);
        getrandom::fill(&mut key[..]).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
        Ok(StoreKey { key })
    }

    /// The key from `path`, the environment, or the default file, in that
    /// order; `create` makes the file when it is missing. `None` when there
    /// is no key and `create` is false.
    pub fn locate(path: Option<&Path>, create: bool) -> Result<Option<Self>, KeyError> {
        if let Some(path) = path {
            return match (path.exists(), create) {
                (true, _) => Self::read_file(path).map(Some),
                (false, true) => Self::create_file(path).map(Some),
                (false, false) => Ok(None),
            };
        }
        if let Ok(encoded) = std::env::var(KEY_ENV) {
            let bytes = Zeroizing::new(
                BASE64
                    .decode(encoded.trim())
                    .map_err(|_| KeyError::BadEnvironment)?,
            );
            let key: [u8; KEY_BYTES] =
                bytes[..].try_into().map_err(|_| KeyError::BadEnvironment)?;
            return Ok(Some(Self::from_bytes(key)));
        }
        let path = default_key_path().ok_or(KeyError::NoDefaultLocation)?;
        if path.exists() {
            return Self::read_file(&path).map(Some);
        }
        if create {
            return Self::create_file(&path).map(Some);
        }
        Ok(None)
    }

    /// Reads a key file, refusing one that group or others can read.
    pub fn read_file(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        let mut file = File::open(path).map_err(io)?;
        let metadata = file.metadata().map_err(io)?;
        if metadata.mode() & 0o077 != 0 {
            return Err(KeyError::TooOpen(path.to_owned()));
        }
        let mut bytes = Zeroizing::new(Vec::with_capacity(KEY_BYTES + 1));
        Read::by_ref(&mut file)
            .take(KEY_BYTES as u64 + 1)
            .read_to_end(&mut bytes)
            .map_err(io)?;
        let key: [u8; KEY_BYTES] = bytes[..]
            .try_into()
            .map_err(|_| KeyError::WrongLength(path.to_owned()))?;
        Ok(Self::from_bytes(key))
    }

    /// Writes a fresh key to `path` (mode 0600; directories it has to make
    /// are made 0700, an existing one keeps its mode). Never
    /// overwrites: when another process created the file first, its key is
    /// the key. Written aside and linked into place, so a reader never sees
    /// a partial file.
    pub fn create_file(path: &Path) -> Result<Self, KeyError> {
        let io = |source| KeyError::Io {
            path: path.to_owned(),
            source,
        };
        if let Some(dir) = path.parent().filter(|p| !p.as_os_str().is_empty()) {
            // Never a chmod of an existing directory: a key file named in
            // a shared one (/tmp, /etc) must not make it private to us.
            std::fs::DirBuilder::new()
                .recursive(true)
                .mode(0o700)
                .create(dir)
                .map_err(io)?;
        }
        let key = Self::generate()?;
        let aside = path.with_extension(format!("tmp{}", std::process::id()));
        let mut file = OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&aside)
            .map_err(io)?;
        let written = file
            .write_all(&key.key[..])
            .and_then(|()| file.sync_all())
            .and_then(|()| std::fs::hard_link(&aside, path));
        let _ = std::fs::remove_file(&aside);
        match written {
            Ok(()) => Ok(key),
            Err(error) if error.kind() == std::io::ErrorKind::AlreadyExists => {
                Self::read_file(path)
            }
            Err(error) => Err(io(error)),
        }
    }

    fn cipher(&self) -> XChaCha20Poly1305 {
        XChaCha20Poly1305::new(Key::from_slice(&self.key[..]))
    }

    /// The sealed form of `secret` for `username`, with a fresh nonce.
    pub fn seal(&self, username: &str, secret: &str) -> Result<String, KeyError> {
        let mut nonce = [0u8; NONCE_BYTES];
        getrandom::fill(&mut nonce).map_err(|e| KeyError::NoRandomness(e.to_string()))?;
        let ciphertext = self
            .cipher()
            .encrypt(
                XNonce::from_slice(&nonce),
                Payload {
                    msg: secret.as_bytes(),
                    aad: username.as_bytes(),
                },
            )
            .map_err(|_| KeyError::NoRandomness("encryption failed".into()))?;
        let mut sealed = nonce.to_vec();
        sealed.extend_from_slice(&ciphertext);
        Ok(format!("{SEALED_PREFIX}{}", BASE64.encode(sealed)))
    }

    /// The secret text of a sealed value stored for `username`.
    pub fn open(&self, username: &str, sealed: &str) -> Result<Zeroizing<String>, CannotDecrypt> {
        let encoded = sealed.strip_prefix(SEALED_PREFIX).ok_or(CannotDecrypt)?;
        let bytes = BASE64.decode(encoded.trim()).map_err(|_| CannotDecrypt)?;
        if bytes.len() < NONCE_BYTES {
            return Err(CannotDecrypt);
        }
        let (nonce, ciphertext) = bytes.split_at(NONCE_BYTES);
        let plain = Zeroizing::new(
            self.cipher()
                .decrypt(
                    XNonce::from_slice(nonce),
                    Payload {
                        msg: ciphertext,
                        aad: username.as_bytes(),
                    },
                )
                .map_err(|_| CannotDecrypt)?,
        );
        String::from_utf8(plain.to_vec())
            .map(Zeroizing::new)
            .map_err(|_| CannotDecrypt)
    }

    /// A keyed digest (HMAC-SHA-256) of `bytes` for the purpose `label`:
    /// the key is only ever used for one purpose per label.
    pub fn mac(&self, label: &str, bytes: &[u8]) -> [u8; 32] {
        // HMAC takes keys of any length, so this never fails.
        let mut mac = <Hmac<sha2::Sha256> as hmac::KeyInit>::new_from_slice(&self.key[..])
            .expect("HMAC takes keys of any length");
        mac.update(label.as_bytes());
        mac.update(&[0]);
        mac.update(bytes);
        mac.finalize().into_bytes().into()
    }
}

/// Whether a stored value is in the sealed form.
pub fn is_sealed(stored: &str) -> bool {
    stored.starts_with(SEALED_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sealed_values_open_only_for_their_user_and_key() {
        let key = StoreKey::generate().unwrap();
        let sealed = key.seal("agent_a", "JBSWY3DPEHPK3PXP").unwrap();
        assert!(is_sealed(&sealed) && !sealed.contains("JBSWY3DP"));
        assert_eq!(
            key.open("agent_a", &sealed).unwrap().as_str(),
            "JBSWY3DPEHPK3PXP"
        );
        assert!(key.open("agent_b", &sealed).is_err(), "another user's row");
        let other = StoreKey::generate().unwrap();
        assert!(other.open("agent_a", &sealed).is_err(), "another key");
        // A fresh nonce per write.
        assert_ne!(sealed, key.seal("agent_a", "JBSWY3DPEHPK3PXP").unwrap());
        let mut flipped = sealed.clone().into_bytes();
        let last = flipped.len() - 3;
        flipped[last] = if flipped[last] == b'A' { b'B' } else { b'A' };
        assert!(
            key.open("agent_a", std::str::from_utf8(&flipped).unwrap())
                .is_err()
        );
        assert!(key.open("agent_a", "enc:v1:").is_err());
        assert!(key.open("agent_a", "enc:v1:!!").is_err());
    }
}
