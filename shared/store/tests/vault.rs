//! The identity vault: encrypted at rest, masked by default, revealed only with an audit event.

mod support;

use domain::text::Reason;
use domain::{EventKind, Role};
use store::{StoreError, roles::*};
use support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_table_never_holds_the_identity_in_clear() {
    bounded(120, async {
        let env = Env::start().await;
        let a = env.receive("clue-a", 7, "330106", at(3, 9)).await;
        let who = identity(7);
        let items = env.scan().await;
        // Every byte of every item, as text and as raw binary.
        let mut bytes = Vec::new();
        for item in &items {
            let debug = format!("{item:?}");
            bytes.extend_from_slice(debug.as_bytes());
            for v in item.values() {
                if let Ok(b) = v.as_b() {
                    bytes.extend_from_slice(b.as_ref());
                }
            }
        }
        let haystack = String::from_utf8_lossy(&bytes);
        for secret in [
            who.openid.as_str(),
            who.phone.as_deref().expect("phone"),
            who.id_number.as_deref().expect("id"),
            who.name.as_deref().expect("name"),
        ] {
            assert!(!haystack.contains(secret), "plaintext found in the table");
        }
        // The clue itself carries only the keyed hash.
        assert!(haystack.contains(a.reporter.as_str()));

        // The masked view needs no KMS call.
        let masked = env.store.masked_identity(&a.clue_id).await.expect("masked");
        assert_eq!(masked.name.as_deref(), Some("张*"));
        assert_eq!(masked.phone.as_deref(), Some("138****0007"));
        assert_eq!(masked.id_number.as_deref(), Some("110***********002X"));
        // notify gets the openid (decrypted with the data key through KMS).
        assert_eq!(
            env.another_store()
                .recipient_openid(&a.clue_id)
                .await
                .expect("openid"),
            who.openid
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reveal_is_audited_on_the_timeline_and_refused_to_others() {
    bounded(120, async {
        let env = Env::start().await;
        let a = env.receive("clue-a", 3, "330106", at(3, 9)).await;
        let reason = Reason::parse("需电话联系举报人核实现场位置").expect("reason");

        // An officer of another bureau is refused, and nothing is written.
        let stranger = officer("yuhang-1", "land-330110", &[Role::Handler]);
        let refused = env
            .store
            .reveal(
                &a.clue_id,
                &stranger,
                reason.clone(),
                at(3, 10),
                &key("reveal-0"),
            )
            .await;
        assert!(matches!(
            refused,
            Err(StoreError::Domain(domain::DomainError::NotHandlingBureau))
        ));
        assert_eq!(
            env.store.clue(&a.clue_id).await.expect("clue").clue.version,
            1
        );

        // The handling bureau's officer (on another cold start: KMS Decrypt of the data key).
        let h = handler("land-330106");
        let other = env.another_store();
        let revealed = other
            .reveal(&a.clue_id, &h, reason.clone(), at(3, 10), &key("reveal-1"))
            .await
            .expect("reveal");
        assert_eq!(revealed, identity(3));
        let timeline = env.store.timeline(&a.clue_id).await.expect("timeline");
        let audits: Vec<_> = timeline
            .iter()
            .filter_map(|e| match &e.event.kind {
                EventKind::IdentityRevealed { officer, reason } => {
                    Some((officer.clone(), reason.clone()))
                }
                _ => None,
            })
            .collect();
        assert_eq!(audits, vec![(h.id.clone(), reason)]);
        assert!(!timeline.iter().any(|e| e.event.kind.is_public()
            && matches!(e.event.kind, EventKind::IdentityRevealed { .. })));
        env.store
            .verify_timeline(&a.clue_id)
            .await
            .expect("verifies");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_vault_data_key_decrypts_only_with_its_clue_as_encryption_context() {
    bounded(120, async {
        // Arrange: two clues filed, each with its own data key
        let env = Env::start().await;
        let a = env.receive("clue-a", 7, "330106", at(3, 9)).await;
        let b = env.receive("clue-b", 8, "330106", at(3, 9)).await;
        let items = env.scan().await;
        let edk = |clue: &str| {
            items
                .iter()
                .find(|i| {
                    i.get("type")
                        .and_then(|v| v.as_s().ok())
                        .map(String::as_str)
                        == Some("vault")
                        && i.get("pk")
                            .and_then(|v| v.as_s().ok())
                            .is_some_and(|pk| pk.ends_with(clue))
                })
                .and_then(|i| i.get("edk"))
                .and_then(|v| v.as_b().ok())
                .expect("vault item")
                .clone()
        };
        let (edk_a, edk_b) = (edk(a.clue_id.as_str()), edk(b.clue_id.as_str()));
        assert_ne!(edk_a, edk_b, "one data key per vault item");
        let decrypt = |context: Option<(&str, &str)>| {
            let req = env
                .kms
                .decrypt()
                .key_id(&env.pii_key)
                .ciphertext_blob(edk_a.clone());
            let req = match context {
                Some((k, v)) => req.encryption_context(k, v),
                None => req,
            };
            req.send()
        };

        // Act
        let without = decrypt(None).await;
        let other_clue = decrypt(Some(("clue_id", b.clue_id.as_str()))).await;
        let other_name = decrypt(Some(("officer_id", a.clue_id.as_str()))).await;
        let right = decrypt(Some(("clue_id", a.clue_id.as_str()))).await;

        // Assert: KMS (the emulator) refuses every Decrypt but the one naming the clue
        assert!(without.is_err(), "a Decrypt without the context succeeded");
        assert!(other_clue.is_err(), "another clue's context decrypted it");
        assert!(other_name.is_err(), "another context name decrypted it");
        assert_eq!(
            right
                .expect("decrypt")
                .plaintext()
                .map(|p| p.as_ref().len()),
            Some(32)
        );
        // The store reads the identity through the same context.
        assert_eq!(
            env.another_store()
                .recipient_openid(&a.clue_id)
                .await
                .expect("openid"),
            identity(7).openid
        );
    })
    .await;
}
