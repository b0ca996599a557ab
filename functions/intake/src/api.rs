//! The reporter H5 API (`/api/reporter/*`, [`ROUTES`]): WeChat OAuth into a sealed session
//! cookie, the division picker, the city's reporting notice, filing a clue, and "my clues"
//! (public view only).

use chrono::{DateTime, Utc};
use domain::event::{DeliveryStatus, Party};
use domain::scope::Category;
use domain::service;
use domain::text::MessageText;
use domain::{
    Actor, ClosedOutcome, ClueId, ClueState, Command, DeadlineStatus, DivisionCode, Divisions,
    DueOn, EventKind, ReporterKey,
};
use outbox::NoticeQueue;
use serde::{Deserialize, Serialize};
use serde_json::json;
use session::{LOGIN_COOKIE, SESSION_COOKIE, SESSION_SECS, STATE_SECS, safe_return};
use sha2::{Digest, Sha256};
use store::{
    ClueStore, IdempotencyKey, PageRequest, ReminderIssuer, ReporterIdentity, ReporterKeys,
};

use crate::App;
use crate::http::router::{Path, Router};
use crate::http::{ApiError, Req, Resp, encode, set_cookie};
use crate::message_reminder::remind_of_new_message;
use crate::ports::{MediaQueue, Side};
use crate::report::{report_error, store_error};
use domain::report::{self, ReportForm, StatedIdentity};

/// The H5 API's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Health,
    Login,
    OAuth,
    Divisions,
    ReportingNotice,
    FileClue,
    MyClues,
    MyClue,
    PostMessage,
}

/// Every path of the H5 API once, with the methods it answers.
pub const ROUTES: Router<Route> = Router {
    paths: &[
        Path {
            pattern: "/api/reporter/health",
            methods: &[("GET", Route::Health)],
        },
        Path {
            pattern: "/api/reporter/login",
            methods: &[("GET", Route::Login)],
        },
        Path {
            pattern: "/api/reporter/oauth",
            methods: &[("GET", Route::OAuth)],
        },
        Path {
            pattern: "/api/reporter/divisions",
            methods: &[("GET", Route::Divisions)],
        },
        Path {
            pattern: "/api/reporter/reporting-notice",
            methods: &[("GET", Route::ReportingNotice)],
        },
        Path {
            pattern: "/api/reporter/clues",
            methods: &[("GET", Route::MyClues), ("POST", Route::FileClue)],
        },
        Path {
            pattern: "/api/reporter/clues/{id}",
            methods: &[("GET", Route::MyClue)],
        },
        Path {
            pattern: "/api/reporter/clues/{id}/messages",
            methods: &[("POST", Route::PostMessage)],
        },
    ],
};

/// A signed-in reporter.
pub struct Reporter {
    pub openid: String,
    /// The reporter key under the current version of the reporter-key secret.
    pub key: ReporterKey,
    /// The keys under every live version: their earlier clues and block-list entries.
    pub keys: ReporterKeys,
}

/// A county-level division the platform knows (the domain's rule).
///
/// # Errors
/// 400 `unknown_division`.
pub fn reportable_division(code: &str) -> Result<DivisionCode, ApiError> {
    report::reportable_division(code).map_err(|e| report_error(&e))
}

/// The identity to keep in the vault: the openid and the real-name fields the form stated.
fn vault_identity(openid: &str, stated: StatedIdentity) -> ReporterIdentity {
    ReporterIdentity {
        name: stated.name,
        phone: stated.phone,
        id_number: stated.id_number,
        ..ReporterIdentity::anonymous(openid)
    }
}

fn parse_json<T: for<'de> Deserialize<'de>>(body: &[u8]) -> Result<T, ApiError> {
    if body.len() > 64 * 1024 {
        return Err(ApiError::new(413, "body_too_large", "请求内容过大"));
    }
    let text = std::str::from_utf8(body)
        .map_err(|_| ApiError::bad_request("invalid_utf8", "请求内容不是有效的UTF-8文本"))?;
    serde_json::from_str(text).map_err(|_| ApiError::bad_request("bad_json", "请求格式错误"))
}

#[derive(Serialize)]
struct DivisionOut {
    code: String,
    name: String,
    reportable: bool,
    served: bool,
}

