//! [`InMemoryClueStore`] as [`Accounts`]: sign-in accounts with their failure count, lock and
//! TOTP state, single-use refresh tokens and challenges, and the audit log, with the table's
//! conditions and its whole-second expiries.

use chrono::{DateTime, NaiveDate, SubsecRound, Utc};
use domain::{Officer, OfficerId};

use super::InMemoryClueStore;
use crate::Accounts;
use crate::accounts::{Account, AuditEntry, Challenge, Failure, audit_kind};
use crate::error::StoreError;

/// A refresh token as stored.
pub(super) struct Refresh {
    officer: OfficerId,
    expires_at: i64,
    revoked: bool,
}

/// Whole seconds, as the table keeps expiries.
fn seconds(t: DateTime<Utc>) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.timestamp(), 0)
}

impl InMemoryClueStore {
    /// Changes the account of `id` with `f`; `false` without one.
    fn change_account(&self, id: &OfficerId, f: impl FnOnce(&mut Account) -> bool) -> bool {
        self.state().accounts.get_mut(id.as_str()).is_some_and(f)
    }
}

impl Accounts for InMemoryClueStore {
    async fn create_officer_account(
        &self,
        officer: &Officer,
        username: &str,
        password_hash: &str,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let id = officer.id.as_str().to_owned();
        if state.logins.contains_key(username)
            || state.officers.contains_key(&id)
            || state.accounts.contains_key(&id)
        {
            return Ok(false);
        }
        state.officers.insert(id.clone(), officer.clone());
        state.disabled.remove(&id);
        state.accounts.insert(
            id.clone(),
            Account {
                id: officer.id.clone(),
                username: username.to_owned(),
                password_hash: password_hash.to_owned(),
                must_change_password: true,
                totp_secret: None,
                totp_pending: None,
                failures: 0,
                locked_until: None,
                last_totp_step: None,
            },
        );
        state.logins.insert(username.to_owned(), officer.id.clone());
        Ok(true)
    }

    async fn account_by_username(&self, username: &str) -> Result<Option<Account>, StoreError> {
        let state = self.state();
        Ok(state
            .logins
            .get(username)
            .and_then(|id| state.accounts.get(id.as_str()))
            .cloned())
    }

    async fn account(&self, id: &OfficerId) -> Result<Option<Account>, StoreError> {
        Ok(self.state().accounts.get(id.as_str()).cloned())
    }

    async fn active_officer(&self, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
        let state = self.state();
        if state.disabled.contains(id.as_str()) {
            return Ok(None);
        }
        Ok(state.officers.get(id.as_str()).cloned())
    }

    async fn officer_of_any_state(&self, id: &OfficerId) -> Result<Option<Officer>, StoreError> {
        Ok(self.state().officers.get(id.as_str()).cloned())
    }

    async fn set_officer_disabled(
        &self,
        id: &OfficerId,
        disabled: bool,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        if !state.officers.contains_key(id.as_str()) {
            return Ok(false);
        }
        if disabled {
            state.disabled.insert(id.as_str().to_owned());
        } else {
            state.disabled.remove(id.as_str());
        }
        Ok(true)
    }

    async fn record_sign_in_failure(
        &self,
        id: &OfficerId,
        now: DateTime<Utc>,
        max: u32,
        lock_for: chrono::Duration,
    ) -> Result<Failure, StoreError> {
        let mut state = self.state();
        let account = state
            .accounts
            .get_mut(id.as_str())
            .ok_or_else(|| StoreError::NotFound(format!("account {id}")))?;
        account.failures += 1;
        if account.failures < max {
            return Ok(Failure::Counted(account.failures));
        }
        let until = now + lock_for;
        account.failures = 0;
        account.locked_until = seconds(until);
        Ok(Failure::Locked(until))
    }

    async fn record_sign_in_success(&self, id: &OfficerId, step: u64) -> Result<bool, StoreError> {
        Ok(self.change_account(id, |a| {
            if a.last_totp_step.is_some_and(|last| last >= step) {
                return false;
            }
            a.failures = 0;
            a.last_totp_step = Some(step);
            a.locked_until = None;
            true
        }))
    }

    async fn set_password(
        &self,
        id: &OfficerId,
        password_hash: &str,
        must_change: bool,
    ) -> Result<bool, StoreError> {
        Ok(self.change_account(id, |a| {
            a.password_hash = password_hash.to_owned();
            a.must_change_password = must_change;
            true
        }))
    }

    async fn set_totp_pending(&self, id: &OfficerId, secret: &str) -> Result<bool, StoreError> {
        Ok(self.change_account(id, |a| {
            a.totp_pending = Some(secret.to_owned());
            true
        }))
    }

    async fn confirm_totp(
        &self,
        id: &OfficerId,
        secret: &str,
        step: u64,
    ) -> Result<bool, StoreError> {
        Ok(self.change_account(id, |a| {
            if a.totp_pending.as_deref() != Some(secret)
                || a.last_totp_step.is_some_and(|last| last >= step)
            {
                return false;
            }
            a.totp_secret = Some(secret.to_owned());
            a.last_totp_step = Some(step);
            a.failures = 0;
            a.totp_pending = None;
            a.locked_until = None;
            true
        }))
    }

    async fn reset_totp(&self, id: &OfficerId) -> Result<bool, StoreError> {
        Ok(self.change_account(id, |a| {
            a.totp_secret = None;
            a.totp_pending = None;
            a.locked_until = None;
            a.failures = 0;
            true
        }))
    }

    async fn put_refresh_token(
        &self,
        token: &str,
        id: &OfficerId,
        expires_at: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.state().refresh_tokens.insert(
            token.to_owned(),
            Refresh {
                officer: id.clone(),
                expires_at: expires_at.timestamp(),
                revoked: false,
            },
        );
        Ok(())
    }

    async fn take_refresh_token(
        &self,
        token: &str,
        now: DateTime<Utc>,
    ) -> Result<Option<OfficerId>, StoreError> {
        let mut state = self.state();
        match state.refresh_tokens.get_mut(token) {
            Some(r) if !r.revoked && r.expires_at > now.timestamp() => {
                r.revoked = true;
                Ok(Some(r.officer.clone()))
            }
            _ => Ok(None),
        }
    }

    async fn put_challenge(&self, token: &str, challenge: &Challenge) -> Result<(), StoreError> {
        let mut stored = challenge.clone();
        stored.expires_at = seconds(challenge.expires_at)
            .ok_or_else(|| StoreError::malformed("challenge", "expires_at"))?;
        self.state().challenges.insert(token.to_owned(), stored);
        Ok(())
    }

    async fn take_challenge(&self, token: &str) -> Result<Option<Challenge>, StoreError> {
        Ok(self.state().challenges.remove(token))
    }

    async fn audit(&self, entry: &AuditEntry) -> Result<(), StoreError> {
        let mut stored = entry.clone();
        stored.at = entry.at.trunc_subsecs(3);
        stored.kind = audit_kind(entry.kind);
        self.state()
            .audit
            .entry(entry.at.date_naive())
            .or_default()
            .push(stored);
        Ok(())
    }

    async fn audit_of_day(&self, day: NaiveDate) -> Result<Vec<AuditEntry>, StoreError> {
        let mut entries = self.state().audit.get(&day).cloned().unwrap_or_default();
        entries.sort_by_key(|e| e.at);
        Ok(entries)
    }
}
