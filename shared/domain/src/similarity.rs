//! Duplicate (art. 12) and merge (art. 13) candidates for a new clue: a pure, deterministic ranker.
//!
//! A *duplicate* is an earlier clue of the same reporter about essentially the same place,
//! subject and facts; a *merge* candidate is a clue of another reporter about essentially the
//! same place, time, subject and facts. The platform only suggests; an officer decides.
//!
//! # Score
//! Each text is normalised ([`normalize`]: full-width → half-width, Chinese digits → ASCII,
//! punctuation, symbols and whitespace dropped, ASCII lowercased, at most [`MAX_CHARS`]
//! characters kept) and cut into its set of character bigrams `G` (a one-character text is its
//! one character). Two texts compare by the Dice coefficient `2·|G₁ ∩ G₂| / (|G₁| + |G₂|)`, 0
//! when both are empty.
//!
//! ```text
//! text  = (0.35·address + 0.25·subject + 0.40·facts) / (0.35 + 0.25 + 0.40)
//!         (subject, and its weight, left out unless both clues name one)
//! time  = 0.75 + 0.25 · 2^(−days/30)      days = |difference of received_at| in days
//! score = text · time                     ∈ [0, 1]
//! ```
//! Time only discounts (at most by a quarter), since a duplicate may come weeks later. The
//! score does not depend on the reporters; they decide only the [`CandidateKind`]. Everything is
//! symmetric in the two clues.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::DivisionCode;

/// At most this many normalised characters of a text are compared (bounds the work per pair).
pub const MAX_CHARS: usize = 2_000;

const ADDRESS_WEIGHT: f64 = 0.35;
const SUBJECT_WEIGHT: f64 = 0.25;
const FACTS_WEIGHT: f64 = 0.40;
/// The share of the score that time can take away, and how fast.
const TIME_SHARE: f64 = 0.25;
const TIME_HALF_LIFE_DAYS: f64 = 30.0;
/// A field is named as a reason from this similarity on.
const REASON_MIN_SIMILARITY: f64 = 0.5;
/// Clues at most this many whole days apart are named "close in time".
const CLOSE_IN_TIME_DAYS: i64 = 7;
const SECONDS_PER_DAY: u64 = 86_400;

/// A clue as the ranker sees it: the new clue (as [`CandidateQuery`]) or an open one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CandidateClue {
    pub clue_id: String,
    /// An opaque keyed hash of the reporter; only compared for equality.
    pub reporter: String,
    /// The county-level division of the location.
    pub division: DivisionCode,
    pub address: String,
    pub subject: Option<String>,
    pub facts: String,
    pub received_at: DateTime<Utc>,
}

/// The new clue whose candidates are sought; same shape as the clues it is compared with.
pub type CandidateQuery = CandidateClue;

/// What an officer could do with a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CandidateKind {
    /// Same reporter: judge the later clue `duplicate` (art. 12).
    Duplicate,
    /// Another reporter: merge into one primary (art. 13).
    Merge,
}

/// Why a clue is a candidate; the console shows [`Reason::describe_zh`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Reason {
    SameReporter,
    /// Address similarity in `[0, 1]`.
    SimilarAddress(f64),
    /// Subject similarity in `[0, 1]`.
    SimilarSubject(f64),
    /// Facts similarity in `[0, 1]`.
    SimilarFacts(f64),
    /// Received this many whole days apart.
    CloseInTime {
        days: i64,
    },
}

impl Reason {
    /// The reason in the glossary's Chinese, for officers.
    pub fn describe_zh(&self) -> String {
        let percent = |s: f64| (s * 100.0).round();
        match self {
            Reason::SameReporter => "同一举报人".to_owned(),
            Reason::SimilarAddress(s) => format!("违法行为发生地相似度 {}%", percent(*s)),
            Reason::SimilarSubject(s) => format!("违法主体相似度 {}%", percent(*s)),
            Reason::SimilarFacts(s) => format!("主要违法事实相似度 {}%", percent(*s)),
            Reason::CloseInTime { days: 0 } => "同日举报".to_owned(),
            Reason::CloseInTime { days } => format!("举报时间相差 {days} 天"),
        }
    }
}

/// One suggested clue.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Candidate {
    pub clue_id: String,
    pub kind: CandidateKind,
    /// In `[0, 1]`; see the module docs.
    pub score: f64,
    pub reasons: Vec<Reason>,
}

/// How many candidates, and how similar they must be.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct RankOptions {
    /// Only clues scoring at least this are suggested.
    pub min_score: f64,
    /// At most this many are suggested.
    pub limit: usize,
}

