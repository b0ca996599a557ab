//! `judgment`: the officer API (`/api/officer/*`), behind the HTTP API's JWT authorizer. The
//! token proves only the subject; the officer (bureau, roles, active) is read from the table, and
//! every rule of who may see and do what is enforced here and in the domain, never only in a UI.
//!
//! The binary (`main.rs`) builds an [`App`] once per cold start and maps each API Gateway
//! request to [`App::handle`]. Routes: [`ROUTES`].
//!
//! # Layout
//! - [`officer`]: the caller, resolved from the table.
//! - [`access`]: who sees and acts on a clue (territory, handling bureau, recusal).
//! - [`views`]: the JSON of a clue in a list and in full, with working-day countdowns.
//! - [`actions`]: the actions on a clue, parsed into domain commands.
//! - [`evidence`]: evidence links after re-checking the stored object's SHA-256.
//! - [`errors`]: store and domain refusals as stable 4xx codes.
//! - [`reminders`]: the reminder list, one reminder, mark read.
//! - [`binding`]: the officer's WeChat binding and its codes.
//! - [`calendar`]: the working-day calendar as run-time data (admin upload and amendment).
//! - [`overdue`]: the overdue entries of the caller's territory (for supervising bureaus).
//! - [`scope_filing`]: a city's scope versions filed with the province, and acknowledged.
//! - [`supervision`]: 督办 lists (what the caller's bureau supervises, and must answer).
//! - [`bulletins`]: 通报 bulletins (generate, review, issue, read receipts, XLSX/CSV files).
//! - [`exports`]: the asynchronous clue-list export (queue, progress, presigned link).
//! - [`statistics`]: a territory's figures per division and period, from the counters.
//! - [`surge`]: the clues of a county's surge in the caller's territory, for review.

pub mod access;
pub mod actions;
pub mod binding;
pub mod bulletins;
pub mod calendar;
pub mod errors;
pub mod evidence;
pub mod exports;
pub mod officer;
pub mod overdue;
pub mod reminders;
pub mod scope_filing;
pub mod statistics;
pub mod supervision;
pub mod surge;
pub mod views;

use api::router::{Matched, Path, Router};
use api::{ApiError, Req, Resp};
use chrono::{DateTime, NaiveDate, Utc};
use domain::calendar::{WorkingCalendar, shanghai_date};
use domain::similarity::{CandidateClue, RankOptions, rank_candidates};
use domain::{Actor, BureauId, Clue, ClueId, Officer};
use outbox::{NoticeQueue, enqueue_after_commit};
use serde_json::{Value, json};
use store::console::INBOX_STATES;
use store::{Block, ClueStore, Cursor, PageRequest, ReportingStore, StoreError, StoredClue};

use crate::access::Access;
use crate::actions::{Action, Parsed};
use crate::errors::clue_not_found;
use crate::evidence::EvidenceBucket;

pub use errors::store_error;

/// Everything a request needs, built once per cold start.
pub struct App<S, Q> {
    /// Every role of the store (each route's module names the roles it uses).
    pub store: S,
    /// The reporting side table (block list, surges; `None`: those routes answer 503).
    pub reporting: Option<ReportingStore>,
    pub notices: Q,
    pub evidence: Option<EvidenceBucket>,
    /// The export queue and bucket (`None`: exports answer 503).
    pub exports: Option<exports::ExportDesk>,
}

impl<S, Q> App<S, Q> {
    /// The app on `store` and the notice queue, without the reporting side table, the evidence
    /// bucket and the export desk (their routes answer 503 until [`App::with_reporting`],
    /// [`App::with_evidence`] and [`App::with_exports`] give them).
    pub fn new(store: S, notices: Q) -> Self {
        Self {
            store,
            reporting: None,
            notices,
            evidence: None,
            exports: None,
        }
    }

    /// The app with the reporting side table.
    #[must_use]
    pub fn with_reporting(mut self, reporting: ReportingStore) -> Self {
        self.reporting = Some(reporting);
        self
    }

    /// The app with the evidence bucket.
    #[must_use]
    pub fn with_evidence(mut self, evidence: EvidenceBucket) -> Self {
        self.evidence = Some(evidence);
        self
    }

    /// The app with the export queue and bucket.
    #[must_use]
    pub fn with_exports(mut self, exports: exports::ExportDesk) -> Self {
        self.exports = Some(exports);
        self
    }
}

