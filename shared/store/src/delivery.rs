//! Delivery of notices, for `notify`: what one delivery needs in one read, the **send-attempt
//! record** that makes a delivery exactly-once, and the recording of its outcome.
//!
//! # The send-attempt record
//! One item per notice, `CLUE#<clue>` / `SEND#<notice id>`, beside the outbox item. `notify`
//! writes it **before** calling WeChat (`state = sending`, a fresh attempt id, conditioned on the
//! attempt it read: of two instances racing on one notice only one sends) and **after**, in the
//! same `TransactWriteItems` as the delivery event on the timeline (`sent` with WeChat's
//! `msgid`, or `undeliverable`), conditioned on its own attempt id. So:
//! - a redelivered queue message whose notice is `sent`/`undeliverable` is acknowledged without
//!   a send;
//! - a message finding `sending` is the crash window (the process died, or the answer was lost,
//!   between the send and the record): WeChat may or may not have the message. It is sent again
//!   and recorded `Sent { possible_duplicate: true }`: at most one duplicate per such crash,
//!   detected and marked on the timeline for the officer.
//! - an attempt that WeChat certainly refused (an errcode, an HTTP error status) is `failed`:
//!   the next attempt is an ordinary one.
//!
//! The record is not clue data (no timeline event, no version): it is the sender's intent log.
//! Timeline events (`notice_delivery`) are only written through the domain's `RecordDelivery`
//! decision, in one transaction with the clue's version check, as every other command.
//!
//! # Requests per delivered notice
//! BatchGetItem (clue, send record, vault) + PutItem (attempt) + TransactWriteItems (clue,
//! timeline entry, outbox item, send record) = **3**, plus KMS `Decrypt` once per data key (one
//! per clue, with the clue as encryption context) and cold start.

use std::collections::BTreeMap;

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::put_item::PutItemError;
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnConsumedCapacity, TransactWriteItem};
use chrono::{DateTime, Utc};
use domain::clue::OwedNotice;
use domain::command::Rules;
use domain::event::DeliveryStatus;
use domain::{Actor, ClueId, Command, Divisions, DomainError, NoticeId, WorkingCalendar};
use serde::{Deserialize, Serialize};
use tracing::warn;

use crate::attempt::Attempt;
use crate::dynamo::{Committed, DynamoClueStore, IN_FLIGHT_ATTEMPTS, Query, SkCond, reported};
use crate::error::StoreError;
use crate::item::{Item, StoredClue, get_json, get_s, key, s, sealed_from_item, to_json};
use crate::keys::*;
use crate::meter::{item_size, write_units};
use crate::plan::{Cancelled, apply_events, plan_writes};
use crate::vault::{VaultContext, open};
use crate::{ClueReads, NoticeDeliveries};

/// The send-attempt record of one notice: which notice, and its [`Attempt`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SendAttempt {
    pub clue: ClueId,
    pub notice: NoticeId,
    #[serde(flatten)]
    pub attempt: Attempt,
}

impl SendAttempt {
    /// The next attempt after `previous` (none for the first).
    pub fn begin(
        clue: &ClueId,
        notice: &NoticeId,
        previous: Option<&SendAttempt>,
        attempt_id: String,
        now: DateTime<Utc>,
    ) -> Self {
        Self {
            clue: clue.clone(),
            notice: notice.clone(),
            attempt: Attempt::begin(previous.map(|p| &p.attempt), attempt_id, now),
        }
    }

    /// Whether the notice is delivered or given up (nothing more to send).
    pub fn is_final(&self) -> bool {
        self.attempt.is_final()
    }
}

fn attempt_item(a: &SendAttempt) -> Result<Item, StoreError> {
    let mut item = key(pk_clue(&a.clue), sk_send(a.notice.as_str()));
    item.extend([
        ("type".to_owned(), s("send")),
        ("attempt_id".to_owned(), s(a.attempt.attempt_id.clone())),
        (
            "state".to_owned(),
            s(to_json(&a.attempt.state)?.trim_matches('"')),
        ),
        ("data".to_owned(), s(to_json(a)?)),
    ]);
    Ok(item)
}

impl TryFrom<Item> for SendAttempt {
    type Error = StoreError;

    fn try_from(item: Item) -> Result<Self, Self::Error> {
        get_json(&item, "data")
    }
}

