//! The whole JSON path natively: `invoke_json` and `get_totp_code_json` over
//! an in-memory platform whose every answer comes from the fuzz input.

use crate::generators::{Base32Form, UriSpec};
use crate::oracles::{fixed_messages, leaked_window};
use arbitrary::Arbitrary;
use get_totp_code::arguments::parse_username;
use get_totp_code::platform::{Directory, HostError, NodeRef, Platform, User};
use get_totp_code::tool::{ErrorCode, ToolError, agent_username};
use get_totp_code::{get_totp_code_json, invoke_json};
use serde_json::Value;
use zeroize::Zeroizing;

#[derive(Arbitrary, Debug, Clone)]
pub enum Answer<T> {
    Ok(T),
    Denied,
    Unavailable(String),
}

impl<T: Clone> Answer<T> {
    fn get(&self) -> Result<T, HostError> {
        match self {
            Answer::Ok(value) => Ok(value.clone()),
            Answer::Denied => Err(HostError::Denied),
            Answer::Unavailable(message) => Err(HostError::Unavailable(message.clone())),
        }
    }

    fn host_message(&self) -> Option<&str> {
        match self {
            Answer::Unavailable(message) => Some(message),
            _ => None,
        }
    }
}

#[derive(Arbitrary, Debug, Clone)]
pub enum SecretSpec {
    Raw(String),
    Base32(Base32Form),
    Uri(UriSpec),
}

#[derive(Arbitrary, Debug, Clone)]
pub struct UserSpec {
    /// Answer with the name asked for, or with `other_name`.
    same_name: bool,
    other_name: String,
    is_agent: bool,
    secret: Option<SecretSpec>,
}

#[derive(Arbitrary, Debug)]
pub enum Call {
    /// `get-totp-code(username)`, and `invoke` with it as the argument.
    Direct(String),
    /// `invoke` with raw argument text.
    Invoke(String),
}

#[derive(Arbitrary, Debug)]
pub struct Scenario {
    call: Call,
    user: Answer<Option<UserSpec>>,
    node: Option<(String, String)>,
    slug: Answer<Option<String>>,
    edges: Answer<Vec<String>>,
    now: u64,
}

struct FuzzPlatform {
    user: Answer<Option<UserSpec>>,
    secret: Option<String>,
    node: Option<NodeRef>,
    slug: Answer<Option<String>>,
    edges: Answer<Vec<String>>,
    now: u64,
}

impl Platform for FuzzPlatform {
    fn current_node(&self) -> Option<NodeRef> {
        self.node.clone()
    }
    fn now(&self) -> u64 {
        self.now
    }
}

impl Directory for FuzzPlatform {
    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        assert_eq!(
            Some(workflow_id),
            self.node.as_ref().map(|n| n.workflow_id.as_str())
        );
        self.slug.get()
    }
    fn edge_targets(
        &self,
        workflow_id: &str,
        source: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        let node = self.node.as_ref().expect("edges asked for without a node");
        assert_eq!(
            (workflow_id, source, label),
            (node.workflow_id.as_str(), node.node_id.as_str(), "tool")
        );
        self.edges.get()
    }

    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        assert!(
            !username.is_empty() && username.len() <= 512,
            "{username:?}"
        );
        Ok(self.user.get()?.map(|spec| User {
            username: if spec.same_name {
                username.to_owned()
            } else {
                spec.other_name
            },
            is_agent: spec.is_agent,
            totp_secret: self.secret.clone().map(Zeroizing::new),
        }))
    }
}

