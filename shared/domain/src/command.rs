//! The commands on a clue and the pure decisions that turn them into events: `(clue, command,
//! actor, now, rules) -> Result<Vec<Event>, DomainError>`. Every transition the regulation does
//! not allow is refused here, with a typed error, before anything is stored.

use chrono::{DateTime, Datelike, NaiveDate, NaiveTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Actor, Officer, Role};
use crate::bureau::{BureauDirectory, BureauId, BureauKind};
use crate::calendar::{WorkingCalendar, shanghai_date, shanghai_instant};
use crate::clue::{Clue, ClueState};
use crate::deadline::{Deadline, DeadlineKind, DeadlineStatus};
use crate::divisions::Divisions;
use crate::error::DomainError;
use crate::event::{
    DeliveryStatus, Event, EventKind, Evidence, Judgment, Location, MergeMember, Missing,
    NoticeRecord, Party, Receipt, Transfer, VerificationResult,
};
use crate::ids::{ClueId, ClueNo, NoticeId, ReporterKey};
use crate::notice::NoticeContent;
use crate::report::Report;
use crate::scope::{Exclusion, ScopeVersion};
use crate::text::{DepartmentName, MessageText, Reason};

/// The fixed facts decisions consult: the working-day calendar, the bureaus and the divisions.
#[derive(Clone, Copy)]
pub struct Rules<'a> {
    pub calendar: &'a WorkingCalendar,
    pub bureaus: &'a BureauDirectory,
    pub divisions: &'a Divisions,
}

/// What a new clue is received with: the [`Report`] (H5 form or guided chat) and its evidence,
/// and what the receipt adds — the clue's id and number, the reporter, whether they gave their
/// name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReceiveClue {
    pub clue_id: ClueId,
    pub clue_no: ClueNo,
    pub reporter: ReporterKey,
    pub real_name: bool,
    pub report: Report,
    pub evidence: Vec<Evidence>,
}

/// Another clue, as a decision about this one needs to see it (duplicate's earlier clue,
/// merge's primary). Built by [`Clue::summary`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ClueSummary {
    pub id: ClueId,
    pub clue_no: ClueNo,
    pub reporter: ReporterKey,
    pub received_at: DateTime<Utc>,
    pub handler: BureauId,
    pub state: ClueState,
    pub location: Location,
}

impl Clue {
    /// This clue as another clue's decision sees it.
    pub fn summary(&self) -> ClueSummary {
        ClueSummary {
            id: self.id.clone(),
            clue_no: self.clue_no.clone(),
            reporter: self.reporter.clone(),
            received_at: self.received_at,
            handler: self.handler.clone(),
            state: self.state.clone(),
            location: self.location.clone(),
        }
    }
}

/// A judgment as the officer asks for it (the store adds the earlier clue's view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum JudgmentRequest {
    Accept,
    OutOfScope {
        exclusion: Option<Exclusion>,
        department: Option<DepartmentName>,
    },
    Duplicate {
        earlier: Box<ClueSummary>,
    },
    NeedMaterial {
        missing: Vec<Missing>,
    },
}

/// A hand-over as the officer asks for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "mode", rename_all = "snake_case")]
pub enum TransferRequest {
    OnPlatform {
        to: BureauId,
    },
    OffPlatform {
        department: DepartmentName,
        handed_over_on: NaiveDate,
        note: Option<Reason>,
    },
}

