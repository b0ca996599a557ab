//! Evidence a filing attaches is kept from the never-attached expiry before the clue names it
//! (issue 16, point 5): the keep request goes out first, and when it cannot, nothing is filed
//! and the reporter is asked to retry; the retry files once.

mod support;

use std::sync::atomic::Ordering;

use chrono::Utc;
use domain::AttachmentId;
use serde_json::{Value, json};
use store::roles::*;
use store::{AttachmentStatus, PageRequest};
use support::World;

fn form(notice: &str, attachments: &[&str]) -> String {
    json!({
        "division": "330106",
        "address": "留下街道某村东侧农田",
        "gps": {"lat": 30.25, "lng": 120.05},
        "subject": "某建材公司",
        "category": {"kind": "annex", "code": "farmland_destruction"},
        "facts": "在基本农田上堆放建材并硬化地面。",
        "attachments": attachments,
        "notice_version": notice,
        "consent": true,
        "identity": null,
        "resubmission_of": null,
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filing_keeps_its_evidence_first_and_files_nothing_when_it_cannot() {
    // Arrange: a signed-in reporter with two processed photos
    let w = World::start().await;
    let openid = "oH5Evidence00000000000001";
    let cookie = w.sign_in(openid).await;
    let notice = w.notice_version(&cookie).await;
    let owner = w.app.keyer.key(openid);
    let now = Utc::now();
    for id in ["ev-one", "ev-two"] {
        let a = store::Attachment {
            id: AttachmentId::parse(id).expect("id"),
            owner: owner.clone(),
            declared_type: "image/jpeg".into(),
            declared_size: 10,
            source: store::AttachmentSource::Upload,
            status: AttachmentStatus::Ready {
                sha256: "cd".repeat(32),
                content_type: "image/jpeg".into(),
                size: 10,
            },
            created_at: now,
        };
        assert!(w.side.create_attachment(&a).await.expect("create"));
    }
    let filing = form(&notice, &["ev-one", "ev-two"]);
    let clues = || async {
        w.app
            .store
            .reporter_clues(&owner, PageRequest::default())
            .await
            .expect("clues")
            .items
            .len()
    };

    // Act: the attachment-events queue is down
    w.app.media.refuse_keep.store(true, Ordering::SeqCst);
    let before = w.snapshot().await;
    let refused = w
        .app
        .handle(
            &w.api("POST", "/api/reporter/clues", Some(&cookie), &filing),
            now,
        )
        .await;

    // Assert: 503 for a retry, no clue, the table as it was but for the rate windows the
    // attempt opened and gave back
    assert_eq!(refused.status, 503, "{}", refused.body);
    let code: Value = serde_json::from_str(&refused.body).expect("json");
    assert_eq!(code["error"]["code"], "unavailable");
    assert_eq!(clues().await, 0);
    let after: std::collections::BTreeSet<String> = w
        .snapshot()
        .await
        .into_iter()
        .filter(|item| !(item.contains("RATE#") && item.contains(r#"N(\"0\")"#)))
        .collect();
    assert_eq!(
        after, before,
        "only rate windows given back to zero are new"
    );

    // Act: the queue is back; the reporter retries the same filing
    w.app.media.refuse_keep.store(false, Ordering::SeqCst);
    let filed = w
        .app
        .handle(
            &w.api("POST", "/api/reporter/clues", Some(&cookie), &filing),
            now,
        )
        .await;

    // Assert: filed once, and both photos were asked to be kept, in one request, before it
    assert_eq!(filed.status, 201, "{}", filed.body);
    assert_eq!(clues().await, 1);
    let kept = w.app.media.kept.lock().expect("kept").clone();
    assert_eq!(
        kept,
        vec![vec![
            AttachmentId::parse("ev-one").expect("id"),
            AttachmentId::parse("ev-two").expect("id")
        ]]
    );

    // Act: a filing without evidence
    let plain = w
        .app
        .handle(&w.h5_clue(&notice, &cookie, "另一处违法占地建房。"), now)
        .await;

    // Assert: nothing to keep, nothing asked
    assert_eq!(plain.status, 201, "{}", plain.body);
    assert_eq!(w.app.media.kept.lock().expect("kept").len(), 1);
}
