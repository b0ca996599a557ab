//! Figures: `notify`'s throughput against moto and the fake WeChat API (no faults), at batch
//! size 10 with one poller, and the DynamoDB requests per delivered notice.
//!
//! `cargo bench -p notify --bench throughput --profile dev` (needs `.venv`: `infra/dev venv`).
//! moto serialises every request (see `serial_moto.py`), so the rate is moto's more than
//! notify's; the request count is the figure that carries over to DynamoDB.

#[path = "../tests/support/mod.rs"]
mod support;

use std::time::Duration;

use outbox::enqueue_after_commit;
use store::roles::*;
use support::Bench;
use support::fixtures::{at, identity, key};

const NOTICES: u32 = 200;

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let b = Bench::start().await;
    let division = support::fixtures::code("330106");
    let history = b
        .store
        .scope_history(division.city().expect("city"))
        .await
        .expect("scope");
    for n in 0..NOTICES {
        b.add_user(&identity(n).openid).await;
        let sub = store::Submission {
            clue_id: domain::ClueId::parse(&format!("b{n:04}")).expect("id"),
            report: domain::report::Report {
                location: domain::event::Location {
                    division,
                    address: domain::text::Address::parse("留下街道某村东侧农田").expect("address"),
                    gps: None,
                },
                subject: None,
                category: domain::scope::CategoryChoice::Annex(
                    domain::scope::Category::FarmlandDestruction,
                ),
                facts: domain::text::Facts::parse("在基本农田上堆放建材并硬化地面。")
                    .expect("facts"),
                evidence_left_out: Vec::new(),
                notice_version: history.in_force(at(3, 9)).reporting_notice().version_id,
                consent: true,
                channel: domain::event::Channel::H5,
                resubmission_of: None,
            },
            evidence: Vec::new(),
        };
        let r = b
            .store
            .receive(sub, identity(n), at(3, 9), &key(&format!("b{n}")))
            .await
            .expect("receive");
        assert!(enqueue_after_commit(&b.queue(), r.notices()).await);
    }
    b.store.meter().take();
    let api = b.api(Duration::from_secs(2));
    let notifier = b.notifier(&api);
    let report = b.drain(&notifier, 1, Duration::from_secs(600), None).await;
    let usage = b.store.meter().take();
    let requests: u64 = usage.values().map(|u| u.requests).sum();
    assert_eq!(report.sent, NOTICES as usize);
    println!(
        "notify: {} notices in {:.1} s at batch size 10, one poller: {:.1} notices/s",
        report.sent,
        report.elapsed.as_secs_f64(),
        report.sent as f64 / report.elapsed.as_secs_f64()
    );
    println!(
        "DynamoDB requests per delivered notice: {:.2} ({requests} requests for {} notices)",
        requests as f64 / report.sent as f64,
        report.sent
    );
    for (op, u) in &usage {
        println!("  {op:<14} {:>5} requests", u.requests);
    }
}
