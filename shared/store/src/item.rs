//! Item <-> domain mapping: every attribute name and how each domain value is laid out in an
//! item. Domain values are kept whole as JSON in `data` (or `event`); the few attributes that keys
//! and indexes need are copied out next to it.

use std::collections::HashMap;

use aws_sdk_dynamodb::primitives::Blob;
use aws_sdk_dynamodb::types::AttributeValue;
use chrono::{DateTime, Utc};
use domain::deadline::{Deadline, DeadlineKind};
use domain::event::{DeliveryStatus, Party};
use domain::timeline::{Head, TimelineEntry};
use domain::{Bureau, BureauId, Clue, ClueId, ClueNo, NoticeId, Officer};
use serde::Serialize;
use serde::de::DeserializeOwned;

use crate::error::StoreError;
use crate::keys::*;
use crate::vault::{MaskedIdentity, Sealed};

/// A raw item.
pub type Item = HashMap<String, AttributeValue>;

pub(crate) fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

pub(crate) fn n(v: impl std::fmt::Display) -> AttributeValue {
    AttributeValue::N(v.to_string())
}

pub(crate) fn b(v: &[u8]) -> AttributeValue {
    AttributeValue::B(Blob::new(v))
}

fn key_of(item: &Item) -> String {
    let pk = item.get(PK).and_then(|v| v.as_s().ok()).map_or("?", |s| s);
    let sk = item.get(SK).and_then(|v| v.as_s().ok()).map_or("?", |s| s);
    format!("{pk}/{sk}")
}

pub(crate) fn get_s<'a>(item: &'a Item, name: &str) -> Result<&'a str, StoreError> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
        .ok_or_else(|| StoreError::malformed(key_of(item), format!("no string {name}")))
}

pub(crate) fn get_n<T: std::str::FromStr>(item: &Item, name: &str) -> Result<T, StoreError> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
        .ok_or_else(|| StoreError::malformed(key_of(item), format!("no number {name}")))
}

pub(crate) fn get_b<'a>(item: &'a Item, name: &str) -> Result<&'a [u8], StoreError> {
    item.get(name)
        .and_then(|v| v.as_b().ok())
        .map(Blob::as_ref)
        .ok_or_else(|| StoreError::malformed(key_of(item), format!("no binary {name}")))
}

pub(crate) fn get_json<T: DeserializeOwned>(item: &Item, name: &str) -> Result<T, StoreError> {
    serde_json::from_str(get_s(item, name)?)
        .map_err(|e| StoreError::malformed(key_of(item), format!("{name}: {e}")))
}

pub(crate) fn to_json<T: Serialize>(v: &T) -> Result<String, StoreError> {
    serde_json::to_string(v).map_err(|e| StoreError::malformed("(new item)", e))
}

pub(crate) fn key(pk: impl Into<String>, sk: impl Into<String>) -> Item {
    HashMap::from([(PK.to_owned(), s(pk)), (SK.to_owned(), s(sk))])
}

// ------------------------------------------------------------------------------------ clue

/// A clue as stored: its state and the head of its timeline (seq and hash of the newest entry),
/// kept on the same item so that removing the newest timeline entries is detected.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredClue {
    pub clue: Clue,
    pub head: Head,
}

/// The inbox sort key: open clues by their next deadline (pending ones after dated ones), closed
/// and merged clues by their last change.
pub(crate) fn inbox_sort(clue: &Clue) -> String {
    let tail = format!("#{}", clue.id);
    if clue.state.is_open() {
        match clue.next_due() {
            Some(due) => format!("{}{tail}", instant(due)),
            None => format!("~{}{tail}", instant(clue.received_at)),
        }
    } else {
        format!("{}{tail}", instant(clue.updated_at))
    }
}

