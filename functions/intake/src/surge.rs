//! Surges in a county (issue 16, point 2): more than [`Surge::per_hour`] new clues in a county
//! within an hour is a surge. A surge never refuses anyone (a violator's accounts must not lock a
//! county out of reporting; each reporter keeps their own limits): each clue filed over the line
//! is marked for the bureau's review ([`store::surge`]) and logs a CloudWatch metric in the
//! embedded metric format, on which the template's `DivisionSurgeAlarm` fires.

use chrono::{DateTime, Duration, Utc};
use domain::DivisionCode;
use serde_json::json;
use store::RateLimit;

/// The metric's namespace (the template's alarm names the same).
pub const NAMESPACE: &str = "12336/Reporting";
/// 1 for each clue filed during a surge in its county.
pub const DIVISION_SURGE: &str = "DivisionSurge";
/// The metric's one dimension: the stack, so two stacks in one account do not mix.
pub const DIMENSION: &str = "Stack";
/// New clues per county and hour above which they are a surge (the template's default).
pub const DEFAULT_PER_HOUR: u32 = 300;

/// The surge line of this deployment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Surge {
    /// New clues per county in an hour before a surge.
    pub per_hour: u32,
    /// The stack name (the metric's dimension).
    pub stack: String,
}

impl Surge {
    pub fn new(per_hour: u32, stack: impl Into<String>) -> Self {
        Self {
            per_hour,
            stack: stack.into(),
        }
    }

    /// The county's hourly counter: a full window means the clue is part of a surge.
    pub fn counter(&self) -> RateLimit {
        RateLimit {
            name: "division_surge",
            max: self.per_hour,
            window: Duration::hours(1),
        }
    }

    /// The EMF line of one clue filed during a surge in `division` at `at`.
    pub fn metric_line(&self, division: &DivisionCode, at: DateTime<Utc>) -> String {
        json!({
            "_aws": {
                "Timestamp": at.timestamp_millis(),
                "CloudWatchMetrics": [{
                    "Namespace": NAMESPACE,
                    "Dimensions": [[DIMENSION]],
                    "Metrics": [{"Name": DIVISION_SURGE, "Unit": "Count"}],
                }],
            },
            DIMENSION: self.stack,
            DIVISION_SURGE: 1,
            "division": division.as_str(),
        })
        .to_string()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_line_is_an_emf_document_naming_the_county_outside_the_dimensions() {
        let s = Surge::new(3, "s1");
        let at = DateTime::from_timestamp(1_800_000_000, 0).expect("t");
        let division = DivisionCode::parse("330106").expect("code");
        let v: serde_json::Value =
            serde_json::from_str(&s.metric_line(&division, at)).expect("json");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(
            v["_aws"]["CloudWatchMetrics"][0]["Dimensions"][0][0],
            "Stack"
        );
        assert_eq!(v["Stack"], "s1");
        assert_eq!(v[DIVISION_SURGE], 1);
        assert_eq!(v["division"], "330106");
        assert_eq!(s.counter().max, 3);
    }
}
