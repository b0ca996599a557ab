//! Officer reminders (WORKFLOW.md §10): one working day before a deadline to the handling
//! officers; once overdue, to them and to the supervising bureau; and a reporter's new message
//! to whoever handles the clue. Pure: who, about which clue, which deadline, the stable id and
//! the Chinese text. *When* to remind is the sweep's (or the message's) decision.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::actor::Officer;
use crate::bureau::BureauId;
use crate::calendar::shanghai_date;
use crate::clue::Clue;
use crate::deadline::DeadlineKind;
use crate::ids::{ClueId, ClueNo, OfficerId, ReminderId};
use crate::notice::format_date;

/// Who a reminder is for.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum ReminderRecipient {
    /// The handling officers of a bureau (every officer of it sees it in the console).
    Bureau { bureau: BureauId },
    /// One officer (of `bureau`); only that officer sees it.
    Officer {
        officer: OfficerId,
        bureau: BureauId,
    },
}

impl ReminderRecipient {
    /// The bureau the recipient belongs to.
    pub fn bureau(&self) -> &BureauId {
        match self {
            Self::Bureau { bureau } | Self::Officer { bureau, .. } => bureau,
        }
    }

    /// Whether `officer` may see (and mark) a reminder for this recipient.
    pub fn includes(&self, officer: &Officer) -> bool {
        match self {
            Self::Bureau { bureau } => officer.bureau == *bureau,
            Self::Officer {
                officer: id,
                bureau,
            } => officer.id == *id && officer.bureau == *bureau,
        }
    }

    /// Stable text of the recipient, for ids and keys (`bureau:<id>` / `officer:<sub>`).
    pub fn code(&self) -> String {
        match self {
            Self::Bureau { bureau } => format!("bureau:{bureau}"),
            Self::Officer { officer, .. } => format!("officer:{officer}"),
        }
    }
}

/// Why the reminder is sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderKind {
    /// One working day before the due day, to the handling officers.
    DueSoon,
    /// The deadline passed unmet, to the handling officers.
    Overdue,
    /// The deadline passed unmet, to the supervising bureau (督办).
    Supervision,
    /// The reporter posted a message the handling bureau has not read (one per unread burst).
    NewMessage,
}

impl ReminderKind {
    /// Stable code for ids and the API.
    pub fn code(self) -> &'static str {
        match self {
            Self::DueSoon => "due_soon",
            Self::Overdue => "overdue",
            Self::Supervision => "supervision",
            Self::NewMessage => "new_message",
        }
    }

    /// The short Chinese label (a subscribe-message field: at most 5 characters).
    pub fn label(self) -> &'static str {
        match self {
            Self::DueSoon => "即将到期",
            Self::Overdue => "已逾期",
            Self::Supervision => "逾期督办",
            Self::NewMessage => "新留言",
        }
    }
}

/// One reminder about one deadline of one clue, for one recipient.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Reminder {
    /// Stable: the same clue, deadline, recipient and kind always give the same id.
    pub id: ReminderId,
    pub recipient: ReminderRecipient,
    pub clue: ClueId,
    pub clue_no: ClueNo,
    pub kind: ReminderKind,
    /// The deadline it is about; `None` for a [`ReminderKind::NewMessage`].
    pub deadline: Option<DeadlineKind>,
    /// The deadline's due instant; `None` for a [`ReminderKind::NewMessage`].
    pub due: Option<DateTime<Utc>>,
    pub created_at: DateTime<Utc>,
    /// The text shown in the console and sent to WeChat.
    pub text: String,
}

