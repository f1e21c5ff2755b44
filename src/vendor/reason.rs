//! SCAFFOLD: offline reasons.

/// Scaffold.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OfflineReason {
    /// Scaffold.
    pub text: String,
    /// Scaffold.
    pub category: ReasonCategory,
}

/// Scaffold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReasonCategory {
    /// Scaffold.
    Other,
}
