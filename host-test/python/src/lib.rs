//! `get_totp_code._native`: the reference wasmtime host (`totp_host`) as a
//! Python extension module. The Python package (`python/get_totp_code`)
//! re-exports it; the behaviour is the Rust host's, only the directory may
//! be Python code ([`directory`]).
//!
//! - [`tool::TotpTool`]: the compiled component; every call in a fresh
//!   sandboxed instance, with the GIL released while it runs.
//! - [`call::Call`]: a directory (any Python object, or the native
//!   [`sqlite::SqliteDirectory`]), the tool node, an optional fixed time.
//! - [`errors`]: `Denied` and `Unavailable`, what a directory raises.
//! - [`audit`]: where `TotpTool`'s events go (`audit=`).
//! - `__version__`: the crate's version, which is the distribution's
//!   (maturin takes the package version from Cargo.toml).

use pyo3::prelude::*;

mod audit;
mod call;
mod directory;
mod errors;
mod sqlite;
mod tool;
mod user;

#[pymodule]
#[pyo3(name = "_native")]
fn native(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<tool::TotpTool>()?;
    m.add_class::<call::Call>()?;
    m.add_class::<user::User>()?;
    m.add_class::<sqlite::SqliteDirectory>()?;
    m.add("Denied", m.py().get_type::<errors::Denied>())?;
    m.add("Unavailable", m.py().get_type::<errors::Unavailable>())?;
    m.add(
        "MAX_HOST_MESSAGE_CHARS",
        get_totp_code::tool::MAX_HOST_MESSAGE_CHARS,
    )?;
    m.add("__version__", env!("CARGO_PKG_VERSION"))?;
    Ok(())
}