impl Reminder {
    /// The reminder of `kind` about the `deadline` of `clue` (due at `due`) for `recipient`,
    /// created at `now`.
    pub fn new(
        recipient: ReminderRecipient,
        clue: ClueId,
        clue_no: ClueNo,
        kind: ReminderKind,
        deadline: DeadlineKind,
        due: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Self {
        let id = reminder_id(&clue, deadline, due, &recipient, kind);
        let text = render(&clue_no, kind, deadline, due);
        Self {
            id,
            recipient,
            clue,
            clue_no,
            kind,
            deadline: Some(deadline),
            due: Some(due),
            created_at: now,
            text,
        }
    }

    /// The reminder that the reporter of `clue` wrote messages the handling bureau has not read,
    /// for the assigned officer (when the handling bureau assigned one) or else the bureau;
    /// `None` when nothing is unread. Its id is stable for one unread burst: every message
    /// posted before the bureau marks the messages read gives the same reminder (issued once),
    /// the first message after that a new one.
    pub fn new_message(clue: &Clue, now: DateTime<Utc>) -> Option<Self> {
        if clue.unread_messages() == 0 {
            return None;
        }
        let recipient = match &clue.assignee {
            Some(officer) => ReminderRecipient::Officer {
                officer: officer.clone(),
                bureau: clue.handler.clone(),
            },
            None => ReminderRecipient::Bureau {
                bureau: clue.handler.clone(),
            },
        };
        let id = hashed_id(&[
            clue.id.as_str(),
            ReminderKind::NewMessage.code(),
            &clue.reporter_messages_read.to_string(),
            &recipient.code(),
        ]);
        Some(Self {
            id,
            text: new_message_text(&clue.clue_no),
            recipient,
            clue: clue.id.clone(),
            clue_no: clue.clue_no.clone(),
            kind: ReminderKind::NewMessage,
            deadline: None,
            due: None,
            created_at: now,
        })
    }

    /// The day a WeChat reminder names: the due day of the deadline, or the day a new-message
    /// reminder was made.
    pub fn day(&self) -> DateTime<Utc> {
        self.due.unwrap_or(self.created_at)
    }
}

/// The stable id: `r` + 32 hex characters of SHA-256 over the clue, the deadline (kind and due
/// instant), the recipient and the reminder kind.
pub fn reminder_id(
    clue: &ClueId,
    deadline: DeadlineKind,
    due: DateTime<Utc>,
    recipient: &ReminderRecipient,
    kind: ReminderKind,
) -> ReminderId {
    hashed_id(&[
        clue.as_str(),
        deadline.code(),
        &due.timestamp_millis().to_string(),
        &recipient.code(),
        kind.code(),
    ])
}

/// `r` + 32 hex characters of SHA-256 over `parts`, each ended by a zero byte.
fn hashed_id(parts: &[&str]) -> ReminderId {
    let mut h = Sha256::new();
    for part in parts {
        h.update(part.as_bytes());
        h.update([0]);
    }
    let hex = hex::encode(h.finalize());
    ReminderId::parse(&format!("r{}", &hex[..32]))
        .unwrap_or_else(|_| unreachable!("hex is an opaque id"))
}

/// The text of a new-message reminder.
fn new_message_text(clue_no: &ClueNo) -> String {
    format!("线索 {clue_no} 的举报人发来新留言，请及时查看并回复。")
}

/// The Chinese text of a reminder; the date is the due day in Asia/Shanghai.
pub fn render(
    clue_no: &ClueNo,
    kind: ReminderKind,
    deadline: DeadlineKind,
    due: DateTime<Utc>,
) -> String {
    let date = format_date(shanghai_date(due));
    let label = deadline.label();
    match kind {
        ReminderKind::DueSoon => {
            format!("线索 {clue_no} 的{label}将于 {date} 到期（剩余 1 个工作日），请及时办理。")
        }
        ReminderKind::Overdue => {
            format!("线索 {clue_no} 的{label}已于 {date} 到期，已逾期，请尽快办理。")
        }
        ReminderKind::Supervision => {
            format!("下级承办的线索 {clue_no} 的{label}已于 {date} 到期，已逾期，请督促办理。")
        }
        ReminderKind::NewMessage => new_message_text(clue_no),
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use chrono::TimeZone;

    use super::*;
    use crate::actor::Role;

    fn due() -> DateTime<Utc> {
        // 2026-03-18 23:59:59.999 Asia/Shanghai.
        Utc.with_ymd_and_hms(2026, 3, 18, 15, 59, 59)
            .single()
            .expect("t")
            + chrono::Duration::milliseconds(999)
    }

    fn bureau(s: &str) -> BureauId {
        BureauId::parse(s).expect("bureau")
    }

    fn reminder(recipient: ReminderRecipient, kind: ReminderKind, now: DateTime<Utc>) -> Reminder {
        Reminder::new(
            recipient,
            ClueId::parse("c1").expect("id"),
            ClueNo::parse("330106-20260309-0007").expect("no"),
            kind,
            DeadlineKind::Judgment,
            due(),
            now,
        )
    }

    fn officer(id: &str, b: &str) -> Officer {
        Officer {
            id: OfficerId::parse(id).expect("id"),
            bureau: bureau(b),
            roles: BTreeSet::from([Role::Handler]),
        }
    }

    #[test]
    fn a_due_soon_reminder_names_the_clue_the_deadline_and_the_due_day() {
        let r = reminder(
            ReminderRecipient::Bureau {
                bureau: bureau("land-330106"),
            },
            ReminderKind::DueSoon,
            due(),
        );
        assert_eq!(
            r.text,
            "线索 330106-20260309-0007 的判定告知期限将于 2026年3月18日 到期（剩余 1 个工作日），请及时办理。"
        );
        let overdue = reminder(r.recipient.clone(), ReminderKind::Overdue, due());
        assert_eq!(
            overdue.text,
            "线索 330106-20260309-0007 的判定告知期限已于 2026年3月18日 到期，已逾期，请尽快办理。"
        );
    }

    #[test]
    fn the_same_deadline_recipient_and_kind_is_the_same_reminder_whenever_it_is_made() {
        let to = ReminderRecipient::Bureau {
            bureau: bureau("land-330106"),
        };
        let a = reminder(to.clone(), ReminderKind::DueSoon, due());
        let b = reminder(
            to.clone(),
            ReminderKind::DueSoon,
            due() + chrono::Duration::hours(3),
        );
        assert_eq!(a.id, b.id);
        let ids: BTreeSet<_> = [
            a.id.clone(),
            reminder(to.clone(), ReminderKind::Overdue, due()).id,
            reminder(
                ReminderRecipient::Bureau {
                    bureau: bureau("land-330100"),
                },
                ReminderKind::DueSoon,
                due(),
            )
            .id,
            reminder(
                ReminderRecipient::Officer {
                    officer: OfficerId::parse("o1").expect("id"),
                    bureau: bureau("land-330106"),
                },
                ReminderKind::DueSoon,
                due(),
            )
            .id,
        ]
        .into();
        assert_eq!(ids.len(), 4, "kind and recipient make different reminders");
        assert_eq!(a.id.as_str().len(), 33);
    }

    #[test]
    fn only_the_recipient_sees_a_reminder() {
        let to_bureau = ReminderRecipient::Bureau {
            bureau: bureau("land-330106"),
        };
        assert!(to_bureau.includes(&officer("o1", "land-330106")));
        assert!(!to_bureau.includes(&officer("o1", "land-330100")));
        let to_one = ReminderRecipient::Officer {
            officer: OfficerId::parse("o1").expect("id"),
            bureau: bureau("land-330106"),
        };
        assert!(to_one.includes(&officer("o1", "land-330106")));
        assert!(!to_one.includes(&officer("o2", "land-330106")));
        assert!(!to_one.includes(&officer("o1", "land-330100")));
    }
}
