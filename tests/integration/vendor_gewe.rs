//! SCAFFOLD: vendor_gewe tests.
