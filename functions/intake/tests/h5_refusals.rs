//! The H5 API's refusals of hostile input, by kind, against a serialized moto with
//! `template.yaml` deployed and the fake WeChat in-process: each request is refused with a 4xx
//! and a stable code, names no openid, and changes nothing stored.

mod support;

use chrono::Utc;
use serde_json::{Value, json};
use store::AttachmentStatus;
use support::{Refusals, World, h5_form, named, ready};

const ME: &str = "oH5Reporter000000000000001";
const OTHER: &str = "oH5Reporter000000000000002";
/// What every openid of these tests starts with: no answer may contain it.
const OPENIDS: &[&str] = &["oH5Reporter"];

/// A signed-in reporter (`ME`): their session cookie and the notice version in force.
async fn reporter(w: &World) -> (String, String) {
    let me = w.sign_in(ME).await;
    let version = w.notice_version(&me).await;
    (me, version)
}

/// A filing by the session `me` with the raw body `b`.
fn post(w: &World, me: &str, b: &[u8]) -> intake::Req {
    let mut r = w.api("POST", "/api/reporter/clues", Some(me), "");
    r.body = b.to_vec();
    r
}

/// A named filing by the session `me` under notice `version`, its field `k` set to `v`.
fn with(w: &World, me: &str, version: &str, k: &str, v: Value) -> intake::Req {
    let mut f = named(h5_form(version));
    f[k] = v;
    w.post_clue(me, &f)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_without_a_valid_session_are_refused() {
    // Arrange: no session, forged or expired sessions, on reads and filings
    let w = World::start().await;
    let (me, version) = reporter(&w).await;
    let good = named(h5_form(&version));
    let now = Utc::now();
    let mut refused = Refusals::default();
    for path in ["/api/reporter/clues", "/api/reporter/clues/cabc"] {
        refused.add(
            format!("no session {path}"),
            w.api("GET", path, None, ""),
            401,
            "unauthenticated",
        );
    }
    for (i, c) in [
        "".to_owned(),
        "x".to_owned(),
        "!!!!".to_owned(),
        "A".repeat(2000),
        w.app.session.seal(ME, now.timestamp() - 3 * 3600),
        support::session_key(9).seal(ME, now.timestamp()),
        format!("{me}A"),
    ]
    .into_iter()
    .enumerate()
    {
        refused.add(
            format!("bad session {i}"),
            w.api("GET", "/api/reporter/clues", Some(&c), ""),
            401,
            "unauthenticated",
        );
        refused.add(
            format!("bad session post {i}"),
            w.post_clue(&c, &good),
            401,
            "unauthenticated",
        );
    }

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 16);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bodies_that_are_not_the_form_are_refused() {
    // Arrange
    let w = World::start().await;
    let (me, version) = reporter(&w).await;
    let mut refused = Refusals::default();
    for (i, b) in ["", "{", "[]", "null", "\"x\"", "{\"division\":1}", "{}"]
        .iter()
        .enumerate()
    {
        refused.add(
            format!("bad json {i}"),
            post(&w, &me, b.as_bytes()),
            400,
            "bad_json",
        );
    }
    refused.add(
        "invalid utf-8",
        post(&w, &me, b"{\"division\":\"\xff\xfe\"}"),
        400,
        "invalid_utf8",
    );
    refused.add(
        "invalid utf-8 2",
        post(&w, &me, &[0xc3, 0x28, 0xa0, 0xa1]),
        400,
        "invalid_utf8",
    );
    refused.add(
        "oversize",
        post(&w, &me, &vec![b' '; 70 * 1024]),
        413,
        "body_too_large",
    );
    refused.add(
        "unknown field",
        with(&w, &me, &version, "openid", json!("oSomeoneElse")),
        400,
        "bad_json",
    );

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn divisions_that_are_not_a_known_county_are_refused() {
    // Arrange: in the form, the notice and the picker
    let w = World::start().await;
    let (me, version) = reporter(&w).await;
    let mut refused = Refusals::default();
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
        refused.add(
            format!("division {d:?}"),
            with(&w, &me, &version, "division", json!(d)),
            400,
            "unknown_division",
        );
        refused.add(
            format!("notice division {d:?}"),
            w.api(
                "GET",
                &format!("/api/reporter/reporting-notice?division={d}"),
                Some(&me),
                "",
            ),
            400,
            "unknown_division",
        );
    }
    refused.add(
        "children of unknown",
        w.api("GET", "/api/reporter/divisions?parent=999999", None, ""),
        400,
        "unknown_division",
    );

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 25);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn texts_empty_too_long_or_with_markup_are_refused() {
    // Arrange: the form's texts and a message on a filed clue
    let w = World::start().await;
    let (me, version, clue_id) = w.signed_in_with_a_clue(ME).await;
    let with = |k: &str, v: Value| with(&w, &me, &version, k, v);
    let mut refused = Refusals::default();
    for (name, field, value, code) in [
        (
            "address too long",
            "address",
            json!("址".repeat(201)),
            "invalid_address",
        ),
        ("address empty", "address", json!("   "), "invalid_address"),
        ("facts empty", "facts", json!(""), "invalid_facts"),
        (
            "facts too long",
            "facts",
            json!("事".repeat(5001)),
            "invalid_facts",
        ),
        (
            "subject too long",
            "subject",
            json!("主".repeat(101)),
            "invalid_subject",
        ),
        (
            "control character",
            "address",
            json!("某村\u{7}东侧"),
            "invalid_address",
        ),
    ] {
        refused.add(name, with(field, value), 400, code);
    }
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
        for field in ["address", "facts", "subject"] {
            refused.add(
                format!("script in {field} {i}"),
                with(field, json!(s)),
                400,
                "markup_not_allowed",
            );
        }
    }
    for (name, body, code) in [
        (
            "script in message",
            r#"{"text":"<script>x</script>"}"#,
            "markup_not_allowed",
        ),
        ("empty message", r#"{"text":" "}"#, "invalid_message"),
    ] {
        refused.add(name, w.message(&me, &clue_id, body), 400, code);
    }

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 23);
}

