//! RFC 4648 base32, as authenticator apps show secrets.

use zeroize::Zeroizing;

use super::SecretError;

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
    ::base32::decode(::base32::Alphabet::Rfc4648 { padding: false }, &symbols)
        .map(Zeroizing::new)
        .ok_or(SecretError::InvalidLength {
            symbols: symbols.len(),
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::secret::TotpKey;

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
