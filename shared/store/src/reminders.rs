//! Officer reminders on the one table (the officers' WeChat bindings they are pushed through
//! are in [`crate::bindings`]).
//!
//! | item | `pk` | `sk` | GSI1 | GSI2 | GSI3 |
//! |---|---|---|---|---|---|
//! | reminder (JSON `data`, `read_at`/`read_by`, `deliveries` map officer → status) | `REMINDER#<id>` | `REMINDER` | `REMINDERS#<recipient>` / `<created_at>#<id>` | `UNREAD#<recipient>` / `<created_at>#<id>` while unread | |
//! | its WeChat delivery to one bound officer (attempt record) | `REMINDER#<id>` | `TO#<sub>` | | | `REMINDER_OUTBOX` / `<created_at>#<id>#<sub>` while not final |
//! | officer's WeChat binding (openid sealed with the vault's KMS data key, masked copy) | `OFFICER#<sub>` | `WXBIND` | `WXBIND#<bureau>` / `<sub>` | | |
//! | binding code (SHA-256 of the code; single use; TTL) | `WXCODE#<sha256>` | `WXCODE` | | | |
//!
//! `<recipient>` is `bureau:<id>` (the bureau's handling officers) or `officer:<sub>`.
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | issue a reminder (idempotent) | Query GSI1 `WXBIND#<bureau>` (or GetItem the officer's binding), then one `TransactWriteItems`: the reminder (`attribute_not_exists`) + one delivery item per bound officer | 2 |
//! | an officer's reminders, newest first, a page | Query GSI1 `REMINDERS#officer:<sub>` and `REMINDERS#bureau:<b>` descending, `gsi1sk < cursor`, merged | 2 per page |
//! | unread count | Query GSI2 `UNREAD#…` with `Select COUNT`, both partitions | 2 (per 1 MB) |
//! | mark read | GetItem + UpdateItem (removes the GSI2 entry) | 2 |
//! | deliver to one officer | BatchGetItem (reminder, delivery, binding) + UpdateItem (attempt begins) + `TransactWriteItems` (delivery outcome + the reminder's `deliveries` entry) | 3 (+ KMS `Decrypt` once per data key) |
//! | deliveries never attempted before `t` (sweep) | Query GSI3 `REMINDER_OUTBOX`, `gsi3sk < t` | 1 per 1 MB |
//! | issue a binding code / redeem it / show / unbind | PutItem / GetItem + `TransactWriteItems` (code used + binding put) / GetItem / DeleteItem | 1 / 2 / 1 / 1 |
//!
//! Read state is per reminder: a bureau's reminder marked read by one of its officers is read
//! for all of them (who and when is recorded).

use std::collections::BTreeMap;

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    AttributeValue, Put, ReturnConsumedCapacity, ReturnValue, TransactWriteItem, Update,
};
use chrono::{DateTime, Utc};
use domain::reminder::{Reminder, ReminderRecipient};
use domain::{Officer, OfficerId, ReminderId};
use serde::{Deserialize, Serialize};

use crate::bindings::binding_aad;
use crate::dynamo::{DynamoClueStore, Query, SkCond};
use crate::error::StoreError;
use crate::item::{Item, get_json, get_s, key, parse_instant, s, sealed_from_item, to_json};
use crate::keys::*;
use crate::meter::{item_size, write_units};
use crate::vault::{VaultContext, open};
use crate::{ReminderDeliveries, ReminderIssuer, Reminders};

/// The most officers one reminder is pushed to (one transaction holds 100 items).
pub const MAX_REMINDER_DELIVERIES: usize = 99;

/// Where one officer's WeChat delivery of a reminder stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum ReminderDeliveryStatus {
    Queued,
    Sent {
        msgid: String,
        #[serde(default)]
        possible_duplicate: bool,
    },
    /// A passing failure; retried.
    Failed {
        reason: String,
    },
    /// WeChat refused it for good (final).
    Undeliverable {
        reason: String,
    },
    /// The officer unbound their WeChat before it was sent: console only (final).
    Unbound,
}

impl ReminderDeliveryStatus {
    /// Whether nothing more will be sent.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            Self::Sent { .. } | Self::Undeliverable { .. } | Self::Unbound
        )
    }
}