/// Issue 16 point 9: format characters in single-line fields, bidi controls anywhere,
/// invisible-only facts and messages.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn text_that_hides_itself_is_refused() {
    // Arrange
    let w = World::start().await;
    let (me, version, clue_id) = w.signed_in_with_a_clue(ME).await;
    let with = |k: &str, v: Value| with(&w, &me, &version, k, v);
    let mut refused = Refusals::default();
    for (i, hidden) in ["\u{202E}", "\u{2066}", "\u{200B}", "\u{FEFF}", "\u{2028}"]
        .iter()
        .enumerate()
    {
        refused.add(
            format!("format character in address {i}"),
            with("address", json!(format!("留下街道{hidden}某村"))),
            400,
            "invalid_address",
        );
        refused.add(
            format!("format character in subject {i}"),
            with("subject", json!(format!("某{hidden}公司"))),
            400,
            "invalid_subject",
        );
        refused.add(
            format!("format character in name {i}"),
            with("identity", json!({"name": format!("张{hidden}三")})),
            400,
            "invalid_name",
        );
    }
    refused.add(
        "bidi override in facts",
        with("facts", json!("有人建房\u{202E}月个三已")),
        400,
        "invalid_facts",
    );
    refused.add(
        "facts of zero-width characters only",
        with("facts", json!("\u{200B}\u{200B}\u{2060}\u{200D}")),
        400,
        "invalid_facts",
    );
    refused.add(
        "message of zero-width characters only",
        w.message(&me, &clue_id, r#"{"text":"\u200b\u200b"}"#),
        400,
        "invalid_message",
    );

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 18);
}

/// Issue 16 point 6: reporter POSTs are JSON from the public origin.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requests_from_elsewhere_are_refused() {
    // Arrange
    let w = World::start().await;
    let (me, version, clue_id) = w.signed_in_with_a_clue(ME).await;
    let good = named(h5_form(&version));
    let from = |headers: &[(&str, &str)]| {
        let mut r = w.post_clue(&me, &good);
        for (k, v) in headers {
            r.headers.insert((*k).to_owned(), (*v).to_owned());
        }
        r
    };
    let mut refused = Refusals::default();
    refused.add(
        "form post",
        from(&[("content-type", "application/x-www-form-urlencoded")]),
        415,
        "unsupported_media_type",
    );
    refused.add(
        "text/plain post",
        from(&[("content-type", "text/plain")]),
        415,
        "unsupported_media_type",
    );
    refused.add(
        "post from another site",
        from(&[("origin", "https://evil.example")]),
        403,
        "cross_origin",
    );
    refused.add(
        "post from the execute-api host",
        from(&[(
            "origin",
            "https://abc123.execute-api.cn-north-1.amazonaws.com.cn",
        )]),
        403,
        "cross_origin",
    );
    refused.add(
        "cross-site fetch",
        from(&[("sec-fetch-site", "cross-site")]),
        403,
        "cross_origin",
    );
    let mut message = w.message(&me, &clue_id, r#"{"text":"x"}"#);
    message.headers.insert("origin".into(), "null".into());
    refused.add("message from another site", message, 403, "cross_origin");

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 6);
}

