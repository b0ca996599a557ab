//! The write plan of one command: from the snapshots of the clues it touches and the events the
//! domain decided, every item of the one `TransactWriteItems` — clue states (version-checked),
//! timeline entries, messages, deadline index items, outbox items, statistics counters (one
//! `ADD` per cell and day and one per cell and month, increments aggregated first) and the
//! idempotency record. Pure: no I/O.

use std::collections::{BTreeMap, BTreeSet};

use aws_sdk_dynamodb::types::{AttributeValue, Delete, Put, TransactWriteItem, Update};
use chrono::NaiveDate;
use chrono::{DateTime, Utc};
use domain::command::{JudgmentRequest, Rules};
use domain::event::EventKind;
use domain::rollup::month_of;
use domain::scope::ScopeVersion;
use domain::stats::{gauge_deltas, metrics_of, stat_day, territory_cells};
use domain::timeline::{Head, TimelineEntry, append_all};
use domain::{Actor, Clue, ClueId, ClueNo, Command, DivisionCode, DomainError, Event, ReporterKey};

use crate::MAX_MERGE_MEMBERS;
use crate::error::StoreError;
use crate::item::{
    Item, StoredClue, deadline_item, entry_to_item, message_item, n, outbox_item, s,
};
use crate::keys::*;
use crate::model::Submission;
use crate::vault::ReporterKeys;

/// DynamoDB's limit on the items of one transaction.
pub const MAX_TRANSACTION_ITEMS: usize = 100;

/// One touched clue: before (absent for a new clue) and after the command, and the timeline
/// entries appended to it.
#[derive(Debug, Clone)]
pub struct Change {
    pub before: Option<StoredClue>,
    pub after: StoredClue,
    pub entries: Vec<TimelineEntry>,
}

/// Applies `events` to every clue they touch. `created` is a clue the events receive (its
/// receipt events come first); every other touched clue must be in `loaded`.
///
/// # Errors
/// [`StoreError::NotFound`] for a touched clue that was not loaded; [`StoreError::Malformed`]
/// if the domain's events do not apply (a defect).
pub fn apply_events(
    loaded: &BTreeMap<ClueId, StoredClue>,
    created: Option<&ClueId>,
    events: &[Event],
) -> Result<Vec<Change>, StoreError> {
    let mut order: Vec<&ClueId> = Vec::new();
    for e in events {
        if !order.contains(&&e.clue) {
            order.push(&e.clue);
        }
    }
    let mut changes = Vec::with_capacity(order.len());
    for id in order {
        let own: Vec<Event> = events.iter().filter(|e| &e.clue == id).cloned().collect();
        let bad = |e: domain::clue::ApplyError| StoreError::malformed(id.as_str(), e);
        let (before, clue, head) = if created == Some(id) {
            (
                None,
                Clue::from_receipt(events).map_err(bad)?,
                Head::genesis(),
            )
        } else {
            let before = loaded
                .get(id)
                .ok_or_else(|| StoreError::NotFound(format!("clue {id}")))?;
            let mut clue = before.clue.clone();
            clue.apply(events).map_err(bad)?;
            (Some(before.clone()), clue, before.head.clone())
        };
        let (entries, head) =
            append_all(&head, own).map_err(|e| StoreError::malformed(id.as_str(), e))?;
        changes.push(Change {
            before,
            after: StoredClue { clue, head },
            entries,
        });
    }
    Ok(changes)
}

/// The other clue a command names (a merge's primary, a duplicate's earlier clue): the decision
/// must see it as stored, not as the officer's request described it.
pub fn referenced_clue(command: &Command) -> Option<&ClueId> {
    match command {
        Command::Merge { primary, .. } | Command::Unmerge { primary, .. } => Some(&primary.id),
        Command::Judge {
            judgment: JudgmentRequest::Duplicate { earlier },
            ..
        } => Some(&earlier.id),
        _ => None,
    }
}

