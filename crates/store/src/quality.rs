//! Storage of gold items and live quality: quality settings per project, the gold hand-out, and the quality
//! job's input and output.
//!
//! Everything here is off the hot path and written once for both backends through [`crate::portable`]. The
//! computation itself (aggregation, agreement, gold scoring) happens in the app layer on plain rows: this module
//! only reads what the job needs and writes what it found, in one transaction each.
//!
//! Gold items never enter the normal queue: the importer gives them `free_slots = 0`, and a gold lease takes a
//! slot below zero (so `free_slots = -(annotations + open leases)` for a gold item). A skip or an expiry gives the
//! slot back to zero, never above it, so the normal index (`WHERE free_slots > 0`) never offers a gold item.

use std::collections::HashMap;

use fairloop_domain::time::Millis;
use fairloop_domain::{AnnotationId, ItemId, OrgId, ProjectId, UserId};

use crate::portable::Tx;
use crate::{Claim, Store, StoreError, StoreResult, params};

/// A project's quality settings.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QualitySettings {
    /// Share (0..=1) of "next task" calls that first try a gold item.
    pub gold_rate: f64,
    /// Adaptive overlap: `(threshold, max_overlap)`.
    pub adaptive: Option<(f64, i64)>,
}

/// A project with annotations the quality job has not taken into account yet.
#[derive(Debug, Clone)]
pub struct DirtyProject {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// Its template, JSON text.
    pub template: String,
    /// Its overlap.
    pub overlap: i64,
    /// Its quality settings.
    pub settings: QualitySettings,
    /// The job's watermark: every annotation up to this id has been counted.
    pub last_annotation_id: AnnotationId,
}

/// One annotation as the quality job reads it.
#[derive(Debug, Clone)]
pub struct QualityAnnotation {
    /// Id.
    pub id: AnnotationId,
    /// Item.
    pub item_id: ItemId,
    /// Worker.
    pub worker_id: UserId,
    /// Answers, JSON text.
    pub answers: String,
}

/// What the last quality run stored for an item.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct PreviousItem {
    /// Annotations counted.
    pub annotations: i64,
    /// Extra slots adaptive overlap gave it.
    pub extra_slots: i64,
    /// The stored answer (JSON text).
    pub answer: Option<String>,
    /// The stored confidence.
    pub confidence: Option<f64>,
    /// The stored method.
    pub method: String,
}

/// Everything the quality job needs about one project.
#[derive(Debug, Clone)]
pub struct QualityInput {
    /// The project.
    pub project: DirtyProject,
    /// Every annotation of the project's non-gold items, by item then id.
    pub annotations: Vec<QualityAnnotation>,
    /// Annotations of gold items not scored yet, each with its item's gold answer (JSON text).
    pub unscored_gold: Vec<(QualityAnnotation, String)>,
    /// What the last run stored per item.
    pub previous: HashMap<ItemId, PreviousItem>,
    /// The highest annotation id of the project when this was read.
    pub max_annotation_id: AnnotationId,
}

/// The aggregate of one item.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemQualityRow {
    /// Item.
    pub item_id: ItemId,
    /// Mean share of agreeing answer pairs over its questions; `None` with fewer than two answers.
    pub agreement: Option<f64>,
    /// JSON object {question: answer}; `None` when no question has an aggregate.
    pub answer: Option<String>,
    /// Mean confidence of the answers.
    pub confidence: Option<f64>,
    /// Annotations counted.
    pub annotations: i64,
    /// `majority` or `dawid_skene`.
    pub method: String,
}

/// Agreement of one question over a project.
#[derive(Debug, Clone, PartialEq)]
pub struct QuestionQualityRow {
    /// Question name.
    pub question: String,
    /// The alpha's name, e.g. `krippendorff_alpha_nominal`.
    pub metric: String,
    /// Krippendorff's alpha; `None` when undefined.
    pub alpha: Option<f64>,
    /// Fleiss' kappa (single-choice questions); `None` when undefined or not applicable.
    pub fleiss_kappa: Option<f64>,
    /// Mean pairwise percent agreement; `None` when no item has two answers.
    pub percent_agreement: Option<f64>,
    /// Why a figure is missing, for people.
    pub note: Option<String>,
    /// Items with an answer.
    pub items: i64,
    /// Answers.
    pub annotations: i64,
}

