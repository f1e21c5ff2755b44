//! SCAFFOLD: cli tests.
