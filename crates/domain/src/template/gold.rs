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
//! A question's optional `gold` key ([`GoldRule`]) changes the comparison: `{"match": "exact"}` for a
//! multi-choice, `{"match": "spearman"}` for a ranking, `{"match": "iou"}` for spans, `{"match": "exact"}` for
//! text (no normalizing) or a pairwise strength, `{"tolerance": N}` for a rating or rubric, and `{"score": false}`
//! leaves the question out of gold scoring.
//!
//! Only questions the gold answer gives (a non-null value) are scored; a worker who left such a question unanswered
//! scores 0 on it.

use std::collections::{BTreeMap, HashMap};

use serde::Serialize;
use serde_json::{Map, Value};

use super::TaskTemplate;
use super::error::TemplateError;
use super::parse;
use super::question::QuestionKind;

/// A comparison a question's `gold` rule can pick.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GoldMatch {
    /// Equal answers only (multi-choice sets, text as written, pairwise strength).
    Exact,
    /// Jaccard similarity of two selections (multi-choice default).
    Jaccard,
    /// Text equal after trimming, lowercasing and collapsing whitespace (text default).
    Normalized,
    /// Sign of the pairwise strength (pairwise default).
    Sign,
    /// Kendall's tau-b (ranking default).
    Kendall,
    /// Spearman's rho over tie-averaged ranks.
    Spearman,
    /// Character-level F1 of labelled spans (spans default).
    F1,
    /// Character-level intersection over union of labelled spans.
    Iou,
}

impl GoldMatch {
    /// The name in the template.
    pub fn name(self) -> &'static str {
        match self {
            GoldMatch::Exact => "exact",
            GoldMatch::Jaccard => "jaccard",
            GoldMatch::Normalized => "normalized",
            GoldMatch::Sign => "sign",
            GoldMatch::Kendall => "kendall",
            GoldMatch::Spearman => "spearman",
            GoldMatch::F1 => "f1",
            GoldMatch::Iou => "iou",
        }
    }
}

/// A question's `gold` key: how its answers are compared with a gold answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct GoldRule {
    /// The comparison, when not the kind's default.
    #[serde(rename = "match", skip_serializing_if = "Option::is_none")]
    pub comparison: Option<GoldMatch>,
    /// Allowed distance of a rating or rubric score (default 0).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tolerance: Option<u32>,
    /// `false` leaves the question out of gold scoring (written only when false).
    #[serde(skip_serializing_if = "is_true")]
    pub score: bool,
}

fn is_true(b: &bool) -> bool {
    *b
}

impl Default for GoldRule {
    fn default() -> Self {
        GoldRule {
            comparison: None,
            tolerance: None,
            score: true,
        }
    }
}

/// The comparisons each kind accepts, default first; empty for kinds that take a tolerance or are not scored.
fn matches_for(kind: &QuestionKind) -> &'static [GoldMatch] {
    match kind {
        QuestionKind::SingleChoice { .. } => &[GoldMatch::Exact],
        QuestionKind::MultiChoice { .. } => &[GoldMatch::Jaccard, GoldMatch::Exact],
        QuestionKind::Text { .. } => &[GoldMatch::Normalized, GoldMatch::Exact],
        QuestionKind::Ranking { .. } => &[GoldMatch::Kendall, GoldMatch::Spearman],
        QuestionKind::Pairwise { .. } => &[GoldMatch::Sign, GoldMatch::Exact],
        QuestionKind::Spans { .. } => &[GoldMatch::F1, GoldMatch::Iou],
        QuestionKind::Rating { .. }
        | QuestionKind::Rubric { .. }
        | QuestionKind::Boxes { .. }
        | QuestionKind::Polygons { .. }
        | QuestionKind::Keypoints { .. }
        | QuestionKind::Tracks { .. }
        | QuestionKind::VideoEvents { .. } => &[],
    }
}

