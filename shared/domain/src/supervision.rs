//! 督办 (art. 16): an upper bureau's supervision of a clue, the handling bureau's progress
//! answers, and its end (closed by the supervising bureau, or with the clue).
//!
//! Opening a supervision also opens a [`DeadlineKind::Supervision`] deadline owed by the
//! handling bureau, due at the end of the day the supervising bureau set; the first answer meets
//! it (on time or late), and the sweep reminds, records a miss and tells the supervising bureau
//! like for every other deadline. Several answers are allowed while the supervision is open; one
//! supervision at a time per clue.

use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Role};
use crate::bureau::BureauId;
use crate::calendar::shanghai_date;
use crate::clue::Clue;
use crate::command::{Rules, handling_officer};
use crate::deadline::{Deadline, DeadlineKind, DeadlineStatus};
use crate::error::DomainError;
use crate::event::{Event, EventKind, Supervision};
use crate::ids::OfficerId;
use crate::text::{MessageText, Reason};

/// Why a supervision ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SupervisionEnd {
    /// The supervising bureau closed it (satisfied with the answers).
    Closed,
    /// The clue was closed (judged, verified, merged): nothing left to supervise.
    ClueClosed,
}

/// A progress answer of the handling bureau.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionAnswer {
    pub bureau: BureauId,
    pub officer: OfficerId,
    pub at: DateTime<Utc>,
    pub text: MessageText,
}

/// A supervision as the clue holds it: who opened it, when, until when, the answers, its end.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SupervisionRecord {
    pub by: BureauId,
    pub due_on: NaiveDate,
    pub note: Reason,
    pub opened_at: DateTime<Utc>,
    #[serde(default)]
    pub answers: Vec<SupervisionAnswer>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ended_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end: Option<SupervisionEnd>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub end_note: Option<Reason>,
}

impl SupervisionRecord {
    /// Whether it is still running.
    pub fn is_open(&self) -> bool {
        self.ended_at.is_none()
    }
}

impl Clue {
    /// The supervision still running, if any.
    pub fn open_supervision(&self) -> Option<&SupervisionRecord> {
        self.supervisions.iter().rev().find(|s| s.is_open())
    }

    /// Applies a supervision event (opened, answered, closed) at `event.at`.
    pub(crate) fn apply_supervision(&mut self, event: &Event) {
        match &event.kind {
            EventKind::SupervisionOpened { supervision } => {
                self.supervisions.push(SupervisionRecord {
                    by: supervision.by.clone(),
                    due_on: supervision.due_on,
                    note: supervision.note.clone(),
                    opened_at: event.at,
                    answers: Vec::new(),
                    ended_at: None,
                    end: None,
                    end_note: None,
                });
            }
            EventKind::SupervisionAnswered { text } => {
                let Actor::Officer { officer } = &event.actor else {
                    return;
                };
                if let Some(s) = self.supervisions.iter_mut().rev().find(|s| s.is_open()) {
                    s.answers.push(SupervisionAnswer {
                        bureau: officer.bureau.clone(),
                        officer: officer.id.clone(),
                        at: event.at,
                        text: text.clone(),
                    });
                }
            }
            EventKind::SupervisionClosed { end, note } => {
                if let Some(s) = self.supervisions.iter_mut().rev().find(|s| s.is_open()) {
                    s.ended_at = Some(event.at);
                    s.end = Some(*end);
                    s.end_note.clone_from(note);
                }
            }
            _ => {}
        }
    }

