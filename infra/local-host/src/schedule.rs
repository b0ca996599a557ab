//! EventBridge Scheduler schedules: fire at their rate, or on demand (the control endpoint), with
//! the target's `Input` and its context attributes (`<aws.scheduler.scheduled-time>`…) filled in.

use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, SecondsFormat, Utc};
use serde_json::Value;

use crate::function::{Function, Invocation};
use crate::stack::ScheduleSpec;

/// `rate(5 minutes)` → 5 min. `cron(...)` and `at(...)` are fired on demand only.
pub fn rate(expression: &str) -> Option<Duration> {
    let inner = expression.strip_prefix("rate(")?.strip_suffix(')')?;
    let (n, unit) = inner.trim().split_once(' ')?;
    let n: u64 = n.parse().ok()?;
    let secs = match unit.trim() {
        "minute" | "minutes" => 60,
        "hour" | "hours" => 3600,
        "day" | "days" => 86_400,
        _ => return None,
    };
    Some(Duration::from_secs(n * secs))
}

/// The event the schedule sends for a run at `at`.
pub fn event(spec: &ScheduleSpec, at: DateTime<Utc>) -> Value {
    let Some(input) = &spec.input else {
        return Value::Object(serde_json::Map::new());
    };
    let text = input
        .replace(
            "<aws.scheduler.scheduled-time>",
            &at.to_rfc3339_opts(SecondsFormat::Secs, true),
        )
        .replace(
            "<aws.scheduler.execution-id>",
            &uuid::Uuid::new_v4().to_string(),
        )
        .replace("<aws.scheduler.attempt-number>", "1")
        .replace("<aws.scheduler.schedule-arn>", &spec.arn);
    serde_json::from_str(&text).unwrap_or(Value::String(text))
}

/// Runs the schedule's target once, as of `at`.
pub async fn fire(spec: &ScheduleSpec, function: &Function, at: DateTime<Utc>) -> Invocation {
    function
        .invoke(&event(spec, at), &format!("schedule:{}", spec.name), None)
        .await
}

/// Fires the schedule at its rate until the host stops.
pub async fn run(spec: ScheduleSpec, function: Arc<Function>) {
    let Some(period) = rate(&spec.expression).filter(|_| spec.enabled) else {
        println!(
            "[schedule] {} ({}) fires on demand only",
            spec.name, spec.expression
        );
        return;
    };
    println!(
        "[schedule] {} every {} s -> {}",
        spec.name,
        period.as_secs(),
        spec.function_logical_id
    );
    let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + period, period);
    loop {
        tick.tick().await;
        fire(&spec, &function, Utc::now()).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_are_read_like_eventbridge() {
        assert_eq!(rate("rate(5 minutes)"), Some(Duration::from_secs(300)));
        assert_eq!(rate("rate(1 hour)"), Some(Duration::from_secs(3600)));
        assert_eq!(rate("cron(0 1 * * ? *)"), None);
    }

    #[test]
    fn the_input_gets_the_scheduled_time() {
        let spec = ScheduleSpec {
            name: "s".into(),
            arn: "arn".into(),
            expression: "rate(5 minutes)".into(),
            function_logical_id: "F".into(),
            input: Some(r#"{"scheduled_time":"<aws.scheduler.scheduled-time>"}"#.into()),
            enabled: true,
        };
        let at = "2026-10-08T01:00:00Z".parse().expect("time");
        assert_eq!(event(&spec, at)["scheduled_time"], "2026-10-08T01:00:00Z");
    }
}