#[derive(Serialize)]
struct TimelineOut {
    at: DateTime<Utc>,
    label: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    notice: Option<String>,
}

fn state_label(state: &ClueState) -> &'static str {
    match state {
        ClueState::Closed { outcome } => outcome.label(),
        other => other.label(),
    }
}

fn event_label(kind: &EventKind) -> Option<&'static str> {
    Some(match kind {
        EventKind::Received { .. } => "已接收举报",
        EventKind::Judged { judgment, .. } => match judgment.code() {
            "accept" => "已受理，将进一步核查处理",
            "out_of_scope" => "不属于接收范围",
            "duplicate" => "重复举报",
            _ => "需补充材料",
        },
        EventKind::VerificationRecorded { .. } => "核查完毕",
        EventKind::MergedInto { .. } => "与其他举报合并办理",
        EventKind::Resubmitted { .. } => "已补充材料重新提交",
        EventKind::NoticeOwed { .. } => "告知",
        EventKind::MessagePosted {
            from: Party::Reporter,
            ..
        } => "您发送了留言",
        EventKind::MessagePosted { .. } => "承办人回复了留言",
        _ => return None,
    })
}

fn delivery_code(d: &DeliveryStatus) -> &'static str {
    match d {
        DeliveryStatus::Queued => "queued",
        DeliveryStatus::Sent { .. } => "sent",
        DeliveryStatus::Failed { .. } => "failed",
        DeliveryStatus::Undeliverable { .. } => "undeliverable",
    }
}

/// The clue's legal deadlines as the reporter reads them: Asia/Shanghai dates, "待定" while the
/// calendar lacks the year, never a guessed date.
fn deadlines_out(clue: &domain::Clue) -> Vec<serde_json::Value> {
    clue.reporter_deadlines()
        .iter()
        .map(|d| {
            let (due_date, due_text) = match d.due {
                DueOn::Date(day) => (
                    Some(day.format("%Y-%m-%d").to_string()),
                    day.format("%Y年%-m月%-d日前").to_string(),
                ),
                DueOn::Pending => (None, "待定".to_owned()),
                DueOn::AfterVerification => (None, "核查结束后5个工作日内".to_owned()),
            };
            let (status, status_label) = match d.status {
                DeadlineStatus::Open => ("open", "办理中"),
                DeadlineStatus::Met { on_time: true, .. } => ("met", "已按期告知"),
                DeadlineStatus::Met { .. } => ("met_late", "已告知（超期）"),
                DeadlineStatus::Discharged { .. } => ("discharged", "不再适用"),
            };
            json!({
                "kind": d.kind.code(),
                "label": d.kind.label(),
                "due_date": due_date,
                "pending": d.due == DueOn::Pending,
                "due_text": due_text,
                "status": status,
                "status_label": status_label,
            })
        })
        .collect()
}

fn location_name(d: &DivisionCode) -> String {
    Divisions::embedded()
        .full_name(d)
        .unwrap_or_else(|| d.to_string())
}

