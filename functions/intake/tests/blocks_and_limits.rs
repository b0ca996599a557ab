//! A blocked reporter and one over the rate limit are refused visibly, against a serialized moto
//! with `template.yaml` deployed and the fake WeChat in-process.

mod support;

use chrono::Utc;
use serde_json::json;
use support::{World, h5_form, named};

const ME: &str = "oH5Reporter000000000000001";
const OTHER: &str = "oH5Reporter000000000000002";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_blocked_reporter_is_refused_visibly_and_counted_for_the_bureau() {
    // Arrange: two reporters, the other blocked
    let w = World::start().await;
    let me = w.sign_in(ME).await;
    let other = w.sign_in(OTHER).await;
    let version = w.notice_version(&me).await;
    let theirs = w.core().keyer.key(OTHER);
    let blocked = store::Block {
        reporter: theirs.clone(),
        reason: domain::text::Reason::parse("恶意举报").expect("reason"),
        by: "admin-1".into(),
        at: Utc::now(),
    };
    w.side.block(&blocked).await.expect("block");
    let form = named(h5_form(&version));

    // Act: both file the same clue
    let refused = w.handle(&w.post_clue(&other, &form), Utc::now()).await;
    let filed = w.handle(&w.post_clue(&me, &form), Utc::now()).await;

    // Assert: refused visibly and counted for the bureau, never dropped silently (art. 19)
    assert_eq!(w.side.block_log(&theirs).await.expect("log").len(), 1);
    assert_eq!(
        (refused.status, refused.error_code().as_deref()),
        (403, Some("reporter_blocked"))
    );
    assert_eq!(w.side.blocked_attempts(&theirs).await.expect("attempts"), 1);
    assert_eq!(filed.status, 201, "{}", filed.body);
    let mine = w.core().keyer.key(ME);
    assert_eq!(w.side.blocked_attempts(&mine).await.expect("attempts"), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporter_over_the_hourly_limit_is_refused_visibly() {
    // Arrange
    let w = World::start().await;
    let me = w.sign_in(ME).await;
    let version = w.notice_version(&me).await;
    let now = Utc::now();

    // Act + Assert: five clues an hour are filed, the sixth is refused
    for i in 0..6 {
        let mut f = named(h5_form(&version));
        f["facts"] = json!(format!("第{i}次：在基本农田上建房。"));
        let r = w.handle(&w.post_clue(&me, &f), now).await;
        if i < 5 {
            assert_eq!(r.status, 201, "{i}: {}", r.body);
        } else {
            assert_eq!(
                (r.status, r.error_code().as_deref()),
                (429, Some("rate_limited"))
            );
        }
    }
}
