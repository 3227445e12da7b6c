//! Gold items and live quality: project quality settings, the gold hand-out, the quality job and the figures
//! pages and the API show.
//!
//! The quality job ([`QualityJob`]) is the only place that computes quality figures: it takes one project with
//! new annotations per step, computes per-item aggregates (majority vote with its vote share, or Dawid-Skene per
//! single-choice question once there is enough data), per-question agreement (Krippendorff's alpha, Fleiss' kappa
//! for single-choice questions, percent agreement), per-worker figures and gold scores, applies adaptive overlap,
//! and saves it all in one transaction. Pages and the API only read what it stored, so a page view never costs
//! a computation. See docs/quality.md, "In the platform".

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use fairloop_domain::ProjectId;
use fairloop_domain::queue::QueuePolicy;
use fairloop_domain::template::shapes;
use fairloop_domain::template::{QuestionKind, TaskTemplate, majority_answer, score_gold};
use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_quality::aggregate::{Method, Options, aggregate};
use fairloop_quality::agreement::{Level, Metric, agreement};
use fairloop_quality::{LabelData, RatingData};
use fairloop_store::quality::{
    GoldScoreRow, ItemQualityRow, QualityInput, QualityReport, QualityResults, QualitySettings,
    QuestionQualityRow, WorkerQualityRow,
};
use fairloop_store::{Principal, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::work::NextTask;
use crate::{App, AppError, AppResult};

/// A rerun does not rewrite an item whose answer, method and answer count are unchanged and whose confidence moved
/// less than this (Dawid-Skene nudges every posterior a little whenever any answer arrives).
pub const CONFIDENCE_EPSILON: f64 = 1e-3;

/// Dawid-Skene replaces the majority vote of a single-choice question once this many items have two or more
/// answers to it: below that, per-worker confusion matrices are mostly prior.
pub const DAWID_SKENE_MIN_ITEMS: usize = 10;

/// Adaptive overlap settings of a project (the `adaptive_overlap` object of the project API).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AdaptiveOverlap {
    /// Below this item agreement (0..=1) an item with its overlap of answers gets one more worker.
    pub threshold: f64,
    /// The most answers an item may get that way (from the overlap up to 100).
    pub max_overlap: u32,
}

/// A project's quality settings as the API shows and takes them.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, utoipa::ToSchema)]
pub struct QualitySettingsView {
    /// Share of "next task" calls that first try a gold item (0 = gold items are never handed out).
    pub gold_rate: f64,
    /// Adaptive overlap, when set.
    pub adaptive_overlap: Option<AdaptiveOverlap>,
}

impl From<QualitySettings> for QualitySettingsView {
    fn from(s: QualitySettings) -> Self {
        QualitySettingsView {
            gold_rate: s.gold_rate,
            adaptive_overlap: s.adaptive.map(|(threshold, max)| AdaptiveOverlap {
                threshold,
                max_overlap: max as u32,
            }),
        }
    }
}

/// Checks quality settings given at project creation; the error names the field.
pub(crate) fn validate_settings(
    gold_rate: Option<f64>,
    adaptive: Option<AdaptiveOverlap>,
    overlap: u32,
) -> AppResult<QualitySettings> {
    let bad = |field: &'static str, message: String| AppError::Invalid {
        code: "invalid_quality",
        message,
        details: Some(serde_json::json!({"field": field})),
    };
    let gold_rate = gold_rate.unwrap_or(0.0);
    if !(0.0..=1.0).contains(&gold_rate) {
        return Err(bad(
            "gold_rate",
            format!(
                "gold_rate must be between 0 and 1 (a share of tasks, e.g. 0.1), got {gold_rate}"
            ),
        ));
    }
    if let Some(a) = adaptive {
        if !(0.0..=1.0).contains(&a.threshold) {
            return Err(bad(
                "adaptive_overlap.threshold",
                format!(
                    "adaptive_overlap.threshold must be between 0 and 1 (an item agreement), got {}",
                    a.threshold
                ),
            ));
        }
        if a.max_overlap <= overlap || a.max_overlap > QueuePolicy::MAX_OVERLAP {
            return Err(bad(
                "adaptive_overlap.max_overlap",
                format!(
                    "adaptive_overlap.max_overlap must be above the overlap ({overlap}) and at most {}, got {}",
                    QueuePolicy::MAX_OVERLAP,
                    a.max_overlap
                ),
            ));
        }
    }
    Ok(QualitySettings {
        gold_rate,
        adaptive: adaptive.map(|a| (a.threshold, i64::from(a.max_overlap))),
    })
}

