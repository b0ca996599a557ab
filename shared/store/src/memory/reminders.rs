//! [`InMemoryClueStore`] as [`BindingCodes`], [`ReminderIssuer`] and [`Reminders`]: officers'
//! WeChat bindings and their single-use codes, reminders with one delivery per bound officer,
//! the console's list, unread count and read state, and the reminder outbox.

use chrono::{DateTime, Utc};
use domain::reminder::{Reminder, ReminderRecipient};
use domain::wechat_binding::{BindingCode, BindingError, CODE_TTL, mask_openid};
use domain::{BureauId, Officer, OfficerId, ReminderId};

use super::{InMemoryClueStore, State};
use crate::attempt::Attempt;
use crate::error::StoreError;
use crate::keys::instant;
use crate::reminders::{
    Issued, MAX_REMINDER_DELIVERIES, ReminderCursor, ReminderDeliveryStatus, ReminderOutboxEntry,
    ReminderPage, StoredReminder, recipients_of, sort_key,
};
use crate::{
    BindingCodes, ReminderAttempt, ReminderDeliveries, ReminderDelivery, ReminderIssuer, Reminders,
    WechatBinding,
};

/// A binding code as issued (the table keeps its hash; the twin needs no secrecy).
pub(super) struct BindingCodeRecord {
    officer: OfficerId,
    bureau: BureauId,
    expires: DateTime<Utc>,
    used: bool,
}

/// An officer's WeChat binding.
pub(super) struct Binding {
    pub(super) openid: String,
    bureau: BureauId,
    bound_at: DateTime<Utc>,
}

/// One officer's delivery of a reminder (its outbox entry while not final).
pub(super) struct DeliveryRecord {
    created_at: DateTime<Utc>,
    status: ReminderDeliveryStatus,
    attempt: Option<Attempt>,
}

impl State {
    /// The officers a reminder for `recipient` reaches on WeChat: those with a binding, by id.
    fn bound_officers(&self, recipient: &ReminderRecipient) -> Vec<OfficerId> {
        match recipient {
            ReminderRecipient::Officer { officer, .. } => self
                .bindings
                .contains_key(officer.as_str())
                .then(|| officer.clone())
                .into_iter()
                .collect(),
            ReminderRecipient::Bureau { bureau } => self
                .bindings
                .iter()
                .filter(|(_, b)| b.bureau == *bureau)
                .filter_map(|(id, _)| OfficerId::parse(id).ok())
                .collect(),
        }
    }

    /// The reminders of one recipient, newest first, below `cursor`.
    fn reminders_of(
        &self,
        recipient: &ReminderRecipient,
        cursor: Option<&ReminderCursor>,
    ) -> Vec<(String, StoredReminder)> {
        let code = recipient.code();
        let mut rows: Vec<(String, StoredReminder)> = self
            .reminders
            .values()
            .filter(|r| r.reminder.recipient.code() == code)
            .map(|r| (sort_key(r.reminder.created_at, &r.reminder.id), r.clone()))
            .filter(|(sk, _)| cursor.is_none_or(|c| *sk < c.0))
            .collect();
        rows.sort_by(|a, b| b.0.cmp(&a.0));
        rows
    }
}

impl BindingCodes for InMemoryClueStore {
    async fn issue_binding_code(
        &self,
        officer: &Officer,
        code: &BindingCode,
        now: DateTime<Utc>,
    ) -> Result<DateTime<Utc>, StoreError> {
        let expires = now + CODE_TTL;
        let mut state = self.state();
        if state.binding_codes.contains_key(code.as_str()) {
            return Err(StoreError::Conflict);
        }
        state.binding_codes.insert(
            code.as_str().to_owned(),
            BindingCodeRecord {
                officer: officer.id.clone(),
                bureau: officer.bureau.clone(),
                expires,
                used: false,
            },
        );
        Ok(expires)
    }