/// The officer API's routes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Route {
    Me,
    Inbox,
    Clue,
    Evidence,
    Act,
    Preview,
    BureauOfficers,
    Reminders,
    Reminder,
    ReminderRead,
    Binding,
    BindingIssue,
    BindingRemove,
    Calendar,
    CalendarYear,
    Overdue,
    Supervisions,
    SuperviseDivision,
    Scope,
    ScopeFile,
    ScopeAcknowledge,
    Bulletins,
    BulletinGenerate,
    Bulletin,
    BulletinExport,
    BulletinAct,
    ExportStart,
    Export,
    Statistics,
    Surge,
}

/// Every path of the officer API, once.
pub const ROUTES: Router<Route> = Router {
    paths: &[
        Path {
            pattern: "/api/officer/me",
            methods: &[("GET", Route::Me)],
        },
        Path {
            pattern: "/api/officer/inbox",
            methods: &[("GET", Route::Inbox)],
        },
        Path {
            pattern: "/api/officer/clues/{id}",
            methods: &[("GET", Route::Clue)],
        },
        Path {
            pattern: "/api/officer/clues/{id}/evidence/{attachment}",
            methods: &[("GET", Route::Evidence)],
        },
        Path {
            pattern: "/api/officer/clues/{id}/{action}",
            methods: &[("POST", Route::Act)],
        },
        Path {
            pattern: "/api/officer/clues/{id}/{action}/preview",
            methods: &[("POST", Route::Preview)],
        },
        Path {
            pattern: "/api/officer/bureau/officers",
            methods: &[("GET", Route::BureauOfficers)],
        },
        Path {
            pattern: "/api/officer/reminders",
            methods: &[("GET", Route::Reminders)],
        },
        Path {
            pattern: "/api/officer/reminders/{id}",
            methods: &[("GET", Route::Reminder)],
        },
        Path {
            pattern: "/api/officer/reminders/{id}/read",
            methods: &[("POST", Route::ReminderRead)],
        },
        Path {
            pattern: "/api/officer/wechat-binding",
            methods: &[
                ("GET", Route::Binding),
                ("POST", Route::BindingIssue),
                ("DELETE", Route::BindingRemove),
            ],
        },
        Path {
            pattern: "/api/officer/calendar",
            methods: &[("GET", Route::Calendar)],
        },
        Path {
            pattern: "/api/officer/calendar/{year}",
            methods: &[("PUT", Route::CalendarYear)],
        },
        Path {
            pattern: "/api/officer/overdue",
            methods: &[("GET", Route::Overdue)],
        },
        Path {
            pattern: "/api/officer/supervisions",
            methods: &[
                ("GET", Route::Supervisions),
                ("POST", Route::SuperviseDivision),
            ],
        },
        Path {
            pattern: "/api/officer/scope",
            methods: &[("GET", Route::Scope), ("POST", Route::ScopeFile)],
        },
        Path {
            pattern: "/api/officer/scope/{city}/{version}/acknowledge",
            methods: &[("POST", Route::ScopeAcknowledge)],
        },
        Path {
            pattern: "/api/officer/bulletins",
            methods: &[("GET", Route::Bulletins), ("POST", Route::BulletinGenerate)],
        },
        Path {
            pattern: "/api/officer/bulletins/{id}",
            methods: &[("GET", Route::Bulletin)],
        },
        Path {
            pattern: "/api/officer/bulletins/{id}/export",
            methods: &[("GET", Route::BulletinExport)],
        },
        Path {
            pattern: "/api/officer/bulletins/{id}/{action}",
            methods: &[("POST", Route::BulletinAct)],
        },
        Path {
            pattern: "/api/officer/exports",
            methods: &[("POST", Route::ExportStart)],
        },
        Path {
            pattern: "/api/officer/exports/{id}",
            methods: &[("GET", Route::Export)],
        },
        Path {
            pattern: "/api/officer/statistics",
            methods: &[("GET", Route::Statistics)],
        },
        Path {
            pattern: "/api/officer/surge",
            methods: &[("GET", Route::Surge)],
        },
    ],
};

/// The largest inbox page.
const MAX_PAGE: i32 = 100;

/// How many open clues of the county are compared for duplicate/merge candidates.
const CANDIDATE_POOL: i32 = 200;

