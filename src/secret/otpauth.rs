//! Key URI Format (`otpauth://`) secrets, as QR codes carry them:
//! `otpauth://totp/Issuer:account?secret=BASE32&issuer=Issuer&algorithm=SHA256&digits=8&period=60`.
//!
//! Parameter names are matched case-insensitively and values of `algorithm`
//! too; unknown parameters are ignored, as authenticator apps ignore them.

use percent_encoding::percent_decode_str;
use zeroize::Zeroizing;

use super::{SecretError, TotpKey, decode_base32};
use crate::otp::{Algorithm, TotpParams};

const SCHEME: &str = "otpauth://";

/// Whether a stored secret is meant as a Key URI rather than bare base32.
pub fn is_uri(stored: &str) -> bool {
    stored
        .trim_start()
        .get(..SCHEME.len())
        .is_some_and(|scheme| scheme.eq_ignore_ascii_case(SCHEME))
}

/// Parses an `otpauth://totp/` URI into its key and parameters.
pub fn parse(uri: &str) -> Result<TotpKey, SecretError> {
    let uri = uri.trim();
    let rest = uri
        .get(SCHEME.len()..)
        .filter(|_| is_uri(uri))
        .ok_or(SecretError::NotAUri)?;
    // A fragment is not part of the key; drop it as a URI parser would.
    let rest = rest.split('#').next().unwrap_or_default();
    let (path, query) = rest.split_once('?').unwrap_or((rest, ""));
    let (kind, label) = path.split_once('/').unwrap_or((path, ""));
    if kind.eq_ignore_ascii_case("hotp") {
        return Err(SecretError::HotpUnsupported);
    }
    if !kind.eq_ignore_ascii_case("totp") {
        return Err(SecretError::UnknownOtpType);
    }
    let label_issuer = label_issuer(label)?;

    let mut secret: Option<Zeroizing<String>> = None;
    let mut issuer: Option<String> = None;
    let mut algorithm = None;
    let mut digits = None;
    let mut period = None;
    for pair in query.split('&').filter(|pair| !pair.is_empty()) {
        let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
        let name = decode_component(name, SecretError::BadEncoding("a parameter name"))?;
        let Some(known) = Parameter::from_name(&name) else {
            continue;
        };
        let value = decode_component(value, SecretError::BadEncoding(known.name()))?;
        let duplicate = match known {
            Parameter::Secret => secret.replace(value).is_some(),
            Parameter::Issuer => issuer.replace(value.to_string()).is_some(),
            Parameter::Algorithm => algorithm.replace(parse_algorithm(&value)?).is_some(),
            Parameter::Digits => digits.replace(parse_digits(&value)?).is_some(),
            Parameter::Period => period.replace(parse_period(&value)?).is_some(),
        };
        if duplicate {
            return Err(SecretError::DuplicateParameter(known.name()));
        }
    }

    // Key URI Format: when both are given, they must name the same issuer.
    if let (Some(from_label), Some(from_parameter)) = (&label_issuer, &issuer)
        && from_label != from_parameter
    {
        return Err(SecretError::IssuerMismatch);
    }
    let secret = secret.ok_or(SecretError::MissingSecret)?;
    let defaults = TotpParams::default();
    let params = TotpParams {
        algorithm: algorithm.unwrap_or(defaults.algorithm),
        digits: digits.unwrap_or(defaults.digits),
        period: period.unwrap_or(defaults.period),
    };
    Ok(TotpKey::new(decode_base32(&secret)?, params))
}

#[derive(Clone, Copy)]
enum Parameter {
    Secret,
    Issuer,
    Algorithm,
    Digits,
    Period,
}

impl Parameter {
    fn from_name(name: &str) -> Option<Parameter> {
        [
            Parameter::Secret,
            Parameter::Issuer,
            Parameter::Algorithm,
            Parameter::Digits,
            Parameter::Period,
        ]
        .into_iter()
        .find(|p| p.name().eq_ignore_ascii_case(name))
    }

    fn name(self) -> &'static str {
        match self {
            Parameter::Secret => "secret",
            Parameter::Issuer => "issuer",
            Parameter::Algorithm => "algorithm",
            Parameter::Digits => "digits",
            Parameter::Period => "period",
        }
    }
}

/// Percent-decodes a query component; `+` is a space there, as in HTML forms
/// and Python's `parse_qs`, which pyotp uses.
fn decode_component(raw: &str, error: SecretError) -> Result<Zeroizing<String>, SecretError> {
    let spaced = Zeroizing::new(raw.replace('+', " "));
    percent_decode_str(&spaced)
        .decode_utf8()
        .map(|text| Zeroizing::new(text.into_owned()))
        .map_err(|_| error)
}

/// The `Issuer:` prefix of a label, if any (`Issuer:account` or
/// `Issuer: account`, the colon possibly encoded as `%3A`).
fn label_issuer(label: &str) -> Result<Option<String>, SecretError> {
    let label = percent_decode_str(label)
        .decode_utf8()
        .map_err(|_| SecretError::BadEncoding("the label"))?;
    Ok(label
        .split_once(':')
        .map(|(issuer, _account)| issuer.to_owned()))
}

