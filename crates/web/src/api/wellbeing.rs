//! Wellbeing over the API: the sensitivity categories, a project's wellbeing settings, a worker's own opt-ins
//! and exposure, and the break reminder (docs/wellbeing.md).

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fairloop_app::wellbeing::{
    BreakStatus, CategoryView, MySensitivity, OptInBody, ProjectWellbeingView, WellbeingInput,
};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, Id};

/// The fixed list of sensitivity categories (keys, names, descriptions).
#[utoipa::path(get, path = "/api/v1/sensitivity-categories", responses((status = 200, body = [CategoryView])))]
pub async fn categories(Auth(_p): Auth) -> Json<Vec<CategoryView>> {
    Json(fairloop_app::wellbeing::category_list())
}

/// A project's wellbeing settings with the platform's defaults applied (anyone in its organization).
#[utoipa::path(get, path = "/api/v1/projects/{id}/wellbeing", params(("id" = i64, Path)),
    responses((status = 200, body = ProjectWellbeingView), (status = 404)))]
pub async fn get_project(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<ProjectWellbeingView>> {
    Ok(Json(s.app.project_wellbeing(&p, id).await?))
}

/// Replaces a project's wellbeing settings (requesters and admins). Changing its categories re-marks its items.
#[utoipa::path(put, path = "/api/v1/projects/{id}/wellbeing", params(("id" = i64, Path)), request_body = WellbeingInput,
    responses((status = 200, body = ProjectWellbeingView), (status = 403), (status = 404), (status = 422)))]
pub async fn put_project(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<WellbeingInput>,
) -> ApiResult<Json<ProjectWellbeingView>> {
    Ok(Json(s.app.set_project_wellbeing(&p, id, body).await?))
}

/// The caller's own opt-ins and today's exposure (there is no way to read another worker's).
#[utoipa::path(get, path = "/api/v1/me/sensitivity", responses((status = 200, body = MySensitivity)))]
pub async fn get_mine(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<MySensitivity>> {
    Ok(Json(s.app.my_sensitivity(&p).await?))
}

/// Replaces the caller's opt-ins (default: none; unknown keys are 422 `invalid_sensitivity`).
#[utoipa::path(put, path = "/api/v1/me/sensitivity", request_body = OptInBody,
    responses((status = 200, body = MySensitivity), (status = 403), (status = 422)))]
pub async fn put_mine(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<OptInBody>,
) -> ApiResult<Json<MySensitivity>> {
    Ok(Json(s.app.set_my_sensitivity(&p, body).await?))
}

/// The break reminder for a project: active time since the caller's last break and whether one is due.
#[utoipa::path(get, path = "/api/v1/projects/{id}/break", params(("id" = i64, Path)),
    responses((status = 200, body = BreakStatus), (status = 404)))]
pub async fn break_status(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<BreakStatus>> {
    Ok(Json(s.app.break_status(&p, id).await?))
}

/// Records that the caller takes a break now: the reminder counts active time from here.
#[utoipa::path(post, path = "/api/v1/me/break", responses((status = 204)))]
pub async fn take_break(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<StatusCode> {
    s.app.take_break(&p).await?;
    Ok(StatusCode::NO_CONTENT)
}
