//! Storage for review, appeals, integrity signals and human-confirmed pauses, written once for both backends.
//!
//! These are plain functions over a portable [`Tx`] (see [`crate::portable`]): the use cases in
//! `fairloop_app::review` compose them inside one `write_tx` / `read_tx` closure, so a judgement and its checks
//! commit together. Every statement is scoped by `org_id`, so an id guessed from another organization is simply
//! not found. The SQL constants sit next to the function that runs them.

use crate::portable::{Row, Tx};
use crate::{StoreError, StoreResult, params};

/// A project's review settings (the defaults apply when a project has no row).
#[derive(Debug, Clone, PartialEq)]
pub struct ReviewSettings {
    /// Share of submissions sampled into the review queue, 0..=1.
    pub sample_rate: f64,
    /// Fewer seconds than this between taking and submitting a task flags the submission.
    pub min_seconds: i64,
    /// An item whose agreement is below this puts its submissions in the queue.
    pub low_agreement: f64,
}

const GET_SETTINGS: &str = "SELECT sample_rate, min_seconds, low_agreement FROM review_settings WHERE org_id = $1 AND project_id = $2";

/// The stored settings of a project, if any.
pub fn settings(tx: &dyn Tx, org: i64, project: i64) -> StoreResult<Option<ReviewSettings>> {
    tx.query_opt(GET_SETTINGS, params![org, project])?
        .map(|r| {
            Ok(ReviewSettings {
                sample_rate: r.f64(0)?,
                min_seconds: r.i64(1)?,
                low_agreement: r.f64(2)?,
            })
        })
        .transpose()
}

const PUT_SETTINGS: &str = "INSERT INTO review_settings (project_id, org_id, sample_rate, min_seconds, low_agreement, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id) DO UPDATE SET sample_rate = excluded.sample_rate, \
     min_seconds = excluded.min_seconds, low_agreement = excluded.low_agreement, updated_at = excluded.updated_at";

/// Saves a project's settings (the caller has checked that the project is the organization's).
pub fn put_settings(
    tx: &dyn Tx,
    org: i64,
    project: i64,
    s: &ReviewSettings,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        PUT_SETTINGS,
        params![
            project,
            org,
            s.sample_rate,
            s.min_seconds,
            s.low_agreement,
            now
        ],
    )?;
    Ok(())
}

const PROJECT_IN_ORG: &str = "SELECT id FROM projects WHERE org_id = $1 AND id = $2";

/// Whether the project exists in this organization.
pub fn project_in_org(tx: &dyn Tx, org: i64, project: i64) -> StoreResult<bool> {
    Ok(tx
        .query_opt(PROJECT_IN_ORG, params![org, project])?
        .is_some())
}

const USER_ROLE: &str = "SELECT role FROM users WHERE org_id = $1 AND id = $2";

/// The role of a user of this organization, or `None` when there is no such user in it.
pub fn user_role(tx: &dyn Tx, org: i64, user: i64) -> StoreResult<Option<String>> {
    tx.query_opt(USER_ROLE, params![org, user])?
        .map(|r| r.string(0))
        .transpose()
}

/// What the server knows about one submission, to measure its signals.
#[derive(Debug, Clone)]
pub struct SubmissionFacts {
    /// The annotation.
    pub annotation_id: i64,
    /// Its project.
    pub project_id: i64,
    /// Its item.
    pub item_id: i64,
    /// Who submitted it.
    pub worker_id: i64,
    /// The answers, as JSON text.
    pub answers: String,
    /// The item's data, as JSON text.
    pub item_data: String,
    /// The project's task template, as JSON text.
    pub template: String,
    /// When the task was handed out (the assignment's creation).
    pub assigned_at: i64,
    /// When it was submitted.
    pub submitted_at: i64,
}

const SUBMISSION_FACTS: &str = "SELECT a.id, a.project_id, a.item_id, a.worker_id, a.answers, i.data, s.created_at, a.submitted_at, \
     p.template FROM annotations a JOIN items i ON i.id = a.item_id JOIN assignments s ON s.id = a.assignment_id \
     JOIN projects p ON p.id = a.project_id WHERE a.org_id = $1 AND a.id = $2";

