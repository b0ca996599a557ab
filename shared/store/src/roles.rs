//! The store's roles: one trait per thing a function may ask of the store, so each function
//! names only the roles it uses. [`crate::DynamoClueStore`] and [`crate::InMemoryClueStore`]
//! implement every role; [`ClueStore`] is all of them together.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Arc;

use chrono::{DateTime, NaiveDate, Utc};
use domain::figures::DayCounters;
use domain::rollup::ReadPlan;
use domain::scope::{ScopeHistory, ScopeVersion};
use domain::text::Reason;
use domain::timeline::{Head, TimelineEntry};
use domain::{
    Actor, Bureau, BureauDirectory, BureauId, ClueId, ClueNo, Command, DivisionCode, Officer,
    OfficerId, ReporterKey,
};

use crate::accounts::{Account, AuditEntry, Challenge, Failure};
use crate::bulletins::{Received as BulletinReceived, Written};
use crate::calendar::{CalendarYear, Uploaded};
use crate::exports::ExportJob;
use crate::scope_filing::FiledScope;
use crate::supervision::{SupervisionEntry, SupervisionPage};
use crate::sweep::{OverdueEntry, OverduePage};
use crate::{
    CommandOutcome, DeadlineEntry, IdempotencyKey, MaskedIdentity, Message, OutboxEntry, Page,
    PageRequest, Received, ReminderCursor, ReminderOutboxEntry, ReminderPage, ReporterIdentity,
    StoreError, StoredClue, StoredReminder, Submission, WechatBinding,
};
use domain::event::DeliveryStatus;
use domain::{NoticeId, ReminderId};

use crate::{Delivery, ReminderAttempt, ReminderDelivery, ReminderDeliveryStatus, SendAttempt};

pub use crate::reminder_issuer::ReminderIssuer;
use domain::bulletin::{Bulletin, BulletinId, Receipt as BulletinReceipt};