impl StoredClue {
    /// The clue item: state as JSON, version, head, and the keys of GSI1 (reporter), GSI2
    /// (inbox) and GSI3 (clue number).
    pub(crate) fn to_item(&self) -> Result<Item, StoreError> {
        let c = &self.clue;
        let mut item = key(pk_clue(&c.id), SK_CLUE);
        item.extend([
            ("type".to_owned(), s("clue")),
            ("version".to_owned(), n(c.version)),
            ("head_seq".to_owned(), n(self.head.seq)),
            ("head_hash".to_owned(), s(self.head.hash.clone())),
            ("clue_id".to_owned(), s(c.id.as_str())),
            ("clue_no".to_owned(), s(c.clue_no.as_str())),
            ("state".to_owned(), s(c.state.code())),
            ("handler".to_owned(), s(c.handler.as_str())),
            ("division".to_owned(), s(c.location.division.as_str())),
            ("data".to_owned(), s(to_json(c)?)),
            (GSI1PK.to_owned(), s(gsi_reporter(&c.reporter))),
            (
                GSI1SK.to_owned(),
                s(format!("{}#{}", instant(c.received_at), c.id)),
            ),
            (GSI2PK.to_owned(), s(gsi_inbox(&c.handler, c.state.code()))),
            (GSI2SK.to_owned(), s(inbox_sort(c))),
            (GSI3PK.to_owned(), s(gsi_clue_no(&c.clue_no))),
            (GSI3SK.to_owned(), s(SK_CLUE)),
        ]);
        if let Some(due) = c.next_due() {
            item.insert("next_due".to_owned(), s(instant(due)));
        }
        Ok(item)
    }
}

impl TryFrom<Item> for StoredClue {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let clue: Clue = get_json(&item, "data")?;
        let version: u64 = get_n(&item, "version")?;
        if version != clue.version {
            return Err(StoreError::malformed(
                key_of(&item),
                "version disagrees with data",
            ));
        }
        Ok(Self {
            clue,
            head: Head {
                seq: get_n(&item, "head_seq")?,
                hash: get_s(&item, "head_hash")?.to_owned(),
            },
        })
    }
}

// -------------------------------------------------------------------------------- timeline

pub(crate) fn entry_to_item(entry: &TimelineEntry) -> Result<Item, StoreError> {
    let mut item = key(pk_clue(&entry.event.clue), sk_event(entry.seq));
    item.extend([
        ("type".to_owned(), s("event")),
        ("seq".to_owned(), n(entry.seq)),
        ("prev_hash".to_owned(), s(entry.prev_hash.clone())),
        ("hash".to_owned(), s(entry.hash.clone())),
        ("kind".to_owned(), s(entry.event.kind.code())),
        ("at".to_owned(), s(instant(entry.event.at))),
        ("event".to_owned(), s(to_json(&entry.event)?)),
    ]);
    Ok(item)
}

pub(crate) fn entry_from_item(item: &Item) -> Result<TimelineEntry, StoreError> {
    Ok(TimelineEntry {
        seq: get_n(item, "seq")?,
        prev_hash: get_s(item, "prev_hash")?.to_owned(),
        hash: get_s(item, "hash")?.to_owned(),
        event: get_json(item, "event")?,
    })
}

// -------------------------------------------------------------------------------- messages

/// A message about a clue (also on the timeline, copied here so the conversation is one Query).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub clue: ClueId,
    pub seq: u64,
    pub at: DateTime<Utc>,
    pub from: Party,
    pub text: String,
}

pub(crate) fn message_item(
    entry: &TimelineEntry,
    from: &Party,
    text: &str,
) -> Result<Item, StoreError> {
    let mut item = key(pk_clue(&entry.event.clue), sk_message(entry.seq));
    item.extend([
        ("type".to_owned(), s("message")),
        ("seq".to_owned(), n(entry.seq)),
        ("at".to_owned(), s(instant(entry.event.at))),
        ("from".to_owned(), s(to_json(from)?)),
        ("text".to_owned(), s(text)),
    ]);
    Ok(item)
}

impl TryFrom<Item> for Message {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let clue = get_s(&item, PK)?
            .strip_prefix("CLUE#")
            .and_then(|id| ClueId::parse(id).ok())
            .ok_or_else(|| StoreError::malformed(key_of(&item), "pk"))?;
        Ok(Self {
            clue,
            seq: get_n(&item, "seq")?,
            at: parse_instant(&item, "at")?,
            from: get_json(&item, "from")?,
            text: get_s(&item, "text")?.to_owned(),
        })
    }
}

