//! The rate limit: singles within the budget, digests over it for channels people read,
//! one by one for programs, and waiting for the oldest send to leave the window.

use super::*;

#[test]
fn within_the_rate_limit_programs_send_one_by_one_then_wait_for_the_oldest_send() {
    let pacing = Pacing {
        rate_limit: 3,
        ..pacing(NotifierKind::Webhook)
    };
    let mut waiting = queue((0..5).map(|i| login(&format!("d{i}"), t(0))).collect());
    let mut sends = VecDeque::new();
    for now in [t(1), t(2), t(3)] {
        assert_eq!(
            pacing.plan(&waiting, &sends, now, free),
            send(&[0], Shape::One)
        );
        waiting.pop_front();
        sends.push_back(now);
    }
    assert_eq!(pacing.plan(&waiting, &sends, t(3), free), Plan::Wait(t(61)));
    assert_eq!(
        pacing.plan(&waiting, &sends, t(60), free),
        Plan::Wait(t(61))
    );
    assert_eq!(
        pacing.plan(&waiting, &sends, t(61), free),
        send(&[0], Shape::One)
    );
}

#[test]
fn twenty_five_ready_at_once_over_a_limit_of_twenty_go_as_one_digest() {
    let pacing = chat(20);
    let waiting = queue((0..25).map(|i| login(&format!("d{i:02}"), t(0))).collect());
    let all: Vec<usize> = (0..25).collect();
    assert_eq!(
        pacing.plan(&waiting, &none(), t(0), free),
        send(&all, Shape::Digest)
    );
    // Twenty fit the budget: the first goes alone.
    let twenty = queue((0..20).map(|i| login(&format!("d{i:02}"), t(0))).collect());
    assert_eq!(
        pacing.plan(&twenty, &none(), t(0), free),
        send(&[0], Shape::One)
    );
}

#[test]
fn twenty_five_arriving_a_second_apart_go_as_twenty_singles_then_one_digest_of_five() {
    let pacing = chat(20);
    let mut waiting = VecDeque::new();
    let mut sends = VecDeque::new();
    let mut shapes = Vec::new();
    for i in 0..25 {
        waiting.push_back(login(&format!("d{i:02}"), t(i)));
        match pacing.plan(&waiting, &sends, t(i), free) {
            Plan::Send(pick) => {
                shapes.push((pick.shape, take(&mut waiting, &pick).len()));
                sends.push_back(t(i));
            }
            Plan::Wait(until) => assert_eq!(until, t(60), "the send at t 0 leaves first"),
            Plan::Idle => panic!("a message is queued"),
        }
    }
    assert_eq!(shapes, vec![(Shape::One, 1); 20]);
    // At t 60 one send left the window: one unit of budget for five ready messages.
    let plan = pacing.plan(&waiting, &sends, t(60), free);
    assert_eq!(plan, send(&[0, 1, 2, 3, 4], Shape::Digest));
}

#[test]
fn a_program_over_its_limit_never_merges_and_sends_as_the_window_frees() {
    let pacing = Pacing {
        rate_limit: 2,
        ..pacing(NotifierKind::Exec)
    };
    let waiting = queue((0..5).map(|i| login(&format!("d{i}"), t(0))).collect());
    let sends = VecDeque::from([t(0)]);
    assert_eq!(
        pacing.plan(&waiting, &sends, t(1), free),
        send(&[0], Shape::One)
    );
    let sends = VecDeque::from([t(0), t(1)]);
    assert_eq!(pacing.plan(&waiting, &sends, t(1), free), Plan::Wait(t(60)));
}

#[test]
fn a_digest_keeps_queue_order_and_leaves_out_what_is_still_held() {
    let pacing = Pacing {
        rate_limit: 2,
        ..pacing(NotifierKind::Dingtalk)
    };
    let waiting = queue(vec![
        provider("p1", IncidentKind::ProviderUnreachable, t(50)),
        login("late", t(50)),
        provider("p2", IncidentKind::CredentialsInvalid, t(55)),
        login("early", t(20)),
        provider("p3", IncidentKind::CredentialsInvalid, t(58)),
    ]);
    let sends = VecDeque::from([t(10)]);
    // The login group is ready at t 50 (its oldest waited 30 s): 4 units, budget 1.
    let plan = pacing.plan(&waiting, &sends, t(60), free);
    assert_eq!(plan, send(&[0, 1, 2, 3, 4], Shape::Digest));
    // Before the group is ready: three provider units over a budget of one, without it.
    let plan = pacing.plan(&waiting, &sends, t(49), free);
    assert_eq!(plan, send(&[0, 2, 4], Shape::Digest));
}

#[test]
fn an_unlimited_channel_sends_the_first_ready_unit_whatever_waits() {
    let pacing = chat(0);
    let waiting = queue((0..50).map(|i| login(&format!("d{i:02}"), t(0))).collect());
    let sends: VecDeque<Timestamp> = (0..100).map(t).collect();
    assert_eq!(
        pacing.plan(&waiting, &sends, t(100), free),
        send(&[0], Shape::One)
    );
}

#[test]
fn forget_old_keeps_only_the_sends_inside_the_window() {
    let mut sends = VecDeque::from([t(0), t(30), t(59), t(60)]);
    forget_old(&mut sends, t(90));
    assert_eq!(sends, [t(59), t(60)]);
}

#[test]
fn a_digest_carries_at_most_thirty_criticals_first_and_the_rest_wait_for_the_next_send() {
    let pacing = chat(1);
    let mut messages: Vec<Message> = (0..40)
        .map(|i| device(&format!("w{i:02}"), IncidentKind::RecycleWarning, t(0)))
        .collect();
    for i in 0..5 {
        messages.push(login(&format!("c{i}"), t(0)));
    }
    let mut waiting = queue(messages);
    let Plan::Send(pick) = pacing.plan(&waiting, &none(), t(0), free) else {
        panic!("a digest goes");
    };
    assert_eq!(pick.shape, Shape::Digest);
    assert_eq!(pick.indices.len(), DIGEST_MAX);
    let expected: Vec<usize> = (0..25).chain(40..45).collect();
    assert_eq!(
        pick.indices, expected,
        "every critical, then the oldest warnings"
    );

    take(&mut waiting, &pick);
    let left: Vec<String> = waiting
        .iter()
        .map(|m| m.incident.key.subject.name().to_owned())
        .collect();
    let expected: Vec<String> = (25..40).map(|i| format!("w{i:02}")).collect();
    assert_eq!(left, expected, "the rest stay queued, in order");
}
