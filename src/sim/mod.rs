//! SCAFFOLD: the vendor simulator.
