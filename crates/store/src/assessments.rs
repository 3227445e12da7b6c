//! Qualification assessments: the stored assessment, each attempt with its server-side deadline, a person's
//! grading of rubric answers, and a project's requirements (pass this assessment with at least that score).
//!
//! The rules (what is right, the score, the pass mark) are the use case's (`fairloop_app::assessments`); this
//! module keeps the records and makes each step one transaction: opening an attempt counts the attempts made
//! under a lock, and finishing one checks the deadline against the row it changes.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::portable::{Row, Tx};
use crate::{Store, StoreError, StoreResult, conflict, params};

/// An assessment as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredAssessment {
    /// Id.
    pub id: i64,
    /// The project it belongs to.
    pub project_id: ProjectId,
    /// Its title.
    pub title: String,
    /// Template, keys, explanations and rubrics, JSON.
    pub spec: String,
    /// The time limit of an attempt, in seconds.
    pub time_limit_s: i64,
    /// Attempts a worker may make.
    pub max_attempts: i64,
    /// Percent needed to pass.
    pub pass_mark: i64,
    /// Whether the time is paid as onboarding time.
    pub paid: bool,
    /// When it was made.
    pub created_at: Millis,
    /// When it was archived (no new attempts; results kept), if it was.
    pub archived_at: Option<Millis>,
}

/// New settings (and, while no attempt exists, new questions) for an assessment.
#[derive(Debug, Clone)]
pub struct AssessmentUpdate {
    /// Title.
    pub title: String,
    /// Spec, JSON.
    pub spec: String,
    /// Whether the spec's questions, keys or rubrics differ from the stored ones: refused once anyone attempted
    /// it, so no recorded score changes meaning.
    pub scoring_changed: bool,
    /// Seconds.
    pub time_limit_s: i64,
    /// Attempts.
    pub max_attempts: i64,
    /// Percent.
    pub pass_mark: i64,
    /// Paid.
    pub paid: bool,
}

/// An assessment to store.
#[derive(Debug, Clone)]
pub struct NewAssessment {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// Title.
    pub title: String,
    /// Spec, JSON.
    pub spec: String,
    /// Seconds.
    pub time_limit_s: i64,
    /// Attempts.
    pub max_attempts: i64,
    /// Percent.
    pub pass_mark: i64,
    /// Paid.
    pub paid: bool,
    /// Who.
    pub by: UserId,
    /// When.
    pub now: Millis,
}

/// One attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attempt {
    /// Id.
    pub id: i64,
    /// The assessment.
    pub assessment_id: i64,
    /// The worker.
    pub worker_id: UserId,
    /// Their email (for the grading queue).
    pub worker_email: String,
    /// When it started.
    pub started_at: Millis,
    /// After this, answers are refused.
    pub deadline_at: Millis,
    /// When the answers came.
    pub submitted_at: Option<Millis>,
    /// `open`, `grading`, `graded` or `expired`.
    pub status: String,
    /// The answers, JSON.
    pub answers: Option<String>,
    /// Per-question results, JSON.
    pub results: Option<String>,
    /// The score in percent, once graded.
    pub score_pct: Option<i64>,
    /// Whether it reached the assessment's pass mark.
    pub passed: bool,
}

const ATTEMPT_COLUMNS: &str = "SELECT t.id, t.assessment_id, t.worker_id, u.email, t.started_at, t.deadline_at, \
     t.submitted_at, t.status, t.answers, t.results, t.score_pct, t.passed FROM assessment_attempts t \
     JOIN users u ON u.id = t.worker_id";

fn attempt_row(r: &Row) -> StoreResult<Attempt> {
    Ok(Attempt {
        id: r.i64(0)?,
        assessment_id: r.i64(1)?,
        worker_id: r.i64(2)?,
        worker_email: r.string(3)?,
        started_at: r.i64(4)?,
        deadline_at: r.i64(5)?,
        submitted_at: r.opt_i64(6)?,
        status: r.string(7)?,
        answers: r.opt_string(8)?,
        results: r.opt_string(9)?,
        score_pct: r.opt_i64(10)?,
        passed: r.bool(11)?,
    })
}

