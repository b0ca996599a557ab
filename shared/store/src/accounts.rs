//! Officer sign-in accounts of the platform's own issuer: credentials, lock-out, refresh tokens,
//! sign-in challenges and the audit trail, on the one table.
//!
//! | item | `pk` | `sk` | notes |
//! |---|---|---|---|
//! | officer (authoritative: `data` = `domain::Officer`; `disabled` BOOL, absent = active) | `OFFICER#<sub>` | `OFFICER` | GSI1 by bureau (see `item::officer_item`) |
//! | account (user name, argon2id PHC hash, TOTP secret, pending secret, `failures`, `locked_until`, `must_change_password`, `last_totp_step`) | `OFFICER#<sub>` | `ACCOUNT` | |
//! | user name → sub (uniqueness) | `LOGIN#<username>` | `LOGIN` | |
//! | refresh token (SHA-256 of the token; `revoked`; TTL `expires_at`) | `REFRESH#<sha256>` | `REFRESH` | |
//! | sign-in challenge between the steps (SHA-256; `purpose`; TTL) | `CHALLENGE#<sha256>` | `CHALLENGE` | |
//! | audit entry (kind, officer sub, actor sub, detail; never a password, code or secret) | `AUDIT#<yyyy-mm-dd>` | `<rfc3339>#<random>` | |
//!
//! | pattern | how | requests |
//! |---|---|---|
//! | create an officer with its account | `TransactWriteItems`: officer + account + login (each `attribute_not_exists`) | 1 |
//! | account by user name | GetItem login, GetItem account | 2 |
//! | a failure / a success (TOTP step strictly after the last one used) | UpdateItem (conditional) | 1 (+1 when the failure locks) |
//! | take a refresh token / challenge (single use) | UpdateItem `revoked` / DeleteItem, conditional, old values returned | 1 |
//! | disable / enable | UpdateItem `disabled` on the officer (`attribute_exists`) | 1 |

use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::types::{AttributeValue, Put, ReturnValue, TransactWriteItem};
use chrono::{DateTime, Utc};
use domain::{Officer, OfficerId};
use sha2::{Digest, Sha256};

use crate::Accounts;
use crate::dynamo::DynamoClueStore;
use crate::error::StoreError;
use crate::item::{Item, get_json, get_s, key, n, officer_item, s};
use crate::keys::{PK, SK, SK_OFFICER, pk_officer};
use crate::meter::{item_size, write_units};

const SK_ACCOUNT: &str = "ACCOUNT";
const SK_LOGIN: &str = "LOGIN";
const SK_REFRESH: &str = "REFRESH";
const SK_CHALLENGE: &str = "CHALLENGE";

fn pk_login(username: &str) -> String {
    format!("LOGIN#{username}")
}

fn token_hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// An officer's sign-in account (secrets included: never log it).
#[derive(Clone, PartialEq, Eq)]
pub struct Account {
    pub id: OfficerId,
    pub username: String,
    /// argon2id, PHC string format.
    pub password_hash: String,
    pub must_change_password: bool,
    /// The enrolled TOTP secret (base32); `None` until enrolment is confirmed.
    pub totp_secret: Option<String>,
    /// A secret shown for enrolment and not yet confirmed with a code.
    pub totp_pending: Option<String>,
    /// Consecutive failures since the last success or lock.
    pub failures: u32,
    pub locked_until: Option<DateTime<Utc>>,
    /// The last TOTP time step accepted: a code of this step or an earlier one is refused.
    pub last_totp_step: Option<u64>,
}

impl std::fmt::Debug for Account {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Account")
            .field("id", &self.id)
            .field("must_change_password", &self.must_change_password)
            .field("totp_enrolled", &self.totp_secret.is_some())
            .field("failures", &self.failures)
            .field("locked_until", &self.locked_until)
            .finish_non_exhaustive()
    }
}

/// What a recorded failure did to the account.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// Counted; `n` consecutive failures now.
    Counted(u32),
    /// This failure locked the account until the given instant.
    Locked(DateTime<Utc>),
}

