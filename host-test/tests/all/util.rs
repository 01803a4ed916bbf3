//! Shared fixtures: one compiled component per test binary, in-memory stores
//! and result parsing.

use std::sync::{Arc, OnceLock};

use serde_json::Value;
use totp_host::{Call, Clock, Directory, NodeRef, SqliteDirectory, TotpTool};

/// RFC 6238 Appendix B's SHA-1 secret, `12345678901234567890`, in base32.
pub const RFC_SECRET_B32: &str = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

/// Compiling the component takes tens of milliseconds; do it once.
pub fn tool() -> &'static TotpTool {
    static TOOL: OnceLock<TotpTool> = OnceLock::new();
    TOOL.get_or_init(|| TotpTool::new().expect("the component loads"))
}

pub fn store() -> SqliteDirectory {
    SqliteDirectory::in_memory().expect("in-memory store")
}

/// A call against `directory` at a fixed time, outside any workflow.
pub fn call_at(directory: impl Directory + 'static, time: u64) -> Call {
    Call::new(Arc::new(directory)).with_clock(Clock::Fixed(time))
}

pub fn at_node(call: Call, workflow: &str, node: &str) -> Call {
    call.at_node(NodeRef::new(workflow, node))
}

/// Calls `get-totp-code` and parses the JSON it returns.
pub fn get(call: &Call, username: &str) -> Value {
    let text = tool()
        .try_get_totp_code(call, username)
        .expect("the call does not trap");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

pub fn invoke(call: &Call, arguments: &str) -> Value {
    let text = tool()
        .try_invoke(call, arguments)
        .expect("the call does not trap");
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// Asserts a failure result with `code`, and returns its message.
#[track_caller]
pub fn assert_error(result: &Value, code: &str) -> String {
    assert_eq!(result["success"], false, "{result}");
    assert_eq!(result["error_code"], code, "{result}");
    assert!(result.get("totp_code").is_none(), "{result}");
    result["error"].as_str().expect("error text").to_owned()
}

/// Asserts a success result for `username` and returns its code.
#[track_caller]
pub fn assert_code(result: &Value, username: &str) -> String {
    assert_eq!(result["success"], true, "{result}");
    assert_eq!(result["username"], username, "{result}");
    result["totp_code"].as_str().expect("code text").to_owned()
}
