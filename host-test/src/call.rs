//! The context of one tool call, and the store state built from it.

use std::sync::Arc;
use std::time::{SystemTime, UNIX_EPOCH};

use crate::directory::{Directory, NodeRef};
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

/// Everything one tool call may see.
#[derive(Clone)]
pub struct Call {
    pub directory: Arc<dyn Directory>,
    /// The calling tool's node; `None` outside any workflow.
    pub node: Option<NodeRef>,
    pub clock: Clock,
    /// Which users the call may look up.
    pub policy: AccessPolicy,
}

impl Call {
    pub fn new(directory: Arc<dyn Directory>) -> Self {
        Call {
            directory,
            node: None,
            clock: Clock::System,
            policy: AccessPolicy::default(),
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
}