/// One audit entry: who did what to which officer account. Never a password, code or secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AuditEntry {
    pub at: DateTime<Utc>,
    /// e.g. `sign_in`, `sign_in_failed`, `locked`, `officer_created`, `officer_disabled`.
    pub kind: &'static str,
    /// The account concerned; `None` for a failure with an unknown user name.
    pub officer: Option<OfficerId>,
    /// Who acted (an admin's sub); `None` when the officer acted themselves.
    pub actor: Option<OfficerId>,
    /// A short, non-secret detail (e.g. the failed factor, the roles given).
    pub detail: String,
}

/// A sign-in challenge between two steps (password accepted, then a new password or TOTP
/// enrolment).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub officer: OfficerId,
    pub purpose: String,
    pub expires_at: DateTime<Utc>,
}

fn is_conditional_failure<E: ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    e.as_service_error().and_then(ProvideErrorMetadata::code)
        == Some("ConditionalCheckFailedException")
}

fn opt_s(item: &Item, name: &str) -> Option<String> {
    item.get(name).and_then(|v| v.as_s().ok()).cloned()
}

fn opt_n<T: std::str::FromStr>(item: &Item, name: &str) -> Option<T> {
    item.get(name)
        .and_then(|v| v.as_n().ok())
        .and_then(|v| v.parse().ok())
}

fn account_from(item: &Item) -> Result<Account, StoreError> {
    let id = OfficerId::parse(get_s(item, "officer")?)
        .map_err(|e| StoreError::malformed("account", e))?;
    Ok(Account {
        id,
        username: get_s(item, "username")?.to_owned(),
        password_hash: get_s(item, "password_hash")?.to_owned(),
        must_change_password: item
            .get("must_change_password")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false),
        totp_secret: opt_s(item, "totp_secret"),
        totp_pending: opt_s(item, "totp_pending"),
        failures: opt_n(item, "failures").unwrap_or(0),
        locked_until: opt_n::<i64>(item, "locked_until")
            .and_then(|t| DateTime::from_timestamp(t, 0)),
        last_totp_step: opt_n(item, "last_totp_step"),
    })
}

impl DynamoClueStore {
    /// An update of `id`'s sign-in account item (sent by [`Self::update`]).
    fn account_update(
        &self,
        id: &OfficerId,
    ) -> aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder {
        self.db
            .update_item()
            .key(PK, s(pk_officer(id)))
            .key(SK, s(SK_ACCOUNT))
    }

    async fn update(
        &self,
        op: &'static str,
        u: aws_sdk_dynamodb::operation::update_item::builders::UpdateItemFluentBuilder,
    ) -> Result<Option<Option<Item>>, StoreError> {
        match u.table_name(self.table()).send().await {
            Ok(out) => {
                self.meter().record(op, 1, None, 1.0);
                Ok(Some(out.attributes))
            }
            Err(e) if is_conditional_failure(&e) => {
                self.meter().record(op, 0, None, 1.0);
                Ok(None)
            }
            Err(e) => Err(StoreError::sdk("UpdateItem", e)),
        }
    }

    async fn put_expiring(
        &self,
        op: &'static str,
        pk: String,
        sk: &str,
        id: &OfficerId,
        expires_at: DateTime<Utc>,
        extra: Vec<(String, AttributeValue)>,
    ) -> Result<(), StoreError> {
        let mut item = key(pk, sk);
        item.extend([
            ("type".to_owned(), s(sk.to_ascii_lowercase())),
            ("officer".to_owned(), s(id.as_str())),
            ("expires_at".to_owned(), n(expires_at.timestamp())),
        ]);
        item.extend(extra);
        let size = item_size(&item);
        self.db
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::sdk("PutItem", e))?;
        self.meter().record(op, 1, None, write_units(size));
        Ok(())
    }
}

/// The audit kinds, as `&'static str` (read back from the table).
pub const AUDIT_KINDS: &[&str] = &[
    "sign_in",
    "sign_in_failed",
    "locked",
    "password_changed",
    "totp_enrolled",
    "refreshed",
    "signed_out",
    "officer_created",
    "officer_disabled",
    "officer_enabled",
    "totp_reset",
    "password_reset",
];

