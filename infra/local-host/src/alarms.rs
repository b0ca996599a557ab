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
//! default `DatapointsToAlarm`). Two kinds of metric are evaluated: `AWS/SQS` queue depth
//! (sampled from the queue), and custom metrics the functions publish in the embedded metric
//! format (EMF: a JSON line with `_aws.CloudWatchMetrics` on stdout, as CloudWatch Logs reads it):
//! the host reads those lines from the functions' output ([`EmfMetrics`]) and a sample is the
//! maximum of the values logged since the last one; a period without a value is missing data and
//! leaves the state as it is. Any other alarm is listed at start-up as not evaluated locally.

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

/// What an alarm watches.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Watched {
    /// An `AWS/SQS` queue-depth metric of the queue named `queue_name`.
    Queue {
        metric: QueueMetric,
        queue_name: String,
    },
    /// A custom metric published in the embedded metric format, with its dimensions.
    Emf {
        namespace: String,
        metric: String,
        dimensions: BTreeMap<String, String>,
    },
}

impl Watched {
    /// How the start-up listing and `GET /alarms` name it.
    pub fn describe(&self) -> String {
        match self {
            Self::Queue { metric, queue_name } => {
                format!("{} of queue {queue_name}", metric.name())
            }
            Self::Emf {
                namespace,
                metric,
                dimensions,
            } => format!("{namespace}/{metric} {dimensions:?} (embedded metric format)"),
        }
    }
}

/// One alarm of the template the host evaluates.
#[derive(Debug, Clone)]
pub struct AlarmSpec {
    pub logical_id: String,
    /// Physical `AlarmName`.
    pub name: String,
    pub watched: Watched,
    pub threshold: f64,
    pub comparison: Comparison,
    pub evaluation_periods: u32,
}

impl AlarmSpec {
    /// The spec from an alarm's resolved `Properties`; `Ok(None)` for an alarm the host cannot
    /// sample (an `AWS/*` metric other than SQS queue depth).
    ///
    /// # Errors
    /// An alarm the host cannot evaluate as written (no queue dimension, unknown operator).
    pub fn from_properties(logical_id: &str, p: &Value) -> Result<Option<Self>> {
        let namespace = p["Namespace"].as_str().unwrap_or_default();
        let metric_name = p["MetricName"].as_str().unwrap_or_default();
        let dimensions: BTreeMap<String, String> = p["Dimensions"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| {
                Some((
                    d["Name"].as_str()?.to_owned(),
                    d["Value"].as_str()?.to_owned(),
                ))
            })
            .collect();
        let watched = if namespace == "AWS/SQS" {
            let Some(metric) = QueueMetric::parse(metric_name) else {
                return Ok(None);
            };
            let queue_name = dimensions
                .get("QueueName")
                .ok_or_else(|| anyhow!("{logical_id}: an SQS alarm without a QueueName dimension"))?
                .clone();
            Watched::Queue { metric, queue_name }
        } else if namespace.is_empty() || namespace.starts_with("AWS/") || metric_name.is_empty() {
            return Ok(None);
        } else {
            Watched::Emf {
                namespace: namespace.to_owned(),
                metric: metric_name.to_owned(),
                dimensions,
            }
        };
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
            watched,
            threshold,
            comparison,
            evaluation_periods,
        }))
    }
}

/// The values functions logged in the embedded metric format since each metric's last sample,
/// by metric (namespace, name and one dimension set).
#[derive(Debug, Default)]
pub struct EmfMetrics(Mutex<BTreeMap<String, Vec<f64>>>);

fn emf_key(namespace: &str, metric: &str, dimensions: &BTreeMap<String, String>) -> String {
    format!("{namespace}\u{1f}{metric}\u{1f}{dimensions:?}")
}

impl EmfMetrics {
    /// Reads one output line of a function: every metric value of an EMF document, under each
    /// of its dimension sets. Other lines are ignored.
    pub fn observe(&self, line: &str) {
        let Ok(doc) = serde_json::from_str::<Value>(line) else {
            return;
        };
        let Some(directives) = doc["_aws"]["CloudWatchMetrics"].as_array() else {
            return;
        };
        let Ok(mut values) = self.0.lock() else {
            return;
        };
        for d in directives {
            let namespace = d["Namespace"].as_str().unwrap_or_default();
            for set in d["Dimensions"].as_array().into_iter().flatten() {
                let dimensions: Option<BTreeMap<String, String>> = set
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|n| {
                        let n = n.as_str()?;
                        Some((n.to_owned(), doc[n].as_str()?.to_owned()))
                    })
                    .collect();
                let Some(dimensions) = dimensions else {
                    continue;
                };
                for m in d["Metrics"].as_array().into_iter().flatten() {
                    let Some(name) = m["Name"].as_str() else {
                        continue;
                    };
                    if let Some(v) = number(&doc[name]) {
                        values
                            .entry(emf_key(namespace, name, &dimensions))
                            .or_default()
                            .push(v);
                    }
                }
            }
        }
    }

    /// The maximum of the values logged since the last call (`None`: no data this period).
    fn take_max(
        &self,
        namespace: &str,
        metric: &str,
        dimensions: &BTreeMap<String, String>,
    ) -> Option<f64> {
        let mut values = self.0.lock().ok()?;
        let taken = values.remove(&emf_key(namespace, metric, dimensions))?;
        taken.into_iter().reduce(f64::max)
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
    emf: Arc<EmfMetrics>,
    /// One evaluation round at a time (timer and control endpoint).
    round: tokio::sync::Mutex<()>,
}

