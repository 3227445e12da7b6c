//! Scoring a submission against a gold (known) answer, per question, with the comparison that fits the
//! question's kind.
//!
//! Gold items are how a project measures each worker against the truth rather than against the crowd. Every
//! comparison yields a score from 0 (wrong) to 1 (right), so scores of different kinds average into one gold
//! accuracy per worker. The comparisons (documented in docs/templates.md, "Gold answers"):
//!
//! - `single_choice`: exact match.
//! - `multi_choice`: Jaccard similarity of the two sets (two empty sets score 1), so a partly right selection
//!   earns partial credit.
//! - `rating`: 1 when the score is within the tolerance of the gold score (default 0: exact), else 0.
//! - `text`: exact match after trimming, lowercasing and collapsing runs of whitespace.
//! - `ranking`: Kendall's tau-b between the two orders mapped to 0..1 as `(tau + 1) / 2`; when every field ties in
//!   one of the two orders tau is undefined, and the score is 1 if the orders are identical, else 0.
//! - `pairwise`: 1 when the sign of `strength` agrees (A better, equal, B better), else 0.
//! - `spans`: character-level F1 of (label, character) pairs; two empty answers score 1.
//! - `rubric`: the share of criteria scored within the tolerance of the gold score.
//! - `boxes`, `video_events`: not scored (no score, so they do not count in the accuracy).
//!
//! Only questions the gold answer gives (a non-null value) are scored; a worker who left such a question unanswered
//! scores 0 on it.

use std::collections::{BTreeMap, HashMap};

use serde_json::{Map, Value};

use super::TaskTemplate;
use super::question::QuestionKind;

/// The score of one submission against a gold answer.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldScore {
    /// Score per scored question, 0..=1, in template order.
    pub questions: Vec<(String, f64)>,
}

impl GoldScore {
    /// The mean over the scored questions; `None` when no question could be scored.
    pub fn mean(&self) -> Option<f64> {
        if self.questions.is_empty() {
            None
        } else {
            Some(self.questions.iter().map(|q| q.1).sum::<f64>() / self.questions.len() as f64)
        }
    }

    /// The per-question scores as a JSON object.
    pub fn detail(&self) -> Value {
        Value::Object(
            self.questions
                .iter()
                .map(|(q, s)| (q.clone(), Value::from(*s)))
                .collect::<Map<_, _>>(),
        )
    }
}

