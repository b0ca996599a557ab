//! [`DynamoClueStore`]: the [`ClueStore`] on the one DynamoDB table, with KMS for the vault.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{
    ConsumedCapacity, KeysAndAttributes, ReturnConsumedCapacity, ReturnValue,
};
use aws_sdk_kms::types::DataKeySpec;
use chrono::{DateTime, NaiveDate, Utc};
use domain::calendar::shanghai_date;
use domain::command::{JudgmentRequest, Rules};
use domain::scope::{ScopeError, ScopeHistory, ScopeVersion};
use domain::text::Reason;
use domain::timeline::{Head, TimelineEntry, verify};
use domain::{
    Actor, Bureau, BureauDirectory, BureauId, ClueId, ClueNo, Command, DivisionCode, Divisions,
    DomainError, Officer, OfficerId, ReporterKey, WorkingCalendar,
};
use tracing::{instrument, warn};

use crate::error::StoreError;
use crate::idempotency::{IdempotencyKey, fingerprint, record_item, replay};
use crate::item::*;
use crate::keys::*;
use crate::meter::{Meter, item_size, read_units_each, read_units_total, write_units};
use crate::model::{CommandOutcome, Cursor, Page, PageRequest, Received, Submission};
use crate::plan::{Cancelled, Change, WritePlan, apply_events, classify, counters_of, plan_writes};
use crate::vault::{
    DataKey, MaskedIdentity, ReporterIdentity, ReporterKeyer, VaultContext, open, seal,
};
use crate::{ClueStore, MAX_MERGE_MEMBERS};

/// How many times a command is decided again when its transaction met another one in flight
/// on a shared item (e.g. a statistics counter), before giving up with a conflict.
pub(crate) const IN_FLIGHT_ATTEMPTS: u32 = 5;

/// What the store needs besides its clients.
#[derive(Clone)]
pub struct StoreConfig {
    /// The table of `template.yaml` (`TABLE_NAME`).
    pub table_name: String,
    /// The KMS key of the identity vault (`PII_KEY_ID`).
    pub pii_key_id: String,
    /// The secret of the reporter keyed hash (from Secrets Manager), at least 16 bytes; `None`
    /// for functions that never receive reporters (the officer API), which then cannot.
    pub reporter_key_secret: Option<Vec<u8>>,
    /// The previous live versions of that secret, newest first (a reporter's earlier clues).
    pub previous_reporter_key_secrets: Vec<Vec<u8>>,
    /// How long the bureau directory and scope histories are cached (default 5 minutes).
    pub cache_ttl: Duration,
}

impl std::fmt::Debug for StoreConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StoreConfig")
            .field("table_name", &self.table_name)
            .field("pii_key_id", &self.pii_key_id)
            .field("cache_ttl", &self.cache_ttl)
            .finish_non_exhaustive()
    }
}

impl StoreConfig {
    pub fn new(
        table_name: impl Into<String>,
        pii_key_id: impl Into<String>,
        reporter_key_secret: impl Into<Vec<u8>>,
    ) -> Self {
        Self {
            table_name: table_name.into(),
            pii_key_id: pii_key_id.into(),
            reporter_key_secret: Some(reporter_key_secret.into()),
            previous_reporter_key_secrets: Vec::new(),
            cache_ttl: Duration::from_secs(300),
        }
    }

    /// The same with the previous live versions of the reporter-key secret, newest first.
    pub fn with_previous_reporter_keys(mut self, previous: Vec<Vec<u8>>) -> Self {
        self.previous_reporter_key_secrets = previous;
        self
    }

    /// A store that never keys reporters: receiving a clue or keying an openid is refused with
    /// [`StoreError::Unconfigured`]. For functions that must not hold the reporter-key secret.
    pub fn without_reporter_keys(
        table_name: impl Into<String>,
        pii_key_id: impl Into<String>,
    ) -> Self {
        Self {
            table_name: table_name.into(),
            pii_key_id: pii_key_id.into(),
            reporter_key_secret: None,
            previous_reporter_key_secrets: Vec::new(),
            cache_ttl: Duration::from_secs(300),
        }
    }
}

type Cached<T> = Mutex<Option<(Instant, Arc<T>)>>;

/// How many KMS-decrypted data keys one cold start keeps (one per vault item read).
const OPENED_KEYS: usize = 1024;

