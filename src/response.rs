//! The tool's JSON result, the one shape every export returns.

use serde::Serialize;

use crate::otp::TotpParams;
use crate::tool::{ErrorCode, Issued, ToolError};

/// Warning attached to codes made from secrets below RFC 4226's minimum.
pub const SHORT_SECRET_WARNING: &str = "secret shorter than 128 bits (RFC 4226 section 4)";

#[derive(Serialize)]
struct Success<'a> {
    success: bool,
    username: &'a str,
    totp_code: &'a str,
    expires_in: u64,
    /// Present only for secrets that are not SHA-1/6 digits/30 s, so that
    /// the common answer stays the reference platform's.
    #[serde(flatten, skip_serializing_if = "Option::is_none")]
    params: Option<Params>,
    #[serde(skip_serializing_if = "Option::is_none")]
    warning: Option<&'static str>,
}

#[derive(Serialize)]
struct Params {
    digits: u8,
    period: u64,
    algorithm: &'static str,
}

#[derive(Serialize)]
struct Failure<'a> {
    success: bool,
    error: String,
    error_code: &'a str,
}

/// Renders a tool outcome as the JSON text the exports return.
pub fn render(outcome: &Result<Issued, ToolError>) -> String {
    let rendered = match outcome {
        Ok(issued) => serde_json::to_string(&Success {
            success: true,
            username: &issued.username,
            totp_code: issued.totp.code.text().as_str(),
            expires_in: issued.totp.expires_in,
            params: (issued.params != TotpParams::default()).then_some(Params {
                digits: issued.params.digits,
                period: issued.params.period,
                algorithm: issued.params.algorithm.name(),
            }),
            warning: issued.short_secret.then_some(SHORT_SECRET_WARNING),
        }),
        Err(error) => serde_json::to_string(&Failure {
            success: false,
            error: error.to_string(),
            error_code: error.code().as_str(),
        }),
    };
    // serde_json fails only when a `Serialize` impl errors or a map key is
    // not a string; these derived structs of strings and integers have
    // neither. The fallback keeps the exports total all the same, with a
    // code from the list.
    rendered.unwrap_or_else(|_| {
        format!(
            r#"{{"success":false,"error":"Internal error: result not serialisable","error_code":"{}"}}"#,
            ErrorCode::HostError.as_str()
        )
    })
}
