//! The WASI provider's configuration parser on arbitrary sets of variables.
#![no_main]

use get_totp_code_fuzz::targets::provider_config::{Input, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| run(input));
