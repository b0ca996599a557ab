//! What the reporting channels keep besides clues, on the same table: callback deduplication
//! records, callback nonces ([`crate::push_nonce`]), guided-chat drafts with an inactivity TTL,
//! rate-limit counters, the audited block list (art. 19) and the shared WeChat access token
//! (its `wechat::AccessTokenCache` is `attachments::token_cache`, next to its user: the store
//! does not link the WeChat client). Attachment records are in [`crate::attachments`].
//!
//! | item | `pk` | `sk` | TTL |
//! |---|---|---|---|
//! | callback dedup (MsgId, or reporter key + CreateTime for events; the reply's text, no openid) | `CB#<key>` | `CB` | 1 day |
//! | callback nonce (with the body's SHA-256 when written by [`crate::push_nonce`]) | `NONCE#<timestamp>:<nonce>` | `NONCE` | 11 min |
//! | chat draft (JSON, version) | `CHAT#<reporter key>` | `DRAFT` | 30 min after the last message |
//! | rate-limit counter | `RATE#<limit>#<subject>` | `W#<window start>` | the window + 1 h |
//! | block (reason, by, at) | `BLOCK#<reporter key>` | `BLOCK` | |
//! | block audit entry | `BLOCK#<reporter key>` | `LOG#<at>#<action>` | |
//! | WeChat access token | `WXTOKEN#<appid>` | `TOKEN` | its expiry |
//!
//! Each is one conditional write: a record is claimed once, a nonce used once, a draft replaced
//! only at the version read, a counter incremented only below its limit; a block and its audit
//! entry are written in one transaction.

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::types::{Delete, Put, TransactWriteItem};
use chrono::{DateTime, Duration, TimeZone, Utc};
use domain::ReporterKey;
use domain::chat::{ChatDraft, INACTIVITY};
use domain::text::Reason;
use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::item::{Item, get_n, get_s, key, n, s, to_json};
use crate::keys::{EXPIRES_AT, PK, SK, instant};

/// How long a callback is remembered (WeChat retries within seconds; a day is ample).
pub const CALLBACK_TTL: Duration = Duration::days(1);

/// The reporting side table. Cheap to clone; build once per cold start.
#[derive(Debug, Clone)]
pub struct ReportingStore {
    pub(crate) db: aws_sdk_dynamodb::Client,
    pub(crate) table: String,
}

/// The outcome of claiming a callback for processing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Claim {
    /// First delivery (or the previous attempt's lease ran out): process it.
    Fresh,
    /// Another delivery is being processed right now: answer nothing, WeChat retries.
    Busy,
    /// Already processed: this is the text of the reply given then (empty for none).
    Done(String),
}

/// A rate limit: at most `max` in each window of `window`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RateLimit {
    /// Names the counter (`reporter_hour`, `division_day`, …).
    pub name: &'static str,
    pub max: u32,
    pub window: Duration,
}

/// A reporter on the block list.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Block {
    pub reporter: ReporterKey,
    pub reason: Reason,
    /// Who decided (an officer id or an operator name; never a reporter identity).
    pub by: String,
    pub at: DateTime<Utc>,
}

/// One entry of the block list's audit trail.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BlockAudit {
    /// `block` or `unblock`.
    pub action: String,
    pub reason: Reason,
    pub by: String,
    pub at: DateTime<Utc>,
}

fn conditional_failed<E, R>(e: &SdkError<E, R>) -> bool
where
    E: aws_sdk_dynamodb::error::ProvideErrorMetadata,
{
    matches!(e, SdkError::ServiceError(se) if se.err().code() == Some("ConditionalCheckFailedException"))
}

fn pk_callback(k: &str) -> String {
    format!("CB#{k}")
}

fn pk_chat(r: &ReporterKey) -> String {
    format!("CHAT#{}", r.as_str())
}

fn pk_block(r: &ReporterKey) -> String {
    format!("BLOCK#{}", r.as_str())
}

fn window_start(now: DateTime<Utc>, window: Duration) -> i64 {
    let w = window.num_seconds().max(1);
    now.timestamp().div_euclid(w) * w
}

