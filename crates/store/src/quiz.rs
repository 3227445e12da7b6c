//! Quizzes on a guideline change: stored with the guidelines version they belong to, every attempt recorded,
//! and a passing attempt is what acknowledges that version (see `worktools::acknowledge_guidelines`, which
//! refuses a plain acknowledgement while a quiz is unpassed).
//!
//! The rules (what is right, the pass mark) are the use case's (`fairloop_app::quiz`); this module keeps the
//! records and makes "record the attempt, acknowledge when passed" one transaction.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::portable::Tx;
use crate::{Store, StoreError, StoreResult, conflict, params};

/// A quiz as stored with its version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredQuiz {
    /// The guidelines version it belongs to.
    pub version: i64,
    /// The questions, right answers and explanations, JSON.
    pub quiz: String,
    /// Right answers needed to pass.
    pub pass_mark: i64,
}

/// One attempt.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct QuizAttempt {
    /// Id.
    pub id: i64,
    /// The worker.
    pub worker_id: UserId,
    /// Their email (the requester's results name who still has to pass).
    pub worker_email: String,
    /// The answers given, JSON (`{"q1": "option", …}`).
    pub answers: String,
    /// Right answers.
    pub correct: i64,
    /// Questions.
    pub total: i64,
    /// Whether it passed.
    pub passed: bool,
    /// When.
    pub created_at: Millis,
}

/// An attempt to record.
#[derive(Debug, Clone)]
pub struct NewAttempt {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// The guidelines version the quiz belongs to (must be the current one).
    pub version: i64,
    /// The worker.
    pub worker_id: UserId,
    /// Answers, JSON.
    pub answers: String,
    /// Right answers.
    pub correct: i64,
    /// Questions.
    pub total: i64,
    /// Whether it passed (then the version is acknowledged in the same transaction).
    pub passed: bool,
    /// When.
    pub now: Millis,
}

/// True when `version` has a quiz the worker has not passed.
pub fn quiz_pending(
    tx: &dyn Tx,
    org: OrgId,
    project: ProjectId,
    worker: UserId,
    version: i64,
) -> StoreResult<bool> {
    let has_quiz = tx
        .query_opt(
            "SELECT 1 FROM guideline_quizzes WHERE project_id = $1 AND version = $2 AND org_id = $3",
            params![project, version, org],
        )?
        .is_some();
    if !has_quiz {
        return Ok(false);
    }
    let passed = tx.query_opt(
        "SELECT 1 FROM quiz_attempts WHERE project_id = $1 AND version = $2 AND worker_id = $3 AND passed = 1 \
         LIMIT 1",
        params![project, version, worker],
    )?;
    Ok(passed.is_none())
}

/// A guidelines version to publish, with its quiz.
#[derive(Debug, Clone)]
pub struct NewVersion {
    /// The text, Markdown.
    pub markdown: String,
    /// What changed.
    pub note: Option<String>,
    /// The quiz (JSON) and its pass mark, if one is attached.
    pub quiz: Option<(String, i64)>,
}

impl dyn Store + '_ {
    /// Publishes a new guidelines version with a quiz attached, in one transaction; answers the version.
    pub async fn add_guidelines_with_quiz(
        &self,
        org: OrgId,
        project: ProjectId,
        v: NewVersion,
        by: UserId,
        now: Millis,
    ) -> StoreResult<i64> {
        let NewVersion {
            markdown,
            note,
            quiz,
        } = v;
        self.write_tx(move |tx| {
            let version = crate::worktools::insert_guidelines(
                tx,
                org,
                project,
                &markdown,
                note.as_deref(),
                by,
                now,
            )?;
            if let Some((quiz, pass_mark)) = &quiz {
                tx.execute(
                    "INSERT INTO guideline_quizzes (org_id, project_id, version, quiz, pass_mark, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6)",
                    params![org, project, version, quiz.as_str(), *pass_mark, now],
                )?;
            }
            Ok(version)
        })
        .await
    }

    /// The quiz of a guidelines version, if it has one.
    pub async fn guideline_quiz(
        &self,
        org: OrgId,
        project: ProjectId,
        version: i64,
    ) -> StoreResult<Option<StoredQuiz>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT version, quiz, pass_mark FROM guideline_quizzes WHERE project_id = $1 AND version = $2 \
                 AND org_id = $3",
                params![project, version, org],
            )?
            .map(|r| {
                Ok(StoredQuiz {
                    version: r.i64(0)?,
                    quiz: r.string(1)?,
                    pass_mark: r.i64(2)?,
                })
            })
            .transpose()
        })
        .await
    }

    /// Records an attempt at the current version's quiz and, when it passed, acknowledges that version: both or
    /// neither. `409 guidelines_outdated` when the version is no longer current.
    pub async fn record_quiz_attempt(&self, a: NewAttempt) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            let current = tx
                .query_one(
                    "SELECT MAX(version) FROM project_guidelines WHERE org_id = $1 AND project_id = $2",
                    params![a.org_id, a.project_id],
                )?
                .opt_i64(0)?
                .ok_or(StoreError::NotFound)?;
            if current != a.version {
                return Err(conflict(
                    "guidelines_outdated",
                    format!(
                        "version {} is not the current guidelines (version {current} is); reload the page",
                        a.version
                    ),
                ));
            }
            let id = tx
                .query_one(
                    "INSERT INTO quiz_attempts (org_id, project_id, version, worker_id, answers, correct, total, \
                     passed, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id",
                    params![
                        a.org_id,
                        a.project_id,
                        a.version,
                        a.worker_id,
                        a.answers.as_str(),
                        a.correct,
                        a.total,
                        a.passed,
                        a.now
                    ],
                )?
                .i64(0)?;
            if a.passed {
                tx.execute(
                    "INSERT INTO guideline_acks (org_id, project_id, worker_id, version, acked_at) \
                     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id, worker_id, version) DO NOTHING",
                    params![a.org_id, a.project_id, a.worker_id, a.version, a.now],
                )?;
            }
            Ok(id)
        })
        .await
    }

    /// Attempts at a version's quiz, oldest first: one worker's (`Some`), or everyone's (the requester's results).
    pub async fn quiz_attempts(
        &self,
        org: OrgId,
        project: ProjectId,
        version: i64,
        worker: Option<UserId>,
    ) -> StoreResult<Vec<QuizAttempt>> {
        self.read_tx(move |tx| {
            let base = "SELECT q.id, q.worker_id, u.email, q.answers, q.correct, q.total, q.passed, q.created_at \
                 FROM quiz_attempts q JOIN users u ON u.id = q.worker_id \
                 WHERE q.org_id = $1 AND q.project_id = $2 AND q.version = $3";
            let rows = match worker {
                Some(w) => tx.query(
                    &format!("{base} AND q.worker_id = $4 ORDER BY q.id"),
                    params![org, project, version, w],
                )?,
                None => tx.query(
                    &format!("{base} ORDER BY q.id LIMIT 5000"),
                    params![org, project, version],
                )?,
            };
            rows.iter()
                .map(|r| {
                    Ok(QuizAttempt {
                        id: r.i64(0)?,
                        worker_id: r.i64(1)?,
                        worker_email: r.string(2)?,
                        answers: r.string(3)?,
                        correct: r.i64(4)?,
                        total: r.i64(5)?,
                        passed: r.i64(6)? == 1,
                        created_at: r.i64(7)?,
                    })
                })
                .collect()
        })
        .await
    }
}
