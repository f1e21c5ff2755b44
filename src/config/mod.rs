//! SCAFFOLD: configuration.