/// The facts of one annotation of this organization.
pub fn submission_facts(tx: &dyn Tx, org: i64, annotation: i64) -> StoreResult<SubmissionFacts> {
    let r = tx.query_one(SUBMISSION_FACTS, params![org, annotation])?;
    Ok(SubmissionFacts {
        annotation_id: r.i64(0)?,
        project_id: r.i64(1)?,
        item_id: r.i64(2)?,
        worker_id: r.i64(3)?,
        answers: r.string(4)?,
        item_data: r.string(5)?,
        assigned_at: r.i64(6)?,
        submitted_at: r.i64(7)?,
        template: r.string(8)?,
    })
}

/// One measured signal.
#[derive(Debug, Clone, PartialEq)]
pub struct Signal {
    /// `time_on_task`, `paste`, `near_duplicate` or `copies_item`.
    pub kind: String,
    /// The measurement (seconds, a share, a similarity).
    pub value: f64,
    /// The threshold it was compared with.
    pub threshold: f64,
    /// Whether it crossed the threshold (and so put the submission in the review queue).
    pub flagged: bool,
    /// A sentence explaining it, shown to the worker and the reviewer.
    pub detail: String,
}

const INSERT_SIGNAL: &str = "INSERT INTO integrity_signals (org_id, project_id, annotation_id, worker_id, kind, value, threshold, \
     flagged, detail, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)";

/// Records the signals of a submission.
pub fn insert_signals(
    tx: &dyn Tx,
    org: i64,
    f: &SubmissionFacts,
    signals: &[Signal],
    now: i64,
) -> StoreResult<()> {
    for s in signals {
        tx.execute(
            INSERT_SIGNAL,
            params![
                org,
                f.project_id,
                f.annotation_id,
                f.worker_id,
                s.kind.as_str(),
                s.value,
                s.threshold,
                s.flagged,
                s.detail.as_str(),
                now
            ],
        )?;
    }
    Ok(())
}

const SIGNALS_OF: &str = "SELECT kind, value, threshold, flagged, detail FROM integrity_signals \
     WHERE org_id = $1 AND annotation_id = $2 ORDER BY id";

/// The signals of one annotation.
pub fn signals_of(tx: &dyn Tx, org: i64, annotation: i64) -> StoreResult<Vec<Signal>> {
    tx.query(SIGNALS_OF, params![org, annotation])?
        .iter()
        .map(|r| {
            Ok(Signal {
                kind: r.string(0)?,
                value: r.f64(1)?,
                threshold: r.f64(2)?,
                flagged: r.bool(3)?,
                detail: r.string(4)?,
            })
        })
        .collect()
}

const RECENT_SIGNATURES: &str = "SELECT annotation_id, signature FROM text_signatures \
     WHERE org_id = $1 AND project_id = $2 AND worker_id <> $3 ORDER BY annotation_id DESC LIMIT $4";

/// The most recent free-text signatures of a project by workers other than `worker`, newest first.
pub fn recent_signatures(
    tx: &dyn Tx,
    org: i64,
    project: i64,
    worker: i64,
    limit: i64,
) -> StoreResult<Vec<(i64, String)>> {
    tx.query(RECENT_SIGNATURES, params![org, project, worker, limit])?
        .iter()
        .map(|r| Ok((r.i64(0)?, r.string(1)?)))
        .collect()
}

const INSERT_SIGNATURE: &str = "INSERT INTO text_signatures (annotation_id, org_id, project_id, worker_id, signature, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (annotation_id) DO NOTHING";

/// Keeps the free-text signature of a submission for later comparisons.
pub fn insert_signature(
    tx: &dyn Tx,
    org: i64,
    f: &SubmissionFacts,
    signature: &str,
    now: i64,
) -> StoreResult<()> {
    tx.execute(
        INSERT_SIGNATURE,
        params![
            f.annotation_id,
            org,
            f.project_id,
            f.worker_id,
            signature,
            now
        ],
    )?;
    Ok(())
}

const ITEM_ANSWERS: &str = "SELECT id, worker_id, answers FROM annotations WHERE org_id = $1 AND project_id = $2 AND item_id = $3 \
     ORDER BY id";

