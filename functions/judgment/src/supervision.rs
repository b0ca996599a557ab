//! 督办 lists (`GET /api/officer/supervisions`): with `role=by`, the supervisions the caller's
//! bureau opened, newest first, with the handling bureau's answers; with `role=answer`, the open
//! supervisions of clues the caller's bureau handles, earliest due first (the console's banner).
//!
//! Supervising a division (`POST /api/officer/supervisions`): an upper bureau puts a lower
//! bureau's open clues (all of them, or only those past a deadline) under supervision at once,
//! with one due day and note — each clue gets its own supervision, answered and tracked like a
//! single one. At most [`DIVISION_MAX`] clues a request; clues already supervised are skipped;
//! a retry with the same `Idempotency-Key` supervises nothing twice.

use api::{ApiError, Req, Resp};
use chrono::{DateTime, NaiveDate, Utc};
use domain::text::Reason;
use domain::{Actor, BureauId, Clue, Command, Officer, Role};
use serde::Deserialize;
use serde_json::json;
use store::roles::*;
use store::supervision::SupervisionEntry;
use store::{IdempotencyKey, PageRequest, StoreError};

use crate::store_error;

/// The most clues one division supervision covers.
pub const DIVISION_MAX: usize = 200;

/// `GET /api/officer/supervisions?role=by|answer&limit=&cursor=`.
///
/// # Errors
/// 400 `invalid_role` / `invalid_limit` / `invalid_cursor`; store failures.
pub async fn list<S: SupervisionLists + ClueCommands + ClueReads + Directory>(
    store: &S,
    officer: &Officer,
    req: &Req,
) -> Result<Resp, ApiError> {
    let limit = crate::overdue::page_limit(
        req,
        crate::overdue::DEFAULT_LIMIT,
        crate::overdue::MAX_LIMIT,
    )?;
    let (items, next) = match req.query("role").unwrap_or("by") {
        "by" => {
            let page = store
                .supervisions_by(&officer.bureau, limit, req.query("cursor"))
                .await
                .map_err(|e| match e {
                    store::StoreError::Invalid(_) => {
                        ApiError::bad_request("invalid_cursor", "分页参数无效")
                    }
                    e => store_error(e),
                })?;
            (page.items, page.next)
        }
        "answer" => {
            let mut items = store
                .supervisions_of(&officer.bureau)
                .await
                .map_err(store_error)?;
            // A recused officer does not see the clue (art. 18), nor its supervision.
            items.retain(|e| !e.recused.contains(&officer.id));
            (items, None)
        }
        _ => {
            return Err(ApiError::bad_request(
                "invalid_role",
                "role 应为 by 或 answer",
            ));
        }
    };
    let bureaus = store.bureaus().await.map_err(store_error)?;
    Ok(Resp::json(
        200,
        &json!({ "items": items.iter().map(|e| view(e, &bureaus)).collect::<Vec<_>>(), "next": next }),
    ))
}

fn view(e: &SupervisionEntry, bureaus: &domain::BureauDirectory) -> serde_json::Value {
    json!({
        "clue_id": e.clue_id,
        "clue_no": e.clue_no,
        "handler": e.handler,
        "handler_name": bureaus.get(&e.handler).map(|b| b.name.clone()).ok(),
        "state": e.state,
        "supervision": crate::views::supervision(&e.supervision, bureaus),
        "open": e.supervision.is_open(),
    })
}

/// What a division supervision asks for.
#[derive(Debug, Deserialize)]
struct DivisionRequest {
    bureau: String,
    due_on: NaiveDate,
    note: String,
    /// `open` (every open clue) or `overdue` (open clues past a deadline).
    #[serde(default = "all_open")]
    covers: String,
}

fn all_open() -> String {
    "open".to_owned()
}

