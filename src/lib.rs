//! The `get_totp_code` agent tool.
//!
//! Everything but `bindings` and `allocator` is plain Rust that builds
//! natively: the TOTP algorithm ([`otp`]), stored secrets ([`secret`]: base32
//! and Key URIs), the tool's behaviour over host traits ([`tool`],
//! [`platform`]) and its JSON surface ([`arguments`], [`response`],
//! [`definition`]). `bindings` binds that to the WIT world for the
//! `wasm32-unknown-unknown` component.

pub mod arguments;
pub mod definition;
pub mod otp;
pub mod platform;
pub mod response;
pub mod secret;
mod text;
pub mod tool;

#[cfg(target_arch = "wasm32")]
mod allocator;
#[cfg(target_arch = "wasm32")]
mod bindings;

use platform::Platform;

/// `get-totp-code(username)`: the JSON result for a direct call.
pub fn get_totp_code_json(platform: &impl Platform, username: &str) -> String {
    response::render(&tool::get_totp_code(platform, username))
}

/// `invoke(arguments)`: the JSON result for a call with raw LLM arguments.
pub fn invoke_json(platform: &impl Platform, arguments: &str) -> String {
    let outcome = arguments::parse_username(arguments)
        .map_err(tool::ToolError::from)
        .and_then(|username| tool::get_totp_code(platform, &username));
    response::render(&outcome)
}

/// The failure result for a failure of the host or of the sandbox itself
/// (a trap, a limit, an exception in a host's own code): hosts render it
/// with the guest's code, so that it reads like every other `host_error`.
pub fn host_error_json(message: &str) -> String {
    let error = tool::ToolError::from(platform::HostError::Unavailable(message.to_owned()));
    response::render(&Err(error))
}