/// Every annotation of an item: `(annotation_id, worker_id, answers JSON)`. The low-agreement source reads this
/// until live agreement (`item_quality`) is merged.
pub fn item_answers(
    tx: &dyn Tx,
    org: i64,
    project: i64,
    item: i64,
) -> StoreResult<Vec<(i64, i64, String)>> {
    tx.query(ITEM_ANSWERS, params![org, project, item])?
        .iter()
        .map(|r| Ok((r.i64(0)?, r.i64(1)?, r.string(2)?)))
        .collect()
}

const REVIEW_OF_ANNOTATION: &str =
    "SELECT id, status, reasons FROM reviews WHERE org_id = $1 AND annotation_id = $2";
const INSERT_REVIEW: &str = "INSERT INTO reviews (org_id, project_id, item_id, annotation_id, worker_id, reasons, status, created_at) \
     SELECT $1, project_id, item_id, id, worker_id, $2, 'queued', $3 FROM annotations WHERE org_id = $1 AND id = $4 \
     ON CONFLICT (annotation_id) DO NOTHING";
const ADD_REASONS: &str =
    "UPDATE reviews SET reasons = $1 WHERE org_id = $2 AND id = $3 AND status = 'queued'";

/// Puts an annotation in the review queue with these reasons; an annotation already queued gains the new
/// reasons, one already judged is left alone (each submission is reviewed once). Answers whether a row changed.
pub fn enqueue(
    tx: &dyn Tx,
    org: i64,
    annotation: i64,
    reasons: &[&str],
    now: i64,
) -> StoreResult<bool> {
    // Insert first: two submissions of one item measured at once may both queue a third; the loser of that
    // race then merges its reasons into the winner's row instead of failing.
    if tx.execute(
        INSERT_REVIEW,
        params![org, reasons.join(","), now, annotation],
    )? > 0
    {
        return Ok(true);
    }
    let sql = format!("{REVIEW_OF_ANNOTATION}{}", tx.for_update());
    let Some(r) = tx.query_opt(&sql, params![org, annotation])? else {
        return Err(StoreError::NotFound);
    };
    if r.string(1)? != "queued" {
        return Ok(false);
    }
    let mut have: Vec<String> = r
        .string(2)?
        .split(',')
        .filter(|s| !s.is_empty())
        .map(str::to_string)
        .collect();
    let before = have.len();
    for reason in reasons {
        if !have.iter().any(|h| h == reason) {
            have.push((*reason).to_string());
        }
    }
    if have.len() == before {
        return Ok(false);
    }
    tx.execute(ADD_REASONS, params![have.join(","), org, r.i64(0)?])?;
    Ok(true)
}

/// A review row with what a reviewer or the worker needs to see.
#[derive(Debug, Clone)]
pub struct Review {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Project name.
    pub project_name: String,
    /// Item.
    pub item_id: i64,
    /// The item's data, as JSON text.
    pub item_data: String,
    /// The submission under review.
    pub annotation_id: i64,
    /// Its answers, as JSON text.
    pub answers: String,
    /// When it was submitted.
    pub submitted_at: i64,
    /// Who submitted it.
    pub worker_id: i64,
    /// Why it is in the queue: `sample`, `low_agreement`, `signal`.
    pub reasons: Vec<String>,
    /// `queued` or `decided`.
    pub status: String,
    /// Who judged it.
    pub reviewer_id: Option<i64>,
    /// `accepted`, `rejected` or `corrected`.
    pub decision: Option<String>,
    /// The reviewer's corrected answers, as JSON text.
    pub corrected_answers: Option<String>,
    /// The reviewer's written feedback.
    pub feedback: Option<String>,
    /// When it was queued.
    pub created_at: i64,
    /// When it was judged.
    pub decided_at: Option<i64>,
}

const REVIEW_COLUMNS: &str = "SELECT r.id, r.project_id, p.name, r.item_id, i.data, r.annotation_id, a.answers, a.submitted_at, \
     r.worker_id, r.reasons, r.status, r.reviewer_id, r.decision, r.corrected_answers, r.feedback, r.created_at, r.decided_at \
     FROM reviews r JOIN projects p ON p.id = r.project_id JOIN items i ON i.id = r.item_id \
     JOIN annotations a ON a.id = r.annotation_id ";

