//! HOTP (RFC 4226) and TOTP (RFC 6238) over RustCrypto's HMAC.
//!
//! Pure functions of key, counter or time: no clock, no I/O, so the same code
//! runs in the component, in native unit tests, fuzzers and benchmarks.

use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};

/// The HMAC hash function of a TOTP secret (RFC 6238 §1.2).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Algorithm {
    #[default]
    Sha1,
    Sha256,
    Sha512,
}

impl Algorithm {
    /// The name the Key URI Format and the tool's JSON use.
    pub fn name(self) -> &'static str {
        match self {
            Algorithm::Sha1 => "SHA1",
            Algorithm::Sha256 => "SHA256",
            Algorithm::Sha512 => "SHA512",
        }
    }
}

/// The parameters of a TOTP generator, with RFC 6238's defaults.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct TotpParams {
    pub algorithm: Algorithm,
    /// Code length, 6 to 8 (RFC 4226 §5.3 allows 6 and more; 8 fits `u32`).
    pub digits: u8,
    /// Time step X in seconds; never zero.
    pub period: u64,
}

impl TotpParams {
    pub const MIN_DIGITS: u8 = 6;
    pub const MAX_DIGITS: u8 = 8;
}

impl Default for TotpParams {
    fn default() -> Self {
        TotpParams {
            algorithm: Algorithm::Sha1,
            digits: 6,
            period: 30,
        }
    }
}

/// A one-time code: its decimal value and how many digits to show.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Code {
    value: u32,
    digits: u8,
}

impl Code {
    pub fn value(self) -> u32 {
        self.value
    }

    /// The code's text, zero-padded to its digit count (at most ten, the
    /// most a `u32` has; codes have 6 to 8) as authenticator apps show it.
    /// Written digit by digit rather than through core::fmt, whose padding
    /// machinery and indirect calls cost a call more than the digits
    /// themselves (see host-test/bench/README.md).
    pub fn text(self) -> CodeText {
        let mut bytes = [b'0'; CodeText::CAPACITY];
        let mut start = bytes.len();
        let mut value = self.value;
        while value > 0 {
            start -= 1;
            // `value % 10` is below 10: the cast cannot truncate.
            bytes[start] = b'0' + (value % 10) as u8;
            value /= 10;
        }
        // At least one digit, as core::fmt writes zero.
        let padded = bytes.len() - usize::from(self.digits.max(1)).min(bytes.len());
        CodeText {
            bytes,
            start: start.min(padded),
        }
    }
}

/// A code's decimal text, on the stack (see [`Code::text`]).
#[derive(Clone, Copy)]
pub struct CodeText {
    bytes: [u8; CodeText::CAPACITY],
    start: usize,
}

impl CodeText {
    /// Digits of the largest `u32`.
    const CAPACITY: usize = 10;

    pub fn as_str(&self) -> &str {
        // ASCII digits only, so this never falls back.
        core::str::from_utf8(&self.bytes[self.start..]).unwrap_or_default()
    }
}

/// Zero-padded to its digit count, as authenticator apps show it.
impl core::fmt::Display for Code {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.text().as_str())
    }
}

/// Codes are short-lived credentials too: keep them out of debug output.
impl core::fmt::Debug for Code {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        write!(f, "Code({} digits)", self.digits)
    }
}

/// A TOTP code together with the seconds left in its time step.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Totp {
    pub code: Code,
    /// Whole seconds until the next time step, `1..=period`.
    pub expires_in: u64,
}

/// RFC 4226 §5.3: HMAC the big-endian counter, dynamically truncate, reduce
/// to `digits` decimal digits.
pub fn hotp(key: &[u8], counter: u64, digits: u8, algorithm: Algorithm) -> Code {
    debug_assert!((TotpParams::MIN_DIGITS..=TotpParams::MAX_DIGITS).contains(&digits));
    let message = counter.to_be_bytes();
    let truncated = match algorithm {
        Algorithm::Sha1 => truncate::<Hmac<sha1::Sha1>>(key, &message),
        Algorithm::Sha256 => truncate::<Hmac<sha2::Sha256>>(key, &message),
        Algorithm::Sha512 => truncate::<Hmac<sha2::Sha512>>(key, &message),
    };
    Code {
        value: truncated % 10u32.pow(u32::from(digits)),
        digits,
    }
}

/// RFC 6238 §4.2 with T0 = 0: the counter is the number of whole periods
/// since the Unix epoch.
pub fn totp(key: &[u8], params: TotpParams, unix_seconds: u64) -> Totp {
    let period = params.period.max(1);
    Totp {
        code: hotp(key, unix_seconds / period, params.digits, params.algorithm),
        expires_in: period - unix_seconds % period,
    }
}

