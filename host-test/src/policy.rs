//! The reference host's access policy: which users a tool call may look up.
//!
//! Defence in depth: the guest already refuses people's accounts; the host
//! makes sure a tool cannot even read another workflow's agent or a person.

use get_totp_code::platform::{Directory, HostError, NodeRef, User};
use get_totp_code::tool::{agent_username_prefix, resolve_agent};

/// Which users a call's `find-user` may return.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum AccessPolicy {
    /// Only agent users, and, when the call comes from a tool node, only the
    /// agents of that node's workflow: usernames `agent_{slug}_...`, or the
    /// agent its own `tool` edge resolves to. Without a node (an operator at
    /// a terminal) only the agent-only rule applies.
    #[default]
    OwnWorkflow,
    /// Any agent user of any workflow (the reference platform's behaviour).
    AnyAgent,
    /// The directory's answer as it is: for hosts whose `Directory` enforces
    /// their own policy, and for testing the guest's own checks.
    Unrestricted,
}

impl AccessPolicy {
    /// `find-user` under this policy. Refusals are [`HostError::Denied`]
    /// whether or not the user exists, so they reveal nothing.
    pub fn find_user(
        self,
        directory: &(dyn Directory + Send + Sync),
        node: Option<&NodeRef>,
        username: &str,
    ) -> Result<Option<User>, HostError> {
        if self == AccessPolicy::Unrestricted {
            return directory.find_user(username);
        }
        if let (AccessPolicy::OwnWorkflow, Some(node)) = (self, node)
            && !in_workflow_of(directory, node, username)?
        {
            return Err(HostError::Denied);
        }
        match directory.find_user(username)? {
            Some(user) if !user.is_agent => Err(HostError::Denied),
            found => Ok(found),
        }
    }
}

/// Whether `username` names an agent of the workflow `node` belongs to:
/// the guest's own naming rule and resolution, so the two cannot disagree.
fn in_workflow_of(
    directory: &(dyn Directory + Send + Sync),
    node: &NodeRef,
    username: &str,
) -> Result<bool, HostError> {
    let slug = directory
        .workflow_slug(&node.workflow_id)?
        .filter(|slug| !slug.is_empty())
        .unwrap_or_else(|| node.workflow_id.clone());
    if username.starts_with(&agent_username_prefix(&slug)) {
        return Ok(true);
    }
    // The tool's own agent, also under the no-edge fallback name.
    Ok(resolve_agent(directory, node).is_ok_and(|own| own == username))
}