/// `command` with the clue it names ([`referenced_clue`], loaded by the caller into `loaded`)
/// replaced by its stored view.
///
/// # Errors
/// [`StoreError::NotFound`] when that clue was not loaded; [`StoreError::MergeGroupFull`] for a
/// merge into a primary that holds [`MAX_MERGE_MEMBERS`] clues already.
pub fn resolve_references(
    command: Command,
    loaded: &BTreeMap<ClueId, StoredClue>,
) -> Result<Command, StoreError> {
    let stored = |id: &ClueId| {
        loaded
            .get(id)
            .ok_or_else(|| StoreError::NotFound(format!("clue {id}")))
    };
    Ok(match command {
        Command::Merge { primary, reason } => {
            let stored = stored(&primary.id)?;
            if stored.clue.members.len() >= MAX_MERGE_MEMBERS {
                return Err(StoreError::MergeGroupFull(stored.clue.members.len()));
            }
            Command::Merge {
                primary: Box::new(stored.clue.summary()),
                reason,
            }
        }
        Command::Unmerge { primary, reason } => Command::Unmerge {
            primary: Box::new(stored(&primary.id)?.clue.summary()),
            reason,
        },
        Command::Judge {
            judgment: JudgmentRequest::Duplicate { earlier },
            note,
        } => Command::Judge {
            judgment: JudgmentRequest::Duplicate {
                earlier: Box::new(stored(&earlier.id)?.clue.summary()),
            },
            note,
        },
        other => other,
    })
}

/// The receipt of `submission` as the domain decides it, numbered `clue_no`.
///
/// # Errors
/// The domain's refusal.
pub fn decide_receipt(
    submission: &Submission,
    clue_no: ClueNo,
    reporter: &ReporterKey,
    real_name: bool,
    scope: &ScopeVersion,
    now: DateTime<Utc>,
    rules: &Rules<'_>,
) -> Result<Vec<Event>, DomainError> {
    let cmd = submission.receive_command(clue_no, reporter, real_name);
    let actor = Actor::Reporter {
        reporter: reporter.clone(),
    };
    domain::receive(cmd, scope, &actor, now, rules)
}

/// A receipt being decided: the submission, its reporter, the scope version it was consented
/// under and, for a resubmission, the earlier clue (loaded) it links.
#[derive(Debug, Clone, Copy)]
pub struct Receipt<'a> {
    pub submission: &'a Submission,
    pub reporter: &'a ReporterKey,
    pub real_name: bool,
    pub scope: &'a ScopeVersion,
    pub earlier: Option<&'a StoredClue>,
    /// The earlier clue's reporter key when it is this reporter's under an earlier version of
    /// the reporter-key secret (the link is then decided as that key).
    pub earlier_reporter: Option<&'a ReporterKey>,
}

impl<'a> Receipt<'a> {
    /// The receipt of `submission` by `reporter` (one of `keys`, the current one), with the
    /// earlier clue a resubmission names taken from `loaded`: when that clue is this reporter's
    /// under an earlier version of the reporter-key secret, the link is decided as that key.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the submission names a clue that was not loaded.
    pub fn new(
        submission: &'a Submission,
        reporter: &'a ReporterKey,
        keys: &ReporterKeys,
        real_name: bool,
        scope: &'a ScopeVersion,
        loaded: &'a BTreeMap<ClueId, StoredClue>,
    ) -> Result<Self, StoreError> {
        let earlier = Self::earlier(submission, loaded)?;
        Ok(Self {
            submission,
            reporter,
            real_name,
            scope,
            earlier,
            earlier_reporter: earlier.map(|c| &c.clue.reporter).filter(|r| keys.holds(r)),
        })
    }

