//! The statistics a bureau's dashboard reads, and the month rollups' backfill. Each cell keeps a
//! counter item per day (`DAY#yyyy-mm-dd`) and per month (`MONTH#yyyy-mm`, the sum of its days,
//! `ADD`ed in the same transaction: [`crate::plan`]). A read follows the domain's
//! [`ReadPlan`]: whole months from month items (all months since the first counted, the gauges
//! need them), the days of the months a period boundary cuts from day items; the Queries of all
//! cells run together, so the requests grow with the cells shown, never with the clues, and the
//! items with the months, not the days.
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | a cell's counters for a plan | Query `STAT#<division>`, `sk BETWEEN MONTH#2000-01 AND MONTH#<last whole month>`, and per day range (≤ 2) `sk BETWEEN DAY#from AND DAY#to`; a range up to today: the last month's days and the months in one `sk BETWEEN DAY#<its first day> AND MONTH#<last whole month>` | ≤ 3 per cell (a calendar year or this year to date: 1) |
//! | a cell's day counters up to `to` (bulletins) | Query `STAT#<division>`, `sk BETWEEN DAY#2000-01-01 AND DAY#to` | 1 per cell per 1 MB (≈ 1 000 days) |
//! | backfill month rollups (stacks with day items only) | Scan of the `STAT#`/`DAY#` keys; per (cell, month) GetItem of the month item, Query of its days, `UpdateItem` conditioned on the month's revision read | 1 per 1 MB + 2–3 per cell and month |

use std::collections::{BTreeMap, BTreeSet, HashMap};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{AttributeValue, ReturnConsumedCapacity};
use chrono::NaiveDate;
use domain::DivisionCode;
use domain::figures::DayCounters;
use domain::rollup::{ReadPlan, month_end, month_of};
use serde::Serialize;

use crate::dynamo::{DynamoClueStore, Query, SkCond};
use crate::error::StoreError;
use crate::item::{Item, get_s, n, s};
use crate::keys::{PK, ROLLUP_REV, SK, day_of_sk, month_of_sk, pk_stat, sk_day, sk_month};
use crate::meter::{item_size, read_units_each};
use crate::plan::counters_of;

/// Before the platform's first counted day.
const FIRST_DAY: NaiveDate = match NaiveDate::from_ymd_opt(2000, 1, 1) {
    Some(d) => d,
    None => NaiveDate::MIN,
};

/// How often a backfill of one month is tried again when a command changed it meanwhile.
const BACKFILL_ATTEMPTS: u32 = 5;