fn stamp(t: DateTime<Utc>) -> String {
    t.to_rfc3339_opts(SecondsFormat::Secs, true)
}

impl Alarms {
    pub fn new(specs: Vec<AlarmSpec>, sqs: aws_sdk_sqs::Client, emf: Arc<EmfMetrics>) -> Self {
        let now = stamp(Utc::now());
        let states = specs
            .iter()
            .map(|s| {
                (
                    s.logical_id.clone(),
                    AlarmState {
                        logical_id: s.logical_id.clone(),
                        name: s.name.clone(),
                        queue: s.watched.describe(),
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
            emf,
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

    /// One sample: `Ok(None)` for a period without data (EMF metrics only).
    async fn sample(&self, spec: &AlarmSpec) -> Result<Option<f64>> {
        match &spec.watched {
            Watched::Queue { metric, queue_name } => {
                self.sample_queue(*metric, queue_name).await.map(Some)
            }
            Watched::Emf {
                namespace,
                metric,
                dimensions,
            } => Ok(self.emf.take_max(namespace, metric, dimensions)),
        }
    }

    async fn sample_queue(&self, metric: QueueMetric, queue_name: &str) -> Result<f64> {
        let url = self
            .sqs
            .get_queue_url()
            .queue_name(queue_name)
            .send()
            .await
            .with_context(|| format!("queue {queue_name}"))?
            .queue_url
            .ok_or_else(|| anyhow!("queue {queue_name} has no URL"))?;
        let attribute = metric.attribute();
        let out = self
            .sqs
            .get_queue_attributes()
            .queue_url(url)
            .attribute_names(attribute.clone())
            .send()
            .await
            .with_context(|| format!("attributes of {queue_name}"))?;
        let Some(v) = out.attributes.as_ref().and_then(|a| a.get(&attribute)) else {
            bail!("{queue_name} has no {}", attribute.as_str());
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
                Ok(None) => (
                    next.state,
                    format!(
                        "{}: no data point this period (state kept)",
                        spec.watched.describe()
                    ),
                ),
                Ok(Some(value)) => {
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
                            "{} = {value} ({} consecutive breaching samples of {} needed)",
                            spec.watched.describe(),
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
        assert_eq!(
            spec.watched,
            Watched::Queue {
                metric: QueueMetric::Visible,
                queue_name: "notice-dlq.fifo".into()
            }
        );
        assert_eq!(spec.evaluation_periods, 2);
        assert!(spec.comparison.breaches(1.0, spec.threshold));
        assert!(!spec.comparison.breaches(0.0, spec.threshold));
    }

    #[test]
    fn other_alarms_are_skipped_and_unevaluable_sqs_alarms_refused() {
        let lambda = json!({"Namespace": "AWS/Lambda", "MetricName": "Errors",
            "Threshold": 0, "ComparisonOperator": "GreaterThanThreshold"});
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
    fn an_emf_alarm_samples_the_maximum_logged_since_the_last_sample() {
        let p = json!({
            "AlarmName": "s-calendar", "Namespace": "12336/Deadlines",
            "MetricName": "CalendarNextYearMissing",
            "Dimensions": [{"Name": "Stack", "Value": "s"}],
            "Threshold": 1, "ComparisonOperator": "GreaterThanOrEqualToThreshold",
        });
        let spec = AlarmSpec::from_properties("C", &p)
            .expect("valid")
            .expect("emf");
        let Watched::Emf {
            namespace,
            metric,
            dimensions,
        } = &spec.watched
        else {
            panic!("an EMF alarm: {:?}", spec.watched);
        };
        let emf = EmfMetrics::default();
        let line = |stack: &str, v: u8| {
            json!({"_aws": {"Timestamp": 0, "CloudWatchMetrics": [{"Namespace": "12336/Deadlines",
                "Dimensions": [["Stack"]], "Metrics": [{"Name": "CalendarNextYearMissing"}]}]},
                "Stack": stack, "CalendarNextYearMissing": v})
            .to_string()
        };
        emf.observe(&line("s", 0));
        emf.observe(&line("s", 1));
        emf.observe(&line("other-stack", 5));
        emf.observe("not json");
        emf.observe(r#"{"level":"INFO","message":"sweep done"}"#);
        assert_eq!(emf.take_max(namespace, metric, dimensions), Some(1.0));
        assert_eq!(emf.take_max(namespace, metric, dimensions), None, "taken");
        assert!(spec.comparison.breaches(1.0, spec.threshold));
        assert!(!spec.comparison.breaches(0.0, spec.threshold));
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
