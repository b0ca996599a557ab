//! The reporter routes and `shared/api/openapi.yaml`: every route intake serves is documented
//! with its method (and nothing documented is unrouted), every route `template.yaml` gives the
//! attachments function is documented, and live answers of every reporter route — successes
//! and refusals — match the document (status, content type, schema, required headers), checked
//! by `infra/stack/openapi_check.py` in the project's venv.

mod support;

use std::collections::BTreeSet;

use chrono::Utc;
use domain::event::Missing;
use domain::{ClueId, Command, JudgmentRequest};
use serde_json::{Value, json};
use store::roles::*;
use support::store_support::{as_officer, handler, key};
use support::{World, h5_form};

const DOC: &str = include_str!("../../../shared/api/openapi.yaml");
const METHODS: [&str; 5] = ["GET", "POST", "PUT", "PATCH", "DELETE"];

/// The documented `/api/reporter/…` operations as (METHOD, path template).
fn documented() -> BTreeSet<(String, String)> {
    let mut out = BTreeSet::new();
    let mut path: Option<&str> = None;
    for line in DOC.lines() {
        if let Some(p) = line.strip_prefix("  /").and_then(|p| p.strip_suffix(':')) {
            path = Some(p).filter(|p| p.starts_with("api/reporter/"));
        } else if !line.starts_with("    ") {
            path = None;
        } else if let Some(p) = path {
            for m in METHODS {
                if line == format!("    {}:", m.to_lowercase()) {
                    out.insert((m.to_owned(), format!("/{p}")));
                }
            }
        }
    }
    out
}

/// The reporter routes `template.yaml` gives a function explicitly (not through `{proxy+}`).
fn template_routes() -> BTreeSet<(String, String)> {
    let template = std::fs::read_to_string(testkit::workspace_root().join("template.yaml"))
        .expect("template.yaml");
    let lines: Vec<&str> = template.lines().collect();
    let mut out = BTreeSet::new();
    for (i, l) in lines.iter().enumerate() {
        let Some(p) = l.trim().strip_prefix("Path: ") else {
            continue;
        };
        if !p.starts_with("/api/reporter/") || p.contains("{proxy+}") {
            continue;
        }
        let method = lines[i.saturating_sub(2)..(i + 3).min(lines.len())]
            .iter()
            .find_map(|m| m.trim().strip_prefix("Method: "))
            .expect("a method next to the path");
        out.insert((method.to_uppercase(), p.to_owned()));
    }
    out
}

fn code(resp: &intake::Resp) -> Option<String> {
    serde_json::from_str::<Value>(&resp.body)
        .ok()
        .and_then(|b| b["error"]["code"].as_str().map(str::to_owned))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_reporter_route_is_documented_and_every_documented_one_is_routed() {
    let w = World::start().await;
    let documented = documented();
    let templated = template_routes();
    assert!(
        templated.contains(&("POST".into(), "/api/reporter/uploads".into())),
        "{templated:?}"
    );
    for route in &templated {
        assert!(
            documented.contains(route),
            "{route:?} is not in openapi.yaml"
        );
    }
    // intake serves `/api/reporter/{proxy+}`: every method on every documented path of intake
    // is routed exactly when it is documented (a route answers anything but `no_route` or
    // `method_not_allowed`).
    let intake_paths: BTreeSet<&str> = documented
        .iter()
        .map(|(_, p)| p.as_str())
        .filter(|p| !templated.iter().any(|(_, t)| t == p))
        .collect();
    assert!(intake_paths.len() >= 7, "{intake_paths:?}");
    for path in intake_paths {
        for m in METHODS {
            let concrete = path.replace("{id}", "cabc");
            let resp = w.handle(&w.api(m, &concrete, None, "{}"), Utc::now()).await;
            // A documented path answers 405 to the methods it does not serve (the router's
            // table), an undocumented one 404.
            let routed = !matches!(
                code(&resp).as_deref(),
                Some("no_route" | "method_not_allowed")
            );
            assert_eq!(
                routed,
                documented.contains(&(m.to_owned(), path.to_owned())),
                "{m} {path}: routed {routed}, answer {} {}",
                resp.status,
                resp.body
            );
        }
    }
}

/// Live answers, recorded for the checker.
struct Recorder<'a> {
    w: &'a World,
    records: Vec<Value>,
}

