//! The configuration contract: which variables the provider reads, and what
//! makes a set of them valid. Plain Rust over a lookup function, so that it
//! is tested and fuzzed natively.
//!
//! | Variable | |
//! |---|---|
//! | `TOTP_USERNAME`, `TOTP_SECRET` | required: the first user and its secret |
//! | `TOTP_USERNAME_n`, `TOTP_SECRET_n` (n = 2..=16) | optional further users, each pair complete; numbers may be skipped |
//! | `TOTP_WORKFLOW_ID`, `TOTP_NODE_ID`, `TOTP_AGENT_NODE_ID` | all or none: the calling tool node and the agent node its `tool` edge leads to |
//! | `TOTP_WORKFLOW_SLUG` | optional, only with the node variables: the workflow's slug |
//!
//! A user is an agent user when its name starts with `agent_`. A secret is
//! handed to the tool as it is; the tool validates it. A set variable must
//! not be empty, and two pairs must not name the same user.
//!
//! An error names variables, never a value: the values are secrets or
//! identify users, and the messages reach the agent.

use std::fmt;

use zeroize::Zeroizing;

/// Users the provider can hold: `TOTP_USERNAME` plus `_2` to `_16`.
pub const MAX_USERS: usize = 16;

/// What an agent user's name starts with.
pub const AGENT_PREFIX: &str = "agent_";

pub const WORKFLOW_ID: &str = "TOTP_WORKFLOW_ID";
pub const NODE_ID: &str = "TOTP_NODE_ID";
pub const AGENT_NODE_ID: &str = "TOTP_AGENT_NODE_ID";
pub const WORKFLOW_SLUG: &str = "TOTP_WORKFLOW_SLUG";

const USERNAME_BASE: &str = "TOTP_USERNAME";
const SECRET_BASE: &str = "TOTP_SECRET";

/// The username variable of pair `index` (1-based): `TOTP_USERNAME`,
/// `TOTP_USERNAME_2`, ...
pub fn username_variable(index: usize) -> String {
    pair_variable(USERNAME_BASE, index)
}

/// The secret variable of pair `index` (1-based).
pub fn secret_variable(index: usize) -> String {
    pair_variable(SECRET_BASE, index)
}

fn pair_variable(base: &str, index: usize) -> String {
    if index == 1 {
        base.to_owned()
    } else {
        format!("{base}_{index}")
    }
}

/// Every variable name the provider reads, in the order it reads them.
pub fn variable_names() -> Vec<String> {
    let mut names = Vec::with_capacity(2 * MAX_USERS + 4);
    for index in 1..=MAX_USERS {
        names.push(username_variable(index));
        names.push(secret_variable(index));
    }
    names.extend([WORKFLOW_ID, NODE_ID, AGENT_NODE_ID, WORKFLOW_SLUG].map(str::to_owned));
    names
}

/// A configured user.
#[derive(Clone, PartialEq, Eq)]
pub struct ConfiguredUser {
    pub username: String,
    /// The secret text as configured, wiped from memory when dropped.
    pub secret: Zeroizing<String>,
}

impl ConfiguredUser {
    /// True for agent users: names starting with [`AGENT_PREFIX`].
    pub fn is_agent(&self) -> bool {
        is_agent(&self.username)
    }
}

impl fmt::Debug for ConfiguredUser {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ConfiguredUser")
            .field("username", &self.username)
            .field("secret", &"<redacted>")
            .finish()
    }
}

/// True for agent users' names.
pub fn is_agent(username: &str) -> bool {
    username.starts_with(AGENT_PREFIX)
}

/// The calling tool node and the agent node its `tool` edge leads to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NodeConfig {
    pub workflow_id: String,
    pub node_id: String,
    pub agent_node_id: String,
    pub workflow_slug: Option<String>,
}

/// A valid configuration.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// In pair order; one to [`MAX_USERS`], names distinct.
    pub users: Vec<ConfiguredUser>,
    /// `None` when no node variable is set.
    pub node: Option<NodeConfig>,
}

/// Why a configuration source could not be read (`wasi:config/store`'s
/// `upstream` and `io` errors). The source's message is not kept: nothing
/// says it holds no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SourceError {
    Upstream,
    Io,
}

