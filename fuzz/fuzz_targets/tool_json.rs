//! The whole JSON path natively: `invoke_json` and `get_totp_code_json` over
//! an in-memory platform whose every answer comes from the fuzz input.
#![no_main]

use get_totp_code_fuzz::targets::tool_json::{Scenario, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Scenario| run(input));
