//! SCAFFOLD: support tests.
