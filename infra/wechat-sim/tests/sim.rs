//! The simulator on port 0, driven by the real `wechat::ApiClient` and by raw HTTP.

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::Duration;

use axum::extract::{Query, State};
use axum::routing::post;
use secrecy::SecretString;
use serde_json::{Value, json};
use wechat::{
    ApiClient, ApiConfig, Body, Callback, CallbackQuery, ErrorClass, InMemoryNonceStore,
    InMemoryTokenCache, SubscribeMessage, TextReply, WechatError,
};
use wechat_sim::{Config, defaults};

struct Sim {
    base: String,
    http: reqwest::Client,
}

impl Sim {
    async fn start(config: Config) -> Self {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let (addr, _task) = wechat_sim::spawn(listener, config).expect("spawn");
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .timeout(Duration::from_secs(10))
            .build()
            .expect("http");
        Self {
            base: format!("http://{addr}"),
            http,
        }
    }

    fn client(&self) -> ApiClient<InMemoryTokenCache> {
        self.client_with_timeout(Duration::from_secs(5))
    }

    fn client_with_timeout(&self, timeout: Duration) -> ApiClient<InMemoryTokenCache> {
        let mut cfg = ApiConfig::new(
            format!("{}/", self.base).parse().expect("url"),
            defaults::APPID,
            SecretString::from(defaults::SECRET),
        );
        cfg.timeout = timeout;
        ApiClient::new(cfg, InMemoryTokenCache::new()).expect("client")
    }

    async fn get(&self, path: &str) -> reqwest::Response {
        self.http
            .get(format!("{}{path}", self.base))
            .send()
            .await
            .expect("get")
    }

    async fn post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("post")
            .json()
            .await
            .expect("json")
    }

    async fn user(&self) -> String {
        let u = self
            .post("/_sim/users", json!({ "nickname": "测试" }))
            .await;
        u["openid"].as_str().expect("openid").to_owned()
    }

    async fn delivered(&self, openid: &str) -> Vec<Value> {
        self.get(&format!("/_sim/messages?openid={openid}"))
            .await
            .json::<Vec<Value>>()
            .await
            .expect("messages")
    }

    async fn set_faults(&self, faults: Value) {
        let r = self
            .http
            .post(format!("{}/_sim/faults", self.base))
            .json(&faults)
            .send()
            .await
            .expect("faults");
        assert!(r.status().is_success());
    }
}

async fn stable_token(sim: &Sim, force: bool) -> String {
    let v = sim
        .post(
            "/cgi-bin/stable_token",
            json!({ "grant_type": "client_credential", "appid": defaults::APPID, "secret": defaults::SECRET, "force_refresh": force }),
        )
        .await;
    v["access_token"].as_str().expect("token").to_owned()
}

async fn raw_send(sim: &Sim, token: &str, openid: &str) -> Value {
    sim.post(
        &format!("/cgi-bin/message/custom/send?access_token={token}"),
        json!({ "touser": openid, "msgtype": "text", "text": { "content": "hi" } }),
    )
    .await
}

#[tokio::test]
async fn expired_tokens_answer_42001_unknown_ones_40001_and_the_client_refreshes() {
    // GIVEN a user and a client holding a token
    let sim = Sim::start(Config::default()).await;
    let openid = sim.user().await;
    let client = sim.client();
    client
        .send_text(&openid, "第一条")
        .await
        .expect("first send");
    let token = stable_token(&sim, false).await;

    // WHEN the simulator expires every token
    sim.post("/_sim/tokens/expire", json!({})).await;

    // THEN the old token answers 42001, a made-up one 40001, a missing one 41001
    assert_eq!(raw_send(&sim, &token, &openid).await["errcode"], 42001);
    assert_eq!(raw_send(&sim, "bogus", &openid).await["errcode"], 40001);
    assert_eq!(raw_send(&sim, "", &openid).await["errcode"], 41001);
    // ...and the client, whose cached token is now stale, refreshes once and succeeds.
    client
        .send_text(&openid, "第二条")
        .await
        .expect("second send after refresh");
    let msgs = sim.delivered(&openid).await;
    assert_eq!(msgs.len(), 2);
    assert_eq!(msgs[1]["content"], "第二条");
}