/// What an actor asks to do with an existing clue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "command", rename_all = "snake_case")]
pub enum Command {
    Judge {
        judgment: JudgmentRequest,
        note: Option<Reason>,
    },
    Escalate {
        reason: Reason,
    },
    Designate {
        to: BureauId,
        reason: Option<Reason>,
    },
    Merge {
        primary: Box<ClueSummary>,
        /// Why the officer holds the clues to be the same violation (art. 13).
        #[serde(default, skip_serializing_if = "Option::is_none")]
        reason: Option<Reason>,
    },
    RecordVerification {
        result: VerificationResult,
        ended_on: NaiveDate,
        note: Option<Reason>,
    },
    Transfer {
        transfer: TransferRequest,
    },
    PostMessage {
        text: MessageText,
    },
    Recuse {
        reason: Reason,
    },
    Assign {
        officer: Officer,
    },
    Supervise {
        due_on: NaiveDate,
        note: Reason,
    },
    /// The handling bureau answers the open supervision with its progress (督办回复).
    AnswerSupervision {
        text: MessageText,
    },
    /// The supervising bureau ends the open supervision.
    CloseSupervision {
        #[serde(default, skip_serializing_if = "Option::is_none")]
        note: Option<Reason>,
    },
    Resubmit {
        new_clue: ClueId,
        new_clue_no: ClueNo,
    },
    RecordDelivery {
        notice: NoticeId,
        status: DeliveryStatus,
    },
    RevealIdentity {
        reason: Reason,
    },
    /// An officer of the handling bureau marks the reporter's messages read.
    MarkMessagesRead,
    /// A leader takes a merged clue out of its primary's group (art. 13): it is handled on its
    /// own again, received or accepted as its own judgment deadline says.
    Unmerge {
        primary: Box<ClueSummary>,
        reason: Reason,
    },
    /// The platform places its open deadlines on the current calendar: pending ones once it
    /// covers their year, dated ones (not recorded missed) that an uploaded or amended year moves.
    ResolveDeadlines,
    /// The sweep records that an open deadline of `kind` passed unmet.
    RecordMissed {
        kind: DeadlineKind,
    },
}

impl Command {
    /// Stable name of the command (its serde tag), for errors and logs.
    pub fn name(&self) -> &'static str {
        match self {
            Self::Judge { .. } => "judge",
            Self::Escalate { .. } => "escalate",
            Self::Designate { .. } => "designate",
            Self::Merge { .. } => "merge",
            Self::RecordVerification { .. } => "record_verification",
            Self::Transfer { .. } => "transfer",
            Self::PostMessage { .. } => "post_message",
            Self::Recuse { .. } => "recuse",
            Self::Assign { .. } => "assign",
            Self::Supervise { .. } => "supervise",
            Self::AnswerSupervision { .. } => "answer_supervision",
            Self::CloseSupervision { .. } => "close_supervision",
            Self::Resubmit { .. } => "resubmit",
            Self::RecordDelivery { .. } => "record_delivery",
            Self::RevealIdentity { .. } => "reveal_identity",
            Self::MarkMessagesRead => "mark_messages_read",
            Self::Unmerge { .. } => "unmerge",
            Self::ResolveDeadlines => "resolve_deadlines",
            Self::RecordMissed { .. } => "record_missed",
        }
    }
}

/// Collects the events of one decision, all stamped with the same time and actor.
struct Decision<'a> {
    at: DateTime<Utc>,
    actor: &'a Actor,
    events: Vec<Event>,
    notices: usize,
    source: &'a ClueId,
    version: u64,
}

impl<'a> Decision<'a> {
    fn new(source: &'a ClueId, version: u64, actor: &'a Actor, at: DateTime<Utc>) -> Self {
        Self {
            at,
            actor,
            events: Vec::new(),
            notices: 0,
            source,
            version,
        }
    }

    fn push(&mut self, clue: &ClueId, kind: EventKind) {
        self.events.push(Event {
            clue: clue.clone(),
            at: self.at,
            actor: self.actor.clone(),
            kind,
        });
    }

    /// Owes `content` to the reporter of `recipient`. The id is `<source>:<version>:<n>`:
    /// unique, and the same when the same command is decided again.
    fn notice(&mut self, recipient: &ClueId, content: NoticeContent) -> Result<(), DomainError> {
        let id = NoticeId::parse(&format!(
            "{}:{}:{}",
            self.source, self.version, self.notices
        ))
        .map_err(|_| DomainError::UnknownNotice)?;
        self.notices += 1;
        let text = content.render();
        self.push(
            recipient,
            EventKind::NoticeOwed {
                notice: NoticeRecord {
                    id,
                    content,
                    text,
                    source: self.source.clone(),
                },
            },
        );
        Ok(())
    }

