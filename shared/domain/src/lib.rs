//! The 12336 regulation as pure Rust: no AWS, no I/O, no clock. Every function of the platform
//! decides through this crate; adapters (store, WeChat, handlers) only move data in and out.
//!
//! # Layout
//! - [`calendar`]: Chinese working days (Asia/Shanghai) and the deadlines counted in them.
//! - [`chat`]: the guided-chat reporting dialogue (place, address, subject, facts, photos, consent).
//! - [`division`]: GB/T 2260 division codes (parse, level, parent, containment).
//! - [`bureau`]: bureaus and jurisdiction (handling bureau, escalation, designation, territory).
//! - [`scope`]: annex 1 categories, art. 7 exclusions, city scope versions, the reporting notice.
//! - [`text`]: bounded free text (address, subject, facts, messages, reasons).
//! - [`ids`]: clue, officer, notice ids, the reporter key and the clue number.
//! - [`actor`]: reporter, officer (roles) or system.
//! - [`deadline`]: legal deadlines and whether they were met on time.
//! - [`event`]: what happens to a clue.
//! - [`clue`]: the clue rebuilt from its events, its states.
//! - [`command`]: commands and the pure decisions that turn them into events.
//! - [`timeline`]: the hash-chained, tamper-evident event log.
//! - [`notice`]: annex 3's notice texts, verbatim.
//! - [`stats`]: which counters each event increments, per territory and day.
//! - [`figures`]: a division's figures for a period from its day counters; the on-time rate.
//! - [`rollup`]: month rollups of the counters and which month and day items a range reads.
//! - [`error`]: the domain's one error type.
//! - [`divisions`]: the embedded registry of every province, city and county, with names.
//! - [`similarity`]: duplicate and merge candidates for a new clue, ranked by text similarity.
//! - [`reminder`]: officer reminders about deadlines (recipient, kind, stable id, text).
//! - [`scope_filing`]: a city's scope filed with its province, and the acknowledgment.
//! - [`supervision`]: 督办 of a clue: opened by an upper bureau, answered, ended.
//! - [`wechat_binding`]: an officer's WeChat binding codes and the "绑定" command.
//! - [`bulletin`]: 通报 bulletins (snapshot, review, issue, who reads them).
pub mod actor;
pub mod bulletin;
pub mod bureau;
pub mod calendar;
pub mod chat;
pub mod clue;
pub mod command;
pub mod deadline;
pub mod division;
pub mod divisions;
pub mod error;
pub mod event;
pub mod figures;
pub mod geo;
pub mod identity;
pub mod ids;
pub mod notice;
pub mod reminder;
pub mod report;
pub mod rollup;
pub mod scope;
pub mod scope_filing;
pub mod service;
pub mod similarity;
pub mod stats;
pub mod supervision;
pub mod text;
pub mod timeline;
pub mod wechat_binding;

pub use actor::{Actor, Officer, Role};
pub use bureau::{Bureau, BureauDirectory, BureauId, BureauKind, BureauLevel, JurisdictionError};
pub use calendar::{CalendarError, WorkingCalendar};
pub use clue::{ClosedOutcome, Clue, ClueState};
pub use command::{
    ClueSummary, Command, JudgmentRequest, ReceiveClue, Rules, TransferRequest, receive,
};
pub use deadline::{Deadline, DeadlineKind, DeadlineStatus, DueOn, ReporterDeadline};
pub use division::{DivisionCode, DivisionCodeError, DivisionLevel};
pub use divisions::{Division, Divisions, DivisionsError};
pub use error::DomainError;
pub use event::{Event, EventKind};
pub use ids::{
    AttachmentId, ClueId, ClueNo, IdError, NoticeId, OfficerId, ReminderId, ReporterKey,
};
pub use notice::{NoticeContent, NoticeKey};
pub use reminder::{Reminder, ReminderKind, ReminderRecipient};
pub use text::TextError;
