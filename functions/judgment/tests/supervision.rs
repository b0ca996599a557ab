//! 督办 over the officer API against moto (template deployed): the city supervises a county's
//! clue; the county sees it in its inbox row and clue view and answers (several times); the city
//! lists its supervisions with the answers and closes; a sibling county never sees it; only the
//! supervising bureau closes.

use testkit::store_env as support;
mod world;

use domain::Role;
use serde_json::{Value, json};
use support::at;
use world::{World, ok, refused};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_supervises_the_county_answers_and_a_sibling_never_sees_it() {
    let w = World::twin().await;
    let county = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let sibling = w
        .officer("yh-h", "land-330110", &[Role::Handler, Role::Leader])
        .await;
    let city = w.officer("hz-s", "land-330100", &[Role::Supervisor]).await;
    let province = w.officer("zj-s", "land-330000", &[Role::Supervisor]).await;
    w.receive("c-1", 1, "330106", at(3, 10)).await;
    let now = at(3, 11);

    // Only a bureau above supervises; the handling county cannot.
    let r = w
        .act(
            &county,
            "c-1",
            "supervise",
            json!({"due_on": "2026-03-20", "note": "请加快"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (403, "not_supervisor".into()));
    let r = ok(&w
        .act(
            &city,
            "c-1",
            "supervise",
            json!({"due_on": "2026-03-20", "note": "请于20日前报告进展"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["supervision"]["due_on"], "2026-03-20");
    let r = w
        .act(
            &province,
            "c-1",
            "supervise",
            json!({"due_on": "2026-03-25", "note": "省厅督办"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (409, "already_supervised".into()));

    // The county: a banner in the inbox row, the supervision in the clue view, the answer form.
    let inbox = ok(&w.get(&county, "/api/officer/inbox", now).await);
    assert_eq!(inbox["items"][0]["supervision"]["by"], "land-330100");
    let detail = ok(&w.get(&county, "/api/officer/clues/c-1", now).await);
    assert_eq!(detail["supervisions"][0]["note"], "请于20日前报告进展");
    let actions: Vec<&str> = detail["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(actions.contains(&"supervision-answer"), "{actions:?}");
    let due = detail["all_deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["kind"] == "supervision")
        .cloned();
    assert_eq!(due.expect("supervision deadline")["due_on"], "2026-03-20");
    let to_answer = ok(&w
        .get(&county, "/api/officer/supervisions?role=answer", now)
        .await);
    assert_eq!(to_answer["items"][0]["clue_id"], "c-1");
    // The supervising and handling bureaus by name, as the console's banner shows them.
    assert_eq!(
        to_answer["items"][0]["supervision"]["by_name"],
        "杭州市自然资源和规划局"
    );
    assert_eq!(
        to_answer["items"][0]["handler_name"],
        "杭州市西湖区自然资源和规划局"
    );
    let view = ok(&w.get(&county, "/api/officer/clues/c-1", now).await);
    assert_eq!(view["supervisions"][0]["by_name"], "杭州市自然资源和规划局");

    // A sibling county: not found, not listed, cannot answer.
    let r = w.get(&sibling, "/api/officer/clues/c-1", now).await;
    assert_eq!(refused(&r), (404, "clue_not_found".into()));
    let r = w
        .post(
            &sibling,
            "/api/officer/clues/c-1/supervision-answer",
            json!({"version": 3, "text": "x"}),
            "sibling-answer",
            now,
        )
        .await;
    assert_eq!(refused(&r), (404, "clue_not_found".into()));
    let listed = ok(&w
        .get(&sibling, "/api/officer/supervisions?role=answer", now)
        .await);
    assert_eq!(listed["items"], json!([]));

    // Answers: empty refused; two answers; on the timeline; the city cannot answer.
    let r = w
        .act(
            &county,
            "c-1",
            "supervision-answer",
            json!({"text": " "}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (400, "text_required".into()));
    let r = w
        .act(
            &city,
            "c-1",
            "supervision-answer",
            json!({"text": "x"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (403, "not_handling_bureau".into()));
    for text in ["已现场核查", "已责令停止施工"] {
        ok(&w
            .act(
                &county,
                "c-1",
                "supervision-answer",
                json!({"text": text}),
                now,
            )
            .await);
    }
    let detail = ok(&w.get(&city, "/api/officer/clues/c-1", now).await);
    let answered = detail["timeline"]
        .as_array()
        .expect("timeline")
        .iter()
        .filter(|e| e["type"] == "supervision_answered")
        .count();
    assert_eq!(answered, 2);
    let actions: Vec<&str> = detail["actions"]
        .as_array()
        .expect("actions")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert_eq!(actions, ["supervision-close"]);
    let mine = ok(&w.get(&city, "/api/officer/supervisions?role=by", now).await);
    let answers = &mine["items"][0]["supervision"]["answers"];
    assert_eq!(answers[1]["text"], "已责令停止施工");
    assert_eq!(mine["items"][0]["open"], true);
    assert_eq!(
        ok(&w.get(&province, "/api/officer/supervisions", now).await)["items"],
        json!([])
    );

    // Only the city closes; then nothing to answer.
    let r = w
        .act(&province, "c-1", "supervision-close", json!({}), now)
        .await;
    assert_eq!(refused(&r), (403, "not_supervisor".into()));
    ok(&w
        .act(
            &city,
            "c-1",
            "supervision-close",
            json!({"note": "进展已掌握"}),
            now,
        )
        .await);
    let to_answer = ok(&w
        .get(&county, "/api/officer/supervisions?role=answer", now)
        .await);
    assert_eq!(to_answer["items"], json!([]));
    let r = w
        .act(
            &county,
            "c-1",
            "supervision-answer",
            json!({"text": "补充"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (409, "not_supervised".into()));
    let mine = ok(&w.get(&city, "/api/officer/supervisions", now).await);
    assert_eq!(mine["items"][0]["supervision"]["end"], "closed");
    let r = w
        .get(&city, "/api/officer/supervisions?role=mine", now)
        .await;
    assert_eq!(refused(&r), (400, "invalid_role".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_city_supervises_a_countys_open_clues_at_once_and_a_retry_adds_nothing() {
    let w = World::twin().await;
    let county = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let city = w.officer("hz-s", "land-330100", &[Role::Supervisor]).await;
    let city_handler = w.officer("hz-h", "land-330100", &[Role::Handler]).await;
    let sibling = w.officer("yh-s", "land-330110", &[Role::Supervisor]).await;
    for (i, day) in [(1, 2), (2, 9), (3, 10)] {
        w.receive(&format!("c-{i}"), i, "330106", at(3, day)).await;
    }
    w.receive("c-yh", 9, "330110", at(3, 9)).await;
    let now = at(3, 12);
    // c-1 (received 03-02) is past its escalation deadline; c-3 is closed before.
    ok(&w
        .act(
            &county,
            "c-3",
            "judge",
            json!({"outcome": "need_material", "missing": ["facts"]}),
            now,
        )
        .await);
    let body = |covers: &str| json!({"bureau": "land-330106", "due_on": "2026-03-20", "note": "请集中清理积案", "covers": covers});
    const PATH: &str = "/api/officer/supervisions";

    let r = w.post(&sibling, PATH, body("open"), "d0", now).await;
    assert_eq!(
        refused(&r),
        (404, "bureau_not_found".into()),
        "a sibling is not above"
    );
    let r = w.post(&city_handler, PATH, body("open"), "d0", now).await;
    assert_eq!(refused(&r), (403, "not_supervisor".into()));
    let r = w.post(&city, PATH, body("all"), "d0", now).await;
    assert_eq!(refused(&r), (400, "invalid_covers".into()));

    let overdue = ok(&w.post(&city, PATH, body("overdue"), "d1", now).await);
    assert_eq!(overdue["supervised"], json!(["330106-20260302-0001"]));
    let open = ok(&w.post(&city, PATH, body("open"), "d2", now).await);
    assert_eq!(open["supervised"], json!(["330106-20260309-0001"]));
    assert_eq!(
        open["skipped"],
        json!(["330106-20260302-0001"]),
        "already supervised"
    );
    let again = ok(&w.post(&city, PATH, body("open"), "d2", now).await);
    assert_eq!(
        (&again["supervised"], &again["skipped"]),
        (&open["supervised"], &open["skipped"]),
        "a retry: the same answer"
    );
    let mine = ok(&w.get(&city, "/api/officer/supervisions", now).await);
    assert_eq!(
        mine["items"].as_array().map(Vec::len),
        Some(2),
        "nothing twice"
    );
    let to_answer = ok(&w
        .get(&county, "/api/officer/supervisions?role=answer", now)
        .await);
    assert_eq!(to_answer["items"].as_array().map(Vec::len), Some(2));
}
