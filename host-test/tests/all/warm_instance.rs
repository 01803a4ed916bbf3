//! One instance serving many calls: answers stay right and its memory is
//! reused (the guest's allocator rewinds after every call), so a long run
//! stays under the per-call memory cap.

use serde_json::Value;
use totp_host::AccessPolicy;

use crate::util::*;

#[test]
fn warm_instance_answers_every_call_like_a_fresh_one() {
    let directory = store();
    directory
        .put_user("agent_a", true, Some(&RFC6238.sha1_secret()))
        .unwrap();
    directory
        .put_user("agent_bad", true, Some("not base32!"))
        .unwrap();
    let code = RFC6238.sha1_code(59);
    let call = call_at(directory, 59).with_policy(AccessPolicy::AnyAgent);
    let mut warm = tool().warm_instance(&call).unwrap();
    let big = "b".repeat(300 << 10);
    // 4 MiB cap / 10 000 rounds: a leak of more than ~100 bytes a call, or
    // of any large argument, would end the run with a memory-limit error.
    for round in 0..10_000 {
        let (username, expected) = match round % 4 {
            0 => ("agent_a", code.as_str()),
            1 => ("agent_nobody", "user_not_found"),
            2 => ("agent_bad", "invalid_secret"),
            _ => (big.as_str(), "invalid_arguments"),
        };
        let text = warm
            .try_get_totp_code(username)
            .unwrap_or_else(|e| panic!("round {round}: {e}"));
        let fresh = tool().get_totp_code(&call, username);
        assert_eq!(text, fresh, "round {round}");
        let result: Value = serde_json::from_str(&text).unwrap();
        let answer = result["totp_code"]
            .as_str()
            .or(result["error_code"].as_str());
        assert_eq!(answer, Some(expected), "round {round}");
    }
    let invoked: Value =
        serde_json::from_str(&warm.try_invoke(r#"{"username":"agent_a"}"#).unwrap()).unwrap();
    assert_eq!(invoked["totp_code"], code);
    let described: Value = serde_json::from_str(&warm.try_describe().unwrap()).unwrap();
    assert_eq!(described["name"], "get_totp_code");
}