fn review_row(r: &Row) -> StoreResult<Review> {
    Ok(Review {
        id: r.i64(0)?,
        project_id: r.i64(1)?,
        project_name: r.string(2)?,
        item_id: r.i64(3)?,
        item_data: r.string(4)?,
        annotation_id: r.i64(5)?,
        answers: r.string(6)?,
        submitted_at: r.i64(7)?,
        worker_id: r.i64(8)?,
        reasons: r
            .string(9)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        status: r.string(10)?,
        reviewer_id: r.opt_i64(11)?,
        decision: r.opt_string(12)?,
        corrected_answers: r.opt_string(13)?,
        feedback: r.opt_string(14)?,
        created_at: r.i64(15)?,
        decided_at: r.opt_i64(16)?,
    })
}

/// The queued reviews of a project, oldest first.
pub fn queue(tx: &dyn Tx, org: i64, project: i64, limit: i64) -> StoreResult<Vec<Review>> {
    let sql = format!(
        "{REVIEW_COLUMNS} WHERE r.org_id = $1 AND r.project_id = $2 AND r.status = 'queued' ORDER BY r.id LIMIT $3"
    );
    tx.query(&sql, params![org, project, limit])?
        .iter()
        .map(review_row)
        .collect()
}

/// One review of this organization.
pub fn review(tx: &dyn Tx, org: i64, id: i64) -> StoreResult<Review> {
    let sql = format!("{REVIEW_COLUMNS} WHERE r.org_id = $1 AND r.id = $2");
    review_row(&tx.query_one(&sql, params![org, id])?)
}

/// One review of this organization, its row locked until the end of the (write) transaction, so that checks
/// made on it (its author, its status) still hold when the change is written.
pub fn review_locked(tx: &dyn Tx, org: i64, id: i64) -> StoreResult<Review> {
    let lock = match tx.for_update() {
        "" => "",
        _ => " FOR UPDATE OF r",
    };
    let sql = format!("{REVIEW_COLUMNS} WHERE r.org_id = $1 AND r.id = $2{lock}");
    review_row(&tx.query_one(&sql, params![org, id])?)
}

/// The judged reviews of one worker, newest first.
pub fn worker_reviews(tx: &dyn Tx, org: i64, worker: i64, limit: i64) -> StoreResult<Vec<Review>> {
    let sql = format!(
        "{REVIEW_COLUMNS} WHERE r.org_id = $1 AND r.worker_id = $2 AND r.status = 'decided' ORDER BY r.id DESC LIMIT $3"
    );
    tx.query(&sql, params![org, worker, limit])?
        .iter()
        .map(review_row)
        .collect()
}

const DECIDE: &str = "UPDATE reviews SET status = 'decided', reviewer_id = $1, decision = $2, corrected_answers = $3, \
     feedback = $4, decided_at = $5 WHERE org_id = $6 AND id = $7 AND status = 'queued'";

/// Records a judgement; `Conflict(already_reviewed)` when the review was judged meanwhile.
#[allow(clippy::too_many_arguments)]
pub fn decide(
    tx: &dyn Tx,
    org: i64,
    id: i64,
    reviewer: i64,
    decision: &str,
    corrected: Option<String>,
    feedback: &str,
    now: i64,
) -> StoreResult<()> {
    let n = tx.execute(
        DECIDE,
        params![reviewer, decision, corrected, feedback, now, org, id],
    )?;
    if n == 0 {
        return Err(StoreError::Conflict {
            code: "already_reviewed",
            message: "this submission has already been reviewed; each submission is reviewed once"
                .into(),
        });
    }
    Ok(())
}

/// An appeal.
#[derive(Debug, Clone)]
pub struct Appeal {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// The judgement appealed.
    pub review_id: i64,
    /// The worker who appealed.
    pub worker_id: i64,
    /// Their reason.
    pub reason: String,
    /// `open` or `decided`.
    pub status: String,
    /// The second reviewer.
    pub decider_id: Option<i64>,
    /// `upheld` (the judgement stands) or `overturned`.
    pub outcome: Option<String>,
    /// The second reviewer's note.
    pub note: Option<String>,
    /// When it was made.
    pub created_at: i64,
    /// When it was decided.
    pub decided_at: Option<i64>,
}

