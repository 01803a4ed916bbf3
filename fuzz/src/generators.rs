//! Structured inputs: secrets and Key URIs built from parts whose meaning
//! the generator knows.

use arbitrary::Arbitrary;
use get_totp_code::secret::SecretError;

/// Every byte as `%XX`: decodes back to exactly `text`.
pub fn percent_encode_all(text: &str) -> String {
    text.bytes().map(|b| format!("%{b:02X}")).collect()
}

/// Text that needs no encoding anywhere in a Key URI.
pub fn is_uri_safe(text: &str) -> bool {
    text.bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"-._~@".contains(&b))
}

/// The base32 form of a key, the way some authenticator shows it.
#[derive(Arbitrary, Debug, Clone)]
pub struct Base32Form {
    pub key: Vec<u8>,
    pub lower: bool,
    pub padding: bool,
    /// Groups of this many symbols separated by a space (0: none).
    pub group: u8,
}

impl Base32Form {
    pub fn render(&self) -> String {
        let encoded = base32::encode(
            base32::Alphabet::Rfc4648 {
                padding: self.padding,
            },
            &self.key,
        );
        let encoded = if self.lower {
            encoded.to_ascii_lowercase()
        } else {
            encoded
        };
        match usize::from(self.group % 9) {
            0 => encoded,
            n => encoded
                .as_bytes()
                .chunks(n)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(" "),
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Kind {
    Totp,
    TotpUpper,
    Hotp,
    Other(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Name {
    Secret,
    Issuer,
    Algorithm,
    Digits,
    Period,
    Other(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub enum Value {
    Base32(Base32Form),
    Algorithm(u8),
    Number(u64),
    Text(String),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Param {
    pub name: Name,
    pub upper_name: bool,
    pub value: Value,
    /// Percent-encode every byte of the value (otherwise written raw).
    pub encode: bool,
}

#[derive(Arbitrary, Debug, Clone)]
pub struct Label {
    pub issuer: Option<String>,
    pub account: String,
    pub encode: bool,
}

/// An `otpauth://` URI built from parts, with what parsing it must give
/// when every part was written unambiguously.
#[derive(Arbitrary, Debug, Clone)]
pub struct UriSpec {
    pub upper_scheme: bool,
    pub leading_space: bool,
    pub kind: Kind,
    pub label: Option<Label>,
    pub params: Vec<Param>,
    pub fragment: Option<String>,
}

/// What the parser must answer, as far as the generator knows it.
#[derive(Debug, PartialEq, Eq)]
pub enum Expected {
    Key {
        key: Vec<u8>,
        algorithm: &'static str,
        digits: u8,
        period: u64,
    },
    Error(SecretError),
}

const ALGORITHMS: [&str; 7] = ["SHA1", "SHA256", "SHA512", "sha256", "Sha512", "MD5", ""];
const NAMES: [&str; 5] = ["secret", "issuer", "algorithm", "digits", "period"];

impl UriSpec {
    /// The URI text, and the expected parse when it is predictable.
    pub fn render(&self) -> (String, Option<Expected>) {
        let mut predictable = true;
        let mut uri = String::new();
        if self.leading_space {
            uri.push_str(" \t");
        }
        uri.push_str(if self.upper_scheme {
            "OTPAUTH://"
        } else {
            "otpauth://"
        });
        match &self.kind {
            Kind::Totp => uri.push_str("totp"),
            Kind::TotpUpper => uri.push_str("TOTP"),
            Kind::Hotp => uri.push_str("hotp"),
            Kind::Other(other) => {
                predictable = false;
                uri.push_str(other);
            }
        }
        let mut label_issuer = None;
        if let Some(label) = &self.label {
            uri.push('/');
            let mut decoded = String::new();
            if let Some(issuer) = &label.issuer {
                decoded.push_str(issuer);
                decoded.push(':');
            }
            decoded.push_str(&label.account);
            if label.encode {
                uri.push_str(&percent_encode_all(&decoded));
            } else {
                predictable &=
                    label.issuer.as_deref().is_none_or(is_uri_safe) && is_uri_safe(&label.account);
                uri.push_str(&decoded);
            }
            label_issuer = decoded.split_once(':').map(|(i, _)| i.to_owned());
        }
        // Model of the query loop: first error in order wins.
        let mut error: Option<SecretError> = None;
        let mut secret: Option<Option<Vec<u8>>> = None; // Some(None): not predicted
        let mut issuer: Option<String> = None;
        let mut algorithm: Option<&'static str> = None;
        let mut digits: Option<u8> = None;
        let mut period: Option<u64> = None;
        for (index, param) in self.params.iter().enumerate() {
            uri.push(if index == 0 { '?' } else { '&' });
            let name = match &param.name {
                Name::Secret => "secret".to_owned(),
                Name::Issuer => "issuer".to_owned(),
                Name::Algorithm => "algorithm".to_owned(),
                Name::Digits => "digits".to_owned(),
                Name::Period => "period".to_owned(),
                Name::Other(other) => other.clone(),
            };
            let name = if param.upper_name {
                name.to_ascii_uppercase()
            } else {
                name
            };
            if is_uri_safe(&name) {
                uri.push_str(&name);
            } else {
                uri.push_str(&percent_encode_all(&name));
            }
            uri.push('=');
            let (value, key) = match &param.value {
                Value::Base32(form) => {
                    let text = form.render();
                    let key = (!form.key.is_empty()).then(|| form.key.clone());
                    (text, key)
                }
                Value::Algorithm(i) => (
                    ALGORITHMS[usize::from(*i) % ALGORITHMS.len()].to_owned(),
                    None,
                ),
                Value::Number(n) => ((n % 100).to_string(), None),
                Value::Text(text) => (text.clone(), None),
            };
            let decoded_value = if param.encode {
                uri.push_str(&percent_encode_all(&value));
                value.clone()
            } else {
                if value.contains(['%', '&', '#']) {
                    predictable = false;
                }
                uri.push_str(&value);
                value.replace('+', " ")
            };
            if error.is_some() {
                continue;
            }
            let Some(known) = NAMES.iter().find(|n| n.eq_ignore_ascii_case(&name)) else {
                continue;
            };
            let duplicate = match *known {
                "secret" => secret.replace(key).is_some(),
                "issuer" => issuer.replace(decoded_value).is_some(),
                "algorithm" => {
                    match ["SHA1", "SHA256", "SHA512"]
                        .into_iter()
                        .find(|a| a.eq_ignore_ascii_case(&decoded_value))
                    {
                        Some(a) => algorithm.replace(a).is_some(),
                        None => {
                            error = Some(SecretError::UnknownAlgorithm);
                            continue;
                        }
                    }
                }
                "digits" => match decoded_value.parse::<u8>() {
                    Ok(d @ 6..=8) => digits.replace(d).is_some(),
                    _ => {
                        error = Some(SecretError::InvalidDigits);
                        continue;
                    }
                },
                _ => match decoded_value.parse::<u64>() {
                    Ok(p) if p > 0 => period.replace(p).is_some(),
                    _ => {
                        error = Some(SecretError::InvalidPeriod);
                        continue;
                    }
                },
            };
            if duplicate {
                error = Some(SecretError::DuplicateParameter(known));
            }
        }
        if let Some(fragment) = &self.fragment {
            uri.push('#');
            uri.push_str(fragment);
        }
        // `parse` trims the URI: trailing whitespace would change the last value.
        if self.fragment.is_none() && uri.trim_end() != uri {
            predictable = false;
        }
        if !predictable {
            return (uri, None);
        }
        let expected = match &self.kind {
            Kind::Hotp => Expected::Error(SecretError::HotpUnsupported),
            _ => match error {
                Some(error) => Expected::Error(error),
                None => match (&label_issuer, &issuer) {
                    (Some(a), Some(b)) if a != b => Expected::Error(SecretError::IssuerMismatch),
                    _ => match secret {
                        None => Expected::Error(SecretError::MissingSecret),
                        Some(None) => return (uri, None),
                        Some(Some(key)) => Expected::Key {
                            key,
                            algorithm: algorithm.unwrap_or("SHA1"),
                            digits: digits.unwrap_or(6),
                            period: period.unwrap_or(30),
                        },
                    },
                },
            },
        };
        (uri, Some(expected))
    }
}