    fn close(&mut self, clue: &ClueId, kind: DeadlineKind, status: DeadlineStatus) {
        self.push(clue, EventKind::DeadlineClosed { kind, status });
    }
}

fn open_deadline(
    rules: &Rules<'_>,
    kind: DeadlineKind,
    bureau: &BureauId,
    from: DateTime<Utc>,
) -> Result<Deadline, DomainError> {
    Ok(Deadline::open(kind, bureau.clone(), from, rules.calendar)?)
}

/// Decides the receipt of a new clue (arts. 10, 11): checks consent to the city's reporting
/// notice in force, the location and category against the scope, routes it to the handling
/// bureau, opens the judgment (7 WD) and escalation (2 WD) deadlines and owes the receipt notice.
///
/// # Errors
/// [`DomainError`] for a missing consent, a stale or foreign notice, a location that is not a
/// county-level division, a category outside the scope, or no handling bureau.
pub fn receive(
    cmd: ReceiveClue,
    scope: &ScopeVersion,
    actor: &Actor,
    now: DateTime<Utc>,
    rules: &Rules<'_>,
) -> Result<Vec<Event>, DomainError> {
    match actor {
        Actor::Reporter { reporter } if *reporter == cmd.reporter => {}
        _ => return Err(DomainError::NotTheReporter),
    }
    let ReceiveClue {
        clue_id,
        clue_no,
        reporter,
        real_name,
        report,
        evidence,
    } = cmd;
    if !report.consent {
        return Err(DomainError::ConsentRequired);
    }
    let division = report.location.division;
    if !rules.divisions.is_reportable_location(&division) {
        return Err(DomainError::NotReportableLocation(division));
    }
    if division.city() != Some(scope.city) {
        return Err(DomainError::WrongCityNotice);
    }
    if scope.reporting_notice().version_id != report.notice_version {
        return Err(crate::scope::ScopeError::StaleNotice(report.notice_version).into());
    }
    scope.check_category(&report.category)?;
    let handler = rules.bureaus.handling_bureau(&division)?.id.clone();

    let judgment = open_deadline(rules, DeadlineKind::Judgment, &handler, now)?;
    let escalation = open_deadline(rules, DeadlineKind::Escalation, &handler, now)?;
    let mut d = Decision::new(&clue_id, 1, actor, now);
    let id = clue_id.clone();
    d.push(
        &id,
        EventKind::Received {
            receipt: Box::new(Receipt {
                clue_no,
                reporter,
                location: report.location,
                subject: report.subject,
                category: report.category,
                facts: report.facts,
                evidence,
                evidence_left_out: report.evidence_left_out,
                notice_version: report.notice_version,
                handler,
                channel: report.channel,
                real_name,
                resubmission_of: report.resubmission_of,
            }),
        },
    );
    d.push(&id, EventKind::DeadlineOpened { deadline: judgment });
    d.push(
        &id,
        EventKind::DeadlineOpened {
            deadline: escalation,
        },
    );
    d.notice(&id, NoticeContent::Receipt)?;
    Ok(d.events)
}

/// The officer acting for the handling bureau: present, not recused, of that bureau, handling.
pub(crate) fn handling_officer<'a>(
    clue: &Clue,
    actor: &'a Actor,
) -> Result<&'a Officer, DomainError> {
    let officer = actor.officer().ok_or(DomainError::NotAnOfficer)?;
    if clue.recused.contains(&officer.id) {
        return Err(DomainError::Recused);
    }
    if officer.bureau != clue.handler {
        return Err(DomainError::NotHandlingBureau);
    }
    if !officer.handles() {
        return Err(DomainError::MissingRole(Role::Handler));
    }
    Ok(officer)
}

