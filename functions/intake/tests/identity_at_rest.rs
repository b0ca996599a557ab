//! No identity outside the vault (issue 16, point 1): after a chat filing, an H5 filing with a
//! real name, an officer's WeChat binding and the delivery of every notice owed, no item of the
//! table holds an openid, a name, a phone or an ID number in clear (anywhere: keys, attributes,
//! nested JSON, binary values read as text), so nothing in the table links an openid to a clue
//! without the vault's KMS key.

mod support;

use std::collections::BTreeSet;

use aws_sdk_dynamodb::types::AttributeValue;
use chrono::Utc;
use domain::wechat_binding::{BOUND_REPLY, BindingCode};
use domain::{BureauId, Officer, OfficerId, Role};
use notify::{SystemClock, Template};
use secrecy::SecretString;
use serde_json::json;
use store::BindingCodes;
use support::{CHAT_TO_FACTS, World, event_msg, h5_form, text_msg};
use wechat::{ApiClient, ApiConfig, InMemoryTokenCache};
use wechat_sim::defaults;

const CHAT_OPENID: &str = "oChatLeakCheck000000000001";
const H5_OPENID: &str = "oH5LeakCheck00000000000002";
const OFFICER_OPENID: &str = "oOfficerLeakCheck000000003";
const NAME: &str = "欧阳建国";
const PHONE: &str = "13987654321";
const ID_NUMBER: &str = "11010519491231002X";

/// Every string an item holds, at any depth, binary values read as (lossy) text.
fn texts(v: &AttributeValue, out: &mut Vec<String>) {
    match v {
        AttributeValue::S(s) | AttributeValue::N(s) => out.push(s.clone()),
        AttributeValue::B(b) => out.push(String::from_utf8_lossy(b.as_ref()).into_owned()),
        AttributeValue::Ss(v) | AttributeValue::Ns(v) => out.extend(v.iter().cloned()),
        AttributeValue::Bs(v) => out.extend(
            v.iter()
                .map(|b| String::from_utf8_lossy(b.as_ref()).into_owned()),
        ),
        AttributeValue::L(l) => l.iter().for_each(|v| texts(v, out)),
        AttributeValue::M(m) => m.iter().for_each(|(k, v)| {
            out.push(k.clone());
            texts(v, out);
        }),
        _ => {}
    }
}

async fn file_by_chat(w: &World) -> String {
    w.say(
        &event_msg(CHAT_OPENID, "subscribe", None, Utc::now().timestamp()),
        CHAT_OPENID,
    )
    .await
    .expect("welcome");
    w.say_each(CHAT_OPENID, &CHAT_TO_FACTS, 500).await;
    w.say_each(CHAT_OPENID, &["完成"], 510).await;
    let receipt = w.answer(CHAT_OPENID, "同意", 520).await;
    assert!(receipt.contains("线索编号"), "{receipt}");
    // WeChat's retry of the consent gets the receipt again (from the completion record).
    let again = w.answer(CHAT_OPENID, "同意", 520).await;
    assert_eq!(again, receipt);
    receipt
}

async fn file_by_h5(w: &World) {
    let me = w.sign_in(H5_OPENID).await;
    let now = Utc::now();
    let mut form = h5_form(&w.notice_version(&me).await);
    form["address"] = json!("留下街道某村西侧农田");
    form["subject"] = json!("某石料厂");
    form["facts"] = json!("在基本农田上采石。");
    form["identity"] = json!({"name": NAME, "phone": PHONE, "id_number": ID_NUMBER});
    let req = w.post_clue(&me, &form);
    let filed = w.handle(&req, now).await;
    assert_eq!(filed.status, 201, "{}", filed.body);
}

async fn bind_officer(w: &World) {
    let officer = Officer {
        id: OfficerId::parse("6f1c2d3e-aaaa-bbbb-cccc-0123456789ac").expect("id"),
        bureau: BureauId::parse("land-330106").expect("bureau"),
        roles: [Role::Handler].into_iter().collect(),
    };
    let code = BindingCode::from_random([9, 1, 4, 1, 5, 9, 2, 6]);
    w.env
        .store
        .issue_binding_code(&officer, &code, Utc::now())
        .await
        .expect("code");
    let reply = w
        .say(
            &text_msg(OFFICER_OPENID, &format!("绑定 {}", code.as_str()), 900),
            OFFICER_OPENID,
        )
        .await;
    assert_eq!(reply.as_deref(), Some(BOUND_REPLY));
}

async fn deliver_notices(w: &World) -> usize {
    let api = ApiClient::new(
        ApiConfig::new(
            format!("{}/", w.sim).parse().expect("url"),
            defaults::APPID,
            SecretString::from(defaults::SECRET),
        ),
        InMemoryTokenCache::new(),
    )
    .expect("client");
    let template = Template {
        template_id: "tpl_clue_result".into(),
        clue_no_field: "character_string1".into(),
        outcome_field: "phrase2".into(),
        date_field: "time3".into(),
        page_url: "http://h5.local/h5/index.html#/notices/{clue}/{notice}".into(),
    };
    let messages = w.core().notices.sent();
    for m in &messages {
        let outcome = notify::deliver::deliver(&w.env.store, &api, &SystemClock, &template, m)
            .await
            .expect("delivery");
        assert!(
            !matches!(
                outcome,
                notify::Outcome::Retry { .. } | notify::Outcome::Unknown
            ),
            "{outcome:?}"
        );
    }
    messages.len()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn no_item_outside_the_vault_names_a_reporter_or_links_an_openid_to_a_clue() {
    // Arrange
    let w = World::start().await;

    // Act: every path that handles an identity writes what it writes.
    let receipt = file_by_chat(&w).await;
    file_by_h5(&w).await;
    bind_officer(&w).await;
    let delivered = deliver_notices(&w).await;

    // Assert
    assert!(delivered >= 2, "both receipts were delivered: {delivered}");
    let items = w.env.scan().await;
    let types: BTreeSet<String> = items
        .iter()
        .filter_map(|i| i.get("type").and_then(|v| v.as_s().ok()).cloned())
        .collect();
    for t in ["callback", "nonce", "vault"] {
        assert!(types.contains(t), "the scan sees {t} items: {types:?}");
    }
    let clue_no = receipt
        .split("线索编号：")
        .nth(1)
        .and_then(|s| s.lines().next())
        .expect("clue number")
        .to_owned();
    let mut leaks = Vec::new();
    for item in &items {
        let mut all = Vec::new();
        for (k, v) in item {
            all.push(k.clone());
            texts(v, &mut all);
        }
        let pk = item
            .get("pk")
            .and_then(|v| v.as_s().ok())
            .cloned()
            .unwrap_or_default();
        for secret in [
            CHAT_OPENID,
            H5_OPENID,
            OFFICER_OPENID,
            NAME,
            PHONE,
            ID_NUMBER,
        ] {
            if all.iter().any(|t| t.contains(secret)) {
                leaks.push(format!("{pk} holds {secret}"));
            }
        }
    }
    assert!(leaks.is_empty(), "identity outside the vault: {leaks:?}");
    // The clue number is on the clue's items, never next to something naming the reporter.
    assert!(
        items.iter().any(|i| i
            .values()
            .any(|v| v.as_s().is_ok_and(|s| s.contains(&clue_no)))),
        "the scan reads the clue items"
    );
}
