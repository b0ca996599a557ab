//! Processing a stored object: check, hash, keep or quarantine; and fetching a chat photo.

use aws_sdk_s3::primitives::ByteStream;
use domain::AttachmentId;
use sha2::{Digest, Sha256};
use store::attachments::{evidence_key, incoming_key, parse_incoming_key};
use store::{Attachment, AttachmentSource, AttachmentStatus, ReportingStore, StoreError};

use crate::kind::{self, MAX_BYTES};
use crate::structure;

/// Why processing could not finish (the queue message is retried).
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("store")]
    Store(#[from] StoreError),
    #[error("s3 call {0} failed")]
    S3(
        &'static str,
        #[source] Box<dyn std::error::Error + Send + Sync>,
    ),
    #[error("wechat media download failed (retryable)")]
    Wechat(#[source] wechat::WechatError),
}

impl ProcessError {
    fn s3<E: std::error::Error + Send + Sync + 'static>(op: &'static str, e: E) -> Self {
        Self::S3(op, Box::new(e))
    }
}

/// What happened to one object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    /// Kept as evidence.
    Ready { id: AttachmentId, sha256: String },
    /// Deleted; the record says why.
    Rejected { id: AttachmentId, reason: String },
    /// Nobody authorised this key: deleted.
    Unclaimed,
    /// Already settled (a redelivered notification): nothing done.
    AlreadySettled,
}

/// The S3 side of processing.
pub struct Objects<'a> {
    pub s3: &'a aws_sdk_s3::Client,
    pub bucket: &'a str,
}

/// The verdict on an object's bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verdict {
    Ok {
        content_type: &'static str,
        sha256: String,
        size: u64,
    },
    Refused(&'static str),
}

/// The tag processed evidence is stored with until a clue attaches it: the bucket's lifecycle
/// rule `ExpireNeverAttachedEvidence` (template.yaml) expires what still carries it, so an upload
/// nobody filed does not stay for ever. [`Objects::keep`] removes it.
pub const NEVER_ATTACHED_TAG: (&str, &str) = ("evidence", "never-attached");

/// How many leading bytes [`kind::detect`] is given.
const HEAD: usize = 16;

/// Judges a stream: the type by its first bytes (which must agree with what was declared, for an
/// upload), the size within the type's limit, the container structure of the whole file
/// ([`structure`]), and the SHA-256 of every byte. Reading stops as
/// soon as the verdict is a refusal: a wrong type after the first bytes, too large at the first
/// byte over the type's limit.
pub async fn judge(mut body: ByteStream, declared: Option<&str>) -> Result<Verdict, ProcessError> {
    let mut head: Vec<u8> = Vec::with_capacity(HEAD);
    let mut found: Option<kind::Kind> = None;
    // The structure: an MP4 is walked as it streams, the others (20 MiB at most) are kept.
    let mut whole: Vec<u8> = Vec::new();
    let mut boxes = structure::BoxWalk::new();
    let mut hasher = Sha256::new();
    let mut size: u64 = 0;
    while let Some(chunk) = body
        .try_next()
        .await
        .map_err(|e| ProcessError::s3("GetObject body", e))?
    {
        if head.len() < HEAD {
            let take = (HEAD - head.len()).min(chunk.len());
            head.extend_from_slice(&chunk[..take]);
            if head.len() == HEAD {
                match check_type(&head, declared) {
                    Ok(k) => found = Some(k),
                    Err(reason) => return Ok(Verdict::Refused(reason)),
                }
            }
        }
        size += chunk.len() as u64;
        if size > found.map_or(MAX_BYTES, |k| k.max_bytes) {
            return Ok(Verdict::Refused("too_large"));
        }
        hasher.update(&chunk);
        whole.extend_from_slice(&chunk);
        if found.is_some_and(|k| k.content_type == "video/mp4") {
            boxes.feed(&whole);
            whole.clear();
        }
    }
    if size == 0 {
        return Ok(Verdict::Refused("empty"));
    }
    let found = match found {
        Some(k) => k,
        // Shorter than the head: judged on what there is.
        None => match check_type(&head, declared) {
            Ok(k) => k,
            Err(reason) => return Ok(Verdict::Refused(reason)),
        },
    };
    if size > found.max_bytes {
        return Ok(Verdict::Refused("too_large"));
    }
    let structure = match found.content_type {
        "image/jpeg" => structure::jpeg(&whole),
        "image/png" => structure::png(&whole),
        "image/webp" => structure::webp(&whole),
        "application/pdf" => structure::pdf(&whole),
        _ => {
            boxes.feed(&whole);
            boxes.finish()
        }
    };
    if let Err(reason) = structure {
        return Ok(Verdict::Refused(reason));
    }
    Ok(Verdict::Ok {
        content_type: found.content_type,
        sha256: hex::encode(hasher.finalize()),
        size,
    })
}

