//! The H5 form's reporting notice follows the city's filed scope versions: before a new
//! version's effective time the old notice (and categories), from it on the new one; a clue
//! reported under the old version keeps it.

mod support;

use chrono::{DateTime, TimeZone, Utc};
use domain::scope::{ExclusionRule, ExtraCategory, Filing, ScopeVersion};
use domain::{DivisionCode, scope::Exclusion};
use serde_json::Value;
use store::roles::*;
use support::World;

fn t(d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 3, d, h, 0, 0)
        .single()
        .expect("t")
}

async fn notice(w: &World, at: DateTime<Utc>) -> Value {
    let r = w
        .handle(
            &w.api(
                "GET",
                "/api/reporter/reporting-notice?division=330106",
                None,
                "",
            ),
            at,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    serde_json::from_str(&r.body).expect("json")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_h5_notice_changes_at_the_effective_time_and_old_clues_keep_their_version() {
    let w = World::start().await;
    let city = DivisionCode::parse("330100").expect("city");
    let before = notice(&w, t(10, 2)).await;
    let old = w.env.receive("c-before", 1, "330106", t(10, 2)).await;

    // Hangzhou widens a category from 12 March, filed with Zhejiang.
    let v2 = ScopeVersion {
        city,
        version: 2,
        effective_from: t(12, 0),
        extra_categories: vec![ExtraCategory {
            code: "river_sand".into(),
            name: "非法采挖河道砂石".into(),
            description: "未经许可在河道内采挖砂石".into(),
        }],
        exclusions: Exclusion::ALL
            .into_iter()
            .map(|exclusion| ExclusionRule {
                exclusion,
                narrowed_to: None,
            })
            .collect(),
        filing: Some(Filing {
            province: city.province(),
            filed_on: t(10, 2).date_naive(),
            reference: "杭规资备〔2026〕3号".into(),
        }),
    };
    w.env
        .store
        .add_scope_version(v2.clone())
        .await
        .expect("filed");

    let still = notice(&w, t(11, 23)).await;
    assert_eq!(
        still["version_id"], before["version_id"],
        "not before its time"
    );
    let after = notice(&w, t(12, 1)).await;
    assert_eq!(after["version_id"], v2.reporting_notice().version_id);
    assert_ne!(after["version_id"], before["version_id"]);
    assert!(
        after["text"]
            .as_str()
            .is_some_and(|s| s.contains("非法采挖河道砂石")),
        "{after}"
    );
    let extras = after["extras"].to_string();
    assert!(extras.contains("river_sand"), "{after}");

    let kept = w.env.store.clue(&old.clue_id).await.expect("clue").clue;
    assert_eq!(json_str(&before["version_id"]), kept.notice_version);
}

fn json_str(v: &Value) -> String {
    v.as_str().expect("string").to_owned()
}
