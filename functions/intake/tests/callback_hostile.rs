//! The WeChat callback's refusals of hostile input (`intake::callback::CallbackApp`, served by
//! the `callback` function), against a serialized moto with `template.yaml` deployed and the fake
//! WeChat in-process: each push is refused with a 4xx and a stable code, names no openid, and
//! changes nothing stored (but its nonce record).

mod support;

use chrono::Utc;
use support::{Refusals, World, text_msg};
use wechat_sim::defaults;

const HOSTILE: &str = "oHostile01";
const OPENIDS: &[&str] = &["oHostile"];

/// A valid push of "举报" from `HOSTILE` under a fresh nonce, changed by `mutate`.
fn push(w: &World, mutate: impl FnOnce(&mut intake::Req)) -> intake::Req {
    let mut r = w.push_req(
        &text_msg(HOSTILE, "举报", 9002),
        HOSTILE,
        &uuid::Uuid::new_v4().simple().to_string()[..12],
    );
    mutate(&mut r);
    r
}

/// A push of `enc` as the Encrypt element, signed afresh under `nonce` so that it reaches
/// decryption.
fn resigned(enc: String, nonce: &str) -> intake::Req {
    let ts = Utc::now().timestamp().to_string();
    let sig = wechat::signature::sign_hex(&[defaults::TOKEN, &ts, nonce, &enc]);
    let psig = wechat::signature::sign_hex(&[defaults::TOKEN, &ts, nonce]);
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
    r.body = format!("<xml><ToUserName>gh</ToUserName><Encrypt><![CDATA[{enc}]]></Encrypt></xml>")
        .into_bytes();
    r
}

