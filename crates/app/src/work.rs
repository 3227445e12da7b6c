//! The worker's side: take the next task, submit answers, skip.
//!
//! Every answer is validated against the project's template and the item's data before the store sees it,
//! and the store fences the write by the lease, so a submission either counts exactly once or is refused
//! with a reason the worker can act on.

use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_domain::{AssignmentId, ProjectId};
use fairloop_store::{Claim, Principal, Submission, Submitted};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::NotFoundAs;
use crate::{App, AppError, AppResult};

/// Longest idempotency key accepted.
const MAX_IDEMPOTENCY_KEY: usize = 200;
/// Longest skip reason kept.
const MAX_SKIP_REASON: usize = 2000;
/// The reason stored for a "too distressing" skip given without words.
pub const TOO_DISTRESSING: &str = "Too distressing";

/// An item as a worker receives it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TaskItem {
    /// The item's external id, or its internal id when it was imported without one.
    pub id: String,
    /// The item data.
    #[schema(value_type = Object)]
    pub data: Value,
    /// The item's sensitivity categories (keys; its own and its project's): show it blurred until the worker
    /// reveals it. Absent for most items (those without any).
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub sensitivity: Vec<String>,
}

/// The answer to "next task".
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct NextTask {
    /// The lease to submit against.
    pub assignment_id: AssignmentId,
    /// What to work on.
    pub item: TaskItem,
    /// When the lease ends (RFC 3339 UTC); after that the item may go to someone else.
    pub expires_at: String,
    /// True when this is a lease the worker already held (not a new claim).
    #[serde(skip)]
    pub reused: bool,
}

impl From<Claim> for NextTask {
    fn from(c: Claim) -> Self {
        NextTask {
            assignment_id: c.assignment_id,
            item: TaskItem {
                id: c.external_id.unwrap_or_else(|| c.item_id.to_string()),
                data: serde_json::from_str(&c.data).unwrap_or(Value::Null),
                sensitivity: fairloop_domain::sensitivity::keys(c.sensitivity),
            },
            expires_at: to_rfc3339(c.expires_at),
            reused: c.reused,
        }
    }
}

/// The body of a submission.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SubmitBody {
    /// Answers keyed by question name.
    #[schema(value_type = Object)]
    pub answers: Value,
    /// What the workbench measured (pastes); optional, shown to the worker and reviewers (see `review`).
    #[serde(default)]
    pub integrity: Option<crate::review::ClientSignals>,
}

/// The body of a skip.
#[derive(Debug, Clone, Deserialize, Default, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SkipBody {
    /// Why the worker skipped (shown to the requester).
    #[serde(default)]
    pub reason: Option<String>,
    /// "Too distressing": needs no explanation and never counts against the worker (nor does any skip of a
    /// sensitive item; see docs/wellbeing.md).
    #[serde(default)]
    pub too_distressing: bool,
}

fn require_worker(p: &Principal) -> AppResult<()> {
    if p.role.can_work() {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "taking tasks needs the worker, reviewer or admin role; you are a {}",
            p.role
        )))
    }
}

