//! The conformance cases a standard-WASI host can run: a case whose store
//! and node the WASI provider's configuration contract can say (see
//! host-test/wasi-provider/README.md), written as that configuration.
//! The wasmtime CLI and Obelisk tests read it; the judge is the one every
//! host's results go through.

use totp_wasi_provider::config::MAX_USERS;

use totp_test_support::judge::{CASES, Case};

/// A configuration variable and its value.
pub type Var = (String, String);

/// The provider's variables for `case`, or `None` when the case needs
/// something the contract cannot say: a host failure, `invoke`, a person
/// named like an agent (or the reverse), a user without a secret, no user,
/// a tool node without exactly one agent, or an empty value (which the
/// contract refuses as a configuration error).
pub fn case_env(case: &Case) -> Option<Vec<Var>> {
    if case.call != "get-totp-code" || case.host_failure.is_some() {
        return None;
    }
    let users = &case.store.users;
    if users.is_empty() || users.len() > MAX_USERS {
        return None;
    }
    let mut vars = Vec::new();
    for (i, user) in users.iter().enumerate() {
        let secret = user.totp_secret.as_deref()?;
        if user.username.is_empty()
            || user.is_agent != user.username.starts_with("agent_")
            || [user.username.as_str(), secret]
                .iter()
                .any(|v| v.contains('\0'))
        {
            return None;
        }
        let suffix = if i == 0 {
            String::new()
        } else {
            format!("_{}", i + 1)
        };
        vars.push((format!("TOTP_USERNAME{suffix}"), user.username.clone()));
        vars.push((format!("TOTP_SECRET{suffix}"), secret.to_owned()));
    }
    if let Some(node) = &case.node {
        let agents: Vec<&str> = case
            .store
            .workflow_edges
            .iter()
            .filter(|edge| {
                edge.workflow_id == node.workflow_id
                    && edge.source_node_id == node.node_id
                    && edge.edge_label == "tool"
            })
            .map(|edge| edge.target_node_id.as_str())
            .collect();
        let [agent] = agents[..] else {
            return None;
        };
        vars.push(("TOTP_WORKFLOW_ID".into(), node.workflow_id.clone()));
        vars.push(("TOTP_NODE_ID".into(), node.node_id.clone()));
        vars.push(("TOTP_AGENT_NODE_ID".into(), agent.to_owned()));
        let slug = case
            .store
            .workflows
            .iter()
            .find(|workflow| workflow.id == node.workflow_id)
            .and_then(|workflow| workflow.slug.clone());
        if let Some(slug) = slug {
            vars.push(("TOTP_WORKFLOW_SLUG".into(), slug));
        }
    }
    if vars
        .iter()
        .any(|(_, value)| value.is_empty() || value.contains('\0'))
    {
        return None;
    }
    Some(vars)
}

/// Every case that applies, with its variables.
pub fn applicable_cases() -> Vec<(&'static Case, Vec<Var>)> {
    CASES
        .iter()
        .filter_map(|case| case_env(case).map(|vars| (case, vars)))
        .collect()
}
