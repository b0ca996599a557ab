//! Legal deadlines of a clue (arts. 12, 14) and whether each was met on time; "on time" is
//! recorded when the deadline is met, never recomputed later.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bureau::BureauId;
use crate::calendar::{CalendarError, WorkingCalendar, shanghai_date};

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

/// A legal deadline as the reporter is shown it ("我的举报").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReporterDeadline {
    pub kind: DeadlineKind,
    pub due: DueOn,
    pub status: DeadlineStatus,
}

/// When a deadline shown to the reporter falls.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DueOn {
    /// The last working day allowed, in Asia/Shanghai.
    Date(chrono::NaiveDate),
    /// The calendar has no data for the year it falls in yet: not guessed.
    Pending,
    /// Its clock has not started: counted from the day verification ends.
    AfterVerification,
}

/// One deadline of a clue, owed by one bureau.
///
/// `due` is `None` while the calendar has no data for the year the deadline falls in (late
/// December, before the State Council publishes the next year's arrangement): the deadline is
/// then *pending*, never guessed, and the sweep resolves it once the data is loaded.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Deadline {
    pub kind: DeadlineKind,
    /// The bureau that owes it.
    pub bureau: BureauId,
    /// When the clock started (receipt, designation, the day verification ended).
    pub starts_at: DateTime<Utc>,
    /// The end of the last working day allowed (23:59:59.999 Asia/Shanghai).
    pub due: Option<DateTime<Utc>>,
    /// When to remind the officers: the start of the working day before the due day.
    pub remind_at: Option<DateTime<Utc>>,
    pub status: DeadlineStatus,
    /// When the sweep recorded it as missed (passed while still open); it stays open until met.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub missed_at: Option<DateTime<Utc>>,
}

impl Deadline {
    /// The deadline of `kind` owed by `bureau`, its clock started at `starts_at`; pending when
    /// the calendar does not cover the year it falls in.
    ///
    /// # Errors
    /// Calendar failures other than an uncovered year (invalid data), which are defects.
    pub fn open(
        kind: DeadlineKind,
        bureau: BureauId,
        starts_at: DateTime<Utc>,
        calendar: &WorkingCalendar,
    ) -> Result<Self, CalendarError> {
        let (due, remind_at) = match compute(kind, starts_at, calendar) {
            Ok((due, remind)) => (Some(due), Some(remind)),
            Err(CalendarError::YearNotCovered(_)) => (None, None),
            Err(e) => return Err(e),
        };
        Ok(Self {
            kind,
            bureau,
            starts_at,
            due,
            remind_at,
            status: DeadlineStatus::Open,
            missed_at: None,
        })
    }

    /// Whether it is still running.
    pub fn is_open(&self) -> bool {
        matches!(self.status, DeadlineStatus::Open)
    }

    /// Whether it is open but its due instant is not yet known.
    pub fn is_pending(&self) -> bool {
        self.is_open() && self.due.is_none()
    }

    /// Whether it is open and past due at `now`.
    pub fn is_overdue(&self, now: DateTime<Utc>) -> bool {
        self.is_open() && self.due.is_some_and(|due| now > due)
    }

    /// The status of meeting it at `at`. For a pending deadline, the calendar is asked again;
    /// if it still cannot place the due day but can count that fewer working days than allowed
    /// have passed, it was met on time; otherwise it is recorded as discharged (not guessed).
    pub fn met_at(&self, at: DateTime<Utc>, calendar: &WorkingCalendar) -> DeadlineStatus {
        let due = self.due.or_else(|| {
            compute(self.kind, self.starts_at, calendar)
                .ok()
                .map(|(d, _)| d)
        });
        if let Some(due) = due {
            return DeadlineStatus::Met {
                at,
                on_time: at <= due,
            };
        }
        let elapsed =
            calendar.working_days_between(shanghai_date(self.starts_at), shanghai_date(at));
        match elapsed {
            Ok(n) if n < i64::from(self.kind.working_days()) => {
                DeadlineStatus::Met { at, on_time: true }
            }
            _ => DeadlineStatus::Discharged { at },
        }
    }
}

fn compute(
    kind: DeadlineKind,
    starts_at: DateTime<Utc>,
    calendar: &WorkingCalendar,
) -> Result<(DateTime<Utc>, DateTime<Utc>), CalendarError> {
    let due = calendar.deadline(starts_at, kind.working_days())?;
    Ok((due, calendar.reminder_instant(due)?))
}

/// Resolves a pending deadline once the calendar covers its year: `(due, remind_at)`.
///
/// # Errors
/// [`CalendarError::YearNotCovered`] while it still does not.
pub fn resolve(
    deadline: &Deadline,
    calendar: &WorkingCalendar,
) -> Result<(DateTime<Utc>, DateTime<Utc>), CalendarError> {
    compute(deadline.kind, deadline.starts_at, calendar)
}
