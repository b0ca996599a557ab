//! [`InMemoryClueStore`]: every role of the store in memory, for handler tests.
//!
//! It keeps the domain's values (clues with their timeline heads, timeline entries, messages,
//! identities, directory, scopes, counters) and derives the indexes from them with the very item
//! builders [`crate::DynamoClueStore`] writes (`deadline_item`, `outbox_item`, the clue item's
//! GSI keys), filtered and ordered as the table's Queries filter and order them. Commands run
//! under one lock: the idempotency record is looked up first (same fingerprint: the first result,
//! `replayed`; another payload: [`StoreError::IdempotencyMismatch`]), then the version
//! (`If-Match`: [`StoreError::Conflict`]), then the domain decides and every change is applied
//! at once or not at all, with the timeline hash-chained by the domain's chain code and the same
//! transaction bound ([`StoreError::TooLarge`]), on its own calendar (the uploaded years over the
//! built-in ones). The sweep's index removals and calendar, reminders and bindings,
//! the console's reads, supervision lists and counters, scope filings, bulletins and exports are
//! in its submodules. `tests/conformance` runs one suite against
//! this store and against DynamoDB (moto), so the two cannot drift.

use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use chrono::{DateTime, NaiveDate, Utc};
use domain::calendar::shanghai_date;
use domain::command::Rules;
use domain::event::EventKind;
use domain::figures::DayCounters;
use domain::rollup::ReadPlan;
use domain::scope::{ScopeError, ScopeHistory, ScopeVersion};
use domain::text::Reason;
use domain::timeline::{Head, TimelineEntry, verify};
use domain::{
    Actor, Bureau, BureauDirectory, BureauId, ClueId, ClueNo, Command, DivisionCode, Divisions,
    DomainError, Officer, OfficerId, ReporterKey, WorkingCalendar,
};

use crate::calendar::overlay;
use crate::error::StoreError;
use crate::idempotency::{
    IdempotencyKey, command_fingerprint, receipt_fingerprint, record_item, replay,
};
use crate::item::{Item, deadline_item, message_item, outbox_item, state_code_ok};
use crate::keys::*;
use crate::model::{CommandOutcome, Cursor, Page, PageRequest, Received, Submission};
use crate::plan::{
    Change, Receipt, apply_events, counter_increments, month_increments, plan_writes,
    referenced_clue, resolve_references,
};
use crate::vault::{MaskedIdentity, ReporterIdentity, ReporterKeyer};
use crate::{
    ClueCommands, ClueReads, DeadlineEntry, DeadlineIndex, Directory, IdentityVault, Message,
    NoticeOutbox, OutboxEntry, Scopes, Statistics, StoredClue, StoredReminder,
};

mod accounts;
mod console;
mod deliveries;
mod filings;
mod reminders;
mod sweep;

use domain::bulletin::Bulletin;
use filings::Recipient;
use reminders::{Binding, BindingCodeRecord, DeliveryRecord};

use crate::accounts::{Account, AuditEntry, Challenge};
use crate::delivery::SendAttempt;
use crate::exports::ExportJob;
use crate::scope_filing::Acknowledgment;
use accounts::Refresh;

/// The store in memory. Create one per test; share it by reference (or in an `Arc`).
pub struct InMemoryClueStore {
    keyer: Option<ReporterKeyer>,
    state: Mutex<State>,
}

impl std::fmt::Debug for InMemoryClueStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InMemoryClueStore").finish_non_exhaustive()
    }
}