const APPEAL_COLUMNS: &str = "SELECT id, project_id, review_id, worker_id, reason, status, decider_id, outcome, note, created_at, \
     decided_at FROM appeals ";

fn appeal_row(r: &Row) -> StoreResult<Appeal> {
    Ok(Appeal {
        id: r.i64(0)?,
        project_id: r.i64(1)?,
        review_id: r.i64(2)?,
        worker_id: r.i64(3)?,
        reason: r.string(4)?,
        status: r.string(5)?,
        decider_id: r.opt_i64(6)?,
        outcome: r.opt_string(7)?,
        note: r.opt_string(8)?,
        created_at: r.i64(9)?,
        decided_at: r.opt_i64(10)?,
    })
}

/// The appeal of a judgement, if any.
pub fn appeal_of_review(tx: &dyn Tx, org: i64, review: i64) -> StoreResult<Option<Appeal>> {
    let sql = format!("{APPEAL_COLUMNS} WHERE org_id = $1 AND review_id = $2");
    tx.query_opt(&sql, params![org, review])?
        .as_ref()
        .map(appeal_row)
        .transpose()
}

/// One appeal of this organization.
pub fn appeal(tx: &dyn Tx, org: i64, id: i64) -> StoreResult<Appeal> {
    let sql = format!("{APPEAL_COLUMNS} WHERE org_id = $1 AND id = $2");
    appeal_row(&tx.query_one(&sql, params![org, id])?)
}

/// One appeal of this organization, its row locked until the end of the (write) transaction.
pub fn appeal_locked(tx: &dyn Tx, org: i64, id: i64) -> StoreResult<Appeal> {
    let sql = format!(
        "{APPEAL_COLUMNS} WHERE org_id = $1 AND id = $2{}",
        tx.for_update()
    );
    appeal_row(&tx.query_one(&sql, params![org, id])?)
}

/// The open appeals of a project, oldest first.
pub fn open_appeals(tx: &dyn Tx, org: i64, project: i64, limit: i64) -> StoreResult<Vec<Appeal>> {
    let sql = format!(
        "{APPEAL_COLUMNS} WHERE org_id = $1 AND project_id = $2 AND status = 'open' ORDER BY id LIMIT $3"
    );
    tx.query(&sql, params![org, project, limit])?
        .iter()
        .map(appeal_row)
        .collect()
}

const INSERT_APPEAL: &str = "INSERT INTO appeals (org_id, project_id, review_id, worker_id, reason, status, created_at) \
     VALUES ($1, $2, $3, $4, $5, 'open', $6) ON CONFLICT (review_id) DO NOTHING RETURNING id";

/// Files an appeal; `Conflict(already_appealed)` when this judgement was appealed before.
pub fn insert_appeal(
    tx: &dyn Tx,
    org: i64,
    review: &Review,
    reason: &str,
    now: i64,
) -> StoreResult<i64> {
    match tx.query_opt(
        INSERT_APPEAL,
        params![
            org,
            review.project_id,
            review.id,
            review.worker_id,
            reason,
            now
        ],
    )? {
        Some(r) => r.i64(0),
        None => Err(StoreError::Conflict {
            code: "already_appealed",
            message:
                "this judgement has already been appealed; each judgement can be appealed once"
                    .into(),
        }),
    }
}

const DECIDE_APPEAL: &str = "UPDATE appeals SET status = 'decided', decider_id = $1, outcome = $2, note = $3, decided_at = $4 \
     WHERE org_id = $5 AND id = $6 AND status = 'open'";

/// Records the final decision on an appeal; `Conflict(appeal_decided)` when it was decided meanwhile.
pub fn decide_appeal(
    tx: &dyn Tx,
    org: i64,
    id: i64,
    decider: i64,
    outcome: &str,
    note: &str,
    now: i64,
) -> StoreResult<()> {
    let n = tx.execute(DECIDE_APPEAL, params![decider, outcome, note, now, org, id])?;
    if n == 0 {
        return Err(StoreError::Conflict {
            code: "appeal_decided",
            message: "this appeal has already been decided, and that decision is final".into(),
        });
    }
    Ok(())
}

