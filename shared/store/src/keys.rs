//! Key builders of the one table. Every `pk`/`sk`/`gsi*` value is built here, so the design in
//! the crate docs and the code cannot drift apart.

use chrono::{DateTime, NaiveDate, SecondsFormat, Utc};
use domain::deadline::DeadlineKind;
use domain::reminder::ReminderRecipient;
use domain::{BureauId, ClueId, ClueNo, DivisionCode, OfficerId, ReminderId, ReporterKey};

pub const PK: &str = "pk";
pub const SK: &str = "sk";
pub const GSI1: &str = "GSI1";
pub const GSI2: &str = "GSI2";
pub const GSI3: &str = "GSI3";
pub const GSI1PK: &str = "gsi1pk";
pub const GSI1SK: &str = "gsi1sk";
pub const GSI2PK: &str = "gsi2pk";
pub const GSI2SK: &str = "gsi2sk";
pub const GSI3PK: &str = "gsi3pk";
pub const GSI3SK: &str = "gsi3sk";
pub const EXPIRES_AT: &str = "expires_at";
/// A month rollup's revision: +1 with every change, so the backfill's conditional write sees
/// any change since its read (no ABA: gauges move both ways).
pub const ROLLUP_REV: &str = "rollup_rev";

/// Sort key of a clue's state item.
pub const SK_CLUE: &str = "CLUE";
/// Sort key prefix of timeline entries (`EV#<seq, 10 digits>`).
pub const SK_EVENT: &str = "EV#";
/// Sort key prefix of open-deadline index items.
pub const SK_DEADLINE: &str = "DL#";
/// Sort key prefix of outbox (notice) items.
pub const SK_NOTICE: &str = "NOTICE#";
/// Sort key prefix of message items.
pub const SK_MESSAGE: &str = "MSG#";
/// Sort key prefix of a notice's send-attempt record (`SEND#<notice id>`), written by `notify`.
pub const SK_SEND: &str = "SEND#";
/// GSI1 partition of deadlines by due instant (sparse: open deadlines with a known due whose
/// miss is not recorded).
pub const DUE: &str = "DUE";
/// GSI2 partition of deadlines by reminder instant (same sparse set; the sweep takes an entry
/// out once it has reminded).
pub const REMIND: &str = "REMIND";
/// GSI1 partition of open deadlines without a due instant yet (the calendar lacks their year),
/// by start.
pub const PENDING: &str = "PENDING";
/// GSI1 partition of open deadlines whose miss is recorded, by due instant.
pub const MISSED: &str = "MISSED";
/// GSI3 partition of undelivered notices (sparse: queued or failed only).
pub const OUTBOX: &str = "OUTBOX";
/// GSI1 partition listing every bureau.
pub const BUREAUS: &str = "BUREAUS";

