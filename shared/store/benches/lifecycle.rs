//! Figures: the DynamoDB requests and capacity of one clue's lifecycle — receive → judge
//! (accept) → record verification → three notices delivered — next to the hand-counted minimum
//! of the crate docs (12 requests). Runs against moto with `template.yaml` deployed; moto does
//! not report capacity for transactions, so the capacity shown is computed from the item sizes
//! by DynamoDB's rules (the `reported` column is what the service returned).
//!
//! `cargo bench -p store --bench lifecycle --profile dev`

use testkit::store_env as support;

use std::collections::BTreeMap;

use domain::command::JudgmentRequest;
use domain::event::{DeliveryStatus, VerificationResult};
use domain::{Actor, Command};
use store::meter::Usage;
use store::{DynamoClueStore, roles::*};
use support::*;

const MINIMUM_REQUESTS: u64 = 12;

async fn lifecycle(
    env: &Env,
    store: &DynamoClueStore,
    clue: &str,
) -> Vec<(&'static str, BTreeMap<&'static str, Usage>)> {
    let mut steps = Vec::new();
    store.meter().take();
    let sub = env.submission(clue, "330106", at(3, 9)).await;
    let received = store
        .receive(sub, identity(1), at(3, 9), &key(&format!("{clue}-r")))
        .await
        .expect("receive");
    steps.push(("receive", store.meter().take()));
    let h = handler("land-330106");
    let id = received.clue_id.clone();
    store
        .execute(
            &id,
            Command::Judge {
                judgment: JudgmentRequest::Accept,
                note: None,
            },
            &as_officer(&h),
            at(3, 10),
            &key(&format!("{clue}-j")),
        )
        .await
        .expect("judge");
    steps.push(("judge accept", store.meter().take()));
    store
        .execute(
            &id,
            Command::RecordVerification {
                result: VerificationResult::ViolationFound,
                ended_on: at(3, 20).date_naive(),
                note: None,
            },
            &as_officer(&h),
            at(3, 20),
            &key(&format!("{clue}-v")),
        )
        .await
        .expect("verify");
    steps.push(("record verification", store.meter().take()));
    let clue_now = store.clue(&id).await.expect("clue").clue;
    store.meter().take();
    for (i, n) in clue_now.notices.iter().enumerate() {
        store
            .execute(
                &id,
                Command::RecordDelivery {
                    notice: n.record.id.clone(),
                    status: DeliveryStatus::Sent {
                        msgid: format!("msg-{i}"),
                        possible_duplicate: false,
                    },
                },
                &Actor::System,
                at(3, 20),
                &key(&format!("{clue}-d{i}")),
            )
            .await
            .expect("delivery");
    }
    steps.push(("3 notices delivered", store.meter().take()));
    steps
}

fn print(title: &str, steps: &[(&'static str, BTreeMap<&'static str, Usage>)]) -> u64 {
    println!("\n{title}");
    println!(
        "{:<22} {:<16} {:>8} {:>6} {:>10} {:>10}",
        "step", "operation", "requests", "items", "reported", "estimated"
    );
    let (mut requests, mut est_r, mut est_w) = (0, 0.0, 0.0);
    for (step, usage) in steps {
        for (op, u) in usage {
            println!(
                "{:<22} {:<16} {:>8} {:>6} {:>10.1} {:>10.1}",
                step, op, u.requests, u.items, u.reported_units, u.estimated_units
            );
            requests += u.requests;
            if matches!(*op, "receive" | "execute" | "sequence") {
                est_w += u.estimated_units;
            } else {
                est_r += u.estimated_units;
            }
        }
    }
    println!(
        "total: {requests} requests (hand-counted minimum {MINIMUM_REQUESTS}, ratio {:.2}); estimated {est_r:.1} RCU + {est_w:.1} WCU",
        requests as f64 / MINIMUM_REQUESTS as f64
    );
    requests
}

fn main() {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let env = Env::start().await;
        let store = env.another_store();
        let cold = lifecycle(&env, &store, "clue-cold").await;
        print(
            "first lifecycle of a cold start (directory, scope and data key loaded once)",
            &cold,
        );
        let warm = lifecycle(&env, &store, "clue-warm").await;
        let requests = print("a lifecycle on a warm instance", &warm);
        assert!(
            requests as f64 <= 1.5 * MINIMUM_REQUESTS as f64,
            "a warm lifecycle takes at most 1.5x the minimum requests"
        );
    });
}
