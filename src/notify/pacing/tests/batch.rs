//! Two firing messages of one incident in one group: both go, the batch tells it once.

use super::*;
use crate::notify::channel::Batch;

/// Message `seq` about `name`'s manual login, created at `created`.
fn escalation(name: &str, seq: u32, created: Timestamp) -> Message {
    let mut message = login(name, created);
    message.delivery.seq = seq;
    message
}

#[test]
fn a_group_takes_both_messages_of_an_incident_and_tells_the_incident_once() {
    let bot = pacing(NotifierKind::Wecom);
    let waiting = queue(vec![
        login("a", t(0)),
        login("b", t(1)),
        escalation("a", 1, t(2)),
    ]);
    let Plan::Send(pick) = bot.plan(&waiting, &none(), t(30), free) else {
        panic!("the group goes");
    };
    assert_eq!(
        pick,
        Pick {
            indices: vec![0, 1, 2],
            shape: Shape::Group,
        }
    );
    let batch = Batch {
        shape: pick.shape,
        messages: pick.indices.iter().map(|i| waiting[*i].clone()).collect(),
    };
    let told: Vec<(&str, u32)> = batch
        .incidents()
        .iter()
        .map(|m| (m.incident.key.subject.name(), m.delivery.seq))
        .collect();
    assert_eq!(
        told,
        [("a", 1), ("b", 0)],
        "two devices, a as last escalated"
    );
}

#[test]
fn a_resolved_message_is_later_than_any_firing_one_of_its_incident() {
    let a = escalation("a", 2, t(0));
    let batch = Batch {
        shape: Shape::Digest,
        messages: vec![resolved(a.clone(), t(5)), a],
    };
    let told = batch.incidents();
    assert_eq!(told.len(), 1);
    assert_eq!(told[0].delivery.transition, Transition::Resolved);
}
