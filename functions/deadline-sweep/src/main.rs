//! `deadline-sweep`: runs on the template's schedule (EventBridge Scheduler).
//!
//! The schedule's input carries `<aws.scheduler.scheduled-time>`: the sweep takes that instant as
//! "now", so a run is reproducible and the local host can sweep "at a given clock". The work is
//! in the library ([`deadline_sweep::sweep`]): deadlines (reminders, misses, overdue entries,
//! pending deadlines resolved) and the outbox. Each run prints the calendar warning's metric
//! line (embedded metric format, [`deadline_sweep::metric`]).

use std::time::Duration;

use chrono::{DateTime, Utc};
use deadline_sweep::{SweepReport, sweep};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use outbox::SqsNoticeQueue;
use runtime::{ConfigError, lambda_runtime, optional_env, required_env};
use serde::Deserialize;
use store::DynamoClueStore;

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

/// The schedule's input (`Input` in template.yaml).
#[derive(Debug, Deserialize)]
struct SweepEvent {
    /// The instant the schedule fired for; absent when invoked by hand.
    scheduled_time: Option<DateTime<Utc>>,
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

async fn handler(event: LambdaEvent<SweepEvent>, app: &App) -> Result<SweepReport, Error> {
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
    Ok(report)
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
    }
}
