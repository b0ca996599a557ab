//! Account administration by a bureau's admin (`Role::Admin`), behind the HTTP API's JWT
//! authorizer: create an officer of the admin's own bureau (a temporary password shown once,
//! changed at first sign-in), disable, enable, reset the second factor, reset the password.
//! Every change is audited with the admin as actor.
//!
//! | route | answer |
//! |---|---|
//! | `POST /auth/admin/officers` `{username, roles}` | 201 `{id, username, temporary_password}` |
//! | `POST /auth/admin/officers/{id}/disable` / `enable` / `reset-totp` / `reset-password` | 200 (`reset-password`: `{temporary_password}`) |

use std::collections::BTreeSet;

use api::{ApiError, Req, Resp};
use chrono::{DateTime, Utc};
use domain::{Officer, OfficerId, Role};
use serde::Deserialize;
use serde_json::json;

use store::Accounts;

use crate::signin::valid_username;
use crate::{App, internal, parse_body, password, random_token, store_error};

#[derive(Deserialize)]
struct NewOfficer {
    username: String,
    roles: Vec<Role>,
}

/// A temporary password: 24 random URL-safe characters with a digit, meeting the policy.
fn temporary_password() -> Result<String, ApiError> {
    Ok(format!("T{}7", &random_token()?[..22]))
}

impl<S: Accounts> App<S> {
    /// The calling admin (active, `Role::Admin`).
    async fn caller_admin(&self, req: &Req) -> Result<Officer, ApiError> {
        let id = req
            .claims
            .get("sub")
            .and_then(|s| OfficerId::parse(s).ok())
            .ok_or_else(|| ApiError::new(401, "unauthenticated", "请先登录办理系统"))?;
        let officer = self
            .store
            .active_officer(&id)
            .await
            .map_err(store_error)?
            .ok_or_else(|| ApiError::forbidden("unknown_officer", "账号未登记或已停用"))?;
        if !officer.has(Role::Admin) {
            return Err(ApiError::forbidden(
                "not_admin",
                "仅本机关管理员可以管理账号",
            ));
        }
        Ok(officer)
    }

    pub(crate) async fn admin(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let admin = self.caller_admin(req).await?;
        let rest = req.path.trim_start_matches("/auth/admin/");
        let segments: Vec<&str> = rest.split('/').collect();
        match (req.method.as_str(), segments.as_slice()) {
            ("POST", ["officers"]) => self.create_officer(req, &admin, now).await,
            ("POST", ["officers", id, action]) => {
                let id = OfficerId::parse(id)
                    .map_err(|_| ApiError::bad_request("invalid_request", "账号编号无效"))?;
                self.change_officer(&admin, &id, action, now).await
            }
            _ => Err(ApiError::not_found("no_route")),
        }
    }

    async fn create_officer(
        &self,
        req: &Req,
        admin: &Officer,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let body: NewOfficer = parse_body(req)?;
        let username = body.username.trim().to_lowercase();
        if !valid_username(&username) {
            return Err(ApiError::bad_request(
                "invalid_username",
                "用户名须为3至64位小写字母、数字或 . _ -",
            ));
        }
        let roles: BTreeSet<Role> = body.roles.into_iter().collect();
        if roles.is_empty() {
            return Err(ApiError::bad_request("invalid_roles", "请至少选择一个角色"));
        }
        let id = OfficerId::parse(&format!(
            "o-{}",
            &random_token()?[..20]
                .to_lowercase()
                .replace(['-', '_'], "x")
        ))
        .map_err(|e| internal("officer id", e))?;
        let temp = temporary_password()?;
        let hash = password::hash(&temp).map_err(|e| internal("hash", e))?;
        let officer = Officer {
            id: id.clone(),
            bureau: admin.bureau.clone(),
            roles: roles.clone(),
        };
        if !self
            .store
            .create_officer_account(&officer, &username, &hash)
            .await
            .map_err(store_error)?
        {
            return Err(ApiError::new(409, "username_taken", "该用户名已被使用"));
        }
        let detail = format!(
            "bureau {} roles {}",
            admin.bureau,
            roles
                .iter()
                .map(|r| serde_json::to_value(r)
                    .ok()
                    .and_then(|v| v.as_str().map(str::to_owned))
                    .unwrap_or_default())
                .collect::<Vec<_>>()
                .join(",")
        );
        self.audit(now, "officer_created", Some(&id), Some(&admin.id), &detail)
            .await?;
        Ok(Resp::json(
            201,
            &json!({"id": id.as_str(), "username": username, "temporary_password": temp}),
        ))
    }

    async fn change_officer(
        &self,
        admin: &Officer,
        id: &OfficerId,
        action: &str,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let target = self
            .store
            .officer_of_any_state(id)
            .await
            .map_err(store_error)?
            .filter(|o| o.bureau == admin.bureau)
            .ok_or_else(|| ApiError::not_found("unknown_officer"))?;
        if target.id == admin.id && action == "disable" {
            return Err(ApiError::bad_request("own_account", "不能停用自己的账号"));
        }
        let (kind, body) = match action {
            "disable" | "enable" => {
                let disabled = action == "disable";
                self.store
                    .set_officer_disabled(id, disabled)
                    .await
                    .map_err(store_error)?;
                let kind = if disabled {
                    "officer_disabled"
                } else {
                    "officer_enabled"
                };
                (kind, json!({"id": id.as_str(), "disabled": disabled}))
            }
            "reset-totp" => {
                self.store.reset_totp(id).await.map_err(store_error)?;
                ("totp_reset", json!({"id": id.as_str()}))
            }
            "reset-password" => {
                let temp = temporary_password()?;
                let hash = password::hash(&temp).map_err(|e| internal("hash", e))?;
                self.store
                    .set_password(id, &hash, true)
                    .await
                    .map_err(store_error)?;
                (
                    "password_reset",
                    json!({"id": id.as_str(), "temporary_password": temp}),
                )
            }
            _ => return Err(ApiError::not_found("no_route")),
        };
        self.audit(now, kind, Some(id), Some(&admin.id), "").await?;
        Ok(Resp::json(200, &body))
    }
}
