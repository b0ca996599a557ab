//! [`InMemoryClueStore`] as [`ScopeFilings`], [`Bulletins`] and [`ExportJobs`]: filed scope
//! versions and their acknowledgments, versioned bulletins with their recipients and read
//! receipts, and export jobs that never change after they ended.

use chrono::{DateTime, Utc};
use domain::bulletin::{Bulletin, BulletinId, BulletinStatus, Receipt};
use domain::scope::ScopeVersion;
use domain::{BureauId, DivisionCode, Officer, OfficerId};

use super::InMemoryClueStore;
use crate::bulletins::{MAX_LIST, Received, Written};
use crate::error::StoreError;
use crate::exports::{ExportJob, ExportStatus};
use crate::keys::instant;
use crate::scope_filing::{Acknowledgment, FiledScope};
use crate::{Bulletins, ExportJobs, ScopeFilings};

/// A recipient of an issued bulletin.
pub(super) struct Recipient {
    issued_at: DateTime<Utc>,
    read: Option<Receipt>,
}

fn filed(version: &ScopeVersion, acknowledged: Option<&Acknowledgment>) -> FiledScope {
    let notice = version.reporting_notice();
    FiledScope {
        scope: version.clone(),
        notice_version: notice.version_id,
        notice_text: notice.text,
        acknowledged: acknowledged.cloned(),
    }
}

/// The province index's sort key of a filed version.
fn filing_key(v: &ScopeVersion) -> String {
    format!("{}#{}#{:06}", instant(v.effective_from), v.city, v.version)
}

impl ScopeFilings for InMemoryClueStore {
    async fn filed_scopes(&self, city: &DivisionCode) -> Result<Vec<FiledScope>, StoreError> {
        let state = self.state();
        let mut versions: Vec<&ScopeVersion> =
            state.scopes.get(city).into_iter().flatten().collect();
        versions.sort_by_key(|v| v.version);
        Ok(versions
            .into_iter()
            .map(|v| filed(v, state.acknowledgments.get(&(*city, v.version))))
            .collect())
    }

    async fn province_filings(
        &self,
        province: &DivisionCode,
    ) -> Result<Vec<FiledScope>, StoreError> {
        let state = self.state();
        let mut versions: Vec<&ScopeVersion> = state
            .scopes
            .values()
            .flatten()
            .filter(|v| v.filing.as_ref().is_some_and(|f| f.province == *province))
            .collect();
        versions.sort_by_key(|v| std::cmp::Reverse(filing_key(v)));
        Ok(versions
            .into_iter()
            .map(|v| filed(v, state.acknowledgments.get(&(v.city, v.version))))
            .collect())
    }

    async fn acknowledge_filing(
        &self,
        city: &DivisionCode,
        version: u32,
        officer: &Officer,
        now: DateTime<Utc>,
    ) -> Result<FiledScope, StoreError> {
        let mut state = self.state();
        let Some(v) = state
            .scopes
            .get(city)
            .into_iter()
            .flatten()
            .find(|v| v.version == version && v.filing.is_some())
            .cloned()
        else {
            return Err(StoreError::NotFound(format!("scope {city} v{version}")));
        };
        let ack = state
            .acknowledgments
            .entry((*city, version))
            .or_insert_with(|| Acknowledgment {
                by: officer.id.clone(),
                at: now,
            });
        Ok(filed(&v, Some(ack)))
    }
}

impl Bulletins for InMemoryClueStore {
    async fn create_bulletin(&self, b: &Bulletin, key: &str) -> Result<Written, StoreError> {
        let mut state = self.state();
        if state.bulletins.contains_key(b.id.as_str()) {
            return Ok(Written::Replayed);
        }
        state
            .bulletins
            .insert(b.id.as_str().to_owned(), (b.clone(), key.to_owned()));
        Ok(Written::Done)
    }

    async fn bulletin(&self, id: &BulletinId) -> Result<Option<(Bulletin, String)>, StoreError> {
        Ok(self.state().bulletins.get(id.as_str()).cloned())
    }

    async fn update_bulletin(&self, b: &Bulletin, seen: u64, key: &str) -> Result<(), StoreError> {
        let mut state = self.state();
        let id = b.id.as_str().to_owned();
        match state.bulletins.get(&id) {
            Some((stored, _)) if stored.version == seen => {}
            _ => return Err(StoreError::Conflict),
        }
        if b.status == BulletinStatus::Issued {
            if b.recipients.iter().any(|to| {
                state
                    .recipients
                    .contains_key(&(id.clone(), to.as_str().to_owned()))
            }) {
                return Err(StoreError::Conflict);
            }
            let issued_at = b.issued_at.unwrap_or(b.created_at);
            for to in &b.recipients {
                state.recipients.insert(
                    (id.clone(), to.as_str().to_owned()),
                    Recipient {
                        issued_at,
                        read: None,
                    },
                );
            }
        }
        state.bulletins.insert(id, (b.clone(), key.to_owned()));
        Ok(())
    }