/// Figures of one worker in a project (gold figures are summed by the store from `gold_scores`).
#[derive(Debug, Clone, PartialEq)]
pub struct WorkerQualityRow {
    /// Worker.
    pub worker_id: UserId,
    /// Submissions on non-gold items.
    pub submissions: i64,
    /// Answers compared with an aggregate of two or more answers.
    pub compared: i64,
    /// Of those, how many equal the aggregate.
    pub agreed: i64,
}

/// The score of one gold submission.
#[derive(Debug, Clone, PartialEq)]
pub struct GoldScoreRow {
    /// Annotation.
    pub annotation_id: AnnotationId,
    /// Item.
    pub item_id: ItemId,
    /// Worker.
    pub worker_id: UserId,
    /// Mean over scored questions; `None` when no question could be scored.
    pub score: Option<f64>,
    /// JSON object {question: score}.
    pub detail: String,
}

/// What one run of the quality job found for a project.
#[derive(Debug, Clone)]
pub struct QualityResults {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// The watermark the input was read at (the save fails if another run moved it meanwhile).
    pub previous_watermark: AnnotationId,
    /// The new watermark.
    pub watermark: AnnotationId,
    /// Item aggregates to write (changed items only, or all when the method changes them all).
    pub items: Vec<ItemQualityRow>,
    /// Every question's agreement (replaces the project's rows).
    pub questions: Vec<QuestionQualityRow>,
    /// Every worker's figures (replace the project's rows).
    pub workers: Vec<WorkerQualityRow>,
    /// New gold scores.
    pub gold: Vec<GoldScoreRow>,
    /// Items that get one more slot (adaptive overlap), each with the answer count it needs to have now.
    pub extra_slots: Vec<(ItemId, i64)>,
    /// When.
    pub now: Millis,
}

/// A project's quality figures as pages and the API read them.
#[derive(Debug, Clone, Default)]
pub struct QualityReport {
    /// Per question.
    pub questions: Vec<QuestionQualityRow>,
    /// Per worker: the row, the worker's display name, gold answers scored and their mean score.
    pub workers: Vec<(WorkerQualityRow, String, i64, Option<f64>)>,
    /// Items with an aggregate, and how many of them have agreement below 0.5 / unknown.
    pub items: i64,
    /// Items with agreement below 0.5.
    pub low_agreement_items: i64,
    /// Items with extra slots from adaptive overlap, and how many slots in all.
    pub adapted_items: i64,
    /// Sum of extra slots.
    pub extra_slots: i64,
    /// Item agreement histogram: counts in ten bins of width 0.1 (the last includes 1.0).
    pub agreement_histogram: [i64; 10],
    /// When the job last wrote figures.
    pub computed_at: Option<Millis>,
}

const UPSERT_SETTINGS: &str = "INSERT INTO project_quality (project_id, org_id, gold_rate, adaptive_threshold, \
     adaptive_max_overlap) SELECT id, org_id, $1, $2, $3 FROM projects WHERE id = $4 AND org_id = $5 \
     ON CONFLICT (project_id) DO UPDATE SET gold_rate = excluded.gold_rate, \
     adaptive_threshold = excluded.adaptive_threshold, adaptive_max_overlap = excluded.adaptive_max_overlap";
const SETTINGS: &str = "SELECT q.gold_rate, q.adaptive_threshold, q.adaptive_max_overlap FROM projects p \
     LEFT JOIN project_quality q ON q.project_id = p.id WHERE p.id = $1 AND p.org_id = $2";
const OPEN_LEASES: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM assignments WHERE worker_id = $1 AND project_id = $2 \
     AND status = 'open' AND expires_at > $3";
const TAKE_GOLD: &str = "UPDATE items SET free_slots = free_slots - 1 WHERE id = (SELECT i.id FROM items i \
     WHERE i.project_id = $1 AND i.org_id = $2 AND i.gold IS NOT NULL AND i.sensitivity = 0 AND NOT EXISTS (SELECT 1 FROM assignments a \
     WHERE a.item_id = i.id AND a.worker_id = $3) ORDER BY i.annotations, i.id LIMIT 1) \
     RETURNING id, external_id, data";
const DIRTY_PROJECT: &str = "SELECT p.id, p.org_id, p.template, p.overlap, COALESCE(q.last_annotation_id, 0), \
     q.gold_rate, q.adaptive_threshold, q.adaptive_max_overlap FROM projects p \
     LEFT JOIN project_quality q ON q.project_id = p.id WHERE EXISTS (SELECT 1 FROM annotations a \
     WHERE a.project_id = p.id AND a.id > COALESCE(q.last_annotation_id, 0)) \
     ORDER BY COALESCE(q.computed_at, 0), p.id LIMIT 1";
