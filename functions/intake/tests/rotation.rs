//! Rotating the reporter side's secrets (issue 16, point 4): after a rotation of the session
//! secret, a cookie of the previous version still opens (the grace period) and new cookies are
//! sealed with the new one; after a rotation of the reporter-key secret the same reporter still
//! sees and writes to their clues, a blocked reporter is still blocked and a reporter at their
//! limit is still limited, although new data is keyed under the new version.

mod support;

use chrono::Utc;
use keyring::Keyring;
use serde_json::{Value, json};
use session::SessionKey;
use store::roles::*;
use store::{DynamoClueStore, ReporterKeyer, StoreConfig};
use support::{World, store_support};

/// The reporter-key secret's new version (the old one is `store_support::SECRET`).
const NEW_SECRET: &[u8] = b"rotated-reporter-key-secret-9876543210";

fn body(r: &intake::Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_rotation_keeps_each_reporters_session_clues_block_and_limit() {
    // Arrange: under version 1, A files a clue, B is blocked, C reaches the hourly limit
    let mut w = World::start().await;
    let now = Utc::now();
    let (a, b, c) = (
        "oRotateA000000000000000001",
        "oRotateB000000000000000001",
        "oRotateC000000000000000001",
    );
    let (ca, cb, cc) = (w.sign_in(a).await, w.sign_in(b).await, w.sign_in(c).await);
    let version = w.notice_version(&ca).await;
    let first = w
        .handle(&w.h5_clue(&version, &ca, "第一件：在基本农田上建房。"), now)
        .await;
    assert_eq!(first.status, 201, "{}", first.body);
    let first_id = body(&first)["clue_id"]
        .as_str()
        .expect("clue_id")
        .to_owned();
    let old_b = w.core().keyer.key(b);
    w.side
        .block(&store::Block {
            reporter: old_b.clone(),
            reason: domain::text::Reason::parse("恶意重复举报").expect("reason"),
            by: "operator-1".into(),
            at: now,
        })
        .await
        .expect("block");
    for i in 0..5 {
        let r = w
            .handle(
                &w.h5_clue(&version, &cc, &format!("第{i}次：在基本农田上建房。")),
                now,
            )
            .await;
        assert_eq!(r.status, 201, "{i}: {}", r.body);
    }

    // Act: rotate the session secret and the reporter-key secret (version 2 current,
    // version 1 still live)
    let old_session = support::session_key(7);
    let ring = |doc: Value| Keyring::from_json(&doc.to_string()).expect("keyring");
    let v1 = String::from_utf8(vec![7u8; 32]).expect("ascii");
    w.app.session = SessionKey::new(
        &ring(
            json!({"version": "2", "current": "v2-session-secret-0123456789abcdef",
                     "previous": {"1": v1}}),
        ),
        &ring(json!({"version": "2", "current": "v2-oauth-state-secret-0123456789ab"})),
    );
    let keyer = ReporterKeyer::versioned(vec![NEW_SECRET.to_vec(), store_support::SECRET.to_vec()])
        .expect("keyer");
    let store = DynamoClueStore::new(
        w.env.db.clone(),
        w.env.kms.clone(),
        StoreConfig::new(&w.env.table, &w.env.pii_key, NEW_SECRET.to_vec())
            .with_previous_reporter_keys(vec![store_support::SECRET.to_vec()]),
    )
    .expect("store");
    w.change_core(|core| {
        core.keyer = keyer;
        core.store = store;
    });

    // Assert: A's version-1 cookie still opens; a new cookie is sealed with version 2 only
    let mine = w
        .handle(&w.api("GET", "/api/reporter/clues", Some(&ca), ""), now)
        .await;
    assert_eq!(mine.status, 200, "{}", mine.body);
    let new_cookie = w.app.session.seal(a, now.timestamp());
    assert!(
        old_session.open(&new_cookie, now.timestamp()).is_err(),
        "new cookies are sealed with the new version"
    );
    // A still sees the clue of version 1, can write to it, and files a new one under version 2:
    // both are listed.
    let message = w
        .handle(
            &w.api(
                "POST",
                &format!("/api/reporter/clues/{first_id}/messages"),
                Some(&new_cookie),
                &json!({"text": "补充：又在施工。"}).to_string(),
            ),
            now,
        )
        .await;
    assert_eq!(message.status, 201, "{}", message.body);
    let second = w
        .handle(
            &w.h5_clue(&version, &new_cookie, "第二件：在基本农田上建厂房。"),
            now,
        )
        .await;
    assert_eq!(second.status, 201, "{}", second.body);
    let stored = w
        .env
        .store
        .clue(&domain::ClueId::parse(body(&second)["clue_id"].as_str().expect("id")).expect("id"))
        .await
        .expect("clue");
    assert_eq!(
        stored.clue.reporter,
        w.core().keyer.key(a),
        "new clues are keyed under the new version"
    );
    assert_ne!(
        stored.clue.reporter,
        ReporterKeyer::new(store_support::SECRET.to_vec())
            .expect("k")
            .key(a)
    );
    let listed = w
        .handle(
            &w.api("GET", "/api/reporter/clues", Some(&new_cookie), ""),
            now,
        )
        .await;
    let listed = body(&listed);
    let ids: Vec<&str> = listed
        .as_array()
        .expect("list")
        .iter()
        .filter_map(|c| c["clue_id"].as_str())
        .collect();
    assert_eq!(ids.len(), 2, "{listed}");
    assert!(ids.contains(&first_id.as_str()));
    let shown = w
        .handle(
            &w.api(
                "GET",
                &format!("/api/reporter/clues/{first_id}"),
                Some(&new_cookie),
                "",
            ),
            now,
        )
        .await;
    assert_eq!(shown.status, 200, "{}", shown.body);
    // B, blocked under version 1, is still blocked; C, at the limit under version 1, still
    // limited.
    let blocked = w
        .handle(&w.h5_clue(&version, &cb, "又一件：在基本农田上建房。"), now)
        .await;
    assert_eq!(
        (blocked.status, blocked.error_code().as_deref()),
        (403, Some("reporter_blocked"))
    );
    let limited = w
        .handle(&w.h5_clue(&version, &cc, "第六次：在基本农田上建房。"), now)
        .await;
    assert_eq!(
        (limited.status, limited.error_code().as_deref()),
        (429, Some("rate_limited")),
        "{}",
        limited.body
    );
}
