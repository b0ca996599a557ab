//! Tampering done directly in the table is found by `verify_timeline`.

mod support;

use aws_sdk_dynamodb::types::AttributeValue;
use domain::timeline::TimelineError;
use domain::{Command, text::MessageText};
use store::{StoreError, roles::*};
use support::*;

/// A clue with a timeline of 7 entries: receipt (4) and three messages.
async fn clue_with_messages(env: &Env) -> domain::ClueId {
    let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
    let reporter = domain::Actor::Reporter {
        reporter: a.reporter.clone(),
    };
    for i in 0..3 {
        env.store
            .execute(
                &a.clue_id,
                Command::PostMessage {
                    text: MessageText::parse(&format!("补充说明{i}")).expect("text"),
                },
                &reporter,
                at(3, 10),
                &key(&format!("m{i}")),
            )
            .await
            .expect("message");
    }
    assert_eq!(
        env.store
            .verify_timeline(&a.clue_id)
            .await
            .expect("verifies")
            .seq,
        7
    );
    a.clue_id
}

fn ev_key(clue: &domain::ClueId, seq: u64) -> std::collections::HashMap<String, AttributeValue> {
    std::collections::HashMap::from([
        ("pk".to_owned(), AttributeValue::S(format!("CLUE#{clue}"))),
        ("sk".to_owned(), AttributeValue::S(format!("EV#{seq:010}"))),
    ])
}

async fn get_event(
    env: &Env,
    clue: &domain::ClueId,
    seq: u64,
) -> std::collections::HashMap<String, AttributeValue> {
    env.db
        .get_item()
        .table_name(&env.table)
        .set_key(Some(ev_key(clue, seq)))
        .send()
        .await
        .expect("get")
        .item
        .expect("entry")
}

async fn set_event_json(env: &Env, clue: &domain::ClueId, seq: u64, json: String) {
    env.db
        .update_item()
        .table_name(&env.table)
        .set_key(Some(ev_key(clue, seq)))
        .update_expression("SET #e = :e")
        .expression_attribute_names("#e", "event")
        .expression_attribute_values(":e", AttributeValue::S(json))
        .send()
        .await
        .expect("tamper");
}

fn tampered(r: Result<domain::timeline::Head, StoreError>) -> TimelineError {
    match r {
        Err(StoreError::Tampered { source, .. }) => source,
        other => panic!("expected tampering to be found, got {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_edited_entry_is_found() {
    bounded(120, async {
        let env = Env::start().await;
        let clue = clue_with_messages(&env).await;
        let item = get_event(&env, &clue, 6).await;
        let json = item["event"]
            .as_s()
            .expect("json")
            .replace("补充说明1", "改过的说明");
        set_event_json(&env, &clue, 6, json).await;
        assert_eq!(
            tampered(env.store.verify_timeline(&clue).await),
            TimelineError::Tampered { seq: 6 }
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_deleted_entry_is_found_even_the_newest() {
    bounded(120, async {
        let env = Env::start().await;
        let clue = clue_with_messages(&env).await;
        for seq in [7, 3] {
            env.db
                .delete_item()
                .table_name(&env.table)
                .set_key(Some(ev_key(&clue, seq)))
                .send()
                .await
                .expect("delete");
            let found = tampered(env.store.verify_timeline(&clue).await);
            match seq {
                7 => assert_eq!(
                    found,
                    TimelineError::HeadMismatch {
                        head_seq: 7,
                        found_seq: 6
                    }
                ),
                _ => assert!(matches!(found, TimelineError::Sequence { .. }), "{found:?}"),
            }
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn reordered_entries_are_found() {
    bounded(120, async {
        let env = Env::start().await;
        let clue = clue_with_messages(&env).await;
        // Swap the content of entries 5 and 6 (hashes and all), keeping their keys.
        let five = get_event(&env, &clue, 5).await;
        let six = get_event(&env, &clue, 6).await;
        for (seq, from) in [(5u64, &six), (6, &five)] {
            let mut item = from.clone();
            item.insert("sk".into(), AttributeValue::S(format!("EV#{seq:010}")));
            env.db
                .put_item()
                .table_name(&env.table)
                .set_item(Some(item))
                .send()
                .await
                .expect("put");
        }
        assert!(matches!(
            tampered(env.store.verify_timeline(&clue).await),
            TimelineError::Sequence { .. } | TimelineError::BrokenLink { .. }
        ));
    })
    .await;
}
