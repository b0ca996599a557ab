//! `deadline-sweep`: runs on the template's schedule (EventBridge Scheduler).
//!
//! The schedule's input carries `<aws.scheduler.scheduled-time>`: the sweep takes that instant as
//! "now", so a run is reproducible and the local host can sweep "at a given clock". For now it
//! reports the instant it swept at; the deadlines issue fills in the work.
//!
//! # Layout
//! - [`SweepEvent`] / [`SweepReport`]: the input and the result.
//! - [`handler`].

use chrono::{DateTime, Utc};
use lambda_runtime::{Error, LambdaEvent, service_fn};
use runtime::{ConfigError, lambda_runtime, required_env};
use serde::{Deserialize, Serialize};

#[derive(Debug)]
#[expect(
    dead_code,
    reason = "read at start-up now, used by the deadlines issue"
)]
struct Config {
    table_name: String,
    notice_queue_url: String,
}

impl Config {
    fn from_env() -> Result<Self, ConfigError> {
        Ok(Self {
            table_name: required_env("TABLE_NAME")?,
            notice_queue_url: required_env("NOTICE_QUEUE_URL")?,
        })
    }
}

#[expect(
    dead_code,
    reason = "clients are created at start-up, used by the deadlines issue"
)]
struct App {
    config: Config,
    dynamodb: aws_sdk_dynamodb::Client,
    sqs: aws_sdk_sqs::Client,
}

/// The schedule's input (`Input` in template.yaml).
#[derive(Debug, Deserialize)]
struct SweepEvent {
    /// The instant the schedule fired for; absent when invoked by hand.
    scheduled_time: Option<DateTime<Utc>>,
}

#[derive(Debug, Serialize, PartialEq)]
struct SweepReport {
    swept_at: DateTime<Utc>,
    reminders: u32,
    requeued_notices: u32,
}

#[tokio::main]
async fn main() -> Result<(), Error> {
    runtime::init_tracing();
    let config = Config::from_env()?;
    let aws = runtime::aws_config().await;
    let app = App {
        config,
        dynamodb: aws_sdk_dynamodb::Client::new(&aws),
        sqs: aws_sdk_sqs::Client::new(&aws),
    };
    lambda_runtime::run(service_fn(|ev| handler(ev, &app))).await
}

async fn handler(event: LambdaEvent<SweepEvent>, _app: &App) -> Result<SweepReport, Error> {
    let report = sweep(event.payload.scheduled_time.unwrap_or_else(Utc::now));
    tracing::info!(swept_at = %report.swept_at, reminders = report.reminders, "sweep done");
    Ok(report)
}

fn sweep(now: DateTime<Utc>) -> SweepReport {
    SweepReport {
        swept_at: now,
        reminders: 0,
        requeued_notices: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_sweep_runs_at_the_scheduled_time() {
        let ev: SweepEvent =
            serde_json::from_str(r#"{"scheduled_time":"2026-10-08T01:00:00Z","execution_id":"x"}"#)
                .expect("event");
        let at = ev.scheduled_time.expect("time");
        assert_eq!(sweep(at).swept_at, at);
    }
}