/// Why a configuration is invalid. The message names variables only.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigError {
    #[error("{0} is not set")]
    Missing(String),
    #[error("{0} is set but empty")]
    Empty(String),
    #[error("{set} is set without {missing}")]
    HalfPair { set: String, missing: String },
    #[error("{again} names the same user as {first}")]
    DuplicateUser { first: String, again: String },
    #[error(
        "{set} is set without {missing} ({WORKFLOW_ID}, {NODE_ID} and {AGENT_NODE_ID} go together)"
    )]
    PartialNode {
        set: &'static str,
        missing: &'static str,
    },
    #[error("{WORKFLOW_SLUG} is set without {WORKFLOW_ID}, {NODE_ID} and {AGENT_NODE_ID}")]
    SlugWithoutNode,
    #[error("{0} is not a variable of the TOTP provider (users are numbered 2 to {MAX_USERS})")]
    UnknownVariable(String),
    #[error("{0} is set more than once")]
    Repeated(String),
    #[error("reading {variable} failed ({})", match kind {
        SourceError::Upstream => "upstream error",
        SourceError::Io => "I/O error",
    })]
    Source { variable: String, kind: SourceError },
}

impl ConfigError {
    /// The text a lookup answers with: says whose configuration it is.
    pub fn message(&self) -> String {
        format!("the TOTP provider's configuration is invalid: {self}")
    }
}

impl Config {
    /// The configuration from an infallible lookup (environment variables
    /// by name, a map in tests).
    pub fn from_lookup(lookup: impl Fn(&str) -> Option<String>) -> Result<Config, ConfigError> {
        Config::from_source(|name| Ok(lookup(name)))
    }

    /// The configuration from a whole list of variables, such as
    /// `wasi:cli/environment`'s: besides [`Config::from_lookup`]'s checks,
    /// a `TOTP_USERNAME…`/`TOTP_SECRET…` name outside the contract (`_17`,
    /// `_1`, `_02`) and a contract variable listed twice are errors rather
    /// than ignored. Other variables are ignored.
    pub fn from_variables<S: AsRef<str>>(variables: &[(S, S)]) -> Result<Config, ConfigError> {
        let known = variable_names();
        for (position, (name, _)) in variables.iter().enumerate() {
            let name = name.as_ref();
            let is_contract = known.iter().any(|known| known == name);
            if !is_contract && (name.starts_with(USERNAME_BASE) || name.starts_with(SECRET_BASE)) {
                return Err(ConfigError::UnknownVariable(name.to_owned()));
            }
            if is_contract
                && variables[..position]
                    .iter()
                    .any(|(earlier, _)| earlier.as_ref() == name)
            {
                return Err(ConfigError::Repeated(name.to_owned()));
            }
        }
        Config::from_lookup(|name| {
            variables
                .iter()
                .find(|(key, _)| key.as_ref() == name)
                .map(|(_, value)| value.as_ref().to_owned())
        })
    }

