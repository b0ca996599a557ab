//! Officer workflows over HTTP through the deployed stack (issue 12): `template.yaml` in moto,
//! the local host running the real function binaries, and the fake WeChat API (`wechat-sim`,
//! its binary) as WeChat. Reporters sign in through OAuth at the fake API and file from the H5
//! API; officers sign in through the auth function (password + TOTP) and act with their access
//! tokens; every notice is read where WeChat received it. One stack for every scenario.
//!
//! Needs the binaries (`cargo build --workspace --bins`, which `infra/dev test` runs first) and
//! the project's venv.

mod support;

use std::collections::{BTreeMap, BTreeSet};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use chrono::{Datelike, FixedOffset, Utc};
use reqwest::header::{HeaderMap, LOCATION, SET_COOKIE};
use serde_json::{Value, json};
use store::roles::*;
use support::{LocalHost, ORIGIN, REGION, aws, bin_dir, create_officer, now_unix};
use testkit::{Deploy, MotoServer, Stack};

const THANKS: &str = "感谢您对国土资源工作的支持！";
const PASSWORD: &str = "Demo-Passw0rd-2026";

/// The fake WeChat API as a child process; killed on drop.
struct Sim {
    child: Child,
    url: String,
}

impl Sim {
    fn start() -> Self {
        let port = testkit::free_port();
        let url = format!("http://127.0.0.1:{port}");
        // Owned at once: a panic below kills and waits for it (Drop).
        let sim = Self {
            child: Command::new(bin_dir().join("wechat-sim"))
                .env("SIM_ADDR", format!("127.0.0.1:{port}"))
                .env("SIM_PUBLIC_URL", &url)
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("start wechat-sim (cargo build --workspace --bins)"),
            url,
        };
        for _ in 0..100 {
            if std::net::TcpStream::connect(("127.0.0.1", port)).is_ok() {
                return sim;
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        panic!("wechat-sim did not listen on {port}");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// The stack and its clients.
struct Stage {
    _moto: MotoServer,
    stack: Stack,
    sim: Sim,
    host: LocalHost,
    http: reqwest::Client,
}

struct Officer {
    token: String,
}

struct Reporter {
    openid: String,
    cookie: String,
}

/// A clue as the reporter got it back.
#[derive(Clone)]
struct Filed {
    id: String,
    no: String,
}

fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    headers
        .get_all(SET_COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.strip_prefix(&format!("{name}=")))
        .map(|c| c.split(';').next().unwrap_or_default().to_owned())
}

/// `2026年12月2日`: a notice's date.
fn cn_date(d: chrono::NaiveDate) -> String {
    format!("{}年{}月{}日", d.year(), d.month(), d.day())
}

impl Stage {
    async fn start() -> Self {
        let moto = MotoServer::start();
        let sim = Sim::start();
        let stack = Deploy::new(&moto.endpoint())
            .region(REGION)
            .param("PublicOrigin", ORIGIN)
            .param("WeChatApiBase", &sim.url)
            .run()
            .expect("deploy");
        let host = LocalHost::start(&stack, &bin_dir());
        let http = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .expect("client");
        Self {
            _moto: moto,
            stack,
            sim,
            host,
            http,
        }
    }

    fn bureau(id: &str, region: &str, level: &str, division: &str) -> Value {
        json!({
            "id": id, "name": format!("{region}自然资源和规划局"), "region": region,
            "level": level, "kind": "land", "division": division, "city_direct": false,
        })
    }

    /// An officer with an account, signed in through the auth function.
    async fn officer(&self, bureau: Value, id: &str, roles: &[domain::Role]) -> Officer {
        let secret = create_officer(&self.stack, bureau, id, roles, id, PASSWORD).await;
        let code =
            auth::totp::code_at(&secret, u64::try_from(now_unix()).expect("t")).expect("code");
        let resp = self
            .http
            .post(format!("{}/auth/sign-in", self.host.api))
            .json(&json!({"username": id, "password": PASSWORD, "code": code}))
            .send()
            .await
            .expect("sign in");
        assert_eq!(resp.status(), 200, "{id} signs in");
        let token = resp.json::<Value>().await.expect("json")["access_token"]
            .as_str()
            .expect("token")
            .to_owned();
        Officer { token }
    }

    /// A call of the fake WeChat API's control routes (`/_sim/…`).
    async fn sim_post(&self, path: &str, body: Value) -> Value {
        self.http
            .post(format!("{}/_sim/{path}", self.sim.url))
            .json(&body)
            .send()
            .await
            .expect("sim")
            .json()
            .await
            .expect("json")
    }

    /// A WeChat user of the fake API, signed in to the H5 through OAuth.
    async fn reporter(&self, nickname: &str) -> Reporter {
        let user = self.sim_post("users", json!({"nickname": nickname})).await;
        let openid = user["openid"].as_str().expect("openid").to_owned();
        let login = self
            .http
            .get(format!(
                "{}/api/reporter/login?return=%23%2Fmine",
                self.host.api
            ))
            .send()
            .await
            .expect("login");
        assert_eq!(login.status(), 302);
        let nonce = cookie(login.headers(), "rs_login").expect("login cookie");
        let location = login.headers()[LOCATION]
            .to_str()
            .expect("location")
            .to_owned();
        let state = reqwest::Url::parse(&location)
            .expect("url")
            .query_pairs()
            .find(|(k, _)| k == "state")
            .map(|(_, v)| v.into_owned())
            .expect("state");
        let code = self.sim_post("oauth/code", json!({"openid": openid})).await;
        let signed_in = self
            .http
            .get(format!("{}/api/reporter/oauth", self.host.api))
            .query(&[
                ("code", code["code"].as_str().expect("code")),
                ("state", &state),
            ])
            .header("cookie", format!("rs_login={nonce}"))
            .send()
            .await
            .expect("oauth");
        assert_eq!(signed_in.status(), 302);
        let cookie = cookie(signed_in.headers(), "rs").expect("session");
        Reporter { openid, cookie }
    }

    async fn reporter_get(&self, r: &Reporter, path: &str) -> Value {
        let resp = self
            .http
            .get(format!("{}/api/reporter/{path}", self.host.api))
            .header("cookie", format!("rs={}", r.cookie))
            .send()
            .await
            .expect("get");
        assert_eq!(resp.status(), 200, "{path}");
        resp.json().await.expect("json")
    }

    /// Files a clue in Xihu from the H5 API (`resubmission_of` an earlier one).
    async fn file(&self, r: &Reporter, facts: &str, resubmission_of: Option<&str>) -> Filed {
        let notice = self
            .reporter_get(r, "reporting-notice?division=330106")
            .await;
        let resp = self
            .http
            .post(format!("{}/api/reporter/clues", self.host.api))
            .header("cookie", format!("rs={}", r.cookie))
            .json(&json!({
                "division": "330106",
                "address": "转塘街道某村北侧山体",
                "category": {"kind": "annex", "code": "farmland_destruction"},
                "facts": facts,
                "notice_version": notice["version_id"],
                "consent": true,
                "resubmission_of": resubmission_of,
            }))
            .send()
            .await
            .expect("file");
        let status = resp.status();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, 201, "{body}");
        Filed {
            id: body["clue_id"].as_str().expect("id").to_owned(),
            no: body["clue_no"].as_str().expect("no").to_owned(),
        }
    }

    async fn clue(&self, o: &Officer, clue: &Filed) -> Value {
        let resp = self
            .http
            .get(format!("{}/api/officer/clues/{}", self.host.api, clue.id))
            .bearer_auth(&o.token)
            .send()
            .await
            .expect("clue");
        let status = resp.status();
        let body: Value = resp.json().await.expect("json");
        assert_eq!(status, 200, "{body}");
        body
    }

    /// Acts on `clue` with the version the officer sees; the answer (200 expected). notify
    /// records each delivery on the clue, so a notice delivered between the read and the action
    /// makes it stale (409 `stale_version`): like the console, read again and act again.
    async fn act(&self, o: &Officer, clue: &Filed, action: &str, mut body: Value) -> Value {
        for _ in 0..10 {
            body["version"] = self.clue(o, clue).await["version"].clone();
            let resp = self
                .http
                .post(format!(
                    "{}/api/officer/clues/{}/{action}",
                    self.host.api, clue.id
                ))
                .bearer_auth(&o.token)
                .header("idempotency-key", uuid::Uuid::new_v4().simple().to_string())
                .json(&body)
                .send()
                .await
                .expect("act");
            let status = resp.status();
            let out: Value = resp.json().await.expect("json");
            if status == 409 && out["error"]["code"] == "stale_version" {
                continue;
            }
            assert_eq!(status, 200, "{action} {}: {out}", clue.no);
            return out;
        }
        panic!("{action} {}: stale ten times in a row", clue.no);
    }

    /// What the fake WeChat API delivered to `openid`.
    async fn delivered(&self, openid: &str) -> Vec<Value> {
        let v: Value = self
            .http
            .get(format!("{}/_sim/messages", self.sim.url))
            .query(&[("openid", openid)])
            .send()
            .await
            .expect("messages")
            .json()
            .await
            .expect("json");
        v.as_array()
            .cloned()
            .or_else(|| v["messages"].as_array().cloned())
            .unwrap_or_default()
    }

    /// Waits until the fake WeChat API delivered `text` to the reporter as a customer-service
    /// message; the subscription message sent with it (the one whose `phrase2` outcome it
    /// carries), as delivered.
    async fn notice(&self, r: &Reporter, text: &str) -> Vec<Value> {
        for _ in 0..300 {
            let all = self.delivered(&r.openid).await;
            if all.iter().any(|m| m["content"] == text) {
                return all;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!(
            "never delivered to {}: {text}\ndelivered: {:?}\nhost output:\n{}",
            r.openid,
            self.delivered(&r.openid).await,
            self.host.output.lock().expect("lock").join("\n")
        );
    }

    async fn counters(&self) -> BTreeMap<String, i64> {
        let aws = aws(self.stack.endpoint()).await;
        let store = store::DynamoClueStore::new(
            aws_sdk_dynamodb::Client::new(&aws),
            aws_sdk_kms::Client::new(&aws),
            store::StoreConfig::without_reporter_keys(
                self.stack.table_name(),
                self.stack.physical_id("PiiKey"),
            ),
        )
        .expect("store");
        let today = Utc::now().date_naive();
        store
            .read_stats(
                &domain::DivisionCode::parse("330106").expect("code"),
                today - chrono::Duration::days(2),
                today + chrono::Duration::days(2),
            )
            .await
            .expect("stats")
    }
}

/// The judgment deadline of a clue view: (status, on time).
fn judgment_deadline(view: &Value) -> (Value, Value) {
    let d = view["all_deadlines"]
        .as_array()
        .expect("deadlines")
        .iter()
        .find(|d| d["kind"] == "judgment")
        .expect("judgment deadline")
        .clone();
    (d["status"].clone(), d["on_time"].clone())
}

/// The Shanghai date of an RFC 3339 instant.
fn shanghai_day(v: &Value) -> chrono::NaiveDate {
    let at = chrono::DateTime::parse_from_rfc3339(v.as_str().expect("instant")).expect("rfc3339");
    at.with_timezone(&FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_outcome_escalation_merging_and_resubmission_over_http_reach_wechat() {
    // Arrange: Hangzhou with Xihu and Yuhang, their officers signed in
    let s = Stage::start().await;
    let xihu = Stage::bureau("land-330106", "杭州市西湖区", "county", "330106");
    let yuhang = Stage::bureau("land-330110", "杭州市余杭区", "county", "330110");
    let city = Stage::bureau("land-330100", "杭州市", "city", "330100");
    use domain::Role::{Handler, Leader};
    let xh = s.officer(xihu.clone(), "o-xh-handler", &[Handler]).await;
    let xh_leader = s.officer(xihu, "o-xh-leader", &[Handler, Leader]).await;
    let hz = s.officer(city, "o-hz-leader", &[Handler, Leader]).await;
    let yh = s.officer(yuhang, "o-yh-handler", &[Handler]).await;
    let before = s.counters().await;

    // Act + Assert 1–4: the four judgments, each with its exact notice at WeChat
    let a = s.reporter("举报人甲").await;
    let first = s.file(&a, "基本农田上在建厂房，已打好地基。", None).await;
    let receipt =
        format!("您好，12336国土资源违法线索举报微信平台已接收您举报的违法线索。{THANKS}");
    s.notice(&a, &receipt).await;
    let out = s
        .act(&xh, &first, "judge", json!({"outcome": "accept"}))
        .await;
    assert_eq!(out["clue"]["state"], "accepted");
    let accept =
        format!("您好，杭州市西湖区国土资源主管部门将对您举报的违法线索作进一步核查处理。{THANKS}");
    s.notice(&a, &accept).await;
    let view = s.clue(&xh, &first).await;
    assert_eq!(judgment_deadline(&view), (json!("met"), json!(true)));
    let received_on = cn_date(shanghai_day(&view["received_at"]));

    let again = s
        .file(&a, "基本农田上在建厂房，已打好地基，今天还在施工。", None)
        .await;
    let out = s
        .act(
            &xh,
            &again,
            "judge",
            json!({"outcome": "duplicate", "earlier_clue_id": first.id}),
        )
        .await;
    assert_eq!(out["clue"]["outcome"], "duplicate");
    s.notice(
        &a,
        &format!("您好，12336国土资源违法线索举报微信平台已于{received_on}接收您举报的该线索，请不要重复提交。{THANKS}"),
    )
    .await;

    let b = s.reporter("举报人乙").await;
    let elsewhere = s.file(&b, "小区里有人私自加盖两层楼。", None).await;
    let out = s
        .act(
            &xh,
            &elsewhere,
            "judge",
            json!({"outcome": "out_of_scope", "department": "杭州市西湖区住房和城乡建设局"}),
        )
        .await;
    assert_eq!(out["clue"]["outcome"], "out_of_scope");
    s.notice(&b, &format!("您好，您举报的违法线索不属于12336国土资源违法线索举报微信平台接收范围，您可向杭州市西湖区住房和城乡建设局举报此问题。{THANKS}")).await;

    // need_material → the reporter resubmits from the H5 → the new clue links the old
    let c = s.reporter("举报人丙").await;
    let vague = s.file(&c, "山那边好像有人挖土。", None).await;
    s.act(
        &xh,
        &vague,
        "judge",
        json!({"outcome": "need_material", "missing": ["facts", "location"]}),
    )
    .await;
    let vague_on = cn_date(shanghai_day(&s.clue(&xh, &vague).await["received_at"]));
    s.notice(&c, &format!("您好，12336国土资源违法线索举报微信平台已于{vague_on}接收您举报的线索，但材料不够清晰完整，请您补充相关材料后重新提交。{THANKS}")).await;
    let mine = s.reporter_get(&c, &format!("clues/{}", vague.id)).await;
    assert_eq!(mine["can_resubmit"], true, "{mine}");
    let supplement = s
        .file(
            &c,
            "转塘街道某村北侧山体，每天有两台挖掘机挖土外运。",
            Some(&vague.id),
        )
        .await;
    let view = s.clue(&xh, &supplement).await;
    assert_eq!(view["resubmission_of"], vague.id.as_str());
    assert_eq!(
        s.clue(&xh, &vague).await["resubmitted_as"],
        supplement.id.as_str()
    );
    assert_eq!(
        s.reporter_get(&c, &format!("clues/{}", vague.id)).await["can_resubmit"],
        false
    );

    // 5: the accepted clue verified: the result notice
    let today = Utc::now()
        .with_timezone(&FixedOffset::east_opt(8 * 3600).expect("offset"))
        .date_naive();
    let out = s
        .act(
            &xh,
            &first,
            "verify",
            json!({"result": "no_violation", "ended_on": today.to_string()}),
        )
        .await;
    assert_eq!(out["clue"]["outcome"], "no_violation");
    s.notice(
        &a,
        &format!("经核查，您举报的违法线索不存在国土资源违法行为。{THANKS}"),
    )
    .await;

    // The counters moved with each outcome, judged on time.
    let after = s.counters().await;
    let moved = |k: &str| after.get(k).copied().unwrap_or(0) - before.get(k).copied().unwrap_or(0);
    assert_eq!(
        [
            moved("received"),
            moved("judged.accept"),
            moved("judged.duplicate"),
            moved("judged.out_of_scope"),
            moved("judged.need_material"),
            moved("verified.no_violation"),
            moved("on_time.judgment"),
        ],
        [5, 1, 1, 1, 1, 1, 4],
        "{after:?}"
    );

    // County escalates → city designates Yuhang → Yuhang accepts, naming its own region
    let d = s.reporter("举报人丁").await;
    let border = s
        .file(&d, "两区交界处山体被挖，不清楚属于哪个区。", None)
        .await;
    let out = s
        .act(
            &xh_leader,
            &border,
            "escalate",
            json!({"reason": "位于两区交界，管辖不明"}),
        )
        .await;
    assert_eq!(out["clue"]["state"], "escalated");
    let out = s
        .act(
            &hz,
            &border,
            "designate",
            json!({"to": "land-330110", "reason": "经核实位于余杭区"}),
        )
        .await;
    assert_eq!(out["clue"]["state"], "received");
    s.act(&yh, &border, "judge", json!({"outcome": "accept"}))
        .await;
    s.notice(
        &d,
        &format!(
            "您好，杭州市余杭区国土资源主管部门将对您举报的违法线索作进一步核查处理。{THANKS}"
        ),
    )
    .await;

    // Three reporters merged → verification → each told the result with their own clue number
    let mut merged = Vec::new();
    for (n, name) in ["举报人戊", "举报人己", "举报人庚"].iter().enumerate() {
        let r = s.reporter(name).await;
        let f = s
            .file(
                &r,
                &format!("某村东侧农田被倒入建筑垃圾（第{}次看到）。", n + 1),
                None,
            )
            .await;
        merged.push((r, f));
    }
    let primary = merged[0].1.clone();
    for (_, member) in &merged[1..] {
        let out = s
            .act(
                &xh,
                member,
                "merge",
                json!({"primary_clue_id": primary.id, "reason": "同一地块同一违法行为"}),
            )
            .await;
        assert_eq!(out["clue"]["state"], "merged");
    }
    s.act(&xh, &primary, "judge", json!({"outcome": "accept"}))
        .await;
    s.act(
        &xh,
        &primary,
        "verify",
        json!({"result": "violation_found", "ended_on": today.to_string()}),
    )
    .await;
    let result = format!(
        "经核查，您举报的违法线索存在国土资源违法行为，杭州市西湖区国土资源主管部门将依法依规予以处理。{THANKS}"
    );
    let mut numbers = BTreeSet::new();
    for (r, f) in &merged {
        let delivered = s.notice(r, &result).await;
        let subscribed: Vec<&str> = delivered
            .iter()
            .filter(|m| {
                m["kind"] == "subscribe"
                    && m["body"]["data"]["phrase2"]["value"] == "经核查存在违法行为"
            })
            .filter_map(|m| m["body"]["data"]["character_string1"]["value"].as_str())
            .collect();
        assert_eq!(subscribed, [f.no.as_str()], "{}: its own clue number", f.no);
        numbers.insert(f.no.clone());
    }
    assert_eq!(numbers.len(), 3);
}
