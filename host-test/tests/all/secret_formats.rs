//! Real-world secret shapes, through the component: Key URIs, SHA-256/512,
//! 6–8 digits, custom periods, short secrets.

use serde_json::Value;

use crate::util::*;

fn code_for(secret: &str, time: u64) -> Value {
    let directory = store();
    directory
        .put_user("agent_wf_n1", true, Some(secret))
        .unwrap();
    get(&call_at(directory, time), "agent_wf_n1")
}

/// RFC 6238 Appendix B at 8 digits, per the erratum's key lengths: the ASCII
/// seed `1234567890` repeated to 20 (SHA-1), 32 (SHA-256) and 64 (SHA-512)
/// bytes.
fn rfc6238_appendix_b(algorithm: &str, key_len: usize, column: usize) {
    let table: [(u64, [&str; 3]); 6] = [
        (59, ["94287082", "46119246", "90693936"]),
        (1111111109, ["07081804", "68084774", "25091201"]),
        (1111111111, ["14050471", "67062674", "99943326"]),
        (1234567890, ["89005924", "91819424", "93441116"]),
        (2000000000, ["69279037", "90698825", "38618901"]),
        (20000000000, ["65353130", "77737706", "47863826"]),
    ];
    let key: Vec<u8> = b"1234567890"
        .iter()
        .copied()
        .cycle()
        .take(key_len)
        .collect();
    let secret = base32::encode(base32::Alphabet::Rfc4648 { padding: false }, &key);
    let uri = format!("otpauth://totp/RFC6238:test?secret={secret}&algorithm={algorithm}&digits=8");
    for (time, codes) in table {
        let result = code_for(&uri, time);
        assert_eq!(
            assert_code(&result, "agent_wf_n1"),
            codes[column],
            "{algorithm} at {time}"
        );
        assert_eq!(result["digits"], 8);
        assert_eq!(result["algorithm"], algorithm);
        assert_eq!(result["period"], 30);
        assert!(result.get("warning").is_none(), "{result}");
    }
}

#[test]
fn totp_sha1_rfc6238_appendix_b_8_digits() {
    rfc6238_appendix_b("SHA1", 20, 0);
}

#[test]
fn totp_sha256_rfc6238_appendix_b() {
    rfc6238_appendix_b("SHA256", 32, 1);
}

#[test]
fn totp_sha512_rfc6238_appendix_b() {
    rfc6238_appendix_b("SHA512", 64, 2);
}

#[test]
fn uri_with_defaults_answers_like_bare_base32() {
    let bare = code_for(RFC_SECRET_B32, 59);
    let uri = code_for(
        &format!("otpauth://totp/ACME:agent?secret={RFC_SECRET_B32}&issuer=ACME"),
        59,
    );
    assert_eq!(bare, uri);
    assert!(
        uri.get("digits").is_none(),
        "defaults are not repeated: {uri}"
    );
}

#[test]
fn custom_period_counts_expires_in_against_it() {
    let uri = format!("otpauth://totp/a?secret={RFC_SECRET_B32}&period=60");
    // T = 59 and T = 0 share the 60-second step (counter 0); T = 60 does not.
    let at_59 = code_for(&uri, 59);
    assert_eq!(at_59["expires_in"], 1);
    assert_eq!(at_59["period"], 60);
    assert_eq!(at_59["totp_code"], code_for(&uri, 0)["totp_code"]);
    assert_eq!(code_for(&uri, 60)["expires_in"], 60);
    assert_ne!(at_59["totp_code"], code_for(&uri, 60)["totp_code"]);
    // Counter 0 with SHA-1 is RFC 4226 Appendix D's first value, 755224.
    assert_eq!(at_59["totp_code"], "755224");
}

#[test]
fn seven_digit_codes_are_zero_padded_reductions() {
    // RFC 6238 Appendix B, SHA-1 at T = 1111111109: 07081804, so 7081804 at 7.
    let uri = format!("otpauth://totp/a?secret={RFC_SECRET_B32}&digits=7");
    let result = code_for(&uri, 1111111109);
    assert_eq!(result["totp_code"], "7081804");
    assert_eq!(result["digits"], 7);
}

#[test]
fn short_secrets_work_with_a_warning() {
    // 80-bit key, as large providers issue: the code of RFC 4226's HMAC over
    // the 10-byte key is not published, so compare with the same key given
    // bare and as a URI, and check the warning.
    let short = "GEZDGNBVGY3TQOJQ";
    let bare = code_for(short, 59);
    assert_eq!(
        bare["warning"],
        "secret shorter than 128 bits (RFC 4226 section 4)"
    );
    assert_eq!(assert_code(&bare, "agent_wf_n1").len(), 6);
    let uri = code_for(&format!("otpauth://totp/a?secret={short}"), 59);
    assert_eq!(bare, uri);
    // 128 bits exactly: no warning.
    let full = code_for("GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ", 59);
    assert!(full.get("warning").is_none(), "{full}");
}

#[test]
fn hotp_uris_are_unsupported() {
    let result = code_for(
        &format!("otpauth://hotp/a?secret={RFC_SECRET_B32}&counter=0"),
        59,
    );
    let message = assert_error(&result, "unsupported_secret");
    assert!(message.contains("HOTP"), "{message}");
}

#[test]
fn bad_uris_are_invalid_secrets_that_name_the_part() {
    let secret = "MFRGGZDFMZTWQ2LKNNWG23TPOBYXE43U";
    let table = [
        (
            format!("otpauth://totp/a?secret={secret}&digits=9"),
            "digits",
        ),
        (
            format!("otpauth://totp/a?secret={secret}&period=0"),
            "period",
        ),
        (
            format!("otpauth://totp/a?secret={secret}&algorithm=MD5"),
            "algorithm",
        ),
        ("otpauth://totp/a?issuer=ACME".to_owned(), "secret"),
        (
            format!("otpauth://totp/a?secret={secret}&secret={secret}"),
            "more than one",
        ),
        (
            format!("otpauth://totp/ACME:a?secret={secret}&issuer=Evil"),
            "issuer",
        ),
        ("otpauth://totp/a?secret=====".to_owned(), "empty"),
        (
            format!("otpauth://totp/a?secret={}1", &secret[..31]),
            "base32",
        ),
    ];
    for (uri, part) in table {
        let result = code_for(&uri, 59);
        let message = assert_error(&result, "invalid_secret");
        assert!(message.contains(part), "{uri}: {message}");
        let text = result.to_string();
        for window in secret.as_bytes().windows(8) {
            assert!(
                !text.contains(std::str::from_utf8(window).unwrap()),
                "{uri}: {text}"
            );
        }
    }
}
