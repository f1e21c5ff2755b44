//! Groups, digests, the test message, the ladder's steps in Chinese, and size limits.

use super::*;

/// WeCom's limit on a markdown message (bytes).
const WECOM: usize = 4096;

/// DingTalk's limit on a markdown text (bytes).
const DINGTALK: usize = 20_000;

/// `names` as `manual_login_required` devices of gewe-cloud: the second could not get a
/// second login, the third message is a reminder.
fn outage(names: &[&str]) -> Vec<Message> {
    names
        .iter()
        .enumerate()
        .map(|(i, name)| {
            let detail = match i {
                1 => json!({ "steps": ["no second login available"] }),
                _ => manual_detail(),
            };
            let subject = Subject::Device((*name).into());
            let incident =
                device_incident(IncidentKind::ManualLoginRequired, subject, detail, true);
            message(incident, Transition::Firing, u32::from(i == 2))
        })
        .collect()
}

/// `count` devices named `device-00`, `device-01`, ... in one outage.
fn many(count: usize) -> Vec<Message> {
    let names: Vec<String> = (0..count).map(|i| format!("device-{i:02}")).collect();
    let names: Vec<&str> = names.iter().map(String::as_str).collect();
    outage(&names)
}

#[test]
fn a_group_is_one_message_listing_the_devices() {
    let group = outage(&["sales-01", "sales-02", "support-01"]);
    let text = render_batch(Shape::Group, group, Language::Zh, SENT, DEFAULT_MAX);
    assert_eq!(text.title, "【严重】gewe-cloud: 3 台设备需要扫码登录");
    assert_eq!(text.tone, Tone::Critical);
    pinned(
        &text.markdown,
        "### 【严重】gewe-cloud: 3 台设备需要扫码登录\n\
        \n\
        - **网关**：gewe-cloud（gewe）\n\
        \n\
        **现在要做**：在网关 gewe-cloud 的控制台为下列设备逐一扫码登录。\n\
        \n\
        **设备（3 台）**\n\
        - sales-01 · wx_sales01 · 重连失败 → 二次登录未确认\n\
        - sales-02 · wx_sales02 · 该设备无法二次登录\n\
        - support-01 · wx_support01 · 重连失败 → 二次登录未确认 · 提醒 #1\n\
        \n\
        — session-keeper",
    );
}

#[test]
fn a_group_tells_each_incident_once_though_two_of_its_messages_are_in_it() {
    let mut group = outage(&["sales-01", "sales-02"]);
    let mut escalated = group[0].clone();
    escalated.delivery.seq = 1;
    group.push(escalated);
    let text = render_batch(Shape::Group, group, Language::Zh, SENT, DEFAULT_MAX);
    assert_eq!(text.title, "【严重】gewe-cloud: 2 台设备需要扫码登录");
    assert_eq!(
        text.markdown.matches("- sales-01").count(),
        1,
        "{}",
        text.markdown
    );
}

#[test]
fn a_group_in_english() {
    let group = outage(&["sales-01", "sales-02", "support-01"]);
    let text = render_batch(Shape::Group, group, Language::En, SENT, DEFAULT_MAX);
    pinned(
        &text.markdown,
        "### [CRITICAL] gewe-cloud: 3 devices need a QR login\n\
        \n\
        - **Provider**: gewe-cloud (gewe)\n\
        \n\
        **Do now**: Scan the QR code of each device below in the gewe-cloud gateway console.\n\
        \n\
        **Devices (3)**\n\
        - sales-01 · wx_sales01 · reconnect failed → second login not confirmed\n\
        - sales-02 · wx_sales02 · no second login available for this device\n\
        - support-01 · wx_support01 · reconnect failed → second login not confirmed · Reminder #1\n\
        \n\
        — session-keeper",
    );
}

#[test]
fn a_resolved_group_says_how_long_each_was_open() {
    let group: Vec<Message> = outage(&["sales-01", "sales-02"])
        .into_iter()
        .map(|m| resolved((*m.incident).clone(), "2026-11-21T09:05:00Z"))
        .collect();
    let text = render_batch(Shape::Group, group, Language::Zh, SENT, DEFAULT_MAX);
    assert_eq!(text.tone, Tone::Resolved);
    pinned(
        &text.markdown,
        "### 【已恢复】gewe-cloud: 2 台设备已恢复在线\n\
        \n\
        问题已恢复，无需处理。\n\
        \n\
        - **网关**：gewe-cloud（gewe）\n\
        \n\
        **设备（2 台）**\n\
        - sales-01 · wx_sales01 · 1小时5分钟\n\
        - sales-02 · wx_sales02 · 1小时5分钟\n\
        \n\
        — session-keeper",
    );
}

