//! What the `totp-bench` binary, the criterion benches and the examples
//! share: the bench agent and its calls (`fixture`), wasmtime's floor
//! under the tool's sandbox (`floor`), and a directory that counts the
//! store's queries (`counting`).

pub mod counting;
pub mod fixture;
pub mod floor;
