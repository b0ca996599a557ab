//! One way to file a clue, for both channels (H5 form, guided chat): refuse a blocked reporter
//! or one over their rate limit visibly (art. 19), resolve the attachments (this reporter's,
//! ready), store the clue through the store (routing, vault, consent version, receipt notice:
//! one transaction), queue the receipt notice, and mark a clue of a county's surge for review.

use chrono::{DateTime, Duration, Utc};
use domain::event::{Channel, Evidence, Gps, Location};
use domain::scope::{CategoryChoice, ScopeError};
use domain::text::{Address, Facts, Subject};
use domain::{AttachmentId, ClueId, DivisionCode, DomainError};
use outbox::NoticeQueue;
use sha2::{Digest, Sha256};
use store::{
    AttachmentStatus, ClueStore, IdempotencyKey, RateLimit, Received, ReporterIdentity,
    ReporterKeys, StoreError, Submission,
};

use crate::App;
use crate::http::ApiError;
use crate::ports::{MediaQueue, Side};

/// The most attachments one clue carries.
pub const MAX_ATTACHMENTS: usize = 20;

/// Per-reporter limits on new clues (art. 19). A resubmission counts too. There is no
/// per-county limit: a surge in a county is marked for review, never refused ([`crate::surge`]).
pub const LIMITS: [RateLimit; 2] = [
    RateLimit {
        name: "reporter_hour",
        max: 5,
        window: Duration::hours(1),
    },
    RateLimit {
        name: "reporter_day",
        max: 20,
        window: Duration::days(1),
    },
];

/// A report, validated, from either channel.
#[derive(Debug, Clone)]
pub struct Report {
    pub division: DivisionCode,
    pub address: Address,
    pub gps: Option<Gps>,
    pub subject: Option<Subject>,
    pub category: CategoryChoice,
    pub facts: Facts,
    pub attachments: Vec<AttachmentId>,
    /// Files sent that are not among the attachments, and why (guided-chat photos).
    pub evidence_left_out: Vec<domain::event::EvidenceLeftOut>,
    pub notice_version: String,
    pub consent: bool,
    pub channel: Channel,
    pub resubmission_of: Option<ClueId>,
}

/// The clue id a request key stands for: the same request always names the same clue, so a
/// retried request replays instead of creating another.
pub fn clue_id_for(key: &IdempotencyKey) -> ClueId {
    let h = hex::encode(Sha256::digest(key.as_str().as_bytes()));
    ClueId::parse(&format!("c{}", &h[..31])).unwrap_or_else(|_| unreachable!("hex is an id"))
}

/// Maps a store refusal to the reporter's answer; unexpected failures are logged by code only.
pub fn store_error(e: &StoreError) -> ApiError {
    match e {
        StoreError::Domain(DomainError::Scope(ScopeError::StaleNotice(_)))
        | StoreError::Domain(DomainError::WrongCityNotice) => ApiError::new(
            409,
            "stale_notice",
            "该地区的《举报说明》已更新，请重新阅读并同意后提交",
        ),
        StoreError::Domain(DomainError::Scope(ScopeError::UnknownCategory(_))) => {
            ApiError::bad_request("unknown_category", "违法类型不在该地区的接收范围内")
        }
        StoreError::Domain(DomainError::ConsentRequired) => {
            ApiError::bad_request("consent_required", "请先阅读并同意《举报说明》")
        }
        StoreError::Domain(DomainError::NotReportableLocation(_)) => ApiError::bad_request(
            "not_reportable_location",
            "请选择县级行政区作为违法行为发生地",
        ),
        StoreError::Domain(DomainError::AlreadyResubmitted) => {
            ApiError::new(409, "already_resubmitted", "该线索已重新提交过")
        }
        StoreError::Domain(DomainError::NotTheReporter) | StoreError::NotFound(_) => {
            ApiError::not_found("clue_not_found")
        }
        StoreError::Domain(d) => ApiError::new(422, d.code(), "该操作不被允许"),
        StoreError::Conflict | StoreError::IdempotencyMismatch => {
            ApiError::new(409, "conflict", "请求冲突，请刷新后重试")
        }
        other => {
            tracing::error!(code = other.code(), error = %other, "store call failed");
            ApiError::unavailable()
        }
    }
}

