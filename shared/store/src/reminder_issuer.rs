//! The store role of a function that issues officer reminders ([`ReminderIssuer`]).

use std::future::Future;

use domain::Reminder;

use crate::error::StoreError;
use crate::reminders::Issued;

/// Issues officer reminders: stored once per id, with one delivery (outbox) entry per officer of
/// the recipient who bound WeChat, all at once. The same reminder issued again (same id) writes
/// nothing and returns `created: false`.
pub trait ReminderIssuer: Send + Sync {
    /// Stores `reminder` unless a reminder with its id exists; the caller enqueues
    /// [`Issued::messages`] after it (a lost enqueue is found by the sweep through
    /// [`crate::Reminders::undelivered_reminders`]).
    ///
    /// # Errors
    /// [`StoreError::TooLarge`] past [`crate::reminders::MAX_REMINDER_DELIVERIES`] bound
    /// officers; store errors.
    fn issue_reminder(
        &self,
        reminder: &Reminder,
    ) -> impl Future<Output = Result<Issued, StoreError>> + Send;
}
