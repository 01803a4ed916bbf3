//! Hostile or broken host answers: oversized, empty, odd or failing. Each
//! gives a clear error result; none panics the host or traps the guest
//! unchecked.

use std::sync::Arc;

use serde_json::Value;
use totp_host::{AccessPolicy, AgentUser, Call, Clock, Directory, DirectoryError, NodeRef};
use zeroize::Zeroizing;

use crate::util::*;

/// A directory whose answers are data, so each row of a table can set them.
#[derive(Clone, Default)]
struct Answers {
    user: Option<(String, bool, Option<String>)>,
    user_error: Option<String>,
    slug: Option<String>,
    edges: Vec<String>,
    graph_error: Option<String>,
}

impl Directory for Answers {
    fn find_user(&self, _: &str) -> Result<Option<AgentUser>, DirectoryError> {
        if let Some(message) = &self.user_error {
            return Err(DirectoryError::Unavailable(message.clone()));
        }
        Ok(self
            .user
            .clone()
            .map(|(username, is_agent, secret)| AgentUser {
                username,
                is_agent,
                totp_secret: secret.map(Zeroizing::new),
            }))
    }
    fn workflow_slug(&self, _: &str) -> Result<Option<String>, DirectoryError> {
        match &self.graph_error {
            Some(message) => Err(DirectoryError::Unavailable(message.clone())),
            None => Ok(self.slug.clone()),
        }
    }
    fn edge_targets(&self, _: &str, _: &str, _: &str) -> Result<Vec<String>, DirectoryError> {
        match &self.graph_error {
            Some(message) => Err(DirectoryError::Unavailable(message.clone())),
            None => Ok(self.edges.clone()),
        }
    }
}

fn agent(name: &str, secret: &str) -> Option<(String, bool, Option<String>)> {
    Some((name.to_owned(), true, Some(secret.to_owned())))
}

fn run(answers: Answers, node: Option<NodeRef>, username: &str) -> Value {
    let call = Call {
        directory: Arc::new(answers),
        node,
        clock: Clock::Fixed(59),
        // The answers go to the guest as they are: it is the guest's checks
        // under test here.
        policy: AccessPolicy::Unrestricted,
    };
    let text = tool().get_totp_code(&call, username);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

const MIB: usize = 1 << 20;

#[test]
fn hostile_host_answers_give_clear_errors() {
    let node = Some(NodeRef::new("wf-1", "tool_totp"));
    let every_import_fails = Answers {
        user_error: Some("store down".into()),
        graph_error: Some("graph down".into()),
        ..Answers::default()
    };
    let table: Vec<(&str, Answers, Option<NodeRef>, String, &str)> = vec![
        (
            "10 MiB username",
            Answers::default(),
            None,
            "a".repeat(10 * MIB),
            "host_error",
        ),
        (
            "1 MiB username",
            Answers::default(),
            None,
            "a".repeat(MIB),
            "invalid_arguments",
        ),
        (
            "10 MiB secret",
            Answers {
                user: agent("agent_x", &"A".repeat(10 * MIB)),
                ..Answers::default()
            },
            None,
            "agent_x".into(),
            "host_error",
        ),
        (
            "1 MiB secret of junk",
            Answers {
                user: agent("agent_x", &"!".repeat(MIB)),
                ..Answers::default()
            },
            None,
            "agent_x".into(),
            "invalid_secret",
        ),
        (
            "5000 tool edges",
            Answers {
                edges: (0..5000).map(|i| format!("agent_{i}")).collect(),
                ..Answers::default()
            },
            node.clone(),
            String::new(),
            "ambiguous_agent",
        ),
        (
            "empty edge target, slug and user",
            Answers {
                edges: vec![String::new()],
                slug: Some(String::new()),
                ..Answers::default()
            },
            Some(NodeRef::new("", "")),
            String::new(),
            "user_not_found",
        ),
        (
            "host answers with an empty username",
            Answers {
                user: agent("", RFC_SECRET_B32),
                ..Answers::default()
            },
            None,
            "agent_x".into(),
            "host_error",
        ),
        (
            "slug with control characters",
            Answers {
                edges: vec!["agent\u{0}1".into()],
                slug: Some("wf\n\r\t\u{1b}[31m\u{7f}".into()),
                ..Answers::default()
            },
            node.clone(),
            String::new(),
            "user_not_found",
        ),
        (
            "100 KiB slug",
            Answers {
                edges: vec!["a".into()],
                slug: Some("s".repeat(100 << 10)),
                ..Answers::default()
            },
            node.clone(),
            String::new(),
            "host_error",
        ),
        (
            "every import fails, by name",
            every_import_fails.clone(),
            node.clone(),
            "agent_x".into(),
            "host_error",
        ),
        (
            "every import fails, resolving",
            every_import_fails,
            node.clone(),
            String::new(),
            "host_error",
        ),
        (
            "100 KiB host error message",
            Answers {
                user_error: Some("e".repeat(100 << 10)),
                ..Answers::default()
            },
            None,
            "agent_x".into(),
            "host_error",
        ),
        (
            "10 MiB host error message",
            Answers {
                user_error: Some("e".repeat(10 * MIB)),
                ..Answers::default()
            },
            None,
            "agent_x".into(),
            "host_error",
        ),
        (
            "secret of whitespace and padding only",
            Answers {
                user: agent("agent_x", " \t===\n"),
                ..Answers::default()
            },
            None,
            "agent_x".into(),
            "invalid_secret",
        ),
    ];
    for (name, answers, node, username, code) in table {
        let result = run(answers, node, &username);
        let message = assert_error(&result, code);
        assert!(
            message.len() < 1000,
            "{name}: {} byte message",
            message.len()
        );
    }
    let many = Answers {
        edges: (0..5000).map(|i| format!("agent_{i}")).collect(),
        ..Answers::default()
    };
    let message = assert_error(
        &run(many, Some(NodeRef::new("wf", "t")), ""),
        "ambiguous_agent",
    );
    assert!(message.starts_with("More than 50 agents"), "{message}");
    // And the host is still fine.
    let answers = Answers {
        user: agent("agent_x", RFC_SECRET_B32),
        ..Answers::default()
    };
    assert_eq!(run(answers, None, "agent_x")["totp_code"], "287082");
}
