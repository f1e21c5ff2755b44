//! SCAFFOLD: shared request plumbing for the vendor clients.