/// Everything one delivery needs, read at once.
#[derive(Clone)]
pub struct Delivery {
    /// The recipient clue as read (its number, its version for the outcome's transaction).
    pub stored: StoredClue,
    /// The notice owed on it (content, verbatim text, owed instant, timeline status).
    pub notice: OwedNotice,
    /// The send-attempt record, if an attempt ever began.
    pub attempt: Option<SendAttempt>,
    /// The reporter's openid (decrypted from the vault; never log it).
    pub openid: String,
}

impl std::fmt::Debug for Delivery {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Delivery")
            .field("clue", &self.stored.clue.id)
            .field("notice", &self.notice.record.id)
            .field("attempt", &self.attempt)
            .finish_non_exhaustive()
    }
}

impl DynamoClueStore {
    async fn transact_attempt_only(&self, send_item: TransactWriteItem) -> Result<(), StoreError> {
        let plan = crate::plan::WritePlan {
            items: vec![send_item],
            clue_checks: Vec::new(),
            idempotency: None,
            counts: BTreeMap::from([("send", 1)]),
        };
        match self.transact("attempt", plan).await? {
            Committed::Yes => Ok(()),
            Committed::No(_) => Err(StoreError::Conflict),
        }
    }

    /// The send-attempt records of a clue's notices (for the officer's view of deliveries).
    ///
    /// # Errors
    /// Store errors.
    pub async fn send_attempts(&self, clue: &ClueId) -> Result<Vec<SendAttempt>, StoreError> {
        let q = Query::table(
            "send_attempts",
            pk_clue(clue),
            Some(SkCond::Begins(SK_SEND.to_owned())),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(SendAttempt::try_from)
            .collect()
    }
}

/// A put of the send record, conditioned on its attempt id being `attempt_id`.
fn conditional_put(
    table: &str,
    item: Item,
    attempt_id: &str,
) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attempt_id = :a")
        .expression_attribute_values(":a", AttributeValue::S(attempt_id.to_owned()))
        .build()
        .map_err(|e| StoreError::sdk("build put", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

impl NoticeDeliveries for DynamoClueStore {
    async fn delivery(&self, clue: &ClueId, notice: &NoticeId) -> Result<Delivery, StoreError> {
        let items = self
            .batch_get(
                "delivery",
                vec![
                    key(pk_clue(clue), SK_CLUE),
                    key(pk_clue(clue), sk_send(notice.as_str())),
                    key(pk_vault(clue), SK_VAULT),
                ],
            )
            .await?;
        let (mut stored, mut attempt, mut vault) = (None, None, None);
        for item in items {
            let sk = get_s(&item, SK)?.to_owned();
            if sk == SK_CLUE {
                stored = Some(StoredClue::try_from(item)?);
            } else if sk == SK_VAULT {
                vault = Some(item);
            } else {
                attempt = Some(SendAttempt::try_from(item)?);
            }
        }
        let stored = stored.ok_or_else(|| StoreError::NotFound(format!("clue {clue}")))?;
        let owed = stored
            .clue
            .notice(notice)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("notice {notice}")))?;
        let vault =
            vault.ok_or_else(|| StoreError::NotFound(format!("identity of clue {clue}")))?;
        let sealed = sealed_from_item(&vault)?;
        let data_key = self
            .open_key(&sealed.encrypted_key, &VaultContext::clue(clue))
            .await?;
        let identity = open(&data_key, clue.as_str(), &sealed)?;
        Ok(Delivery {
            stored,
            notice: owed,
            attempt,
            openid: identity.openid,
        })
    }

    async fn begin_attempt(
        &self,
        previous: Option<&SendAttempt>,
        attempt: &SendAttempt,
    ) -> Result<(), StoreError> {
        let item = attempt_item(attempt)?;
        let size = item_size(&item);
        let mut req = self
            .db
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        req = match previous {
            None => req.condition_expression("attribute_not_exists(pk)"),
            Some(p) => req
                .condition_expression("attempt_id = :prev")
                .expression_attribute_values(":prev", s(p.attempt.attempt_id.clone())),
        };
        match req.send().await {
            Ok(out) => {
                self.meter().record(
                    "attempt",
                    1,
                    reported(out.consumed_capacity()),
                    write_units(size),
                );
                Ok(())
            }
            Err(SdkError::ServiceError(se))
                if matches!(se.err(), PutItemError::ConditionalCheckFailedException(_)) =>
            {
                self.meter().record("attempt", 0, None, 0.0);
                Err(StoreError::Conflict)
            }
            Err(e) => Err(StoreError::sdk("PutItem", e)),
        }
    }

    async fn finish_attempt(
        &self,
        delivery: &Delivery,
        attempt: &SendAttempt,
        status: Option<DeliveryStatus>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let clue_id = delivery.stored.clue.id.clone();
        let send_item = conditional_put(
            self.table(),
            attempt_item(attempt)?,
            &attempt.attempt.attempt_id,
        )?;
        let Some(status) = status else {
            return self.transact_attempt_only(send_item).await;
        };
        let directory = self.directory().await?;
        let rules = Rules {
            calendar: WorkingCalendar::embedded(),
            bureaus: &directory,
            divisions: Divisions::embedded(),
        };
        let command = Command::RecordDelivery {
            notice: attempt.notice.clone(),
            status,
        };
        let mut stored = delivery.stored.clone();
        for round in 0..IN_FLIGHT_ATTEMPTS {
            let events = match stored.clue.decide(&command, &Actor::System, now, &rules) {
                Err(DomainError::DeliveryFinal) => {
                    return self.transact_attempt_only(send_item).await;
                }
                other => other?,
            };
            let loaded = BTreeMap::from([(clue_id.clone(), stored.clone())]);
            let changes = apply_events(&loaded, None, &events)?;
            let mut plan = plan_writes(self.table(), &changes, None, Vec::new())?;
            plan.items.push(send_item.clone());
            *plan.counts.entry("send").or_default() += 1;
            match self.transact("delivery", plan).await? {
                Committed::Yes => return Ok(()),
                Committed::No(Cancelled::VersionChanged) => {
                    // An officer's command changed the clue meanwhile: decide on the new state.
                    stored = self.clue(&clue_id).await?;
                }
                Committed::No(Cancelled::InFlight) => {
                    warn!(
                        round,
                        "delivery record met a transaction in flight; retrying"
                    );
                    Self::backoff(round).await;
                    stored = self.clue(&clue_id).await?;
                }
                Committed::No(Cancelled::Other(code)) if code == "ConditionalCheckFailed" => {
                    return Err(StoreError::Conflict);
                }
                Committed::No(Cancelled::Other(code)) => {
                    return Err(StoreError::sdk(
                        "TransactWriteItems",
                        crate::dynamo::TransactionCancelled(code),
                    ));
                }
                Committed::No(Cancelled::AlreadyDone) => return Ok(()),
            }
        }
        Err(StoreError::Conflict)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::attempt::AttemptState;

    fn first(now: DateTime<Utc>) -> SendAttempt {
        SendAttempt::begin(
            &ClueId::parse("c1").expect("id"),
            &NoticeId::parse("c1:1:0").expect("id"),
            None,
            "a1".into(),
            now,
        )
    }

    #[test]
    fn a_notice_attempt_follows_the_previous_one_of_its_notice() {
        let now = Utc::now();
        let a1 = first(now);
        let a2 = SendAttempt::begin(&a1.clue, &a1.notice, Some(&a1), "a2".into(), now);
        assert_eq!(
            (a2.attempt.attempts, a2.attempt.possible_duplicate),
            (2, true)
        );
        assert_eq!((&a2.clue, &a2.notice), (&a1.clue, &a1.notice));
    }

    #[test]
    fn the_record_keeps_its_state_readable_for_conditions() {
        let item = attempt_item(&first(Utc::now())).expect("item");
        assert_eq!(get_s(&item, "state").expect("state"), "sending");
        assert_eq!(get_s(&item, "attempt_id").expect("id"), "a1");
        let back = SendAttempt::try_from(item.clone()).expect("back");
        assert_eq!(back.attempt.state, AttemptState::Sending);
        // The record's JSON is flat, as before the attempt was shared with reminders.
        let data: serde_json::Value =
            serde_json::from_str(get_s(&item, "data").expect("data")).expect("json");
        assert_eq!(data["attempt_id"], "a1");
        assert_eq!(data["clue"], "c1");
        assert!(data.get("attempt").is_none());
    }
}
