//! Published test vectors, through the component.

use crate::util::*;

/// RFC 6238 Appendix B, SHA-1 column, at 6 digits (the table's 8-digit
/// values with the two leading digits dropped, as RFC 4226 §5.3 reduces).
#[test]
fn totp_sha1_rfc6238_appendix_b() {
    let table = [
        (59, "94287082"),
        (1111111109, "07081804"),
        (1111111111, "14050471"),
        (1234567890, "89005924"),
        (2000000000, "69279037"),
        (20000000000, "65353130"),
    ];
    for (time, eight_digits) in table {
        let directory = store();
        directory
            .put_user("agent_rfc_vectors", true, Some(RFC_SECRET_B32))
            .unwrap();
        let result = get(&call_at(directory, time), "agent_rfc_vectors");
        let code = assert_code(&result, "agent_rfc_vectors");
        assert_eq!(code, eight_digits[2..], "at {time}");
    }
}
