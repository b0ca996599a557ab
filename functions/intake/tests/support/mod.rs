//! Test support for the intake: the store on a serialized moto (`testkit::store_env`), the
//! fake WeChat in-process, and both edges ([`App`], the H5 API, and [`CallbackApp`], the WeChat
//! callback) on one reporting core, wired to both; [`World::handle`] routes a request to its
//! edge as the HTTP API does.
#![allow(dead_code)]

pub use testkit::store_env as store_support;

use std::collections::{BTreeSet, HashMap};

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use serde_json::{Value, json};
use std::sync::Arc;

use intake::callback::CallbackApp;
use intake::http::Req;
use intake::ports::MemoryMediaQueue;
use intake::{App, Reporting};
use keyring::Keyring;
use outbox::MemoryNoticeQueue;
use secrecy::SecretString;
use session::SessionKey;
use store::{
    AttachmentStatus, DynamoClueStore, PageRequest, ReporterKeyer, ReportingStore, roles::*,
};
use wechat::{ApiClient, ApiConfig, Callback, InMemoryTokenCache, Platform};
use wechat_sim::defaults;

pub use store_support::Env;

/// The public origin the tests' intake is configured with; requests arrive with another
/// `host` (127.0.0.1:3000), so a link built from request headers shows.
pub const PUBLIC: &str = "https://12336.example.cn";

pub type TestApp = App<DynamoClueStore, ReportingStore, MemoryNoticeQueue, MemoryMediaQueue>;
pub type TestCallback =
    CallbackApp<DynamoClueStore, ReportingStore, MemoryNoticeQueue, MemoryMediaQueue>;
pub type TestReporting =
    Reporting<DynamoClueStore, ReportingStore, MemoryNoticeQueue, MemoryMediaQueue>;

/// A session key from two one-version secrets of `byte` repeated (session) and `byte + 1`
/// (OAuth state).
pub fn session_key(byte: u8) -> SessionKey {
    let ring = |b: u8| Keyring::single("1", vec![b; 32]).expect("keyring");
    SessionKey::new(&ring(byte), &ring(byte + 1))
}

/// The reporting core of the tests: the store and side table on `env`, queues in memory.
fn core(env: &Env, side: &ReportingStore, per_hour: u32) -> TestReporting {
    Reporting {
        store: env.another_store(),
        side: side.clone(),
        notices: MemoryNoticeQueue::default(),
        media: MemoryMediaQueue::default(),
        keyer: ReporterKeyer::new(store_support::SECRET.to_vec()).expect("keyer"),
        public: intake::PublicOrigin::parse(PUBLIC).expect("origin"),
        surge: intake::surge::Surge::new(per_hour, "test"),
    }
}

pub struct World {
    pub env: Env,
    /// The H5 API (the `intake` function).
    pub app: TestApp,
    /// The WeChat callback (the `callback` function), on the same reporting core.
    pub chat: TestCallback,
    pub platform: Platform,
    pub sim: String,
    pub side: ReportingStore,
}

impl World {
    pub async fn start() -> Self {
        Self::start_with_surge(intake::surge::DEFAULT_PER_HOUR).await
    }

    /// A world whose surge line is `per_hour` clues per county and hour.
    pub async fn start_with_surge(per_hour: u32) -> Self {
        let env = Env::start().await;
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let (addr, _task) =
            wechat_sim::spawn(listener, wechat_sim::Config::default()).expect("sim");
        let sim = format!("http://{addr}");
        let side = ReportingStore::new(env.db.clone(), &env.table);
        let reporting = Arc::new(core(&env, &side, per_hour));
        let app = App {
            reporting: reporting.clone(),
            oauth: ApiClient::new(
                ApiConfig::new(
                    format!("{sim}/").parse().expect("url"),
                    defaults::APPID,
                    SecretString::from(defaults::SECRET),
                ),
                InMemoryTokenCache::new(),
            )
            .expect("client"),
            oauth_base: sim.clone(),
            appid: defaults::APPID.to_owned(),
            session: session_key(7),
        };
        let chat = CallbackApp {
            reporting,
            callback: Callback::from(defaults::keys()),
        };
        let platform = Platform::from(defaults::keys());
        Self {
            env,
            app,
            chat,
            platform,
            sim,
            side,
        }
    }

