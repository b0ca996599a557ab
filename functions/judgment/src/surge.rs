//! The surge review list (`GET /api/officer/surge`): the clues filed in the caller's territory
//! while their county received more than a surge's worth in an hour (issue 16, point 2). They
//! were filed, never refused; the bureau reviews them for a coordinated flood.

use api::{ApiError, Req, Resp};
use domain::Officer;
use serde_json::json;
use store::roles::*;
use store::{ReportingStore, StoreError};

use crate::store_error;

const DEFAULT_LIMIT: i32 = 50;
const MAX_LIMIT: i32 = 100;

/// `GET /api/officer/surge?limit=&cursor=`: the surge marks inside the caller's bureau's
/// division, county by county, newest first.
///
/// # Errors
/// 400 `invalid_limit` / `invalid_cursor`; 403 `no_territory` for a bureau without a division
/// (the ministry); 503 without the reporting side table; store failures.
pub async fn list<S: Directory>(
    store: &S,
    reporting: Option<&ReportingStore>,
    officer: &Officer,
    req: &Req,
) -> Result<Resp, ApiError> {
    let limit = crate::overdue::page_limit(req, DEFAULT_LIMIT, MAX_LIMIT)?;
    let bureaus = store.bureaus().await.map_err(store_error)?;
    let territory = bureaus
        .get(&officer.bureau)
        .ok()
        .and_then(|b| b.division)
        .ok_or_else(|| ApiError::forbidden("no_territory", "所属机关没有辖区"))?;
    let reporting = reporting.ok_or_else(ApiError::unavailable)?;
    let page = reporting
        .surge_marks(&territory, limit, req.query("cursor"))
        .await
        .map_err(|e| match e {
            StoreError::Invalid(_) => ApiError::bad_request("invalid_cursor", "分页参数无效"),
            e => store_error(e),
        })?;
    let items: Vec<_> = page
        .items
        .iter()
        .map(|m| {
            json!({
                "clue_id": m.clue_id,
                "clue_no": m.clue_no,
                "division": m.division,
                "marked_at": m.marked_at,
            })
        })
        .collect();
    Ok(Resp::json(
        200,
        &json!({ "items": items, "next": page.next }),
    ))
}
