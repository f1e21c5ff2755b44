//! What a batch tells per incident. Pacing puts every queued message of a group into it, so a
//! group may carry two firing messages of one incident (its first message and an escalation
//! that came before it went out): both are delivered and recorded sent, but the people
//! reading it must see that device once. Renderers count and list [`Batch::incidents`].

use std::collections::HashMap;

use crate::notify::channel::Batch;
use crate::notify::ledger::Message;
use crate::store::Transition;

impl Batch {
    /// One message per incident, in the order the incidents first appear in the batch: the
    /// latest of each (a resolved one over a firing one, then the highest seq; on a tie the
    /// later in the batch), which carries the incident as last decided.
    pub(crate) fn incidents(&self) -> Vec<&Message> {
        let mut told: Vec<&Message> = Vec::new();
        let mut places: HashMap<&str, usize> = HashMap::new();
        for message in &self.messages {
            let id = message.delivery.incident_id.as_str();
            match places.get(id) {
                Some(&place) => {
                    if recency(message) >= recency(told[place]) {
                        told[place] = message;
                    }
                }
                None => {
                    places.insert(id, told.len());
                    told.push(message);
                }
            }
        }
        told
    }
}

/// How late a message of an incident is: resolved after firing, then by seq.
fn recency(message: &Message) -> (bool, u32) {
    let delivery = &message.delivery;
    (delivery.transition == Transition::Resolved, delivery.seq)
}
