//! Fault injection: a transaction that fails part-way leaves nothing half-written.

mod support;

use std::collections::HashMap;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::Command;
use domain::command::JudgmentRequest;
use store::{StoreError, roles::*};
use support::*;

type Item = HashMap<String, AttributeValue>;

fn accept() -> Command {
    Command::Judge {
        judgment: JudgmentRequest::Accept,
        note: None,
    }
}

/// Every item of the table, keyed by (pk, sk), without the ones a test changed on purpose.
async fn snapshot(env: &Env) -> Vec<(String, String, String)> {
    let mut all: Vec<(String, String, String)> = env
        .scan()
        .await
        .into_iter()
        .map(|i: Item| {
            let pk = i["pk"].as_s().expect("pk").clone();
            let sk = i["sk"].as_s().expect("sk").clone();
            let mut attrs: Vec<_> = i.iter().map(|(k, v)| format!("{k}={v:?}")).collect();
            attrs.sort();
            (pk, sk, attrs.join(";"))
        })
        .collect();
    all.sort();
    all
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_counter_that_refuses_its_update_cancels_everything() {
    bounded(120, async {
        let env = Env::start().await;
        let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
        // Corrupt the province's counter of the judgment day: `ADD` on a string fails. This item
        // comes after the clue, its timeline, deadlines and outbox items in the transaction.
        env.db
            .put_item()
            .table_name(&env.table)
            .item("pk", AttributeValue::S("STAT#330000".into()))
            .item("sk", AttributeValue::S("DAY#2026-03-10".into()))
            .item("judged.accept", AttributeValue::S("corrupt".into()))
            .send()
            .await
            .expect("corrupt");
        let before = snapshot(&env).await;
        let h = handler("land-330106");
        let result = env
            .store
            .execute(
                &a.clue_id,
                accept(),
                &as_officer(&h),
                at(3, 10),
                &key("judge"),
            )
            .await;
        assert!(matches!(result, Err(StoreError::Sdk { .. })), "{result:?}");
        assert_eq!(
            snapshot(&env).await,
            before,
            "nothing of the transaction is stored"
        );
        env.store
            .verify_timeline(&a.clue_id)
            .await
            .expect("verifies");

        // Repaired, the same command (same key) goes through once.
        env.db
            .delete_item()
            .table_name(&env.table)
            .key("pk", AttributeValue::S("STAT#330000".into()))
            .key("sk", AttributeValue::S("DAY#2026-03-10".into()))
            .send()
            .await
            .expect("repair");
        let outcome = env
            .store
            .execute(
                &a.clue_id,
                accept(),
                &as_officer(&h),
                at(3, 10),
                &key("judge"),
            )
            .await
            .expect("judge");
        assert!(!outcome.replayed);
        let day = at(3, 10).date_naive();
        let province = env
            .store
            .read_stats(&code("330000"), day, day)
            .await
            .expect("stats");
        assert_eq!(province.get("judged.accept"), Some(&1));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_occupied_timeline_slot_cancels_everything() {
    bounded(120, async {
        let env = Env::start().await;
        let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
        // A foreign item sits where the judgment's third timeline entry goes (seq 7).
        env.db
            .put_item()
            .table_name(&env.table)
            .item("pk", AttributeValue::S(format!("CLUE#{}", a.clue_id)))
            .item("sk", AttributeValue::S("EV#0000000007".into()))
            .item("planted", AttributeValue::Bool(true))
            .send()
            .await
            .expect("plant");
        let before = snapshot(&env).await;
        let h = handler("land-330106");
        let result = env
            .store
            .execute(
                &a.clue_id,
                accept(),
                &as_officer(&h),
                at(3, 10),
                &key("judge"),
            )
            .await;
        assert!(result.is_err(), "{result:?}");
        assert_eq!(snapshot(&env).await, before);
        let stored = env.store.clue(&a.clue_id).await.expect("clue");
        assert_eq!(stored.clue.version, 1);
        assert_eq!(stored.clue.state, domain::ClueState::Received);
    })
    .await;
}
