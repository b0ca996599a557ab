//! What the store takes and returns, beyond the domain's own types.

use aws_sdk_dynamodb::types::AttributeValue;
use domain::event::Evidence;
use domain::report::Report;
use domain::{ClueId, ClueNo, Event, ReceiveClue, ReporterKey};
use serde::{Deserialize, Serialize};

use crate::error::StoreError;
use crate::item::Item;

/// A new clue as the reporter submits it: the [`Report`] with its clue id (from the request's
/// idempotency key) and its evidence (the reporter's processed attachments). The store adds the
/// clue number and the reporter key (from the identity) and decides the receipt in the domain;
/// a resubmission's link is recorded on the old clue in the same transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Submission {
    pub clue_id: ClueId,
    #[serde(flatten)]
    pub report: Report,
    pub evidence: Vec<Evidence>,
}

impl Submission {
    /// The domain's receipt command: what the store adds to the submission.
    pub fn receive_command(
        &self,
        clue_no: ClueNo,
        reporter: &ReporterKey,
        real_name: bool,
    ) -> ReceiveClue {
        ReceiveClue {
            clue_id: self.clue_id.clone(),
            clue_no,
            reporter: reporter.clone(),
            real_name,
            report: self.report.clone(),
            evidence: self.evidence.clone(),
        }
    }
}

/// The result of a receipt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Received {
    pub clue_id: ClueId,
    pub clue_no: ClueNo,
    pub reporter: ReporterKey,
    /// Every event stored (the new clue's, and the resubmitted clue's link).
    pub events: Vec<Event>,
    /// Whether this is the stored result of an earlier call with the same key.
    #[serde(default)]
    pub replayed: bool,
}

/// The result of a command.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CommandOutcome {
    pub clue: ClueId,
    /// The clue's version after the command.
    pub version: u64,
    /// Every event stored, on this clue and on the clues it touched.
    pub events: Vec<Event>,
    /// Whether this is the stored result of an earlier call with the same key.
    #[serde(default)]
    pub replayed: bool,
}

impl CommandOutcome {
    /// The notices this command owed, as `(clue, notice id)`: what to enqueue on `notice.fifo`.
    pub fn notices(&self) -> Vec<(ClueId, domain::NoticeId)> {
        notices_of(&self.events)
    }
}

impl Received {
    /// The notices owed (the receipt notice).
    pub fn notices(&self) -> Vec<(ClueId, domain::NoticeId)> {
        notices_of(&self.events)
    }
}

fn notices_of(events: &[Event]) -> Vec<(ClueId, domain::NoticeId)> {
    events
        .iter()
        .filter_map(|e| match &e.kind {
            domain::EventKind::NoticeOwed { notice } => Some((e.clue.clone(), notice.id.clone())),
            _ => None,
        })
        .collect()
}

/// An opaque position in a paged listing.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Cursor(String);

impl Cursor {
    pub(crate) fn from_key(key: &Item) -> Result<Self, StoreError> {
        let flat: std::collections::BTreeMap<&str, &str> = key
            .iter()
            .filter_map(|(k, v)| v.as_s().ok().map(|v| (k.as_str(), v.as_str())))
            .collect();
        serde_json::to_string(&flat)
            .map(Self)
            .map_err(|e| StoreError::malformed("cursor", e))
    }

    pub(crate) fn to_key(&self) -> Result<Item, StoreError> {
        let flat: std::collections::BTreeMap<String, String> =
            serde_json::from_str(&self.0).map_err(|_| StoreError::Invalid("cursor"))?;
        Ok(flat
            .into_iter()
            .map(|(k, v)| (k, AttributeValue::S(v)))
            .collect())
    }

    /// The cursor as text, for an API response.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// A cursor received back from a client.
    pub fn from_text(s: impl Into<String>) -> Self {
        Self(s.into())
    }
}

/// Which page of a listing to read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PageRequest {
    pub limit: i32,
    pub cursor: Option<Cursor>,
}

impl Default for PageRequest {
    fn default() -> Self {
        Self {
            limit: 50,
            cursor: None,
        }
    }
}

/// One page of a listing, and where the next starts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Page<T> {
    pub items: Vec<T>,
    pub next: Option<Cursor>,
}
