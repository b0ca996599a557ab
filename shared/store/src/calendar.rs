//! The working-day calendar as run-time data: years an admin uploaded (or amended) over the
//! built-in ones, read by every function through a short per-cold-start cache.
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | an uploaded calendar year | `CALENDAR` | `YEAR#<yyyy>` | `data` (the year's JSON document, as `infra/data/calendar/` defines it), `source`, `uploaded_at`, `uploaded_by` |
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | the current calendar (built-in years, uploaded years over them) | Query `CALENDAR` (cached [`CALENDAR_TTL`] at most) | 1 per cold start and TTL |
//! | upload or amend a year | PutItem (replaces the year) | 1 |
//! | place the open deadlines it touches | Query GSI1 `PENDING` + Query GSI1 `DUE` over the year (+60 days), then one command per clue that moves | 2 + 2 per clue |
//!
//! The built-in years (`infra/data/calendar/`, compiled into the binaries) are the defaults every
//! stack starts with; an uploaded year replaces a built-in one of the same year as a whole.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use chrono::{DateTime, NaiveDate, NaiveTime, Utc};
use domain::calendar::shanghai_instant;
use domain::deadline::{self, DeadlineKind};
use domain::{Actor, ClueId, ClueNo, Command, DomainError, EventKind, OfficerId, WorkingCalendar};
use serde::Serialize;

use crate::dynamo::{DynamoClueStore, Query, reported};
use crate::error::StoreError;
use crate::item::{Item, get_s, key, n, parse_instant, s};
use crate::meter::{item_size, write_units};
use crate::{
    CalendarYears, ClueCommands, DeadlineEntry, DeadlineIndex, IdempotencyKey, SweepIndex,
};

/// The longest a function keeps the calendar before reading it again: an upload takes effect
/// everywhere within this time (at once in the function that made it).
pub const CALENDAR_TTL: Duration = Duration::from_secs(60);

/// Partition of the uploaded calendar years.
pub const PK_CALENDAR: &str = "CALENDAR";

fn sk_year(year: i32) -> String {
    format!("YEAR#{year:04}")
}

/// One covered year and where its data comes from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CalendarYear {
    pub year: i32,
    /// The State Council notice's number and title.
    pub source: String,
    /// `built_in` (the repository's data) or `uploaded`.
    pub origin: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uploaded_at: Option<DateTime<Utc>>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub uploaded_by: Option<OfficerId>,
}

/// A deadline an upload placed: resolved (`from` is `None`: it was pending) or moved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlacedDeadline {
    pub clue_id: ClueId,
    pub clue_no: ClueNo,
    pub kind: DeadlineKind,
    pub from: Option<DateTime<Utc>>,
    pub due: DateTime<Utc>,
}

/// What [`place_deadlines`] did.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Placed {
    pub deadlines: Vec<PlacedDeadline>,
    /// Clues whose deadlines could not be placed this time.
    pub failed: Vec<ClueId>,
}

/// The result of an upload: the calendar before and after it.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub year: i32,
    pub source: String,
    pub before: Arc<WorkingCalendar>,
    pub after: Arc<WorkingCalendar>,
}

/// Places the open deadlines an upload touches on the new calendar: pending ones it now
/// covers are resolved, dated ones (miss not recorded) whose due instant it moves are moved,
/// each by [`Command::ResolveDeadlines`] on its clue (a timeline entry with what moved and
/// the notice why). Candidates come from the sparse indexes only: `PENDING`, and `DUE` from
/// the first day of the year to 60 days after its end (no deadline counts further past a
/// year it starts in). A clue that fails is listed in `failed`; uploading the same document
/// again retries it (what is already placed is not moved twice).
///
/// # Errors
/// Index reads; per-clue failures are in the answer.
pub async fn place_deadlines<S>(
    store: &S,
    uploaded: &Uploaded,
    now: DateTime<Utc>,
) -> Result<Placed, StoreError>
where
    S: ClueCommands + DeadlineIndex + SweepIndex,
{
    let year = uploaded.year;
    let (Some(first), Some(last)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Err(StoreError::Invalid("calendar year"));
    };
    let from = shanghai_instant(first, NaiveTime::MIN);
    let year_end = shanghai_instant(last, NaiveTime::MIN) + chrono::Duration::days(1);
    let to = year_end + chrono::Duration::days(60);
    let mut candidates: Vec<DeadlineEntry> = store.pending_deadlines().await?;
    candidates.extend(
        store
            .deadlines_due(Some(from), to)
            .await?
            .into_iter()
            .filter(|e| e.deadline.starts_at < year_end),
    );
    let mut clues = BTreeMap::new();
    for entry in candidates {
        let moves = match (
            entry.deadline.due,
            deadline::resolve(&entry.deadline, &uploaded.after),
        ) {
            (None, Ok(_)) => true,
            (Some(due), Ok((new_due, _))) => due != new_due,
            (_, Err(_)) => false,
        };
        if moves {
            clues
                .entry(entry.clue.clone())
                .or_insert(entry.clue_no.clone());
        }
    }
    let mut placed = Placed::default();
    for (clue, clue_no) in clues {
        let key = IdempotencyKey::parse(&format!(
            "calendar:{year}:{}:{clue}",
            now.timestamp_millis()
        ))?;
        match store
            .execute(&clue, Command::ResolveDeadlines, &Actor::System, now, &key)
            .await
        {
            Ok(outcome) => {
                for e in outcome.events.iter().filter(|e| e.clue == clue) {
                    let (kind, from, due) = match &e.kind {
                        EventKind::DeadlineResolved { kind, due, .. } => (*kind, None, *due),
                        EventKind::DeadlineMoved {
                            kind, from, due, ..
                        } => (*kind, Some(*from), *due),
                        _ => continue,
                    };
                    placed.deadlines.push(PlacedDeadline {
                        clue_id: clue.clone(),
                        clue_no: clue_no.clone(),
                        kind,
                        from,
                        due,
                    });
                }
            }
            Err(e) => {
                tracing::warn!(clue = %clue, code = e.code(), error = %e, "deadline not placed");
                placed.failed.push(clue);
            }
        }
    }
    Ok(placed)
}

