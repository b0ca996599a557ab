//! The working-day calendar in the officer API: every officer sees the covered years and the
//! warning when next year has no data (from 1 November); an admin uploads a year, or amends
//! one, as the JSON document `infra/data/calendar/` defines, and the answer lists the open
//! deadlines it placed (resolved or moved).
//!
//! - `GET /api/officer/calendar` → `{years: [{year, source, origin, uploaded_at?}], next_year_missing, warning}`
//! - `PUT /api/officer/calendar/{year}` (admin) with the year's document → `{year, source,
//!   changed_days, deadlines: [{clue_id, clue_no, kind, from, due}], failed}`

use api::{ApiError, Resp};
use chrono::{DateTime, NaiveDate, Utc};
use domain::{CalendarError, Officer, Role, WorkingCalendar};
use serde_json::json;
use store::Directory;
use store::roles::*;

use crate::store_error;

/// The largest document accepted (a year's document is a few KB).
const MAX_DOCUMENT_BYTES: usize = 64 * 1024;

/// The Chinese warning shown while `year` has no data.
pub fn warning(year: i32) -> String {
    format!(
        "{year} 年的工作日历（国务院办公厅节假日安排通知）尚未录入：跨入 {year} 年的期限暂无法计算，请管理员尽快上传。"
    )
}

/// `GET /api/officer/calendar`.
///
/// # Errors
/// Store failures.
pub async fn show<S: CalendarYears + ClueCommands + DeadlineIndex + SweepIndex + Directory>(
    store: &S,
    _officer: &Officer,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let years = store.calendar_years().await.map_err(store_error)?;
    let calendar = store.calendar().await.map_err(store_error)?;
    let missing = calendar.next_year_missing(now);
    Ok(Resp::json(
        200,
        &json!({
            "years": years,
            "next_year_missing": missing,
            "warning": missing.map(warning),
        }),
    ))
}

/// `PUT /api/officer/calendar/{year}`: stores the year (new or amended) and places the open
/// deadlines it touches. 403 `not_admin` for other roles, `not_ministry_admin` for an admin
/// outside the ministry; 400 `invalid_year`,
/// `invalid_calendar` (with the reason), `year_mismatch`; 413 `too_large`. Nothing is stored
/// on a refusal.
///
/// # Errors
/// As listed; store failures.
pub async fn upload<S: CalendarYears + ClueCommands + DeadlineIndex + SweepIndex + Directory>(
    store: &S,
    officer: &Officer,
    year: &str,
    body: &[u8],
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    if !officer.has(Role::Admin) {
        return Err(ApiError::forbidden(
            "not_admin",
            "只有管理员可以上传工作日历",
        ));
    }
    // The working-day calendar is national: only the ministry's administrators change it.
    let bureaus = store.bureaus().await.map_err(store_error)?;
    let national = bureaus
        .get(&officer.bureau)
        .is_ok_and(|b| b.level == domain::BureauLevel::Ministry);
    if !national {
        return Err(ApiError::forbidden(
            "not_ministry_admin",
            "工作日历全国统一，只有自然资源部管理员可以上传",
        ));
    }
    let year: i32 = year
        .parse()
        .ok()
        .filter(|y| {
            (domain::calendar::FIRST_SUPPORTED_YEAR..=domain::calendar::LAST_SUPPORTED_YEAR)
                .contains(y)
        })
        .ok_or_else(|| ApiError::bad_request("invalid_year", "年份无效"))?;
    if body.len() > MAX_DOCUMENT_BYTES {
        return Err(ApiError::new(413, "too_large", "日历文件过大"));
    }
    let document = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("invalid_calendar", "日历文件不是 UTF-8 文本"))?;
    let parsed = WorkingCalendar::from_years([document]).map_err(|e| invalid(&e))?;
    if parsed.covered_years().ne([year]) {
        return Err(ApiError::bad_request(
            "year_mismatch",
            format!("文件中的年份与地址中的 {year} 不一致"),
        ));
    }
    let uploaded = store
        .put_calendar_year(document, &officer.id, now)
        .await
        .map_err(store_error)?;
    let changed: Vec<NaiveDate> = uploaded.before.changed_days(&uploaded.after, year);
    let placed = store::calendar::place_deadlines(store, &uploaded, now)
        .await
        .map_err(store_error)?;
    tracing::info!(
        year,
        changed_days = changed.len(),
        placed = placed.deadlines.len(),
        failed = placed.failed.len(),
        "calendar year uploaded"
    );
    Ok(Resp::json(
        200,
        &json!({
            "year": year,
            "source": uploaded.source,
            "changed_days": if uploaded.before.covered_years().any(|y| y == year) { Some(changed) } else { None },
            "deadlines": placed.deadlines,
            "failed": placed.failed,
        }),
    ))
}

/// 400 `invalid_calendar` with what is wrong (the document's own problem, never stored data).
fn invalid(e: &CalendarError) -> ApiError {
    let reason = match e {
        CalendarError::InvalidData { problem, .. } => match problem {
            domain::calendar::DataProblem::Json(j) => format!("格式不符：{j}"),
            other => other.to_string(),
        },
        other => other.to_string(),
    };
    ApiError::bad_request("invalid_calendar", format!("日历文件无效：{reason}"))
}