impl Default for RankOptions {
    fn default() -> Self {
        Self {
            min_score: 0.3,
            limit: 5,
        }
    }
}

/// The duplicate and merge candidates for `query` among `open` (open clues, usually of the
/// query's county): best score first, ties by `clue_id` ascending, at most `options.limit`, each
/// scoring at least `options.min_score`. A clue of another division, or with the query's own
/// `clue_id`, is never a candidate.
pub fn rank_candidates(
    query: &CandidateQuery,
    open: &[CandidateClue],
    options: RankOptions,
) -> Vec<Candidate> {
    let query_texts = Texts::of(query);
    let mut candidates: Vec<Candidate> = open
        .iter()
        .filter(|clue| clue.clue_id != query.clue_id && clue.division == query.division)
        .filter_map(|clue| {
            let comparison = Comparison::between(query, &query_texts, clue, &Texts::of(clue));
            (comparison.score >= options.min_score).then(|| comparison.into_candidate(clue))
        })
        .collect();
    candidates.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| a.clue_id.cmp(&b.clue_id))
    });
    candidates.truncate(options.limit);
    candidates
}

/// The score of two clues as [`rank_candidates`] computes it (module docs), whatever their
/// division or ids. Symmetric, in `[0, 1]`.
pub fn score(a: &CandidateClue, b: &CandidateClue) -> f64 {
    Comparison::between(a, &Texts::of(a), b, &Texts::of(b)).score
}

/// The text with full-width forms made half-width, the Chinese digits 〇/零 一 … 九 made ASCII
/// digits ("五组" and "5组" are one address; the same on both sides, so harmless in words),
/// everything but letters and digits (of any script) dropped, ASCII lowercased, cut to
/// [`MAX_CHARS`] characters.
pub fn normalize(text: &str) -> String {
    text.chars()
        .filter_map(|c| {
            let c = match c {
                // Full-width ASCII variants sit 0xFEE0 above their ASCII twins.
                '\u{FF01}'..='\u{FF5E}' => char::from_u32(u32::from(c) - 0xFEE0).unwrap_or(c),
                '〇' | '零' => '0',
                '一' => '1',
                '二' => '2',
                '三' => '3',
                '四' => '4',
                '五' => '5',
                '六' => '6',
                '七' => '7',
                '八' => '8',
                '九' => '9',
                _ => c,
            };
            c.is_alphanumeric().then(|| c.to_ascii_lowercase())
        })
        .take(MAX_CHARS)
        .collect()
}

/// The Dice similarity of the normalised texts' bigram sets, in `[0, 1]`; symmetric; 1 for two
/// texts that normalise to the same non-empty text; 0 when either normalises to nothing.
pub fn text_similarity(a: &str, b: &str) -> f64 {
    dice(&bigrams(a), &bigrams(b))
}

/// A normalised text's distinct character bigrams, sorted.
type Grams = Vec<(char, char)>;

fn bigrams(text: &str) -> Grams {
    let chars: Vec<char> = normalize(text).chars().collect();
    let mut grams: Grams = match chars.as_slice() {
        [] => Vec::new(),
        [only] => vec![(*only, '\0')],
        _ => chars.windows(2).map(|w| (w[0], w[1])).collect(),
    };
    grams.sort_unstable();
    grams.dedup();
    grams
}

fn dice(a: &[(char, char)], b: &[(char, char)]) -> f64 {
    let total = a.len() + b.len();
    if total == 0 {
        return 0.0;
    }
    // Both sorted and distinct: count the common grams in one merge pass.
    let (mut i, mut j, mut common) = (0, 0, 0usize);
    while let (Some(x), Some(y)) = (a.get(i), b.get(j)) {
        match x.cmp(y) {
            std::cmp::Ordering::Less => i += 1,
            std::cmp::Ordering::Greater => j += 1,
            std::cmp::Ordering::Equal => {
                common += 1;
                i += 1;
                j += 1;
            }
        }
    }
    (2 * common) as f64 / total as f64
}

/// One clue's texts, cut into bigrams once.
struct Texts {
    address: Grams,
    /// `None` when the clue names no subject (or one that normalises to nothing).
    subject: Option<Grams>,
    facts: Grams,
}

impl Texts {
    fn of(clue: &CandidateClue) -> Self {
        Self {
            address: bigrams(&clue.address),
            subject: clue
                .subject
                .as_deref()
                .map(bigrams)
                .filter(|g| !g.is_empty()),
            facts: bigrams(&clue.facts),
        }
    }
}

/// Two clues compared: the parts of the score and the score.
struct Comparison {
    same_reporter: bool,
    address: f64,
    subject: Option<f64>,
    facts: f64,
    days_apart: i64,
    score: f64,
}

