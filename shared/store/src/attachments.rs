//! Evidence attachment records: who uploaded what, and what processing found.
//!
//! | item | `pk` | `sk` | TTL |
//! |---|---|---|---|
//! | attachment (JSON `data`, `status`) | `ATT#<id>` | `ATT` | 7 days while pending or rejected; none once ready |
//!
//! An attachment starts `pending` when an upload is authorised (or a WeChat photo is queued for
//! download), and is settled exactly once (condition `status = pending`) to `ready` with the
//! SHA-256, the content type found by its magic bytes and its size, or to `rejected` with the
//! reason. Objects: uploads land at [`incoming_key`]; a ready object is copied byte for byte to
//! [`evidence_key`] (the only place officers' short-lived links point to).

use chrono::{DateTime, Duration, Utc};
use domain::event::Evidence;
use domain::{AttachmentId, ReporterKey};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::item::{get_json, key, n, s, to_json};
use crate::keys::{EXPIRES_AT, PK, SK};
use crate::reporting::ReportingStore;

/// How long an unsettled or rejected attachment record is kept.
pub const PENDING_TTL: Duration = Duration::days(7);

/// Where an attachment stands.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum AttachmentStatus {
    Pending,
    Ready {
        sha256: String,
        content_type: String,
        size: u64,
    },
    Rejected {
        /// A stable code: `type_not_allowed`, `too_large`, `empty`, `type_mismatch`,
        /// `download_failed`.
        reason: String,
    },
}

impl AttachmentStatus {
    /// `pending`, `ready` or `rejected`.
    pub fn code(&self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Ready { .. } => "ready",
            Self::Rejected { .. } => "rejected",
        }
    }
}

/// Where the bytes come from.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum AttachmentSource {
    /// A presigned POST from the H5 form.
    Upload,
    /// A photo sent in the guided chat, downloaded with `media/get`.
    Wechat { media_id: String },
}

/// One evidence object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Attachment {
    pub id: AttachmentId,
    /// The reporter who may attach it.
    pub owner: ReporterKey,
    /// What the uploader declared (the upload policy enforces it on AWS; processing checks it).
    pub declared_type: String,
    pub declared_size: u64,
    pub source: AttachmentSource,
    pub status: AttachmentStatus,
    pub created_at: DateTime<Utc>,
}

impl Attachment {
    /// The evidence a clue records, once ready.
    pub fn evidence(&self) -> Option<Evidence> {
        match &self.status {
            AttachmentStatus::Ready {
                sha256,
                content_type,
                size,
            } => Some(Evidence {
                attachment: self.id.clone(),
                sha256: sha256.clone(),
                content_type: content_type.clone(),
                size: *size,
            }),
            _ => None,
        }
    }
}

/// Where an upload lands: the reporter's upload area (`incoming/<reporter key>/<id>`).
pub fn incoming_key(owner: &ReporterKey, id: &AttachmentId) -> String {
    format!("incoming/{}/{}", owner.as_str(), id)
}

/// Where accepted evidence is kept, byte for byte.
pub fn evidence_key(id: &AttachmentId) -> String {
    format!("evidence/{id}")
}

/// The owner and id an incoming object key names, if it is one.
pub fn parse_incoming_key(object_key: &str) -> Option<(ReporterKey, AttachmentId)> {
    let rest = object_key.strip_prefix("incoming/")?;
    let (owner, id) = rest.split_once('/')?;
    Some((
        ReporterKey::parse(owner).ok()?,
        AttachmentId::parse(id).ok()?,
    ))
}

fn pk_attachment(id: &AttachmentId) -> String {
    format!("ATT#{id}")
}

fn to_item(a: &Attachment) -> Result<crate::item::Item, StoreError> {
    let mut item = key(pk_attachment(&a.id), "ATT");
    item.extend([
        ("type".to_owned(), s("attachment")),
        ("status".to_owned(), s(a.status.code())),
        ("data".to_owned(), s(to_json(a)?)),
    ]);
    if !matches!(a.status, AttachmentStatus::Ready { .. }) {
        item.insert(
            EXPIRES_AT.to_owned(),
            n((a.created_at + PENDING_TTL).timestamp()),
        );
    }
    Ok(item)
}

impl ReportingStore {
    /// Records a new pending attachment. Returns `false` if the id is already taken (e.g. the
    /// same WeChat photo queued twice).
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn create_attachment(&self, a: &Attachment) -> Result<bool, StoreError> {
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(a)?))
            .condition_expression("attribute_not_exists(pk)")
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(se))
                if se.err().is_conditional_check_failed_exception() =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }

    /// An attachment by id.
    ///
    /// # Errors
    /// DynamoDB failures, a malformed record.
    pub async fn attachment(&self, id: &AttachmentId) -> Result<Option<Attachment>, StoreError> {
        match self.get_item(pk_attachment(id), "ATT").await? {
            None => Ok(None),
            Some(item) => get_json(&item, "data").map(Some),
        }
    }

    /// Settles a pending attachment (once).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when it is not pending (already settled); DynamoDB failures.
    pub async fn settle_attachment(
        &self,
        a: &Attachment,
        status: AttachmentStatus,
    ) -> Result<Attachment, StoreError> {
        let mut settled = a.clone();
        settled.status = status;
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(to_item(&settled)?))
            .condition_expression("#st = :pending")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":pending", s("pending"))
            .send()
            .await;
        match res {
            Ok(_) => Ok(settled),
            Err(aws_sdk_dynamodb::error::SdkError::ServiceError(se))
                if se.err().is_conditional_check_failed_exception() =>
            {
                Err(StoreError::Conflict)
            }
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }

    /// Deletes a record (test clean-up and administrative removal only).
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn delete_attachment(&self, id: &AttachmentId) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(pk_attachment(id)))
            .key(SK, s("ATT"))
            .send()
            .await
            .map_err(|e| StoreError::sdk("DeleteItem", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn incoming_keys_round_trip_and_nothing_else_parses() {
        let owner = ReporterKey::parse(&"a".repeat(64)).expect("key");
        let id = AttachmentId::parse("att-1").expect("id");
        let k = incoming_key(&owner, &id);
        assert_eq!(parse_incoming_key(&k), Some((owner, id)));
        assert_eq!(parse_incoming_key("evidence/att-1"), None);
        assert_eq!(parse_incoming_key("incoming/e2e-photo.jpg"), None);
        assert_eq!(parse_incoming_key("incoming/xyz/att-1"), None);
    }
}
