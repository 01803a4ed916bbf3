//! The JSON arguments an LLM emits for a tool call, as `invoke` receives them.

use serde_json::Value;

use crate::text::ellipsize;
use crate::tool::MAX_USERNAME_BYTES;

/// What is wrong with the arguments. Messages never quote argument values.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgumentsError {
    #[error("not valid JSON (line {line}, column {column})")]
    NotJson { line: usize, column: usize },
    #[error("expected a JSON object such as {{\"username\": \"...\"}}")]
    NotAnObject,
    #[error("'username' must be a string")]
    UsernameNotString,
    #[error("unknown argument '{0}'; the only argument is 'username'")]
    UnknownArgument(String),
    #[error("'username' is longer than {MAX_USERNAME_BYTES} bytes")]
    UsernameTooLong,
}

/// The `username` argument: `""` when absent or null, as the tool's schema
/// defaults it. Empty or blank text counts as no arguments, as several LLM
/// clients send it for a call without arguments.
pub fn parse_username(arguments: &str) -> Result<String, ArgumentsError> {
    if arguments.trim().is_empty() {
        return Ok(String::new());
    }
    let value: Value = serde_json::from_str(arguments).map_err(|e| ArgumentsError::NotJson {
        line: e.line(),
        column: e.column(),
    })?;
    let Value::Object(fields) = value else {
        return Err(ArgumentsError::NotAnObject);
    };
    let mut username = String::new();
    for (name, value) in fields {
        match (name.as_str(), value) {
            ("username", Value::String(text)) => username = text,
            ("username", Value::Null) => {}
            ("username", _) => return Err(ArgumentsError::UsernameNotString),
            (other, _) => return Err(ArgumentsError::UnknownArgument(ellipsize(other, 40))),
        }
    }
    Ok(username)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepted_forms() {
        for (arguments, want) in [
            ("", ""),
            ("  \n", ""),
            ("{}", ""),
            ("{\"username\": null}", ""),
            ("{\"username\": \"\"}", ""),
            ("{\"username\": \"agent_wf_n1\"}", "agent_wf_n1"),
            (" { \"username\" : \"a\\u00e9\" } ", "aé"),
        ] {
            assert_eq!(
                parse_username(arguments).as_deref(),
                Ok(want),
                "{arguments:?}"
            );
        }
    }

    #[test]
    fn refused_forms() {
        use ArgumentsError::*;
        for (arguments, want) in [
            ("{", NotJson { line: 1, column: 1 }),
            ("username=x", NotJson { line: 1, column: 1 }),
            ("[]", NotAnObject),
            ("\"agent\"", NotAnObject),
            ("{\"username\": 5}", UsernameNotString),
            ("{\"username\": [\"a\"]}", UsernameNotString),
            ("{\"user\": \"a\"}", UnknownArgument("user".into())),
        ] {
            assert_eq!(parse_username(arguments), Err(want), "{arguments:?}");
        }
    }

    #[test]
    fn deep_nesting_is_an_error_not_a_stack_overflow() {
        let deep = "[".repeat(100_000);
        assert!(matches!(
            parse_username(&deep),
            Err(ArgumentsError::NotJson { .. })
        ));
    }
}