    /// An officer of a bureau above the handler (supervisor or leader), whose territory holds
    /// the clue, puts it under supervision until the end of `due_on` (after today).
    pub(crate) fn decide_supervise(
        &self,
        actor: &Actor,
        due_on: NaiveDate,
        note: &Reason,
        now: DateTime<Utc>,
        rules: &Rules<'_>,
    ) -> Result<Vec<EventKind>, DomainError> {
        let officer = actor.officer().ok_or(DomainError::NotAnOfficer)?;
        if !(officer.has(Role::Supervisor) || officer.has(Role::Leader)) {
            return Err(DomainError::NotSupervisor);
        }
        let upper = rules.bureaus.get(&officer.bureau)?;
        let handler = rules.bureaus.get(&self.handler)?;
        if !upper.is_above(handler) || !upper.territory_contains(&self.location.division) {
            return Err(DomainError::NotSupervisor);
        }
        if due_on <= shanghai_date(now) {
            return Err(DomainError::DueNotAfterToday(due_on));
        }
        if let Some(open) = self.open_supervision() {
            return Err(DomainError::AlreadySupervised(open.by.clone()));
        }
        let deadline = Deadline::supervision(self.handler.clone(), now, due_on, rules.calendar)?;
        Ok(vec![
            EventKind::SupervisionOpened {
                supervision: Supervision {
                    by: upper.id.clone(),
                    due_on,
                    note: note.clone(),
                },
            },
            EventKind::DeadlineOpened { deadline },
        ])
    }

    /// An officer of the handling bureau answers the open supervision with its progress; the
    /// first answer meets the supervision deadline.
    pub(crate) fn decide_answer_supervision(
        &self,
        actor: &Actor,
        text: &MessageText,
        now: DateTime<Utc>,
        rules: &Rules<'_>,
    ) -> Result<Vec<EventKind>, DomainError> {
        handling_officer(self, actor)?;
        if self.open_supervision().is_none() {
            return Err(DomainError::NotSupervised);
        }
        let mut out = vec![EventKind::SupervisionAnswered { text: text.clone() }];
        if let Some(d) = self.open_deadline(DeadlineKind::Supervision) {
            out.push(EventKind::DeadlineClosed {
                kind: DeadlineKind::Supervision,
                status: d.met_at(now, rules.calendar),
            });
        }
        Ok(out)
    }

    /// The supervising bureau (a supervisor or leader of the bureau that opened it) ends the
    /// open supervision; a deadline still unanswered is discharged.
    pub(crate) fn decide_close_supervision(
        &self,
        actor: &Actor,
        note: Option<&Reason>,
        now: DateTime<Utc>,
    ) -> Result<Vec<EventKind>, DomainError> {
        let officer = actor.officer().ok_or(DomainError::NotAnOfficer)?;
        let open = self.open_supervision().ok_or(DomainError::NotSupervised)?;
        if officer.bureau != open.by
            || !(officer.has(Role::Supervisor) || officer.has(Role::Leader))
        {
            return Err(DomainError::NotSupervisor);
        }
        Ok(self.end_supervision(SupervisionEnd::Closed, note.cloned(), now))
    }

    /// The events that end the open supervision when `events` (this command's) leave the clue
    /// closed; nothing otherwise.
    pub(crate) fn supervision_ends_with(
        &self,
        events: &[Event],
        now: DateTime<Utc>,
    ) -> Vec<EventKind> {
        if self.open_supervision().is_none() || !self.state.is_open() {
            return Vec::new();
        }
        let mut after = self.clone();
        if after.apply(events).is_err() || after.state.is_open() {
            return Vec::new();
        }
        self.end_supervision(SupervisionEnd::ClueClosed, None, now)
    }

    fn end_supervision(
        &self,
        end: SupervisionEnd,
        note: Option<Reason>,
        now: DateTime<Utc>,
    ) -> Vec<EventKind> {
        let mut out = Vec::new();
        if self.open_deadline(DeadlineKind::Supervision).is_some() {
            out.push(EventKind::DeadlineClosed {
                kind: DeadlineKind::Supervision,
                status: DeadlineStatus::Discharged { at: now },
            });
        }
        out.push(EventKind::SupervisionClosed { end, note });
        out
    }
}

#[cfg(test)]
#[path = "supervision_tests.rs"]
mod tests;
