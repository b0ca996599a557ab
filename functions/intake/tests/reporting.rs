//! The intake against a serialized moto with `template.yaml` deployed and the fake WeChat
//! in-process: a clue through callbacks only, retried deliveries, the H5 API, hostile input.

mod support;

use chrono::Utc;
use serde_json::{Value, json};
use store::{AttachmentStatus, PageRequest, roles::*};
use support::{PUBLIC, World, event_msg, image_msg, text_msg};

const OPENID: &str = "oChatReporter0000000000001";

/// Walks the guided chat up to the consent question; returns the last reply.
async fn chat_until_consent(w: &World, openid: &str, base: i64) -> String {
    let steps = [
        "举报",
        "浙江省杭州市西湖区",
        "留下街道某村东侧",
        "某建材公司",
    ];
    for (i, s) in steps.iter().enumerate() {
        let r = w.say(&text_msg(openid, s, base + i as i64), openid).await;
        assert!(r.is_some(), "step {s}");
    }
    let r = w
        .say(
            &text_msg(openid, "在基本农田上建厂房，约三亩。", base + 10),
            openid,
        )
        .await
        .expect("asks for photos");
    assert!(r.contains("照片"), "{r}");
    w.say(&text_msg(openid, "完成", base + 11), openid)
        .await
        .expect("consent question")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_clue_by_guided_chat_then_retried_deliveries_file_it_once() {
    // Arrange
    let w = World::start().await;
    let welcome = w
        .say(
            &event_msg(OPENID, "subscribe", None, Utc::now().timestamp()),
            OPENID,
        )
        .await
        .expect("welcome");
    assert!(
        welcome.contains(&format!("{PUBLIC}/api/reporter/login?return=%23%2Freport"))
            && welcome.contains(&format!("{PUBLIC}/h5/index.html#/mine")),
        "{welcome}"
    );

    // Act: the dialogue, with a photo that the attachments function processes meanwhile
    for (i, s) in [
        "举报",
        "浙江省杭州市西湖区",
        "留下街道某村东侧",
        "无",
        "在基本农田上建厂房。",
    ]
    .iter()
    .enumerate()
    {
        w.say(&text_msg(OPENID, s, 100 + i as i64), OPENID).await;
    }
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
    let consent = w
        .say(&text_msg(OPENID, "完成", 111), OPENID)
        .await
        .expect("consent");
    assert!(consent.contains("回复“同意”"), "{consent}");
    // Consent before the photo is processed: refused visibly, the draft kept.
    let early = w
        .say(&text_msg(OPENID, "同意", 112), OPENID)
        .await
        .expect("answer");
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
    let reporter = w.core().keyer.key(OPENID);
    let clues = w
        .core()
        .store
        .reporter_clues(&reporter, PageRequest::default())
        .await
        .expect("clues");
    assert_eq!(clues.items.len(), 1);
    let clue = &clues.items[0].clue;
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

    // "取消" ends a new report; the same event delivered twice is answered once
    chat_until_consent(&w, OPENID, 200).await;
    let r = w
        .say(&text_msg(OPENID, "取消", 300), OPENID)
        .await
        .expect("cancel");
    assert!(r.contains("已取消"), "{r}");
    let t = Utc::now().timestamp();
    let first = w
        .say(&event_msg(OPENID, "CLICK", Some("REPORT_CHAT"), t), OPENID)
        .await;
    let again = w
        .say(&event_msg(OPENID, "CLICK", Some("REPORT_CHAT"), t), OPENID)
        .await;
    assert_eq!(first, again);
    assert_eq!(
        w.core()
            .store
            .reporter_clues(&reporter, PageRequest::default())
            .await
            .expect("clues")
            .items
            .len(),
        1
    );
}

fn form(division: &str, notice: &str, attachments: &[&str]) -> Value {
    json!({
        "division": division,
        "address": "留下街道某村东侧农田",
        "gps": {"lat": 30.25, "lng": 120.05},
        "subject": "某建材公司",
        "category": {"kind": "annex", "code": "farmland_destruction"},
        "facts": "在基本农田上堆放建材并硬化地面。",
        "attachments": attachments,
        "notice_version": notice,
        "consent": true,
        "identity": {"name": "张三", "phone": "13812345678", "id_number": null},
        "resubmission_of": null,
    })
}

fn body(r: &intake::Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_h5_api_files_lists_and_shows_a_clue_and_refuses_hostile_input() {
    // Arrange: two reporters signed in through OAuth
    let w = World::start().await;
    let me = w.sign_in("oH5Reporter000000000000001").await;
    let other = w.sign_in("oH5Reporter000000000000002").await;
    let now = Utc::now();
    let get = |path: &str, c: Option<&str>| w.api("GET", path, c, "");

    let provinces = w.handle(&get("/api/reporter/divisions", None), now).await;
    assert_eq!(provinces.status, 200);
    assert!(body(&provinces).as_array().is_some_and(|a| a.len() > 30));
    let notice = w
        .handle(
            &get("/api/reporter/reporting-notice?division=330106", Some(&me)),
            now,
        )
        .await;
    assert_eq!(notice.status, 200, "{}", notice.body);
    let notice = body(&notice);
    let version = notice["version_id"].as_str().expect("version").to_owned();
    assert_eq!(notice["city"], "330100");
    assert_eq!(notice["categories"].as_array().map(Vec::len), Some(10));

    // Attachments of every state, mine and another reporter's
    let mine = w.core().keyer.key("oH5Reporter000000000000001");
    let theirs = w.core().keyer.key("oH5Reporter000000000000002");
    let att = |id: &str, owner: &domain::ReporterKey, status: AttachmentStatus| store::Attachment {
        id: domain::AttachmentId::parse(id).expect("id"),
        owner: owner.clone(),
        declared_type: "image/jpeg".into(),
        declared_size: 10,
        source: store::AttachmentSource::Upload,
        status,
        created_at: now,
    };
    let ready = AttachmentStatus::Ready {
        sha256: "cd".repeat(32),
        content_type: "image/jpeg".into(),
        size: 10,
    };
    for a in [
        att("a-ready", &mine, ready.clone()),
        att("a-pending", &mine, AttachmentStatus::Pending),
        att(
            "a-rejected",
            &mine,
            AttachmentStatus::Rejected {
                reason: "type_mismatch".into(),
            },
        ),
        att("a-theirs", &theirs, ready.clone()),
    ] {
        assert!(w.side.create_attachment(&a).await.expect("create"));
    }

    // Act: file a clue
    let good = form("330106", &version, &["a-ready"]).to_string();
    let filed = w
        .handle(&w.api("POST", "/api/reporter/clues", Some(&me), &good), now)
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let filed = body(&filed);
    assert_eq!(
        filed["receipt_notice"],
        "您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。感谢您对国土资源工作的支持！"
    );
    let clue_id = filed["clue_id"].as_str().expect("id").to_owned();
    // The same body again (a double tap) is the same clue.
    let again = w
        .handle(&w.api("POST", "/api/reporter/clues", Some(&me), &good), now)
        .await;
    assert_eq!(body(&again)["clue_id"], clue_id.as_str());
    let list = w.handle(&get("/api/reporter/clues", Some(&me)), now).await;
    assert_eq!(body(&list).as_array().map(Vec::len), Some(1));
    assert_eq!(body(&list)[0]["state_label"], "待判定");
    let detail = w
        .handle(
            &get(&format!("/api/reporter/clues/{clue_id}"), Some(&me)),
            now,
        )
        .await;
    assert_eq!(detail.status, 200);
    let detail = body(&detail);
    assert_eq!(detail["location_name"], "浙江省杭州市西湖区");
    assert_eq!(detail["notices"][0]["delivery"], "queued");
    assert!(detail["timeline"].as_array().is_some_and(|t| !t.is_empty()));
    assert!(
        !detail.to_string().contains("officer\":"),
        "no officer internals"
    );
    let msg = w
        .handle(
            &w.api(
                "POST",
                &format!("/api/reporter/clues/{clue_id}/messages"),
                Some(&me),
                r#"{"text":"补充：现场仍在施工。"}"#,
            ),
            now,
        )
        .await;
    assert_eq!(msg.status, 201, "{}", msg.body);

    // Hostile input: each refused with a 4xx and a stable code; nothing stored changes.
    let before = w.snapshot().await;
    let mut cases: Vec<(String, intake::Req, u16, &str)> = Vec::new();
    let mut case = |name: String, req: intake::Req, status: u16, code: &'static str| {
        assert!((400..500).contains(&status));
        cases.push((name, req, status, code));
    };
    // no session, forged or expired sessions
    for path in ["/api/reporter/clues", "/api/reporter/clues/cabc"] {
        case(
            format!("no session {path}"),
            get(path, None),
            401,
            "unauthenticated",
        );
    }
    for (i, c) in [
        "".to_owned(),
        "x".to_owned(),
        "!!!!".to_owned(),
        "A".repeat(2000),
        w.app
            .session
            .seal("oH5Reporter000000000000001", now.timestamp() - 3 * 3600),
        support::session_key(9).seal("oH5Reporter000000000000001", now.timestamp()),
        format!("{me}A"),
    ]
    .into_iter()
    .enumerate()
    {
        case(
            format!("bad session {i}"),
            get("/api/reporter/clues", Some(&c)),
            401,
            "unauthenticated",
        );
        case(
            format!("bad session post {i}"),
            w.api("POST", "/api/reporter/clues", Some(&c), &good),
            401,
            "unauthenticated",
        );
    }
    // bodies
    let post = |b: &[u8]| {
        let mut r = w.api("POST", "/api/reporter/clues", Some(&me), "");
        r.body = b.to_vec();
        r
    };
    for (i, b) in ["", "{", "[]", "null", "\"x\"", "{\"division\":1}", "{}"]
        .iter()
        .enumerate()
    {
        case(format!("bad json {i}"), post(b.as_bytes()), 400, "bad_json");
    }
    case(
        "invalid utf-8".into(),
        post(b"{\"division\":\"\xff\xfe\"}"),
        400,
        "invalid_utf8",
    );
    case(
        "invalid utf-8 2".into(),
        post(&[0xc3, 0x28, 0xa0, 0xa1]),
        400,
        "invalid_utf8",
    );
    case(
        "oversize".into(),
        post(&vec![b' '; 70 * 1024]),
        413,
        "body_too_large",
    );
    let mut extra = form("330106", &version, &[]);
    extra["openid"] = json!("oSomeoneElse");
    case(
        "unknown field".into(),
        post(extra.to_string().as_bytes()),
        400,
        "bad_json",
    );
    // divisions
    for d in [
        "000000",
        "999999",
        "330100",
        "330000",
        "abcdef",
        "",
        "3301061",
        "33010",
        "110000",
        "990106",
        " 330106",
        "330106\u{0}",
    ] {
        case(
            format!("division {d:?}"),
            post(form(d, &version, &[]).to_string().as_bytes()),
            400,
            "unknown_division",
        );
        case(
            format!("notice division {d:?}"),
            get(
                &format!("/api/reporter/reporting-notice?division={d}"),
                Some(&me),
            ),
            400,
            "unknown_division",
        );
    }
    case(
        "children of unknown".into(),
        get("/api/reporter/divisions?parent=999999", None),
        400,
        "unknown_division",
    );
    // texts
    let with = |k: &str, v: Value| {
        let mut f = form("330106", &version, &[]);
        f[k] = v;
        post(f.to_string().as_bytes())
    };
    let ident_form = |v: Value| with("identity", v);
    case(
        "address too long".into(),
        with("address", json!("址".repeat(201))),
        400,
        "invalid_address",
    );
    case(
        "address empty".into(),
        with("address", json!("   ")),
        400,
        "invalid_address",
    );
    case(
        "facts empty".into(),
        with("facts", json!("")),
        400,
        "invalid_facts",
    );
    case(
        "facts too long".into(),
        with("facts", json!("事".repeat(5001))),
        400,
        "invalid_facts",
    );
    case(
        "subject too long".into(),
        with("subject", json!("主".repeat(101))),
        400,
        "invalid_subject",
    );
    case(
        "control character".into(),
        with("address", json!("某村\u{7}东侧")),
        400,
        "invalid_address",
    );
    for (i, s) in [
        "<script>alert(1)</script>",
        "<img src=x onerror=alert(1)>",
        "javascript:alert(1)",
        "</textarea><svg onload=alert(1)>",
        "<!--x-->",
    ]
    .iter()
    .enumerate()
    {
        case(
            format!("script in address {i}"),
            with("address", json!(s)),
            400,
            "markup_not_allowed",
        );
        case(
            format!("script in facts {i}"),
            with("facts", json!(s)),
            400,
            "markup_not_allowed",
        );
        case(
            format!("script in subject {i}"),
            with("subject", json!(s)),
            400,
            "markup_not_allowed",
        );
    }
    // text that hides itself (issue 16 point 9): format characters in single-line fields,
    // bidi controls anywhere, invisible-only facts
    for (i, hidden) in ["\u{202E}", "\u{2066}", "\u{200B}", "\u{FEFF}", "\u{2028}"]
        .iter()
        .enumerate()
    {
        case(
            format!("format character in address {i}"),
            with("address", json!(format!("留下街道{hidden}某村"))),
            400,
            "invalid_address",
        );
        case(
            format!("format character in subject {i}"),
            with("subject", json!(format!("某{hidden}公司"))),
            400,
            "invalid_subject",
        );
        case(
            format!("format character in name {i}"),
            ident_form(json!({"name": format!("张{hidden}三")})),
            400,
            "invalid_name",
        );
    }
    case(
        "bidi override in facts".into(),
        with("facts", json!("有人建房\u{202E}月个三已")),
        400,
        "invalid_facts",
    );
    case(
        "facts of zero-width characters only".into(),
        with("facts", json!("\u{200B}\u{200B}\u{2060}\u{200D}")),
        400,
        "invalid_facts",
    );
    case(
        "message of zero-width characters only".into(),
        w.api(
            "POST",
            &format!("/api/reporter/clues/{clue_id}/messages"),
            Some(&me),
            r#"{"text":"\u200b\u200b"}"#,
        ),
        400,
        "invalid_message",
    );
    for (i, phone) in ["---------", "12345", "+-+-+ 1", "1380013800", "12800138000"]
        .iter()
        .enumerate()
    {
        case(
            format!("phone without a phone shape {i}"),
            ident_form(json!({"phone": phone})),
            400,
            "invalid_phone",
        );
    }
    for (i, n) in [
        "110105194912310021",
        "110105194913310028",
        "110105491231002",
    ]
    .iter()
    .enumerate()
    {
        case(
            format!("resident id without its check digit {i}"),
            ident_form(json!({"id_number": n})),
            400,
            "invalid_id_number",
        );
    }
    // requests from elsewhere (issue 16 point 6)
    let from = |headers: &[(&str, &str)]| {
        let mut r = w.api("POST", "/api/reporter/clues", Some(&me), &good);
        for (k, v) in headers {
            r.headers.insert((*k).to_owned(), (*v).to_owned());
        }
        r
    };
    case(
        "form post".into(),
        from(&[("content-type", "application/x-www-form-urlencoded")]),
        415,
        "unsupported_media_type",
    );
    case(
        "text/plain post".into(),
        from(&[("content-type", "text/plain")]),
        415,
        "unsupported_media_type",
    );
    case(
        "post from another site".into(),
        from(&[("origin", "https://evil.example")]),
        403,
        "cross_origin",
    );
    case(
        "post from the execute-api host".into(),
        from(&[(
            "origin",
            "https://abc123.execute-api.cn-north-1.amazonaws.com.cn",
        )]),
        403,
        "cross_origin",
    );
    case(
        "cross-site fetch".into(),
        from(&[("sec-fetch-site", "cross-site")]),
        403,
        "cross_origin",
    );
    case(
        "message from another site".into(),
        {
            let mut r = w.api(
                "POST",
                &format!("/api/reporter/clues/{clue_id}/messages"),
                Some(&me),
                r#"{"text":"x"}"#,
            );
            r.headers.insert("origin".into(), "null".into());
            r
        },
        403,
        "cross_origin",
    );
    // a position that contradicts the county (issue 17 point 5)
    for (i, g) in [
        json!({"lat": 0, "lng": 0}),
        json!({"lat": -33.92, "lng": 18.42}),
        json!({"lat": 39.91, "lng": 116.40}),
    ]
    .into_iter()
    .enumerate()
    {
        case(
            format!("gps outside the county {i}"),
            with("gps", g),
            400,
            "gps_outside_division",
        );
    }
    case(
        "gps out of range".into(),
        with("gps", json!({"lat": 91, "lng": 0})),
        400,
        "invalid_gps",
    );
    case(
        "gps lng".into(),
        with("gps", json!({"lat": 30, "lng": 181})),
        400,
        "invalid_gps",
    );
    for (i, c) in [
        json!({"kind": "annex", "code": "no_such"}),
        json!({"kind": "annex"}),
        json!({"kind": "uncertain", "code": "x"}),
        json!({"kind": "other"}),
        json!({"kind": "city_extra", "code": "Bad Code"}),
    ]
    .into_iter()
    .enumerate()
    {
        case(
            format!("category {i}"),
            with("category", c),
            400,
            "unknown_category",
        );
    }
    case(
        "no consent".into(),
        with("consent", json!(false)),
        400,
        "consent_required",
    );
    case(
        "stale notice".into(),
        with("notice_version", json!("330100-v1-00000000")),
        409,
        "stale_notice",
    );
    case(
        "empty notice".into(),
        with("notice_version", json!("")),
        409,
        "stale_notice",
    );
    // attachments
    for (name, id, status, code) in [
        (
            "another reporter's attachment",
            "a-theirs",
            400,
            "attachment_not_found",
        ),
        ("unknown attachment", "a-nope", 400, "attachment_not_found"),
        ("pending attachment", "a-pending", 409, "attachment_pending"),
        (
            "rejected attachment",
            "a-rejected",
            400,
            "attachment_rejected",
        ),
        (
            "malformed attachment id",
            "../etc/passwd",
            400,
            "attachment_not_found",
        ),
    ] {
        case(
            name.into(),
            post(form("330106", &version, &[id]).to_string().as_bytes()),
            status,
            code,
        );
    }
    // identity
    let ident = |v: Value| ident_form(v);
    case(
        "bad phone".into(),
        ident(json!({"phone": "call me"})),
        400,
        "invalid_phone",
    );
    case(
        "bad id number".into(),
        ident(json!({"id_number": "12345"})),
        400,
        "invalid_id_number",
    );
    case(
        "script name".into(),
        ident(json!({"name": "<b>张三</b>"})),
        400,
        "markup_not_allowed",
    );
    // another reporter's clue, unknown clues
    case(
        "their view of my clue".into(),
        get(&format!("/api/reporter/clues/{clue_id}"), Some(&other)),
        404,
        "clue_not_found",
    );
    case(
        "their message on my clue".into(),
        w.api(
            "POST",
            &format!("/api/reporter/clues/{clue_id}/messages"),
            Some(&other),
            r#"{"text":"x"}"#,
        ),
        404,
        "clue_not_found",
    );
    case(
        "unknown clue".into(),
        get("/api/reporter/clues/cnope", Some(&me)),
        404,
        "clue_not_found",
    );
    case(
        "malformed clue id".into(),
        get("/api/reporter/clues/..%2F..", Some(&me)),
        404,
        "clue_not_found",
    );
    case(
        "their resubmission of my clue".into(),
        w.api("POST", "/api/reporter/clues", Some(&other), &{
            let mut f = form("330106", &version, &[]);
            f["resubmission_of"] = json!(clue_id);
            f.to_string()
        }),
        404,
        "clue_not_found",
    );
    case(
        "script in message".into(),
        w.api(
            "POST",
            &format!("/api/reporter/clues/{clue_id}/messages"),
            Some(&me),
            r#"{"text":"<script>x</script>"}"#,
        ),
        400,
        "markup_not_allowed",
    );
    case(
        "empty message".into(),
        w.api(
            "POST",
            &format!("/api/reporter/clues/{clue_id}/messages"),
            Some(&me),
            r#"{"text":" "}"#,
        ),
        400,
        "invalid_message",
    );
    // OAuth
    let oauth = |q: &str, nonce: Option<&str>| {
        let mut r = get(&format!("/api/reporter/oauth?{q}"), None);
        if let Some(n) = nonce {
            r.cookies.insert(session::LOGIN_COOKIE.into(), n.into());
        }
        r
    };
    let state = w.app.session.sign_state("#/", "n1", now.timestamp());
    case(
        "oauth without state".into(),
        oauth("code=abc", Some("n1")),
        400,
        "bad_oauth",
    );
    case(
        "oauth without code".into(),
        oauth(&format!("state={state}"), Some("n1")),
        400,
        "bad_oauth",
    );
    case(
        "oauth other browser".into(),
        oauth(&format!("code=abc&state={state}"), Some("n2")),
        400,
        "bad_oauth",
    );
    case(
        "oauth no nonce cookie".into(),
        oauth(&format!("code=abc&state={state}"), None),
        400,
        "bad_oauth",
    );
    case(
        "oauth forged state".into(),
        oauth(
            "code=abc&state=Iy8.9999999999.AAAAAAAAAAAAAAAAAAAAAA",
            Some("n1"),
        ),
        400,
        "bad_oauth",
    );
    case(
        "oauth unknown code".into(),
        oauth(&format!("code=nosuchcode&state={state}"), Some("n1")),
        400,
        "bad_oauth",
    );
    case(
        "unknown route".into(),
        get("/api/reporter/nope", Some(&me)),
        404,
        "no_route",
    );

    // Callback hostile input
    let t = Utc::now().timestamp();
    let valid = w.push_req(
        &text_msg("oHostile01", "举报", 9001),
        "oHostile01",
        "replayed1",
    );
    let first = w.handle(&valid, Utc::now()).await;
    assert_eq!(first.status, 200);
    let before = {
        let _ = before;
        w.snapshot().await
    };
    let cbreq = |mutate: &dyn Fn(&mut intake::Req)| {
        let mut r = w.push_req(
            &text_msg("oHostile01", "举报", 9002),
            "oHostile01",
            &uuid::Uuid::new_v4().simple().to_string()[..12],
        );
        mutate(&mut r);
        r
    };
    case(
        "callback no signature".into(),
        cbreq(&|r| {
            r.query.remove("signature");
            r.query.remove("msg_signature");
        }),
        400,
        "bad_param",
    );
    case(
        "callback no msg_signature".into(),
        cbreq(&|r| {
            r.query.remove("msg_signature");
        }),
        400,
        "bad_param",
    );
    for (i, bad) in [
        "0".repeat(40),
        "f".repeat(40),
        "zz".to_owned(),
        "".to_owned(),
        "A".repeat(5000),
    ]
    .iter()
    .enumerate()
    {
        let bad = bad.clone();
        case(
            format!("callback bad msg_signature {i}"),
            cbreq(&move |r| {
                r.query.insert("msg_signature".into(), bad.clone());
            }),
            if i == 3 || i == 4 { 400 } else { 403 },
            if i == 3 || i == 4 {
                "bad_param"
            } else {
                "bad_signature"
            },
        );
    }
    case(
        "callback bad plain signature".into(),
        cbreq(&|r| {
            r.query.insert("signature".into(), "1".repeat(40));
        }),
        403,
        "bad_signature",
    );
    // Well past the ±5 min window, whatever time the test run takes to get here.
    for (i, ts) in [t - 900, t + 900, 0, i64::MAX].into_iter().enumerate() {
        // a re-signed push at a stale time
        let _ = i;
        let push = w.platform.push(
            &text_msg("oHostile01", "举报", 9003),
            wechat_sim::defaults::ACCOUNT_ID,
            "oHostile01",
            ts,
            &format!("st{i}"),
            [1u8; 16],
        );
        let mut r = intake::Req::new("POST", "/wechat/callback");
        for (k, v) in push.query {
            r.query.insert(k.into(), v);
        }
        r.body = push.body.into_bytes();
        case(format!("stale timestamp {i}"), r, 400, "stale_timestamp");
    }
    case(
        "callback timestamp text".into(),
        cbreq(&|r| {
            r.query.insert("timestamp".into(), "soon".into());
        }),
        403,
        "bad_signature",
    );
    case(
        "callback no nonce".into(),
        cbreq(&|r| {
            r.query.remove("nonce");
        }),
        400,
        "bad_param",
    );
    case(
        "callback long nonce".into(),
        cbreq(&|r| {
            r.query.insert("nonce".into(), "n".repeat(65));
        }),
        400,
        "bad_param",
    );
    case(
        "callback plain downgrade".into(),
        cbreq(&|r| {
            r.query.remove("encrypt_type");
        }),
        400,
        "bad_param",
    );
    case(
        "callback unknown encrypt_type".into(),
        cbreq(&|r| {
            r.query.insert("encrypt_type".into(), "rot13".into());
        }),
        400,
        "bad_param",
    );
    case(
        "callback oversize body".into(),
        cbreq(&|r| {
            r.body = vec![b'a'; 70 * 1024];
        }),
        400,
        "xml_too_large",
    );
    case(
        "callback empty body".into(),
        cbreq(&|r| {
            r.body.clear();
        }),
        400,
        "xml_malformed|xml_syntax",
    );
    case(
        "callback invalid utf-8 body".into(),
        cbreq(&|r| {
            r.body = b"<xml><Encrypt>\xff\xfe</Encrypt></xml>".to_vec();
        }),
        400,
        "invalid_utf8",
    );
    case(
        "callback xxe".into(),
        cbreq(&|r| {
            r.body = br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>"#.to_vec();
        }),
        400,
        "xml_forbidden",
    );
    case(
        "callback billion laughs".into(),
        cbreq(&|r| {
            r.body = br#"<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>"#.to_vec();
        }),
        400,
        "xml_forbidden",
    );
    case(
        "callback not xml".into(),
        cbreq(&|r| {
            r.body = b"hello".to_vec();
        }),
        400,
        "xml_malformed|xml_syntax",
    );
    case(
        "callback no Encrypt".into(),
        cbreq(&|r| {
            r.body = b"<xml><ToUserName>x</ToUserName></xml>".to_vec();
        }),
        400,
        "xml_malformed",
    );
    // Payload attacks, re-signed so that they reach decryption.
    let resign = |enc: String, nonce: &str| {
        let ts = Utc::now().timestamp().to_string();
        let sig = wechat::signature::sign_hex(&[wechat_sim::defaults::TOKEN, &ts, nonce, &enc]);
        let psig = wechat::signature::sign_hex(&[wechat_sim::defaults::TOKEN, &ts, nonce]);
        let mut r = intake::Req::new("POST", "/wechat/callback");
        for (k, v) in [
            ("signature", psig),
            ("timestamp", ts),
            ("nonce", nonce.to_owned()),
            ("encrypt_type", "aes".into()),
            ("msg_signature", sig),
        ] {
            r.query.insert(k.into(), v);
        }
        r.body =
            format!("<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>")
                .into_bytes();
        r
    };
    let key = wechat::AesKey::from_encoding_aes_key(wechat_sim::defaults::AES_KEY).expect("key");
    let good_enc = key.encrypt(
        text_msg("oHostile01", "x", 9004).as_bytes(),
        wechat_sim::defaults::APPID,
        [2u8; 16],
    );
    case(
        "truncated base64".into(),
        resign(good_enc[..good_enc.len() - 7].to_owned(), "p1"),
        400,
        "bad_base64",
    );
    case(
        "short ciphertext".into(),
        resign(good_enc[..20].to_owned(), "p2"),
        400,
        "bad_length",
    );
    case(
        "junk in base64".into(),
        resign(format!("{}*{}", &good_enc[..10], &good_enc[11..]), "p3"),
        400,
        "bad_base64",
    );
    case(
        "empty Encrypt".into(),
        resign(String::new(), "p4"),
        400,
        "xml_malformed|bad_length|bad_base64",
    );
    let other_app = key.encrypt(
        text_msg("oHostile01", "x", 9005).as_bytes(),
        "wxOtherAppId000000",
        [2u8; 16],
    );
    case(
        "wrong appid".into(),
        resign(other_app, "p5"),
        403,
        "wrong_app_id",
    );
    let other_key =
        wechat::AesKey::from_encoding_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
            .expect("key");
    let foreign = other_key.encrypt(
        text_msg("oHostile01", "x", 9006).as_bytes(),
        wechat_sim::defaults::APPID,
        [2u8; 16],
    );
    case(
        "another key (bad padding)".into(),
        resign(foreign, "p6"),
        400,
        "bad_padding|bad_length|invalid_utf8|wrong_app_id",
    );
    let xxe_inside = key.encrypt(br#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><FromUserName>&e;</FromUserName></xml>"#, wechat_sim::defaults::APPID, [2u8; 16]);
    case(
        "xxe inside".into(),
        resign(xxe_inside, "p7"),
        400,
        "xml_forbidden",
    );
    let bad_utf8 = key.encrypt(
        b"<xml><Content>\xff\xfe</Content></xml>",
        wechat_sim::defaults::APPID,
        [2u8; 16],
    );
    case(
        "invalid utf-8 inside".into(),
        resign(bad_utf8, "p8"),
        400,
        "invalid_utf8|xml_syntax",
    );
    let no_from = key.encrypt(b"<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>", wechat_sim::defaults::APPID, [2u8; 16]);
    case(
        "no FromUserName".into(),
        resign(no_from, "p9"),
        400,
        "xml_malformed",
    );
    // the timestamp and nonce of the valid push above with another body (a byte-identical
    // repeat is WeChat's retry: `tests/retries.rs`)
    let replayed = {
        let other = w.platform.push(
            &text_msg("oHostile01", "举报", 9003),
            wechat_sim::defaults::ACCOUNT_ID,
            "oHostile01",
            valid.query["timestamp"].parse().expect("timestamp"),
            "replayed1",
            [5u8; 16],
        );
        let mut r = intake::Req::new("POST", "/wechat/callback");
        for (k, v) in other.query {
            r.query.insert(k.to_owned(), v);
        }
        r.body = other.body.into_bytes();
        r
    };
    case("replayed nonce".into(), replayed, 400, "replayed_nonce");
    // echo verification with a bad signature
    let mut echo = intake::Req::new("GET", "/wechat/callback");
    for (k, v) in w.platform.echo_query(t, "e1", "echo-me") {
        echo.query.insert(k.into(), v);
    }
    echo.query.insert("signature".into(), "0".repeat(40));
    case("echo bad signature".into(), echo, 403, "bad_signature");

    // Assert
    let n = cases.len();
    assert!(n >= 100, "only {n} hostile cases");
    for (name, req, status, code) in &cases {
        let resp = w.handle(req, Utc::now()).await;
        assert_eq!(resp.status, *status, "{name}: {}", resp.body);
        let got = resp.error_code().unwrap_or_default();
        assert!(
            code.split('|').any(|c| c == got),
            "{name}: {got} not {code}: {}",
            resp.body
        );
        assert!(
            !resp.body.contains("oH5Reporter") && !resp.body.contains("oHostile"),
            "{name}: no openid in errors"
        );
    }
    assert_eq!(
        w.snapshot().await,
        before,
        "no hostile request changed the table"
    );
    eprintln!("{n} hostile cases refused");

    // A blocked reporter is refused visibly; so is one over the rate limit.
    let blocked = store::Block {
        reporter: theirs.clone(),
        reason: domain::text::Reason::parse("恶意举报").expect("reason"),
        by: "admin-1".into(),
        at: now,
    };
    w.side.block(&blocked).await.expect("block");
    assert_eq!(w.side.block_log(&theirs).await.expect("log").len(), 1);
    let refused = w
        .handle(
            &w.api("POST", "/api/reporter/clues", Some(&other), &good),
            now,
        )
        .await;
    assert_eq!(
        (refused.status, refused.error_code().as_deref()),
        (403, Some("reporter_blocked"))
    );
    // Refused visibly and counted for the bureau, never dropped silently (art. 19).
    assert_eq!(w.side.blocked_attempts(&theirs).await.expect("attempts"), 1);
    let mine = w.core().keyer.key("oH5Reporter000000000000001");
    assert_eq!(w.side.blocked_attempts(&mine).await.expect("attempts"), 0);
    for i in 0..5 {
        let mut f = form("330106", &version, &[]);
        f["facts"] = json!(format!("第{i}次：在基本农田上建房。"));
        let r = w
            .handle(
                &w.api("POST", "/api/reporter/clues", Some(&me), &f.to_string()),
                now,
            )
            .await;
        if i < 4 {
            assert_eq!(r.status, 201, "{i}: {}", r.body);
        } else {
            assert_eq!(
                (r.status, r.error_code().as_deref()),
                (429, Some("rate_limited"))
            );
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn chat_photos_that_cannot_be_kept_are_named_and_not_filed() {
    // Arrange: a chat report with three photos
    let w = World::start().await;
    let openid = "oChatPhotos000000000000001";
    for (i, s) in [
        "举报",
        "浙江省杭州市西湖区",
        "留下街道某村东侧",
        "无",
        "在基本农田上建厂房。",
    ]
    .iter()
    .enumerate()
    {
        w.say(&text_msg(openid, s, 500 + i as i64), openid).await;
    }
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
    let summary = w
        .say(&text_msg(openid, "完成", 520), openid)
        .await
        .expect("summary");
    let wait = w
        .say(&text_msg(openid, "同意", 521), openid)
        .await
        .expect("answer");
    let reporter = w.core().keyer.key(openid);
    let before = w
        .core()
        .store
        .reporter_clues(&reporter, PageRequest::default())
        .await
        .expect("clues")
        .items
        .len();
    let receipt = w
        .say(&text_msg(openid, "直接提交", 522), openid)
        .await
        .expect("receipt");

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
    let clues = w
        .core()
        .store
        .reporter_clues(&reporter, PageRequest::default())
        .await
        .expect("clues");
    assert_eq!(clues.items.len(), 1);
    let clue = &clues.items[0].clue;
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
    let page = body(&page);
    assert_eq!(page["evidence_count"], 1);
    assert_eq!(
        page["evidence_left_out"],
        json!([
            {"number": 2, "reason": "not_an_image", "text": "文件不是允许的照片格式"},
            {"number": 3, "reason": "still_processing", "text": "提交时仍在处理中，未随举报提交"},
        ])
    );
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
        details.push(body(&w.handle(&req, Utc::now()).await));
    }
    let (dated_detail, pending_detail) = (&details[0], &details[1]);

    // Assert: the judgment deadline only (escalation is internal), as a Shanghai date or 待定
    assert_eq!(list.status, 200, "{}", list.body);
    let list = body(&list);
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
            body(&r)
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
    let version = body(&notice)["version_id"]
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
    let h5_says = body(&refused)["error"]["message"]
        .as_str()
        .expect("message")
        .to_owned();
    assert!(
        h5_says.starts_with("北京市东城区") && h5_says.contains("12336"),
        "{h5_says}"
    );
    let filed = w
        .handle(
            &w.api(
                "POST",
                "/api/reporter/clues",
                Some(&me),
                &form("110101", &version, &[]).to_string(),
            ),
            now,
        )
        .await;
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
        let mut f = form("330106", &version, &[]);
        f[field] = json!(value);
        async move {
            let r = w
                .handle(
                    &w.api("POST", "/api/reporter/clues", Some(me), &f.to_string()),
                    Utc::now(),
                )
                .await;
            assert_eq!(r.status, 400, "{field}: {}", r.body);
            body(&r)["error"]["message"]
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
        let key = w.core().keyer.key(who);
        let page = w
            .core()
            .store
            .reporter_clues(&key, PageRequest::default())
            .await
            .expect("clues");
        assert!(page.items.is_empty(), "{who} filed nothing");
    }
    let after = w.snapshot().await;
    assert!(
        after
            .iter()
            .all(|i| before.contains(i) || i.contains("CHAT#") || i.contains("CB#")),
        "only chat drafts and callback records changed"
    );
}
