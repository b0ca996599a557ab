//! The clue as rebuilt from its events: state, handler, deadlines, members, notices. Only
//! [`Clue::apply`] changes it, and only with events that [`crate::command`] decided.

use std::collections::BTreeSet;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::bureau::BureauId;
use crate::deadline::{Deadline, DeadlineKind, DeadlineStatus, DueOn, ReporterDeadline};
use crate::event::{
    Channel, DeliveryStatus, Event, EventKind, Evidence, Judgment, Location, MergeMember,
    NoticeRecord, Receipt, Transfer, VerificationResult,
};
use crate::ids::{ClueId, ClueNo, NoticeId, OfficerId, ReporterKey};
use crate::scope::CategoryChoice;
use crate::text::{Facts, Subject};

/// Why a clue is closed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ClosedOutcome {
    OutOfScope,
    Duplicate,
    NeedMaterial,
    NoViolation,
    ViolationFound,
}

impl ClosedOutcome {
    /// Stable code.
    pub fn code(self) -> &'static str {
        match self {
            Self::OutOfScope => "out_of_scope",
            Self::Duplicate => "duplicate",
            Self::NeedMaterial => "need_material",
            Self::NoViolation => "no_violation",
            Self::ViolationFound => "violation_found",
        }
    }

    /// The Chinese label.
    pub fn label(self) -> &'static str {
        match self {
            Self::OutOfScope => "不属于接收范围",
            Self::Duplicate => "重复举报",
            Self::NeedMaterial => "需补充材料",
            Self::NoViolation => "经核查不存在违法行为",
            Self::ViolationFound => "经核查存在违法行为",
        }
    }
}

impl From<VerificationResult> for ClosedOutcome {
    fn from(r: VerificationResult) -> Self {
        match r {
            VerificationResult::NoViolation => Self::NoViolation,
            VerificationResult::ViolationFound => Self::ViolationFound,
        }
    }
}

/// Where a clue stands (WORKFLOW.md §3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "state", rename_all = "snake_case")]
pub enum ClueState {
    /// At the handling bureau, awaiting judgment.
    Received,
    /// Passed up to `handler`, awaiting designation (or further escalation).
    Escalated,
    /// Accepted: under verification.
    Accepted,
    /// No further action on the platform.
    Closed { outcome: ClosedOutcome },
    /// Handled as part of `primary`; follows its notices.
    Merged { primary: ClueId },
}

impl ClueState {
    /// Stable code (the serde tag), used in keys and the API.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Received => "received",
            Self::Escalated => "escalated",
            Self::Accepted => "accepted",
            Self::Closed { .. } => "closed",
            Self::Merged { .. } => "merged",
        }
    }

    /// The Chinese label.
    pub fn label(&self) -> &'static str {
        match self {
            Self::Received => "待判定",
            Self::Escalated => "已提请上级",
            Self::Accepted => "核查中",
            Self::Closed { .. } => "已办结",
            Self::Merged { .. } => "已合并办理",
        }
    }

    /// Whether work remains (received, escalated, accepted).
    pub fn is_open(&self) -> bool {
        matches!(self, Self::Received | Self::Escalated | Self::Accepted)
    }
}

/// A notice owed on this clue, with its delivery as far as known.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OwedNotice {
    pub record: NoticeRecord,
    pub owed_at: DateTime<Utc>,
    pub delivery: DeliveryStatus,
}

