//! The project lifecycle as people use it: a requester moves a project between draft, recruiting, active,
//! paused, winding down and closed; closing with notice sets an end date from the terms' notice period, closing
//! now pays each affected worker the notice compensation the terms name; workers see the state, the end date and
//! a forecast of the work left; the queue refuses work a state does not allow (`409 project_not_active`).
//!
//! Rules (docs/lifecycle.md): the states and moves are in `fairloop_domain::lifecycle`; affected workers are
//! those who submitted in the project in the last [`AFFECTED_DAYS`] days; compensation is the terms'
//! `notice_compensation_minor` per worker for the whole notice period, times the share of the period not given.
//! The claim path reads the state in the same read as the worker's pause (no extra round trip, never stale).

use std::collections::HashMap;
use std::time::Duration;

use fairloop_domain::ProjectId;
use fairloop_domain::lifecycle::{DAY_MS, ProjectState, effective_state};
use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_store::Principal;
use fairloop_store::lifecycle::{CloseProject, Lifecycle, NoticePay, StateChange};
use serde::{Deserialize, Serialize};

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Workers who submitted in the project within this many days before it closes are owed notice compensation.
pub const AFFECTED_DAYS: i64 = 30;
/// Days of throughput the forecast reads.
pub const FORECAST_DAYS: i64 = 7;
/// Longest reason accepted.
pub const MAX_REASON_CHARS: usize = 1000;
/// Largest notice compensation terms may name per worker (a typo guard: 10^12 minor units).
pub const MAX_COMPENSATION_MINOR: i64 = 1_000_000_000_000;
/// Most projects closed in one step of the job.
const CLOSING_BATCH: i64 = 100;

/// The body of "change the state".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeState {
    /// `draft`, `recruiting`, `active` or `paused` (closing has its own endpoint).
    #[schema(value_type = String)]
    pub state: ProjectState,
    /// Why, in words the workers read (e.g. why the project is paused).
    #[serde(default)]
    pub reason: String,
}

/// How to close.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum CloseMode {
    /// Give the notice the terms promise: wind down until now + `notice_days`, then close.
    WithNotice,
    /// Close at once; affected workers are paid compensation for the notice they did not get.
    Now,
}

/// The body of "close".
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CloseBody {
    /// `with_notice` or `now`.
    pub mode: CloseMode,
    /// Why, in words the workers read.
    #[serde(default)]
    pub reason: String,
}

/// Work left in a project and how long it may last at the recent pace.
#[derive(Debug, Clone, Default, PartialEq, Serialize, utoipa::ToSchema)]
pub struct WorkForecast {
    /// Answers still needed to give every item its overlap (items × overlap − answers − leases held).
    pub remaining: i64,
    /// Answers submitted in the last [`FORECAST_DAYS`] days, by everyone.
    pub recent_submissions: i64,
    /// Those per day.
    pub per_day: f64,
    /// Days of work left at that pace, when there was any pace (never past the end date).
    pub days_left: Option<f64>,
    /// The end date, when the project is winding down (RFC 3339 UTC).
    pub ends_at: Option<String>,
    /// Days until the end date, when winding down.
    pub days_to_end: Option<f64>,
}

/// How the project closed and how much notice its workers had.
#[derive(Debug, Clone, PartialEq, Serialize, utoipa::ToSchema)]
pub struct ClosureView {
    /// When (RFC 3339 UTC).
    pub closed_at: String,
    /// The notice the terms promised, in days.
    pub notice_days: i64,
    /// The notice the workers had, in days (fractional).
    pub notice_given_days: f64,
    /// Workers paid compensation for the notice they did not get.
    pub compensated_workers: i64,
    /// Paid in total, in minor units of `currency`.
    pub compensation_minor: i64,
    /// The currency, when compensation was due.
    pub currency: Option<String>,
}

