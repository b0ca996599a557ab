//! What the deadline sweep reads and writes besides commands: the pending-deadline index, taking
//! entries out of the reminder and due indexes once handled, and the supervising bureaus'
//! overdue entries.
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | overdue entry for a supervising bureau (written once per missed deadline) | `OVERDUE#<supervising bureau>` | `<due>#<clue id>#<kind>` | `clue_id`, `clue_no`, `kind`, `bureau` (the bureau that owes it), `due`, `recorded_at` |
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | pending deadlines | Query GSI1 `PENDING` | 1 per 1 MB |
//! | reminder sent: leave `REMIND` | UpdateItem `REMOVE gsi2pk, gsi2sk` if `gsi2sk` is still the one read | 1 |
//! | overdue with nothing to record (escalation): leave `DUE`/`REMIND` | UpdateItem `REMOVE` all four, same condition on `gsi1sk` | 1 |
//! | write an overdue entry (idempotent) | PutItem `attribute_not_exists(pk)` | 1 |
//! | a bureau's overdue entries, newest due first, a page | Query `OVERDUE#<bureau>` descending, `sk < cursor` | 1 per page |
//!
//! A deadline whose miss is recorded leaves `DUE` in the command's own transaction (its index
//! item moves to `MISSED`), so the sweep's reads stay proportional to what is due.

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::ReturnConsumedCapacity;
use chrono::{DateTime, Utc};
use domain::deadline::DeadlineKind;
use domain::{BureauId, ClueId, ClueNo};
use serde::Serialize;

use crate::SweepIndex;
use crate::dynamo::{DynamoClueStore, Query, SkCond, reported};
use crate::error::StoreError;
use crate::item::{DeadlineEntry, Item, get_s, key, parse_instant, s};
use crate::keys::{GSI1, GSI1PK, GSI1SK, GSI2PK, GSI2SK, PENDING, instant, pk_clue, sk_deadline};
use crate::meter::{item_size, write_units};

/// An overdue deadline of a lower bureau, as its supervising bureau lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverdueEntry {
    /// The supervising bureau the entry is for.
    #[serde(skip)]
    pub supervisor: BureauId,
    pub clue_id: ClueId,
    pub clue_no: ClueNo,
    pub kind: DeadlineKind,
    /// The bureau that owes the deadline.
    pub bureau: BureauId,
    pub due: DateTime<Utc>,
    /// When the sweep recorded it.
    pub recorded_at: DateTime<Utc>,
}

/// One page of a bureau's overdue entries; `next` is the cursor of the following page.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OverduePage {
    pub items: Vec<OverdueEntry>,
    pub next: Option<String>,
}

pub(crate) fn pk_overdue(bureau: &BureauId) -> String {
    format!("OVERDUE#{bureau}")
}

pub(crate) fn sk_overdue(due: DateTime<Utc>, clue: &ClueId, kind: DeadlineKind) -> String {
    format!("{}#{clue}#{}", instant(due), kind.code())
}

pub(crate) fn index_sk(instant_of: DateTime<Utc>, entry: &DeadlineEntry) -> String {
    format!(
        "{}#{}#{}",
        instant(instant_of),
        entry.clue,
        entry.kind().code()
    )
}

pub(crate) fn is_conditional<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

/// The item of an overdue entry.
pub(crate) fn overdue_item(entry: &OverdueEntry) -> Item {
    let mut item = key(
        pk_overdue(&entry.supervisor),
        sk_overdue(entry.due, &entry.clue_id, entry.kind),
    );
    item.extend([
        ("type".to_owned(), s("overdue")),
        ("clue_id".to_owned(), s(entry.clue_id.as_str())),
        ("clue_no".to_owned(), s(entry.clue_no.as_str())),
        ("kind".to_owned(), s(entry.kind.code())),
        ("bureau".to_owned(), s(entry.bureau.as_str())),
        ("due".to_owned(), s(instant(entry.due))),
        ("recorded_at".to_owned(), s(instant(entry.recorded_at))),
    ]);
    item
}