/// A clue: one report of a suspected violation from one reporter.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Clue {
    pub id: ClueId,
    pub clue_no: ClueNo,
    pub reporter: ReporterKey,
    pub location: Location,
    pub subject: Option<Subject>,
    pub category: CategoryChoice,
    pub facts: Facts,
    pub evidence: Vec<Evidence>,
    /// Files sent that are not among the evidence, and why.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub evidence_left_out: Vec<crate::event::EvidenceLeftOut>,
    pub notice_version: String,
    pub channel: Channel,
    pub real_name: bool,
    pub received_at: DateTime<Utc>,
    /// The bureau responsible now (for an escalated clue: the bureau it was passed to).
    pub handler: BureauId,
    pub state: ClueState,
    /// Whether an upper bureau designated the handler (no further escalation then).
    pub designated: bool,
    pub deadlines: Vec<Deadline>,
    pub judgment: Option<Judgment>,
    pub verification: Option<(VerificationResult, chrono::NaiveDate)>,
    pub transfers: Vec<Transfer>,
    pub recused: BTreeSet<OfficerId>,
    pub assignee: Option<OfficerId>,
    /// Clues merged into this one.
    pub members: Vec<MergeMember>,
    pub supervisions: Vec<crate::supervision::SupervisionRecord>,
    pub resubmission_of: Option<ClueId>,
    pub resubmitted_as: Option<ClueId>,
    pub notices: Vec<OwedNotice>,
    /// Messages the reporter posted, and how many of them the handling bureau has read.
    #[serde(default)]
    pub reporter_messages: u32,
    #[serde(default)]
    pub reporter_messages_read: u32,
    /// Number of commands applied: the store's optimistic-lock version.
    pub version: u64,
    pub updated_at: DateTime<Utc>,
}

/// Why events could not be applied.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ApplyError {
    #[error("a clue's first event must be its receipt")]
    NotReceipt,
    #[error("an event for clue {0} was applied to another clue")]
    WrongClue(ClueId),
    #[error("a clue is received only once")]
    ReceivedTwice,
    #[error("no events")]
    Empty,
}