/// `POST /api/officer/supervisions {bureau, due_on, note, covers}`.
///
/// # Errors
/// 400 `bad_json`, `invalid_covers`, `idempotency_key_required`; 403 `not_supervisor`; 404
/// `bureau_not_found` (not below the caller); 422 `due_not_after_today`, `invalid_text`,
/// `too_many_clues`; store failures.
pub async fn supervise_division<S: SupervisionLists + ClueCommands + ClueReads + Directory>(
    store: &S,
    o: &Officer,
    req: &Req,
    now: DateTime<Utc>,
) -> Result<Resp, ApiError> {
    let (body, _, key) = crate::actions::envelope(req, o)?;
    let ask: DivisionRequest = serde_json::from_value(body)
        .map_err(|_| ApiError::bad_request("bad_json", "请求格式错误"))?;
    let overdue_only = match ask.covers.as_str() {
        "open" => false,
        "overdue" => true,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_covers",
                "covers 应为 open 或 overdue",
            ));
        }
    };
    let note =
        Reason::parse(&ask.note).map_err(|e| ApiError::new(422, "invalid_text", e.to_string()))?;
    let bureaus = store.bureaus().await.map_err(store_error)?;
    let target = BureauId::parse(&ask.bureau)
        .ok()
        .and_then(|id| bureaus.get(&id).ok())
        .filter(|b| b.id != o.bureau && crate::access::reads_bureau(o, b, &bureaus))
        .ok_or_else(|| ApiError::not_found("bureau_not_found"))?;
    if !(o.has(Role::Supervisor) || o.has(Role::Leader)) {
        return Err(ApiError::forbidden(
            "not_supervisor",
            "只有上级机关可以督办",
        ));
    }
    if ask.due_on <= domain::calendar::shanghai_date(now) {
        return Err(ApiError::new(
            422,
            "due_not_after_today",
            "督办期限须晚于今天",
        ));
    }
    let mut clues: Vec<Clue> = Vec::new();
    for state in ["received", "escalated", "accepted"] {
        let mut cursor = None;
        loop {
            let page = store
                .inbox(&target.id, state, PageRequest { limit: 100, cursor })
                .await
                .map_err(store_error)?;
            clues.extend(page.items.into_iter().map(|s| s.clue).filter(|c| {
                c.handler == target.id
                    && (!overdue_only
                        || c.open_deadlines()
                            .any(|d| d.kind.overdue_is_reported() && d.is_overdue(now)))
            }));
            if clues.len() > DIVISION_MAX {
                return Err(ApiError::new(
                    422,
                    "too_many_clues",
                    format!("一次督办最多 {DIVISION_MAX} 条线索，请改为督办逾期线索或逐条督办"),
                ));
            }
            match page.next {
                Some(next) => cursor = Some(next),
                None => break,
            }
        }
    }
    let actor = Actor::Officer { officer: o.clone() };
    let (mut supervised, mut skipped, mut failed) = (Vec::new(), Vec::new(), Vec::new());
    for clue in &clues {
        let per_clue =
            IdempotencyKey::parse(&format!("{}:{}", key.as_str(), clue.id)).map_err(|_| {
                ApiError::bad_request("invalid_idempotency_key", "Idempotency-Key 无效")
            })?;
        let command = Command::Supervise {
            due_on: ask.due_on,
            note: note.clone(),
        };
        match store
            .execute(&clue.id, command, &actor, now, &per_clue)
            .await
        {
            Ok(_) => supervised.push(clue.clue_no.as_str().to_owned()),
            Err(StoreError::Domain(_) | StoreError::Conflict) => {
                skipped.push(clue.clue_no.as_str().to_owned());
            }
            Err(e) => {
                tracing::warn!(clue = %clue.id, code = e.code(), "division supervision: clue left");
                failed.push(clue.clue_no.as_str().to_owned());
            }
        }
    }
    Ok(Resp::json(
        200,
        &json!({
            "bureau": target.id,
            "covers": ask.covers,
            "supervised": supervised,
            "skipped": skipped,
            "failed": failed,
        }),
    ))
}
