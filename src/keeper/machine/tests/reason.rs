//! Rule 3 a: the offline reason (wechatpro once per episode, WKTeam at most once per 12 h)
//! and the wechatpro last login time.

use super::*;
use crate::vendor::OfflineReason;

#[test]
fn offline_reason_asked_once_per_episode_wechatpro() {
    let mut s = settings(VendorKind::Wechatpro);
    s.policy.second_login_attempts = 2;
    let mut rig = Rig::new(s);
    let acts = rig.confirm_offline();
    assert_eq!(
        calls(&acts).last(),
        Some(&Action::AskOfflineReason),
        "first thing: {acts:?}"
    );
    let reason = OfflineReason::classify("设备网络异常，请重新登录");
    let acts = rig.feed(Event::OfflineReason(Ok(Some(reason))));
    assert_eq!(calls(&acts), vec![Action::AskLastLogin]);
    let acts = rig.feed(Event::LastLogin(Ok(None)));
    assert!(prompts(&acts), "reason 3 allows a prompt: {acts:?}");
    rig.feed(Event::SecondLogin(Ok(Default::default())));
    rig.advance(secs(181));
    let acts = rig.poll(offline());
    assert!(has_event(&acts, "recovery.unconfirmed"));
    assert!(prompts(&acts), "the second attempt");
    assert!(!sends(&acts, &Action::AskOfflineReason), "not asked twice");
    let episode = rig.m.state().episode.clone().unwrap();
    assert_eq!(
        episode.offline_reason.as_deref(),
        Some("设备网络异常，请重新登录")
    );
    // A new episode asks again.
    rig.feed(Event::SecondLogin(Ok(Default::default())));
    rig.poll(online());
    let acts = rig.confirm_offline();
    assert!(sends(&acts, &Action::AskOfflineReason));
}

#[test]
fn offline_reason_at_most_once_per_12h_wkteam() {
    let mut rig = Rig::new(settings(VendorKind::Wkteam));
    let acts = rig.confirm_offline();
    assert!(sends(&acts, &Action::AskOfflineReason));
    let asked_at = rig.now;
    assert_eq!(
        rig.m.state().reason_asked_at,
        None,
        "counted once the vendor answered"
    );
    let acts = rig.feed(Event::OfflineReason(Ok(None)));
    assert_eq!(rig.m.state().reason_asked_at, Some(asked_at));
    assert!(prompts(&acts), "no last-login ask on WKTeam: {acts:?}");
    rig.feed(Event::SecondLogin(Ok(Default::default())));
    rig.poll(online());
    // Two hours later: a new episode, but the reason was asked less than 12 h ago.
    rig.advance(secs(2 * 3_600));
    let acts = rig.confirm_offline();
    assert!(!sends(&acts, &Action::AskOfflineReason), "{acts:?}");
    assert!(prompts(&acts));
    rig.feed(Event::SecondLogin(Ok(Default::default())));
    rig.poll(online());
    // Past 12 h (and inside second_login_hours again the next morning).
    rig.now = asked_at.checked_add(secs(24 * 3_600)).unwrap();
    let acts = rig.confirm_offline();
    assert!(sends(&acts, &Action::AskOfflineReason));
    rig.feed(Event::OfflineReason(Err(VendorError::Timeout)));
    assert_eq!(
        rig.m.state().reason_asked_at,
        Some(rig.now),
        "a failed answer may still have been counted"
    );
}

#[test]
fn offline_reason_the_vendor_never_got_is_not_counted_against_the_12h() {
    let mut rig = Rig::new(settings(VendorKind::Wkteam));
    rig.confirm_offline();
    rig.feed(Event::OfflineReason(Err(VendorError::RateLimited(
        "频繁".into(),
    ))));
    assert_eq!(rig.m.state().reason_asked_at, None);
}

#[test]
fn offline_reason_never_asked_gewe_or_shrise() {
    for kind in [VendorKind::Gewe, VendorKind::Shrise] {
        let mut rig = Rig::new(settings(kind));
        let acts = rig.confirm_offline();
        assert!(!sends(&acts, &Action::AskOfflineReason), "{kind}");
        assert!(!sends(&acts, &Action::AskLastLogin), "{kind}");
    }
}

#[test]
fn offline_reason_failed_ask_continues_the_ladder() {
    let mut rig = Rig::new(settings(VendorKind::Wechatpro));
    rig.confirm_offline();
    let acts = rig.feed(Event::OfflineReason(Err(VendorError::Timeout)));
    assert!(message(&acts, "recovery.skipped").contains("could not ask the offline reason"));
    assert_eq!(calls(&acts), vec![Action::AskLastLogin]);
    let acts = rig.feed(Event::LastLogin(Err(VendorError::Timeout)));
    assert!(prompts(&acts), "{acts:?}");
}

#[test]
fn offline_reasons_4_to_8_skip_second_login() {
    let texts = [
        "你已退出微信",
        "在 iPad 设备上登录",
        "在 2026-11-20 修改密码，请重新登录",
        "修改支付密码，请重新登录",
        "修改活体信息，请重新登录",
    ];
    for text in texts {
        let mut rig = Rig::new(settings(VendorKind::Wechatpro));
        rig.confirm_offline();
        rig.feed(Event::OfflineReason(Ok(Some(OfflineReason::classify(
            text,
        )))));
        let acts = rig.feed(Event::LastLogin(Ok(None)));
        assert!(!prompts(&acts), "{text}");
        assert!(message(&acts, "recovery.skipped").contains(text), "{text}");
        let (summary, detail, _) = opened(&acts, IncidentKind::ManualLoginRequired).unwrap();
        assert!(
            summary.starts_with("sales-01 needs a QR login: no second login"),
            "{summary}"
        );
        assert_eq!(detail["offline_reason"], text);
        assert_eq!(rig.m.status(), "login_required");
    }
}

#[test]
fn last_login_answer_feeds_last_online_at() {
    let mut rig = Rig::new(settings(VendorKind::Wechatpro));
    rig.confirm_offline();
    rig.feed(Event::OfflineReason(Ok(None)));
    let later = rig.now.checked_sub(secs(10)).unwrap();
    assert!(rig.m.state().last_online_at < Some(later));
    let acts = rig.feed(Event::LastLogin(Ok(Some(later))));
    assert_eq!(rig.m.state().last_online_at, Some(later));
    assert!(persisted(&acts));
    let older = ts("2026-01-01T00:00:00Z");
    rig.feed(Event::SecondLogin(Ok(Default::default())));
    rig.poll(online());
    rig.confirm_offline();
    let seen = rig.m.state().last_online_at;
    rig.feed(Event::OfflineReason(Ok(None)));
    rig.feed(Event::LastLogin(Ok(Some(older))));
    assert_eq!(rig.m.state().last_online_at, seen, "the later wins");
}