const ASSESSMENT_COLUMNS: &str = "SELECT id, project_id, title, spec, time_limit_s, max_attempts, pass_mark, paid, \
     created_at, archived_at FROM assessments";

fn assessment_row(r: &Row) -> StoreResult<StoredAssessment> {
    Ok(StoredAssessment {
        id: r.i64(0)?,
        project_id: r.i64(1)?,
        title: r.string(2)?,
        spec: r.string(3)?,
        time_limit_s: r.i64(4)?,
        max_attempts: r.i64(5)?,
        pass_mark: r.i64(6)?,
        paid: r.bool(7)?,
        created_at: r.i64(8)?,
        archived_at: r.opt_i64(9)?,
    })
}

/// How finishing an attempt went.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Finish {
    /// Recorded with its status.
    Recorded(Attempt),
    /// The deadline had passed: the attempt is closed as expired and the answers were not taken.
    TooLate(Attempt),
}

/// A requirement of a project: pass `assessment_id` with at least `pass_mark` percent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Requirement {
    /// The assessment.
    pub assessment_id: i64,
    /// Its title.
    pub title: String,
    /// Percent needed.
    pub pass_mark: i64,
}

/// [`unmet_requirements_all`](dyn Store::unmet_requirements_all) inside a transaction (the home page reads it
/// with the rest of what its cards need, in one read).
pub(crate) fn unmet_requirements_in(
    tx: &dyn Tx,
    org: OrgId,
    worker: UserId,
) -> StoreResult<Vec<(ProjectId, Requirement)>> {
    tx.query(
        "SELECT r.project_id, r.assessment_id, a.title, r.pass_mark FROM project_qualifications r \
         JOIN assessments a ON a.id = r.assessment_id \
         WHERE r.org_id = $1 AND NOT EXISTS (SELECT 1 FROM assessment_attempts t \
           WHERE t.assessment_id = r.assessment_id AND t.worker_id = $2 AND t.status = 'graded' \
           AND t.score_pct >= r.pass_mark) ORDER BY r.project_id, r.assessment_id LIMIT 100",
        params![org, worker],
    )?
    .iter()
    .map(|r| {
        Ok((
            r.i64(0)?,
            Requirement {
                assessment_id: r.i64(1)?,
                title: r.string(2)?,
                pass_mark: r.i64(3)?,
            },
        ))
    })
    .collect()
}

fn attempt_by_id(tx: &dyn Tx, org: OrgId, id: i64, lock: bool) -> StoreResult<Attempt> {
    // PostgreSQL locks only the attempt's own row, not the user's it is joined with.
    let lock = if lock && !tx.for_update().is_empty() {
        " FOR UPDATE OF t"
    } else {
        ""
    };
    tx.query_opt(
        &format!("{ATTEMPT_COLUMNS} WHERE t.id = $1 AND t.org_id = $2{lock}"),
        params![id, org],
    )?
    .as_ref()
    .map(attempt_row)
    .transpose()?
    .ok_or(StoreError::NotFound)
}

/// The requirements of a project the worker has not met (no graded attempt at or above the requirement's mark).
/// One statement; callers skip it for projects without requirements.
pub fn unmet_requirements(
    tx: &dyn Tx,
    org: OrgId,
    project: ProjectId,
    worker: UserId,
) -> StoreResult<Vec<Requirement>> {
    tx.query(
        "SELECT r.assessment_id, a.title, r.pass_mark FROM project_qualifications r \
         JOIN assessments a ON a.id = r.assessment_id \
         WHERE r.project_id = $1 AND r.org_id = $2 AND NOT EXISTS (SELECT 1 FROM assessment_attempts t \
           WHERE t.assessment_id = r.assessment_id AND t.worker_id = $3 AND t.status = 'graded' \
           AND t.score_pct >= r.pass_mark) ORDER BY r.assessment_id",
        params![project, org, worker],
    )?
    .iter()
    .map(|r| {
        Ok(Requirement {
            assessment_id: r.i64(0)?,
            title: r.string(1)?,
            pass_mark: r.i64(2)?,
        })
    })
    .collect()
}

