//! Legal deadlines of a clue (arts. 12, 14) and whether each was met on time; "on time" is
//! recorded when the deadline is met, never recomputed later.

use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bureau::BureauId;
use crate::calendar::{
    CalendarError, END_OF_DAY, WorkingCalendar, shanghai_date, shanghai_instant,
};

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
    /// Art. 16 (督办): the handling bureau's answer to an upper bureau's supervision, by the
    /// day the supervising bureau set (not counted in working days).
    Supervision,
}

impl DeadlineKind {
    /// Every kind.
    pub const ALL: [DeadlineKind; 4] = [
        Self::Judgment,
        Self::Escalation,
        Self::VerificationNotice,
        Self::Supervision,
    ];

    /// The number of working days the regulation allows (`None` for a supervision, whose day
    /// the supervising bureau sets).
    pub fn working_days(self) -> Option<u32> {
        match self {
            Self::Judgment => Some(7),
            Self::Escalation => Some(2),
            Self::VerificationNotice => Some(5),
            Self::Supervision => None,
        }
    }

    /// The kind of a stable code ([`Self::code`]).
    pub fn parse(code: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|k| k.code() == code)
    }

    /// The Chinese name shown in the console.
    pub fn label(self) -> &'static str {
        match self {
            Self::Judgment => "判定告知期限",
            Self::Escalation => "逐级提请期限",
            Self::VerificationNotice => "核查结果告知期限",
            Self::Supervision => "督办答复期限",
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
            Self::Supervision => "supervision",
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
    /// The due day a person set (a supervision's), instead of working days from `starts_at`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub due_on: Option<NaiveDate>,
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
        let (due, remind_at) = match compute(kind, starts_at, None, calendar) {
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
            due_on: None,
        })
    }

    /// A supervision's answer deadline owed by `bureau`: due at the end of `due_on` (Asia/
    /// Shanghai), reminded one working day before (the day before, while the calendar does not
    /// cover that year yet). Never pending: the day is set, not counted.
    ///
    /// # Errors
    /// Calendar failures other than an uncovered year (invalid data), which are defects.
    pub fn supervision(
        bureau: BureauId,
        starts_at: DateTime<Utc>,
        due_on: NaiveDate,
        calendar: &WorkingCalendar,
    ) -> Result<Self, CalendarError> {
        let (due, remind_at) =
            compute(DeadlineKind::Supervision, starts_at, Some(due_on), calendar)?;
        Ok(Self {
            kind: DeadlineKind::Supervision,
            bureau,
            starts_at,
            due: Some(due),
            remind_at: Some(remind_at),
            status: DeadlineStatus::Open,
            missed_at: None,
            due_on: Some(due_on),
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
            compute(self.kind, self.starts_at, self.due_on, calendar)
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
        match (elapsed, self.kind.working_days()) {
            (Ok(n), Some(allowed)) if n < i64::from(allowed) => {
                DeadlineStatus::Met { at, on_time: true }
            }
            _ => DeadlineStatus::Discharged { at },
        }
    }
}

fn compute(
    kind: DeadlineKind,
    starts_at: DateTime<Utc>,
    due_on: Option<NaiveDate>,
    calendar: &WorkingCalendar,
) -> Result<(DateTime<Utc>, DateTime<Utc>), CalendarError> {
    let (Some(n), None) = (kind.working_days(), due_on) else {
        // A set day: its end, reminded one working day before (the calendar day before while
        // the calendar lacks that year; the due day itself never moves with the calendar).
        let day = due_on.unwrap_or_else(|| shanghai_date(starts_at));
        let due = shanghai_instant(day, END_OF_DAY);
        let remind = match calendar.reminder_instant(due) {
            Ok(r) => r,
            Err(CalendarError::YearNotCovered(_)) => {
                shanghai_instant(day.pred_opt().unwrap_or(day), NaiveTime::MIN)
            }
            Err(e) => return Err(e),
        };
        return Ok((due, remind));
    };
    let due = calendar.deadline(starts_at, n)?;
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
    compute(deadline.kind, deadline.starts_at, deadline.due_on, calendar)
}
