//! `totp-obelisk-adapter`: the `get_totp_code` tool as an Obelisk activity.
//!
//! Obelisk 0.38 ignores world-level exports and wants exported functions in
//! an interface, returning a `result` whose `err` it retries. The component
//! (world `agent-tools:totp-activity/obelisk-adapter`, `wit/adapter.wit`)
//! imports the tool's world-level `get-totp-code: func(username: string) ->
//! string` and exports `agent-tools:totp-activity/tool@0.2.0` with
//! `get-totp-code: func(username: string) -> result<string, string>`,
//! which always answers `ok` with the tool's JSON: a tool failure is an
//! answer for the agent, not an execution failure to retry.

#[cfg(target_arch = "wasm32")]
mod bindings {
    wit_bindgen::generate!({
        path: "wit",
        world: "obelisk-adapter",
    });

    use exports::agent_tools::totp_activity::tool::Guest;

    struct Component;

    impl Guest for Component {
        fn get_totp_code(username: String) -> Result<String, String> {
            Ok(super::get_totp_code(&username))
        }
    }

    export!(Component);
}

#[cfg(target_arch = "wasm32")]
use bindings::get_totp_code;
