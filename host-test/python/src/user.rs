//! `User`: what a directory's `find_user` returns (the WIT record `user`).

use pyo3::prelude::*;

/// A user as the platform knows it. `find_user` may return this or any
/// mapping with the same three keys.
#[pyclass(frozen, get_all, module = "get_totp_code")]
pub struct User {
    /// The user's unique name.
    pub username: String,
    /// True only for users provisioned for AI agents.
    pub is_agent: bool,
    /// Base32 text or an `otpauth://totp/` URI; `None` when not configured.
    pub totp_secret: Option<String>,
}

#[pymethods]
impl User {
    #[new]
    #[pyo3(signature = (username, is_agent, totp_secret = None))]
    fn new(username: String, is_agent: bool, totp_secret: Option<String>) -> Self {
        User {
            username,
            is_agent,
            totp_secret,
        }
    }

    /// Never shows the secret (a repr ends up in logs and tracebacks).
    fn __repr__(&self) -> String {
        let secret = if self.totp_secret.is_some() {
            "'<redacted>'"
        } else {
            "None"
        };
        format!(
            "User(username={:?}, is_agent={}, totp_secret={secret})",
            self.username,
            if self.is_agent { "True" } else { "False" }
        )
    }
}
