//! The clue store: every read and write of clue data goes through the store's roles ([`roles`]:
//! [`ClueCommands`], [`ClueReads`], [`Directory`], …; [`ClueStore`] is all of them), implemented on
//! the one DynamoDB table of `template.yaml` by [`DynamoClueStore`] and in memory, with the same
//! semantics, by [`InMemoryClueStore`] (for handler tests; a conformance suite runs against both). A command's events, the
//! clues' new states, their index entries, the notices owed (outbox) and the statistics counters
//! are written in **one** `TransactWriteItems`, conditioned on the version of every clue it
//! touches (optimistic locking): of two concurrent commands on a clue exactly one wins, the other
//! gets [`StoreError::Conflict`] and nothing of it is stored.
//!
//! # The table
//! Keys `pk`/`sk` (S); three overloaded GSIs `GSI1`..`GSI3` on `gsiNpk`/`gsiNsk` (S, projection
//! ALL); TTL on `expires_at`. Times in keys are UTC `YYYY-MM-DDTHH:MM:SS.mmmZ`, which sort as text.
//!
//! | item | `pk` | `sk` | GSI1 | GSI2 | GSI3 |
//! |---|---|---|---|---|---|
//! | clue state (JSON `data`, `version`, timeline head) | `CLUE#<id>` | `CLUE` | `REPORTER#<key>` / `<received_at>#<id>` | `INBOX#<bureau>#<state>` / `<next due>#<id>` | `CLUENO#<no>` / `CLUE` |
//! | timeline entry (hash chain) | `CLUE#<id>` | `EV#<seq:010>` | | | |
//! | message (copy of the event) | `CLUE#<id>` | `MSG#<seq:010>` | | | |
//! | open deadline with a due instant | `CLUE#<id>` | `DL#<kind>#<starts_at>` | `DUE` / `<due>#<id>#<kind>` | `REMIND` / `<remind_at>#<id>#<kind>` | |
//! | open deadline, pending (no due yet) / miss recorded | `CLUE#<id>` | `DL#<kind>#<starts_at>` | `PENDING` / `<starts_at>#<id>#<kind>` / `MISSED` / `<due>#<id>#<kind>` | | |
//! | calendar year uploaded ([`calendar`]) / supervisor's overdue entry ([`sweep`]) | `CALENDAR` / `OVERDUE#<bureau>` | `YEAR#<yyyy>` / `<due>#<id>#<kind>` | | | |
//! | notice owed (outbox) | `CLUE#<id>` | `NOTICE#<notice id>` | | | `OUTBOX` / `<owed_at>#<notice id>` while not final |
//! | send-attempt record of a notice (`notify`'s intent log) | `CLUE#<id>` | `SEND#<notice id>` | | | |
//! | identity vault (AES-256-GCM, KMS data key) | `VAULT#<id>` | `VAULT` | | | |
//! | officer | `OFFICER#<cognito sub>` | `OFFICER` | `BUREAU#<bureau>` / `OFFICER#<sub>` | | |
//! | bureau (incl. `city_direct`) | `BUREAU#<id>` | `BUREAU` | `BUREAUS` / `<id>` | | |
//! | scope version + reporting notice | `SCOPE#<city>` | `V#<version:06>` | | | |
//! | idempotency record (TTL 7 days) | `IDEM#<key>` | `IDEM` | | | |
//! | statistics counters (one number per metric) | `STAT#<division>` | `DAY#<yyyy-mm-dd>` | | | |
//! | clue number sequence (TTL) | `SEQ#<county>` | `DAY#<yyyy-mm-dd>` | | | |
//! | officer reminder (read state, WeChat deliveries) | `REMINDER#<id>` | `REMINDER` | `REMINDERS#<recipient>` / `<created_at>#<id>` | `UNREAD#<recipient>` / same, while unread | |
//! | a reminder's WeChat delivery to one officer | `REMINDER#<id>` | `TO#<sub>` | | | `REMINDER_OUTBOX` / `<created_at>#<id>#<sub>` while not final |
//! | officer's WeChat binding (openid sealed) | `OFFICER#<sub>` | `WXBIND` | `WXBIND#<bureau>` / `<sub>` | | |
//! | WeChat binding code (by SHA-256, single use, TTL) | `WXCODE#<sha256>` | `WXCODE` | | | |
//!
//! The deadline, reminder and outbox indexes are **sparse**: only open deadlines with a known due
//! instant, and only notices whose delivery is not final, carry the GSI attributes; a deadline
//! that closes, or a notice delivered, loses its index entry in the same transaction, so the sweep
//! reads exactly what is due and never scans.
//!
//! # Access patterns
//! | pattern | how | requests |
//! |---|---|---|
//! | clue by id | GetItem `CLUE#<id>`/`CLUE` (consistent) | 1 |
//! | clue by `clue_no` | Query GSI3 `CLUENO#<no>` | 1 |
//! | a reporter's clues, newest first | Query GSI1 `REPORTER#<hmac(openid)>`, descending | 1 per page |
//! | a bureau's inbox by state, next deadline first | Query GSI2 `INBOX#<bureau>#<state>` | 1 per page |
//! | deadlines due (or overdue) in `[from, to]` | Query GSI1 `DUE`, `gsi1sk BETWEEN` | 1 per 1 MB |
//! | reminders due in `[from, to]` | Query GSI2 `REMIND`, `gsi2sk BETWEEN` | 1 per 1 MB |
//! | timeline of a clue | Query `CLUE#<id>`, `begins_with(sk, "EV#")` | 1 per 1 MB |
//! | verify a timeline (head + entries) | Query `CLUE#<id>`, `sk BETWEEN "CLUE" AND "EV#~"` | 1 per 1 MB |
//! | merge group of a primary | GetItem primary + BatchGetItem members | 2 |
//! | messages of a clue | Query `CLUE#<id>`, `begins_with(sk, "MSG#")` | 1 |
//! | undelivered notices owed before `t` | Query GSI3 `OUTBOX`, `gsi3sk < t` | 1 per 1 MB |
//! | masked identity / reveal | GetItem `VAULT#<id>` (+ KMS Decrypt once per data key) | 1 |
//! | officer by Cognito `sub` / a bureau's officers | GetItem `OFFICER#<sub>` / Query GSI1 `BUREAU#<id>` | 1 |
//! | bureau / the whole directory | GetItem `BUREAU#<id>` / Query GSI1 `BUREAUS` (cached) | 1 / 1 per 1 MB |
//! | a city's scope versions and reporting notices | Query `SCOPE#<city>` (cached) | 1 |
//! | idempotency record | read with the clue in one BatchGetItem | 0 extra |
//! | statistics of a division for `[from, to]` | Query `STAT#<division>`, `sk BETWEEN DAY#from AND DAY#to` | 1 per 1 MB (≤ 366 items a year) |
//! | a division's counters for the figures of a range ([`domain::rollup::ReadPlan`]) | Query `STAT#<division>` `MONTH#…` up to the last whole month + ≤ 2 Queries of edge-month `DAY#…` | ≤ 3 (≈ 12 items a year) |
//! | issue a reminder (idempotent, with its outbox items) | Query `WXBIND#<bureau>` + `TransactWriteItems` | 2 |
//! | an officer's reminders newest first / unread count | Query GSI1 ×2 (own + bureau), `gsi1sk < cursor` / Query GSI2 `COUNT` ×2 | 2 / 2 |
//! | deliver a reminder to one officer | BatchGetItem + UpdateItem + `TransactWriteItems` | 3 |
//! | reminder deliveries never sent before `t` | Query GSI3 `REMINDER_OUTBOX` | 1 per 1 MB |
//!
//! Reminders and bindings in detail (every item, pattern and cost): [`reminders`].
//!
//! # Writes
//! - **Command** ([`ClueCommands::execute`]): BatchGetItem (clue + idempotency record, consistent),
//!   the domain decides, then one `TransactWriteItems` with: each touched clue's item (`Put`,
//!   condition `version = :expected`), its new timeline entries and message copies
//!   (`attribute_not_exists`), its deadline index items (put new/changed, delete closed), its
//!   outbox items, one `ADD` per statistics (cell, day) and one per (cell, month) — the month
//!   rollup — with the increments aggregated first (a transaction cannot touch an item twice),
//!   and the idempotency record
//!   (`attribute_not_exists`). Minimum: **2 requests**.
//! - **Receipt** ([`ClueCommands::receive`]): GetItem of the idempotency record, UpdateItem of the
//!   county's daily sequence (the clue number), one `TransactWriteItems` with the clue, its
//!   timeline, deadlines, receipt notice, vault item, counters and idempotency record. Minimum:
//!   **2 requests** (sequence + transaction), 3 as built.
//! - A lifecycle receive → judge (accept) → verify → 3 notices delivered is therefore at least
//!   2 + 2 + 2 + 3 × 2 = **12 requests**; the store makes 13 (plus, once per cold start, the
//!   directory Query, the city's scope Query and KMS `GenerateDataKey`). See the README's Figures.
//!
//! # Bounds
//! One transaction holds at most 100 items. A primary's decision writes about 5 items per merged
//! clue (state, 2 timeline entries, deadline, outbox) besides its own ~15, so a merge group is
//! limited to [`MAX_MERGE_MEMBERS`] members; a merge past it is refused with
//! [`StoreError::MergeGroupFull`], and any plan past 100 items with [`StoreError::TooLarge`].
//!
//! # Concurrency and retries
//! A version mismatch is [`StoreError::Conflict`]. A transaction cancelled because another was in
//! flight on a shared item (a statistics counter) is decided again, up to 5 times. A retry with
//! the same [`IdempotencyKey`] returns the first result (`replayed = true`); with a different
//! payload it is [`StoreError::IdempotencyMismatch`].
//!
//! # Layout
//! - [`keys`] — key builders for every item above.
//! - [`item`] — item <-> domain mapping ([`StoredClue`], [`DeadlineEntry`], [`OutboxEntry`], …).
//! - [`plan`] — the pure write plan of a command (changes, counters, transaction items).
//! - [`vault`] — reporter key (HMAC), envelope encryption (one data key per item, its clue as
//!   KMS encryption context), masking.
//! - [`idempotency`] — keys, fingerprints, records.
//! - [`meter`] — requests and consumed capacity, for the bench.
//! - [`model`] — submissions, outcomes, pages.
//! - [`delivery`] — what `notify` reads and writes: send-attempt records, delivery outcomes.
//! - [`attempt`] — one send attempt's record and pure transitions (notices and reminders alike).
//! - [`reporting`] — callback dedup, nonces, chat drafts, rate limits, block list, WeChat token ([`ReportingStore`]).
//! - [`push_nonce`] — WeChat push nonces with the body's digest (a retry is not a replay).
//! - [`attachments`] — evidence attachment records.
//! - [`console`] — officer account state and inbox counts for the officer console.
//! - [`reminders`] — officer reminders (console list, read state, WeChat deliveries).
//! - [`bindings`] — officers' WeChat bindings and their single-use binding codes.
//! - [`calendar`] — the working-day calendar's uploaded years and the cached current calendar.
//! - [`scope_filing`] — cities' scope versions as filed, the province's list, acknowledgment.
//! - [`supervision`] — 督办 index items and lists (by the supervising and the handling bureau).
//! - [`sweep`] — the deadline sweep's pending index, index clean-up and supervisors' overdue entries.
//! - [`roles`] — the role traits a function asks for ([`ClueStore`] is every role); each is
//!   implemented by both stores, and `tests/conformance` checks every method on both.
//! - [`dynamo`] — [`DynamoClueStore`] (commands, reads and directory in its submodules).
//! - [`memory`] — [`InMemoryClueStore`], the in-memory twin (every role, in its submodules).
//! - [`error`] — [`StoreError`].