/// Scores a submission's answers (an object keyed by question name) against a gold answers object.
///
/// `tolerance` is the allowed distance for `rating` and `rubric` scores (0 = exact).
pub fn score_gold(
    template: &TaskTemplate,
    answers: &Value,
    gold: &Value,
    tolerance: i64,
) -> GoldScore {
    let mut questions = Vec::new();
    let Some(gold) = gold.as_object() else {
        return GoldScore { questions };
    };
    for q in &template.questions {
        let Some(g) = gold.get(&q.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let a = answers.get(&q.name).filter(|v| !v.is_null());
        if let Some(score) = score_question(&q.kind, a, g, tolerance) {
            questions.push((q.name.clone(), score));
        }
    }
    GoldScore { questions }
}

/// The score of one answer (`None` = not answered) against the gold value; `None` when the kind is not scored.
pub fn score_question(
    kind: &QuestionKind,
    answer: Option<&Value>,
    gold: &Value,
    tolerance: i64,
) -> Option<f64> {
    let scored = !matches!(
        kind,
        QuestionKind::Boxes { .. } | QuestionKind::VideoEvents { .. }
    );
    if !scored {
        return None;
    }
    let Some(a) = answer else { return Some(0.0) };
    let hit = |b: bool| if b { 1.0 } else { 0.0 };
    Some(match kind {
        QuestionKind::SingleChoice { .. } => hit(a == gold),
        QuestionKind::MultiChoice { .. } => jaccard(a, gold),
        QuestionKind::Rating { .. } => match (a.as_i64(), gold.as_i64()) {
            (Some(x), Some(y)) => hit((x - y).abs() <= tolerance),
            _ => 0.0,
        },
        QuestionKind::Text { .. } => match (a.as_str(), gold.as_str()) {
            (Some(x), Some(y)) => hit(normalize_text(x) == normalize_text(y)),
            _ => 0.0,
        },
        QuestionKind::Ranking { .. } => ranking_score(a, gold),
        QuestionKind::Pairwise { .. } => {
            let s = |v: &Value| v.get("strength").and_then(Value::as_i64).map(i64::signum);
            match (s(a), s(gold)) {
                (Some(x), Some(y)) => hit(x == y),
                _ => 0.0,
            }
        }
        QuestionKind::Spans { .. } => span_f1(a, gold),
        QuestionKind::Rubric { criteria } => {
            if criteria.is_empty() {
                return None;
            }
            let ok = criteria
                .iter()
                .filter(|c| {
                    match (
                        a.get(&c.name).and_then(Value::as_i64),
                        gold.get(&c.name).and_then(Value::as_i64),
                    ) {
                        (Some(x), Some(y)) => (x - y).abs() <= tolerance,
                        _ => false,
                    }
                })
                .count();
            ok as f64 / criteria.len() as f64
        }
        QuestionKind::Boxes { .. } | QuestionKind::VideoEvents { .. } => return None,
    })
}

fn normalize_text(s: &str) -> String {
    s.split_whitespace()
        .map(str::to_lowercase)
        .collect::<Vec<_>>()
        .join(" ")
}

fn string_set(v: &Value) -> Vec<&str> {
    let mut out: Vec<&str> = v
        .as_array()
        .map(|a| a.iter().filter_map(Value::as_str).collect())
        .unwrap_or_default();
    out.sort_unstable();
    out.dedup();
    out
}

fn jaccard(a: &Value, gold: &Value) -> f64 {
    let (x, y) = (string_set(a), string_set(gold));
    let union: std::collections::BTreeSet<&str> = x.iter().chain(&y).copied().collect();
    if union.is_empty() {
        return 1.0;
    }
    let inter = x.iter().filter(|s| y.contains(s)).count();
    inter as f64 / union.len() as f64
}

/// Position (tie group index) of every ranked field.
fn positions(v: &Value) -> HashMap<&str, usize> {
    let mut out = HashMap::new();
    for (i, group) in v.as_array().into_iter().flatten().enumerate() {
        for f in group
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(Value::as_str)
        {
            out.insert(f, i);
        }
    }
    out
}

/// Kendall's tau-b between two tie-group rankings over the gold's fields, mapped to 0..1.
fn ranking_score(a: &Value, gold: &Value) -> f64 {
    let (pa, pg) = (positions(a), positions(gold));
    let mut fields: Vec<&str> = pg.keys().copied().collect();
    fields.sort_unstable();
    if fields.iter().any(|f| !pa.contains_key(f)) {
        return 0.0;
    }
    let (mut concordant, mut discordant, mut ties_a, mut ties_g, mut pairs) =
        (0i64, 0i64, 0i64, 0i64, 0i64);
    for i in 0..fields.len() {
        for j in i + 1..fields.len() {
            pairs += 1;
            let da = (pa[fields[i]] as i64 - pa[fields[j]] as i64).signum();
            let dg = (pg[fields[i]] as i64 - pg[fields[j]] as i64).signum();
            if da == 0 {
                ties_a += 1;
            }
            if dg == 0 {
                ties_g += 1;
            }
            match da * dg {
                1 => concordant += 1,
                -1 => discordant += 1,
                _ => {}
            }
        }
    }
    let denom = (((pairs - ties_a) * (pairs - ties_g)) as f64).sqrt();
    if denom == 0.0 {
        let same = fields.iter().all(|f| pa[f] == pg[f]);
        return if same { 1.0 } else { 0.0 };
    }
    let tau = (concordant - discordant) as f64 / denom;
    ((tau + 1.0) / 2.0).clamp(0.0, 1.0)
}

/// Disjoint, sorted character intervals per label.
fn span_sets(v: &Value) -> BTreeMap<String, Vec<(i64, i64)>> {
    let mut out: BTreeMap<String, Vec<(i64, i64)>> = BTreeMap::new();
    for s in v.as_array().into_iter().flatten() {
        let (Some(start), Some(end), Some(label)) = (
            s.get("start").and_then(Value::as_i64),
            s.get("end").and_then(Value::as_i64),
            s.get("label").and_then(Value::as_str),
        ) else {
            continue;
        };
        if end > start {
            out.entry(label.to_string()).or_default().push((start, end));
        }
    }
    for spans in out.values_mut() {
        spans.sort_unstable();
        let mut merged: Vec<(i64, i64)> = Vec::with_capacity(spans.len());
        for &(s, e) in spans.iter() {
            match merged.last_mut() {
                Some(last) if s <= last.1 => last.1 = last.1.max(e),
                _ => merged.push((s, e)),
            }
        }
        *spans = merged;
    }
    out
}

fn total(spans: &BTreeMap<String, Vec<(i64, i64)>>) -> i64 {
    spans.values().flatten().map(|(s, e)| e - s).sum()
}

/// Character-level F1 of labelled spans.
fn span_f1(a: &Value, gold: &Value) -> f64 {
    let (sa, sg) = (span_sets(a), span_sets(gold));
    let (na, ng) = (total(&sa), total(&sg));
    if na == 0 && ng == 0 {
        return 1.0;
    }
    let mut inter = 0i64;
    for (label, xs) in &sa {
        let Some(ys) = sg.get(label) else { continue };
        let (mut i, mut j) = (0, 0);
        while i < xs.len() && j < ys.len() {
            let lo = xs[i].0.max(ys[j].0);
            let hi = xs[i].1.min(ys[j].1);
            inter += (hi - lo).max(0);
            if xs[i].1 < ys[j].1 {
                i += 1;
            } else {
                j += 1;
            }
        }
    }
    if inter == 0 {
        return 0.0;
    }
    let precision = inter as f64 / na as f64;
    let recall = inter as f64 / ng as f64;
    2.0 * precision * recall / (precision + recall)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn template() -> TaskTemplate {
        TaskTemplate::from_json(&json!({
            "fields": [{"name": "text", "type": "text"}, {"name": "r1", "type": "text"},
                       {"name": "r2", "type": "text"}, {"name": "r3", "type": "text"}],
            "questions": [
                {"name": "label", "type": "single_choice", "options": ["a", "b"]},
                {"name": "tags", "type": "multi_choice", "options": ["x", "y", "z"]},
                {"name": "score", "type": "rating", "min": 1, "max": 5},
                {"name": "note", "type": "text"},
                {"name": "order", "type": "ranking", "fields": ["r1", "r2", "r3"]},
                {"name": "pref", "type": "pairwise", "a": "r1", "b": "r2"},
                {"name": "ents", "type": "spans", "field": "text", "labels": ["P", "L"]}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn each_kind_scores_with_its_comparison() {
        let t = template();
        let gold = json!({"label": "a", "tags": ["x", "y"], "score": 3, "note": "Hello  World",
            "order": [["r1"], ["r2"], ["r3"]], "pref": {"strength": -2},
            "ents": [{"start": 0, "end": 10, "label": "P"}]});
        let answers = json!({"label": "a", "tags": ["y", "z"], "score": 4, "note": " hello world ",
            "order": [["r2"], ["r1"], ["r3"]], "pref": {"strength": -1},
            "ents": [{"start": 5, "end": 15, "label": "P"}]});
        let s = score_gold(&t, &answers, &gold, 0);
        let by: HashMap<&str, f64> = s.questions.iter().map(|(q, v)| (q.as_str(), *v)).collect();
        assert_eq!(by["label"], 1.0);
        assert!((by["tags"] - 1.0 / 3.0).abs() < 1e-12);
        assert_eq!(by["score"], 0.0);
        assert_eq!(by["note"], 1.0);
        // One discordant pair of three: tau = 1/3, score 2/3.
        assert!((by["order"] - 2.0 / 3.0).abs() < 1e-12);
        assert_eq!(by["pref"], 1.0);
        // 5 of 10 characters overlap on each side: precision = recall = F1 = 0.5.
        assert!((by["ents"] - 0.5).abs() < 1e-12);
        // Within a tolerance of one the rating counts.
        let s1 = score_gold(&t, &answers, &gold, 1);
        assert_eq!(s1.questions[2], ("score".to_string(), 1.0));
    }

    #[test]
    fn only_gold_questions_count_and_missing_answers_score_zero() {
        let t = template();
        let s = score_gold(
            &t,
            &json!({"tags": ["x"]}),
            &json!({"label": "b", "tags": null}),
            0,
        );
        assert_eq!(s.questions, vec![("label".to_string(), 0.0)]);
        assert_eq!(s.mean(), Some(0.0));
        let none = score_gold(&t, &json!({}), &json!({}), 0);
        assert_eq!(none.mean(), None);
        assert_eq!(none.detail(), json!({}));
    }

    #[test]
    fn degenerate_rankings_and_empty_sets() {
        let t = template();
        let all_tied = json!({"order": [["r1", "r2", "r3"]]});
        assert_eq!(score_gold(&t, &all_tied, &all_tied, 0).mean(), Some(1.0));
        let ordered = json!({"order": [["r1"], ["r2"], ["r3"]]});
        assert_eq!(score_gold(&t, &ordered, &all_tied, 0).mean(), Some(0.0));
        let empty = json!({"tags": [], "ents": []});
        assert_eq!(score_gold(&t, &empty, &empty, 0).mean(), Some(1.0));
    }
}
