//! Asynchronous exports (`/api/officer/exports*`): the clue list of a bulletin's territory and
//! period, too large to answer directly, is queued for the export worker; the job shows its
//! progress and, once ready, a short-lived presigned link to the file.

use std::time::Duration;

use api::{ApiError, Req, Resp};
use aws_sdk_s3::presigning::PresigningConfig;
use chrono::{DateTime, Utc};
use domain::Officer;
use domain::bulletin::{BulletinId, Standing};
use serde_json::{Value, json};
use store::exports::{ExportJob, ExportMessage, ExportStatus, is_job_id};
use store::roles::*;

use crate::{actions, store_error};

/// How long a download link is valid.
pub const LINK_VALID_FOR: Duration = Duration::from_secs(300);

/// The export queue and bucket.
#[derive(Clone)]
pub struct ExportDesk {
    pub sqs: aws_sdk_sqs::Client,
    pub queue_url: String,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
}

fn not_found() -> ApiError {
    ApiError::not_found("export_not_found")
}

fn unavailable(what: &'static str, e: &dyn std::error::Error) -> ApiError {
    tracing::error!(error = %e, "{what} failed");
    ApiError::unavailable()
}

impl ExportDesk {
    async fn enqueue(&self, job: &ExportJob) -> Result<(), ApiError> {
        let body = serde_json::to_string(&ExportMessage {
            job: job.id.clone(),
        })
        .map_err(|e| unavailable("export message", &e))?;
        self.sqs
            .send_message()
            .queue_url(&self.queue_url)
            .message_body(body)
            .send()
            .await
            .map_err(|e| unavailable("export queue", &e))?;
        Ok(())
    }

    async fn link(&self, key: &str) -> Result<String, ApiError> {
        let config = PresigningConfig::expires_in(LINK_VALID_FOR)
            .map_err(|e| unavailable("presign config", &e))?;
        let req = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .presigned(config)
            .await
            .map_err(|e| unavailable("presign", &e))?;
        Ok(req.uri().to_owned())
    }
}

async fn view(desk: &ExportDesk, job: &ExportJob) -> Result<Value, ApiError> {
    let url = match (&job.status, &job.file_key) {
        (ExportStatus::Ready, Some(k)) => Some(desk.link(k).await?),
        _ => None,
    };
    Ok(json!({
        "id": job.id,
        "bulletin": job.bulletin,
        "format": job.format,
        "status": job.status.code(),
        "rows": job.rows,
        "created_at": job.created_at,
        "updated_at": job.updated_at,
        "url": url,
        "expires_in": url.as_ref().map(|_| LINK_VALID_FOR.as_secs()),
    }))
}

/// `POST /api/officer/exports` `{bulletin, format}` with an `Idempotency-Key`: queues the clue
/// list of the bulletin's territory and period (202; a retry answers the same job, queued again
/// while it has not started).
///
/// # Errors
/// 400 `invalid_format`; 404 `bulletin_not_found` for a bulletin the caller may not read; 503.
pub async fn start<S: ExportJobs + Bulletins + Directory>(
    store: &S,
    desk: Option<&ExportDesk>,
    officer: &Officer,
    req: &Req,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let (body, _, key) = actions::envelope(req, officer)?;
    let format = body.get("format").and_then(Value::as_str).unwrap_or("xlsx");
    let format = sheets::Format::parse(format)
        .ok_or_else(|| ApiError::bad_request("invalid_format", "格式应为 xlsx 或 csv"))?;
    let bulletin_not_found = || ApiError::not_found("bulletin_not_found");
    let id = body
        .get("bulletin")
        .and_then(Value::as_str)
        .and_then(|b| BulletinId::parse(b).ok())
        .ok_or_else(bulletin_not_found)?;
    let (bulletin, _) = store
        .bulletin(&id)
        .await
        .map_err(store_error)?
        .ok_or_else(bulletin_not_found)?;
    if bulletin.standing(&officer.bureau) == Standing::None {
        return Err(bulletin_not_found());
    }
    let desk = desk.ok_or_else(ApiError::unavailable)?;
    let job = ExportJob::queued(
        officer.bureau.clone(),
        officer.id.clone(),
        id,
        format.extension(),
        key.as_str(),
        now,
    );
    let created = store.create_export_job(&job).await.map_err(store_error)?;
    let job = if created {
        job
    } else {
        store
            .export_job(&job.id)
            .await
            .map_err(store_error)?
            .ok_or_else(not_found)?
    };
    if job.status == ExportStatus::Queued {
        desk.enqueue(&job).await?;
    }
    Ok(Resp::json(202, &view(desk, &job).await?))
}

/// `GET /api/officer/exports/{id}`: the job of the caller's bureau, with its progress and, when
/// ready, the download link.
///
/// # Errors
/// 404 `export_not_found` for another bureau's job; 503.
pub async fn show<S: ExportJobs + Bulletins + Directory>(
    store: &S,
    desk: Option<&ExportDesk>,
    officer: &Officer,
    id: &str,
) -> Result<Resp, ApiError> {
    if !is_job_id(id) {
        return Err(not_found());
    }
    let job = store
        .export_job(id)
        .await
        .map_err(store_error)?
        .filter(|j| j.bureau == officer.bureau)
        .ok_or_else(not_found)?;
    let desk = desk.ok_or_else(ApiError::unavailable)?;
    Ok(Resp::json(200, &view(desk, &job).await?))
}
