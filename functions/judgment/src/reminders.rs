//! The officer console's reminder list (`/api/officer/reminders…`): newest first, paged, with
//! the unread count; one reminder (the deep link of a WeChat reminder); marking one read.

use api::{ApiError, Req, Resp};
use chrono::{DateTime, Utc};
use domain::calendar::shanghai_date;
use domain::notice::format_date;
use domain::{Officer, ReminderId};
use serde::Serialize;
use store::roles::*;
use store::{ReminderCursor, ReminderDeliveryStatus, StoredReminder};

use crate::store_error;

/// Reminders per page unless `limit` says otherwise.
pub const DEFAULT_LIMIT: i32 = 20;
/// The most a page holds.
pub const MAX_LIMIT: i32 = 100;

/// One reminder as the console shows it to `officer`.
#[derive(Debug, Serialize)]
pub struct ReminderView<'a> {
    pub id: &'a str,
    pub kind: &'static str,
    pub kind_label: &'static str,
    pub clue_id: &'a str,
    pub clue_no: &'a str,
    /// `None` for a reporter's new message (no deadline).
    pub deadline: Option<&'static str>,
    pub deadline_label: Option<&'static str>,
    pub due: Option<DateTime<Utc>>,
    /// The due day in Asia/Shanghai, as the text says it.
    pub due_date: Option<String>,
    pub created_at: DateTime<Utc>,
    pub text: &'a str,
    /// `bureau` (every officer of the bureau sees it) or `officer` (only this one).
    pub recipient: &'static str,
    pub read: bool,
    pub read_at: Option<DateTime<Utc>>,
    pub read_by: Option<&'a str>,
    /// `wechat` when pushed to bound officers, `console_only` when nobody could be reached.
    pub channel: &'static str,
    /// Where the WeChat push to this officer stands, when it went to them.
    pub my_delivery: Option<&'a ReminderDeliveryStatus>,
}

impl<'a> ReminderView<'a> {
    pub fn of(stored: &'a StoredReminder, officer: &Officer) -> Self {
        let r = &stored.reminder;
        Self {
            id: r.id.as_str(),
            kind: r.kind.code(),
            kind_label: r.kind.label(),
            clue_id: r.clue.as_str(),
            clue_no: r.clue_no.as_str(),
            deadline: r.deadline.map(|d| d.code()),
            deadline_label: r.deadline.map(|d| d.label()),
            due: r.due,
            due_date: r.due.map(|d| format_date(shanghai_date(d))),
            created_at: r.created_at,
            text: &r.text,
            recipient: match r.recipient {
                domain::reminder::ReminderRecipient::Bureau { .. } => "bureau",
                domain::reminder::ReminderRecipient::Officer { .. } => "officer",
            },
            read: stored.read_at.is_some(),
            read_at: stored.read_at,
            read_by: stored.read_by.as_ref().map(|o| o.as_str()),
            channel: stored.channel(),
            my_delivery: stored.deliveries.get(officer.id.as_str()),
        }
    }
}

#[derive(Serialize)]
struct Page<'a> {
    items: Vec<ReminderView<'a>>,
    next: Option<&'a str>,
    unread: u64,
}

fn limit_of(req: &Req) -> Result<i32, ApiError> {
    crate::overdue::page_limit(req, DEFAULT_LIMIT, MAX_LIMIT)
}

/// A reminder id from the path.
///
/// # Errors
/// 400 `invalid_reminder_id`.
pub fn reminder_id(s: &str) -> Result<ReminderId, ApiError> {
    ReminderId::parse(s).map_err(|_| ApiError::bad_request("invalid_reminder_id", "提醒编号无效"))
}

fn not_found() -> ApiError {
    ApiError::new(404, "reminder_not_found", "未找到该提醒")
}

/// `GET /api/officer/reminders[?limit=&cursor=]`.
pub async fn list<S: Reminders>(store: &S, officer: &Officer, req: &Req) -> Result<Resp, ApiError> {
    let limit = limit_of(req)?;
    let cursor = req
        .query("cursor")
        .map(|c| {
            ReminderCursor::parse(c)
                .map_err(|_| ApiError::bad_request("invalid_cursor", "分页参数无效"))
        })
        .transpose()?;
    let page = store
        .reminders_for(officer, limit, cursor.as_ref())
        .await
        .map_err(store_error)?;
    let unread = store.unread_reminders(officer).await.map_err(store_error)?;
    Ok(Resp::json(
        200,
        &Page {
            items: page
                .items
                .iter()
                .map(|s| ReminderView::of(s, officer))
                .collect(),
            next: page.next.as_ref().map(ReminderCursor::as_str),
            unread,
        },
    ))
}

/// `GET /api/officer/reminders/{id}`: 404 for a reminder this officer may not see.
pub async fn one<S: Reminders>(store: &S, officer: &Officer, id: &str) -> Result<Resp, ApiError> {
    let id = reminder_id(id)?;
    let stored = store
        .reminder(&id)
        .await
        .map_err(store_error)?
        .filter(|s| s.reminder.recipient.includes(officer))
        .ok_or_else(not_found)?;
    Ok(Resp::json(200, &ReminderView::of(&stored, officer)))
}

/// `POST /api/officer/reminders/{id}/read`: marks it read (for the whole bureau when it is the
/// bureau's); again changes nothing.
pub async fn read<S: Reminders>(
    store: &S,
    officer: &Officer,
    id: &str,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let id = reminder_id(id)?;
    let stored = store
        .mark_reminder_read(officer, &id, now)
        .await
        .map_err(|e| match e {
            store::StoreError::NotFound(_) => not_found(),
            e => store_error(e),
        })?;
    Ok(Resp::json(200, &ReminderView::of(&stored, officer)))
}
