//! Figures: the DynamoDB requests of each officer API request on a warm instance (the
//! directory cached), next to the minimum the design allows. Runs against moto with
//! `template.yaml` deployed; the counts come from the store's meter.
//!
//! `cargo bench -p judgment --bench requests --profile dev`

use testkit::store_env as support;

use std::collections::HashMap;

use api::Req;
use judgment::App;
use outbox::MemoryNoticeQueue;
use serde_json::{Value, json};
use store::roles::*;
use support::{Env, at, officer};

fn request(method: &str, path: &str, sub: &str, body: Option<Value>, key: &str) -> Req {
    let mut r = Req::new(method, path);
    r.claims = HashMap::from([("sub".to_owned(), sub.to_owned())]);
    if let Some(b) = body {
        r.headers
            .insert("content-type".into(), "application/json".into());
        r.headers.insert("idempotency-key".into(), key.into());
        r.body = b.to_string().into_bytes();
    }
    r
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let env = Env::start().await;
        let app = App::new(env.officer_store(), MemoryNoticeQueue::default())
            .with_reporting(env.reporting());
        let h = officer("xh-h", "land-330106", &[domain::Role::Handler]);
        env.store.put_officer(&h).await.expect("officer");
        for i in 0..25 {
            env.receive(&format!("c-{i:02}"), i, "330106", at(3, 10))
                .await;
        }
        let now = at(3, 11);
        // Warm up: the directory and the city's scope are loaded once per cold start.
        app.handle(&request("GET", "/api/officer/me", "xh-h", None, ""), now)
            .await;
        app.store.meter().take();

        // (label, request, minimum the design allows, why)
        let steps: Vec<(&str, Req, u64, &str)> = vec![
            (
                "inbox page (20 rows + counts)",
                request("GET", "/api/officer/inbox", "xh-h", None, ""),
                7,
                "officer 1 + inbox Query 1 + COUNT per state 5",
            ),
            (
                "clue view",
                request("GET", "/api/officer/clues/c-01", "xh-h", None, ""),
                5,
                "officer 1 + clue 1 + timeline/verify 1 + vault 1 + messages 1 (+ candidates 3)",
            ),
            (
                "judge accept",
                request(
                    "POST",
                    "/api/officer/clues/c-01/judge",
                    "xh-h",
                    Some(json!({"outcome": "accept", "version": 1})),
                    "b-1",
                ),
                3,
                "officer 1 + BatchGet (clue, idempotency) 1 + TransactWrite 1",
            ),
            (
                "post a message",
                request(
                    "POST",
                    "/api/officer/clues/c-02/messages",
                    "xh-h",
                    Some(json!({"text": "请补充现场照片", "version": 1})),
                    "b-2",
                ),
                3,
                "officer 1 + BatchGet 1 + TransactWrite 1",
            ),
            (
                "record verification",
                request(
                    "POST",
                    "/api/officer/clues/c-01/verify",
                    "xh-h",
                    Some(json!({"result": "no_violation", "ended_on": "2026-03-11", "version": 2})),
                    "b-3",
                ),
                3,
                "officer 1 + BatchGet 1 + TransactWrite 1",
            ),
        ];
        println!(
            "{:<32} {:>8} {:>8}  by operation",
            "officer API request", "requests", "minimum"
        );
        for (label, req, minimum, why) in steps {
            let resp = app.handle(&req, now).await;
            assert!(resp.status < 300, "{label}: {}", resp.body);
            let usage = app.store.meter().take();
            let total: u64 = usage.values().map(|u| u.requests).sum();
            let ops: Vec<String> = usage
                .iter()
                .map(|(op, u)| format!("{op} {}", u.requests))
                .collect();
            println!(
                "{label:<32} {total:>8} {minimum:>8}  {} (minimum: {why})",
                ops.join(", ")
            );
        }
    });
}