impl<S: ClueStore, Q: NoticeQueue> App<S, Q> {
    /// Answers one officer request at `now`.
    pub async fn handle(&self, req: &Req, now: DateTime<Utc>) -> Resp {
        match self.route(req, now).await {
            Ok(resp) => resp,
            Err(e) => e.into_resp(),
        }
    }

    async fn route(&self, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let sub = officer::subject(&req.claims)?;
        let matched = ROUTES.route(&req.method, &req.path)?;
        let officer = officer::resolve(&self.store, &sub).await?;
        let store = &self.store;
        let o = &officer;
        match matched.route {
            Route::Me => self.me(o).await,
            Route::Inbox => self.inbox(o, req, now).await,
            Route::Clue => self.clue(o, &matched, now).await,
            Route::Evidence => self.evidence(o, &matched).await,
            Route::Act => self.act(o, &matched, req, now).await,
            Route::Preview => self.preview(o, &matched, req, now).await,
            Route::BureauOfficers => self.bureau_officers(o).await,
            Route::Reminders => reminders::list(store, o, req).await,
            Route::Reminder => reminders::one(store, o, matched.param("id")).await,
            Route::ReminderRead => reminders::read(store, o, matched.param("id"), now).await,
            Route::Binding => binding::show(store, o).await,
            Route::BindingIssue => binding::issue(store, o, now).await,
            Route::BindingRemove => binding::remove(store, o).await,
            Route::Calendar => calendar::show(store, o, now).await,
            Route::CalendarYear => {
                calendar::upload(store, o, matched.param("year"), &req.body, now).await
            }
            Route::Overdue => overdue::list(store, o, req).await,
            Route::Supervisions => supervision::list(store, o, req).await,
            Route::SuperviseDivision => supervision::supervise_division(store, o, req, now).await,
            Route::Scope => scope_filing::show(store, o, now).await,
            Route::ScopeFile => scope_filing::submit(store, o, req, now).await,
            Route::ScopeAcknowledge => {
                let (city, version) = (matched.param("city"), matched.param("version"));
                scope_filing::acknowledge(store, o, city, version, now).await
            }
            Route::Bulletins => bulletins::list(store, o).await,
            Route::BulletinGenerate => bulletins::generate(store, o, req, now).await,
            Route::Bulletin => bulletins::show(store, o, &matched, now).await,
            Route::BulletinExport => bulletins::download(store, o, &matched, req).await,
            Route::BulletinAct => bulletins::act(store, o, &matched, req, now).await,
            Route::ExportStart => exports::start(store, self.exports.as_ref(), o, req, now).await,
            Route::Export => {
                exports::show(store, self.exports.as_ref(), o, matched.param("id")).await
            }
            Route::Statistics => statistics::show(store, o, req, now).await,
            Route::Surge => surge::list(store, self.reporting.as_ref(), o, req).await,
        }
    }

    /// The current working-day calendar (uploaded years over the built-in ones, cached).
    async fn calendar(&self) -> Result<std::sync::Arc<WorkingCalendar>, ApiError> {
        self.store.calendar().await.map_err(store_error)
    }

    async fn me(&self, o: &Officer) -> Result<Resp, ApiError> {
        let unread = self.store.unread_reminders(o).await.map_err(store_error)?;
        let bureaus = self.store.bureaus().await.map_err(store_error)?;
        let bureau = bureaus.get(&o.bureau).map_err(|_| {
            ApiError::forbidden("no_bureau", "账号所属机关不在平台上，请联系管理员")
        })?;
        Ok(Resp::json(
            200,
            &officer::Me {
                sub: o.id.as_str(),
                bureau_id: o.bureau.as_str(),
                bureau_name: &bureau.name,
                bureau_level: bureau.level,
                roles: o.roles.iter().copied().collect(),
                unread_reminders: unread,
            },
        ))
    }

    /// The clue of a path, with the caller's access to it.
    async fn load(&self, o: &Officer, id: &str) -> Result<(StoredClue, Access), ApiError> {
        let id = ClueId::parse(id).map_err(|_| clue_not_found())?;
        let stored = match self.store.clue(&id).await {
            Ok(c) => c,
            Err(StoreError::NotFound(_)) => return Err(clue_not_found()),
            Err(e) => return Err(store_error(e)),
        };
        let bureaus = self.store.bureaus().await.map_err(store_error)?;
        match access::of(o, &stored.clue, &bureaus) {
            Access::None => Err(clue_not_found()),
            Access::Recused => Err(ApiError::forbidden("recused", "您已申请回避该线索")),
            a => Ok((stored, a)),
        }
    }

