//! `Call`: the context of tool calls (directory, tool node, clock, access
//! policy), turned into a `totp_host::Call` for each call.

use std::sync::Arc;
use std::time::Duration;

use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use totp_host::{AccessPolicy, Clock, Directory, NodeRef};

use crate::directory::{Interrupt, PyDirectory, id_text, type_of};
use crate::sqlite::SqliteDirectory;

/// Where a call's lookups are answered.
enum Source {
    /// Native: answered without entering Python.
    Native(Arc<dyn Directory + Send + Sync>),
    /// Any object with `find_user`, `workflow_slug` and `edge_targets`.
    Python(Py<PyAny>),
}

/// `Call(directory, node=None, *, time=None, policy="own_workflow",
/// min_validity=0)`.
///
/// `node` is the tool's `(workflow_id, node_id)` (ids `str` or `int`), or
/// `None` outside any workflow. `time` fixes the clock (Unix seconds, for
/// tests); `None` reads the system clock at each call. `policy` is the
/// host's access policy: `"own_workflow"` (only agents of the node's
/// workflow), `"any_agent"`, or `"unrestricted"` (the directory's answer as
/// it is, for a directory that enforces its own policy). `min_validity`
/// (seconds): a code that would expire sooner is not handed out; the call
/// waits for the next period's (see `totp_host::Call::min_validity`).
#[pyclass(frozen, module = "get_totp_code")]
pub struct Call {
    source: Source,
    node: Option<NodeRef>,
    clock: Clock,
    policy: AccessPolicy,
    min_validity: Duration,
}

#[pymethods]
impl Call {
    #[new]
    #[pyo3(signature = (directory, node = None, *, time = None, policy = "own_workflow", min_validity = 0))]
    fn new(
        directory: &Bound<'_, PyAny>,
        node: Option<&Bound<'_, PyAny>>,
        time: Option<u64>,
        policy: &str,
        min_validity: u64,
    ) -> PyResult<Self> {
        let source = match directory.cast::<SqliteDirectory>() {
            Ok(native) => Source::Native(native.get().store()),
            Err(_) => {
                for method in ["find_user", "workflow_slug", "edge_targets"] {
                    if !directory.hasattr(method)? {
                        return Err(PyTypeError::new_err(format!(
                            "the directory ({}) has no {method} method",
                            type_of(directory)
                        )));
                    }
                }
                Source::Python(directory.clone().unbind())
            }
        };
        let node = match node {
            None => None,
            Some(node) if node.is_none() => None,
            Some(node) => Some(node_ref(node)?),
        };
        let policy = match policy {
            "own_workflow" => AccessPolicy::OwnWorkflow,
            "any_agent" => AccessPolicy::AnyAgent,
            "unrestricted" => AccessPolicy::Unrestricted,
            other => {
                return Err(PyValueError::new_err(format!(
                    "policy must be 'own_workflow', 'any_agent' or 'unrestricted', not {other:?}"
                )));
            }
        };
        Ok(Call {
            source,
            node,
            clock: time.map_or(Clock::System, Clock::Fixed),
            policy,
            min_validity: Duration::from_secs(min_validity),
        })
    }

    /// The tool node as `(workflow_id, node_id)` text, or `None`.
    #[getter]
    fn node(&self) -> Option<(String, String)> {
        self.node
            .as_ref()
            .map(|node| (node.workflow_id.clone(), node.node_id.clone()))
    }

    fn __repr__(&self) -> String {
        format!("Call(node={:?}, policy={:?})", self.node(), self.policy)
    }
}

impl Call {
    /// The Rust host's call for one tool call; a Python directory's
    /// interrupts go to `interrupt`.
    pub fn host_call(&self, py: Python<'_>, interrupt: &Interrupt) -> totp_host::Call {
        let directory: Arc<dyn Directory + Send + Sync> = match &self.source {
            Source::Native(directory) => directory.clone(),
            Source::Python(object) => {
                Arc::new(PyDirectory::new(object.clone_ref(py), interrupt.clone()))
            }
        };
        let mut call = totp_host::Call::new(directory)
            .with_clock(self.clock)
            .with_policy(self.policy)
            .with_min_validity(self.min_validity);
        call.node = self.node.clone();
        call
    }
}

/// `(workflow_id, node_id)`, each a `str` or an `int`.
fn node_ref(node: &Bound<'_, PyAny>) -> PyResult<NodeRef> {
    let bad = || {
        PyTypeError::new_err(format!(
            "node must be a (workflow_id, node_id) pair or None, not {}",
            type_of(node)
        ))
    };
    let (workflow_id, node_id): (Bound<'_, PyAny>, Bound<'_, PyAny>) =
        node.extract().map_err(|_| bad())?;
    let id = |value: &Bound<'_, PyAny>, name: &str| {
        id_text(value, &format!("a str or int {name}")).map_err(PyTypeError::new_err)
    };
    Ok(NodeRef::new(
        id(&workflow_id, "workflow_id")?,
        id(&node_id, "node_id")?,
    ))
}
