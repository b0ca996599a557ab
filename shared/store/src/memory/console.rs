//! [`InMemoryClueStore`] as [`Console`], [`SupervisionLists`] and [`StatDays`]: account state
//! and inbox counts, the 督办 lists (derived from the clues with the table's own index items)
//! and the day counters.

use std::collections::BTreeMap;

use chrono::NaiveDate;
use domain::figures::DayCounters;
use domain::{BureauId, DivisionCode, Officer, OfficerId};

use super::{InMemoryClueStore, State, attr, page_below};
use crate::console::INBOX_STATES;
use crate::error::StoreError;
use crate::item::Item;
use crate::keys::*;
use crate::supervision::{
    SupervisionEntry, SupervisionPage, pk_supervised, pk_supervising, supervision_items,
};
use crate::{Console, StatDays, SupervisionLists};

impl State {
    fn supervision_items(&self) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        for stored in self.clues.values() {
            out.extend(supervision_items(&stored.clue)?);
        }
        Ok(out)
    }
}

impl Console for InMemoryClueStore {
    async fn officer_account_state(
        &self,
        id: &OfficerId,
    ) -> Result<Option<(Officer, bool)>, StoreError> {
        let state = self.state();
        Ok(state
            .officers
            .get(id.as_str())
            .map(|o| (o.clone(), !state.disabled.contains(id.as_str()))))
    }

    async fn inbox_counts(
        &self,
        bureau: &BureauId,
    ) -> Result<BTreeMap<&'static str, u64>, StoreError> {
        let items = self.state().clue_items()?;
        let mut counts = BTreeMap::new();
        for code in INBOX_STATES {
            let pk = gsi_inbox(bureau, code);
            let n = items
                .iter()
                .filter(|i| attr(i, GSI2PK) == Some(pk.as_str()))
                .count();
            counts.insert(code, u64::try_from(n).unwrap_or(u64::MAX));
        }
        Ok(counts)
    }
}

impl SupervisionLists for InMemoryClueStore {
    async fn supervisions_by(
        &self,
        bureau: &BureauId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<SupervisionPage, StoreError> {
        let rows = State::index(
            self.state().supervision_items()?,
            GSI1PK,
            &pk_supervising(bureau),
            GSI1SK,
        );
        let (items, next) = page_below(rows, cursor, limit)?;
        Ok(SupervisionPage {
            items: items
                .into_iter()
                .map(SupervisionEntry::try_from)
                .collect::<Result<_, _>>()?,
            next,
        })
    }

    async fn supervisions_of(
        &self,
        bureau: &BureauId,
    ) -> Result<Vec<SupervisionEntry>, StoreError> {
        State::index(
            self.state().supervision_items()?,
            GSI2PK,
            &pk_supervised(bureau),
            GSI2SK,
        )
        .into_iter()
        .map(|(_, item)| SupervisionEntry::try_from(item))
        .collect()
    }
}

impl StatDays for InMemoryClueStore {
    async fn stat_days(
        &self,
        cell: &DivisionCode,
        to: NaiveDate,
    ) -> Result<DayCounters, StoreError> {
        Ok(self
            .state()
            .stats
            .iter()
            .filter(|((c, day), _)| c == cell && *day <= to)
            .map(|((_, day), counters)| (*day, counters.clone()))
            .collect())
    }

    async fn stat_days_of(
        &self,
        cells: &[DivisionCode],
        to: NaiveDate,
    ) -> Result<BTreeMap<DivisionCode, DayCounters>, StoreError> {
        let mut out = BTreeMap::new();
        for cell in cells {
            out.insert(*cell, self.stat_days(cell, to).await?);
        }
        Ok(out)
    }
}