    async fn inbox(&self, o: &Officer, req: &Req, now: DateTime<Utc>) -> Result<Resp, ApiError> {
        let filters = InboxFilters::parse(req)?;
        let bureaus = self.store.bureaus().await.map_err(store_error)?;
        let bureau_id = match req.query("bureau") {
            None => o.bureau.clone(),
            Some(b) => BureauId::parse(b).map_err(|_| ApiError::not_found("bureau_not_found"))?,
        };
        let bureau = bureaus
            .get(&bureau_id)
            .map_err(|_| ApiError::not_found("bureau_not_found"))?;
        if !access::reads_bureau(o, bureau, &bureaus) {
            return Err(ApiError::not_found("bureau_not_found"));
        }
        let limit = match req.query("limit") {
            None => 20,
            Some(l) => l
                .parse::<i32>()
                .ok()
                .filter(|l| (1..=MAX_PAGE).contains(l))
                .ok_or_else(|| ApiError::bad_request("invalid_limit", "每页条数应为 1–100"))?,
        };
        let cursor = req.query("cursor").map(Cursor::from_text);
        let page = self
            .store
            .inbox(&bureau_id, filters.state, PageRequest { limit, cursor })
            .await
            .map_err(|e| match e {
                StoreError::Invalid(_) => ApiError::bad_request("invalid_cursor", "分页位置无效"),
                e => store_error(e),
            })?;
        let counts = self
            .store
            .inbox_counts(&bureau_id)
            .await
            .map_err(store_error)?;
        let cal = self.calendar().await?;
        let items: Vec<Value> = page
            .items
            .iter()
            .map(|s| &s.clue)
            .filter(|c| !c.recused.contains(&o.id) && filters.keep(c, now))
            .map(|c| views::row(c, now, &cal))
            .collect();
        Ok(Resp::json(
            200,
            &json!({
                "bureau_id": bureau_id.as_str(),
                "state": filters.state,
                "items": items,
                "next_cursor": page.next.as_ref().map(Cursor::as_str),
                "counts": counts,
            }),
        ))
    }

    async fn clue(
        &self,
        o: &Officer,
        m: &Matched<Route>,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let (stored, access) = self.load(o, m.param("id")).await?;
        let clue = &stored.clue;
        let bureaus = self.store.bureaus().await.map_err(store_error)?;
        let cal = self.calendar().await?;
        let mut v = views::detail(clue, now, &cal, &bureaus);
        let timeline = self.store.timeline(&clue.id).await.map_err(store_error)?;
        let verdict = match self.store.verify_timeline(&clue.id).await {
            Ok(head) => json!({"verified": true, "seq": head.seq}),
            Err(StoreError::Tampered { .. }) => json!({"verified": false}),
            Err(e) => return Err(store_error(e)),
        };
        let masked = match self.store.masked_identity(&clue.id).await {
            Ok(m) => Some(m),
            Err(StoreError::NotFound(_)) => None,
            Err(e) => return Err(store_error(e)),
        };
        let messages = self.store.messages(&clue.id).await.map_err(store_error)?;
        let candidates = if clue.state.is_open() && access == Access::Handle {
            self.candidates(clue).await?
        } else {
            Vec::new()
        };
        let extra = json!({
            "access": if access == Access::Handle { "handle" } else { "read" },
            "evidence": clue.evidence.iter().map(|e| json!({
                "attachment_id": e.attachment.as_str(),
                "sha256": e.sha256,
                "content_type": e.content_type,
                "size": e.size,
            })).collect::<Vec<_>>(),
            "identity": masked.map(|m| json!({
                "name": m.name, "phone": m.phone, "id_number": m.id_number,
            })),
            "timeline": timeline.iter().map(|t| json!({
                "seq": t.seq,
                "hash": t.hash,
                "at": t.event.at,
                "type": t.event.kind.code(),
                "actor": actor_view(&t.event.actor),
                "event": t.event.kind,
            })).collect::<Vec<_>>(),
            "timeline_verification": verdict,
            "messages": messages.iter().map(|m| json!({
                "seq": m.seq, "at": m.at, "from": m.from, "text": m.text,
            })).collect::<Vec<_>>(),
            "candidates": candidates,
            "actions": allowed_actions(o, clue, access),
        });
        if let (Value::Object(base), Value::Object(more)) = (&mut v, extra) {
            base.extend(more);
        }
        Ok(Resp::json(200, &v))
    }

