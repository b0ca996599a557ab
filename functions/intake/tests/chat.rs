//! The guided chat of the WeChat callback (`intake::callback::CallbackApp`) against a
//! serialized moto with `template.yaml` deployed and the fake WeChat in-process: the welcome, a
//! clue filed once however often WeChat retries, cancelling, photos that cannot be kept, and the
//! same answers as the H5 form for places without a bureau and hostile texts.

mod support;

use chrono::Utc;
use serde_json::json;
use store::AttachmentStatus;
use support::{
    CHAT_TO_FACTS, PUBLIC, World, event_msg, h5_form, image_msg, json_body, named, text_msg,
};

const OPENID: &str = "oChatReporter0000000000001";

/// The guided chat from its keyword to the facts, with no subject named ("无").
const NO_SUBJECT_TO_FACTS: [&str; 5] = [
    "举报",
    "浙江省杭州市西湖区",
    "留下街道某村东侧",
    "无",
    "在基本农田上建厂房。",
];

/// Walks the guided chat up to the consent question; returns the last reply.
async fn chat_until_consent(w: &World, openid: &str, base: i64) -> String {
    let r = w.say_each(openid, &CHAT_TO_FACTS, base).await;
    assert!(r.contains("照片"), "asks for photos: {r}");
    w.say_each(openid, &["完成"], base + 10).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_subscriber_is_welcomed_with_links_to_report_and_to_my_clues() {
    // Arrange
    let w = World::start().await;

    // Act
    let welcome = w
        .say(
            &event_msg(OPENID, "subscribe", None, Utc::now().timestamp()),
            OPENID,
        )
        .await
        .expect("welcome");

    // Assert
    assert!(
        welcome.contains(&format!("{PUBLIC}/api/reporter/login?return=%23%2Freport"))
            && welcome.contains(&format!("{PUBLIC}/h5/index.html#/mine")),
        "{welcome}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clue_by_guided_chat_waits_for_its_photo_then_retried_consents_file_it_once() {
    // Arrange: a reporter in the guided chat
    let w = World::start().await;

    // Act: the dialogue, with a photo that the attachments function processes meanwhile
    w.say_each(OPENID, &NO_SUBJECT_TO_FACTS, 100).await;
    let r = w
        .say(&image_msg(OPENID, "media-photo-1", 110), OPENID)
        .await
        .expect("photo reply");
    assert!(r.contains("第1张"), "{r}");
    let queued = w.core().media.sent.lock().expect("lock").clone();
    assert_eq!(queued.len(), 1, "the photo download was requested");
    let pending = w
        .side
        .attachment(&queued[0].attachment_id)
        .await
        .expect("read")
        .expect("record");
    assert_eq!(pending.status, AttachmentStatus::Pending);
    let consent = w.answer(OPENID, "完成", 111).await;
    assert!(consent.contains("回复“同意”"), "{consent}");
    // Consent before the photo is processed: refused visibly, the draft kept.
    let early = w.answer(OPENID, "同意", 112).await;
    assert!(early.contains("处理中"), "{early}");
    w.side
        .settle_attachment(
            &pending,
            AttachmentStatus::Ready {
                sha256: "ab".repeat(32),
                content_type: "image/jpeg".into(),
                size: 1234,
            },
        )
        .await
        .expect("settle");

    // The consent message is delivered four times: twice at once, then twice more.
    let agree = text_msg(OPENID, "同意", 113);
    let reqs: Vec<_> = (0..4)
        .map(|i| w.push_req(&agree, OPENID, &format!("n113x{i}")))
        .collect();
    let now = Utc::now();
    let (a, b) = tokio::join!(w.handle(&reqs[0], now), w.handle(&reqs[1], now));
    let c = w.handle(&reqs[2], Utc::now()).await;
    let d = w.handle(&reqs[3], Utc::now()).await;

    // Assert: one clue, one receipt notice, the same receipt answered on later retries
    for r in [&a, &b, &c, &d] {
        assert_eq!(r.status, 200, "{}", r.body);
    }
    let clues = w.clues_of(OPENID).await;
    assert_eq!(clues.len(), 1);
    let clue = &clues[0].clue;
    assert_eq!(clue.location.division.as_str(), "330106");
    assert_eq!(clue.channel, domain::event::Channel::Chat);
    assert_eq!(clue.evidence.len(), 1);
    assert_eq!(clue.evidence[0].sha256, "ab".repeat(32));
    assert_eq!(
        w.outbox_count().await,
        1,
        "one receipt notice in the outbox"
    );
    assert_eq!(w.core().notices.sent().len(), 1, "queued once");
    let reply = w
        .platform
        .open_reply(d.body.as_bytes(), Utc::now().timestamp())
        .expect("reply")
        .and_then(|r| r.content)
        .expect("receipt answered again");
    assert!(reply.contains(clue.clue_no.as_str()), "{reply}");
    assert!(reply.contains("已接收您举报的违法线索"), "{reply}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn cancelling_files_nothing_and_a_repeated_event_is_answered_once() {
    // Arrange: a report up to the consent question
    let w = World::start().await;
    chat_until_consent(&w, OPENID, 200).await;

    // Act
    let r = w.answer(OPENID, "取消", 300).await;
    let t = Utc::now().timestamp();
    let first = w
        .say(&event_msg(OPENID, "CLICK", Some("REPORT_CHAT"), t), OPENID)
        .await;
    let again = w
        .say(&event_msg(OPENID, "CLICK", Some("REPORT_CHAT"), t), OPENID)
        .await;

    // Assert
    assert!(r.contains("已取消"), "{r}");
    assert_eq!(first, again);
    assert_eq!(w.clues_of(OPENID).await.len(), 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_photos_that_cannot_be_kept_are_named_and_not_filed() {
    // Arrange: a chat report with three photos
    let w = World::start().await;
    let openid = "oChatPhotos000000000000001";
    w.say_each(openid, &NO_SUBJECT_TO_FACTS, 500).await;
    for (i, media) in ["m-ok", "m-html", "m-slow"].iter().enumerate() {
        w.say(&image_msg(openid, media, 510 + i as i64), openid)
            .await
            .expect("photo reply");
    }
    let queued = w.core().media.sent.lock().expect("lock").clone();
    assert_eq!(queued.len(), 3, "three downloads requested");
    let mut records = Vec::new();
    for q in &queued {
        records.push(
            w.side
                .attachment(&q.attachment_id)
                .await
                .expect("read")
                .expect("record"),
        );
    }
    // what the attachments function found: ready, refused by content, still downloading
    w.side
        .settle_attachment(
            &records[0],
            AttachmentStatus::Ready {
                sha256: "cd".repeat(32),
                content_type: "image/jpeg".into(),
                size: 2048,
            },
        )
        .await
        .expect("settle");
    w.side
        .settle_attachment(
            &records[1],
            AttachmentStatus::Rejected {
                reason: "type_not_allowed".into(),
            },
        )
        .await
        .expect("settle");

    // Act: the summary, then consent while one photo is still pending
    let summary = w.answer(openid, "完成", 520).await;
    let wait = w.answer(openid, "同意", 521).await;
    let before = w.clues_of(openid).await.len();
    let receipt = w.answer(openid, "直接提交", 522).await;

    // Assert: each photo not kept is named with its reason, the pending one said to be pending
    assert!(
        summary.starts_with("已收到3张照片，已保存1张。"),
        "{summary}"
    );
    assert!(
        summary.contains("第2张照片未能保存：文件不是允许的照片格式"),
        "{summary}"
    );
    assert!(summary.contains("第3张照片仍在处理中"), "{summary}");
    assert!(summary.contains("回复“同意”"), "{summary}");
    assert!(wait.contains("第3张照片仍在处理中"), "{wait}");
    assert!(wait.contains("直接提交"), "{wait}");
    assert_eq!(before, 0, "nothing filed while waiting");
    assert!(receipt.contains("已接收您举报的违法线索"), "{receipt}");
    assert!(
        receipt.contains("第2张照片未能保存：文件不是允许的照片格式"),
        "{receipt}"
    );
    assert!(
        receipt.contains("第3张照片提交时仍在处理中，未随举报提交"),
        "{receipt}"
    );
    let clues = w.clues_of(openid).await;
    assert_eq!(clues.len(), 1);
    let clue = &clues[0].clue;
    assert_eq!(clue.evidence.len(), 1, "only the ready photo is evidence");
    assert_eq!(clue.evidence[0].sha256, "cd".repeat(32));

    // and the clue page in 我的举报 says the same
    let cookie = w.sign_in(openid).await;
    let page = w
        .handle(
            &w.api(
                "GET",
                &format!("/api/reporter/clues/{}", clue.id),
                Some(&cookie),
                "",
            ),
            Utc::now(),
        )
        .await;
    assert_eq!(page.status, 200, "{}", page.body);
    let page = json_body(&page);
    assert_eq!(page["evidence_count"], 1);
    assert_eq!(
        page["evidence_left_out"],
        json!([
            {"number": 2, "reason": "not_an_image", "text": "文件不是允许的照片格式"},
            {"number": 3, "reason": "still_processing", "text": "提交时仍在处理中，未随举报提交"},
        ])
    );
}

/// Issue 17 points 4 and 6: a place without a bureau is said before the reporter writes
/// anything, in the picker, the form and the chat alike; and the chat refuses the texts the H5
/// form refuses, with the same answer, because both apply the domain's one text policy.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn places_without_a_bureau_and_hostile_texts_get_the_same_answer_in_both_channels() {
    // Arrange
    let w = World::start().await;
    let me = w.sign_in("oSameAnswers00000000000001").await;
    let chatter = "oSameAnswers00000000000002";
    let now = Utc::now();
    let get = |path: &str| w.api("GET", path, Some(&me), "");
    let list = |path: &str| {
        let w = &w;
        let path = path.to_owned();
        async move {
            let r = w.handle(&w.api("GET", &path, None, ""), Utc::now()).await;
            assert_eq!(r.status, 200, "{}", r.body);
            json_body(&r)
                .as_array()
                .expect("list")
                .iter()
                .map(|d| {
                    (
                        d["code"].as_str().expect("code").to_owned(),
                        d["served"].as_bool().expect("served"),
                    )
                })
                .collect::<std::collections::HashMap<_, _>>()
        }
    };
    let notice = w
        .handle(&get("/api/reporter/reporting-notice?division=330106"), now)
        .await;
    let version = json_body(&notice)["version_id"]
        .as_str()
        .expect("version")
        .to_owned();
    let before = w.snapshot().await;

    // Act + Assert: the picker marks the served divisions
    let provinces = list("/api/reporter/divisions").await;
    assert_eq!(provinces.get("330000"), Some(&true), "浙江 has bureaus");
    assert_eq!(provinces.get("110000"), Some(&false), "北京 has none");
    let beijing = list("/api/reporter/divisions?parent=110100").await;
    assert_eq!(beijing.get("110101"), Some(&false));
    assert!(beijing.values().all(|served| !served));
    let hangzhou = list("/api/reporter/divisions?parent=330100").await;
    assert_eq!(hangzhou.get("330106"), Some(&true));

    // The notice of a place without a bureau is not served: what to do instead.
    let refused = w
        .handle(&get("/api/reporter/reporting-notice?division=110101"), now)
        .await;
    assert_eq!(
        (refused.status, refused.error_code().as_deref()),
        (422, Some("not_served")),
        "{}",
        refused.body
    );
    let h5_says = json_body(&refused)["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(
        h5_says.starts_with("北京市东城区") && h5_says.contains("12336"),
        "{h5_says}"
    );
    let mut beijing_form = named(h5_form(&version));
    beijing_form["division"] = json!("110101");
    let filed = w.handle(&w.post_clue(&me, &beijing_form), now).await;
    assert_eq!(
        (filed.status, filed.error_code().as_deref()),
        (422, Some("not_served")),
        "{}",
        filed.body
    );

    // The chat says the same, right after the place, before the address is asked.
    let base = Utc::now().timestamp() * 1000;
    let say = |text: &str, n: i64| {
        let w = &w;
        let xml = text_msg(chatter, text, base + n);
        async move { w.say(&xml, chatter).await.expect("a reply") }
    };
    say("举报", 1).await;
    let chat_says = say("北京市东城区", 2).await;
    assert!(chat_says.starts_with(&h5_says), "{chat_says}");

    // Hostile texts: the H5 form's answer and the chat's, field by field.
    let h5 = |field: &'static str, value: &'static str| {
        let w = &w;
        let me = &me;
        let mut f = named(h5_form(&version));
        f[field] = json!(value);
        async move {
            let r = w.handle(&w.post_clue(me, &f), Utc::now()).await;
            assert_eq!(r.status, 400, "{field}: {}", r.body);
            json_body(&r)["error"]["message"]
                .as_str()
                .expect("message")
                .to_owned()
        }
    };
    assert_eq!(
        say("浙江省杭州市西湖区", 3).await,
        "请输入详细地址，如乡镇（街道）、村、路名及周边标志。"
    );
    let mut n = 10;
    for (i, (field, bad, good)) in [
        ("address", "<script>alert(1)</script>", "留下街道某村东侧"),
        ("address", "留下街道\u{202E}侧东村某", "留下街道某村东侧"),
        ("subject", "<img src=x onerror=alert(1)>", "某建材公司"),
        ("subject", "某\u{200B}建材公司", "某建材公司"),
        (
            "facts",
            "</textarea><svg onload=alert(1)>",
            "在基本农田上建厂房。",
        ),
        ("facts", "\u{200B}\u{200B}\u{2060}", "在基本农田上建厂房。"),
    ]
    .into_iter()
    .enumerate()
    {
        let form_says = h5(field, bad).await;
        n += 1;
        let chat_reply = say(bad, n).await;
        assert_eq!(chat_reply, format!("{form_says}。"), "{field} {bad:?}");
        // After the second case of a field, a good answer moves the chat to the next step.
        if i % 2 == 1 {
            n += 1;
            let next = say(good, n).await;
            assert!(
                !next.contains("不能包含") && !next.contains("字符"),
                "{next}"
            );
        }
    }

    // Nothing was filed by either channel.
    for who in ["oSameAnswers00000000000001", chatter] {
        assert!(w.clues_of(who).await.is_empty(), "{who} filed nothing");
    }
    let after = w.snapshot().await;
    assert!(
        after
            .iter()
            .all(|i| before.contains(i) || i.contains("CHAT#") || i.contains("CB#")),
        "only chat drafts and callback records changed"
    );
}
