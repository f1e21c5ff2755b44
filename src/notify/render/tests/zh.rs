//! Every kind, a reminder and a resolved message in Chinese, pinned in full.

use super::*;

#[test]
fn manual_login_required() {
    let text = first_of(IncidentKind::ManualLoginRequired, Language::Zh);
    pinned(
        &text.markdown,
        "### 【严重】sales-01 需要扫码登录\n\
        \n\
        设备已掉线，自动恢复没有成功，需要有人扫码登录。\n\
        \n\
        - **设备**：sales-01\n\
        - **账号**：wx_sales01\n\
        - **网关**：gewe-cloud（gewe）\n\
        - **标签**：owner=ops-team\n\
        - **已尝试**：重连失败 → 二次登录未确认\n\
        - **掉线原因**：你的账号在另一台设备上登录\n\
        - **开始于**：2026-11-21 16:00 CST\n\
        \n\
        **现在要做**：在网关 gewe-cloud 的控制台找到设备 sales-01，用该微信号的手机扫码登录。\n\
        \n\
        — session-keeper",
    );
    pinned(
        &text.plain,
        "【严重】sales-01 需要扫码登录\n\
        \n\
        设备已掉线，自动恢复没有成功，需要有人扫码登录。\n\
        \n\
        设备：sales-01\n\
        账号：wx_sales01\n\
        网关：gewe-cloud（gewe）\n\
        标签：owner=ops-team\n\
        已尝试：重连失败 → 二次登录未确认\n\
        掉线原因：你的账号在另一台设备上登录\n\
        开始于：2026-11-21 16:00 CST\n\
        \n\
        现在要做：在网关 gewe-cloud 的控制台找到设备 sales-01，用该微信号的手机扫码登录。\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Critical);
}

#[test]
fn device_recycled() {
    let text = first_of(IncidentKind::DeviceRecycled, Language::Zh);
    pinned(
        &text.markdown,
        "### 【严重】sales-01 设备已被回收\n\
        \n\
        设备超过回收期限仍未登录，已被网关回收，需要重置后重新登录。\n\
        \n\
        - **设备**：sales-01\n\
        - **账号**：wx_sales01\n\
        - **网关**：gewe-cloud（gewe）\n\
        - **标签**：owner=ops-team\n\
        - **回收时间**：2026-11-21 16:00 CST\n\
        - **开始于**：2026-11-21 16:00 CST\n\
        \n\
        **现在要做**：在网关 gewe-cloud 的控制台重置设备 sales-01，然后扫码重新登录。\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Critical);
}

#[test]
fn recycle_warning() {
    let text = first_of(IncidentKind::RecycleWarning, Language::Zh);
    pinned(
        &text.markdown,
        "### 【警告】sales-01 即将被回收\n\
        \n\
        设备长时间未登录，到回收期限时会被网关回收。\n\
        \n\
        - **设备**：sales-01\n\
        - **账号**：wx_sales01\n\
        - **网关**：gewe-cloud（gewe）\n\
        - **标签**：owner=ops-team\n\
        - **回收期限**：2026-11-24 16:00 CST（还剩 3天）\n\
        - **开始于**：2026-11-21 16:00 CST\n\
        \n\
        **现在要做**：请在 2026-11-24 16:00 CST 之前，在网关 gewe-cloud 的控制台为 sales-01 扫码登录，否则设备会被回收。\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Warning);
}

#[test]
fn credentials_invalid() {
    let text = first_of(IncidentKind::CredentialsInvalid, Language::Zh);
    pinned(
        &text.markdown,
        "### 【严重】gewe-cloud 凭据失效\n\
        \n\
        网关拒绝了 session-keeper 的凭据，调用已放缓，直到凭据重新有效。\n\
        \n\
        - **网关**：gewe-cloud（gewe）\n\
        - **错误**：gewe answered ret 401: token invalid\n\
        - **开始于**：2026-11-21 16:00 CST\n\
        \n\
        **现在要做**：检查 session-keeper 配置中网关 gewe-cloud 的凭据（token、app id 等）是否过期或填错，修正后重新加载配置。\n\
        \n\
        **受影响设备（3 台）**\n\
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
    let text = first_of(IncidentKind::ProviderUnreachable, Language::Zh);
    pinned(
        &text.markdown,
        "### 【警告】gewe-cloud 网关不可达\n\
        \n\
        对网关的调用持续失败：它的设备状态未知，在网关恢复应答前不会发起恢复操作。\n\
        \n\
        - **网关**：gewe-cloud（gewe）\n\
        - **错误**：connection refused\n\
        - **开始于**：2026-11-21 16:00 CST\n\
        \n\
        **现在要做**：检查网关 gewe-cloud 是否在运行，以及 session-keeper 到它的网络是否通畅。\n\
        \n\
        **受影响设备（2 台）**\n\
        - sales-01\n\
        - sales-02\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Warning);
}

#[test]
fn reminder_says_its_number_and_how_long_it_is_open() {
    let text = reminder(Language::Zh);
    pinned(
        &text.markdown,
        "### 【严重】提醒 #2：sales-01 需要扫码登录\n\
        \n\
        设备已掉线，自动恢复没有成功，需要有人扫码登录。\n\
        \n\
        - **设备**：sales-01\n\
        - **账号**：wx_sales01\n\
        - **网关**：gewe-cloud（gewe）\n\
        - **标签**：owner=ops-team\n\
        - **已尝试**：重连失败 → 二次登录未确认\n\
        - **掉线原因**：你的账号在另一台设备上登录\n\
        - **开始于**：2026-11-21 16:00 CST（已持续 2小时30分钟）\n\
        \n\
        **现在要做**：在网关 gewe-cloud 的控制台找到设备 sales-01，用该微信号的手机扫码登录。\n\
        \n\
        — session-keeper",
    );
}

#[test]
fn a_removed_device_is_no_longer_watched_not_online_again() {
    let text = removed(Language::Zh);
    pinned(
        &text.markdown,
        "### 【已恢复】sales-01 已停止监控\n\
        \n\
        不再监控：已从配置中移除。session-keeper 已停止检查它，设备可能仍未登录。\n\
        \n\
        - **设备**：sales-01\n\
        - **账号**：wx_sales01\n\
        - **网关**：gewe-cloud（gewe）\n\
        - **标签**：owner=ops-team\n\
        - **持续**：2小时15分钟（自 2026-11-21 16:00 CST 起）\n\
        \n\
        — session-keeper",
    );
    assert!(!text.markdown.contains("恢复在线"));
}

#[test]
fn resolved_says_how_long_it_was_open() {
    let text = recovered(Language::Zh);
    pinned(
        &text.markdown,
        "### 【已恢复】sales-01 已恢复在线\n\
        \n\
        问题已恢复，无需处理。\n\
        \n\
        - **设备**：sales-01\n\
        - **账号**：wx_sales01\n\
        - **网关**：gewe-cloud（gewe）\n\
        - **标签**：owner=ops-team\n\
        - **持续**：2小时15分钟（自 2026-11-21 16:00 CST 起）\n\
        \n\
        — session-keeper",
    );
    assert_eq!(text.tone, Tone::Resolved);
}