#[tokio::test]
async fn a_forced_refresh_revokes_the_previous_token() {
    let sim = Sim::start(Config::default()).await;
    let openid = sim.user().await;
    let old = stable_token(&sim, false).await;
    assert_eq!(
        stable_token(&sim, false).await,
        old,
        "stable: same token while valid"
    );
    let new = stable_token(&sim, true).await;
    assert_ne!(new, old);
    assert_eq!(raw_send(&sim, &old, &openid).await["errcode"], 40001);
    assert_eq!(raw_send(&sim, &new, &openid).await["errcode"], 0);
}

#[tokio::test]
async fn short_lived_tokens_expire_by_themselves() {
    let sim = Sim::start(Config {
        token_ttl: Duration::from_secs(1),
        ..Config::default()
    })
    .await;
    let openid = sim.user().await;
    let token = stable_token(&sim, false).await;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(raw_send(&sim, &token, &openid).await["errcode"], 42001);
}

#[tokio::test]
async fn wrong_credentials_are_refused() {
    let sim = Sim::start(Config::default()).await;
    let v = sim
        .post("/cgi-bin/stable_token", json!({ "grant_type": "client_credential", "appid": defaults::APPID, "secret": "nope" }))
        .await;
    assert_eq!(v["errcode"], 40125);
    let v = sim
        .post("/cgi-bin/stable_token", json!({ "grant_type": "client_credential", "appid": "wxother", "secret": defaults::SECRET }))
        .await;
    assert_eq!(v["errcode"], 40013);
}

#[tokio::test]
async fn oauth_codes_are_single_use() {
    let sim = Sim::start(Config::default()).await;
    let openid = sim.user().await;
    let client = sim.client();
    let code = sim
        .post("/_sim/oauth/code", json!({ "openid": openid }))
        .await["code"]
        .as_str()
        .expect("code")
        .to_owned();

    let user = client.oauth_openid(&code).await.expect("first exchange");
    assert_eq!(user.openid, openid);
    assert_eq!(user.scope, "snsapi_base");
    assert!(!user.is_snapshot_user);

    let again = client.oauth_openid(&code).await.expect_err("reuse");
    assert_eq!(again.errcode(), Some(40163));
    assert_eq!(again.class(), ErrorClass::Permanent);
    let unknown = client
        .oauth_openid("not-a-code")
        .await
        .expect_err("unknown");
    assert_eq!(unknown.errcode(), Some(40029));
}

