//! The calling officer, resolved from the table by the token's subject: the token proves only
//! who signed in; bureau, roles and whether the account is active come from `OFFICER#<sub>`.

use api::ApiError;
use domain::{Officer, OfficerId, Role};
use serde::Serialize;
use store::roles::*;

/// `GET /api/officer/me`.
#[derive(Debug, Serialize)]
pub struct Me<'a> {
    pub sub: &'a str,
    pub bureau_id: &'a str,
    pub bureau_name: &'a str,
    pub bureau_level: domain::BureauLevel,
    pub roles: Vec<Role>,
    pub unread_reminders: u64,
}

/// The subject of the authorizer's claims.
///
/// # Errors
/// 401 `unauthenticated` without a usable `sub` (the route is not behind the authorizer).
pub fn subject(claims: &std::collections::HashMap<String, String>) -> Result<OfficerId, ApiError> {
    let unauthenticated = || ApiError::new(401, "unauthenticated", "请先登录办理系统");
    let sub = claims.get("sub").ok_or_else(unauthenticated)?;
    OfficerId::parse(sub).map_err(|_| unauthenticated())
}

/// The officer the table knows for `id`.
///
/// # Errors
/// 403 `unknown_officer` when the table has no officer of that subject, 403 `officer_disabled`
/// for a disabled account (both whatever the token's other claims say); 503 when the table
/// cannot be read.
pub async fn resolve<S: Console>(store: &S, id: &OfficerId) -> Result<Officer, ApiError> {
    match store.officer_account_state(id).await {
        Ok(Some((officer, true))) => Ok(officer),
        Ok(Some((_, false))) => Err(ApiError::forbidden(
            "officer_disabled",
            "账号已停用，请联系本机关管理员",
        )),
        Ok(None) => Err(ApiError::forbidden(
            "unknown_officer",
            "账号未登记为办理人员，请联系本机关管理员",
        )),
        Err(e) => Err(crate::errors::store_error(e)),
    }
}
