//! One way to file a clue, for both channels (H5 form, guided chat): refuse a blocked reporter
//! or one over a rate limit visibly (art. 19), resolve the attachments (this reporter's, ready),
//! store the clue through the store (routing, vault, consent version, receipt notice: one
//! transaction), then queue the receipt notice.

use chrono::{DateTime, Duration, Utc};
use domain::event::Evidence;
use domain::report::{self, AttachmentStanding, NamedAttachment, Report, ReportError};
use domain::scope::ScopeError;
use domain::{AttachmentId, ClueId, DomainError, ReporterKey};
use outbox::NoticeQueue;
use sha2::{Digest, Sha256};
use store::{
    AttachmentStatus, ClueStore, IdempotencyKey, RateLimit, Received, ReporterIdentity, StoreError,
    Submission,
};

use crate::App;
use crate::http::ApiError;
use crate::ports::{MediaQueue, Side};

/// Per-reporter and per-division limits on new clues (art. 19). A resubmission counts too.
pub const LIMITS: [RateLimit; 3] = [
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
    RateLimit {
        name: "division_hour",
        max: 300,
        window: Duration::hours(1),
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
        reporter: &ReporterKey,
        now: DateTime<Utc>,
    ) -> Result<(), ApiError> {
        match self.side.block_of(reporter).await {
            Ok(None) => Ok(()),
            Ok(Some(_)) => Err({
                if let Err(e) = self.side.note_blocked_attempt(reporter, now).await {
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
            Err(e) => Err(store_error(&e)),
        }
    }

    /// The evidence of `ids` under the domain's rules ([`domain::report::evidence`]): each must
    /// be this reporter's and processed, at most [`domain::report::MAX_ATTACHMENTS`].
    ///
    /// # Errors
    /// 400 `attachment_not_found` (unknown or another reporter's), `attachment_rejected`,
    /// 409 `attachment_pending`, 400 `too_many_attachments`.
    pub async fn evidence(
        &self,
        reporter: &ReporterKey,
        ids: &[AttachmentId],
    ) -> Result<Vec<Evidence>, ApiError> {
        report::check_attachment_count(ids.len()).map_err(|e| report_error(&e))?;
        let mut out: Vec<Evidence> = Vec::with_capacity(ids.len());
        for id in ids {
            if out.iter().any(|e| &e.attachment == id) {
                continue;
            }
            let stored = self
                .side
                .attachment(id)
                .await
                .map_err(|e| store_error(&e))?;
            let named = stored.map(|a| NamedAttachment {
                standing: match (a.evidence(), &a.status) {
                    (Some(e), _) => AttachmentStanding::Ready(e),
                    (None, AttachmentStatus::Pending) => AttachmentStanding::Pending,
                    (None, _) => AttachmentStanding::Rejected,
                },
                owner: a.owner,
            });
            out.push(report::evidence(reporter, named).map_err(|e| report_error(&e))?);
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
        let reporter = self.keyer.key(&identity.openid);
        self.check_block(&reporter, now).await?;
        let evidence = self.evidence(&reporter, attachments).await?;
        self.precheck(&reporter, &report, now).await?;
        let subjects = [
            reporter.as_str().to_owned(),
            reporter.as_str().to_owned(),
            report.location.division.to_string(),
        ];
        let mut taken: Vec<usize> = Vec::new();
        for (i, limit) in LIMITS.iter().enumerate() {
            match self.side.take(limit, &subjects[i], now).await {
                Ok(true) => taken.push(i),
                Ok(false) => {
                    self.give_back(&taken, &subjects, now).await;
                    return Err(ApiError::new(
                        429,
                        "rate_limited",
                        if limit.name.starts_with("division") {
                            "该地区的举报提交过于集中，请稍后再试。您的举报尚未提交。"
                        } else {
                            "您的举报提交过于频繁，请稍后再试。您的举报尚未提交。"
                        },
                    ));
                }
                Err(e) => {
                    self.give_back(&taken, &subjects, now).await;
                    return Err(store_error(&e));
                }
            }
        }
        let channel = report.channel;
        let submission = Submission {
            clue_id: clue_id_for(key),
            report,
            evidence,
        };
        match self.store.receive(submission, identity, now, key).await {
            Ok(received) => {
                if received.replayed {
                    self.give_back(&taken, &subjects, now).await;
                } else {
                    tracing::info!(clue_no = %received.clue_no, ?channel, "clue received");
                }
                outbox::enqueue_after_commit(&self.notices, received.notices()).await;
                Ok(received)
            }
            Err(e) => {
                self.give_back(&taken, &subjects, now).await;
                Err(store_error(&e))
            }
        }
    }

    /// What can be refused before anything is counted: the notice version in force, and that a
    /// resubmitted clue is this reporter's (the store decides both again in its transaction).
    async fn precheck(
        &self,
        reporter: &ReporterKey,
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
                Ok(c) if &c.clue.reporter == reporter => {}
                Ok(_) | Err(StoreError::NotFound(_)) => {
                    return Err(ApiError::not_found("clue_not_found"));
                }
                Err(e) => return Err(store_error(&e)),
            }
        }
        Ok(())
    }

    async fn give_back(&self, taken: &[usize], subjects: &[String; 3], now: DateTime<Utc>) {
        for &i in taken {
            if let Err(e) = self.side.give_back(&LIMITS[i], &subjects[i], now).await {
                tracing::warn!(code = e.code(), "rate counter not given back");
            }
        }
    }
}
