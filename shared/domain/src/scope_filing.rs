//! A city's scope filing (arts. 8, 9): a leader of the city's land bureau widens categories or
//! narrows exclusions as a new scope version, filed (备案) with its province from a set
//! effective time on; a leader or supervisor of that province acknowledges the filing. The
//! reporting notice of the city changes at the effective time; clues keep the notice version
//! they were reported under.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actor::{Officer, Role};
use crate::bureau::{Bureau, BureauKind, BureauLevel};
use crate::calendar::shanghai_date;
use crate::division::DivisionCode;
use crate::scope::{ExclusionRule, ExtraCategory, Filing, ScopeError, ScopeHistory, ScopeVersion};

/// What a city files: the whole new scope (not a diff), when it takes effect, and the filing's
/// document number.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ScopeProposal {
    #[serde(default)]
    pub extra_categories: Vec<ExtraCategory>,
    pub exclusions: Vec<ExclusionRule>,
    pub effective_from: DateTime<Utc>,
    pub reference: String,
}

/// Why a filing or an acknowledgment is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FilingError {
    #[error("only a leader of the city's own land bureau files its scope")]
    NotCityLeader,
    #[error("only a leader or supervisor of the city's province acknowledges its filing")]
    NotProvince,
    #[error("a new scope takes effect from now on, never before")]
    EffectiveInPast,
    #[error("the filing's document number is required (at most 100 characters)")]
    BadReference,
    #[error(transparent)]
    Scope(#[from] ScopeError),
}

impl FilingError {
    /// A stable code for API error bodies.
    pub fn code(&self) -> &'static str {
        match self {
            Self::NotCityLeader => "not_city_leader",
            Self::NotProvince => "not_province",
            Self::EffectiveInPast => "effective_in_past",
            Self::BadReference => "bad_reference",
            Self::Scope(ScopeError::NotFiled | ScopeError::WrongProvince { .. }) => "not_filed",
            Self::Scope(ScopeError::BadExtra) => "bad_extra_category",
            Self::Scope(ScopeError::BadExclusion) => "bad_exclusion",
            Self::Scope(ScopeError::EffectiveOrder) => "effective_order",
            Self::Scope(_) => "scope",
        }
    }
}

fn land_bureau_at(bureau: &Bureau, level: BureauLevel, division: DivisionCode) -> bool {
    bureau.kind == BureauKind::Land && bureau.level == level && bureau.division == Some(division)
}

/// The next scope version of `history`'s city as `officer` of `bureau` files it at `now`.
///
/// # Errors
/// [`FilingError`]: not a leader of the city's land bureau, an effective time before `now`, an
/// empty reference, or a scope the rules refuse (bad extras or exclusions, an earlier start
/// than the version in force).
pub fn file(
    history: &ScopeHistory,
    proposal: ScopeProposal,
    officer: &Officer,
    bureau: &Bureau,
    now: DateTime<Utc>,
) -> Result<ScopeVersion, FilingError> {
    let city = history.latest().city;
    if officer.bureau != bureau.id
        || !officer.has(Role::Leader)
        || !land_bureau_at(bureau, BureauLevel::City, city)
    {
        return Err(FilingError::NotCityLeader);
    }
    if proposal.effective_from < now {
        return Err(FilingError::EffectiveInPast);
    }
    let reference = proposal.reference.trim();
    if reference.is_empty() || reference.chars().count() > 100 {
        return Err(FilingError::BadReference);
    }
    let version = ScopeVersion {
        city,
        version: history.latest().version + 1,
        effective_from: proposal.effective_from,
        extra_categories: proposal.extra_categories,
        exclusions: proposal.exclusions,
        filing: Some(Filing {
            province: city.province(),
            filed_on: shanghai_date(now),
            reference: reference.to_owned(),
        }),
    };
    history.clone().add(version.clone())?;
    Ok(version)
}

/// Checks that `officer` of `bureau` may acknowledge `city`'s filing: a leader or supervisor of
/// the land bureau of the city's province.
///
/// # Errors
/// [`FilingError::NotProvince`].
pub fn may_acknowledge(
    officer: &Officer,
    bureau: &Bureau,
    city: DivisionCode,
) -> Result<(), FilingError> {
    let role = officer.has(Role::Leader) || officer.has(Role::Supervisor);
    if officer.bureau == bureau.id
        && role
        && land_bureau_at(bureau, BureauLevel::Province, city.province())
    {
        Ok(())
    } else {
        Err(FilingError::NotProvince)
    }
}

#[cfg(test)]
#[path = "scope_filing_tests.rs"]
mod tests;