/// The allowed type `head` shows, which must be the declared one when there is one.
fn check_type(head: &[u8], declared: Option<&str>) -> Result<kind::Kind, &'static str> {
    let found = kind::detect(head).ok_or("type_not_allowed")?;
    match declared {
        Some(d) if d != found.content_type => Err("type_mismatch"),
        _ => Ok(found),
    }
}

impl Objects<'_> {
    /// Deletes every version and delete marker of `key` (the bucket is versioned: a plain delete
    /// would keep the bytes as a noncurrent version). Nothing there: nothing done (a plain
    /// delete would add a delete marker).
    pub async fn purge(&self, key: &str) -> Result<(), ProcessError> {
        let mut versions = Vec::new();
        let (mut key_marker, mut version_marker) = (None::<String>, None::<String>);
        loop {
            let out = self
                .s3
                .list_object_versions()
                .bucket(self.bucket)
                .prefix(key)
                .set_key_marker(key_marker.take())
                .set_version_id_marker(version_marker.take())
                .send()
                .await
                .map_err(|e| ProcessError::s3("ListObjectVersions", e))?;
            versions.extend(
                out.versions()
                    .iter()
                    .filter(|v| v.key() == Some(key))
                    .filter_map(|v| v.version_id().map(str::to_owned))
                    .chain(
                        out.delete_markers()
                            .iter()
                            .filter(|m| m.key() == Some(key))
                            .filter_map(|m| m.version_id().map(str::to_owned)),
                    ),
            );
            if out.is_truncated() != Some(true) {
                break;
            }
            key_marker = out.next_key_marker().map(str::to_owned);
            version_marker = out.next_version_id_marker().map(str::to_owned);
            if key_marker.is_none() && version_marker.is_none() {
                break;
            }
        }
        for v in versions {
            self.s3
                .delete_object()
                .bucket(self.bucket)
                .key(key)
                .version_id(v)
                .send()
                .await
                .map_err(|e| ProcessError::s3("DeleteObject", e))?;
        }
        Ok(())
    }

    /// Keeps the evidence a clue attaches: removes its never-attached tag, so the lifecycle rule
    /// no longer expires it. Evidence already gone (expired, or never processed) is logged and
    /// skipped: there is nothing left to keep, and the filing that names it has been told by
    /// its own checks. Idempotent.
    ///
    /// # Errors
    /// A failed S3 call (the message is retried).
    pub async fn keep(&self, ids: &[AttachmentId]) -> Result<(), ProcessError> {
        for id in ids {
            match self
                .s3
                .delete_object_tagging()
                .bucket(self.bucket)
                .key(evidence_key(id))
                .send()
                .await
            {
                Ok(_) => tracing::info!(attachment = %id, "evidence kept for its clue"),
                Err(e) if e.raw_response().is_some_and(|r| r.status().as_u16() == 404) => {
                    tracing::warn!(attachment = %id, "no evidence object to keep");
                }
                Err(e) => return Err(ProcessError::s3("DeleteObjectTagging", e)),
            }
        }
        Ok(())
    }

    /// Processes the object at `key` (an `incoming/…` key from a notification).
    pub async fn process(
        &self,
        records: &ReportingStore,
        key: &str,
    ) -> Result<Processed, ProcessError> {
        let Some((owner, id)) = parse_incoming_key(key) else {
            self.purge(key).await?;
            return Ok(Processed::Unclaimed);
        };
        let Some(record) = records.attachment(&id).await?.filter(|a| a.owner == owner) else {
            self.purge(key).await?;
            return Ok(Processed::Unclaimed);
        };
        if record.status != AttachmentStatus::Pending {
            // A settled record needs nothing at its upload key any more: bytes still there were
            // stored again after it settled (the upload policy is valid for minutes) or left by
            // a run that stopped between settling and deleting. A plain redelivery finds nothing.
            self.purge(key).await?;
            return Ok(Processed::AlreadySettled);
        }
        let object = match self
            .s3
            .get_object()
            .bucket(self.bucket)
            .key(key)
            .send()
            .await
        {
            Ok(o) => o,
            Err(e)
                if e.as_service_error().is_some_and(
                    aws_sdk_s3::operation::get_object::GetObjectError::is_no_such_key,
                ) =>
            {
                // Deleted meanwhile (a redelivery after processing): nothing to do.
                return Ok(Processed::AlreadySettled);
            }
            Err(e) => return Err(ProcessError::s3("GetObject", e)),
        };
        // The version whose bytes are judged and hashed is the one copied: a later upload to the
        // same key cannot slip other bytes under the recorded hash.
        let version = object.version_id().map(str::to_owned);
        let declared = match record.source {
            AttachmentSource::Upload => Some(record.declared_type.as_str()),
            // WeChat says what it sends; any allowed image is fine.
            AttachmentSource::Wechat { .. } => None,
        };
        let verdict = judge(object.body, declared).await?;
        let verdict = match (&record.source, verdict) {
            (AttachmentSource::Wechat { .. }, Verdict::Ok { content_type, .. })
                if !content_type.starts_with("image/") =>
            {
                Verdict::Refused("type_not_allowed")
            }
            (_, v) => v,
        };
        match verdict {
            Verdict::Ok {
                content_type,
                sha256,
                size,
            } => {
                self.s3
                    .copy_object()
                    .bucket(self.bucket)
                    .key(evidence_key(&id))
                    .copy_source(match &version {
                        Some(v) => format!("{}/{}?versionId={v}", self.bucket, key),
                        None => format!("{}/{}", self.bucket, key),
                    })
                    .content_type(content_type)
                    .metadata_directive(aws_sdk_s3::types::MetadataDirective::Replace)
                    .metadata("sha256", &sha256)
                    .tagging_directive(aws_sdk_s3::types::TaggingDirective::Replace)
                    .tagging(format!("{}={}", NEVER_ATTACHED_TAG.0, NEVER_ATTACHED_TAG.1))
                    .send()
                    .await
                    .map_err(|e| ProcessError::s3("CopyObject", e))?;
                let status = AttachmentStatus::Ready {
                    sha256: sha256.clone(),
                    content_type: content_type.to_owned(),
                    size,
                };
                settle(records, &record, status).await?;
                self.purge(key).await?;
                tracing::info!(attachment = %id, size, content_type, "evidence kept");
                Ok(Processed::Ready { id, sha256 })
            }
            Verdict::Refused(reason) => {
                // Settled first: a run that stops before the purge is finished by the
                // redelivery (settled records get their upload key purged); purging first would
                // leave a record pending for ever with nothing left to judge.
                settle(
                    records,
                    &record,
                    AttachmentStatus::Rejected {
                        reason: reason.to_owned(),
                    },
                )
                .await?;
                self.purge(key).await?;
                tracing::warn!(attachment = %id, reason, "object quarantined and deleted");
                Ok(Processed::Rejected {
                    id,
                    reason: reason.to_owned(),
                })
            }
        }
    }

    /// Downloads a chat photo into the reporter's upload area (its notification brings it back
    /// through [`Objects::process`]). A media id WeChat does not know settles the record
    /// `rejected`; a retryable failure is an error (the message is retried).
    pub async fn fetch_media<C: wechat::AccessTokenCache>(
        &self,
        records: &ReportingStore,
        api: &wechat::ApiClient<C>,
        attachment: &AttachmentId,
    ) -> Result<(), ProcessError> {
        let Some(record) = records.attachment(attachment).await? else {
            return Ok(());
        };
        let AttachmentSource::Wechat { media_id } = &record.source else {
            return Ok(());
        };
        if record.status != AttachmentStatus::Pending {
            return Ok(());
        }
        match api.media(media_id).await {
            Ok(media) => {
                self.s3
                    .put_object()
                    .bucket(self.bucket)
                    .key(incoming_key(&record.owner, attachment))
                    .content_type(media.content_type)
                    .body(ByteStream::from(media.bytes))
                    .send()
                    .await
                    .map_err(|e| ProcessError::s3("PutObject", e))?;
                Ok(())
            }
            Err(e) if e.class() == wechat::ErrorClass::Permanent => {
                tracing::warn!(code = e.code(), attachment = %attachment, "chat photo not downloadable");
                settle(
                    records,
                    &record,
                    AttachmentStatus::Rejected {
                        reason: "download_failed".to_owned(),
                    },
                )
                .await?;
                Ok(())
            }
            Err(e) => Err(ProcessError::Wechat(e)),
        }
    }
}

async fn settle(
    records: &ReportingStore,
    record: &Attachment,
    status: AttachmentStatus,
) -> Result<(), ProcessError> {
    match records.settle_attachment(record, status).await {
        Ok(_) | Err(StoreError::Conflict) => Ok(()),
        Err(e) => Err(e.into()),
    }
}
