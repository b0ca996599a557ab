//! An officer binds WeChat from the official account: a signed, encrypted "绑定 <code>" push
//! with a code the console issued binds that WeChat user (reminders then reach it); retried
//! deliveries bind once; used, expired, unknown and malformed codes are refused with their
//! answers and bind nothing; a reporter's facts that start with the word stay in the chat.

mod support;

use std::collections::BTreeSet;

use chrono::{Duration, TimeZone, Utc};
use domain::deadline::DeadlineKind;
use domain::reminder::{Reminder, ReminderKind, ReminderRecipient};
use domain::wechat_binding::{BOUND_REPLY, BindingCode, BindingError};
use domain::{BureauId, ClueId, ClueNo, Officer, OfficerId, Role};
use store::roles::*;
use support::{World, text_msg};

const OFFICER_WX: &str = "oOfficerWechat00000001";
const STRANGER_WX: &str = "oStrangerWechat0000002";

fn officer() -> Officer {
    Officer {
        id: OfficerId::parse("6f1c2d3e-aaaa-bbbb-cccc-0123456789ab").expect("id"),
        bureau: BureauId::parse("land-330106").expect("bureau"),
        roles: BTreeSet::from([Role::Handler]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_officer_binds_wechat_by_sending_the_console_code_once() {
    // Arrange: the console issued a code (and an older one that expired).
    let w = World::start().await;
    let o = officer();
    let now = Utc::now();
    let code = BindingCode::from_random([3, 1, 4, 1, 5, 9, 2, 6]);
    w.env
        .store
        .issue_binding_code(&o, &code, now)
        .await
        .expect("code");
    let stale = BindingCode::from_random([2, 7, 1, 8, 2, 8, 1, 8]);
    w.env
        .store
        .issue_binding_code(&o, &stale, now - Duration::minutes(11))
        .await
        .expect("stale code");

    // Refused codes bind nothing.
    for (i, (text, why)) in [
        ("绑定", BindingError::Malformed),
        ("绑定 12", BindingError::Malformed),
        ("绑定 ZZZZZZZZ", BindingError::Unknown),
        (&*format!("绑定 {}", stale.as_str()), BindingError::Expired),
    ]
    .into_iter()
    .enumerate()
    {
        let msg = text_msg(OFFICER_WX, text, 7_000 + i64::try_from(i).expect("small"));
        let reply = w.say(&msg, OFFICER_WX).await;
        assert_eq!(reply.as_deref(), Some(why.reply()), "{text}");
    }
    assert_eq!(w.env.store.wechat_binding(&o.id).await.expect("read"), None);

    // Act: the officer sends the code (lower case, full-width space, as phones type it).
    let msg = text_msg(
        OFFICER_WX,
        &format!("绑定\u{3000}{}", code.as_str().to_lowercase()),
        7_100,
    );
    let reply = w.say(&msg, OFFICER_WX).await;
    // WeChat retries the same message: the first answer again, nothing redeemed twice.
    let retried = w.say(&msg, OFFICER_WX).await;

    // Assert
    assert_eq!(reply.as_deref(), Some(BOUND_REPLY));
    assert_eq!(retried.as_deref(), Some(BOUND_REPLY));
    let binding = w
        .env
        .store
        .wechat_binding(&o.id)
        .await
        .expect("read")
        .expect("bound");
    assert_eq!(binding.openid_masked, "oOf****0001");
    assert_eq!(binding.bureau, o.bureau);

    // The code is used: another WeChat user cannot take the binding over with it.
    let stolen = w
        .say(
            &text_msg(STRANGER_WX, &format!("绑定 {}", code.as_str()), 7_200),
            STRANGER_WX,
        )
        .await;
    assert_eq!(stolen.as_deref(), Some(BindingError::Used.reply()));

    // A reminder to the officer now goes to the WeChat that sent the code.
    let r = Reminder::new(
        ReminderRecipient::Officer {
            officer: o.id.clone(),
            bureau: o.bureau.clone(),
        },
        ClueId::parse("c-bind-1").expect("id"),
        ClueNo::parse("330106-20260310-0001").expect("no"),
        ReminderKind::DueSoon,
        DeadlineKind::Judgment,
        Utc.with_ymd_and_hms(2026, 3, 19, 15, 59, 59)
            .single()
            .expect("t"),
        now,
    );
    let issued = w.env.store.issue_reminder(&r).await.expect("issue");
    assert_eq!(issued.deliveries, std::slice::from_ref(&o.id));
    let delivery = w
        .env
        .store
        .reminder_delivery(&r.id, &o.id)
        .await
        .expect("delivery");
    assert_eq!(delivery.openid.as_deref(), Some(OFFICER_WX));

    // A reporter whose facts start with the word is in the guided chat, not binding anything.
    let chat = w
        .say(
            &text_msg(STRANGER_WX, "绑定了一块耕地建厂房", 7_300),
            STRANGER_WX,
        )
        .await
        .unwrap_or_default();
    for e in [
        BindingError::Malformed,
        BindingError::Unknown,
        BindingError::Expired,
        BindingError::Used,
    ] {
        assert_ne!(chat, e.reply());
    }
    assert_ne!(chat, BOUND_REPLY);
}