/// The HMAC and the dynamic truncation of RFC 4226 §5.4. The offset is taken
/// from the last byte of the MAC, whatever its length (RFC 6238's SHA-256 and
/// SHA-512 vectors rely on this).
fn truncate<M: Mac + KeyInit>(key: &[u8], message: &[u8]) -> u32 {
    // HMAC takes keys of any length, so this arm is never taken; returning a
    // MAC of the empty key keeps the function total without a panic path.
    let mut mac =
        <M as KeyInit>::new_from_slice(key).unwrap_or_else(|_| M::new(&Default::default()));
    mac.update(message);
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[digest.len() - 1] & 0x0f);
    let word = [
        digest[offset],
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ];
    u32::from_be_bytes(word) & 0x7fff_ffff
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 4226 Appendix D: HOTP values for counters 0..=9.
    #[test]
    fn hotp_sha1_rfc4226_appendix_d() {
        let key = b"12345678901234567890";
        let expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, want) in expected.into_iter().enumerate() {
            let code = hotp(key, counter as u64, 6, Algorithm::Sha1);
            assert_eq!(code.value(), want, "counter {counter}");
        }
    }

    /// RFC 4226 Appendix D: the truncated 31-bit values, before reduction.
    #[test]
    fn truncate_sha1_rfc4226_appendix_d() {
        let key = b"12345678901234567890";
        let expected: [u32; 3] = [1284755224, 1094287082, 137359152];
        for (counter, want) in expected.into_iter().enumerate() {
            let got = truncate::<Hmac<sha1::Sha1>>(key, &(counter as u64).to_be_bytes());
            assert_eq!(got, want);
        }
    }

    /// RFC 6238 Appendix B, every algorithm, from the project's one copy of
    /// the table (`host-test/conformance/rfc6238_appendix_b.json`).
    #[test]
    fn totp_all_algorithms_rfc6238_appendix_b() {
        let table: serde_json::Value = serde_json::from_str(include_str!(
            "../host-test/conformance/rfc6238_appendix_b.json"
        ))
        .unwrap();
        let digits = table["digits"].as_u64().unwrap() as u8;
        let period = table["period"].as_u64().unwrap();
        let vectors = table["vectors"].as_array().unwrap();
        assert_eq!(vectors.len(), 6);
        for algorithm in [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512] {
            let key = table["keys"][algorithm.name()].as_str().unwrap().as_bytes();
            let params = TotpParams {
                algorithm,
                digits,
                period,
            };
            for vector in vectors {
                let time = vector["time"].as_u64().unwrap();
                let got = totp(key, params, time).code.to_string();
                assert_eq!(got, vector[algorithm.name()], "{algorithm:?} at {time}");
            }
        }
    }

    #[test]
    fn code_display_pads_to_digit_count() {
        let code = Code {
            value: 7081804,
            digits: 8,
        };
        assert_eq!(code.to_string(), "07081804");
        assert_eq!(
            Code {
                value: 42,
                digits: 6
            }
            .to_string(),
            "000042"
        );
    }

    /// `Code::text` against core::fmt's `{:0width$}` as the oracle: every
    /// digit count, values at each power of ten's edges (zero, padding
    /// boundaries, more digits than the count) and a spread between.
    #[test]
    fn code_text_matches_core_fmt_padding() {
        let mut values = vec![0, 1, 9, u32::MAX, u32::MAX - 1];
        let mut power = 1u32;
        while let Some(next) = power.checked_mul(10) {
            values.extend([power - 1, power, power + 1, next - 1]);
            power = next;
        }
        values.extend((0..10_000u32).map(|i| i.wrapping_mul(2_654_435_761)));
        // Up to ten digits, the most a u32 has (codes have 6 to 8).
        for digits in 0..=10u8 {
            for &value in &values {
                let code = Code { value, digits };
                let width = usize::from(digits);
                assert_eq!(
                    code.text().as_str(),
                    format!("{value:0width$}"),
                    "{value} in {digits} digits"
                );
            }
        }
    }

    #[test]
    fn code_debug_hides_the_value() {
        let code = Code {
            value: 123456,
            digits: 6,
        };
        assert!(!format!("{code:?}").contains("123456"));
    }

    #[test]
    fn expires_in_counts_down_to_the_boundary() {
        let key = b"12345678901234567890";
        let params = TotpParams::default();
        assert_eq!(totp(key, params, 0).expires_in, 30);
        assert_eq!(totp(key, params, 1).expires_in, 29);
        assert_eq!(totp(key, params, 29).expires_in, 1);
        assert_eq!(totp(key, params, 30).expires_in, 30);
        assert_eq!(totp(key, params, u64::MAX).expires_in, 30 - u64::MAX % 30);
    }
}
