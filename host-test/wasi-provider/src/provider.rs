//! The answers to the tool's `secrets` and `workflow` calls, from a
//! configuration (or the reason it is invalid). Plain Rust; `bindings`
//! only converts types.

use zeroize::Zeroizing;

use crate::config::{Config, ConfigError};

/// The label of the edge from a tool node to the agent node that uses it
/// (the tool's `TOOL_EDGE_LABEL`).
pub const TOOL_EDGE_LABEL: &str = "tool";

/// The WIT record `user`, as the provider answers it.
#[derive(Clone, PartialEq, Eq)]
pub struct FoundUser {
    pub username: String,
    pub is_agent: bool,
    pub totp_secret: Zeroizing<String>,
}

impl core::fmt::Debug for FoundUser {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("FoundUser")
            .field("username", &self.username)
            .field("is_agent", &self.is_agent)
            .field("totp_secret", &"<redacted>")
            .finish()
    }
}

/// The WIT cases `unavailable(string)` of `lookup-error` and `graph-error`:
/// the message is for the agent and names no value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Unavailable(pub String);

/// The provider: a configuration read once per call, or why it is invalid.
///
/// An invalid configuration never traps: every lookup that can fail answers
/// `unavailable` with [`ConfigError::message`], so the tool reports
/// `host_error` with that text. `current-node` cannot fail in the WIT; with
/// an invalid configuration it answers a node with empty ids, whose edge
/// query then fails the same way, so that `get-totp-code("")` reports the
/// configuration error rather than `no_context`.
#[derive(Debug)]
pub struct Provider {
    config: Result<Config, ConfigError>,
}

impl Provider {
    pub fn new(config: Result<Config, ConfigError>) -> Self {
        Provider { config }
    }

    fn config(&self) -> Result<&Config, Unavailable> {
        self.config
            .as_ref()
            .map_err(|error| Unavailable(error.message()))
    }

    /// `secrets.find-user`: the configured user named exactly `username`.
    pub fn find_user(&self, username: &str) -> Result<Option<FoundUser>, Unavailable> {
        Ok(self.config()?.user(username).map(|user| FoundUser {
            username: user.username.clone(),
            is_agent: user.is_agent(),
            totp_secret: user.secret.clone(),
        }))
    }

    /// `workflow.current-node`: `(workflow id, node id)`.
    pub fn current_node(&self) -> Option<(String, String)> {
        match &self.config {
            Ok(config) => config
                .node
                .as_ref()
                .map(|node| (node.workflow_id.clone(), node.node_id.clone())),
            Err(_) => Some((String::new(), String::new())),
        }
    }

    /// `workflow.workflow-slug`: the configured slug of the configured
    /// workflow; `none` for any other.
    pub fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, Unavailable> {
        Ok(self
            .config()?
            .node
            .as_ref()
            .filter(|node| node.workflow_id == workflow_id)
            .and_then(|node| node.workflow_slug.clone()))
    }

    /// `workflow.edge-targets`: the one `tool` edge from the configured
    /// tool node to the configured agent node; no other edge exists.
    pub fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, Unavailable> {
        Ok(self
            .config()?
            .node
            .as_ref()
            .filter(|node| {
                node.workflow_id == workflow_id
                    && node.node_id == source_node_id
                    && label == TOOL_EDGE_LABEL
            })
            .map(|node| vec![node.agent_node_id.clone()])
            .unwrap_or_default())
    }
}

#[cfg(test)]
mod tests {
    //! The tool itself (the guest crate, natively) over the provider.

    use std::collections::HashMap;

    use get_totp_code::platform::{Directory, HostError, NodeRef, Platform, User};
    use serde_json::Value;

    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";
    /// RFC 6238's time 59, any 30 s step works.
    const NOW: u64 = 1_700_000_000;

    struct Host(Provider);

    fn host(vars: &[(&str, &str)]) -> Host {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Host(Provider::new(Config::from_lookup(|name| {
            map.get(name).cloned()
        })))
    }

    fn unavailable(error: Unavailable) -> HostError {
        HostError::Unavailable(error.0)
    }

    impl Directory for Host {
        fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
            Ok(self
                .0
                .find_user(username)
                .map_err(unavailable)?
                .map(|user| User {
                    username: user.username,
                    is_agent: user.is_agent,
                    totp_secret: Some(user.totp_secret),
                }))
        }

        fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
            self.0.workflow_slug(workflow_id).map_err(unavailable)
        }

        fn edge_targets(
            &self,
            workflow_id: &str,
            source_node_id: &str,
            label: &str,
        ) -> Result<Vec<String>, HostError> {
            self.0
                .edge_targets(workflow_id, source_node_id, label)
                .map_err(unavailable)
        }
    }

    impl Platform for Host {
        fn current_node(&self) -> Option<NodeRef> {
            self.0
                .current_node()
                .map(|(workflow_id, node_id)| NodeRef::new(workflow_id, node_id))
        }

        fn now(&self) -> u64 {
            NOW
        }
    }

    fn call(host: &Host, username: &str) -> Value {
        serde_json::from_str(&get_totp_code::get_totp_code_json(host, username)).unwrap()
    }

    fn node_vars() -> Vec<(&'static str, &'static str)> {
        vec![
            ("TOTP_USERNAME", "agent_my-flow_agent-1"),
            ("TOTP_SECRET", SECRET),
            ("TOTP_WORKFLOW_ID", "wf-1"),
            ("TOTP_NODE_ID", "tool-1"),
            ("TOTP_AGENT_NODE_ID", "agent-1"),
            ("TOTP_WORKFLOW_SLUG", "my-flow"),
        ]
    }

    #[test]
    fn named_agent_gets_a_code() {
        let host = host(&[("TOTP_USERNAME", "agent_x"), ("TOTP_SECRET", SECRET)]);
        let result = call(&host, "agent_x");
        assert_eq!(result["success"], true, "{result}");
        assert_eq!(result["username"], "agent_x");
        assert_eq!(result["totp_code"].as_str().unwrap().len(), 6);
    }

    #[test]
    fn empty_username_resolves_the_agent_through_the_tool_edge() {
        let result = call(&host(&node_vars()), "");
        assert_eq!(result["success"], true, "{result}");
        assert_eq!(result["username"], "agent_my-flow_agent-1");
    }

    #[test]
    fn without_slug_the_workflow_id_names_the_agent() {
        let mut vars = node_vars();
        vars.pop();
        vars[0].1 = "agent_wf-1_agent-1";
        let result = call(&host(&vars), "");
        assert_eq!(result["success"], true, "{result}");
        assert_eq!(result["username"], "agent_wf-1_agent-1");
    }

    #[test]
    fn without_node_variables_an_empty_username_has_no_context() {
        let host = host(&[("TOTP_USERNAME", "agent_x"), ("TOTP_SECRET", SECRET)]);
        assert_eq!(call(&host, "")["error_code"], "no_context");
    }

    #[test]
    fn unknown_and_non_agent_users_are_not_found() {
        let host = host(&[
            ("TOTP_USERNAME", "agent_x"),
            ("TOTP_SECRET", SECRET),
            ("TOTP_USERNAME_2", "alice"),
            ("TOTP_SECRET_2", SECRET),
        ]);
        assert_eq!(call(&host, "agent_y")["error_code"], "user_not_found");
        assert_eq!(call(&host, "alice")["error_code"], "user_not_found");
        assert!(!host.0.find_user("alice").unwrap().unwrap().is_agent);
    }

    #[test]
    fn the_tool_validates_the_secret() {
        let host = host(&[("TOTP_USERNAME", "agent_x"), ("TOTP_SECRET", "not base32!")]);
        let result = call(&host, "agent_x");
        assert_eq!(result["error_code"], "invalid_secret", "{result}");
        assert!(!result.to_string().contains("not base32!"));
    }

    #[test]
    fn invalid_configuration_is_a_host_error_naming_the_variable() {
        let vars = [
            ("TOTP_USERNAME", "agent_x"),
            ("TOTP_SECRET", SECRET),
            ("TOTP_SECRET_2", "SECRETOFTHESECONDUSER"),
        ];
        let want = "Host error: the TOTP provider's configuration is invalid: \
                    TOTP_SECRET_2 is set without TOTP_USERNAME_2";
        let host = host(&vars);
        for username in ["agent_x", ""] {
            let result = call(&host, username);
            assert_eq!(result["error_code"], "host_error", "{result}");
            assert_eq!(result["error"], want);
            assert!(!result.to_string().contains(SECRET));
            assert!(!result.to_string().contains("SECRETOFTHESECONDUSER"));
        }
    }

    #[test]
    fn partial_node_configuration_is_reported_for_an_empty_username() {
        let mut vars = node_vars();
        vars.remove(3);
        let result = call(&host(&vars), "");
        assert_eq!(result["error_code"], "host_error", "{result}");
        assert!(
            result["error"]
                .as_str()
                .unwrap()
                .contains("TOTP_WORKFLOW_ID is set without TOTP_NODE_ID")
        );
    }

    #[test]
    fn only_the_configured_edge_exists() {
        let host = host(&node_vars());
        let p = &host.0;
        assert_eq!(
            p.edge_targets("wf-1", "tool-1", "tool").unwrap(),
            ["agent-1"]
        );
        assert!(
            p.edge_targets("wf-1", "tool-1", "other")
                .unwrap()
                .is_empty()
        );
        assert!(p.edge_targets("wf-1", "tool-2", "tool").unwrap().is_empty());
        assert!(p.edge_targets("wf-2", "tool-1", "tool").unwrap().is_empty());
        assert_eq!(p.workflow_slug("wf-1").unwrap().as_deref(), Some("my-flow"));
        assert_eq!(p.workflow_slug("wf-2").unwrap(), None);
    }
}
