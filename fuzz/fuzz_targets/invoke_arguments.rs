//! `arguments::parse_username` on arbitrary text, and on JSON objects built
//! from arbitrary fields.
#![no_main]

use get_totp_code_fuzz::targets::invoke_arguments::{Input, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| run(input));
