//! Time tracking as people use it: the workbench's heartbeats, the timesheet (the same for the worker and the
//! requester), disputes, and the list of exactly what is recorded.
//!
//! Why only two booleans per heartbeat: knowing whether the page had focus and whether there was any input is
//! enough to tell working from away (the idle rule in `fairloop_store::time`), and nothing more should leave a
//! worker's machine: no screenshots, no webcam, no keystrokes, no mouse positions, no URLs of other tabs.

use std::collections::BTreeMap;

use fairloop_domain::time::{Millis, now_millis};
use fairloop_domain::{Role, UserId};
use fairloop_store::Principal;
use fairloop_store::ledger::{AccountRef, Posting};
use fairloop_store::time::{
    DisputeResolution, Heartbeat, HeartbeatOutcome, MAX_CREDIT_MS, MIN_GAP_MS, TimeDispute,
    TimesheetEntry,
};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::ledger::{PayModel, hourly_amount};
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Longest dispute reason or resolution note.
const MAX_NOTE: usize = 2000;
/// The most time one accepted dispute can add: a full working day.
const MAX_ADDED_MS: i64 = 12 * 3600 * 1000;

/// What the workbench reports every ~15 s.
#[derive(Debug, Clone, Copy, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    /// The page was visible and focused.
    pub focus: bool,
    /// There was keyboard, pointer or touch input since the last heartbeat.
    pub input: bool,
}

/// The body of "dispute a timesheet entry".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DisputeBody {
    /// What is wrong, in the worker's words.
    pub reason: String,
}

/// The body of "resolve a dispute".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ResolveBody {
    /// True to accept.
    pub accept: bool,
    /// Active seconds to add when accepted.
    #[serde(default)]
    pub added_seconds: i64,
    /// A note the worker reads.
    pub note: String,
}

/// One day of a timesheet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct TimesheetDay {
    /// The UTC date, `YYYY-MM-DD`.
    pub day: String,
    /// Active seconds that day (measured plus accepted disputes).
    pub active_seconds: i64,
    /// Tasks claimed that day.
    pub tasks: usize,
}

/// A worker's timesheet per task and per day.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct Timesheet {
    /// The worker.
    pub worker_id: UserId,
    /// Per task (assignment), oldest first.
    #[schema(value_type = Vec<Object>)]
    pub entries: Vec<TimesheetEntry>,
    /// Per UTC day, oldest first.
    pub days: Vec<TimesheetDay>,
    /// Paid onboarding time (guidelines, quizzes, qualification) per project and UTC day, oldest first.
    #[schema(value_type = Vec<Object>)]
    pub onboarding: Vec<fairloop_store::onboarding::OnboardingDay>,
    /// Total active seconds on tasks.
    pub total_active_seconds: i64,
    /// Total onboarding seconds.
    pub total_onboarding_seconds: i64,
}

/// Exactly what Fairloop records while someone works, for the page that lists it.
pub const RECORDED: &[(&str, &str)] = &[
    (
        "Heartbeat time",
        "the server's clock when a heartbeat arrives, about every 15 seconds while a task is open",
    ),
    (
        "Focus",
        "yes or no: whether the task's page was visible and focused",
    ),
    (
        "Input",
        "yes or no: whether you typed, clicked or touched the page since the last heartbeat (not what)",
    ),
    (
        "Claim and close times",
        "when you took the task and when you submitted or skipped it, or when it expired",
    ),
    (
        "Onboarding heartbeats",
        "the same two yes-or-no answers while you read a project's guidelines outside a task, when the project \
         pays that time; kept as minutes per project and day",
    ),
    (
        "Your answers",
        "what you submit, and a skip reason if you give one",
    ),
];

/// What is never recorded.
pub const NOT_RECORDED: &[&str] = &[
    "screenshots or screen recordings",
    "webcam or microphone",
    "keystrokes, text you did not submit, or mouse positions",
    "other tabs, windows or applications",
    "your location",
];

/// A sentence stating the idle rule, shown with the timesheet.
pub fn idle_rule() -> String {
    format!(
        "An interval between heartbeats counts as active when the page had focus and there was input in it or in \
         the interval before (so reading without touching anything counts for a while). One interval counts at \
         most {} seconds; heartbeats less than {} seconds apart are ignored.",
        MAX_CREDIT_MS / 1000,
        MIN_GAP_MS / 1000
    )
}

fn utc_day(ms: Millis) -> String {
    fairloop_domain::time::to_rfc3339(ms)[..10].to_string()
}

fn note(field: &str, text: &str) -> AppResult<String> {
    let t = text.trim();
    crate::reject_nul(field, t)?;
    if t.is_empty() || t.len() > MAX_NOTE {
        return Err(AppError::invalid(
            "invalid_reason",
            format!("{field} must be 1 to {MAX_NOTE} bytes"),
        ));
    }
    Ok(t.to_string())
}

impl App {
    /// Records a heartbeat on the caller's own open assignment.
    pub async fn heartbeat(
        &self,
        principal: &Principal,
        assignment: i64,
        body: HeartbeatBody,
    ) -> AppResult<HeartbeatOutcome> {
        self.heartbeat_at(principal, assignment, body, now_millis())
            .await
    }