/// What a backfill of the month rollups did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct RollupBackfill {
    /// (cell, month) pairs with day items.
    pub months_checked: u32,
    /// Month items written because they differed from the sum of their days.
    pub months_written: u32,
}

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
        self.stat_day_range(cell, FIRST_DAY, to).await
    }

    async fn stat_day_range(
        &self,
        cell: &DivisionCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<DayCounters, StoreError> {
        let q = Query::table(
            "stat_days",
            pk_stat(cell),
            Some(SkCond::Between(sk_day(from), sk_day(to))),
        );
        let mut days = DayCounters::new();
        for item in self.query_all(&q).await? {
            let sk = get_s(&item, SK)?;
            let day =
                day_of_sk(sk).ok_or_else(|| StoreError::malformed(sk, "not a statistics day"))?;
            days.insert(day, counters_of(&item));
        }
        Ok(days)
    }

    /// A territory cell's month rollups up to the month holding `through`, by the month's first
    /// day.
    ///
    /// # Errors
    /// Store errors; an item whose sort key is not a month.
    pub async fn stat_months(
        &self,
        cell: &DivisionCode,
        through: NaiveDate,
    ) -> Result<DayCounters, StoreError> {
        let q = Query::table(
            "stat_months",
            pk_stat(cell),
            Some(SkCond::Between(sk_month(FIRST_DAY), sk_month(through))),
        );
        let mut months = DayCounters::new();
        for item in self.query_all(&q).await? {
            let sk = get_s(&item, SK)?;
            let month = month_of_sk(sk)
                .ok_or_else(|| StoreError::malformed(sk, "not a statistics month"))?;
            months.insert(month, counters_of(&item));
        }
        Ok(months)
    }

    /// A cell's counters as `plan` reads them ([`ReadPlan::assemble`]): one Query for the month
    /// items and one per day range, run together. With an open end
    /// ([`ReadPlan::open_end`]), the last day range and the months are one Query: every
    /// `DAY#` key sorts before every `MONTH#` key, and no day after the range's end exists, so
    /// `sk BETWEEN DAY#<its first day> AND MONTH#<last whole month>` holds exactly both.
    ///
    /// # Errors
    /// The first store error.
    pub async fn stat_counters(
        &self,
        cell: &DivisionCode,
        plan: &ReadPlan,
    ) -> Result<DayCounters, StoreError> {
        let joined = match (plan.open_end, plan.months_through, plan.days.last()) {
            (true, Some(last), Some(tail)) if tail.to == plan.to => Some((tail.from, last)),
            _ => None,
        };
        let separate = &plan.days[..plan.days.len() - usize::from(joined.is_some())];
        let months = async {
            match (joined, plan.months_through) {
                (Some((first_day, last_month)), _) => {
                    let q = Query::table(
                        "stat_counters",
                        pk_stat(cell),
                        Some(SkCond::Between(sk_day(first_day), sk_month(last_month))),
                    );
                    let (mut months, mut days) = (DayCounters::new(), DayCounters::new());
                    for item in self.query_all(&q).await? {
                        let sk = get_s(&item, SK)?;
                        if let Some(day) = day_of_sk(sk) {
                            days.insert(day, counters_of(&item));
                        } else if let Some(month) = month_of_sk(sk) {
                            months.insert(month, counters_of(&item));
                        } else {
                            return Err(StoreError::malformed(sk, "not a statistics key"));
                        }
                    }
                    Ok((months, days))
                }
                (None, Some(last)) => Ok((self.stat_months(cell, last).await?, DayCounters::new())),
                (None, None) => Ok((DayCounters::new(), DayCounters::new())),
            }
        };
        let days = futures_util::future::try_join_all(
            separate
                .iter()
                .map(|r| self.stat_day_range(cell, r.from, r.to)),
        );
        let ((months, tail), days) = futures_util::future::try_join(months, days).await?;
        Ok(plan.assemble(months, days.into_iter().flatten().chain(tail)))
    }

    /// [`Self::stat_counters`] of several cells, each with its plan, all Queries run together.
    ///
    /// # Errors
    /// The first store error.
    pub async fn stat_counters_of(
        &self,
        cells: &[(DivisionCode, ReadPlan)],
    ) -> Result<BTreeMap<DivisionCode, DayCounters>, StoreError> {
        let reads = cells.iter().map(|(cell, plan)| async move {
            self.stat_counters(cell, plan).await.map(|c| (*cell, c))
        });
        Ok(futures_util::future::try_join_all(reads)
            .await?
            .into_iter()
            .collect())
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

    /// Makes every month item equal the sum of its day items, for a stack whose counters were
    /// written before the month rollups existed. Idempotent: a month already equal is not
    /// written. Safe beside running commands once every function writes the rollups (run it
    /// after the deployment): see [`Self::backfill_month`].
    ///
    /// # Errors
    /// Store errors; a month still changing after a few attempts.
    pub async fn backfill_month_rollups(&self) -> Result<RollupBackfill, StoreError> {
        let mut report = RollupBackfill::default();
        for (pk, month) in self.stat_day_months().await? {
            report.months_checked += 1;
            if self.backfill_month(&pk, month).await? {
                report.months_written += 1;
            }
        }
        Ok(report)
    }

    /// Every (statistics partition, month) with a day item: a Scan of the keys.
    async fn stat_day_months(&self) -> Result<BTreeSet<(String, NaiveDate)>, StoreError> {
        let mut out = BTreeSet::new();
        let mut start: Option<Item> = None;
        loop {
            let page = self
                .db
                .scan()
                .table_name(self.table())
                .filter_expression("begins_with(#p, :stat) AND begins_with(#s, :day)")
                .projection_expression("#p, #s")
                .expression_attribute_names("#p", PK)
                .expression_attribute_names("#s", SK)
                .expression_attribute_values(":stat", s("STAT#"))
                .expression_attribute_values(":day", s("DAY#"))
                .set_exclusive_start_key(start.take())
                .return_consumed_capacity(ReturnConsumedCapacity::Total)
                .send()
                .await
                .map_err(|e| StoreError::sdk("Scan", e))?;
            self.meter().record(
                "backfill_scan",
                page.items().len() as u64,
                page.consumed_capacity().and_then(|c| c.capacity_units()),
                read_units_each(page.items().iter().map(item_size), false),
            );
            for item in page.items() {
                let sk = get_s(item, SK)?;
                let day = day_of_sk(sk)
                    .ok_or_else(|| StoreError::malformed(sk, "not a statistics day"))?;
                out.insert((get_s(item, PK)?.to_owned(), month_of(day)));
            }
            match page.last_evaluated_key {
                Some(k) if !k.is_empty() => start = Some(k),
                _ => return Ok(out),
            }
        }
    }

    /// Sets one month item to the sum of its days unless equal; whether it wrote. The month
    /// item is read first, then the days; the write holds only if the month's revision is still
    /// the one read (every command that changes a day of the month changes its revision in the
    /// same transaction), else the month is read again.
    async fn backfill_month(&self, pk: &str, month: NaiveDate) -> Result<bool, StoreError> {
        let cell = pk
            .strip_prefix("STAT#")
            .and_then(|c| DivisionCode::parse(c).ok())
            .ok_or_else(|| StoreError::malformed(pk, "not a statistics cell"))?;
        for _ in 0..BACKFILL_ATTEMPTS {
            let current = self
                .get("backfill_read", pk.to_owned(), &sk_month(month))
                .await?;
            let rev = current.as_ref().and_then(|i| i.get(ROLLUP_REV)).cloned();
            let mut days = BTreeMap::new();
            for counters in self
                .stat_day_range(&cell, month, month_end(month))
                .await?
                .into_values()
            {
                for (k, v) in counters {
                    *days.entry(k).or_insert(0) += v;
                }
            }
            let old = current.as_ref().map(counters_of).unwrap_or_default();
            if nonzero(&days) == nonzero(&old) {
                return Ok(false);
            }
            match self
                .set_month(pk, month, &days, &old, current.is_some().then_some(rev))
                .await
            {
                Ok(()) => return Ok(true),
                Err(StoreError::Conflict) => continue,
                Err(e) => return Err(e),
            }
        }
        Err(StoreError::Conflict)
    }

    /// Sets the month item's counters to `days` (those only in `old` to 0) and moves its
    /// revision, if the item is as read: absent (`expected` none), or with the revision read
    /// (`Some(None)`: an item without any, which the store itself never writes);
    /// [`StoreError::Conflict`] if not.
    async fn set_month(
        &self,
        pk: &str,
        month: NaiveDate,
        days: &BTreeMap<String, i64>,
        old: &BTreeMap<String, i64>,
        expected: Option<Option<AttributeValue>>,
    ) -> Result<(), StoreError> {
        let codes: BTreeSet<&String> = days.keys().chain(old.keys()).collect();
        let mut names = HashMap::from([
            ("#pk".to_owned(), PK.to_owned()),
            ("#rev".to_owned(), ROLLUP_REV.to_owned()),
        ]);
        let mut values: HashMap<String, AttributeValue> =
            HashMap::from([(":one".to_owned(), n(1))]);
        let mut sets = Vec::new();
        for (i, code) in codes.into_iter().enumerate() {
            names.insert(format!("#m{i}"), code.clone());
            values.insert(format!(":v{i}"), n(days.get(code).copied().unwrap_or(0)));
            sets.push(format!("#m{i} = :v{i}"));
        }
        let condition = match expected {
            None => "attribute_not_exists(#pk)".to_owned(),
            Some(None) => "attribute_exists(#pk) AND attribute_not_exists(#rev)".to_owned(),
            Some(Some(rev)) => {
                values.insert(":rev".to_owned(), rev);
                "attribute_exists(#pk) AND #rev = :rev".to_owned()
            }
        };
        let out = self
            .db
            .update_item()
            .table_name(self.table())
            .key(PK, s(pk))
            .key(SK, s(sk_month(month)))
            .update_expression(format!("SET {} ADD #rev :one", sets.join(", ")))
            .condition_expression(condition)
            .set_expression_attribute_names(Some(names))
            .set_expression_attribute_values(Some(values))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(out) => {
                self.meter().record(
                    "backfill_write",
                    1,
                    out.consumed_capacity().and_then(|c| c.capacity_units()),
                    1.0,
                );
                Ok(())
            }
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }
}

/// Counters without their zeros.
fn nonzero(m: &BTreeMap<String, i64>) -> BTreeMap<String, i64> {
    m.iter()
        .filter(|(_, v)| **v != 0)
        .map(|(k, v)| (k.clone(), *v))
        .collect()
}
