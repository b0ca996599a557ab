//! [`DynamoClueStore`] as [`ClueCommands`]: receipts and commands, decided in the domain and
//! written in one version-checked transaction with their idempotency record.

use std::collections::BTreeMap;

use crate::CalendarYears;
use aws_sdk_dynamodb::types::{ReturnConsumedCapacity, ReturnValue};
use chrono::{DateTime, NaiveDate, Utc};
use domain::calendar::shanghai_date;
use domain::command::Rules;
use domain::scope::{ScopeError, ScopeHistory};
use domain::text::Reason;
use domain::{Actor, ClueId, ClueNo, Command, DivisionCode, Divisions, DomainError, Officer};
use tracing::{instrument, warn};

use super::{Committed, DynamoClueStore, IN_FLIGHT_ATTEMPTS, TransactionCancelled, reported};
use crate::ClueCommands;
use crate::error::StoreError;
use crate::idempotency::{
    IdempotencyKey, command_fingerprint, receipt_fingerprint, record_item, replay,
};
use crate::item::*;
use crate::keys::*;
use crate::model::{CommandOutcome, Received, Submission};
use crate::plan::{
    Cancelled, Change, Receipt, apply_events, decide_receipt, plan_writes, referenced_clue,
    resolve_references,
};
use crate::vault::{ReporterIdentity, VaultContext, seal};

impl DynamoClueStore {
    // ----------------------------------------------------------------------- writes

    async fn idempotency_record(&self, key: &IdempotencyKey) -> Result<Option<Item>, StoreError> {
        self.get("idempotency", pk_idempotency(key.as_str()), SK_IDEMPOTENCY)
            .await
    }

    async fn replay_or_conflict<T: serde::de::DeserializeOwned>(
        &self,
        key: &IdempotencyKey,
        fp: &str,
        mark: impl FnOnce(&mut T),
    ) -> Result<T, StoreError> {
        match self.idempotency_record(key).await? {
            Some(item) => {
                let mut result: T = replay(&item, fp)?;
                mark(&mut result);
                Ok(result)
            }
            None => Err(StoreError::Conflict),
        }
    }

    /// Loads clues not yet in `loaded` (consistent reads).
    pub(super) async fn load_clues(
        &self,
        ids: impl IntoIterator<Item = ClueId>,
        loaded: &mut BTreeMap<ClueId, StoredClue>,
    ) -> Result<(), StoreError> {
        let missing: Vec<ClueId> = ids
            .into_iter()
            .filter(|id| !loaded.contains_key(id))
            .collect::<std::collections::BTreeSet<_>>()
            .into_iter()
            .collect();
        if missing.is_empty() {
            return Ok(());
        }
        let keys = missing.iter().map(|id| key(pk_clue(id), SK_CLUE)).collect();
        for item in self.batch_get("load", keys).await? {
            let stored = StoredClue::try_from(item)?;
            loaded.insert(stored.clue.id.clone(), stored);
        }
        match missing.iter().find(|id| !loaded.contains_key(*id)) {
            Some(id) => Err(StoreError::NotFound(format!("clue {id}"))),
            None => Ok(()),
        }
    }

    /// Loads the other clue a command names (merge primary, duplicate's earlier clue) and
    /// replaces it by its stored view, so the decision sees the truth.
    async fn resolve_references(
        &self,
        command: Command,
        loaded: &mut BTreeMap<ClueId, StoredClue>,
    ) -> Result<Command, StoreError> {
        if let Some(id) = referenced_clue(&command) {
            self.load_clues([id.clone()], loaded).await?;
        }
        resolve_references(command, loaded)
    }

