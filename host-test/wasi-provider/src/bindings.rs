//! The component's binding: the exported `secrets` and `workflow`
//! interfaces over [`Provider`], the configuration read from the imported
//! WASI interface at each call. Kept thin; the behaviour lives in
//! `config` and `provider`.

use crate::config::Config;
#[cfg(feature = "wasi-config")]
use crate::config::SourceError;
use crate::provider::{Provider, Unavailable};

#[cfg(not(feature = "wasi-config"))]
wit_bindgen::generate!({
    // The tool's package first: the provider's worlds export its interfaces.
    path: ["../../wit", "wit"],
    world: "agent-tools:totp-wasi-provider/environment-provider",
    generate_all,
});

#[cfg(feature = "wasi-config")]
wit_bindgen::generate!({
    path: ["../../wit", "wit"],
    world: "agent-tools:totp-wasi-provider/config-provider",
    generate_all,
});

use exports::agent_tools::totp::{secrets, workflow};

/// The configuration as the host hands it now: read at every call, since
/// nothing says a host keeps it fixed for an instance's life (Wassette
/// updates secrets without a restart).
#[cfg(not(feature = "wasi-config"))]
fn provider() -> Provider {
    let variables = wasi::cli::environment::get_environment();
    Provider::new(Config::from_variables(&variables))
}

#[cfg(feature = "wasi-config")]
fn provider() -> Provider {
    use wasi::config::store;
    Provider::new(Config::from_source(|key| {
        store::get(key).map_err(|error| match error {
            store::Error::Upstream(_) => SourceError::Upstream,
            store::Error::Io(_) => SourceError::Io,
        })
    }))
}

struct Component;

impl secrets::Guest for Component {
    fn find_user(username: String) -> Result<Option<secrets::User>, secrets::LookupError> {
        match provider().find_user(&username) {
            Ok(found) => Ok(found.map(|user| {
                let mut secret = user.totp_secret;
                secrets::User {
                    username: user.username,
                    is_agent: user.is_agent,
                    // Moved out of its wiping wrapper: the binding lowers
                    // it into the caller's memory and frees it at once.
                    totp_secret: Some(core::mem::take(&mut *secret)),
                }
            })),
            Err(Unavailable(message)) => Err(secrets::LookupError::Unavailable(message)),
        }
    }
}

impl workflow::Guest for Component {
    fn current_node() -> Option<workflow::NodeRef> {
        provider()
            .current_node()
            .map(|(workflow_id, node_id)| workflow::NodeRef {
                workflow_id,
                node_id,
            })
    }

    fn workflow_slug(workflow_id: String) -> Result<Option<String>, workflow::GraphError> {
        provider().workflow_slug(&workflow_id).map_err(graph_error)
    }

    fn edge_targets(
        workflow_id: String,
        source_node_id: String,
        label: String,
    ) -> Result<Vec<String>, workflow::GraphError> {
        provider()
            .edge_targets(&workflow_id, &source_node_id, &label)
            .map_err(graph_error)
    }
}

fn graph_error(Unavailable(message): Unavailable) -> workflow::GraphError {
    workflow::GraphError::Unavailable(message)
}

export!(Component);