pub(crate) fn parse_instant(item: &Item, name: &str) -> Result<DateTime<Utc>, StoreError> {
    DateTime::parse_from_rfc3339(get_s(item, name)?)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| StoreError::malformed(key_of(item), format!("{name}: {e}")))
}

// ------------------------------------------------------------------------------- deadlines

/// An open deadline as the sweep finds it in a sparse index (`DUE`, `REMIND`, `PENDING`, `MISSED`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadlineEntry {
    pub clue: ClueId,
    pub clue_no: ClueNo,
    pub deadline: Deadline,
}

impl DeadlineEntry {
    pub fn kind(&self) -> DeadlineKind {
        self.deadline.kind
    }

    /// The bureau that owes it.
    pub fn bureau(&self) -> &BureauId {
        &self.deadline.bureau
    }
}

/// The index item of an open deadline (`None` for a closed one: only open deadlines are indexed,
/// so the sweep never reads anything else). A dated one is in `DUE` (by due instant) and
/// `REMIND` (by reminder instant); once its miss is recorded it moves to `MISSED` (the sweep has
/// nothing more to do with it until it is met); a pending one (no due instant yet) is in
/// `PENDING` by start, for the sweep to resolve once the calendar covers its year.
pub(crate) fn deadline_item(clue: &Clue, d: &Deadline) -> Result<Option<Item>, StoreError> {
    if !d.is_open() {
        return Ok(None);
    }
    let tail = format!("#{}#{}", clue.id, d.kind.code());
    let mut item = key(pk_clue(&clue.id), sk_deadline(d.kind, d.starts_at));
    item.extend([
        ("type".to_owned(), s("deadline")),
        ("clue_id".to_owned(), s(clue.id.as_str())),
        ("clue_no".to_owned(), s(clue.clue_no.as_str())),
        ("kind".to_owned(), s(d.kind.code())),
        ("bureau".to_owned(), s(d.bureau.as_str())),
        ("data".to_owned(), s(to_json(d)?)),
    ]);
    let Some(due) = d.due else {
        item.extend([
            (GSI1PK.to_owned(), s(PENDING)),
            (
                GSI1SK.to_owned(),
                s(format!("{}{tail}", instant(d.starts_at))),
            ),
        ]);
        return Ok(Some(item));
    };
    item.insert("due".to_owned(), s(instant(due)));
    if d.missed_at.is_some() {
        item.extend([
            (GSI1PK.to_owned(), s(MISSED)),
            (GSI1SK.to_owned(), s(format!("{}{tail}", instant(due)))),
        ]);
        return Ok(Some(item));
    }
    let remind = d.remind_at.unwrap_or(due);
    item.extend([
        (GSI1PK.to_owned(), s(DUE)),
        (GSI1SK.to_owned(), s(format!("{}{tail}", instant(due)))),
        (GSI2PK.to_owned(), s(REMIND)),
        (GSI2SK.to_owned(), s(format!("{}{tail}", instant(remind)))),
    ]);
    Ok(Some(item))
}

impl TryFrom<Item> for DeadlineEntry {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let clue = ClueId::parse(get_s(&item, "clue_id")?)
            .map_err(|e| StoreError::malformed(key_of(&item), e))?;
        let clue_no = ClueNo::parse(get_s(&item, "clue_no")?)
            .map_err(|e| StoreError::malformed(key_of(&item), e))?;
        Ok(Self {
            clue,
            clue_no,
            deadline: get_json(&item, "data")?,
        })
    }
}

// ---------------------------------------------------------------------------------- outbox

/// A notice owed to a reporter, as the outbox holds it until its delivery is final.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboxEntry {
    pub clue: ClueId,
    pub notice: NoticeId,
    pub owed_at: DateTime<Utc>,
    pub delivery: DeliveryStatus,
    /// The rendered notice text.
    pub text: String,
}