/// Locks an assessment of the organization's row; answers whether it is archived. `NotFound` for another's.
fn lock_assessment(tx: &dyn Tx, org: OrgId, id: i64) -> StoreResult<bool> {
    Ok(tx
        .query_opt(
            &format!(
                "SELECT archived_at FROM assessments WHERE id = $1 AND org_id = $2{}",
                tx.for_update()
            ),
            params![id, org],
        )?
        .ok_or(StoreError::NotFound)?
        .opt_i64(0)?
        .is_some())
}

/// How many attempts an assessment has (any status).
fn attempts_made(tx: &dyn Tx, id: i64) -> StoreResult<i64> {
    tx.query_one(
        "SELECT CAST(COUNT(*) AS BIGINT) FROM assessment_attempts WHERE assessment_id = $1",
        params![id],
    )?
    .i64(0)
}

/// `409 assessment_required` while a project requires the assessment, naming the project.
fn refuse_if_required(tx: &dyn Tx, org: OrgId, id: i64, what: &str) -> StoreResult<()> {
    if let Some(r) = tx.query_opt(
        "SELECT p.name FROM project_qualifications r JOIN projects p ON p.id = r.project_id \
         WHERE r.assessment_id = $1 AND r.org_id = $2 ORDER BY p.id LIMIT 1",
        params![id, org],
    )? {
        return Err(conflict(
            "assessment_required",
            format!(
                "the project “{}” requires this assessment; remove it from the project's requirements before \
                 you {what} it",
                r.string(0)?
            ),
        ));
    }
    Ok(())
}

