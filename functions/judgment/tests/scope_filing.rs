//! Scope filing over the officer API against moto (template deployed): a city leader widens a
//! category from an effective time on; others cannot file; the province sees the filing and
//! acknowledges it (once); clues keep the reporting notice version they were reported under and
//! show it, while clues after the effective time get the new one.

use testkit::store_env as support;
mod world;

use chrono::{DateTime, Utc};
use domain::Role;
use serde_json::{Value, json};
use store::roles::*;
use support::at;
use world::{World, ok, refused};

fn exclusions() -> Value {
    json!([
        {"exclusion": "legal_proceedings"},
        {"exclusion": "official_misconduct"},
        {"exclusion": "ownership_dispute", "narrowed_to": "土地权属争议（不含违法占地）"},
        {"exclusion": "state_secrets"},
        {"exclusion": "not_land_duty"}
    ])
}

fn proposal(effective_from: DateTime<Utc>) -> Value {
    json!({
        "extra_categories": [{
            "code": "river_sand",
            "name": "非法采挖河道砂石",
            "description": "未经许可在河道内采挖砂石"
        }],
        "exclusions": exclusions(),
        "effective_from": effective_from,
        "reference": "杭规资备〔2026〕3号"
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_city_files_a_wider_scope_the_province_acknowledges_and_clues_keep_their_version() {
    let w = World::twin().await;
    let leader = w.officer("hz-l", "land-330100", &[Role::Leader]).await;
    let hz_handler = w.officer("hz-h", "land-330100", &[Role::Handler]).await;
    let county = w
        .officer("xh-l", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    let province = w.officer("zj-s", "land-330000", &[Role::Supervisor]).await;
    let zj_handler = w.officer("zj-h", "land-330000", &[Role::Handler]).await;
    let ministry = w
        .officer("mnr", "ministry", &[Role::Supervisor, Role::Leader])
        .await;
    let now = at(3, 10);
    let effective = at(3, 12);
    let old = w.receive("c-old", 1, "330106", at(3, 11)).await;

    // Only the city's leader files; bad input changes nothing.
    for o in [&hz_handler, &county] {
        let r = w
            .post(o, "/api/officer/scope", proposal(effective), "k", now)
            .await;
        assert_eq!(refused(&r), (403, "not_city_leader".into()), "{}", o.id);
    }
    let r = w
        .post(&leader, "/api/officer/scope", proposal(at(3, 9)), "k", now)
        .await;
    assert_eq!(refused(&r), (422, "effective_in_past".into()));
    let mut bad = proposal(effective);
    bad["extra_categories"][0]["code"] = json!("Not A Code");
    let r = w.post(&leader, "/api/officer/scope", bad, "k", now).await;
    assert_eq!(refused(&r), (422, "bad_extra_category".into()));
    let r = w
        .post(
            &leader,
            "/api/officer/scope",
            json!({"exclusions": 3}),
            "k",
            now,
        )
        .await;
    assert_eq!(refused(&r), (400, "bad_json".into()));
    let before = ok(&w.get(&county, "/api/officer/scope", now).await);
    assert_eq!(before["versions"].as_array().map(Vec::len), Some(1));
    assert_eq!(before["may_file"], false);

    let filed = w
        .post(&leader, "/api/officer/scope", proposal(effective), "k", now)
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let filed = filed.json_body();
    assert_eq!(filed["version"], 2);
    assert_eq!(filed["filing"]["province"], "330000");
    assert!(
        filed["notice_text"]
            .as_str()
            .is_some_and(|t| t.contains("非法采挖河道砂石"))
    );
    let again = ok(&w
        .post(
            &leader,
            "/api/officer/scope",
            proposal(effective),
            "k2",
            now,
        )
        .await);
    assert_eq!(again["version"], 2, "a retry files nothing new");

    // The city and its counties see both versions, the new one upcoming.
    let seen = ok(&w.get(&county, "/api/officer/scope", now).await);
    let versions = seen["versions"].as_array().expect("versions");
    assert_eq!(versions.len(), 2);
    assert_eq!(
        (
            versions[0]["in_force"].clone(),
            versions[1]["upcoming"].clone()
        ),
        (json!(true), json!(true))
    );
    let seen = ok(&w.get(&county, "/api/officer/scope", at(3, 13)).await);
    assert_eq!(seen["versions"][1]["in_force"], true);

    // The province sees it, unacknowledged; only its leader or supervisor acknowledges, once.
    let p = ok(&w.get(&province, "/api/officer/scope", now).await);
    assert_eq!(p["filings"][0]["city"], "330100");
    assert_eq!(p["filings"][0]["acknowledged"], Value::Null);
    let ack = "/api/officer/scope/330100/2/acknowledge";
    for o in [&zj_handler, &ministry, &leader] {
        let r = w.post(o, ack, json!({}), "a", now).await;
        assert_eq!(refused(&r), (403, "not_province".into()), "{}", o.id);
    }
    let r = w
        .post(
            &province,
            "/api/officer/scope/330100/7/acknowledge",
            json!({}),
            "a",
            now,
        )
        .await;
    assert_eq!(refused(&r), (404, "filing_not_found".into()));
    let done = ok(&w.post(&province, ack, json!({}), "a", at(3, 11)).await);
    assert_eq!(done["acknowledged"]["by"], "zj-s");
    let twice = ok(&w.post(&province, ack, json!({}), "b", at(3, 12)).await);
    assert_eq!(
        twice["acknowledged"]["at"], done["acknowledged"]["at"],
        "the first is kept"
    );
    let city_view = ok(&w.get(&leader, "/api/officer/scope", now).await);
    assert_eq!(city_view["versions"][1]["acknowledged"]["by"], "zj-s");

    // Clues keep the version they were reported under; a clue after the effective time has
    // the new one; both show it.
    let new = w.receive("c-new", 2, "330106", at(3, 13)).await;
    let (old_view, new_view) = (
        ok(&w.get(&county, "/api/officer/clues/c-old", at(3, 13)).await),
        ok(&w.get(&county, "/api/officer/clues/c-new", at(3, 13)).await),
    );
    assert_eq!(
        old_view["notice_version"],
        json!(versions[0]["notice_version"])
    );
    assert_eq!(
        new_view["notice_version"],
        json!(versions[1]["notice_version"])
    );
    let stored = w.store().clue(&old.clue_id).await.expect("old").clue;
    assert!(stored.notice_version.starts_with("330100-v1-"));
    let stored = w.store().clue(&new.clue_id).await.expect("new").clue;
    assert!(stored.notice_version.starts_with("330100-v2-"));
}
