//! The JSON the console reads: a clue in a list (with its deadlines as Shanghai dates, working
//! days left and overdue flags) and a clue in full. Pure: built from stored values and `now`.

use chrono::{DateTime, NaiveDate, Utc};
use domain::calendar::{WorkingCalendar, shanghai_date};
use domain::deadline::{Deadline, DeadlineStatus};
use domain::{BureauDirectory, Clue};
use serde_json::{Value, json};

/// One deadline as the console shows it.
pub fn deadline(d: &Deadline, now: DateTime<Utc>, calendar: &WorkingCalendar) -> Value {
    let due_on = d.due.map(shanghai_date);
    let today = shanghai_date(now);
    // Working days from today to the due day: 0 on the due day, negative once past it.
    let days_left = due_on.and_then(|due| signed_working_days(calendar, today, due));
    let (status, on_time) = match d.status {
        DeadlineStatus::Open => ("open", None),
        DeadlineStatus::Met { on_time, .. } => ("met", Some(on_time)),
        DeadlineStatus::Discharged { .. } => ("discharged", None),
    };
    json!({
        "kind": d.kind.code(),
        "label": d.kind.label(),
        "bureau_id": d.bureau.as_str(),
        "starts_at": d.starts_at,
        "due": d.due,
        "due_on": due_on,
        "pending": d.is_pending(),
        "status": status,
        "on_time": on_time,
        "working_days_left": if d.is_open() { days_left } else { None },
        "overdue": d.is_overdue(now),
        "missed_at": d.missed_at,
    })
}

fn signed_working_days(cal: &WorkingCalendar, today: NaiveDate, due: NaiveDate) -> Option<i64> {
    if due >= today {
        cal.working_days_between(today, due).ok()
    } else {
        cal.working_days_between(due, today).ok().map(|n| -n)
    }
}

/// A clue as a row of the inbox.
pub fn row(clue: &Clue, now: DateTime<Utc>, calendar: &WorkingCalendar) -> Value {
    let open: Vec<Value> = clue
        .open_deadlines()
        .map(|d| deadline(d, now, calendar))
        .collect();
    let next = clue
        .open_deadlines()
        .filter(|d| d.due.is_some())
        .min_by_key(|d| d.due);
    json!({
        "id": clue.id.as_str(),
        "clue_no": clue.clue_no.as_str(),
        "state": clue.state.code(),
        "state_label": clue.state.label(),
        "outcome": outcome(clue),
        "handler": clue.handler.as_str(),
        "division": clue.location.division.as_str(),
        "address": clue.location.address.as_str(),
        "subject": clue.subject.as_ref().map(|s| s.as_str()),
        "category": clue.category.stat_code(),
        "channel": clue.channel,
        "received_at": clue.received_at,
        "received_on": clue.received_on(),
        "updated_at": clue.updated_at,
        "version": clue.version,
        "deadlines": open,
        "next_deadline": next.map(|d| deadline(d, now, calendar)),
        "overdue": clue.open_deadlines().any(|d| d.is_overdue(now)),
        "supervised": clue.open_supervision().is_some(),
        "supervision": clue.open_supervision().map(|s| json!({
            "by": s.by.as_str(), "due_on": s.due_on, "answers": s.answers.len(),
        })),
        "unread_messages": clue.unread_messages(),
        "assignee": clue.assignee.as_ref().map(|a| a.as_str()),
    })
}

fn outcome(clue: &Clue) -> Option<&'static str> {
    match &clue.state {
        domain::ClueState::Closed { outcome } => Some(outcome.code()),
        _ => None,
    }
}

/// A supervision as stored, with the supervising bureau's name (`by_name`) beside its id.
pub fn supervision(s: &domain::supervision::SupervisionRecord, bureaus: &BureauDirectory) -> Value {
    let mut v = serde_json::to_value(s).unwrap_or(Value::Null);
    if let Value::Object(m) = &mut v {
        m.insert(
            "by_name".to_owned(),
            bureaus
                .get(&s.by)
                .map_or(Value::Null, |b| Value::String(b.name.clone())),
        );
    }
    v
}

/// A clue in full (everything but the reporter's identity and the timeline, which the caller
/// adds).
pub fn detail(
    clue: &Clue,
    now: DateTime<Utc>,
    calendar: &WorkingCalendar,
    bureaus: &BureauDirectory,
) -> Value {
    let name = |id: &domain::BureauId| bureaus.get(id).map(|b| b.name.clone()).ok();
    let mut v = row(clue, now, calendar);
    let extra = json!({
        "handler_name": name(&clue.handler),
        "facts": clue.facts.as_str(),
        "gps": clue.location.gps,
        "category_label": category_label(&clue.category),
        "notice_version": clue.notice_version,
        "real_name": clue.real_name,
        "designated": clue.designated,
        "judgment": clue.judgment,
        "verification": clue.verification.map(|(result, ended_on)| json!({
            "result": result.code(), "ended_on": ended_on
        })),
        "transfers": clue.transfers,
        "members": clue.members.iter().map(|m| json!({
            "clue_id": m.clue.as_str(), "clue_no": m.clue_no.as_str(), "received_at": m.received_at
        })).collect::<Vec<_>>(),
        "merged_into": match &clue.state {
            domain::ClueState::Merged { primary } => Some(primary.as_str()),
            _ => None,
        },
        "supervisions": clue.supervisions.iter().map(|s| supervision(s, bureaus)).collect::<Vec<_>>(),
        "resubmission_of": clue.resubmission_of.as_ref().map(|c| c.as_str()),
        "resubmitted_as": clue.resubmitted_as.as_ref().map(|c| c.as_str()),
        "all_deadlines": clue.deadlines.iter().map(|d| deadline(d, now, calendar)).collect::<Vec<_>>(),
        "notices": clue.notices.iter().map(|n| json!({
            "id": n.record.id.as_str(),
            "key": n.record.key(),
            "text": n.record.text,
            "owed_at": n.owed_at,
            "delivery": n.delivery,
        })).collect::<Vec<_>>(),
        "evidence_left_out": clue.evidence_left_out,
    });
    if let (Value::Object(base), Value::Object(more)) = (&mut v, extra) {
        base.extend(more);
    }
    v
}

fn category_label(c: &domain::scope::CategoryChoice) -> String {
    match c {
        domain::scope::CategoryChoice::Annex(cat) => cat.name().to_owned(),
        domain::scope::CategoryChoice::CityExtra(code) => code.clone(),
        domain::scope::CategoryChoice::Uncertain => {
            domain::scope::CategoryChoice::UNCERTAIN_LABEL.to_owned()
        }
    }
}