impl dyn Store + '_ {
    /// Stores an assessment of a project of the organization; `NotFound` for another organization's project.
    pub async fn create_assessment(&self, a: NewAssessment) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            tx.query_opt(
                "SELECT 1 FROM projects WHERE id = $1 AND org_id = $2",
                params![a.project_id, a.org_id],
            )?
            .ok_or(StoreError::NotFound)?;
            tx.query_one(
                "INSERT INTO assessments (org_id, project_id, title, spec, time_limit_s, max_attempts, pass_mark, \
                 paid, created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING id",
                params![
                    a.org_id,
                    a.project_id,
                    a.title.as_str(),
                    a.spec.as_str(),
                    a.time_limit_s,
                    a.max_attempts,
                    a.pass_mark,
                    a.paid,
                    a.by,
                    a.now
                ],
            )?
            .i64(0)
        })
        .await
    }

    /// An assessment of the organization.
    pub async fn assessment(&self, org: OrgId, id: i64) -> StoreResult<StoredAssessment> {
        self.read_tx(move |tx| {
            tx.query_opt(
                &format!("{ASSESSMENT_COLUMNS} WHERE id = $1 AND org_id = $2"),
                params![id, org],
            )?
            .as_ref()
            .map(assessment_row)
            .transpose()?
            .ok_or(StoreError::NotFound)
        })
        .await
    }

    /// The assessments of a project, oldest first.
    pub async fn project_assessments(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Vec<StoredAssessment>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!("{ASSESSMENT_COLUMNS} WHERE org_id = $1 AND project_id = $2 ORDER BY id"),
                params![org, project],
            )?
            .iter()
            .map(assessment_row)
            .collect()
        })
        .await
    }

    /// Opens an attempt for the worker, or answers the one still open. An open attempt past its deadline is closed
    /// as expired first (it counts as an attempt). `409 attempts_exhausted` when every attempt is used.
    pub async fn open_attempt(
        &self,
        org: OrgId,
        assessment: i64,
        worker: UserId,
        now: Millis,
        grace_ms: i64,
    ) -> StoreResult<Attempt> {
        self.write_tx(move |tx| {
            let a = tx
                .query_opt(
                    &format!(
                        "SELECT time_limit_s, max_attempts, archived_at FROM assessments WHERE id = $1 \
                         AND org_id = $2{}",
                        tx.for_update()
                    ),
                    params![assessment, org],
                )?
                .ok_or(StoreError::NotFound)?;
            let (limit_s, max) = (a.i64(0)?, a.i64(1)?);
            if a.opt_i64(2)?.is_some() {
                return Err(conflict(
                    "assessment_archived",
                    "this assessment is archived: it takes no new attempts",
                ));
            }
            let open = tx.query_opt(
                &format!(
                    "{ATTEMPT_COLUMNS} WHERE t.assessment_id = $1 AND t.worker_id = $2 AND t.org_id = $3 \
                     AND t.status = 'open'"
                ),
                params![assessment, worker, org],
            )?;
            if let Some(r) = open {
                let open = attempt_row(&r)?;
                if now <= open.deadline_at + grace_ms {
                    return Ok(open);
                }
                tx.execute(
                    "UPDATE assessment_attempts SET status = 'expired', score_pct = 0 WHERE id = $1",
                    params![open.id],
                )?;
            }
            let used = tx
                .query_one(
                    "SELECT CAST(COUNT(*) AS BIGINT) FROM assessment_attempts WHERE assessment_id = $1 \
                     AND worker_id = $2",
                    params![assessment, worker],
                )?
                .i64(0)?;
            if used >= max {
                return Err(conflict(
                    "attempts_exhausted",
                    format!("you have used all {max} attempts at this assessment"),
                ));
            }
            let id = tx
                .query_one(
                    "INSERT INTO assessment_attempts (org_id, assessment_id, worker_id, started_at, deadline_at, \
                     status) VALUES ($1, $2, $3, $4, $5, 'open') RETURNING id",
                    params![org, assessment, worker, now, now + limit_s * 1000],
                )?
                .i64(0)?;
            attempt_by_id(tx, org, id, false)
        })
        .await
    }

    /// An attempt of the organization.
    pub async fn attempt(&self, org: OrgId, id: i64) -> StoreResult<Attempt> {
        self.read_tx(move |tx| attempt_by_id(tx, org, id, false))
            .await
    }

    /// A worker's attempts at an assessment, oldest first.
    pub async fn worker_attempts(
        &self,
        org: OrgId,
        assessment: i64,
        worker: UserId,
    ) -> StoreResult<Vec<Attempt>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "{ATTEMPT_COLUMNS} WHERE t.org_id = $1 AND t.assessment_id = $2 AND t.worker_id = $3 ORDER BY t.id"
                ),
                params![org, assessment, worker],
            )?
            .iter()
            .map(attempt_row)
            .collect()
        })
        .await
    }

    /// Every worker's attempts at an assessment of the organization, oldest first: the requester's results so far.
    pub async fn assessment_attempts(
        &self,
        org: OrgId,
        assessment: i64,
    ) -> StoreResult<Vec<Attempt>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "{ATTEMPT_COLUMNS} WHERE t.org_id = $1 AND t.assessment_id = $2 ORDER BY t.id"
                ),
                params![org, assessment],
            )?
            .iter()
            .map(attempt_row)
            .collect()
        })
        .await
    }

    /// Records the answers of the worker's open attempt with what grading found, if its deadline (plus `grace_ms`
    /// for the network) has not passed; otherwise closes it as expired and takes nothing. `409 attempt_closed`
    /// for an attempt that is no longer open; `NotFound` for another worker's.
    #[allow(clippy::too_many_arguments)]
    pub async fn finish_attempt(
        &self,
        org: OrgId,
        id: i64,
        worker: UserId,
        now: Millis,
        grace_ms: i64,
        answers: String,
        results: String,
        score_pct: Option<i64>,
        passed: bool,
    ) -> StoreResult<Finish> {
        self.write_tx(move |tx| {
            let a = attempt_by_id(tx, org, id, true)?;
            if a.worker_id != worker {
                return Err(StoreError::NotFound);
            }
            if a.status != "open" {
                return Err(conflict(
                    "attempt_closed",
                    "this attempt is finished; start a new one if you have attempts left",
                ));
            }
            if now > a.deadline_at + grace_ms {
                tx.execute(
                    "UPDATE assessment_attempts SET status = 'expired', score_pct = 0, submitted_at = $2 \
                     WHERE id = $1",
                    params![id, now],
                )?;
                return Ok(Finish::TooLate(attempt_by_id(tx, org, id, false)?));
            }
            let status = if score_pct.is_some() { "graded" } else { "grading" };
            tx.execute(
                "UPDATE assessment_attempts SET status = $2, answers = $3, results = $4, score_pct = $5, \
                 passed = $6, submitted_at = $7, graded_at = CASE WHEN $2 = 'graded' THEN $7 ELSE NULL END \
                 WHERE id = $1",
                params![id, status, answers, results, score_pct, passed, now],
            )?;
            Ok(Finish::Recorded(attempt_by_id(tx, org, id, false)?))
        })
        .await
    }

    /// Attempts of the organization waiting for a person to grade their rubric answers, oldest first.
    pub async fn attempts_to_grade(&self, org: OrgId) -> StoreResult<Vec<Attempt>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "{ATTEMPT_COLUMNS} WHERE t.org_id = $1 AND t.status = 'grading' ORDER BY t.id LIMIT 200"
                ),
                params![org],
            )?
            .iter()
            .map(attempt_row)
            .collect()
        })
        .await
    }

    /// A person's grading of an attempt waiting for it. `409 attempt_not_grading` otherwise.
    #[allow(clippy::too_many_arguments)]
    pub async fn grade_attempt(
        &self,
        org: OrgId,
        id: i64,
        results: String,
        score_pct: i64,
        passed: bool,
        by: UserId,
        now: Millis,
    ) -> StoreResult<Attempt> {
        self.write_tx(move |tx| {
            let a = attempt_by_id(tx, org, id, true)?;
            if a.status != "grading" {
                return Err(conflict(
                    "attempt_not_grading",
                    "this attempt is not waiting for grading",
                ));
            }
            tx.execute(
                "UPDATE assessment_attempts SET status = 'graded', results = $2, score_pct = $3, passed = $4, \
                 graded_by = $5, graded_at = $6 WHERE id = $1",
                params![id, results, score_pct, passed, by, now],
            )?;
            attempt_by_id(tx, org, id, false)
        })
        .await
    }

    /// Replaces a project's qualification requirements; each assessment must belong to the organization.
    pub async fn set_qualification_requirements(
        &self,
        org: OrgId,
        project: ProjectId,
        reqs: Vec<(i64, i64)>,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            tx.query_opt(
                "SELECT 1 FROM projects WHERE id = $1 AND org_id = $2",
                params![project, org],
            )?
            .ok_or(StoreError::NotFound)?;
            tx.execute(
                "DELETE FROM project_qualifications WHERE project_id = $1 AND org_id = $2",
                params![project, org],
            )?;
            for (assessment, mark) in &reqs {
                tx.query_opt(
                    "SELECT 1 FROM assessments WHERE id = $1 AND org_id = $2 AND archived_at IS NULL",
                    params![*assessment, org],
                )?
                .ok_or(StoreError::NotFound)?;
                tx.execute(
                    "INSERT INTO project_qualifications (org_id, project_id, assessment_id, pass_mark) \
                     VALUES ($1, $2, $3, $4) ON CONFLICT (project_id, assessment_id) DO UPDATE SET pass_mark = $4",
                    params![org, project, *assessment, *mark],
                )?;
            }
            Ok(())
        })
        .await
    }

    /// A project's qualification requirements.
    pub async fn qualification_requirements(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Vec<Requirement>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT r.assessment_id, a.title, r.pass_mark FROM project_qualifications r \
                 JOIN assessments a ON a.id = r.assessment_id WHERE r.project_id = $1 AND r.org_id = $2 \
                 ORDER BY r.assessment_id",
                params![project, org],
            )?
            .iter()
            .map(|r| {
                Ok(Requirement {
                    assessment_id: r.i64(0)?,
                    title: r.string(1)?,
                    pass_mark: r.i64(2)?,
                })
            })
            .collect()
        })
        .await
    }

    /// The requirements of a project the worker has not met.
    pub async fn unmet_requirements(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
    ) -> StoreResult<Vec<Requirement>> {
        self.read_tx(move |tx| unmet_requirements(tx, org, project, worker))
            .await
    }

    /// Every unmet requirement of the worker across the organization's projects: (project, requirement), for the
    /// home page's "take the assessment".
    pub async fn unmet_requirements_all(
        &self,
        org: OrgId,
        worker: UserId,
    ) -> StoreResult<Vec<(ProjectId, Requirement)>> {
        self.read_tx(move |tx| unmet_requirements_in(tx, org, worker))
            .await
    }

    /// Changes an assessment of the organization, locking its row (starting an attempt locks it too). `409
    /// assessment_archived` for an archived one; `409 assessment_attempted` when the questions, keys or rubrics
    /// change after someone attempted it.
    pub async fn update_assessment(
        &self,
        org: OrgId,
        id: i64,
        u: AssessmentUpdate,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let archived = lock_assessment(tx, org, id)?;
            if archived {
                return Err(conflict(
                    "assessment_archived",
                    "this assessment is archived and cannot be changed; copy it to a new assessment instead",
                ));
            }
            if u.scoring_changed && attempts_made(tx, id)? > 0 {
                return Err(conflict(
                    "assessment_attempted",
                    "candidates have attempted this assessment, so its questions, answer keys and rubrics cannot \
                     change (their scores would change meaning); change the settings only, or copy it to a new \
                     assessment",
                ));
            }
            tx.execute(
                "UPDATE assessments SET title = $3, spec = $4, time_limit_s = $5, max_attempts = $6, \
                 pass_mark = $7, paid = $8 WHERE id = $1 AND org_id = $2",
                params![
                    id,
                    org,
                    u.title.as_str(),
                    u.spec.as_str(),
                    u.time_limit_s,
                    u.max_attempts,
                    u.pass_mark,
                    u.paid
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// Archives an assessment of the organization: no new attempts, results kept. `409 assessment_required`
    /// while a project requires it (workers could never meet the requirement); archiving twice is a no-op.
    pub async fn archive_assessment(&self, org: OrgId, id: i64, now: Millis) -> StoreResult<()> {
        self.write_tx(move |tx| {
            lock_assessment(tx, org, id)?;
            refuse_if_required(tx, org, id, "archive")?;
            tx.execute(
                "UPDATE assessments SET archived_at = $3 WHERE id = $1 AND org_id = $2 AND archived_at IS NULL",
                params![id, org, now],
            )?;
            Ok(())
        })
        .await
    }

    /// Deletes an assessment of the organization that nobody attempted and no project requires. `409
    /// assessment_attempted` (archive it instead) or `409 assessment_required`.
    pub async fn delete_assessment(&self, org: OrgId, id: i64) -> StoreResult<()> {
        self.write_tx(move |tx| {
            lock_assessment(tx, org, id)?;
            if attempts_made(tx, id)? > 0 {
                return Err(conflict(
                    "assessment_attempted",
                    "candidates have attempted this assessment, so it cannot be deleted (their results are \
                     kept); archive it instead",
                ));
            }
            refuse_if_required(tx, org, id, "delete")?;
            tx.execute(
                "DELETE FROM assessments WHERE id = $1 AND org_id = $2",
                params![id, org],
            )?;
            Ok(())
        })
        .await
    }

    /// Whether a project has qualification requirements (the claim path's cache asks this).
    pub async fn has_requirements(&self, org: OrgId, project: ProjectId) -> StoreResult<bool> {
        self.read_tx(move |tx| {
            Ok(tx
                .query_opt(
                    "SELECT 1 FROM project_qualifications WHERE project_id = $1 AND org_id = $2 LIMIT 1",
                    params![project, org],
                )?
                .is_some())
        })
        .await
    }
}