fn refuse(command: &Command, clue: &Clue) -> DomainError {
    DomainError::InvalidTransition {
        command: command.name(),
        state: clue.state.code(),
    }
}

fn not_future(date: NaiveDate, now: DateTime<Utc>) -> Result<(), DomainError> {
    if date > shanghai_date(now) {
        Err(DomainError::FutureDate(date))
    } else {
        Ok(())
    }
}

impl Clue {
    /// Decides `command` on this clue by `actor` at `now`. Returns the events to store, in
    /// order; some may belong to other clues (the primary of a merge, the merged reporters'
    /// notices), and the store writes them all in one transaction.
    ///
    /// # Errors
    /// A [`DomainError`] for every transition the regulation does not allow.
    pub fn decide(
        &self,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
        rules: &Rules<'_>,
    ) -> Result<Vec<Event>, DomainError> {
        let mut d = Decision::new(&self.id, self.version + 1, actor, now);
        match command {
            Command::Judge { judgment, note } => {
                if self.state != ClueState::Received {
                    return Err(refuse(command, self));
                }
                handling_officer(self, actor)?;
                self.judge(&mut d, judgment, note.clone(), rules)?;
            }
            Command::Escalate { reason } => {
                match self.state {
                    ClueState::Received if self.designated => {
                        return Err(DomainError::AlreadyDesignated);
                    }
                    ClueState::Received | ClueState::Escalated => {}
                    _ => return Err(refuse(command, self)),
                }
                handling_officer(self, actor)?;
                let to = rules.bureaus.escalation_parent(&self.handler)?.id.clone();
                d.push(
                    &self.id,
                    EventKind::Escalated {
                        from: self.handler.clone(),
                        to,
                        reason: reason.clone(),
                    },
                );
                if let Some(esc) = self.open_deadline(DeadlineKind::Escalation) {
                    d.close(
                        &self.id,
                        DeadlineKind::Escalation,
                        esc.met_at(now, rules.calendar),
                    );
                }
                self.close_judgment_everywhere(&mut d, |_| DeadlineStatus::Discharged { at: now });
            }
            Command::Designate { to, reason } => {
                if self.state != ClueState::Escalated {
                    return Err(refuse(command, self));
                }
                handling_officer(self, actor)?;
                rules.bureaus.check_designation(&self.handler, to)?;
                d.push(
                    &self.id,
                    EventKind::Designated {
                        by: self.handler.clone(),
                        to: to.clone(),
                        reason: reason.clone(),
                    },
                );
                let deadline = open_deadline(rules, DeadlineKind::Judgment, to, now)?;
                d.push(&self.id, EventKind::DeadlineOpened { deadline });
            }
            Command::Merge { primary, reason } => {
                self.merge(&mut d, command, primary, reason.clone(), rules)?;
            }
            Command::RecordVerification {
                result,
                ended_on,
                note,
            } => {
                if self.state != ClueState::Accepted {
                    return Err(refuse(command, self));
                }
                handling_officer(self, actor)?;
                not_future(*ended_on, now)?;
                if *ended_on < self.received_on() {
                    return Err(DomainError::VerificationBeforeReceipt);
                }
                // The clock starts on the day verification ended: the deadline is the end of
                // the 5th working day after it.
                let starts_at = shanghai_instant(*ended_on, NaiveTime::MIN);
                let deadline = open_deadline(
                    rules,
                    DeadlineKind::VerificationNotice,
                    &self.handler,
                    starts_at,
                )?;
                let met = deadline.met_at(now, rules.calendar);
                d.push(
                    &self.id,
                    EventKind::VerificationRecorded {
                        result: *result,
                        ended_on: *ended_on,
                        note: note.clone(),
                    },
                );
                d.push(&self.id, EventKind::DeadlineOpened { deadline });
                d.close(&self.id, DeadlineKind::VerificationNotice, met);
                let region = rules.bureaus.get(&self.handler)?.region.clone();
                self.notify_all(&mut d, |_| match result {
                    VerificationResult::NoViolation => NoticeContent::NoViolation,
                    VerificationResult::ViolationFound => NoticeContent::ViolationFound {
                        region: region.clone(),
                    },
                })?;
            }
            Command::Transfer { transfer } => {
                if !matches!(self.state, ClueState::Received | ClueState::Accepted) {
                    return Err(refuse(command, self));
                }
                handling_officer(self, actor)?;
                let transfer = match transfer {
                    TransferRequest::OnPlatform { to } => {
                        let target = rules.bureaus.get(to)?;
                        let handler = rules.bureaus.get(&self.handler)?;
                        let inside = target
                            .division
                            .is_some_and(|code| handler.territory_contains(&code));
                        if target.kind != BureauKind::Enforcement || !inside || *to == self.handler
                        {
                            return Err(DomainError::BadTransferTarget);
                        }
                        Transfer::OnPlatform {
                            from: self.handler.clone(),
                            to: to.clone(),
                        }
                    }
                    TransferRequest::OffPlatform {
                        department,
                        handed_over_on,
                        note,
                    } => {
                        not_future(*handed_over_on, now)?;
                        Transfer::OffPlatform {
                            department: department.clone(),
                            handed_over_on: *handed_over_on,
                            note: note.clone(),
                        }
                    }
                };
                d.push(&self.id, EventKind::Transferred { transfer });
            }
            Command::PostMessage { text } => {
                if matches!(self.state, ClueState::Closed { .. }) {
                    return Err(refuse(command, self));
                }
                let from = match actor {
                    Actor::Reporter { reporter } if *reporter == self.reporter => Party::Reporter,
                    Actor::Reporter { .. } => return Err(DomainError::NotTheReporter),
                    Actor::Officer { .. } => {
                        let officer = handling_officer(self, actor)?;
                        Party::Officer {
                            officer: officer.id.clone(),
                            bureau: officer.bureau.clone(),
                        }
                    }
                    Actor::System => return Err(DomainError::NotAnOfficer),
                };
                d.push(
                    &self.id,
                    EventKind::MessagePosted {
                        from,
                        text: text.clone(),
                    },
                );
            }
            Command::Recuse { reason } => {
                if !self.state.is_open() {
                    return Err(refuse(command, self));
                }
                let officer = actor.officer().ok_or(DomainError::NotAnOfficer)?;
                if self.recused.contains(&officer.id) {
                    return Err(DomainError::AlreadyRecused);
                }
                if officer.bureau != self.handler {
                    return Err(DomainError::NotHandlingBureau);
                }
                d.push(
                    &self.id,
                    EventKind::Recused {
                        officer: officer.id.clone(),
                        reason: reason.clone(),
                    },
                );
            }
            Command::Assign { officer } => {
                if !self.state.is_open() {
                    return Err(refuse(command, self));
                }
                let leader = handling_officer(self, actor)?;
                if !leader.has(Role::Leader) {
                    return Err(DomainError::MissingRole(Role::Leader));
                }
                if officer.bureau != self.handler
                    || !officer.handles()
                    || self.recused.contains(&officer.id)
                {
                    return Err(DomainError::BadAssignee);
                }
                d.push(
                    &self.id,
                    EventKind::Assigned {
                        officer: officer.id.clone(),
                    },
                );
            }
            Command::Supervise { due_on, note } => {
                if !self.state.is_open() {
                    return Err(refuse(command, self));
                }
                for kind in self.decide_supervise(actor, *due_on, note, now, rules)? {
                    d.push(&self.id, kind);
                }
            }
            Command::AnswerSupervision { text } => {
                if !self.state.is_open() {
                    return Err(refuse(command, self));
                }
                for kind in self.decide_answer_supervision(actor, text, now, rules)? {
                    d.push(&self.id, kind);
                }
            }
            Command::CloseSupervision { note } => {
                for kind in self.decide_close_supervision(actor, note.as_ref(), now)? {
                    d.push(&self.id, kind);
                }
            }
            Command::Resubmit {
                new_clue,
                new_clue_no,
            } => {
                match actor {
                    Actor::Reporter { reporter } if *reporter == self.reporter => {}
                    _ => return Err(DomainError::NotTheReporter),
                }
                if self.state
                    != (ClueState::Closed {
                        outcome: crate::clue::ClosedOutcome::NeedMaterial,
                    })
                {
                    return Err(refuse(command, self));
                }
                if self.resubmitted_as.is_some() {
                    return Err(DomainError::AlreadyResubmitted);
                }
                d.push(
                    &self.id,
                    EventKind::Resubmitted {
                        new_clue: new_clue.clone(),
                        new_clue_no: new_clue_no.clone(),
                    },
                );
            }
            Command::RecordDelivery { notice, status } => {
                if *actor != Actor::System {
                    return Err(DomainError::NotAnOfficer);
                }
                let owed = self.notice(notice).ok_or(DomainError::UnknownNotice)?;
                if matches!(
                    owed.delivery,
                    DeliveryStatus::Sent { .. } | DeliveryStatus::Undeliverable { .. }
                ) {
                    return Err(DomainError::DeliveryFinal);
                }
                d.push(
                    &self.id,
                    EventKind::NoticeDelivery {
                        notice: notice.clone(),
                        status: status.clone(),
                    },
                );
            }
            Command::ResolveDeadlines => {
                if *actor != Actor::System {
                    return Err(DomainError::NotAnOfficer);
                }
                let mut last_error = None;
                for pending in self.deadlines.iter().filter(|d| d.is_pending()) {
                    match crate::deadline::resolve(pending, rules.calendar) {
                        Ok((due, remind_at)) => d.push(
                            &self.id,
                            EventKind::DeadlineResolved {
                                kind: pending.kind,
                                due,
                                remind_at,
                            },
                        ),
                        Err(e) => last_error = Some(e),
                    }
                }
                // Dated open deadlines the current calendar places elsewhere (a year uploaded
                // or amended). A recorded miss keeps its verdict: such a deadline never moves.
                for dated in self
                    .deadlines
                    .iter()
                    .filter(|d| d.is_open() && d.missed_at.is_none())
                {
                    let Some(from) = dated.due else { continue };
                    match crate::deadline::resolve(dated, rules.calendar) {
                        Ok((due, remind_at)) if due != from => {
                            let year = shanghai_date(due).year().max(shanghai_date(from).year());
                            let source = rules.calendar.source(year).unwrap_or_default().to_owned();
                            d.push(
                                &self.id,
                                EventKind::DeadlineMoved {
                                    kind: dated.kind,
                                    from,
                                    due,
                                    remind_at,
                                    source,
                                },
                            );
                        }
                        Ok(_) => {}
                        Err(e) => last_error = Some(e),
                    }
                }
                if d.events.is_empty() {
                    return Err(last_error.map_or(refuse(command, self), DomainError::from));
                }
            }
            Command::RecordMissed { kind } => {
                if *actor != Actor::System {
                    return Err(DomainError::NotAnOfficer);
                }
                let deadline = self
                    .open_deadline(*kind)
                    .filter(|d| d.missed_at.is_none() && kind.overdue_is_reported())
                    .ok_or_else(|| refuse(command, self))?;
                match deadline.due {
                    Some(due) if now > due => {
                        d.push(&self.id, EventKind::DeadlineMissed { kind: *kind, due });
                    }
                    _ => return Err(DomainError::NotYetDue),
                }
            }
            Command::Unmerge { primary, reason } => {
                match &self.state {
                    ClueState::Merged { primary: p } if *p == primary.id => {}
                    _ => return Err(refuse(command, self)),
                }
                if !primary.state.is_open() {
                    return Err(DomainError::UnmergeFromClosed);
                }
                let officer = handling_officer(self, actor)?;
                if !officer.has(Role::Leader) {
                    return Err(DomainError::MissingRole(Role::Leader));
                }
                d.push(
                    &self.id,
                    EventKind::Unmerged {
                        primary: primary.id.clone(),
                        reason: reason.clone(),
                    },
                );
                d.push(
                    &primary.id,
                    EventKind::MergeLeft {
                        member: self.id.clone(),
                    },
                );
            }
            Command::MarkMessagesRead => {
                let officer = handling_officer(self, actor)?;
                if self.unread_messages() == 0 {
                    return Err(DomainError::NothingUnread);
                }
                d.push(
                    &self.id,
                    EventKind::MessagesRead {
                        officer: officer.id.clone(),
                        up_to: self.reporter_messages,
                    },
                );
            }
            Command::RevealIdentity { reason } => {
                let officer = handling_officer(self, actor)?;
                d.push(
                    &self.id,
                    EventKind::IdentityRevealed {
                        officer: officer.id.clone(),
                        reason: reason.clone(),
                    },
                );
            }
        }
        // A command that closes the clue ends its supervision (nothing left to answer for).
        for kind in self.supervision_ends_with(&d.events, now) {
            d.push(&self.id, kind);
        }
        Ok(d.events)
    }

