//! SCAFFOLD: vendor_wkteam tests.
