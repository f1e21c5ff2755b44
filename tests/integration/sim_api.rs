//! SCAFFOLD: sim_api tests.
