//! `judgment`: the officer API (`/api/officer/*`), reached only with a valid Cognito token (the
//! HTTP API's JWT authorizer checks it before this function runs).
//!
//! The binary (`main.rs`) builds an [`App`] once per cold start and maps each API Gateway
//! request to [`App::handle`]. The officer workflow on clues (judgment, verification, …) arrives
//! with its own issue; today the officer sees who they are, their reminders and their WeChat
//! binding.
//!
//! # Layout
//! - [`officer`]: the caller from the authorizer's claims.
//! - [`reminders`]: the reminder list, one reminder, mark read.
//! - [`binding`]: the officer's WeChat binding and its codes.

pub mod binding;
pub mod calendar;
pub mod officer;
pub mod overdue;
pub mod reminders;

use api::{ApiError, Req, Resp};
use chrono::{DateTime, Utc};
use store::{DynamoClueStore, StoreError};

use crate::officer::Caller;

/// Everything a request needs, built once per cold start.
pub struct App {
    pub store: DynamoClueStore,
}

/// The API error of a store error that is not the caller's (those each route maps itself).
pub fn store_error(e: StoreError) -> ApiError {
    match e {
        StoreError::NotFound(_) => ApiError::not_found("not_found"),
        StoreError::Invalid(what) => ApiError::bad_request("invalid", format!("参数无效：{what}")),
        StoreError::Conflict => ApiError::new(409, "conflict", "数据已被修改，请刷新后重试"),
        e => {
            tracing::error!(code = e.code(), error = %e, "store failed");
            ApiError::unavailable()
        }
    }
}

impl App {
    /// Answers one officer request at `now`.
    pub async fn handle(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        match self.route(req, now).await {
            Ok(resp) => resp,
            Err(e) => e.into_resp(),
        }
    }

    async fn route(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let caller = Caller::from_claims(&req.claims)?;
        let officer = &caller.officer;
        let store = &self.store;
        let Some(rest) = req.path.strip_prefix("/api/officer/") else {
            return Err(ApiError::not_found("no_route"));
        };
        let segments: Vec<&str> = rest.split('/').collect();
        let method = req.method.as_str();
        match (segments.as_slice(), method) {
            (["me"], "GET") => {
                let unread = store.unread_reminders(officer).await.map_err(store_error)?;
                Ok(Resp::json(200, &caller.me(unread)))
            }
            (["reminders"], "GET") => reminders::list(store, officer, req).await,
            (["reminders", id], "GET") => reminders::one(store, officer, id).await,
            (["reminders", id, "read"], "POST") => reminders::read(store, officer, id, now).await,
            (["wechat-binding"], "GET") => binding::show(store, officer).await,
            (["wechat-binding"], "POST") => binding::issue(store, officer, now).await,
            (["wechat-binding"], "DELETE") => binding::remove(store, officer).await,
            (["calendar"], "GET") => calendar::show(store, officer, now).await,
            (["calendar", year], "PUT") => {
                calendar::upload(store, officer, year, &req.body, now).await
            }
            (["overdue"], "GET") => overdue::list(store, officer, req).await,
            (
                ["me"]
                | ["reminders"]
                | ["reminders", _]
                | ["reminders", _, "read"]
                | ["wechat-binding"],
                _,
            ) => Err(ApiError::new(
                405,
                "method_not_allowed",
                format!("不支持 {method} 方法"),
            )),
            _ => Err(ApiError::not_found("no_route")),
        }
    }
}