impl App {
    /// Leases the next task of a project to the caller; `None` when nothing is left for them.
    pub async fn next_task(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<NextTask>> {
        self.next_task_at(principal, project, now_millis()).await
    }

    /// [`App::next_task`] at a given time (tests drive the clock).
    pub async fn next_task_at(
        &self,
        principal: &Principal,
        project: ProjectId,
        now: Millis,
    ) -> AppResult<Option<NextTask>> {
        require_worker(principal)?;
        // The project's state and the worker's pause, in one read (lifecycle.rs).
        self.check_open_for_work(principal, project, now).await?;
        self.check_terms_accepted(principal, project).await?;
        self.check_guidelines_acknowledged(principal, project)
            .await?;
        // Projects with sensitive content take the sensitive claim (wellbeing.rs); the others, the tuned one.
        let sensitive = self.project_is_sensitive(principal.org_id, project).await?;
        // Budgeted projects hold the task's cost first and stop handing out work when they cannot (ledger.rs).
        let hold = self.hold_budget(principal, project, now).await?;
        if hold == crate::ledger::Hold::Exhausted {
            return Ok(None);
        }
        if sensitive {
            return self
                .sensitive_task_held(principal, project, now, hold)
                .await;
        }
        if let Some(gold) = self.maybe_gold_task(principal, project, now).await? {
            if let crate::ledger::Hold::Held(reservation) = hold {
                self.settle_hold(principal, reservation, Some(gold.assignment_id), now)
                    .await?;
            }
            return Ok(Some(gold));
        }
        let claim = self
            .store
            .claim_next(principal.org_id, project, principal.user_id, now)
            .await
            .or_not_found("project")?;
        if claim.is_none() && self.turned_sensitive(principal.org_id, project).await? {
            // Another process (or an import) gave the project sensitive content since this one looked.
            return self
                .sensitive_task_held(principal, project, now, hold)
                .await;
        }
        if let crate::ledger::Hold::Held(reservation) = hold {
            let fresh = claim
                .as_ref()
                .filter(|c| !c.reused)
                .map(|c| c.assignment_id);
            self.settle_hold(principal, reservation, fresh, now).await?;
        }
        Ok(claim.map(NextTask::from))
    }

    /// The sensitive claim under a budget hold: the hold is tied to a new assignment or released, also when
    /// the claim is refused.
    async fn sensitive_task_held(
        &self,
        principal: &Principal,
        project: ProjectId,
        now: Millis,
        hold: crate::ledger::Hold,
    ) -> AppResult<Option<NextTask>> {
        let claim = self.sensitive_task(principal, project, now).await;
        if let crate::ledger::Hold::Held(reservation) = hold {
            let fresh = match &claim {
                Ok(Some(t)) if !t.reused => Some(t.assignment_id),
                _ => None,
            };
            self.settle_hold(principal, reservation, fresh, now).await?;
        }
        claim
    }

    /// Validates and records a submission; retries with the same idempotency key return the first result.
    pub async fn submit(
        &self,
        principal: &Principal,
        assignment: AssignmentId,
        body: SubmitBody,
        idempotency_key: Option<String>,
    ) -> AppResult<Submitted> {
        require_worker(principal)?;
        if let Some(key) = &idempotency_key
            && (key.is_empty()
                || key.len() > MAX_IDEMPOTENCY_KEY
                || !key.bytes().all(|b| b.is_ascii_graphic()))
        {
            return Err(AppError::bad_request(
                "invalid_idempotency_key",
                format!(
                    "Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} printable ASCII characters"
                ),
            ));
        }
        let ctx = self
            .store
            .assignment_context(principal.org_id, principal.user_id, assignment)
            .await
            .or_not_found("assignment")?;
        let template = self.template_of(ctx.project_id, &ctx.template)?;
        let data: serde_json::Map<String, Value> = serde_json::from_str(&ctx.item_data)
            .map_err(|e| AppError::Internal(format!("stored item data: {e}")))?;
        if let Err(errors) = template.validate_answers(&body.answers, &data) {
            let first = errors.first().map(|e| e.to_string()).unwrap_or_default();
            let list: Vec<Value> = errors
                .iter()
                .map(|e| serde_json::json!({"question": e.question, "message": e.message}))
                .collect();
            return Err(AppError::Invalid {
                code: "invalid_answer",
                message: if errors.len() == 1 {
                    first
                } else {
                    format!("{first} (and {} more)", errors.len() - 1)
                },
                details: Some(serde_json::json!({ "errors": list })),
            });
        }
        let integrity = body.integrity;
        let project = ctx.project_id;
        let submitted = match self
            .store
            .submit(
                Submission {
                    org_id: principal.org_id,
                    worker_id: principal.user_id,
                    assignment_id: assignment,
                    answers: body.answers.to_string(),
                    idempotency_key,
                },
                now_millis(),
            )
            .await
            .or_not_found("assignment")
        {
            Ok(s) => s,
            Err(
                e @ AppError::Conflict {
                    code: "assignment_closed",
                    ..
                },
            ) => return Err(self.explain_closed(principal, project, e).await),
            Err(e) => return Err(e),
        };
        if !submitted.replayed {
            // The submission is saved; signals and the review queue must not undo it, so a failure is logged.
            if let Err(e) = self
                .after_submit(principal, submitted.annotation_id, integrity)
                .await
            {
                tracing::error!(error = %e, annotation = submitted.annotation_id, "integrity signals failed");
            }
        }
        Ok(submitted)
    }

    /// Gives a task back with a reason.
    pub async fn skip(
        &self,
        principal: &Principal,
        assignment: AssignmentId,
        body: SkipBody,
    ) -> AppResult<()> {
        require_worker(principal)?;
        let reason = body.reason.unwrap_or_default();
        crate::reject_nul("reason", &reason)?;
        if reason.len() > MAX_SKIP_REASON {
            return Err(AppError::invalid(
                "invalid_reason",
                format!("reason must be at most {MAX_SKIP_REASON} bytes"),
            ));
        }
        // "Too distressing", or any skip of a sensitive item, is recorded as a skip that never counts.
        let sensitive_item = !body.too_distressing
            && self
                .store
                .assignment_context(principal.org_id, principal.user_id, assignment)
                .await
                .or_not_found("assignment")?
                .sensitivity
                != 0;
        if body.too_distressing || sensitive_item {
            let reason = match reason.trim() {
                "" if body.too_distressing => TOO_DISTRESSING.to_string(),
                r => r.to_string(),
            };
            return self
                .skip_protected(principal, assignment, reason, body.too_distressing)
                .await;
        }
        self.store
            .skip(
                principal.org_id,
                principal.user_id,
                assignment,
                reason.trim(),
                now_millis(),
            )
            .await
            .or_not_found("assignment")
    }
}