#[derive(Default)]
struct State {
    clues: BTreeMap<ClueId, StoredClue>,
    timelines: BTreeMap<ClueId, Vec<TimelineEntry>>,
    messages: BTreeMap<ClueId, Vec<Message>>,
    vault: BTreeMap<ClueId, ReporterIdentity>,
    records: HashMap<String, Item>,
    sequences: BTreeMap<(DivisionCode, NaiveDate), u32>,
    officers: BTreeMap<String, Officer>,
    bureaus: BTreeMap<String, Bureau>,
    scopes: BTreeMap<DivisionCode, Vec<ScopeVersion>>,
    stats: BTreeMap<(DivisionCode, NaiveDate), BTreeMap<String, i64>>,
    /// Month rollups by (cell, first day of the month), as the table's `MONTH#` items.
    months: BTreeMap<(DivisionCode, NaiveDate), BTreeMap<String, i64>>,
    binding_codes: HashMap<String, BindingCodeRecord>,
    /// Officers' WeChat bindings by officer id.
    bindings: BTreeMap<String, Binding>,
    /// Uploaded calendar years, as the table keeps them.
    calendar_years: BTreeMap<i32, Item>,
    /// Index attributes the sweep took off deadline items, by (clue, sort key): the item as it
    /// was then and the attributes removed. A command that changes the item puts it whole
    /// again, as on the table.
    left_index: HashMap<(ClueId, String), (Item, BTreeSet<&'static str>)>,
    /// Supervisors' overdue entries, by (pk, sk).
    overdue: BTreeMap<(String, String), Item>,
    reminders: BTreeMap<String, StoredReminder>,
    /// Reminder deliveries by (reminder id, officer id).
    reminder_deliveries: BTreeMap<(String, String), DeliveryRecord>,
    /// Officers disabled by account administration.
    disabled: BTreeSet<String>,
    /// Acknowledgments of filed scope versions, by (city, version).
    acknowledgments: BTreeMap<(DivisionCode, u32), Acknowledgment>,
    /// Bulletins and the key of their last change, by id.
    bulletins: BTreeMap<String, (Bulletin, String)>,
    /// Recipients of issued bulletins, by (bulletin id, bureau id).
    recipients: BTreeMap<(String, String), Recipient>,
    exports: BTreeMap<String, ExportJob>,
    /// Notices' send-attempt records, by (clue, notice id).
    send_attempts: BTreeMap<(ClueId, String), SendAttempt>,
    /// Sign-in accounts by officer id, and the officer id of each user name.
    accounts: BTreeMap<String, Account>,
    logins: BTreeMap<String, OfficerId>,
    refresh_tokens: HashMap<String, Refresh>,
    challenges: HashMap<String, Challenge>,
    audit: BTreeMap<NaiveDate, Vec<AuditEntry>>,
}

impl InMemoryClueStore {
    /// An empty store whose reporter keys are HMACs under `reporter_key_secret` (as
    /// [`crate::StoreConfig::new`]'s).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a short secret.
    pub fn new(reporter_key_secret: impl Into<Vec<u8>>) -> Result<Self, StoreError> {
        Ok(Self {
            keyer: Some(ReporterKeyer::new(reporter_key_secret)?),
            state: Mutex::new(State::default()),
        })
    }

