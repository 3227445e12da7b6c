//! Project terms: versioned, accepted per version, with a question thread a person at the requester answers.
//!
//! An acceptance records the version, the hash of exactly the text accepted and the time, and it is checked
//! against the current version on every claim, so publishing a new version stops work until it is accepted.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::portable::Row;
use crate::{Store, StoreError, StoreResult, conflict, params};

/// One version of a project's terms.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Terms {
    /// 1, 2, 3…
    pub version: i64,
    /// The structured fields, JSON text.
    pub summary: String,
    /// The full text, Markdown.
    pub markdown: String,
    /// SHA-256 (hex) of the summary and the text.
    pub text_hash: String,
    /// When it was published.
    pub created_at: Millis,
}

/// A new version to publish.
#[derive(Debug, Clone)]
pub struct NewTerms {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// Structured fields, JSON text.
    pub summary: String,
    /// Full text.
    pub markdown: String,
    /// SHA-256 (hex) of summary and text.
    pub text_hash: String,
    /// Who published it.
    pub created_by: UserId,
    /// When.
    pub now: Millis,
}

/// A worker's decision on one version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsDecision {
    /// The version decided on.
    pub version: i64,
    /// `accepted` or `declined`.
    pub decision: String,
    /// The hash of the text decided on.
    pub text_hash: String,
    /// When.
    pub decided_at: Millis,
}

/// What a worker decides on a version of the terms.
#[derive(Debug, Clone)]
pub struct TermsChoice {
    /// The worker.
    pub worker: UserId,
    /// The version they read.
    pub version: i64,
    /// The hash of the text they were shown.
    pub text_hash: String,
    /// Accept (true) or decline.
    pub accepted: bool,
    /// When.
    pub now: Millis,
}

/// A question about the terms and its answer.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TermsQuestion {
    /// Id.
    pub id: i64,
    /// Who asked (shown to the requester; the worker sees only their own).
    pub worker_id: UserId,
    /// The version it was asked about.
    pub version: i64,
    /// The question.
    pub question: String,
    /// When.
    pub asked_at: Millis,
    /// The answer, once a person gave one.
    pub answer: Option<String>,
    /// When it was answered.
    pub answered_at: Option<Millis>,
}

fn terms_from(r: &Row) -> StoreResult<Terms> {
    Ok(Terms {
        version: r.i64(0)?,
        summary: r.string(1)?,
        markdown: r.string(2)?,
        text_hash: r.string(3)?,
        created_at: r.i64(4)?,
    })
}

fn question_from(r: &Row) -> StoreResult<TermsQuestion> {
    Ok(TermsQuestion {
        id: r.i64(0)?,
        worker_id: r.i64(1)?,
        version: r.i64(2)?,
        question: r.string(3)?,
        asked_at: r.i64(4)?,
        answer: r.opt_string(5)?,
        answered_at: r.opt_i64(6)?,
    })
}

const TERMS_COLUMNS: &str = "version, summary, markdown, text_hash, created_at";
const QUESTION_COLUMNS: &str = "id, worker_id, version, question, asked_at, answer, answered_at";

