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
//!
//! The built-in years (`infra/data/calendar/`, compiled into the binaries) are the defaults every
//! stack starts with; an uploaded year replaces a built-in one of the same year as a whole.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use chrono::{DateTime, Utc};
use domain::{DomainError, OfficerId, WorkingCalendar};
use serde::Serialize;

use crate::dynamo::{DynamoClueStore, Query, reported};
use crate::error::StoreError;
use crate::item::{Item, get_s, key, n, parse_instant, s};
use crate::meter::{item_size, write_units};

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

/// The result of an upload: the calendar before and after it.
#[derive(Debug, Clone)]
pub struct Uploaded {
    pub year: i32,
    pub source: String,
    pub before: Arc<WorkingCalendar>,
    pub after: Arc<WorkingCalendar>,
}

impl DynamoClueStore {
    /// The current calendar: the built-in years with the uploaded ones over them, cached for
    /// [`CALENDAR_TTL`] (or the store's cache TTL when shorter).
    ///
    /// # Errors
    /// A read failure, or a stored year that is not a valid document.
    pub async fn calendar(&self) -> Result<Arc<WorkingCalendar>, StoreError> {
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

    /// Every covered year with its source and origin, ascending (read fresh).
    ///
    /// # Errors
    /// A read failure, or a stored year that is not a valid document.
    pub async fn calendar_years(&self) -> Result<Vec<CalendarYear>, StoreError> {
        let items = self.calendar_items().await?;
        let calendar = overlay(&items)?;
        let mut uploaded = std::collections::BTreeMap::new();
        for item in &items {
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

    /// Stores a year's document (a new year, or an amendment replacing the year), checked as
    /// the built-in data is, and returns the calendar before and after. The cache of this store
    /// is refreshed at once; other functions see the year within [`CALENDAR_TTL`].
    ///
    /// # Errors
    /// [`StoreError::Domain`] for an invalid document (nothing is stored); read or write
    /// failures.
    pub async fn put_calendar_year(
        &self,
        document: &str,
        by: &OfficerId,
        now: DateTime<Utc>,
    ) -> Result<Uploaded, StoreError> {
        let parsed = WorkingCalendar::from_years([document]).map_err(DomainError::from)?;
        let mut years = parsed.covered_years();
        let (Some(year), None) = (years.next(), years.next()) else {
            return Err(StoreError::Invalid("calendar document"));
        };
        let source = parsed.source(year).unwrap_or_default().to_owned();
        let items = self.calendar_items().await?;
        let before = Arc::new(overlay(&items)?);
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
        self.meter()
            .record("calendar", 1, reported(out.consumed_capacity()), write_units(size));
        if let Ok(mut guard) = self.calendar_cache.lock() {
            *guard = Some((Instant::now(), after.clone()));
        }
        Ok(Uploaded {
            year,
            source,
            before,
            after,
        })
    }

    async fn calendar_items(&self) -> Result<Vec<Item>, StoreError> {
        self.query_all(&Query::table("calendar", PK_CALENDAR.to_owned(), None))
            .await
    }
}

/// The built-in calendar with the stored years over it.
fn overlay(items: &[Item]) -> Result<WorkingCalendar, StoreError> {
    let documents = items
        .iter()
        .map(|i| get_s(i, "data"))
        .collect::<Result<Vec<_>, _>>()?;
    WorkingCalendar::embedded()
        .with_years(documents)
        .map_err(|e| StoreError::malformed(PK_CALENDAR, e))
}