/// A project's lifecycle as the API shows it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct LifecycleView {
    /// The state that applies now (a winding-down project past its end date is `closed`).
    #[schema(value_type = String)]
    pub state: ProjectState,
    /// Why, in the words of whoever changed it.
    pub reason: String,
    /// When the state last changed (RFC 3339 UTC), if it ever did.
    pub changed_at: Option<String>,
    /// The end date while winding down (RFC 3339 UTC).
    pub ends_at: Option<String>,
    /// When notice of the end was given (RFC 3339 UTC).
    pub notice_given_at: Option<String>,
    /// The notice period the current terms promise, in days.
    pub notice_days: i64,
    /// What the terms pay each affected worker for the whole notice period when it is not given, in minor units.
    pub notice_compensation_minor: i64,
    /// The states a requester may move it to now (empty for workers).
    #[schema(value_type = Vec<String>)]
    pub allowed: Vec<ProjectState>,
    /// How it closed, once closed.
    pub closure: Option<ClosureView>,
    /// The work left.
    pub forecast: WorkForecast,
}

/// What closing did.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct CloseOutcome {
    /// The lifecycle after it.
    pub lifecycle: LifecycleView,
    /// Compensation transactions posted by this call (0 when the project only began winding down).
    pub compensation_posted: u64,
}

fn check_reason(reason: &str) -> AppResult<String> {
    let r = reason.trim();
    crate::reject_nul("reason", r)?;
    if r.chars().count() > MAX_REASON_CHARS {
        return Err(AppError::invalid(
            "invalid_reason",
            format!("reason is at most {MAX_REASON_CHARS} characters"),
        ));
    }
    Ok(r.to_string())
}

/// The refusal of work in a state that does not allow it, with a sentence the worker can act on.
fn not_active(state: ProjectState, reason: &str) -> AppError {
    let why = if reason.is_empty() {
        String::new()
    } else {
        format!(" ({reason})")
    };
    let message = match state {
        ProjectState::Draft => {
            "this project is a draft; make it active to hand out tasks".to_string()
        }
        ProjectState::Recruiting => format!(
            "this project is recruiting{why}: read and accept its terms now; tasks open when it becomes active"
        ),
        ProjectState::Paused => format!(
            "this project is paused{why}: no new tasks until it resumes; items you already hold can still be \
             submitted"
        ),
        _ => format!("this project is closed{why} and takes no more work"),
    };
    AppError::Conflict {
        code: "project_not_active",
        message,
    }
}

impl App {
    /// Refuses work the project's state does not allow, then work to a paused worker: one read for both, the
    /// one the claim path already made for pauses, so the state costs no extra round trip and is never stale.
    pub(crate) async fn check_open_for_work(
        &self,
        principal: &Principal,
        project: ProjectId,
        now: Millis,
    ) -> AppResult<()> {
        let (org, me) = (principal.org_id, principal.user_id);
        // The project's requirements come with its state in one statement (profiles.rs): a project without
        // requirements costs nothing more here.
        let ((lifecycle, requirements), pause) = self
            .store
            .read_tx(move |tx| {
                Ok((
                    fairloop_store::profiles::lifecycle_and_requirements(tx, org, project)?,
                    fairloop_store::review::active_pause(tx, org, project, me)?,
                ))
            })
            .await?;
        if let Some(l) = lifecycle {
            let state = effective_state(l.state, l.ends_at, now);
            if state == ProjectState::Draft && !principal.role.can_manage_projects() {
                return Err(AppError::NotFound("project"));
            }
            if !state.hands_out_work() {
                return Err(not_active(state, &l.reason));
            }
        }
        if let Some(p) = pause {
            return Err(AppError::Forbidden {
                code: "worker_paused",
                message: format!(
                    "you are paused from this project by a reviewer: {} (see My reviews; you can appeal the \
                     judgements behind it)",
                    p.reason
                ),
            });
        }
        if let Some(spec) = requirements {
            self.check_eligible(principal, &spec).await?;
        }
        Ok(())
    }

    /// Explains a refused submission when the project closed (closing ends every open lease, so the store only
    /// says "assignment closed"): called on that error path only, never on a successful submit.
    pub(crate) async fn explain_closed(
        &self,
        principal: &Principal,
        project: ProjectId,
        e: AppError,
    ) -> AppError {
        match self.store.lifecycle(principal.org_id, project).await {
            Ok(l) if effective_state(l.state, l.ends_at, now_millis()) == ProjectState::Closed => {
                not_active(ProjectState::Closed, &l.reason)
            }
            _ => e,
        }
    }

