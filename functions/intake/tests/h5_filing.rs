//! The H5 API's filing path against a serialized moto with `template.yaml` deployed and the fake
//! WeChat in-process: the picker and the reporting notice, a filing and its double tap, the
//! reporter's list and clue page, messages, and the legal deadlines shown.

mod support;

use chrono::Utc;
use serde_json::json;
use support::{World, h5_form, json_body, named, ready};

const ME: &str = "oH5Reporter000000000000001";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_picker_lists_the_provinces_and_the_notice_names_the_city_and_its_categories() {
    // Arrange
    let w = World::start().await;
    let me = w.sign_in(ME).await;

    // Act
    let provinces = w
        .handle(
            &w.api("GET", "/api/reporter/divisions", None, ""),
            Utc::now(),
        )
        .await;
    let notice = w
        .handle(
            &w.api(
                "GET",
                "/api/reporter/reporting-notice?division=330106",
                Some(&me),
                "",
            ),
            Utc::now(),
        )
        .await;

    // Assert
    assert_eq!(provinces.status, 200);
    assert!(
        json_body(&provinces)
            .as_array()
            .is_some_and(|a| a.len() > 30)
    );
    assert_eq!(notice.status, 200, "{}", notice.body);
    let notice = json_body(&notice);
    assert!(notice["version_id"].as_str().is_some(), "{notice}");
    assert_eq!(notice["city"], "330100");
    assert_eq!(notice["categories"].as_array().map(Vec::len), Some(10));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_filing_is_answered_with_the_receipt_notice_and_a_double_tap_is_the_same_clue() {
    // Arrange: a named filing with a processed photo
    let w = World::start().await;
    let me = w.sign_in(ME).await;
    let version = w.notice_version(&me).await;
    w.attachment(ME, "a-ready", ready()).await;
    let mut form = named(h5_form(&version));
    form["attachments"] = json!(["a-ready"]);
    let now = Utc::now();

    // Act: the same body twice
    let filed = w.handle(&w.post_clue(&me, &form), now).await;
    let again = w.handle(&w.post_clue(&me, &form), now).await;

    // Assert
    assert_eq!(filed.status, 201, "{}", filed.body);
    let filed = json_body(&filed);
    assert_eq!(
        filed["receipt_notice"],
        "您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。感谢您对国土资源工作的支持！"
    );
    let clue_id = filed["clue_id"].as_str().expect("id");
    assert_eq!(json_body(&again)["clue_id"], clue_id);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_clues_list_and_show_the_filed_clue_without_officer_internals() {
    // Arrange
    let w = World::start().await;
    let (me, _, clue_id) = w.signed_in_with_a_clue(ME).await;

    // Act
    let list = w
        .handle(
            &w.api("GET", "/api/reporter/clues", Some(&me), ""),
            Utc::now(),
        )
        .await;
    let detail = w
        .handle(
            &w.api(
                "GET",
                &format!("/api/reporter/clues/{clue_id}"),
                Some(&me),
                "",
            ),
            Utc::now(),
        )
        .await;

    // Assert
    assert_eq!(json_body(&list).as_array().map(Vec::len), Some(1));
    assert_eq!(json_body(&list)[0]["state_label"], "待判定");
    assert_eq!(detail.status, 200);
    let detail = json_body(&detail);
    assert_eq!(detail["location_name"], "浙江省杭州市西湖区");
    assert_eq!(detail["notices"][0]["delivery"], "queued");
    assert!(detail["timeline"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(
        !detail.to_string().contains("officer\":"),
        "no officer internals"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporter_adds_a_message_to_their_clue() {
    // Arrange
    let w = World::start().await;
    let (me, _, clue_id) = w.signed_in_with_a_clue(ME).await;

    // Act
    let msg = w
        .handle(
            &w.message(&me, &clue_id, r#"{"text":"补充：现场仍在施工。"}"#),
            Utc::now(),
        )
        .await;

    // Assert
    assert_eq!(msg.status, 201, "{}", msg.body);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn my_clues_show_the_legal_deadlines_as_shanghai_dates_or_pending() {
    use chrono::TimeZone;
    // Arrange: a clue received Monday 2026-03-09 10:00 Shanghai (7 working days: 2026-03-18),
    // and one received 2026-12-28, whose deadline falls in 2027 (not in the calendar yet)
    let w = World::start().await;
    let openid = support::store_support::identity(7).openid;
    let me = w.sign_in(&openid).await;
    let march = Utc
        .with_ymd_and_hms(2026, 3, 9, 2, 0, 0)
        .single()
        .expect("t");
    let december = Utc
        .with_ymd_and_hms(2026, 12, 28, 2, 0, 0)
        .single()
        .expect("t");
    let dated = w.env.receive("cdlmarch", 7, "330106", march).await;
    let pending = w.env.receive("cdldecember", 7, "330106", december).await;

    // Act
    let list = w
        .handle(
            &w.api("GET", "/api/reporter/clues", Some(&me), ""),
            Utc::now(),
        )
        .await;
    let mut details = Vec::new();
    for id in [&dated.clue_id, &pending.clue_id] {
        let req = w.api("GET", &format!("/api/reporter/clues/{id}"), Some(&me), "");
        details.push(json_body(&w.handle(&req, Utc::now()).await));
    }
    let (dated_detail, pending_detail) = (&details[0], &details[1]);

    // Assert: the judgment deadline only (escalation is internal), as a Shanghai date or 待定
    assert_eq!(list.status, 200, "{}", list.body);
    let list = json_body(&list);
    let of = |id: &str| {
        list.as_array()
            .expect("list")
            .iter()
            .find(|c| c["clue_id"] == id)
            .cloned()
            .expect("listed")
    };
    let expected_dated = json!([{
        "kind": "judgment",
        "label": "判定告知期限",
        "due_date": "2026-03-18",
        "pending": false,
        "due_text": "2026年3月18日前",
        "status": "open",
        "status_label": "办理中",
    }]);
    let expected_pending = json!([{
        "kind": "judgment",
        "label": "判定告知期限",
        "due_date": null,
        "pending": true,
        "due_text": "待定",
        "status": "open",
        "status_label": "办理中",
    }]);
    assert_eq!(of(dated.clue_id.as_str())["deadlines"], expected_dated);
    assert_eq!(of(pending.clue_id.as_str())["deadlines"], expected_pending);
    assert_eq!(dated_detail["deadlines"], expected_dated);
    assert_eq!(pending_detail["deadlines"], expected_pending);
}
