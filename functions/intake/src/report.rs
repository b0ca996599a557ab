//! One way to file a clue, for both channels (H5 form, guided chat): refuse a blocked reporter
//! or one over their rate limit visibly (art. 19), resolve the attachments (this reporter's,
//! ready), store the clue through the store (routing, vault, consent version, receipt notice:
//! one transaction), queue the receipt notice, and mark a clue of a county's surge for review.

use chrono::{DateTime, Duration, Utc};
use domain::event::Evidence;
use domain::report::{self, AttachmentStanding, NamedAttachment, Report, ReportError};
use domain::scope::ScopeError;
use domain::{AttachmentId, ClueId, DivisionCode, DomainError};
use outbox::NoticeQueue;
use sha2::{Digest, Sha256};
use store::{
    AttachmentStatus, ClueStore, IdempotencyKey, RateLimit, Received, ReporterIdentity,
    ReporterKeys, StoreError, Submission,
};

use crate::Reporting;
use crate::http::ApiError;
use crate::ports::{MediaQueue, Side};

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

/// The clue id a request key stands for: the same request always names the same clue, so a
/// retried request replays instead of creating another.
pub fn clue_id_for(key: &IdempotencyKey) -> ClueId {
    let h = hex::encode(Sha256::digest(key.as_str().as_bytes()));
    ClueId::parse(&format!("c{}", &h[..31])).unwrap_or_else(|_| unreachable!("hex is an id"))
}

/// The reporting rules' refusals as API errors: the one table of their statuses (the code and
/// the reporter's message are the domain's).
pub fn report_error(e: &ReportError) -> ApiError {
    let status = match e {
        ReportError::StaleNotice | ReportError::AttachmentPending => 409,
        ReportError::ClueNotFound => 404,
        ReportError::UnknownDivision
        | ReportError::Text(_)
        | ReportError::InvalidGps
        | ReportError::GpsOutsideDivision(_)
        | ReportError::UnknownCategory
        | ReportError::ConsentRequired
        | ReportError::Identity(_)
        | ReportError::TooManyAttachments
        | ReportError::AttachmentNotFound
        | ReportError::AttachmentRejected => 400,
    };
    ApiError::new(status, e.code(), e.reporter_message())
}

/// Maps a store refusal to the reporter's answer; unexpected failures are logged by code only.
pub fn store_error(e: &StoreError) -> ApiError {
    match e {
        StoreError::Domain(DomainError::Scope(ScopeError::StaleNotice(_)))
        | StoreError::Domain(DomainError::WrongCityNotice) => {
            report_error(&ReportError::StaleNotice)
        }
        StoreError::Domain(DomainError::Scope(ScopeError::UnknownCategory(_))) => {
            ApiError::bad_request("unknown_category", "违法类型不在该地区的接收范围内")
        }
        StoreError::Domain(DomainError::ConsentRequired) => {
            report_error(&ReportError::ConsentRequired)
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

impl<S, R, Q, M> Reporting<S, R, Q, M>
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

    /// The evidence of `ids` under the domain's rules ([`domain::report::evidence`]): each must
    /// be this reporter's (under any live key version) and processed, at most
    /// [`domain::report::MAX_ATTACHMENTS`].
    ///
    /// # Errors
    /// 400 `attachment_not_found` (unknown or another reporter's), `attachment_rejected`,
    /// 409 `attachment_pending`, 400 `too_many_attachments`.
    pub async fn evidence(
        &self,
        reporter: &ReporterKeys,
        ids: &[AttachmentId],
    ) -> Result<Vec<Evidence>, ApiError> {
        report::check_attachment_count(ids.len()).map_err(|e| report_error(&e))?;
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
            // An attachment uploaded under an earlier key version is still this reporter's.
            let named = a.map(|a| NamedAttachment {
                standing: match (a.evidence(), &a.status) {
                    (Some(e), _) => AttachmentStanding::Ready(e),
                    (None, AttachmentStatus::Pending) => AttachmentStanding::Pending,
                    (None, _) => AttachmentStanding::Rejected,
                },
                owner: if reporter.holds(&a.owner) {
                    reporter.current().clone()
                } else {
                    a.owner
                },
            });
            out.push(report::evidence(reporter.current(), named).map_err(|e| report_error(&e))?);
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
        attachments: &[AttachmentId],
        identity: ReporterIdentity,
        key: &IdempotencyKey,
        now: DateTime<Utc>,
    ) -> Result<Received, ApiError> {
        let keys = self.keyer.keys(&identity.openid);
        let reporter = keys.current();
        self.check_block(&keys, now).await?;
        let evidence = self.evidence(&keys, attachments).await?;
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
        let division = report.location.division;
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
        let channel = report.channel;
        let submission = Submission {
            clue_id: clue_id_for(key),
            report,
            evidence,
        };
        // The evidence is kept from the never-attached expiry before the clue names it.
        let kept: Vec<AttachmentId> = submission
            .evidence
            .iter()
            .map(|e| e.attachment.clone())
            .collect();
        if !kept.is_empty()
            && let Err(e) = self.media.keep(&kept).await
        {
            tracing::error!(error = %e, "evidence could not be kept; the filing is refused for a retry");
            self.give_back(&taken, now).await;
            return Err(ApiError::unavailable());
        }
        match self.store.receive(submission, identity, now, key).await {
            Ok(received) => {
                if received.replayed {
                    self.give_back(&taken, now).await;
                } else {
                    tracing::info!(clue_no = %received.clue_no, ?channel, "clue received");
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
        if let Some(city) = report.location.division.city() {
            let history = self
                .store
                .scope_history(city)
                .await
                .map_err(|e| store_error(&e))?;
            if history.in_force(now).reporting_notice().version_id != report.notice_version {
                return Err(report_error(&ReportError::StaleNotice));
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
