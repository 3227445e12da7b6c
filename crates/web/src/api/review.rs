//! Review, appeal, pause and review-settings endpoints (see `fairloop_app::review` for the rules).
//!
//! Reviewers (reviewer, requester or admin of the organization) read a project's queue and judge submissions;
//! workers read their own judgements and appeal once; a second reviewer decides appeals; reviewers and admins
//! pause and un-pause workers with a written reason. Anything of another organization is 404.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fairloop_app::review::{
    AppealBody, AppealCase, AppealDecisionBody, AppealView, DecisionBody, MyReviews, PauseBody,
    PauseView, ReviewSettingsBody, ReviewView,
};
use serde::Serialize;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// A project's review queue.
#[derive(Serialize, utoipa::ToSchema)]
pub struct ReviewQueue {
    /// Queued submissions, oldest first (at most 200), each with its signals.
    pub reviews: Vec<ReviewView>,
}

/// A project's open appeals.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AppealQueue {
    /// Open appeals, oldest first, each with the judgement it contests.
    pub appeals: Vec<AppealCase>,
}

/// A project's review settings (defaults when never set).
#[utoipa::path(get, path = "/api/v1/projects/{id}/review-settings", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewSettingsBody), (status = 404)))]
pub async fn get_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Json<ReviewSettingsBody>> {
    Ok(Json(s.app.review_settings(&p, project).await?))
}

/// Sets a project's sample rate, plausible minimum seconds and low-agreement threshold (requester or admin).
#[utoipa::path(put, path = "/api/v1/projects/{id}/review-settings", params(("id" = i64, Path)),
    request_body = ReviewSettingsBody,
    responses((status = 200, body = ReviewSettingsBody), (status = 422, description = "a field out of range")))]
pub async fn put_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
    ApiJson(body): ApiJson<ReviewSettingsBody>,
) -> ApiResult<Json<ReviewSettingsBody>> {
    Ok(Json(s.app.set_review_settings(&p, project, body).await?))
}

/// The submissions of a project waiting for review.
#[utoipa::path(get, path = "/api/v1/projects/{id}/reviews", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewQueue), (status = 404)))]
pub async fn queue(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Json<ReviewQueue>> {
    Ok(Json(ReviewQueue {
        reviews: s.app.review_queue(&p, project).await?,
    }))
}

/// One review with its evidence (reviewers).
#[utoipa::path(get, path = "/api/v1/reviews/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewView), (status = 404)))]
pub async fn get_review(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(s.app.review(&p, id).await?))
}

/// Accepts, rejects or corrects a queued submission with written feedback; once per submission (409
/// `already_reviewed`), never one's own (403 `own_submission`).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/decision", params(("id" = i64, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = ReviewView), (status = 403), (status = 409), (status = 422)))]
pub async fn decide(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<ReviewView>> {
    Ok(Json(s.app.decide_review(&p, id, body).await?))
}

/// Appeals one of the caller's judgements, once (409 `already_appealed`).
#[utoipa::path(post, path = "/api/v1/reviews/{id}/appeal", params(("id" = i64, Path)),
    request_body = AppealBody,
    responses((status = 201, body = AppealView), (status = 404), (status = 409), (status = 422)))]
pub async fn appeal(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<AppealBody>,
) -> ApiResult<(StatusCode, Json<AppealView>)> {
    Ok((StatusCode::CREATED, Json(s.app.appeal(&p, id, body).await?)))
}

/// The caller's judgements (feedback, signals, appeals) and pauses.
#[utoipa::path(get, path = "/api/v1/me/reviews", responses((status = 200, body = MyReviews)))]
pub async fn my_reviews(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<MyReviews>> {
    Ok(Json(s.app.my_reviews(&p).await?))
}

/// The open appeals of a project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/appeals", params(("id" = i64, Path)),
    responses((status = 200, body = AppealQueue), (status = 404)))]
pub async fn appeals(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Json<AppealQueue>> {
    Ok(Json(AppealQueue {
        appeals: s.app.appeal_queue(&p, project).await?,
    }))
}

/// Decides an appeal, finally; the first reviewer may not (403 `same_reviewer`).
#[utoipa::path(post, path = "/api/v1/appeals/{id}/decision", params(("id" = i64, Path)),
    request_body = AppealDecisionBody,
    responses((status = 200, body = AppealView), (status = 403), (status = 409), (status = 422)))]
pub async fn decide_appeal(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<AppealDecisionBody>,
) -> ApiResult<Json<AppealView>> {
    Ok(Json(s.app.decide_appeal(&p, id, body).await?))
}

/// The pauses in force in a project (reviewers).
#[utoipa::path(get, path = "/api/v1/projects/{id}/pauses", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<PauseView>), (status = 404)))]
pub async fn pauses(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Json<Vec<PauseView>>> {
    Ok(Json(s.app.project_pauses(&p, project).await?))
}

/// Pauses a worker from a project with a written reason they will see (reviewer or admin).
#[utoipa::path(post, path = "/api/v1/projects/{id}/pauses", params(("id" = i64, Path)),
    request_body = PauseBody,
    responses((status = 201, body = PauseView), (status = 404), (status = 409), (status = 422)))]
pub async fn pause(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
    ApiJson(body): ApiJson<PauseBody>,
) -> ApiResult<(StatusCode, Json<PauseView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.pause_worker(&p, project, body).await?),
    ))
}

/// Lifts a worker's pause from a project (reviewer or admin).
#[utoipa::path(delete, path = "/api/v1/projects/{id}/pauses/{worker_id}",
    params(("id" = i64, Path), ("worker_id" = i64, Path)),
    responses((status = 204), (status = 404)))]
pub async fn lift_pause(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((project, worker)): Path<(String, String)>,
) -> ApiResult<StatusCode> {
    let parse = |raw: &str| {
        raw.parse::<i64>().map_err(|_| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("no resource has the id {raw:?}; ids are numbers"),
            )
        })
    };
    s.app
        .lift_pause(&p, parse(&project)?, parse(&worker)?)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
