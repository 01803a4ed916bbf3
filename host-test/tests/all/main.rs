//! One test binary, a module per concern; every behaviour test drives the
//! built component through wasmtime.

mod access_policy;
mod behaviour;
mod cli;
mod conformance;
mod differential;
mod hostile_guests;
mod hostile_hosts;
mod imports;
mod load;
mod other_hosts;
mod rfc_vectors;
mod secret_formats;
mod secret_hygiene;
mod util;
mod warm_instance;