    /// Changes the reporting core both edges share (a rotated secret, another store): the
    /// callback lets go of it while it changes, then shares it again.
    pub fn change_core(&mut self, f: impl FnOnce(&mut TestReporting)) {
        let stand_in = Arc::new(core(&self.env, &self.side, intake::surge::DEFAULT_PER_HOUR));
        drop(std::mem::replace(&mut self.chat.reporting, stand_in));
        f(Arc::get_mut(&mut self.app.reporting).expect("only the two edges hold the core"));
        self.chat.reporting = self.app.reporting.clone();
    }

    /// The reporting core both edges share.
    pub fn core(&self) -> &TestReporting {
        &self.app.reporting
    }

    /// Routes `req` to its function, as the HTTP API's routes do: `/wechat/callback` to the
    /// callback, the rest to the H5 API.
    pub async fn handle(&self, req: &Req, now: chrono::DateTime<Utc>) -> intake::Resp {
        if req.path.starts_with("/wechat/") {
            self.chat.handle(req, now).await
        } else {
            self.app.handle(req, now).await
        }
    }

    /// A signed, encrypted push of `xml` from `openid`, as WeChat sends it.
    pub fn push_req(&self, xml: &str, openid: &str, nonce: &str) -> Req {
        let push = self.platform.push(
            xml,
            defaults::ACCOUNT_ID,
            openid,
            Utc::now().timestamp(),
            nonce,
            [3u8; 16],
        );
        let mut req = Req::new("POST", "/wechat/callback");
        for (k, v) in push.query {
            req.query.insert(k.to_owned(), v);
        }
        req.headers.insert("host".into(), "127.0.0.1:3000".into());
        req.body = push.body.into_bytes();
        req
    }

    /// Sends a push and returns the reply text (None for an empty answer).
    pub async fn say(&self, xml: &str, openid: &str) -> Option<String> {
        let req = self.push_req(
            xml,
            openid,
            &uuid::Uuid::new_v4().simple().to_string()[..10],
        );
        let resp = self.handle(&req, Utc::now()).await;
        assert_eq!(resp.status, 200, "{}", resp.body);
        self.platform
            .open_reply(resp.body.as_bytes(), Utc::now().timestamp())
            .expect("reply opens")
            .and_then(|r| r.content)
    }

    /// The clues `openid` filed (the first page, newest first), as the store keeps them.
    pub async fn clues_of(&self, openid: &str) -> Vec<store::StoredClue> {
        let reporter = self.core().keyer.key(openid);
        self.core()
            .store
            .reporter_clues(&reporter, PageRequest::default())
            .await
            .expect("clues")
            .items
    }

    /// Says each of `steps` from `openid` in turn (message ids from `base`), each answered;
    /// returns the last answer.
    pub async fn say_each(&self, openid: &str, steps: &[&str], base: i64) -> String {
        let mut last = String::new();
        for (i, s) in steps.iter().enumerate() {
            last = self.answer(openid, s, base + i as i64).await;
        }
        last
    }

    /// Says `text` from `openid` as message `msg_id` and returns the answer, which must come.
    pub async fn answer(&self, openid: &str, text: &str, msg_id: i64) -> String {
        self.say(&text_msg(openid, text, msg_id), openid)
            .await
            .unwrap_or_else(|| panic!("{text} answered"))
    }

