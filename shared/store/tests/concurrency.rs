//! Optimistic locking and idempotency under concurrency.

mod support;

use std::sync::Arc;

use domain::command::JudgmentRequest;
use domain::{Command, EventKind};
use store::{StoreError, roles::*};
use support::*;

fn accept() -> Command {
    Command::Judge {
        judgment: JudgmentRequest::Accept,
        note: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn of_twenty_racing_judgments_exactly_one_wins() {
    bounded(120, async {
        let env = Arc::new(Env::start().await);
        let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
        let before = env
            .store
            .read_stats(
                &code("330106"),
                at(3, 1).date_naive(),
                at(3, 31).date_naive(),
            )
            .await
            .expect("stats");
        assert_eq!(before.get("judged.accept"), None);

        // Twenty officers saw version 1 and press "accept" at once (each its own idempotency key,
        // each on its own cold start). The version they saw goes with the command: a task that
        // starts after the winner committed must still get a conflict, not a judgment of the
        // accepted clue (unversioned, it would read the new state and be refused as invalid).
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let env = env.clone();
                let id = a.clue_id.clone();
                tokio::spawn(async move {
                    let store = env.another_store();
                    let h = handler("land-330106");
                    store
                        .execute_if_version(
                            &id,
                            Some(1),
                            accept(),
                            &as_officer(&h),
                            at(3, 10),
                            &key(&format!("race-{i}")),
                        )
                        .await
                })
            })
            .collect();
        let mut wins = 0;
        let mut conflicts = 0;
        for t in tasks {
            match t.await.expect("task") {
                Ok(outcome) => {
                    wins += 1;
                    assert_eq!(outcome.version, 2);
                }
                Err(StoreError::Conflict) => conflicts += 1,
                Err(e) => panic!("unexpected {e:?}"),
            }
        }
        assert_eq!((wins, conflicts), (1, 19));

        let timeline = env.store.timeline(&a.clue_id).await.expect("timeline");
        let judged = timeline
            .iter()
            .filter(|e| matches!(e.event.kind, EventKind::Judged { .. }))
            .count();
        assert_eq!(judged, 1);
        env.store
            .verify_timeline(&a.clue_id)
            .await
            .expect("verifies");
        let stored = env.store.clue(&a.clue_id).await.expect("clue");
        assert_eq!(stored.clue.version, 2);
        for cell in ["330106", "330100", "330000"] {
            let stats = env
                .store
                .read_stats(&code(cell), at(3, 1).date_naive(), at(3, 31).date_naive())
                .await
                .expect("stats");
            assert_eq!(stats.get("judged.accept"), Some(&1), "{cell}");
            assert_eq!(stats.get("on_time.judgment"), Some(&1), "{cell}");
        }
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_command_replayed_five_times_concurrently_has_one_effect() {
    bounded(120, async {
        let env = Arc::new(Env::start().await);
        let a = env.receive("clue-a", 1, "330106", at(3, 9)).await;
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let env = env.clone();
                let id = a.clue_id.clone();
                tokio::spawn(async move {
                    let store = env.another_store();
                    let h = handler("land-330106");
                    store
                        .execute(&id, accept(), &as_officer(&h), at(3, 10), &key("same-key"))
                        .await
                })
            })
            .collect();
        let mut outcomes = Vec::new();
        for t in tasks {
            outcomes.push(t.await.expect("task").expect("every replay succeeds"));
        }
        assert_eq!(outcomes.iter().filter(|o| !o.replayed).count(), 1);
        let first = outcomes
            .iter()
            .find(|o| !o.replayed)
            .expect("first")
            .clone();
        for o in &outcomes {
            assert_eq!(o.events, first.events);
            assert_eq!(o.version, first.version);
        }
        assert_eq!(
            env.store.clue(&a.clue_id).await.expect("clue").clue.version,
            2
        );
        let stats = env
            .store
            .read_stats(
                &code("330106"),
                at(3, 1).date_naive(),
                at(3, 31).date_naive(),
            )
            .await
            .expect("stats");
        assert_eq!(stats.get("judged.accept"), Some(&1));
        assert_eq!(
            stats.get("notice_owed"),
            Some(&2),
            "receipt + accept, once each"
        );

        // A later replay still returns the first result; another payload under the key is refused.
        let h = handler("land-330106");
        let again = env
            .store
            .execute(
                &a.clue_id,
                accept(),
                &as_officer(&h),
                at(3, 12),
                &key("same-key"),
            )
            .await
            .expect("replay");
        assert!(again.replayed);
        assert_eq!(again.events, first.events);
        let other = Command::Escalate {
            reason: domain::text::Reason::parse("跨区域").expect("reason"),
        };
        assert!(matches!(
            env.store
                .execute(
                    &a.clue_id,
                    other,
                    &as_officer(&h),
                    at(3, 12),
                    &key("same-key")
                )
                .await,
            Err(StoreError::IdempotencyMismatch)
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_receipt_replayed_five_times_concurrently_stores_one_clue() {
    bounded(120, async {
        let env = Arc::new(Env::start().await);
        let sub = env.submission("clue-a", "330106", at(3, 9)).await;
        let tasks: Vec<_> = (0..5)
            .map(|_| {
                let env = env.clone();
                let sub = sub.clone();
                tokio::spawn(async move {
                    env.another_store()
                        .receive(sub, identity(1), at(3, 9), &key("receipt-1"))
                        .await
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.expect("task").expect("every replay succeeds"));
        }
        assert_eq!(results.iter().filter(|r| !r.replayed).count(), 1);
        let first = results.iter().find(|r| !r.replayed).expect("first");
        assert!(results.iter().all(|r| r.clue_no == first.clue_no));
        let stats = env
            .store
            .read_stats(
                &code("330106"),
                at(3, 9).date_naive(),
                at(3, 9).date_naive(),
            )
            .await
            .expect("stats");
        assert_eq!(stats.get("received"), Some(&1));
        assert_eq!(
            env.store
                .undelivered_notices(at(3, 10))
                .await
                .expect("outbox")
                .len(),
            1
        );
        let vaults = env
            .scan()
            .await
            .iter()
            .filter(|i| {
                i.get("pk")
                    .and_then(|v| v.as_s().ok())
                    .is_some_and(|p| p.starts_with("VAULT#"))
            })
            .count();
        assert_eq!(vaults, 1);

        // Another submission under the same key is refused.
        let mut other = sub.clone();
        other.clue_id = cid("clue-b");
        assert!(matches!(
            env.store
                .receive(other, identity(1), at(3, 9), &key("receipt-1"))
                .await,
            Err(StoreError::IdempotencyMismatch)
        ));
    })
    .await;
}
