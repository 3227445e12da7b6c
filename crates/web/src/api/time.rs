//! Time-tracking endpoints: heartbeats, timesheets, disputes (see docs/ledger.md, "Time tracking").

use axum::Json;
use axum::extract::{Query, State};
use fairloop_app::time::{DisputeBody, HeartbeatBody, ResolveBody, Timesheet};
use fairloop_domain::time::now_millis;
use fairloop_store::time::HeartbeatOutcome;
use serde::Deserialize;
use serde_json::Value;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, Id};

/// Default timesheet window: the last 30 days.
const DEFAULT_WINDOW_MS: i64 = 30 * 24 * 3600 * 1000;

/// Reports activity on the caller's open assignment (about every 15 s): only whether the page had focus and
/// whether there was input. 409 `assignment_closed` once it is submitted, skipped or expired.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/heartbeat", params(("id" = i64, Path)),
    request_body = HeartbeatBody, responses((status = 200, body = Object), (status = 404), (status = 409)))]
pub async fn heartbeat(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(assignment): Id,
    ApiJson(body): ApiJson<HeartbeatBody>,
) -> ApiResult<Json<HeartbeatOutcome>> {
    Ok(Json(s.app.heartbeat(&p, assignment, body).await?))
}

/// Reports reading time on a project's onboarding (guidelines outside a task, a quiz, a qualification), about
/// every 15 s; counted and paid only when the project pays onboarding (`paid` in the answer), up to its cap.
#[utoipa::path(post, path = "/api/v1/projects/{id}/onboarding/heartbeat", params(("id" = i64, Path)),
    request_body = fairloop_app::onboarding::OnboardingBeatBody,
    responses((status = 200, body = fairloop_app::onboarding::OnboardingOutcome), (status = 404)))]
pub async fn onboarding_heartbeat(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
    ApiJson(body): ApiJson<fairloop_app::onboarding::OnboardingBeatBody>,
) -> ApiResult<Json<fairloop_app::onboarding::OnboardingOutcome>> {
    Ok(Json(s.app.onboarding_heartbeat(&p, project, body).await?))
}

/// `?worker_id=&from=&to=` of the timesheet (UTC millis).
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct TimesheetQuery {
    /// Another worker of the organization (requesters and admins); the caller by default.
    pub worker_id: Option<i64>,
    /// Start (inclusive), UTC millis; 30 days ago by default.
    pub from: Option<i64>,
    /// End (exclusive), UTC millis; now by default (plus a minute).
    pub to: Option<i64>,
}

/// A worker's timesheet per task and per day, the same for the worker and the requester.
#[utoipa::path(get, path = "/api/v1/timesheet", params(TimesheetQuery),
    responses((status = 200, body = Timesheet), (status = 403)))]
pub async fn timesheet(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<TimesheetQuery>,
) -> ApiResult<Json<Timesheet>> {
    let to = q.to.unwrap_or_else(|| now_millis() + 60_000);
    let from = q.from.unwrap_or(to - DEFAULT_WINDOW_MS);
    Ok(Json(s.app.timesheet(&p, q.worker_id, from, to).await?))
}

/// Disputes one of the caller's timesheet entries, with a reason; a requester or admin resolves it.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/dispute", params(("id" = i64, Path)),
    request_body = DisputeBody, responses((status = 200, body = Object), (status = 404), (status = 409)))]
pub async fn dispute(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(assignment): Id,
    ApiJson(body): ApiJson<DisputeBody>,
) -> ApiResult<Json<Value>> {
    let d = s.app.dispute_time(&p, assignment, body).await?;
    Ok(Json(serde_json::to_value(d).unwrap_or(Value::Null)))
}

/// Disputes the caller may see (their own; the organization's for requesters, reviewers and admins).
#[utoipa::path(get, path = "/api/v1/time-disputes", responses((status = 200, body = Vec<Object>)))]
pub async fn disputes(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    let list = s.app.time_disputes(&p).await?;
    Ok(Json(serde_json::to_value(list).unwrap_or(Value::Null)))
}

/// Resolves a dispute (requesters and admins): accept (optionally adding active seconds, paid at once on
/// hourly projects) or reject, with a note the worker reads.
#[utoipa::path(post, path = "/api/v1/time-disputes/{id}/resolve", params(("id" = i64, Path)),
    request_body = ResolveBody, responses((status = 200, body = Object), (status = 403), (status = 404), (status = 409)))]
pub async fn resolve(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<ResolveBody>,
) -> ApiResult<Json<Value>> {
    let d = s.app.resolve_time_dispute(&p, id, body).await?;
    Ok(Json(serde_json::to_value(d).unwrap_or(Value::Null)))
}