    /// The ranked duplicate (same reporter) and merge (other reporter) candidates among the
    /// open clues of the handling bureau in the clue's county.
    async fn candidates(&self, clue: &Clue) -> Result<Vec<Value>, ApiError> {
        let as_candidate = |c: &Clue| CandidateClue {
            clue_id: c.id.as_str().to_owned(),
            reporter: c.reporter.as_str().to_owned(),
            division: c.location.division,
            address: c.location.address.as_str().to_owned(),
            subject: c.subject.as_ref().map(|s| s.as_str().to_owned()),
            facts: c.facts.as_str().to_owned(),
            received_at: c.received_at,
        };
        let mut pool: Vec<Clue> = Vec::new();
        for state in ["received", "accepted", "escalated"] {
            let page = self
                .store
                .inbox(
                    &clue.handler,
                    state,
                    PageRequest {
                        limit: CANDIDATE_POOL,
                        cursor: None,
                    },
                )
                .await
                .map_err(store_error)?;
            pool.extend(
                page.items
                    .into_iter()
                    .map(|s| s.clue)
                    .filter(|c| c.location.division == clue.location.division),
            );
        }
        let open: Vec<CandidateClue> = pool.iter().map(as_candidate).collect();
        let ranked = rank_candidates(&as_candidate(clue), &open, RankOptions::default());
        Ok(ranked
            .into_iter()
            .filter_map(|c| {
                let other = pool.iter().find(|p| p.id.as_str() == c.clue_id)?;
                Some(json!({
                    "clue_id": c.clue_id,
                    "clue_no": other.clue_no.as_str(),
                    "kind": c.kind,
                    "score": c.score,
                    "reasons": c.reasons.iter().map(|r| r.describe_zh()).collect::<Vec<_>>(),
                    "state": other.state.code(),
                    "received_on": other.received_on(),
                    "address": other.location.address.as_str(),
                    "subject": other.subject.as_ref().map(|s| s.as_str()),
                    "facts": other.facts.as_str(),
                }))
            })
            .collect())
    }

    async fn evidence(&self, o: &Officer, m: &Matched<Route>) -> Result<Resp, ApiError> {
        let (stored, _) = self.load(o, m.param("id")).await?;
        let wanted = m.param("attachment");
        let evidence = stored
            .clue
            .evidence
            .iter()
            .find(|e| e.attachment.as_str() == wanted)
            .ok_or_else(|| ApiError::not_found("evidence_not_found"))?;
        let bucket = self.evidence.as_ref().ok_or_else(ApiError::unavailable)?;
        let check = bucket.check(evidence).await.map_err(|e| {
            tracing::error!(error = %e, "evidence check failed");
            ApiError::unavailable()
        })?;
        Ok(Resp::json(
            200,
            &json!({
                "attachment_id": wanted,
                "sha256": evidence.sha256,
                "content_type": evidence.content_type,
                "check": check,
            }),
        ))
    }

    async fn bureau_officers(&self, o: &Officer) -> Result<Resp, ApiError> {
        let officers = self
            .store
            .bureau_officers(&o.bureau)
            .await
            .map_err(store_error)?;
        // Whether each account is active (a bureau has a handful of officers: one read each).
        let mut items = Vec::with_capacity(officers.len());
        for x in &officers {
            let active = matches!(
                self.store.officer_account_state(&x.id).await,
                Ok(Some((_, true)))
            );
            items.push(json!({"id": x.id.as_str(), "roles": x.roles, "active": active}));
        }
        Ok(Resp::json(200, &json!({ "items": items })))
    }