fn parse_algorithm(value: &str) -> Result<Algorithm, SecretError> {
    [Algorithm::Sha1, Algorithm::Sha256, Algorithm::Sha512]
        .into_iter()
        .find(|a| a.name().eq_ignore_ascii_case(value))
        .ok_or(SecretError::UnknownAlgorithm)
}

fn parse_digits(value: &str) -> Result<u8, SecretError> {
    value
        .parse::<u8>()
        .ok()
        .filter(|d| (TotpParams::MIN_DIGITS..=TotpParams::MAX_DIGITS).contains(d))
        .ok_or(SecretError::InvalidDigits)
}

fn parse_period(value: &str) -> Result<u64, SecretError> {
    value
        .parse::<u64>()
        .ok()
        .filter(|&p| p > 0)
        .ok_or(SecretError::InvalidPeriod)
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";

    fn params(uri: &str) -> Result<TotpParams, SecretError> {
        parse(uri).map(|key| key.params)
    }

    #[test]
    fn issuer_forms() {
        for uri in [
            "otpauth://totp/ACME%20Co:john@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co",
            "otpauth://totp/ACME%20Co:%20john@example.com?secret=JBSWY3DPEHPK3PXP&issuer=ACME+Co",
            "otpauth://totp/ACME%20Co%3Ajohn?secret=JBSWY3DPEHPK3PXP&issuer=ACME%20Co",
            "otpauth://totp/ACME%20Co:john?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp/john?secret=JBSWY3DPEHPK3PXP&issuer=ACME",
            "otpauth://totp/?secret=JBSWY3DPEHPK3PXP",
            "otpauth://totp?secret=JBSWY3DPEHPK3PXP",
        ] {
            assert_eq!(params(uri), Ok(TotpParams::default()), "{uri}");
        }
        assert_eq!(
            params("otpauth://totp/ACME:john?secret=JBSWY3DPEHPK3PXP&issuer=Other"),
            Err(SecretError::IssuerMismatch)
        );
    }

    #[test]
    fn parameters_and_their_case() {
        let table = [
            (
                "algorithm=SHA256&digits=8&period=60",
                Algorithm::Sha256,
                8,
                60,
            ),
            ("algorithm=sha512&digits=7", Algorithm::Sha512, 7, 30),
            ("ALGORITHM=Sha1&Digits=6&PERIOD=15", Algorithm::Sha1, 6, 15),
            ("period=1&counter=5&image=x.png", Algorithm::Sha1, 6, 1),
        ];
        for (query, algorithm, digits, period) in table {
            let uri = format!("otpauth://totp/a?secret={SECRET}&{query}");
            let want = TotpParams {
                algorithm,
                digits,
                period,
            };
            assert_eq!(params(&uri), Ok(want), "{uri}");
        }
        assert!(params(&format!("OTPAUTH://TOTP/a?SECRET={SECRET}")).is_ok());
    }

    #[test]
    fn percent_encoded_secret_decodes() {
        let plain = parse(&format!("otpauth://totp/a?secret={SECRET}")).unwrap();
        let encoded = parse("otpauth://totp/a?secret=JBSWY3DP%45HPK3PXP%3D%3D").unwrap();
        let spaced = parse("otpauth://totp/a?secret=JBSW+Y3DP%20EHPK+3PXP").unwrap();
        assert_eq!(plain.key(), encoded.key());
        assert_eq!(plain.key(), spaced.key());
    }

    #[test]
    fn bad_uris_say_what_is_wrong() {
        use SecretError::*;
        let table = [
            (
                "otpauth://hotp/a?secret=JBSWY3DPEHPK3PXP&counter=1",
                HotpUnsupported,
            ),
            ("otpauth://HOTP/a?secret=JBSWY3DPEHPK3PXP", HotpUnsupported),
            ("otpauth://motp/a?secret=JBSWY3DPEHPK3PXP", UnknownOtpType),
            ("otpauth://totp/a?issuer=x", MissingSecret),
            ("otpauth://totp/a", MissingSecret),
            ("otpauth://totp/a?secret=", Empty),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=9",
                InvalidDigits,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=5",
                InvalidDigits,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&digits=",
                InvalidDigits,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=0",
                InvalidPeriod,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&period=-30",
                InvalidPeriod,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&algorithm=MD5",
                UnknownAlgorithm,
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&secret=JBSWY3DPEHPK3PXP",
                DuplicateParameter("secret"),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DPEHPK3PXP&Digits=6&digits=6",
                DuplicateParameter("digits"),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP%FFHPK3PXP",
                BadEncoding("secret"),
            ),
            (
                "otpauth://totp/%FF?secret=JBSWY3DPEHPK3PXP",
                BadEncoding("the label"),
            ),
            (
                "otpauth://totp/a?secret=JBSWY3DP1HPK3PXP",
                InvalidCharacter { position: 8 },
            ),
            ("otpauth:/totp/a?secret=JBSWY3DPEHPK3PXP", NotAUri),
        ];
        for (uri, want) in table {
            let got = parse(uri).map(|_| ());
            assert_eq!(got, Err(want.clone()), "{uri}");
            let message = want.to_string();
            assert!(!message.contains("JBSWY3DP"), "{message}");
        }
    }
}
