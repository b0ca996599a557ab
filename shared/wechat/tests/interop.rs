//! Interop with wechatpy, run as a subprocess (`tests/interop/wechatpy_oracle.py`).
//!
//! The interpreter is `$PROJECT_PYTHON`, else `<repo>/.venv/bin/python` (made by `infra/dev`
//! from `infra/requirements-wechat.txt`). If it is missing or cannot import wechatpy the tests
//! fail with a message saying so; set `WECHAT_INTEROP=skip` to skip them explicitly.

use std::io::Write;
use std::path::PathBuf;
use std::process::{Command, Stdio};

use secrecy::SecretString;
use serde_json::{Value, json};
use wechat::{
    Body, Callback, CallbackQuery, Event, InMemoryNonceStore, Platform, SubscribeStatus, TextReply,
};

const TOKEN: &str = "interop-token";
const KEY: &str = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG";
const APPID: &str = "wx2c2769f8efd9abc2";

fn python() -> Option<PathBuf> {
    if std::env::var("WECHAT_INTEROP").as_deref() == Ok("skip") {
        eprintln!("WECHAT_INTEROP=skip: wechatpy interop test skipped on request");
        return None;
    }
    let path = std::env::var_os("PROJECT_PYTHON")
        .map(PathBuf::from)
        .unwrap_or_else(|| {
            PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../.venv/bin/python")
        });
    assert!(
        path.exists(),
        "wechatpy interop: no Python at {} — run `infra/dev` to create .venv with \
         infra/requirements-wechat.txt, or set PROJECT_PYTHON, or set WECHAT_INTEROP=skip to \
         skip these tests explicitly",
        path.display()
    );
    Some(path)
}

/// Run one oracle command; `None` only when skipping was requested.
fn oracle(request: Value) -> Option<Value> {
    let py = python()?;
    let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/interop/wechatpy_oracle.py");
    let mut child = Command::new(&py)
        .arg(&script)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("wechatpy interop: cannot run {}: {e}", py.display()));
    child
        .stdin
        .take()
        .expect("stdin")
        .write_all(request.to_string().as_bytes())
        .expect("write request");
    let out = child.wait_with_output().expect("oracle output");
    assert!(
        out.status.success(),
        "wechatpy interop: oracle failed (is wechatpy installed in {}? pip install -r \
         infra/requirements-wechat.txt):\n{}",
        py.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    Some(serde_json::from_slice(&out.stdout).expect("oracle JSON"))
}

fn now() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

fn query_from(v: &Value) -> CallbackQuery {
    serde_json::from_value(v.clone()).expect("query")
}

const HEAD: &str = "<ToUserName><![CDATA[gh_12336]]></ToUserName><FromUserName><![CDATA[oInteropUser_0123456789abc]]></FromUserName><CreateTime>1750000000</CreateTime>";

