//! Idempotency records: one item per key, written in the same transaction as the change it
//! records, holding a fingerprint of the request and the result first returned. A replay with the
//! same key and payload returns that result; with another payload it is refused.

use std::fmt;

use chrono::{DateTime, Duration, Utc};
use serde::Serialize;
use serde::de::DeserializeOwned;
use sha2::{Digest, Sha256};

use crate::error::StoreError;
use crate::item::{Item, get_json, get_s, key, n, s, to_json};
use crate::keys::{EXPIRES_AT, SK_IDEMPOTENCY, pk_idempotency};

/// How long a key is remembered (the table's TTL removes the record after that).
pub const IDEMPOTENCY_TTL: Duration = Duration::days(7);

/// A caller-chosen key naming one intended change (e.g. the request id of a WeChat message, or
/// a UUID the console generates per button press): 1–128 characters of `A-Za-z0-9-_:.`.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct IdempotencyKey(String);

impl IdempotencyKey {
    /// Parses a key.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for an empty, long or odd key.
    pub fn parse(s: &str) -> Result<Self, StoreError> {
        let ok = !s.is_empty()
            && s.len() <= 128
            && s.bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b':' | b'.'));
        if ok {
            Ok(Self(s.to_owned()))
        } else {
            Err(StoreError::Invalid("idempotency key"))
        }
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for IdempotencyKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// SHA-256 over the operation and its parts, length-prefixed.
pub(crate) fn fingerprint(op: &str, parts: &[&str]) -> String {
    let mut h = Sha256::new();
    for p in std::iter::once(op).chain(parts.iter().copied()) {
        h.update((p.len() as u64).to_be_bytes());
        h.update(p.as_bytes());
    }
    hex::encode(h.finalize())
}

/// A receipt's reporter key and fingerprint (the submission, its reporter, the identity).
pub(crate) fn receipt_fingerprint(
    keyer: &crate::vault::ReporterKeyer,
    submission: &crate::model::Submission,
    identity: &crate::vault::ReporterIdentity,
) -> Result<(domain::ReporterKey, String), StoreError> {
    let reporter = keyer.key(&identity.openid);
    let fp = fingerprint(
        "receive",
        &[
            &to_json(submission)?,
            reporter.as_str(),
            &keyer.fingerprint(identity),
        ],
    );
    Ok((reporter, fp))
}

/// A command's fingerprint (the clue, the command, who gives it).
pub(crate) fn command_fingerprint(
    clue: &domain::ClueId,
    command: &domain::Command,
    actor: &domain::Actor,
) -> Result<String, StoreError> {
    Ok(fingerprint(
        "execute",
        &[clue.as_str(), &to_json(command)?, &to_json(actor)?],
    ))
}

/// The record item of `key` holding `result`.
pub(crate) fn record_item<T: Serialize>(
    key_: &IdempotencyKey,
    op: &str,
    fingerprint: &str,
    result: &T,
    now: DateTime<Utc>,
) -> Result<Item, StoreError> {
    let mut item = key(pk_idempotency(key_.as_str()), SK_IDEMPOTENCY);
    item.extend([
        ("type".to_owned(), s("idempotency")),
        ("op".to_owned(), s(op)),
        ("status".to_owned(), s("COMPLETED")),
        ("fingerprint".to_owned(), s(fingerprint)),
        ("result".to_owned(), s(to_json(result)?)),
        ("created_at".to_owned(), s(crate::keys::instant(now))),
        (
            EXPIRES_AT.to_owned(),
            n((now + IDEMPOTENCY_TTL).timestamp()),
        ),
    ]);
    Ok(item)
}

/// The first result, if `item` records the same request.
///
/// # Errors
/// [`StoreError::IdempotencyMismatch`] for another payload under the same key.
pub(crate) fn replay<T: DeserializeOwned>(item: &Item, fingerprint: &str) -> Result<T, StoreError> {
    if get_s(item, "fingerprint")? != fingerprint {
        return Err(StoreError::IdempotencyMismatch);
    }
    get_json(item, "result")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_bounded_and_plain() {
        assert!(IdempotencyKey::parse("req-01JABC:1").is_ok());
        assert!(IdempotencyKey::parse("").is_err());
        assert!(IdempotencyKey::parse("a#b").is_err());
        assert!(IdempotencyKey::parse(&"a".repeat(129)).is_err());
    }

    #[test]
    fn fingerprints_separate_their_parts() {
        assert_ne!(
            fingerprint("x", &["ab", "c"]),
            fingerprint("x", &["a", "bc"])
        );
        assert_eq!(fingerprint("x", &["a"]), fingerprint("x", &["a"]));
    }

    #[test]
    fn a_record_replays_only_its_own_payload() {
        let k = IdempotencyKey::parse("k1").expect("key");
        let item = record_item(&k, "op", "fp1", &vec![1, 2, 3], Utc::now()).expect("item");
        assert_eq!(
            replay::<Vec<i32>>(&item, "fp1").expect("replay"),
            vec![1, 2, 3]
        );
        assert!(matches!(
            replay::<Vec<i32>>(&item, "fp2"),
            Err(StoreError::IdempotencyMismatch)
        ));
    }
}