pub(crate) fn audit_kind(k: &str) -> &'static str {
    AUDIT_KINDS
        .iter()
        .find(|x| **x == k)
        .copied()
        .unwrap_or("other")
}

impl Accounts for DynamoClueStore {
    async fn create_officer_account(
        &self,
        officer: &Officer,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut account = key(pk_officer(&officer.id), SK_ACCOUNT);
        account.extend([
            ("type".to_owned(), s("account")),
            ("officer".to_owned(), s(officer.id.as_str())),
            ("username".to_owned(), s(username)),
            ("password_hash".to_owned(), s(password_hash)),
            (
                "must_change_password".to_owned(),
                AttributeValue::Bool(true),
            ),
            ("failures".to_owned(), n(0)),
        ]);
        let mut login = key(pk_login(username), SK_LOGIN);
        login.extend([
            ("type".to_owned(), s("login")),
            ("officer".to_owned(), s(officer.id.as_str())),
        ]);
        let items = [officer_item(officer)?, account, login];
        let units: f64 = items.iter().map(|i| 2.0 * write_units(item_size(i))).sum();
        let puts = items
            .into_iter()
            .map(|item| {
                Put::builder()
                    .table_name(self.table())
                    .set_item(Some(item))
                    .condition_expression("attribute_not_exists(pk)")
                    .build()
                    .map(|p| TransactWriteItem::builder().put(p).build())
                    .map_err(|e| StoreError::sdk("TransactWriteItems", e))
            })
            .collect::<Result<Vec<_>, _>>()?;
        let result = self
            .db
            .transact_write_items()
            .set_transact_items(Some(puts))
            .send()
            .await;
        match result {
            Ok(_) => {
                self.meter().record("create_officer", 3, None, units);
                Ok(true)
            }
            Err(SdkError::ServiceError(se))
                if se.err().code() == Some("TransactionCanceledException") =>
            {
                Ok(false)
            }
            Err(e) => Err(StoreError::sdk("TransactWriteItems", e)),
        }
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<Account>, StoreError> {
        let Some(login) = self.get("login", pk_login(username), SK_LOGIN).await? else {
            return Ok(None);
        };
        let id = OfficerId::parse(get_s(&login, "officer")?)
            .map_err(|e| StoreError::malformed("login", e))?;
        self.account(&id).await
    }

    async fn account(&self, id: &OfficerId) -> Result<Option<Account>, StoreError> {
        self.get("account", pk_officer(id), SK_ACCOUNT)
            .await?
            .map(|i| account_from(&i))
            .transpose()
    }

    async fn active_officer(&self, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
        let Some(item) = self.get("officer", pk_officer(id), SK_OFFICER).await? else {
            return Ok(None);
        };
        let disabled = item
            .get("disabled")
            .and_then(|v| v.as_bool().ok())
            .copied()
            .unwrap_or(false);
        if disabled {
            return Ok(None);
        }
        get_json(&item, "data").map(Some)
    }

    async fn officer_of_any_state(&self, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
        self.get("officer", pk_officer(id), SK_OFFICER)
            .await?
            .map(|i| get_json(&i, "data"))
            .transpose()
    }

    async fn set_officer_disabled(
        &self,
        id: &OfficerId,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let u = self
            .db
            .update_item()
            .key(PK, s(pk_officer(id)))
            .key(SK, s(SK_OFFICER))
            .update_expression("SET disabled = :d")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":d", AttributeValue::Bool(disabled));
        Ok(self.update("officer_disabled", u).await?.is_some())
    }