const MAX_ANNOTATION: &str =
    "SELECT CAST(MAX(id) AS BIGINT) FROM annotations WHERE project_id = $1 AND org_id = $2";
const NORMAL_ANNOTATIONS: &str = "SELECT a.id, a.item_id, a.worker_id, a.answers FROM annotations a \
     JOIN items i ON i.id = a.item_id WHERE a.project_id = $1 AND a.org_id = $2 AND i.gold IS NULL \
     ORDER BY a.item_id, a.id";
const UNSCORED_GOLD: &str = "SELECT a.id, a.item_id, a.worker_id, a.answers, i.gold FROM annotations a \
     JOIN items i ON i.id = a.item_id WHERE a.project_id = $1 AND a.org_id = $2 AND i.gold IS NOT NULL \
     AND NOT EXISTS (SELECT 1 FROM gold_scores g WHERE g.annotation_id = a.id) ORDER BY a.id";
const PREVIOUS_ITEMS: &str = "SELECT item_id, annotations, extra_slots, answer, confidence, method FROM item_quality \
     WHERE project_id = $1 AND org_id = $2";
const ADVANCE_WATERMARK: &str = "INSERT INTO project_quality (project_id, org_id, last_annotation_id, computed_at) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (project_id) DO UPDATE SET last_annotation_id = excluded.last_annotation_id, \
     computed_at = excluded.computed_at WHERE project_quality.last_annotation_id = $5";
const UPSERT_ITEM: &str = "INSERT INTO item_quality (item_id, org_id, project_id, agreement, answer, confidence, \
     annotations, method, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) ON CONFLICT (item_id) DO UPDATE \
     SET agreement = excluded.agreement, answer = excluded.answer, confidence = excluded.confidence, \
     annotations = excluded.annotations, method = excluded.method, updated_at = excluded.updated_at";
const DELETE_QUESTIONS: &str = "DELETE FROM question_quality WHERE project_id = $1 AND org_id = $2";
const INSERT_QUESTION: &str = "INSERT INTO question_quality (project_id, question, org_id, metric, alpha, \
     fleiss_kappa, percent_agreement, note, items, annotations, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)";
const INSERT_GOLD_SCORE: &str = "INSERT INTO gold_scores (annotation_id, org_id, project_id, item_id, worker_id, \
     score, detail, scored_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT (annotation_id) DO NOTHING";
const DELETE_WORKERS: &str = "DELETE FROM worker_quality WHERE project_id = $1 AND org_id = $2";
const INSERT_WORKER: &str = "INSERT INTO worker_quality (project_id, worker_id, org_id, submissions, compared, agreed, \
     gold_answers, gold_score_sum, updated_at) VALUES ($1, $2, $3, $4, $5, $6, 0, 0, $7)";
const GOLD_BY_WORKER: &str = "SELECT worker_id, CAST(COUNT(*) AS BIGINT), SUM(score) FROM gold_scores \
     WHERE project_id = $1 AND org_id = $2 AND score IS NOT NULL GROUP BY worker_id";
const UPSERT_WORKER_GOLD: &str = "INSERT INTO worker_quality (project_id, worker_id, org_id, submissions, compared, \
     agreed, gold_answers, gold_score_sum, updated_at) VALUES ($1, $2, $3, 0, 0, 0, $4, $5, $6) \
     ON CONFLICT (project_id, worker_id) DO UPDATE SET gold_answers = excluded.gold_answers, \
     gold_score_sum = excluded.gold_score_sum";
const ADD_SLOT: &str = "UPDATE items SET free_slots = free_slots + 1 WHERE id = $1 AND org_id = $2 \
     AND project_id = $3 AND gold IS NULL AND free_slots = 0 AND annotations >= $4";
const COUNT_EXTRA_SLOT: &str =
    "UPDATE item_quality SET extra_slots = extra_slots + 1 WHERE item_id = $1 AND org_id = $2";
const REPORT_QUESTIONS: &str = "SELECT question, metric, alpha, fleiss_kappa, percent_agreement, note, items, \
     annotations FROM question_quality WHERE project_id = $1 AND org_id = $2 ORDER BY question";
const REPORT_WORKERS: &str = "SELECT w.worker_id, u.name, w.submissions, w.compared, w.agreed, w.gold_answers, \
     w.gold_score_sum FROM worker_quality w JOIN users u ON u.id = w.worker_id \
     WHERE w.project_id = $1 AND w.org_id = $2 ORDER BY w.worker_id";