impl<S, R, Q, M> App<S, R, Q, M>
where
    S: ClueStore + ReminderIssuer,
    R: Side,
    Q: NoticeQueue,
    M: MediaQueue,
{
    /// The signed-in reporter, from the session cookie.
    ///
    /// # Errors
    /// 401 without a valid session.
    pub fn reporter(&self, req: &Req, now: DateTime<Utc>) -> Result<Reporter, ApiError> {
        let cookie = req
            .cookie(SESSION_COOKIE)
            .ok_or_else(ApiError::unauthenticated)?;
        let s = self
            .session
            .open(cookie, now.timestamp())
            .map_err(|_| ApiError::unauthenticated())?;
        let keys = self.reporting.keyer.keys(&s.openid);
        Ok(Reporter {
            key: keys.current().clone(),
            keys,
            openid: s.openid,
        })
    }

    /// Routes `/api/reporter/*` ([`ROUTES`]; a trailing `/` is ignored).
    ///
    /// # Errors
    /// What the reporter sees: 404/405 from the table, the route's own refusals.
    pub async fn reporter_api(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let path = req.path.trim_end_matches('/');
        let matched = ROUTES.route(&req.method, path)?;
        // Every route that changes something is a browser POST from the platform's own pages.
        if matches!(matched.route, Route::FileClue | Route::PostMessage) {
            req.check_browser_post(&self.reporting.public)?;
        }
        let id = matched.param("id");
        match matched.route {
            Route::Health => Ok(Resp::json(200, &json!({"status":"ok","function":"intake"}))),
            Route::Login => Ok(self.login(req, now)),
            Route::OAuth => self.oauth(req, now).await,
            Route::Divisions => self.divisions(req).await,
            Route::ReportingNotice => self.notice(req, now).await,
            Route::FileClue => self.submit(req, now).await,
            Route::MyClues => self.my_clues(req, now).await,
            Route::MyClue => self.my_clue(req, id, now).await,
            Route::PostMessage => self.post_message(req, id, now).await,
        }
    }

    fn login(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        let ret = safe_return(req.query("return").unwrap_or("#/"));
        let nonce = uuid::Uuid::new_v4().simple().to_string();
        let state = self.session.sign_state(&ret, &nonce, now.timestamp());
        let redirect = self.reporting.public.url("/api/reporter/oauth");
        let url = format!(
            "{}/connect/oauth2/authorize?appid={}&redirect_uri={}&response_type=code&scope=snsapi_base&state={}#wechat_redirect",
            self.oauth_base.trim_end_matches('/'),
            encode(&self.appid),
            encode(&redirect),
            encode(&state)
        );
        Resp::redirect(&url).with_header(
            "set-cookie",
            set_cookie(
                LOGIN_COOKIE,
                &nonce,
                STATE_SECS,
                self.reporting.public.secure(),
            ),
        )
    }

    async fn oauth(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let bad = || ApiError::bad_request("bad_oauth", "登录失败，请重新打开页面");
        let code = req
            .query("code")
            .filter(|c| !c.is_empty() && c.len() <= 256 && c.bytes().all(|b| b.is_ascii_graphic()));
        let (Some(code), Some(state), Some(nonce)) =
            (code, req.query("state"), req.cookie(LOGIN_COOKIE))
        else {
            return Err(bad());
        };
        let ret = self
            .session
            .verify_state(state, nonce, now.timestamp())
            .map_err(|_| bad())?;
        let user = self.oauth.oauth_openid(code).await.map_err(|e| {
            tracing::warn!(code = e.code(), "oauth code exchange failed");
            bad()
        })?;
        if user.is_snapshot_user || user.openid.is_empty() {
            return Err(ApiError::new(
                403,
                "snapshot_user",
                "请在微信中打开页面后举报",
            ));
        }
        let secure = self.reporting.public.secure();
        let cookie = self.session.seal(&user.openid, now.timestamp());
        Ok(
            Resp::redirect(&self.reporting.public.h5(&safe_return(&ret)))
                .with_header(
                    "set-cookie",
                    set_cookie(SESSION_COOKIE, &cookie, SESSION_SECS, secure),
                )
                .with_header("set-cookie", set_cookie(LOGIN_COOKIE, "", 0, secure)),
        )
    }

    /// The divisions under `parent` (the provinces without), each with whether it is a
    /// reportable location and whether the platform serves it (or any place below it).
    async fn divisions(&self, req: &Req) -> Result<Resp, ApiError> {
        let reg = Divisions::embedded();
        let bureaus = self
            .reporting
            .store
            .bureaus()
            .await
            .map_err(|e| store_error(&e))?;
        let out = |d: &domain::Division| DivisionOut {
            code: d.code().to_string(),
            name: d.name().to_owned(),
            reportable: d.is_reportable_location(),
            served: service::is_served_within(&bureaus, reg, &d.code()),
        };
        let list: Vec<DivisionOut> = match req.query("parent") {
            None | Some("") => reg.provinces().map(out).collect(),
            Some(p) => {
                let parent = DivisionCode::parse(p)
                    .ok()
                    .filter(|c| reg.get(c).is_some())
                    .ok_or_else(|| {
                        ApiError::bad_request("unknown_division", "行政区划代码不存在")
                    })?;
                reg.children(&parent).map(out).collect()
            }
        };
        Ok(Resp::json(200, &list).with_header("cache-control", "private, max-age=300"))
    }

    /// A reportable location that a bureau on the platform handles.
    ///
    /// # Errors
    /// 400 `unknown_division`; 422 `not_served` with what to do instead.
    pub async fn served_division(&self, code: &str) -> Result<DivisionCode, ApiError> {
        let division = reportable_division(code)?;
        let bureaus = self
            .reporting
            .store
            .bureaus()
            .await
            .map_err(|e| store_error(&e))?;
        if service::is_served(&bureaus, &division) {
            Ok(division)
        } else {
            Err(ApiError::new(
                422,
                "not_served",
                service::not_served_text(&location_name(&division)),
            ))
        }
    }

    async fn notice(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let division = self
            .served_division(req.query("division").unwrap_or_default())
            .await?;
        let city = division
            .city()
            .ok_or_else(|| ApiError::bad_request("unknown_division", "请选择县级行政区"))?;
        let history = self
            .reporting
            .store
            .scope_history(city)
            .await
            .map_err(|e| store_error(&e))?;
        let scope = history.in_force(now);
        let notice = scope.reporting_notice();
        let categories: Vec<_> = Category::ALL
            .iter()
            .map(|c| {
                json!({"code": c.code(), "name": c.name(), "description": c.description(), "group": c.group().name()})
            })
            .collect();
        let extras: Vec<_> = scope
            .extra_categories
            .iter()
            .map(|e| json!({"code": e.code, "name": e.name, "description": e.description}))
            .collect();
        Ok(Resp::json(
            200,
            &json!({
                "version_id": notice.version_id,
                "text": notice.text,
                "city": city.to_string(),
                "city_name": location_name(&city),
                "categories": categories,
                "extras": extras,
            }),
        ))
    }

    async fn submit(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let me = self.reporter(req, now)?;
        let form: ReportForm = parse_json(&req.body)?;
        self.served_division(&form.division).await?;
        let checked = form.check().map_err(|e| report_error(&e))?;
        let identity = vault_identity(&me.openid, checked.identity);
        // The same reporter sending the same body again (a double tap, a retried request) gets
        // the first answer back instead of a second clue.
        let digest = hex::encode(Sha256::digest(
            [me.key.as_str().as_bytes(), b"\0", req.body.as_slice()].concat(),
        ));
        let key =
            IdempotencyKey::parse(&format!("h5:{}", &digest[..40])).map_err(|e| store_error(&e))?;
        let received = self
            .reporting
            .file(checked.report, &checked.attachments, identity, &key, now)
            .await?;
        Ok(Resp::json(
            if received.replayed { 200 } else { 201 },
            &json!({
                "clue_id": received.clue_id.to_string(),
                "clue_no": received.clue_no.to_string(),
                "receipt_notice": domain::NoticeContent::Receipt.render(),
            }),
        ))
    }

    async fn my_clues(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let me = self.reporter(req, now)?;
        // Under every live version of the reporter-key secret, newest first.
        let mut clues = Vec::new();
        for key in me.keys.all() {
            let page = self
                .reporting
                .store
                .reporter_clues(key, PageRequest::default())
                .await
                .map_err(|e| store_error(&e))?;
            clues.extend(page.items);
        }
        clues.sort_by(|a, b| {
            (b.clue.received_at, &b.clue.id).cmp(&(a.clue.received_at, &a.clue.id))
        });
        let list: Vec<_> = clues
            .iter()
            .map(|c| {
                let c = &c.clue;
                json!({
                    "clue_id": c.id.to_string(),
                    "clue_no": c.clue_no.to_string(),
                    "state": c.state.code(),
                    "state_label": state_label(&c.state),
                    "received_at": c.received_at,
                    "location_name": location_name(&c.location.division),
                    "next_due": c.next_due(),
                    "deadlines": deadlines_out(c),
                })
            })
            .collect();
        Ok(Resp::json(200, &list))
    }

    async fn own_clue(&self, me: &Reporter, id: &str) -> Result<domain::Clue, ApiError> {
        let id = ClueId::parse(id).map_err(|_| ApiError::not_found("clue_not_found"))?;
        match self.reporting.store.clue(&id).await {
            Ok(c) if me.keys.holds(&c.clue.reporter) => Ok(c.clue),
            Ok(_) | Err(store::StoreError::NotFound(_)) => {
                Err(ApiError::not_found("clue_not_found"))
            }
            Err(e) => Err(store_error(&e)),
        }
    }

    async fn my_clue(&self, req: &Req, id: &str, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let me = self.reporter(req, now)?;
        let clue = self.own_clue(&me, id).await?;
        let timeline = self
            .reporting
            .store
            .timeline(&clue.id)
            .await
            .map_err(|e| store_error(&e))?;
        let timeline: Vec<TimelineOut> = timeline
            .iter()
            .filter(|e| e.event.kind.is_public())
            .filter_map(|e| {
                let label = event_label(&e.event.kind)?;
                let notice = match &e.event.kind {
                    EventKind::NoticeOwed { notice } => Some(notice.text.clone()),
                    _ => None,
                };
                Some(TimelineOut {
                    at: e.event.at,
                    label,
                    notice,
                })
            })
            .collect();
        let notices: Vec<_> = clue
            .notices
            .iter()
            .map(|n| {
                json!({
                    "key": n.record.key().as_str(),
                    "text": n.record.text,
                    "at": n.owed_at,
                    "delivery": delivery_code(&n.delivery),
                })
            })
            .collect();
        let messages = self
            .reporting
            .store
            .messages(&clue.id)
            .await
            .map_err(|e| store_error(&e))?;
        let messages: Vec<_> = messages
            .iter()
            .map(|m| {
                json!({
                    "from": if matches!(m.from, Party::Reporter) { "reporter" } else { "officer" },
                    "text": m.text,
                    "at": m.at,
                })
            })
            .collect();
        let can_resubmit = matches!(
            clue.state,
            ClueState::Closed {
                outcome: ClosedOutcome::NeedMaterial
            }
        ) && clue.resubmitted_as.is_none();
        Ok(Resp::json(
            200,
            &json!({
                "clue_id": clue.id.to_string(),
                "clue_no": clue.clue_no.to_string(),
                "state": clue.state.code(),
                "state_label": state_label(&clue.state),
                "division": clue.location.division.to_string(),
                "location_name": location_name(&clue.location.division),
                "address": clue.location.address.as_str(),
                "received_at": clue.received_at,
                "next_due": clue.next_due(),
                "deadlines": deadlines_out(&clue),
                "evidence_count": clue.evidence.len(),
                "evidence_left_out": clue
                    .evidence_left_out
                    .iter()
                    .map(|l| json!({"number": l.number, "reason": l.reason.code(), "text": l.reason.text()}))
                    .collect::<Vec<_>>(),
                "can_resubmit": can_resubmit,
                "timeline": timeline,
                "notices": notices,
                "messages": messages,
            }),
        ))
    }

    async fn post_message(
        &self,
        req: &Req,
        id: &str,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        #[derive(Deserialize)]
        #[serde(deny_unknown_fields)]
        struct Body {
            text: String,
        }
        let me = self.reporter(req, now)?;
        let body: Body = parse_json(&req.body)?;
        let text = MessageText::parse(&body.text).map_err(|e| report_error(&e.into()))?;
        let clue = self.own_clue(&me, id).await?;
        self.reporting.check_block(&me.keys, now).await?;
        let key = IdempotencyKey::parse(&format!("msg:{}", uuid::Uuid::new_v4().simple()))
            .map_err(|e| store_error(&e))?;
        // The clue's own key: it may be of an earlier version of the reporter-key secret.
        let actor = Actor::Reporter {
            reporter: clue.reporter.clone(),
        };
        let out = self
            .reporting
            .store
            .execute(&clue.id, Command::PostMessage { text }, &actor, now, &key)
            .await
            .map_err(|e| store_error(&e))?;
        outbox::enqueue_after_commit(&self.reporting.notices, out.notices()).await;
        if !out.replayed {
            remind_of_new_message(
                &self.reporting.store,
                &self.reporting.notices,
                &clue.id,
                now,
            )
            .await;
        }
        Ok(Resp::json(201, &json!({"ok": true})))
    }
}
