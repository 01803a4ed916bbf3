//! Load: fresh-instance calls across threads on one engine, in a child
//! process so that its resident memory is its own. CI runs 20 000 calls;
//! the full run is `totp-host load --calls 1000000` (README, *Security model*).

use crate::util::cli_report;

#[test]
fn load_has_no_failures_and_flat_memory() {
    let report = cli_report(&["load", "--calls", "20000", "--threads", "4"]);
    println!("load: {report}");
    assert_eq!(report["failures"], 0);
    let before = report["rss_after_warm_up_kib"].as_u64().unwrap();
    let after = report["rss_at_end_kib"].as_u64().unwrap();
    assert!(before > 0, "no RSS reading: {report}");
    assert!(after <= before + 4096, "resident memory grew: {report}");
}