    /// Signs in `openid` through WeChat OAuth (login → sim code → oauth) and returns the session
    /// cookie value.
    pub async fn sign_in(&self, openid: &str) -> String {
        let http = reqwest::Client::new();
        http.post(format!("{}/_sim/users", self.sim))
            .json(&serde_json::json!({"openid": openid, "nickname": "测试"}))
            .send()
            .await
            .expect("user");
        let mut login = Req::new("GET", "/api/reporter/login");
        login.query.insert("return".into(), "#/mine".into());
        login.headers.insert("host".into(), "127.0.0.1:3000".into());
        let resp = self.handle(&login, Utc::now()).await;
        assert_eq!(resp.status, 302);
        let location = header(&resp, "location").expect("location");
        assert!(location.contains("scope=snsapi_base"), "{location}");
        let url = url::Url::parse(&location).expect("url");
        let redirect_uri = url
            .query_pairs()
            .find(|(k, _)| k == "redirect_uri")
            .map(|(_, v)| v.into_owned());
        assert_eq!(
            redirect_uri,
            Some(format!("{PUBLIC}/api/reporter/oauth")),
            "the OAuth redirect_uri is on the public origin, not the request's host"
        );
        let state = url
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("state");
        let nonce = cookie_value(&resp, session::LOGIN_COOKIE).expect("login cookie");
        let code: serde_json::Value = http
            .post(format!("{}/_sim/oauth/code", self.sim))
            .json(&serde_json::json!({"openid": openid}))
            .send()
            .await
            .expect("code")
            .json()
            .await
            .expect("json");
        let mut cb = Req::new("GET", "/api/reporter/oauth");
        cb.query
            .insert("code".into(), code["code"].as_str().expect("code").into());
        cb.query.insert("state".into(), state);
        cb.cookies.insert(session::LOGIN_COOKIE.into(), nonce);
        cb.headers.insert("host".into(), "127.0.0.1:3000".into());
        let resp = self.handle(&cb, Utc::now()).await;
        assert_eq!(resp.status, 302, "{}", resp.body);
        assert_eq!(
            header(&resp, "location"),
            Some(format!("{PUBLIC}/h5/index.html#/mine")),
            "sign-in lands on the served page"
        );
        let all: Vec<_> = resp
            .headers
            .iter()
            .filter(|(k, _)| k == "set-cookie")
            .collect();
        assert!(all.iter().any(|(_, v)| v.contains("HttpOnly")));
        cookie_value(&resp, session::SESSION_COOKIE).expect("session cookie")
    }

    /// The version of 西湖区's reporting notice in force, as the form reads it.
    pub async fn notice_version(&self, cookie: &str) -> String {
        let r = self
            .handle(
                &self.api(
                    "GET",
                    "/api/reporter/reporting-notice?division=330106",
                    Some(cookie),
                    "",
                ),
                Utc::now(),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.body);
        let v: serde_json::Value = serde_json::from_str(&r.body).expect("json");
        v["version_id"].as_str().expect("version").to_owned()
    }

    /// An anonymous H5 filing in 西湖区 with `facts`, under reporting notice `notice`.
    pub fn h5_clue(&self, notice: &str, cookie: &str, facts: &str) -> Req {
        let mut form = h5_form(notice);
        form["facts"] = json!(facts);
        self.post_clue(cookie, &form)
    }

    /// The filing of `form` by the reporter of session `cookie`, as the H5 page posts it.
    pub fn post_clue(&self, cookie: &str, form: &Value) -> Req {
        self.api(
            "POST",
            "/api/reporter/clues",
            Some(cookie),
            &form.to_string(),
        )
    }

    /// Files `form` for the reporter of session `cookie` and returns the new clue's id.
    pub async fn file(&self, cookie: &str, form: &Value) -> String {
        let filed = self.handle(&self.post_clue(cookie, form), Utc::now()).await;
        assert_eq!(filed.status, 201, "{}", filed.body);
        json_body(&filed)["clue_id"]
            .as_str()
            .expect("clue_id")
            .to_owned()
    }