    /// The action of a request on a clue the caller may act on, checked against who the
    /// caller is, parsed and completed with the clues and officers it refers to.
    async fn build(
        &self,
        o: &Officer,
        clue: &Clue,
        access: Access,
        action: Action,
        body: &Value,
    ) -> Result<Built, ApiError> {
        match (action.by_supervisor(), access) {
            (false, Access::Handle) | (true, Access::Read) => {}
            (false, _) => {
                return Err(ApiError::forbidden(
                    "not_handling_bureau",
                    "本机关不是该线索的办理机关",
                ));
            }
            (true, _) => {
                return Err(ApiError::forbidden(
                    "not_supervisor",
                    "只有上级机关可以督办",
                ));
            }
        }
        if action.needs_leader() && !access::is_leader(o) {
            return Err(ApiError::forbidden(
                "missing_role",
                "此操作须由本机关负责人执行",
            ));
        }
        let parsed = actions::parse(action, body)?;
        Ok(Built::Command(match parsed {
            Parsed::Command(c) => c,
            Parsed::Duplicate { earlier, note } => {
                let (other, _) = self.load(o, earlier.as_str()).await?;
                domain::Command::Judge {
                    judgment: domain::command::JudgmentRequest::Duplicate {
                        earlier: Box::new(other.clue.summary()),
                    },
                    note,
                }
            }
            Parsed::Merge { primary, reason } => {
                let (other, _) = self.load(o, primary.as_str()).await?;
                domain::Command::Merge {
                    primary: Box::new(other.clue.summary()),
                    reason: Some(reason),
                }
            }
            Parsed::Unmerge { reason } => {
                let domain::ClueState::Merged { primary } = &clue.state else {
                    return Err(ApiError::new(
                        409,
                        "not_allowed_in_state",
                        "线索当前状态不允许此操作",
                    ));
                };
                let (primary, _) = self.load(o, primary.as_str()).await?;
                domain::Command::Unmerge {
                    primary: Box::new(primary.clue.summary()),
                    reason,
                }
            }
            Parsed::Assign { officer } => {
                let assignee = match self.store.officer_account_state(&officer).await {
                    Ok(Some((a, true))) => a,
                    Ok(_) => {
                        return Err(ApiError::new(
                            422,
                            "bad_assignee",
                            "承办人须为本机关在职办理人员",
                        ));
                    }
                    Err(e) => return Err(store_error(e)),
                };
                domain::Command::Assign { officer: assignee }
            }
            Parsed::Block { block, reason } => return Ok(Built::Block { block, reason }),
        }))
    }

    /// What an action would decide, without storing anything: the events and the exact notice
    /// texts the reporters would receive (the console shows them before the officer sends).
    async fn preview(
        &self,
        o: &Officer,
        m: &Matched<Route>,
        req: &Req,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let action =
            Action::parse(m.param("action")).ok_or_else(|| ApiError::not_found("no_route"))?;
        let (stored, access) = self.load(o, m.param("id")).await?;
        let body = actions::body(req)?;
        let Built::Command(command) = self.build(o, &stored.clue, access, action, &body).await?
        else {
            return Ok(Resp::json(200, &json!({"events": [], "notices": []})));
        };
        let bureaus = self.store.bureaus().await.map_err(store_error)?;
        let cal = self.calendar().await?;
        let rules = domain::command::Rules {
            calendar: &cal,
            bureaus: &bureaus,
            divisions: domain::Divisions::embedded(),
        };
        let actor = Actor::Officer { officer: o.clone() };
        let events = stored
            .clue
            .decide(&command, &actor, now, &rules)
            .map_err(|e| errors::domain_error(&e))?;
        Ok(Resp::json(200, &outcome_json(&events)))
    }

