//! The real daemon (`session-keeper run`) against the simulator on 127.0.0.1:0, with
//! sub-second timings: each vendor's ladder, provider faults, blackouts, restarts, reloads,
//! shutdown, `status` and the webhook payload. The harness (`keeper/harness.rs`) starts the
//! binary with JSON logs on stderr and collects every event line; `keeper/receiver.rs` is a
//! fake webhook receiver. One submodule per subject.

mod faults;
pub mod harness;
mod ladder;
mod lifecycle;
pub mod receiver;
mod reload;
mod restarts;
mod tokens;
mod webhook;