    /// The configuration from a fallible lookup (`wasi:config/store`'s
    /// `get`). Reads every contract variable, pair by pair.
    pub fn from_source(
        mut lookup: impl FnMut(&str) -> Result<Option<String>, SourceError>,
    ) -> Result<Config, ConfigError> {
        let mut read = |name: &str| -> Result<Option<Zeroizing<String>>, ConfigError> {
            match lookup(name) {
                Ok(Some(value)) if value.is_empty() => Err(ConfigError::Empty(name.to_owned())),
                Ok(value) => Ok(value.map(Zeroizing::new)),
                Err(kind) => Err(ConfigError::Source {
                    variable: name.to_owned(),
                    kind,
                }),
            }
        };

        let mut users: Vec<ConfiguredUser> = Vec::new();
        let mut user_variables: Vec<String> = Vec::new();
        for index in 1..=MAX_USERS {
            let username_name = username_variable(index);
            let secret_name = secret_variable(index);
            let username = read(&username_name)?;
            let secret = read(&secret_name)?;
            let (username, secret) = match (username, secret) {
                (Some(username), Some(secret)) => (username, secret),
                (None, None) if index == 1 => return Err(ConfigError::Missing(username_name)),
                (None, None) => continue,
                (Some(_), None) => {
                    return Err(ConfigError::HalfPair {
                        set: username_name,
                        missing: secret_name,
                    });
                }
                (None, Some(_)) => {
                    return Err(ConfigError::HalfPair {
                        set: secret_name,
                        missing: username_name,
                    });
                }
            };
            if let Some(first) = users.iter().position(|user| *user.username == **username) {
                return Err(ConfigError::DuplicateUser {
                    first: user_variables[first].clone(),
                    again: username_name,
                });
            }
            users.push(ConfiguredUser {
                username: (*username).clone(),
                secret,
            });
            user_variables.push(username_name);
        }

        let workflow_id = read(WORKFLOW_ID)?;
        let node_id = read(NODE_ID)?;
        let agent_node_id = read(AGENT_NODE_ID)?;
        let workflow_slug = read(WORKFLOW_SLUG)?;
        let node = match (workflow_id, node_id, agent_node_id) {
            (Some(workflow_id), Some(node_id), Some(agent_node_id)) => Some(NodeConfig {
                workflow_id: (*workflow_id).clone(),
                node_id: (*node_id).clone(),
                agent_node_id: (*agent_node_id).clone(),
                workflow_slug: workflow_slug.map(|slug| (*slug).clone()),
            }),
            (None, None, None) if workflow_slug.is_some() => {
                return Err(ConfigError::SlugWithoutNode);
            }
            (None, None, None) => None,
            (workflow_id, node_id, agent_node_id) => {
                let present = [
                    (WORKFLOW_ID, workflow_id.is_some()),
                    (NODE_ID, node_id.is_some()),
                    (AGENT_NODE_ID, agent_node_id.is_some()),
                ];
                let set = present.iter().find(|(_, set)| *set).map(|(name, _)| *name);
                let missing = present.iter().find(|(_, set)| !*set).map(|(name, _)| *name);
                // Some are set and some are not, so both exist.
                return Err(ConfigError::PartialNode {
                    set: set.unwrap_or(WORKFLOW_ID),
                    missing: missing.unwrap_or(NODE_ID),
                });
            }
        };
        Ok(Config { users, node })
    }

    /// The configured user named exactly `username`.
    pub fn user(&self, username: &str) -> Option<&ConfiguredUser> {
        self.users.iter().find(|user| user.username == username)
    }
}

#[cfg(test)]
mod tests {
    use std::collections::HashMap;

    use super::*;

    const SECRET: &str = "JBSWY3DPEHPK3PXP";

