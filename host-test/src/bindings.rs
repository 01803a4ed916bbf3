//! Host side of the WIT world: the component's imports, answered from the
//! call's [`Call`] (its directory under its access policy, node and clock).

use get_totp_code::platform::{Directory, HostError, Platform};

use crate::call::Call;
use crate::sandbox::CallLimiter;

wasmtime::component::bindgen!({
    path: "../wit",
    world: "get-totp-code",
});

use agent_tools::totp::{secrets, workflow};
use wasi::clocks::wall_clock;

/// The data of one call's store.
pub struct CallState {
    pub call: Call,
    pub limiter: CallLimiter,
    /// The last username the guest asked `find-user` for: the audit trail's
    /// resolved username when the call fails after the lookup.
    pub looked_up: Option<String>,
}

impl secrets::Host for CallState {
    fn find_user(
        &mut self,
        username: String,
    ) -> Result<Option<secrets::User>, secrets::LookupError> {
        let found = guarded(|| self.call.find_user(&username));
        self.looked_up = Some(username);
        match found {
            Ok(user) => Ok(user.map(|user| secrets::User {
                username: user.username,
                is_agent: user.is_agent,
                // Crosses into guest memory here; the guest zeroizes its copy.
                totp_secret: user.totp_secret.map(|secret| secret.as_str().to_owned()),
            })),
            Err(HostError::Denied) => Err(secrets::LookupError::Denied),
            Err(HostError::Unavailable(message)) => Err(secrets::LookupError::Unavailable(message)),
        }
    }
}

impl workflow::Host for CallState {
    fn current_node(&mut self) -> Option<workflow::NodeRef> {
        self.call.current_node().map(|node| workflow::NodeRef {
            workflow_id: node.workflow_id,
            node_id: node.node_id,
        })
    }

    fn workflow_slug(
        &mut self,
        workflow_id: String,
    ) -> Result<Option<String>, workflow::GraphError> {
        guarded(|| self.call.workflow_slug(&workflow_id)).map_err(graph_error)
    }

    fn edge_targets(
        &mut self,
        workflow_id: String,
        source_node_id: String,
        label: String,
    ) -> Result<Vec<String>, workflow::GraphError> {
        guarded(|| {
            self.call
                .edge_targets(&workflow_id, &source_node_id, &label)
        })
        .map_err(graph_error)
    }
}

/// A directory that panics fails its lookup (a `host_error` for this call),
/// not the host: the embedder's code must not turn a tool call into a
/// crash any more than the guest's may.
fn guarded<T>(lookup: impl FnOnce() -> Result<T, HostError>) -> Result<T, HostError> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(lookup))
        .unwrap_or_else(|_| Err(HostError::Unavailable("the directory failed".into())))
}

fn graph_error(error: HostError) -> workflow::GraphError {
    match error {
        HostError::Denied => workflow::GraphError::Denied,
        HostError::Unavailable(message) => workflow::GraphError::Unavailable(message),
    }
}

impl wall_clock::Host for CallState {
    fn now(&mut self) -> wall_clock::Datetime {
        let (seconds, nanoseconds) = self.call.clock.now();
        wall_clock::Datetime {
            seconds,
            nanoseconds,
        }
    }

    fn resolution(&mut self) -> wall_clock::Datetime {
        wall_clock::Datetime {
            seconds: 0,
            nanoseconds: 1_000_000,
        }
    }
}