/// A sortable UTC instant: fixed width, millisecond precision, `Z`.
pub fn instant(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

pub fn pk_clue(id: &ClueId) -> String {
    format!("CLUE#{id}")
}

pub fn sk_event(seq: u64) -> String {
    format!("{SK_EVENT}{seq:010}")
}

pub fn sk_deadline(kind: DeadlineKind, starts_at: DateTime<Utc>) -> String {
    format!("{SK_DEADLINE}{}#{}", kind.code(), instant(starts_at))
}

pub fn sk_notice(id: &str) -> String {
    format!("{SK_NOTICE}{id}")
}

pub fn sk_send(notice: &str) -> String {
    format!("{SK_SEND}{notice}")
}

pub fn sk_message(seq: u64) -> String {
    format!("{SK_MESSAGE}{seq:010}")
}

pub fn gsi_reporter(reporter: &ReporterKey) -> String {
    format!("REPORTER#{}", reporter.as_str())
}

pub fn gsi_inbox(bureau: &BureauId, state: &str) -> String {
    format!("INBOX#{bureau}#{state}")
}

pub fn gsi_clue_no(no: &ClueNo) -> String {
    format!("CLUENO#{no}")
}

pub fn pk_vault(id: &ClueId) -> String {
    format!("VAULT#{id}")
}

pub const SK_VAULT: &str = "VAULT";

pub fn pk_officer(id: &OfficerId) -> String {
    format!("OFFICER#{id}")
}

pub const SK_OFFICER: &str = "OFFICER";

pub fn gsi_bureau_officers(bureau: &BureauId) -> String {
    format!("BUREAU#{bureau}")
}

pub fn pk_bureau(id: &BureauId) -> String {
    format!("BUREAU#{id}")
}

pub const SK_BUREAU: &str = "BUREAU";

pub fn pk_scope(city: &DivisionCode) -> String {
    format!("SCOPE#{city}")
}

pub fn sk_scope(version: u32) -> String {
    format!("V#{version:06}")
}

pub fn pk_idempotency(key: &str) -> String {
    format!("IDEM#{key}")
}

pub const SK_IDEMPOTENCY: &str = "IDEM";

pub fn pk_stat(cell: &DivisionCode) -> String {
    format!("STAT#{cell}")
}

pub fn sk_day(day: NaiveDate) -> String {
    format!("DAY#{}", day.format("%Y-%m-%d"))
}

/// Sort key of a statistics cell's month rollup (`MONTH#yyyy-mm`), for the month holding `day`.
pub fn sk_month(day: NaiveDate) -> String {
    format!("MONTH#{}", day.format("%Y-%m"))
}

/// The first day of the month of a month rollup's sort key.
pub fn month_of_sk(sk: &str) -> Option<NaiveDate> {
    let ym = sk.strip_prefix("MONTH#")?;
    NaiveDate::parse_from_str(&format!("{ym}-01"), "%Y-%m-%d").ok()
}

/// The day of a day counter's sort key.
pub fn day_of_sk(sk: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(sk.strip_prefix("DAY#")?, "%Y-%m-%d").ok()
}

pub fn pk_sequence(division: &DivisionCode) -> String {
    format!("SEQ#{division}")
}

/// Sort key of a reminder's item.
pub const SK_REMINDER: &str = "REMINDER";
/// Sort key prefix of a reminder's WeChat delivery to one officer (`TO#<sub>`).
pub const SK_REMINDER_TO: &str = "TO#";
/// Sort key of an officer's WeChat binding (beside `OFFICER#<sub>`/`OFFICER`).
pub const SK_WXBIND: &str = "WXBIND";
/// Sort key of a binding code.
pub const SK_WXCODE: &str = "WXCODE";
/// GSI3 partition of reminder deliveries not final (sparse, like `OUTBOX` for notices).
pub const REMINDER_OUTBOX: &str = "REMINDER_OUTBOX";

pub fn pk_reminder(id: &ReminderId) -> String {
    format!("REMINDER#{id}")
}

pub fn sk_reminder_to(officer: &OfficerId) -> String {
    format!("{SK_REMINDER_TO}{officer}")
}

/// GSI1 partition of a recipient's reminders (sorted by `<created_at>#<id>`).
pub fn gsi_reminders(recipient: &ReminderRecipient) -> String {
    format!("REMINDERS#{}", recipient.code())
}

/// GSI2 partition of a recipient's unread reminders (sparse: removed when read).
pub fn gsi_unread(recipient: &ReminderRecipient) -> String {
    format!("UNREAD#{}", recipient.code())
}

/// GSI1 partition of a bureau's officers with a WeChat binding.
pub fn gsi_bound_officers(bureau: &BureauId) -> String {
    format!("WXBIND#{bureau}")
}

/// A binding code's item, by the SHA-256 of the code (the code itself is not stored).
pub fn pk_binding_code(code_hash: &str) -> String {
    format!("WXCODE#{code_hash}")
}

/// A list's cursor as a client sent it back: a sort key of that list (`<…>#<…>`, at most 200
/// bytes), used as the exclusive upper bound of the next page.
///
/// # Errors
/// [`crate::StoreError::Invalid`] for anything else.
pub fn sort_key_cursor(cursor: Option<&str>) -> Result<Option<&str>, crate::StoreError> {
    match cursor {
        Some(c) if c.len() > 200 || !c.contains('#') => Err(crate::StoreError::Invalid("cursor")),
        c => Ok(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn instants_sort_as_text() {
        let a = Utc
            .with_ymd_and_hms(2026, 3, 9, 2, 0, 0)
            .single()
            .expect("t");
        let b = a + chrono::Duration::milliseconds(1);
        let c = Utc
            .with_ymd_and_hms(2026, 11, 1, 0, 0, 0)
            .single()
            .expect("t");
        assert_eq!(instant(a), "2026-03-09T02:00:00.000Z");
        assert!(instant(a) < instant(b) && instant(b) < instant(c));
        assert!(sk_event(9) < sk_event(10));
    }
}