    /// Signs in `openid` and files a named clue: the session cookie, the notice version in
    /// force and the clue's id.
    pub async fn signed_in_with_a_clue(&self, openid: &str) -> (String, String, String) {
        let cookie = self.sign_in(openid).await;
        let version = self.notice_version(&cookie).await;
        let clue_id = self.file(&cookie, &named(h5_form(&version))).await;
        (cookie, version, clue_id)
    }

    /// A message `body` (JSON) the reporter of session `cookie` posts on clue `clue_id`.
    pub fn message(&self, cookie: &str, clue_id: &str, body: &str) -> Req {
        self.api(
            "POST",
            &format!("/api/reporter/clues/{clue_id}/messages"),
            Some(cookie),
            body,
        )
    }

    /// Stores an uploaded attachment `id` of `openid`'s in `status`.
    pub async fn attachment(&self, openid: &str, id: &str, status: AttachmentStatus) {
        let a = store::Attachment {
            id: domain::AttachmentId::parse(id).expect("id"),
            owner: self.core().keyer.key(openid),
            declared_type: "image/jpeg".into(),
            declared_size: 10,
            source: store::AttachmentSource::Upload,
            status,
            created_at: Utc::now(),
        };
        assert!(self.side.create_attachment(&a).await.expect("create"));
    }

    /// An API request with the session cookie `cookie`, as the H5 page sends it.
    pub fn api(&self, method: &str, path: &str, cookie: Option<&str>, body: &str) -> Req {
        let (path, query) = path.split_once('?').unwrap_or((path, ""));
        let mut r = Req::new(method, path);
        for pair in query.split('&').filter(|p| !p.is_empty()) {
            let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
            r.query.insert(k.to_owned(), v.to_owned());
        }
        if let Some(c) = cookie {
            r.cookies
                .insert(session::SESSION_COOKIE.into(), c.to_owned());
        }
        r.headers.insert("host".into(), "127.0.0.1:3000".into());
        if method == "POST" {
            // As the H5 page sends it (fetch with a JSON body, same origin).
            r.headers
                .insert("content-type".into(), "application/json".into());
            r.headers.insert("origin".into(), PUBLIC.into());
            r.headers
                .insert("sec-fetch-site".into(), "same-origin".into());
        }
        r.body = body.as_bytes().to_vec();
        r
    }

