//! Who may authorise an upload: not a blocked reporter, and no reporter beyond a number of uploads per hour and per day.
//!
//! A violator must not fill the bucket (and the officers' evidence lists) with one account; the
//! per-reporter clue limits of art. 19 alone do not bound uploads. Counted on the reporting side
//! table (`RATE#upload_hour#<reporter key>`, one conditional `UpdateItem` each); the block list
//! is read first (one `GetItem`).

use chrono::{DateTime, Duration, Utc};
use store::{RateLimit, ReporterKeys, ReportingStore, StoreError};

/// Uploads one reporter may authorise: a clue takes up to 9 photos, and 5 clues an hour are
/// allowed.
pub const UPLOAD_LIMITS: [RateLimit; 2] = [
    RateLimit {
        name: "upload_hour",
        max: 60,
        window: Duration::hours(1),
    },
    RateLimit {
        name: "upload_day",
        max: 200,
        window: Duration::days(1),
    },
];

/// Why an upload is not authorised.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// The reporter is on the block list.
    Blocked,
    /// One of [`UPLOAD_LIMITS`] is reached.
    TooMany,
}

impl Refusal {
    /// The stable error code.
    pub fn code(self) -> &'static str {
        match self {
            Self::Blocked => "blocked",
            Self::TooMany => "too_many_uploads",
        }
    }

    /// The HTTP status.
    pub fn status(self) -> u16 {
        match self {
            Self::Blocked => 403,
            Self::TooMany => 429,
        }
    }

    /// What the reporter is told.
    pub fn message(self) -> &'static str {
        match self {
            Self::Blocked => "您的账号暂时不能上传证据材料",
            Self::TooMany => "上传次数过多，请稍后再试",
        }
    }
}

/// Counts one upload of `owner` at `now`, unless they are blocked or at a limit (then nothing
/// stays counted). A block or a count made under an earlier version of the reporter-key secret
/// still holds (issue 16): the block list is read under every live key, and what earlier keys
/// counted in the window is taken off the limit of the current key's counter.
///
/// # Errors
/// DynamoDB failures.
pub async fn admit(
    records: &ReportingStore,
    owner: &ReporterKeys,
    now: DateTime<Utc>,
) -> Result<Result<(), Refusal>, StoreError> {
    for key in owner.all() {
        if records.block_of(key).await?.is_some() {
            return Ok(Err(Refusal::Blocked));
        }
    }
    let current = owner.current().as_str();
    let mut taken: Vec<RateLimit> = Vec::new();
    for limit in UPLOAD_LIMITS {
        let mut earlier = 0u32;
        for key in owner.previous() {
            earlier = earlier.saturating_add(records.used(&limit, key.as_str(), now).await?);
        }
        let limit = RateLimit {
            max: limit.max.saturating_sub(earlier),
            ..limit
        };
        if limit.max == 0 || !records.take(&limit, current, now).await? {
            for t in &taken {
                records.give_back(t, current, now).await?;
            }
            return Ok(Err(Refusal::TooMany));
        }
        taken.push(limit);
    }
    Ok(Ok(()))
}