#[tokio::test]
async fn authorize_redirects_to_the_h5_form_with_code_and_state() {
    let sim = Sim::start(Config {
        h5_url: Some("http://h5.local/report".into()),
        ..Config::default()
    })
    .await;
    let openid = sim.user().await;
    let r = sim
        .get(&format!(
            "/connect/oauth2/authorize?appid={}&redirect_uri=http%3A%2F%2Fh5.local%2Freport%3Fa%3D1&response_type=code&scope=snsapi_base&state=xyz&sim_openid={openid}",
            defaults::APPID
        ))
        .await;
    assert_eq!(r.status(), 302);
    let location = r.headers()["location"]
        .to_str()
        .expect("location")
        .to_owned();
    let url = url::Url::parse(&location).expect("url");
    assert_eq!(url.host_str(), Some("h5.local"));
    let q: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(q.get("a").map(String::as_str), Some("1"));
    assert_eq!(q.get("state").map(String::as_str), Some("xyz"));
    let user = sim
        .client()
        .oauth_openid(&q["code"])
        .await
        .expect("exchange");
    assert_eq!(user.openid, openid);

    // Without a chosen user, a picker page is shown.
    let page = sim
        .get(&format!(
            "/connect/oauth2/authorize?appid={}&redirect_uri=http%3A%2F%2Fh5.local%2F&response_type=code&scope=snsapi_base&state=s",
            defaults::APPID
        ))
        .await;
    assert!(page.text().await.expect("text").contains("选择模拟用户"));

    // The "WeChat browser" of the simulator page's user: the platform's own authorize URL
    // (no sim_openid, any state) goes straight back with a code for that user (issue 17 point 3).
    let by_cookie = sim
        .http
        .get(format!(
            "{}/connect/oauth2/authorize?appid={}&redirect_uri=http%3A%2F%2F127.0.0.1%3A3000%2Fapi%2Freporter%2Foauth&response_type=code&scope=snsapi_base&state=signed.by.platform#wechat_redirect",
            sim.base,
            defaults::APPID
        ))
        .header("cookie", format!("other=1; sim_user={openid}"))
        .send()
        .await
        .expect("authorize");
    assert_eq!(by_cookie.status(), 302);
    let url =
        url::Url::parse(by_cookie.headers()["location"].to_str().expect("location")).expect("url");
    assert_eq!(url.path(), "/api/reporter/oauth");
    let q: BTreeMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(
        q.get("state").map(String::as_str),
        Some("signed.by.platform")
    );
    let user = sim
        .client()
        .oauth_openid(&q["code"])
        .await
        .expect("exchange");
    assert_eq!(user.openid, openid);
}

#[tokio::test]
async fn fault_injection_ratios_are_honoured_approximately() {
    // GIVEN -1 at 20 %, 45009 at 10 %, HTTP 502 at 10 %
    let sim = Sim::start(Config::default()).await;
    let openid = sim.user().await;
    let client = sim.client();
    client.access_token().await.expect("token");
    sim.set_faults(json!({ "system_busy": 0.2, "quota": 0.1, "server_error": 0.1 }))
        .await;

    // WHEN sending a bounded number of messages
    const N: usize = 400;
    let (mut busy, mut quota, mut bad_gateway, mut ok) = (0usize, 0usize, 0usize, 0usize);
    for _ in 0..N {
        match client.send_text(&openid, "x").await {
            Ok(()) => ok += 1,
            Err(e) => {
                assert_eq!(e.class(), ErrorClass::Retryable, "{e:?}");
                match (&e, e.errcode()) {
                    (_, Some(-1)) => busy += 1,
                    (_, Some(45009)) => quota += 1,
                    (WechatError::HttpStatus(502), _) => bad_gateway += 1,
                    other => panic!("unexpected {other:?}"),
                }
            }
        }
    }

    // THEN each share is within 7.5 points of its probability, and only successes are recorded
    let share = |n: usize| n as f64 / N as f64;
    for (name, got, want) in [
        ("busy", busy, 0.2),
        ("quota", quota, 0.1),
        ("502", bad_gateway, 0.1),
        ("ok", ok, 0.6),
    ] {
        assert!((share(got) - want).abs() < 0.075, "{name}: {got}/{N}");
    }
    assert_eq!(sim.delivered(&openid).await.len(), ok);
}

#[tokio::test]
async fn a_held_answer_is_a_retryable_timeout() {
    let sim = Sim::start(Config::default()).await;
    let openid = sim.user().await;
    let client = sim.client_with_timeout(Duration::from_millis(300));
    client.access_token().await.expect("token");
    sim.set_faults(json!({ "timeout": 1.0, "timeout_ms": 1500 }))
        .await;
    let e = client.send_text(&openid, "x").await.expect_err("timeout");
    assert_eq!(e.code(), "timeout");
    assert_eq!(e.class(), ErrorClass::Retryable);
}