/// Checks one result; returns it parsed.
fn check(platform: &FuzzPlatform, output: &str, allowed: &[String], asked: Option<&str>) -> Value {
    let value: Value =
        serde_json::from_str(output).unwrap_or_else(|e| panic!("not JSON ({e}): {output}"));
    let object = value
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {output}"));
    let success = object
        .get("success")
        .and_then(Value::as_bool)
        .unwrap_or_else(|| panic!("no boolean success: {output}"));
    if success {
        let Answer::Ok(Some(spec)) = &platform.user else {
            panic!("success without a user: {output}")
        };
        let username = object["username"].as_str().expect("username");
        // The host answered with the user asked for (echoed, or a name that
        // happens to be the same), an agent with a secret.
        assert!(
            spec.is_agent
                && (spec.same_name || spec.other_name == username)
                && platform.secret.is_some(),
            "{output}"
        );
        if let Some(asked) = asked.filter(|a| !a.is_empty()) {
            assert_eq!(username, asked);
        }
        let code = object["totp_code"].as_str().expect("totp_code");
        let digits = object
            .get("digits")
            .map_or(6, |d| d.as_u64().expect("digits"));
        let period = object
            .get("period")
            .map_or(30, |p| p.as_u64().expect("period"));
        assert!((6..=8).contains(&digits), "{output}");
        assert!(
            code.len() as u64 == digits && code.bytes().all(|b| b.is_ascii_digit()),
            "{output}"
        );
        let expires_in = object["expires_in"].as_u64().expect("expires_in");
        assert!((1..=period).contains(&expires_in), "{output}");
        assert_eq!(expires_in, period - platform.now % period, "{output}");
        for key in object.keys() {
            assert!(
                [
                    "success",
                    "username",
                    "totp_code",
                    "expires_in",
                    "digits",
                    "period",
                    "algorithm",
                    "warning"
                ]
                .contains(&key.as_str()),
                "{output}"
            );
        }
    } else {
        assert_eq!(object.len(), 3, "{output}");
        let code = object
            .get("error_code")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no error_code: {output}"));
        assert!(
            ErrorCode::ALL.iter().any(|known| known.as_str() == code),
            "{output}"
        );
        let error = object
            .get("error")
            .and_then(Value::as_str)
            .unwrap_or_else(|| panic!("no error: {output}"));
        if let Some(secret) = &platform.secret
            && let Some(window) = leaked_window(secret, error, allowed)
        {
            panic!("failure shows {window:?} of the secret {secret:?}: {output}");
        }
    }
    value
}

/// The target's body: every check on one input.
pub fn run(scenario: Scenario) {
    let secret = match &scenario.user {
        Answer::Ok(Some(UserSpec {
            secret: Some(spec), ..
        })) => Some(match spec {
            SecretSpec::Raw(text) => text.clone(),
            SecretSpec::Base32(form) => form.render(),
            SecretSpec::Uri(spec) => spec.render().0,
        }),
        _ => None,
    };
    let platform = FuzzPlatform {
        user: scenario.user.clone(),
        secret,
        node: scenario.node.clone().map(|(workflow_id, node_id)| NodeRef {
            workflow_id,
            node_id,
        }),
        slug: scenario.slug.clone(),
        edges: scenario.edges.clone(),
        now: scenario.now,
    };

    // Everything the caller or the host supplied may show in a failure.
    let mut allowed = fixed_messages();
    let host_messages = [
        scenario.user.host_message(),
        scenario.slug.host_message(),
        scenario.edges.host_message(),
    ];
    for message in host_messages.into_iter().flatten() {
        allowed.push(message.to_owned());
        allowed.push(ToolError::from(HostError::Unavailable(message.to_owned())).to_string());
    }
    if let Answer::Ok(Some(spec)) = &scenario.user {
        allowed.push(spec.other_name.clone());
    }
    if let Some((workflow, node)) = &scenario.node {
        allowed.push(agent_username(workflow, node));
        let slug = match &scenario.slug {
            Answer::Ok(Some(slug)) if !slug.is_empty() => slug.clone(),
            _ => workflow.clone(),
        };
        if let Answer::Ok(targets) = &scenario.edges {
            for target in targets {
                allowed.push(agent_username(&slug, target));
            }
        }
    }

    match &scenario.call {
        Call::Direct(username) => {
            allowed.push(username.clone());
            let direct = get_totp_code_json(&platform, username);
            let direct = check(&platform, &direct, &allowed, Some(username));
            let arguments = serde_json::json!({ "username": username }).to_string();
            let invoked = invoke_json(&platform, &arguments);
            let invoked = check(&platform, &invoked, &allowed, Some(username));
            assert_eq!(direct, invoked, "{arguments}");
        }
        Call::Invoke(arguments) => {
            allowed.push(arguments.clone());
            let parsed = parse_username(arguments);
            if let Err(error) = &parsed {
                allowed.push(ToolError::from(error.clone()).to_string());
            }
            let invoked = invoke_json(&platform, arguments);
            let invoked = check(&platform, &invoked, &allowed, parsed.as_deref().ok());
            match parsed {
                Ok(username) => {
                    let direct = get_totp_code_json(&platform, &username);
                    let direct = check(&platform, &direct, &allowed, Some(&username));
                    assert_eq!(direct, invoked, "{arguments:?}");
                }
                Err(_) => assert_eq!(invoked["error_code"], "invalid_arguments"),
            }
        }
    }
}
