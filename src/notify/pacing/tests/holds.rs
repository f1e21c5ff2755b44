//! The worker's holds: a message in its backoff, or inhibited, is skipped without holding
//! back other incidents, while the later messages of its own incident wait with it.

use super::*;

/// Holds the messages about `device` as `hold` says, nothing else.
fn holding(device: &str, hold: Hold) -> impl Fn(&Message) -> Option<Hold> {
    let device = device.to_owned();
    move |message: &Message| (message.incident.key.subject.name() == device).then_some(hold)
}

#[test]
fn a_message_in_its_backoff_is_skipped_and_its_incident_waits_behind_it() {
    let webhook = pacing(NotifierKind::Webhook);
    let a = login("a", t(0));
    let mut waiting = queue(vec![a.clone(), login("b", t(0)), resolved(a, t(1))]);
    let retrying = holding("a", Hold::Until(t(10)));

    assert_eq!(
        webhook.plan(&waiting, &none(), t(1), &retrying),
        send(&[1], Shape::One),
        "b goes while a waits out its backoff"
    );
    waiting.remove(1);
    assert_eq!(
        webhook.plan(&waiting, &none(), t(2), &retrying),
        Plan::Wait(t(10)),
        "a's resolved never overtakes its firing"
    );
    assert_eq!(
        webhook.plan(&waiting, &none(), t(10), &retrying),
        send(&[0], Shape::One),
        "the backoff is over"
    );
}

#[test]
fn a_group_leaves_out_its_member_in_backoff_and_the_nearest_wake_is_the_earliest() {
    let bot = pacing(NotifierKind::Feishu);
    let waiting = queue(vec![login("a", t(0)), login("b", t(0)), login("c", t(0))]);
    assert_eq!(
        bot.plan(&waiting, &none(), t(30), holding("a", Hold::Until(t(90)))),
        send(&[1, 2], Shape::Group)
    );
    assert_eq!(
        bot.plan(&waiting, &none(), t(10), holding("a", Hold::Until(t(20)))),
        Plan::Wait(t(20)),
        "the backoff ends before the group wait"
    );
}

#[test]
fn an_inhibited_message_is_neither_sent_nor_waited_for() {
    let bot = pacing(NotifierKind::Feishu);
    let only = queue(vec![login("a", t(0))]);
    let inhibited = holding("a", Hold::Inhibited);
    assert_eq!(bot.plan(&only, &none(), t(60), &inhibited), Plan::Idle);

    let outage = provider("gewe-cloud", IncidentKind::ProviderUnreachable, t(1));
    let both = queue(vec![login("a", t(0)), outage]);
    assert_eq!(
        bot.plan(&both, &none(), t(1), &inhibited),
        send(&[1], Shape::One),
        "the provider incident goes"
    );
}
