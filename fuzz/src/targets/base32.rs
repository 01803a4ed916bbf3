//! `decode_base32` and `TotpKey::parse` on arbitrary text, and on base32
//! forms of arbitrary keys.

use crate::generators::Base32Form;
use crate::oracles::{fixed_messages, leaked_window};
use arbitrary::Arbitrary;
use get_totp_code::secret::{SecretError, TotpKey, decode_base32};

#[derive(Arbitrary, Debug)]
pub enum Input<'a> {
    Text(&'a str),
    Form(Base32Form),
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
        Input::Text(text) => {
            let decoded = decode_base32(text);
            match (&decoded, reference(text)) {
                (Ok(bytes), Ok(len)) => assert_eq!(bytes.len(), len, "{text:?}"),
                (Err(got), Err(want)) => assert_eq!(got, &want, "{text:?}"),
                (got, want) => panic!(
                    "{text:?}: got {:?}, want {want:?}",
                    got.as_ref().map(|b| b.len())
                ),
            }
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
