//! The tool's behaviour: which user a call is for, and whether it may have a
//! code. Independent of WIT and of any host, over the [`Platform`] trait.

use crate::arguments::ArgumentsError;
use crate::otp::{self, Totp, TotpParams};
use crate::platform::{Directory, HostError, NodeRef, Platform};
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
pub const MAX_HOST_MESSAGE_CHARS: usize = 200;

/// Declares [`ErrorCode`] from one list: each variant with its wire name.
macro_rules! error_codes {
    ($($variant:ident => $name:literal,)*) => {
        /// The stable, machine-readable `error_code` of a failure result.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        pub enum ErrorCode {
            $($variant,)*
        }

        impl ErrorCode {
            /// Every code a result can carry.
            pub const ALL: &[ErrorCode] = &[$(ErrorCode::$variant,)*];

            /// The code as it appears in the JSON result.
            pub fn as_str(self) -> &'static str {
                match self {
                    $(ErrorCode::$variant => $name,)*
                }
            }
        }
    };
}

error_codes! {
    UserNotFound => "user_not_found",
    AmbiguousAgent => "ambiguous_agent",
    NoContext => "no_context",
    NoTotpSecret => "no_totp_secret",
    InvalidSecret => "invalid_secret",
    UnsupportedSecret => "unsupported_secret",
    AccessDenied => "access_denied",
    HostError => "host_error",
    InvalidArguments => "invalid_arguments",
}

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
    /// The host's own failure; its message is cut to
    /// [`MAX_HOST_MESSAGE_CHARS`] when made from a [`HostError`].
    #[error("Host error: {0}")]
    Host(String),
    #[error("Invalid arguments: {0}")]
    InvalidArguments(#[from] ArgumentsError),
    #[error("Invalid arguments: 'username' is longer than {MAX_USERNAME_BYTES} bytes")]
    UsernameTooLong,
}

impl ToolError {
    /// The result's `error_code`.
    pub fn code(&self) -> ErrorCode {
        match self {
            ToolError::UserNotFound => ErrorCode::UserNotFound,
            ToolError::AmbiguousAgent { .. } => ErrorCode::AmbiguousAgent,
            ToolError::NoContext => ErrorCode::NoContext,
            ToolError::NoTotpSecret => ErrorCode::NoTotpSecret,
            ToolError::InvalidSecret(_) => ErrorCode::InvalidSecret,
            ToolError::UnsupportedSecret(_) => ErrorCode::UnsupportedSecret,
            ToolError::AccessDenied => ErrorCode::AccessDenied,
            ToolError::Host(_) => ErrorCode::HostError,
            ToolError::InvalidArguments(_) | ToolError::UsernameTooLong => {
                ErrorCode::InvalidArguments
            }
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
        return Err(ToolError::UsernameTooLong);
    }
    let username = if username.is_empty() {
        let node = platform.current_node().ok_or(ToolError::NoContext)?;
        resolve_agent(platform, &node)?
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
    let key = TotpKey::parse(stored).map_err(|error| {
        if error.is_unsupported() {
            ToolError::UnsupportedSecret(error)
        } else {
            ToolError::InvalidSecret(error)
        }
    })?;
    let totp = otp::totp(key.key(), key.params, platform.now());
    Ok(Issued {
        username,
        totp,
        params: key.params,
        short_secret: key.key().len() < MIN_SECRET_BYTES,
    })
}

/// The username of the agent a tool node serves, found through the node's
/// single outgoing `tool` edge (see [`agent_username`]). Hosts that
/// provision agent users use it too, so that the names they create are the
/// names the tool looks up.
pub fn resolve_agent<D: Directory + ?Sized>(
    directory: &D,
    tool_node: &NodeRef,
) -> Result<String, ToolError> {
    let NodeRef {
        workflow_id,
        node_id,
    } = tool_node;
    let targets = directory.edge_targets(workflow_id, node_id, TOOL_EDGE_LABEL)?;
    let username = match distinct_agents(&targets).as_slice() {
        // The reference platform's fallback for a tool not (yet) linked.
        [] => agent_username(workflow_id, node_id),
        [agent_node] => {
            let slug = directory
                .workflow_slug(workflow_id)?
                .filter(|slug| !slug.is_empty())
                .unwrap_or_else(|| workflow_id.clone());
            agent_username(&slug, agent_node)
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

/// The reference platform's naming rule for agent users:
/// `agent_{workflow_slug}_{agent_node_id}` (the workflow id stands in for a
/// missing slug, and for an unlinked tool, its own node for the agent's).
pub fn agent_username(slug: &str, agent_node_id: &str) -> String {
    // Concatenated rather than format!ed: core::fmt's machinery is a
    // visible share of an auto-resolved call in the component (and the
    // bump allocator grows the latest allocation in place).
    let mut username = agent_username_prefix(slug);
    username.push_str(agent_node_id);
    username
}

/// `agent_{slug}_`: what every agent username of a workflow starts with.
pub fn agent_username_prefix(slug: &str) -> String {
    let mut prefix = String::with_capacity("agent_".len() + slug.len() + 1);
    prefix.push_str("agent_");
    prefix.push_str(slug);
    prefix.push('_');
    prefix
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
    if count > MAX_COUNTED_AGENTS {
        format!("More than {MAX_COUNTED_AGENTS}")
    } else {
        count.to_string()
    }
}
