//! Screening interviews: a project's setup (questions and rubric), each candidate's interview, its transcript
//! stored turn by turn, the model's scores, and a person's decision.
//!
//! Every step is one transaction that checks the transcript's last turn, so a retried or doubled request cannot
//! add a turn twice or out of order, and a candidate's answer is stored before the model is asked anything: when
//! the model's endpoint fails, nothing the candidate wrote is lost.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::portable::{Row, Tx};
use crate::{Store, StoreError, StoreResult, conflict, params};

/// One turn of a transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Turn {
    /// 1, 2, 3…
    pub seq: i64,
    /// `interviewer` or `candidate`.
    pub role: String,
    /// The text.
    pub content: String,
    /// Which of the project's questions it belongs to (0-based).
    pub question_index: i64,
    /// When.
    pub created_at: Millis,
}

/// An interview with its transcript.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Interview {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: ProjectId,
    /// The candidate.
    pub worker_id: UserId,
    /// Their email (for reviewers).
    pub worker_email: String,
    /// `active`, `answered`, `scored`, `needs_review` or `decided`.
    pub status: String,
    /// The question being asked (0-based).
    pub question_index: i64,
    /// Follow-ups asked on it so far.
    pub followups: i64,
    /// The model's scores with reasons, JSON.
    pub scores: Option<String>,
    /// The model's total.
    pub model_total: Option<i64>,
    /// The most possible.
    pub model_max: Option<i64>,
    /// Whether the model's total reached the pass mark.
    pub model_passed: Option<bool>,
    /// The candidate asked for a person.
    pub review_requested: bool,
    /// Why, in their words.
    pub review_reason: Option<String>,
    /// A person's decision: `pass` or `fail`.
    pub decision: Option<String>,
    /// The person's note.
    pub decision_note: Option<String>,
    /// When they decided.
    pub decided_at: Option<Millis>,
    /// When it started.
    pub created_at: Millis,
    /// The transcript, in order.
    pub turns: Vec<Turn>,
}

const COLUMNS: &str = "SELECT i.id, i.project_id, i.worker_id, u.email, i.status, i.question_index, i.followups, \
     i.scores, i.model_total, i.model_max, i.model_passed, i.review_requested, i.review_reason, i.decision, \
     i.decision_note, i.decided_at, i.created_at FROM interviews i JOIN users u ON u.id = i.worker_id";

fn interview_row(r: &Row) -> StoreResult<Interview> {
    Ok(Interview {
        id: r.i64(0)?,
        project_id: r.i64(1)?,
        worker_id: r.i64(2)?,
        worker_email: r.string(3)?,
        status: r.string(4)?,
        question_index: r.i64(5)?,
        followups: r.i64(6)?,
        scores: r.opt_string(7)?,
        model_total: r.opt_i64(8)?,
        model_max: r.opt_i64(9)?,
        model_passed: r.opt_i64(10)?.map(|v| v == 1),
        review_requested: r.bool(11)?,
        review_reason: r.opt_string(12)?,
        decision: r.opt_string(13)?,
        decision_note: r.opt_string(14)?,
        decided_at: r.opt_i64(15)?,
        created_at: r.i64(16)?,
        turns: Vec::new(),
    })
}

/// Reads an interview of the organization with its transcript (locking its row when `lock`).
fn load(tx: &dyn Tx, org: OrgId, id: i64, lock: bool) -> StoreResult<Interview> {
    let lock = if lock && !tx.for_update().is_empty() {
        " FOR UPDATE OF i"
    } else {
        ""
    };
    let mut i = tx
        .query_opt(
            &format!("{COLUMNS} WHERE i.id = $1 AND i.org_id = $2{lock}"),
            params![id, org],
        )?
        .as_ref()
        .map(interview_row)
        .transpose()?
        .ok_or(StoreError::NotFound)?;
    i.turns = tx
        .query(
            "SELECT seq, role, content, question_index, created_at FROM interview_turns \
             WHERE interview_id = $1 AND org_id = $2 ORDER BY seq",
            params![id, org],
        )?
        .iter()
        .map(|r| {
            Ok(Turn {
                seq: r.i64(0)?,
                role: r.string(1)?,
                content: r.string(2)?,
                question_index: r.i64(3)?,
                created_at: r.i64(4)?,
            })
        })
        .collect::<StoreResult<_>>()?;
    Ok(i)
}

fn add_turn(
    tx: &dyn Tx,
    org: OrgId,
    i: &Interview,
    role: &str,
    content: &str,
    question_index: i64,
    now: Millis,
) -> StoreResult<()> {
    let seq = i.turns.last().map_or(0, |t| t.seq) + 1;
    tx.execute(
        "INSERT INTO interview_turns (org_id, interview_id, seq, role, content, question_index, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![org, i.id, seq, role, content, question_index, now],
    )?;
    tx.execute(
        "UPDATE interviews SET updated_at = $2 WHERE id = $1",
        params![i.id, now],
    )?;
    Ok(())
}

