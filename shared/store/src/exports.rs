//! Asynchronous exports: a job item the officer API creates and the export worker advances
//! (queued → running with the rows written so far → ready with the file's key, or failed), and
//! the queue message that names the job.
//!
//! | item | `pk` | `sk` | attributes |
//! |---|---|---|---|
//! | export job | `EXPORT#<id>` | `META` | `bureau`, `requested_by`, `bulletin`, `format`, `status`, `rows`, `file_key`, `created_at`, `updated_at`, `expires_at` (TTL) |
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | create (idempotent: the id derives from the key) | PutItem `attribute_not_exists(pk)` | 1 |
//! | one job | GetItem | 1 |
//! | progress, ready, failed | UpdateItem, never after ready/failed | 1 |

use chrono::{DateTime, Duration, Utc};
use domain::bulletin::BulletinId;
use domain::{BureauId, OfficerId};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::ExportJobs;
use crate::dynamo::DynamoClueStore;
use crate::error::StoreError;
use crate::item::{Item, get_n, get_s, key, n, parse_instant, s};
use crate::keys::{EXPIRES_AT, instant};
use crate::sweep::is_conditional;

const SK_META: &str = "META";

/// How long a job (and its file, by the bucket's lifecycle rule) is kept.
pub const EXPORT_TTL: Duration = Duration::days(7);

/// The queue message of a job.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExportMessage {
    pub job: String,
}

/// Where a job is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ExportStatus {
    Queued,
    Running,
    Ready,
    Failed,
}

impl ExportStatus {
    /// How a job ends: ready with its file, or failed without one.
    pub fn ended(file_key: Option<&str>) -> Self {
        if file_key.is_some() {
            Self::Ready
        } else {
            Self::Failed
        }
    }

    pub fn code(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Ready => "ready",
            Self::Failed => "failed",
        }
    }

    fn parse(s: &str) -> Option<Self> {
        [Self::Queued, Self::Running, Self::Ready, Self::Failed]
            .into_iter()
            .find(|x| x.code() == s)
    }
}

/// An export of the clues of a bulletin's territory and period.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExportJob {
    pub id: String,
    /// The bureau whose officers may see the job and download its file.
    pub bureau: BureauId,
    pub requested_by: OfficerId,
    pub bulletin: BulletinId,
    /// `xlsx` or `csv`.
    pub format: String,
    pub status: ExportStatus,
    /// Rows written so far.
    pub rows: u64,
    /// The file's key in the export bucket, once ready.
    pub file_key: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl ExportJob {
    /// A queued job; its id derives from the bureau and the request's idempotency key.
    pub fn queued(
        bureau: BureauId,
        requested_by: OfficerId,
        bulletin: BulletinId,
        format: &str,
        idempotency_key: &str,
        now: DateTime<Utc>,
    ) -> Self {
        let mut h = Sha256::new();
        h.update(bureau.as_str().as_bytes());
        h.update([0]);
        h.update(idempotency_key.as_bytes());
        Self {
            id: format!("ex-{}", &hex::encode(h.finalize())[..24]),
            bureau,
            requested_by,
            bulletin,
            format: format.to_owned(),
            status: ExportStatus::Queued,
            rows: 0,
            file_key: None,
            created_at: now,
            updated_at: now,
        }
    }

    /// The file's key in the export bucket.
    pub fn object_key(&self) -> String {
        format!("exports/{}.{}", self.id, self.format)
    }
}

/// Whether `id` has the shape of a job id (`ex-` and 24 hex digits).
pub fn is_job_id(id: &str) -> bool {
    id.strip_prefix("ex-")
        .is_some_and(|h| h.len() == 24 && h.bytes().all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f')))
}

fn pk_export(id: &str) -> String {
    format!("EXPORT#{id}")
}

impl TryFrom<Item> for ExportJob {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        let bad = |e: String| StoreError::malformed("EXPORT", e);
        Ok(Self {
            id: get_s(&item, "pk")?
                .strip_prefix("EXPORT#")
                .ok_or_else(|| bad("pk".into()))?
                .to_owned(),
            bureau: BureauId::parse(get_s(&item, "bureau")?).map_err(|e| bad(e.to_string()))?,
            requested_by: OfficerId::parse(get_s(&item, "requested_by")?)
                .map_err(|e| bad(e.to_string()))?,
            bulletin: BulletinId::parse(get_s(&item, "bulletin")?)
                .map_err(|e| bad(e.to_string()))?,
            format: get_s(&item, "format")?.to_owned(),
            status: ExportStatus::parse(get_s(&item, "status")?)
                .ok_or_else(|| bad("status".into()))?,
            rows: get_n(&item, "rows")?,
            file_key: item.get("file_key").and_then(|v| v.as_s().ok()).cloned(),
            created_at: parse_instant(&item, "created_at")?,
            updated_at: parse_instant(&item, "updated_at")?,
        })
    }
}

impl DynamoClueStore {
    async fn update_export(
        &self,
        id: &str,
        status: ExportStatus,
        rows: u64,
        file_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut req = self
            .db
            .update_item()
            .table_name(self.table())
            .key("pk", s(pk_export(id)))
            .key("sk", s(SK_META))
            .condition_expression("attribute_exists(pk) AND #st IN (:q, :r)")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":q", s(ExportStatus::Queued.code()))
            .expression_attribute_values(":r", s(ExportStatus::Running.code()))
            .expression_attribute_values(":s", s(status.code()))
            .expression_attribute_values(":n", n(rows))
            .expression_attribute_values(":u", s(instant(now)));
        let mut set = "SET #st = :s, #rw = :n, updated_at = :u".to_owned();
        req = req.expression_attribute_names("#rw", "rows");
        if let Some(k) = file_key {
            req = req.expression_attribute_values(":k", s(k));
            set.push_str(", file_key = :k");
        }
        match req.update_expression(set).send().await {
            Ok(_) => {
                self.meter().record("export_update", 1, None, 1.0);
                Ok(())
            }
            Err(e) if is_conditional(&e) => Err(StoreError::Conflict),
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }
}

impl ExportJobs for DynamoClueStore {
    async fn create_export_job(&self, job: &ExportJob) -> Result<bool, StoreError> {
        let mut item = key(pk_export(&job.id), SK_META);
        item.extend([
            ("type".to_owned(), s("export")),
            ("bureau".to_owned(), s(job.bureau.as_str())),
            ("requested_by".to_owned(), s(job.requested_by.as_str())),
            ("bulletin".to_owned(), s(job.bulletin.as_str())),
            ("format".to_owned(), s(job.format.clone())),
            ("status".to_owned(), s(job.status.code())),
            ("rows".to_owned(), n(job.rows)),
            ("created_at".to_owned(), s(instant(job.created_at))),
            ("updated_at".to_owned(), s(instant(job.updated_at))),
            (
                EXPIRES_AT.to_owned(),
                n((job.created_at + EXPORT_TTL).timestamp()),
            ),
        ]);
        self.put_if_absent("export_create", item).await
    }

    async fn export_job(&self, id: &str) -> Result<Option<ExportJob>, StoreError> {
        self.get("export", pk_export(id), SK_META)
            .await?
            .map(ExportJob::try_from)
            .transpose()
    }

    async fn export_progress(
        &self,
        id: &str,
        rows: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update_export(id, ExportStatus::Running, rows, None, now)
            .await
    }

    async fn export_done(
        &self,
        id: &str,
        rows: u64,
        file_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let status = ExportStatus::ended(file_key);
        self.update_export(id, status, rows, file_key, now).await
    }
}