    fn judge(
        &self,
        d: &mut Decision<'_>,
        request: &JudgmentRequest,
        note: Option<Reason>,
        rules: &Rules<'_>,
    ) -> Result<(), DomainError> {
        let judgment = match request {
            JudgmentRequest::Accept => Judgment::Accept,
            JudgmentRequest::OutOfScope {
                exclusion,
                department,
            } => Judgment::OutOfScope {
                exclusion: *exclusion,
                department: department.clone(),
            },
            JudgmentRequest::Duplicate { earlier } => {
                let ok = earlier.id != self.id
                    && earlier.reporter == self.reporter
                    && earlier.received_at <= self.received_at;
                if !ok {
                    return Err(DomainError::BadDuplicate);
                }
                Judgment::Duplicate {
                    earlier: earlier.id.clone(),
                    earlier_no: earlier.clue_no.clone(),
                    earlier_received_on: shanghai_date(earlier.received_at),
                }
            }
            JudgmentRequest::NeedMaterial { missing } => {
                if missing.is_empty() {
                    return Err(DomainError::NothingMissing);
                }
                let mut missing = missing.clone();
                missing.sort();
                missing.dedup();
                Judgment::NeedMaterial { missing }
            }
        };
        let at = d.at;
        d.push(
            &self.id,
            EventKind::Judged {
                judgment: judgment.clone(),
                note,
            },
        );
        if self.open_deadline(DeadlineKind::Escalation).is_some() {
            d.close(
                &self.id,
                DeadlineKind::Escalation,
                DeadlineStatus::Discharged { at },
            );
        }
        self.close_judgment_everywhere(d, |deadline| deadline.met_at(at, rules.calendar));
        let region = rules.bureaus.get(&self.handler)?.region.clone();
        self.notify_all(d, |recipient| match &judgment {
            Judgment::Accept => NoticeContent::Accept {
                region: region.clone(),
            },
            Judgment::OutOfScope { department, .. } => NoticeContent::OutOfScope {
                department: department.clone(),
            },
            Judgment::Duplicate {
                earlier_received_on,
                ..
            } => NoticeContent::Duplicate {
                // The reporter of this clue is told the earlier clue's date; merged reporters
                // their own clue's date (notices.md).
                earlier_received_on: if recipient.own {
                    *earlier_received_on
                } else {
                    recipient.received_on
                },
            },
            Judgment::NeedMaterial { .. } => NoticeContent::NeedMaterial {
                received_on: recipient.received_on,
            },
        })
    }