    /// The earlier clue a resubmission names, from `loaded`.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the submission names one that was not loaded.
    pub fn earlier<'l>(
        submission: &Submission,
        loaded: &'l BTreeMap<ClueId, StoredClue>,
    ) -> Result<Option<&'l StoredClue>, StoreError> {
        submission
            .report
            .resubmission_of
            .as_ref()
            .map(|id| {
                loaded
                    .get(id)
                    .ok_or_else(|| StoreError::NotFound(format!("clue {id}")))
            })
            .transpose()
    }

    /// The receipt's events when numbered `clue_no`: the domain's receipt and, for a
    /// resubmission, the earlier clue's link to it. A store decides first with a provisional
    /// number, so that an invalid submission never takes one, then with the number taken.
    ///
    /// # Errors
    /// The domain's refusal of either.
    pub fn events(
        &self,
        clue_no: ClueNo,
        now: DateTime<Utc>,
        rules: &Rules<'_>,
    ) -> Result<Vec<Event>, StoreError> {
        let mut events = decide_receipt(
            self.submission,
            clue_no.clone(),
            self.reporter,
            self.real_name,
            self.scope,
            now,
            rules,
        )?;
        if let Some(earlier) = self.earlier {
            let actor = Actor::Reporter {
                reporter: self.earlier_reporter.unwrap_or(self.reporter).clone(),
            };
            let link = Command::Resubmit {
                new_clue: self.submission.clue_id.clone(),
                new_clue_no: clue_no,
            };
            events.extend(earlier.clue.decide(&link, &actor, now, rules)?);
        }
        Ok(events)
    }
}

/// The statistics increments of `changes`, aggregated per (territory cell, day): each event
/// counts for the clue whose timeline holds it, in that clue's county, city and province, on
/// the Shanghai day of the event; the gauges move by the change of the clue
/// ([`domain::stats::gauge_deltas`]) on the day of the change.
pub fn counter_increments(
    changes: &[Change],
) -> BTreeMap<(DivisionCode, NaiveDate), BTreeMap<String, i64>> {
    let mut out: BTreeMap<(DivisionCode, NaiveDate), BTreeMap<String, i64>> = BTreeMap::new();
    for change in changes {
        let clue = &change.after.clue;
        let cells = territory_cells(&clue.location.division);
        let gauges = gauge_deltas(change.before.as_ref().map(|b| &b.clue), clue);
        if !gauges.is_empty() {
            let at = change
                .entries
                .last()
                .map_or(clue.updated_at, |e| e.event.at);
            for cell in &cells {
                let counters = out.entry((*cell, stat_day(at))).or_default();
                for (code, by) in &gauges {
                    *counters.entry(code.clone()).or_default() += by;
                }
            }
        }
        for entry in &change.entries {
            let metrics = metrics_of(&entry.event.kind, &clue.category);
            if metrics.is_empty() {
                continue;
            }
            let day = stat_day(entry.event.at);
            for cell in &cells {
                let counters = out.entry((*cell, day)).or_default();
                for m in &metrics {
                    *counters.entry(m.code()).or_default() += 1;
                }
            }
        }
    }
    out
}

/// The month rollups of day increments ([`counter_increments`]): per (cell, first day of the
/// month), the sum of its days' increments. Written in the same transaction as the days, so a
/// month item always equals the sum of its day items.
pub fn month_increments(
    days: &BTreeMap<(DivisionCode, NaiveDate), BTreeMap<String, i64>>,
) -> BTreeMap<(DivisionCode, NaiveDate), BTreeMap<String, i64>> {
    let mut out: BTreeMap<(DivisionCode, NaiveDate), BTreeMap<String, i64>> = BTreeMap::new();
    for ((cell, day), counters) in days {
        let month = out.entry((*cell, month_of(*day))).or_default();
        for (code, by) in counters {
            *month.entry(code.clone()).or_default() += by;
        }
    }
    out
}

