//! Codes that survive the trip: a call's `min_validity`.
//!
//! A code handed out with one second left has usually expired by the time
//! the agent's next request reaches the service that checks it. With
//! [`Call::min_validity`] set, the host runs the tool with its clock pinned
//! to one second `t`. When the code it gets expires within `min_validity`,
//! the next period starts at `t + expires_in`: the host waits until then (a
//! fixed clock is not waited for, so tests wait for nothing) and runs the
//! tool again pinned to that second, so the code handed out has a whole
//! period left.
//!
//! The wait is shorter than `min_validity` (and than the period), and it is
//! host time: the sandbox's deadline bounds each run of the guest, not the
//! wait between them. A `min_validity` longer than the secret's period
//! cannot be met; the second run's code, valid for the whole period, is
//! handed out. Results other than an issued code stand as they are.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::call::{Call, Clock};

/// The first run of `call`, with its clock pinned at the second it returns;
/// `None` when the call asks for no minimum (it then runs as it is).
pub(crate) fn first_run(call: &Call) -> Option<(Call, u64)> {
    if call.min_validity.is_zero() {
        return None;
    }
    let (now, _) = call.clock.now();
    Some((call.clone().with_clock(Clock::Fixed(now)), now))
}

/// After the first run at `now` gave `result`: `None` when that result
/// stands; else the call to run at the start of the next period, once the
/// host has waited for it.
pub(crate) fn second_run(call: &Call, now: u64, result: &str) -> Option<Call> {
    let left = issued_expires_in(result)?;
    if Duration::from_secs(left) >= call.min_validity {
        return None;
    }
    let next_period = now.checked_add(left)?;
    if call.clock == Clock::System {
        wait_until(next_period, call.min_validity);
    }
    // Pinned to the period's first second either way, so that a system
    // clock stepped back during the wait cannot give the old code again.
    Some(call.clone().with_clock(Clock::Fixed(next_period)))
}

/// `expires_in` of a result that issued a code; `None` for any other.
fn issued_expires_in(result: &str) -> Option<u64> {
    let value: serde_json::Value = serde_json::from_str(result).ok()?;
    if value.get("success")?.as_bool()? {
        value.get("expires_in")?.as_u64()
    } else {
        None
    }
}

/// Sleeps until the Unix second `second`, and never longer than `bound`.
fn wait_until(second: u64, bound: Duration) {
    let at = UNIX_EPOCH + Duration::from_secs(second);
    if let Ok(left) = at.duration_since(SystemTime::now()) {
        std::thread::sleep(left.min(bound));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::memory::MemoryDirectory;
    use std::sync::Arc;

    fn call(clock: Clock, min_validity: u64) -> Call {
        Call::new(Arc::new(MemoryDirectory::default()))
            .with_clock(clock)
            .with_min_validity(Duration::from_secs(min_validity))
    }

    #[test]
    fn no_minimum_runs_the_call_as_it_is() {
        assert!(first_run(&call(Clock::System, 0)).is_none());
    }

    #[test]
    fn a_code_expiring_within_the_minimum_is_asked_for_again_at_the_next_period() {
        let call = call(Clock::Fixed(1_111_111_109), 5);
        let (first, now) = first_run(&call).unwrap();
        assert_eq!(
            (first.clock, now),
            (Clock::Fixed(1_111_111_109), 1_111_111_109)
        );
        let issued = r#"{"success":true,"username":"a","totp_code":"081804","expires_in":1}"#;
        let next = second_run(&call, now, issued).unwrap();
        assert_eq!(next.clock, Clock::Fixed(1_111_111_110));
        let lasting = r#"{"success":true,"username":"a","totp_code":"081804","expires_in":5}"#;
        assert!(second_run(&call, now, lasting).is_none());
    }

    #[test]
    fn failures_stand() {
        let call = call(Clock::Fixed(59), 29);
        let failed =
            r#"{"success":false,"error":"Agent user not found","error_code":"user_not_found"}"#;
        assert!(second_run(&call, 59, failed).is_none());
        assert!(second_run(&call, 59, "not json").is_none());
    }
}