    #[allow(clippy::too_many_arguments)]
    async fn execute_once(
        &self,
        clue_id: &ClueId,
        expected: Option<u64>,
        command: &Command,
        actor: &Actor,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
        fp: &str,
    ) -> Result<Result<CommandOutcome, Cancelled>, StoreError> {
        let got = self
            .batch_get(
                "load",
                vec![
                    key_item(pk_clue(clue_id), SK_CLUE),
                    key_item(pk_idempotency(key.as_str()), SK_IDEMPOTENCY),
                ],
            )
            .await?;
        let mut loaded = BTreeMap::new();
        for item in got {
            if get_s(&item, PK)?.starts_with("IDEM#") {
                let mut outcome: CommandOutcome = replay(&item, fp)?;
                outcome.replayed = true;
                return Ok(Ok(outcome));
            }
            let stored = StoredClue::try_from(item)?;
            loaded.insert(stored.clue.id.clone(), stored);
        }
        let clue = loaded
            .get(clue_id)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("clue {clue_id}")))?;
        if expected.is_some_and(|v| v != clue.clue.version) {
            return Ok(Err(Cancelled::VersionChanged));
        }
        let command = self
            .resolve_references(command.clone(), &mut loaded)
            .await?;
        let directory = self.directory().await?;
        let calendar = self.calendar().await?;
        let rules = Rules {
            calendar: &calendar,
            bureaus: &directory,
            divisions: Divisions::embedded(),
        };
        let events = clue.clue.decide(&command, actor, now, &rules)?;
        self.load_clues(events.iter().map(|e| e.clue.clone()), &mut loaded)
            .await?;
        let changes = apply_events(&loaded, None, &events)?;
        let version = changes
            .iter()
            .find(|c| &c.after.clue.id == clue_id)
            .map_or(clue.clue.version + 1, |c| c.after.clue.version);
        let outcome = CommandOutcome {
            clue: clue_id.clone(),
            version,
            events,
            replayed: false,
        };
        let record = record_item(key, "execute", fp, &outcome, now)?;
        let plan = plan_writes(&self.table, &changes, Some(record), Vec::new())?;
        match self.transact("execute", plan).await? {
            Committed::Yes => Ok(Ok(outcome)),
            Committed::No(why) => Ok(Err(why)),
        }
    }

    /// The next clue number of `division` on `date`: an atomic counter item per county and day
    /// (one `UpdateItem`). Numbers are never reused; a failed or retried receipt leaves a gap.
    async fn next_sequence(
        &self,
        division: &DivisionCode,
        date: NaiveDate,
    ) -> Result<u32, StoreError> {
        let expires = date
            .succ_opt()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(0, |d| d.and_utc().timestamp() + 3 * 86_400);
        let out = self
            .db
            .update_item()
            .table_name(&self.table)
            .key(PK, s(pk_sequence(division)))
            .key(SK, s(sk_day(date)))
            .update_expression("ADD seq :one SET expires_at = :exp")
            .expression_attribute_values(":one", n(1))
            .expression_attribute_values(":exp", n(expires))
            .return_values(ReturnValue::UpdatedNew)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::sdk("UpdateItem", e))?;
        self.meter
            .record("sequence", 1, reported(out.consumed_capacity()), 1.0);
        out.attributes()
            .and_then(|a| a.get("seq"))
            .and_then(|v| v.as_n().ok())
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| StoreError::malformed(pk_sequence(division), "no seq"))
    }
}

fn key_item(pk: String, sk: &str) -> Item {
    key(pk, sk)
}