/// Agreement of one question, as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionQualityView {
    /// Question name.
    pub question: String,
    /// Which alpha: `krippendorff_alpha_nominal` (choices) or `krippendorff_alpha_ordinal` (ratings).
    pub metric: String,
    /// Krippendorff's alpha; `null` when undefined (then `note` says why).
    pub alpha: Option<f64>,
    /// Fleiss' kappa for single-choice questions; `null` otherwise or when undefined.
    pub fleiss_kappa: Option<f64>,
    /// Mean share of agreeing answer pairs per item; `null` when no item has two answers.
    pub percent_agreement: Option<f64>,
    /// Why a figure is `null`.
    pub note: Option<String>,
    /// Items with an answer to this question.
    pub items: i64,
    /// Answers to this question.
    pub annotations: i64,
}

/// Figures of one worker, as the API shows them (to the project's requesters only).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkerQualityView {
    /// The worker's user id.
    pub worker_id: i64,
    /// Display name.
    pub name: String,
    /// Submissions on normal (non-gold) items.
    pub submissions: i64,
    /// Share of the worker's answers equal to the aggregate (over items with two or more answers); `null` when
    /// none could be compared.
    pub agreement: Option<f64>,
    /// Answers compared with an aggregate.
    pub compared: i64,
    /// Gold submissions scored.
    pub gold_answers: i64,
    /// Mean gold score (0..1); `null` without gold submissions.
    pub gold_accuracy: Option<f64>,
}

/// A project's stored quality figures (`GET /api/v1/projects/{id}/quality`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualityView {
    /// The project's quality settings.
    pub settings: QualitySettingsView,
    /// When the quality job last saved figures (RFC 3339 UTC); `null` before its first run.
    pub computed_at: Option<String>,
    /// Items with an aggregate.
    pub items: i64,
    /// Items whose agreement is below 0.5.
    pub low_agreement_items: i64,
    /// Items that adaptive overlap gave more workers, and how many slots in all.
    pub adapted_items: i64,
    /// Extra slots given by adaptive overlap.
    pub extra_slots: i64,
    /// Item agreement in ten bins of width 0.1 (`[0, 0.1)`, …, `[0.9, 1]`).
    pub agreement_histogram: Vec<i64>,
    /// Per question.
    pub questions: Vec<QuestionQualityView>,
    /// Per worker.
    pub workers: Vec<WorkerQualityView>,
}

impl QualityView {
    fn new(settings: QualitySettings, r: QualityReport) -> Self {
        QualityView {
            settings: settings.into(),
            computed_at: r.computed_at.map(to_rfc3339),
            items: r.items,
            low_agreement_items: r.low_agreement_items,
            adapted_items: r.adapted_items,
            extra_slots: r.extra_slots,
            agreement_histogram: r.agreement_histogram.to_vec(),
            questions: r
                .questions
                .into_iter()
                .map(|q| QuestionQualityView {
                    question: q.question,
                    metric: q.metric,
                    alpha: q.alpha,
                    fleiss_kappa: q.fleiss_kappa,
                    percent_agreement: q.percent_agreement,
                    note: q.note,
                    items: q.items,
                    annotations: q.annotations,
                })
                .collect(),
            workers: r
                .workers
                .into_iter()
                .map(|(w, name, gold_answers, gold_accuracy)| WorkerQualityView {
                    worker_id: w.worker_id,
                    name,
                    submissions: w.submissions,
                    agreement: (w.compared > 0).then(|| w.agreed as f64 / w.compared as f64),
                    compared: w.compared,
                    gold_answers,
                    gold_accuracy,
                })
                .collect(),
        }
    }
}

/// Headline quality figures (the `quality` object of `GET /api/v1/projects/{id}/stats`).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QualitySummaryView {
    /// Items with an aggregate.
    pub items: i64,
    /// Items whose agreement is below 0.5.
    pub low_agreement_items: i64,
    /// Mean item agreement; `null` while no item has two answers.
    pub mean_agreement: Option<f64>,
    /// Gold submissions scored.
    pub gold_answers: i64,
    /// When the quality job last saved figures (RFC 3339 UTC); `null` before its first run.
    pub computed_at: Option<String>,
}

