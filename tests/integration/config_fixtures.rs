//! SCAFFOLD: config_fixtures tests.
