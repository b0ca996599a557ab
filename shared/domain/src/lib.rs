//! The 12336 regulation as pure Rust: no AWS, no I/O, no clock. Every function of the platform
//! decides through this crate; adapters (store, WeChat, handlers) only move data in and out.
//!
//! # Layout
//! - [`division`]: GB/T 2260 division codes (parse, level, parent, containment).
//! - [`divisions`]: the embedded registry of every province, city and county, with names.
pub mod division;
pub mod divisions;

pub use division::{DivisionCode, DivisionCodeError, DivisionLevel};
pub use divisions::{Division, Divisions, DivisionsError};