#[tokio::test]
async fn per_openid_errors_are_permanent() {
    let sim = Sim::start(Config::default()).await;
    let unfollowed = sim.user().await;
    let refused = sim.user().await;
    let fine = sim.user().await;
    sim.set_faults(
        json!({ "openid_errors": { unfollowed.clone(): 43004, refused.clone(): 43101 } }),
    )
    .await;
    let client = sim.client();

    let e = client.send_text(&unfollowed, "x").await.expect_err("43004");
    assert_eq!(
        (e.errcode(), e.class()),
        (Some(43004), ErrorClass::Permanent)
    );
    let msg = |to: &str| SubscribeMessage {
        touser: to.into(),
        template_id: "tpl_clue_accepted".into(),
        page: Some("http://h5.local/clue/1".into()),
        data: BTreeMap::from([("thing1".to_owned(), "已受理".to_owned())]),
    };
    let e = client
        .send_subscribe(&msg(&refused))
        .await
        .expect_err("43101");
    assert_eq!(
        (e.errcode(), e.class()),
        (Some(43101), ErrorClass::Permanent)
    );
    let e = client.send_text("oNobody", "x").await.expect_err("40003");
    assert_eq!(
        (e.errcode(), e.class()),
        (Some(40003), ErrorClass::Permanent)
    );
    client.send_subscribe(&msg(&fine)).await.expect("delivered");
}

#[tokio::test]
async fn sent_messages_are_recorded_per_openid() {
    let sim = Sim::start(Config::default()).await;
    let a = sim.user().await;
    let b = sim.user().await;
    let client = sim.client();
    client.send_text(&a, "您的举报已受理").await.expect("text");
    client
        .send_subscribe(&SubscribeMessage {
            touser: a.clone(),
            template_id: "tpl_clue_result".into(),
            page: Some("http://h5.local/clue/9".into()),
            data: BTreeMap::from([("thing2".to_owned(), "已办结".to_owned())]),
        })
        .await
        .expect("subscribe");
    let bad_template = client
        .send_subscribe(&SubscribeMessage {
            touser: a.clone(),
            template_id: String::new(),
            page: None,
            data: BTreeMap::new(),
        })
        .await
        .expect_err("40037");
    assert_eq!(bad_template.errcode(), Some(40037));

    let got = sim.delivered(&a).await;
    assert_eq!(got.len(), 2);
    assert_eq!(got[0]["kind"], "custom");
    assert_eq!(got[0]["content"], "您的举报已受理");
    assert_eq!(got[1]["kind"], "subscribe");
    assert_eq!(got[1]["template_id"], "tpl_clue_result");
    assert_eq!(got[1]["body"]["data"]["thing2"]["value"], "已办结");
    assert!(sim.delivered(&b).await.is_empty());
}

#[tokio::test]
async fn uploaded_media_downloads_with_its_content_type() {
    let sim = Sim::start(Config::default()).await;
    let token = stable_token(&sim, false).await;
    let png = vec![0x89, b'P', b'N', b'G', 1, 2, 3, 4];
    let form = reqwest::multipart::Form::new().part(
        "media",
        reqwest::multipart::Part::bytes(png.clone())
            .file_name("a.png")
            .mime_str("image/png")
            .expect("mime"),
    );
    let v: Value = sim
        .http
        .post(format!(
            "{}/cgi-bin/media/upload?access_token={token}&type=image",
            sim.base
        ))
        .multipart(form)
        .send()
        .await
        .expect("upload")
        .json()
        .await
        .expect("json");
    let id = v["media_id"].as_str().expect("media_id");

    let media = sim.client().media(id).await.expect("download");
    assert_eq!(media.bytes, png);
    assert_eq!(media.content_type, "image/png");
    let e = sim.client().media("missing").await.expect_err("40007");
    assert_eq!(
        (e.errcode(), e.class()),
        (Some(40007), ErrorClass::Permanent)
    );
}

// --- the chat path: simulator → callback → reply ------------------------------------------

struct Account {
    cb: Callback,
    nonces: InMemoryNonceStore,
}

