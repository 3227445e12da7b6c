//! A project's guidelines over the API: publish a new version, read the current one and the history.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fairloop_domain::time::to_rfc3339;
use fairloop_store::worktools::Guidelines;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// A new version of the guidelines.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PublishGuidelines {
    /// The text, Markdown (at most 200 KB).
    pub markdown: String,
    /// What changed (optional, at most 500 characters).
    #[serde(default)]
    pub note: Option<String>,
    /// A short quiz on the change (optional): workers who must acknowledge this version pass it instead.
    #[serde(default)]
    pub quiz: Option<fairloop_app::quiz::QuizInput>,
}

/// One version of the guidelines.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GuidelinesView {
    /// 1, 2, 3…
    pub version: i64,
    /// The text, Markdown.
    pub markdown: String,
    /// What changed.
    pub note: Option<String>,
    /// When it was published (RFC 3339 UTC).
    pub created_at: String,
}

impl From<Guidelines> for GuidelinesView {
    fn from(g: Guidelines) -> Self {
        GuidelinesView {
            version: g.version,
            markdown: g.markdown,
            note: g.note,
            created_at: to_rfc3339(g.created_at),
        }
    }
}

/// The number of the version just published.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Published {
    /// Its version number.
    pub version: i64,
}

/// Publishes a new version of the project's guidelines (requesters and admins).
#[utoipa::path(post, path = "/api/v1/projects/{id}/guidelines", params(("id" = i64, Path)),
    request_body = PublishGuidelines,
    responses((status = 201, body = Published), (status = 403), (status = 404), (status = 422)))]
pub async fn publish(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<PublishGuidelines>,
) -> ApiResult<(StatusCode, Json<Published>)> {
    let version = s
        .app
        .set_guidelines_with_quiz(&p, id, &body.markdown, body.note.as_deref(), body.quiz)
        .await?;
    Ok((StatusCode::CREATED, Json(Published { version })))
}

/// The current guidelines (anyone in the organization); 404 `no_guidelines` before the first version.
#[utoipa::path(get, path = "/api/v1/projects/{id}/guidelines", params(("id" = i64, Path)),
    responses((status = 200, body = GuidelinesView), (status = 404)))]
pub async fn current(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<GuidelinesView>> {
    match s.app.guidelines(&p, id).await? {
        Some(g) => Ok(Json(g.into())),
        None => Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_guidelines",
            "this project has no guidelines yet",
        )),
    }
}

/// Every version, newest first (requesters and admins).
#[utoipa::path(get, path = "/api/v1/projects/{id}/guidelines/versions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<GuidelinesView>), (status = 403), (status = 404)))]
pub async fn versions(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<Vec<GuidelinesView>>> {
    let all = s.app.guideline_history(&p, id).await?;
    Ok(Json(all.into_iter().map(Into::into).collect()))
}

/// The version being acknowledged.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// The current version, as read.
    pub version: i64,
}

/// A worker acknowledges the current guidelines (needed before the next task when they changed since the
/// worker's earlier answers: `403 guidelines_changed`).
#[utoipa::path(post, path = "/api/v1/projects/{id}/guidelines/acknowledge", params(("id" = i64, Path)),
    request_body = Acknowledge, responses((status = 204), (status = 404), (status = 409)))]
pub async fn acknowledge(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<Acknowledge>,
) -> ApiResult<StatusCode> {
    s.app.acknowledge_guidelines(&p, id, body.version).await?;
    Ok(StatusCode::NO_CONTENT)
}
