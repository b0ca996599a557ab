//! `export`: the export worker. A job names a bulletin; the file lists every clue handled in
//! the bulletin issuer's territory and received in its period, read page by page from the inbox
//! index and written row by row ([`sheets::Export`], constant memory) into a temporary file,
//! then put in the export bucket. Progress (rows written) is recorded every [`PROGRESS_EVERY`]
//! rows; the officer API answers a presigned link once the job is ready.

use std::fs::File;
use std::io::BufWriter;
use std::path::PathBuf;

use aws_sdk_s3::primitives::ByteStream;
use chrono::{DateTime, Utc};
use chrono_tz::Asia::Shanghai;
use domain::calendar::shanghai_date;
use domain::{Bureau, Clue};
use sheets::{Cell, Export, Format};
use store::console::INBOX_STATES;
use store::exports::ExportJob;
use store::roles::*;
use store::{PageRequest, StoreError};

/// Rows between two progress records.
pub const PROGRESS_EVERY: u64 = 2_000;

/// Clues read per inbox page.
const PAGE: i32 = 500;

/// The clue list's headers.
pub const HEADERS: [&str; 8] = [
    "线索编号",
    "行政区划代码",
    "承办机关",
    "状态",
    "办结结果",
    "举报类别",
    "举报渠道",
    "收到时间",
];

/// Why a job could not be done.
#[derive(Debug, thiserror::Error)]
pub enum JobError {
    #[error("the table failed")]
    Store(#[from] StoreError),
    #[error("writing the file failed")]
    Sheet(#[from] sheets::ExportError),
    #[error("the temporary file failed")]
    Io(#[from] std::io::Error),
    #[error("the bucket failed")]
    Bucket(#[source] Box<dyn std::error::Error + Send + Sync>),
    #[error("job {0} names something that does not exist")]
    Gone(String),
}

/// What a job run needs: a store with the job, the bulletin, the directory and the inboxes.
pub struct Worker<S> {
    pub store: S,
    pub s3: aws_sdk_s3::Client,
    pub bucket: String,
    /// Where the temporary file is written (Lambda: `/tmp`).
    pub scratch: PathBuf,
}

fn row_of(
    clue: &Clue,
    bureau: &Bureau,
    export: &mut Export<BufWriter<File>>,
) -> Result<(), JobError> {
    let received = clue
        .received_at
        .with_timezone(&Shanghai)
        .format("%Y-%m-%d %H:%M")
        .to_string();
    let outcome = match &clue.state {
        domain::ClueState::Closed { outcome } => outcome.label(),
        _ => "",
    };
    let category = clue.category.stat_code();
    let division = clue.location.division.to_string();
    export.row(&[
        Cell::Text(clue.clue_no.as_str()),
        Cell::Text(&division),
        Cell::Text(&bureau.region),
        Cell::Text(clue.state.label()),
        Cell::Text(outcome),
        Cell::Text(&category),
        Cell::Text(match clue.channel {
            domain::event::Channel::H5 => "H5表单",
            domain::event::Channel::Chat => "对话",
        }),
        Cell::Text(&received),
    ])?;
    Ok(())
}

impl<S: ExportJobs + Bulletins + Directory + ClueReads> Worker<S> {
    /// Runs job `id` to its end: ready with the file, or failed. A job that already ended is
    /// left as it is (a redelivered message).
    ///
    /// # Errors
    /// Failures the queue should retry (the table or the bucket); the job stays running.
    pub async fn run(&self, id: &str, now: impl Fn() -> DateTime<Utc>) -> Result<(), JobError> {
        let Some(job) = self.store.export_job(id).await? else {
            return Err(JobError::Gone(id.to_owned()));
        };
        if matches!(
            job.status,
            store::exports::ExportStatus::Ready | store::exports::ExportStatus::Failed
        ) {
            return Ok(());
        }
        let Some((bulletin, _)) = self.store.bulletin(&job.bulletin).await? else {
            self.store.export_done(id, 0, None, now()).await?;
            return Ok(());
        };
        let bureaus = self.store.bureaus().await?;
        let Ok(issuer) = bureaus.get(&bulletin.issuer) else {
            // The issuer left the platform: nothing to list, ever.
            self.store.export_done(id, 0, None, now()).await?;
            return Ok(());
        };
        let mut territory: Vec<&Bureau> = bureaus
            .iter()
            .filter(|b| b.id == issuer.id || issuer.is_above(b))
            .collect();
        territory.sort_by(|a, b| a.id.cmp(&b.id));
        let format = Format::parse(&job.format).unwrap_or(Format::Xlsx);
        let path = self
            .scratch
            .join(format!("{}.{}", job.id, format.extension()));
        let rows = self
            .write(&job, &territory, &bulletin.period, format, &path, &now)
            .await?;
        let key = job.object_key();
        let body = ByteStream::from_path(&path)
            .await
            .map_err(|e| JobError::Bucket(Box::new(e)))?;
        let put = self
            .s3
            .put_object()
            .bucket(&self.bucket)
            .key(&key)
            .content_type(format.content_type())
            .body(body)
            .send()
            .await;
        let _ = std::fs::remove_file(&path);
        put.map_err(|e| JobError::Bucket(Box::new(e)))?;
        match self.store.export_done(id, rows, Some(&key), now()).await {
            Ok(()) | Err(StoreError::Conflict) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn write(
        &self,
        job: &ExportJob,
        territory: &[&Bureau],
        period: &domain::figures::Period,
        format: Format,
        path: &std::path::Path,
        now: &impl Fn() -> DateTime<Utc>,
    ) -> Result<u64, JobError> {
        let mut export = Export::new(format, BufWriter::new(File::create(path)?))?;
        export.sheet("线索清单", &HEADERS)?;
        let mut rows = 0u64;
        self.store.export_progress(&job.id, 0, now()).await?;
        for bureau in territory {
            for state in INBOX_STATES {
                let mut cursor = None;
                loop {
                    let page = self
                        .store
                        .inbox(
                            &bureau.id,
                            state,
                            PageRequest {
                                limit: PAGE,
                                cursor,
                            },
                        )
                        .await?;
                    for stored in &page.items {
                        let day = shanghai_date(stored.clue.received_at);
                        if period.from <= day && day <= period.to {
                            row_of(&stored.clue, bureau, &mut export)?;
                            rows += 1;
                            if rows.is_multiple_of(PROGRESS_EVERY) {
                                self.store.export_progress(&job.id, rows, now()).await?;
                            }
                        }
                    }
                    match page.next {
                        Some(next) => cursor = Some(next),
                        None => break,
                    }
                }
            }
        }
        export.finish()?;
        Ok(rows)
    }
}