impl Comparison {
    fn between(a: &CandidateClue, a_texts: &Texts, b: &CandidateClue, b_texts: &Texts) -> Self {
        let address = dice(&a_texts.address, &b_texts.address);
        let subject = match (&a_texts.subject, &b_texts.subject) {
            (Some(x), Some(y)) => Some(dice(x, y)),
            _ => None,
        };
        let facts = dice(&a_texts.facts, &b_texts.facts);
        let (weighted, weights) = match subject {
            Some(s) => (
                ADDRESS_WEIGHT * address + SUBJECT_WEIGHT * s + FACTS_WEIGHT * facts,
                ADDRESS_WEIGHT + SUBJECT_WEIGHT + FACTS_WEIGHT,
            ),
            None => (
                ADDRESS_WEIGHT * address + FACTS_WEIGHT * facts,
                ADDRESS_WEIGHT + FACTS_WEIGHT,
            ),
        };
        let seconds_apart = (a.received_at - b.received_at).num_seconds().unsigned_abs();
        let days = seconds_apart as f64 / SECONDS_PER_DAY as f64;
        let time = (1.0 - TIME_SHARE) + TIME_SHARE * (-days / TIME_HALF_LIFE_DAYS).exp2();
        Self {
            same_reporter: a.reporter == b.reporter,
            address,
            subject,
            facts,
            days_apart: i64::try_from(seconds_apart / SECONDS_PER_DAY).unwrap_or(i64::MAX),
            score: (weighted / weights * time).clamp(0.0, 1.0),
        }
    }

    fn into_candidate(self, clue: &CandidateClue) -> Candidate {
        let mut reasons = Vec::new();
        if self.same_reporter {
            reasons.push(Reason::SameReporter);
        }
        let similar = |s: f64| s >= REASON_MIN_SIMILARITY;
        if similar(self.address) {
            reasons.push(Reason::SimilarAddress(self.address));
        }
        if let Some(s) = self.subject.filter(|s| similar(*s)) {
            reasons.push(Reason::SimilarSubject(s));
        }
        if similar(self.facts) {
            reasons.push(Reason::SimilarFacts(self.facts));
        }
        if self.days_apart <= CLOSE_IN_TIME_DAYS {
            reasons.push(Reason::CloseInTime {
                days: self.days_apart,
            });
        }
        Candidate {
            clue_id: clue.clue_id.clone(),
            kind: if self.same_reporter {
                CandidateKind::Duplicate
            } else {
                CandidateKind::Merge
            },
            score: self.score,
            reasons,
        }
    }
}

#[cfg(test)]
mod tests {
    use chrono::TimeZone;
    use proptest::prelude::*;

    use super::*;

    const COUNTY: &str = "330106";