pub(crate) fn delivery_is_final(d: &DeliveryStatus) -> bool {
    matches!(
        d,
        DeliveryStatus::Sent { .. } | DeliveryStatus::Undeliverable { .. }
    )
}

pub(crate) fn outbox_item(
    clue: &ClueId,
    notice: &domain::clue::OwedNotice,
) -> Result<Item, StoreError> {
    let id = notice.record.id.as_str();
    let mut item = key(pk_clue(clue), sk_notice(id));
    item.extend([
        ("type".to_owned(), s("notice")),
        ("clue_id".to_owned(), s(clue.as_str())),
        ("notice_id".to_owned(), s(id)),
        ("owed_at".to_owned(), s(instant(notice.owed_at))),
        ("delivery".to_owned(), s(to_json(&notice.delivery)?)),
        ("text".to_owned(), s(notice.record.text.clone())),
    ]);
    if !delivery_is_final(&notice.delivery) {
        item.insert(GSI3PK.to_owned(), s(OUTBOX));
        item.insert(
            GSI3SK.to_owned(),
            s(format!("{}#{}", instant(notice.owed_at), id)),
        );
    }
    Ok(item)
}

impl TryFrom<Item> for OutboxEntry {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let bad = |e: domain::IdError| StoreError::malformed(key_of(&item), e);
        Ok(Self {
            clue: ClueId::parse(get_s(&item, "clue_id")?).map_err(bad)?,
            notice: NoticeId::parse(get_s(&item, "notice_id")?).map_err(bad)?,
            owed_at: parse_instant(&item, "owed_at")?,
            delivery: get_json(&item, "delivery")?,
            text: get_s(&item, "text")?.to_owned(),
        })
    }
}

// ------------------------------------------------------------------------------- directory

pub(crate) fn officer_item(officer: &Officer) -> Result<Item, StoreError> {
    let mut item = key(pk_officer(&officer.id), SK_OFFICER);
    item.extend([
        ("type".to_owned(), s("officer")),
        ("data".to_owned(), s(to_json(officer)?)),
        (GSI1PK.to_owned(), s(gsi_bureau_officers(&officer.bureau))),
        (GSI1SK.to_owned(), s(format!("OFFICER#{}", officer.id))),
    ]);
    Ok(item)
}

pub(crate) fn bureau_item(bureau: &Bureau) -> Result<Item, StoreError> {
    let mut item = key(pk_bureau(&bureau.id), SK_BUREAU);
    item.extend([
        ("type".to_owned(), s("bureau")),
        ("data".to_owned(), s(to_json(bureau)?)),
        (
            "city_direct".to_owned(),
            AttributeValue::Bool(bureau.city_direct),
        ),
        (GSI1PK.to_owned(), s(BUREAUS)),
        (GSI1SK.to_owned(), s(bureau.id.as_str())),
    ]);
    Ok(item)
}

// ----------------------------------------------------------------------------------- vault

pub(crate) fn vault_item(
    clue: &ClueId,
    sealed: &Sealed,
    masked: &MaskedIdentity,
) -> Result<Item, StoreError> {
    let mut item = key(pk_vault(clue), SK_VAULT);
    item.extend([
        ("type".to_owned(), s("vault")),
        ("alg".to_owned(), s("AES-256-GCM/KMS")),
        ("edk".to_owned(), b(&sealed.encrypted_key)),
        ("nonce".to_owned(), b(&sealed.nonce)),
        ("ct".to_owned(), b(&sealed.ciphertext)),
        ("masked".to_owned(), s(to_json(masked)?)),
    ]);
    Ok(item)
}

pub(crate) fn sealed_from_item(item: &Item) -> Result<Sealed, StoreError> {
    Ok(Sealed {
        encrypted_key: get_b(item, "edk")?.to_vec(),
        nonce: get_b(item, "nonce")?.to_vec(),
        ciphertext: get_b(item, "ct")?.to_vec(),
    })
}

/// Whether a stored state code is one of the domain's.
pub(crate) fn state_code_ok(code: &str) -> bool {
    ["received", "escalated", "accepted", "closed", "merged"].contains(&code)
}