    async fn redeem_binding_code(
        &self,
        code: &BindingCode,
        openid: &str,
        now: DateTime<Utc>,
    ) -> Result<Result<OfficerId, BindingError>, StoreError> {
        let mut state = self.state();
        let Some(record) = state.binding_codes.get_mut(code.as_str()) else {
            return Ok(Err(BindingError::Unknown));
        };
        if record.used {
            return Ok(Err(BindingError::Used));
        }
        if record.expires <= now {
            return Ok(Err(BindingError::Expired));
        }
        record.used = true;
        let (officer, bureau) = (record.officer.clone(), record.bureau.clone());
        state.bindings.insert(
            officer.as_str().to_owned(),
            Binding {
                openid: openid.to_owned(),
                bureau,
                bound_at: now,
            },
        );
        Ok(Ok(officer))
    }

    async fn wechat_binding(
        &self,
        officer: &OfficerId,
    ) -> Result<Option<WechatBinding>, StoreError> {
        Ok(self
            .state()
            .bindings
            .get(officer.as_str())
            .map(|b| WechatBinding {
                officer: officer.clone(),
                bureau: b.bureau.clone(),
                openid_masked: mask_openid(&b.openid),
                bound_at: b.bound_at,
            }))
    }

    async fn unbind_wechat(&self, officer: &OfficerId) -> Result<bool, StoreError> {
        Ok(self.state().bindings.remove(officer.as_str()).is_some())
    }
}

impl ReminderIssuer for InMemoryClueStore {
    async fn issue_reminder(&self, reminder: &Reminder) -> Result<Issued, StoreError> {
        let mut state = self.state();
        let officers = state.bound_officers(&reminder.recipient);
        if officers.len() > MAX_REMINDER_DELIVERIES {
            return Err(StoreError::TooLarge {
                items: officers.len() + 1,
            });
        }
        let id = reminder.id.as_str().to_owned();
        if state.reminders.contains_key(&id) {
            return Ok(Issued {
                reminder: reminder.id.clone(),
                created: false,
                deliveries: Vec::new(),
            });
        }
        for o in &officers {
            state.reminder_deliveries.insert(
                (id.clone(), o.as_str().to_owned()),
                DeliveryRecord {
                    created_at: reminder.created_at,
                    status: ReminderDeliveryStatus::Queued,
                    attempt: None,
                },
            );
        }
        state.reminders.insert(
            id,
            StoredReminder {
                reminder: reminder.clone(),
                read_at: None,
                read_by: None,
                deliveries: officers
                    .iter()
                    .map(|o| (o.as_str().to_owned(), ReminderDeliveryStatus::Queued))
                    .collect(),
            },
        );
        Ok(Issued {
            reminder: reminder.id.clone(),
            created: true,
            deliveries: officers,
        })
    }
}

impl Reminders for InMemoryClueStore {
    async fn reminder(&self, id: &ReminderId) -> Result<Option<StoredReminder>, StoreError> {
        Ok(self.state().reminders.get(id.as_str()).cloned())
    }

    async fn reminders_for(
        &self,
        officer: &Officer,
        limit: i32,
        cursor: Option<&ReminderCursor>,
    ) -> Result<ReminderPage, StoreError> {
        let limit = usize::try_from(limit.clamp(1, 100)).unwrap_or(100);
        let state = self.state();
        let mut found = Vec::new();
        let mut more = false;
        for recipient in recipients_of(officer) {
            let mut rows = state.reminders_of(&recipient, cursor);
            more |= rows.len() > limit;
            rows.truncate(limit);
            found.extend(rows);
        }
        found.sort_by(|a, b| b.0.cmp(&a.0));
        more |= found.len() > limit;
        found.truncate(limit);
        let next = match found.last() {
            Some((sk, _)) if more => Some(ReminderCursor(sk.clone())),
            _ => None,
        };
        Ok(ReminderPage {
            items: found.into_iter().map(|(_, r)| r).collect(),
            next,
        })
    }

    async fn unread_reminders(&self, officer: &Officer) -> Result<u64, StoreError> {
        let state = self.state();
        let unread = recipients_of(officer)
            .iter()
            .flat_map(|r| state.reminders_of(r, None))
            .filter(|(_, r)| r.read_at.is_none())
            .count();
        Ok(u64::try_from(unread).unwrap_or(u64::MAX))
    }