    fn parse(vars: &[(&str, &str)]) -> Result<Config, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Config::from_lookup(|name| map.get(name).cloned())
    }

    fn error(vars: &[(&str, &str)]) -> String {
        let error = parse(vars).unwrap_err();
        let message = error.message();
        for (_, value) in vars.iter().filter(|(_, value)| !value.is_empty()) {
            assert!(
                !message.contains(value),
                "{message:?} shows the value {value:?}"
            );
        }
        error.to_string()
    }

    #[test]
    fn one_user() {
        let config = parse(&[("TOTP_USERNAME", "agent_wf_a1"), ("TOTP_SECRET", SECRET)]).unwrap();
        assert_eq!(config.users.len(), 1);
        assert_eq!(config.users[0].username, "agent_wf_a1");
        assert_eq!(config.users[0].secret.as_str(), SECRET);
        assert!(config.users[0].is_agent());
        assert_eq!(config.node, None);
    }

    #[test]
    fn secret_is_kept_as_is() {
        let secret = " jbsw y3dp ehpk 3pxp= ";
        let config = parse(&[("TOTP_USERNAME", "agent_x"), ("TOTP_SECRET", secret)]).unwrap();
        assert_eq!(config.users[0].secret.as_str(), secret);
    }

    #[test]
    fn missing_required_variables() {
        assert_eq!(error(&[]), "TOTP_USERNAME is not set");
        assert_eq!(
            error(&[("TOTP_USERNAME", "agent_x")]),
            "TOTP_USERNAME is set without TOTP_SECRET"
        );
        assert_eq!(
            error(&[("TOTP_SECRET", SECRET)]),
            "TOTP_SECRET is set without TOTP_USERNAME"
        );
        // Further pairs do not stand in for the first.
        assert_eq!(
            error(&[("TOTP_USERNAME_2", "agent_x"), ("TOTP_SECRET_2", SECRET)]),
            "TOTP_USERNAME is not set"
        );
    }

    #[test]
    fn empty_values() {
        assert_eq!(
            error(&[("TOTP_USERNAME", ""), ("TOTP_SECRET", SECRET)]),
            "TOTP_USERNAME is set but empty"
        );
        assert_eq!(
            error(&[("TOTP_USERNAME", "agent_x"), ("TOTP_SECRET", "")]),
            "TOTP_SECRET is set but empty"
        );
    }

    #[test]
    fn half_pairs() {
        let base = [("TOTP_USERNAME", "agent_a"), ("TOTP_SECRET", SECRET)];
        let with = |extra: &[(&'static str, &'static str)]| {
            let mut vars = base.to_vec();
            vars.extend_from_slice(extra);
            error(&vars)
        };
        assert_eq!(
            with(&[("TOTP_SECRET_2", "OTHERSECRETVALUE")]),
            "TOTP_SECRET_2 is set without TOTP_USERNAME_2"
        );
        assert_eq!(
            with(&[("TOTP_USERNAME_7", "agent_b")]),
            "TOTP_USERNAME_7 is set without TOTP_SECRET_7"
        );
        assert!(parse(&base).is_ok(), "the first pair alone is valid");
    }

    #[test]
    fn numbers_may_be_skipped() {
        let config = parse(&[
            ("TOTP_USERNAME", "agent_a"),
            ("TOTP_SECRET", SECRET),
            ("TOTP_USERNAME_3", "agent_c"),
            ("TOTP_SECRET_3", "SECRETC"),
            ("TOTP_USERNAME_16", "person"),
            ("TOTP_SECRET_16", "SECRETP"),
        ])
        .unwrap();
        let names: Vec<_> = config.users.iter().map(|u| u.username.as_str()).collect();
        assert_eq!(names, ["agent_a", "agent_c", "person"]);
        assert_eq!(config.user("agent_c").unwrap().secret.as_str(), "SECRETC");
        assert!(config.user("agent_b").is_none());
    }

    #[test]
    fn sixteen_users_at_most() {
        let mut vars: Vec<(String, String)> = Vec::new();
        for index in 1..=MAX_USERS + 1 {
            vars.push((username_variable(index), format!("agent_u{index}")));
            vars.push((secret_variable(index), format!("SECRET{index}")));
        }
        assert_eq!(vars[32].0, "TOTP_USERNAME_17");
        // A lookup by name never asks for a seventeenth pair...
        let map: HashMap<_, _> = vars.iter().cloned().collect();
        let config = Config::from_lookup(|name| map.get(name).cloned()).unwrap();
        assert_eq!(config.users.len(), MAX_USERS);
        assert_eq!(config.users[15].username, "agent_u16");
        // ...and a whole list refuses one rather than ignore it.
        let error = Config::from_variables(&vars).unwrap_err();
        assert_eq!(
            error.to_string(),
            "TOTP_USERNAME_17 is not a variable of the TOTP provider (users are numbered 2 to 16)"
        );
        assert!(!error.message().contains("agent_u17"));
        assert!(Config::from_variables(&vars[..32]).is_ok());
    }

    #[test]
    fn names_outside_the_contract() {
        for name in [
            "TOTP_SECRET_1",
            "TOTP_USERNAME_02",
            "TOTP_SECRET_0",
            "TOTP_SECRETS",
            "TOTP_USERNAME_",
        ] {
            let vars = [
                ("TOTP_USERNAME", "agent_a"),
                ("TOTP_SECRET", SECRET),
                (name, "value-of-the-variable"),
            ];
            let error = Config::from_variables(&vars).unwrap_err();
            assert_eq!(error, ConfigError::UnknownVariable(name.to_owned()));
            assert!(!error.message().contains("value-of-the-variable"));
        }
        // Other variables are none of the provider's business.
        let vars = [
            ("TOTP_USERNAME", "agent_a"),
            ("TOTP_SECRET", SECRET),
            ("PATH", "/bin"),
            ("TOTP_OTHER", "x"),
        ];
        assert!(Config::from_variables(&vars).is_ok());
    }

    #[test]
    fn repeated_variable_in_a_list() {
        let vars = [
            ("TOTP_USERNAME", "agent_a"),
            ("TOTP_SECRET", SECRET),
            ("TOTP_SECRET", "ANOTHERSECRET"),
        ];
        let error = Config::from_variables(&vars).unwrap_err();
        assert_eq!(error.to_string(), "TOTP_SECRET is set more than once");
        assert!(!error.message().contains(SECRET));
    }

    #[test]
    fn duplicate_users() {
        assert_eq!(
            error(&[
                ("TOTP_USERNAME", "agent_a"),
                ("TOTP_SECRET", SECRET),
                ("TOTP_USERNAME_4", "agent_a"),
                ("TOTP_SECRET_4", "OTHERSECRET"),
            ]),
            "TOTP_USERNAME_4 names the same user as TOTP_USERNAME"
        );
    }

    #[test]
    fn node_variables_all_or_none() {
        let base = [("TOTP_USERNAME", "agent_a"), ("TOTP_SECRET", SECRET)];
        let node = [
            (WORKFLOW_ID, "wf-1"),
            (NODE_ID, "tool-1"),
            (AGENT_NODE_ID, "agent-1"),
        ];
        let config = parse(&[base.as_slice(), node.as_slice()].concat()).unwrap();
        assert_eq!(
            config.node,
            Some(NodeConfig {
                workflow_id: "wf-1".into(),
                node_id: "tool-1".into(),
                agent_node_id: "agent-1".into(),
                workflow_slug: None,
            })
        );
        // Every proper, non-empty subset is an error naming a set variable
        // and a missing one.
        for mask in 1..7u8 {
            let subset: Vec<_> = node
                .iter()
                .enumerate()
                .filter(|(i, _)| mask & (1 << i) != 0)
                .map(|(_, v)| *v)
                .collect();
            let message = error(&[base.as_slice(), subset.as_slice()].concat());
            let set = subset[0].0;
            let missing = node
                .iter()
                .find(|(name, _)| !subset.iter().any(|(n, _)| n == name))
                .unwrap()
                .0;
            assert_eq!(
                message,
                format!(
                    "{set} is set without {missing} (TOTP_WORKFLOW_ID, TOTP_NODE_ID and TOTP_AGENT_NODE_ID go together)"
                )
            );
        }
    }

    #[test]
    fn slug() {
        let vars = [
            ("TOTP_USERNAME", "agent_a"),
            ("TOTP_SECRET", SECRET),
            (WORKFLOW_ID, "wf-1"),
            (NODE_ID, "tool-1"),
            (AGENT_NODE_ID, "agent-1"),
            (WORKFLOW_SLUG, "my-flow"),
        ];
        let config = parse(&vars).unwrap();
        assert_eq!(
            config.node.unwrap().workflow_slug.as_deref(),
            Some("my-flow")
        );
        assert_eq!(
            error(&[vars[0], vars[1], vars[5]]),
            "TOTP_WORKFLOW_SLUG is set without TOTP_WORKFLOW_ID, TOTP_NODE_ID and TOTP_AGENT_NODE_ID"
        );
        assert_eq!(
            error(&[
                vars[0],
                vars[1],
                vars[2],
                vars[3],
                vars[4],
                (WORKFLOW_SLUG, "")
            ]),
            "TOTP_WORKFLOW_SLUG is set but empty"
        );
    }

    #[test]
    fn agent_prefix() {
        assert!(is_agent("agent_wf_node"));
        assert!(is_agent("agent_"));
        assert!(!is_agent("agent"));
        assert!(!is_agent("Agent_x"));
        assert!(!is_agent("alice"));
        assert!(!is_agent(" agent_x"));
    }

    #[test]
    fn source_errors_name_the_variable() {
        let error = Config::from_source(|name| {
            if name == "TOTP_SECRET" {
                Err(SourceError::Io)
            } else {
                Ok(Some("agent_a".to_owned()))
            }
        })
        .unwrap_err();
        assert_eq!(error.to_string(), "reading TOTP_SECRET failed (I/O error)");
    }

    #[test]
    fn message_prefix() {
        let error = parse(&[
            ("TOTP_USERNAME", "agent_a"),
            ("TOTP_SECRET", SECRET),
            ("TOTP_SECRET_2", SECRET),
        ])
        .unwrap_err();
        assert_eq!(
            error.message(),
            "the TOTP provider's configuration is invalid: TOTP_SECRET_2 is set without TOTP_USERNAME_2"
        );
    }

    #[test]
    fn debug_redacts_secrets() {
        let config = parse(&[("TOTP_USERNAME", "agent_a"), ("TOTP_SECRET", SECRET)]).unwrap();
        let debug = format!("{config:?}");
        assert!(!debug.contains(SECRET), "{debug}");
        assert!(debug.contains("<redacted>"));
    }

    #[test]
    fn variable_names_cover_the_contract() {
        let names = variable_names();
        assert_eq!(names.len(), 36);
        assert_eq!(names[0], "TOTP_USERNAME");
        assert_eq!(names[3], "TOTP_SECRET_2");
        assert_eq!(names[31], "TOTP_SECRET_16");
    }
}
