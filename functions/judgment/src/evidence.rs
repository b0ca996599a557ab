//! Evidence for officers: the stored object is read and hashed again before a link is given, so
//! an object altered after upload is reported as altered, never served silently; an intact one
//! gets a short-lived presigned GET link.

use std::time::Duration;

use aws_sdk_s3::presigning::PresigningConfig;
use domain::event::Evidence;
use serde::Serialize;
use sha2::{Digest, Sha256};

/// How long an evidence link is valid.
pub const LINK_VALID_FOR: Duration = Duration::from_secs(300);

/// The bucket holding `evidence/<attachment id>` objects.
#[derive(Clone)]
pub struct EvidenceBucket {
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
}

/// What the check of one evidence object found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum EvidenceCheck {
    /// The stored bytes hash to the SHA-256 recorded at upload.
    Intact { url: String, expires_in: u64 },
    /// They do not: the object changed after upload.
    Altered {
        recorded_sha256: String,
        found_sha256: String,
    },
    /// The object is gone.
    Missing,
}

/// Why the bucket could not be asked.
#[derive(Debug, thiserror::Error)]
#[error("evidence bucket: {op} failed")]
pub struct EvidenceError {
    pub op: &'static str,
    #[source]
    pub source: Box<dyn std::error::Error + Send + Sync>,
}

impl EvidenceBucket {
    /// Reads the object of `evidence`, hashes it and compares with the recorded hash.
    ///
    /// # Errors
    /// [`EvidenceError`] when S3 cannot be read (other than a missing object) or presigning fails.
    pub async fn check(&self, evidence: &Evidence) -> Result<EvidenceCheck, EvidenceError> {
        let key = store::attachments::evidence_key(&evidence.attachment);
        let out = match self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .send()
            .await
        {
            Ok(out) => out,
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => {
                return Ok(EvidenceCheck::Missing);
            }
            Err(e) => {
                return Err(EvidenceError {
                    op: "GetObject",
                    source: Box::new(e),
                });
            }
        };
        let mut body = out.body.into_async_read();
        let mut hasher = Sha256::new();
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            use tokio::io::AsyncReadExt;
            let n = body.read(&mut buf).await.map_err(|e| EvidenceError {
                op: "GetObject body",
                source: Box::new(e),
            })?;
            if n == 0 {
                break;
            }
            hasher.update(&buf[..n]);
        }
        let found = hex::encode(hasher.finalize());
        if !found.eq_ignore_ascii_case(&evidence.sha256) {
            tracing::warn!(attachment = %evidence.attachment, "evidence object altered after upload");
            return Ok(EvidenceCheck::Altered {
                recorded_sha256: evidence.sha256.clone(),
                found_sha256: found,
            });
        }
        let config = PresigningConfig::expires_in(LINK_VALID_FOR).map_err(|e| EvidenceError {
            op: "presign",
            source: Box::new(e),
        })?;
        let presigned = self
            .s3
            .get_object()
            .bucket(&self.bucket)
            .key(&key)
            .response_content_type(&evidence.content_type)
            .presigned(config)
            .await
            .map_err(|e| EvidenceError {
                op: "presign",
                source: Box::new(e),
            })?;
        Ok(EvidenceCheck::Intact {
            url: presigned.uri().to_owned(),
            expires_in: LINK_VALID_FOR.as_secs(),
        })
    }
}
