//! Unsigned junk costs the callback no table access (issue 16, point 2): every refusal (bad
//! signature, missing parameters, stale timestamp, oversize body, wrong method or path) is
//! answered before any DynamoDB request, counted on the wire by an SDK interceptor. Under a
//! flood of junk (500 per second for 10 s, in-process on loopback), signed pushes keep being
//! answered correctly within WeChat's 5 s, and the junk still makes no request.

use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use intake::callback::CallbackApp;
use intake::ports::MemoryMediaQueue;
use intake::{Reporting, Req, Resp};
use outbox::MemoryNoticeQueue;
use store::{DynamoClueStore, ReporterKeyer, ReportingStore, StoreConfig};
use testkit::requests::{Requests, labelled};
use testkit::store_env::{Env, SECRET};
use wechat::{Callback, Platform};
use wechat_sim::defaults;

type App = CallbackApp<DynamoClueStore, ReportingStore, MemoryNoticeQueue, MemoryMediaQueue>;

/// WeChat's limit: an answer later than this is no answer (it retries, then tells the reporter
/// "该公众号暂时无法提供服务").
const WECHAT_LIMIT: Duration = Duration::from_secs(5);

struct World {
    env: Env,
    app: Arc<App>,
    platform: Platform,
    requests: Requests,
}

impl World {
    /// The callback on moto (`template.yaml` deployed), every DynamoDB request of its store
    /// and side table counted.
    async fn start() -> Self {
        let env = Env::start().await;
        let requests = Requests::default();
        let db = requests.client(&env.endpoint);
        let app = CallbackApp {
            reporting: Arc::new(Reporting {
                store: DynamoClueStore::new(
                    db.clone(),
                    env.kms.clone(),
                    StoreConfig::new(&env.table, &env.pii_key, SECRET.to_vec()),
                )
                .expect("store"),
                side: ReportingStore::new(db, &env.table),
                notices: MemoryNoticeQueue::default(),
                media: MemoryMediaQueue::default(),
                keyer: ReporterKeyer::new(SECRET.to_vec()).expect("keyer"),
                public: intake::PublicOrigin::parse("https://12336.example.cn").expect("origin"),
                surge: intake::surge::Surge::new(intake::surge::DEFAULT_PER_HOUR, "test"),
            }),
            callback: Callback::from(defaults::keys()),
        };
        let platform = Platform::from(defaults::keys());
        requests.take();
        Self {
            env,
            app: Arc::new(app),
            platform,
            requests,
        }
    }

    /// A push of `xml` signed and encrypted as WeChat sends it, at `timestamp`.
    fn push_at(&self, xml: &str, openid: &str, nonce: &str, timestamp: i64) -> Req {
        let push = self.platform.push(
            xml,
            defaults::ACCOUNT_ID,
            openid,
            timestamp,
            nonce,
            [5u8; 16],
        );
        let mut req = Req::new("POST", "/wechat/callback");
        for (k, v) in push.query {
            req.query.insert(k.to_owned(), v);
        }
        req.body = push.body.into_bytes();
        req
    }

    fn push(&self, xml: &str, openid: &str, nonce: &str) -> Req {
        self.push_at(xml, openid, nonce, Utc::now().timestamp())
    }

    /// The reply's text of a signed push's answer.
    fn reply(&self, resp: &Resp) -> String {
        self.platform
            .open_reply(resp.body.as_bytes(), Utc::now().timestamp())
            .expect("reply opens")
            .and_then(|r| r.content)
            .unwrap_or_default()
    }

