//! The append-only, tamper-evident timeline of a clue: each entry carries its sequence number
//! and the SHA-256 of the previous entry, so any edit, removal, insertion or reordering is found
//! by [`verify`]. The head (last sequence number and hash) is kept with the clue, so even the
//! removal of the newest entries is detected.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use crate::event::Event;

/// The `prev_hash` of the first entry.
pub const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// One recorded event with its place in the chain.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineEntry {
    /// 1 for the first entry, then +1 each.
    pub seq: u64,
    /// The previous entry's hash ([`GENESIS`] for the first).
    pub prev_hash: String,
    /// SHA-256 (hex) over `seq`, `prev_hash` and the event's canonical JSON.
    pub hash: String,
    pub event: Event,
}

/// The newest entry's sequence number and hash, stored with the clue.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Head {
    pub seq: u64,
    pub hash: String,
}

impl Head {
    /// The head of an empty timeline.
    pub fn genesis() -> Self {
        Self {
            seq: 0,
            hash: GENESIS.to_owned(),
        }
    }
}

/// What [`verify`] found wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TimelineError {
    #[error("entry at position {position} has sequence {found}, expected {expected}")]
    Sequence {
        position: usize,
        expected: u64,
        found: u64,
    },
    #[error("entry {seq} does not link to the previous entry's hash")]
    BrokenLink { seq: u64 },
    #[error("entry {seq} was changed: its hash does not match its content")]
    Tampered { seq: u64 },
    #[error("the timeline ends at {found_seq}, but the clue's head is {head_seq}")]
    HeadMismatch { head_seq: u64, found_seq: u64 },
    #[error("entry {seq} belongs to another clue")]
    ForeignEntry { seq: u64 },
    #[error("an event could not be serialized")]
    Serialize,
}

/// The hash of an entry's content.
///
/// # Errors
/// [`TimelineError::Serialize`] if the event cannot be serialized (it always can: no maps with
/// non-string keys, no non-finite floats by construction).
pub fn entry_hash(seq: u64, prev_hash: &str, event: &Event) -> Result<String, TimelineError> {
    let body = serde_json::to_vec(event).map_err(|_| TimelineError::Serialize)?;
    let mut h = Sha256::new();
    h.update(seq.to_be_bytes());
    h.update(prev_hash.as_bytes());
    h.update(&body);
    Ok(hex::encode(h.finalize()))
}

/// Chains `event` after `head`, returning the entry and the new head.
///
/// # Errors
/// [`TimelineError::Serialize`].
pub fn append(head: &Head, event: Event) -> Result<(TimelineEntry, Head), TimelineError> {
    let seq = head.seq + 1;
    let hash = entry_hash(seq, &head.hash, &event)?;
    let new_head = Head {
        seq,
        hash: hash.clone(),
    };
    Ok((
        TimelineEntry {
            seq,
            prev_hash: head.hash.clone(),
            hash,
            event,
        },
        new_head,
    ))
}

/// Chains several events after `head` in order.
///
/// # Errors
/// [`TimelineError::Serialize`].
pub fn append_all(
    head: &Head,
    events: impl IntoIterator<Item = Event>,
) -> Result<(Vec<TimelineEntry>, Head), TimelineError> {
    let mut head = head.clone();
    let mut out = Vec::new();
    for event in events {
        let (entry, next) = append(&head, event)?;
        out.push(entry);
        head = next;
    }
    Ok((out, head))
}

