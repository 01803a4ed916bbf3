//! `decode_base32` and `TotpKey::parse` on arbitrary text, and on base32
//! forms of arbitrary keys.
#![no_main]

use get_totp_code_fuzz::targets::base32::{Input, run};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|input: Input| run(input));