    /// Unsigned junk of every kind, each with the refusal it must get.
    fn junk(&self) -> Vec<(&'static str, Req, u16, &'static str)> {
        let now = Utc::now().timestamp();
        let xml = event("oJunk0000000000000000000001", "subscribe", None, now);
        let good = self.push(&xml, "oJunk0000000000000000000001", "junknonce1");
        let mut forged = good.clone();
        forged.query.insert("msg_signature".into(), "0".repeat(40));
        let mut bad_plain_signature = good.clone();
        bad_plain_signature
            .query
            .insert("signature".into(), "f".repeat(40));
        let mut no_params = good.clone();
        no_params.query.clear();
        let mut no_nonce = good.clone();
        no_nonce.query.remove("nonce");
        let stale = self.push_at(
            &xml,
            "oJunk0000000000000000000001",
            "junknonce2",
            now - 3600,
        );
        let mut oversize = good.clone();
        oversize.body = vec![b'x'; 70 * 1024];
        let mut not_xml = good.clone();
        not_xml.body = b"GET / HTTP/1.1\r\n\r\n".to_vec();
        let mut verify = Req::new("GET", "/wechat/callback");
        for (k, v) in [
            ("signature", "0".repeat(40)),
            ("timestamp", now.to_string()),
            ("nonce", "n".to_owned()),
            ("echostr", "hello".to_owned()),
        ] {
            verify.query.insert(k.to_owned(), v);
        }
        let mut put = good.clone();
        put.method = "PUT".into();
        let mut elsewhere = good.clone();
        elsewhere.path = "/wechat/callback/x".into();
        vec![
            ("forged msg_signature", forged, 403, "bad_signature"),
            (
                "forged signature",
                bad_plain_signature,
                403,
                "bad_signature",
            ),
            ("no parameters", no_params, 400, "bad_param"),
            ("no nonce", no_nonce, 400, "bad_param"),
            ("stale timestamp", stale, 400, "stale_timestamp"),
            ("oversize body", oversize, 400, "xml_too_large"),
            ("not XML", not_xml, 400, "xml_malformed"),
            ("forged verification", verify, 403, "bad_signature"),
            ("other method", put, 405, "method_not_allowed"),
            ("other path", elsewhere, 404, "no_route"),
        ]
    }
}

fn event(openid: &str, event: &str, key: Option<&str>, create_time: i64) -> String {
    let key = key
        .map(|k| format!("<EventKey><![CDATA[{k}]]></EventKey>"))
        .unwrap_or_default();
    format!(
        "<xml><ToUserName><![CDATA[{}]]></ToUserName><FromUserName><![CDATA[{openid}]]></FromUserName><CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[{event}]]></Event>{key}</xml>",
        defaults::ACCOUNT_ID
    )
}

