//! CloudWatch alarms on SQS queue metrics, evaluated locally: the emulator stores the template's
//! alarms (deploy.py creates them) but never evaluates them, so the host samples each alarm's
//! queue metric and compares it with the threshold, as CloudWatch would. A change of state is
//! printed (`[alarm] <name> OK -> ALARM: …`), and the states are on the control endpoint
//! (`GET /alarms`, `POST /alarms/evaluate`). The state is the host's own: moto 5.2 does not
//! route the CloudWatch protocol of the Rust SDK (rpc-v2-cbor; it answers 404), so it is not
//! written back into the emulator's alarm.
//!
//! Time is compressed: one sample every `--alarm-interval` stands for one of the alarm's periods,
//! and the alarm breaches after `EvaluationPeriods` consecutive breaching samples (CloudWatch's
//! default `DatapointsToAlarm`). Only `AWS/SQS` queue-depth metrics are evaluated; any other alarm
//! is listed at start-up as not evaluated locally.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use anyhow::{Context, Result, anyhow, bail};
use aws_sdk_sqs::types::QueueAttributeName;
use chrono::{DateTime, SecondsFormat, Utc};
use serde::Serialize;
use serde_json::Value;

/// A queue-depth metric of `AWS/SQS`, as an SQS queue attribute.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum QueueMetric {
    Visible,
    NotVisible,
    Delayed,
}

impl QueueMetric {
    /// The metric named `name`, if it is one the host can sample.
    pub fn parse(name: &str) -> Option<Self> {
        match name {
            "ApproximateNumberOfMessagesVisible" => Some(Self::Visible),
            "ApproximateNumberOfMessagesNotVisible" => Some(Self::NotVisible),
            "ApproximateNumberOfMessagesDelayed" => Some(Self::Delayed),
            _ => None,
        }
    }

    /// The CloudWatch metric name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Visible => "ApproximateNumberOfMessagesVisible",
            Self::NotVisible => "ApproximateNumberOfMessagesNotVisible",
            Self::Delayed => "ApproximateNumberOfMessagesDelayed",
        }
    }

    fn attribute(self) -> QueueAttributeName {
        match self {
            Self::Visible => QueueAttributeName::ApproximateNumberOfMessages,
            Self::NotVisible => QueueAttributeName::ApproximateNumberOfMessagesNotVisible,
            Self::Delayed => QueueAttributeName::ApproximateNumberOfMessagesDelayed,
        }
    }
}

/// `ComparisonOperator` of a static-threshold alarm.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Comparison {
    Greater,
    GreaterOrEqual,
    Less,
    LessOrEqual,
}

impl Comparison {
    pub fn parse(op: &str) -> Option<Self> {
        match op {
            "GreaterThanThreshold" => Some(Self::Greater),
            "GreaterThanOrEqualToThreshold" => Some(Self::GreaterOrEqual),
            "LessThanThreshold" => Some(Self::Less),
            "LessThanOrEqualToThreshold" => Some(Self::LessOrEqual),
            _ => None,
        }
    }

    /// Whether `value` breaches `threshold`.
    pub fn breaches(self, value: f64, threshold: f64) -> bool {
        match self {
            Self::Greater => value > threshold,
            Self::GreaterOrEqual => value >= threshold,
            Self::Less => value < threshold,
            Self::LessOrEqual => value <= threshold,
        }
    }
}

/// One alarm of the template the host evaluates.
#[derive(Debug, Clone)]
pub struct AlarmSpec {
    pub logical_id: String,
    /// Physical `AlarmName`.
    pub name: String,
    pub metric: QueueMetric,
    pub queue_name: String,
    pub threshold: f64,
    pub comparison: Comparison,
    pub evaluation_periods: u32,
}

