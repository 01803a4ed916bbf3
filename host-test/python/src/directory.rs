//! A Python object as the host's `Directory`: each lookup the guest makes
//! re-acquires the GIL, calls the object's method and converts its answer
//! strictly. Nothing a directory does escapes as an exception: a refusal is
//! `Denied`, anything else that goes wrong fails the lookup with a short
//! message that never quotes the value or the exception's text (either may
//! hold a secret), and the guest turns that into a `host_error` result.
//!
//! The exception: `KeyboardInterrupt`, `SystemExit` (any `BaseException`
//! that is not an `Exception`) fail the lookup too, and are kept in
//! [`Interrupt`] for the caller to re-raise once the call has returned.

use std::sync::{Arc, Mutex};

use get_totp_code::platform::{Directory, HostError, User};
use pyo3::call::PyCallArgs;
use pyo3::exceptions::PyException;
use pyo3::prelude::*;
use pyo3::types::{PyBool, PyInt, PyList, PyMapping, PyString, PyTuple};
use zeroize::Zeroizing;

use crate::errors::{Denied, Unavailable};

/// The `BaseException` (not an `Exception`) a lookup raised during one
/// call, re-raised to the caller after it.
#[derive(Default, Clone)]
pub struct Interrupt(Arc<Mutex<Option<PyErr>>>);

impl Interrupt {
    pub fn take(&self) -> Option<PyErr> {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).take()
    }

    fn is_set(&self) -> bool {
        self.0.lock().unwrap_or_else(|e| e.into_inner()).is_some()
    }

    fn set(&self, error: PyErr) {
        self.0
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get_or_insert(error);
    }
}

/// One call's view of a Python directory object.
pub struct PyDirectory {
    object: Py<PyAny>,
    interrupt: Interrupt,
}

impl PyDirectory {
    pub fn new(object: Py<PyAny>, interrupt: Interrupt) -> Self {
        PyDirectory { object, interrupt }
    }

    /// Calls `method(args)` under the GIL and converts its answer; the
    /// conversion's error text names types only.
    fn lookup<T>(
        &self,
        method: &str,
        args: impl for<'py> PyCallArgs<'py>,
        convert: impl FnOnce(&Bound<'_, PyAny>) -> Result<T, String>,
    ) -> Result<T, HostError> {
        // A call that was interrupted asks Python nothing more.
        if self.interrupt.is_set() {
            return Err(interrupted());
        }
        Python::attach(|py| {
            let answer = self
                .object
                .bind(py)
                .call_method1(method, args)
                .map_err(|error| self.raised(py, method, error))?;
            convert(&answer).map_err(|message| {
                HostError::Unavailable(format!("the directory's {method} returned {message}"))
            })
        })
    }

    fn raised(&self, py: Python<'_>, method: &str, error: PyErr) -> HostError {
        if error.is_instance_of::<Denied>(py) {
            return HostError::Denied;
        }
        if error.is_instance_of::<Unavailable>(py) {
            // The directory's own message for the agent (the guest cuts it).
            return HostError::Unavailable(unavailable_message(py, &error));
        }
        if !error.is_instance_of::<PyException>(py) {
            self.interrupt.set(error);
            return interrupted();
        }
        // Only the type: an exception's text can quote a query's parameters
        // or the object it choked on, i.e. a secret.
        let kind = error
            .get_type(py)
            .name()
            .map(|name| name.to_string())
            .unwrap_or_else(|_| "an exception".into());
        HostError::Unavailable(format!("the directory's {method} raised {kind}"))
    }
}

fn interrupted() -> HostError {
    HostError::Unavailable("the call was interrupted".into())
}

/// `Unavailable("message")`'s message; an empty or non-text one reads as
/// "unavailable".
fn unavailable_message(py: Python<'_>, error: &PyErr) -> String {
    let args = error.value(py).getattr("args").ok();
    let first = args.and_then(|args| args.get_item(0).ok());
    match first {
        Some(message) if message.is_instance_of::<PyString>() => message.to_string(),
        _ => "unavailable".into(),
    }
}

impl Directory for PyDirectory {
    fn find_user(&self, username: &str) -> Result<Option<User>, HostError> {
        self.lookup("find_user", (username,), to_user)
    }