/// A push of `xml` from `HOSTILE` at `timestamp` under `nonce`, encrypted with `iv`.
fn push_at(w: &World, xml: &str, timestamp: i64, nonce: &str, iv: [u8; 16]) -> intake::Req {
    let push = w
        .platform
        .push(xml, defaults::ACCOUNT_ID, HOSTILE, timestamp, nonce, iv);
    let mut r = intake::Req::new("POST", "/wechat/callback");
    for (k, v) in push.query {
        r.query.insert(k.to_owned(), v);
    }
    r.body = push.body.into_bytes();
    r
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_and_echoes_without_valid_signatures_or_parameters_are_refused() {
    // Arrange
    let w = World::start().await;
    let mut refused = Refusals::default();
    type Mutation = fn(&mut intake::Req);
    let mutations: [(&str, Mutation, u16, &str); 8] = [
        (
            "callback no signature",
            |r| {
                r.query.remove("signature");
                r.query.remove("msg_signature");
            },
            400,
            "bad_param",
        ),
        (
            "callback no msg_signature",
            |r| {
                r.query.remove("msg_signature");
            },
            400,
            "bad_param",
        ),
        (
            "callback bad plain signature",
            |r| {
                r.query.insert("signature".into(), "1".repeat(40));
            },
            403,
            "bad_signature",
        ),
        (
            "callback timestamp text",
            |r| {
                r.query.insert("timestamp".into(), "soon".into());
            },
            403,
            "bad_signature",
        ),
        (
            "callback no nonce",
            |r| {
                r.query.remove("nonce");
            },
            400,
            "bad_param",
        ),
        (
            "callback long nonce",
            |r| {
                r.query.insert("nonce".into(), "n".repeat(65));
            },
            400,
            "bad_param",
        ),
        (
            "callback plain downgrade",
            |r| {
                r.query.remove("encrypt_type");
            },
            400,
            "bad_param",
        ),
        (
            "callback unknown encrypt_type",
            |r| {
                r.query.insert("encrypt_type".into(), "rot13".into());
            },
            400,
            "bad_param",
        ),
    ];
    for (name, mutate, status, code) in mutations {
        refused.add(name, push(&w, mutate), status, code);
    }
    for (i, (bad, status, code)) in [
        ("0".repeat(40), 403, "bad_signature"),
        ("f".repeat(40), 403, "bad_signature"),
        ("zz".to_owned(), 403, "bad_signature"),
        ("".to_owned(), 400, "bad_param"),
        ("A".repeat(5000), 400, "bad_param"),
    ]
    .into_iter()
    .enumerate()
    {
        refused.add(
            format!("callback bad msg_signature {i}"),
            push(&w, |r| {
                r.query.insert("msg_signature".into(), bad);
            }),
            status,
            code,
        );
    }
    // echo verification with a bad signature
    let mut echo = intake::Req::new("GET", "/wechat/callback");
    for (k, v) in w
        .platform
        .echo_query(Utc::now().timestamp(), "e1", "echo-me")
    {
        echo.query.insert(k.into(), v);
    }
    echo.query.insert("signature".into(), "0".repeat(40));
    refused.add("echo bad signature", echo, 403, "bad_signature");

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 14);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pushes_signed_at_a_stale_time_are_refused() {
    // Arrange: re-signed pushes well past the ±5 min window, whatever time the run takes
    let w = World::start().await;
    let t = Utc::now().timestamp();
    let mut refused = Refusals::default();
    for (i, ts) in [t - 900, t + 900, 0, i64::MAX].into_iter().enumerate() {
        let xml = text_msg(HOSTILE, "举报", 9003);
        refused.add(
            format!("stale timestamp {i}"),
            push_at(&w, &xml, ts, &format!("st{i}"), [1u8; 16]),
            400,
            "stale_timestamp",
        );
    }

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 4);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn envelopes_too_large_malformed_or_with_entities_are_refused() {
    // Arrange
    let w = World::start().await;
    let mut refused = Refusals::default();
    let bodies: [(&str, Vec<u8>, &'static str); 7] = [
        (
            "callback oversize body",
            vec![b'a'; 70 * 1024],
            "xml_too_large",
        ),
        ("callback empty body", Vec::new(), "xml_malformed|xml_syntax"),
        (
            "callback invalid utf-8 body",
            b"<xml><Encrypt>\xff\xfe</Encrypt></xml>".to_vec(),
            "invalid_utf8",
        ),
        (
            "callback xxe",
            br#"<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><Encrypt>&e;</Encrypt></xml>"#.to_vec(),
            "xml_forbidden",
        ),
        (
            "callback billion laughs",
            br#"<!DOCTYPE l [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">]><xml><Encrypt>&b;</Encrypt></xml>"#.to_vec(),
            "xml_forbidden",
        ),
        (
            "callback not xml",
            b"hello".to_vec(),
            "xml_malformed|xml_syntax",
        ),
        (
            "callback no Encrypt",
            b"<xml><ToUserName>x</ToUserName></xml>".to_vec(),
            "xml_malformed",
        ),
    ];
    for (name, body, code) in bodies {
        refused.add(name, push(&w, |r| r.body = body), 400, code);
    }

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 7);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn payloads_re_signed_to_reach_decryption_are_refused() {
    // Arrange: ciphertexts cut, spoilt, for another app, under another key, or hostile inside
    let w = World::start().await;
    let key = wechat::AesKey::from_encoding_aes_key(defaults::AES_KEY).expect("key");
    let seal = |xml: &[u8], appid: &str| key.encrypt(xml, appid, [2u8; 16]);
    let good_enc = seal(text_msg(HOSTILE, "x", 9004).as_bytes(), defaults::APPID);
    let other_key =
        wechat::AesKey::from_encoding_aes_key("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG")
            .expect("key");
    let foreign = other_key.encrypt(
        text_msg(HOSTILE, "x", 9006).as_bytes(),
        defaults::APPID,
        [2u8; 16],
    );
    let mut refused = Refusals::default();
    refused.add(
        "truncated base64",
        resigned(good_enc[..good_enc.len() - 7].to_owned(), "p1"),
        400,
        "bad_base64",
    );
    refused.add(
        "short ciphertext",
        resigned(good_enc[..20].to_owned(), "p2"),
        400,
        "bad_length",
    );
    refused.add(
        "junk in base64",
        resigned(format!("{}*{}", &good_enc[..10], &good_enc[11..]), "p3"),
        400,
        "bad_base64",
    );
    refused.add(
        "empty Encrypt",
        resigned(String::new(), "p4"),
        400,
        "xml_malformed|bad_length|bad_base64",
    );
    refused.add(
        "wrong appid",
        resigned(
            seal(
                text_msg(HOSTILE, "x", 9005).as_bytes(),
                "wxOtherAppId000000",
            ),
            "p5",
        ),
        403,
        "wrong_app_id",
    );
    refused.add(
        "another key (bad padding)",
        resigned(foreign, "p6"),
        400,
        "bad_padding|bad_length|invalid_utf8|wrong_app_id",
    );
    refused.add(
        "xxe inside",
        resigned(
            seal(
                br#"<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><FromUserName>&e;</FromUserName></xml>"#,
                defaults::APPID,
            ),
            "p7",
        ),
        400,
        "xml_forbidden",
    );
    refused.add(
        "invalid utf-8 inside",
        resigned(
            seal(b"<xml><Content>\xff\xfe</Content></xml>", defaults::APPID),
            "p8",
        ),
        400,
        "invalid_utf8|xml_syntax",
    );
    refused.add(
        "no FromUserName",
        resigned(
            seal(
                b"<xml><ToUserName>gh</ToUserName><CreateTime>1</CreateTime><MsgType>text</MsgType><Content>x</Content></xml>",
                defaults::APPID,
            ),
            "p9",
        ),
        400,
        "xml_malformed",
    );

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 9);
}

/// The timestamp and nonce of a valid push with another body (a byte-identical repeat is
/// WeChat's retry: `tests/retries.rs`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_nonce_replayed_with_another_body_is_refused() {
    // Arrange: a valid push, answered
    let w = World::start().await;
    let valid = w.push_req(&text_msg(HOSTILE, "举报", 9001), HOSTILE, "replayed1");
    let first = w.handle(&valid, Utc::now()).await;
    assert_eq!(first.status, 200);
    let replayed = push_at(
        &w,
        &text_msg(HOSTILE, "举报", 9003),
        valid.query["timestamp"].parse().expect("timestamp"),
        "replayed1",
        [5u8; 16],
    );
    let mut refused = Refusals::default();
    refused.add("replayed nonce", replayed, 400, "replayed_nonce");

    // Act + Assert
    assert_eq!(refused.check(&w, OPENIDS).await, 1);
}
