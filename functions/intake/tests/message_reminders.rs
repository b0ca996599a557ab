//! A reporter's new message reminds whoever handles the clue: the bureau (console, and WeChat
//! for its bound officers) while nobody is assigned, the assigned officer once one is; one
//! reminder per unread burst, a new one after the bureau marked the messages read.

mod support;

use std::collections::BTreeSet;

use chrono::Utc;
use domain::reminder::{ReminderKind, ReminderRecipient};
use domain::wechat_binding::BindingCode;
use domain::{Command, Officer, OfficerId, Role};
use store::roles::*;
use support::store_support::{as_officer, bid, identity, key};
use support::{World, text_msg};

const OFFICER_WX: &str = "oOfficerWechat00000009";

fn officer(id: &str, roles: &[Role]) -> Officer {
    Officer {
        id: OfficerId::parse(id).expect("id"),
        bureau: bid("land-330106"),
        roles: roles.iter().copied().collect::<BTreeSet<_>>(),
    }
}

/// The new-message reminders `o` sees, oldest first, as (recipient, text).
async fn message_reminders(w: &World, o: &Officer) -> Vec<(ReminderRecipient, String)> {
    let page = w.env.store.reminders_for(o, 100, None).await.expect("list");
    let mut out: Vec<_> = page
        .items
        .into_iter()
        .filter(|r| r.reminder.kind == ReminderKind::NewMessage)
        .map(|r| (r.reminder.recipient, r.reminder.text))
        .collect();
    out.reverse();
    out
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reporters_message_reminds_the_handler_once_per_unread_burst() {
    // Arrange: a clue of Xihu, its reporter signed in, a handler who bound WeChat, a leader.
    let w = World::start().await;
    let now = Utc::now();
    let received = w.env.receive("c-msg-1", 1, "330106", now).await;
    let clue = received.clue_id.clone();
    let me = w.sign_in(&identity(1).openid).await;
    let handler = officer("o-msg-handler", &[Role::Handler]);
    let leader = officer("o-msg-leader", &[Role::Handler, Role::Leader]);
    let code = BindingCode::from_random([4, 8, 15, 16, 23, 42, 7, 1]);
    w.env
        .store
        .issue_binding_code(&handler, &code, now)
        .await
        .expect("code");
    let bound = w
        .say(
            &text_msg(OFFICER_WX, &format!("绑定 {}", code.as_str()), 9_100),
            OFFICER_WX,
        )
        .await;
    assert!(bound.is_some(), "the binding is answered");
    let post = |text: &str| {
        w.api(
            "POST",
            &format!("/api/reporter/clues/{clue}/messages"),
            Some(&me),
            &serde_json::json!({ "text": text }).to_string(),
        )
    };
    let bureau = ReminderRecipient::Bureau {
        bureau: bid("land-330106"),
    };
    let text = format!(
        "线索 {} 的举报人发来新留言，请及时查看并回复。",
        received.clue_no
    );

    // Act: a first message
    let r = w.handle(&post("补充：现场仍在施工。"), now).await;

    // Assert: the bureau's reminder, in the console of each officer and pushed to the bound one
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        message_reminders(&w, &handler).await,
        [(bureau.clone(), text.clone())]
    );
    assert_eq!(message_reminders(&w, &leader).await.len(), 1);
    let pushes = w.core().notices.sent_reminders();
    assert_eq!(pushes.len(), 1, "{pushes:?}");
    assert_eq!(pushes[0].officer_id, handler.id);

    // Act: more messages before anyone read them
    for t in ["又来了两辆挖掘机。", "今天晚上也在施工。"] {
        let r = w.handle(&post(t), now).await;
        assert_eq!(r.status, 201, "{}", r.body);
    }

    // Assert: still one reminder, pushed once
    assert_eq!(message_reminders(&w, &handler).await.len(), 1);
    assert_eq!(w.core().notices.sent_reminders().len(), 1);

    // Act: the bureau reads the messages, then the reporter writes again
    w.env
        .store
        .execute(
            &clue,
            Command::MarkMessagesRead,
            &as_officer(&handler),
            now,
            &key("msg-read-1"),
        )
        .await
        .expect("read");
    let r = w.handle(&post("挖掘机已经离开。"), now).await;

    // Assert: a new burst, a new reminder
    assert_eq!(r.status, 201, "{}", r.body);
    assert_eq!(
        message_reminders(&w, &handler).await,
        [
            (bureau.clone(), text.clone()),
            (bureau.clone(), text.clone())
        ]
    );
    assert_eq!(w.core().notices.sent_reminders().len(), 2);

    // Act: the leader assigns the clue to the handler; the reporter writes again
    w.env
        .store
        .execute(
            &clue,
            Command::Assign {
                officer: handler.clone(),
            },
            &as_officer(&leader),
            now,
            &key("msg-assign-1"),
        )
        .await
        .expect("assign");
    let r = w.handle(&post("现场又开始施工了。"), now).await;

    // Assert: the assigned officer's own reminder; the leader does not see it
    assert_eq!(r.status, 201, "{}", r.body);
    let to_handler = ReminderRecipient::Officer {
        officer: handler.id.clone(),
        bureau: bid("land-330106"),
    };
    assert_eq!(
        message_reminders(&w, &handler).await.last(),
        Some(&(to_handler, text))
    );
    assert_eq!(message_reminders(&w, &leader).await.len(), 2);
    assert_eq!(w.core().notices.sent_reminders().len(), 3);
}
