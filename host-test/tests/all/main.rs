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
mod hostile_guests;
mod hostile_hosts;
mod judge;
mod mcp;
mod other_hosts;
mod pg_server;
mod postgres;
mod python_venv;
mod secret_hygiene;
mod util;
mod warm_instance;