async fn callback(
    State(acc): State<Arc<Account>>,
    Query(q): Query<CallbackQuery>,
    body: axum::body::Bytes,
) -> (axum::http::StatusCode, String) {
    let now = wechat_sim::state::unix_now();
    match acc.cb.receive(&q, &body, now, &acc.nonces).await {
        Ok(opened) => {
            let m = &opened.message;
            let text = match &m.body {
                Body::Text { content } => format!("已收到：{content}"),
                Body::Image { media_id, .. } => format!("图片 {}", media_id.len()),
                _ => return (axum::http::StatusCode::OK, "success".into()),
            };
            let reply = TextReply {
                to_user: &m.from_user,
                from_user: &m.to_user,
                create_time: now,
                content: &text,
            }
            .to_xml();
            (
                axum::http::StatusCode::OK,
                acc.cb.seal_reply(opened.mode, &reply, now),
            )
        }
        Err(e) => (axum::http::StatusCode::BAD_REQUEST, e.code().to_owned()),
    }
}

async fn start_account() -> String {
    let acc = Arc::new(Account {
        cb: Callback::from(defaults::keys()),
        nonces: InMemoryNonceStore::new(),
    });
    let app = axum::Router::new()
        .route("/wechat/callback", post(callback))
        .with_state(acc);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    format!("http://{addr}/wechat/callback")
}

#[tokio::test]
async fn chat_messages_reach_the_callback_signed_and_encrypted_and_replies_are_decrypted() {
    // GIVEN an account callback that verifies with the `wechat` crate and echoes text
    let url = start_account().await;
    let sim = Sim::start(Config {
        callback_url: Some(url),
        ..Config::default()
    })
    .await;
    let openid = sim.user().await;

    // WHEN the user types a message, follows, and sends a picture
    let text = sim
        .post(
            "/_sim/chat",
            json!({ "openid": openid, "type": "text", "content": "有人在耕地上盖房 ]]>" }),
        )
        .await;
    let follow = sim
        .post(
            "/_sim/chat",
            json!({ "openid": openid, "type": "subscribe" }),
        )
        .await;
    let popup = sim
        .post(
            "/_sim/chat",
            json!({ "openid": openid, "type": "subscribe_popup" }),
        )
        .await;
    let form = reqwest::multipart::Form::new()
        .text("openid", openid.clone())
        .part(
            "media",
            reqwest::multipart::Part::bytes(vec![1, 2, 3])
                .mime_str("image/jpeg")
                .expect("mime"),
        );
    let image: Value = sim
        .http
        .post(format!("{}/_sim/chat/image", sim.base))
        .multipart(form)
        .send()
        .await
        .expect("image")
        .json()
        .await
        .expect("json");

    // THEN the callback accepted each and the replies came back decrypted
    assert_eq!(text["ok"], true, "{text}");
    assert_eq!(text["reply"]["content"], "已收到：有人在耕地上盖房 ]]>");
    assert_eq!(text["reply"]["to_user"], openid.as_str());
    assert_eq!(follow["ok"], true, "{follow}");
    assert!(follow["reply"].is_null());
    assert_eq!(popup["ok"], true, "{popup}");
    assert_eq!(image["ok"], true, "{image}");
    assert_eq!(image["reply"]["content"], "图片 64");
}

#[tokio::test]
async fn chat_without_a_callback_says_so() {
    let sim = Sim::start(Config::default()).await;
    let r = sim
        .http
        .post(format!("{}/_sim/chat", sim.base))
        .json(&json!({ "openid": "o", "type": "text", "content": "x" }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), 503);
    assert!(r.text().await.expect("text").contains("SIM_CALLBACK_URL"));
}

#[tokio::test]
async fn the_simulator_page_is_served_in_chinese() {
    let sim = Sim::start(Config::default()).await;
    let html = sim.get("/").await.text().await.expect("html");
    for s in ["打开举报表单", "订阅通知授权", "新建用户", "通知"] {
        assert!(html.contains(s), "{s}");
    }
}