/// Writes that decide in the domain: receive a clue, execute a command, reveal an identity.
pub trait ClueCommands: Send + Sync {
    /// Stores a new clue: allocates its `clue_no`, decides the receipt in the domain and writes the
    /// clue, its timeline, deadlines, the receipt notice (outbox), the encrypted identity and the
    /// counters in one transaction. A resubmission also links the earlier clue, atomically.
    ///
    /// # Errors
    /// [`StoreError::Domain`] when the domain refuses the submission (nothing is written, no number
    /// is taken); [`StoreError::IdempotencyMismatch`]; [`StoreError::Conflict`].
    fn receive(
        &self,
        submission: Submission,
        identity: ReporterIdentity,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<Received, StoreError>> + Send;

    /// Decides `command` on a clue and stores everything it changes atomically.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the clue (or a clue the command touches) changed since it was
    /// read; [`StoreError::Domain`] when refused; [`StoreError::IdempotencyMismatch`];
    /// [`StoreError::NotFound`]; [`StoreError::MergeGroupFull`].
    fn execute(
        &self,
        clue: &ClueId,
        command: Command,
        actor: &Actor,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<CommandOutcome, StoreError>> + Send;

    /// [`ClueCommands::execute`], refused with [`StoreError::Conflict`] unless the clue is still at
    /// `expected_version` (when given): the version the officer saw when deciding (If-Match).
    ///
    /// # Errors
    /// As [`ClueCommands::execute`].
    fn execute_if_version(
        &self,
        clue: &ClueId,
        expected_version: Option<u64>,
        command: Command,
        actor: &Actor,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<CommandOutcome, StoreError>> + Send;

    /// The reporter's identity in clear, for an officer of the handling bureau who gives a
    /// reason; the `identity_revealed` event is on the timeline before anything is decrypted.
    fn reveal(
        &self,
        id: &ClueId,
        officer: &Officer,
        reason: Reason,
        now: DateTime<Utc>,
        key: &IdempotencyKey,
    ) -> impl Future<Output = Result<ReporterIdentity, StoreError>> + Send;
}

/// Reads of clues: by id or number, a reporter's, a bureau's inbox, timelines, merge groups, messages.
pub trait ClueReads: Send + Sync {
    /// A clue by id (consistent read).
    fn clue(&self, id: &ClueId) -> impl Future<Output = Result<StoredClue, StoreError>> + Send;

    /// A clue by the number the reporter quotes.
    fn clue_by_no(
        &self,
        no: &ClueNo,
    ) -> impl Future<Output = Result<Option<StoredClue>, StoreError>> + Send;

    /// A reporter's clues, newest first.
    fn reporter_clues(
        &self,
        reporter: &ReporterKey,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<StoredClue>, StoreError>> + Send;

    /// A bureau's clues in `state` (a [`domain::ClueState::code`]); open ones by next deadline.
    fn inbox(
        &self,
        bureau: &BureauId,
        state: &str,
        page: PageRequest,
    ) -> impl Future<Output = Result<Page<StoredClue>, StoreError>> + Send;

    /// The timeline of a clue, in order.
    fn timeline(
        &self,
        id: &ClueId,
    ) -> impl Future<Output = Result<Vec<TimelineEntry>, StoreError>> + Send;

    /// Reads the timeline back and checks its hash chain against the head on the clue item.
    ///
    /// # Errors
    /// [`StoreError::Tampered`] for any edit, removal, insertion or reordering.
    fn verify_timeline(&self, id: &ClueId)
    -> impl Future<Output = Result<Head, StoreError>> + Send;

    /// A primary and the clues merged into it (primary first).
    fn merge_group(
        &self,
        primary: &ClueId,
    ) -> impl Future<Output = Result<Vec<StoredClue>, StoreError>> + Send;

    /// The messages about a clue, in order.
    fn messages(
        &self,
        id: &ClueId,
    ) -> impl Future<Output = Result<Vec<Message>, StoreError>> + Send;
}

/// The sparse deadline indexes the sweep reads.
pub trait DeadlineIndex: Send + Sync {
    /// Open deadlines due in `[from, to]` (from the beginning when `from` is `None`: every overdue
    /// deadline at `to`).
    fn deadlines_due(
        &self,
        from: Option<DateTime<Utc>>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<DeadlineEntry>, StoreError>> + Send;

    /// Open deadlines whose reminder instant is in `[from, to]`.
    fn reminders_due(
        &self,
        from: DateTime<Utc>,
        to: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<DeadlineEntry>, StoreError>> + Send;
}

/// Notices owed to reporters whose delivery is not final.
pub trait NoticeOutbox: Send + Sync {
    /// Notices owed before `owed_before` whose delivery is not final (queued or failed).
    fn undelivered_notices(
        &self,
        owed_before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<OutboxEntry>, StoreError>> + Send;
}

/// The reporter identity vault: the masked view and the openid notices go to.
pub trait IdentityVault: Send + Sync {
    /// The reporter's identity as every handling officer may see it.
    fn masked_identity(
        &self,
        id: &ClueId,
    ) -> impl Future<Output = Result<MaskedIdentity, StoreError>> + Send;

    /// The openid to push a clue's notices to (for `notify` only).
    fn recipient_openid(
        &self,
        id: &ClueId,
    ) -> impl Future<Output = Result<String, StoreError>> + Send;
}

/// Bureaus and officers.
pub trait Directory: Send + Sync {
    /// An officer by Cognito `sub`.
    fn officer(
        &self,
        id: &OfficerId,
    ) -> impl Future<Output = Result<Option<Officer>, StoreError>> + Send;

    /// A bureau's officers.
    fn bureau_officers(
        &self,
        bureau: &BureauId,
    ) -> impl Future<Output = Result<Vec<Officer>, StoreError>> + Send;

    /// Stores an officer.
    fn put_officer(&self, officer: &Officer)
    -> impl Future<Output = Result<(), StoreError>> + Send;

    /// A bureau by id.
    fn bureau(
        &self,
        id: &BureauId,
    ) -> impl Future<Output = Result<Option<Bureau>, StoreError>> + Send;

    /// Stores a bureau (validated).
    fn put_bureau(&self, bureau: &Bureau) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Every bureau (cached per cold start for a few minutes).
    fn bureaus(&self) -> impl Future<Output = Result<Arc<BureauDirectory>, StoreError>> + Send;
}

/// Cities' scope versions and their reporting notices.
pub trait Scopes: Send + Sync {
    /// A city's scope versions (the default when none was filed).
    fn scope_history(
        &self,
        city: DivisionCode,
    ) -> impl Future<Output = Result<ScopeHistory, StoreError>> + Send;

    /// The same, from this cold start's cache (at most [`crate::StoreConfig::cache_ttl`] old; a version
    /// added through this store is seen at once). For showing the notice in the chat: filing
    /// checks the consented version again against a fresh read when it differs.
    fn scope_history_cached(
        &self,
        city: DivisionCode,
    ) -> impl Future<Output = Result<Arc<ScopeHistory>, StoreError>> + Send;

    /// Adds a city's next scope version, with its reporting notice.
    fn add_scope_version(
        &self,
        version: ScopeVersion,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The statistics counters.
pub trait Statistics: Send + Sync {
    /// The sum of a territory cell's counters over the days `[from, to]`, by metric code.
    fn read_stats(
        &self,
        cell: &DivisionCode,
        from: NaiveDate,
        to: NaiveDate,
    ) -> impl Future<Output = Result<BTreeMap<String, i64>, StoreError>> + Send;

    /// A cell's counters as `plan` reads them: its month rollups keyed by their first day and
    /// its day counters, so [`domain::figures`] gives the figures of the plan's periods from
    /// about 12 items a year instead of 365.
    fn read_counters(
        &self,
        cell: &DivisionCode,
        plan: &ReadPlan,
    ) -> impl Future<Output = Result<DayCounters, StoreError>> + Send;

    /// [`Statistics::read_counters`] of several cells, read together.
    fn read_counters_of(
        &self,
        cells: &[(DivisionCode, ReadPlan)],
    ) -> impl Future<Output = Result<BTreeMap<DivisionCode, DayCounters>, StoreError>> + Send {
        let reads = cells.iter().map(move |(cell, plan)| async move {
            self.read_counters(cell, plan).await.map(|c| (*cell, c))
        });
        async move {
            Ok(futures_util::future::try_join_all(reads)
                .await?
                .into_iter()
                .collect())
        }
    }
}

/// Officers' WeChat binding codes, redeemed from the chat.
pub trait BindingCodes: Send + Sync {
    /// Stores a binding code for `officer`, redeemable until the returned instant.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] if the code exists already (draw another).
    fn issue_binding_code(
        &self,
        officer: &Officer,
        code: &domain::wechat_binding::BindingCode,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<DateTime<Utc>, StoreError>> + Send;

    /// Redeems a binding code for the WeChat user `openid` (the chat's "绑定 <code>"): the code
    /// is used once, and the officer's binding (the openid sealed) replaces any earlier one, at
    /// once.
    ///
    /// # Errors
    /// The inner [`domain::wechat_binding::BindingError`] for an unknown, expired or used code
    /// (nothing bound); store errors outside.
    fn redeem_binding_code(
        &self,
        code: &domain::wechat_binding::BindingCode,
        openid: &str,
        now: DateTime<Utc>,
    ) -> impl Future<
        Output = Result<Result<OfficerId, domain::wechat_binding::BindingError>, StoreError>,
    > + Send;

    /// An officer's binding, masked.
    fn wechat_binding(
        &self,
        officer: &OfficerId,
    ) -> impl Future<Output = Result<Option<WechatBinding>, StoreError>> + Send;

    /// Removes an officer's binding; whether there was one.
    fn unbind_wechat(
        &self,
        officer: &OfficerId,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;
}

/// The working-day calendar as run-time data ([`crate::calendar`]): built-in years with the
/// uploaded ones over them. Commands count deadlines on this calendar.
pub trait CalendarYears: Send + Sync {
    /// The current calendar (cached for [`crate::calendar::CALENDAR_TTL`] at most).
    ///
    /// # Errors
    /// A read failure, or a stored year that is not a valid document.
    fn calendar(
        &self,
    ) -> impl Future<Output = Result<Arc<domain::WorkingCalendar>, StoreError>> + Send;

    /// Every covered year with its source and origin, ascending (read fresh).
    ///
    /// # Errors
    /// As [`CalendarYears::calendar`].
    fn calendar_years(&self) -> impl Future<Output = Result<Vec<CalendarYear>, StoreError>> + Send;

    /// Stores a year's document (a new year, or an amendment replacing the year), checked as
    /// the built-in data is, and returns the calendar before and after; this store sees the
    /// year at once.
    ///
    /// # Errors
    /// [`StoreError::Domain`] for an invalid document, [`StoreError::Invalid`] for a document
    /// of more or less than one year (nothing is stored); store errors.
    fn put_calendar_year(
        &self,
        document: &str,
        by: &OfficerId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Uploaded, StoreError>> + Send;
}

/// What the deadline sweep reads and writes besides commands ([`crate::sweep`]).
pub trait SweepIndex: Send + Sync {
    /// Open deadlines without a due instant (their year had no calendar data), oldest first.
    fn pending_deadlines(
        &self,
    ) -> impl Future<Output = Result<Vec<DeadlineEntry>, StoreError>> + Send;

    /// Takes a deadline out of the reminder index once its reminder is issued; `false` when the
    /// entry had already changed or gone (another sweep, or the deadline moved or closed).
    fn reminded(
        &self,
        entry: &DeadlineEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Takes an overdue deadline whose miss is not recorded (not reported: escalation) out of
    /// the due and reminder indexes; `false` when the entry had already changed or gone.
    fn leave_due_index(
        &self,
        entry: &DeadlineEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Writes the overdue entry for its supervising bureau, once: `false` when it exists.
    fn put_overdue_entry(
        &self,
        entry: &OverdueEntry,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The overdue entries of the bureaus below `supervisor`, latest due first, `limit`
    /// (1..=100) a page, from `cursor` (a previous page's `next`).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a foreign cursor; store errors.
    fn overdue_entries(
        &self,
        supervisor: &BureauId,
        limit: i32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<OverduePage, StoreError>> + Send;
}

/// Officer reminders: issued once per id with one WeChat delivery per bound officer, listed,
/// counted and read in the console ([`crate::reminders`]).
pub trait Reminders: ReminderIssuer {
    /// A reminder by id.
    fn reminder(
        &self,
        id: &ReminderId,
    ) -> impl Future<Output = Result<Option<StoredReminder>, StoreError>> + Send;

    /// The reminders `officer` sees (their own and their bureau's), newest first, `limit`
    /// (1..=100) a page, starting below `cursor`.
    fn reminders_for(
        &self,
        officer: &Officer,
        limit: i32,
        cursor: Option<&ReminderCursor>,
    ) -> impl Future<Output = Result<ReminderPage, StoreError>> + Send;

    /// How many reminders `officer` sees that are unread.
    fn unread_reminders(
        &self,
        officer: &Officer,
    ) -> impl Future<Output = Result<u64, StoreError>> + Send;

    /// Marks a reminder read by `officer` (once; marking again changes nothing). Read state is
    /// per reminder: a bureau's reminder read by one officer is read for all of them.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when it does not exist or is not `officer`'s to see.
    fn mark_reminder_read(
        &self,
        officer: &Officer,
        id: &ReminderId,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<StoredReminder, StoreError>> + Send;

    /// Reminder deliveries created before `before` whose WeChat send is not final.
    fn undelivered_reminders(
        &self,
        before: DateTime<Utc>,
    ) -> impl Future<Output = Result<Vec<ReminderOutboxEntry>, StoreError>> + Send;
}

/// What the officer console reads besides clues ([`crate::console`]).
pub trait Console: Send + Sync {
    /// The officer of `id` and whether the account is active (disabled by account
    /// administration: not active). `None` for an unknown subject.
    fn officer_account_state(
        &self,
        id: &OfficerId,
    ) -> impl Future<Output = Result<Option<(Officer, bool)>, StoreError>> + Send;

    /// How many clues `bureau`'s inbox holds in each state of [`crate::console::INBOX_STATES`].
    fn inbox_counts(
        &self,
        bureau: &BureauId,
    ) -> impl Future<Output = Result<BTreeMap<&'static str, u64>, StoreError>> + Send;
}

/// 督办 lists ([`crate::supervision`]): each supervision of a clue, listed for the bureau that
/// opened it and, while open, for the bureau that must answer it.
pub trait SupervisionLists: Send + Sync {
    /// The supervisions `bureau` opened, newest first, `limit` (1..=100) a page, from `cursor`
    /// (a previous page's `next`).
    ///
    /// # Errors
    /// [`StoreError::Invalid`] for a foreign cursor; store errors.
    fn supervisions_by(
        &self,
        bureau: &BureauId,
        limit: i32,
        cursor: Option<&str>,
    ) -> impl Future<Output = Result<SupervisionPage, StoreError>> + Send;

    /// The open supervisions of clues `bureau` handles, earliest due day first.
    fn supervisions_of(
        &self,
        bureau: &BureauId,
    ) -> impl Future<Output = Result<Vec<SupervisionEntry>, StoreError>> + Send;
}

/// Scope filing ([`crate::scope_filing`]): a city's versions as filed, the province's list,
/// acknowledgment.
pub trait ScopeFilings: Send + Sync {
    /// The stored (filed) versions of `city`, oldest first (the default version 1 is implicit).
    fn filed_scopes(
        &self,
        city: &DivisionCode,
    ) -> impl Future<Output = Result<Vec<FiledScope>, StoreError>> + Send;

    /// The filings of the cities of `province`, newest effective time first.
    fn province_filings(
        &self,
        province: &DivisionCode,
    ) -> impl Future<Output = Result<Vec<FiledScope>, StoreError>> + Send;

    /// Records `officer`'s acknowledgment of `city`'s version `version` at `now`; a second
    /// acknowledgment keeps the first. Returns the filing as stored after.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for a version that was never filed; store errors.
    fn acknowledge_filing(
        &self,
        city: &DivisionCode,
        version: u32,
        officer: &Officer,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<FiledScope, StoreError>> + Send;
}

/// 通报 bulletins ([`crate::bulletins`]): versioned bulletins, their recipients from issue on,
/// and the recipients' read receipts.
pub trait Bulletins: Send + Sync {
    /// Stores a new bulletin once: [`Written::Replayed`] when its id (derived from the key)
    /// exists already.
    fn create_bulletin(
        &self,
        b: &Bulletin,
        key: &str,
    ) -> impl Future<Output = Result<Written, StoreError>> + Send;

    /// The bulletin `id` and the key of its last change, if it exists.
    fn bulletin(
        &self,
        id: &BulletinId,
    ) -> impl Future<Output = Result<Option<(Bulletin, String)>, StoreError>> + Send;

    /// Replaces the bulletin read at version `seen` with `b` (its next version), recording
    /// `key` as the change's key. Issuing also stores one recipient per recipient bureau, at
    /// once.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the stored version is no longer `seen` (or a recipient
    /// exists already); store errors.
    fn update_bulletin(
        &self,
        b: &Bulletin,
        seen: u64,
        key: &str,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The bulletins `issuer` generated, newest first (at most [`crate::bulletins::MAX_LIST`]).
    fn bulletins_of(
        &self,
        issuer: &BureauId,
    ) -> impl Future<Output = Result<Vec<Bulletin>, StoreError>> + Send;

    /// The bulletins issued to `bureau`, newest issued first (at most
    /// [`crate::bulletins::MAX_LIST`]), with its receipt.
    fn bulletins_to(
        &self,
        bureau: &BureauId,
    ) -> impl Future<Output = Result<Vec<BulletinReceived>, StoreError>> + Send;

    /// Records that `officer` of `bureau` read bulletin `id`, the first time only: `true` when
    /// this read was the first.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] when the bureau is no recipient; store errors.
    fn record_bulletin_read(
        &self,
        id: &BulletinId,
        bureau: &BureauId,
        officer: &OfficerId,
        at: DateTime<Utc>,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The read receipts of bulletin `id`, by recipient bureau (`None`: not read yet).
    fn bulletin_receipts(
        &self,
        id: &BulletinId,
    ) -> impl Future<Output = Result<Vec<(BureauId, Option<BulletinReceipt>)>, StoreError>> + Send;
}

/// Asynchronous export jobs ([`crate::exports`]): created by the officer API, advanced by the
/// export worker, never after they ended.
pub trait ExportJobs: Send + Sync {
    /// Stores a queued job once: `false` when a job of that id exists already (a retry).
    fn create_export_job(
        &self,
        job: &ExportJob,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The job `id`, if any.
    fn export_job(
        &self,
        id: &str,
    ) -> impl Future<Output = Result<Option<ExportJob>, StoreError>> + Send;

    /// Records the job's progress (`running`, `rows` written), unless it already ended.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when the job is ready or failed (or gone); store errors.
    fn export_progress(
        &self,
        id: &str,
        rows: u64,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Marks the job ready with its file (`file_key`), or failed (`None`).
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when it already ended; store errors.
    fn export_done(
        &self,
        id: &str,
        rows: u64,
        file_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// The day counters a statistics dashboard reads ([`crate::statistics`]).
pub trait StatDays: Send + Sync {
    /// A territory cell's counters for every day up to `to` (inclusive), by day.
    fn stat_days(
        &self,
        cell: &DivisionCode,
        to: NaiveDate,
    ) -> impl Future<Output = Result<DayCounters, StoreError>> + Send;

    /// [`StatDays::stat_days`] of several cells.
    fn stat_days_of(
        &self,
        cells: &[DivisionCode],
        to: NaiveDate,
    ) -> impl Future<Output = Result<BTreeMap<DivisionCode, DayCounters>, StoreError>> + Send;
}

/// What `notify` reads and writes to deliver a notice exactly once ([`crate::delivery`]).
pub trait NoticeDeliveries: Send + Sync {
    /// The notice, its clue, its send-attempt record and the recipient's openid.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown clue, notice or identity.
    fn delivery(
        &self,
        clue: &ClueId,
        notice: &NoticeId,
    ) -> impl Future<Output = Result<Delivery, StoreError>> + Send;

    /// Records that `attempt` begins, unless the record moved past `previous`.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when another instance is on the notice (do not send).
    fn begin_attempt(
        &self,
        previous: Option<&SendAttempt>,
        attempt: &SendAttempt,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the attempt's outcome and, when `status` is given, the delivery on the clue's
    /// timeline (unless its delivery is already final), at once, conditioned on the attempt
    /// still being this one.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when another attempt took over.
    fn finish_attempt(
        &self,
        delivery: &Delivery,
        attempt: &SendAttempt,
        status: Option<DeliveryStatus>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// What `notify` reads and writes to deliver a reminder to one officer exactly once
/// ([`crate::reminders`]).
pub trait ReminderDeliveries: Send + Sync {
    /// The reminder, one officer's delivery record and their openid (`None` once unbound).
    ///
    /// # Errors
    /// [`StoreError::NotFound`] for an unknown reminder or delivery.
    fn reminder_delivery(
        &self,
        id: &ReminderId,
        officer: &OfficerId,
    ) -> impl Future<Output = Result<ReminderDelivery, StoreError>> + Send;

    /// Records that `attempt` begins on `delivery`, unless another attempt began since it was
    /// read.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when another instance is on this delivery (do not send).
    fn begin_reminder_attempt(
        &self,
        delivery: &ReminderDelivery,
        attempt: &ReminderAttempt,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Records the outcome of `attempt` and `status` on the delivery (leaving the reminder
    /// outbox when final) and in the reminder's deliveries, at once, conditioned on the attempt
    /// still being this one.
    ///
    /// # Errors
    /// [`StoreError::Conflict`] when another attempt took over.
    fn finish_reminder_attempt(
        &self,
        delivery: &ReminderDelivery,
        attempt: &ReminderAttempt,
        status: &ReminderDeliveryStatus,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;
}

/// Officers' sign-in accounts, refresh tokens, challenges and the account audit log
/// ([`crate::accounts`]).
pub trait Accounts: Send + Sync {
    /// Creates an officer with its sign-in account, whose password must be changed at first
    /// sign-in. `false` when the user name or the officer id is taken (nothing written).
    fn create_officer_account(
        &self,
        officer: &Officer,
        username: &str,
        password_hash: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// The account signing in with `username`, if any.
    fn account_by_username(
        &self,
        username: &str,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The account of officer `id`, if any.
    fn account(
        &self,
        id: &OfficerId,
    ) -> impl Future<Output = Result<Option<Account>, StoreError>> + Send;

    /// The officer `id` if it exists and is not disabled.
    fn active_officer(
        &self,
        id: &OfficerId,
    ) -> impl Future<Output = Result<Option<Officer>, StoreError>> + Send;

    /// The officer `id`, disabled or not (account administration).
    fn officer_of_any_state(
        &self,
        id: &OfficerId,
    ) -> impl Future<Output = Result<Option<Officer>, StoreError>> + Send;

    /// Disables (`true`) or enables an officer; `false` when there is no such officer. Storing
    /// the officer again ([`Directory::put_officer`]) enables it.
    fn set_officer_disabled(
        &self,
        id: &OfficerId,
        disabled: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Counts a failed sign-in; the `max`-th consecutive failure locks the account until
    /// `now + lock_for` (whole seconds) and starts the count again.
    ///
    /// # Errors
    /// [`StoreError::NotFound`] without an account.
    fn record_sign_in_failure(
        &self,
        id: &OfficerId,
        now: DateTime<Utc>,
        max: u32,
        lock_for: chrono::Duration,
    ) -> impl Future<Output = Result<Failure, StoreError>> + Send;

    /// Records a sign-in with TOTP step `step`: failures cleared, lock lifted. `false` when the
    /// step was used already (a replayed code) or there is no account.
    fn record_sign_in_success(
        &self,
        id: &OfficerId,
        step: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Sets the password hash and whether it must be changed; `false` without an account.
    fn set_password(
        &self,
        id: &OfficerId,
        password_hash: &str,
        must_change: bool,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Stores a TOTP secret awaiting its first code; `false` without an account.
    fn set_totp_pending(
        &self,
        id: &OfficerId,
        secret: &str,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Enrols the pending secret `secret` with its first code's step; `false` unless it is the
    /// pending one and the step is new.
    fn confirm_totp(
        &self,
        id: &OfficerId,
        secret: &str,
        step: u64,
    ) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Removes the TOTP enrolment (and the lock); `false` without an account.
    fn reset_totp(&self, id: &OfficerId) -> impl Future<Output = Result<bool, StoreError>> + Send;

    /// Stores a refresh token (by its hash) for `id` until `expires_at` (whole seconds).
    fn put_refresh_token(
        &self,
        token: &str,
        id: &OfficerId,
        expires_at: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Uses a refresh token once: its officer while it is unused and unexpired at `now`.
    fn take_refresh_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<Option<OfficerId>, StoreError>> + Send;

    /// Stores a sign-in challenge (by its token's hash).
    fn put_challenge(
        &self,
        token: &str,
        challenge: &Challenge,
    ) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// Takes a challenge once (the caller checks its expiry).
    fn take_challenge(
        &self,
        token: &str,
    ) -> impl Future<Output = Result<Option<Challenge>, StoreError>> + Send;

    /// Appends an audit entry.
    fn audit(&self, entry: &AuditEntry) -> impl Future<Output = Result<(), StoreError>> + Send;

    /// The audit entries of one UTC day, oldest first (instants to the millisecond).
    fn audit_of_day(
        &self,
        day: NaiveDate,
    ) -> impl Future<Output = Result<Vec<AuditEntry>, StoreError>> + Send;
}

/// A shared store delivers as the store (a handler may hold it by reference).
impl<T: NoticeDeliveries> NoticeDeliveries for &T {
    fn delivery(
        &self,
        clue: &ClueId,
        notice: &NoticeId,
    ) -> impl Future<Output = Result<Delivery, StoreError>> + Send {
        (**self).delivery(clue, notice)
    }

    fn begin_attempt(
        &self,
        previous: Option<&SendAttempt>,
        attempt: &SendAttempt,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).begin_attempt(previous, attempt)
    }

    fn finish_attempt(
        &self,
        delivery: &Delivery,
        attempt: &SendAttempt,
        status: Option<DeliveryStatus>,
        now: DateTime<Utc>,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).finish_attempt(delivery, attempt, status, now)
    }
}

/// A shared store delivers reminders as the store.
impl<T: ReminderDeliveries> ReminderDeliveries for &T {
    fn reminder_delivery(
        &self,
        id: &ReminderId,
        officer: &OfficerId,
    ) -> impl Future<Output = Result<ReminderDelivery, StoreError>> + Send {
        (**self).reminder_delivery(id, officer)
    }

    fn begin_reminder_attempt(
        &self,
        delivery: &ReminderDelivery,
        attempt: &ReminderAttempt,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).begin_reminder_attempt(delivery, attempt)
    }

    fn finish_reminder_attempt(
        &self,
        delivery: &ReminderDelivery,
        attempt: &ReminderAttempt,
        status: &ReminderDeliveryStatus,
    ) -> impl Future<Output = Result<(), StoreError>> + Send {
        (**self).finish_reminder_attempt(delivery, attempt, status)
    }
}

/// Every role: what a composition root that needs the whole store asks for.
pub trait ClueStore:
    ClueCommands
    + ClueReads
    + DeadlineIndex
    + NoticeOutbox
    + IdentityVault
    + Directory
    + Scopes
    + Statistics
    + BindingCodes
    + CalendarYears
    + SweepIndex
    + Reminders
    + Console
    + SupervisionLists
    + ScopeFilings
    + Bulletins
    + ExportJobs
    + StatDays
    + NoticeDeliveries
    + ReminderDeliveries
    + Accounts
{
}

impl<T> ClueStore for T where
    T: ClueCommands
        + ClueReads
        + DeadlineIndex
        + NoticeOutbox
        + IdentityVault
        + Directory
        + Scopes
        + Statistics
        + BindingCodes
        + CalendarYears
        + SweepIndex
        + Reminders
        + Console
        + SupervisionLists
        + ScopeFilings
        + Bulletins
        + ExportJobs
        + StatDays
        + NoticeDeliveries
        + ReminderDeliveries
        + Accounts
{
}
