//! `decode_base32` and `TotpKey::parse` on arbitrary text, on arbitrary
//! strings of base32 symbols, and on base32 forms of arbitrary keys. The
//! `base32` crate is the oracle of the decoded bytes.

use crate::generators::Base32Form;
use crate::oracles::{fixed_messages, leaked_window};
use arbitrary::Arbitrary;
use get_totp_code::secret::{SecretError, TotpKey, decode_base32};

#[derive(Arbitrary, Debug)]
pub enum Input<'a> {
    Text(&'a str),
    /// Each byte picks a symbol (either case), a space or `=`: text that
    /// mostly decodes, final partial groups with any low bits included.
    Symbols(Vec<u8>),
    Form(Base32Form),
}

/// The `base32` crate's decoding of the text's symbols (the form the
/// guest used before its one-pass decoder).
fn oracle(text: &str) -> Option<Vec<u8>> {
    let symbols: String = text
        .chars()
        .filter(|c| !matches!(c, ' ' | '\t' | '\r' | '\n' | '='))
        .map(|c| c.to_ascii_uppercase())
        .collect();
    base32::decode(base32::Alphabet::Rfc4648 { padding: false }, &symbols)
}

/// `Symbols`' text: a symbol for most bytes, now and then a space or `=`.
fn symbol_text(choices: &[u8]) -> String {
    const ALPHABET: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
    choices
        .iter()
        .map(|&b| match b {
            0..=3 => ' ',
            4 => '=',
            _ if b & 0x80 != 0 => char::from(ALPHABET[usize::from(b % 32)]).to_ascii_lowercase(),
            _ => char::from(ALPHABET[usize::from(b % 32)]),
        })
        .collect()
}

/// `decode_base32` against the reference model and, when it decodes,
/// against the oracle's bytes.
fn check_decode(text: &str) {
    match (decode_base32(text), reference(text)) {
        (Ok(bytes), Ok(len)) => {
            assert_eq!(bytes.len(), len, "{text:?}");
            assert_eq!(Some(bytes.to_vec()), oracle(text), "{text:?}");
        }
        (Err(got), Err(want)) => assert_eq!(got, want, "{text:?}"),
        (got, want) => panic!(
            "{text:?}: got {:?}, want {want:?}",
            got.as_ref().map(|b| b.len())
        ),
    }
}

/// The specification of `decode_base32`, independently: what it must
/// answer, and the decoded length when it succeeds.
fn reference(text: &str) -> Result<usize, SecretError> {
    let mut symbols = 0usize;
    let mut padding = false;
    for (position, byte) in text.bytes().enumerate() {
        match byte {
            b' ' | b'\t' | b'\r' | b'\n' => {}
            b'=' => padding = true,
            b'A'..=b'Z' | b'a'..=b'z' | b'2'..=b'7' if padding => {
                return Err(SecretError::MisplacedPadding);
            }
            b'A'..=b'Z' | b'a'..=b'z' | b'2'..=b'7' => symbols += 1,
            _ => return Err(SecretError::InvalidCharacter { position }),
        }
    }
    match symbols {
        0 => Err(SecretError::Empty),
        n if matches!(n % 8, 1 | 3 | 6) => Err(SecretError::InvalidLength { symbols: n }),
        n => Ok(n * 5 / 8),
    }
}

/// The target's body: every check on one input.
pub fn run(input: Input<'_>) {
    match input {
        Input::Symbols(choices) => check_decode(&symbol_text(&choices)),
        Input::Text(text) => {
            check_decode(text);
            match TotpKey::parse(text) {
                Ok(key) => {
                    // Debug shows the key's length and parameters, nothing else.
                    let debug = format!("{key:?}");
                    let want = format!(
                        "TotpKey {{ key: <{} bytes redacted>, params: {:?} }}",
                        key.key().len(),
                        key.params
                    );
                    assert_eq!(debug, want);
                }
                Err(error) => {
                    let message = error.to_string();
                    if let Some(window) = leaked_window(text, &message, &fixed_messages()) {
                        panic!("error shows {window:?} of the secret: {message}");
                    }
                }
            }
        }
        Input::Form(form) => {
            let text = form.render();
            match decode_base32(&text) {
                Ok(bytes) => assert_eq!(bytes.as_slice(), form.key.as_slice(), "{text:?}"),
                Err(error) => {
                    assert!(form.key.is_empty(), "{text:?}: {error}");
                    assert_eq!(error, SecretError::Empty);
                }
            }
        }
    }
}
