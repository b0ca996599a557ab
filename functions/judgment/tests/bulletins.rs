//! 通报 bulletins over the officer API against moto (template deployed): a city supervisor
//! generates one from the counters, reviews and issues it; its counties read it and their
//! receipts show at the issuer; a sibling city, a county before issue and a handler are refused;
//! retries change nothing; the XLSX and CSV files read back equal the figures the API returns;
//! the clue list goes through the export queue, the worker and the bucket to a presigned link.

use testkit::store_env as support;

use std::io::Cursor;

use api::{Req, Resp};
use calamine::{Data, Reader, Xlsx, open_workbook_from_rs};
use chrono::{DateTime, Utc};
use domain::{Officer, Role};
use judgment::App;
use outbox::MemoryNoticeQueue;
use serde_json::{Value, json};
use store::DynamoClueStore;
use store::roles::*;
use support::{Env, at, officer};

struct World {
    env: Env,
    app: App<DynamoClueStore, MemoryNoticeQueue>,
}

fn s3_client(endpoint: &str) -> aws_sdk_s3::Client {
    aws_sdk_s3::Client::from_conf(
        aws_sdk_s3::Config::builder()
            .behavior_version(aws_sdk_s3::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_s3::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_s3::config::Credentials::new(
                "t", "t", None, None, "t",
            ))
            .force_path_style(true)
            .build(),
    )
}

fn sqs_client(endpoint: &str) -> aws_sdk_sqs::Client {
    aws_sdk_sqs::Client::from_conf(
        aws_sdk_sqs::Config::builder()
            .behavior_version(aws_sdk_sqs::config::BehaviorVersion::latest())
            .endpoint_url(endpoint)
            .region(aws_sdk_sqs::config::Region::new("us-east-1"))
            .credentials_provider(aws_sdk_sqs::config::Credentials::new(
                "t", "t", None, None, "t",
            ))
            .build(),
    )
}

/// The deployed export queue and bucket.
async fn desk(endpoint: &str) -> judgment::exports::ExportDesk {
    let s3 = s3_client(endpoint);
    let sqs = sqs_client(endpoint);
    let bucket = s3
        .list_buckets()
        .send()
        .await
        .expect("buckets")
        .buckets()
        .iter()
        .filter_map(|b| b.name())
        .find(|n| n.contains("-exports-"))
        .expect("the export bucket")
        .to_owned();
    let queue_url = sqs
        .list_queues()
        .send()
        .await
        .expect("queues")
        .queue_urls()
        .iter()
        .find(|u| u.ends_with("-export"))
        .expect("the export queue")
        .to_owned();
    judgment::exports::ExportDesk {
        sqs,
        queue_url,
        s3,
        bucket,
    }
}

fn claims(o: &Officer) -> std::collections::HashMap<String, String> {
    [("sub".to_owned(), o.id.as_str().to_owned())].into()
}

impl World {
    async fn start() -> Self {
        let env = Env::start().await;
        let app = App::new(env.officer_store(), MemoryNoticeQueue::default())
            .with_reporting(env.reporting())
            .with_exports(desk(&env.endpoint).await);
        Self { env, app }
    }

    async fn officer(&self, name: &str, bureau: &str, roles: &[Role]) -> Officer {
        let o = officer(name, bureau, roles);
        self.env.store.put_officer(&o).await.expect("officer");
        o
    }

    async fn get(
        &self,
        o: &Officer,
        path: &str,
        query: &[(&str, &str)],
        now: DateTime<Utc>,
    ) -> Resp {
        let mut r = Req::new("GET", path);
        r.claims = claims(o);
        for (k, v) in query {
            r.query.insert((*k).to_owned(), (*v).to_owned());
        }
        self.app.handle(&r, now).await
    }

    async fn post(
        &self,
        o: &Officer,
        path: &str,
        body: Value,
        key: &str,
        now: DateTime<Utc>,
    ) -> Resp {
        let mut r = Req::new("POST", path);
        r.claims = claims(o);
        r.headers
            .insert("content-type".into(), "application/json".into());
        r.headers.insert("idempotency-key".into(), key.into());
        r.body = body.to_string().into_bytes();
        self.app.handle(&r, now).await
    }
}

