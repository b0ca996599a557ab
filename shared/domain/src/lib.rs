//! The 12336 regulation as pure Rust: no AWS, no I/O, no clock. Every function of the platform
//! decides through this crate; adapters (store, WeChat, handlers) only move data in and out.
//!
//! # Layout
//! - [`calendar`]: Chinese working days (Asia/Shanghai) and the deadlines counted in them.
//! - [`division`]: GB/T 2260 division codes (parse, level, parent, containment).
//! - [`similarity`]: duplicate and merge candidates for a new clue, ranked by text similarity.
pub mod calendar;
pub mod division;
pub mod similarity;

pub use calendar::{CalendarError, WorkingCalendar};
pub use division::{DivisionCode, DivisionCodeError, DivisionLevel};