    async fn record_sign_in_failure(
        &self,
        id: &OfficerId,
        now: DateTime<Utc>,
        max: u32,
        lock_for: chrono::Duration,
    ) -> Result<Failure, StoreError> {
        let u = self
            .account_update(id)
            .update_expression("ADD failures :one")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":one", n(1))
            .return_values(ReturnValue::AllNew);
        let count: u32 = self
            .update("sign_in_failure", u)
            .await?
            .flatten()
            .and_then(|i| opt_n(&i, "failures"))
            .ok_or_else(|| StoreError::NotFound(format!("account {id}")))?;
        if count < max {
            return Ok(Failure::Counted(count));
        }
        let until = now + lock_for;
        let u = self
            .account_update(id)
            .update_expression("SET failures = :zero, locked_until = :until")
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":until", n(until.timestamp()));
        self.update("sign_in_lock", u).await?;
        Ok(Failure::Locked(until))
    }

    async fn record_sign_in_success(&self, id: &OfficerId, step: u64) -> Result<bool, StoreError> {
        let u = self
            .account_update(id)
            .update_expression("SET failures = :zero, last_totp_step = :step REMOVE locked_until")
            .condition_expression(
                "attribute_exists(pk) AND (attribute_not_exists(last_totp_step) OR last_totp_step < :step)",
            )
            .expression_attribute_values(":zero", n(0))
            .expression_attribute_values(":step", n(step));
        Ok(self.update("sign_in_success", u).await?.is_some())
    }

    async fn set_password(
        &self,
        id: &OfficerId,
        password_hash: &str,
        must_change: bool,
    ) -> Result<bool, StoreError> {
        let u = self
            .account_update(id)
            .update_expression("SET password_hash = :h, must_change_password = :m")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":h", s(password_hash))
            .expression_attribute_values(":m", AttributeValue::Bool(must_change));
        Ok(self.update("set_password", u).await?.is_some())
    }

    async fn set_totp_pending(&self, id: &OfficerId, secret: &str) -> Result<bool, StoreError> {
        let u = self
            .account_update(id)
            .update_expression("SET totp_pending = :p")
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":p", s(secret));
        Ok(self.update("totp_pending", u).await?.is_some())
    }

    async fn confirm_totp(
        &self,
        id: &OfficerId,
        secret: &str,
        step: u64,
    ) -> Result<bool, StoreError> {
        let u = self
            .account_update(id)
            .update_expression(
                "SET totp_secret = :p, last_totp_step = :step, failures = :zero REMOVE totp_pending, locked_until",
            )
            .condition_expression(
                "totp_pending = :p AND (attribute_not_exists(last_totp_step) OR last_totp_step < :step)",
            )
            .expression_attribute_values(":p", s(secret))
            .expression_attribute_values(":step", n(step))
            .expression_attribute_values(":zero", n(0));
        Ok(self.update("totp_confirm", u).await?.is_some())
    }

    async fn reset_totp(&self, id: &OfficerId) -> Result<bool, StoreError> {
        let u = self
            .account_update(id)
            .update_expression(
                "REMOVE totp_secret, totp_pending, locked_until SET failures = :zero",
            )
            .condition_expression("attribute_exists(pk)")
            .expression_attribute_values(":zero", n(0));
        Ok(self.update("totp_reset", u).await?.is_some())
    }

    async fn put_refresh_token(
        &self,
        token: &str,
        id: &OfficerId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.put_expiring(
            "refresh_put",
            format!("REFRESH#{}", token_hash(token)),
            SK_REFRESH,
            id,
            expires_at,
            vec![("revoked".to_owned(), AttributeValue::Bool(false))],
        )
        .await
    }

    async fn take_refresh_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OfficerId>, StoreError> {
        let u = self
            .db
            .update_item()
            .key(PK, s(format!("REFRESH#{}", token_hash(token))))
            .key(SK, s(SK_REFRESH))
            .update_expression("SET revoked = :t")
            .condition_expression("attribute_exists(pk) AND revoked = :f AND expires_at > :now")
            .expression_attribute_values(":t", AttributeValue::Bool(true))
            .expression_attribute_values(":f", AttributeValue::Bool(false))
            .expression_attribute_values(":now", n(now.timestamp()))
            .return_values(ReturnValue::AllOld);
        match self.update("refresh_take", u).await?.flatten() {
            Some(item) => Ok(Some(
                OfficerId::parse(get_s(&item, "officer")?)
                    .map_err(|e| StoreError::malformed("refresh", e))?,
            )),
            None => Ok(None),
        }
    }

    async fn put_challenge(&self, token: &str, challenge: &Challenge) -> Result<(), StoreError> {
        self.put_expiring(
            "challenge_put",
            format!("CHALLENGE#{}", token_hash(token)),
            SK_CHALLENGE,
            &challenge.officer,
            challenge.expires_at,
            vec![("purpose".to_owned(), s(&challenge.purpose))],
        )
        .await
    }

    async fn take_challenge(&self, token: &str) -> Result<Option<Challenge>, StoreError> {
        let out = self
            .db
            .delete_item()
            .table_name(self.table())
            .key(PK, s(format!("CHALLENGE#{}", token_hash(token))))
            .key(SK, s(SK_CHALLENGE))
            .condition_expression("attribute_exists(pk)")
            .return_values(ReturnValue::AllOld)
            .send()
            .await;
        let item = match out {
            Ok(out) => out.attributes,
            Err(e) if is_conditional_failure(&e) => None,
            Err(e) => return Err(StoreError::sdk("DeleteItem", e)),
        };
        self.meter().record("challenge_take", 1, None, 1.0);
        let Some(item) = item else { return Ok(None) };
        Ok(Some(Challenge {
            officer: OfficerId::parse(get_s(&item, "officer")?)
                .map_err(|e| StoreError::malformed("challenge", e))?,
            purpose: get_s(&item, "purpose")?.to_owned(),
            expires_at: opt_n::<i64>(&item, "expires_at")
                .and_then(|t| DateTime::from_timestamp(t, 0))
                .ok_or_else(|| StoreError::malformed("challenge", "no expires_at"))?,
        }))
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut rnd = [0u8; 8];
        getrandom::fill(&mut rnd).map_err(|_| StoreError::Vault("no randomness"))?;
        let mut item = key(
            format!("AUDIT#{}", entry.at.format("%Y-%m-%d")),
            format!(
                "{}#{}",
                entry
                    .at
                    .to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
                hex::encode(rnd)
            ),
        );
        item.extend([
            ("type".to_owned(), s("audit")),
            ("kind".to_owned(), s(entry.kind)),
            ("detail".to_owned(), s(&entry.detail)),
        ]);
        if let Some(o) = &entry.officer {
            item.insert("officer".to_owned(), s(o.as_str()));
        }
        if let Some(a) = &entry.actor {
            item.insert("actor".to_owned(), s(a.as_str()));
        }
        let size = item_size(&item);
        self.db
            .put_item()
            .table_name(self.table())
            .set_item(Some(item))
            .send()
            .await
            .map_err(|e| StoreError::sdk("PutItem", e))?;
        self.meter().record("audit", 1, None, write_units(size));
        Ok(())
    }

    async fn audit_of_day(&self, day: chrono::NaiveDate) -> Result<Vec<AuditEntry>, StoreError> {
        let out = self
            .db
            .query()
            .table_name(self.table())
            .key_condition_expression("pk = :pk")
            .expression_attribute_values(":pk", s(format!("AUDIT#{}", day.format("%Y-%m-%d"))))
            .consistent_read(true)
            .send()
            .await
            .map_err(|e| StoreError::sdk("Query", e))?;
        self.meter()
            .record("audit_read", out.items().len() as u64, None, 1.0);
        out.items()
            .iter()
            .map(|i| {
                let sk = get_s(i, SK)?;
                let at = sk
                    .split_once('#')
                    .and_then(|(t, _)| DateTime::parse_from_rfc3339(t).ok())
                    .map(|t| t.with_timezone(&Utc))
                    .ok_or_else(|| StoreError::malformed(sk.to_owned(), "audit sort key"))?;
                let parse = |name: &str| {
                    opt_s(i, name)
                        .map(|v| OfficerId::parse(&v))
                        .transpose()
                        .map_err(|e| StoreError::malformed("audit", e))
                };
                Ok(AuditEntry {
                    at,
                    kind: audit_kind(get_s(i, "kind")?),
                    officer: parse("officer")?,
                    actor: parse("actor")?,
                    detail: opt_s(i, "detail").unwrap_or_default(),
                })
            })
            .collect()
    }
}