impl GoldRule {
    /// Parses a question's `gold` object for a question of `kind`; errors carry the path of the bad key.
    pub(crate) fn parse(
        v: &Value,
        path: &str,
        kind: &QuestionKind,
    ) -> Result<GoldRule, TemplateError> {
        let map = parse::object(v, path, "gold")?;
        parse::check_keys(map, path, &["match", "tolerance", "score"], "gold")?;
        let mut rule = GoldRule {
            score: parse::opt_bool(map, path, "score")?.unwrap_or(true),
            ..GoldRule::default()
        };
        let scored = !matches!(
            kind,
            QuestionKind::Boxes { .. } | QuestionKind::VideoEvents { .. }
        );
        if !scored && rule.score {
            return Err(TemplateError::new(
                parse::join(path, "score"),
                format!(
                    "{} questions are not scored against gold answers; leave out \"gold\" or set \"score\": false",
                    kind.type_name()
                ),
            ));
        }
        if let Some(m) = parse::opt_str(map, path, "match")? {
            let allowed = matches_for(kind);
            match allowed.iter().find(|a| a.name() == m) {
                Some(a) => rule.comparison = Some(*a),
                None if allowed.is_empty() => {
                    return Err(TemplateError::new(
                        parse::join(path, "match"),
                        format!("a {} question takes no \"match\"", kind.type_name()),
                    ));
                }
                None => {
                    return Err(TemplateError::new(
                        parse::join(path, "match"),
                        format!(
                            "unknown comparison {m:?} for a {} question; expected one of {}",
                            kind.type_name(),
                            parse::quoted_list(allowed.iter().map(|a| a.name()))
                        ),
                    ));
                }
            }
        }
        if let Some(t) = parse::opt_int(map, path, "tolerance")? {
            if !matches!(
                kind,
                QuestionKind::Rating { .. } | QuestionKind::Rubric { .. }
            ) {
                return Err(TemplateError::new(
                    parse::join(path, "tolerance"),
                    format!(
                        "only rating and rubric questions take a tolerance, not a {} question",
                        kind.type_name()
                    ),
                ));
            }
            rule.tolerance = Some(u32::try_from(t).map_err(|_| {
                TemplateError::new(
                    parse::join(path, "tolerance"),
                    format!("must be 0 or more, got {t}"),
                )
            })?);
        }
        Ok(rule)
    }
}

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

/// Scores a submission's answers (an object keyed by question name) against a gold answers object, each question
/// with its `gold` rule (or its kind's default).
pub fn score_gold(template: &TaskTemplate, answers: &Value, gold: &Value) -> GoldScore {
    let mut questions = Vec::new();
    let Some(gold) = gold.as_object() else {
        return GoldScore { questions };
    };
    for q in &template.questions {
        let Some(g) = gold.get(&q.name).filter(|v| !v.is_null()) else {
            continue;
        };
        let rule = q.gold.unwrap_or_default();
        if !rule.score {
            continue;
        }
        let a = answers.get(&q.name).filter(|v| !v.is_null());
        if let Some(score) = score_question(&q.kind, a, g, rule) {
            questions.push((q.name.clone(), score));
        }
    }
    GoldScore { questions }
}

/// The score of one answer (`None` = not answered) against the gold value under `rule`; `None` when the kind is
/// not scored.
pub fn score_question(
    kind: &QuestionKind,
    answer: Option<&Value>,
    gold: &Value,
    rule: GoldRule,
) -> Option<f64> {
    let tolerance = i64::from(rule.tolerance.unwrap_or(0));
    let m = rule
        .comparison
        .or_else(|| matches_for(kind).first().copied())
        .unwrap_or(GoldMatch::Exact);
    let scored = !is_shape(kind);
    if !scored {
        return None;
    }
    let Some(a) = answer else { return Some(0.0) };
    let hit = |b: bool| if b { 1.0 } else { 0.0 };
    Some(match kind {
        QuestionKind::SingleChoice { .. } => hit(a == gold),
        QuestionKind::MultiChoice { .. } if m == GoldMatch::Exact => {
            hit(string_set(a) == string_set(gold))
        }
        QuestionKind::MultiChoice { .. } => jaccard(a, gold),
        QuestionKind::Rating { .. } => match (a.as_i64(), gold.as_i64()) {
            (Some(x), Some(y)) => hit((x - y).abs() <= tolerance),
            _ => 0.0,
        },
        QuestionKind::Text { .. } => match (a.as_str(), gold.as_str()) {
            (Some(x), Some(y)) if m == GoldMatch::Exact => hit(x == y),
            (Some(x), Some(y)) => hit(normalize_text(x) == normalize_text(y)),
            _ => 0.0,
        },
        QuestionKind::Ranking { .. } if m == GoldMatch::Spearman => spearman_score(a, gold),
        QuestionKind::Ranking { .. } => ranking_score(a, gold),
        QuestionKind::Pairwise { .. } => {
            let exact = m == GoldMatch::Exact;
            let s = |v: &Value| {
                v.get("strength")
                    .and_then(Value::as_i64)
                    .map(|x| if exact { x } else { x.signum() })
            };
            match (s(a), s(gold)) {
                (Some(x), Some(y)) => hit(x == y),
                _ => 0.0,
            }
        }
        QuestionKind::Spans { .. } => span_overlap(a, gold, m == GoldMatch::Iou),
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
        QuestionKind::Boxes { .. }
        | QuestionKind::Polygons { .. }
        | QuestionKind::Keypoints { .. }
        | QuestionKind::Tracks { .. }
        | QuestionKind::VideoEvents { .. } => return None,
    })
}

