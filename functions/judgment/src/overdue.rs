//! The overdue entries of the bureaus a bureau supervises (`GET /api/officer/overdue`): each
//! deadline a lower bureau missed, recorded once by the sweep, latest due first.

use api::{ApiError, Req, Resp};
use domain::Officer;
use serde_json::json;
use store::roles::*;

use crate::store_error;

pub(crate) const DEFAULT_LIMIT: i32 = 20;
pub(crate) const MAX_LIMIT: i32 = 100;

/// The `limit` query parameter of a list: `default` when absent, else 1 to `max`.
///
/// # Errors
/// 400 `invalid_limit`.
pub(crate) fn page_limit(req: &Req, default: i32, max: i32) -> Result<i32, ApiError> {
    match req.query("limit") {
        None => Ok(default),
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=max).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request("invalid_limit", format!("limit 应为 1 到 {max}"))
            }),
    }
}

/// `GET /api/officer/overdue?limit=&cursor=`: the caller's bureau's entries.
///
/// # Errors
/// 400 `invalid_limit` / `invalid_cursor`; store failures.
pub async fn list<S: SweepIndex + Directory>(
    store: &S,
    officer: &Officer,
    req: &Req,
) -> Result<Resp, ApiError> {
    let limit = page_limit(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let page = store
        .overdue_entries(&officer.bureau, limit, req.query("cursor"))
        .await
        .map_err(|e| match e {
            store::StoreError::Invalid(_) => {
                ApiError::bad_request("invalid_cursor", "分页参数无效")
            }
            e => store_error(e),
        })?;
    let items: Vec<_> = page
        .items
        .iter()
        .map(|e| {
            json!({
                "clue_id": e.clue_id,
                "clue_no": e.clue_no,
                "kind": e.kind,
                "kind_label": e.kind.label(),
                "bureau": e.bureau,
                "due": e.due,
                "recorded_at": e.recorded_at,
            })
        })
        .collect();
    Ok(Resp::json(
        200,
        &json!({ "items": items, "next": page.next }),
    ))
}
