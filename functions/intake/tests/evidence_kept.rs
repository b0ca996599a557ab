//! Evidence a filing attaches is kept from the never-attached expiry before the clue names it
//! (issue 16, point 5): the keep request goes out first, and when it cannot, nothing is filed
//! and the reporter is asked to retry; the retry files once.

mod support;

use std::sync::atomic::Ordering;

use chrono::Utc;
use domain::AttachmentId;
use serde_json::{Value, json};
use support::{World, h5_form, ready};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filing_keeps_its_evidence_first_and_files_nothing_when_it_cannot() {
    // Arrange: a signed-in reporter with two processed photos
    let w = World::start().await;
    let openid = "oH5Evidence00000000000001";
    let cookie = w.sign_in(openid).await;
    let notice = w.notice_version(&cookie).await;
    let now = Utc::now();
    for id in ["ev-one", "ev-two"] {
        w.attachment(openid, id, ready()).await;
    }
    let mut filing = h5_form(&notice);
    filing["attachments"] = json!(["ev-one", "ev-two"]);
    let clues = || async { w.clues_of(openid).await.len() };

    // Act: the attachment-events queue is down
    w.app
        .reporting
        .media
        .refuse_keep
        .store(true, Ordering::SeqCst);
    let before = w.snapshot().await;
    let refused = w.app.handle(&w.post_clue(&cookie, &filing), now).await;

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
    w.app
        .reporting
        .media
        .refuse_keep
        .store(false, Ordering::SeqCst);
    let filed = w.app.handle(&w.post_clue(&cookie, &filing), now).await;

    // Assert: filed once, and both photos were asked to be kept, in one request, before it
    assert_eq!(filed.status, 201, "{}", filed.body);
    assert_eq!(clues().await, 1);
    let kept = w.app.reporting.media.kept.lock().expect("kept").clone();
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
    assert_eq!(w.app.reporting.media.kept.lock().expect("kept").len(), 1);
}
