//! `session-keeper demo` end to end: the real binary tells the whole story and exits 0, the
//! README's first command on a fresh machine.

use std::process::Command;

/// The lines each act must show, in order: the story a new user is promised.
const BEATS: [&str; 9] = [
    "shop-01: step 1, asking the gateway to reconnect",
    "shop-01 is back online",
    "sales-02: step 2, asking for a second-login prompt on the phone",
    "sales-02: the person confirmed the prompt",
    "support-03: nobody confirmed the prompt before it expired",
    "webhook: critical alert manual_login_required for support-03",
    "webhook: resolved manual_login_required for support-03",
    "ALERT opened: recycle_warning for archive-04",
    "Done in",
];

#[test]
fn demo_tells_the_story_in_order_and_exits_zero() {
    let output = Command::new(env!("CARGO_BIN_EXE_session-keeper"))
        .arg("demo")
        .env_remove("RUST_LOG")
        .output()
        .unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "demo failed: {:?}\nstdout:\n{stdout}\nstderr:\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let mut from = 0;
    for beat in BEATS {
        let Some(at) = stdout[from..].find(beat) else {
            panic!("missing or out of order: {beat:?}\nstdout:\n{stdout}");
        };
        from += at + beat.len();
    }
    assert!(
        !stdout.contains("sim-wechatpro-auth"),
        "a credential reached the story"
    );
}
