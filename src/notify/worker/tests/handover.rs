//! A reload retiring a worker: its attempt in flight finishes and is recorded (never sent
//! again by the successor), and its queue and rate-limit memory go to the successor.

use super::*;

#[tokio::test]
async fn a_retired_worker_records_its_attempt_in_flight_and_hands_back_the_rest() {
    let cancel = CancellationToken::new();
    let (channel, mut attempts) = staged();
    let journal = MemoryJournal::default();
    let (worker, mut reported, counted) = worker(channel, &journal, &cancel, 2);
    let retire = worker.retire.clone();
    let (_inbox, receiver) = mpsc::unbounded_channel();
    let queue = VecDeque::from([message(0), message(1)]);
    let run = tokio::spawn(worker.run(receiver, start(queue)));

    let answer = attempts.recv().await.unwrap();
    retire.cancel();
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    answer
        .send(Ok(()))
        .expect("a reload does not abandon the attempt");
    let handback = run.await.unwrap();

    let left: Vec<u32> = handback.queue.iter().map(|m| m.delivery.seq).collect();
    assert_eq!(left, [1], "the delivered message is not handed on");
    assert!(attempts.try_recv().is_err(), "no attempt after the retire");
    let writes = journal.writes();
    let [Write::Delivery(sent)] = &writes[..] else {
        panic!("expected one delivery write, got {writes:?}");
    };
    assert_eq!((sent.seq, sent.state), (0, DeliveryState::Sent));
    assert!(matches!(
        reported.try_recv(),
        Ok(Command::Delivered { delivery, .. }) if delivery.seq == 0
    ));
    assert_eq!(*counted.borrow(), 1);
    assert_eq!(handback.sends.len(), 1, "the send is remembered");
}

#[tokio::test(start_paused = true)]
async fn a_successor_keeps_the_rate_limit_memory_of_the_worker_it_replaces() {
    let worker = paced(chat(2), vec![]);
    worker.login("d0");
    worker.login("d1");
    sleep_secs(10).await;
    assert_eq!(worker.seen().len(), 2, "the budget is used up");
    let base = worker.base;
    let handback = worker.retire().await;
    assert_eq!(handback.sends.len(), 2);
    assert!(handback.queue.is_empty());

    let later = base
        .checked_add(jiff::SignedDuration::from_secs(10))
        .unwrap();
    let successor = paced_with(later, chat(2), vec![], handback);
    successor.login("d2");
    sleep_secs(120).await;
    assert_eq!(
        successor.seen(),
        [(50, Shape::One, names(&["d2"]))],
        "d2 waits until the first send leaves the minute (60 s after the start)"
    );
    successor.stop().await;
}
