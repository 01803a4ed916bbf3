//! The reference host's access policy: which users a tool call may look up.
//!
//! Defence in depth: the guest already refuses people's accounts; the host
//! makes sure a tool cannot even read another workflow's agent or a person.

use get_totp_code::platform::{HostError, WorkflowGraph};
use get_totp_code::tool::resolve_calling_agent;

use crate::directory::{AgentUser, Directory, DirectoryError, NodeRef};

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
    /// `find-user` under this policy. Refusals are [`DirectoryError::Denied`]
    /// whether or not the user exists, so they reveal nothing.
    pub fn find_user(
        self,
        directory: &dyn Directory,
        node: Option<&NodeRef>,
        username: &str,
    ) -> Result<Option<AgentUser>, DirectoryError> {
        if self == AccessPolicy::Unrestricted {
            return directory.find_user(username);
        }
        if let (AccessPolicy::OwnWorkflow, Some(node)) = (self, node)
            && !in_workflow_of(directory, node, username)?
        {
            return Err(DirectoryError::Denied);
        }
        match directory.find_user(username)? {
            Some(user) if !user.is_agent => Err(DirectoryError::Denied),
            found => Ok(found),
        }
    }
}

/// Whether `username` names an agent of the workflow `node` belongs to.
fn in_workflow_of(
    directory: &dyn Directory,
    node: &NodeRef,
    username: &str,
) -> Result<bool, DirectoryError> {
    let slug = directory
        .workflow_slug(&node.workflow_id)?
        .filter(|slug| !slug.is_empty())
        .unwrap_or_else(|| node.workflow_id.clone());
    if username
        .strip_prefix("agent_")
        .and_then(|rest| rest.strip_prefix(slug.as_str()))
        .is_some_and(|rest| rest.starts_with('_'))
    {
        return Ok(true);
    }
    // The tool's own agent, also under the no-edge fallback name.
    let view = GraphView { directory, node };
    Ok(resolve_calling_agent(&view).is_ok_and(|own| own == username))
}

/// A directory's graph seen from one tool node, for name resolution with
/// the guest's own code.
pub struct GraphView<'a> {
    pub directory: &'a dyn Directory,
    pub node: &'a NodeRef,
}

fn unavailable(error: DirectoryError) -> HostError {
    HostError::Unavailable(error.to_string())
}

impl WorkflowGraph for GraphView<'_> {
    fn current_node(&self) -> Option<NodeRef> {
        Some(self.node.clone())
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        self.directory
            .workflow_slug(workflow_id)
            .map_err(unavailable)
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        self.directory
            .edge_targets(workflow_id, source, label)
            .map_err(unavailable)
    }
}
