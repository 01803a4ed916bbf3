//! `otpauth::parse` on arbitrary text, and on Key URIs built from parts
//! whose meaning the generator knows.
#![no_main]

use get_totp_code_fuzz::targets::otpauth::{Input, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| run(input));