    /// Every item of the table as comparable text, without callback nonces.
    pub async fn snapshot(&self) -> BTreeSet<String> {
        self.env
            .scan()
            .await
            .into_iter()
            .filter(|i| {
                !i.get("pk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|pk| pk.starts_with("NONCE#"))
            })
            .map(|i| format!("{:?}", sorted(&i)))
            .collect()
    }

    /// How many outbox (notice) items the table holds.
    pub async fn outbox_count(&self) -> usize {
        self.env
            .scan()
            .await
            .iter()
            .filter(|i| {
                i.get("sk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|sk| sk.starts_with("NOTICE#"))
            })
            .count()
    }
}

fn sorted(i: &HashMap<String, AttributeValue>) -> Vec<(String, String)> {
    let mut v: Vec<_> = i
        .iter()
        .map(|(k, v)| (k.clone(), format!("{v:?}")))
        .collect();
    v.sort();
    v
}

/// The guided chat from its keyword to the facts (西湖区, an address, a subject), answered with
/// the question for photos.
pub const CHAT_TO_FACTS: [&str; 5] = [
    "举报",
    "浙江省杭州市西湖区",
    "留下街道某村东侧",
    "某建材公司",
    "在基本农田上建厂房，约三亩。",
];

/// The H5 form as the page sends it: an anonymous clue in 西湖区 without evidence, under
/// reporting notice `notice`; tests change the fields they are about.
pub fn h5_form(notice: &str) -> Value {
    json!({
        "division": "330106",
        "address": "留下街道某村东侧农田",
        "gps": {"lat": 30.25, "lng": 120.05},
        "subject": "某建材公司",
        "category": {"kind": "annex", "code": "farmland_destruction"},
        "facts": "在基本农田上堆放建材并硬化地面。",
        "attachments": [],
        "notice_version": notice,
        "consent": true,
        "identity": null,
        "resubmission_of": null,
    })
}

/// `form` filed under a real name (张三) and a phone number.
pub fn named(mut form: Value) -> Value {
    form["identity"] = json!({"name": "张三", "phone": "13812345678", "id_number": null});
    form
}

/// A processed photo, as the attachments function settles one.
pub fn ready() -> AttachmentStatus {
    AttachmentStatus::Ready {
        sha256: "cd".repeat(32),
        content_type: "image/jpeg".into(),
        size: 10,
    }
}

/// An answer's JSON body (`null` when it has none).
pub fn json_body(r: &intake::Resp) -> Value {
    serde_json::from_str(&r.body).unwrap_or(Value::Null)
}

/// Requests an edge must refuse, each with its status and stable error code (`a|b`: either).
#[derive(Default)]
pub struct Refusals {
    cases: Vec<(String, Req, u16, &'static str)>,
}

impl Refusals {
    /// Expects `req` (named `name` in failures) to be refused with `status` and `code`.
    pub fn add(&mut self, name: impl Into<String>, req: Req, status: u16, code: &'static str) {
        assert!((400..500).contains(&status), "a refusal is a 4xx");
        self.cases.push((name.into(), req, status, code));
    }

    /// Sends every request: each is refused as expected, its answer names no openid starting
    /// with one of `openids`, and no item of the table (but callback nonces) changes. Returns
    /// how many were refused.
    pub async fn check(self, w: &World, openids: &[&str]) -> usize {
        let before = w.snapshot().await;
        for (name, req, status, code) in &self.cases {
            let resp = w.handle(req, Utc::now()).await;
            assert_eq!(resp.status, *status, "{name}: {}", resp.body);
            let got = resp.error_code().unwrap_or_default();
            assert!(
                code.split('|').any(|c| c == got),
                "{name}: {got} not {code}: {}",
                resp.body
            );
            assert!(
                openids.iter().all(|o| !resp.body.contains(o)),
                "{name}: no openid in errors"
            );
        }
        assert_eq!(
            w.snapshot().await,
            before,
            "no hostile request changed the table"
        );
        let n = self.cases.len();
        eprintln!("{n} hostile cases refused");
        n
    }
}

pub fn header(resp: &intake::Resp, name: &str) -> Option<String> {
    resp.headers
        .iter()
        .find(|(k, _)| k == name)
        .map(|(_, v)| v.clone())
}

pub fn cookie_value(resp: &intake::Resp, name: &str) -> Option<String> {
    resp.headers
        .iter()
        .filter(|(k, _)| k == "set-cookie")
        .find_map(|(_, v)| {
            v.split(';')
                .next()
                .and_then(|p| p.split_once('='))
                .filter(|(k, val)| *k == name && !val.is_empty())
                .map(|(_, val)| val.to_owned())
        })
}

pub fn text_msg(openid: &str, text: &str, msg_id: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[{text}]]></Content><MsgId>{msg_id}</MsgId></xml>",
        defaults::ACCOUNT_ID,
        Utc::now().timestamp()
    )
}

pub fn image_msg(openid: &str, media_id: &str, msg_id: i64) -> String {
    format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{}</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://x/p.jpg]]></PicUrl><MediaId><![CDATA[{media_id}]]></MediaId><MsgId>{msg_id}</MsgId></xml>",
        defaults::ACCOUNT_ID,
        Utc::now().timestamp()
    )
}

pub fn event_msg(openid: &str, event: &str, key: Option<&str>, create_time: i64) -> String {
    let key = key
        .map(|k| format!("<EventKey><![CDATA[{k}]]></EventKey>"))
        .unwrap_or_default();
    format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{key}</xml>",
        defaults::ACCOUNT_ID
    )
}
