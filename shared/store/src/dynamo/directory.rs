//! [`DynamoClueStore`] as [`Directory`], [`Scopes`] and [`Statistics`]:
//! bureaus, officers, scope versions, counters.

use std::collections::BTreeMap;
use std::sync::Arc;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use chrono::NaiveDate;
use domain::scope::{ScopeHistory, ScopeVersion};
use domain::{Bureau, BureauDirectory, BureauId, DivisionCode, DomainError, Officer, OfficerId};

use super::{DynamoClueStore, Query, SkCond, reported};
use crate::error::StoreError;
use crate::item::*;
use crate::keys::*;
use crate::meter::{item_size, write_units};
use crate::plan::counters_of;
use crate::{Directory, Scopes, StatDays, Statistics};

impl DynamoClueStore {
    /// Stores a bureau (its configuration, including `city_direct`).
    ///
    /// # Errors
    /// The bureau's own incoherence, or a write failure.
    pub async fn put_bureau(&self, bureau: &Bureau) -> Result<(), StoreError> {
        bureau
            .validate()
            .map_err(|e| StoreError::Domain(DomainError::Jurisdiction(e)))?;
        self.put_plain("bureau", bureau_item(bureau)?).await?;
        if let Ok(mut guard) = self.directory.lock() {
            *guard = None;
        }
        Ok(())
    }
}

fn sum_counters(items: &[Item]) -> BTreeMap<String, i64> {
    let mut total = BTreeMap::new();
    for item in items {
        for (k, v) in counters_of(item) {
            *total.entry(k).or_insert(0) += v;
        }
    }
    total
}

impl Directory for DynamoClueStore {
    async fn officer(&self, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
        self.get("officer", pk_officer(id), SK_OFFICER)
            .await?
            .map(|i| get_json(&i, "data"))
            .transpose()
    }

    async fn bureau_officers(&self, bureau: &BureauId) -> Result<Vec<Officer>, StoreError> {
        let q = Query::index(
            "officers",
            GSI1,
            gsi_bureau_officers(bureau),
            Some(SkCond::Begins("OFFICER#".to_owned())),
        );
        self.query_all(&q)
            .await?
            .iter()
            .map(|i| get_json(i, "data"))
            .collect()
    }

    async fn put_officer(&self, officer: &Officer) -> Result<(), StoreError> {
        self.put_plain("officer", officer_item(officer)?).await
    }

    async fn bureau(&self, id: &BureauId) -> Result<Option<Bureau>, StoreError> {
        self.get("bureau", pk_bureau(id), SK_BUREAU)
            .await?
            .map(|i| get_json(&i, "data"))
            .transpose()
    }

    async fn put_bureau(&self, bureau: &Bureau) -> Result<(), StoreError> {
        DynamoClueStore::put_bureau(self, bureau).await
    }

    async fn bureaus(&self) -> Result<Arc<BureauDirectory>, StoreError> {
        self.directory().await
    }
}

impl Scopes for DynamoClueStore {
    async fn scope_history(&self, city: DivisionCode) -> Result<ScopeHistory, StoreError> {
        self.load_scope_history(city).await
    }

    async fn scope_history_cached(
        &self,
        city: DivisionCode,
    ) -> Result<Arc<ScopeHistory>, StoreError> {
        self.scope_cached(city, false).await
    }

    async fn add_scope_version(&self, version: ScopeVersion) -> Result<(), StoreError> {
        let city = version.city;
        let mut history = self.load_scope_history(city).await?;
        history.add(version.clone()).map_err(DomainError::from)?;
        let notice = version.reporting_notice();
        let mut item = key(pk_scope(&city), sk_scope(version.version));
        item.extend([
            ("type".to_owned(), s("scope")),
            ("data".to_owned(), s(to_json(&version)?)),
            ("notice_version".to_owned(), s(notice.version_id)),
            ("notice_text".to_owned(), s(notice.text)),
        ]);
        if let Some(filing) = &version.filing {
            item.extend(crate::scope_filing::filing_index(&version, filing));
        }
        let size = item_size(&item);
        let out = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(out) => {
                self.meter.record(
                    "scope",
                    1,
                    reported(out.consumed_capacity()),
                    write_units(size),
                );
            }
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                return Err(StoreError::Conflict);
            }
            Err(e) => return Err(StoreError::sdk("PutItem", e)),
        }
        if let Ok(mut guard) = self.scopes.lock() {
            guard.remove(&city);
        }
        Ok(())
    }
}

impl Statistics for DynamoClueStore {
    async fn read_stats(
        &self,
        cell: &DivisionCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let q = Query::table(
            "stats",
            pk_stat(cell),
            Some(SkCond::Between(sk_day(from), sk_day(to))),
        );
        let items = self.query_all(&q).await?;
        Ok(sum_counters(&items))
    }

    async fn read_counters(
        &self,
        cell: &DivisionCode,
        plan: &domain::rollup::ReadPlan,
    ) -> Result<domain::figures::DayCounters, StoreError> {
        self.stat_counters(cell, plan).await
    }
}

/// The statistics reads ([`crate::statistics`] keeps the queries).
impl StatDays for DynamoClueStore {
    async fn stat_days(
        &self,
        cell: &DivisionCode,
        to: NaiveDate,
    ) -> Result<domain::figures::DayCounters, StoreError> {
        DynamoClueStore::stat_days(self, cell, to).await
    }

    async fn stat_days_of(
        &self,
        cells: &[DivisionCode],
        to: NaiveDate,
    ) -> Result<BTreeMap<DivisionCode, domain::figures::DayCounters>, StoreError> {
        DynamoClueStore::stat_days_of(self, cells, to).await
    }
}