pub mod accounts;
pub mod attachments;
pub mod attempt;
pub mod bindings;
pub mod bulletins;
pub mod calendar;
pub mod console;
pub mod delivery;
pub mod dynamo;
pub mod error;
pub mod exports;
pub mod idempotency;
pub mod item;
pub mod keys;
pub mod memory;
pub mod meter;
pub mod model;
pub mod plan;
pub mod push_nonce;
pub mod reminder_issuer;
pub mod reminders;
pub mod reporting;
pub mod roles;
pub mod scope_filing;
pub mod statistics;
pub mod supervision;
pub mod surge;
pub mod sweep;
pub mod vault;

pub use attachments::{Attachment, AttachmentSource, AttachmentStatus};
pub use attempt::{Attempt, AttemptState};
pub use bindings::WechatBinding;
pub use delivery::{Delivery, SendAttempt};
pub use dynamo::{DynamoClueStore, StoreConfig};
pub use error::StoreError;
pub use idempotency::IdempotencyKey;
pub use item::{DeadlineEntry, Message, OutboxEntry, StoredClue};
pub use memory::InMemoryClueStore;
pub use model::{CommandOutcome, Cursor, Page, PageRequest, Received, Submission};
pub use push_nonce::PushNonce;
pub use reminder_issuer::ReminderIssuer;
pub use reminders::{
    Issued, ReminderAttempt, ReminderCursor, ReminderDelivery, ReminderDeliveryStatus,
    ReminderOutboxEntry, ReminderPage, StoredReminder,
};
pub use reporting::{Block, BlockAudit, Claim, RateLimit, ReportingStore, StoredAccessToken};
pub use roles::{
    Accounts, BindingCodes, Bulletins, CalendarYears, ClueCommands, ClueReads, ClueStore, Console,
    DeadlineIndex, Directory, ExportJobs, IdentityVault, NoticeDeliveries, NoticeOutbox,
    ReminderDeliveries, Reminders, ScopeFilings, Scopes, StatDays, Statistics, SupervisionLists,
    SweepIndex,
};
pub use vault::{MaskedIdentity, ReporterIdentity, ReporterKeyer, ReporterKeys, VaultContext};

/// The most clues one primary may have merged into it (see "Bounds").
pub const MAX_MERGE_MEMBERS: usize = 15;
