//! Demo scenarios.