    fn workflow_slug(&self, workflow_id: &str) -> Result<Option<String>, HostError> {
        self.lookup("workflow_slug", (workflow_id,), |slug| {
            if slug.is_none() {
                Ok(None)
            } else {
                text(slug, "a str slug or None").map(Some)
            }
        })
    }

    fn edge_targets(
        &self,
        workflow_id: &str,
        source_node_id: &str,
        label: &str,
    ) -> Result<Vec<String>, HostError> {
        self.lookup(
            "edge_targets",
            (workflow_id, source_node_id, label),
            |targets| {
                if !(targets.is_instance_of::<PyList>() || targets.is_instance_of::<PyTuple>()) {
                    return Err(format!(
                        "{} where a list of node ids was expected",
                        type_of(targets)
                    ));
                }
                targets
                    .try_iter()
                    .map_err(|_| "an unreadable list".to_owned())?
                    .map(|target| {
                        let target = target.map_err(|_| "an unreadable list".to_owned())?;
                        id_text(&target, "node ids (str or int) in its list")
                    })
                    .collect()
            },
        )
    }
}

/// `User`, or a mapping with the keys `username`, `is_agent`, `totp_secret`
/// (the last may be missing), or `None`.
fn to_user(value: &Bound<'_, PyAny>) -> Result<Option<User>, String> {
    if value.is_none() {
        return Ok(None);
    }
    if let Ok(user) = value.cast::<crate::user::User>() {
        let user = user.get();
        return Ok(Some(User {
            username: user.username.clone(),
            is_agent: user.is_agent,
            totp_secret: user.totp_secret.clone().map(Zeroizing::new),
        }));
    }
    let Ok(mapping) = value.cast::<PyMapping>() else {
        return Err(format!(
            "{} where a User, a mapping or None was expected",
            type_of(value)
        ));
    };
    let key = |name: &str| -> Result<Option<Bound<'_, PyAny>>, String> {
        match mapping.contains(name) {
            Ok(true) => mapping
                .get_item(name)
                .map(Some)
                .map_err(|_| format!("a mapping whose '{name}' cannot be read")),
            Ok(false) => Ok(None),
            Err(_) => Err("a mapping that cannot be searched".into()),
        }
    };
    let username = key("username")?.ok_or("a mapping without 'username'")?;
    let username = text(&username, "a str 'username'")?;
    let is_agent = key("is_agent")?.ok_or("a mapping without 'is_agent'")?;
    if !is_agent.is_instance_of::<PyBool>() {
        return Err(format!(
            "{} where a bool 'is_agent' was expected",
            type_of(&is_agent)
        ));
    }
    let is_agent = is_agent.is_truthy().unwrap_or(false);
    let totp_secret = match key("totp_secret")? {
        Some(secret) if !secret.is_none() => Some(Zeroizing::new(text(
            &secret,
            "a str 'totp_secret' or None",
        )?)),
        _ => None,
    };
    Ok(Some(User {
        username,
        is_agent,
        totp_secret,
    }))
}

/// A `str`, exactly; the error names the type found and what was expected.
fn text(value: &Bound<'_, PyAny>, expected: &str) -> Result<String, String> {
    match value.cast::<PyString>() {
        Ok(text) => text
            .to_cow()
            .map(|text| text.into_owned())
            .map_err(|_| format!("a str that is not valid Unicode where {expected} was expected")),
        Err(_) => Err(format!("{} where {expected} was expected", type_of(value))),
    }
}

/// An id: a `str`, or an `int` passed as its decimal text (a `bool` is not
/// an id).
pub fn id_text(value: &Bound<'_, PyAny>, expected: &str) -> Result<String, String> {
    if value.is_instance_of::<PyInt>() && !value.is_instance_of::<PyBool>() {
        return value
            .str()
            .map(|text| text.to_string())
            .map_err(|_| format!("an int that cannot be written where {expected} was expected"));
    }
    text(value, expected)
}

/// "a dict", "an int": the type's name, never the value.
pub fn type_of(value: &Bound<'_, PyAny>) -> String {
    let name = value
        .get_type()
        .name()
        .map(|name| name.to_string())
        .unwrap_or_else(|_| "object".into());
    let article = if name.starts_with(['a', 'e', 'i', 'o', 'u']) {
        "an"
    } else {
        "a"
    };
    format!("{article} {name}")
}
