//! WeChat push nonces that tell a retry from a replay: the nonce record keeps a digest of the request body.
//!
//! | item | `pk` | `sk` | TTL |
//! |---|---|---|---|
//! | push nonce (SHA-256 of the body) | `NONCE#<timestamp>:<nonce>` | `NONCE` | the signature window + 1 min |
//!
//! WeChat retries a push it got no answer for within 5 s with the very same query string and
//! body, up to three times. Such a retry is not an attack: it goes on to the callback's
//! deduplication record, which answers it with the first delivery's reply (or `success` while
//! the first is still being processed) and never processes it twice. A different body under a
//! nonce already seen is a replay (in plain mode WeChat's signature does not cover the body):
//! refused. One conditional `PutItem` either way.

use chrono::{DateTime, Utc};

use crate::error::StoreError;
use crate::item::{key, n, s};
use crate::keys::EXPIRES_AT;
use crate::reporting::ReportingStore;

/// How a push's (timestamp, nonce) stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PushNonce {
    /// Never seen (or seen with this very body: WeChat's retry). Go on.
    Fresh,
    /// Seen with another body: a replay. Refuse.
    Replayed,
}

impl ReportingStore {
    /// Records `replay_key` (`wechat-nonce:<timestamp>:<nonce>`) with `body_sha256` (hex) for
    /// `ttl` from `now`, unless it is held with another body.
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn note_push(
        &self,
        replay_key: &str,
        body_sha256: &str,
        now: DateTime<Utc>,
        ttl: chrono::Duration,
    ) -> Result<PushNonce, StoreError> {
        let mut item = key(format!("NONCE#{replay_key}"), "NONCE");
        item.extend([
            ("type".to_owned(), s("nonce")),
            ("body_sha256".to_owned(), s(body_sha256)),
            (EXPIRES_AT.to_owned(), n((now + ttl).timestamp())),
        ]);
        let res = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            // An expired record the TTL has not removed yet does not count.
            .condition_expression(
                "attribute_not_exists(pk) OR expires_at < :now OR body_sha256 = :body",
            )
            .expression_attribute_values(":now", n(now.timestamp()))
            .expression_attribute_values(":body", s(body_sha256))
            .send()
            .await;
        match res {
            Ok(_) => Ok(PushNonce::Fresh),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_conditional_check_failed_exception()) =>
            {
                Ok(PushNonce::Replayed)
            }
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }
}