    /// An empty store without reporter keys: receiving a clue is [`StoreError::Unconfigured`],
    /// as on a [`crate::DynamoClueStore`] built without the secret.
    pub fn without_reporter_keys() -> Self {
        Self {
            keyer: None,
            state: Mutex::new(State::default()),
        }
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

    /// The openid an officer's WeChat binding holds (what [`BindingCodes::redeem_binding_code`]
    /// stored), for tests.
    pub fn bound_openid(&self, officer: &OfficerId) -> Option<String> {
        self.state()
            .bindings
            .get(officer.as_str())
            .map(|b| b.openid.clone())
    }

    /// A panic in another test thread must not hide this store's state.
    fn state(&self) -> MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl State {
    fn directory(&self) -> Result<BureauDirectory, StoreError> {
        BureauDirectory::new(self.bureaus.values().cloned())
            .map_err(|e| StoreError::malformed("bureau directory", e))
    }

    fn scope_history(&self, city: DivisionCode) -> Result<ScopeHistory, StoreError> {
        let mut history =
            ScopeHistory::new(city, DateTime::UNIX_EPOCH).map_err(DomainError::from)?;
        for version in self.scopes.get(&city).into_iter().flatten() {
            if version.version == 1 {
                continue;
            }
            history.add(version.clone()).map_err(DomainError::from)?;
        }
        Ok(history)
    }

    fn clue(&self, id: &ClueId) -> Result<&StoredClue, StoreError> {
        self.clues
            .get(id)
            .ok_or_else(|| StoreError::NotFound(format!("clue {id}")))
    }

    /// Clones the clues `ids` not yet in `loaded`.
    fn load(
        &self,
        ids: impl IntoIterator<Item = ClueId>,
        loaded: &mut BTreeMap<ClueId, StoredClue>,
    ) -> Result<(), StoreError> {
        for id in ids {
            if let std::collections::btree_map::Entry::Vacant(slot) = loaded.entry(id) {
                let stored = self.clue(slot.key())?.clone();
                slot.insert(stored);
            }
        }
        Ok(())
    }

    fn replay<T: serde::de::DeserializeOwned>(
        &self,
        key: &IdempotencyKey,
        fp: &str,
    ) -> Result<Option<T>, StoreError> {
        self.records
            .get(key.as_str())
            .map(|item| replay(item, fp))
            .transpose()
    }

    /// Applies `changes` and the idempotency record: everything, after every check passed.
    fn commit(
        &mut self,
        changes: Vec<Change>,
        record: Item,
        key: &IdempotencyKey,
    ) -> Result<(), StoreError> {
        self.apply(changes)?;
        self.records.insert(key.as_str().to_owned(), record);
        Ok(())
    }

    /// Applies `changes`: the clues, their timelines and messages, the counters.
    fn apply(&mut self, changes: Vec<Change>) -> Result<(), StoreError> {
        let mut messages = Vec::new();
        for change in &changes {
            for entry in &change.entries {
                if let EventKind::MessagePosted { from, text } = &entry.event.kind {
                    messages.push(Message::try_from(message_item(
                        entry,
                        from,
                        text.as_str(),
                    )?)?);
                }
            }
        }
        let days = counter_increments(&changes);
        let months = month_increments(&days);
        for (target, increments) in [(&mut self.stats, days), (&mut self.months, months)] {
            for (key, counters) in increments {
                // As the table: a zero increment (a gauge that did not move) writes nothing.
                if counters.values().all(|n| *n == 0) {
                    continue;
                }
                let item = target.entry(key).or_default();
                for (metric, n) in counters.into_iter().filter(|(_, n)| *n != 0) {
                    *item.entry(metric).or_default() += n;
                }
            }
        }
        for message in messages {
            self.messages
                .entry(message.clue.clone())
                .or_default()
                .push(message);
        }
        for change in changes {
            let id = change.after.clue.id.clone();
            self.timelines
                .entry(id.clone())
                .or_default()
                .extend(change.entries);
            self.clues.insert(id, change.after);
        }
        Ok(())
    }

    /// The items a Query of an index reads: `(sort key, item)` of every item whose `pk_name`
    /// is `pk`, ascending.
    fn index(
        items: impl IntoIterator<Item = Item>,
        pk_name: &str,
        pk: &str,
        sk_name: &str,
    ) -> Vec<(String, Item)> {
        let mut rows: Vec<(String, Item)> = items
            .into_iter()
            .filter(|i| attr(i, pk_name) == Some(pk))
            .filter_map(|i| attr(&i, sk_name).map(str::to_owned).map(|sk| (sk, i)))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    }

    fn deadline_items(&self) -> Result<Vec<Item>, StoreError> {
        let mut out = Vec::new();
        for stored in self.clues.values() {
            for d in &stored.clue.deadlines {
                if let Some(item) = deadline_item(&stored.clue, d)? {
                    out.push(self.without_left_index(&stored.clue.id, item));
                }
            }
        }
        Ok(out)
    }

    /// `item` without the index attributes the sweep took off it (while it is unchanged).
    fn without_left_index(&self, clue: &ClueId, mut item: Item) -> Item {
        let sk = attr(&item, SK).unwrap_or_default().to_owned();
        if let Some((was, removed)) = self.left_index.get(&(clue.clone(), sk))
            && *was == item
        {
            for name in removed {
                item.remove(*name);
            }
        }
        item
    }

    /// The current calendar: the built-in years with the uploaded ones over them.
    fn calendar(&self) -> Result<WorkingCalendar, StoreError> {
        overlay(&self.calendar_years.values().cloned().collect::<Vec<_>>())
    }

    fn clue_items(&self) -> Result<Vec<Item>, StoreError> {
        self.clues.values().map(StoredClue::to_item).collect()
    }
}

fn attr<'a>(item: &'a Item, name: &str) -> Option<&'a str> {
    item.get(name)
        .and_then(|v| v.as_s().ok())
        .map(String::as_str)
}

/// One page of `rows` (ascending by sort key) newest first: the rows below `cursor` (a previous
/// page's `next`, checked as the table's lists check it), `limit` (1..=100) of them, and the
/// sort key of the last when more follow.
fn page_below(
    mut rows: Vec<(String, Item)>,
    cursor: Option<&str>,
    limit: i32,
) -> Result<(Vec<Item>, Option<String>), StoreError> {
    let cursor = sort_key_cursor(cursor)?;
    rows.retain(|(sk, _)| cursor.is_none_or(|c| sk.as_str() < c));
    rows.reverse();
    let limit = usize::try_from(limit.clamp(1, 100)).unwrap_or(100);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match rows.last() {
        Some((sk, _)) if more => Some(sk.clone()),
        _ => None,
    };
    Ok((rows.into_iter().map(|(_, item)| item).collect(), next))
}

/// One page of `rows` (ascending by sort key), read forwards or backwards from `page.cursor`,
/// with a cursor of the same shape as DynamoDB's (the table and index keys of the last item).
fn paged(
    mut rows: Vec<(String, Item)>,
    forward: bool,
    index: (&str, &str),
    page: PageRequest,
) -> Result<Page<StoredClue>, StoreError> {
    if !forward {
        rows.reverse();
    }
    if let Some(cursor) = &page.cursor {
        let start = cursor.to_key()?;
        let after = attr(&start, index.1)
            .ok_or(StoreError::Invalid("cursor"))?
            .to_owned();
        rows.retain(|(sk, _)| if forward { *sk > after } else { *sk < after });
    }
    let limit = usize::try_from(page.limit.clamp(1, 1000)).unwrap_or(1);
    let more = rows.len() > limit;
    rows.truncate(limit);
    let next = match rows.last() {
        Some((_, item)) if more => {
            let key: Item = [PK, SK, index.0, index.1]
                .iter()
                .filter_map(|k| item.get(*k).map(|v| ((*k).to_owned(), v.clone())))
                .collect();
            Some(Cursor::from_key(&key)?)
        }
        _ => None,
    };
    Ok(Page {
        items: rows
            .into_iter()
            .map(|(_, item)| StoredClue::try_from(item))
            .collect::<Result<_, _>>()?,
        next,
    })
}

impl ClueCommands for InMemoryClueStore {
    async fn receive(
        &self,
        submission: Submission,
        identity: ReporterIdentity,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> Result<Received, StoreError> {
        let (reporter, fp) = receipt_fingerprint(self.keyer()?, &submission, &identity)?;
        let mut state = self.state();
        if let Some(mut received) = state.replay::<Received>(key, &fp)? {
            received.replayed = true;
            return Ok(received);
        }
        let division = submission.report.location.division;
        let city = division
            .city()
            .ok_or(DomainError::NotReportableLocation(division))?;
        let directory = state.directory()?;
        let calendar = state.calendar()?;
        let rules = Rules {
            calendar: &calendar,
            bureaus: &directory,
            divisions: Divisions::embedded(),
        };
        let real_name = identity.is_real_name();
        let date = shanghai_date(now);
        let scope = state.scope_history(city)?.in_force(now).clone();
        let provisional = ClueNo::new(division, date, 1);
        let mut loaded = BTreeMap::new();
        if let Some(old) = &submission.report.resubmission_of {
            state.load([old.clone()], &mut loaded)?;
        }
        let keys = self.keyer()?.keys(&identity.openid);
        let receipt = Receipt::new(&submission, &reporter, &keys, real_name, &scope, &loaded)?;
        receipt.events(provisional, now, &rules)?;
        // Numbers are never reused: a receipt refused after this point leaves a gap.
        let seq = {
            let seq = state.sequences.entry((division, date)).or_insert(0);
            *seq += 1;
            *seq
        };
        let clue_no = ClueNo::new(division, date, seq);
        let events = receipt.events(clue_no.clone(), now, &rules)?;
        let changes = apply_events(&loaded, Some(&submission.clue_id), &events)?;
        let received = Received {
            clue_id: submission.clue_id.clone(),
            clue_no,
            reporter,
            events,
            replayed: false,
        };
        let record = record_item(key, "receive", &fp, &received, now)?;
        plan_writes("memory", &changes, Some(record.clone()), Vec::new())?;
        if state.clues.contains_key(&submission.clue_id) {
            return Err(StoreError::Conflict);
        }
        state.commit(changes, record, key)?;
        state.vault.insert(submission.clue_id.clone(), identity);
        Ok(received)
    }

    async fn execute(
        &self,
        clue: &ClueId,
        command: Command,
        actor: &Actor,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> Result<CommandOutcome, StoreError> {
        self.execute_if_version(clue, None, command, actor, now, key)
            .await
    }

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
        let mut state = self.state();
        if let Some(mut outcome) = state.replay::<CommandOutcome>(key, &fp)? {
            outcome.replayed = true;
            return Ok(outcome);
        }
        let clue = state.clue(clue_id)?.clone();
        if expected_version.is_some_and(|v| v != clue.clue.version) {
            return Err(StoreError::Conflict);
        }
        let mut loaded = BTreeMap::from([(clue_id.clone(), clue.clone())]);
        if let Some(other) = referenced_clue(&command) {
            state.load([other.clone()], &mut loaded)?;
        }
        let command = resolve_references(command, &loaded)?;
        let directory = state.directory()?;
        let calendar = state.calendar()?;
        let rules = Rules {
            calendar: &calendar,
            bureaus: &directory,
            divisions: Divisions::embedded(),
        };
        let events = clue.clue.decide(&command, actor, now, &rules)?;
        state.load(events.iter().map(|e| e.clue.clone()), &mut loaded)?;
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
        let record = record_item(key, "execute", &fp, &outcome, now)?;
        plan_writes("memory", &changes, Some(record.clone()), Vec::new())?;
        state.commit(changes, record, key)?;
        Ok(outcome)
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
        self.state()
            .vault
            .get(id)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("identity of clue {id}")))
    }
}

