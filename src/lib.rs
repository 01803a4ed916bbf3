//! The `get_totp_code` agent tool.
//!
//! Everything but `bindings` is plain Rust that builds natively: the TOTP
//! algorithm ([`otp`]), secret parsing ([`secret`], [`otpauth`]), the tool's behaviour
//! over a host trait ([`tool`], [`platform`]) and its JSON surface
//! ([`arguments`], [`response`], [`definition`]). `bindings` binds that to
//! the WIT world for the `wasm32-unknown-unknown` component.

pub mod arguments;
pub mod definition;
pub mod otp;
pub mod otpauth;
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

/// The whole JSON-in/JSON-out path natively, over a platform whose every
/// answer comes from the property test's input: the same properties the
/// `tool_json` fuzz target checks, run in CI.
#[cfg(test)]
mod properties {
    use proptest::prelude::*;
    use zeroize::Zeroizing;

    use crate::platform::{HostError, NodeRef, Platform, User, WorkflowGraph};

    #[derive(Debug, Clone)]
    struct Answers {
        user: Option<(String, bool, Option<String>)>,
        user_error: Option<Option<String>>,
        node: Option<(String, String)>,
        slug: Option<String>,
        edges: Vec<String>,
        graph_fails: bool,
        now: u64,
    }

    impl WorkflowGraph for Answers {
        fn current_node(&self) -> Option<NodeRef> {
            self.node.clone().map(|(workflow_id, node_id)| NodeRef {
                workflow_id,
                node_id,
            })
        }
        fn workflow_slug(&self, _: &str) -> Result<Option<String>, HostError> {
            match self.graph_fails {
                true => Err(HostError::Unavailable("graph down".into())),
                false => Ok(self.slug.clone()),
            }
        }
        fn edge_targets(&self, _: &str, _: &str, _: &str) -> Result<Vec<String>, HostError> {
            match self.graph_fails {
                true => Err(HostError::Unavailable("graph down".into())),
                false => Ok(self.edges.clone()),
            }
        }
    }

    impl Platform for Answers {
        fn find_user(&self, _: &str) -> Result<Option<User>, HostError> {
            match &self.user_error {
                Some(None) => Err(HostError::Denied),
                Some(Some(message)) => Err(HostError::Unavailable(message.clone())),
                None => Ok(self.user.clone().map(|(username, is_agent, secret)| User {
                    username,
                    is_agent,
                    totp_secret: secret.map(Zeroizing::new),
                })),
            }
        }
        fn now(&self) -> u64 {
            self.now
        }
    }

    fn answers() -> impl Strategy<Value = Answers> {
        let secret = prop_oneof![
            "[A-Z2-7]{16,40}",
            "[A-Za-z2-7= !1]{8,40}",
            "otpauth://[a-z]{4}/[A-Za-z:]{0,8}\\?secret=[A-Z2-7]{16,32}(&digits=[0-9]{1,2})?(&period=[0-9]{1,3})?(&algorithm=SHA(1|256|512|3))?",
        ];
        (
            proptest::option::of((
                "agent_[a-z]{1,6}",
                any::<bool>(),
                proptest::option::of(secret),
            )),
            proptest::option::of(proptest::option::of("[ -~]{0,20}")),
            proptest::option::of(("[a-z0-9-]{0,6}", "[a-z0-9_]{0,6}")),
            proptest::option::of("[ -~]{0,8}"),
            proptest::collection::vec("[a-z]{1,3}", 0..4),
            any::<bool>(),
            any::<u64>(),
        )
            .prop_map(
                |(user, user_error, node, slug, edges, graph_fails, now)| Answers {
                    user,
                    user_error,
                    node,
                    slug,
                    edges,
                    graph_fails,
                    now,
                },
            )
    }

    proptest! {
        #[test]
        fn every_answer_is_a_well_formed_result(
            answers in answers(),
            arguments in prop_oneof![
                Just(String::new()),
                "agent_[a-z]{1,6}".prop_map(|u| format!("{{\"username\": \"{u}\"}}")),
                "[ -~]{0,24}",
            ],
        ) {
            let secret = answers.user.as_ref().and_then(|u| u.2.clone());
            for text in [crate::invoke_json(&answers, &arguments), crate::get_totp_code_json(&answers, "")] {
                let result: serde_json::Value = serde_json::from_str(&text).unwrap();
                let success = result["success"].as_bool().unwrap();
                if success {
                    let code = result["totp_code"].as_str().unwrap();
                    prop_assert!((6..=8).contains(&code.len()) && code.bytes().all(|b| b.is_ascii_digit()));
                    let expires_in = result["expires_in"].as_u64().unwrap();
                    prop_assert!(expires_in >= 1);
                } else {
                    let code = result["error_code"].as_str().unwrap();
                    prop_assert!(crate::tool::ERROR_CODES.contains(&code), "{}", code);
                    if let Some(secret) = &secret {
                        // The secret's own characters, not URI boilerplate.
                        let key = secret.rsplit("secret=").next().unwrap_or(secret);
                        let key = key.split('&').next().unwrap_or(key);
                        for window in key.as_bytes().windows(8) {
                            let piece = std::str::from_utf8(window).unwrap();
                            prop_assert!(!text.contains(piece), "{} in {}", piece, text);
                        }
                    }
                }
            }
        }
    }
}