impl AlarmSpec {
    /// The spec from an alarm's resolved `Properties`; `Ok(None)` for an alarm on something
    /// other than an SQS queue's depth (not evaluated locally).
    ///
    /// # Errors
    /// An SQS alarm the host cannot evaluate as written (no queue dimension, unknown operator).
    pub fn from_properties(logical_id: &str, p: &Value) -> Result<Option<Self>> {
        let Some(metric) = (p["Namespace"] == "AWS/SQS")
            .then(|| p["MetricName"].as_str().and_then(QueueMetric::parse))
            .flatten()
        else {
            return Ok(None);
        };
        let queue_name = p["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|d| d["Name"] == "QueueName")
            .and_then(|d| d["Value"].as_str())
            .ok_or_else(|| anyhow!("{logical_id}: an SQS alarm without a QueueName dimension"))?
            .to_owned();
        let op = p["ComparisonOperator"].as_str().unwrap_or_default();
        let comparison = Comparison::parse(op)
            .ok_or_else(|| anyhow!("{logical_id}: comparison {op:?} is not evaluated locally"))?;
        let threshold =
            number(&p["Threshold"]).ok_or_else(|| anyhow!("{logical_id}: no numeric Threshold"))?;
        let evaluation_periods = number(&p["EvaluationPeriods"]).unwrap_or(1.0).max(1.0) as u32;
        let name = p["AlarmName"]
            .as_str()
            .map_or_else(|| logical_id.to_owned(), str::to_owned);
        Ok(Some(Self {
            logical_id: logical_id.to_owned(),
            name,
            metric,
            queue_name,
            threshold,
            comparison,
            evaluation_periods,
        }))
    }
}

/// A number, or a string holding one (CloudFormation passes both).
fn number(v: &Value) -> Option<f64> {
    v.as_f64().or_else(|| v.as_str()?.trim().parse().ok())
}

/// An alarm's state as last evaluated.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct AlarmState {
    pub logical_id: String,
    pub name: String,
    pub queue: String,
    /// `OK`, `ALARM` or `INSUFFICIENT_DATA` (before the first sample, or when sampling fails).
    pub state: &'static str,
    pub value: Option<f64>,
    pub reason: String,
    pub since: String,
    /// Consecutive breaching samples.
    #[serde(skip)]
    breaching: u32,
}

