//! The WASI provider's configuration parser (`totp-wasi-provider`'s
//! `config`) on arbitrary sets of variables: contract names, numbered
//! names in and out of range, other names, any values, and a source that
//! fails on one name. It must never panic, and its outcome must not depend
//! on what the values say, only on which are empty and which are equal:
//! the same error for values renamed `v0`, `v1`..., so no error can echo a
//! value.

use std::collections::HashMap;

use arbitrary::Arbitrary;
use totp_wasi_provider::config::{Config, ConfigError, SourceError};

#[derive(Arbitrary, Debug, Clone)]
pub enum Name {
    /// `TOTP_USERNAME` for 1, else `TOTP_USERNAME_{n % 20}`: 0 and 17 to 19
    /// are outside the contract.
    Username(u8),
    Secret(u8),
    WorkflowId,
    NodeId,
    AgentNodeId,
    WorkflowSlug,
    Other(String),
}

impl Name {
    pub fn render(&self) -> String {
        let numbered = |base: &str, n: u8| match n % 20 {
            1 => base.to_owned(),
            n => format!("{base}_{n}"),
        };
        match self {
            Name::Username(n) => numbered("TOTP_USERNAME", *n),
            Name::Secret(n) => numbered("TOTP_SECRET", *n),
            Name::WorkflowId => "TOTP_WORKFLOW_ID".into(),
            Name::NodeId => "TOTP_NODE_ID".into(),
            Name::AgentNodeId => "TOTP_AGENT_NODE_ID".into(),
            Name::WorkflowSlug => "TOTP_WORKFLOW_SLUG".into(),
            Name::Other(name) => name.clone(),
        }
    }
}

#[derive(Arbitrary, Debug)]
pub struct Input {
    pub variables: Vec<(Name, String)>,
    /// The variable a fallible source fails to read, and how.
    pub failing: Option<(Name, bool)>,
}

/// The values renamed by equality class: empty stays empty, equal values
/// get the same `v{n}`.
fn canonical(variables: &[(String, String)]) -> Vec<(String, String)> {
    let mut classes: HashMap<&str, String> = HashMap::new();
    variables
        .iter()
        .map(|(name, value)| {
            let next = classes.len();
            let stand_in = if value.is_empty() {
                String::new()
            } else {
                classes
                    .entry(value.as_str())
                    .or_insert_with(|| format!("v{next}"))
                    .clone()
            };
            (name.clone(), stand_in)
        })
        .collect()
}

fn from_source(
    variables: &[(String, String)],
    failing: &Option<(String, SourceError)>,
) -> Result<Config, ConfigError> {
    Config::from_source(|name| match failing {
        Some((failing, kind)) if failing == name => Err(*kind),
        _ => Ok(variables
            .iter()
            .find(|(key, _)| key == name)
            .map(|(_, value)| value.clone())),
    })
}

/// Same outcome, same error; for valid configurations, the same shape.
fn assert_alike(got: &Result<Config, ConfigError>, stand_in: &Result<Config, ConfigError>) {
    match (got, stand_in) {
        (Err(got), Err(want)) => assert_eq!(got, want),
        (Ok(got), Ok(want)) => {
            assert_eq!(got.users.len(), want.users.len());
            assert_eq!(got.node.is_some(), want.node.is_some());
            let mut names: Vec<&str> = got.users.iter().map(|u| u.username.as_str()).collect();
            names.sort_unstable();
            names.dedup();
            assert_eq!(names.len(), got.users.len(), "usernames repeat");
            assert!(got.users.len() <= totp_wasi_provider::config::MAX_USERS);
        }
        (got, want) => panic!("{got:?} but with stand-in values {want:?}"),
    }
}

/// The target's body.
pub fn run(input: Input) {
    let variables: Vec<(String, String)> = input
        .variables
        .iter()
        .map(|(name, value)| (name.render(), value.clone()))
        .collect();
    let stand_ins = canonical(&variables);

    assert_alike(
        &Config::from_variables(&variables),
        &Config::from_variables(&stand_ins),
    );

    let failing = input.failing.as_ref().map(|(name, io)| {
        let kind = if *io {
            SourceError::Io
        } else {
            SourceError::Upstream
        };
        (name.render(), kind)
    });
    let got = from_source(&variables, &failing);
    assert_alike(&got, &from_source(&stand_ins, &failing));

    if let Err(error) = got {
        let message = error.message();
        assert!(message.starts_with("the TOTP provider's configuration is invalid: "));
        // Errors name contract variables only, except the names a whole
        // list is refused for, and `from_source` has no list.
        assert!(!matches!(
            error,
            ConfigError::UnknownVariable(_) | ConfigError::Repeated(_)
        ));
    }
}