/// A digest: a provider warning, a recycle warning, a reminder and a resolved device.
fn digest(language: Language) -> Text {
    let recycled = device_incident(
        IncidentKind::DeviceRecycled,
        Subject::Device("sales-02".into()),
        detail(IncidentKind::DeviceRecycled),
        true,
    );
    let kinds = [
        IncidentKind::ProviderUnreachable,
        IncidentKind::RecycleWarning,
    ];
    let mut messages: Vec<Message> = kinds
        .into_iter()
        .map(|kind| firing(incident(kind, detail(kind))))
        .collect();
    let manual = incident(IncidentKind::ManualLoginRequired, manual_detail());
    messages.push(message(manual, Transition::Firing, 3));
    messages.push(resolved(recycled, "2026-11-21T09:00:00Z"));
    render_batch(Shape::Digest, messages, language, SENT, DEFAULT_MAX)
}

#[test]
fn a_digest_is_one_line_per_message() {
    let text = digest(Language::Zh);
    assert_eq!(text.title, "【严重】4 条告警（超过频率限制已合并）");
    assert_eq!(text.tone, Tone::Critical);
    pinned(
        &text.markdown,
        "### 【严重】4 条告警（超过频率限制已合并）\n\
        \n\
        发送频率超过了该通知渠道的限制，这段时间的告警合并为一条，每条一行。\n\
        \n\
        **告警**\n\
        - 【警告】gewe-cloud 网关不可达\n\
        - 【警告】sales-01 即将被回收 · gewe-cloud\n\
        - 【严重】提醒 #3：sales-01 需要扫码登录 · gewe-cloud\n\
        - 【已恢复】sales-02 已恢复在线 · gewe-cloud\n\
        \n\
        — session-keeper",
    );
}

#[test]
fn a_digest_in_english() {
    let text = digest(Language::En);
    pinned(
        &text.markdown,
        "### [CRITICAL] 4 alerts (merged: over the rate limit)\n\
        \n\
        More messages were due than this notifier may send, so they are merged here, one line each.\n\
        \n\
        **Alerts**\n\
        - [WARNING] gewe-cloud is unreachable\n\
        - [WARNING] sales-01 will be recycled · gewe-cloud\n\
        - [CRITICAL] Reminder #3: sales-01 needs a QR login · gewe-cloud\n\
        - [RESOLVED] sales-02 is online again · gewe-cloud\n\
        \n\
        — session-keeper",
    );
}

#[test]
fn the_test_message_is_marked_names_the_notifier_and_asks_nothing() {
    let test = Outgoing::Test {
        notifier: "ops-wecom",
    };
    let zh = render_within(test, at(SENT), &style(Language::Zh), DEFAULT_MAX);
    assert_eq!(zh.title, "【测试】session-keeper 测试消息");
    assert_eq!(zh.tone, Tone::Test);
    pinned(
        &zh.markdown,
        "### 【测试】session-keeper 测试消息\n\
        \n\
        这是通知渠道 ops-wecom 的测试消息：能看到它，说明该渠道配置正确。无需任何操作。\n\
        \n\
        - **发送时间**：2026-11-21 16:00 CST\n\
        \n\
        — session-keeper",
    );
    let en = render(test, at(SENT), &style(Language::En));
    assert_eq!(en.title, "[TEST] session-keeper test message");
    pinned(
        &en.plain,
        "[TEST] session-keeper test message\n\
        \n\
        This is a test message for notifier ops-wecom: if you can read it, the notifier works. No action is needed.\n\
        \n\
        Sent at: 2026-11-21 16:00 CST\n\
        \n\
        — session-keeper",
    );
}

