//! Every kind, a reminder and a resolved message in English, pinned in full.

use super::*;

#[test]
fn manual_login_required() {
    let text = first_of(IncidentKind::ManualLoginRequired, Language::En);
    pinned(
        &text.markdown,
        "### [CRITICAL] sales-01 needs a QR login\n\
        \n\
        The device is offline and automatic recovery did not bring it back: a person must log in with a QR code.\n\
        \n\
        - **Device**: sales-01\n\
        - **Account**: wx_sales01\n\
        - **Provider**: gewe-cloud (gewe)\n\
        - **Labels**: owner=ops-team\n\
        - **Tried**: reconnect failed → second login not confirmed\n\
        - **Offline reason**: 你的账号在另一台设备上登录\n\
        - **Since**: 2026-11-21 16:00 CST\n\
        \n\
        **Do now**: Find sales-01 in the gewe-cloud gateway console and scan its QR code with that WeChat account's phone.\n\
        \n\
        — session-keeper",
    );
    pinned(
        &text.plain,
        "[CRITICAL] sales-01 needs a QR login\n\
        \n\
        The device is offline and automatic recovery did not bring it back: a person must log in with a QR code.\n\
        \n\
        Device: sales-01\n\
        Account: wx_sales01\n\
        Provider: gewe-cloud (gewe)\n\
        Labels: owner=ops-team\n\
        Tried: reconnect failed → second login not confirmed\n\
        Offline reason: 你的账号在另一台设备上登录\n\
        Since: 2026-11-21 16:00 CST\n\
        \n\
        Do now: Find sales-01 in the gewe-cloud gateway console and scan its QR code with that WeChat account's phone.\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Critical);
}

#[test]
fn device_recycled() {
    let text = first_of(IncidentKind::DeviceRecycled, Language::En);
    pinned(
        &text.markdown,
        "### [CRITICAL] sales-01 was recycled\n\
        \n\
        The device stayed logged out past its recycle deadline and the gateway recycled it: it must be reset and logged in again.\n\
        \n\
        - **Device**: sales-01\n\
        - **Account**: wx_sales01\n\
        - **Provider**: gewe-cloud (gewe)\n\
        - **Labels**: owner=ops-team\n\
        - **Recycled at**: 2026-11-21 16:00 CST\n\
        - **Since**: 2026-11-21 16:00 CST\n\
        \n\
        **Do now**: Reset sales-01 in the gewe-cloud gateway console, then log in again with a QR code.\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Critical);
}

#[test]
fn recycle_warning() {
    let text = first_of(IncidentKind::RecycleWarning, Language::En);
    pinned(
        &text.markdown,
        "### [WARNING] sales-01 will be recycled\n\
        \n\
        The device has been logged out for a long time: the gateway recycles it at its deadline.\n\
        \n\
        - **Device**: sales-01\n\
        - **Account**: wx_sales01\n\
        - **Provider**: gewe-cloud (gewe)\n\
        - **Labels**: owner=ops-team\n\
        - **Recycle deadline**: 2026-11-24 16:00 CST (3d left)\n\
        - **Since**: 2026-11-21 16:00 CST\n\
        \n\
        **Do now**: Log sales-01 in with a QR code in the gewe-cloud gateway console before 2026-11-24 16:00 CST, or the gateway recycles it.\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Warning);
}

#[test]
fn credentials_invalid() {
    let text = first_of(IncidentKind::CredentialsInvalid, Language::En);
    pinned(
        &text.markdown,
        "### [CRITICAL] gewe-cloud rejected our credentials\n\
        \n\
        The gateway rejected session-keeper's credentials: calls back off until they are accepted again.\n\
        \n\
        - **Provider**: gewe-cloud (gewe)\n\
        - **Error**: gewe answered ret 401: token invalid\n\
        - **Since**: 2026-11-21 16:00 CST\n\
        \n\
        **Do now**: Check the credentials of gewe-cloud in the session-keeper config (token, app id, ...) for expiry or typos, fix them and reload the config.\n\
        \n\
        **Affected devices (3)**\n\
        - sales-01\n\
        - sales-02\n\
        - support-01\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Critical);
}

#[test]
fn provider_unreachable() {
    let text = first_of(IncidentKind::ProviderUnreachable, Language::En);
    pinned(
        &text.markdown,
        "### [WARNING] gewe-cloud is unreachable\n\
        \n\
        Calls to the gateway have kept failing: its devices count as unknown and no recovery starts until it answers.\n\
        \n\
        - **Provider**: gewe-cloud (gewe)\n\
        - **Error**: connection refused\n\
        - **Since**: 2026-11-21 16:00 CST\n\
        \n\
        **Do now**: Check that the gewe-cloud gateway is running and that session-keeper can reach it.\n\
        \n\
        **Affected devices (2)**\n\
        - sales-01\n\
        - sales-02\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Warning);
}

#[test]
fn reminder_says_its_number_and_how_long_it_is_open() {
    let text = reminder(Language::En);
    pinned(
        &text.markdown,
        "### [CRITICAL] Reminder #2: sales-01 needs a QR login\n\
        \n\
        The device is offline and automatic recovery did not bring it back: a person must log in with a QR code.\n\
        \n\
        - **Device**: sales-01\n\
        - **Account**: wx_sales01\n\
        - **Provider**: gewe-cloud (gewe)\n\
        - **Labels**: owner=ops-team\n\
        - **Tried**: reconnect failed → second login not confirmed\n\
        - **Offline reason**: 你的账号在另一台设备上登录\n\
        - **Since**: 2026-11-21 16:00 CST (open for 2h 30m)\n\
        \n\
        **Do now**: Find sales-01 in the gewe-cloud gateway console and scan its QR code with that WeChat account's phone.\n\
        \n\
        — session-keeper",
    );
}

#[test]
fn a_removed_device_is_no_longer_watched_not_online_again() {
    let text = removed(Language::En);
    pinned(
        &text.markdown,
        "### [RESOLVED] sales-01 is no longer watched\n\
        \n\
        No longer watched: removed from the configuration. session-keeper stopped checking it, so it may still be offline.\n\
        \n\
        - **Device**: sales-01\n\
        - **Account**: wx_sales01\n\
        - **Provider**: gewe-cloud (gewe)\n\
        - **Labels**: owner=ops-team\n\
        - **Lasted**: 2h 15m (since 2026-11-21 16:00 CST)\n\
        \n\
        — session-keeper",
    );
    assert!(!text.markdown.contains("online again") && !text.markdown.contains("nothing to do"));
}

#[test]
fn resolved_says_how_long_it_was_open() {
    let text = recovered(Language::En);
    pinned(
        &text.markdown,
        "### [RESOLVED] sales-01 is online again\n\
        \n\
        Resolved, nothing to do.\n\
        \n\
        - **Device**: sales-01\n\
        - **Account**: wx_sales01\n\
        - **Provider**: gewe-cloud (gewe)\n\
        - **Labels**: owner=ops-team\n\
        - **Lasted**: 2h 15m (since 2026-11-21 16:00 CST)\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Resolved);
}