/// One `ADD` of counter increments to a statistics item (created when absent); a month rollup's
/// also adds 1 to its [`ROLLUP_REV`].
///
/// # Errors
/// A request the SDK cannot build.
pub fn add_counters(
    table: &str,
    pk: String,
    sk: String,
    counters: &BTreeMap<String, i64>,
    rollup: bool,
) -> Result<Update, StoreError> {
    let mut names = std::collections::HashMap::new();
    let mut values = std::collections::HashMap::new();
    let mut clauses = Vec::new();
    if rollup {
        names.insert("#rev".to_owned(), ROLLUP_REV.to_owned());
        values.insert(":rev".to_owned(), n(1));
        clauses.push("#rev :rev".to_owned());
    }
    for (i, (code, by)) in counters.iter().enumerate() {
        names.insert(format!("#m{i}"), code.clone());
        values.insert(format!(":m{i}"), n(by));
        clauses.push(format!("#m{i} :m{i}"));
    }
    Update::builder()
        .table_name(table)
        .key(PK, s(pk))
        .key(SK, s(sk))
        .update_expression(format!("ADD {}", clauses.join(", ")))
        .set_expression_attribute_names(Some(names))
        .set_expression_attribute_values(Some(values))
        .build()
        .map_err(|e| StoreError::sdk("build update", e))
}

/// The transaction of a command, with where to look when it is cancelled.
#[derive(Debug, Clone)]
pub struct WritePlan {
    pub items: Vec<TransactWriteItem>,
    /// Positions of the version-checked clue items.
    pub clue_checks: Vec<usize>,
    /// Position of the idempotency record.
    pub idempotency: Option<usize>,
    /// A statistic of the plan: item counts by kind.
    pub counts: BTreeMap<&'static str, usize>,
}

/// Builds the transaction's items. `extra` items (e.g. the vault record) are added as they are.
///
/// # Errors
/// [`StoreError::TooLarge`] past [`MAX_TRANSACTION_ITEMS`].
pub fn plan_writes(
    table: &str,
    changes: &[Change],
    idempotency: Option<Item>,
    extra: Vec<Item>,
) -> Result<WritePlan, StoreError> {
    let mut plan = WritePlan {
        items: Vec::new(),
        clue_checks: Vec::new(),
        idempotency: None,
        counts: BTreeMap::new(),
    };
    for change in changes {
        plan_change(table, change, &mut plan)?;
    }
    let days = counter_increments(changes);
    let months = month_increments(&days);
    let updates = days
        .into_iter()
        .map(|((cell, day), c)| ("counter", cell, sk_day(day), c))
        .chain(
            months
                .into_iter()
                .map(|((cell, month), c)| ("rollup", cell, sk_month(month), c)),
        );
    for (kind, cell, sk, mut counters) in updates {
        counters.retain(|_, by| *by != 0);
        if counters.is_empty() {
            continue;
        }
        let update = add_counters(table, pk_stat(&cell), sk, &counters, kind == "rollup")?;
        push(
            &mut plan,
            kind,
            TransactWriteItem::builder().update(update).build(),
        );
    }
    for item in extra {
        let put = put_new(table, item)?;
        push(&mut plan, "extra", put);
    }
    if let Some(item) = idempotency {
        plan.idempotency = Some(plan.items.len());
        let put = put_new(table, item)?;
        push(&mut plan, "idempotency", put);
    }
    if plan.items.len() > MAX_TRANSACTION_ITEMS {
        return Err(StoreError::TooLarge {
            items: plan.items.len(),
        });
    }
    Ok(plan)
}

fn push(plan: &mut WritePlan, kind: &'static str, item: TransactWriteItem) {
    *plan.counts.entry(kind).or_default() += 1;
    plan.items.push(item);
}