/// The store on DynamoDB. Create one per cold start with clients built once, and share it.
pub struct DynamoClueStore {
    pub(crate) db: aws_sdk_dynamodb::Client,
    kms: aws_sdk_kms::Client,
    table: String,
    pii_key_id: String,
    keyer: Option<ReporterKeyer>,
    cache_ttl: Duration,
    /// Data keys decrypted by KMS, by their encryption context and encrypted blob.
    opened_keys: Mutex<HashMap<(VaultContext, Vec<u8>), DataKey>>,
    directory: Cached<BureauDirectory>,
    scopes: Mutex<HashMap<DivisionCode, (Instant, Arc<ScopeHistory>)>>,
    /// The current working-day calendar ([`crate::calendar`]).
    pub(crate) calendar_cache: Cached<WorkingCalendar>,
    meter: Meter,
}

impl std::fmt::Debug for DynamoClueStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DynamoClueStore")
            .field("table", &self.table)
            .finish_non_exhaustive()
    }
}

/// An in-order condition on the sort key of a Query.
pub(crate) enum SkCond {
    Begins(String),
    Between(String, String),
    /// Strictly below (paging newest first from a cursor).
    Below(String),
}

pub(crate) struct Query {
    op: &'static str,
    index: Option<&'static str>,
    pk_name: &'static str,
    pk: String,
    sk_name: &'static str,
    sk: Option<SkCond>,
    pub(crate) forward: bool,
    consistent: bool,
}

impl Query {
    pub(crate) fn table(op: &'static str, pk: String, sk: Option<SkCond>) -> Self {
        Self {
            op,
            index: None,
            pk_name: PK,
            pk,
            sk_name: SK,
            sk,
            forward: true,
            consistent: true,
        }
    }

    pub(crate) fn index(
        op: &'static str,
        index: &'static str,
        pk: String,
        sk: Option<SkCond>,
    ) -> Self {
        let (pk_name, sk_name) = match index {
            GSI1 => (GSI1PK, GSI1SK),
            GSI2 => (GSI2PK, GSI2SK),
            _ => (GSI3PK, GSI3SK),
        };
        Self {
            op,
            index: Some(index),
            pk_name,
            pk,
            sk_name,
            sk,
            forward: true,
            consistent: false,
        }
    }
}

/// A request DynamoDB refused as a whole (a transaction cancelled for a reason other than a
/// version or idempotency condition, or keys it kept leaving unprocessed).
#[derive(Debug, thiserror::Error)]
#[error("request refused: {0}")]
pub(crate) struct TransactionCancelled(pub(crate) String);

pub(crate) enum Committed {
    Yes,
    No(Cancelled),
}

pub(crate) fn reported(c: Option<&ConsumedCapacity>) -> Option<f64> {
    c.and_then(ConsumedCapacity::capacity_units)
}

fn reported_all(c: &[ConsumedCapacity]) -> Option<f64> {
    let units: Vec<f64> = c
        .iter()
        .filter_map(ConsumedCapacity::capacity_units)
        .collect();
    (!units.is_empty()).then(|| units.iter().sum())
}

impl DynamoClueStore {
    /// A store on `config.table_name` with clients built once per cold start.
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a short reporter key secret.
    pub fn new(
        db: aws_sdk_dynamodb::Client,
        kms: aws_sdk_kms::Client,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        Ok(Self {
            db,
            kms,
            table: config.table_name,
            pii_key_id: config.pii_key_id,
            keyer: config
                .reporter_key_secret
                .map(|current| {
                    ReporterKeyer::versioned(
                        std::iter::once(current)
                            .chain(config.previous_reporter_key_secrets)
                            .collect(),
                    )
                })
                .transpose()?,
            cache_ttl: config.cache_ttl,
            opened_keys: Mutex::new(HashMap::new()),
            directory: Mutex::new(None),
            scopes: Mutex::new(HashMap::new()),
            calendar_cache: Mutex::new(None),
            meter: Meter::default(),
        })
    }

    /// The requests made and capacity consumed so far.
    pub fn meter(&self) -> &Meter {
        &self.meter
    }

    /// The reporter key of an openid (the same the store puts on clues).
    ///
    /// # Errors
    /// [`StoreError::Unconfigured`] for a store without the reporter-key secret.
    pub fn reporter_key(&self, openid: &str) -> Result<ReporterKey, StoreError> {
        Ok(self.keyer()?.key(openid))
    }

    fn keyer(&self) -> Result<&ReporterKeyer, StoreError> {
        self.keyer
            .as_ref()
            .ok_or(StoreError::Unconfigured("reporter key secret"))
    }