/// A reminder as stored: the reminder, its read state and its WeChat deliveries.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StoredReminder {
    pub reminder: Reminder,
    pub read_at: Option<DateTime<Utc>>,
    pub read_by: Option<OfficerId>,
    /// Per bound officer (Cognito `sub`); empty when nobody had bound WeChat: console only.
    pub deliveries: BTreeMap<String, ReminderDeliveryStatus>,
}

impl StoredReminder {
    /// `console_only` when no officer could be reached on WeChat, else `wechat`.
    pub fn channel(&self) -> &'static str {
        if self.deliveries.is_empty() {
            "console_only"
        } else {
            "wechat"
        }
    }
}

pub(crate) fn key_text(item: &Item) -> String {
    format!(
        "{}/{}",
        item.get(PK).and_then(|v| v.as_s().ok()).map_or("?", |v| v),
        item.get(SK).and_then(|v| v.as_s().ok()).map_or("?", |v| v)
    )
}

impl TryFrom<Item> for StoredReminder {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let reminder: Reminder = get_json(&item, "data")?;
        let read_at = item
            .contains_key("read_at")
            .then(|| parse_instant(&item, "read_at"))
            .transpose()?;
        let read_by = match item.get("read_by").and_then(|v| v.as_s().ok()) {
            Some(v) => {
                Some(OfficerId::parse(v).map_err(|e| StoreError::malformed(key_text(&item), e))?)
            }
            None => None,
        };
        let mut deliveries = BTreeMap::new();
        if let Some(AttributeValue::M(m)) = item.get("deliveries") {
            for (officer, v) in m {
                let status = v
                    .as_s()
                    .ok()
                    .and_then(|t| serde_json::from_str(t).ok())
                    .ok_or_else(|| StoreError::malformed(key_text(&item), "deliveries"))?;
                deliveries.insert(officer.clone(), status);
            }
        }
        Ok(Self {
            reminder,
            read_at,
            read_by,
            deliveries,
        })
    }
}

/// The result of issuing a reminder.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Issued {
    pub reminder: ReminderId,
    /// False when the same reminder was issued before: nothing was written.
    pub created: bool,
    /// The officers it goes to on WeChat (empty: console only, or issued before).
    pub deliveries: Vec<OfficerId>,
}

impl Issued {
    /// What to put on `notice.fifo` after the commit, as `(reminder, officer)`.
    pub fn messages(&self) -> Vec<(ReminderId, OfficerId)> {
        self.deliveries
            .iter()
            .map(|o| (self.reminder.clone(), o.clone()))
            .collect()
    }
}

/// A position in an officer's reminder list (the sort key of the last reminder shown).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderCursor(pub(crate) String);

impl ReminderCursor {
    /// Parses a cursor a client sent back: `<RFC 3339 instant>#<reminder id>`.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for anything else.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let (at, id) = s.split_once('#').ok_or(StoreError::Invalid("cursor"))?;
        let at = DateTime::parse_from_rfc3339(at).map_err(|_| StoreError::Invalid("cursor"))?;
        let id = ReminderId::parse(id).map_err(|_| StoreError::Invalid("cursor"))?;
        Ok(Self(sort_key(at.with_timezone(&Utc), &id)))
    }

    /// The cursor as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

pub(crate) fn sort_key(created_at: DateTime<Utc>, id: &ReminderId) -> String {
    format!("{}#{id}", instant(created_at))
}

/// One page of an officer's reminders, newest first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderPage {
    pub items: Vec<StoredReminder>,
    pub next: Option<ReminderCursor>,
}

/// One send attempt of a reminder to one officer: the same record as a notice's.
pub type ReminderAttempt = crate::attempt::Attempt;

/// Everything one reminder delivery needs, read at once.
#[derive(Clone)]
pub struct ReminderDelivery {
    pub reminder: Reminder,
    pub officer: OfficerId,
    pub status: ReminderDeliveryStatus,
    pub attempt: Option<ReminderAttempt>,
    /// The officer's openid, `None` when they unbound since (never log it).
    pub openid: Option<String>,
}

