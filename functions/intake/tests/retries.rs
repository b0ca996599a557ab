//! WeChat's own retries (issue 16, point 7): WeChat repeats a push it got no answer for within
//! 5 s with the very same query string and body. Such a retry, while the first delivery is still
//! being processed and after it finished, is answered with the first delivery's reply (or
//! `success`), never an error, and processed once; the same nonce with another body is still
//! refused as a replay.

mod support;

use chrono::Utc;
use support::{CHAT_TO_FACTS, World, text_msg};
use wechat_sim::defaults;

const OPENID: &str = "oRetryReporter000000000001";

/// The reply text of an answer; `None` for `success` (no reply).
fn reply_of(w: &World, resp: &intake::Resp) -> Option<String> {
    assert_eq!(resp.status, 200, "a retry is never an error: {}", resp.body);
    if resp.body == "success" {
        return None;
    }
    w.platform
        .open_reply(resp.body.as_bytes(), Utc::now().timestamp())
        .expect("reply opens")
        .and_then(|r| r.content)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_push_gets_the_first_answer_and_is_processed_once() {
    // Arrange: a reporter at the consent question of the guided chat
    let w = World::start().await;
    w.say_each(OPENID, &CHAT_TO_FACTS, 600).await;
    w.say_each(OPENID, &["完成"], 610).await;
    // The consent push, built once: every retry repeats it byte for byte.
    let agree = w.push_req(&text_msg(OPENID, "同意", 620), OPENID, "retry620");

    // Act: two deliveries at once (the second while the first is in flight), then one after
    let now = Utc::now();
    let (a, b) = tokio::join!(w.handle(&agree, now), w.handle(&agree, now));
    let c = w.handle(&agree, Utc::now()).await;

    // Assert: the same receipt (or `success` while in flight), one clue
    let answers = [reply_of(&w, &a), reply_of(&w, &b), reply_of(&w, &c)];
    let receipt = answers[2]
        .clone()
        .expect("the later retry gets the first reply");
    assert!(receipt.contains("线索编号"), "{receipt}");
    for answer in &answers[..2] {
        assert!(
            answer.is_none() || answer.as_deref() == Some(receipt.as_str()),
            "{answer:?}"
        );
    }
    assert!(
        answers[..2].iter().any(Option::is_some),
        "one of the concurrent deliveries processed it"
    );
    assert_eq!(w.clues_of(OPENID).await.len(), 1, "filed once");
    assert_eq!(w.core().notices.sent().len(), 1, "one receipt notice");

    // The same timestamp and nonce with another (correctly signed) body: a replay, refused.
    let other = w.platform.push(
        &text_msg(OPENID, "举报", 621),
        defaults::ACCOUNT_ID,
        OPENID,
        agree.query["timestamp"].parse().expect("timestamp"),
        "retry620",
        [4u8; 16],
    );
    let mut replay = intake::Req::new("POST", "/wechat/callback");
    for (k, v) in other.query {
        replay.query.insert(k.to_owned(), v);
    }
    replay.body = other.body.into_bytes();
    let before = w.snapshot().await;
    let refused = w.handle(&replay, Utc::now()).await;
    assert_eq!(refused.status, 400, "{}", refused.body);
    assert_eq!(refused.error_code().as_deref(), Some("replayed_nonce"));
    assert_eq!(
        w.snapshot().await,
        before,
        "a refused replay changes nothing"
    );
}