    async fn act(
        &self,
        o: &Officer,
        m: &Matched<Route>,
        req: &Req,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let action =
            Action::parse(m.param("action")).ok_or_else(|| ApiError::not_found("no_route"))?;
        let (stored, access) = self.load(o, m.param("id")).await?;
        let clue = &stored.clue;
        let (body, version, key) = actions::envelope(req, o)?;
        let command = match self.build(o, clue, access, action, &body).await? {
            Built::Command(c) => c,
            Built::Block { block, reason } => return self.block(o, clue, block, reason, now).await,
        };
        let actor = Actor::Officer { officer: o.clone() };
        if let domain::Command::RevealIdentity { reason } = command {
            return self.reveal(o, clue, reason, now, &key).await;
        }
        let version =
            version.ok_or_else(|| ApiError::bad_request("version_required", "缺少线索版本号"))?;
        let outcome = match self
            .store
            .execute_if_version(&clue.id, Some(version), command, &actor, now, &key)
            .await
        {
            Ok(out) => out,
            Err(StoreError::Conflict) => return Err(self.stale(&clue.id).await),
            Err(e) => return Err(store_error(e)),
        };
        // Queued after the commit; a failure leaves them in the outbox for the sweep.
        enqueue_after_commit(&self.notices, outcome.notices()).await;
        // The clue after the action: its events applied to the version read (a retry's
        // stored answer may be older than that read, so it is read again).
        let after = if outcome.replayed {
            self.store.clue(&clue.id).await.map_err(store_error)?.clue
        } else {
            let mut after = clue.clone();
            match after.apply(&outcome.events) {
                Ok(()) => after,
                Err(_) => self.store.clue(&clue.id).await.map_err(store_error)?.clue,
            }
        };
        let mut body = outcome_json(&outcome.events);
        let cal = self.calendar().await?;
        body["clue"] = views::row(&after, now, &cal);
        body["version"] = json!(outcome.version);
        body["replayed"] = json!(outcome.replayed);
        Ok(Resp::json(200, &body))
    }

    /// 409 `stale_version` with the clue's current state and version.
    async fn stale(&self, id: &ClueId) -> ApiError {
        let mut e = ApiError::new(409, "stale_version", "线索已被他人修改，请刷新后重试");
        if let Ok(now) = self.store.clue(id).await {
            e.message = format!(
                "线索已被他人修改（当前状态：{}，版本 {}），请刷新后重试",
                now.clue.state.label(),
                now.clue.version
            );
        }
        e
    }

    async fn reveal(
        &self,
        o: &Officer,
        clue: &Clue,
        reason: domain::text::Reason,
        now: DateTime<Utc>,
        key: &store::IdempotencyKey,
    ) -> Result<Resp, ApiError> {
        let identity = self
            .store
            .reveal(&clue.id, o, reason, now, key)
            .await
            .map_err(store_error)?;
        tracing::info!(clue = %clue.id, officer = %o.id, "identity revealed (audited on the timeline)");
        // The openid is the platform's address of the reporter, never an officer's business.
        Ok(Resp::json(
            200,
            &json!({
                "name": identity.name,
                "phone": identity.phone,
                "id_number": identity.id_number,
            }),
        )
        .with_header("cache-control", "no-store"))
    }

    async fn block(
        &self,
        o: &Officer,
        clue: &Clue,
        block: bool,
        reason: domain::text::Reason,
        now: DateTime<Utc>,
    ) -> Result<Resp, ApiError> {
        let reporting = self.reporting.as_ref().ok_or_else(ApiError::unavailable)?;
        let result = if block {
            reporting
                .block(&Block {
                    reporter: clue.reporter.clone(),
                    reason,
                    by: o.id.as_str().to_owned(),
                    at: now,
                })
                .await
        } else {
            reporting
                .unblock(&clue.reporter, reason, o.id.as_str(), now)
                .await
        };
        match result {
            Ok(()) => Ok(Resp::json(
                200,
                &json!({"blocked": block, "clue_id": clue.id.as_str()}),
            )),
            Err(StoreError::NotFound(_)) => {
                Err(ApiError::new(409, "not_blocked", "该举报人不在限制名单中"))
            }
            Err(e) => Err(store_error(e)),
        }
    }
}

/// A decided action's events and the notices it owes, as the API shows them.
fn outcome_json(events: &[domain::Event]) -> Value {
    json!({
        "events": events.iter().map(|e| json!({
            "clue_id": e.clue.as_str(), "type": e.kind.code(),
        })).collect::<Vec<_>>(),
        "notices": events.iter().filter_map(|e| match &e.kind {
            domain::EventKind::NoticeOwed { notice } => Some(json!({
                "clue_id": e.clue.as_str(),
                "notice_id": notice.id.as_str(),
                "key": notice.key(),
                "text": notice.text,
            })),
            _ => None,
        }).collect::<Vec<_>>(),
    })
}

/// What a request asks for once checked: a domain command, or a block-list change.
enum Built {
    Command(domain::Command),
    Block {
        block: bool,
        reason: domain::text::Reason,
    },
}