impl ReportingStore {
    /// The side table on `table` (the same one table as the clues).
    pub fn new(db: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            db,
            table: table.into(),
        }
    }

    pub(crate) async fn get_item(&self, pk: String, sk: &str) -> Result<Option<Item>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::sdk("GetItem", e))?;
        Ok(out.item)
    }

    // ------------------------------------------------------------------ callback dedup

    /// Claims the callback `key` for processing for `lease` (how long one attempt may take).
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn claim_callback(
        &self,
        key_: &str,
        now: DateTime<Utc>,
        lease: Duration,
    ) -> Result<Claim, StoreError> {
        let mut item = key(pk_callback(key_), "CB");
        item.extend([
            ("type".to_owned(), s("callback")),
            ("status".to_owned(), s("INPROGRESS")),
            (
                "lease_until".to_owned(),
                n((now + lease).timestamp_millis()),
            ),
            (EXPIRES_AT.to_owned(), n((now + CALLBACK_TTL).timestamp())),
        ]);
        let put = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression(
                "attribute_not_exists(pk) OR (#st = :busy AND lease_until < :now)",
            )
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":busy", s("INPROGRESS"))
            .expression_attribute_values(":now", n(now.timestamp_millis()))
            .send()
            .await;
        match put {
            Ok(_) => Ok(Claim::Fresh),
            Err(e) if conditional_failed(&e) => {
                let item = self.get_item(pk_callback(key_), "CB").await?;
                Ok(match item {
                    Some(i) if get_s(&i, "status").ok() == Some("COMPLETED") => {
                        Claim::Done(get_s(&i, "reply_text").unwrap_or_default().to_owned())
                    }
                    _ => Claim::Busy,
                })
            }
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }

    /// Records the text of the reply given to callback `key` (empty for none); retries get it
    /// back. Only the text: the reply's XML names the reporter's openid, which no item outside
    /// the vault may hold (records of older versions kept it in `reply`, which is not read).
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn complete_callback(
        &self,
        key_: &str,
        reply: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut item = key(pk_callback(key_), "CB");
        item.extend([
            ("type".to_owned(), s("callback")),
            ("status".to_owned(), s("COMPLETED")),
            ("reply_text".to_owned(), s(reply)),
            (EXPIRES_AT.to_owned(), n((now + CALLBACK_TTL).timestamp())),
        ]);
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::sdk("PutItem", e))?;
        Ok(())
    }

    /// Forgets a claim whose processing failed, so that WeChat's retry processes it again.
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn release_callback(&self, key_: &str) -> Result<(), StoreError> {
        self.db
            .delete_item()
            .table_name(&self.table)
            .key(PK, s(pk_callback(key_)))
            .key(SK, s("CB"))
            .condition_expression("#st = :busy")
            .expression_attribute_names("#st", "status")
            .expression_attribute_values(":busy", s("INPROGRESS"))
            .send()
            .await
            .map(|_| ())
            .or_else(|e| {
                if conditional_failed(&e) {
                    Ok(())
                } else {
                    Err(StoreError::sdk("DeleteItem", e))
                }
            })
    }

    // ------------------------------------------------------------------ chat drafts

    /// The reporter's chat draft and its version (0 when there is none). A draft past its
    /// inactivity limit is absent even before the table's TTL removes it.
    ///
    /// # Errors
    /// DynamoDB failures, a malformed draft.
    pub async fn chat_draft(
        &self,
        reporter: &ReporterKey,
        now: DateTime<Utc>,
    ) -> Result<(Option<ChatDraft>, u64), StoreError> {
        let Some(item) = self.get_item(pk_chat(reporter), "DRAFT").await? else {
            return Ok((None, 0));
        };
        let version: u64 = get_n(&item, "version")?;
        let expires: i64 = get_n(&item, EXPIRES_AT).unwrap_or(0);
        if expires <= now.timestamp() {
            return Ok((None, version));
        }
        let draft: Option<ChatDraft> = match get_s(&item, "draft") {
            Ok(json) => serde_json::from_str(json).ok(),
            Err(_) => None,
        };
        Ok((draft, version))
    }

    /// Replaces the draft (or clears it with `None`) if it is still at `version`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when another message changed it first.
    pub async fn put_chat_draft(
        &self,
        reporter: &ReporterKey,
        draft: Option<&ChatDraft>,
        version: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut item = key(pk_chat(reporter), "DRAFT");
        item.extend([
            ("type".to_owned(), s("chat_draft")),
            ("version".to_owned(), n(version + 1)),
            (
                EXPIRES_AT.to_owned(),
                n(match draft {
                    Some(d) => (d.updated_at + INACTIVITY).timestamp(),
                    None => now.timestamp(),
                }),
            ),
        ]);
        if let Some(d) = draft {
            item.insert("draft".to_owned(), s(to_json(d)?));
        }
        let req = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item));
        let req = if version == 0 {
            req.condition_expression("attribute_not_exists(pk)")
        } else {
            req.condition_expression("version = :v")
                .expression_attribute_values(":v", n(version))
        };
        match req.send().await {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Err(StoreError::Conflict),
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }

    // ------------------------------------------------------------------ rate limits

    /// Counts one use of `limit` by `subject` in the current window, unless the window is full.
    /// Returns whether the use was allowed (and counted).
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn take(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let start = window_start(now, limit.window);
        let res = self
            .db
            .update_item()
            .table_name(&self.table)
            .key(PK, s(format!("RATE#{}#{subject}", limit.name)))
            .key(SK, s(format!("W#{start}")))
            .update_expression("ADD #n :one SET #t = :type, expires_at = :exp")
            .condition_expression("attribute_not_exists(#n) OR #n < :max")
            .expression_attribute_names("#n", "count")
            .expression_attribute_names("#t", "type")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":max", n(limit.max))
            .expression_attribute_values(":type", s("rate"))
            .expression_attribute_values(":exp", n(start + limit.window.num_seconds() + 3600))
            .send()
            .await;
        match res {
            Ok(_) => Ok(true),
            Err(e) if conditional_failed(&e) => Ok(false),
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }

    /// How many uses `limit` counted for `subject` in the current window (a reporter's count
    /// under an earlier version of the reporter-key secret still counts, issue 16).
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn used(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let start = window_start(now, limit.window);
        match self
            .get_item(
                format!("RATE#{}#{subject}", limit.name),
                &format!("W#{start}"),
            )
            .await?
        {
            Some(item) => get_n(&item, "count"),
            None => Ok(0),
        }
    }

    /// Gives back a use counted by [`Self::take`] that did not happen (a refused or replayed
    /// submission).
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn give_back(
        &self,
        limit: &RateLimit,
        subject: &str,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let start = window_start(now, limit.window);
        let res = self
            .db
            .update_item()
            .table_name(&self.table)
            .key(PK, s(format!("RATE#{}#{subject}", limit.name)))
            .key(SK, s(format!("W#{start}")))
            .update_expression("ADD #n :minus")
            .condition_expression("#n > :zero")
            .expression_attribute_names("#n", "count")
            .expression_attribute_values(":minus", n(-1))
            .expression_attribute_values(":zero", n(0))
            .send()
            .await;
        match res {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }

    // ------------------------------------------------------------------ block list

    /// Whether the reporter is blocked, and why.
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn block_of(&self, reporter: &ReporterKey) -> Result<Option<Block>, StoreError> {
        match self.get_item(pk_block(reporter), "BLOCK").await? {
            None => Ok(None),
            Some(item) => crate::item::get_json(&item, "data").map(Some),
        }
    }

    /// Counts an attempt of a blocked reporter (art. 19: refused visibly, and counted for the
    /// bureau, never silently dropped). Nothing happens when the reporter is not blocked.
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn note_blocked_attempt(
        &self,
        reporter: &ReporterKey,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .set_key(Some(key(pk_block(reporter), "BLOCK")))
            .update_expression("ADD attempts :one SET last_attempt_at = :at")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", crate::item::n(1))
            .expression_attribute_values(":at", s(now.to_rfc3339()))
            .send()
            .await;
        match out {
            Ok(_) => Ok(()),
            Err(e) if conditional_failed(&e) => Ok(()),
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }

    /// How many times the blocked reporter tried since being blocked (0 when not blocked).
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn blocked_attempts(&self, reporter: &ReporterKey) -> Result<u64, StoreError> {
        Ok(self
            .get_item(pk_block(reporter), "BLOCK")
            .await?
            .and_then(|i| {
                i.get("attempts")
                    .and_then(|v| v.as_n().ok())
                    .and_then(|n| n.parse().ok())
            })
            .unwrap_or(0))
    }

    /// Puts the reporter on the block list, with an audit entry, in one transaction.
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn block(&self, block: &Block) -> Result<(), StoreError> {
        let mut item = key(pk_block(&block.reporter), "BLOCK");
        item.extend([
            ("type".to_owned(), s("block")),
            ("data".to_owned(), s(to_json(block)?)),
        ]);
        let audit = BlockAudit {
            action: "block".to_owned(),
            reason: block.reason.clone(),
            by: block.by.clone(),
            at: block.at,
        };
        self.transact_block(
            TransactWriteItem::builder()
                .put(
                    Put::builder()
                        .table_name(&self.table)
                        .set_item(Some(item))
                        .build()
                        .map_err(|e| StoreError::sdk("build Put", e))?,
                )
                .build(),
            &block.reporter,
            &audit,
        )
        .await
    }

    /// Takes the reporter off the block list, with an audit entry, in one transaction.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when not blocked; DynamoDB failures.
    pub async fn unblock(
        &self,
        reporter: &ReporterKey,
        reason: Reason,
        by: &str,
        at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let delete = Delete::builder()
            .table_name(&self.table)
            .key(PK, s(pk_block(reporter)))
            .key(SK, s("BLOCK"))
            .condition_expression("attribute_exists(pk)")
            .build()
            .map_err(|e| StoreError::sdk("build Delete", e))?;
        let audit = BlockAudit {
            action: "unblock".to_owned(),
            reason,
            by: by.to_owned(),
            at,
        };
        self.transact_block(
            TransactWriteItem::builder().delete(delete).build(),
            reporter,
            &audit,
        )
        .await
    }

    async fn transact_block(
        &self,
        change: TransactWriteItem,
        reporter: &ReporterKey,
        audit: &BlockAudit,
    ) -> Result<(), StoreError> {
        let mut log = key(
            pk_block(reporter),
            format!("LOG#{}#{}", instant(audit.at), audit.action),
        );
        log.extend([
            ("type".to_owned(), s("block_audit")),
            ("data".to_owned(), s(to_json(audit)?)),
        ]);
        let put_log = Put::builder()
            .table_name(&self.table)
            .set_item(Some(log))
            .condition_expression("attribute_not_exists(pk)")
            .build()
            .map_err(|e| StoreError::sdk("build Put", e))?;
        self.db
            .transact_write_items()
            .transact_items(change)
            .transact_items(TransactWriteItem::builder().put(put_log).build())
            .send()
            .await
            .map_err(|e| {
                if matches!(&e, SdkError::ServiceError(se) if se.err().is_transaction_canceled_exception())
                {
                    StoreError::NotFound("block".to_owned())
                } else {
                    StoreError::sdk("TransactWriteItems", e)
                }
            })?;
        Ok(())
    }

    /// The audit trail of a reporter's block list entries, oldest first.
    ///
    /// # Errors
    /// DynamoDB failures.
    pub async fn block_log(&self, reporter: &ReporterKey) -> Result<Vec<BlockAudit>, StoreError> {
        let out = self
            .db
            .query()
            .table_name(&self.table)
            .key_condition_expression("pk = :p AND begins_with(sk, :l)")
            .expression_attribute_values(":p", s(pk_block(reporter)))
            .expression_attribute_values(":l", s("LOG#"))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::sdk("Query", e))?;
        out.items()
            .iter()
            .map(|i| crate::item::get_json(i, "data"))
            .collect()
    }
}

