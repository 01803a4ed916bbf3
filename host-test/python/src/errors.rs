//! The exceptions a Python directory raises to answer a lookup with a
//! refusal or a failure: the WIT `lookup-error` cases.

use pyo3::create_exception;
use pyo3::exceptions::PyException;

create_exception!(
    get_totp_code,
    Denied,
    PyException,
    "Raised by a directory that refuses a lookup to the calling tool: the \
     call's result is `access_denied` (whichever lookup raised it)."
);

create_exception!(
    get_totp_code,
    Unavailable,
    PyException,
    "Raised by a directory that cannot answer (store down...). Its first \
     argument is shown to the agent in a `host_error` result (cut to 200 \
     characters), so it must not contain a secret."
);