/// A pause of a worker from a project.
#[derive(Debug, Clone)]
pub struct Pause {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Project name.
    pub project_name: String,
    /// The paused worker.
    pub worker_id: i64,
    /// The reason the worker sees.
    pub reason: String,
    /// Who confirmed it.
    pub paused_by: i64,
    /// When.
    pub created_at: i64,
    /// When it was lifted, if it was.
    pub lifted_at: Option<i64>,
}

const PAUSE_COLUMNS: &str = "SELECT w.id, w.project_id, p.name, w.worker_id, w.reason, w.paused_by, w.created_at, w.lifted_at \
     FROM worker_pauses w JOIN projects p ON p.id = w.project_id ";

fn pause_row(r: &Row) -> StoreResult<Pause> {
    Ok(Pause {
        id: r.i64(0)?,
        project_id: r.i64(1)?,
        project_name: r.string(2)?,
        worker_id: r.i64(3)?,
        reason: r.string(4)?,
        paused_by: r.i64(5)?,
        created_at: r.i64(6)?,
        lifted_at: r.opt_i64(7)?,
    })
}

/// The pause in force for a worker on a project, if any.
pub fn active_pause(
    tx: &dyn Tx,
    org: i64,
    project: i64,
    worker: i64,
) -> StoreResult<Option<Pause>> {
    let sql = format!(
        "{PAUSE_COLUMNS} WHERE w.org_id = $1 AND w.project_id = $2 AND w.worker_id = $3 AND w.lifted_at IS NULL"
    );
    tx.query_opt(&sql, params![org, project, worker])?
        .as_ref()
        .map(pause_row)
        .transpose()
}

/// The pauses in force in a project, oldest first.
pub fn project_pauses(tx: &dyn Tx, org: i64, project: i64) -> StoreResult<Vec<Pause>> {
    let sql = format!(
        "{PAUSE_COLUMNS} WHERE w.org_id = $1 AND w.project_id = $2 AND w.lifted_at IS NULL ORDER BY w.id"
    );
    tx.query(&sql, params![org, project])?
        .iter()
        .map(pause_row)
        .collect()
}

/// Every pause of a worker (in force and lifted), newest first.
pub fn worker_pauses(tx: &dyn Tx, org: i64, worker: i64) -> StoreResult<Vec<Pause>> {
    let sql =
        format!("{PAUSE_COLUMNS} WHERE w.org_id = $1 AND w.worker_id = $2 ORDER BY w.id DESC");
    tx.query(&sql, params![org, worker])?
        .iter()
        .map(pause_row)
        .collect()
}

const INSERT_PAUSE: &str = "INSERT INTO worker_pauses (org_id, project_id, worker_id, reason, paused_by, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (project_id, worker_id) WHERE lifted_at IS NULL DO NOTHING RETURNING id";

/// Pauses a worker from a project; `Conflict(already_paused)` when a pause is already in force.
pub fn insert_pause(
    tx: &dyn Tx,
    org: i64,
    project: i64,
    worker: i64,
    reason: &str,
    by: i64,
    now: i64,
) -> StoreResult<i64> {
    match tx.query_opt(INSERT_PAUSE, params![org, project, worker, reason, by, now])? {
        Some(r) => r.i64(0),
        None => Err(StoreError::Conflict {
            code: "already_paused",
            message: "this worker is already paused from this project".into(),
        }),
    }
}

const LIFT_PAUSE: &str = "UPDATE worker_pauses SET lifted_by = $1, lifted_at = $2 \
     WHERE org_id = $3 AND project_id = $4 AND worker_id = $5 AND lifted_at IS NULL";

/// Lifts the pause in force; answers whether there was one.
pub fn lift_pause(
    tx: &dyn Tx,
    org: i64,
    project: i64,
    worker: i64,
    by: i64,
    now: i64,
) -> StoreResult<bool> {
    Ok(tx.execute(LIFT_PAUSE, params![by, now, org, project, worker])? > 0)
}
