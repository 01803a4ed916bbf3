//! `SqliteDirectory`: the reference store (`host-test/schema.sql`) read by
//! the Rust host itself, so a call over it never enters Python.

use std::path::PathBuf;
use std::sync::Arc;

use pyo3::exceptions::{PyOSError, PyValueError};
use pyo3::prelude::*;
use totp_host::audit::AuditSink;
use totp_host::{Directory, Store, StoreKey};

use crate::errors::{Denied, Unavailable};
use crate::user::User;

/// `SqliteDirectory(path, *, key_file=None)`: an SQLite file in the
/// reference schema (created when missing). With `key_file`, secrets sealed
/// by `totp-host` (`enc:v1:...`) are opened with that store key.
#[pyclass(frozen, module = "get_totp_code")]
pub struct SqliteDirectory {
    store: Arc<Store>,
}

impl SqliteDirectory {
    pub fn store(&self) -> Arc<dyn Directory + Send + Sync> {
        self.store.clone()
    }

    /// The store as the sink of its own `audit_events` table.
    pub fn audit_sink(&self) -> Arc<dyn AuditSink> {
        self.store.clone()
    }
}

#[pymethods]
impl SqliteDirectory {
    #[new]
    #[pyo3(signature = (path, *, key_file = None))]
    fn new(py: Python<'_>, path: PathBuf, key_file: Option<PathBuf>) -> PyResult<Self> {
        py.detach(|| {
            let mut store = Store::sqlite(&path)
                .map_err(|e| PyOSError::new_err(format!("{}: {e:#}", path.display())))?;
            if let Some(key_file) = key_file {
                let key = StoreKey::read_file(&key_file)
                    .map_err(|e| PyValueError::new_err(format!("{}: {e}", key_file.display())))?;
                store = store.with_key(key);
            }
            Ok(SqliteDirectory {
                store: Arc::new(store),
            })
        })
    }

    // The directory protocol, so that Python code can wrap this directory
    // (a test's failing directory, say); `Call` uses it natively.

    fn find_user(&self, py: Python<'_>, username: &str) -> PyResult<Option<User>> {
        let found = py
            .detach(|| self.store.find_user(username))
            .map_err(to_py)?;
        Ok(found.map(|user| User {
            username: user.username,
            is_agent: user.is_agent,
            totp_secret: user.totp_secret.map(|secret| secret.as_str().to_owned()),
        }))
    }

    fn workflow_slug(&self, py: Python<'_>, workflow_id: &str) -> PyResult<Option<String>> {
        py.detach(|| self.store.workflow_slug(workflow_id))
            .map_err(to_py)
    }

    fn edge_targets(
        &self,
        py: Python<'_>,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> PyResult<Vec<String>> {
        py.detach(|| self.store.edge_targets(workflow_id, source_node_id, label))
            .map_err(to_py)
    }
}

fn to_py(error: totp_host::HostError) -> PyErr {
    match error {
        totp_host::HostError::Denied => Denied::new_err(()),
        totp_host::HostError::Unavailable(message) => Unavailable::new_err(message),
    }
}
