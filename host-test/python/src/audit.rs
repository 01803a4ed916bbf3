//! The `audit=` argument of `TotpTool`: where each call's event goes,
//! chosen explicitly, as the Rust host's [`Audit`] is. The events are the
//! Rust host's own ([`AuditEvent`]: the same fields, never the code or the
//! secret), and a sink that fails means no code: the call's result is
//! `host_error` "audit log unavailable", never an exception.
//!
//! - `None`: explicitly off (the platform audits the tool's results itself);
//! - a `SqliteDirectory`: the store file's `audit_events` table, as
//!   `totp-host audit` lists it;
//! - a `str` or `os.PathLike`: JSON lines appended to that file (made with
//!   mode 0600);
//! - an object with `write` (a text stream): one JSON line per event, then
//!   its `flush`, if it has one;
//! - a callable: called with each event as a `dict` (a platform writes it
//!   to its own table or log); what it returns is ignored.

use std::fs::OpenOptions;
use std::os::unix::fs::OpenOptionsExt;
use std::path::PathBuf;

use pyo3::exceptions::{PyOSError, PyTypeError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};
use totp_host::Audit;
use totp_host::audit::{AuditError, AuditEvent, AuditSink, JsonLinesSink};

use crate::sqlite::SqliteDirectory;

/// Resolves `audit=`; anything else is a `TypeError` naming what it takes.
pub fn from_python(audit: &Bound<'_, PyAny>) -> PyResult<Audit> {
    if audit.is_none() {
        return Ok(Audit::Off);
    }
    if let Ok(directory) = audit.cast::<SqliteDirectory>() {
        return Ok(Audit::To(directory.get().audit_sink()));
    }
    if audit.is_instance_of::<PyString>() || audit.hasattr("__fspath__")? {
        let path: PathBuf = audit.extract()?;
        let file = OpenOptions::new()
            .append(true)
            .create(true)
            .mode(0o600)
            .open(&path)
            .map_err(|e| PyOSError::new_err(format!("audit log {}: {e}", path.display())))?;
        return Ok(Audit::to(JsonLinesSink::new(file)));
    }
    if audit.hasattr("write")? {
        return Ok(Audit::to(PythonSink::Stream(audit.clone().unbind())));
    }
    if audit.is_callable() {
        let loads = audit.py().import("json")?.getattr("loads")?.unbind();
        return Ok(Audit::to(PythonSink::Callable {
            callable: audit.clone().unbind(),
            loads,
        }));
    }
    Err(PyTypeError::new_err(format!(
        "audit must be None (off), a SqliteDirectory, a path, a writable text stream \
         or a callable taking each event, not {}",
        audit.get_type().name()?
    )))
}

/// A sink that is Python code, called with the GIL held.
enum PythonSink {
    Stream(Py<PyAny>),
    /// With `json.loads`, which makes each event's `dict`.
    Callable {
        callable: Py<PyAny>,
        loads: Py<PyAny>,
    },
}

impl AuditSink for PythonSink {
    fn record(&self, event: &AuditEvent) -> Result<(), AuditError> {
        let line = serde_json::to_string(event)?;
        Python::attach(|py| {
            let sent = match self {
                PythonSink::Stream(stream) => {
                    let stream = stream.bind(py);
                    stream
                        .call_method1("write", (format!("{line}\n"),))
                        .and_then(|_| {
                            if stream.hasattr("flush")? {
                                stream.call_method0("flush")?;
                            }
                            Ok(())
                        })
                }
                PythonSink::Callable { callable, loads } => loads
                    .bind(py)
                    .call1((line,))
                    .and_then(|event| Ok(event.cast_into::<PyDict>()?))
                    .and_then(|event| callable.bind(py).call1((event,)).map(drop)),
            };
            // Only the exception's type: its text is the sink's business,
            // and the result says "audit log unavailable" whatever it was.
            sent.map_err(|error| {
                let kind = error
                    .get_type(py)
                    .name()
                    .map_or_else(|_| "exception".to_owned(), |name| name.to_string());
                AuditError::Other(format!("the audit sink raised {kind}"))
            })
        })
    }
}
