//! Stored TOTP secrets: from the text a host returns to key bytes and
//! generator parameters.
//!
//! Every buffer that holds secret material is zeroized on drop, and no error
//! or `Debug` output ever contains any of it.

mod base32;
pub mod otpauth;

use zeroize::Zeroizing;

pub use self::base32::decode_base32;
use crate::otp::TotpParams;

/// Why a stored secret cannot be used. Messages name the problem and, where
/// it helps, a position; never a character of the secret.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SecretError {
    #[error("the secret is empty")]
    Empty,
    #[error("the secret is not valid base32: unexpected character at position {position}")]
    InvalidCharacter { position: usize },
    #[error("the secret is not valid base32: '=' padding may only end it")]
    MisplacedPadding,
    #[error("the secret is not valid base32: {symbols} symbols do not make whole bytes")]
    InvalidLength { symbols: usize },
    #[error("not an otpauth:// URI")]
    NotAUri,
    #[error(
        "otpauth://hotp/ secrets are not supported: a stateless tool cannot keep an HOTP counter"
    )]
    HotpUnsupported,
    #[error("the otpauth:// URI has an unknown OTP type (expected totp)")]
    UnknownOtpType,
    #[error("the otpauth:// URI has no 'secret' parameter")]
    MissingSecret,
    #[error("the otpauth:// URI has more than one '{0}' parameter")]
    DuplicateParameter(&'static str),
    #[error("the otpauth:// URI's 'algorithm' must be SHA1, SHA256 or SHA512")]
    UnknownAlgorithm,
    #[error("the otpauth:// URI's 'digits' must be 6, 7 or 8")]
    InvalidDigits,
    #[error("the otpauth:// URI's 'period' must be a whole number of seconds above 0")]
    InvalidPeriod,
    #[error("the otpauth:// URI's 'issuer' parameter differs from the issuer in its label")]
    IssuerMismatch,
    #[error("the otpauth:// URI has bad percent-encoding in {0}")]
    BadEncoding(&'static str),
}

impl SecretError {
    /// A well-formed secret of a kind this tool does not generate codes for,
    /// as opposed to a malformed one.
    pub fn is_unsupported(&self) -> bool {
        matches!(self, SecretError::HotpUnsupported)
    }
}

/// A decoded secret key and the generator parameters that go with it.
pub struct TotpKey {
    key: Zeroizing<Vec<u8>>,
    pub params: TotpParams,
}

impl TotpKey {
    pub fn new(key: Zeroizing<Vec<u8>>, params: TotpParams) -> Self {
        TotpKey { key, params }
    }

    /// The raw key bytes (the HMAC key).
    pub fn key(&self) -> &[u8] {
        &self.key
    }

    /// Parses a stored secret: an `otpauth://` URI, or bare base32 for
    /// SHA-1, 6 digits, 30 seconds.
    pub fn parse(stored: &str) -> Result<TotpKey, SecretError> {
        if otpauth::is_uri(stored) {
            return otpauth::parse(stored);
        }
        Ok(TotpKey::new(decode_base32(stored)?, TotpParams::default()))
    }
}

impl core::fmt::Debug for TotpKey {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("TotpKey")
            .field("key", &format_args!("<{} bytes redacted>", self.key.len()))
            .field("params", &self.params)
            .finish()
    }
}