impl DynamoClueStore {
    async fn calendar_items(&self) -> Result<Vec<Item>, StoreError> {
        self.query_all(&Query::table("calendar", PK_CALENDAR.to_owned(), None))
            .await
    }
}

/// The year a document covers and its source, checked as the built-in data is.
fn parse_year(document: &str) -> Result<(i32, String), StoreError> {
    let parsed = WorkingCalendar::from_years([document]).map_err(DomainError::from)?;
    let mut years = parsed.covered_years();
    let (Some(year), None) = (years.next(), years.next()) else {
        return Err(StoreError::Invalid("calendar document"));
    };
    Ok((year, parsed.source(year).unwrap_or_default().to_owned()))
}

/// The upload of `document` over the stored years `items`: the calendar before and after it,
/// and the item that stores the year (both stores keep the years as these items).
pub(crate) fn upload(
    items: &[Item],
    document: &str,
    by: &OfficerId,
    now: DateTime<Utc>,
) -> Result<(Uploaded, Item), StoreError> {
    let (year, source) = parse_year(document)?;
    let before = Arc::new(overlay(items)?);
    let after = Arc::new(before.with_years([document]).map_err(DomainError::from)?);
    let mut item = key(PK_CALENDAR, sk_year(year));
    item.extend([
        ("type".to_owned(), s("calendar_year")),
        ("year".to_owned(), n(year)),
        ("data".to_owned(), s(document)),
        ("source".to_owned(), s(source.clone())),
        ("uploaded_at".to_owned(), s(crate::keys::instant(now))),
        ("uploaded_by".to_owned(), s(by.as_str())),
    ]);
    let uploaded = Uploaded {
        year,
        source,
        before,
        after,
    };
    Ok((uploaded, item))
}

/// Every covered year of the calendar the stored `items` make, with its origin.
pub(crate) fn years_of(items: &[Item]) -> Result<Vec<CalendarYear>, StoreError> {
    let calendar = overlay(items)?;
    let mut uploaded = BTreeMap::new();
    for item in items {
        let year: i32 = crate::item::get_n(item, "year")?;
        let by = OfficerId::parse(get_s(item, "uploaded_by")?)
            .map_err(|e| StoreError::malformed(sk_year(year), e))?;
        uploaded.insert(year, (parse_instant(item, "uploaded_at")?, by));
    }
    Ok(calendar
        .covered_years()
        .map(|year| {
            let up = uploaded.get(&year);
            CalendarYear {
                year,
                source: calendar.source(year).unwrap_or_default().to_owned(),
                origin: if up.is_some() { "uploaded" } else { "built_in" },
                uploaded_at: up.map(|(at, _)| *at),
                uploaded_by: up.map(|(_, by)| by.clone()),
            }
        })
        .collect())
}

/// The built-in calendar with the stored years over it.
pub(crate) fn overlay(items: &[Item]) -> Result<WorkingCalendar, StoreError> {
    let documents = items
        .iter()
        .map(|i| get_s(i, "data"))
        .collect::<Result<Vec<_>, _>>()?;
    WorkingCalendar::embedded()
        .with_years(documents)
        .map_err(|e| StoreError::malformed(PK_CALENDAR, e))
}

impl CalendarYears for DynamoClueStore {
    async fn calendar(&self) -> Result<Arc<WorkingCalendar>, StoreError> {
        let ttl = self.cache_ttl().min(CALENDAR_TTL);
        if let Ok(guard) = self.calendar_cache.lock()
            && let Some((at, cal)) = guard.as_ref()
            && at.elapsed() < ttl
        {
            return Ok(cal.clone());
        }
        let items = self.calendar_items().await?;
        let calendar = Arc::new(overlay(&items)?);
        if let Ok(mut guard) = self.calendar_cache.lock() {
            *guard = Some((Instant::now(), calendar.clone()));
        }
        Ok(calendar)
    }

    async fn calendar_years(&self) -> Result<Vec<CalendarYear>, StoreError> {
        years_of(&self.calendar_items().await?)
    }

    async fn put_calendar_year(
        &self,
        document: &str,
        by: &OfficerId,
        now: DateTime<Utc>,
    ) -> Result<Uploaded, StoreError> {
        let (uploaded, item) = upload(&self.calendar_items().await?, document, by, now)?;
        let size = item_size(&item);
        let out = self
            .db
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::sdk("PutItem", e))?;
        self.meter().record(
            "calendar",
            1,
            reported(out.consumed_capacity()),
            write_units(size),
        );
        if let Ok(mut guard) = self.calendar_cache.lock() {
            *guard = Some((Instant::now(), uploaded.after.clone()));
        }
        Ok(uploaded)
    }
}