const REPORT_ITEMS: &str =
    "SELECT agreement, extra_slots FROM item_quality WHERE project_id = $1 AND org_id = $2";
const REPORT_COMPUTED: &str = "SELECT p.id, q.computed_at FROM projects p LEFT JOIN project_quality q \
     ON q.project_id = p.id WHERE p.id = $1 AND p.org_id = $2";
const ITEM_QUALITY_RANGE: &str = "SELECT item_id, agreement, answer, confidence, method FROM item_quality \
     WHERE project_id = $1 AND org_id = $2 AND item_id > $3 AND item_id <= $4";
const GOLD_ITEMS_RANGE: &str = "SELECT id, gold FROM items WHERE project_id = $1 AND org_id = $2 AND id > $3 \
     AND id <= $4 AND gold IS NOT NULL";

/// An item's stored aggregate as exports read it.
#[derive(Debug, Clone, PartialEq)]
pub struct ItemQualityView {
    /// Mean pairwise agreement, `None` when undefined.
    pub agreement: Option<f64>,
    /// JSON object text.
    pub answer: Option<String>,
    /// Confidence.
    pub confidence: Option<f64>,
    /// Method.
    pub method: String,
}

fn settings_from(rate: Option<f64>, threshold: Option<f64>, max: Option<i64>) -> QualitySettings {
    QualitySettings {
        gold_rate: rate.unwrap_or(0.0),
        adaptive: threshold.zip(max),
    }
}