fn messages() -> Vec<(String, Body)> {
    let text = |c: &str| {
        format!(
            "<xml>{HEAD}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{c}]]></Content><MsgId>24000000000000001</MsgId></xml>"
        )
    };
    let event = |e: &str| format!("<xml>{HEAD}<MsgType><![CDATA[event]]></MsgType>{e}</xml>");
    vec![
        (
            text("举报：某村非法占用耕地建厂 🏭"),
            Body::Text {
                content: "举报：某村非法占用耕地建厂 🏭".into(),
            },
        ),
        (
            format!(
                "<xml>{HEAD}<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[a]]]]><![CDATA[>b & <c>]]></Content></xml>"
            ),
            Body::Text {
                content: "a]]>b & <c>".into(),
            },
        ),
        (
            format!(
                "<xml>{HEAD}<MsgType><![CDATA[text]]></MsgType><Content>1 &lt; 2 &amp;&amp; 3 &gt; 2</Content></xml>"
            ),
            Body::Text {
                content: "1 < 2 && 3 > 2".into(),
            },
        ),
        (
            text(&"长".repeat(2000)),
            Body::Text {
                content: "长".repeat(2000),
            },
        ),
        (
            format!(
                "<xml>{HEAD}<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x]]></PicUrl><MediaId><![CDATA[media_1]]></MediaId><MsgId>2</MsgId></xml>"
            ),
            Body::Image {
                pic_url: "http://mmbiz.qpic.cn/x".into(),
                media_id: "media_1".into(),
            },
        ),
        (
            format!(
                "<xml>{HEAD}<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[v1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[有人挖沙]]></Recognition><MsgId>3</MsgId></xml>"
            ),
            Body::Voice {
                media_id: "v1".into(),
                format: "amr".into(),
                recognition: Some("有人挖沙".into()),
            },
        ),
        (
            format!(
                "<xml>{HEAD}<MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[广州市天河区]]></Label><MsgId>4</MsgId></xml>"
            ),
            Body::Location {
                latitude: 23.134521,
                longitude: 113.358803,
                scale: Some(20),
                label: "广州市天河区".into(),
            },
        ),
        (
            event(
                "<Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_123]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket>",
            ),
            Body::Event(Event::Subscribe {
                event_key: Some("qrscene_123".into()),
                ticket: Some("TICKET".into()),
            }),
        ),
        (
            event("<Event><![CDATA[unsubscribe]]></Event>"),
            Body::Event(Event::Unsubscribe),
        ),
        (
            event("<Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[MY_REPORTS]]></EventKey>"),
            Body::Event(Event::Click {
                key: "MY_REPORTS".into(),
            }),
        ),
        (
            event(
                "<Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://h5.example/report]]></EventKey>",
            ),
            Body::Event(Event::View {
                url: "https://h5.example/report".into(),
                menu_id: None,
            }),
        ),
        (
            event(
                "<Event><![CDATA[LOCATION]]></Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision>",
            ),
            Body::Event(Event::Location {
                latitude: 23.137466,
                longitude: 113.352425,
                precision: Some(119.38504),
            }),
        ),
        (
            event(
                "<Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent><List><TemplateId><![CDATA[tpl_accept]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List><List><TemplateId><![CDATA[tpl_reject]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>",
            ),
            Body::Event(Event::SubscribeMsgPopup {
                items: vec![
                    wechat::PopupChoice {
                        template_id: "tpl_accept".into(),
                        status: SubscribeStatus::Accept,
                        scene: Some(2),
                    },
                    wechat::PopupChoice {
                        template_id: "tpl_reject".into(),
                        status: SubscribeStatus::Reject,
                        scene: Some(2),
                    },
                ],
            }),
        ),
    ]
}

#[tokio::test]
async fn pushes_signed_and_encrypted_by_wechatpy_are_accepted() {
    // Arrange: wechatpy encrypts and signs every message.
    let now = now();
    let msgs = messages();
    let request = json!({
        "command": "push", "token": TOKEN, "key": KEY, "appid": APPID,
        "messages": msgs.iter().enumerate().map(|(i, (xml, _))| json!({
            "xml": xml, "timestamp": now, "nonce": format!("{}", 100_000 + i),
            "account_id": "gh_12336", "openid": "oInteropUser_0123456789abc",
        })).collect::<Vec<_>>(),
    });
    let Some(pushes) = oracle(request) else {
        return;
    };
    let cb = Callback::new(SecretString::from(TOKEN), APPID, Some(KEY)).expect("cb");
    let store = InMemoryNonceStore::new();

    // Act + Assert: every push is accepted and typed as expected.
    for ((_, expected), push) in msgs.iter().zip(pushes.as_array().expect("array")) {
        let q = query_from(&push["query"]);
        let body = push["body"].as_str().expect("body");
        let opened = cb
            .receive(&q, body.as_bytes(), now, &store)
            .await
            .unwrap_or_else(|e| panic!("refused ({}): {body}", e.code()));
        assert_eq!(&opened.message.body, expected);
        assert_eq!(opened.message.from_user, "oInteropUser_0123456789abc");
        // ...and replaying it is refused.
        let again = cb.receive(&q, body.as_bytes(), now, &store).await;
        assert!(matches!(again, Err(wechat::WechatError::ReplayedNonce)));
    }
}

