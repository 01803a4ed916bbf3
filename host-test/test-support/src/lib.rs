//! What the workspace's test suites share, written once: the conformance
//! cases and their judge, the Python venv, and running the binaries the
//! suites test.

pub mod judge;
pub mod postgres;
pub mod process;
pub mod python;
