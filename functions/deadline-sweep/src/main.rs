//! `deadline-sweep`: runs on the template's schedule (EventBridge Scheduler).
//!
//! The schedule's input carries `<aws.scheduler.scheduled-time>`: the sweep takes that instant as
//! "now", so a run is reproducible and the local host can sweep "at a given clock". The work is
//! in the library ([`deadline_sweep::sweep`]): deadlines (reminders, misses, overdue entries,
//! pending deadlines resolved) and the outbox. Each run prints the calendar warning's metric
//! line (embedded metric format, [`deadline_sweep::metric`]).
//!
//! Invoked by hand with `{"task": "backfill_month_rollups"}`, it sets every statistics month
//! rollup to the sum of its day counters instead (once, after deploying the rollups to a stack
//! that has counters already; idempotent, safe beside running commands).

use std::time::Duration;

use chrono::{DateTime, Utc};
use deadline_sweep::{SweepReport, sweep};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use outbox::SqsNoticeQueue;
use runtime::{ConfigError, lambda_runtime, optional_env, required_env};
use serde::{Deserialize, Serialize};
use store::DynamoClueStore;
use store::statistics::RollupBackfill;

#[derive(Debug)]
struct Config {
    table_name: String,
    notice_queue_url: String,
    outbox_grace: Duration,
    /// The stack's name: the dimension of the calendar metric.
    stack_name: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        let outbox_grace = match optional_env("OUTBOX_GRACE_SECONDS") {
            None => Duration::from_secs(120),
            Some(_) => Duration::from_secs(runtime::parsed_env("OUTBOX_GRACE_SECONDS")?),
        };
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            notice_queue_url: required_env("NOTICE_QUEUE_URL")?,
            outbox_grace,
            stack_name: optional_env("STACK_NAME").unwrap_or_else(|| "local".to_owned()),
        })
    }
}

struct App {
    config: Config,
    store: DynamoClueStore,
    queue: SqsNoticeQueue,
}

/// The schedule's input (`Input` in template.yaml), or a one-off task invoked by hand.
#[derive(Debug, Deserialize)]
struct SweepEvent {
    /// The instant the schedule fired for; absent when invoked by hand.
    scheduled_time: Option<DateTime<Utc>>,
    /// A maintenance task instead of the sweep; an unknown task fails the invocation.
    #[serde(default)]
    task: Option<Task>,
}

/// One-off maintenance tasks (`{"task": "<name>"}`).
#[derive(Debug, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
enum Task {
    /// Month rollups of the statistics counters for a stack that kept day items only
    /// ([`store::DynamoClueStore::backfill_month_rollups`]); idempotent.
    BackfillMonthRollups,
}

/// What an invocation did.
#[derive(Debug, Serialize)]
#[serde(untagged)]
enum Output {
    Sweep(SweepReport),
    Backfill(RollupBackfill),
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let aws = runtime::aws_config().await;
    // The sweep reads indexes only: no identity vault, no reporter keys.
    let store = DynamoClueStore::on_table(
        aws_sdk_dynamodb::Client::new(&aws),
        config.table_name.clone(),
    );
    let queue = SqsNoticeQueue::new(
        aws_sdk_sqs::Client::new(&aws),
        config.notice_queue_url.clone(),
    );
    let app = App {
        config,
        store,
        queue,
    };
    lambda_runtime::run(service_fn(|ev| handler(ev, &app))).await
}

async fn handler(event: LambdaEvent<SweepEvent>, app: &App) -> Result<Output, Error> {
    if let Some(Task::BackfillMonthRollups) = event.payload.task {
        let report = app.store.backfill_month_rollups().await?;
        tracing::info!(
            months_checked = report.months_checked,
            months_written = report.months_written,
            "month rollups backfilled"
        );
        return Ok(Output::Backfill(report));
    }
    let now = event.payload.scheduled_time.unwrap_or_else(Utc::now);
    // Boxed: the store's futures are deep, and the runtime's layout would pass the query depth.
    let report = Box::pin(sweep(now, &app.store, &app.queue, app.config.outbox_grace)).await?;
    // The calendar warning's metric (EMF): a line of its own on stdout, as CloudWatch Logs
    // expects it.
    println!(
        "{}",
        deadline_sweep::metric::calendar_line(
            &app.config.stack_name,
            report.calendar_next_year_missing,
            now
        )
    );
    tracing::info!(
        swept_at = %report.swept_at,
        reminders = report.reminders,
        missed = report.missed,
        overdue_entries = report.overdue_entries,
        resolved = report.resolved,
        failures = report.failures,
        requeued_notices = report.requeued_notices,
        "sweep done"
    );
    Ok(Output::Sweep(report))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_runs_at_the_scheduled_time() {
        let ev: SweepEvent =
            serde_json::from_str(r#"{"scheduled_time":"2026-10-08T01:00:00Z","execution_id":"x"}"#)
                .expect("event");
        assert!(ev.scheduled_time.is_some());
        assert_eq!(ev.task, None);
    }

    #[test]
    fn a_task_is_named_and_an_unknown_one_refused() {
        let ev: SweepEvent =
            serde_json::from_str(r#"{"task":"backfill_month_rollups"}"#).expect("event");
        assert_eq!(ev.task, Some(Task::BackfillMonthRollups));
        assert!(serde_json::from_str::<SweepEvent>(r#"{"task":"drop_table"}"#).is_err());
    }
}