impl std::fmt::Debug for ReminderDelivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ReminderDelivery")
            .field("reminder", &self.reminder.id)
            .field("officer", &self.officer)
            .field("status", &self.status)
            .field("bound", &self.openid.is_some())
            .finish_non_exhaustive()
    }
}

/// A reminder delivery whose WeChat send is not final (the sweep's view).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderOutboxEntry {
    pub reminder: ReminderId,
    pub officer: OfficerId,
    pub created_at: DateTime<Utc>,
    /// Whether an attempt ever began (its message is then in the queue's retry cycle).
    pub attempted: bool,
}

pub(crate) fn is_conditional<E: ProvideErrorMetadata, R>(e: &SdkError<E, R>) -> bool {
    matches!(e, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

pub(crate) fn build_put(
    table: &str,
    item: Item,
    condition: Option<&str>,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .set_condition_expression(condition.map(str::to_owned))
        .build()
        .map_err(|e| StoreError::sdk("build put", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

/// How a transaction ended: committed, or cancelled with each item's reason code.
pub(crate) enum Tx {
    Done,
    Cancelled(Vec<Option<String>>),
}

fn reminder_item(r: &Reminder, deliveries: &[OfficerId]) -> Result<Item, StoreError> {
    let sk = sort_key(r.created_at, &r.id);
    let queued = s(to_json(&ReminderDeliveryStatus::Queued)?);
    let mut item = key(pk_reminder(&r.id), SK_REMINDER);
    item.extend([
        ("type".to_owned(), s("reminder")),
        ("data".to_owned(), s(to_json(r)?)),
        (
            "deliveries".to_owned(),
            AttributeValue::M(
                deliveries
                    .iter()
                    .map(|o| (o.as_str().to_owned(), queued.clone()))
                    .collect(),
            ),
        ),
        (GSI1PK.to_owned(), s(gsi_reminders(&r.recipient))),
        (GSI1SK.to_owned(), s(sk.clone())),
        (GSI2PK.to_owned(), s(gsi_unread(&r.recipient))),
        (GSI2SK.to_owned(), s(sk)),
    ]);
    Ok(item)
}

fn delivery_item(r: &Reminder, officer: &OfficerId) -> Result<Item, StoreError> {
    let mut item = key(pk_reminder(&r.id), sk_reminder_to(officer));
    item.extend([
        ("type".to_owned(), s("reminder_delivery")),
        ("reminder_id".to_owned(), s(r.id.as_str())),
        ("officer".to_owned(), s(officer.as_str())),
        ("created_at".to_owned(), s(instant(r.created_at))),
        (
            "status".to_owned(),
            s(to_json(&ReminderDeliveryStatus::Queued)?),
        ),
        (GSI3PK.to_owned(), s(REMINDER_OUTBOX)),
        (
            GSI3SK.to_owned(),
            s(format!("{}#{}#{officer}", instant(r.created_at), r.id)),
        ),
    ]);
    Ok(item)
}

impl DynamoClueStore {
    pub(crate) async fn transact_items(
        &self,
        op: &'static str,
        items: Vec<TransactWriteItem>,
    ) -> Result<Tx, StoreError> {
        let n_items = items.len() as u64;
        let units: f64 = items
            .iter()
            .map(|t| {
                let size = t
                    .put()
                    .map(|p| item_size(p.item()))
                    .or_else(|| t.update().map(|u| item_size(u.key()) + 64))
                    .unwrap_or(1);
                2.0 * write_units(size)
            })
            .sum();
        let result = self
            .db
            .transact_write_items()
            .set_transact_items(Some(items))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(_) => {
                self.meter().record(op, n_items, None, units);
                Ok(Tx::Done)
            }
            Err(SdkError::ServiceError(se))
                if matches!(
                    se.err(),
                    TransactWriteItemsError::TransactionCanceledException(_)
                ) =>
            {
                self.meter().record(op, 0, None, 0.0);
                let codes = match se.err() {
                    TransactWriteItemsError::TransactionCanceledException(c) => c
                        .cancellation_reasons()
                        .iter()
                        .map(|r| r.code().map(str::to_owned))
                        .collect(),
                    _ => Vec::new(),
                };
                Ok(Tx::Cancelled(codes))
            }
            Err(e) => Err(StoreError::sdk("TransactWriteItems", e)),
        }
    }

    // ------------------------------------------------------------------------ reminders

    /// The officers a reminder for `recipient` reaches on WeChat: those with a binding.
    async fn bound_officers(
        &self,
        recipient: &ReminderRecipient,
    ) -> Result<Vec<OfficerId>, StoreError> {
        match recipient {
            ReminderRecipient::Officer { officer, .. } => Ok(self
                .get("wxbind", pk_officer(officer), SK_WXBIND)
                .await?
                .map(|_| vec![officer.clone()])
                .unwrap_or_default()),
            ReminderRecipient::Bureau { bureau } => {
                let q = Query::index("wxbind", GSI1, gsi_bound_officers(bureau), None);
                self.query_all(&q)
                    .await?
                    .iter()
                    .map(|i| {
                        OfficerId::parse(get_s(i, GSI1SK)?)
                            .map_err(|e| StoreError::malformed(key_text(i), e))
                    })
                    .collect()
            }
        }
    }

    async fn binding_openid(&self, officer: &OfficerId, item: &Item) -> Result<String, StoreError> {
        let sealed = sealed_from_item(item)?;
        let data_key = self
            .open_key(&sealed.encrypted_key, &VaultContext::officer(officer))
            .await?;
        Ok(open(&data_key, &binding_aad(officer), &sealed)?.openid)
    }
}

/// The two recipients whose reminders an officer sees.
pub(crate) fn recipients_of(officer: &Officer) -> [ReminderRecipient; 2] {
    [
        ReminderRecipient::Officer {
            officer: officer.id.clone(),
            bureau: officer.bureau.clone(),
        },
        ReminderRecipient::Bureau {
            bureau: officer.bureau.clone(),
        },
    ]
}

impl Reminders for DynamoClueStore {
    async fn reminder(&self, id: &ReminderId) -> Result<Option<StoredReminder>, StoreError> {
        self.get("reminder", pk_reminder(id), SK_REMINDER)
            .await?
            .map(StoredReminder::try_from)
            .transpose()
    }

    async fn reminders_for(
        &self,
        officer: &Officer,
        limit: i32,
        cursor: Option<&ReminderCursor>,
    ) -> Result<ReminderPage, StoreError> {
        let limit = limit.clamp(1, 100);
        let mut found: Vec<(String, Item)> = Vec::new();
        let mut more = false;
        for recipient in recipients_of(officer) {
            let mut q = Query::index(
                "reminders",
                GSI1,
                gsi_reminders(&recipient),
                cursor.map(|c| SkCond::Below(c.0.clone())),
            );
            q.forward = false;
            let (items, next) = self.query_page(&q, Some(limit), None).await?;
            more |= next.is_some();
            for i in items {
                found.push((get_s(&i, GSI1SK)?.to_owned(), i));
            }
        }
        found.sort_by(|a, b| b.0.cmp(&a.0));
        let limit = usize::try_from(limit).unwrap_or(100);
        more |= found.len() > limit;
        found.truncate(limit);
        let next = match found.last() {
            Some((sk, _)) if more => Some(ReminderCursor(sk.clone())),
            _ => None,
        };
        Ok(ReminderPage {
            items: found
                .into_iter()
                .map(|(_, i)| StoredReminder::try_from(i))
                .collect::<Result<_, _>>()?,
            next,
        })
    }

    async fn unread_reminders(&self, officer: &Officer) -> Result<u64, StoreError> {
        let mut total = 0u64;
        for recipient in recipients_of(officer) {
            total += self.count_gsi2("unread", gsi_unread(&recipient)).await?;
        }
        Ok(total)
    }

    async fn mark_reminder_read(
        &self,
        officer: &Officer,
        id: &ReminderId,
        now: DateTime<Utc>,
    ) -> Result<StoredReminder, StoreError> {
        let not_found = || StoreError::NotFound(format!("reminder {id}"));
        let stored = self.reminder(id).await?.ok_or_else(not_found)?;
        if !stored.reminder.recipient.includes(officer) {
            return Err(not_found());
        }
        if stored.read_at.is_some() {
            return Ok(stored);
        }
        let result = self
            .db
            .update_item()
            .table_name(self.table())
            .key(PK, s(pk_reminder(id)))
            .key(SK, s(SK_REMINDER))
            .update_expression("SET read_at = :t, read_by = :o REMOVE gsi2pk, gsi2sk")
            .condition_expression("attribute_exists(pk) AND attribute_not_exists(read_at)")
            .expression_attribute_values(":t", s(instant(now)))
            .expression_attribute_values(":o", s(officer.id.as_str()))
            .return_values(ReturnValue::AllNew)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.meter().record("reminder_read", 1, None, 1.0);
                StoredReminder::try_from(out.attributes.unwrap_or_default())
            }
            Err(e) if is_conditional(&e) => self.reminder(id).await?.ok_or_else(not_found),
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }

    async fn undelivered_reminders(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<ReminderOutboxEntry>, StoreError> {
        let q = Query::index(
            "reminder_outbox",
            GSI3,
            REMINDER_OUTBOX.to_owned(),
            Some(SkCond::Below(instant(before))),
        );
        self.query_all(&q)
            .await?
            .iter()
            .map(|i| {
                let bad = |e: domain::IdError| StoreError::malformed(key_text(i), e);
                Ok(ReminderOutboxEntry {
                    reminder: ReminderId::parse(get_s(i, "reminder_id")?).map_err(bad)?,
                    officer: OfficerId::parse(get_s(i, "officer")?).map_err(bad)?,
                    created_at: parse_instant(i, "created_at")?,
                    attempted: i.contains_key("attempt_id"),
                })
            })
            .collect()
    }
}

impl ReminderIssuer for DynamoClueStore {
    async fn issue_reminder(&self, reminder: &Reminder) -> Result<Issued, StoreError> {
        let officers = self.bound_officers(&reminder.recipient).await?;
        if officers.len() > MAX_REMINDER_DELIVERIES {
            return Err(StoreError::TooLarge {
                items: officers.len() + 1,
            });
        }
        let table = self.table().to_owned();
        let mut items = vec![build_put(
            &table,
            reminder_item(reminder, &officers)?,
            Some("attribute_not_exists(pk)"),
        )?];
        for o in &officers {
            items.push(build_put(
                &table,
                delivery_item(reminder, o)?,
                Some("attribute_not_exists(pk)"),
            )?);
        }
        match self.transact_items("reminder", items).await? {
            Tx::Done => Ok(Issued {
                reminder: reminder.id.clone(),
                created: true,
                deliveries: officers,
            }),
            Tx::Cancelled(codes)
                if codes.first().and_then(Option::as_deref) == Some("ConditionalCheckFailed") =>
            {
                Ok(Issued {
                    reminder: reminder.id.clone(),
                    created: false,
                    deliveries: Vec::new(),
                })
            }
            Tx::Cancelled(_) => Err(StoreError::Conflict),
        }
    }
}

impl ReminderDeliveries for DynamoClueStore {
    async fn reminder_delivery(
        &self,
        id: &ReminderId,
        officer: &OfficerId,
    ) -> Result<ReminderDelivery, StoreError> {
        let items = self
            .batch_get(
                "reminder_delivery",
                vec![
                    key(pk_reminder(id), SK_REMINDER),
                    key(pk_reminder(id), sk_reminder_to(officer)),
                    key(pk_officer(officer), SK_WXBIND),
                ],
            )
            .await?;
        let (mut reminder, mut delivery, mut binding) = (None, None, None);
        for item in items {
            match get_s(&item, SK)? {
                SK_REMINDER => reminder = Some(get_json::<Reminder>(&item, "data")?),
                SK_WXBIND => binding = Some(item),
                _ => delivery = Some(item),
            }
        }
        let reminder = reminder.ok_or_else(|| StoreError::NotFound(format!("reminder {id}")))?;
        let delivery =
            delivery.ok_or_else(|| StoreError::NotFound(format!("delivery of reminder {id}")))?;
        let openid = match binding {
            Some(item) => Some(self.binding_openid(officer, &item).await?),
            None => None,
        };
        Ok(ReminderDelivery {
            reminder,
            officer: officer.clone(),
            status: get_json(&delivery, "status")?,
            attempt: delivery
                .contains_key("attempt")
                .then(|| get_json(&delivery, "attempt"))
                .transpose()?,
            openid,
        })
    }

    async fn begin_reminder_attempt(
        &self,
        delivery: &ReminderDelivery,
        attempt: &ReminderAttempt,
    ) -> Result<(), StoreError> {
        let mut req = self
            .db
            .update_item()
            .table_name(self.table())
            .key(PK, s(pk_reminder(&delivery.reminder.id)))
            .key(SK, s(sk_reminder_to(&delivery.officer)))
            .update_expression("SET attempt_id = :a, attempt = :d")
            .expression_attribute_values(":a", s(attempt.attempt_id.clone()))
            .expression_attribute_values(":d", s(to_json(attempt)?));
        req = match &delivery.attempt {
            None => req
                .condition_expression("attribute_exists(pk) AND attribute_not_exists(attempt_id)"),
            Some(p) => req
                .condition_expression("attempt_id = :prev")
                .expression_attribute_values(":prev", s(p.attempt_id.clone())),
        };
        match req.send().await {
            Ok(_) => {
                self.meter().record("reminder_attempt", 1, None, 1.0);
                Ok(())
            }
            Err(e) if is_conditional(&e) => Err(StoreError::Conflict),
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }

    async fn finish_reminder_attempt(
        &self,
        delivery: &ReminderDelivery,
        attempt: &ReminderAttempt,
        status: &ReminderDeliveryStatus,
    ) -> Result<(), StoreError> {
        let status_json = s(to_json(status)?);
        let remove = if status.is_final() {
            " REMOVE gsi3pk, gsi3sk"
        } else {
            ""
        };
        let on_delivery = Update::builder()
            .table_name(self.table())
            .key(PK, s(pk_reminder(&delivery.reminder.id)))
            .key(SK, s(sk_reminder_to(&delivery.officer)))
            .update_expression(format!("SET attempt = :d, #st = :s{remove}"))
            .condition_expression("attempt_id = :a")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":d", s(to_json(attempt)?))
            .expression_attribute_values(":s", status_json.clone())
            .expression_attribute_values(":a", s(attempt.attempt_id.clone()))
            .build()
            .map_err(|e| StoreError::sdk("build update", e))?;
        let on_reminder = Update::builder()
            .table_name(self.table())
            .key(PK, s(pk_reminder(&delivery.reminder.id)))
            .key(SK, s(SK_REMINDER))
            .update_expression("SET deliveries.#o = :s")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_names("#o", delivery.officer.as_str())
            .expression_attribute_values(":s", status_json)
            .build()
            .map_err(|e| StoreError::sdk("build update", e))?;
        let items = vec![
            TransactWriteItem::builder().update(on_delivery).build(),
            TransactWriteItem::builder().update(on_reminder).build(),
        ];
        match self.transact_items("reminder_delivery", items).await? {
            Tx::Done => Ok(()),
            Tx::Cancelled(_) => Err(StoreError::Conflict),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cursors_are_an_instant_and_a_reminder_id() {
        let c = ReminderCursor::parse("2026-03-18T02:00:00.000Z#rabc").expect("cursor");
        assert_eq!(c.as_str(), "2026-03-18T02:00:00.000Z#rabc");
        for bad in [
            "",
            "x#r1",
            "2026-03-18T02:00:00Z",
            "2026-03-18T02:00:00Z#a/b",
        ] {
            assert!(ReminderCursor::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn final_statuses_end_the_delivery() {
        assert!(!ReminderDeliveryStatus::Queued.is_final());
        assert!(
            !ReminderDeliveryStatus::Failed {
                reason: "busy".into()
            }
            .is_final()
        );
        assert!(ReminderDeliveryStatus::Unbound.is_final());
        let json = to_json(&ReminderDeliveryStatus::Undeliverable {
            reason: "wechat 43004: x".into(),
        })
        .expect("json");
        assert_eq!(
            json,
            r#"{"status":"undeliverable","reason":"wechat 43004: x"}"#
        );
    }
}