impl App {
    /// Headline quality figures of a project (requesters and admins), for the stats endpoint.
    pub async fn quality_summary(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<QualitySummaryView> {
        require_manager(principal)?;
        let s = self
            .store
            .quality_summary(principal.org_id, project)
            .await
            .or_not_found("project")?;
        Ok(QualitySummaryView {
            items: s.items,
            low_agreement_items: s.low_agreement_items,
            mean_agreement: s.mean_agreement,
            gold_answers: s.gold_answers,
            computed_at: s.computed_at.map(to_rfc3339),
        })
    }

    /// A project's quality settings (defaults when none were set).
    pub async fn quality_settings(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<QualitySettingsView> {
        Ok(self
            .store
            .quality_settings(principal.org_id, project)
            .await
            .or_not_found("project")?
            .into())
    }

    /// The stored quality figures of a project (requesters and admins of its organization).
    pub async fn project_quality(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<QualityView> {
        require_manager(principal)?;
        let org = principal.org_id;
        let settings = self
            .store
            .quality_settings(org, project)
            .await
            .or_not_found("project")?;
        let report = self
            .store
            .quality_report(org, project)
            .await
            .or_not_found("project")?;
        Ok(QualityView::new(settings, report))
    }

    /// The gold hand-out of "next task": with the project's gold rate, try a gold item this worker has not had.
    /// `None` means "use the normal queue".
    pub(crate) async fn maybe_gold_task(
        &self,
        principal: &Principal,
        project: ProjectId,
        now: Millis,
    ) -> AppResult<Option<NextTask>> {
        let settings = self.cached_quality_settings(principal, project).await?;
        if settings.gold_rate <= 0.0 || rand::random::<f64>() >= settings.gold_rate {
            return Ok(None);
        }
        let p = self
            .store
            .project(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let claim = self
            .store
            .claim_gold(
                principal.org_id,
                project,
                principal.user_id,
                now,
                i64::from(p.policy.lease_seconds),
                i64::from(p.policy.max_open_per_worker),
            )
            .await;
        match claim {
            Ok(c) => Ok(c.map(NextTask::from)),
            Err(StoreError::NotFound) => Err(AppError::NotFound("project")),
            Err(e) => {
                // A concurrent claim by the same worker can hit the one-lease-per-item index: the normal queue
                // answers instead.
                tracing::debug!(error = %e, "gold claim failed; using the normal queue");
                Ok(None)
            }
        }
    }

    /// Quality settings never change after a project is created, so they are cached like templates.
    pub(crate) async fn cached_quality_settings(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<QualitySettings> {
        if let Some(s) = self
            .quality_settings
            .lock()
            .expect("quality settings cache lock")
            .get(&(principal.org_id, project))
        {
            return Ok(*s);
        }
        let s = self
            .store
            .quality_settings(principal.org_id, project)
            .await
            .or_not_found("project")?;
        self.quality_settings
            .lock()
            .expect("quality settings cache lock")
            .insert((principal.org_id, project), s);
        Ok(s)
    }
}

/// Recomputes quality figures as work arrives: one project per step.
#[derive(Debug, Clone)]
pub struct QualityJob {
    app: App,
}

impl QualityJob {
    /// A quality job over the app's store.
    pub fn new(app: App) -> Self {
        QualityJob { app }
    }

    /// Brings the project that waited longest up to date; answers whether there was one. A run that loses a
    /// race with another process saves nothing and answers `true` (the next step starts over).
    pub async fn try_run_one(&self, now: Millis) -> AppResult<bool> {
        let Some(input) = self.app.store.next_quality_input().await? else {
            return Ok(false);
        };
        let template = self
            .app
            .template_of(input.project.project_id, &input.project.template)?;
        let results = tokio::task::spawn_blocking(move || compute(input, &template, now))
            .await
            .map_err(|e| AppError::Internal(format!("quality task: {e}")))?;
        let (org, project) = (results.org_id, results.project_id);
        match self.app.store.save_quality(results).await {
            Ok(()) => {
                // Profiles carry each worker's quality for requirements and matching (profiles.rs); the figures
                // just saved stand even if this roll-up fails.
                if let Err(e) = self.app.refresh_worker_quality(org, project).await {
                    tracing::error!(error = %e, project, "rolling quality up into profiles failed");
                }
                Ok(true)
            }
            Err(StoreError::Conflict { .. }) => Ok(true),
            Err(e) => Err(e.into()),
        }
    }

    /// Runs forever: steps back to back while projects wait, otherwise one every `period`.
    pub async fn run(self, period: Duration) {
        loop {
            match self.try_run_one(now_millis()).await {
                Ok(true) => continue,
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "quality step failed"),
            }
            tokio::time::sleep(period).await;
        }
    }
}

/// A canonical text of an answer, so equal answers compare equal (a multi-choice selection in any order).
fn canonical(kind: &QuestionKind, v: &Value) -> String {
    match (kind, v) {
        (QuestionKind::MultiChoice { .. }, Value::Array(a)) => {
            let mut s: Vec<&str> = a.iter().filter_map(Value::as_str).collect();
            s.sort_unstable();
            s.join("|")
        }
        (_, Value::String(s)) => s.clone(),
        (_, other) => other.to_string(),
    }
}

/// Share of agreeing pairs among the answers (`None` below two answers).
fn pair_agreement(values: &[String]) -> Option<f64> {
    let n = values.len();
    if n < 2 {
        return None;
    }
    let mut counts: HashMap<&str, usize> = HashMap::new();
    for v in values {
        *counts.entry(v.as_str()).or_default() += 1;
    }
    let agreeing: usize = counts.values().map(|c| c * (c - 1) / 2).sum();
    Some(agreeing as f64 / (n * (n - 1) / 2) as f64)
}

/// A computed coefficient, or why there is none (never NaN).
fn metric(data: &RatingData, m: Metric) -> Result<f64, String> {
    match agreement(data, m) {
        Ok(a) if a.value.is_finite() => Ok(a.value),
        Ok(_) => Err(
            "undefined: every answer is the same value, so there is no disagreement to expect"
                .into(),
        ),
        Err(e) => Err(format!("undefined: {e}")),
    }
}

/// What the quality run finds for one shape question on one item.
struct ShapeItem {
    /// Answers given.
    answers: usize,
    /// Mean agreement of every pair of answers; `None` below two answers.
    agreement: Option<f64>,
    /// The consensus shapes (an answer in the question's format); `None` below two answers.
    consensus: Option<Value>,
    /// Per worker: whether their answer agrees with the consensus (agreement at least 0.5).
    agreeing: Vec<(i64, bool)>,
}

/// Everything one quality run finds for a project; pure, so tests can call it on hand-made input.
pub fn compute(input: QualityInput, template: &TaskTemplate, now: Millis) -> QualityResults {
    let project = &input.project;
    let questions: Vec<(&str, &QuestionKind)> = template
        .questions
        .iter()
        .filter(|q| template.majority_questions().contains(&q.name.as_str()))
        .map(|q| (q.name.as_str(), &q.kind))
        .collect();
    // Parsed annotations grouped by item (the input is ordered by item).
    let parsed: Vec<(i64, i64, Value)> = input
        .annotations
        .iter()
        .map(|a| {
            (
                a.item_id,
                a.worker_id,
                serde_json::from_str(&a.answers).unwrap_or(Value::Null),
            )
        })
        .collect();
    let mut items: BTreeMap<i64, Vec<(i64, &Value)>> = BTreeMap::new();
    for (item, worker, answers) in &parsed {
        items.entry(*item).or_default().push((*worker, answers));
    }
    // Majority answers per item and question, with the vote share.
    let mut answer: HashMap<(i64, &str), (Value, f64)> = HashMap::new();
    let mut per_question_values: HashMap<(i64, &str), Vec<(i64, String)>> = HashMap::new();
    for (&item, anns) in &items {
        for &(name, kind) in &questions {
            let given: Vec<(i64, &Value)> = anns
                .iter()
                .filter_map(|(w, a)| a.get(name).filter(|v| !v.is_null()).map(|v| (*w, v)))
                .collect();
            if given.is_empty() {
                continue;
            }
            let values: Vec<(i64, String)> = given
                .iter()
                .map(|(w, v)| (*w, canonical(kind, v)))
                .collect();
            let refs: Vec<&Value> = given.iter().map(|g| g.1).collect();
            if let Some(m) = majority_answer(template, name, &refs) {
                let c = canonical(kind, &m);
                let share = values.iter().filter(|v| v.1 == c).count() as f64 / values.len() as f64;
                answer.insert((item, name), (m, share));
            }
            per_question_values.insert((item, name), values);
        }
    }
    // Shape questions (boxes, polygons, keypoints, video events, tracks): per item, the mean agreement of every
    // pair of answers (matched shapes' IoU, OKS or temporal IoU, see `fairloop_domain::template::shapes`) and the
    // consensus shapes.
    let shape_questions: Vec<(&str, &QuestionKind)> = template
        .questions
        .iter()
        .filter(|q| shapes::is_shape_kind(&q.kind))
        .map(|q| (q.name.as_str(), &q.kind))
        .collect();
    let mut shape_stats: HashMap<(i64, &str), ShapeItem> = HashMap::new();
    for (&item, anns) in &items {
        for &(name, kind) in &shape_questions {
            let given: Vec<(i64, &Value)> = anns
                .iter()
                .filter_map(|(w, a)| a.get(name).filter(|v| !v.is_null()).map(|v| (*w, v)))
                .collect();
            if given.is_empty() {
                continue;
            }
            let parsed: Vec<Vec<shapes::Shape>> = given
                .iter()
                .map(|(_, v)| shapes::parse_shapes(kind, v))
                .collect();
            let (mut sum, mut n) = (0.0, 0usize);
            for i in 0..parsed.len() {
                for j in i + 1..parsed.len() {
                    sum += shapes::agreement(&parsed[i], &parsed[j]);
                    n += 1;
                }
            }
            let refs: Vec<&Value> = given.iter().map(|g| g.1).collect();
            let consensus = shapes::consensus(kind, &refs).map(|c| c.0);
            // A worker agrees with the consensus when their shapes match it at least half-way (agreement >= 0.5).
            let agreeing: Vec<(i64, bool)> = match &consensus {
                Some(c) => {
                    let cs = shapes::parse_shapes(kind, c);
                    given
                        .iter()
                        .zip(&parsed)
                        .map(|((w, _), p)| (*w, shapes::agreement(p, &cs) >= 0.5))
                        .collect()
                }
                None => Vec::new(),
            };
            shape_stats.insert(
                (item, name),
                ShapeItem {
                    answers: given.len(),
                    agreement: (n > 0).then(|| sum / n as f64),
                    consensus,
                    agreeing,
                },
            );
        }
    }
    // Dawid-Skene per single-choice question when there is enough overlap.
    let mut ds_used = false;
    for &(name, kind) in &questions {
        if !matches!(kind, QuestionKind::SingleChoice { .. }) {
            continue;
        }
        let overlapped = items
            .keys()
            .filter(|i| {
                per_question_values
                    .get(&(**i, name))
                    .is_some_and(|v| v.len() >= 2)
            })
            .count();
        if overlapped < DAWID_SKENE_MIN_ITEMS {
            continue;
        }
        let mut data = LabelData::new();
        for &item in items.keys() {
            for (w, v) in per_question_values.get(&(item, name)).into_iter().flatten() {
                data.push(&item.to_string(), &w.to_string(), v);
            }
        }
        if data.workers.len() < 2 {
            continue;
        }
        let agg = aggregate(&data, Method::DawidSkene, Options::default());
        for t in 0..data.tasks.len() {
            let item: i64 = data.tasks.get(t as u32).parse().unwrap_or_default();
            let label = data.classes.get(agg.label[t]).to_string();
            answer.insert((item, name), (Value::String(label), agg.confidence[t]));
        }
        ds_used = true;
    }
    let method = if ds_used { "dawid_skene" } else { "majority" };
    // Item rows: items with new answers, and (when Dawid-Skene ran, which can change any answer) items whose
    // answer or confidence changed.
    let mut item_rows = Vec::new();
    let mut extra_slots = Vec::new();
    for (&item, anns) in &items {
        let count = anns.len() as i64;
        let previous = input.previous.get(&item);
        let same_count = previous.is_some_and(|p| p.annotations == count);
        if !ds_used && same_count {
            continue;
        }
        let mut obj = Map::new();
        let (mut conf_sum, mut conf_n, mut agr_sum, mut agr_n) = (0.0, 0, 0.0, 0);
        for &(name, _) in &questions {
            if let Some((v, c)) = answer.get(&(item, name)) {
                obj.insert(name.to_string(), v.clone());
                conf_sum += c;
                conf_n += 1;
            }
            let values: Vec<String> = per_question_values
                .get(&(item, name))
                .map(|v| v.iter().map(|x| x.1.clone()).collect())
                .unwrap_or_default();
            if let Some(a) = pair_agreement(&values) {
                agr_sum += a;
                agr_n += 1;
            }
        }
        for &(name, _) in &shape_questions {
            if let Some(st) = shape_stats.get(&(item, name)) {
                if let Some(a) = st.agreement {
                    agr_sum += a;
                    agr_n += 1;
                }
                if let Some(c) = &st.consensus {
                    obj.insert(name.to_string(), c.clone());
                }
            }
        }
        let agreement = (agr_n > 0).then(|| agr_sum / agr_n as f64);
        if let (Some(a), Some((threshold, max))) = (agreement, project.settings.adaptive) {
            let target = project.overlap + previous.map_or(0, |p| p.extra_slots);
            if a < threshold && count >= target && target < max {
                extra_slots.push((item, target));
            }
        }
        let row = ItemQualityRow {
            item_id: item,
            agreement,
            answer: (!obj.is_empty()).then(|| Value::Object(obj).to_string()),
            confidence: (conf_n > 0).then(|| conf_sum / conf_n as f64),
            annotations: count,
            method: method.to_string(),
        };
        let unchanged = previous.is_some_and(|p| {
            same_count
                && p.answer == row.answer
                && p.method == row.method
                && match (p.confidence, row.confidence) {
                    (Some(a), Some(b)) => (a - b).abs() < CONFIDENCE_EPSILON,
                    (a, b) => a.is_none() && b.is_none(),
                }
        });
        if !unchanged {
            item_rows.push(row);
        }
    }
    // Agreement per question over the whole project.
    let mut question_rows = Vec::new();
    for &(name, kind) in &questions {
        let mut data = RatingData::default();
        let (mut n_items, mut n_answers) = (0i64, 0i64);
        let (mut pct_sum, mut pct_n) = (0.0, 0);
        for &item in items.keys() {
            let Some(values) = per_question_values.get(&(item, name)) else {
                continue;
            };
            n_items += 1;
            n_answers += values.len() as i64;
            for (w, v) in values {
                data.push(&item.to_string(), &w.to_string(), v);
            }
            if let Some(p) = pair_agreement(&values.iter().map(|x| x.1.clone()).collect::<Vec<_>>())
            {
                pct_sum += p;
                pct_n += 1;
            }
        }
        let level = match kind {
            QuestionKind::Rating { .. } => Level::Ordinal,
            _ => Level::Nominal,
        };
        let mut notes = Vec::new();
        let alpha = if data.is_empty() {
            notes.push("no answers yet".to_string());
            None
        } else {
            metric(&data, Metric::KrippendorffAlpha(level))
                .map_err(|e| notes.push(format!("alpha {e}")))
                .ok()
        };
        let fleiss = match kind {
            QuestionKind::SingleChoice { .. } if !data.is_empty() => {
                metric(&data, Metric::FleissKappa)
                    .map_err(|e| notes.push(format!("Fleiss' kappa {e}")))
                    .ok()
            }
            _ => None,
        };
        notes.dedup();
        question_rows.push(QuestionQualityRow {
            question: name.to_string(),
            metric: format!("krippendorff_alpha_{}", level.name()),
            alpha,
            fleiss_kappa: fleiss,
            percent_agreement: (pct_n > 0).then(|| pct_sum / pct_n as f64),
            note: (!notes.is_empty()).then(|| notes.join("; ")),
            items: n_items,
            annotations: n_answers,
        });
    }
    // Shape questions: the mean pair agreement over items with two or more answers (alpha does not apply).
    for &(name, kind) in &shape_questions {
        let (mut n_items, mut n_answers, mut sum, mut n) = (0i64, 0i64, 0.0, 0usize);
        for &item in items.keys() {
            let Some(st) = shape_stats.get(&(item, name)) else {
                continue;
            };
            n_items += 1;
            n_answers += st.answers as i64;
            if let Some(a) = st.agreement {
                sum += a;
                n += 1;
            }
        }
        let measure = shapes::measure_name(kind).unwrap_or("iou");
        question_rows.push(QuestionQualityRow {
            question: name.to_string(),
            metric: format!("mean_{measure}"),
            alpha: None,
            fleiss_kappa: None,
            percent_agreement: (n > 0).then(|| sum / n as f64),
            note: Some(if n > 0 {
                format!(
                    "shapes: mean {} of matched shapes per answer pair (alpha does not apply)",
                    measure.replace('_', " ")
                )
            } else {
                "no item has two answers yet".to_string()
            }),
            items: n_items,
            annotations: n_answers,
        });
    }
    // Per worker: submissions and agreement with the aggregate of items with two or more answers.
    let mut workers: BTreeMap<i64, WorkerQualityRow> = BTreeMap::new();
    for (item, worker, _) in &parsed {
        let w = workers.entry(*worker).or_insert(WorkerQualityRow {
            worker_id: *worker,
            submissions: 0,
            compared: 0,
            agreed: 0,
        });
        w.submissions += 1;
        for &(name, kind) in &questions {
            let Some(values) = per_question_values.get(&(*item, name)) else {
                continue;
            };
            let (Some(mine), Some((agg, _))) = (
                values.iter().find(|v| v.0 == *worker),
                answer.get(&(*item, name)),
            ) else {
                continue;
            };
            if values.len() >= 2 {
                w.compared += 1;
                if mine.1 == canonical(kind, agg) {
                    w.agreed += 1;
                }
            }
        }
    }
    for st in shape_stats.values().filter(|st| st.answers >= 2) {
        for (worker, agreed) in &st.agreeing {
            if let Some(w) = workers.get_mut(worker) {
                w.compared += 1;
                if *agreed {
                    w.agreed += 1;
                }
            }
        }
    }
    // Gold scores of new gold submissions.
    let gold = input
        .unscored_gold
        .iter()
        .map(|(a, gold)| {
            let answers: Value = serde_json::from_str(&a.answers).unwrap_or(Value::Null);
            let gold: Value = serde_json::from_str(gold).unwrap_or(Value::Null);
            let s = score_gold(template, &answers, &gold);
            GoldScoreRow {
                annotation_id: a.id,
                item_id: a.item_id,
                worker_id: a.worker_id,
                score: s.mean(),
                detail: s.detail().to_string(),
            }
        })
        .collect();
    let seen = input
        .annotations
        .iter()
        .map(|a| a.id)
        .chain(input.unscored_gold.iter().map(|g| g.0.id))
        .max()
        .unwrap_or(0);
    QualityResults {
        org_id: project.org_id,
        project_id: project.project_id,
        previous_watermark: project.last_annotation_id,
        watermark: project
            .last_annotation_id
            .max(input.max_annotation_id)
            .max(seen),
        items: item_rows,
        questions: question_rows,
        workers: workers.into_values().collect(),
        gold,
        extra_slots,
        now,
    }
}

#[cfg(test)]
mod tests {
    use fairloop_store::quality::{DirtyProject, PreviousItem, QualityAnnotation};
    use serde_json::json;

    use super::*;

    fn template() -> TaskTemplate {
        TaskTemplate::from_json(&json!({
            "fields": [{"name": "text", "type": "text"}],
            "questions": [
                {"name": "label", "type": "single_choice", "options": ["a", "b"]},
                {"name": "tags", "type": "multi_choice", "options": ["x", "y"]}
            ]
        }))
        .unwrap()
    }

    fn input(rows: &[(i64, i64, Value)], previous: &[(i64, (i64, i64))]) -> QualityInput {
        let previous = previous
            .iter()
            .map(|&(item, (annotations, extra_slots))| {
                (
                    item,
                    PreviousItem {
                        annotations,
                        extra_slots,
                        ..PreviousItem::default()
                    },
                )
            })
            .collect();
        QualityInput {
            project: DirtyProject {
                org_id: 1,
                project_id: 7,
                template: String::new(),
                overlap: 3,
                settings: QualitySettings {
                    gold_rate: 0.0,
                    adaptive: Some((0.9, 4)),
                },
                last_annotation_id: 0,
            },
            annotations: rows
                .iter()
                .enumerate()
                .map(|(i, (item, worker, a))| QualityAnnotation {
                    id: i as i64 + 1,
                    item_id: *item,
                    worker_id: *worker,
                    answers: a.to_string(),
                })
                .collect(),
            unscored_gold: Vec::new(),
            previous,
            max_annotation_id: rows.len() as i64,
        }
    }

    #[test]
    fn shape_questions_get_agreement_consensus_and_worker_figures() {
        let t = TaskTemplate::from_json(&json!({
            "fields": [{"name": "img", "type": "image"}, {"name": "clip", "type": "video"}],
            "questions": [
                {"name": "cars", "type": "boxes", "field": "img", "labels": ["car"]},
                {"name": "errs", "type": "video_events", "field": "clip", "labels": ["flicker"]}
            ]
        }))
        .unwrap();
        let b = |x: f64| json!({"x": x, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"});
        // Item 1: workers 1 and 2 draw the car 0.1 apart (IoU 1/3), worker 3 draws it exactly like worker 1.
        // Item 2: one answer only.
        let rows = vec![
            (
                1,
                1,
                json!({"cars": [b(0.1)], "errs": [{"start": 1.0, "end": 3.0, "label": "flicker"}]}),
            ),
            (
                1,
                2,
                json!({"cars": [b(0.2)], "errs": [{"start": 2.0, "end": 4.0, "label": "flicker"}]}),
            ),
            (1, 3, json!({"cars": [b(0.1)], "errs": []})),
            (2, 1, json!({"cars": []})),
        ];
        let r = compute(input(&rows, &[]), &t, 1000);
        let q = |name: &str| r.questions.iter().find(|q| q.question == name).unwrap();
        // Pairs (1,2) 1/3, (1,3) 1, (2,3) 1/3: mean 5/9, over the one item with two or more answers.
        let cars = q("cars");
        assert_eq!(cars.metric, "mean_iou");
        assert!(
            (cars.percent_agreement.unwrap() - 5.0 / 9.0).abs() < 1e-12,
            "{cars:?}"
        );
        assert_eq!((cars.items, cars.annotations, cars.alpha), (2, 4, None));
        // Events: (1,2) temporal IoU 1/3; (1,3) and (2,3) 0 (one side empty): 1/9.
        let errs = q("errs");
        assert_eq!(errs.metric, "mean_temporal_iou");
        assert!(
            (errs.percent_agreement.unwrap() - 1.0 / 9.0).abs() < 1e-12,
            "{errs:?}"
        );
        // The item's aggregate holds the consensus: the mean of the three boxes (all within IoU 0.5 of the first?
        // No: worker 2's is at 1/3, so it opens its own cluster, which one answer of three does not carry).
        let item1 = r.items.iter().find(|i| i.item_id == 1).unwrap();
        let answer: Value = serde_json::from_str(item1.answer.as_ref().unwrap()).unwrap();
        assert_eq!(answer["cars"], json!([b(0.1)]));
        // Events: the two flicker marks overlap at 1/3, so no cluster has a majority: the consensus is empty.
        assert_eq!(answer["errs"], json!([]));
        // Item agreement: the mean over the two questions.
        assert!((item1.agreement.unwrap() - (5.0 / 9.0 + 1.0 / 9.0) / 2.0).abs() < 1e-12);
        // Worker 2's box misses the consensus box (agreement 1/3 < 0.5); workers 1 and 3 match it.
        let w = |id: i64| r.workers.iter().find(|w| w.worker_id == id).unwrap();
        assert_eq!((w(1).compared, w(1).agreed), (2, 1));
        assert_eq!((w(2).compared, w(2).agreed), (2, 0));
        assert_eq!((w(3).compared, w(3).agreed), (2, 2));
    }

    #[test]
    fn dawid_skene_takes_over_single_choice_once_enough_items_overlap() {
        // Workers 1 and 2 are reliable, worker 3 always answers the opposite: with 12 overlapped items the
        // Dawid-Skene posterior is confident in the reliable pair, and every item is rewritten.
        let mut rows = Vec::new();
        for item in 1..=12 {
            let truth = if item % 3 == 0 { "b" } else { "a" };
            let wrong = if truth == "a" { "b" } else { "a" };
            rows.push((item, 1, json!({"label": truth, "tags": ["x"]})));
            rows.push((item, 2, json!({"label": truth, "tags": ["y", "x"]})));
            rows.push((item, 3, json!({"label": wrong})));
        }
        let previous: Vec<(i64, (i64, i64))> = (1..=12).map(|i| (i, (3, 0))).collect();
        let r = compute(input(&rows, &previous), &template(), 1000);
        assert_eq!(
            r.items.len(),
            12,
            "Dawid-Skene may change every answer, so every item is written"
        );
        for row in &r.items {
            assert_eq!(row.method, "dawid_skene");
            let answer: Value = serde_json::from_str(row.answer.as_ref().unwrap()).unwrap();
            let truth = if row.item_id % 3 == 0 { "b" } else { "a" };
            assert_eq!(answer["label"], truth);
            assert_eq!(
                answer["tags"],
                json!(["x"]),
                "multi-choice stays a majority of sets"
            );
            assert!(row.confidence.unwrap() > 0.5 && row.confidence.unwrap() <= 1.0);
            assert!(row.agreement.unwrap() < 0.9);
        }
        // Every item is below the threshold with its overlap of answers: each gets one more slot.
        assert_eq!(r.extra_slots.len(), 12);
        assert!(r.extra_slots.iter().all(|&(_, needed)| needed == 3));
        let w3 = r.workers.iter().find(|w| w.worker_id == 3).unwrap();
        assert_eq!((w3.submissions, w3.compared, w3.agreed), (12, 12, 0));
        let label = r.questions.iter().find(|q| q.question == "label").unwrap();
        assert!(
            label.alpha.unwrap() < 0.0,
            "a systematic contrarian drives alpha below zero"
        );
        assert_eq!(r.watermark, 36);

        // Run again on the same answers with what was stored: Dawid-Skene runs, but nothing changed, so no item
        // is rewritten (and the items keep their slots).
        let mut again = input(&rows, &[]);
        again.previous = r
            .items
            .iter()
            .map(|row| {
                (
                    row.item_id,
                    PreviousItem {
                        annotations: row.annotations,
                        extra_slots: 1,
                        answer: row.answer.clone(),
                        confidence: row.confidence,
                        method: row.method.clone(),
                    },
                )
            })
            .collect();
        let r2 = compute(again, &template(), 2000);
        assert!(r2.items.is_empty(), "{:?}", r2.items);
        assert!(r2.extra_slots.is_empty());
    }

    #[test]
    fn majority_only_rewrites_items_with_new_answers_and_respects_max_overlap() {
        let rows = vec![
            (1, 1, json!({"label": "a"})),
            (1, 2, json!({"label": "b"})),
            (1, 3, json!({"label": "b"})),
            (2, 1, json!({"label": "a"})),
            (2, 2, json!({"label": "b"})),
            (2, 3, json!({"label": "a"})),
            (2, 4, json!({"label": "b"})),
        ];
        // Item 1 was seen with these 3 answers already; item 2 has one more answer than last time, and already
        // had one extra slot, so at max_overlap 4 it gets no further slot.
        let r = compute(input(&rows, &[(1, (3, 0)), (2, (3, 1))]), &template(), 1);
        assert_eq!(r.items.len(), 1);
        assert_eq!(r.items[0].item_id, 2);
        assert_eq!(r.items[0].method, "majority");
        assert!((r.items[0].agreement.unwrap() - 2.0 / 6.0).abs() < 1e-12);
        assert!(r.extra_slots.is_empty());
        // tags were never answered: the question has no figures and says why.
        let tags = r.questions.iter().find(|q| q.question == "tags").unwrap();
        assert_eq!(tags.alpha, None);
        assert_eq!(tags.note.as_deref(), Some("no answers yet"));
    }
}
