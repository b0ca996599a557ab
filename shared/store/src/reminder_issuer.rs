//! The store role of a function that issues officer reminders ([`ReminderIssuer`]).

use std::future::Future;

use domain::Reminder;

use crate::dynamo::DynamoClueStore;
use crate::error::StoreError;
use crate::reminders::Issued;

/// Issues officer reminders: stored once per id, with one delivery per bound officer (see
/// [`DynamoClueStore::issue_reminder`]).
pub trait ReminderIssuer: Send + Sync {
    /// Stores `reminder` unless a reminder with its id exists; the caller enqueues
    /// [`Issued::messages`] after it.
    ///
    /// # Errors
    /// Store errors.
    fn issue_reminder(
        &self,
        reminder: &Reminder,
    ) -> impl Future<Output = Result<Issued, StoreError>> + Send;
}

impl ReminderIssuer for DynamoClueStore {
    fn issue_reminder(
        &self,
        reminder: &Reminder,
    ) -> impl Future<Output = Result<Issued, StoreError>> + Send {
        DynamoClueStore::issue_reminder(self, reminder)
    }
}