/// A put of an item that must not exist yet.
fn put_new(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .condition_expression("attribute_not_exists(pk)")
        .build()
        .map_err(|e| StoreError::sdk("build put", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn put_any(table: &str, item: Item) -> Result<TransactWriteItem, StoreError> {
    let put = Put::builder()
        .table_name(table)
        .set_item(Some(item))
        .build()
        .map_err(|e| StoreError::sdk("build put", e))?;
    Ok(TransactWriteItem::builder().put(put).build())
}

fn delete(table: &str, pk: String, sk: String) -> Result<TransactWriteItem, StoreError> {
    let delete = Delete::builder()
        .table_name(table)
        .key(PK, s(pk))
        .key(SK, s(sk))
        .build()
        .map_err(|e| StoreError::sdk("build delete", e))?;
    Ok(TransactWriteItem::builder().delete(delete).build())
}

fn plan_change(table: &str, change: &Change, plan: &mut WritePlan) -> Result<(), StoreError> {
    let after = &change.after;
    let clue = &after.clue;
    // The clue item: its put is also the optimistic lock.
    let item = after.to_item()?;
    let put = match &change.before {
        None => put_new(table, item)?,
        Some(before) => {
            let put = Put::builder()
                .table_name(table)
                .set_item(Some(item))
                .condition_expression("version = :expected")
                .expression_attribute_values(":expected", n(before.clue.version))
                .build()
                .map_err(|e| StoreError::sdk("build put", e))?;
            TransactWriteItem::builder().put(put).build()
        }
    };
    plan.clue_checks.push(plan.items.len());
    push(plan, "clue", put);
    // Timeline entries (never overwritten) and message copies.
    for entry in &change.entries {
        let put = put_new(table, entry_to_item(entry)?)?;
        push(plan, "timeline", put);
        if let EventKind::MessagePosted { from, text } = &entry.event.kind {
            let put = put_new(table, message_item(entry, from, text.as_str())?)?;
            push(plan, "message", put);
        }
    }
    // Deadline and supervision index items: put the new or changed, delete the ones no longer
    // open (deadlines).
    let indexed = |c: &Clue| -> Result<BTreeMap<String, Item>, StoreError> {
        let mut out = BTreeMap::new();
        let mut items = crate::supervision::supervision_items(c)?;
        for d in &c.deadlines {
            items.extend(deadline_item(c, d)?);
        }
        for item in items {
            let sk = item
                .get(SK)
                .and_then(|v| v.as_s().ok())
                .cloned()
                .unwrap_or_default();
            out.insert(sk, item);
        }
        Ok(out)
    };
    let old = match &change.before {
        Some(b) => indexed(&b.clue)?,
        None => BTreeMap::new(),
    };
    let new = indexed(clue)?;
    for (sk, item) in &new {
        if old.get(sk) != Some(item) {
            let put = put_any(table, item.clone())?;
            push(plan, "deadline", put);
        }
    }
    for sk in old.keys().filter(|sk| !new.contains_key(*sk)) {
        let del = delete(table, pk_clue(&clue.id), sk.clone())?;
        push(plan, "deadline", del);
    }
    // Outbox items of notices owed or whose delivery changed.
    let before_notices: BTreeSet<String> = change
        .before
        .iter()
        .flat_map(|b| b.clue.notices.iter())
        .filter_map(|n| serde_json::to_string(n).ok())
        .collect();
    for notice in &clue.notices {
        let same = serde_json::to_string(notice)
            .map(|j| before_notices.contains(&j))
            .unwrap_or(false);
        if !same {
            let put = put_any(table, outbox_item(&clue.id, notice)?)?;
            push(plan, "outbox", put);
        }
    }
    Ok(())
}

/// Where a cancelled transaction failed, by item position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Cancelled {
    /// The idempotency record exists: the command was already done.
    AlreadyDone,
    /// A clue's version changed (or a new clue's id exists).
    VersionChanged,
    /// Another transaction was in flight on one of the items: retry.
    InFlight,
    /// Anything else (e.g. a counter update refused).
    Other(String),
}

/// Classifies the cancellation reasons DynamoDB returns (one code per item, in order).
pub fn classify(plan: &WritePlan, codes: &[Option<String>]) -> Cancelled {
    let code_at = |i: usize| codes.get(i).and_then(|c| c.as_deref());
    if let Some(i) = plan.idempotency
        && code_at(i) == Some("ConditionalCheckFailed")
    {
        return Cancelled::AlreadyDone;
    }
    if plan
        .clue_checks
        .iter()
        .any(|&i| code_at(i) == Some("ConditionalCheckFailed"))
    {
        return Cancelled::VersionChanged;
    }
    if codes
        .iter()
        .any(|c| c.as_deref() == Some("TransactionConflict"))
    {
        return Cancelled::InFlight;
    }
    let first = codes
        .iter()
        .flatten()
        .find(|c| c.as_str() != "None")
        .cloned()
        .unwrap_or_else(|| "unknown".to_owned());
    Cancelled::Other(first)
}

/// Reads a statistics item back: every numeric attribute that is a metric.
pub fn counters_of(item: &Item) -> BTreeMap<String, i64> {
    item.iter()
        .filter(|(k, _)| !matches!(k.as_str(), PK | SK | EXPIRES_AT | ROLLUP_REV))
        .filter_map(|(k, v)| match v {
            AttributeValue::N(x) => x.parse().ok().map(|x| (k.clone(), x)),
            _ => None,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use std::collections::HashSet;

    use chrono::{DateTime, TimeZone, Utc};
    use domain::command::{JudgmentRequest, ReceiveClue, Rules, receive};
    use domain::event::{Channel, Location};
    use domain::scope::{Category, CategoryChoice, ScopeVersion};
    use domain::text::{Address, Facts};
    use domain::{
        Actor, Bureau, BureauDirectory, BureauId, BureauKind, BureauLevel, ClueNo, Command,
        Divisions, Officer, OfficerId, ReporterKey, Role, WorkingCalendar,
    };

    use super::*;

    fn code(s: &str) -> DivisionCode {
        DivisionCode::parse(s).expect("code")
    }

    fn directory() -> BureauDirectory {
        let land = |id: &str, level, div: Option<&str>| Bureau {
            id: BureauId::parse(id).expect("id"),
            name: format!("{id} 局"),
            region: id.to_owned(),
            level,
            kind: BureauKind::Land,
            division: div.map(code),
            city_direct: false,
        };
        BureauDirectory::new([
            land("ministry", BureauLevel::Ministry, None),
            land("land-330000", BureauLevel::Province, Some("330000")),
            land("land-330100", BureauLevel::City, Some("330100")),
            land("land-330106", BureauLevel::County, Some("330106")),
        ])
        .expect("directory")
    }

    fn received(dir: &BureauDirectory) -> (Vec<Event>, StoredClue) {
        received_as(dir, "c1", 1)
    }

    /// Clue `id` (number `seq`) received in 330106 from its own reporter.
    fn received_as(dir: &BureauDirectory, id: &str, seq: u32) -> (Vec<Event>, StoredClue) {
        let rules = Rules {
            calendar: WorkingCalendar::embedded(),
            bureaus: dir,
            divisions: Divisions::embedded(),
        };
        let now = Utc
            .with_ymd_and_hms(2026, 3, 9, 2, 0, 0)
            .single()
            .expect("t");
        let reporter = ReporterKey::parse(&format!("{seq:064x}")).expect("key");
        let scope = ScopeVersion::default_for(code("330100"), DateTime::UNIX_EPOCH);
        let cmd = ReceiveClue {
            clue_id: ClueId::parse(id).expect("id"),
            clue_no: ClueNo::new(code("330106"), now.date_naive(), seq),
            reporter: reporter.clone(),
            report: domain::report::Report {
                location: Location {
                    division: code("330106"),
                    address: Address::parse("某村").expect("address"),
                    gps: None,
                },
                subject: None,
                category: CategoryChoice::Annex(Category::FarmlandDestruction),
                facts: Facts::parse("占用耕地建房").expect("facts"),
                evidence_left_out: Vec::new(),
                notice_version: scope.reporting_notice().version_id,
                consent: true,
                channel: Channel::H5,
                resubmission_of: None,
            },
            evidence: Vec::new(),
            real_name: false,
        };
        let events =
            receive(cmd, &scope, &Actor::Reporter { reporter }, now, &rules).expect("receipt");
        let changes = apply_events(
            &BTreeMap::new(),
            Some(&ClueId::parse(id).expect("id")),
            &events,
        )
        .expect("apply");
        (events, changes[0].after.clone())
    }

    fn keys_of(plan: &WritePlan) -> Vec<(String, String)> {
        plan.items
            .iter()
            .map(|t| {
                let key = t
                    .put()
                    .map(|p| p.item().clone())
                    .or_else(|| t.update().map(|u| u.key().clone()))
                    .or_else(|| t.delete().map(|d| d.key().clone()))
                    .unwrap_or_default();
                let get = |k: &str| {
                    key.get(k)
                        .and_then(|v| v.as_s().ok())
                        .cloned()
                        .unwrap_or_default()
                };
                (get(PK), get(SK))
            })
            .collect()
    }

    #[test]
    fn a_receipt_writes_each_item_once_with_counters_aggregated_per_cell() {
        let dir = directory();
        let (events, _) = received(&dir);
        let changes =
            apply_events(&BTreeMap::new(), Some(&events[0].clue), &events).expect("apply");
        let plan = plan_writes("t", &changes, None, Vec::new()).expect("plan");
        let keys = keys_of(&plan);
        let unique: HashSet<_> = keys.iter().collect();
        assert_eq!(unique.len(), keys.len(), "no item twice in one transaction");
        // Four events count `received`, `category.*` and `notice_owed`: one ADD per cell.
        assert_eq!(plan.counts.get("counter"), Some(&3));
        assert_eq!(
            plan.counts.get("rollup"),
            Some(&3),
            "one month item per cell"
        );
        assert_eq!(plan.counts.get("timeline"), Some(&4));
        assert_eq!(plan.counts.get("deadline"), Some(&2));
        assert_eq!(plan.counts.get("outbox"), Some(&1));
        assert_eq!(plan.clue_checks, vec![0]);
        let inc = counter_increments(&changes);
        let county = &inc[&(code("330106"), events[0].at.date_naive())];
        assert_eq!(county.get("received"), Some(&1));
        assert_eq!(county.get("notice_owed"), Some(&1));
    }

    #[test]
    fn a_judgment_checks_the_version_and_drops_closed_deadlines_from_the_index() {
        let dir = directory();
        let (_, stored) = received(&dir);
        let officer = Actor::Officer {
            officer: Officer {
                id: OfficerId::parse("o1").expect("id"),
                bureau: BureauId::parse("land-330106").expect("id"),
                roles: [Role::Handler].into_iter().collect(),
            },
        };
        let rules = Rules {
            calendar: WorkingCalendar::embedded(),
            bureaus: &dir,
            divisions: Divisions::embedded(),
        };
        let now = stored.clue.received_at + chrono::Duration::days(1);
        let judge = Command::Judge {
            judgment: JudgmentRequest::Accept,
            note: None,
        };
        let events = stored
            .clue
            .decide(&judge, &officer, now, &rules)
            .expect("decide");
        let loaded = BTreeMap::from([(stored.clue.id.clone(), stored.clone())]);
        let changes = apply_events(&loaded, None, &events).expect("apply");
        assert_eq!(changes[0].after.clue.version, 2);
        assert_eq!(changes[0].entries[0].seq, stored.head.seq + 1);
        let plan = plan_writes("t", &changes, None, Vec::new()).expect("plan");
        let deletes = plan.items.iter().filter(|t| t.delete().is_some()).count();
        assert_eq!(deletes, 2, "both deadlines leave the sparse index");
        let condition = plan.items[0].put().and_then(|p| p.condition_expression());
        assert_eq!(condition, Some("version = :expected"));
    }

    #[test]
    fn cancellation_reasons_are_classified_by_position() {
        let dir = directory();
        let (events, _) = received(&dir);
        let changes =
            apply_events(&BTreeMap::new(), Some(&events[0].clue), &events).expect("apply");
        let idem = crate::item::key("IDEM#k", "IDEM");
        let plan = plan_writes("t", &changes, Some(idem), Vec::new()).expect("plan");
        let n = plan.items.len();
        let mut codes = vec![Some("None".to_owned()); n];
        codes[n - 1] = Some("ConditionalCheckFailed".to_owned());
        codes[0] = Some("ConditionalCheckFailed".to_owned());
        assert_eq!(classify(&plan, &codes), Cancelled::AlreadyDone);
        codes[n - 1] = Some("None".to_owned());
        assert_eq!(classify(&plan, &codes), Cancelled::VersionChanged);
        codes[0] = Some("None".to_owned());
        codes[3] = Some("TransactionConflict".to_owned());
        assert_eq!(classify(&plan, &codes), Cancelled::InFlight);
        codes[3] = Some("ValidationError".to_owned());
        assert_eq!(
            classify(&plan, &codes),
            Cancelled::Other("ValidationError".into())
        );
    }

    #[test]
    fn a_plan_past_one_transaction_is_refused() {
        let dir = directory();
        let (events, _) = received(&dir);
        let changes =
            apply_events(&BTreeMap::new(), Some(&events[0].clue), &events).expect("apply");
        let extra = (0..100)
            .map(|i| crate::item::key(format!("X#{i}"), "X"))
            .collect();
        assert!(matches!(
            plan_writes("t", &changes, None, extra),
            Err(StoreError::TooLarge { .. })
        ));
    }

    /// The largest transactions: a primary with a full merge group decides, and its decision
    /// writes every member's state, timeline, deadlines, outbox and (per cell) its counters and
    /// month rollups.
    #[test]
    fn a_full_merge_group_decides_within_one_transaction() {
        let dir = directory();
        let rules = Rules {
            calendar: WorkingCalendar::embedded(),
            bureaus: &dir,
            divisions: Divisions::embedded(),
        };
        let officer = Actor::Officer {
            officer: Officer {
                id: OfficerId::parse("o1").expect("id"),
                bureau: BureauId::parse("land-330106").expect("id"),
                roles: [Role::Handler, Role::Leader].into_iter().collect(),
            },
        };
        let (_, primary) = received_as(&dir, "p", 1);
        let mut loaded = BTreeMap::from([(primary.clue.id.clone(), primary)]);
        let mut now = Utc
            .with_ymd_and_hms(2026, 3, 9, 3, 0, 0)
            .single()
            .expect("t");
        let pid = ClueId::parse("p").expect("id");
        for i in 0..MAX_MERGE_MEMBERS {
            let (_, member) = received_as(&dir, &format!("m{i}"), 2 + i as u32);
            let merge = Command::Merge {
                primary: Box::new(loaded[&pid].clue.summary()),
                reason: None,
            };
            let events = member
                .clue
                .decide(&merge, &officer, now, &rules)
                .expect("merge");
            loaded.insert(member.clue.id.clone(), member);
            for c in apply_events(&loaded, None, &events).expect("apply") {
                loaded.insert(c.after.clue.id.clone(), c.after);
            }
        }
        assert_eq!(loaded[&pid].clue.members.len(), MAX_MERGE_MEMBERS);
        let idem = || Some(crate::item::key("IDEM#k", "IDEM"));
        let mut largest = 0;
        for command in [
            Command::Judge {
                judgment: JudgmentRequest::Accept,
                note: None,
            },
            Command::RecordVerification {
                result: domain::event::VerificationResult::ViolationFound,
                ended_on: NaiveDate::from_ymd_opt(2026, 3, 10).expect("day"),
                note: None,
            },
        ] {
            now += chrono::Duration::days(1);
            let events = loaded[&pid]
                .clue
                .decide(&command, &officer, now, &rules)
                .expect("decide");
            let changes = apply_events(&loaded, None, &events).expect("apply");
            let plan = plan_writes("t", &changes, idem(), Vec::new()).expect("within the bound");
            assert_eq!(plan.counts.get("rollup"), plan.counts.get("counter"));
            println!(
                "{}: {} items {:?}",
                command.name(),
                plan.items.len(),
                plan.counts
            );
            largest = largest.max(plan.items.len());
            for c in changes {
                loaded.insert(c.after.clue.id.clone(), c.after);
            }
        }
        assert!(largest <= MAX_TRANSACTION_ITEMS, "{largest} items");
    }
}