impl ClueReads for InMemoryClueStore {
    async fn clue(&self, id: &ClueId) -> Result<StoredClue, StoreError> {
        self.state().clue(id).cloned()
    }

    async fn clue_by_no(&self, no: &ClueNo) -> Result<Option<StoredClue>, StoreError> {
        Ok(self
            .state()
            .clues
            .values()
            .find(|c| &c.clue.clue_no == no)
            .cloned())
    }

    async fn reporter_clues(
        &self,
        reporter: &ReporterKey,
        page: PageRequest,
    ) -> Result<Page<StoredClue>, StoreError> {
        let rows = State::index(
            self.state().clue_items()?,
            GSI1PK,
            &gsi_reporter(reporter),
            GSI1SK,
        );
        paged(rows, false, (GSI1PK, GSI1SK), page)
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
        let rows = State::index(
            self.state().clue_items()?,
            GSI2PK,
            &gsi_inbox(bureau, state),
            GSI2SK,
        );
        paged(rows, true, (GSI2PK, GSI2SK), page)
    }

    async fn timeline(&self, id: &ClueId) -> Result<Vec<TimelineEntry>, StoreError> {
        Ok(self.state().timelines.get(id).cloned().unwrap_or_default())
    }

    async fn verify_timeline(&self, id: &ClueId) -> Result<Head, StoreError> {
        let state = self.state();
        let head = state.clue(id)?.head.clone();
        let entries = state.timelines.get(id).cloned().unwrap_or_default();
        verify(&entries, Some(&head)).map_err(|source| StoreError::Tampered {
            clue: id.to_string(),
            source,
        })
    }

