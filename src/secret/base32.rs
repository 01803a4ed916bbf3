//! RFC 4648 base32, as authenticator apps show secrets.
//!
//! One pass over the text into a buffer sized for the result, eight symbols
//! at a time while the text is whole groups of symbols (as stored secrets
//! mostly are), then one at a time: every call decodes a secret, and the
//! two-pass form (filter into a string, then the `base32` crate) was a
//! tenth of a warm call in the profile, the byte-at-a-time loop alone still
//! 8 % (see host-test/bench/README.md). The `base32` crate stays the
//! oracle: the fuzz target `base32` compares the two on every input it
//! decodes.

use zeroize::Zeroizing;

use super::SecretError;

/// What a byte of stored text is to the decoder.
const INVALID: u8 = 0xff;
const SKIP: u8 = 0xfe;
const PAD: u8 = 0xfd;

/// Each byte's 5-bit value (either case), or INVALID, SKIP or PAD.
const SYMBOLS: [u8; 256] = {
    let mut table = [INVALID; 256];
    let mut i = 0;
    while i < 26 {
        table[b'A' as usize + i] = i as u8;
        table[b'a' as usize + i] = i as u8;
        i += 1;
    }
    let mut i = 0;
    while i < 6 {
        table[b'2' as usize + i] = 26 + i as u8;
        i += 1;
    }
    table[b' ' as usize] = SKIP;
    table[b'\t' as usize] = SKIP;
    table[b'\r' as usize] = SKIP;
    table[b'\n' as usize] = SKIP;
    table[b'=' as usize] = PAD;
    table
};

/// Decodes RFC 4648 base32 the way authenticator apps accept it: upper or
/// lower case, `=` padding optional, spaces (as apps display secrets in
/// groups) ignored. Lengths that cannot encode whole bytes are refused, as
/// pyotp and Python's `b32decode` refuse them; the unused low bits of a
/// final partial group are ignored, as the `base32` crate ignores them.
pub fn decode_base32(text: &str) -> Result<Zeroizing<Vec<u8>>, SecretError> {
    let input = text.as_bytes();
    // Sized once for the longest result and written by index: a push that
    // reallocated would leave a copy of key bytes behind that nothing
    // zeroizes, and a `Vec` pushed to is kept in memory, not in locals.
    let mut bytes = Zeroizing::new(vec![0u8; input.len() / 8 * 5 + 5]);
    // Whole groups of eight symbols, 40 bits each, as stored secrets mostly
    // are. The first group holding anything else (a space, padding, an
    // invalid byte) and what follows it go through the loop below.
    let mut written = 0;
    for group in input.chunks_exact(8) {
        let Some(bits) = group_bits(group) else { break };
        bytes[written..written + 5].copy_from_slice(&bits.to_be_bytes()[3..]);
        written += 5;
    }
    // Every group wrote five bytes for its eight symbols.
    let done = written / 5 * 8;
    // Bits not yet written out: at most 12 (7 left over plus 5 new).
    let mut pending: u32 = 0;
    let mut pending_bits = 0u32;
    let mut symbols = done;
    let mut padding_seen = false;
    for (position, &byte) in input.iter().enumerate().skip(done) {
        match SYMBOLS[usize::from(byte)] {
            SKIP => {}
            PAD => padding_seen = true,
            INVALID => return Err(SecretError::InvalidCharacter { position }),
            _ if padding_seen => return Err(SecretError::MisplacedPadding),
            value => {
                symbols += 1;
                pending = (pending << 5) | u32::from(value);
                pending_bits += 5;
                if pending_bits >= 8 {
                    pending_bits -= 8;
                    bytes[written] = (pending >> pending_bits) as u8;
                    written += 1;
                    pending &= (1 << pending_bits) - 1;
                }
            }
        }
    }
    if symbols == 0 {
        return Err(SecretError::Empty);
    }
    // 8 symbols carry 5 bytes; a final group of 1, 3 or 6 symbols leaves a
    // partial byte that no encoder produces.
    if matches!(symbols % 8, 1 | 3 | 6) {
        return Err(SecretError::InvalidLength { symbols });
    }
    // Only zeros are cut off; dropping `bytes` still zeroizes it whole.
    bytes.truncate(written);
    Ok(bytes)
}

/// The 40 bits of a group of eight symbols, or `None` when any byte of it
/// is not a symbol. Written out rather than looped: the guest is built
/// without loop unrolling, and each iteration would cost a deadline check.
fn group_bits(group: &[u8]) -> Option<u64> {
    let &[a, b, c, d, e, f, g, h] = group else {
        return None;
    };
    let value = |byte: u8| u64::from(SYMBOLS[usize::from(byte)]);
    let [a, b, c, d, e, f, g, h] = [
        value(a),
        value(b),
        value(c),
        value(d),
        value(e),
        value(f),
        value(g),
        value(h),
    ];
    // Symbols are 0..=31; INVALID, SKIP and PAD all have a higher bit set.
    if (a | b | c | d | e | f | g | h) >= 32 {
        return None;
    }
    Some(a << 35 | b << 30 | c << 25 | d << 20 | e << 15 | f << 10 | g << 5 | h)
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

    /// The eight-symbol groups and the byte loop meet wherever a space,
    /// padding or a bad byte first appears.
    #[test]
    fn groups_and_byte_loop_agree_at_every_boundary() {
        let secret = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQGE";
        let canonical = decode_base32(secret).unwrap();
        assert_eq!(canonical.len(), 21);
        for cut in 0..=secret.len() {
            let (head, tail) = secret.split_at(cut);
            let spaced = format!("{head} {tail}");
            assert_eq!(decode_base32(&spaced).unwrap(), canonical, "{spaced:?}");
            let bad = format!("{head}!{tail}");
            assert_eq!(
                decode_base32(&bad),
                Err(SecretError::InvalidCharacter { position: cut }),
                "{bad:?}"
            );
        }
        assert_eq!(
            decode_base32("GEZDGNBVGY3TQOJQ=GEZDGNBV"),
            Err(SecretError::MisplacedPadding)
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
