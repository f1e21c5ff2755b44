//! wiremock tests pinning each client's raw HTTP shape.
