//! Figures: callback latency under 50 concurrent WeChat callbacks.
//!
//! 50 reporters talk to the account at the same time: each round sends every reporter's next
//! push at once (signed and encrypted as WeChat sends them, prepared before the round starts),
//! and each push's time through [`intake::callback::CallbackApp::handle`] (the `callback` function) is
//! recorded. The rounds are the whole
//! guided chat: the subscribe event, "举报", the place, the address, the subject, the facts,
//! "完成" (the consent question) and "同意" (the clue is filed), then a menu click. Every
//! answer is checked (status 200, the reply opens and says what that step says), so a fast
//! wrong answer cannot pass for a figure.
//!
//! Two set-ups, one after the other, each on its own reporters:
//! - **moto**: the side table and the clue store on moto with `template.yaml` deployed (as the
//!   intake tests run it); moto serialises every request (`infra/stack/moto_server.py`), so this
//!   figure is mostly moto's queue;
//! - **memory side**: the side table (nonces, dedup claims, chat drafts, rate limits) in memory
//!   ([`intake::ports::MemorySide`]); the clue store stays on moto (the scope history read of
//!   the later chat steps and the filing). Its first three rounds touch no emulator at all: the
//!   handler's own time.
//!
//! Queues are the in-memory fakes in both (SQS is not in the figure). The DynamoDB requests of
//! each round are counted by an SDK interceptor on the client and printed per callback.
//!
//! `cargo bench -p intake --bench callbacks` (needs `.venv`; not part of `infra/dev test`).
//! `BENCH_ROUNDS=N` repeats the conversation N times per set-up (default 2).

#[path = "../tests/support/mod.rs"]
mod support;

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::Utc;
use intake::Reporting;
use intake::callback::CallbackApp;
use intake::http::Req;
use intake::ports::{MemoryMediaQueue, MemorySide, Side};
use outbox::MemoryNoticeQueue;
use store::{DynamoClueStore, ReporterKeyer, ReportingStore, StoreConfig};
use support::{World, event_msg, store_support, text_msg};
use testkit::requests::Requests;
use wechat::Callback;
use wechat_sim::defaults;

/// Concurrent callbacks per round.
const CONCURRENCY: usize = 50;

/// One round: what every reporter sends, and a word the reply must contain.
struct Step {
    name: &'static str,
    push: Push,
    expect: &'static str,
}

enum Push {
    Event(&'static str, Option<&'static str>),
    Text(&'static str),
}

const STEPS: &[Step] = &[
    Step {
        name: "subscribe event",
        push: Push::Event("subscribe", None),
        expect: "欢迎关注",
    },
    Step {
        name: "text 举报 (chat starts)",
        push: Push::Text("举报"),
        expect: "",
    },
    Step {
        name: "text place",
        push: Push::Text("浙江省杭州市西湖区"),
        expect: "",
    },
    Step {
        name: "text address",
        push: Push::Text("留下街道某村东侧"),
        expect: "",
    },
    Step {
        name: "text subject",
        push: Push::Text("某建材公司"),
        expect: "",
    },
    Step {
        name: "text facts",
        push: Push::Text("在基本农田上建厂房，约三亩。"),
        expect: "照片",
    },
    Step {
        name: "text 完成 (consent question)",
        push: Push::Text("完成"),
        expect: "同意",
    },
    Step {
        name: "text 同意 (clue filed)",
        push: Push::Text("同意"),
        expect: "线索编号",
    },
    Step {
        name: "CLICK event (my clues)",
        push: Push::Event("CLICK", Some("MY_CLUES")),
        expect: "查看我的举报",
    },
];

type BenchApp<R> = CallbackApp<DynamoClueStore, R, MemoryNoticeQueue, MemoryMediaQueue>;

/// A callback wired like the tests' (same secrets, the simulator as WeChat), with `side`.
fn app<R: Side>(w: &World, db: aws_sdk_dynamodb::Client, side: R) -> BenchApp<R> {
    CallbackApp {
        reporting: Arc::new(Reporting {
            store: DynamoClueStore::new(
                db,
                w.env.kms.clone(),
                StoreConfig::new(&w.env.table, &w.env.pii_key, store_support::SECRET.to_vec()),
            )
            .expect("store"),
            side,
            notices: MemoryNoticeQueue::default(),
            media: MemoryMediaQueue::default(),
            keyer: ReporterKeyer::new(store_support::SECRET.to_vec()).expect("keyer"),
            public: intake::PublicOrigin::parse("https://12336.example.cn").expect("origin"),
            surge: intake::surge::Surge::new(intake::surge::DEFAULT_PER_HOUR, "bench"),
        }),
        callback: Callback::from(defaults::keys()),
    }
}

/// Latencies of one round, in milliseconds, and the round's wall time.
struct Round {
    latencies: Vec<f64>,
    wall: Duration,
}

async fn round<R: Side + 'static>(
    w: &World,
    app: &Arc<BenchApp<R>>,
    users: &[String],
    step: &Step,
    msg_base: i64,
    event_time: i64,
) -> Round {
    // Arrange: every push signed and encrypted before the clock starts.
    let reqs: Vec<Req> = users
        .iter()
        .enumerate()
        .map(|(i, openid)| {
            let xml = match step.push {
                Push::Event(event, key) => event_msg(openid, event, key, event_time),
                Push::Text(text) => text_msg(openid, text, msg_base + i as i64),
            };
            w.push_req(&xml, openid, &format!("{msg_base}n{i}"))
        })
        .collect();
    // Act: all at once, each on its own task.
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for req in reqs {
        let app = Arc::clone(app);
        tasks.spawn(async move {
            let t = Instant::now();
            let resp = app.handle(&req, Utc::now()).await;
            (t.elapsed(), resp)
        });
    }
    let mut latencies = Vec::with_capacity(users.len());
    while let Some(done) = tasks.join_next().await {
        let (took, resp) = done.expect("task");
        assert_eq!(resp.status, 200, "{}: {}", step.name, resp.body);
        let reply = w
            .platform
            .open_reply(resp.body.as_bytes(), Utc::now().timestamp())
            .expect("reply opens")
            .and_then(|r| r.content)
            .unwrap_or_default();
        assert!(
            reply.contains(step.expect),
            "{}: {reply:?} lacks {:?}",
            step.name,
            step.expect
        );
        latencies.push(took.as_secs_f64() * 1000.0);
    }
    Round {
        latencies,
        wall: started.elapsed(),
    }
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let rank = ((p / 100.0) * sorted.len() as f64).ceil() as usize;
    sorted[rank.clamp(1, sorted.len()) - 1]
}