#[test]
fn replies_sealed_by_us_are_opened_by_wechatpy() {
    let cb = Callback::new(SecretString::from(TOKEN), APPID, Some(KEY)).expect("cb");
    let contents = [
        "您的举报已收到，编号 A20250101-0001。",
        "a]]>b",
        "]]>]]>",
        "<script>alert(1)</script> & \"quotes\" 'x'",
        "",
        "多行\n文本\r\n",
    ];
    let replies: Vec<String> = contents
        .iter()
        .map(|c| {
            let xml = TextReply {
                to_user: "oUser",
                from_user: "gh_12336",
                create_time: 1_750_000_000,
                content: c,
            }
            .to_xml();
            cb.seal_reply(wechat::Mode::Safe, &xml, 1_750_000_000)
        })
        .collect();
    let Some(out) = oracle(json!({
        "command": "open_reply", "token": TOKEN, "key": KEY, "appid": APPID, "replies": replies,
    })) else {
        return;
    };
    for (c, got) in contents.iter().zip(out.as_array().expect("array")) {
        assert_eq!(got["type"], "text", "{got}");
        assert_eq!(got["source"], "gh_12336");
        assert_eq!(got["target"], "oUser");
        // XML parsers normalise \r\n to \n, and wechatpy's xmltodict strips surrounding
        // whitespace from text (a wechatpy trait, not part of the protocol).
        let want = c.replace("\r\n", "\n").trim().to_owned();
        let have = got.get("content").and_then(Value::as_str).unwrap_or("");
        assert_eq!(have, want);
    }
}

#[test]
fn pushes_built_by_the_platform_side_are_opened_by_wechatpy() {
    // The simulator builds pushes with `Platform`; wechatpy must read them as WeChat's.
    let platform = Platform::from(
        wechat::CallbackKeys::new(SecretString::from(TOKEN), APPID, Some(KEY)).expect("p"),
    );
    let inbound = wechat::Inbound {
        to_user: "gh_12336".into(),
        from_user: "oSimUser".into(),
        create_time: 1_750_000_000,
        msg_id: Some(77),
        body: Body::Text {
            content: "模拟器消息 ]]> &".into(),
        },
    };
    let sub = wechat::Inbound {
        msg_id: None,
        body: Body::Event(Event::Subscribe {
            event_key: None,
            ticket: None,
        }),
        ..inbound.clone()
    };
    let pushes: Vec<Value> = [&inbound, &sub]
        .iter()
        .enumerate()
        .map(|(i, m)| {
            let p = platform.push(
                &m.to_xml(),
                "gh_12336",
                "oSimUser",
                1_750_000_000,
                &format!("5{i}"),
                wechat::crypto::random_prefix(),
            );
            let q: serde_json::Map<String, Value> = p
                .query
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect();
            json!({ "query": q, "body": p.body })
        })
        .collect();
    let Some(out) = oracle(json!({
        "command": "open_push", "token": TOKEN, "key": KEY, "appid": APPID, "pushes": pushes,
    })) else {
        return;
    };
    let out = out.as_array().expect("array");
    assert_eq!(out[0]["type"], "text");
    assert_eq!(out[0]["content"], "模拟器消息 ]]> &");
    assert_eq!(out[0]["source"], "oSimUser");
    assert_eq!(out[0]["plain_signature_ok"], true);
    assert_eq!(out[1]["type"], "event");
    assert_eq!(out[1]["event"], "subscribe");
}

#[test]
fn echo_queries_built_by_the_platform_side_pass_wechatpy_check_signature() {
    let platform = Platform::from(
        wechat::CallbackKeys::new(SecretString::from(TOKEN), APPID, None).expect("p"),
    );
    let queries: Vec<Value> = (0..5)
        .map(|i| {
            let q: serde_json::Map<String, Value> = platform
                .echo_query(1_750_000_000 + i, &format!("n{i}"), "e")
                .into_iter()
                .map(|(k, v)| (k.to_owned(), Value::String(v)))
                .collect();
            Value::Object(q)
        })
        .collect();
    let Some(out) = oracle(json!({ "command": "echo", "token": TOKEN, "queries": queries })) else {
        return;
    };
    assert!(
        out.as_array().expect("array").iter().all(|v| v == true),
        "{out}"
    );
}
