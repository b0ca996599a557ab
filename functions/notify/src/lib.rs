//! `notify`: every notice reaches every reporter exactly once, verbatim, through WeChat's
//! failures. The binary (`main.rs`) is a thin SQS handler; the rules live here.
//!
//! # How a notice flows
//! 1. A producer's command owes a notice: the store writes it (outbox item, `notice_owed` on
//!    the recipient clue's timeline) in the command's transaction; after the commit the producer
//!    puts `{clue_id, notice_id}` on `notice.fifo` (group = clue, dedup id = notice id). A
//!    merged clue's reporters each get their own notice on their own clue (the domain fans out).
//! 2. `notify` reads the clue, the notice and its send-attempt record in one request, records
//!    the attempt (`sending`), sends the subscribe notification (clue number, outcome, date, a
//!    link to the H5 page with the verbatim text) and, when the 48-hour window is open, the full
//!    text as a customer-service message, then records `sent {msgid}` on the timeline and the
//!    record in one transaction. Only then is the message deleted.
//! 3. Failures: an expired token is refreshed once by the client; busy / quota / timeouts / 5xx
//!    return the message to the queue with exponential backoff (its visibility timeout), the
//!    first failure shown on the timeline; permanent refusals (not following, refused, invalid
//!    openid, blocked) are recorded `undeliverable` with the reason. After `maxReceiveCount`
//!    receives the message is in the DLQ (alarm); `infra/dev redrive` moves it back.
//! 4. Exactly once: a message whose notice is already final is acknowledged without a send; a
//!    message finding an attempt `sending` (crash between send and record) sends again and marks
//!    the delivery `possible_duplicate` — see [`store::delivery`].
//!
//! # Layout
//! - [`deliver`]: one notice — [`deliver::deliver`] over the store role [`NoticeDeliveries`],
//!   [`deliver::Sender`], [`deliver::Clock`]; the subscribe [`deliver::Template`].
//! - [`remind`]: one officer reminder to one bound officer — [`remind::deliver_reminder`] over
//!   the store role [`ReminderDeliveries`]; the reminders' [`remind::ReminderTemplate`].
//! - [`engine`]: the one delivery engine both use — a [`engine::Job`] per kind, the attempt's
//!   transitions on [`store::Attempt`].
//! - [`batch`]: one SQS batch — [`batch::Notifier`], FIFO order per clue, backoff.

pub mod batch;
pub mod deliver;
pub mod engine;
pub mod remind;
#[cfg(test)]
mod testing;

pub use batch::{Backoff, BatchReport, Notifier, SqsVisibility, Visibility};
pub use deliver::{Clock, Outcome, Sender, SystemClock, Template};
pub use remind::ReminderTemplate;
pub use store::{NoticeDeliveries, ReminderDeliveries};