    /// Refuses a change to a closed project's data (an import): a closed project is read-only.
    pub(crate) async fn refuse_if_closed(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<()> {
        let l = self.store.lifecycle(principal.org_id, project).await?;
        if effective_state(l.state, l.ends_at, now_millis()) == ProjectState::Closed {
            return Err(AppError::Conflict {
                code: "project_closed",
                message: "the project is closed and read-only; it takes no new items".into(),
            });
        }
        Ok(())
    }

    /// The state of a project a worker may see: drafts are 404 to anyone who does not manage projects.
    pub(crate) async fn visible_state(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Lifecycle> {
        let l = self
            .store
            .lifecycle(principal.org_id, project)
            .await
            .or_not_found("project")?;
        if !l.state.visible_to_workers() && !principal.role.can_manage_projects() {
            return Err(AppError::NotFound("project"));
        }
        Ok(l)
    }

    /// The state that applies now to one project the caller may see.
    pub async fn project_lifecycle_state(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<ProjectState> {
        let l = self.visible_state(principal, project).await?;
        Ok(effective_state(l.state, l.ends_at, now_millis()))
    }

    /// The states of the organization's projects that ever changed state (the others are active).
    pub async fn project_states(
        &self,
        principal: &Principal,
    ) -> AppResult<HashMap<ProjectId, Lifecycle>> {
        Ok(self.store.lifecycles(principal.org_id).await?)
    }

    /// The lifecycle of a project with its forecast (anyone in the organization; drafts only to managers).
    pub async fn project_lifecycle(
        &self,
        principal: &Principal,
        project: ProjectId,
        now: Millis,
    ) -> AppResult<LifecycleView> {
        let l = self.visible_state(principal, project).await?;
        self.lifecycle_view(principal, project, l, now).await
    }

    async fn lifecycle_view(
        &self,
        principal: &Principal,
        project: ProjectId,
        l: Lifecycle,
        now: Millis,
    ) -> AppResult<LifecycleView> {
        let state = effective_state(l.state, l.ends_at, now);
        let (notice_days, notice_compensation_minor) =
            self.notice_terms(principal, project).await?;
        let forecast = self.work_forecast(principal, project, &l, now).await?;
        Ok(LifecycleView {
            state,
            reason: l.reason.clone(),
            changed_at: (l.changed_at > 0).then(|| to_rfc3339(l.changed_at)),
            ends_at: l
                .ends_at
                .filter(|_| matches!(state, ProjectState::WindingDown | ProjectState::Closed))
                .map(to_rfc3339),
            notice_given_at: l.notice_given_at.map(to_rfc3339),
            notice_days,
            notice_compensation_minor,
            allowed: if principal.role.can_manage_projects() {
                state.next_states().to_vec()
            } else {
                Vec::new()
            },
            closure: l.closed_at.map(|at| ClosureView {
                closed_at: to_rfc3339(at),
                notice_days: l.notice_days.unwrap_or(0),
                notice_given_days: l.notice_given_ms.unwrap_or(0) as f64 / DAY_MS as f64,
                compensated_workers: l.compensated_workers,
                compensation_minor: l.compensation_minor,
                currency: l.currency.clone(),
            }),
            forecast,
        })
    }

    /// The notice days and the compensation per worker the project's current terms name (0 and 0 without terms).
    async fn notice_terms(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<(i64, i64)> {
        Ok(
            match self.store.current_terms(principal.org_id, project).await? {
                Some(t) => {
                    let s: crate::terms::TermsSummary = serde_json::from_str(&t.summary)
                        .map_err(|e| AppError::Internal(format!("stored terms summary: {e}")))?;
                    (i64::from(s.notice_days), s.notice_compensation_minor)
                }
                None => (0, 0),
            },
        )
    }

    /// Moves a project to draft, recruiting, active or paused (requesters and admins of its organization);
    /// `409 invalid_transition` when its state does not allow that move.
    pub async fn change_project_state(
        &self,
        principal: &Principal,
        project: ProjectId,
        body: ChangeState,
    ) -> AppResult<LifecycleView> {
        require_manager(principal)?;
        let reason = check_reason(&body.reason)?;
        if matches!(body.state, ProjectState::WindingDown | ProjectState::Closed) {
            return Err(AppError::Conflict {
                code: "invalid_transition",
                message: format!(
                    "to end a project use close (POST /api/v1/projects/{project}/close, mode with_notice or now), \
                     which gives or pays the notice the terms promise"
                ),
            });
        }
        let now = now_millis();
        let from = self
            .store
            .lifecycle(principal.org_id, project)
            .await
            .or_not_found("project")?
            .state;
        let l = self
            .store
            .change_state(StateChange {
                org_id: principal.org_id,
                project_id: project,
                to: body.state,
                reason,
                notice: None,
                by: Some(principal.user_id),
                now,
            })
            .await
            .or_not_found("project")?;
        self.announce_state(principal, project, from, l.state, &l.reason, now)
            .await;
        self.lifecycle_view(principal, project, l, now).await
    }

    /// Tells the project's workers (inbox) and the organization's webhooks that the project changed state. Best
    /// effort after the change is stored: a failure is logged and never undoes the change.
    async fn announce_state(
        &self,
        principal: &Principal,
        project: ProjectId,
        from: ProjectState,
        to: ProjectState,
        reason: &str,
        now: Millis,
    ) {
        let name = self.project_label(principal.org_id, project).await;
        let body = if reason.is_empty() {
            format!("The project is now {}.", to.label().to_lowercase())
        } else {
            format!("The project is now {}: {reason}", to.label().to_lowercase())
        };
        self.notify_project_workers_logged(
            principal.org_id,
            project,
            Some(principal.user_id),
            crate::notices::Notify {
                kind: crate::notices::NoticeKind::Lifecycle,
                project: Some(project),
                title: format!("{name}: {}", to.label()),
                body,
                link: Some(format!("/projects/{project}/status")),
                source_key: format!("lifecycle:{project}:{}:{now}", to.as_str()),
            },
        )
        .await;
        if let Err(e) = self
            .emit_project_state_changed(principal.org_id, project, now, from.as_str(), to.as_str())
            .await
        {
            tracing::warn!(error = %e, project, "the state-change webhook could not be queued");
        }
    }

    /// Closes a project (requesters and admins): with notice it winds down until now + the terms' notice days
    /// (closing at once when they promise none); now, it closes at once and pays every affected worker the
    /// compensation for the notice not given, exactly once however often or concurrently it is called.
    pub async fn close_project(
        &self,
        principal: &Principal,
        project: ProjectId,
        body: CloseBody,
    ) -> AppResult<CloseOutcome> {
        self.close_project_at(principal, project, body, now_millis())
            .await
    }

    /// [`App::close_project`] at a given time (tests drive the clock).
    pub async fn close_project_at(
        &self,
        principal: &Principal,
        project: ProjectId,
        body: CloseBody,
        now: Millis,
    ) -> AppResult<CloseOutcome> {
        require_manager(principal)?;
        let reason = check_reason(&body.reason)?;
        let current = self
            .store
            .lifecycle(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let (notice_days, full_minor) = self.notice_terms(principal, project).await?;
        let winding = current.state == ProjectState::WindingDown;
        if body.mode == CloseMode::WithNotice && notice_days > 0 && !winding {
            let l = self
                .store
                .change_state(StateChange {
                    org_id: principal.org_id,
                    project_id: project,
                    to: ProjectState::WindingDown,
                    reason,
                    notice: Some((notice_days, now + notice_days * DAY_MS)),
                    by: Some(principal.user_id),
                    now,
                })
                .await
                .or_not_found("project")?;
            self.announce_state(principal, project, current.state, l.state, &l.reason, now)
                .await;
            return Ok(CloseOutcome {
                lifecycle: self.lifecycle_view(principal, project, l, now).await?,
                compensation_posted: 0,
            });
        }
        if body.mode == CloseMode::WithNotice && winding {
            return Err(AppError::Conflict {
                code: "invalid_transition",
                message: "the project is already winding down with notice; close it now to end it before the end \
                          date (the notice not given is then paid)"
                    .into(),
            });
        }
        let currency = self
            .pay_policy(principal, project)
            .await?
            .map(|p| p.currency);
        let pay = match currency {
            Some(currency) if full_minor > 0 => Some(NoticePay {
                full_minor,
                currency,
                notice_days,
            }),
            _ => None,
        };
        let closed = self
            .store
            .close_project(CloseProject {
                org_id: principal.org_id,
                project_id: project,
                reason,
                pay,
                affected_since: now - AFFECTED_DAYS * DAY_MS,
                only_if_due: false,
                by: Some(principal.user_id),
                now,
            })
            .await
            .or_not_found("project")?
            .ok_or_else(|| {
                AppError::Internal("close without only_if_due answered nothing".into())
            })?;
        self.announce_state(
            principal,
            project,
            current.state,
            closed.lifecycle.state,
            &closed.lifecycle.reason,
            now,
        )
        .await;
        Ok(CloseOutcome {
            lifecycle: self
                .lifecycle_view(principal, project, closed.lifecycle, now)
                .await?,
            compensation_posted: closed.posted,
        })
    }

    /// The project's changes of state, newest first (anyone who may see the project).
    pub async fn lifecycle_history(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Vec<fairloop_store::lifecycle::LifecycleEvent>> {
        self.visible_state(principal, project).await?;
        Ok(self
            .store
            .lifecycle_events(principal.org_id, project)
            .await?)
    }

    /// Work left in one project at the recent pace, capped by the end date when it is winding down.
    async fn work_forecast(
        &self,
        principal: &Principal,
        project: ProjectId,
        l: &Lifecycle,
        now: Millis,
    ) -> AppResult<WorkForecast> {
        let p = self
            .store
            .project(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let stats = self.store.project_stats(principal.org_id, project).await?;
        let since = now.div_euclid(fairloop_store::dashboard::HOUR_MS) - FORECAST_DAYS * 24;
        let recent = self
            .store
            .recent_pace(principal.org_id, since)
            .await?
            .into_iter()
            .find(|(id, _, _)| *id == project)
            .map_or(0, |(_, n, _)| n);
        Ok(forecast(
            stats.items * i64::from(p.policy.overlap) - stats.annotations - stats.open_assignments,
            recent,
            l,
            now,
        ))
    }

    /// Forecasts for every project of the organization a worker may see, for the home page.
    pub async fn work_forecasts(
        &self,
        principal: &Principal,
        now: Millis,
    ) -> AppResult<HashMap<ProjectId, WorkForecast>> {
        let states = self.store.lifecycles(principal.org_id).await?;
        let since = now.div_euclid(fairloop_store::dashboard::HOUR_MS) - FORECAST_DAYS * 24;
        let pace: HashMap<ProjectId, i64> = self
            .store
            .recent_pace(principal.org_id, since)
            .await?
            .into_iter()
            .map(|(id, n, _)| (id, n))
            .collect();
        let mut out = HashMap::new();
        for p in self.store.projects(principal.org_id).await? {
            let l = states.get(&p.id).cloned().unwrap_or_default();
            if !l.state.visible_to_workers() && !principal.role.can_manage_projects() {
                continue;
            }
            let stats = self.store.project_stats(principal.org_id, p.id).await?;
            out.insert(
                p.id,
                forecast(
                    stats.items * i64::from(p.policy.overlap)
                        - stats.annotations
                        - stats.open_assignments,
                    pace.get(&p.id).copied().unwrap_or(0),
                    &l,
                    now,
                ),
            );
        }
        Ok(out)
    }

    /// The transparency report's "notice given": what the lifecycle recorded, in a sentence.
    pub(crate) async fn notice_summary(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<String> {
        let l = self.store.lifecycle(principal.org_id, project).await?;
        let days = |ms: Millis| {
            let d = ms as f64 / DAY_MS as f64;
            if (d - d.round()).abs() < 0.05 {
                format!("{:.0}", d.round())
            } else {
                format!("{d:.1}")
            }
        };
        Ok(match (l.state, l.closed_at) {
            (ProjectState::Closed, Some(_)) => {
                let promised = l.notice_days.unwrap_or(0);
                let given = l.notice_given_ms.unwrap_or(0);
                let mut s = format!(
                    "Closed with {} of the {promised} days of notice the terms promise.",
                    days(given)
                );
                if l.compensated_workers > 0 {
                    s.push_str(&format!(
                        " {} worker{} paid compensation for the notice not given ({} {} in total).",
                        l.compensated_workers,
                        if l.compensated_workers == 1 {
                            " was"
                        } else {
                            "s were"
                        },
                        l.compensation_minor,
                        l.currency.as_deref().unwrap_or("")
                    ));
                }
                s
            }
            (ProjectState::WindingDown, _) => format!(
                "Notice given: the project ends on {} ({} days of notice, as the terms promise).",
                l.ends_at
                    .map(|e| to_rfc3339(e)[..10].to_string())
                    .unwrap_or_default(),
                l.notice_days.unwrap_or(0)
            ),
            _ => "No end announced: the project has not been closed.".to_string(),
        })
    }
}

/// The forecast from the work left, the recent submissions and the lifecycle.
pub fn forecast(remaining: i64, recent: i64, l: &Lifecycle, now: Millis) -> WorkForecast {
    let remaining = remaining.max(0);
    let per_day = recent as f64 / FORECAST_DAYS as f64;
    let winding = l.state == ProjectState::WindingDown;
    let days_to_end = l
        .ends_at
        .filter(|_| winding)
        .map(|e| ((e - now) as f64 / DAY_MS as f64).max(0.0));
    let by_pace = (per_day > 0.0).then(|| remaining as f64 / per_day);
    let days_left = match (by_pace, days_to_end) {
        (Some(p), Some(e)) => Some(p.min(e)),
        (p, e) if remaining == 0 => p.or(e).map(|_| 0.0),
        (p, _) => p,
    };
    WorkForecast {
        remaining,
        recent_submissions: recent,
        per_day,
        days_left,
        ends_at: l.ends_at.filter(|_| winding).map(to_rfc3339),
        days_to_end,
    }
}

/// Closes winding-down projects whose end date has passed, and ends any lease left open in a closed project.
#[derive(Debug, Clone)]
pub struct LifecycleClosing {
    app: App,
}

impl LifecycleClosing {
    /// A closing job over the app's store.
    pub fn new(app: App) -> Self {
        LifecycleClosing { app }
    }

    /// Closes up to one batch of projects due by `now`; answers how many it closed.
    pub async fn try_run_one(&self, now: Millis) -> AppResult<u64> {
        let store = &self.app.store;
        let mut closed = 0;
        for (org, project) in store.lifecycle_due(now, CLOSING_BATCH).await? {
            // The full notice was given, so nothing is owed: no pay settings are needed.
            let done = store
                .close_project(CloseProject {
                    org_id: org,
                    project_id: project,
                    reason: String::new(),
                    pay: None,
                    affected_since: now - AFFECTED_DAYS * DAY_MS,
                    only_if_due: true,
                    by: None,
                    now,
                })
                .await;
            match done {
                Ok(Some(_)) => closed += 1,
                // Closed by a person (or another process) in the meantime.
                Ok(None) | Err(fairloop_store::StoreError::Conflict { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        store.end_leases_of_closed(now).await?;
        Ok(closed)
    }

    /// Runs forever, a step every `period`.
    pub async fn run(self, period: Duration) {
        loop {
            if let Err(e) = self.try_run_one(now_millis()).await {
                tracing::warn!(error = %e, "closing projects at their end date failed");
            }
            tokio::time::sleep(period).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_forecast_is_capped_by_the_end_date() {
        let now = 1_000 * DAY_MS;
        let active = Lifecycle::default();
        let f = forecast(700, 70, &active, now);
        assert_eq!((f.per_day, f.days_left), (10.0, Some(70.0)));
        assert_eq!(f.ends_at, None);
        let winding = Lifecycle {
            state: ProjectState::WindingDown,
            ends_at: Some(now + 14 * DAY_MS),
            ..Lifecycle::default()
        };
        let f = forecast(700, 70, &winding, now);
        assert_eq!((f.days_to_end, f.days_left), (Some(14.0), Some(14.0)));
        assert!(f.ends_at.is_some());
        // No pace yet: no estimate, but the end date still shows.
        let f = forecast(700, 0, &winding, now);
        assert_eq!((f.days_left, f.days_to_end), (None, Some(14.0)));
        assert_eq!(forecast(-3, 0, &active, now).remaining, 0);
    }
}
