//! Fuzzing of the guest's native build, the way wasmtime's `crates/fuzzing`
//! is laid out: generators of structured inputs, oracles, and each target's
//! body live here; `fuzz_targets/*.rs` only hand libFuzzer's input to a
//! body; and the tests below run every body on random inputs, so that
//! `cargo test` checks the same properties on every change.

pub mod generators;
pub mod oracles;
pub mod targets {
    pub mod base32;
    pub mod invoke_arguments;
    pub mod otpauth;
    pub mod provider_config;
    pub mod tool_json;
}

#[cfg(test)]
mod tests {
    use arbitrary::{Arbitrary, Unstructured};

    use crate::targets;

    /// Inputs per target; `FUZZ_TEST_CASES` raises it.
    fn cases() -> u64 {
        std::env::var("FUZZ_TEST_CASES")
            .ok()
            .and_then(|n| n.parse().ok())
            .unwrap_or(10_000)
    }

    /// SplitMix64: seeded, so a failure names the case that reproduces it.
    fn next(state: &mut u64) -> u64 {
        *state = state.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = *state;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Runs `body` on `cases()` inputs made by `arbitrary` from random bytes
    /// of random length, as libFuzzer would before any coverage feedback.
    fn run_random<'a, T: Arbitrary<'a>>(name: &str, buffers: &'a mut Vec<Vec<u8>>, body: fn(T)) {
        let mut state = 0x6675_7a7a ^ name.len() as u64;
        for _ in 0..cases() {
            let len = (next(&mut state) % 1024) as usize;
            buffers.push((0..len).map(|_| next(&mut state) as u8).collect());
        }
        for (case, bytes) in buffers.iter().enumerate() {
            if let Ok(value) = T::arbitrary_take_rest(Unstructured::new(bytes)) {
                let outcome =
                    std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| body(value)));
                assert!(
                    outcome.is_ok(),
                    "{name}: case {case} failed (bytes {bytes:02x?})"
                );
            }
        }
    }

    #[test]
    fn base32_on_random_inputs() {
        run_random("base32", &mut Vec::new(), targets::base32::run);
    }

    #[test]
    fn otpauth_on_random_inputs() {
        run_random("otpauth", &mut Vec::new(), targets::otpauth::run);
    }

    #[test]
    fn invoke_arguments_on_random_inputs() {
        run_random(
            "invoke_arguments",
            &mut Vec::new(),
            targets::invoke_arguments::run,
        );
    }

    #[test]
    fn provider_config_on_random_inputs() {
        run_random(
            "provider_config",
            &mut Vec::new(),
            targets::provider_config::run,
        );
    }

    #[test]
    fn tool_json_on_random_inputs() {
        run_random("tool_json", &mut Vec::new(), targets::tool_json::run);
    }
}
