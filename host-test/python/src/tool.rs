//! `TotpTool`: the compiled component, shared by every thread of the
//! process; each call runs in a fresh sandboxed instance with the GIL
//! released, so threads calling one tool run in parallel.

use std::time::Duration;

use pyo3::exceptions::{PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use totp_host::SandboxConfig;

use crate::call::Call;
use crate::directory::Interrupt;

/// `TotpTool(*, audit, memory_limit=None, deadline_ms=None)`: compiles the
/// component inside this package once (create one per process). `audit`
/// is where each call's event goes, chosen explicitly (`None` for none;
/// see [`crate::audit`]); a sink that fails withholds the code. The
/// defaults are the Rust host's sandbox limits.
#[pyclass(frozen, module = "get_totp_code")]
pub struct TotpTool {
    inner: totp_host::TotpTool,
}

#[pymethods]
impl TotpTool {
    #[new]
    #[pyo3(signature = (*, audit, memory_limit = None, deadline_ms = None))]
    fn new(
        py: Python<'_>,
        audit: &Bound<'_, PyAny>,
        memory_limit: Option<usize>,
        deadline_ms: Option<u64>,
    ) -> PyResult<Self> {
        let mut config = SandboxConfig::default();
        if let Some(limit) = memory_limit {
            config.memory_limit = limit;
        }
        if let Some(ms) = deadline_ms {
            if ms == 0 {
                return Err(PyValueError::new_err("deadline_ms must be positive"));
            }
            config.deadline = Duration::from_millis(ms);
        }
        let audit = crate::audit::from_python(audit)?;
        let inner = py
            .detach(|| totp_host::TotpTool::with_config(config, audit))
            .map_err(|e| PyRuntimeError::new_err(format!("{e:#}")))?;
        Ok(TotpTool { inner })
    }

    /// The JSON result of `get-totp-code(username)`; an empty `username`
    /// resolves the agent of the call's tool node.
    #[pyo3(signature = (call, username = ""))]
    fn get_totp_code(&self, py: Python<'_>, call: &Call, username: &str) -> PyResult<String> {
        run(py, call, |call| self.inner.get_totp_code(call, username))
    }

    /// The JSON result for raw LLM arguments, e.g. `'{"username": ""}'`.
    fn invoke(&self, py: Python<'_>, call: &Call, arguments: &str) -> PyResult<String> {
        run(py, call, |call| self.inner.invoke(call, arguments))
    }

    /// The tool definition (JSON): `name`, `description`, `parameters`.
    fn describe(&self, py: Python<'_>) -> PyResult<String> {
        py.detach(|| self.inner.describe())
            .map_err(|e| PyRuntimeError::new_err(e.to_string()))
    }
}

/// Runs one call without the GIL; a lookup's `KeyboardInterrupt` or
/// `SystemExit` is raised here, after the call has ended.
fn run(
    py: Python<'_>,
    call: &Call,
    tool_call: impl FnOnce(&totp_host::Call) -> String + Send,
) -> PyResult<String> {
    let interrupt = Interrupt::default();
    let host_call = call.host_call(py, &interrupt);
    let result = py.detach(|| tool_call(&host_call));
    drop(host_call);
    match interrupt.take() {
        Some(error) => Err(error),
        None => Ok(result),
    }
}
