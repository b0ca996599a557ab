//! The officer workflow over the officer API against moto (template deployed): each judgment
//! outcome with its exact annex 3 notice, escalation and designation across levels, merging with
//! a notice to each reporter, verification, stale versions and retries, concurrent officers,
//! identity reveal, and the authorisation matrix over the route table.

use testkit::store_env as support;
mod world;

use api::Req;
use aws_sdk_dynamodb::types::AttributeValue;
use domain::Role;
use judgment::{ROUTES, Route};
use serde_json::json;
use store::roles::*;
use support::{at, officer};
use world::{World, claims, ok, refused};

const THANKS: &str = "感谢您对国土资源工作的支持！";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_judgment_outcome_gives_its_state_deadline_and_exact_notice() {
    let w = World::twin().await;
    let h = w
        .officer("xh-handler", "land-330106", &[Role::Handler])
        .await;
    for (clue, n) in [
        ("c-acc", 1),
        ("c-oos", 2),
        ("c-early", 3),
        ("c-dup", 3),
        ("c-need", 4),
    ] {
        w.receive(clue, n, "330106", at(3, 10)).await;
    }
    // The inbox lists them nearest deadline first, with Shanghai dates and working days left.
    let inbox = ok(&w.get(&h, "/api/officer/inbox", at(3, 11)).await);
    assert_eq!(inbox["counts"]["received"], 5);
    let first = &inbox["items"][0];
    assert_eq!(first["next_deadline"]["kind"], "escalation");
    assert_eq!(first["next_deadline"]["due_on"], "2026-03-12");
    assert_eq!(first["next_deadline"]["working_days_left"], 1);
    let judgment = first["deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["kind"] == "judgment")
        .expect("judgment deadline");
    assert_eq!(judgment["due_on"], "2026-03-19");
    assert_eq!(judgment["overdue"], false);

    let now = at(3, 11);
    // The console previews the exact notice; the preview stores nothing.
    let preview = ok(&w
        .post(
            &h,
            "/api/officer/clues/c-acc/judge/preview",
            json!({"outcome": "accept"}),
            "unused",
            now,
        )
        .await);
    assert_eq!(
        preview["notices"][0]["text"],
        format!("您好，杭州市西湖区国土资源主管部门将对您举报的违法线索作进一步核查处理。{THANKS}")
    );
    assert_eq!(
        w.version(&h, "c-acc", now).await,
        1,
        "a preview changes nothing"
    );
    let r = ok(&w
        .act(&h, "c-acc", "judge", json!({"outcome": "accept"}), now)
        .await);
    assert_eq!(r["clue"]["state"], "accepted");
    assert_eq!(
        r["notices"][0]["text"],
        format!("您好，杭州市西湖区国土资源主管部门将对您举报的违法线索作进一步核查处理。{THANKS}")
    );
    let r = ok(&w
        .act(
            &h,
            "c-oos",
            "judge",
            json!({"outcome": "out_of_scope", "department": "杭州市西湖区住房和城乡建设局"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["outcome"], "out_of_scope");
    assert_eq!(
        r["notices"][0]["text"],
        format!(
            "您好，您举报的违法线索不属于12336国土资源违法线索举报微信平台接收范围，您可向杭州市西湖区住房和城乡建设局举报此问题。{THANKS}"
        )
    );
    let r = ok(&w
        .act(
            &h,
            "c-dup",
            "judge",
            json!({"outcome": "duplicate", "earlier_clue_id": "c-early"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["outcome"], "duplicate");
    assert_eq!(
        r["notices"][0]["text"],
        format!(
            "您好，12336国土资源违法线索举报微信平台已于2026年3月10日接收您举报的该线索，请不要重复提交。{THANKS}"
        )
    );
    let r = ok(&w
        .act(
            &h,
            "c-need",
            "judge",
            json!({"outcome": "need_material", "missing": ["facts"]}),
            now,
        )
        .await);
    assert_eq!(
        r["notices"][0]["text"],
        format!(
            "您好，12336国土资源违法线索举报微信平台已于2026年3月10日接收您举报的线索，但材料不够清晰完整，请您补充相关材料后重新提交。{THANKS}"
        )
    );
    // Each notice went to notify's queue once, after its commit (receipts are intake's).
    assert_eq!(w.app.notices.sent().len(), 4);
    // The judgment deadline was met on time and stays recorded so.
    let detail = ok(&w.get(&h, "/api/officer/clues/c-acc", now).await);
    let met = detail["all_deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["kind"] == "judgment")
        .expect("judgment")
        .clone();
    assert_eq!(
        (met["status"].clone(), met["on_time"].clone()),
        (json!("met"), json!(true))
    );
    assert_eq!(detail["timeline_verification"]["verified"], true);
    // What this handler may do now (no leader: no transfer, assignment or block list).
    assert_eq!(
        detail["actions"],
        json!(["merge", "verify", "messages", "recuse", "reveal"])
    );
    // The counters moved: one accepted, one each closed by outcome.
    let stats = w
        .store()
        .read_stats(
            &support::code("330106"),
            at(3, 1).date_naive(),
            at(3, 31).date_naive(),
        )
        .await
        .expect("stats");
    assert!(stats.values().any(|v| *v > 0), "{stats:?}");

    // A judged clue cannot be judged again: 409 with a stable code, nothing changes.
    let v = w.version(&h, "c-acc", now).await;
    let again = w
        .post(
            &h,
            "/api/officer/clues/c-acc/judge",
            json!({"outcome": "accept", "version": v}),
            "again",
            now,
        )
        .await;
    assert_eq!(refused(&again), (409, "not_allowed_in_state".into()));
    assert_eq!(w.notices("c-acc").await.len(), 2, "receipt + accept only");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_county_escalates_the_city_designates_and_the_other_county_accepts() {
    let w = World::twin().await;
    let xh_handler = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let xh_leader = w
        .officer("xh-l", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    let city = w
        .officer("hz-l", "land-330100", &[Role::Handler, Role::Leader])
        .await;
    let yh = w.officer("yh-h", "land-330110", &[Role::Handler]).await;
    w.receive("c-esc", 1, "330106", at(3, 10)).await;
    let now = at(3, 11);

    // A handler may not escalate (a leader approves it); a reason is required.
    let r = w
        .act(
            &xh_handler,
            "c-esc",
            "escalate",
            json!({"reason": "跨区域"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (403, "missing_role".into()));
    let r = w.act(&xh_leader, "c-esc", "escalate", json!({}), now).await;
    assert_eq!(refused(&r), (400, "reason_required".into()));
    let r = ok(&w
        .act(
            &xh_leader,
            "c-esc",
            "escalate",
            json!({"reason": "涉及两区交界，管辖不明"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["state"], "escalated");
    assert_eq!(r["clue"]["handler"], "land-330100");
    assert!(r["notices"].as_array().expect("notices").is_empty());

    // The county now only reads it; the city's inbox has it; the other county does not see it.
    let county_view = ok(&w.get(&xh_handler, "/api/officer/clues/c-esc", now).await);
    assert_eq!(county_view["access"], "read");
    let r = w
        .act(
            &xh_leader,
            "c-esc",
            "judge",
            json!({"outcome": "accept"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (403, "not_handling_bureau".into()));
    let inbox = ok(&w
        .get(&city, "/api/officer/inbox?state=escalated", now)
        .await);
    assert_eq!(inbox["items"][0]["id"], "c-esc");
    let hidden = w.get(&yh, "/api/officer/clues/c-esc", now).await;
    assert_eq!(refused(&hidden), (404, "clue_not_found".into()));

    // Designation outside the territory is refused; to Yuhang it works.
    let r = w
        .act(
            &city,
            "c-esc",
            "designate",
            json!({"to": "land-330203"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (422, "outside_territory".into()));
    let r = ok(&w
        .act(
            &city,
            "c-esc",
            "designate",
            json!({"to": "land-330110", "reason": "位于余杭区"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["state"], "received");
    assert_eq!(r["clue"]["handler"], "land-330110");
    let r = ok(&w
        .act(
            &yh,
            "c-esc",
            "judge",
            json!({"outcome": "accept"}),
            at(3, 12),
        )
        .await);
    assert_eq!(
        r["notices"][0]["text"],
        format!("您好，杭州市余杭区国土资源主管部门将对您举报的违法线索作进一步核查处理。{THANKS}")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn merged_reporters_each_get_the_result_notice_with_their_own_clue() {
    let w = World::twin().await;
    let h = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let leader = w
        .officer("xh-l", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    for (clue, n) in [("c-p", 1), ("c-m1", 2), ("c-m2", 3), ("c-m3", 4)] {
        w.receive(clue, n, "330106", at(3, 10)).await;
    }
    let now = at(3, 11);
    // The console suggests the others as merge candidates (other reporters, same county).
    let detail = ok(&w.get(&h, "/api/officer/clues/c-m1", now).await);
    let candidates = detail["candidates"].as_array().expect("candidates");
    assert!(
        candidates
            .iter()
            .any(|c| c["clue_id"] == "c-p" && c["kind"] == "merge"),
        "{candidates:?}"
    );
    let r = w
        .act(&h, "c-m1", "merge", json!({"primary_clue_id": "c-p"}), now)
        .await;
    assert_eq!(refused(&r), (400, "reason_required".into()));
    for m in ["c-m1", "c-m2", "c-m3"] {
        let r = ok(&w
            .act(
                &h,
                m,
                "merge",
                json!({"primary_clue_id": "c-p", "reason": "同一地块同一违法行为"}),
                now,
            )
            .await);
        assert_eq!(r["clue"]["state"], "merged");
    }
    // A leader takes one back out: it is judged on its own again.
    let r = w
        .act(
            &h,
            "c-m3",
            "unmerge",
            json!({"reason": "并非同一地块"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (403, "missing_role".into()));
    let r = ok(&w
        .act(
            &leader,
            "c-m3",
            "unmerge",
            json!({"reason": "并非同一地块"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["state"], "received");
    ok(&w
        .act(&h, "c-p", "judge", json!({"outcome": "accept"}), now)
        .await);
    let r = ok(&w
        .act(
            &h,
            "c-p",
            "verify",
            json!({"result": "violation_found", "ended_on": "2026-03-20"}),
            at(3, 23),
        )
        .await);
    let notices = r["notices"].as_array().expect("notices");
    let to: Vec<&str> = notices
        .iter()
        .filter_map(|n| n["clue_id"].as_str())
        .collect();
    assert_eq!(to, ["c-p", "c-m1", "c-m2"]);
    let text = format!(
        "经核查，您举报的违法线索存在国土资源违法行为，杭州市西湖区国土资源主管部门将依法依规予以处理。{THANKS}"
    );
    for m in ["c-p", "c-m1", "c-m2"] {
        assert_eq!(w.notices(m).await.last(), Some(&text), "{m}");
    }
    let c = ok(&w.get(&h, "/api/officer/clues/c-p", at(3, 23)).await);
    assert_eq!(c["state"], "closed");
    assert_eq!(c["outcome"], "violation_found");
    assert_eq!(c["members"].as_array().map(Vec::len), Some(2));
    let alone = w.notices("c-m3").await;
    assert_eq!(
        alone.len(),
        1,
        "the unmerged reporter got only the receipt: {alone:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_versions_retries_and_two_officers_at_once() {
    let w = World::twin().await;
    let a = w.officer("xh-a", "land-330106", &[Role::Handler]).await;
    let b = w.officer("xh-b", "land-330106", &[Role::Handler]).await;
    w.receive("c-1", 1, "330106", at(3, 10)).await;
    let now = at(3, 11);
    let v = w.version(&a, "c-1", now).await;
    let path = "/api/officer/clues/c-1/judge";
    let accept = json!({"outcome": "accept", "version": v});
    let out_of_scope = json!({"outcome": "out_of_scope", "version": v});
    let (ra, rb) = tokio::join!(
        w.post(&a, path, accept.clone(), "k-a", now),
        w.post(&b, path, out_of_scope, "k-b", now)
    );
    let mut statuses = [ra.status, rb.status];
    statuses.sort_unstable();
    assert_eq!(statuses, [200, 409], "{} / {}", ra.body, rb.body);
    let loser = if ra.status == 409 { &ra } else { &rb };
    assert_eq!(loser.error_code().as_deref(), Some("stale_version"));
    assert_eq!(
        w.notices("c-1").await.len(),
        2,
        "receipt + one judgment notice"
    );
    assert_eq!(w.app.notices.sent().len(), 1);

    // The winner's retry with the same key gets the first answer, and nothing is added.
    let (winner, key, body) = if ra.status == 200 {
        (&a, "k-a", accept)
    } else {
        (&b, "k-b", json!({"outcome": "out_of_scope", "version": v}))
    };
    let retry = w.post(winner, path, body.clone(), key, now).await;
    let first = if ra.status == 200 { &ra } else { &rb };
    assert_eq!(retry.status, 200, "{}", retry.body);
    assert_eq!(retry.json_body()["replayed"], true);
    assert_eq!(retry.json_body()["notices"], first.json_body()["notices"]);
    assert_eq!(w.notices("c-1").await.len(), 2);
    // Another request with that key is refused rather than confused with the first.
    let mut other = body;
    other["outcome"] = json!("need_material");
    other["missing"] = json!(["facts"]);
    let r = w.post(winner, path, other, key, now).await;
    assert_eq!(refused(&r).0, 409);

    // Missing version / key / content type: clear 400s.
    let r = w
        .post(
            &a,
            "/api/officer/clues/c-1/messages",
            json!({"text": "您好"}),
            "k-m",
            now,
        )
        .await;
    assert_eq!(refused(&r), (400, "version_required".into()));
    let mut r = Req::new("POST", "/api/officer/clues/c-1/messages");
    r.claims = claims(&a);
    r.headers
        .insert("content-type".into(), "application/json".into());
    r.body = b"{\"version\":3,\"text\":\"x\"}".to_vec();
    assert_eq!(
        refused(&w.app.handle(&r, now).await),
        (400, "idempotency_key_required".into())
    );
    r.headers.insert("idempotency-key".into(), "k".into());
    r.headers.insert("content-type".into(), "text/plain".into());
    assert_eq!(
        refused(&w.app.handle(&r, now).await),
        (415, "unsupported_media_type".into())
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identity_is_masked_and_revealed_only_with_a_reason_and_an_audit_entry() {
    let w = World::twin().await;
    let h = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let city = w
        .officer("hz-s", "land-330100", &[Role::Supervisor, Role::Leader])
        .await;
    w.receive("c-1", 7, "330106", at(3, 10)).await;
    let now = at(3, 11);
    let detail = w.get(&h, "/api/officer/clues/c-1", now).await;
    let body = ok(&detail);
    assert_eq!(body["identity"]["name"], "张*");
    assert!(
        !detail.body.contains("oWx0007"),
        "no openid in the clue view"
    );
    assert!(!detail.body.contains("13812340007"), "no phone in clear");

    let r = w.act(&h, "c-1", "reveal", json!({}), now).await;
    assert_eq!(refused(&r), (400, "reason_required".into()));
    let r = w
        .act(&city, "c-1", "reveal", json!({"reason": "督办需要"}), now)
        .await;
    assert_eq!(refused(&r), (403, "not_handling_bureau".into()));
    let r = w
        .act(
            &h,
            "c-1",
            "reveal",
            json!({"reason": "需电话核实违法地点"}),
            now,
        )
        .await;
    let shown = ok(&r);
    assert_eq!(shown["name"], "张三");
    assert_eq!(shown["phone"], "13812340007");
    assert!(!r.body.contains("oWx0007"), "the openid is never shown");
    let timeline = ok(&w.get(&h, "/api/officer/clues/c-1", now).await)["timeline"].clone();
    assert!(
        timeline
            .as_array()
            .expect("timeline")
            .iter()
            .any(|e| e["type"] == "identity_revealed"
                && e["event"]["reason"] == "需电话核实违法地点")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn messages_recusal_assignment_and_supervision() {
    let w = World::twin().await;
    let h = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let h2 = w.officer("xh-h2", "land-330106", &[Role::Handler]).await;
    let leader = w
        .officer("xh-l", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    let city = w.officer("hz-s", "land-330100", &[Role::Supervisor]).await;
    let received = w.receive("c-1", 1, "330106", at(3, 10)).await;
    let now = at(3, 11);

    // The reporter writes; the inbox shows one unread; the officer reads and answers.
    w.store()
        .execute(
            &support::cid("c-1"),
            domain::Command::PostMessage {
                text: domain::text::MessageText::parse("地块东侧又新建了围墙").expect("text"),
            },
            &domain::Actor::Reporter {
                reporter: received.reporter.clone(),
            },
            now,
            &support::key("rep-msg-1"),
        )
        .await
        .expect("reporter message");
    let inbox = ok(&w.get(&h, "/api/officer/inbox", now).await);
    assert_eq!(inbox["items"][0]["unread_messages"], 1);
    ok(&w.act(&h, "c-1", "messages-read", json!({}), now).await);
    let inbox = ok(&w.get(&h, "/api/officer/inbox", now).await);
    assert_eq!(inbox["items"][0]["unread_messages"], 0);
    let r = w.act(&h, "c-1", "messages-read", json!({}), now).await;
    assert_eq!(refused(&r), (409, "nothing_unread".into()));
    ok(&w
        .act(
            &h,
            "c-1",
            "messages",
            json!({"text": "已收到，将尽快核实。"}),
            now,
        )
        .await);
    let detail = ok(&w.get(&h, "/api/officer/clues/c-1", now).await);
    assert_eq!(detail["messages"].as_array().map(Vec::len), Some(2));

    // Recusal: the officer no longer sees the clue, nor finds it in the inbox.
    ok(&w
        .act(
            &h,
            "c-1",
            "recuse",
            json!({"reason": "与被举报人系亲属"}),
            now,
        )
        .await);
    let r = w.get(&h, "/api/officer/clues/c-1", now).await;
    assert_eq!(refused(&r), (403, "recused".into()));
    let inbox = ok(&w.get(&h, "/api/officer/inbox", now).await);
    assert!(inbox["items"].as_array().expect("items").is_empty());
    // A leader assigns another officer; the recused one cannot be assigned; handlers cannot assign.
    let r = w
        .act(&h2, "c-1", "assign", json!({"officer_id": "xh-h2"}), now)
        .await;
    assert_eq!(refused(&r), (403, "missing_role".into()));
    let r = w
        .act(&leader, "c-1", "assign", json!({"officer_id": "xh-h"}), now)
        .await;
    assert_eq!(refused(&r), (422, "bad_assignee".into()));
    let r = ok(&w
        .act(
            &leader,
            "c-1",
            "assign",
            json!({"officer_id": "xh-h2"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["assignee"], "xh-h2");

    // Supervision by the city, with a due date after today.
    let r = w
        .act(
            &city,
            "c-1",
            "supervise",
            json!({"due_on": "2026-03-11", "note": "请加快办理"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (422, "due_not_after_today".into()));
    let r = ok(&w
        .act(
            &city,
            "c-1",
            "supervise",
            json!({"due_on": "2026-03-16", "note": "请加快办理"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["supervised"], true);
    let r = w
        .act(
            &h2,
            "c-1",
            "supervise",
            json!({"due_on": "2026-03-16", "note": "x"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (403, "not_supervisor".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_blocks_and_unblocks_the_reporter_of_a_clue_with_a_reason() {
    // The block list is in the reporting side table.
    let w = World::on_table().await;
    let h2 = w.officer("xh-h2", "land-330106", &[Role::Handler]).await;
    let leader = w
        .officer("xh-l", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    let received = w.receive("c-1", 1, "330106", at(3, 10)).await;
    let now = at(3, 11);

    // By a leader, by clue, with a reason; unblocking a free reporter is a 409.
    let r = w
        .act(&h2, "c-1", "block", json!({"reason": "恶意重复举报"}), now)
        .await;
    assert_eq!(refused(&r), (403, "missing_role".into()));
    ok(&w
        .act(
            &leader,
            "c-1",
            "block",
            json!({"reason": "恶意重复举报"}),
            now,
        )
        .await);
    let blocked = w
        .env()
        .reporting()
        .block_of(&received.reporter)
        .await
        .expect("block");
    assert_eq!(blocked.map(|b| b.by), Some("xh-l".to_owned()));
    ok(&w
        .act(
            &leader,
            "c-1",
            "unblock",
            json!({"reason": "核实为正常举报"}),
            at(3, 12),
        )
        .await);
    let r = w
        .act(
            &leader,
            "c-1",
            "unblock",
            json!({"reason": "再次"}),
            at(3, 12),
        )
        .await;
    assert_eq!(refused(&r), (409, "not_blocked".into()));
    assert_eq!(
        w.env()
            .reporting()
            .block_log(&received.reporter)
            .await
            .expect("log")
            .len(),
        2
    );
}

#[tokio::test]
async fn without_the_reporting_side_table_the_block_list_is_unavailable() {
    let w = World::twin().await;
    let leader = w
        .officer("xh-l", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    w.receive("c-1", 1, "330106", at(3, 10)).await;
    let r = w
        .act(
            &leader,
            "c-1",
            "block",
            json!({"reason": "恶意重复举报"}),
            at(3, 11),
        )
        .await;
    assert_eq!(r.status, 503, "{}", r.body);
}

/// Who the matrix asks as.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Who {
    OwnHandler,
    SiblingCounty,
    ParentCity,
    Province,
    Recused,
    Disabled,
    Unknown,
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_authorisation_matrix_over_every_clue_route() {
    let w = World::on_table().await;
    let own = w
        .officer("own", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    let sibling = w
        .officer("sib", "land-330110", &[Role::Handler, Role::Leader])
        .await;
    let city = w
        .officer(
            "city",
            "land-330100",
            &[Role::Handler, Role::Leader, Role::Supervisor],
        )
        .await;
    let province = w.officer("prov", "land-330000", &[Role::Supervisor]).await;
    let recused = w.officer("rec", "land-330106", &[Role::Handler]).await;
    let disabled = w
        .officer("dis", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    w.env()
        .db
        .update_item()
        .table_name(&w.env().table)
        .key("pk", AttributeValue::S("OFFICER#dis".into()))
        .key("sk", AttributeValue::S("OFFICER".into()))
        .update_expression("SET disabled = :t")
        .expression_attribute_values(":t", AttributeValue::Bool(true))
        .send()
        .await
        .expect("disable");
    let unknown = officer("nobody", "land-330106", &[Role::Leader]);
    w.receive("c-1", 1, "330106", at(3, 10)).await;
    let now = at(3, 11);
    ok(&w
        .act(&recused, "c-1", "recuse", json!({"reason": "亲属"}), now)
        .await);
    let before = w.version(&own, "c-1", now).await;

    let callers = [
        (Who::OwnHandler, &own),
        (Who::SiblingCounty, &sibling),
        (Who::ParentCity, &city),
        (Who::Province, &province),
        (Who::Recused, &recused),
        (Who::Disabled, &disabled),
        (Who::Unknown, &unknown),
    ];
    let mut checked = 0;
    for (method, pattern, route) in ROUTES.all() {
        if !pattern.starts_with("/api/officer/clues/") {
            continue;
        }
        let paths: Vec<String> = match route {
            Route::Act => judgment::actions::Action::ALL
                .iter()
                .map(|a| format!("/api/officer/clues/c-1/{}", a.name()))
                .collect(),
            Route::Preview => judgment::actions::Action::ALL
                .iter()
                .map(|a| format!("/api/officer/clues/c-1/{}/preview", a.name()))
                .collect(),
            Route::Evidence => vec!["/api/officer/clues/c-1/evidence/att-none".to_owned()],
            _ => vec![pattern.replace("{id}", "c-1")],
        };
        for path in paths {
            for (who, o) in callers {
                let mut r = Req::new(method, &path);
                r.claims = claims(o);
                // A hostile token: claims naming the handling bureau with every role.
                r.claims
                    .insert("custom:bureau_id".into(), "land-330106".into());
                r.claims
                    .insert("custom:roles".into(), "handler,leader,admin".into());
                r.headers
                    .insert("content-type".into(), "application/json".into());
                r.headers
                    .insert("idempotency-key".into(), format!("m-{checked}"));
                // An empty body: the matrix asks who may, not whether the request is complete.
                r.body = json!({"version": 0}).to_string().into_bytes();
                let resp = w.app.handle(&r, now).await;
                let got = resp.status;
                let expected: &[u16] = match who {
                    Who::Unknown | Who::Disabled => &[403],
                    Who::Recused => &[403],
                    Who::SiblingCounty => &[404],
                    // Readers see; acting is refused (supervision needs a date and a note).
                    Who::ParentCity | Who::Province => {
                        if method == "GET" {
                            if route == Route::Evidence {
                                &[404]
                            } else {
                                &[200]
                            }
                        } else if path.ends_with("/supervise")
                            || path.ends_with("/supervise/preview")
                        {
                            &[400]
                        } else if path.contains("/supervision-close") {
                            // Theirs to close, but nothing is under supervision.
                            &[409]
                        } else {
                            &[403]
                        }
                    }
                    // The handling bureau: reads; actions fail only on the incomplete body or
                    // the stale version 0, never on who asks.
                    Who::OwnHandler => {
                        if method == "GET" {
                            if route == Route::Evidence {
                                &[404]
                            } else {
                                &[200]
                            }
                        } else {
                            &[200, 400, 403, 409, 422]
                        }
                    }
                };
                assert!(
                    expected.contains(&got),
                    "{who:?} {method} {path}: {got} {}",
                    resp.body
                );
                if who == Who::OwnHandler && method == "POST" && !path.ends_with("/preview") {
                    assert_ne!(got, 200, "{path}: version 0 is never current");
                }
                if who == Who::OwnHandler && method == "POST" && got == 403 {
                    // Only the supervisor-only action is refused to the handling bureau.
                    assert!(
                        path.ends_with("/supervise")
                            || path.ends_with("/supervise/preview")
                            || path.contains("/supervision-close"),
                        "{path}: {}",
                        resp.body
                    );
                }
                for secret in ["oWx0001", "13812340001", "张三"] {
                    assert!(
                        !resp.body.contains(secret),
                        "{who:?} {path} leaked {secret}"
                    );
                }
                checked += 1;
            }
        }
    }
    assert!(checked >= 7 * 32, "{checked}");
    assert_eq!(
        w.version(&own, "c-1", now).await,
        before,
        "no refusal changed the clue"
    );
}

/// The OpenAPI document names every route of the table with its method (and nothing is
/// routed that the document does not describe).
#[test]
fn the_openapi_document_describes_every_officer_route() {
    let doc = include_str!("../../../shared/api/openapi.yaml");
    let lines: Vec<&str> = doc.lines().collect();
    for (method, pattern, _) in ROUTES.all() {
        let start = lines
            .iter()
            .position(|l| *l == format!("  {pattern}:"))
            .unwrap_or_else(|| panic!("{pattern} is not in openapi.yaml"));
        let end = lines[start + 1..]
            .iter()
            .position(|l| l.starts_with("  /") || !l.starts_with(' '))
            .map_or(lines.len(), |i| start + 1 + i);
        let want = format!("    {}:", method.to_lowercase());
        assert!(
            lines[start..end].iter().any(|l| *l == want),
            "{method} {pattern} is not in openapi.yaml"
        );
    }
    let documented = lines
        .iter()
        .filter(|l| l.starts_with("  /api/officer/"))
        .count();
    let routed: std::collections::BTreeSet<&str> = ROUTES.all().map(|(_, p, _)| p).collect();
    assert_eq!(
        documented,
        routed.len(),
        "a documented path that is not routed"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn evidence_altered_after_upload_is_reported_and_never_linked() {
    use aws_sdk_s3::primitives::ByteStream;
    use sha2::{Digest, Sha256};
    let mut w = World::on_table().await;
    let s3 = aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(&w.env().endpoint)
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "t", "t", None, None, "t",
            ))
            .force_path_style(true)
            .build(),
    );
    let buckets = s3.list_buckets().send().await.expect("buckets");
    let bucket = buckets
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .find(|n| n.contains("attachments"))
        .expect("the attachment bucket")
        .to_owned();
    w.app.evidence = Some(judgment::evidence::EvidenceBucket {
        s3: s3.clone(),
        bucket: bucket.clone(),
    });
    let photo = b"\xff\xd8\xff\xe0 a photo of the farmland".to_vec();
    let attachment = domain::AttachmentId::parse("att-photo-1").expect("id");
    s3.put_object()
        .bucket(&bucket)
        .key(store::attachments::evidence_key(&attachment))
        .body(ByteStream::from(photo.clone()))
        .send()
        .await
        .expect("put");
    let h = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let mut sub = w.env().submission("c-ev", "330106", at(3, 10)).await;
    sub.evidence = vec![domain::event::Evidence {
        attachment: attachment.clone(),
        sha256: hex::encode(Sha256::digest(&photo)),
        content_type: "image/jpeg".into(),
        size: photo.len() as u64,
    }];
    w.env()
        .store
        .receive(
            sub,
            support::identity(1),
            at(3, 10),
            &support::key("rcv-ev"),
        )
        .await
        .expect("receive");
    let now = at(3, 11);
    let path = "/api/officer/clues/c-ev/evidence/att-photo-1";

    let intact = ok(&w.get(&h, path, now).await);
    assert_eq!(intact["check"]["status"], "intact");
    assert!(
        intact["check"]["url"]
            .as_str()
            .is_some_and(|u| u.contains("X-Amz-Signature")),
        "{intact}"
    );
    // Someone with bucket access replaces the object: reported as altered, with no link.
    s3.put_object()
        .bucket(&bucket)
        .key(store::attachments::evidence_key(&attachment))
        .body(ByteStream::from(
            b"\xff\xd8\xff\xe0 another picture".to_vec(),
        ))
        .send()
        .await
        .expect("tamper");
    let altered = ok(&w.get(&h, path, now).await);
    assert_eq!(altered["check"]["status"], "altered");
    assert!(altered["check"].get("url").is_none());
    let other = w
        .get(&h, "/api/officer/clues/c-ev/evidence/att-other", now)
        .await;
    assert_eq!(refused(&other), (404, "evidence_not_found".into()));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_leader_transfers_on_and_off_platform() {
    let w = World::twin().await;
    // An enforcement department on the platform, inside Xihu's territory (art. 20).
    w.store()
        .put_bureau(&domain::Bureau {
            id: support::bid("enf-330106"),
            name: "杭州市西湖区综合行政执法局".into(),
            region: "杭州市西湖区".into(),
            level: domain::BureauLevel::County,
            kind: domain::BureauKind::Enforcement,
            division: Some(support::code("330106")),
            city_direct: false,
        })
        .await
        .expect("enforcement bureau");
    let h = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let leader = w
        .officer("xh-l", "land-330106", &[Role::Handler, Role::Leader])
        .await;
    let enf = w.officer("enf-h", "enf-330106", &[Role::Handler]).await;
    w.receive("c-on", 1, "330106", at(3, 10)).await;
    w.receive("c-off", 2, "330106", at(3, 10)).await;
    let now = at(3, 11);

    let on = json!({"mode": "on_platform", "to": "enf-330106"});
    let r = w.act(&h, "c-on", "transfer", on.clone(), now).await;
    assert_eq!(refused(&r), (403, "missing_role".into()));
    let r = w
        .act(
            &leader,
            "c-on",
            "transfer",
            json!({"mode": "on_platform", "to": "land-330110"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (422, "bad_transfer_target".into()));
    let r = ok(&w.act(&leader, "c-on", "transfer", on, now).await);
    assert_eq!(
        r["clue"]["handler"], "enf-330106",
        "the department becomes the handler"
    );
    let inbox = ok(&w.get(&enf, "/api/officer/inbox", now).await);
    assert_eq!(inbox["items"][0]["id"], "c-on");

    // Off platform: the bureau stays the handler and still owes the notices.
    let r = w
        .act(
            &leader,
            "c-off",
            "transfer",
            json!({"mode": "off_platform"}),
            now,
        )
        .await;
    assert_eq!(refused(&r), (400, "department_required".into()));
    let r = ok(&w
        .act(
            &leader,
            "c-off",
            "transfer",
            json!({"mode": "off_platform", "department": "杭州市西湖区综合行政执法局", "handed_over_on": "2026-03-11"}),
            now,
        )
        .await);
    assert_eq!(r["clue"]["handler"], "land-330106");
    assert!(
        r["events"]
            .as_array()
            .expect("events")
            .iter()
            .any(|e| e["type"] == "transferred")
    );
}