/// Whether answers of `kind` are geometric (image shapes, video events and tracks), which gold does not score yet.
fn is_shape(kind: &QuestionKind) -> bool {
    matches!(
        kind,
        QuestionKind::Boxes { .. }
            | QuestionKind::Polygons { .. }
            | QuestionKind::Keypoints { .. }
            | QuestionKind::Tracks { .. }
            | QuestionKind::VideoEvents { .. }
    )
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

/// Spearman's rho between two tie-group rankings over the gold's fields (tied fields share their mean rank),
/// mapped to 0..1 as `(rho + 1) / 2`; with no variance in either order, 1 if identical, else 0.
fn spearman_score(a: &Value, gold: &Value) -> f64 {
    let (pa, pg) = (positions(a), positions(gold));
    let mut fields: Vec<&str> = pg.keys().copied().collect();
    fields.sort_unstable();
    if fields.is_empty() || fields.iter().any(|f| !pa.contains_key(f)) {
        return 0.0;
    }
    let ranks = |p: &HashMap<&str, usize>| -> Vec<f64> {
        fields
            .iter()
            .map(|f| {
                let before = fields.iter().filter(|g| p[*g] < p[*f]).count() as f64;
                let tied = fields.iter().filter(|g| p[*g] == p[*f]).count() as f64;
                before + (tied + 1.0) / 2.0
            })
            .collect()
    };
    let (ra, rg) = (ranks(&pa), ranks(&pg));
    let n = fields.len() as f64;
    let (ma, mg) = (ra.iter().sum::<f64>() / n, rg.iter().sum::<f64>() / n);
    let cov: f64 = ra.iter().zip(&rg).map(|(x, y)| (x - ma) * (y - mg)).sum();
    let va: f64 = ra.iter().map(|x| (x - ma).powi(2)).sum();
    let vg: f64 = rg.iter().map(|y| (y - mg).powi(2)).sum();
    if va == 0.0 || vg == 0.0 {
        return if ra == rg { 1.0 } else { 0.0 };
    }
    let rho = cov / (va * vg).sqrt();
    ((rho + 1.0) / 2.0).clamp(0.0, 1.0)
}

/// Character-level F1 (or, with `iou`, intersection over union) of labelled spans.
fn span_overlap(a: &Value, gold: &Value, iou: bool) -> f64 {
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
    if iou {
        return inter as f64 / (na + ng - inter) as f64;
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
        let s = score_gold(&t, &answers, &gold);
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
    }

    #[test]
    fn a_questions_gold_rule_picks_the_comparison() {
        let t = TaskTemplate::from_json(&json!({
            "fields": [{"name": "text", "type": "text"}, {"name": "r1", "type": "text"},
                       {"name": "r2", "type": "text"}, {"name": "r3", "type": "text"}],
            "questions": [
                {"name": "tags", "type": "multi_choice", "options": ["x", "y", "z"], "gold": {"match": "exact"}},
                {"name": "score", "type": "rating", "min": 1, "max": 5, "gold": {"tolerance": 1}},
                {"name": "order", "type": "ranking", "fields": ["r1", "r2", "r3"], "gold": {"match": "spearman"}},
                {"name": "ents", "type": "spans", "field": "text", "labels": ["P"], "gold": {"match": "iou"}},
                {"name": "note", "type": "text", "gold": {"score": false}}
            ]
        }))
        .unwrap();
        // The rule survives a round trip through JSON.
        assert_eq!(TaskTemplate::from_json(&t.to_json()).unwrap(), t);
        let gold = json!({"tags": ["x", "y"], "score": 3, "order": [["r1"], ["r2"], ["r3"]],
            "ents": [{"start": 0, "end": 10, "label": "P"}], "note": "x"});
        let answers = json!({"tags": ["y", "x"], "score": 4, "order": [["r2"], ["r1"], ["r3"]],
            "ents": [{"start": 5, "end": 15, "label": "P"}], "note": "y"});
        let s = score_gold(&t, &answers, &gold);
        let by: HashMap<&str, f64> = s.questions.iter().map(|(q, v)| (q.as_str(), *v)).collect();
        assert_eq!(by["tags"], 1.0);
        assert_eq!(by["score"], 1.0);
        // Ranks (2,1,3) against (1,2,3): rho = 0.5, score 0.75.
        assert!((by["order"] - 0.75).abs() < 1e-12);
        // 5 shared characters of 15 in the union.
        assert!((by["ents"] - 1.0 / 3.0).abs() < 1e-12);
        assert!(
            !by.contains_key("note"),
            "score: false leaves the question out"
        );
    }

    #[test]
    fn bad_gold_rules_name_the_key() {
        let bad = |q: Value| {
            let t = json!({"fields": [{"name": "text", "type": "text"}], "questions": [q]});
            TaskTemplate::from_json(&t).unwrap_err()
        };
        let e = bad(
            json!({"name": "l", "type": "single_choice", "options": ["a"], "gold": {"match": "jaccard"}}),
        );
        assert_eq!(e.path(), "questions[0].gold.match");
        assert!(e.to_string().contains("expected one of \"exact\""), "{e}");
        let e = bad(
            json!({"name": "l", "type": "single_choice", "options": ["a"], "gold": {"tolerance": 1}}),
        );
        assert_eq!(e.path(), "questions[0].gold.tolerance");
        let e = bad(
            json!({"name": "s", "type": "rating", "min": 1, "max": 5, "gold": {"tolerance": -1}}),
        );
        assert_eq!(e.path(), "questions[0].gold.tolerance");
        let e =
            bad(json!({"name": "s", "type": "rating", "min": 1, "max": 5, "gold": {"weight": 2}}));
        assert_eq!(e.path(), "questions[0].gold.weight");
        let e = bad(
            json!({"name": "s", "type": "rating", "min": 1, "max": 5, "gold": {"match": "exact"}}),
        );
        assert!(e.to_string().contains("takes no \"match\""), "{e}");
        let t = json!({"fields": [{"name": "img", "type": "image"}], "questions": [
            {"name": "b", "type": "boxes", "field": "img", "labels": ["x"], "gold": {}}]});
        let e = TaskTemplate::from_json(&t).unwrap_err();
        assert_eq!(e.path(), "questions[0].gold.score");
    }

    #[test]
    fn only_gold_questions_count_and_missing_answers_score_zero() {
        let t = template();
        let s = score_gold(
            &t,
            &json!({"tags": ["x"]}),
            &json!({"label": "b", "tags": null}),
        );
        assert_eq!(s.questions, vec![("label".to_string(), 0.0)]);
        assert_eq!(s.mean(), Some(0.0));
        let none = score_gold(&t, &json!({}), &json!({}));
        assert_eq!(none.mean(), None);
        assert_eq!(none.detail(), json!({}));
    }

    #[test]
    fn degenerate_rankings_and_empty_sets() {
        let t = template();
        let all_tied = json!({"order": [["r1", "r2", "r3"]]});
        assert_eq!(score_gold(&t, &all_tied, &all_tied).mean(), Some(1.0));
        let ordered = json!({"order": [["r1"], ["r2"], ["r3"]]});
        assert_eq!(score_gold(&t, &ordered, &all_tied).mean(), Some(0.0));
        let empty = json!({"tags": [], "ents": []});
        assert_eq!(score_gold(&t, &empty, &empty).mean(), Some(1.0));
    }
}