/// Checks a whole timeline, read back in sequence order, against the head stored with the clue
/// (when given): sequence numbers 1..=n without gaps, every link, every hash, one clue only.
///
/// # Errors
/// The first inconsistency, as a [`TimelineError`].
pub fn verify(entries: &[TimelineEntry], head: Option<&Head>) -> Result<Head, TimelineError> {
    let mut current = Head::genesis();
    let clue = entries.first().map(|e| &e.event.clue);
    for (position, entry) in entries.iter().enumerate() {
        let expected = current.seq + 1;
        if entry.seq != expected {
            return Err(TimelineError::Sequence {
                position,
                expected,
                found: entry.seq,
            });
        }
        if Some(&entry.event.clue) != clue {
            return Err(TimelineError::ForeignEntry { seq: entry.seq });
        }
        if entry.prev_hash != current.hash {
            return Err(TimelineError::BrokenLink { seq: entry.seq });
        }
        if entry_hash(entry.seq, &entry.prev_hash, &entry.event)? != entry.hash {
            return Err(TimelineError::Tampered { seq: entry.seq });
        }
        current = Head {
            seq: entry.seq,
            hash: entry.hash.clone(),
        };
    }
    if let Some(head) = head
        && head != &current
    {
        return Err(TimelineError::HeadMismatch {
            head_seq: head.seq,
            found_seq: current.seq,
        });
    }
    Ok(current)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::actor::Actor;
    use crate::event::{EventKind, Party};
    use crate::ids::ClueId;
    use crate::text::MessageText;
    use chrono::{TimeZone, Utc};
    use proptest::prelude::*;

    fn event(clue: &str, i: u32, text: &str) -> Event {
        Event {
            clue: ClueId::parse(clue).expect("id"),
            at: Utc
                .timestamp_opt(1_780_000_000 + i64::from(i) * 60, 0)
                .single()
                .expect("time"),
            actor: Actor::System,
            kind: EventKind::MessagePosted {
                from: Party::Reporter,
                text: MessageText::parse(text).expect("text"),
            },
        }
    }

    fn chain(n: u32) -> (Vec<TimelineEntry>, Head) {
        append_all(
            &Head::genesis(),
            (0..n).map(|i| event("c1", i, &format!("消息{i}"))),
        )
        .expect("chain")
    }

    #[test]
    fn an_untouched_timeline_verifies() {
        let (entries, head) = chain(5);
        assert_eq!(verify(&entries, Some(&head)), Ok(head.clone()));
        assert_eq!(entries[0].prev_hash, GENESIS);
        assert_eq!(entries[1].prev_hash, entries[0].hash);
        assert_eq!(verify(&[], Some(&Head::genesis())), Ok(Head::genesis()));
    }

    #[test]
    fn an_edited_event_is_found() {
        let (mut entries, head) = chain(5);
        entries[2].event = event("c1", 2, "改过的消息");
        assert_eq!(
            verify(&entries, Some(&head)),
            Err(TimelineError::Tampered { seq: 3 })
        );
    }

    #[test]
    fn a_removed_event_is_found_even_the_last() {
        let (mut entries, head) = chain(5);
        entries.remove(2);
        assert!(matches!(
            verify(&entries, Some(&head)),
            Err(TimelineError::Sequence { .. })
        ));
        let (mut entries, head) = chain(5);
        entries.pop();
        assert_eq!(
            verify(&entries, Some(&head)),
            Err(TimelineError::HeadMismatch {
                head_seq: 5,
                found_seq: 4
            })
        );
    }

    #[test]
    fn a_rehashed_forgery_still_breaks_the_link_or_head() {
        // An attacker who edits entry 3 and recomputes its hash breaks entry 4's link.
        let (mut entries, head) = chain(5);
        entries[2].event = event("c1", 2, "伪造");
        entries[2].hash = entry_hash(3, &entries[2].prev_hash, &entries[2].event).expect("hash");
        assert_eq!(
            verify(&entries, Some(&head)),
            Err(TimelineError::BrokenLink { seq: 4 })
        );
    }

    #[test]
    fn an_entry_from_another_clue_is_found() {
        let (mut entries, head) = chain(3);
        entries[1].event.clue = ClueId::parse("c2").expect("id");
        assert_eq!(
            verify(&entries, Some(&head)),
            Err(TimelineError::ForeignEntry { seq: 2 })
        );
    }

    proptest! {
        /// Any single change — edit, removal, insertion, swap — fails verification.
        #[test]
        fn any_single_change_fails_verify(n in 2u32..12, pick in 0usize..1000, op in 0u8..4) {
            let (entries, head) = chain(n);
            let i = pick % entries.len();
            let mut changed = entries.clone();
            match op {
                0 => changed[i].event = event("c1", 99, "篡改"),
                1 => { changed.remove(i); }
                2 => {
                    let mut extra = changed[i].clone();
                    extra.event = event("c1", 98, "插入");
                    changed.insert(i, extra);
                }
                _ => {
                    let j = (i + 1) % changed.len();
                    changed.swap(i, j);
                }
            }
            prop_assert!(verify(&changed, Some(&head)).is_err());
        }
    }
}
