//! The context of one tool call: what the component's imports answer from.

use std::sync::{Arc, Mutex};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use get_totp_code::platform::{Directory, HostError, NodeRef, Platform, User};

use crate::policy::AccessPolicy;

/// Where the component's `wall-clock` reads the time from.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Clock {
    /// The host's system clock.
    #[default]
    System,
    /// A fixed Unix time in seconds (tests, `--at`).
    Fixed(u64),
}

impl Clock {
    /// Seconds and nanoseconds since the Unix epoch. A system clock set
    /// before 1970 reads as the epoch rather than failing the call.
    pub fn now(self) -> (u64, u32) {
        match self {
            Clock::Fixed(seconds) => (seconds, 0),
            Clock::System => SystemTime::now()
                .duration_since(UNIX_EPOCH)
                .map(|d| (d.as_secs(), d.subsec_nanos()))
                .unwrap_or((0, 0)),
        }
    }
}

/// Everything one tool call may see. It is also the guest's [`Platform`]:
/// the component's imports are answered from it, and the guest's code
/// compiled natively can run over it (benchmarks).
#[derive(Clone)]
pub struct Call {
    pub directory: Arc<dyn Directory + Send + Sync>,
    /// The calling tool's node; `None` outside any workflow.
    pub node: Option<NodeRef>,
    pub clock: Clock,
    /// Which users the call may look up.
    pub policy: AccessPolicy,
    /// The id of the MCP token the call was made with, for the audit trail;
    /// `None` when the caller had none (the CLI).
    pub token_id: Option<String>,
    /// A code handed out must stay valid at least this long: when the
    /// current one expires sooner, the host waits for the next period and
    /// hands out that one (see [`crate::validity`]). Zero: the current code,
    /// however soon it expires.
    pub min_validity: Duration,
}

impl Call {
    pub fn new(directory: Arc<dyn Directory + Send + Sync>) -> Self {
        Call {
            directory,
            node: None,
            clock: Clock::System,
            policy: AccessPolicy::default(),
            token_id: None,
            min_validity: Duration::ZERO,
        }
    }

    pub fn at_node(mut self, node: NodeRef) -> Self {
        self.node = Some(node);
        self
    }

    pub fn with_clock(mut self, clock: Clock) -> Self {
        self.clock = clock;
        self
    }

    pub fn with_policy(mut self, policy: AccessPolicy) -> Self {
        self.policy = policy;
        self
    }

    pub fn with_token_id(mut self, token_id: impl Into<String>) -> Self {
        self.token_id = Some(token_id.into());
        self
    }

    pub fn with_min_validity(mut self, min_validity: Duration) -> Self {
        self.min_validity = min_validity;
        self
    }

    /// This call with its graph lookups remembered for its duration: the
    /// access policy asks for the slug and the tool edge the guest has just
    /// read, and a remote store should be asked once.
    pub(crate) fn remembering_lookups(&self) -> Call {
        Call {
            directory: Arc::new(Remembered {
                directory: self.directory.clone(),
                slugs: Mutex::default(),
                edges: Mutex::default(),
            }),
            ..self.clone()
        }
    }
}

/// A directory whose graph answers are kept for one call (failures are
/// not kept: each is the caller's to see). A call asks at most a few
/// questions, so a list searched in order beats hashing every key.
struct Remembered {
    directory: Arc<dyn Directory + Send + Sync>,
    slugs: Mutex<Vec<(String, Option<String>)>>,
    edges: Mutex<Vec<([String; 3], Vec<String>)>>,
}

impl Directory for Remembered {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        self.directory.find_user(username)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        let mut slugs = self.slugs.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, slug)) = slugs.iter().find(|(id, _)| id == workflow_id) {
            return Ok(slug.clone());
        }
        let slug = self.directory.workflow_slug(workflow_id)?;
        slugs.push((workflow_id.to_owned(), slug.clone()));
        Ok(slug)
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        let key = [workflow_id, source_node_id, label];
        let mut edges = self.edges.lock().unwrap_or_else(|e| e.into_inner());
        if let Some((_, targets)) = edges.iter().find(|(asked, _)| *asked == key) {
            return Ok(targets.clone());
        }
        let targets = self
            .directory
            .edge_targets(workflow_id, source_node_id, label)?;
        edges.push((key.map(str::to_owned), targets.clone()));
        Ok(targets)
    }
}

/// `find-user` goes through the access policy; the graph is read as is.
impl Directory for Call {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        self.policy
            .find_user(self.directory.as_ref(), self.node.as_ref(), username)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        self.directory.workflow_slug(workflow_id)
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        self.directory
            .edge_targets(workflow_id, source_node_id, label)
    }
}

impl Platform for Call {
    fn current_node(&self) -> Option<NodeRef> {
        self.node.clone()
    }

    fn now(&self) -> u64 {
        self.clock.now().0
    }
}
