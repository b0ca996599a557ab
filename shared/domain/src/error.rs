//! The one error type of the domain's decisions: every refused transition, typed.

use crate::actor::Role;
use crate::bureau::{BureauId, JurisdictionError};
use crate::calendar::CalendarError;
use crate::division::DivisionCode;
use crate::scope::ScopeError;
use crate::text::TextError;

/// Why a command was refused. Nothing is decided when one is returned.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    #[error("{command} is not allowed while the clue is {state}")]
    InvalidTransition {
        command: &'static str,
        state: &'static str,
    },
    #[error("only an officer may do this")]
    NotAnOfficer,
    #[error("only the reporter of this clue may do this")]
    NotTheReporter,
    #[error("the officer's bureau does not handle this clue")]
    NotHandlingBureau,
    #[error("the officer lacks the {0:?} role")]
    MissingRole(Role),
    #[error("the officer has recused themselves from this clue")]
    Recused,
    #[error("the reporter must agree to the reporting notice")]
    ConsentRequired,
    #[error("division {0} is not a county-level location on the platform")]
    NotReportableLocation(DivisionCode),
    #[error("the reporting notice agreed to is not the one of the location's city")]
    WrongCityNotice,
    #[error("a clue cannot be merged into itself")]
    MergeIntoSelf,
    #[error("a clue cannot be merged into a clue that is itself merged")]
    MergeIntoMerged,
    #[error("a clue cannot be merged into a closed clue")]
    MergeIntoClosed,
    #[error("clues of one reporter are duplicates, not merges")]
    MergeSameReporter,
    #[error("only clues of the same county and handling bureau can be merged")]
    MergeAcrossBureaus,
    #[error("an accepted clue can only be merged into an accepted clue")]
    MergeStateMismatch,
    #[error("a clue that other clues were merged into cannot itself be merged")]
    HasMembers,
    #[error("a duplicate must name another, earlier clue of the same reporter")]
    BadDuplicate,
    #[error("a need_material judgment names what is missing")]
    NothingMissing,
    #[error("a clue designated by an upper bureau is not escalated again")]
    AlreadyDesignated,
    #[error("the date {0} is in the future")]
    FutureDate(chrono::NaiveDate),
    #[error("the deadline has not passed yet")]
    NotYetDue,
    #[error("the due date {0} must be after today")]
    DueNotAfterToday(chrono::NaiveDate),
    #[error("verification cannot end before the clue was received")]
    VerificationBeforeReceipt,
    #[error(
        "a clue can only be transferred to another enforcement department inside the territory"
    )]
    BadTransferTarget,
    #[error("only a supervisor or leader of a bureau above the handler may supervise")]
    NotSupervisor,
    #[error("the clue is already under supervision by {0}")]
    AlreadySupervised(BureauId),
    #[error("the clue is not under supervision")]
    NotSupervised,
    #[error("the officer is already recused")]
    AlreadyRecused,
    #[error("this need_material clue was already resubmitted")]
    AlreadyResubmitted,
    #[error("no such notice on this clue")]
    UnknownNotice,
    #[error("the notice's delivery is already final")]
    DeliveryFinal,
    #[error("a clue cannot leave the group of a closed primary")]
    UnmergeFromClosed,
    #[error("there are no unread messages from the reporter")]
    NothingUnread,
    #[error("the assignee must be a handling officer of the handling bureau")]
    BadAssignee,
    #[error(transparent)]
    Jurisdiction(#[from] JurisdictionError),
    #[error("the working-day calendar has no data for {0}: deadlines cannot be computed")]
    YearNotCovered(i32),
    /// Any other calendar failure (invalid data, a zero count): a defect, not user input.
    #[error("the working-day calendar could not answer: {0}")]
    Calendar(String),
    #[error(transparent)]
    Scope(#[from] ScopeError),
    #[error(transparent)]
    Text(#[from] TextError),
}

impl DomainError {
    /// A stable, machine-readable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::InvalidTransition { .. } => "invalid_transition",
            Self::NotAnOfficer => "not_an_officer",
            Self::NotTheReporter => "not_the_reporter",
            Self::NotHandlingBureau => "not_handling_bureau",
            Self::MissingRole(_) => "missing_role",
            Self::Recused => "recused",
            Self::ConsentRequired => "consent_required",
            Self::NotReportableLocation(_) => "not_reportable_location",
            Self::WrongCityNotice => "wrong_city_notice",
            Self::MergeIntoSelf => "merge_into_self",
            Self::MergeIntoMerged => "merge_into_merged",
            Self::MergeIntoClosed => "merge_into_closed",
            Self::MergeSameReporter => "merge_same_reporter",
            Self::MergeAcrossBureaus => "merge_across_bureaus",
            Self::MergeStateMismatch => "merge_state_mismatch",
            Self::HasMembers => "has_members",
            Self::BadDuplicate => "bad_duplicate",
            Self::NothingMissing => "nothing_missing",
            Self::AlreadyDesignated => "already_designated",
            Self::FutureDate(_) => "future_date",
            Self::DueNotAfterToday(_) => "due_not_after_today",
            Self::NotYetDue => "not_yet_due",
            Self::VerificationBeforeReceipt => "verification_before_receipt",
            Self::BadTransferTarget => "bad_transfer_target",
            Self::NotSupervisor => "not_supervisor",
            Self::AlreadySupervised(_) => "already_supervised",
            Self::NotSupervised => "not_supervised",
            Self::AlreadyRecused => "already_recused",
            Self::AlreadyResubmitted => "already_resubmitted",
            Self::UnknownNotice => "unknown_notice",
            Self::DeliveryFinal => "delivery_final",
            Self::BadAssignee => "bad_assignee",
            Self::NothingUnread => "nothing_unread",
            Self::UnmergeFromClosed => "unmerge_from_closed",
            Self::Jurisdiction(JurisdictionError::AboveMinistry) => "above_ministry",
            Self::Jurisdiction(JurisdictionError::OutsideTerritory { .. }) => "outside_territory",
            Self::Jurisdiction(_) => "jurisdiction",
            Self::YearNotCovered(_) => "calendar_year_not_covered",
            Self::Calendar(_) => "calendar",
            Self::Scope(_) => "scope",
            Self::Text(_) => "invalid_text",
        }
    }
}

impl From<CalendarError> for DomainError {
    fn from(e: CalendarError) -> Self {
        match e {
            CalendarError::YearNotCovered(year) => Self::YearNotCovered(year),
            other => Self::Calendar(other.to_string()),
        }
    }
}