#[test]
fn every_step_the_ladder_writes_reads_in_chinese() {
    let steps = json!({ "steps": [
        "reconnect failed: connection reset (2 times)",
        "reconnect: 无需重连 but offline",
        "second login refused: ret 500",
        "no second login after offline reason \"账号被冻结\"",
        "second login skipped after 3 unconfirmed in a row",
        "second login waits for 09:00",
        "second login disabled",
        "no automatic recovery on shrise",
        "something this build does not know",
    ]});
    let text = render_one(
        firing(incident(IncidentKind::ManualLoginRequired, steps)),
        Language::Zh,
        SENT,
    );
    let tried = text.plain.lines().find(|l| l.starts_with("已尝试"));
    pinned(
        tried.unwrap_or_default(),
        "已尝试：重连失败：connection reset（2 次） → 网关答复无需重连，但设备仍离线 → 二次登录被拒绝：ret 500 → 掉线原因需要人工处理，未发二次登录（账号被冻结） → 已连续 3 次未确认，不再发二次登录 → 二次登录等到 09:00 再发 → 二次登录已关闭 → shrise 不支持自动恢复 → something this build does not know",
    );
}

#[test]
fn a_long_list_keeps_what_fits_and_counts_the_rest() {
    let text = render_batch(Shape::Group, many(60), Language::Zh, SENT, 1000);
    assert!(text.markdown.len() <= 1000, "{}", text.markdown.len());
    assert!(text.plain.len() <= 1000, "{}", text.plain.len());
    pinned(
        &text.markdown,
        "### 【严重】gewe-cloud: 60 台设备需要扫码登录\n\
        \n\
        - **网关**：gewe-cloud（gewe）\n\
        \n\
        **现在要做**：在网关 gewe-cloud 的控制台为下列设备逐一扫码登录。\n\
        \n\
        **设备（60 台）**\n\
        - device-00 · wx_device00 · 重连失败 → 二次登录未确认\n\
        - device-01 · wx_device01 · 该设备无法二次登录\n\
        - device-02 · wx_device02 · 重连失败 → 二次登录未确认 · 提醒 #1\n\
        - device-03 · wx_device03 · 重连失败 → 二次登录未确认\n\
        - device-04 · wx_device04 · 重连失败 → 二次登录未确认\n\
        - device-05 · wx_device05 · 重连失败 → 二次登录未确认\n\
        - device-06 · wx_device06 · 重连失败 → 二次登录未确认\n\
        - device-07 · wx_device07 · 重连失败 → 二次登录未确认\n\
        - device-08 · wx_device08 · 重连失败 → 二次登录未确认\n\
        - device-09 · wx_device09 · 重连失败 → 二次登录未确认\n\
        - …及其他 50 台\n\
        \n\
        — session-keeper",
    );
    let en = render_batch(Shape::Group, many(60), Language::En, SENT, 1000);
    assert!(
        en.markdown.ends_with("- … and 51 more\n\n— session-keeper"),
        "{}",
        en.markdown
    );
}

#[test]
fn each_channel_limit_is_kept_and_a_longer_limit_lists_more() {
    let wecom = render_batch(Shape::Group, many(300), Language::Zh, SENT, WECOM);
    let dingtalk = render_batch(Shape::Group, many(300), Language::Zh, SENT, DINGTALK);
    assert!(wecom.markdown.len() <= WECOM);
    assert!(dingtalk.markdown.len() <= DINGTALK);
    let listed = |text: &Text| {
        text.markdown
            .lines()
            .filter(|l| l.starts_with("- device-"))
            .count()
    };
    let rest = |text: &Text| {
        let last = text
            .markdown
            .lines()
            .rev()
            .find(|l| l.starts_with("- …及其他 "));
        let count = last.and_then(|l| l.strip_prefix("- …及其他 ")?.strip_suffix(" 台"));
        count.and_then(|n| n.parse::<usize>().ok()).unwrap_or(0)
    };
    assert!(listed(&wecom) > 10, "{}", wecom.markdown);
    assert!(listed(&dingtalk) > listed(&wecom));
    assert_eq!(listed(&wecom) + rest(&wecom), 300);
    assert_eq!(listed(&dingtalk) + rest(&dingtalk), 300);
    // As many as fit: the next device's line would not have.
    let k = listed(&wecom);
    let next = format!("\n- device-{k:02} · wx_device{k:02} · 重连失败 → 二次登录未确认");
    assert!(wecom.markdown.len() + next.len() > WECOM);
}