fn read_input(tx: &dyn Tx, project: DirtyProject) -> StoreResult<QualityInput> {
    let (p, o) = (project.project_id, project.org_id);
    let max_annotation_id = tx
        .query_one(MAX_ANNOTATION, params![p, o])?
        .opt_i64(0)?
        .unwrap_or(0);
    let annotations = tx
        .query(NORMAL_ANNOTATIONS, params![p, o])?
        .into_iter()
        .map(|r| {
            Ok(QualityAnnotation {
                id: r.i64(0)?,
                item_id: r.i64(1)?,
                worker_id: r.i64(2)?,
                answers: r.string(3)?,
            })
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let unscored_gold = tx
        .query(UNSCORED_GOLD, params![p, o])?
        .into_iter()
        .map(|r| {
            Ok((
                QualityAnnotation {
                    id: r.i64(0)?,
                    item_id: r.i64(1)?,
                    worker_id: r.i64(2)?,
                    answers: r.string(3)?,
                },
                r.string(4)?,
            ))
        })
        .collect::<StoreResult<Vec<_>>>()?;
    let previous = tx
        .query(PREVIOUS_ITEMS, params![p, o])?
        .into_iter()
        .map(|r| {
            Ok((
                r.i64(0)?,
                PreviousItem {
                    annotations: r.i64(1)?,
                    extra_slots: r.i64(2)?,
                    answer: r.opt_string(3)?,
                    confidence: r.opt_f64(4)?,
                    method: r.string(5)?,
                },
            ))
        })
        .collect::<StoreResult<HashMap<_, _>>>()?;
    Ok(QualityInput {
        project,
        annotations,
        unscored_gold,
        previous,
        max_annotation_id,
    })
}

fn save(tx: &dyn Tx, r: QualityResults) -> StoreResult<()> {
    let (p, o, now) = (r.project_id, r.org_id, r.now);
    let moved = tx.execute(
        ADVANCE_WATERMARK,
        params![p, o, r.watermark, now, r.previous_watermark],
    )?;
    if moved == 0 {
        return Err(crate::conflict(
            "quality_raced",
            "another quality run saved this project first",
        ));
    }
    for i in &r.items {
        tx.execute(
            UPSERT_ITEM,
            params![
                i.item_id,
                o,
                p,
                i.agreement,
                i.answer.clone(),
                i.confidence,
                i.annotations,
                i.method.as_str(),
                now
            ],
        )?;
    }
    tx.execute(DELETE_QUESTIONS, params![p, o])?;
    for q in &r.questions {
        tx.execute(
            INSERT_QUESTION,
            params![
                p,
                q.question.as_str(),
                o,
                q.metric.as_str(),
                q.alpha,
                q.fleiss_kappa,
                q.percent_agreement,
                q.note.clone(),
                q.items,
                q.annotations,
                now
            ],
        )?;
    }
    for g in &r.gold {
        tx.execute(
            INSERT_GOLD_SCORE,
            params![
                g.annotation_id,
                o,
                p,
                g.item_id,
                g.worker_id,
                g.score,
                g.detail.as_str(),
                now
            ],
        )?;
    }
    tx.execute(DELETE_WORKERS, params![p, o])?;
    for w in &r.workers {
        tx.execute(
            INSERT_WORKER,
            params![p, w.worker_id, o, w.submissions, w.compared, w.agreed, now],
        )?;
    }
    for g in tx.query(GOLD_BY_WORKER, params![p, o])? {
        tx.execute(
            UPSERT_WORKER_GOLD,
            params![p, g.i64(0)?, o, g.i64(1)?, g.f64(2)?, now],
        )?;
    }
    for &(item, needed) in &r.extra_slots {
        if tx.execute(ADD_SLOT, params![item, o, p, needed])? == 1 {
            tx.execute(COUNT_EXTRA_SLOT, params![item, o])?;
        }
    }
    Ok(())
}

impl dyn Store {
    /// Saves a project's quality settings (the project must be the organization's: `NotFound` otherwise).
    pub async fn set_quality_settings(
        &self,
        org: OrgId,
        project: ProjectId,
        s: QualitySettings,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let (threshold, max) = match s.adaptive {
                Some((t, m)) => (Some(t), Some(m)),
                None => (None, None),
            };
            let n = tx.execute(
                UPSERT_SETTINGS,
                params![s.gold_rate, threshold, max, project, org],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    /// A project's quality settings (defaults when none were set); `NotFound` for another organization's.
    pub async fn quality_settings(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<QualitySettings> {
        self.read_tx(move |tx| {
            let r = tx.query_one(SETTINGS, params![project, org])?;
            Ok(settings_from(r.opt_f64(0)?, r.opt_f64(1)?, r.opt_i64(2)?))
        })
        .await
    }

    /// Leases a gold item this worker has never had, unless they are at their cap; `None` when there is none.
    ///
    /// The caller falls back to the normal claim on `None` (and on an error: a concurrent claim by the same
    /// worker can hit the one-lease-per-item-and-worker index).
    pub async fn claim_gold(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
        now: Millis,
        lease_seconds: i64,
        max_open: i64,
    ) -> StoreResult<Option<Claim>> {
        self.write_tx(move |tx| {
            let open = tx
                .query_one(OPEN_LEASES, params![worker, project, now])?
                .i64(0)?;
            if open >= max_open {
                return Ok(None);
            }
            let Some(row) = tx.query_opt(TAKE_GOLD, params![project, org, worker])? else {
                return Ok(None);
            };
            let (item_id, external_id, data) = (row.i64(0)?, row.opt_string(1)?, row.string(2)?);
            let expires_at = now + lease_seconds * 1000;
            let assignment_id = tx
                .query_one(
                    crate::sql::INSERT_LEASE,
                    params![org, project, item_id, worker, now, expires_at],
                )?
                .i64(0)?;
            Ok(Some(Claim {
                assignment_id,
                item_id,
                external_id,
                data,
                expires_at,
                reused: false,
                sensitivity: 0,
            }))
        })
        .await
    }

    /// The input of one quality run: the project that waited longest with new annotations; `None` when all are
    /// up to date.
    pub async fn next_quality_input(&self) -> StoreResult<Option<QualityInput>> {
        self.read_tx(|tx| {
            let Some(r) = tx.query_opt(DIRTY_PROJECT, &[])? else {
                return Ok(None);
            };
            let project = DirtyProject {
                project_id: r.i64(0)?,
                org_id: r.i64(1)?,
                template: r.string(2)?,
                overlap: r.i64(3)?,
                last_annotation_id: r.i64(4)?,
                settings: settings_from(r.opt_f64(5)?, r.opt_f64(6)?, r.opt_i64(7)?),
            };
            read_input(tx, project).map(Some)
        })
        .await
    }

    /// Saves a quality run in one transaction; a `Conflict` when another run saved the project since the input
    /// was read (nothing is written then, and the next run starts over).
    pub async fn save_quality(&self, results: QualityResults) -> StoreResult<()> {
        self.write_tx(move |tx| save(tx, results)).await
    }

    /// A project's stored quality figures; `NotFound` for another organization's project.
    pub async fn quality_report(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<QualityReport> {
        self.read_tx(move |tx| {
            let head = tx.query_one(REPORT_COMPUTED, params![project, org])?;
            let mut report = QualityReport {
                computed_at: head.opt_i64(1)?,
                ..QualityReport::default()
            };
            for r in tx.query(REPORT_QUESTIONS, params![project, org])? {
                report.questions.push(QuestionQualityRow {
                    question: r.string(0)?,
                    metric: r.string(1)?,
                    alpha: r.opt_f64(2)?,
                    fleiss_kappa: r.opt_f64(3)?,
                    percent_agreement: r.opt_f64(4)?,
                    note: r.opt_string(5)?,
                    items: r.i64(6)?,
                    annotations: r.i64(7)?,
                });
            }
            for r in tx.query(REPORT_WORKERS, params![project, org])? {
                let gold_answers = r.i64(5)?;
                let gold_sum = r.f64(6)?;
                report.workers.push((
                    WorkerQualityRow {
                        worker_id: r.i64(0)?,
                        submissions: r.i64(2)?,
                        compared: r.i64(3)?,
                        agreed: r.i64(4)?,
                    },
                    r.string(1)?,
                    gold_answers,
                    (gold_answers > 0).then(|| gold_sum / gold_answers as f64),
                ));
            }
            for r in tx.query(REPORT_ITEMS, params![project, org])? {
                report.items += 1;
                if let Some(a) = r.opt_f64(0)? {
                    let bin = ((a * 10.0).floor() as usize).min(9);
                    report.agreement_histogram[bin] += 1;
                    if a < 0.5 {
                        report.low_agreement_items += 1;
                    }
                }
                let extra = r.i64(1)?;
                if extra > 0 {
                    report.adapted_items += 1;
                    report.extra_slots += extra;
                }
            }
            Ok(report)
        })
        .await
    }

    /// Stored aggregates and gold answers of the items in `(after, upto]`, for one export page.
    #[allow(clippy::type_complexity)]
    pub async fn export_quality_page(
        &self,
        org: OrgId,
        project: ProjectId,
        after: ItemId,
        upto: ItemId,
    ) -> StoreResult<(HashMap<ItemId, ItemQualityView>, HashMap<ItemId, String>)> {
        self.read_tx(move |tx| {
            let mut quality = HashMap::new();
            for r in tx.query(ITEM_QUALITY_RANGE, params![project, org, after, upto])? {
                quality.insert(
                    r.i64(0)?,
                    ItemQualityView {
                        agreement: r.opt_f64(1)?,
                        answer: r.opt_string(2)?,
                        confidence: r.opt_f64(3)?,
                        method: r.string(4)?,
                    },
                );
            }
            let mut gold = HashMap::new();
            for r in tx.query(GOLD_ITEMS_RANGE, params![project, org, after, upto])? {
                gold.insert(r.i64(0)?, r.string(1)?);
            }
            Ok((quality, gold))
        })
        .await
    }
}

/// A few headline quality figures, cheap enough for the stats endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct QualitySummary {
    /// Items with a stored aggregate.
    pub items: i64,
    /// Of those, items with agreement below 0.5.
    pub low_agreement_items: i64,
    /// Mean item agreement over items where it is defined.
    pub mean_agreement: Option<f64>,
    /// Gold submissions scored.
    pub gold_answers: i64,
    /// When the quality job last saved figures.
    pub computed_at: Option<Millis>,
}

const SUMMARY_ITEMS: &str = "SELECT CAST(COUNT(*) AS BIGINT), CAST(SUM(CASE WHEN agreement < 0.5 THEN 1 ELSE 0 END) \
     AS BIGINT), AVG(agreement) FROM item_quality WHERE project_id = $1 AND org_id = $2";
const SUMMARY_GOLD: &str =
    "SELECT CAST(COUNT(*) AS BIGINT) FROM gold_scores WHERE project_id = $1 AND org_id = $2";

impl dyn Store {
    /// Headline quality figures of a project; `NotFound` for another organization's project.
    pub async fn quality_summary(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<QualitySummary> {
        self.read_tx(move |tx| {
            let head = tx.query_one(REPORT_COMPUTED, params![project, org])?;
            let items = tx.query_one(SUMMARY_ITEMS, params![project, org])?;
            let gold = tx.query_one(SUMMARY_GOLD, params![project, org])?;
            Ok(QualitySummary {
                items: items.i64(0)?,
                low_agreement_items: items.opt_i64(1)?.unwrap_or(0),
                mean_agreement: items.opt_f64(2)?,
                gold_answers: gold.i64(0)?,
                computed_at: head.opt_i64(1)?,
            })
        })
        .await
    }
}
