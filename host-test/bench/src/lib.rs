//! What the `totp-bench` binary, the criterion benches and the examples
//! share: the bench agent and its calls (`fixture`), and wasmtime's floor
//! under the tool's sandbox (`floor`).

pub mod fixture;
pub mod floor;