    fn at(day: u32, hour: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2025, 6, day, hour, 0, 0)
            .single()
            .expect("valid instant in test")
    }

    fn clue(
        id: &str,
        reporter: &str,
        address: &str,
        subject: Option<&str>,
        facts: &str,
    ) -> CandidateClue {
        CandidateClue {
            clue_id: id.to_owned(),
            reporter: reporter.to_owned(),
            division: DivisionCode::parse(COUNTY).expect("valid code in test"),
            address: address.to_owned(),
            subject: subject.map(str::to_owned),
            facts: facts.to_owned(),
            received_at: at(10, 2),
        }
    }

    /// The new clue of the examples: farmland built on in 东方村.
    fn query() -> CandidateQuery {
        clue(
            "Q",
            "reporter-a",
            "浙江省杭州市西湖区三墩镇东方村5组村口",
            Some("杭州恒达建材有限公司"),
            "在东方村5组的基本农田上违法占地建设厂房，占地约3亩，目前仍在施工，已经打好地基。",
        )
    }

    /// The same case, told by someone else in other words.
    fn reworded(id: &str, reporter: &str) -> CandidateClue {
        clue(
            id,
            reporter,
            "西湖区三墩镇东方村五组（村口往北200米）",
            Some("恒达建材公司"),
            "东方村5组有人在基本农田里盖厂房，大约占了3亩地，地基已经打好了，还在继续施工！",
        )
    }

    /// Another case in the same county.
    fn unrelated(id: &str) -> CandidateClue {
        clue(
            id,
            "reporter-c",
            "浙江省杭州市西湖区转塘街道龙坞茶村后山",
            Some("张某"),
            "有人在后山非法开采石料，每天夜间用货车运走，山体已被挖开一大片。",
        )
    }

    fn ids(candidates: &[Candidate]) -> Vec<&str> {
        candidates.iter().map(|c| c.clue_id.as_str()).collect()
    }

    fn all(open: &[CandidateClue]) -> Vec<Candidate> {
        rank_candidates(
            &query(),
            open,
            RankOptions {
                min_score: 0.0,
                limit: usize::MAX,
            },
        )
    }

    #[test]
    fn normalisation_folds_full_width_and_chinese_digits_and_drops_punctuation() {
        assert_eq!(
            normalize("ＡＢＣ　１２３，东方村！ 5 组。"),
            "abc123东方村5组"
        );
        assert_eq!(normalize("Room 3-B（北侧）"), "room3b北侧");
        assert_eq!(normalize("，。！？ \n\t"), "");
    }

    #[test]
    fn identical_clues_of_another_reporter_score_about_one_and_are_merge_candidates() {
        let mut twin = query();
        twin.clue_id = "T".to_owned();
        twin.reporter = "reporter-b".to_owned();
        let ranked = rank_candidates(&query(), &[twin], RankOptions::default());
        assert_eq!(ids(&ranked), ["T"]);
        let best = &ranked[0];
        assert!(best.score > 0.999, "{}", best.score);
        assert_eq!(best.kind, CandidateKind::Merge);
        assert_eq!(
            best.reasons,
            [
                Reason::SimilarAddress(1.0),
                Reason::SimilarSubject(1.0),
                Reason::SimilarFacts(1.0),
                Reason::CloseInTime { days: 0 },
            ]
        );
    }

    #[test]
    fn the_same_case_reworded_ranks_above_an_unrelated_case_of_the_same_county() {
        let open = [unrelated("A"), reworded("B", "reporter-b")];
        let scored = all(&open);
        assert_eq!(ids(&scored), ["B", "A"]);
        assert!(scored[0].score > 2.0 * scored[1].score, "{scored:?}");
        // With the default threshold only the real match is suggested.
        assert_eq!(
            ids(&rank_candidates(&query(), &open, RankOptions::default())),
            ["B"]
        );
    }

    #[test]
    fn the_same_reporter_makes_a_duplicate_another_reporter_a_merge() {
        let ranked = all(&[reworded("D", "reporter-a"), reworded("M", "reporter-b")]);
        let kind_of = |id: &str| ranked.iter().find(|c| c.clue_id == id).map(|c| c.kind);
        assert_eq!(kind_of("D"), Some(CandidateKind::Duplicate));
        assert_eq!(kind_of("M"), Some(CandidateKind::Merge));
        let duplicate = ranked.iter().find(|c| c.clue_id == "D").expect("listed");
        assert_eq!(duplicate.reasons.first(), Some(&Reason::SameReporter));
        // The reporter does not change the score.
        assert_eq!(ranked[0].score, ranked[1].score);
    }

    #[test]
    fn ties_are_ordered_by_clue_id_whatever_the_input_order() {
        let open = [
            reworded("c", "x"),
            reworded("a", "y"),
            unrelated("z"),
            reworded("b", "z"),
        ];
        let mut reversed = open.clone();
        reversed.reverse();
        assert_eq!(ids(&all(&open)), ["a", "b", "c", "z"]);
        assert_eq!(all(&open), all(&reversed));
    }

    #[test]
    fn another_county_or_the_clue_itself_is_never_a_candidate() {
        let mut elsewhere = query();
        elsewhere.clue_id = "E".to_owned();
        elsewhere.division = DivisionCode::parse("330105").expect("valid code in test");
        let itself = query();
        assert!(all(&[elsewhere, itself]).is_empty());
    }

    #[test]
    fn the_threshold_and_the_limit_are_kept() {
        let open: Vec<_> = (0..10).map(|i| reworded(&format!("R{i}"), "b")).collect();
        let ranked = rank_candidates(
            &query(),
            &open,
            RankOptions {
                min_score: 0.0,
                limit: 3,
            },
        );
        assert_eq!(ids(&ranked), ["R0", "R1", "R2"]);
        let none = rank_candidates(
            &query(),
            &open,
            RankOptions {
                min_score: 0.99,
                limit: 3,
            },
        );
        assert!(none.is_empty());
    }

    #[test]
    fn time_apart_discounts_the_score_by_at_most_a_quarter() {
        let same_day = reworded("S", "b");
        let mut later = reworded("L", "b");
        later.received_at = at(10, 2) + chrono::TimeDelta::days(60);
        let mut much_later = reworded("X", "b");
        much_later.received_at = at(10, 2) + chrono::TimeDelta::days(3_650);
        let (s, l, x) = (
            score(&query(), &same_day),
            score(&query(), &later),
            score(&query(), &much_later),
        );
        assert!(s > l && l > x, "{s} {l} {x}");
        assert!(x >= 0.75 * s - 1e-12, "{s} {x}");
        let ranked = all(&[later]);
        assert!(
            !ranked[0]
                .reasons
                .iter()
                .any(|r| matches!(r, Reason::CloseInTime { .. }))
        );
    }

    #[test]
    fn a_missing_subject_leaves_the_subject_out_of_the_score() {
        let mut a = query();
        a.subject = None;
        let mut b = query();
        b.clue_id = "B".to_owned();
        b.subject = Some("完全不同的人".to_owned());
        assert!(score(&a, &b) > 0.999);
    }

    #[test]
    fn empty_and_very_long_texts_do_not_panic() {
        let empty = clue("E", "b", "", Some(""), "");
        assert_eq!(score(&query(), &empty), 0.0);
        assert_eq!(score(&empty, &empty), 0.0);
        let long_text = "违法占地建设厂房".repeat(20_000);
        let long = clue("L", "b", &long_text, Some(&long_text), &long_text);
        let s = score(&query(), &long);
        assert!((0.0..=1.0).contains(&s));
        assert!(score(&long, &long) > 0.999);
        assert!(
            all(&[empty, long])
                .iter()
                .all(|c| (0.0..=1.0).contains(&c.score))
        );
    }

    #[test]
    fn reasons_read_in_chinese() {
        assert_eq!(Reason::SameReporter.describe_zh(), "同一举报人");
        assert_eq!(
            Reason::SimilarAddress(0.856).describe_zh(),
            "违法行为发生地相似度 86%"
        );
        assert_eq!(Reason::CloseInTime { days: 0 }.describe_zh(), "同日举报");
        assert_eq!(
            Reason::CloseInTime { days: 3 }.describe_zh(),
            "举报时间相差 3 天"
        );
    }

    #[test]
    fn candidates_serialise_with_snake_case_tags() {
        let candidate = Candidate {
            clue_id: "C1".to_owned(),
            kind: CandidateKind::Duplicate,
            score: 0.5,
            reasons: vec![
                Reason::SameReporter,
                Reason::SimilarFacts(0.5),
                Reason::CloseInTime { days: 2 },
            ],
        };
        let json = serde_json::to_value(&candidate).expect("serialise");
        assert_eq!(
            json,
            serde_json::json!({
                "clue_id": "C1", "kind": "duplicate", "score": 0.5,
                "reasons": ["same_reporter", {"similar_facts": 0.5}, {"close_in_time": {"days": 2}}]
            })
        );
    }

    fn any_clue() -> impl Strategy<Value = CandidateClue> {
        (
            "[a-c]{1,2}",
            "[a-c]",
            ".{0,40}",
            proptest::option::of(".{0,20}"),
            ".{0,200}",
            -1_000_000i64..1_000_000,
        )
            .prop_map(
                |(id, reporter, address, subject, facts, minutes)| CandidateClue {
                    clue_id: id,
                    reporter,
                    division: DivisionCode::parse(COUNTY).expect("valid code in test"),
                    address,
                    subject,
                    facts,
                    received_at: at(10, 2) + chrono::TimeDelta::minutes(minutes),
                },
            )
    }

    proptest! {
        #[test]
        fn text_similarity_is_within_unit_interval_and_symmetric(a in ".{0,300}", b in ".{0,300}") {
            let s = text_similarity(&a, &b);
            prop_assert!((0.0..=1.0).contains(&s));
            prop_assert_eq!(s, text_similarity(&b, &a));
            if !normalize(&a).is_empty() {
                prop_assert_eq!(text_similarity(&a, &a), 1.0);
            }
        }

        #[test]
        fn scores_are_within_unit_interval_symmetric_and_ranked(
            q in any_clue(), open in proptest::collection::vec(any_clue(), 0..12), limit in 0usize..6,
        ) {
            for clue in &open {
                let s = score(&q, clue);
                prop_assert!((0.0..=1.0).contains(&s));
                prop_assert_eq!(s, score(clue, &q));
            }
            let ranked = rank_candidates(&q, &open, RankOptions { min_score: 0.0, limit });
            prop_assert!(ranked.len() <= limit);
            prop_assert!(ranked.iter().all(|c| c.clue_id != q.clue_id));
            let in_order = ranked.windows(2).all(|w| {
                w[0].score > w[1].score || (w[0].score == w[1].score && w[0].clue_id <= w[1].clue_id)
            });
            prop_assert!(in_order);
        }
    }
}