    fn merge(
        &self,
        d: &mut Decision<'_>,
        command: &Command,
        primary: &ClueSummary,
        reason: Option<Reason>,
        rules: &Rules<'_>,
    ) -> Result<(), DomainError> {
        if !self.state.is_open() {
            return Err(refuse(command, self));
        }
        handling_officer(self, d.actor)?;
        if primary.id == self.id {
            return Err(DomainError::MergeIntoSelf);
        }
        match primary.state {
            ClueState::Merged { .. } => return Err(DomainError::MergeIntoMerged),
            ClueState::Closed { .. } => return Err(DomainError::MergeIntoClosed),
            _ => {}
        }
        if !self.members.is_empty() {
            return Err(DomainError::HasMembers);
        }
        if primary.reporter == self.reporter {
            return Err(DomainError::MergeSameReporter);
        }
        if primary.handler != self.handler || primary.location.division != self.location.division {
            return Err(DomainError::MergeAcrossBureaus);
        }
        let primary_accepted = primary.state == ClueState::Accepted;
        if self.state == ClueState::Accepted && !primary_accepted {
            return Err(DomainError::MergeStateMismatch);
        }
        let at = d.at;
        d.push(
            &self.id,
            EventKind::MergedInto {
                primary: primary.id.clone(),
                primary_no: primary.clue_no.clone(),
            },
        );
        if self.open_deadline(DeadlineKind::Escalation).is_some() {
            d.close(
                &self.id,
                DeadlineKind::Escalation,
                DeadlineStatus::Discharged { at },
            );
        }
        let mut judgment = self.open_deadline(DeadlineKind::Judgment).cloned();
        if primary_accepted && let Some(j) = judgment.take() {
            // The primary is already accepted: this reporter is told so now.
            d.close(
                &self.id,
                DeadlineKind::Judgment,
                j.met_at(at, rules.calendar),
            );
            let region = rules.bureaus.get(&primary.handler)?.region.clone();
            d.notice(&self.id, NoticeContent::Accept { region })?;
        }
        d.push(
            &primary.id,
            EventKind::MergeJoined {
                member: MergeMember {
                    clue: self.id.clone(),
                    clue_no: self.clue_no.clone(),
                    received_at: self.received_at,
                    judgment,
                },
                reason,
            },
        );
        Ok(())
    }