// ---------------------------------------------------------------------- access token

/// The shared WeChat access token as stored: the token and when WeChat said it expires.
#[derive(Debug, Clone)]
pub struct StoredAccessToken {
    pub token: SecretString,
    pub expires_at: DateTime<Utc>,
}

impl ReportingStore {
    /// The access token stored for `appid`, if any (expired or not: the caller decides).
    ///
    /// # Errors
    /// [`StoreError`] for a failed read or a malformed item.
    pub async fn access_token(&self, appid: &str) -> Result<Option<StoredAccessToken>, StoreError> {
        let Some(item) = self.get_item(format!("WXTOKEN#{appid}"), "TOKEN").await? else {
            return Ok(None);
        };
        let token = get_s(&item, "token")?.to_owned();
        let expires: i64 = get_n(&item, "token_expires_at")?;
        Ok(Utc
            .timestamp_opt(expires, 0)
            .single()
            .map(|expires_at| StoredAccessToken {
                token: SecretString::from(token),
                expires_at,
            }))
    }

    /// Stores the access token of `appid`; the item expires an hour after the token.
    ///
    /// # Errors
    /// [`StoreError`] for a failed write.
    pub async fn put_access_token(
        &self,
        appid: &str,
        token: &StoredAccessToken,
    ) -> Result<(), StoreError> {
        let mut item = key(format!("WXTOKEN#{appid}"), "TOKEN");
        item.extend([
            ("type".to_owned(), s("wechat_token")),
            ("token".to_owned(), s(token.token.expose_secret())),
            (
                "token_expires_at".to_owned(),
                n(token.expires_at.timestamp()),
            ),
            (
                EXPIRES_AT.to_owned(),
                n((token.expires_at + Duration::hours(1)).timestamp()),
            ),
        ]);
        self.db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::sdk("PutItem", e))?;
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_start_on_their_boundary() {
        let t = Utc.timestamp_opt(7_205, 0).single().expect("t");
        assert_eq!(window_start(t, Duration::hours(1)), 7_200);
        assert_eq!(window_start(t, Duration::days(1)), 0);
    }
}
