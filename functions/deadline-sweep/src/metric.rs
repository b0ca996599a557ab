//! The calendar warning as a CloudWatch metric in the embedded metric format (EMF): one JSON
//! log line per run, which CloudWatch Logs turns into the metric the template's
//! `CalendarNextYearMissingAlarm` watches (no API call, no extra permission). The local host
//! reads the same line from the function's output and evaluates the alarm on it.

use chrono::{DateTime, Utc};
use serde_json::json;

/// The metric's namespace (the template's alarm names the same).
pub const NAMESPACE: &str = "12336/Deadlines";
/// 1 while next year has no calendar data from 1 November, else 0.
pub const CALENDAR_NEXT_YEAR_MISSING: &str = "CalendarNextYearMissing";
/// The metric's one dimension: the stack, so two stacks in one account do not mix.
pub const DIMENSION: &str = "Stack";

/// The EMF line of one run at `at` in `stack`.
pub fn calendar_line(stack: &str, missing: Option<i32>, at: DateTime<Utc>) -> String {
    json!({
        "_aws": {
            "Timestamp": at.timestamp_millis(),
            "CloudWatchMetrics": [{
                "Namespace": NAMESPACE,
                "Dimensions": [[DIMENSION]],
                "Metrics": [{"Name": CALENDAR_NEXT_YEAR_MISSING, "Unit": "Count"}],
            }],
        },
        DIMENSION: stack,
        CALENDAR_NEXT_YEAR_MISSING: u8::from(missing.is_some()),
        "missing_year": missing,
    })
    .to_string()
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;

    use super::*;

    #[test]
    fn the_line_is_an_emf_document_with_the_flag_as_the_value() {
        let at = Utc
            .with_ymd_and_hms(2026, 11, 2, 0, 0, 0)
            .single()
            .expect("t");
        let v: serde_json::Value =
            serde_json::from_str(&calendar_line("s1", Some(2027), at)).expect("json");
        assert_eq!(v["_aws"]["CloudWatchMetrics"][0]["Namespace"], NAMESPACE);
        assert_eq!(v["_aws"]["Timestamp"], at.timestamp_millis());
        assert_eq!(v[CALENDAR_NEXT_YEAR_MISSING], 1);
        assert_eq!(v["Stack"], "s1");
        let v: serde_json::Value =
            serde_json::from_str(&calendar_line("s1", None, at)).expect("json");
        assert_eq!(v[CALENDAR_NEXT_YEAR_MISSING], 0);
    }
}
