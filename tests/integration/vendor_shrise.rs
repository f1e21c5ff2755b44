//! SCAFFOLD: vendor_shrise tests.