#[test]
fn a_provider_incidents_device_list_is_cut_too() {
    let devices: Vec<String> = (0..2000).map(|i| format!("device-{i:04}")).collect();
    let detail = json!({ "error": "connection refused", "devices": devices });
    let incident = incident(IncidentKind::ProviderUnreachable, detail);
    let text = render_batch(Shape::One, vec![firing(incident)], Language::Zh, SENT, 4096);
    assert!(text.markdown.len() <= 4096);
    assert!(
        text.markdown
            .contains("**受影响设备（2000 台）**\n- device-0000\n")
    );
    assert!(text.markdown.contains(" 台\n\n— session-keeper"));
    assert!(text.markdown.contains("**现在要做**：检查网关 gewe-cloud"));
}

#[test]
fn text_without_a_list_is_cut_at_a_character_boundary() {
    let reason = "账号异常需要验证".repeat(200);
    let detail = json!({ "steps": [], "offline_reason": reason });
    let incident = incident(IncidentKind::ManualLoginRequired, detail);
    for max in [300, 301, 302, 303] {
        let text = render_batch(
            Shape::One,
            vec![firing(incident.clone())],
            Language::Zh,
            SENT,
            max,
        );
        assert!(text.markdown.len() <= max && text.markdown.len() > max - 4);
        assert!(text.markdown.ends_with("…\n\n— session-keeper"), "{max}");
        assert!(text.markdown.starts_with("### "));
        assert!(text.plain.len() <= max && text.plain.len() > max - 4);
        assert!(text.plain.ends_with("…\n\n— session-keeper"), "{max}");
    }
    // A limit too small for the signature itself cuts everything alike.
    let tiny = render_batch(Shape::One, vec![firing(incident)], Language::Zh, SENT, 16);
    assert!(tiny.markdown.len() <= 16 && tiny.markdown.ends_with('…'));
    let sample = "需要扫码登录";
    for max in 0..=sample.len() + 1 {
        let cut = doc::clip(sample, max);
        assert!(cut.len() <= max, "{max}: {cut}");
        let kept = cut.strip_suffix('…').unwrap_or(&cut);
        assert!(sample.starts_with(kept), "{max}: {cut}");
    }
    assert_eq!(doc::clip(sample, sample.len()), sample);
}

#[test]
fn a_list_too_long_even_without_items_is_cut_above_the_signature() {
    let devices: Vec<String> = (0..500).map(|i| format!("device-{i:03}")).collect();
    let error = "upstream answered 502 Bad Gateway ".repeat(300);
    let detail = json!({ "error": error, "devices": devices });
    let incident = incident(IncidentKind::ProviderUnreachable, detail);
    for language in [Language::Zh, Language::En] {
        let text = render_batch(
            Shape::One,
            vec![firing(incident.clone())],
            language,
            SENT,
            4096,
        );
        assert!(text.markdown.len() <= 4096 && text.markdown.len() > 4090);
        assert!(text.plain.len() <= 4096 && text.plain.len() > 4090);
        for body in [&text.markdown, &text.plain] {
            assert!(body.ends_with("…\n\n— session-keeper"), "{body}");
            assert_eq!(body.matches("— session-keeper").count(), 1);
            assert!(!body.contains("device-000"), "the list is gone first");
        }
    }
}

#[test]
fn the_markdown_body_is_the_text_below_the_heading() {
    let text = first_of(IncidentKind::ProviderUnreachable, Language::En);
    let body = text.markdown_body();
    assert!(
        body.starts_with("Calls to the gateway have kept failing"),
        "{body}"
    );
    assert_eq!(text.markdown, format!("### {}\n\n{body}", text.title));
}

#[test]
fn a_batch_whose_shape_does_not_match_is_still_told_whole() {
    let two = outage(&["sales-01", "sales-02"]);
    let text = render_batch(Shape::One, two, Language::En, SENT, DEFAULT_MAX);
    assert_eq!(
        text.title,
        "[CRITICAL] 2 alerts (merged: over the rate limit)"
    );
    let mut mixed = outage(&["sales-01"]);
    mixed.push(firing(incident(
        IncidentKind::RecycleWarning,
        detail(IncidentKind::RecycleWarning),
    )));
    let text = render_batch(Shape::Group, mixed, Language::En, SENT, DEFAULT_MAX);
    assert_eq!(
        text.title,
        "[CRITICAL] 2 alerts (merged: over the rate limit)"
    );
    let one = outage(&["sales-01"]);
    let text = render_batch(Shape::Group, one, Language::En, SENT, DEFAULT_MAX);
    assert_eq!(text.title, "[CRITICAL] sales-01 needs a QR login");
}