fn code(r: &Resp) -> (u16, String) {
    (r.status, r.error_code().unwrap_or_default())
}

/// The API's figures of a line, by column heading.
fn api_line(body: &Value, line: &Value) -> Vec<(String, Value)> {
    body["columns"]
        .as_array()
        .expect("columns")
        .iter()
        .zip(line["values"].as_array().expect("values"))
        .map(|(c, v)| (c["label"].as_str().expect("label").to_owned(), v.clone()))
        .collect()
}

#[test]
fn a_city_issues_a_bulletin_its_counties_read_it_and_the_files_equal_the_figures() {
    // A debug build gives the long scenario's poll a frame near 1 MB (every step's temporaries):
    // it runs on a worker with room for it and the SDK's call chain beneath.
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .thread_stack_size(8 << 20)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async { tokio::spawn(a_city_issues_a_bulletin()).await })
        .expect("the scenario");
}

async fn a_city_issues_a_bulletin() {
    let w = World::start().await;
    // Counters: three clues in Xihu, one in Yuhang (March), one in Haishu (Ningbo).
    for (clue, n, division) in [
        ("c-1", 1, "330106"),
        ("c-2", 2, "330106"),
        ("c-3", 3, "330106"),
        ("c-4", 4, "330110"),
        ("c-5", 5, "330203"),
    ] {
        w.env.receive(clue, n, division, at(3, 10)).await;
    }
    let hz = w
        .officer("hz-sup", "land-330100", &[Role::Supervisor])
        .await;
    let hz_leader = w.officer("hz-lead", "land-330100", &[Role::Leader]).await;
    let hz_handler = w.officer("hz-h", "land-330100", &[Role::Handler]).await;
    let xihu = w.officer("xh-h", "land-330106", &[Role::Handler]).await;
    let yuhang = w.officer("yh-h", "land-330110", &[Role::Handler]).await;
    let ningbo = w
        .officer("nb-lead", "land-330200", &[Role::Leader, Role::Supervisor])
        .await;
    let county_leader = w.officer("xh-lead", "land-330106", &[Role::Leader]).await;
    // Xihu judges one clue (on time): a count and an on-time rate in the figures.
    let judged_at = at(3, 11);
    let v = w
        .get(&xihu, "/api/officer/clues/c-1", &[], judged_at)
        .await
        .json_body()["version"]
        .clone();
    let r = w
        .post(
            &xihu,
            "/api/officer/clues/c-1/judge",
            json!({"version": v, "outcome": "accept"}),
            "j-1",
            judged_at,
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    Box::pin(supervise_and_answer(&w, &hz, &xihu)).await;
    let now = at(4, 1);
    let q1 = json!({"title": "2026年第一季度杭州市举报办理通报", "from": "2026-01-01", "to": "2026-03-31"});

    // Refusals change nothing.
    for (o, body, key, want) in [
        (&hz_handler, q1.clone(), "g-h", (403, "not_permitted")),
        (
            &county_leader,
            q1.clone(),
            "g-c",
            (403, "not_an_upper_bureau"),
        ),
        (
            &hz,
            json!({"title": "x", "from": "2026-04-01", "to": "2026-03-01"}),
            "g-p",
            (400, "invalid_period"),
        ),
        (
            &hz,
            json!({"title": "x", "from": "2026-13-01", "to": "2026-03-01"}),
            "g-d",
            (400, "invalid_date"),
        ),
        (
            &hz,
            json!({"title": "", "from": "2026-01-01", "to": "2026-03-31"}),
            "g-t",
            (422, "invalid_title"),
        ),
    ] {
        let r = w.post(o, "/api/officer/bulletins", body, key, now).await;
        assert_eq!(code(&r), (want.0, want.1.to_owned()), "{}", r.body);
    }

    // Generate: a draft with the figures of the city and each county.
    let r = w
        .post(&hz, "/api/officer/bulletins", q1.clone(), "g-1", now)
        .await;
    assert_eq!(r.status, 201, "{}", r.body);
    let draft = r.json_body();
    let id = draft["id"].as_str().expect("id").to_owned();
    assert_eq!(draft["status"], "draft");
    let supervised = draft["supervised"].as_array().expect("supervised");
    assert_eq!(supervised.len(), 1, "{supervised:?}");
    assert_eq!(
        (
            &supervised[0]["clue_id"],
            &supervised[0]["bureau"],
            &supervised[0]["due_on"],
            &supervised[0]["answers"][0]["text"],
            &supervised[0]["ended"],
        ),
        (
            &json!("c-2"),
            &json!("杭州市西湖区"),
            &json!("2026-03-20"),
            &json!("已安排现场核查，预计3月18日完成"),
            &Value::Null
        )
    );
    assert_eq!(draft["recipients"], json!(["land-330106", "land-330110"]));
    let received = |line: &Value| api_line(&draft, line)[0].clone();
    assert_eq!(received(&draft["total"]), ("收到举报".to_owned(), json!(4)));
    let lines: Vec<(String, (String, Value))> = draft["divisions"]
        .as_array()
        .expect("divisions")
        .iter()
        .map(|d| (d["name"].as_str().expect("name").to_owned(), received(d)))
        .collect();
    assert_eq!(
        lines,
        [
            ("杭州市西湖区".to_owned(), ("收到举报".to_owned(), json!(3))),
            ("杭州市余杭区".to_owned(), ("收到举报".to_owned(), json!(1))),
        ]
    );
    // The same figures as the statistics API shows for the same divisions and period.
    let stats = w
        .get(
            &hz,
            "/api/officer/statistics",
            &[("from", "2026-01-01"), ("to", "2026-03-31")],
            now,
        )
        .await
        .json_body();
    let on_screen = |code: &str| -> Vec<(i64, i64)> {
        stats["children"]
            .as_array()
            .expect("children")
            .iter()
            .filter(|c| ["330106", "330110"].contains(&c["code"].as_str().unwrap_or_default()))
            .map(|c| {
                (
                    c["figures"]["received"].as_i64().expect("n"),
                    c["figures"][code].as_i64().expect("n"),
                )
            })
            .collect()
    };
    let in_bulletin: Vec<(i64, i64)> = draft["divisions"]
        .as_array()
        .expect("divisions")
        .iter()
        .map(|d| {
            (
                d["values"][0].as_i64().expect("n"),
                d["values"][1].as_i64().expect("n"),
            )
        })
        .collect();
    assert_eq!(in_bulletin, on_screen("accepted"));
    assert_eq!(in_bulletin, [(3, 1), (1, 0)]);
    assert_eq!(
        draft["divisions"][0]["values"][14],
        json!(100.0),
        "Xihu's on-time rate in percent"
    );
    // A retry with the same key answers the same bulletin; the list holds it once.
    let again = w
        .post(&hz, "/api/officer/bulletins", q1.clone(), "g-1", now)
        .await;
    assert_eq!(
        (again.status, again.json_body()["id"].clone()),
        (200, json!(id))
    );
    let list = w
        .get(&hz, "/api/officer/bulletins", &[], now)
        .await
        .json_body();
    assert_eq!(list["issued"].as_array().map(Vec::len), Some(1));

    let path = format!("/api/officer/bulletins/{id}");
    // Before issue: the counties and the sibling city do not see it.
    for o in [&xihu, &ningbo] {
        assert_eq!(
            code(&w.get(o, &path, &[], now).await),
            (404, "bulletin_not_found".into())
        );
    }
    // Issue before review, a stale version, a county's or a handler's press: refused.
    let issue = format!("{path}/issue");
    let review = format!("{path}/review");
    let r = w.post(&hz, &issue, json!({"version": 1}), "i-0", now).await;
    assert_eq!(code(&r), (409, "not_allowed_in_status".into()));
    let r = w
        .post(&hz_handler, &review, json!({"version": 1}), "r-h", now)
        .await;
    assert_eq!(code(&r), (403, "not_permitted".into()));
    let r = w
        .post(&ningbo, &review, json!({"version": 1}), "r-n", now)
        .await;
    assert_eq!(code(&r), (404, "bulletin_not_found".into()));
    let r = w
        .post(&hz_leader, &review, json!({"version": 7}), "r-s", now)
        .await;
    assert_eq!(code(&r), (409, "stale_version".into()));
    // Review (a retry replays), then issue.
    let r = w
        .post(&hz_leader, &review, json!({"version": 1}), "r-1", now)
        .await;
    assert_eq!(
        (r.status, r.json_body()["status"].clone()),
        (200, json!("reviewed")),
        "{}",
        r.body
    );
    let r = w
        .post(&hz_leader, &review, json!({"version": 1}), "r-1", now)
        .await;
    assert_eq!(
        (r.status, r.json_body()["replayed"].clone()),
        (200, json!(true))
    );
    let r = w.post(&hz, &issue, json!({"version": 2}), "i-1", now).await;
    assert_eq!(
        (r.status, r.json_body()["status"].clone()),
        (200, json!("issued")),
        "{}",
        r.body
    );
    let r = w
        .post(
            &hz,
            &format!("{path}/edit"),
            json!({"version": 3, "title": "改"}),
            "e-1",
            now,
        )
        .await;
    assert_eq!(code(&r), (409, "not_allowed_in_status".into()));

    // The counties see it in their list, unread; reading records one receipt per bureau.
    let inbox = w
        .get(&xihu, "/api/officer/bulletins", &[], now)
        .await
        .json_body();
    assert_eq!(inbox["received"][0]["id"], json!(id));
    assert_eq!(inbox["received"][0]["read_at"], Value::Null);
    let read_at = at(4, 2);
    let r = w.get(&xihu, &path, &[], read_at).await;
    assert_eq!(
        (r.status, r.json_body()["standing"].clone()),
        (200, json!("recipient"))
    );
    assert_eq!(
        r.json_body().get("receipts"),
        None,
        "receipts are the issuer's"
    );
    w.get(&xihu, &path, &[], at(4, 3)).await;
    let r = w.get(&xihu, &format!("{path}/issue"), &[], now).await;
    assert_eq!(r.status, 405);
    let r = w
        .post(&xihu, &issue, json!({"version": 3}), "i-x", now)
        .await;
    assert_eq!(
        code(&r),
        (403, "not_permitted".into()),
        "a recipient never issues"
    );
    assert_eq!(
        code(&w.get(&ningbo, &path, &[], now).await),
        (404, "bulletin_not_found".into())
    );
    let shown = w.get(&hz, &path, &[], now).await.json_body();
    let receipts: Vec<(String, Value, Value)> = shown["receipts"]
        .as_array()
        .expect("receipts")
        .iter()
        .map(|r| {
            (
                r["bureau"].as_str().expect("b").to_owned(),
                r["read_at"].clone(),
                r["read_by"].clone(),
            )
        })
        .collect();
    assert_eq!(
        receipts,
        [
            ("land-330106".to_owned(), json!(read_at), json!("xh-h")),
            ("land-330110".to_owned(), Value::Null, Value::Null),
        ],
        "the first read is the receipt; Yuhang has not read it"
    );
    let _ = &yuhang;

    // The files equal the figures the API returns.
    let xlsx = w
        .get(
            &yuhang,
            &format!("{path}/export"),
            &[("format", "xlsx")],
            now,
        )
        .await;
    assert_eq!(xlsx.status, 200, "{}", xlsx.body);
    let mut book: Xlsx<_> =
        open_workbook_from_rs(Cursor::new(xlsx.bytes.clone().expect("file"))).expect("xlsx");
    let sheet = book.worksheet_range("各地情况").expect("figures");
    let rows: Vec<Vec<Data>> = sheet.rows().map(<[Data]>::to_vec).collect();
    let mut api_rows = vec![(
        sheets::bulletin::TOTAL_LABEL.to_owned(),
        api_line(&shown, &shown["total"]),
    )];
    for d in shown["divisions"].as_array().expect("divisions") {
        api_rows.push((
            d["name"].as_str().expect("name").to_owned(),
            api_line(&shown, d),
        ));
    }
    assert_eq!(rows.len(), 1 + api_rows.len());
    let headers: Vec<String> = rows[0].iter().map(ToString::to_string).collect();
    assert_eq!(headers[0], "地区");
    for (row, (name, figures)) in rows[1..].iter().zip(&api_rows) {
        assert_eq!(row[0], Data::String(name.clone()));
        for (i, (label, value)) in figures.iter().enumerate() {
            assert_eq!(&headers[i + 1], label);
            let want = match value {
                Value::Null => Data::Empty,
                v => Data::Float(v.as_f64().expect("number")),
            };
            assert_eq!(row[i + 1], want, "{name} {label}");
        }
    }
    let sheet = book
        .worksheet_range(sheets::bulletin::SUPERVISED_SHEET)
        .expect("督办 sheet");
    let rows: Vec<Vec<String>> = sheet
        .rows()
        .map(|r| r.iter().map(ToString::to_string).collect())
        .collect();
    assert_eq!(rows.len(), 2, "{rows:?}");
    assert_eq!(rows[0][0], "线索编号");
    assert_eq!(
        (
            rows[1][1].as_str(),
            rows[1][4].as_str(),
            rows[1][6].as_str()
        ),
        ("杭州市西湖区", "2026-03-20", "督办中")
    );
    assert!(
        rows[1][5].ends_with("已安排现场核查，预计3月18日完成"),
        "{}",
        rows[1][5]
    );
    let csv = w
        .get(&hz, &format!("{path}/export"), &[("format", "csv")], now)
        .await;
    assert_eq!(csv.status, 200);
    let bytes = csv.bytes.clone().expect("file");
    assert!(bytes.starts_with(sheets::BOM));
    Box::pin(keeps_the_bom_through_lambda(&csv, &bytes)).await;
    let text = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let header_line = format!(
        "地区,{}",
        domain::bulletin::FIGURE_COLUMNS.map(|(_, h)| h).join(",")
    );
    assert!(text.contains(&header_line), "{text}");
    for (name, figures) in &api_rows {
        let line = text
            .lines()
            .find(|l| l.starts_with(&format!("{name},")))
            .unwrap_or_else(|| panic!("{name} in {text}"));
        let fields: Vec<Option<f64>> = line
            .split(',')
            .skip(1)
            .map(|f| (!f.is_empty()).then(|| f.parse().expect("number")))
            .collect();
        let want: Vec<Option<f64>> = figures.iter().map(|(_, v)| v.as_f64()).collect();
        assert_eq!(fields, want, "{name}");
    }
    let r = w
        .get(&hz, &format!("{path}/export"), &[("format", "pdf")], now)
        .await;
    assert_eq!(code(&r), (400, "invalid_format".into()));
    assert_eq!(
        code(&w.get(&ningbo, &format!("{path}/export"), &[], now).await),
        (404, "bulletin_not_found".into())
    );

    // The clue list of the territory and period, asynchronously: queue → worker → bucket → link.
    let mut r = Req::new("POST", "/api/officer/exports");
    r.claims = claims(&yuhang);
    r.headers
        .insert("content-type".into(), "application/json".into());
    r.headers.insert("idempotency-key".into(), "x-1".into());
    r.body = json!({"bulletin": id, "format": "xlsx"})
        .to_string()
        .into_bytes();
    let started = w.app.handle(&r, now).await;
    assert_eq!(started.status, 202, "{}", started.body);
    let job = started.json_body();
    assert_eq!(
        (job["status"].clone(), job["url"].clone()),
        (json!("queued"), Value::Null)
    );
    let job_id = job["id"].as_str().expect("job id").to_owned();
    let job_path = format!("/api/officer/exports/{job_id}");
    for o in [&xihu, &ningbo] {
        let r = w.get(o, &job_path, &[], now).await;
        assert_eq!(
            code(&r),
            (404, "export_not_found".into()),
            "another bureau's job"
        );
    }
    let mut forbidden = Req::new("POST", "/api/officer/exports");
    forbidden.claims = claims(&ningbo);
    forbidden
        .headers
        .insert("content-type".into(), "application/json".into());
    forbidden
        .headers
        .insert("idempotency-key".into(), "x-2".into());
    forbidden.body = json!({"bulletin": id}).to_string().into_bytes();
    assert_eq!(
        code(&w.app.handle(&forbidden, now).await),
        (404, "bulletin_not_found".into())
    );

    let desk = w.app.exports.clone().expect("desk");
    let received = desk
        .sqs
        .receive_message()
        .queue_url(&desk.queue_url)
        .max_number_of_messages(10)
        .send()
        .await
        .expect("receive");
    let messages = received.messages();
    assert_eq!(messages.len(), 1, "one message per job");
    let message: store::exports::ExportMessage =
        serde_json::from_str(messages[0].body().expect("body")).expect("message");
    assert_eq!(message.job, job_id);
    let scratch = std::env::temp_dir().join(format!("bulletin-export-{job_id}"));
    std::fs::create_dir_all(&scratch).expect("scratch");
    let worker = export::Worker {
        store: w.env.another_store(),
        s3: desk.s3.clone(),
        bucket: desk.bucket.clone(),
        scratch: scratch.clone(),
    };
    worker.run(&message.job, || now).await.expect("job runs");
    let done = w.get(&yuhang, &job_path, &[], now).await.json_body();
    assert_eq!(
        (done["status"].clone(), done["rows"].clone()),
        (json!("ready"), json!(4))
    );
    let url = done["url"].as_str().expect("presigned link");
    assert!(url.contains("X-Amz-Signature"), "{url}");
    let file = reqwest::get(url)
        .await
        .expect("download")
        .bytes()
        .await
        .expect("bytes");
    let mut book: Xlsx<_> = open_workbook_from_rs(Cursor::new(file.to_vec())).expect("xlsx");
    let sheet = book.worksheet_range("线索清单").expect("clue list");
    let mut numbers: Vec<String> = sheet.rows().skip(1).map(|row| row[0].to_string()).collect();
    numbers.sort();
    let mut want = Vec::new();
    for c in ["c-1", "c-2", "c-3", "c-4"] {
        let stored = w.env.store.clue(&support::cid(c)).await.expect("clue");
        want.push(stored.clue.clue_no.as_str().to_owned());
    }
    want.sort();
    assert_eq!(
        numbers, want,
        "Hangzhou's clues of the quarter, not Ningbo's"
    );
    // A redelivered message changes nothing.
    worker.run(&message.job, || now).await.expect("replay");
    let again = w.get(&yuhang, &job_path, &[], now).await.json_body();
    assert_eq!(again["rows"], json!(4));
    let _ = std::fs::remove_dir_all(&scratch);
}

/// The city supervises c-2 (督办); Xihu answers with its progress.
async fn supervise_and_answer(w: &World, hz: &Officer, xihu: &Officer) {
    let v = w
        .get(hz, "/api/officer/clues/c-2", &[], at(3, 12))
        .await
        .json_body()["version"]
        .clone();
    let r = w
        .post(
            hz,
            "/api/officer/clues/c-2/supervise",
            json!({"version": v, "due_on": "2026-03-20", "note": "请于3月20日前报告核查进展"}),
            "s-1",
            at(3, 12),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
    let v = w
        .get(xihu, "/api/officer/clues/c-2", &[], at(3, 13))
        .await
        .json_body()["version"]
        .clone();
    let r = w
        .post(
            xihu,
            "/api/officer/clues/c-2/supervision-answer",
            json!({"version": v, "text": "已安排现场核查，预计3月18日完成"}),
            "s-2",
            at(3, 13),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.body);
}

/// The CSV as API Gateway gets it from the Lambda HTTP adapter: still bytes, the BOM kept (a
/// text/* type would be re-decoded as text, without it).
async fn keeps_the_bom_through_lambda(csv: &api::Resp, bytes: &[u8]) {
    let through = lambda_http::IntoResponse::into_response(
        api::Resp::file(
            csv.headers
                .iter()
                .find(|(k, _)| k == "content-type")
                .map(|(_, v)| v.as_str())
                .expect("content-type"),
            "b.csv",
            bytes.to_vec(),
        )
        .into_lambda()
        .expect("response"),
    )
    .await;
    match through.body() {
        lambda_http::Body::Binary(b) => assert!(b.starts_with(sheets::BOM)),
        other => panic!("the CSV became {other:?}"),
    }
}
