//! Stored TOTP secrets: from the text a host returns to key bytes and
//! generator parameters.
//!
//! Every buffer that holds secret material is zeroized on drop, and no error
//! or `Debug` output ever contains any of it.

use zeroize::Zeroizing;

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
        if crate::otpauth::is_uri(stored) {
            return crate::otpauth::parse(stored);
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

/// Decodes RFC 4648 base32 the way authenticator apps accept it: upper or
/// lower case, `=` padding optional, spaces (as apps display secrets in
/// groups) ignored. Lengths that cannot encode whole bytes are refused, as
/// pyotp and Python's `b32decode` refuse them.
pub fn decode_base32(text: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    let mut symbols = Zeroizing::new(String::with_capacity(text.len()));
    let mut padding_seen = false;
    for (position, byte) in text.bytes().enumerate() {
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'=' => padding_seen = true,
            b'A'..=b'Z' | b'2'..=b'7' if !padding_seen => symbols.push(char::from(byte)),
            b'a'..=b'z' if !padding_seen => symbols.push(char::from(byte.to_ascii_uppercase())),
            b'A'..=b'Z' | b'a'..=b'z' | b'2'..=b'7' => return Err(SecretError::MisplacedPadding),
            _ => return Err(SecretError::InvalidCharacter { position }),
        }
    }
    if symbols.is_empty() {
        return Err(SecretError::Empty);
    }
    // 8 symbols carry 5 bytes; a final group of 1, 3 or 6 symbols leaves a
    // partial byte that no encoder produces.
    if matches!(symbols.len() % 8, 1 | 3 | 6) {
        return Err(SecretError::InvalidLength {
            symbols: symbols.len(),
        });
    }
    base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &symbols)
        .map(Zeroizing::new)
        .ok_or(SecretError::InvalidLength {
            symbols: symbols.len(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4648 §10 test vectors, decoding direction.
    #[test]
    fn base32_rfc4648_section_10() {
        let table = [
            ("", None),
            ("MY======", Some("f")),
            ("MZXQ====", Some("fo")),
            ("MZXW6===", Some("foo")),
            ("MZXW6YQ=", Some("foob")),
            ("MZXW6YTB", Some("fooba")),
            ("MZXW6YTBOI======", Some("foobar")),
        ];
        for (encoded, decoded) in table {
            let got = decode_base32(encoded).ok().map(|bytes| bytes.to_vec());
            assert_eq!(got, decoded.map(|s| s.as_bytes().to_vec()), "{encoded:?}");
        }
    }

    #[test]
    fn lenient_forms_decode_alike() {
        let canonical = decode_base32("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ").unwrap();
        for form in [
            "gezdgnbvgy3tqojqgezdgnbvgy3tqojq",
            "GEZD GNBV GY3T QOJQ GEZD GNBV GY3T QOJQ",
            "gezd gnbv gy3t qojq\tgezd gnbv gy3t qojq\n",
        ] {
            assert_eq!(decode_base32(form).unwrap(), canonical, "{form:?}");
        }
        assert_eq!(
            decode_base32("MZXW6").unwrap(),
            decode_base32("MZXW6===").unwrap()
        );
    }

    #[test]
    fn invalid_forms_are_typed_errors() {
        assert_eq!(decode_base32("   "), Err(SecretError::Empty));
        assert_eq!(decode_base32("===="), Err(SecretError::Empty));
        assert_eq!(
            decode_base32("MZXW1YQ"),
            Err(SecretError::InvalidCharacter { position: 4 })
        );
        assert_eq!(decode_base32("MZ=XW6"), Err(SecretError::MisplacedPadding));
        assert_eq!(
            decode_base32("MZXW6YTBO"),
            Err(SecretError::InvalidLength { symbols: 9 })
        );
    }

    #[test]
    fn errors_and_debug_never_show_secret_material() {
        let secret = "JBSWY3DPEHPK3PXP!";
        let err = decode_base32(secret).unwrap_err().to_string();
        assert!(!err.contains("JBSW"), "{err}");
        let key = TotpKey::parse("JBSWY3DPEHPK3PXP").unwrap();
        let debug = format!("{key:?}");
        assert!(debug.contains("redacted"), "{debug}");
        assert!(!debug.contains('['), "{debug}"); // no byte list
    }
}

#[cfg(test)]
mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever bytes a key has, its base32 form decodes back to them in
        /// every form authenticator apps show it.
        #[test]
        fn base32_round_trips_in_lenient_forms(key in proptest::collection::vec(any::<u8>(), 1..64)) {
            let encoded = base32::encode(base32::Alphabet::Rfc4648 { padding: true }, &key);
            let bare = encoded.trim_end_matches('=');
            let grouped: String = bare
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap().to_lowercase())
                .collect::<Vec<_>>()
                .join(" ");
            for form in [encoded.as_str(), bare, grouped.as_str()] {
                prop_assert_eq!(decode_base32(form).unwrap().to_vec(), key.clone());
            }
        }

        /// Any text decodes or fails with a typed error that quotes no part
        /// of it.
        #[test]
        fn errors_never_quote_the_input(text in "[A-Za-z2-7= !1#-]{8,80}") {
            if let Err(error) = TotpKey::parse(&text) {
                let message = error.to_string();
                for window in text.as_bytes().windows(8) {
                    let piece = std::str::from_utf8(window).unwrap();
                    prop_assert!(!message.contains(piece), "{} in {}", piece, message);
                }
            }
        }
    }
}
