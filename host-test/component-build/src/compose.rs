//! The standard-WASI builds: the unchanged tool component composed with the
//! WASI provider (which answers `secrets` and `workflow` from the host's
//! configuration), and, for Obelisk, with an adapter that re-exports the
//! tool in an interface. Composed with `wac-graph`, the library behind the
//! `wac` CLI; whatever the provider or tool import that nothing here
//! satisfies (the environment, the wall clock) becomes an import of the
//! composition, for the host's WASI to fill.

use wac_graph::types::Package;
use wac_graph::{CompositionGraph, EncodeOptions, NodeId};

/// The tool's imports the provider answers.
pub const PROVIDED_INTERFACES: [&str; 2] = [
    "agent-tools:totp/secrets@0.2.0",
    "agent-tools:totp/workflow@0.2.0",
];

/// The one export of the standard build: hosts that turn every export into
/// a tool (Wassette) then offer exactly one, the tool.
pub const TOOL_EXPORT: &str = "get-totp-code";

/// The interface the Obelisk adapter exports (Obelisk ignores world-level
/// exports and wants functions that return a `result`).
pub const ACTIVITY_INTERFACE: &str = "agent-tools:totp-activity/tool@0.2.0";

/// A composition that did not come together.
#[derive(Debug, thiserror::Error)]
#[error("composing {what}: {message}")]
pub struct ComposeError {
    what: &'static str,
    message: String,
}

struct Graph {
    graph: CompositionGraph,
    what: &'static str,
}

impl Graph {
    fn new(what: &'static str) -> Self {
        Graph {
            graph: CompositionGraph::new(),
            what,
        }
    }

    fn error(&self, message: impl std::fmt::Display) -> ComposeError {
        ComposeError {
            what: self.what,
            message: message.to_string(),
        }
    }

    /// Registers `bytes` as package `name` and instantiates it.
    fn instantiate(&mut self, name: &str, bytes: &[u8]) -> Result<NodeId, ComposeError> {
        let package = Package::from_bytes(name, None, bytes.to_vec(), self.graph.types_mut())
            .map_err(|e| self.error(format!("{name}: {e:#}")))?;
        let package = self
            .graph
            .register_package(package)
            .map_err(|e| self.error(format!("{name}: {e:#}")))?;
        Ok(self.graph.instantiate(package))
    }

    /// Passes `from`'s export `name` to `to`'s import of the same name.
    fn wire(&mut self, from: NodeId, to: NodeId, name: &str) -> Result<(), ComposeError> {
        let export = self
            .graph
            .alias_instance_export(from, name)
            .map_err(|e| self.error(format!("{name}: {e:#}")))?;
        self.graph
            .set_instantiation_argument(to, name, export)
            .map_err(|e| self.error(format!("{name}: {e:#}")))
    }

    fn export(&mut self, from: NodeId, name: &str) -> Result<(), ComposeError> {
        let export = self
            .graph
            .alias_instance_export(from, name)
            .map_err(|e| self.error(format!("{name}: {e:#}")))?;
        self.graph
            .export(export, name)
            .map_err(|e| self.error(format!("{name}: {e:#}")))
    }

    fn encode(self) -> Result<Vec<u8>, ComposeError> {
        self.graph
            .encode(EncodeOptions {
                define_components: true,
                validate: true,
                ..EncodeOptions::default()
            })
            .map_err(|e| ComposeError {
                what: self.what,
                message: format!("{e:#}"),
            })
    }

    /// The tool instantiated with the provider's answers.
    fn provided_tool(&mut self, tool: &[u8], provider: &[u8]) -> Result<NodeId, ComposeError> {
        let provider = self.instantiate("agent-tools:totp-wasi-provider", provider)?;
        let tool = self.instantiate("agent-tools:totp", tool)?;
        for interface in PROVIDED_INTERFACES {
            self.wire(provider, tool, interface)?;
        }
        Ok(tool)
    }
}

/// The tool over the provider, exporting only `get-totp-code`.
pub fn standard_build(tool: &[u8], provider: &[u8]) -> Result<Vec<u8>, ComposeError> {
    let mut graph = Graph::new("the standard-WASI build");
    let tool = graph.provided_tool(tool, provider)?;
    graph.export(tool, TOOL_EXPORT)?;
    graph.encode()
}

/// The tool over the provider, behind the Obelisk adapter, exporting only
/// [`ACTIVITY_INTERFACE`].
pub fn activity_build(
    tool: &[u8],
    provider: &[u8],
    adapter: &[u8],
) -> Result<Vec<u8>, ComposeError> {
    let mut graph = Graph::new("the Obelisk activity build");
    let tool = graph.provided_tool(tool, provider)?;
    let adapter = graph.instantiate("agent-tools:totp-obelisk-adapter", adapter)?;
    graph.wire(tool, adapter, TOOL_EXPORT)?;
    graph.export(adapter, ACTIVITY_INTERFACE)?;
    graph.encode()
}