impl Clue {
    /// Rebuilds a clue from its whole event history (the first event is its receipt). Each
    /// element of `batches` is the events of one command.
    ///
    /// # Errors
    /// [`ApplyError`] if the history does not start with a receipt or mixes clues.
    pub fn from_history<'a>(
        batches: impl IntoIterator<Item = &'a [Event]>,
    ) -> Result<Self, ApplyError> {
        let mut batches = batches.into_iter();
        let first = batches.next().ok_or(ApplyError::Empty)?;
        let mut clue = Self::from_receipt(first)?;
        for batch in batches {
            clue.apply(batch)?;
        }
        Ok(clue)
    }

    /// Builds a new clue from the events of its receipt.
    ///
    /// # Errors
    /// [`ApplyError::NotReceipt`] if the first event is not a receipt.
    pub fn from_receipt(events: &[Event]) -> Result<Self, ApplyError> {
        let first = events.first().ok_or(ApplyError::Empty)?;
        let EventKind::Received { receipt } = &first.kind else {
            return Err(ApplyError::NotReceipt);
        };
        let Receipt {
            clue_no,
            reporter,
            location,
            subject,
            category,
            facts,
            evidence,
            evidence_left_out,
            notice_version,
            handler,
            channel,
            real_name,
            resubmission_of,
        } = receipt.as_ref().clone();
        let mut clue = Clue {
            id: first.clue.clone(),
            clue_no,
            reporter,
            location,
            subject,
            category,
            facts,
            evidence,
            evidence_left_out,
            notice_version,
            channel,
            real_name,
            received_at: first.at,
            handler,
            state: ClueState::Received,
            designated: false,
            deadlines: Vec::new(),
            judgment: None,
            verification: None,
            transfers: Vec::new(),
            recused: BTreeSet::new(),
            assignee: None,
            members: Vec::new(),
            supervisions: Vec::new(),
            resubmission_of,
            resubmitted_as: None,
            notices: Vec::new(),
            reporter_messages: 0,
            reporter_messages_read: 0,
            version: 0,
            updated_at: first.at,
        };
        clue.apply(&events[1..])?;
        Ok(clue)
    }

    /// Applies the events of one command that concern this clue (others are skipped), and
    /// bumps the version once.
    ///
    /// # Errors
    /// [`ApplyError::ReceivedTwice`] for a second receipt.
    pub fn apply(&mut self, events: &[Event]) -> Result<(), ApplyError> {
        for event in events {
            if event.clue == self.id {
                self.apply_one(event)?;
                self.updated_at = event.at;
            } else if let EventKind::DeadlineClosed {
                kind: DeadlineKind::Judgment,
                ..
            } = event.kind
            {
                // A member's judgment deadline closed by this primary's decision: no longer owed.
                if let Some(m) = self.members.iter_mut().find(|m| m.clue == event.clue) {
                    m.judgment = None;
                }
            }
        }
        self.version += 1;
        Ok(())
    }

    fn apply_one(&mut self, event: &Event) -> Result<(), ApplyError> {
        match &event.kind {
            EventKind::Received { .. } => return Err(ApplyError::ReceivedTwice),
            EventKind::DeadlineOpened { deadline } => self.deadlines.push(deadline.clone()),
            EventKind::DeadlineClosed { kind, status } => {
                if let Some(d) = self
                    .deadlines
                    .iter_mut()
                    .rev()
                    .find(|d| d.kind == *kind && d.is_open())
                {
                    d.status = *status;
                }
            }
            EventKind::DeadlineMissed { kind, .. } => {
                if let Some(d) = self
                    .deadlines
                    .iter_mut()
                    .find(|d| d.kind == *kind && d.is_open())
                {
                    d.missed_at = Some(event.at);
                }
            }
            EventKind::DeadlineResolved {
                kind,
                due,
                remind_at,
            } => {
                if let Some(d) = self
                    .deadlines
                    .iter_mut()
                    .find(|d| d.kind == *kind && d.is_pending())
                {
                    d.due = Some(*due);
                    d.remind_at = Some(*remind_at);
                }
            }
            EventKind::DeadlineMoved {
                kind,
                due,
                remind_at,
                ..
            } => {
                if let Some(d) = self
                    .deadlines
                    .iter_mut()
                    .find(|d| d.kind == *kind && d.is_open() && d.due.is_some())
                {
                    d.due = Some(*due);
                    d.remind_at = Some(*remind_at);
                }
            }
            EventKind::Judged { judgment, .. } => {
                self.state = match judgment {
                    Judgment::Accept => ClueState::Accepted,
                    Judgment::OutOfScope { .. } => ClueState::Closed {
                        outcome: ClosedOutcome::OutOfScope,
                    },
                    Judgment::Duplicate { .. } => ClueState::Closed {
                        outcome: ClosedOutcome::Duplicate,
                    },
                    Judgment::NeedMaterial { .. } => ClueState::Closed {
                        outcome: ClosedOutcome::NeedMaterial,
                    },
                };
                self.judgment = Some(judgment.clone());
            }
            EventKind::Escalated { to, .. } => {
                self.state = ClueState::Escalated;
                self.handler = to.clone();
                self.assignee = None;
            }
            EventKind::Designated { to, .. } => {
                self.state = ClueState::Received;
                self.handler = to.clone();
                self.designated = true;
                self.assignee = None;
            }
            EventKind::MergedInto { primary, .. } => {
                self.state = ClueState::Merged {
                    primary: primary.clone(),
                };
            }
            EventKind::MergeJoined { member, .. } => self.members.push(member.clone()),
            EventKind::Unmerged { .. } => {
                // Back on its own: still awaiting judgment while its own deadline is owed, else
                // accepted with the primary (the accept notice already reached its reporter).
                self.state = if self.open_deadline(DeadlineKind::Judgment).is_some() {
                    ClueState::Received
                } else {
                    ClueState::Accepted
                };
            }
            EventKind::MergeLeft { member } => self.members.retain(|m| m.clue != *member),
            EventKind::VerificationRecorded {
                result, ended_on, ..
            } => {
                self.state = ClueState::Closed {
                    outcome: (*result).into(),
                };
                self.verification = Some((*result, *ended_on));
            }
            EventKind::Transferred { transfer } => {
                if let Transfer::OnPlatform { to, .. } = transfer {
                    self.handler = to.clone();
                    self.assignee = None;
                    for d in self.deadlines.iter_mut().filter(|d| d.is_open()) {
                        d.bureau = to.clone();
                    }
                }
                self.transfers.push(transfer.clone());
            }
            EventKind::MessagePosted { from, .. } => {
                if *from == crate::event::Party::Reporter {
                    self.reporter_messages += 1;
                }
            }
            EventKind::MessagesRead { up_to, .. } => {
                self.reporter_messages_read = (*up_to).min(self.reporter_messages);
            }
            EventKind::IdentityRevealed { .. } => {}
            EventKind::Recused { officer, .. } => {
                self.recused.insert(officer.clone());
                if self.assignee.as_ref() == Some(officer) {
                    self.assignee = None;
                }
            }
            EventKind::Assigned { officer } => self.assignee = Some(officer.clone()),
            EventKind::SupervisionOpened { .. }
            | EventKind::SupervisionAnswered { .. }
            | EventKind::SupervisionClosed { .. } => self.apply_supervision(event),
            EventKind::Resubmitted { new_clue, .. } => self.resubmitted_as = Some(new_clue.clone()),
            EventKind::NoticeOwed { notice } => self.notices.push(OwedNotice {
                record: notice.clone(),
                owed_at: event.at,
                delivery: DeliveryStatus::Queued,
            }),
            EventKind::NoticeDelivery { notice, status } => {
                if let Some(n) = self.notices.iter_mut().find(|n| &n.record.id == notice) {
                    n.delivery = status.clone();
                }
            }
        }
        Ok(())
    }

    /// The open deadline of `kind`, if any.
    pub fn open_deadline(&self, kind: DeadlineKind) -> Option<&Deadline> {
        self.deadlines
            .iter()
            .find(|d| d.kind == kind && d.is_open())
    }

    /// All open deadlines.
    pub fn open_deadlines(&self) -> impl Iterator<Item = &Deadline> {
        self.deadlines.iter().filter(|d| d.is_open())
    }

    /// The earliest open deadline: what the inbox sorts by.
    pub fn next_due(&self) -> Option<DateTime<Utc>> {
        self.open_deadlines().filter_map(|d| d.due).min()
    }

    /// The deadlines the reporter is shown (WORKFLOW.md §3, §6): the judgment notice deadline
    /// after receipt (or designation) and, once accepted, the verification-result notice
    /// deadline (not started until verification ends). For each kind the latest started one that
    /// is still owed or was met; discharged ones and the internal escalation deadline are left
    /// out. A deadline in a year the calendar does not cover yet is [`DueOn::Pending`].
    pub fn reporter_deadlines(&self) -> Vec<ReporterDeadline> {
        let latest = |kind: DeadlineKind| {
            self.deadlines
                .iter()
                .filter(|d| {
                    d.kind == kind && !matches!(d.status, DeadlineStatus::Discharged { .. })
                })
                .max_by_key(|d| d.starts_at)
                .map(|d| ReporterDeadline {
                    kind,
                    due: d.due.map_or(DueOn::Pending, |due| {
                        DueOn::Date(crate::calendar::shanghai_date(due))
                    }),
                    status: d.status,
                })
        };
        let mut out: Vec<ReporterDeadline> = latest(DeadlineKind::Judgment).into_iter().collect();
        match latest(DeadlineKind::VerificationNotice) {
            Some(d) => out.push(d),
            None if self.state == ClueState::Accepted => out.push(ReporterDeadline {
                kind: DeadlineKind::VerificationNotice,
                due: DueOn::AfterVerification,
                status: DeadlineStatus::Open,
            }),
            None => {}
        }
        out
    }

    /// Whether `officer` may see this clue at all (a recused officer may not, art. 18).
    pub fn visible_to(&self, officer: &OfficerId) -> bool {
        !self.recused.contains(officer)
    }

    /// A notice owed on this clue.
    pub fn notice(&self, id: &NoticeId) -> Option<&OwedNotice> {
        self.notices.iter().find(|n| &n.record.id == id)
    }

    /// The first notice owed before `id` that is neither sent nor given up yet. A clue's notices
    /// reach its reporter in the order they were owed, so `id` waits for it; `None` when `id`
    /// may go (or is not owed on this clue).
    pub fn notice_waits_for(&self, id: &NoticeId) -> Option<&OwedNotice> {
        self.notices
            .iter()
            .take_while(|n| &n.record.id != id)
            .find(|n| !n.delivery.is_final())
            .filter(|_| self.notice(id).is_some())
    }

    /// The reporter's messages the handling bureau has not read yet.
    pub fn unread_messages(&self) -> u32 {
        self.reporter_messages
            .saturating_sub(self.reporter_messages_read)
    }

    /// The Shanghai date the clue was received.
    pub fn received_on(&self) -> chrono::NaiveDate {
        crate::calendar::shanghai_date(self.received_at)
    }

    /// Whether a deadline of `kind` was ever met late (for statistics and console badges).
    pub fn met_late(&self, kind: DeadlineKind) -> bool {
        self.deadlines.iter().any(|d| {
            d.kind == kind && matches!(d.status, DeadlineStatus::Met { on_time: false, .. })
        })
    }
}
