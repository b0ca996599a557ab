//! [`DynamoClueStore`]: every role of the store ([`crate::ClueStore`]) on the one DynamoDB table,
//! with KMS for the vault: the client, its requests and caches here; the roles in [`commands`],
//! [`reads`] and [`directory`].

mod commands;
mod directory;
mod reads;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_sdk_dynamodb::error::SdkError;
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{ConsumedCapacity, KeysAndAttributes, ReturnConsumedCapacity};
use aws_sdk_kms::types::DataKeySpec;
use chrono::DateTime;
use domain::scope::{ScopeHistory, ScopeVersion};
use domain::{
    Bureau, BureauDirectory, ClueId, DivisionCode, DomainError, ReporterKey, WorkingCalendar,
};

use crate::error::StoreError;
use crate::item::*;
use crate::keys::*;
use crate::meter::{Meter, item_size, read_units_each, read_units_total, write_units};
use crate::model::{Cursor, Page, PageRequest};
use crate::plan::{Cancelled, WritePlan, classify};
use crate::vault::{DataKey, ReporterIdentity, ReporterKeyer, VaultContext, open};

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
    /// The identity vault's KMS client and key ([`DynamoClueStore::with_vault`]).
    vault: Option<(aws_sdk_kms::Client, String)>,
    table: String,
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

pub(crate) fn reported_all(c: &[ConsumedCapacity]) -> Option<f64> {
    let units: Vec<f64> = c
        .iter()
        .filter_map(ConsumedCapacity::capacity_units)
        .collect();
    (!units.is_empty()).then(|| units.iter().sum())
}

impl DynamoClueStore {
    /// A store on `config.table_name` with clients built once per cold start, the vault and,
    /// when `config` has the secret, the reporter keys: [`DynamoClueStore::on_table`] composed
    /// with [`DynamoClueStore::with_vault`] and [`DynamoClueStore::with_reporter_keys`].
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a short reporter key secret.
    pub fn new(
        db: aws_sdk_dynamodb::Client,
        kms: aws_sdk_kms::Client,
        config: StoreConfig,
    ) -> Result<Self, StoreError> {
        let store = Self::on_table(db, config.table_name)
            .with_vault(kms, config.pii_key_id)
            .with_cache_ttl(config.cache_ttl);
        Ok(match config.reporter_key_secret {
            Some(current) => store.with_reporter_keys(ReporterKeyer::versioned(
                std::iter::once(current)
                    .chain(config.previous_reporter_key_secrets)
                    .collect(),
            )?),
            None => store,
        })
    }

    /// A store on `table` with a client built once per cold start: clues, indexes, directory,
    /// everything but the identity vault ([`StoreError::Unconfigured`] until
    /// [`DynamoClueStore::with_vault`]) and reporter keys ([`DynamoClueStore::with_reporter_keys`]).
    /// A function adds only what it needs, so none holds a key it does not use.
    pub fn on_table(db: aws_sdk_dynamodb::Client, table: impl Into<String>) -> Self {
        Self {
            db,
            vault: None,
            table: table.into(),
            keyer: None,
            cache_ttl: Duration::from_secs(300),
            opened_keys: Mutex::new(HashMap::new()),
            directory: Mutex::new(None),
            scopes: Mutex::new(HashMap::new()),
            calendar_cache: Mutex::new(None),
            meter: Meter::default(),
        }
    }

    /// Adds the identity vault: envelope encryption under the KMS key `pii_key_id`.
    #[must_use]
    pub fn with_vault(mut self, kms: aws_sdk_kms::Client, pii_key_id: impl Into<String>) -> Self {
        self.vault = Some((kms, pii_key_id.into()));
        self
    }

    /// Adds the reporter keys (HMAC of an openid), needed to receive clues.
    #[must_use]
    pub fn with_reporter_keys(mut self, keyer: ReporterKeyer) -> Self {
        self.keyer = Some(keyer);
        self
    }

    /// How long the directory, scope histories and calendar are cached (default 5 minutes).
    #[must_use]
    pub fn with_cache_ttl(mut self, ttl: Duration) -> Self {
        self.cache_ttl = ttl;
        self
    }

    fn vault(&self) -> Result<(&aws_sdk_kms::Client, &str), StoreError> {
        self.vault
            .as_ref()
            .map(|(kms, key)| (kms, key.as_str()))
            .ok_or(StoreError::Unconfigured("identity vault key"))
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
        let (kms, key_id) = self.vault()?;
        let out = kms
            .generate_data_key()
            .key_id(key_id)
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
        let (kms, key_id) = self.vault()?;
        let out = kms
            .decrypt()
            .key_id(key_id)
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
}