fn summary(values: &[f64]) -> String {
    let mut v = values.to_vec();
    v.sort_by(f64::total_cmp);
    format!(
        "{:7.1} {:7.1} {:7.1} {:7.1}",
        percentile(&v, 50.0),
        percentile(&v, 95.0),
        percentile(&v, 99.0),
        v.last().copied().unwrap_or_default()
    )
}

async fn run<R: Side + 'static>(
    w: &World,
    label: &str,
    side: impl FnOnce(aws_sdk_dynamodb::Client) -> R,
    repeats: usize,
    prefix: u32,
) -> Vec<f64> {
    let requests = Requests::default();
    let db = requests.client(&w.env.endpoint);
    let app = Arc::new(app(w, db.clone(), side(db)));
    let mut per_step: Vec<(Vec<f64>, BTreeMap<String, u64>, Duration)> =
        STEPS.iter().map(|_| Default::default()).collect();
    for rep in 0..repeats {
        let users: Vec<String> = (0..CONCURRENCY)
            .map(|u| format!("oBench{prefix}{rep:02}{u:04}xxxxxxxxxxxxxxx"))
            .collect();
        for (s, step) in STEPS.iter().enumerate() {
            requests.take();
            let base = i64::from(prefix) * 100_000_000 + (rep * 1_000_000 + s * 1_000) as i64;
            // Events are deduplicated by reporter and CreateTime: one second per step.
            let event_time = Utc::now().timestamp() - (STEPS.len() - s) as i64;
            let r = round(w, &app, &users, step, base, event_time).await;
            let entry = &mut per_step[s];
            entry.0.extend(r.latencies);
            for (op, n) in requests.take() {
                *entry.1.entry(op).or_default() += n;
            }
            entry.2 += r.wall;
        }
    }
    println!(
        "\n{label}: {CONCURRENCY} concurrent callbacks per round, {repeats} conversation(s) \
         per reporter; ms"
    );
    println!(
        "{:<30} {:>7} {:>7} {:>7} {:>7} {:>8}  DynamoDB requests per callback",
        "round", "p50", "p95", "p99", "max", "wall"
    );
    let mut all = Vec::new();
    for (step, (lat, ops, wall)) in STEPS.iter().zip(&per_step) {
        let n = lat.len() as f64;
        let total: u64 = ops.values().sum();
        let detail: Vec<String> = ops
            .iter()
            .map(|(op, c)| format!("{op} {:.2}", *c as f64 / n))
            .collect();
        println!(
            "{:<30} {} {:8.1}  {:.2} ({})",
            step.name,
            summary(lat),
            wall.as_secs_f64() * 1000.0 / repeats as f64,
            total as f64 / n,
            detail.join(", ")
        );
        all.extend_from_slice(lat);
    }
    println!("{:<30} {}", "all callbacks", summary(&all));
    all
}

fn main() {
    let repeats: usize = std::env::var("BENCH_ROUNDS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2);
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let w = World::start().await;
        let table = w.env.table.clone();
        run(
            &w,
            "moto (side table and clue store on moto)",
            |db| ReportingStore::new(db, &table),
            repeats,
            1,
        )
        .await;
        run(
            &w,
            "memory side (side table in memory; clue store on moto)",
            |_| MemorySide::default(),
            repeats,
            2,
        )
        .await;
    });
}