impl Recorder<'_> {
    /// Sends `req` (for the documented `template` path) and records the answer.
    async fn send(&mut self, template: &str, req: intake::Req) -> intake::Resp {
        let resp = self.w.handle(&req, Utc::now()).await;
        let header = |n: &str| {
            resp.headers
                .iter()
                .find(|(k, _)| k.eq_ignore_ascii_case(n))
                .map(|(_, v)| v.clone())
        };
        let headers: serde_json::Map<String, Value> = resp
            .headers
            .iter()
            .map(|(k, v)| (k.to_lowercase(), Value::String(v.clone())))
            .collect();
        self.records.push(json!({
            "method": req.method,
            "path": template,
            "status": resp.status,
            "content_type": header("content-type"),
            "headers": headers,
            "body": serde_json::from_str::<Value>(&resp.body).ok(),
        }));
        resp
    }

    fn statuses(&self) -> BTreeSet<(String, u64)> {
        self.records
            .iter()
            .map(|r| {
                (
                    format!(
                        "{} {}",
                        r["method"].as_str().unwrap_or("?"),
                        r["path"].as_str().unwrap_or("?")
                    ),
                    r["status"].as_u64().unwrap_or(0),
                )
            })
            .collect()
    }
}

/// The H5 form without a position, under notice `notice`, resubmitting `resubmission_of`.
fn form(notice: &str, resubmission_of: Option<&str>) -> String {
    let mut f = h5_form(notice);
    f["gps"] = Value::Null;
    f["resubmission_of"] = json!(resubmission_of);
    f.to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn live_reporter_answers_match_the_openapi_document() {
    // Arrange
    let w = World::start().await;
    let me = w.sign_in("oOpenApiReporter000000001").await;
    let mut r = Recorder {
        w: &w,
        records: Vec::new(),
    };
    let get = |path: &str, c: Option<&str>| w.api("GET", path, c, "");
    let post = |path: &str, c: Option<&str>, body: &str| w.api("POST", path, c, body);

    // Act: every route, its successes and its refusals
    r.send("/api/reporter/health", get("/api/reporter/health", None))
        .await;
    r.send(
        "/api/reporter/login",
        get("/api/reporter/login?return=%23%2Freport", None),
    )
    .await;
    r.send(
        "/api/reporter/oauth",
        get("/api/reporter/oauth?code=x&state=y", None),
    )
    .await;
    for q in ["", "?parent=330100", "?parent=99"] {
        r.send(
            "/api/reporter/divisions",
            get(&format!("/api/reporter/divisions{q}"), None),
        )
        .await;
    }
    for d in ["330106", "330100", "110101"] {
        let path = format!("/api/reporter/reporting-notice?division={d}");
        r.send("/api/reporter/reporting-notice", get(&path, Some(&me)))
            .await;
    }
    let notice: Value = serde_json::from_str(
        &w.handle(
            &get("/api/reporter/reporting-notice?division=330106", None),
            Utc::now(),
        )
        .await
        .body,
    )
    .expect("notice");
    let version = notice["version_id"].as_str().expect("version").to_owned();
    let clues = "/api/reporter/clues";
    let filed = r
        .send(clues, post(clues, Some(&me), &form(&version, None)))
        .await;
    assert_eq!(filed.status, 201, "{}", filed.body);
    let clue_id = serde_json::from_str::<Value>(&filed.body).expect("json")["clue_id"]
        .as_str()
        .expect("id")
        .to_owned();
    r.send(clues, post(clues, Some(&me), &form(&version, None)))
        .await; // the same again: 200
    r.send(clues, post(clues, None, &form(&version, None)))
        .await; // 401
    r.send(clues, post(clues, Some(&me), "{not json")).await; // 400
    r.send(clues, post(clues, Some(&me), &form("v-old", None)))
        .await; // 409 stale_notice
    r.send(
        clues,
        post(clues, Some(&me), &form(&version, Some("cnone"))),
    )
    .await; // 404
    r.send(
        clues,
        post(clues, Some(&me), &form(&version, Some(&clue_id))),
    )
    .await; // 422
    let mut plain = post(clues, Some(&me), &form(&version, None));
    plain
        .headers
        .insert("content-type".into(), "text/plain".into());
    r.send(clues, plain).await; // 415
    let mut foreign = post(clues, Some(&me), &form(&version, None));
    foreign
        .headers
        .insert("sec-fetch-site".into(), "cross-site".into());
    foreign
        .headers
        .insert("origin".into(), "https://evil.example".into());
    r.send(clues, foreign).await; // 403
    let big = format!("{{\"facts\":\"{}\"}}", "x".repeat(70 * 1024));
    r.send(clues, post(clues, Some(&me), &big)).await; // 413
    r.send(clues, get(clues, Some(&me))).await;
    r.send(clues, get(clues, None)).await;
    let one = "/api/reporter/clues/{id}";
    r.send(one, get(&format!("{clues}/{clue_id}"), Some(&me)))
        .await;
    r.send(one, get(&format!("{clues}/cnone"), Some(&me))).await;
    r.send(one, get(&format!("{clues}/{clue_id}"), None)).await;
    let messages = "/api/reporter/clues/{id}/messages";
    let to_clue = format!("{clues}/{clue_id}/messages");
    r.send(
        messages,
        post(&to_clue, Some(&me), r#"{"text":"补充：现场仍在施工。"}"#),
    )
    .await;
    r.send(
        messages,
        post(&to_clue, Some(&me), r#"{"text":"<b>x</b>"}"#),
    )
    .await;
    r.send(
        messages,
        post(
            &format!("{clues}/cnone/messages"),
            Some(&me),
            r#"{"text":"在吗"}"#,
        ),
    )
    .await;
    // A clue closed as 需补充材料: its detail offers the resubmission, a message is refused by
    // the rules, and the resubmission links it.
    w.env
        .store
        .execute(
            &ClueId::parse(&clue_id).expect("id"),
            Command::Judge {
                judgment: JudgmentRequest::NeedMaterial {
                    missing: vec![Missing::Facts],
                },
                note: None,
            },
            &as_officer(&handler("land-330106")),
            Utc::now(),
            &key("openapi-need-material"),
        )
        .await
        .expect("need material");
    let closed = r
        .send(one, get(&format!("{clues}/{clue_id}"), Some(&me)))
        .await;
    assert_eq!(
        serde_json::from_str::<Value>(&closed.body).expect("json")["can_resubmit"],
        true
    );
    r.send(
        messages,
        post(&to_clue, Some(&me), r#"{"text":"还需要什么材料？"}"#),
    )
    .await;
    let again = r
        .send(
            clues,
            post(clues, Some(&me), &form(&version, Some(&clue_id))),
        )
        .await;
    assert_eq!(again.status, 201, "{}", again.body);

    // Assert: the answers cover what the test means to check, and all match the document
    let seen = r.statuses();
    for (route, status) in [
        ("GET /api/reporter/health", 200),
        ("GET /api/reporter/login", 302),
        ("GET /api/reporter/oauth", 400),
        ("GET /api/reporter/divisions", 200),
        ("GET /api/reporter/divisions", 400),
        ("GET /api/reporter/reporting-notice", 200),
        ("GET /api/reporter/reporting-notice", 400),
        ("GET /api/reporter/reporting-notice", 422),
        ("POST /api/reporter/clues", 201),
        ("POST /api/reporter/clues", 200),
        ("POST /api/reporter/clues", 400),
        ("POST /api/reporter/clues", 401),
        ("POST /api/reporter/clues", 403),
        ("POST /api/reporter/clues", 404),
        ("POST /api/reporter/clues", 409),
        ("POST /api/reporter/clues", 413),
        ("POST /api/reporter/clues", 415),
        ("POST /api/reporter/clues", 422),
        ("GET /api/reporter/clues", 200),
        ("GET /api/reporter/clues", 401),
        ("GET /api/reporter/clues/{id}", 200),
        ("GET /api/reporter/clues/{id}", 401),
        ("GET /api/reporter/clues/{id}", 404),
        ("POST /api/reporter/clues/{id}/messages", 201),
        ("POST /api/reporter/clues/{id}/messages", 400),
        ("POST /api/reporter/clues/{id}/messages", 404),
        ("POST /api/reporter/clues/{id}/messages", 422),
    ] {
        assert!(
            seen.contains(&(route.to_owned(), status)),
            "{route} never answered {status}: {seen:?}"
        );
    }
    let file = std::env::temp_dir().join(format!(
        "intake-openapi-{}.json",
        uuid::Uuid::new_v4().simple()
    ));
    std::fs::write(&file, serde_json::to_vec_pretty(&r.records).expect("json")).expect("write");
    let root = testkit::workspace_root();
    let out = std::process::Command::new(testkit::venv_bin("python"))
        .arg(root.join("infra/stack/openapi_check.py"))
        .arg(root.join("shared/api/openapi.yaml"))
        .arg(&file)
        .output()
        .expect("run the checker");
    let _ = std::fs::remove_file(&file);
    assert!(
        out.status.success(),
        "responses outside openapi.yaml:\n{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
}
