//! 督办 lists (`GET /api/officer/supervisions`): with `role=by`, the supervisions the caller's
//! bureau opened, newest first, with the handling bureau's answers; with `role=answer`, the open
//! supervisions of clues the caller's bureau handles, earliest due first (the console's banner).

use api::{ApiError, Req, Resp};
use domain::Officer;
use serde_json::json;
use store::DynamoClueStore;
use store::supervision::SupervisionEntry;

use crate::store_error;

const DEFAULT_LIMIT: i32 = 20;
const MAX_LIMIT: i32 = 100;

/// `GET /api/officer/supervisions?role=by|answer&limit=&cursor=`.
///
/// # Errors
/// 400 `invalid_role` / `invalid_limit` / `invalid_cursor`; store failures.
pub async fn list(store: &DynamoClueStore, officer: &Officer, req: &Req) -> Result<Resp, ApiError> {
    let limit = match req.query("limit") {
        None => DEFAULT_LIMIT,
        Some(v) => v
            .parse::<i32>()
            .ok()
            .filter(|l| (1..=MAX_LIMIT).contains(l))
            .ok_or_else(|| {
                ApiError::bad_request("invalid_limit", format!("limit 应为 1 到 {MAX_LIMIT}"))
            })?,
    };
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
    Ok(Resp::json(
        200,
        &json!({ "items": items.iter().map(view).collect::<Vec<_>>(), "next": next }),
    ))
}

fn view(e: &SupervisionEntry) -> serde_json::Value {
    json!({
        "clue_id": e.clue_id,
        "clue_no": e.clue_no,
        "handler": e.handler,
        "state": e.state,
        "supervision": e.supervision,
        "open": e.supervision.is_open(),
    })
}