/// Issue 17 point 5: a position that contradicts the county, or is no position at all.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_position_outside_the_county_or_out_of_range_is_refused() {
    // Arrange
    let w = World::start().await;
    let (me, version) = reporter(&w).await;
    let mut refused = Refusals::default();
    for (name, gps, code) in [
        (
            "gps outside the county 0",
            json!({"lat": 0, "lng": 0}),
            "gps_outside_division",
        ),
        (
            "gps outside the county 1",
            json!({"lat": -33.92, "lng": 18.42}),
            "gps_outside_division",
        ),
        (
            "gps outside the county 2",
            json!({"lat": 39.91, "lng": 116.40}),
            "gps_outside_division",
        ),
        (
            "gps out of range",
            json!({"lat": 91, "lng": 0}),
            "invalid_gps",
        ),
        ("gps lng", json!({"lat": 30, "lng": 181}), "invalid_gps"),
    ] {
        refused.add(name, with(&w, &me, &version, "gps", gps), 400, code);
    }

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_categories_a_missing_consent_and_a_stale_notice_are_refused() {
    // Arrange
    let w = World::start().await;
    let (me, version) = reporter(&w).await;
    let with = |k: &str, v: Value| with(&w, &me, &version, k, v);
    let mut refused = Refusals::default();
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
        refused.add(
            format!("category {i}"),
            with("category", c),
            400,
            "unknown_category",
        );
    }
    for (name, field, value, status, code) in [
        (
            "no consent",
            "consent",
            json!(false),
            400,
            "consent_required",
        ),
        (
            "stale notice",
            "notice_version",
            json!("330100-v1-00000000"),
            409,
            "stale_notice",
        ),
        (
            "empty notice",
            "notice_version",
            json!(""),
            409,
            "stale_notice",
        ),
    ] {
        refused.add(name, with(field, value), status, code);
    }

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 8);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn attachments_not_mine_unknown_or_not_ready_are_refused() {
    // Arrange: my pending and rejected photos, another reporter's processed one
    let w = World::start().await;
    let (me, version) = reporter(&w).await;
    w.attachment(ME, "a-pending", AttachmentStatus::Pending)
        .await;
    w.attachment(
        ME,
        "a-rejected",
        AttachmentStatus::Rejected {
            reason: "type_mismatch".into(),
        },
    )
    .await;
    w.attachment(OTHER, "a-theirs", ready()).await;
    let mut refused = Refusals::default();
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
        refused.add(
            name,
            with(&w, &me, &version, "attachments", json!([id])),
            status,
            code,
        );
    }

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 5);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identities_without_a_phones_shape_or_an_id_numbers_check_digit_are_refused() {
    // Arrange
    let w = World::start().await;
    let (me, version) = reporter(&w).await;
    let ident = |v: Value| with(&w, &me, &version, "identity", v);
    let mut refused = Refusals::default();
    for (i, phone) in ["---------", "12345", "+-+-+ 1", "1380013800", "12800138000"]
        .iter()
        .enumerate()
    {
        refused.add(
            format!("phone without a phone shape {i}"),
            ident(json!({"phone": phone})),
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
        refused.add(
            format!("resident id without its check digit {i}"),
            ident(json!({"id_number": n})),
            400,
            "invalid_id_number",
        );
    }
    for (name, identity, code) in [
        ("bad phone", json!({"phone": "call me"}), "invalid_phone"),
        (
            "bad id number",
            json!({"id_number": "12345"}),
            "invalid_id_number",
        ),
        (
            "script name",
            json!({"name": "<b>张三</b>"}),
            "markup_not_allowed",
        ),
    ] {
        refused.add(name, ident(identity), 400, code);
    }

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 11);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_reporters_clue_unknown_clues_and_unknown_routes_are_not_found() {
    // Arrange: my clue, and another reporter signed in
    let w = World::start().await;
    let (me, version, clue_id) = w.signed_in_with_a_clue(ME).await;
    let other = w.sign_in(OTHER).await;
    let get = |path: &str, c: &str| w.api("GET", path, Some(c), "");
    let mut refused = Refusals::default();
    refused.add(
        "their view of my clue",
        get(&format!("/api/reporter/clues/{clue_id}"), &other),
        404,
        "clue_not_found",
    );
    refused.add(
        "their message on my clue",
        w.message(&other, &clue_id, r#"{"text":"x"}"#),
        404,
        "clue_not_found",
    );
    refused.add(
        "unknown clue",
        get("/api/reporter/clues/cnope", &me),
        404,
        "clue_not_found",
    );
    refused.add(
        "malformed clue id",
        get("/api/reporter/clues/..%2F..", &me),
        404,
        "clue_not_found",
    );
    refused.add(
        "their resubmission of my clue",
        with(&w, &other, &version, "resubmission_of", json!(clue_id)),
        404,
        "clue_not_found",
    );
    refused.add(
        "unknown route",
        get("/api/reporter/nope", &me),
        404,
        "no_route",
    );

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 6);
}
