//! One test binary, a module per concern; every behaviour test drives the
//! built component through wasmtime. What the tool answers for each input
//! is the case file's (`conformance`); the modules here test what a case
//! cannot express.

mod access_policy;
mod artifact;
mod at_rest;
mod audit;
mod cli;
mod conformance;
mod deploy;
mod differential;
mod features;
mod hostile_guests;
mod hostile_hosts;
mod installed;
mod mcp;
mod min_validity;
mod obelisk;
mod other_hosts;
mod postgres;
mod release;
mod schema;
mod secret_hygiene;
mod standard_builds;
mod util;
mod warm_instance;
mod wasi_env;
mod wasm_hosts;
mod wasmtime_cli;