    async fn mark_reminder_read(
        &self,
        officer: &Officer,
        id: &ReminderId,
        now: DateTime<Utc>,
    ) -> Result<StoredReminder, StoreError> {
        let mut state = self.state();
        let stored = state
            .reminders
            .get_mut(id.as_str())
            .filter(|r| r.reminder.recipient.includes(officer))
            .ok_or_else(|| StoreError::NotFound(format!("reminder {id}")))?;
        if stored.read_at.is_none() {
            stored.read_at = Some(now);
            stored.read_by = Some(officer.id.clone());
        }
        Ok(stored.clone())
    }

    async fn undelivered_reminders(
        &self,
        before: DateTime<Utc>,
    ) -> Result<Vec<ReminderOutboxEntry>, StoreError> {
        let hi = instant(before);
        let state = self.state();
        let mut rows: Vec<(String, ReminderOutboxEntry)> = Vec::new();
        for ((reminder, officer), d) in &state.reminder_deliveries {
            if d.status.is_final() {
                continue;
            }
            let sk = format!("{}#{reminder}#{officer}", instant(d.created_at));
            if sk >= hi {
                continue;
            }
            let bad = |e: domain::IdError| StoreError::malformed(format!("REMINDER#{reminder}"), e);
            rows.push((
                sk,
                ReminderOutboxEntry {
                    reminder: ReminderId::parse(reminder).map_err(bad)?,
                    officer: OfficerId::parse(officer).map_err(bad)?,
                    created_at: d.created_at,
                    attempted: d.attempt.is_some(),
                },
            ));
        }
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        Ok(rows.into_iter().map(|(_, e)| e).collect())
    }
}

impl ReminderDeliveries for InMemoryClueStore {
    async fn reminder_delivery(
        &self,
        id: &ReminderId,
        officer: &OfficerId,
    ) -> Result<ReminderDelivery, StoreError> {
        let state = self.state();
        let stored = state
            .reminders
            .get(id.as_str())
            .ok_or_else(|| StoreError::NotFound(format!("reminder {id}")))?;
        let delivery = state
            .reminder_deliveries
            .get(&(id.as_str().to_owned(), officer.as_str().to_owned()))
            .ok_or_else(|| StoreError::NotFound(format!("delivery of reminder {id}")))?;
        Ok(ReminderDelivery {
            reminder: stored.reminder.clone(),
            officer: officer.clone(),
            status: delivery.status.clone(),
            attempt: delivery.attempt.clone(),
            openid: state
                .bindings
                .get(officer.as_str())
                .map(|b| b.openid.clone()),
        })
    }

    async fn begin_reminder_attempt(
        &self,
        delivery: &ReminderDelivery,
        attempt: &ReminderAttempt,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let record = state
            .reminder_deliveries
            .get_mut(&(
                delivery.reminder.id.as_str().to_owned(),
                delivery.officer.as_str().to_owned(),
            ))
            .ok_or(StoreError::Conflict)?;
        if record.attempt.as_ref().map(|a| &a.attempt_id)
            != delivery.attempt.as_ref().map(|a| &a.attempt_id)
        {
            return Err(StoreError::Conflict);
        }
        record.attempt = Some(attempt.clone());
        Ok(())
    }

    async fn finish_reminder_attempt(
        &self,
        delivery: &ReminderDelivery,
        attempt: &ReminderAttempt,
        status: &ReminderDeliveryStatus,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let (id, officer) = (
            delivery.reminder.id.as_str().to_owned(),
            delivery.officer.as_str().to_owned(),
        );
        let record = state
            .reminder_deliveries
            .get(&(id.clone(), officer.clone()))
            .ok_or(StoreError::Conflict)?;
        if record.attempt.as_ref().map(|a| &a.attempt_id) != Some(&attempt.attempt_id)
            || !state.reminders.contains_key(&id)
        {
            return Err(StoreError::Conflict);
        }
        if let Some(record) = state
            .reminder_deliveries
            .get_mut(&(id.clone(), officer.clone()))
        {
            record.attempt = Some(attempt.clone());
            record.status = status.clone();
        }
        if let Some(stored) = state.reminders.get_mut(&id) {
            stored.deliveries.insert(officer, status.clone());
        }
        Ok(())
    }
}
