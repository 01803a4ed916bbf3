//! Oracles: what a result may contain, independently of the code under test.

use get_totp_code::arguments::ArgumentsError;
use get_totp_code::platform::HostError;
use get_totp_code::secret::SecretError;
use get_totp_code::tool::ToolError;

/// Runs of ASCII digits collapse to one `#`, so that numbers in messages
/// (positions, counts) compare alike whatever their value.
pub fn normalize(text: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(text.len());
    for &b in text {
        if b.is_ascii_digit() {
            if out.last() != Some(&b'#') {
                out.push(b'#');
            }
        } else {
            out.push(b);
        }
    }
    out
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    needle.is_empty() || haystack.windows(needle.len()).any(|w| w == needle)
}

/// Every fixed message the tool can answer with (numbers as `#`), so that
/// a secret that happens to spell part of one is not a false alarm.
pub fn fixed_messages() -> Vec<String> {
    use ArgumentsError as A;
    use SecretError as S;
    let secret_errors = [
        S::Empty,
        S::InvalidCharacter { position: 0 },
        S::MisplacedPadding,
        S::InvalidLength { symbols: 0 },
        S::NotAUri,
        S::HotpUnsupported,
        S::UnknownOtpType,
        S::MissingSecret,
        S::DuplicateParameter("secret"),
        S::DuplicateParameter("issuer"),
        S::DuplicateParameter("algorithm"),
        S::DuplicateParameter("digits"),
        S::DuplicateParameter("period"),
        S::UnknownAlgorithm,
        S::InvalidDigits,
        S::InvalidPeriod,
        S::IssuerMismatch,
        S::BadEncoding("a parameter name"),
        S::BadEncoding("the label"),
        S::BadEncoding("secret"),
        S::BadEncoding("issuer"),
        S::BadEncoding("algorithm"),
        S::BadEncoding("digits"),
        S::BadEncoding("period"),
    ];
    let mut out = Vec::new();
    for error in secret_errors {
        out.push(error.to_string());
        out.push(ToolError::InvalidSecret(error.clone()).to_string());
        out.push(ToolError::UnsupportedSecret(error).to_string());
    }
    for error in [
        // Whatever fields it has: the message as the parser makes it.
        get_totp_code::arguments::parse_username("{").unwrap_err(),
        A::NotAnObject,
        A::UsernameNotString,
    ] {
        out.push(ToolError::InvalidArguments(error).to_string());
    }
    for error in [
        ToolError::UserNotFound,
        ToolError::AmbiguousAgent { count: 0 },
        ToolError::NoContext,
        ToolError::NoTotpSecret,
        ToolError::AccessDenied,
        ToolError::Host("the host answered the lookup with a different user".into()),
        ToolError::Host("the resolved agent username is longer than 512 bytes".into()),
        ToolError::from(HostError::Unavailable(String::new())),
        ToolError::InvalidArguments(A::UnknownArgument(String::new())),
        ToolError::UsernameTooLong,
    ] {
        out.push(error.to_string());
        out.push(error.code().as_str().to_owned());
    }
    out
}

/// The first 8-byte window of `secret` (digit runs normalised) that is in
/// `message` but in none of `allowed`, if any.
pub fn leaked_window(secret: &str, message: &str, allowed: &[String]) -> Option<String> {
    if secret.len() < 8 {
        return None;
    }
    let secret = normalize(secret.as_bytes());
    let message = normalize(message.as_bytes());
    let allowed: Vec<Vec<u8>> = allowed.iter().map(|a| normalize(a.as_bytes())).collect();
    secret
        .windows(8)
        .find(|window| contains(&message, window) && !allowed.iter().any(|a| contains(a, window)))
        .map(|window| String::from_utf8_lossy(window).into_owned())
}