impl ClueCommands for DynamoClueStore {
    #[instrument(skip_all, fields(clue = %submission.clue_id))]
    async fn receive(
        &self,
        submission: Submission,
        identity: ReporterIdentity,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> Result<Received, StoreError> {
        let (reporter, fp) = receipt_fingerprint(self.keyer()?, &submission, &identity)?;
        if let Some(item) = self.idempotency_record(key).await? {
            let mut r: Received = replay(&item, &fp)?;
            r.replayed = true;
            return Ok(r);
        }
        let division = submission.report.location.division;
        let city = division
            .city()
            .ok_or(DomainError::NotReportableLocation(division))?;
        let directory = self.directory().await?;
        let calendar = self.calendar().await?;
        let rules = Rules {
            calendar: &calendar,
            bureaus: &directory,
            divisions: Divisions::embedded(),
        };
        let real_name = identity.is_real_name();
        let date = shanghai_date(now);
        // Decide once with a provisional number: an invalid submission never takes a number.
        let mut history = self.scope_cached(city, false).await?;
        let provisional = ClueNo::new(division, date, 1);
        let scope_of = |h: &ScopeHistory| h.in_force(now).clone();
        let mut scope = scope_of(&history);
        if let Err(DomainError::Scope(ScopeError::StaleNotice(_))) = decide_receipt(
            &submission,
            provisional.clone(),
            &reporter,
            real_name,
            &scope,
            now,
            &rules,
        ) {
            history = self.scope_cached(city, true).await?;
            scope = scope_of(&history);
        }
        // A resubmission links the earlier clue (its reporter's, closed need_material).
        let mut loaded = BTreeMap::new();
        if let Some(old) = &submission.report.resubmission_of {
            self.load_clues([old.clone()], &mut loaded).await?;
        }
        let keys = self.keyer()?.keys(&identity.openid);
        let receipt = Receipt::new(&submission, &reporter, &keys, real_name, &scope, &loaded)?;
        receipt.events(provisional, now, &rules)?;
        let seq = self.next_sequence(&division, date).await?;
        let clue_no = ClueNo::new(division, date, seq);
        let events = receipt.events(clue_no.clone(), now, &rules)?;
        let sealed = seal(
            &self
                .data_key(&VaultContext::clue(&submission.clue_id))
                .await?,
            submission.clue_id.as_str(),
            &identity,
        )?;
        let vault = vault_item(&submission.clue_id, &sealed, &identity.masked())?;
        let changes: Vec<Change> = apply_events(&loaded, Some(&submission.clue_id), &events)?;
        let received = Received {
            clue_id: submission.clue_id.clone(),
            clue_no,
            reporter,
            events,
            replayed: false,
        };
        let record = record_item(key, "receive", &fp, &received, now)?;
        let plan = plan_writes(&self.table, &changes, Some(record), vec![vault])?;
        for attempt in 0..IN_FLIGHT_ATTEMPTS {
            match self.transact("receive", plan.clone()).await? {
                Committed::Yes => return Ok(received),
                Committed::No(Cancelled::InFlight) => {
                    warn!(
                        attempt,
                        "receipt met another transaction in flight; retrying"
                    );
                    Self::backoff(attempt).await;
                }
                Committed::No(Cancelled::Other(code)) => {
                    return Err(StoreError::sdk(
                        "TransactWriteItems",
                        TransactionCancelled(code),
                    ));
                }
                Committed::No(Cancelled::AlreadyDone | Cancelled::VersionChanged) => break,
            }
        }
        self.replay_or_conflict(key, &fp, |r: &mut Received| r.replayed = true)
            .await
    }

    async fn execute(
        &self,
        clue_id: &ClueId,
        command: Command,
        actor: &Actor,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> Result<CommandOutcome, StoreError> {
        self.execute_if_version(clue_id, None, command, actor, now, key)
            .await
    }

    #[instrument(skip_all, fields(clue = %clue_id, command = command.name()))]
    async fn execute_if_version(
        &self,
        clue_id: &ClueId,
        expected_version: Option<u64>,
        command: Command,
        actor: &Actor,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> Result<CommandOutcome, StoreError> {
        let fp = command_fingerprint(clue_id, &command, actor)?;
        for attempt in 0..IN_FLIGHT_ATTEMPTS {
            match self
                .execute_once(clue_id, expected_version, &command, actor, now, key, &fp)
                .await?
            {
                Ok(outcome) => return Ok(outcome),
                Err(Cancelled::InFlight) => {
                    warn!(attempt, "transaction met another in flight; deciding again");
                    Self::backoff(attempt).await;
                }
                Err(Cancelled::Other(code)) => {
                    return Err(StoreError::sdk(
                        "TransactWriteItems",
                        TransactionCancelled(code),
                    ));
                }
                Err(Cancelled::AlreadyDone | Cancelled::VersionChanged) => {
                    return self
                        .replay_or_conflict(key, &fp, |o: &mut CommandOutcome| o.replayed = true)
                        .await;
                }
            }
        }
        Err(StoreError::Conflict)
    }

    async fn reveal(
        &self,
        id: &ClueId,
        officer: &Officer,
        reason: Reason,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> Result<ReporterIdentity, StoreError> {
        let actor = Actor::Officer {
            officer: officer.clone(),
        };
        self.execute(id, Command::RevealIdentity { reason }, &actor, now, key)
            .await?;
        self.decrypt_identity(id).await
    }
}