impl dyn Store + '_ {
    /// Publishes a new version of the project's terms; answers its number.
    pub async fn publish_terms(&self, t: NewTerms) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            let version = crate::worktools::next_version_locked(
                tx,
                "project_terms",
                t.org_id,
                t.project_id,
            )?;
            tx.execute(
                "INSERT INTO project_terms (org_id, project_id, version, summary, markdown, text_hash, created_by, \
                 created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
                params![
                    t.org_id,
                    t.project_id,
                    version,
                    t.summary,
                    t.markdown,
                    t.text_hash,
                    t.created_by,
                    t.now
                ],
            )?;
            Ok(version)
        })
        .await
    }

    /// The project's current terms, if it has any.
    pub async fn current_terms(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Option<Terms>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                &format!(
                    "SELECT {TERMS_COLUMNS} FROM project_terms WHERE org_id = $1 AND project_id = $2 \
                     ORDER BY version DESC LIMIT 1"
                ),
                params![org, project],
            )?
            .as_ref()
            .map(terms_from)
            .transpose()
        })
        .await
    }

    /// Whether the worker may work on the project as far as terms go: `Ok(None)` when the project has no terms
    /// or the worker accepted the current version, else the current version they still have to accept.
    pub async fn terms_pending(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
    ) -> StoreResult<Option<i64>> {
        self.read_tx(move |tx| {
            let current = tx
                .query_one(
                    "SELECT MAX(version) FROM project_terms WHERE org_id = $1 AND project_id = $2",
                    params![org, project],
                )?
                .opt_i64(0)?;
            let Some(v) = current else { return Ok(None) };
            let accepted = tx.query_opt(
                "SELECT 1 FROM terms_decisions WHERE project_id = $1 AND worker_id = $2 AND version = $3 \
                 AND decision = 'accepted'",
                params![project, worker, v],
            )?;
            Ok(if accepted.is_some() { None } else { Some(v) })
        })
        .await
    }

    /// Records a worker's decision on a version, which must be the current one and the text they saw (by hash).
    /// A later decision on the same version replaces an earlier one (a decline can be reconsidered).
    pub async fn decide_terms(
        &self,
        org: OrgId,
        project: ProjectId,
        choice: TermsChoice,
    ) -> StoreResult<()> {
        let TermsChoice {
            worker,
            version,
            text_hash,
            accepted,
            now,
        } = choice;
        self.write_tx(move |tx| {
            let current = tx
                .query_opt(
                    "SELECT version, text_hash FROM project_terms WHERE org_id = $1 AND project_id = $2 \
                     ORDER BY version DESC LIMIT 1",
                    params![org, project],
                )?
                .ok_or(StoreError::NotFound)?;
            if current.i64(0)? != version {
                return Err(conflict(
                    "terms_outdated",
                    format!(
                        "version {version} is not the current terms (version {} is); read the current ones",
                        current.i64(0)?
                    ),
                ));
            }
            if current.string(1)? != text_hash {
                return Err(conflict(
                    "terms_changed",
                    "the terms shown to you are not the ones stored; reload them and decide again",
                ));
            }
            tx.execute(
                "INSERT INTO terms_decisions (org_id, project_id, worker_id, version, text_hash, decision, decided_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id, worker_id, version) \
                 DO UPDATE SET decision = excluded.decision, decided_at = excluded.decided_at",
                params![
                    org,
                    project,
                    worker,
                    version,
                    text_hash,
                    if accepted { "accepted" } else { "declined" },
                    now
                ],
            )?;
            Ok(())
        })
        .await
    }

    /// The worker's decisions on the project's terms, newest version first.
    pub async fn terms_decisions(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
    ) -> StoreResult<Vec<TermsDecision>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT version, decision, text_hash, decided_at FROM terms_decisions \
                 WHERE org_id = $1 AND project_id = $2 AND worker_id = $3 ORDER BY version DESC",
                params![org, project, worker],
            )?
            .iter()
            .map(|r| {
                Ok(TermsDecision {
                    version: r.i64(0)?,
                    decision: r.string(1)?,
                    text_hash: r.string(2)?,
                    decided_at: r.i64(3)?,
                })
            })
            .collect()
        })
        .await
    }

    /// Files a worker's question about the current terms; answers its id.
    pub async fn ask_terms_question(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
        question: String,
        now: Millis,
    ) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            let version = tx
                .query_one(
                    "SELECT MAX(version) FROM project_terms WHERE org_id = $1 AND project_id = $2",
                    params![org, project],
                )?
                .opt_i64(0)?
                .ok_or(StoreError::NotFound)?;
            tx.query_one(
                "INSERT INTO terms_questions (org_id, project_id, worker_id, version, question, asked_at) \
                 VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                params![org, project, worker, version, question, now],
            )?
            .i64(0)
        })
        .await
    }

    /// Questions on the project's terms, newest first: one worker's own (`Some(worker)`), or all of them.
    pub async fn terms_questions(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: Option<UserId>,
    ) -> StoreResult<Vec<TermsQuestion>> {
        self.read_tx(move |tx| {
            let rows = match worker {
                Some(w) => tx.query(
                    &format!(
                        "SELECT {QUESTION_COLUMNS} FROM terms_questions WHERE org_id = $1 AND project_id = $2 \
                         AND worker_id = $3 ORDER BY id DESC LIMIT 200"
                    ),
                    params![org, project, w],
                )?,
                None => tx.query(
                    &format!(
                        "SELECT {QUESTION_COLUMNS} FROM terms_questions WHERE org_id = $1 AND project_id = $2 \
                         ORDER BY id DESC LIMIT 200"
                    ),
                    params![org, project],
                )?,
            };
            rows.iter().map(question_from).collect()
        })
        .await
    }

    /// A person at the requester answers a question (once; `NotFound` for another organization's).
    pub async fn answer_terms_question(
        &self,
        org: OrgId,
        project: ProjectId,
        question: i64,
        answer: String,
        by: UserId,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE terms_questions SET answer = $1, answered_by = $2, answered_at = $3 \
                 WHERE id = $4 AND org_id = $5 AND project_id = $6 AND answer IS NULL",
                params![answer, by, now, question, org, project],
            )?;
            if n == 1 {
                return Ok(());
            }
            let exists = tx.query_opt(
                "SELECT 1 FROM terms_questions WHERE id = $1 AND org_id = $2 AND project_id = $3",
                params![question, org, project],
            )?;
            match exists {
                Some(_) => Err(conflict(
                    "already_answered",
                    "this question was already answered",
                )),
                None => Err(StoreError::NotFound),
            }
        })
        .await
    }
}
