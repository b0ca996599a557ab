//! The sweep's reads against a large table: 100 000 open deadlines that are not due plus 50
//! clues whose deadlines are (reminder instants and due instants passed), in moto with
//! `template.yaml` deployed. Prints what one sweep read (items and capacity from the store's
//! meter, requests by operation from an SDK interceptor) against the entries due, and fails if
//! the sweep read more than 1.1 × those or used a Scan. Not part of `infra/dev test`:
//!
//! ```sh
//! cargo bench -p deadline-sweep --bench sweep --profile dev   # needs .venv
//! ```
//! `BENCH_FILLER` changes the number of open deadlines not due (default 100 000).

use testkit::store_env as support;

use std::collections::HashMap;
use std::time::Instant;

use aws_sdk_dynamodb::types::{AttributeValue, PutRequest, WriteRequest};
use chrono::{DateTime, Duration, SecondsFormat, TimeZone, Utc};
use chrono_tz::Asia::Shanghai;
use deadline_sweep::sweep_deadlines;
use domain::deadline::{Deadline, DeadlineKind, DeadlineStatus};
use outbox::MemoryNoticeQueue;
use store::{CalendarYears, DynamoClueStore, StoreConfig};
use support::*;
use testkit::requests::Requests;

const DUE_CLUES: u32 = 50;

fn sh(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Shanghai
        .with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("instant")
        .with_timezone(&Utc)
}

fn ts(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Millis, true)
}

fn s(v: impl Into<String>) -> AttributeValue {
    AttributeValue::S(v.into())
}

/// The index item of an open judgment deadline of a clue that is not due (as the store writes
/// it for an open, dated deadline).
fn filler(i: u32) -> HashMap<String, AttributeValue> {
    let starts = sh(2026, 4, 1, 9) + Duration::minutes(i64::from(i));
    let due = starts + Duration::days(10);
    let remind = due - Duration::days(1);
    let clue = format!("fill-{i:06}");
    let deadline = Deadline {
        kind: DeadlineKind::Judgment,
        bureau: bid("land-330106"),
        starts_at: starts,
        due: Some(due),
        remind_at: Some(remind),
        status: DeadlineStatus::Open,
        missed_at: None,
        due_on: None,
    };
    HashMap::from([
        ("pk".to_owned(), s(format!("CLUE#{clue}"))),
        ("sk".to_owned(), s(format!("DL#judgment#{}", ts(starts)))),
        ("type".to_owned(), s("deadline")),
        ("clue_id".to_owned(), s(clue.clone())),
        (
            "clue_no".to_owned(),
            s(format!("330106-20260401-{:04}", i % 10_000)),
        ),
        ("kind".to_owned(), s("judgment")),
        ("bureau".to_owned(), s("land-330106")),
        ("due".to_owned(), s(ts(due))),
        (
            "data".to_owned(),
            s(serde_json::to_string(&deadline).expect("json")),
        ),
        ("gsi1pk".to_owned(), s("DUE")),
        (
            "gsi1sk".to_owned(),
            s(format!("{}#{clue}#judgment", ts(due))),
        ),
        ("gsi2pk".to_owned(), s("REMIND")),
        (
            "gsi2sk".to_owned(),
            s(format!("{}#{clue}#judgment", ts(remind))),
        ),
    ])
}

async fn seed(env: &Env, n: u32) {
    let started = Instant::now();
    let mut i = 0;
    while i < n {
        let batch: Vec<WriteRequest> = (i..(i + 25).min(n))
            .map(|k| {
                WriteRequest::builder()
                    .put_request(
                        PutRequest::builder()
                            .set_item(Some(filler(k)))
                            .build()
                            .expect("put"),
                    )
                    .build()
            })
            .collect();
        let mut pending = Some(batch);
        while let Some(requests) = pending.take() {
            let out = env
                .db
                .batch_write_item()
                .request_items(&env.table, requests)
                .send()
                .await
                .expect("batch write");
            pending = out
                .unprocessed_items
                .and_then(|mut u| u.remove(&env.table))
                .filter(|r| !r.is_empty());
        }
        i = (i + 25).min(n);
        if i % 10_000 == 0 {
            println!(
                "seeded {i} open deadlines ({:.0} s)",
                started.elapsed().as_secs_f64()
            );
        }
    }
}

#[tokio::main]
async fn main() {
    let filler: u32 = std::env::var("BENCH_FILLER")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(100_000);
    let env = Env::start().await;
    // 50 clues received Monday 2026-03-09: judgment due 2026-03-18, escalation 2026-03-11.
    for n in 0..DUE_CLUES {
        let county = if n % 2 == 0 { "330106" } else { "330110" };
        env.receive(&format!("due-{n:02}"), 100 + n, county, sh(2026, 3, 9, 10))
            .await;
    }
    let t = Instant::now();
    seed(&env, filler).await;
    println!(
        "seeded {filler} open deadlines not due in {:.0} s",
        t.elapsed().as_secs_f64()
    );

    let requests = Requests::default();
    let db = requests.client(&env.endpoint);
    let store = DynamoClueStore::new(
        db,
        env.kms.clone(),
        StoreConfig::new(&env.table, &env.pii_key, SECRET.to_vec()),
    )
    .expect("store");
    // Warm the caches (directory, calendar) so the figures are the sweep's own reads.
    store.calendar().await.expect("calendar");
    store.directory().await.expect("directory");
    store.meter().take();
    requests.take();

    // 2026-03-19 09:00: every deadline of the 50 clues is past its reminder and its due
    // instant: 100 entries in REMIND and 100 in DUE.
    let due_entries = 4 * u64::from(DUE_CLUES);
    let queue = MemoryNoticeQueue::default();
    let t = Instant::now();
    let report = sweep_deadlines(&store, &queue, sh(2026, 3, 19, 9))
        .await
        .expect("sweep");
    let took = t.elapsed();
    let usage = store.meter().take();
    let ops = requests.take();
    let index_ops = ["deadlines", "pending"];
    let index_items: u64 = index_ops
        .iter()
        .filter_map(|o| usage.get(o))
        .map(|u| u.items)
        .sum();
    let index_units: f64 = index_ops
        .iter()
        .filter_map(|o| usage.get(o))
        .map(|u| u.reported_units.max(u.estimated_units))
        .sum();
    println!("report: {report:?}");
    println!("sweep took {:.1} s", took.as_secs_f64());
    println!("DynamoDB requests by operation: {ops:?}");
    for (op, u) in &usage {
        println!(
            "  {op:>16}: {} requests, {} items, {:.1} RCU/WCU reported, {:.1} estimated",
            u.requests, u.items, u.reported_units, u.estimated_units
        );
    }
    let ratio = index_items as f64 / due_entries as f64;
    println!(
        "index items read {index_items} for {due_entries} due entries (ratio {ratio:.2}); \
         {index_units:.1} RCU for the index reads; open deadlines not due: {filler}"
    );
    assert!(!ops.contains_key("Scan"), "the sweep scanned");
    assert!(ratio <= 1.1, "the sweep read {ratio:.2} × the due entries");
    assert_eq!(
        report.missed, DUE_CLUES,
        "every judgment deadline recorded missed"
    );
}
