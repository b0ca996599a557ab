//! Figures (P6): the DynamoDB requests, items read and time of a province's year of statistics
//! through `GET /api/officer/statistics` (the province and its 11 cities), against moto with
//! `template.yaml` deployed. The year's counters are written first as the store keeps them
//! (`STAT#<cell>` / `DAY#<date>` and the month rollups `MONTH#<yyyy-mm>`, one number per metric,
//! every day of the year in every cell): a busy province, so the reads are as large as a year
//! gets. Each response's own figures are checked against the figures of every day item.
//!
//! `cargo bench -p judgment --bench statistics --profile dev`

use testkit::store_env as support;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use api::Req;
use aws_sdk_dynamodb::types::{AttributeValue, DeleteRequest, PutRequest, WriteRequest};
use chrono::{Datelike, NaiveDate};
use domain::rollup::ReadPlan;
use domain::{DivisionCode, Divisions};
use judgment::App;
use outbox::MemoryNoticeQueue;
use store::roles::*;
use support::{Env, at, officer};

const METRICS: [(&str, i64); 24] = [
    ("received", 40),
    ("category.farmland_destruction", 12),
    ("category.illegal_occupation", 14),
    ("category.illegal_mining", 8),
    ("category.uncertain", 6),
    ("channel.h5", 28),
    ("channel.chat", 12),
    ("judged.accept", 20),
    ("judged.out_of_scope", 8),
    ("judged.duplicate", 3),
    ("judged.need_material", 7),
    ("escalated", 2),
    ("designated", 2),
    ("verified.no_violation", 6),
    ("verified.violation_found", 12),
    ("transferred.off_platform", 1),
    ("on_time.judgment", 34),
    ("late.judgment", 4),
    ("missed.judgment", 3),
    ("on_time.verification_notice", 17),
    ("notice_owed", 70),
    ("open", 1),
    ("open_overdue", 0),
    ("open_overdue.judgment", 0),
];

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let env = Env::start().await;
        let province = DivisionCode::parse("330000").expect("code");
        let mut cells = vec![province];
        cells.extend(Divisions::embedded().children(&province).map(|d| d.code()));
        let first = NaiveDate::from_ymd_opt(2026, 1, 1).expect("date");
        let put = |cell: &DivisionCode, sk: String, times: i64| {
            let mut item = HashMap::from([
                ("pk".to_owned(), AttributeValue::S(format!("STAT#{cell}"))),
                ("sk".to_owned(), AttributeValue::S(sk)),
            ]);
            for (m, n) in METRICS {
                item.insert(m.to_owned(), AttributeValue::N((n * times).to_string()));
            }
            WriteRequest::builder()
                .put_request(
                    PutRequest::builder()
                        .set_item(Some(item))
                        .build()
                        .expect("put"),
                )
                .build()
        };
        let mut items = Vec::new();
        let mut months = 0;
        for cell in &cells {
            for d in 0..365 {
                let day = first + chrono::Duration::days(d);
                items.push(put(cell, format!("DAY#{day}"), 1));
            }
            for m in 1..=12 {
                let month = NaiveDate::from_ymd_opt(2026, m, 1).expect("month");
                let days = domain::rollup::month_end(month).day0() + 1;
                items.push(put(cell, format!("MONTH#{}", month.format("%Y-%m")), i64::from(days)));
                months += 1;
            }
        }
        let written = items.len();
        for chunk in items.chunks(25) {
            env.db
                .batch_write_item()
                .request_items(&env.table, chunk.to_vec())
                .send()
                .await
                .expect("batch write");
        }
        let app = App::new(env.officer_store(), MemoryNoticeQueue::default())
            .with_reporting(env.reporting());
        let sup = officer("zj-sup", "land-330000", &[domain::Role::Supervisor]);
        env.store.put_officer(&sup).await.expect("officer");
        let now = at(12, 31);
        let req = |granularity: &str, to: &str| {
            let mut r = Req::new("GET", "/api/officer/statistics");
            r.claims = HashMap::from([("sub".to_owned(), "zj-sup".to_owned())]);
            for (k, v) in [
                ("from", "2026-01-01"),
                ("to", to),
                ("granularity", granularity),
            ] {
                r.query.insert(k.to_owned(), v.to_owned());
            }
            r
        };
        // Warm: the directory is cached once per cold start.
        app.handle(&req("month", "2026-12-31"), now).await;
        app.store.meter().take();
        // Every day item of every cell, for the check of the figures.
        let all_days = app
            .store
            .stat_days_of(&cells, NaiveDate::from_ymd_opt(2026, 12, 31).expect("d"))
            .await
            .expect("days");
        app.store.meter().take();
        println!(
            "{written} counter items ({} cells x 365 days + {months} month items); a province's \
             year, warm instance",
            cells.len()
        );
        println!(
            "{:<12} {:<10} {:>8} {:>8} {:>10} {:>10} {:>10}",
            "granularity", "to", "requests", "items", "median", "p90", "bytes"
        );
        // The last: this year to date, on 3 December (the dashboard's default view).
        for (granularity, to) in [
            ("month", "2026-12-31"),
            ("quarter", "2026-12-31"),
            ("year", "2026-12-31"),
            ("day", "2026-12-31"),
            ("month", "2026-12-03"),
        ] {
            let now = if to == "2026-12-03" {
                // On 3 December no later day is counted yet: the days after it go.
                let mut gone = Vec::new();
                for cell in &cells {
                    for d in 4..=31 {
                        let day = NaiveDate::from_ymd_opt(2026, 12, d).expect("day");
                        let key = HashMap::from([
                            ("pk".to_owned(), AttributeValue::S(format!("STAT#{cell}"))),
                            ("sk".to_owned(), AttributeValue::S(format!("DAY#{day}"))),
                        ]);
                        gone.push(
                            WriteRequest::builder()
                                .delete_request(
                                    DeleteRequest::builder()
                                        .set_key(Some(key))
                                        .build()
                                        .expect("delete"),
                                )
                                .build(),
                        );
                    }
                }
                for chunk in gone.chunks(25) {
                    env.db
                        .batch_write_item()
                        .request_items(&env.table, chunk.to_vec())
                        .send()
                        .await
                        .expect("batch delete");
                }
                at(12, 3)
            } else {
                now
            };
            let mut times: Vec<Duration> = Vec::new();
            let mut requests = 0;
            let mut read = 0;
            let mut bytes = 0;
            for _ in 0..runs() {
                let started = Instant::now();
                let resp = app.handle(&req(granularity, to), now).await;
                times.push(started.elapsed());
                assert_eq!(resp.status, 200, "{}", resp.body);
                let body: serde_json::Value = serde_json::from_str(&resp.body).expect("json");
                let period = domain::figures::Period::new(
                    first,
                    NaiveDate::parse_from_str(to, "%Y-%m-%d").expect("to"),
                )
                .expect("period");
                let want = domain::figures::Figures::of(&all_days[&province], period);
                assert_eq!(body["figures"], serde_json::json!(want), "the figures of every day");
                let usage = app.store.meter().take();
                if std::env::var("STATS_TRACE").is_ok() {
                    // The store's reads alone (the same plans as the route), then one Query.
                    let period = domain::figures::Period::new(
                        first,
                        NaiveDate::parse_from_str(to, "%Y-%m-%d").expect("to"),
                    )
                    .expect("period");
                    let g = domain::figures::Granularity::parse(granularity).expect("g");
                    let today = domain::calendar::shanghai_date(now);
                    let mut plans = vec![(
                        province,
                        ReadPlan::for_series(period, g).counted_up_to(today),
                    )];
                    plans.extend(cells.iter().skip(1).map(|c| {
                        (*c, ReadPlan::for_period(period).counted_up_to(today))
                    }));
                    let t = Instant::now();
                    app.store.stat_counters_of(&plans).await.expect("reads");
                    let reads = t.elapsed();
                    let t = Instant::now();
                    app.store
                        .stat_months(&province, first)
                        .await
                        .expect("one query");
                    eprintln!(
                        "request {:?}; its reads {reads:?}; one Query {:?}",
                        times.last().copied().unwrap_or_default(),
                        t.elapsed()
                    );
                    app.store.meter().take();
                }
                requests = usage.values().map(|u| u.requests).sum::<u64>();
                read = usage.values().map(|u| u.items).sum::<u64>();
                bytes = resp.body.len();
            }
            times.sort();
            println!(
                "{granularity:<12} {to:<10} {requests:>8} {read:>8} {:>10.1?} {:>10.1?} {bytes:>10}",
                times[times.len() / 2],
                times[times.len() * 9 / 10],
            );
        }
    });
}

/// Runs per granularity (`STATS_RUNS`, default 20).
fn runs() -> usize {
    std::env::var("STATS_RUNS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(20)
}
