//! A reporter's new message reminds whoever handles the clue, once per unread burst.

use chrono::{DateTime, Utc};
use domain::{ClueId, Reminder};
use outbox::NoticeQueue;
use store::{ClueStore, ReminderIssuer};

/// After a reporter's message is stored: the reminder for the assigned officer (or the handling
/// bureau) in the console, pushed to WeChat for bound officers (`domain::Reminder::new_message`).
/// While the bureau has not marked the reporter's messages read, every further message gives the
/// same reminder id, which is stored once: one reminder per unread burst.
///
/// The message is already stored: a failure here is logged and leaves the unread count in the
/// inbox as the officer's signal (a WeChat push that was stored but not enqueued is enqueued by
/// the sweep's outbox part).
pub async fn remind_of_new_message<S, Q>(store: &S, queue: &Q, clue: &ClueId, now: DateTime<Utc>)
where
    S: ClueStore + ReminderIssuer,
    Q: NoticeQueue,
{
    // Read after the message: the read mark and the assignee as they are now.
    let stored = match store.clue(clue).await {
        Ok(c) => c,
        Err(e) => {
            tracing::warn!(clue = %clue, code = e.code(), "new-message reminder: clue not read");
            return;
        }
    };
    let Some(reminder) = Reminder::new_message(&stored.clue, now) else {
        return;
    };
    match store.issue_reminder(&reminder).await {
        Ok(issued) if issued.created => {
            let messages = issued.messages();
            if !messages.is_empty()
                && !outbox::enqueue_reminders_after_commit(queue, messages).await
            {
                tracing::warn!(reminder = %reminder.id, "reminder not enqueued; the sweep retries");
            }
        }
        Ok(_) => {}
        Err(e) => {
            tracing::warn!(clue = %clue, code = e.code(), "new-message reminder not issued");
        }
    }
}