impl TryFrom<Item> for OverdueEntry {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let bad = |e: String| StoreError::malformed("OVERDUE", e);
        let supervisor = get_s(&item, "pk")?
            .strip_prefix("OVERDUE#")
            .ok_or_else(|| bad("pk".into()))
            .and_then(|b| BureauId::parse(b).map_err(|e| bad(e.to_string())))?;
        let kind = get_s(&item, "kind")?;
        let kind = DeadlineKind::parse(kind).ok_or_else(|| bad(format!("kind {kind}")))?;
        Ok(Self {
            supervisor,
            clue_id: ClueId::parse(get_s(&item, "clue_id")?).map_err(|e| bad(e.to_string()))?,
            clue_no: ClueNo::parse(get_s(&item, "clue_no")?).map_err(|e| bad(e.to_string()))?,
            kind,
            bureau: BureauId::parse(get_s(&item, "bureau")?).map_err(|e| bad(e.to_string()))?,
            due: parse_instant(&item, "due")?,
            recorded_at: parse_instant(&item, "recorded_at")?,
        })
    }
}

impl DynamoClueStore {
    async fn remove_index(
        &self,
        entry: &DeadlineEntry,
        update: &str,
        guard: &str,
        expected: String,
    ) -> Result<bool, StoreError> {
        let mut req = self
            .db
            .update_item()
            .table_name(self.table())
            .key("pk", s(pk_clue(&entry.clue)))
            .key("sk", s(sk_deadline(entry.kind(), entry.deadline.starts_at)))
            .update_expression(update)
            .condition_expression("#g = :g")
            .expression_attribute_names("#g", guard)
            .expression_attribute_names("#p2", GSI2PK)
            .expression_attribute_names("#s2", GSI2SK)
            .expression_attribute_values(":g", s(expected))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        if update.contains("#p1") {
            req = req
                .expression_attribute_names("#p1", GSI1PK)
                .expression_attribute_names("#s1", GSI1SK);
        }
        match req.send().await {
            Ok(out) => {
                self.meter()
                    .record("deadline_index", 1, reported(out.consumed_capacity()), 1.0);
                Ok(true)
            }
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }
}

impl SweepIndex for DynamoClueStore {
    async fn pending_deadlines(&self) -> Result<Vec<DeadlineEntry>, StoreError> {
        self.query_all(&Query::index("pending", GSI1, PENDING.to_owned(), None))
            .await?
            .into_iter()
            .map(DeadlineEntry::try_from)
            .collect()
    }

    async fn reminded(&self, entry: &DeadlineEntry) -> Result<bool, StoreError> {
        let remind = entry.deadline.remind_at.or(entry.deadline.due);
        let Some(remind) = remind else {
            return Ok(false);
        };
        self.remove_index(entry, "REMOVE #p2, #s2", GSI2SK, index_sk(remind, entry))
            .await
    }

    async fn leave_due_index(&self, entry: &DeadlineEntry) -> Result<bool, StoreError> {
        let Some(due) = entry.deadline.due else {
            return Ok(false);
        };
        self.remove_index(
            entry,
            "REMOVE #p1, #s1, #p2, #s2",
            GSI1SK,
            index_sk(due, entry),
        )
        .await
    }

    async fn put_overdue_entry(&self, entry: &OverdueEntry) -> Result<bool, StoreError> {
        let item = overdue_item(entry);
        let size = item_size(&item);
        match self
            .db
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
        {
            Ok(out) => {
                self.meter().record(
                    "overdue",
                    1,
                    reported(out.consumed_capacity()),
                    write_units(size),
                );
                Ok(true)
            }
            Err(e) if is_conditional(&e) => Ok(false),
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }

    async fn overdue_entries(
        &self,
        supervisor: &BureauId,
        limit: i32,
        cursor: Option<&str>,
    ) -> Result<OverduePage, StoreError> {
        let cursor = crate::keys::sort_key_cursor(cursor)?;
        let mut q = Query::table(
            "overdue",
            pk_overdue(supervisor),
            cursor.map(|c| SkCond::Below(c.to_owned())),
        );
        q.forward = false;
        let (items, next) = self.query_page(&q, Some(limit.clamp(1, 100)), None).await?;
        let items = items
            .into_iter()
            .map(OverdueEntry::try_from)
            .collect::<Result<Vec<_>, _>>()?;
        let next = next.and_then(|k| k.get("sk").and_then(|v| v.as_s().ok()).cloned());
        Ok(OverduePage { items, next })
    }
}