    /// Closes this clue's open judgment deadline and those its members still owe.
    fn close_judgment_everywhere(
        &self,
        d: &mut Decision<'_>,
        status: impl Fn(&Deadline) -> DeadlineStatus,
    ) {
        if let Some(j) = self.open_deadline(DeadlineKind::Judgment) {
            d.close(&self.id, DeadlineKind::Judgment, status(j));
        }
        for member in &self.members {
            if let Some(j) = &member.judgment {
                d.close(&member.clue, DeadlineKind::Judgment, status(j));
            }
        }
    }

    /// Owes a notice to this clue's reporter and to each merged reporter (art. 13), each with
    /// their own clue's receipt date.
    fn notify_all(
        &self,
        d: &mut Decision<'_>,
        content: impl Fn(Recipient) -> NoticeContent,
    ) -> Result<(), DomainError> {
        let own = Recipient {
            own: true,
            received_on: self.received_on(),
        };
        d.notice(&self.id, content(own))?;
        for member in &self.members {
            let recipient = Recipient {
                own: false,
                received_on: shanghai_date(member.received_at),
            };
            d.notice(&member.clue, content(recipient))?;
        }
        Ok(())
    }
}

/// Whom a notice goes to: this clue's reporter (`own`) or a merged reporter, and the receipt
/// date of that reporter's own clue.
#[derive(Debug, Clone, Copy)]
struct Recipient {
    own: bool,
    received_on: NaiveDate,
}

#[cfg(test)]
#[path = "command_tests/mod.rs"]
mod tests;