    async fn bulletins_of(&self, issuer: &BureauId) -> Result<Vec<Bulletin>, StoreError> {
        let state = self.state();
        let mut rows: Vec<(String, Bulletin)> = state
            .bulletins
            .values()
            .filter(|(b, _)| b.issuer == *issuer)
            .map(|(b, _)| (format!("{}#{}", instant(b.created_at), b.id), b.clone()))
            .collect();
        rows.sort_by(|a, b| b.0.cmp(&a.0));
        rows.truncate(usize::try_from(MAX_LIST).unwrap_or(100));
        Ok(rows.into_iter().map(|(_, b)| b).collect())
    }

    async fn bulletins_to(&self, bureau: &BureauId) -> Result<Vec<Received>, StoreError> {
        let state = self.state();
        let mut rows: Vec<(String, Received)> = Vec::new();
        for ((id, to), r) in &state.recipients {
            if to != bureau.as_str() {
                continue;
            }
            if let Some((bulletin, _)) = state.bulletins.get(id) {
                rows.push((
                    format!("{}#{id}", instant(r.issued_at)),
                    Received {
                        bulletin: bulletin.clone(),
                        read: r.read.clone(),
                    },
                ));
            }
        }
        rows.sort_by(|a, b| b.0.cmp(&a.0));
        rows.truncate(usize::try_from(MAX_LIST).unwrap_or(100));
        Ok(rows.into_iter().map(|(_, r)| r).collect())
    }

    async fn record_bulletin_read(
        &self,
        id: &BulletinId,
        bureau: &BureauId,
        officer: &OfficerId,
        at: DateTime<Utc>,
    ) -> Result<bool, StoreError> {
        let mut state = self.state();
        let Some(r) = state
            .recipients
            .get_mut(&(id.as_str().to_owned(), bureau.as_str().to_owned()))
        else {
            return Err(StoreError::NotFound(id.to_string()));
        };
        if r.read.is_some() {
            return Ok(false);
        }
        r.read = Some(Receipt {
            bureau: bureau.clone(),
            officer: officer.clone(),
            at,
        });
        Ok(true)
    }

    async fn bulletin_receipts(
        &self,
        id: &BulletinId,
    ) -> Result<Vec<(BureauId, Option<Receipt>)>, StoreError> {
        self.state()
            .recipients
            .iter()
            .filter(|((b, _), _)| b == id.as_str())
            .map(|((_, to), r)| {
                let bureau = BureauId::parse(to)
                    .map_err(|e| StoreError::malformed("bulletin recipient", e))?;
                Ok((bureau, r.read.clone()))
            })
            .collect()
    }
}

impl ExportJobs for InMemoryClueStore {
    async fn create_export_job(&self, job: &ExportJob) -> Result<bool, StoreError> {
        let mut state = self.state();
        if state.exports.contains_key(&job.id) {
            return Ok(false);
        }
        state.exports.insert(job.id.clone(), job.clone());
        Ok(true)
    }

    async fn export_job(&self, id: &str) -> Result<Option<ExportJob>, StoreError> {
        Ok(self.state().exports.get(id).cloned())
    }

    async fn export_progress(
        &self,
        id: &str,
        rows: u64,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        self.update_export(id, ExportStatus::Running, rows, None, now)
    }

    async fn export_done(
        &self,
        id: &str,
        rows: u64,
        file_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let status = ExportStatus::ended(file_key);
        self.update_export(id, status, rows, file_key, now)
    }
}

impl InMemoryClueStore {
    /// Moves a job that has not ended to `status`, as the table's conditional update.
    fn update_export(
        &self,
        id: &str,
        status: ExportStatus,
        rows: u64,
        file_key: Option<&str>,
        now: DateTime<Utc>,
    ) -> Result<(), StoreError> {
        let mut state = self.state();
        let job = state
            .exports
            .get_mut(id)
            .filter(|j| matches!(j.status, ExportStatus::Queued | ExportStatus::Running))
            .ok_or(StoreError::Conflict)?;
        job.status = status;
        job.rows = rows;
        job.updated_at = now;
        if let Some(k) = file_key {
            job.file_key = Some(k.to_owned());
        }
        Ok(())
    }
}
