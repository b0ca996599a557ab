//! [`InMemoryClueStore`] as [`NoticeDeliveries`]: notices' send-attempt records, conditioned on
//! the attempt as the table's writes are, and the delivery recorded on the clue's timeline.

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};
use domain::command::Rules;
use domain::event::DeliveryStatus;
use domain::{Actor, ClueId, Command, Divisions, DomainError, NoticeId, WorkingCalendar};

use super::InMemoryClueStore;
use crate::NoticeDeliveries;
use crate::delivery::{Delivery, SendAttempt};
use crate::error::StoreError;
use crate::plan::{apply_events, plan_writes};

impl NoticeDeliveries for InMemoryClueStore {
    async fn delivery(&self, clue: &ClueId, notice: &NoticeId) -> Result<Delivery, StoreError> {
        let state = self.state();
        let stored = state.clue(clue)?.clone();
        let owed = stored
            .clue
            .notice(notice)
            .cloned()
            .ok_or_else(|| StoreError::NotFound(format!("notice {notice}")))?;
        let openid = state
            .vault
            .get(clue)
            .map(|i| i.openid.clone())
            .ok_or_else(|| StoreError::NotFound(format!("identity of clue {clue}")))?;
        Ok(Delivery {
            attempt: state
                .send_attempts
                .get(&(clue.clone(), notice.as_str().to_owned()))
                .cloned(),
            stored,
            notice: owed,
            openid,
        })
    }

    async fn begin_attempt(
        &self,
        previous: Option<&SendAttempt>,
        attempt: &SendAttempt,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let key = (attempt.clue.clone(), attempt.notice.as_str().to_owned());
        let current = state.send_attempts.get(&key).map(|a| &a.attempt.attempt_id);
        if current != previous.map(|p| &p.attempt.attempt_id) {
            return Err(StoreError::Conflict);
        }
        state.send_attempts.insert(key, attempt.clone());
        Ok(())
    }

    async fn finish_attempt(
        &self,
        delivery: &Delivery,
        attempt: &SendAttempt,
        status: Option<DeliveryStatus>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let key = (attempt.clue.clone(), attempt.notice.as_str().to_owned());
        let current = state.send_attempts.get(&key).map(|a| &a.attempt.attempt_id);
        if current != Some(&attempt.attempt.attempt_id) {
            return Err(StoreError::Conflict);
        }
        if let Some(status) = status {
            let clue_id = delivery.stored.clue.id.clone();
            let stored = state.clue(&clue_id)?.clone();
            let directory = state.directory()?;
            // As the table: the delivery event counts nothing in working days.
            let rules = Rules {
                calendar: WorkingCalendar::embedded(),
                bureaus: &directory,
                divisions: Divisions::embedded(),
            };
            let command = Command::RecordDelivery {
                notice: attempt.notice.clone(),
                status,
            };
            match stored.clue.decide(&command, &Actor::System, now, &rules) {
                Err(DomainError::DeliveryFinal) => {}
                Err(e) => return Err(e.into()),
                Ok(events) => {
                    let loaded = BTreeMap::from([(clue_id, stored)]);
                    let changes = apply_events(&loaded, None, &events)?;
                    plan_writes("memory", &changes, None, Vec::new())?;
                    state.apply(changes)?;
                }
            }
        }
        state.send_attempts.insert(key, attempt.clone());
        Ok(())
    }
}
