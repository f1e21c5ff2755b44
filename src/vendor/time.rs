//! SCAFFOLD: vendor timestamp parsing.
