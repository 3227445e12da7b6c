//! A project's lifecycle over the API (read its state and forecast, change it, close it, read its history) and
//! the quiz on a guideline change (take it, read the results). Rules in docs/lifecycle.md.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use fairloop_app::lifecycle::{ChangeState, CloseBody, CloseOutcome, LifecycleView};
use fairloop_app::quiz::{AttemptBody, AttemptResult, QuizResults, QuizView};
use fairloop_domain::time::{now_millis, to_rfc3339};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// The project's state, end date, notice terms, closure record and the forecast of work left (anyone in the
/// organization; a draft is 404 to workers).
#[utoipa::path(get, path = "/api/v1/projects/{id}/lifecycle", params(("id" = i64, Path)),
    responses((status = 200, body = LifecycleView), (status = 404)))]
pub async fn get_lifecycle(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<LifecycleView>> {
    Ok(Json(s.app.project_lifecycle(&p, id, now_millis()).await?))
}

/// Moves the project to `draft`, `recruiting`, `active` or `paused` (requesters and admins);
/// `409 invalid_transition` when its state does not allow it.
#[utoipa::path(post, path = "/api/v1/projects/{id}/lifecycle", params(("id" = i64, Path)),
    request_body = ChangeState,
    responses((status = 200, body = LifecycleView), (status = 403), (status = 404), (status = 409)))]
pub async fn change(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<ChangeState>,
) -> ApiResult<Json<LifecycleView>> {
    Ok(Json(s.app.change_project_state(&p, id, body).await?))
}

/// Closes the project (requesters and admins): `with_notice` winds it down until now + the terms' notice days;
/// `now` closes it and pays affected workers the compensation for the notice not given, exactly once.
/// `409 project_closed` when it is closed already.
#[utoipa::path(post, path = "/api/v1/projects/{id}/close", params(("id" = i64, Path)),
    request_body = CloseBody,
    responses((status = 200, body = CloseOutcome), (status = 403), (status = 404), (status = 409)))]
pub async fn close(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<CloseBody>,
) -> ApiResult<Json<CloseOutcome>> {
    Ok(Json(s.app.close_project(&p, id, body).await?))
}

/// One change of state.
#[derive(Serialize, utoipa::ToSchema)]
pub struct EventView {
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// Why.
    pub reason: String,
    /// When (RFC 3339 UTC).
    pub at: String,
}

/// The project's changes of state, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/lifecycle/history", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<EventView>), (status = 404)))]
pub async fn history(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<Vec<EventView>>> {
    Ok(Json(
        s.app
            .lifecycle_history(&p, id)
            .await?
            .into_iter()
            .map(|e| EventView {
                from: e.from,
                to: e.to,
                reason: e.reason,
                at: to_rfc3339(e.at),
            })
            .collect(),
    ))
}

fn no_quiz() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "no_quiz",
        "this guidelines version has no quiz",
    )
}

/// The current guidelines version's quiz, without answers, and whether the caller passed it; 404 `no_quiz`.
#[utoipa::path(get, path = "/api/v1/projects/{id}/guidelines/quiz", params(("id" = i64, Path)),
    responses((status = 200, body = QuizView), (status = 404)))]
pub async fn quiz(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<QuizView>> {
    s.app
        .guideline_quiz(&p, id)
        .await?
        .map(Json)
        .ok_or_else(no_quiz)
}

/// A worker answers the current version's quiz: recorded either way; passing acknowledges the version. Wrong
/// answers come back with their explanations. `409 guidelines_outdated` for a version that is not current.
#[utoipa::path(post, path = "/api/v1/projects/{id}/guidelines/quiz", params(("id" = i64, Path)),
    request_body = AttemptBody,
    responses((status = 200, body = AttemptResult), (status = 404), (status = 409), (status = 422)))]
pub async fn attempt(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<AttemptBody>,
) -> ApiResult<Json<AttemptResult>> {
    Ok(Json(s.app.take_guideline_quiz(&p, id, body).await?))
}

/// Which version's results.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct VersionQuery {
    /// The guidelines version (default: the current one).
    pub version: Option<i64>,
}

/// The results of a version's quiz (requesters and admins): per question and per worker; 404 `no_quiz`.
#[utoipa::path(get, path = "/api/v1/projects/{id}/guidelines/quiz/results", params(("id" = i64, Path), VersionQuery),
    responses((status = 200, body = QuizResults), (status = 403), (status = 404)))]
pub async fn results(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    Query(q): Query<VersionQuery>,
) -> ApiResult<Json<QuizResults>> {
    let version = match q.version {
        Some(v) => v,
        None => match s.app.guidelines(&p, id).await? {
            Some(g) => g.version,
            None => return Err(no_quiz()),
        },
    };
    s.app
        .quiz_results(&p, id, version)
        .await?
        .map(Json)
        .ok_or_else(no_quiz)
}