/// The alarms the host evaluates, their states, and the clients to do it.
pub struct Alarms {
    specs: Vec<AlarmSpec>,
    states: Mutex<BTreeMap<String, AlarmState>>,
    sqs: aws_sdk_sqs::Client,
    /// One evaluation round at a time (timer and control endpoint).
    round: tokio::sync::Mutex<()>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Alarms {
    pub fn new(specs: Vec<AlarmSpec>, sqs: aws_sdk_sqs::Client) -> Self {
        let now = stamp(Utc::now());
        let states = specs
            .iter()
            .map(|s| {
                (
                    s.logical_id.clone(),
                    AlarmState {
                        logical_id: s.logical_id.clone(),
                        name: s.name.clone(),
                        queue: s.queue_name.clone(),
                        state: "INSUFFICIENT_DATA",
                        value: None,
                        reason: "not evaluated yet".into(),
                        since: now.clone(),
                        breaching: 0,
                    },
                )
            })
            .collect();
        Self {
            specs,
            states: Mutex::new(states),
            sqs,
            round: tokio::sync::Mutex::new(()),
        }
    }

    /// The states as last evaluated, by logical id.
    pub fn states(&self) -> Vec<AlarmState> {
        self.states
            .lock()
            .map(|s| s.values().cloned().collect())
            .unwrap_or_default()
    }

    async fn sample(&self, spec: &AlarmSpec) -> Result<f64> {
        let url = self
            .sqs
            .get_queue_url()
            .queue_name(&spec.queue_name)
            .send()
            .await
            .with_context(|| format!("queue {}", spec.queue_name))?
            .queue_url
            .ok_or_else(|| anyhow!("queue {} has no URL", spec.queue_name))?;
        let attribute = spec.metric.attribute();
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(attribute.clone())
            .send()
            .await
            .with_context(|| format!("attributes of {}", spec.queue_name))?;
        let Some(v) = out.attributes.as_ref().and_then(|a| a.get(&attribute)) else {
            bail!("{} has no {}", spec.queue_name, attribute.as_str());
        };
        v.parse::<f64>()
            .with_context(|| format!("{} = {v:?}", attribute.as_str()))
    }

    /// One evaluation round: samples every alarm and moves those whose sample says so to their
    /// new state. Returns the states after the round.
    pub async fn evaluate(&self) -> Vec<AlarmState> {
        let _round = self.round.lock().await;
        for spec in &self.specs {
            let sample = self.sample(spec).await;
            let previous = match self.states.lock() {
                Ok(s) => s.get(&spec.logical_id).cloned(),
                Err(_) => None,
            };
            let Some(mut next) = previous.clone() else {
                continue;
            };
            let (state, reason) = match &sample {
                Ok(value) => {
                    next.value = Some(*value);
                    if spec.comparison.breaches(*value, spec.threshold) {
                        next.breaching = next.breaching.saturating_add(1);
                    } else {
                        next.breaching = 0;
                    }
                    let alarm = next.breaching >= spec.evaluation_periods;
                    (
                        if alarm { "ALARM" } else { "OK" },
                        format!(
                            "{} of {} = {value} ({} consecutive breaching samples of {} needed)",
                            spec.metric.name(),
                            spec.queue_name,
                            next.breaching,
                            spec.evaluation_periods
                        ),
                    )
                }
                Err(e) => {
                    next.value = None;
                    next.breaching = 0;
                    ("INSUFFICIENT_DATA", format!("no sample: {e:#}"))
                }
            };
            next.reason = reason;
            if next.state != state {
                println!(
                    "[alarm] {} {} -> {state}: {}",
                    spec.name, next.state, next.reason
                );
                next.state = state;
                next.since = stamp(Utc::now());
            }
            if let Ok(mut s) = self.states.lock() {
                s.insert(spec.logical_id.clone(), next);
            }
        }
        self.states()
    }

    /// Evaluates every `every` until the host stops.
    pub async fn run(self: Arc<Self>, every: Duration) {
        let mut tick = tokio::time::interval(every);
        tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
        loop {
            tick.tick().await;
            self.evaluate().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn a_dead_letter_queue_alarm_is_read_from_its_properties() {
        let p = json!({
            "AlarmName": "s-notice-dlq-not-empty", "Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible",
            "Dimensions": [{"Name": "QueueName", "Value": "notice-dlq.fifo"}],
            "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold",
            "EvaluationPeriods": "2",
        });
        let spec = AlarmSpec::from_properties("A", &p)
            .expect("valid")
            .expect("sqs");
        assert_eq!(spec.name, "s-notice-dlq-not-empty");
        assert_eq!(spec.queue_name, "notice-dlq.fifo");
        assert_eq!(spec.metric, QueueMetric::Visible);
        assert_eq!(spec.evaluation_periods, 2);
        assert!(spec.comparison.breaches(1.0, spec.threshold));
        assert!(!spec.comparison.breaches(0.0, spec.threshold));
    }

    #[test]
    fn other_alarms_are_skipped_and_unevaluable_sqs_alarms_refused() {
        let lambda = json!({"Namespace": "AWS/Lambda", "MetricName": "Errors"});
        assert!(
            AlarmSpec::from_properties("L", &lambda)
                .expect("ok")
                .is_none()
        );
        let no_queue = json!({"Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0,
            "ComparisonOperator": "GreaterThanThreshold"});
        assert!(AlarmSpec::from_properties("Q", &no_queue).is_err());
        let anomaly = json!({"Namespace": "AWS/SQS",
            "MetricName": "ApproximateNumberOfMessagesVisible", "Threshold": 0,
            "Dimensions": [{"Name": "QueueName", "Value": "q"}],
            "ComparisonOperator": "LessThanLowerOrGreaterThanUpperThreshold"});
        assert!(AlarmSpec::from_properties("Q", &anomaly).is_err());
    }

    #[test]
    fn comparisons_follow_cloudwatch() {
        assert!(Comparison::GreaterOrEqual.breaches(1.0, 1.0));
        assert!(!Comparison::Greater.breaches(1.0, 1.0));
        assert!(Comparison::LessOrEqual.breaches(1.0, 1.0));
        assert!(Comparison::Less.breaches(0.0, 1.0));
        assert!(!Comparison::Less.breaches(1.0, 1.0));
    }
}