    /// [`App::heartbeat`] at a given time (tests drive the clock).
    pub async fn heartbeat_at(
        &self,
        principal: &Principal,
        assignment: i64,
        body: HeartbeatBody,
        now: Millis,
    ) -> AppResult<HeartbeatOutcome> {
        if !principal.role.can_work() {
            return Err(AppError::forbidden(format!(
                "heartbeats come from workers; you are a {}",
                principal.role
            )));
        }
        self.store
            .record_heartbeat(
                Heartbeat {
                    org_id: principal.org_id,
                    worker_id: principal.user_id,
                    assignment_id: assignment,
                    focus: body.focus,
                    input: body.input,
                },
                now,
            )
            .await
            .or_not_found("assignment")
    }

    /// A worker's timesheet for `[from, to)`: the caller's own, or any worker's of the organization for
    /// requesters and admins. Both read the same entries.
    pub async fn timesheet(
        &self,
        principal: &Principal,
        worker: Option<UserId>,
        from: Millis,
        to: Millis,
    ) -> AppResult<Timesheet> {
        let worker = match worker {
            Some(w) if w != principal.user_id => {
                require_manager(principal)?;
                w
            }
            _ => principal.user_id,
        };
        let entries = self
            .store
            .timesheet(principal.org_id, worker, from, to)
            .await?;
        let mut days: BTreeMap<String, (i64, usize)> = BTreeMap::new();
        let mut total = 0;
        for e in &entries {
            let d = days.entry(utc_day(e.claimed_at)).or_default();
            d.0 += e.measured_ms + e.added_ms;
            d.1 += 1;
            total += e.measured_ms + e.added_ms;
        }
        let onboarding = self
            .onboarding_days(principal, Some(worker), from, to)
            .await?;
        let total_onboarding_seconds = onboarding.iter().map(|d| d.active_ms).sum::<i64>() / 1000;
        Ok(Timesheet {
            worker_id: worker,
            onboarding,
            total_onboarding_seconds,
            entries,
            days: days
                .into_iter()
                .map(|(day, (ms, tasks))| TimesheetDay {
                    day,
                    active_seconds: ms / 1000,
                    tasks,
                })
                .collect(),
            total_active_seconds: total / 1000,
        })
    }

    /// The worker disputes one of their own timesheet entries.
    pub async fn dispute_time(
        &self,
        principal: &Principal,
        assignment: i64,
        body: DisputeBody,
    ) -> AppResult<TimeDispute> {
        let reason = note("reason", &body.reason)?;
        self.store
            .open_time_dispute(
                principal.org_id,
                principal.user_id,
                assignment,
                reason,
                now_millis(),
            )
            .await
            .or_not_found("assignment")
    }

    /// A requester or admin resolves a dispute; accepted time on an hourly project is paid at once
    /// (`timeadj:<dispute>`, from the budget).
    pub async fn resolve_time_dispute(
        &self,
        principal: &Principal,
        id: i64,
        body: ResolveBody,
    ) -> AppResult<TimeDispute> {
        require_manager(principal)?;
        let text = note("note", &body.note)?;
        let added_ms = body.added_seconds.saturating_mul(1000);
        if body.accept && !(0..=MAX_ADDED_MS).contains(&added_ms) {
            return Err(AppError::invalid(
                "invalid_amount",
                format!(
                    "added_seconds must be between 0 and {} (twelve hours)",
                    MAX_ADDED_MS / 1000
                ),
            ));
        }
        let d = self
            .store
            .resolve_time_dispute(
                principal.org_id,
                id,
                DisputeResolution {
                    accept: body.accept,
                    added_ms,
                    note: text,
                    by: principal.user_id,
                },
                now_millis(),
            )
            .await
            .or_not_found("dispute")?;
        if d.status == "accepted" && d.added_ms > 0 {
            let (project, worker) = self.store.dispute_project(principal.org_id, id).await?;
            if let Some(policy) = self.pay_policy(principal, project).await?
                && let PayModel::Hourly(rate) = policy.model
            {
                let amount = hourly_amount(rate, d.added_ms);
                if amount > 0 {
                    self.store
                        .ledger_post(
                            Posting {
                                org_id: principal.org_id,
                                source_key: format!("timeadj:{id}"),
                                kind: "time_adjustment".into(),
                                project_id: Some(project),
                                worker_id: Some(worker),
                                annotation_id: None,
                                memo: format!(
                                    "dispute {id} accepted: {}",
                                    d.resolution.clone().unwrap_or_default()
                                ),
                                created_by: Some(principal.user_id),
                                currency: policy.currency.clone(),
                                entries: vec![
                                    (AccountRef::BUDGET, -amount),
                                    (AccountRef::earnings(worker), amount),
                                ],
                            },
                            now_millis(),
                        )
                        .await?;
                }
            }
        }
        Ok(d)
    }

    /// Disputes the caller may see: their own, or the organization's for requesters and admins.
    pub async fn time_disputes(&self, principal: &Principal) -> AppResult<Vec<TimeDispute>> {
        let worker = if principal.role.can_manage_projects() || principal.role == Role::Reviewer {
            None
        } else {
            Some(principal.user_id)
        };
        Ok(self.store.time_disputes(principal.org_id, worker).await?)
    }
}