impl<S, R, Q, M> App<S, R, Q, M>
where
    S: ClueStore,
    R: Side,
    Q: NoticeQueue,
    M: MediaQueue,
{
    /// Refuses a blocked reporter, visibly, and counts the attempt for the bureau (art. 19).
    ///
    /// # Errors
    /// 403 `reporter_blocked`.
    pub async fn check_block(
        &self,
        reporter: &ReporterKeys,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        // A block made under an earlier version of the reporter-key secret still holds.
        let mut blocked = None;
        for key in reporter.all() {
            match self.side.block_of(key).await {
                Ok(None) => {}
                Ok(Some(_)) => {
                    blocked = Some(key);
                    break;
                }
                Err(e) => return Err(store_error(&e)),
            }
        }
        match blocked {
            None => Ok(()),
            Some(key) => Err({
                if let Err(e) = self.side.note_blocked_attempt(key, now).await {
                    tracing::warn!(
                        code = e.code(),
                        "a blocked reporter's attempt was not counted"
                    );
                }
                ApiError::new(
                    403,
                    "reporter_blocked",
                    "您的举报功能已被暂停。如有疑问，请拨打12336咨询。",
                )
            }),
        }
    }

    /// The evidence of `ids`: each must be this reporter's and processed.
    ///
    /// # Errors
    /// 400 `attachment_not_found` (unknown or another reporter's), `attachment_rejected`,
    /// 409 `attachment_pending`, 400 `too_many_attachments`.
    pub async fn evidence(
        &self,
        reporter: &ReporterKeys,
        ids: &[AttachmentId],
    ) -> Result<Vec<Evidence>, ApiError> {
        if ids.len() > MAX_ATTACHMENTS {
            return Err(ApiError::bad_request(
                "too_many_attachments",
                format!("证据材料最多{MAX_ATTACHMENTS}个"),
            ));
        }
        let mut out: Vec<Evidence> = Vec::with_capacity(ids.len());
        for id in ids {
            if out.iter().any(|e| &e.attachment == id) {
                continue;
            }
            let a = self
                .side
                .attachment(id)
                .await
                .map_err(|e| store_error(&e))?;
            let Some(a) = a.filter(|a| reporter.holds(&a.owner)) else {
                return Err(ApiError::bad_request(
                    "attachment_not_found",
                    "证据材料不存在，请重新上传",
                ));
            };
            match (&a.status, a.evidence()) {
                (_, Some(e)) => out.push(e),
                (AttachmentStatus::Pending, _) => {
                    return Err(ApiError::new(
                        409,
                        "attachment_pending",
                        "证据材料仍在检查中，请稍后再提交",
                    ));
                }
                _ => {
                    return Err(ApiError::bad_request(
                        "attachment_rejected",
                        "有证据材料未通过检查，请删除后重新提交",
                    ));
                }
            }
        }
        Ok(out)
    }

    /// Files the report: block list, attachments, rate limits, then one store receipt and the
    /// receipt notice queued. A refusal stores nothing and gives back what it counted.
    ///
    /// # Errors
    /// An [`ApiError`] the reporter sees.
    pub async fn file(
        &self,
        report: Report,
        identity: ReporterIdentity,
        key: &IdempotencyKey,
        now: DateTime<Utc>,
    ) -> Result<Received, ApiError> {
        let keys = self.keyer.keys(&identity.openid);
        let reporter = keys.current();
        self.check_block(&keys, now).await?;
        let evidence = self.evidence(&keys, &report.attachments).await?;
        self.precheck(&keys, &report, now).await?;
        let mut taken: Vec<(RateLimit, String)> = Vec::new();
        for limit in LIMITS {
            // What was counted under earlier versions of the reporter-key secret still counts.
            let (limit, left) = match self.earlier_use(&limit, &keys, now).await {
                Ok(used) => {
                    let left = limit.max.saturating_sub(used);
                    (RateLimit { max: left, ..limit }, left)
                }
                Err(e) => {
                    self.give_back(&taken, now).await;
                    return Err(store_error(&e));
                }
            };
            let allowed = if left == 0 {
                Ok(false)
            } else {
                self.side.take(&limit, reporter.as_str(), now).await
            };
            match allowed {
                Ok(true) => taken.push((limit, reporter.as_str().to_owned())),
                Ok(false) => {
                    self.give_back(&taken, now).await;
                    return Err(ApiError::new(
                        429,
                        "rate_limited",
                        "您的举报提交过于频繁，请稍后再试。您的举报尚未提交。",
                    ));
                }
                Err(e) => {
                    self.give_back(&taken, now).await;
                    return Err(store_error(&e));
                }
            }
        }
        // The county's count: over the surge line the clue is filed all the same, and marked.
        let division = report.division;
        let counter = self.surge.counter();
        let surge = match self.side.take(&counter, division.as_str(), now).await {
            Ok(true) => {
                taken.push((counter, division.as_str().to_owned()));
                false
            }
            Ok(false) => true,
            Err(e) => {
                tracing::warn!(
                    code = e.code(),
                    "the county's surge counter was not counted"
                );
                false
            }
        };
        let submission = Submission {
            clue_id: clue_id_for(key),
            location: Location {
                division: report.division,
                address: report.address,
                gps: report.gps,
            },
            subject: report.subject,
            category: report.category,
            facts: report.facts,
            evidence,
            evidence_left_out: report.evidence_left_out,
            notice_version: report.notice_version,
            consent: report.consent,
            channel: report.channel,
            resubmission_of: report.resubmission_of,
        };
        match self.store.receive(submission, identity, now, key).await {
            Ok(received) => {
                if received.replayed {
                    self.give_back(&taken, now).await;
                } else {
                    tracing::info!(clue_no = %received.clue_no, channel = ?report.channel, "clue received");
                }
                if surge {
                    self.mark_surge(&received, &division, now).await;
                }
                outbox::enqueue_after_commit(&self.notices, received.notices()).await;
                Ok(received)
            }
            Err(e) => {
                self.give_back(&taken, now).await;
                Err(store_error(&e))
            }
        }
    }

    /// Marks a clue filed during a surge for the bureau's review and logs the alarm's metric
    /// (a line of its own on stdout, as CloudWatch Logs reads the embedded metric format). A
    /// failed mark is logged; the metric still raises the alarm.
    async fn mark_surge(&self, received: &Received, division: &DivisionCode, now: DateTime<Utc>) {
        if let Err(e) = self
            .side
            .mark_surge(&received.clue_id, &received.clue_no, division, now)
            .await
        {
            tracing::error!(code = e.code(), clue_no = %received.clue_no, "a surge clue was not marked for review");
        }
        println!("{}", self.surge.metric_line(division, now));
    }

    /// What can be refused before anything is counted: the notice version in force, and that a
    /// resubmitted clue is this reporter's (the store decides both again in its transaction).
    async fn precheck(
        &self,
        reporter: &ReporterKeys,
        report: &Report,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        if let Some(city) = report.division.city() {
            let history = self
                .store
                .scope_history(city)
                .await
                .map_err(|e| store_error(&e))?;
            if history.in_force(now).reporting_notice().version_id != report.notice_version {
                return Err(store_error(&StoreError::Domain(DomainError::Scope(
                    ScopeError::StaleNotice(report.notice_version.clone()),
                ))));
            }
        }
        if let Some(old) = &report.resubmission_of {
            match self.store.clue(old).await {
                Ok(c) if reporter.holds(&c.clue.reporter) => {}
                Ok(_) | Err(StoreError::NotFound(_)) => {
                    return Err(ApiError::not_found("clue_not_found"));
                }
                Err(e) => return Err(store_error(&e)),
            }
        }
        Ok(())
    }

    /// What `limit` counted in its current window under the reporter's keys of earlier versions.
    async fn earlier_use(
        &self,
        limit: &RateLimit,
        keys: &ReporterKeys,
        now: DateTime<Utc>,
    ) -> Result<u32, StoreError> {
        let mut used = 0u32;
        for key in keys.previous() {
            used = used.saturating_add(self.side.used(limit, key.as_str(), now).await?);
        }
        Ok(used)
    }

    async fn give_back(&self, taken: &[(RateLimit, String)], now: DateTime<Utc>) {
        for (limit, subject) in taken {
            if let Err(e) = self.side.give_back(limit, subject, now).await {
                tracing::warn!(code = e.code(), "rate counter not given back");
            }
        }
    }
}
