//! The statistics a bureau's dashboard reads: the day counters of a few territory cells, each
//! from the first counted day up to a date (the gauges need every day before a period), one Query
//! per cell run together, so the requests grow with the cells shown, never with the clues.
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | a cell's day counters up to `to` | Query `STAT#<division>`, `sk BETWEEN DAY#2000-01-01 AND DAY#to` | 1 per cell per 1 MB (≈ 1 000 days) |

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::DivisionCode;
use domain::figures::DayCounters;

use crate::dynamo::{DynamoClueStore, Query, SkCond};
use crate::error::StoreError;
use crate::item::get_s;
use crate::keys::{SK, pk_stat, sk_day};
use crate::plan::counters_of;

/// Before the platform's first counted day.
const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

impl DynamoClueStore {
    /// A territory cell's counters for every day up to `to` (inclusive), by day.
    ///
    /// # Errors
    /// Store errors; an item whose sort key is not a day.
    pub async fn stat_days(
        &self,
        cell: &DivisionCode,
        to: NaiveDate,
    ) -> Result<DayCounters, StoreError> {
        let q = Query::table(
            "stat_days",
            pk_stat(cell),
            Some(SkCond::Between(sk_day(FIRST_DAY), sk_day(to))),
        );
        let mut days = DayCounters::new();
        for item in self.query_all(&q).await? {
            let sk = get_s(&item, SK)?;
            let day = sk
                .strip_prefix("DAY#")
                .and_then(|d| NaiveDate::parse_from_str(d, "%Y-%m-%d").ok())
                .ok_or_else(|| StoreError::malformed(sk, "not a statistics day"))?;
            days.insert(day, counters_of(&item));
        }
        Ok(days)
    }

    /// [`Self::stat_days`] of several cells, the queries run together.
    ///
    /// # Errors
    /// The first store error.
    pub async fn stat_days_of(
        &self,
        cells: &[DivisionCode],
        to: NaiveDate,
    ) -> Result<BTreeMap<DivisionCode, DayCounters>, StoreError> {
        let reads = cells
            .iter()
            .map(|cell| async move { self.stat_days(cell, to).await.map(|days| (*cell, days)) });
        Ok(futures_util::future::try_join_all(reads)
            .await?
            .into_iter()
            .collect())
    }
}