    /// How long cached reference data (directory, scopes, calendar) is kept.
    pub fn cache_ttl(&self) -> Duration {
        self.cache_ttl
    }

    /// The table name.
    pub fn table(&self) -> &str {
        &self.table
    }

    // ------------------------------------------------------------------ low-level requests

    pub(crate) async fn get(
        &self,
        op: &'static str,
        pk: String,
        sk: &str,
    ) -> Result<Option<Item>, StoreError> {
        let out = self
            .db
            .get_item()
            .table_name(&self.table)
            .key(PK, s(pk))
            .key(SK, s(sk))
            .consistent_read(true)
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::sdk("GetItem", e))?;
        let size = out.item().map_or(0, item_size);
        self.meter.record(
            op,
            u64::from(out.item().is_some()),
            reported(out.consumed_capacity()),
            read_units_each([size], true),
        );
        Ok(out.item)
    }

    async fn put_plain(&self, op: &'static str, item: Item) -> Result<(), StoreError> {
        let size = item_size(&item);
        let out = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await
            .map_err(|e| StoreError::sdk("PutItem", e))?;
        self.meter
            .record(op, 1, reported(out.consumed_capacity()), write_units(size));
        Ok(())
    }

    /// Consistent BatchGetItem of `keys` (any number; 100 per request).
    pub(crate) async fn batch_get(
        &self,
        op: &'static str,
        keys: Vec<Item>,
    ) -> Result<Vec<Item>, StoreError> {
        let mut found = Vec::new();
        for chunk in keys.chunks(100) {
            let mut pending = Some(
                KeysAndAttributes::builder()
                    .set_keys(Some(chunk.to_vec()))
                    .consistent_read(true)
                    .build()
                    .map_err(|e| StoreError::sdk("build BatchGetItem", e))?,
            );
            let mut rounds = 0;
            while let Some(request) = pending.take() {
                rounds += 1;
                let out = self
                    .db
                    .batch_get_item()
                    .request_items(&self.table, request)
                    .return_consumed_capacity(ReturnConsumedCapacity::Total)
                    .send()
                    .await
                    .map_err(|e| StoreError::sdk("BatchGetItem", e))?;
                let items = out
                    .responses()
                    .and_then(|r| r.get(&self.table))
                    .cloned()
                    .unwrap_or_default();
                self.meter.record(
                    op,
                    items.len() as u64,
                    reported_all(out.consumed_capacity()),
                    read_units_each(items.iter().map(item_size), true),
                );
                found.extend(items);
                pending = out
                    .unprocessed_keys()
                    .and_then(|u| u.get(&self.table))
                    .filter(|k| !k.keys().is_empty())
                    .cloned();
                if pending.is_some() {
                    if rounds >= 8 {
                        return Err(StoreError::sdk(
                            "BatchGetItem",
                            TransactionCancelled("keys left unprocessed".to_owned()),
                        ));
                    }
                    tokio::time::sleep(Duration::from_millis(20 << rounds)).await;
                }
            }
        }
        Ok(found)
    }

    pub(crate) async fn query_page(
        &self,
        q: &Query,
        limit: Option<i32>,
        start: Option<Item>,
    ) -> Result<(Vec<Item>, Option<Item>), StoreError> {
        let mut req = self
            .db
            .query()
            .table_name(&self.table)
            .set_index_name(q.index.map(str::to_owned))
            .expression_attribute_names("#p", q.pk_name)
            .expression_attribute_values(":p", s(q.pk.clone()))
            .scan_index_forward(q.forward)
            .consistent_read(q.consistent)
            .set_limit(limit)
            .set_exclusive_start_key(start)
            .return_consumed_capacity(ReturnConsumedCapacity::Total);
        let condition = match &q.sk {
            None => "#p = :p".to_owned(),
            Some(SkCond::Begins(prefix)) => {
                req = req
                    .expression_attribute_names("#s", q.sk_name)
                    .expression_attribute_values(":a", s(prefix.clone()));
                "#p = :p AND begins_with(#s, :a)".to_owned()
            }
            Some(SkCond::Between(a, b)) => {
                req = req
                    .expression_attribute_names("#s", q.sk_name)
                    .expression_attribute_values(":a", s(a.clone()))
                    .expression_attribute_values(":b", s(b.clone()));
                "#p = :p AND #s BETWEEN :a AND :b".to_owned()
            }
            Some(SkCond::Below(b)) => {
                req = req
                    .expression_attribute_names("#s", q.sk_name)
                    .expression_attribute_values(":b", s(b.clone()));
                "#p = :p AND #s < :b".to_owned()
            }
        };
        let out = req
            .key_condition_expression(condition)
            .send()
            .await
            .map_err(|e| StoreError::sdk("Query", e))?;
        let items = out.items().to_vec();
        self.meter.record(
            q.op,
            items.len() as u64,
            reported(out.consumed_capacity()),
            read_units_total(items.iter().map(item_size), q.consistent),
        );
        Ok((items, out.last_evaluated_key))
    }

    pub(crate) async fn query_all(&self, q: &Query) -> Result<Vec<Item>, StoreError> {
        let mut all = Vec::new();
        let mut start = None;
        loop {
            let (items, next) = self.query_page(q, None, start).await?;
            all.extend(items);
            match next {
                Some(k) => start = Some(k),
                None => return Ok(all),
            }
        }
    }

    async fn query_paged<T>(&self, q: &Query, page: PageRequest) -> Result<Page<T>, StoreError>
    where
        T: TryFrom<Item, Error = StoreError>,
    {
        let start = page.cursor.as_ref().map(Cursor::to_key).transpose()?;
        let (items, next) = self
            .query_page(q, Some(page.limit.clamp(1, 1000)), start)
            .await?;
        Ok(Page {
            items: items
                .into_iter()
                .map(T::try_from)
                .collect::<Result<_, _>>()?,
            next: next.as_ref().map(Cursor::from_key).transpose()?,
        })
    }

    pub(crate) async fn transact(
        &self,
        op: &'static str,
        plan: WritePlan,
    ) -> Result<Committed, StoreError> {
        let units: f64 = plan
            .items
            .iter()
            .map(|t| {
                let size = t
                    .put()
                    .map(|p| item_size(p.item()))
                    .or_else(|| t.update().map(|u| item_size(u.key()) + 64))
                    .or_else(|| t.delete().map(|d| item_size(d.key())))
                    .unwrap_or(1);
                2.0 * write_units(size)
            })
            .sum();
        let n_items = plan.items.len() as u64;
        let result = self
            .db
            .transact_write_items()
            .set_transact_items(Some(plan.items.clone()))
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match result {
            Ok(out) => {
                self.meter
                    .record(op, n_items, reported_all(out.consumed_capacity()), units);
                Ok(Committed::Yes)
            }
            Err(SdkError::ServiceError(se)) => {
                self.meter.record(op, 0, None, 0.0);
                match se.err() {
                    TransactWriteItemsError::TransactionCanceledException(c) => {
                        let codes: Vec<Option<String>> = c
                            .cancellation_reasons()
                            .iter()
                            .map(|r| r.code().map(str::to_owned))
                            .collect();
                        Ok(Committed::No(classify(&plan, &codes)))
                    }
                    TransactWriteItemsError::TransactionInProgressException(_) => {
                        Ok(Committed::No(Cancelled::InFlight))
                    }
                    _ => Err(StoreError::sdk(
                        "TransactWriteItems",
                        SdkError::ServiceError(se),
                    )),
                }
            }
            Err(e) => Err(StoreError::sdk("TransactWriteItems", e)),
        }
    }

    pub(crate) async fn backoff(attempt: u32) {
        use aes_gcm::aead::rand_core::RngCore;
        let jitter = u64::from(aes_gcm::aead::OsRng.next_u32() % 20);
        tokio::time::sleep(Duration::from_millis((10 << attempt.min(5)) + jitter)).await;
    }

    // ------------------------------------------------------------------------ caches

    /// The bureau directory, cached for `cache_ttl`.
    ///
    /// # Errors
    /// A read failure, or stored bureaus that do not form a valid directory.
    pub async fn directory(&self) -> Result<Arc<BureauDirectory>, StoreError> {
        if let Ok(guard) = self.directory.lock()
            && let Some((at, dir)) = guard.as_ref()
            && at.elapsed() < self.cache_ttl
        {
            return Ok(dir.clone());
        }
        let items = self
            .query_all(&Query::index("directory", GSI1, BUREAUS.to_owned(), None))
            .await?;
        let bureaus = items
            .iter()
            .map(|i| get_json::<Bureau>(i, "data"))
            .collect::<Result<Vec<_>, _>>()?;
        let dir = Arc::new(
            BureauDirectory::new(bureaus)
                .map_err(|e| StoreError::malformed("bureau directory", e))?,
        );
        if let Ok(mut guard) = self.directory.lock() {
            *guard = Some((Instant::now(), dir.clone()));
        }
        Ok(dir)
    }

    async fn scope_cached(
        &self,
        city: DivisionCode,
        fresh: bool,
    ) -> Result<Arc<ScopeHistory>, StoreError> {
        if !fresh
            && let Ok(guard) = self.scopes.lock()
            && let Some((at, h)) = guard.get(&city)
            && at.elapsed() < self.cache_ttl
        {
            return Ok(h.clone());
        }
        let history = Arc::new(self.load_scope_history(city).await?);
        if let Ok(mut guard) = self.scopes.lock() {
            guard.insert(city, (Instant::now(), history.clone()));
        }
        Ok(history)
    }

    async fn load_scope_history(&self, city: DivisionCode) -> Result<ScopeHistory, StoreError> {
        let items = self
            .query_all(&Query::table("scope", pk_scope(&city), None))
            .await?;
        let mut history =
            ScopeHistory::new(city, DateTime::UNIX_EPOCH).map_err(DomainError::from)?;
        for item in items {
            let version: ScopeVersion = get_json(&item, "data")?;
            if version.version == 1 {
                continue;
            }
            history.add(version).map_err(DomainError::from)?;
        }
        Ok(history)
    }

    // ------------------------------------------------------------------------- vault

    /// A fresh data key for one vault item, bound to its encryption context (one
    /// `GenerateDataKey`).
    pub(crate) async fn data_key(&self, context: &VaultContext) -> Result<DataKey, StoreError> {
        let out = self
            .kms
            .generate_data_key()
            .key_id(&self.pii_key_id)
            .key_spec(DataKeySpec::Aes256)
            .encryption_context(context.name(), context.value())
            .send()
            .await
            .map_err(|e| StoreError::sdk("kms:GenerateDataKey", e))?;
        self.meter.record("kms", 1, None, 0.0);
        let plaintext = out
            .plaintext()
            .ok_or(StoreError::Vault("no plaintext key"))?;
        let blob = out
            .ciphertext_blob()
            .ok_or(StoreError::Vault("no encrypted key"))?;
        DataKey::new(plaintext.as_ref(), blob.as_ref().to_vec())
    }

    /// The data key of a vault item: KMS `Decrypt` with the item's encryption context (cached
    /// per cold start by context and blob, up to [`OPENED_KEYS`]).
    pub(crate) async fn open_key(
        &self,
        encrypted: &[u8],
        context: &VaultContext,
    ) -> Result<DataKey, StoreError> {
        let cache_key = (context.clone(), encrypted.to_vec());
        if let Ok(cache) = self.opened_keys.lock()
            && let Some(k) = cache.get(&cache_key)
        {
            return Ok(k.clone());
        }
        let out = self
            .kms
            .decrypt()
            .key_id(&self.pii_key_id)
            .ciphertext_blob(aws_sdk_kms::primitives::Blob::new(encrypted))
            .encryption_context(context.name(), context.value())
            .send()
            .await
            .map_err(|e| StoreError::sdk("kms:Decrypt", e))?;
        self.meter.record("kms", 1, None, 0.0);
        let plaintext = out
            .plaintext()
            .ok_or(StoreError::Vault("no plaintext key"))?;
        let key = DataKey::new(plaintext.as_ref(), encrypted.to_vec())?;
        if let Ok(mut cache) = self.opened_keys.lock() {
            if cache.len() >= OPENED_KEYS {
                cache.clear();
            }
            cache.insert(cache_key, key.clone());
        }
        Ok(key)
    }

    async fn decrypt_identity(&self, id: &ClueId) -> Result<ReporterIdentity, StoreError> {
        let item = self
            .get("vault", pk_vault(id), SK_VAULT)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("identity of clue {id}")))?;
        let sealed = sealed_from_item(&item)?;
        let key = self
            .open_key(&sealed.encrypted_key, &VaultContext::clue(id))
            .await?;
        open(&key, id.as_str(), &sealed)
    }

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
    async fn load_clues(
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

    /// Replaces the other clue a command names (merge primary, duplicate's earlier clue) by its
    /// stored view, so the decision sees the truth, and loads it.
    async fn resolve_references(
        &self,
        command: Command,
        loaded: &mut BTreeMap<ClueId, StoredClue>,
    ) -> Result<Command, StoreError> {
        Ok(match command {
            Command::Merge { primary, reason } => {
                self.load_clues([primary.id.clone()], loaded).await?;
                let stored = &loaded[&primary.id];
                if stored.clue.members.len() >= MAX_MERGE_MEMBERS {
                    return Err(StoreError::MergeGroupFull(stored.clue.members.len()));
                }
                Command::Merge {
                    primary: Box::new(stored.clue.summary()),
                    reason,
                }
            }
            Command::Unmerge { primary, reason } => {
                self.load_clues([primary.id.clone()], loaded).await?;
                Command::Unmerge {
                    primary: Box::new(loaded[&primary.id].clue.summary()),
                    reason,
                }
            }
            Command::Judge {
                judgment: JudgmentRequest::Duplicate { earlier },
                note,
            } => {
                self.load_clues([earlier.id.clone()], loaded).await?;
                Command::Judge {
                    judgment: JudgmentRequest::Duplicate {
                        earlier: Box::new(loaded[&earlier.id].clue.summary()),
                    },
                    note,
                }
            }
            other => other,
        })
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

    fn decide_receipt(
        submission: &Submission,
        clue_no: ClueNo,
        reporter: &ReporterKey,
        real_name: bool,
        scope: &ScopeVersion,
        now: DateTime<Utc>,
        rules: &Rules<'_>,
    ) -> Result<Vec<domain::Event>, DomainError> {
        let cmd = submission.receive_command(clue_no, reporter, real_name);
        let actor = Actor::Reporter {
            reporter: reporter.clone(),
        };
        domain::receive(cmd, scope, &actor, now, rules)
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

    /// Stores a bureau (its configuration, including `city_direct`).
    ///
    /// # Errors
    /// The bureau's own incoherence, or a write failure.
    pub async fn put_bureau(&self, bureau: &Bureau) -> Result<(), StoreError> {
        bureau
            .validate()
            .map_err(|e| StoreError::Domain(DomainError::Jurisdiction(e)))?;
        self.put_plain("bureau", bureau_item(bureau)?).await?;
        if let Ok(mut guard) = self.directory.lock() {
            *guard = None;
        }
        Ok(())
    }
}

fn key_item(pk: String, sk: &str) -> Item {
    key(pk, sk)
}

fn sum_counters(items: &[Item]) -> BTreeMap<String, i64> {
    let mut total = BTreeMap::new();
    for item in items {
        for (k, v) in counters_of(item) {
            *total.entry(k).or_insert(0) += v;
        }
    }
    total
}

impl ClueStore for DynamoClueStore {
    #[instrument(skip_all, fields(clue = %submission.clue_id))]
    async fn receive(
        &self,
        submission: Submission,
        identity: ReporterIdentity,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> Result<Received, StoreError> {
        let keyer = self.keyer()?;
        let reporter = keyer.key(&identity.openid);
        let fp = fingerprint(
            "receive",
            &[
                &to_json(&submission)?,
                reporter.as_str(),
                &keyer.fingerprint(&identity),
            ],
        );
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
        if let Err(DomainError::Scope(ScopeError::StaleNotice(_))) = Self::decide_receipt(
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
        Self::decide_receipt(
            &submission,
            provisional.clone(),
            &reporter,
            real_name,
            &scope,
            now,
            &rules,
        )?;
        // A resubmission links the earlier clue (its reporter's, closed need_material).
        let mut loaded = BTreeMap::new();
        let mut actor = Actor::Reporter {
            reporter: reporter.clone(),
        };
        let link = |clue_no: &ClueNo| Command::Resubmit {
            new_clue: submission.clue_id.clone(),
            new_clue_no: clue_no.clone(),
        };
        if let Some(old) = &submission.report.resubmission_of {
            self.load_clues([old.clone()], &mut loaded).await?;
            // A clue keyed under an earlier version of the reporter-key secret is still theirs.
            let theirs = &loaded[old].clue.reporter;
            if keyer.keys(&identity.openid).holds(theirs) {
                actor = Actor::Reporter {
                    reporter: theirs.clone(),
                };
            }
            loaded[old]
                .clue
                .decide(&link(&provisional), &actor, now, &rules)?;
        }
        let seq = self.next_sequence(&division, date).await?;
        let clue_no = ClueNo::new(division, date, seq);
        let mut events = Self::decide_receipt(
            &submission,
            clue_no.clone(),
            &reporter,
            real_name,
            &scope,
            now,
            &rules,
        )?;
        if let Some(old) = &submission.report.resubmission_of {
            events.extend(
                loaded[old]
                    .clue
                    .decide(&link(&clue_no), &actor, now, &rules)?,
            );
        }
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
        let fp = fingerprint(
            "execute",
            &[clue_id.as_str(), &to_json(&command)?, &to_json(actor)?],
        );
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

    async fn clue(&self, id: &ClueId) -> Result<StoredClue, StoreError> {
        let item = self
            .get("clue", pk_clue(id), SK_CLUE)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("clue {id}")))?;
        StoredClue::try_from(item)
    }

    async fn clue_by_no(&self, no: &ClueNo) -> Result<Option<StoredClue>, StoreError> {
        let q = Query::index("clue_by_no", GSI3, gsi_clue_no(no), None);
        let (items, _) = self.query_page(&q, Some(1), None).await?;
        items
            .into_iter()
            .next()
            .map(StoredClue::try_from)
            .transpose()
    }

    async fn reporter_clues(
        &self,
        reporter: &ReporterKey,
        page: PageRequest,
    ) -> Result<Page<StoredClue>, StoreError> {
        let mut q = Query::index("reporter_clues", GSI1, gsi_reporter(reporter), None);
        q.forward = false;
        self.query_paged(&q, page).await
    }

    async fn inbox(
        &self,
        bureau: &BureauId,
        state: &str,
        page: PageRequest,
    ) -> Result<Page<StoredClue>, StoreError> {
        if !state_code_ok(state) {
            return Err(StoreError::Invalid("clue state"));
        }
        let q = Query::index("inbox", GSI2, gsi_inbox(bureau, state), None);
        self.query_paged(&q, page).await
    }

    async fn deadlines_due(
        &self,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeadlineEntry>, StoreError> {
        let lo = from.map_or_else(|| "0".to_owned(), instant);
        let hi = format!("{}~", instant(to));
        let q = Query::index(
            "deadlines",
            GSI1,
            DUE.to_owned(),
            Some(SkCond::Between(lo, hi)),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(DeadlineEntry::try_from)
            .collect()
    }

    async fn reminders_due(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeadlineEntry>, StoreError> {
        let hi = format!("{}~", instant(to));
        let q = Query::index(
            "deadlines",
            GSI2,
            REMIND.to_owned(),
            Some(SkCond::Between(instant(from), hi)),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(DeadlineEntry::try_from)
            .collect()
    }

    async fn timeline(&self, id: &ClueId) -> Result<Vec<TimelineEntry>, StoreError> {
        let q = Query::table(
            "timeline",
            pk_clue(id),
            Some(SkCond::Begins(SK_EVENT.to_owned())),
        );
        self.query_all(&q)
            .await?
            .iter()
            .map(entry_from_item)
            .collect()
    }

    async fn verify_timeline(&self, id: &ClueId) -> Result<Head, StoreError> {
        // One Query reads the clue item (its head) and the whole timeline: `CLUE` < `DL#` < `EV#`.
        let q = Query::table(
            "verify_timeline",
            pk_clue(id),
            Some(SkCond::Between(SK_CLUE.to_owned(), format!("{SK_EVENT}~"))),
        );
        let items = self.query_all(&q).await?;
        let mut head = None;
        let mut entries = Vec::new();
        for item in items {
            let sk = get_s(&item, SK)?;
            if sk == SK_CLUE {
                head = Some(StoredClue::try_from(item)?.head);
            } else if sk.starts_with(SK_EVENT) {
                entries.push(entry_from_item(&item)?);
            }
        }
        let head = head.ok_or_else(|| StoreError::NotFound(format!("clue {id}")))?;
        verify(&entries, Some(&head)).map_err(|source| StoreError::Tampered {
            clue: id.to_string(),
            source,
        })
    }

    async fn merge_group(&self, primary: &ClueId) -> Result<Vec<StoredClue>, StoreError> {
        let head = self.clue(primary).await?;
        let mut loaded = BTreeMap::new();
        self.load_clues(
            head.clue.members.iter().map(|m| m.clue.clone()),
            &mut loaded,
        )
        .await?;
        let mut group = vec![head.clone()];
        group.extend(
            head.clue
                .members
                .iter()
                .filter_map(|m| loaded.remove(&m.clue)),
        );
        Ok(group)
    }

    async fn messages(&self, id: &ClueId) -> Result<Vec<Message>, StoreError> {
        let q = Query::table(
            "messages",
            pk_clue(id),
            Some(SkCond::Begins(SK_MESSAGE.to_owned())),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(Message::try_from)
            .collect()
    }

    async fn undelivered_notices(
        &self,
        owed_before: DateTime<Utc>,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let q = Query::index(
            "outbox",
            GSI3,
            OUTBOX.to_owned(),
            Some(SkCond::Between("0".to_owned(), instant(owed_before))),
        );
        self.query_all(&q)
            .await?
            .into_iter()
            .map(OutboxEntry::try_from)
            .collect()
    }

    async fn masked_identity(&self, id: &ClueId) -> Result<MaskedIdentity, StoreError> {
        let item = self
            .get("vault", pk_vault(id), SK_VAULT)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("identity of clue {id}")))?;
        get_json(&item, "masked")
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

    async fn recipient_openid(&self, id: &ClueId) -> Result<String, StoreError> {
        Ok(self.decrypt_identity(id).await?.openid)
    }

    async fn officer(&self, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
        self.get("officer", pk_officer(id), SK_OFFICER)
            .await?
            .map(|i| get_json(&i, "data"))
            .transpose()
    }

    async fn bureau_officers(&self, bureau: &BureauId) -> Result<Vec<Officer>, StoreError> {
        let q = Query::index(
            "officers",
            GSI1,
            gsi_bureau_officers(bureau),
            Some(SkCond::Begins("OFFICER#".to_owned())),
        );
        self.query_all(&q)
            .await?
            .iter()
            .map(|i| get_json(i, "data"))
            .collect()
    }

    async fn put_officer(&self, officer: &Officer) -> Result<(), StoreError> {
        self.put_plain("officer", officer_item(officer)?).await
    }

    async fn bureau(&self, id: &BureauId) -> Result<Option<Bureau>, StoreError> {
        self.get("bureau", pk_bureau(id), SK_BUREAU)
            .await?
            .map(|i| get_json(&i, "data"))
            .transpose()
    }

    async fn bureaus(&self) -> Result<Arc<BureauDirectory>, StoreError> {
        self.directory().await
    }

    async fn scope_history(&self, city: DivisionCode) -> Result<ScopeHistory, StoreError> {
        self.load_scope_history(city).await
    }

    async fn add_scope_version(&self, version: ScopeVersion) -> Result<(), StoreError> {
        let city = version.city;
        let mut history = self.load_scope_history(city).await?;
        history.add(version.clone()).map_err(DomainError::from)?;
        let notice = version.reporting_notice();
        let mut item = key(pk_scope(&city), sk_scope(version.version));
        item.extend([
            ("type".to_owned(), s("scope")),
            ("data".to_owned(), s(to_json(&version)?)),
            ("notice_version".to_owned(), s(notice.version_id)),
            ("notice_text".to_owned(), s(notice.text)),
        ]);
        if let Some(filing) = &version.filing {
            item.extend(crate::scope_filing::filing_index(&version, filing));
        }
        let size = item_size(&item);
        let out = self
            .db
            .put_item()
            .table_name(&self.table)
            .set_item(Some(item))
            .condition_expression("attribute_not_exists(pk)")
            .return_consumed_capacity(ReturnConsumedCapacity::Total)
            .send()
            .await;
        match out {
            Ok(out) => {
                self.meter.record(
                    "scope",
                    1,
                    reported(out.consumed_capacity()),
                    write_units(size),
                );
            }
            Err(SdkError::ServiceError(se)) if se.err().is_conditional_check_failed_exception() => {
                return Err(StoreError::Conflict);
            }
            Err(e) => return Err(StoreError::sdk("PutItem", e)),
        }
        if let Ok(mut guard) = self.scopes.lock() {
            guard.remove(&city);
        }
        Ok(())
    }

    async fn read_stats(
        &self,
        cell: &DivisionCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let q = Query::table(
            "stats",
            pk_stat(cell),
            Some(SkCond::Between(sk_day(from), sk_day(to))),
        );
        let items = self.query_all(&q).await?;
        Ok(sum_counters(&items))
    }

    async fn scope_history_cached(
        &self,
        city: DivisionCode,
    ) -> Result<Arc<ScopeHistory>, StoreError> {
        self.scope_cached(city, false).await
    }

    async fn redeem_binding_code(
        &self,
        code: &domain::wechat_binding::BindingCode,
        openid: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<OfficerId, domain::wechat_binding::BindingError>, StoreError> {
        DynamoClueStore::redeem_binding_code(self, code, openid, now).await
    }

    async fn put_bureau(&self, bureau: &Bureau) -> Result<(), StoreError> {
        DynamoClueStore::put_bureau(self, bureau).await
    }
}
