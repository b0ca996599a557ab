//! Legal deadlines of a clue (arts. 12, 14) and whether each was met on time; "on time" is
//! recorded when the deadline is met, never recomputed later.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bureau::BureauId;

/// The deadlines the regulation sets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DeadlineKind {
    /// Art. 12: judgment notice within 7 working days after receipt (or designation).
    Judgment,
    /// Art. 12(2): escalation within 2 working days after receipt.
    Escalation,
    /// Art. 14: verification result notice within 5 working days after verification ended.
    VerificationNotice,
}

impl DeadlineKind {
    /// Every kind.
    pub const ALL: [DeadlineKind; 3] = [Self::Judgment, Self::Escalation, Self::VerificationNotice];

    /// The number of working days the regulation allows.
    pub fn working_days(self) -> u32 {
        match self {
            Self::Judgment => 7,
            Self::Escalation => 2,
            Self::VerificationNotice => 5,
        }
    }

    /// The Chinese name shown in the console.
    pub fn label(self) -> &'static str {
        match self {
            Self::Judgment => "判定告知期限",
            Self::Escalation => "逐级提请期限",
            Self::VerificationNotice => "核查结果告知期限",
        }
    }

    /// Whether passing this deadline unmet is an overdue to report to supervisors. The
    /// escalation deadline only binds a bureau that escalates: a bureau that judges the clue
    /// itself never owed an escalation.
    pub fn overdue_is_reported(self) -> bool {
        !matches!(self, Self::Escalation)
    }

    /// Stable code for keys and statistics.
    pub fn code(self) -> &'static str {
        match self {
            Self::Judgment => "judgment",
            Self::Escalation => "escalation",
            Self::VerificationNotice => "verification_notice",
        }
    }
}

/// Where a deadline stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum DeadlineStatus {
    /// Still running (or overdue, when `now > due`).
    Open,
    /// What it asked for was done at `at`; `on_time` is `at <= due`, recorded then.
    Met { at: DateTime<Utc>, on_time: bool },
    /// No longer owed (e.g. the escalation deadline once the clue is judged; the judgment
    /// deadline of a bureau that escalated).
    Discharged { at: DateTime<Utc> },
}

/// One deadline of a clue, owed by one bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    /// The bureau that owes it.
    pub bureau: BureauId,
    /// When the clock started (receipt, designation, verification end).
    pub starts_at: DateTime<Utc>,
    /// The end of the last working day allowed (23:59:59.999 Asia/Shanghai).
    pub due: DateTime<Utc>,
    /// When to remind the officers: the start of the working day before the due day.
    pub remind_at: DateTime<Utc>,
    pub status: DeadlineStatus,
}

impl Deadline {
    /// Whether it is still running.
    pub fn is_open(&self) -> bool {
        matches!(self.status, DeadlineStatus::Open)
    }

    /// Whether it is open and past due at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open() && now > self.due
    }

    /// The status of meeting it at `at`.
    pub fn met_at(&self, at: DateTime<Utc>) -> DeadlineStatus {
        DeadlineStatus::Met {
            at,
            on_time: at <= self.due,
        }
    }
}