    async fn merge_group(&self, primary: &ClueId) -> Result<Vec<StoredClue>, StoreError> {
        let state = self.state();
        let head = state.clue(primary)?.clone();
        let mut group = vec![head.clone()];
        for member in &head.clue.members {
            group.push(state.clue(&member.clue)?.clone());
        }
        Ok(group)
    }

    async fn messages(&self, id: &ClueId) -> Result<Vec<Message>, StoreError> {
        Ok(self.state().messages.get(id).cloned().unwrap_or_default())
    }
}

impl DeadlineIndex for InMemoryClueStore {
    async fn deadlines_due(
        &self,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeadlineEntry>, StoreError> {
        let lo = from.map_or_else(|| "0".to_owned(), instant);
        let hi = format!("{}~", instant(to));
        State::index(self.state().deadline_items()?, GSI1PK, DUE, GSI1SK)
            .into_iter()
            .filter(|(sk, _)| *sk >= lo && *sk <= hi)
            .map(|(_, item)| DeadlineEntry::try_from(item))
            .collect()
    }

    async fn reminders_due(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> Result<Vec<DeadlineEntry>, StoreError> {
        let (lo, hi) = (instant(from), format!("{}~", instant(to)));
        State::index(self.state().deadline_items()?, GSI2PK, REMIND, GSI2SK)
            .into_iter()
            .filter(|(sk, _)| *sk >= lo && *sk <= hi)
            .map(|(_, item)| DeadlineEntry::try_from(item))
            .collect()
    }
}

impl NoticeOutbox for InMemoryClueStore {
    async fn undelivered_notices(
        &self,
        owed_before: DateTime<Utc>,
    ) -> Result<Vec<OutboxEntry>, StoreError> {
        let state = self.state();
        let mut items = Vec::new();
        for stored in state.clues.values() {
            for notice in &stored.clue.notices {
                items.push(outbox_item(&stored.clue.id, notice)?);
            }
        }
        let hi = instant(owed_before);
        State::index(items, GSI3PK, OUTBOX, GSI3SK)
            .into_iter()
            .filter(|(sk, _)| sk.as_str() >= "0" && *sk <= hi)
            .map(|(_, item)| OutboxEntry::try_from(item))
            .collect()
    }
}

impl IdentityVault for InMemoryClueStore {
    async fn masked_identity(&self, id: &ClueId) -> Result<MaskedIdentity, StoreError> {
        self.state()
            .vault
            .get(id)
            .map(ReporterIdentity::masked)
            .ok_or_else(|| StoreError::NotFound(format!("identity of clue {id}")))
    }

    async fn recipient_openid(&self, id: &ClueId) -> Result<String, StoreError> {
        self.state()
            .vault
            .get(id)
            .map(|i| i.openid.clone())
            .ok_or_else(|| StoreError::NotFound(format!("identity of clue {id}")))
    }
}

impl Directory for InMemoryClueStore {
    async fn officer(&self, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
        Ok(self.state().officers.get(id.as_str()).cloned())
    }

    async fn bureau_officers(&self, bureau: &BureauId) -> Result<Vec<Officer>, StoreError> {
        Ok(self
            .state()
            .officers
            .values()
            .filter(|o| &o.bureau == bureau)
            .cloned()
            .collect())
    }

    async fn put_officer(&self, officer: &Officer) -> Result<(), StoreError> {
        let mut state = self.state();
        // As the table: the officer's item is put whole, without the disabled mark.
        state.disabled.remove(officer.id.as_str());
        state
            .officers
            .insert(officer.id.as_str().to_owned(), officer.clone());
        Ok(())
    }

    async fn bureau(&self, id: &BureauId) -> Result<Option<Bureau>, StoreError> {
        Ok(self.state().bureaus.get(id.as_str()).cloned())
    }

    async fn put_bureau(&self, bureau: &Bureau) -> Result<(), StoreError> {
        bureau
            .validate()
            .map_err(|e| StoreError::Domain(DomainError::Jurisdiction(e)))?;
        self.state()
            .bureaus
            .insert(bureau.id.as_str().to_owned(), bureau.clone());
        Ok(())
    }

    async fn bureaus(&self) -> Result<Arc<BureauDirectory>, StoreError> {
        Ok(Arc::new(self.state().directory()?))
    }
}

impl Scopes for InMemoryClueStore {
    async fn scope_history(&self, city: DivisionCode) -> Result<ScopeHistory, StoreError> {
        self.state().scope_history(city)
    }

    async fn scope_history_cached(
        &self,
        city: DivisionCode,
    ) -> Result<Arc<ScopeHistory>, StoreError> {
        Ok(Arc::new(self.state().scope_history(city)?))
    }

    async fn add_scope_version(&self, version: ScopeVersion) -> Result<(), StoreError> {
        let mut state = self.state();
        let city = version.city;
        let mut history = state.scope_history(city)?;
        history
            .add(version.clone())
            .map_err(|e: ScopeError| DomainError::from(e))?;
        state.scopes.entry(city).or_default().push(version);
        Ok(())
    }
}

impl Statistics for InMemoryClueStore {
    async fn read_stats(
        &self,
        cell: &DivisionCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> Result<BTreeMap<String, i64>, StoreError> {
        let mut total = BTreeMap::new();
        let state = self.state();
        let days = state
            .stats
            .iter()
            .filter(|((c, day), _)| c == cell && *day >= from && *day <= to);
        for (_, counters) in days {
            for (metric, n) in counters {
                *total.entry(metric.clone()).or_insert(0) += n;
            }
        }
        Ok(total)
    }

    async fn read_counters(
        &self,
        cell: &DivisionCode,
        plan: &ReadPlan,
    ) -> Result<DayCounters, StoreError> {
        let state = self.state();
        let of_cell = |map: &BTreeMap<(DivisionCode, NaiveDate), BTreeMap<String, i64>>| {
            map.iter()
                .filter(|((c, _), _)| c == cell)
                .map(|((_, d), counters)| (*d, counters.clone()))
                .collect::<Vec<_>>()
        };
        Ok(plan.assemble(of_cell(&state.months), of_cell(&state.stats)))
    }
}
