//! The tool's behaviour: which user a call is for, and whether it may have a
//! code. Independent of WIT and of any host, over the [`Platform`] trait.

use crate::arguments::ArgumentsError;
use crate::otp::{self, Totp, TotpParams};
use crate::platform::{HostError, Platform, WorkflowGraph};
use crate::secret::{SecretError, TotpKey};
use crate::text::ellipsize;

/// The edge label that links a tool node to the agent node that uses it.
pub const TOOL_EDGE_LABEL: &str = "tool";

/// Usernames longer than this are refused before any lookup, so that a
/// runaway argument costs the host nothing.
pub const MAX_USERNAME_BYTES: usize = 512;

/// RFC 4226 §4: "The length of the shared secret MUST be at least 128 bits."
const MIN_SECRET_BYTES: usize = 16;

/// Distinct agents counted for an `ambiguous_agent` message.
const MAX_COUNTED_AGENTS: usize = 50;

/// Host messages are cut to this many characters in results.
const MAX_HOST_MESSAGE_CHARS: usize = 200;

/// Why no code was issued. `Display` is the `error` text of the result, and
/// [`ToolError::code`] its `error_code`.
#[derive(Debug, thiserror::Error)]
pub enum ToolError {
    #[error("Agent user not found")]
    UserNotFound,
    #[error(
        "{} agents are linked to this tool node through '{TOOL_EDGE_LABEL}' edges; \
         pass the agent's username explicitly",
        agent_count(*count)
    )]
    AmbiguousAgent { count: usize },
    #[error("No workflow context to resolve the calling agent; pass the agent's username")]
    NoContext,
    #[error("No TOTP secret configured for this user")]
    NoTotpSecret,
    #[error("The TOTP secret configured for this user is invalid: {0}")]
    InvalidSecret(#[source] SecretError),
    #[error("The TOTP secret configured for this user is not supported: {0}")]
    UnsupportedSecret(#[source] SecretError),
    #[error("Access denied")]
    AccessDenied,
    #[error("Host error: {0}")]
    Host(String),
    #[error("Invalid arguments: {0}")]
    InvalidArguments(#[from] ArgumentsError),
}

/// Every `error_code` a result can carry.
pub const ERROR_CODES: [&str; 9] = [
    "user_not_found",
    "ambiguous_agent",
    "no_context",
    "no_totp_secret",
    "invalid_secret",
    "unsupported_secret",
    "access_denied",
    "host_error",
    "invalid_arguments",
];

impl ToolError {
    /// The stable, machine-readable `error_code` of the result.
    pub fn code(&self) -> &'static str {
        match self {
            ToolError::UserNotFound => "user_not_found",
            ToolError::AmbiguousAgent { .. } => "ambiguous_agent",
            ToolError::NoContext => "no_context",
            ToolError::NoTotpSecret => "no_totp_secret",
            ToolError::InvalidSecret(_) => "invalid_secret",
            ToolError::UnsupportedSecret(_) => "unsupported_secret",
            ToolError::AccessDenied => "access_denied",
            ToolError::Host(_) => "host_error",
            ToolError::InvalidArguments(_) => "invalid_arguments",
        }
    }
}

impl From<HostError> for ToolError {
    fn from(error: HostError) -> Self {
        match error {
            HostError::Denied => ToolError::AccessDenied,
            HostError::Unavailable(message) => {
                ToolError::Host(ellipsize(&message, MAX_HOST_MESSAGE_CHARS))
            }
        }
    }
}

/// A code handed out, with what the caller needs to use it.
#[derive(Debug)]
pub struct Issued {
    pub username: String,
    pub totp: Totp,
    pub params: TotpParams,
    /// The key is shorter than RFC 4226 §4's 128-bit minimum.
    pub short_secret: bool,
}

/// `get_totp_code(username)`: the code of agent user `username`, or of the
/// calling agent when `username` is empty.
pub fn get_totp_code(platform: &impl Platform, username: &str) -> Result<Issued, ToolError> {
    if username.len() > MAX_USERNAME_BYTES {
        return Err(ArgumentsError::UsernameTooLong.into());
    }
    let username = if username.is_empty() {
        resolve_calling_agent(platform)?
    } else {
        username.to_owned()
    };

    let user = platform
        .find_user(&username)?
        .ok_or(ToolError::UserNotFound)?;
    if user.username != username {
        return Err(ToolError::Host(
            "the host answered the lookup with a different user".into(),
        ));
    }
    // People's accounts never yield a code, whatever the host's policy, and
    // the answer does not tell them apart from users that do not exist.
    if !user.is_agent {
        return Err(ToolError::UserNotFound);
    }
    let stored = match &user.totp_secret {
        Some(secret) if !secret.trim().is_empty() => secret,
        _ => return Err(ToolError::NoTotpSecret),
    };
    let key = TotpKey::parse(stored).map_err(|error| match error.is_unsupported() {
        true => ToolError::UnsupportedSecret(error),
        false => ToolError::InvalidSecret(error),
    })?;
    let totp = otp::totp(key.key(), key.params, platform.now());
    Ok(Issued {
        username,
        totp,
        params: key.params,
        short_secret: key.key().len() < MIN_SECRET_BYTES,
    })
}

/// The deterministic name of the agent this tool node serves:
/// `agent_{workflow_slug}_{agent_node_id}`, found through the tool's single
/// outgoing `tool` edge. Hosts that provision agent users use it too, so
/// that the names they create are the names the tool looks up.
pub fn resolve_calling_agent(platform: &impl WorkflowGraph) -> Result<String, ToolError> {
    let node = platform.current_node().ok_or(ToolError::NoContext)?;
    let targets = platform.edge_targets(&node.workflow_id, &node.node_id, TOOL_EDGE_LABEL)?;
    let username = match distinct_agents(&targets).as_slice() {
        // The reference platform's fallback for a tool not (yet) linked.
        [] => format!("agent_{}_{}", node.workflow_id, node.node_id),
        [agent_node] => {
            let slug = platform
                .workflow_slug(&node.workflow_id)?
                .filter(|slug| !slug.is_empty())
                .unwrap_or_else(|| node.workflow_id.clone());
            format!("agent_{slug}_{agent_node}")
        }
        several => {
            return Err(ToolError::AmbiguousAgent {
                count: several.len(),
            });
        }
    };
    if username.len() > MAX_USERNAME_BYTES {
        return Err(ToolError::Host(format!(
            "the resolved agent username is longer than {MAX_USERNAME_BYTES} bytes"
        )));
    }
    Ok(username)
}

/// Distinct agent nodes among the edge targets, in edge order: parallel
/// edges to one agent are one agent, not an ambiguity. Counting stops past
/// [`MAX_COUNTED_AGENTS`], which keeps thousands of edges cheap (and spares
/// the component a sort routine).
fn distinct_agents(targets: &[String]) -> Vec<&str> {
    let mut agents: Vec<&str> = Vec::new();
    for target in targets {
        if !agents.contains(&target.as_str()) {
            agents.push(target);
            if agents.len() > MAX_COUNTED_AGENTS {
                break;
            }
        }
    }
    agents
}

/// "3", or "More than 50" when counting stopped.
fn agent_count(count: usize) -> String {
    match count > MAX_COUNTED_AGENTS {
        true => format!("More than {MAX_COUNTED_AGENTS}"),
        false => count.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_error_code_is_listed() {
        let errors = [
            ToolError::UserNotFound,
            ToolError::AmbiguousAgent { count: 2 },
            ToolError::NoContext,
            ToolError::NoTotpSecret,
            ToolError::InvalidSecret(SecretError::Empty),
            ToolError::UnsupportedSecret(SecretError::HotpUnsupported),
            ToolError::AccessDenied,
            ToolError::Host(String::new()),
            ToolError::InvalidArguments(ArgumentsError::NotAnObject),
        ];
        let codes: Vec<&str> = errors.iter().map(ToolError::code).collect();
        assert_eq!(codes, ERROR_CODES);
    }
}
