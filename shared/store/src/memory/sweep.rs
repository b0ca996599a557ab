//! [`InMemoryClueStore`] as [`CalendarYears`] and [`SweepIndex`]: uploaded calendar years, the
//! pending index, the sweep's conditional index removals and the supervisors' overdue entries,
//! kept as the items the table keeps.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use domain::{BureauId, OfficerId, WorkingCalendar};

use super::{InMemoryClueStore, State, attr, page_below};
use crate::calendar::{CalendarYear, Uploaded, upload, years_of};
use crate::error::StoreError;
use crate::item::{DeadlineEntry, Item, get_n};
use crate::keys::*;
use crate::sweep::{OverdueEntry, OverduePage, index_sk, overdue_item, pk_overdue};
use crate::{CalendarYears, SweepIndex};

/// The attributes [`SweepIndex::reminded`] takes off a deadline item.
const REMIND_INDEX: [&str; 2] = [GSI2PK, GSI2SK];
/// The attributes [`SweepIndex::leave_due_index`] takes off a deadline item.
const DUE_INDEX: [&str; 4] = [GSI1PK, GSI1SK, GSI2PK, GSI2SK];

impl State {
    /// Takes `names` off the deadline item of `entry` if its `guard` attribute is still
    /// `expected` (as the table's conditional UpdateItem); whether it did.
    fn leave_index(
        &mut self,
        entry: &DeadlineEntry,
        names: &[&'static str],
        guard: &str,
        expected: &str,
    ) -> Result<bool, StoreError> {
        let sk = sk_deadline(entry.kind(), entry.deadline.starts_at);
        let Some(stored) = self.clues.get(&entry.clue) else {
            return Ok(false);
        };
        let Some(full) = stored
            .clue
            .deadlines
            .iter()
            .map(|d| crate::item::deadline_item(&stored.clue, d))
            .collect::<Result<Vec<_>, _>>()?
            .into_iter()
            .flatten()
            .find(|i| attr(i, SK) == Some(sk.as_str()))
        else {
            return Ok(false);
        };
        let current = self.without_left_index(&entry.clue, full.clone());
        if attr(&current, guard) != Some(expected) {
            return Ok(false);
        }
        let slot = self
            .left_index
            .entry((entry.clue.clone(), sk))
            .or_insert_with(|| (full.clone(), Default::default()));
        if slot.0 != full {
            *slot = (full, Default::default());
        }
        slot.1.extend(names.iter().copied());
        Ok(true)
    }
}

impl SweepIndex for InMemoryClueStore {
    async fn pending_deadlines(&self) -> Result<Vec<DeadlineEntry>, StoreError> {
        State::index(self.state().deadline_items()?, GSI1PK, PENDING, GSI1SK)
            .into_iter()
            .map(|(_, item)| DeadlineEntry::try_from(item))
            .collect()
    }

    async fn reminded(&self, entry: &DeadlineEntry) -> Result<bool, StoreError> {
        let Some(remind) = entry.deadline.remind_at.or(entry.deadline.due) else {
            return Ok(false);
        };
        self.state()
            .leave_index(entry, &REMIND_INDEX, GSI2SK, &index_sk(remind, entry))
    }

    async fn leave_due_index(&self, entry: &DeadlineEntry) -> Result<bool, StoreError> {
        let Some(due) = entry.deadline.due else {
            return Ok(false);
        };
        self.state()
            .leave_index(entry, &DUE_INDEX, GSI1SK, &index_sk(due, entry))
    }

    async fn put_overdue_entry(&self, entry: &OverdueEntry) -> Result<bool, StoreError> {
        let item = overdue_item(entry);
        let pk = attr(&item, PK).unwrap_or_default().to_owned();
        let sk = attr(&item, SK).unwrap_or_default().to_owned();
        let mut state = self.state();
        if state.overdue.contains_key(&(pk.clone(), sk.clone())) {
            return Ok(false);
        }
        state.overdue.insert((pk, sk), item);
        Ok(true)
    }

    async fn overdue_entries(
        &self,
        supervisor: &BureauId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<OverduePage, StoreError> {
        let pk = pk_overdue(supervisor);
        let rows: Vec<(String, Item)> = self
            .state()
            .overdue
            .iter()
            .filter(|((p, _), _)| *p == pk)
            .map(|((_, sk), item)| (sk.clone(), item.clone()))
            .collect();
        let (items, next) = page_below(rows, cursor, limit)?;
        Ok(OverduePage {
            items: items
                .into_iter()
                .map(OverdueEntry::try_from)
                .collect::<Result<_, _>>()?,
            next,
        })
    }
}

impl CalendarYears for InMemoryClueStore {
    async fn calendar(&self) -> Result<Arc<WorkingCalendar>, StoreError> {
        Ok(Arc::new(self.state().calendar()?))
    }

    async fn calendar_years(&self) -> Result<Vec<CalendarYear>, StoreError> {
        years_of(
            &self
                .state()
                .calendar_years
                .values()
                .cloned()
                .collect::<Vec<_>>(),
        )
    }

    async fn put_calendar_year(
        &self,
        document: &str,
        by: &OfficerId,
        now: DateTime<Utc>,
    ) -> Result<Uploaded, StoreError> {
        let mut state = self.state();
        let items: Vec<Item> = state.calendar_years.values().cloned().collect();
        let (uploaded, item) = upload(&items, document, by, now)?;
        let year: i32 = get_n(&item, "year")?;
        state.calendar_years.insert(year, item);
        Ok(uploaded)
    }
}
