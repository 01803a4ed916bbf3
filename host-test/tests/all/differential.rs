//! Differential test: 100 000 random secrets, parameters and times, each
//! computed by the component through wasmtime and by pyotp, and every
//! hundredth also by oathtool (host-test/conformance/oracles.py). Zero
//! divergences allowed; the seed is fixed, so a failure reproduces.

use std::io::Write;
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::Instant;

use get_totp_code::response::SHORT_SECRET_WARNING;
use serde_json::{Value, json};
use totp_host::{AccessPolicy, Call, Clock, MemoryDirectory};

use crate::other_hosts::require_oathtool;
use crate::util::tool;
use totp_test_support::python::{repo_root, venv_python};

const CASES: usize = 100_000;
const OATHTOOL_EVERY: usize = 100;
const SEED: u64 = 0x6765_745f_746f_7470;
const MAX_TIME: u64 = 1 << 35;
const ALGORITHMS: [&str; 3] = ["SHA1", "SHA256", "SHA512"];

/// SplitMix64: tiny, seeded, good enough to spread cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `low..=high`.
    fn range(&mut self, low: u64, high: u64) -> u64 {
        low + self.next() % (high - low + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

struct Case {
    key: Vec<u8>,
    algorithm: &'static str,
    digits: u8,
    period: u64,
    time: u64,
    stored: String,
}

fn random_case(rng: &mut Rng) -> Case {
    let key: Vec<u8> = (0..rng.range(10, 64)).map(|_| rng.next() as u8).collect();
    let algorithm = ALGORITHMS[rng.range(0, 2) as usize];
    let digits = rng.range(6, 8) as u8;
    let period = match rng.range(0, 9) {
        0..=3 => 30,
        4 => 60,
        5 => 15,
        6 | 7 => rng.range(1, 120),
        _ => rng.range(121, 86_400),
    };
    let time = match rng.range(0, 9) {
        0..=3 => rng.range(0, MAX_TIME),
        // Period boundaries: the last second of a step, its first, its second.
        4..=6 => {
            let step = rng.range(0, MAX_TIME / period - 1) * period;
            step + [0, 1, period - 1][rng.range(0, 2) as usize]
        }
        7 => rng.range(0, 1_000),
        8 => MAX_TIME - rng.range(0, 1_000),
        _ => (1 << 32) + rng.range(0, 2_000) - 1_000,
    };
    let b32 = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &key);
    let default = (algorithm, digits, period) == ("SHA1", 6, 30);
    let stored = if default && rng.chance(50) {
        // Bare base32 in the forms authenticator apps show.
        match rng.range(0, 3) {
            0 => b32,
            1 => b32.to_lowercase(),
            2 => base32::encode(base32::Alphabet::Rfc4648 { padding: true }, &key),
            _ => b32
                .as_bytes()
                .chunks(4)
                .map(|c| std::str::from_utf8(c).unwrap())
                .collect::<Vec<_>>()
                .join(" "),
        }
    } else {
        let mut params = vec![format!("secret={b32}"), "issuer=Diff".to_owned()];
        if algorithm != "SHA1" || rng.chance(50) {
            let name = if rng.chance(20) {
                algorithm.to_lowercase()
            } else {
                algorithm.to_owned()
            };
            params.push(format!("algorithm={name}"));
        }
        if digits != 6 || rng.chance(50) {
            params.push(format!("digits={digits}"));
        }
        if period != 30 || rng.chance(50) {
            params.push(format!("period={period}"));
        }
        // Parameter order does not matter: rotate it.
        let shift = rng.range(0, params.len() as u64 - 1) as usize;
        params.rotate_left(shift);
        format!("otpauth://totp/Diff:agent?{}", params.join("&"))
    };
    Case {
        key,
        algorithm,
        digits,
        period,
        time,
        stored,
    }
}

const USERNAME: &str = "agent_diff_n1";

fn through_component(case: &Case) -> Value {
    let call = Call::new(Arc::new(MemoryDirectory::one_agent(USERNAME, &case.stored)))
        .with_policy(AccessPolicy::Unrestricted)
        .with_clock(Clock::Fixed(case.time));
    let text = tool().get_totp_code(&call, USERNAME);
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// What the component's result must be, given the oracle's code.
fn divergence(case: &Case, result: &Value, code: &str, oracle: &str) -> Option<String> {
    let default = (case.algorithm, case.digits, case.period) == ("SHA1", 6, 30);
    let mut want = json!({
        "success": true,
        "username": USERNAME,
        "totp_code": code,
        "expires_in": case.period - case.time % case.period,
    });
    if !default {
        want["digits"] = case.digits.into();
        want["period"] = case.period.into();
        want["algorithm"] = case.algorithm.into();
    }
    if case.key.len() < 16 {
        want["warning"] = SHORT_SECRET_WARNING.into();
    }
    (result != &want).then(|| {
        format!(
            "{oracle}: key {} {}/{}/{} at {} stored {:?}\n    component {result}\n    expected  {want}",
            hex(&case.key),
            case.algorithm,
            case.digits,
            case.period,
            case.time,
            case.stored
        )
    })
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn component_agrees_with_pyotp_and_oathtool() {
    require_oathtool();
    let python = venv_python();
    let mut rng = Rng(SEED);
    let cases: Vec<Case> = (0..CASES).map(|_| random_case(&mut rng)).collect();

    // The oracles run in their own process while the component works.
    let started = Instant::now();
    let input: Vec<Value> = cases
        .iter()
        .enumerate()
        .map(|(i, case)| {
            json!({"key": hex(&case.key), "algorithm": case.algorithm, "digits": case.digits,
                   "period": case.period, "time": case.time, "oathtool": i % OATHTOOL_EVERY == 0})
        })
        .collect();
    let mut oracle = Command::new(python)
        .arg(repo_root().join("host-test/conformance/oracles.py"))
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("the oracle starts");
    let mut stdin = oracle.stdin.take().unwrap();
    let writer = std::thread::spawn(move || {
        serde_json::to_writer(&mut stdin, &input).unwrap();
        stdin.flush().unwrap();
    });

    let threads = std::thread::available_parallelism().map_or(2, |n| n.get().min(4));
    let chunk = CASES.div_ceil(threads);
    let results: Vec<Value> = std::thread::scope(|scope| {
        let workers: Vec<_> = cases
            .chunks(chunk)
            .map(|part| scope.spawn(move || part.iter().map(through_component).collect::<Vec<_>>()))
            .collect();
        workers
            .into_iter()
            .flat_map(|worker| worker.join().unwrap())
            .collect()
    });
    let component_time = started.elapsed();

    writer.join().unwrap();
    let output = oracle.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "the oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    let oracles: Vec<Value> = serde_json::from_slice(&output.stdout).expect("oracle JSON");
    assert_eq!(oracles.len(), CASES);

    let mut divergences = Vec::new();
    let mut by_oathtool = 0;
    for ((case, result), oracle) in cases.iter().zip(&results).zip(&oracles) {
        let pyotp = oracle["pyotp"].as_str().unwrap();
        divergences.extend(divergence(case, result, pyotp, "pyotp"));
        if let Some(code) = oracle["oathtool"].as_str() {
            by_oathtool += 1;
            divergences.extend(divergence(case, result, code, "oathtool"));
        }
    }
    eprintln!(
        "differential: {CASES} cases ({by_oathtool} also through oathtool), {} divergences; \
         component {component_time:.1?} on {threads} threads, total {:.1?}",
        divergences.len(),
        started.elapsed()
    );
    assert!(by_oathtool >= 1_000);
    assert!(
        divergences.is_empty(),
        "{} divergences, first ones:\n{}",
        divergences.len(),
        divergences[..divergences.len().min(10)].join("\n")
    );
}
