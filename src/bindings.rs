//! The component's binding: WIT imports to [`Platform`], exports to the
//! plain-Rust tool. Kept thin; all behaviour lives in the other modules.

use zeroize::Zeroizing;

use crate::platform::{Directory, HostError, NodeRef, Platform, User};

wit_bindgen::generate!({
    path: "wit",
    world: "get-totp-code",
    // wit-bindgen reuses bindings of well-known WASI packages unless asked;
    // this crate generates its own, so it needs no `wasi` crate.
    generate_all,
});

use agent_tools::totp::{secrets, workflow};
use wasi::clocks::wall_clock;

#[global_allocator]
static ALLOCATOR: crate::allocator::BumpAllocator = crate::allocator::BumpAllocator::new();

struct Component;

impl Guest for Component {
    fn get_totp_code(username: String) -> String {
        crate::get_totp_code_json(&WitPlatform, &username)
    }

    fn describe() -> String {
        crate::definition::TOOL_DEFINITION.to_owned()
    }

    fn invoke(arguments: String) -> String {
        crate::invoke_json(&WitPlatform, &arguments)
    }
}

export!(Component);

/// The host, as seen through the imports.
struct WitPlatform;

impl Platform for WitPlatform {
    fn current_node(&self) -> Option<NodeRef> {
        workflow::current_node().map(|node| NodeRef {
            workflow_id: node.workflow_id,
            node_id: node.node_id,
        })
    }

    fn now(&self) -> u64 {
        wall_clock::now().seconds
    }
}

impl Directory for WitPlatform {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        match secrets::find_user(username) {
            Ok(found) => Ok(found.map(|user| User {
                username: user.username,
                is_agent: user.is_agent,
                totp_secret: user.totp_secret.map(Zeroizing::new),
            })),
            Err(secrets::LookupError::Denied) => Err(HostError::Denied),
            Err(secrets::LookupError::Unavailable(message)) => Err(HostError::Unavailable(message)),
        }
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        workflow::workflow_slug(workflow_id).map_err(graph_error)
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        workflow::edge_targets(workflow_id, source_node_id, label).map_err(graph_error)
    }
}

fn graph_error(error: workflow::GraphError) -> HostError {
    match error {
        workflow::GraphError::Denied => HostError::Denied,
        workflow::GraphError::Unavailable(message) => HostError::Unavailable(message),
    }
}
