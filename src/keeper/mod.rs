//! The keeper: a supervisor that owns shutdown and reload, one runner task per device, and
//! the pure per-device [`machine`] that makes every decision.

pub mod machine;