fn out_of_order() -> StoreError {
    conflict(
        "interview_out_of_order",
        "the interview moved on since this page was loaded (another tab?); reload it",
    )
}

/// What the interviewer does next, decided by the use case from the model's reply.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Next {
    /// Ask a follow-up on the current question.
    FollowUp(String),
    /// Ask the project's next question (its index and text).
    Question(i64, String),
    /// Every question is answered: the transcript waits for scoring.
    Done,
}

impl dyn Store + '_ {
    /// Stores a project's interview setup (JSON), replacing the one before; `NotFound` for another org's project.
    pub async fn set_interview_setup(
        &self,
        org: OrgId,
        project: ProjectId,
        spec: String,
        by: UserId,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            tx.query_opt(
                "SELECT 1 FROM projects WHERE id = $1 AND org_id = $2",
                params![project, org],
            )?
            .ok_or(StoreError::NotFound)?;
            tx.execute(
                "INSERT INTO interview_setups (project_id, org_id, spec, updated_by, updated_at) \
                 VALUES ($1, $2, $3, $4, $5) ON CONFLICT (project_id) DO UPDATE SET spec = $3, updated_by = $4, \
                 updated_at = $5",
                params![project, org, spec.as_str(), by, now],
            )?;
            Ok(())
        })
        .await
    }

    /// The organization's projects that run a screening interview (the worker's home links them).
    pub async fn projects_with_interviews(&self, org: OrgId) -> StoreResult<Vec<ProjectId>> {
        self.read_tx(move |tx| projects_with_interviews_in(tx, org))
            .await
    }

    /// A project's interview setup (JSON), if it has one.
    pub async fn interview_setup(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Option<String>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT spec FROM interview_setups WHERE project_id = $1 AND org_id = $2",
                params![project, org],
            )?
            .map(|r| r.string(0))
            .transpose()
        })
        .await
    }

    /// Starts the worker's interview with its first question, or answers the one in progress.
    pub async fn start_interview(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
        first_question: String,
        now: Millis,
    ) -> StoreResult<Interview> {
        self.write_tx(move |tx| {
            if let Some(r) = tx.query_opt(
                "SELECT id FROM interviews WHERE project_id = $1 AND worker_id = $2 AND org_id = $3 \
                 AND status IN ('active', 'answered')",
                params![project, worker, org],
            )? {
                return load(tx, org, r.i64(0)?, false);
            }
            let id = tx
                .query_one(
                    "INSERT INTO interviews (org_id, project_id, worker_id, status, created_at, updated_at) \
                     VALUES ($1, $2, $3, 'active', $4, $4) RETURNING id",
                    params![org, project, worker, now],
                )?
                .i64(0)?;
            let i = load(tx, org, id, false)?;
            add_turn(tx, org, &i, "interviewer", &first_question, 0, now)?;
            load(tx, org, id, false)
        })
        .await
    }

    /// An interview of the organization with its transcript.
    pub async fn interview(&self, org: OrgId, id: i64) -> StoreResult<Interview> {
        self.read_tx(move |tx| load(tx, org, id, false)).await
    }

    /// The worker's latest interview on a project.
    pub async fn latest_interview(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
    ) -> StoreResult<Option<Interview>> {
        self.read_tx(move |tx| {
            match tx.query_opt(
                "SELECT id FROM interviews WHERE project_id = $1 AND worker_id = $2 AND org_id = $3 \
                 ORDER BY id DESC LIMIT 1",
                params![project, worker, org],
            )? {
                Some(r) => Ok(Some(load(tx, org, r.i64(0)?, false)?)),
                None => Ok(None),
            }
        })
        .await
    }

    /// Stores the candidate's answer to the last interviewer turn (`after_seq`, the turn the page showed).
    /// `409 interview_out_of_order` when the transcript has moved on or waits for the interviewer.
    pub async fn add_answer(
        &self,
        org: OrgId,
        id: i64,
        worker: UserId,
        after_seq: i64,
        text: String,
        now: Millis,
    ) -> StoreResult<Interview> {
        self.write_tx(move |tx| {
            let i = load(tx, org, id, true)?;
            if i.worker_id != worker {
                return Err(StoreError::NotFound);
            }
            if i.status != "active" {
                return Err(conflict(
                    "interview_finished",
                    "this interview has no open question",
                ));
            }
            match i.turns.last() {
                Some(t) if t.seq == after_seq && t.role == "interviewer" => {}
                _ => return Err(out_of_order()),
            }
            add_turn(tx, org, &i, "candidate", &text, i.question_index, now)?;
            load(tx, org, id, false)
        })
        .await
    }

    /// Applies the interviewer's next step after the candidate's turn `after_seq`. A step already applied (a
    /// double retry) is `409 interview_out_of_order`.
    pub async fn interviewer_step(
        &self,
        org: OrgId,
        id: i64,
        after_seq: i64,
        next: Next,
        now: Millis,
    ) -> StoreResult<Interview> {
        self.write_tx(move |tx| {
            let i = load(tx, org, id, true)?;
            match i.turns.last() {
                Some(t) if t.seq == after_seq && t.role == "candidate" && i.status == "active" => {}
                _ => return Err(out_of_order()),
            }
            match &next {
                Next::FollowUp(text) => {
                    add_turn(tx, org, &i, "interviewer", text, i.question_index, now)?;
                    tx.execute(
                        "UPDATE interviews SET followups = followups + 1 WHERE id = $1",
                        params![id],
                    )?;
                }
                Next::Question(index, text) => {
                    add_turn(tx, org, &i, "interviewer", text, *index, now)?;
                    tx.execute(
                        "UPDATE interviews SET question_index = $2, followups = 0 WHERE id = $1",
                        params![id, *index],
                    )?;
                }
                Next::Done => {
                    tx.execute(
                        "UPDATE interviews SET status = 'answered', updated_at = $2 WHERE id = $1",
                        params![id, now],
                    )?;
                }
            }
            load(tx, org, id, false)
        })
        .await
    }

    /// Stores the model's scores of an answered interview: `scored` when they reach the pass mark, otherwise
    /// `needs_review` (a person decides before anyone is turned away).
    #[allow(clippy::too_many_arguments)]
    pub async fn record_interview_scores(
        &self,
        org: OrgId,
        id: i64,
        scores: String,
        total: i64,
        max: i64,
        passed: bool,
        now: Millis,
    ) -> StoreResult<Interview> {
        self.write_tx(move |tx| {
            let i = load(tx, org, id, true)?;
            if i.status != "answered" {
                return Err(conflict(
                    "interview_not_answered",
                    "this interview is not waiting for scores",
                ));
            }
            tx.execute(
                "UPDATE interviews SET status = $2, scores = $3, model_total = $4, model_max = $5, \
                 model_passed = $6, updated_at = $7 WHERE id = $1",
                params![
                    id,
                    if passed { "scored" } else { "needs_review" },
                    scores.as_str(),
                    total,
                    max,
                    passed,
                    now
                ],
            )?;
            load(tx, org, id, false)
        })
        .await
    }

    /// The candidate asks a person to review the result. `409 interview_not_scored` before there is a result,
    /// `409 interview_decided` once a person has decided.
    pub async fn request_interview_review(
        &self,
        org: OrgId,
        id: i64,
        worker: UserId,
        reason: String,
        now: Millis,
    ) -> StoreResult<Interview> {
        self.write_tx(move |tx| {
            let i = load(tx, org, id, true)?;
            if i.worker_id != worker {
                return Err(StoreError::NotFound);
            }
            match i.status.as_str() {
                "scored" | "needs_review" => {}
                "decided" => {
                    return Err(conflict(
                        "interview_decided",
                        "a person has already decided on this interview",
                    ));
                }
                _ => {
                    return Err(conflict(
                        "interview_not_scored",
                        "this interview has no result yet",
                    ));
                }
            }
            tx.execute(
                "UPDATE interviews SET status = 'needs_review', review_requested = 1, review_reason = $2, \
                 updated_at = $3 WHERE id = $1",
                params![id, reason.as_str(), now],
            )?;
            load(tx, org, id, false)
        })
        .await
    }

    /// Interviews of the organization waiting for a person, oldest first.
    pub async fn interviews_to_review(&self, org: OrgId) -> StoreResult<Vec<Interview>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!("{COLUMNS} WHERE i.org_id = $1 AND i.status = 'needs_review' ORDER BY i.id LIMIT 200"),
                params![org],
            )?
            .iter()
            .map(interview_row)
            .collect()
        })
        .await
    }

    /// A person's decision on a scored interview: it replaces the model's result. `409 interview_not_scored`
    /// before the model has scored it.
    pub async fn decide_interview(
        &self,
        org: OrgId,
        id: i64,
        pass: bool,
        note: String,
        by: UserId,
        now: Millis,
    ) -> StoreResult<Interview> {
        self.write_tx(move |tx| {
            let i = load(tx, org, id, true)?;
            if !matches!(i.status.as_str(), "scored" | "needs_review" | "decided") {
                return Err(conflict(
                    "interview_not_scored",
                    "this interview has no result to decide on yet",
                ));
            }
            tx.execute(
                "UPDATE interviews SET status = 'decided', decision = $2, decision_note = $3, decided_by = $4, \
                 decided_at = $5, updated_at = $5 WHERE id = $1",
                params![id, if pass { "pass" } else { "fail" }, note.as_str(), by, now],
            )?;
            load(tx, org, id, false)
        })
        .await
    }
}

/// [`projects_with_interviews`](dyn Store::projects_with_interviews) inside a transaction (the home page reads it
/// with the rest of what its cards need, in one read).
pub(crate) fn projects_with_interviews_in(tx: &dyn Tx, org: OrgId) -> StoreResult<Vec<ProjectId>> {
    tx.query(
        "SELECT project_id FROM interview_setups WHERE org_id = $1 ORDER BY project_id",
        params![org],
    )?
    .iter()
    .map(|r| r.i64(0))
    .collect()
}
