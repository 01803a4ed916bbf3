//! `otpauth::parse` on arbitrary text, and on Key URIs built from parts
//! whose meaning the generator knows.

use crate::generators::{Expected, UriSpec};
use crate::oracles::{fixed_messages, leaked_window};
use arbitrary::Arbitrary;
use get_totp_code::otp::TotpParams;
use get_totp_code::secret::{SecretError, TotpKey, otpauth};

#[derive(Arbitrary, Debug)]
pub enum Input<'a> {
    Text(&'a str),
    /// Arbitrary text after a valid prefix, where most of the parser is.
    Query(&'a str),
    Built(UriSpec),
}

fn check_invariants(uri: &str, parsed: &Result<TotpKey, SecretError>) {
    match parsed {
        Ok(key) => {
            let p = key.params;
            assert!((TotpParams::MIN_DIGITS..=TotpParams::MAX_DIGITS).contains(&p.digits));
            assert!(p.period > 0);
            assert!(!key.key().is_empty());
        }
        Err(error) => {
            let message = error.to_string();
            // The whole URI stands in for the secret: no 8 bytes of it may
            // show, unless they are part of the fixed message itself.
            if let Some(window) = leaked_window(uri, &message, &fixed_messages()) {
                panic!("error shows {window:?} of {uri:?}: {message}");
            }
        }
    }
    // `TotpKey::parse` dispatches URIs here.
    if otpauth::is_uri(uri) {
        let again = TotpKey::parse(uri);
        assert_eq!(
            again
                .as_ref()
                .map(|k| (k.key().to_vec(), k.params))
                .map_err(Clone::clone),
            parsed
                .as_ref()
                .map(|k| (k.key().to_vec(), k.params))
                .map_err(Clone::clone),
        );
    }
}

/// The target's body: every check on one input.
pub fn run(input: Input<'_>) {
    match input {
        Input::Text(text) => {
            let parsed = otpauth::parse(text);
            check_invariants(text, &parsed);
        }
        Input::Query(query) => {
            let uri = format!("otpauth://totp/Issuer:acct?{query}");
            let parsed = otpauth::parse(&uri);
            check_invariants(&uri, &parsed);
        }
        Input::Built(spec) => {
            let (uri, expected) = spec.render();
            let parsed = otpauth::parse(&uri);
            check_invariants(&uri, &parsed);
            let Some(expected) = expected else { return };
            let got = match parsed {
                Ok(key) => Expected::Key {
                    key: key.key().to_vec(),
                    algorithm: key.params.algorithm.name(),
                    digits: key.params.digits,
                    period: key.params.period,
                },
                Err(error) => Expected::Error(error),
            };
            assert_eq!(got, expected, "{uri:?}");
        }
    }
}