fn error_code(resp: &Resp) -> String {
    serde_json::from_str::<serde_json::Value>(&resp.body)
        .ok()
        .and_then(|v| v["error"]["code"].as_str().map(str::to_owned))
        .unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unsigned_junk_is_refused_before_any_table_request() {
    // Arrange
    let w = World::start().await;
    let _ = &w.env;

    // Act + Assert: each kind of junk gets its refusal, and the table sees nothing
    for (name, req, status, code) in w.junk() {
        let resp = w.app.handle(&req, Utc::now()).await;
        assert_eq!(
            (resp.status, error_code(&resp).as_str()),
            (status, code),
            "{name}: {}",
            resp.body
        );
        let requests = w.requests.take();
        assert!(
            requests.is_empty(),
            "{name} made DynamoDB requests: {requests:?}"
        );
    }

    // Assert: the same app's signed push does reach the table (the counter counts)
    let now = Utc::now().timestamp();
    let openid = "oJunk0000000000000000000002";
    let resp = w
        .app
        .handle(
            &w.push(&event(openid, "subscribe", None, now), openid, "signed1"),
            Utc::now(),
        )
        .await;
    assert_eq!(resp.status, 200, "{}", resp.body);
    assert!(w.reply(&resp).contains("欢迎关注"), "{}", w.reply(&resp));
    let requests = w.requests.take();
    assert!(
        requests.get("PutItem").copied().unwrap_or(0) >= 1,
        "a signed push records its nonce: {requests:?}"
    );
}

/// Junk sent per tick, and the ticks: 50 every 100 ms for 10 s is 500 per second.
const JUNK_PER_TICK: usize = 50;
const TICK: Duration = Duration::from_millis(100);
const TICKS: usize = 100;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn signed_pushes_are_answered_within_five_seconds_under_500_junk_callbacks_a_second() {
    // Arrange: the junk of every kind, and the clock
    let w = Arc::new(World::start().await);
    let junk: Arc<Vec<(&'static str, Req, u16, &'static str)>> = Arc::new(w.junk());
    let started = Instant::now();

    // Act: the flood, 50 junk callbacks every 100 ms, each on its own task…
    let flood = {
        let w = Arc::clone(&w);
        let junk = Arc::clone(&junk);
        tokio::spawn(async move {
            let mut ticker = tokio::time::interval(TICK);
            let mut sent = 0usize;
            let mut wrong = std::collections::BTreeMap::<&str, usize>::new();
            let mut tasks = tokio::task::JoinSet::new();
            for tick in 0..TICKS {
                ticker.tick().await;
                for i in 0..JUNK_PER_TICK {
                    let (name, req, status, code) =
                        junk[(tick * JUNK_PER_TICK + i) % junk.len()].clone();
                    let app = Arc::clone(&w.app);
                    tasks.spawn(labelled("junk", async move {
                        let resp = app.handle(&req, Utc::now()).await;
                        (name, resp.status == status && error_code(&resp) == code)
                    }));
                    sent += 1;
                }
                while let Some(done) = tasks.try_join_next() {
                    let (name, right) = done.expect("junk task");
                    if !right {
                        *wrong.entry(name).or_default() += 1;
                    }
                }
            }
            while let Some(done) = tasks.join_next().await {
                let (name, right) = done.expect("junk task");
                if !right {
                    *wrong.entry(name).or_default() += 1;
                }
            }
            (sent, wrong)
        })
    };

    // …while signed pushes keep arriving, one every 250 ms, each from another reporter
    let mut answered = Vec::new();
    let mut i = 0u32;
    while started.elapsed() < TICK * TICKS as u32 {
        let openid = format!("oLoad{i:022}");
        let now = Utc::now().timestamp();
        let (xml, expect) = if i.is_multiple_of(2) {
            (event(&openid, "subscribe", None, now), "欢迎关注")
        } else {
            (
                event(&openid, "CLICK", Some(intake::callback::MENU_MINE), now),
                "查看我的举报",
            )
        };
        let req = w.push(&xml, &openid, &format!("load{i}"));
        let app = Arc::clone(&w.app);
        let t = Instant::now();
        let resp = labelled("signed", async move { app.handle(&req, Utc::now()).await }).await;
        let took = t.elapsed();
        // Assert: answered correctly, within WeChat's limit
        assert_eq!(resp.status, 200, "push {i}: {}", resp.body);
        let reply = w.reply(&resp);
        assert!(
            reply.contains(expect),
            "push {i}: {reply:?} lacks {expect:?}"
        );
        assert!(took < WECHAT_LIMIT, "push {i} took {took:?}");
        answered.push(took);
        i += 1;
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    let (sent, wrong) = flood.await.expect("flood");

    // Assert: the whole flood was sent and refused as it should be, the signed pushes went on
    // throughout, and the junk made no table request while the signed pushes made theirs
    assert_eq!(sent, JUNK_PER_TICK * TICKS);
    assert!(wrong.is_empty(), "junk answered wrongly: {wrong:?}");
    assert!(
        answered.len() >= 20,
        "only {} signed pushes",
        answered.len()
    );
    let by_label = w.requests.by_label();
    assert_eq!(
        by_label.get("junk"),
        None,
        "junk reached the table: {by_label:?}"
    );
    assert!(
        by_label.get("signed").copied().unwrap_or(0) >= 2 * answered.len() as u64,
        "the signed pushes' requests are counted: {by_label:?}"
    );
    let slowest = answered.iter().max().copied().unwrap_or_default();
    println!(
        "{} signed pushes under {sent} junk callbacks in {:?}; slowest {slowest:?}",
        answered.len(),
        started.elapsed()
    );
}