/// What the caller may ask for on `clue` now: the console shows these forms and no others (the
/// server refuses the others anyway).
fn allowed_actions(o: &Officer, clue: &Clue, access: Access) -> Vec<&'static str> {
    let open = clue.state.is_open();
    let leader = access::is_leader(o);
    let mut out = Vec::new();
    let supervision = clue.open_supervision();
    if access == Access::Read {
        if open && (o.has(domain::Role::Supervisor) || leader) {
            match supervision {
                None => out.push(Action::Supervise.name()),
                Some(s) if s.by == o.bureau => out.push(Action::SupervisionClose.name()),
                Some(_) => {}
            }
        }
        return out;
    }
    let state = clue.state.code();
    let mut push = |a: Action, when: bool| {
        if when && (!a.needs_leader() || leader) {
            out.push(a.name());
        }
    };
    push(Action::Judge, state == "received");
    push(
        Action::Escalate,
        (state == "received" && !clue.designated) || state == "escalated",
    );
    push(Action::Designate, state == "escalated");
    push(Action::Merge, open && clue.members.is_empty());
    push(
        Action::Unmerge,
        matches!(clue.state, domain::ClueState::Merged { .. }),
    );
    push(Action::Verify, state == "accepted");
    push(Action::Transfer, state == "received" || state == "accepted");
    push(
        Action::Message,
        !matches!(clue.state, domain::ClueState::Closed { .. }),
    );
    push(Action::MessagesRead, clue.unread_messages() > 0);
    push(Action::SupervisionAnswer, open && supervision.is_some());
    push(Action::Recuse, open);
    push(Action::Assign, open);
    push(Action::Reveal, true);
    push(Action::Block, true);
    push(Action::Unblock, true);
    out
}

fn actor_view(actor: &Actor) -> Value {
    match actor {
        Actor::Reporter { .. } => json!({"type": "reporter"}),
        Actor::Officer { officer } => json!({
            "type": "officer", "officer_id": officer.id.as_str(), "bureau_id": officer.bureau.as_str(),
        }),
        Actor::System => json!({"type": "system"}),
    }
}

/// The inbox filters of a request.
struct InboxFilters {
    state: &'static str,
    category: Option<String>,
    division: Option<String>,
    channel: Option<String>,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
    overdue: bool,
}

impl InboxFilters {
    fn parse(req: &Req) -> Result<Self, ApiError> {
        let state = match req.query("state") {
            None => "received",
            Some(s) => INBOX_STATES
                .into_iter()
                .find(|k| *k == s)
                .ok_or_else(|| ApiError::bad_request("invalid_state", "状态无效"))?,
        };
        let date = |name: &str| -> Result<Option<NaiveDate>, ApiError> {
            req.query(name)
                .map(|d| {
                    NaiveDate::parse_from_str(d, "%Y-%m-%d").map_err(|_| {
                        ApiError::bad_request("invalid_date", "日期格式应为 YYYY-MM-DD")
                    })
                })
                .transpose()
        };
        let channel = req.query("channel").map(str::to_owned);
        if channel.as_deref().is_some_and(|c| c != "h5" && c != "chat") {
            return Err(ApiError::bad_request("invalid_channel", "渠道无效"));
        }
        let division = req.query("division").map(str::to_owned);
        if division
            .as_deref()
            .is_some_and(|d| domain::DivisionCode::parse(d).is_err())
        {
            return Err(ApiError::bad_request(
                "invalid_division",
                "行政区划代码无效",
            ));
        }
        Ok(Self {
            state,
            category: req.query("category").map(str::to_owned),
            division,
            channel,
            from: date("from")?,
            to: date("to")?,
            overdue: req.query("overdue") == Some("true"),
        })
    }

    fn keep(&self, c: &Clue, now: DateTime<Utc>) -> bool {
        let received = shanghai_date(c.received_at);
        self.category
            .as_deref()
            .is_none_or(|k| c.category.stat_code() == k)
            && self.division.as_deref().is_none_or(|d| {
                domain::DivisionCode::parse(d).is_ok_and(|d| d.contains(&c.location.division))
            })
            && self.channel.as_deref().is_none_or(|ch| {
                matches!(
                    (ch, c.channel),
                    ("h5", domain::event::Channel::H5) | ("chat", domain::event::Channel::Chat)
                )
            })
            && self.from.is_none_or(|f| received >= f)
            && self.to.is_none_or(|t| received <= t)
            && (!self.overdue || c.open_deadlines().any(|d| d.is_overdue(now)))
    }
}
