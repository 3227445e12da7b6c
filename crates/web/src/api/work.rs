//! Worker endpoints: next task, submit, skip.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use fairloop_app::work::{NextTask, SkipBody, SubmitBody};
use serde::Serialize;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// Leases the next item to the caller: 200 with the task, or 204 when nothing is left for them.
#[utoipa::path(post, path = "/api/v1/projects/{id}/assignments/next", params(("id" = i64, Path)),
    responses((status = 200, body = NextTask), (status = 204, description = "nothing left for this worker")))]
pub async fn next(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Response> {
    Ok(match s.app.next_task(&p, project).await? {
        Some(task) => Json(task).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// The result of a submission.
#[derive(Serialize, utoipa::ToSchema)]
pub struct SubmitResponse {
    /// The saved annotation.
    pub annotation_id: i64,
    /// True when this answers a retry with an `Idempotency-Key` already used for this assignment.
    pub replayed: bool,
}

/// Submits answers for an assignment. Validated against the template (422 names the question); fenced by the
/// lease (409 when it expired and the item went to someone else); durable when it answers 200.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/submit", params(("id" = i64, Path),
        ("Idempotency-Key" = Option<String>, Header, description = "a retry with the same key returns the first result")),
    request_body = SubmitBody,
    responses((status = 200, body = SubmitResponse), (status = 409), (status = 422)))]
pub async fn submit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(assignment): Id,
    headers: HeaderMap,
    ApiJson(body): ApiJson<SubmitBody>,
) -> ApiResult<Json<SubmitResponse>> {
    let key = match headers.get("idempotency-key") {
        None => None,
        Some(v) => Some(
            v.to_str()
                .map_err(|_| {
                    ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_idempotency_key",
                        "Idempotency-Key must be ASCII",
                    )
                })?
                .to_string(),
        ),
    };
    let done = s.app.submit(&p, assignment, body, key).await?;
    Ok(Json(SubmitResponse {
        annotation_id: done.annotation_id,
        replayed: done.replayed,
    }))
}

/// Gives an assignment back, with a reason; the item returns to the pool for others.
#[utoipa::path(post, path = "/api/v1/assignments/{id}/skip", params(("id" = i64, Path)), request_body = SkipBody,
    responses((status = 204)))]
pub async fn skip(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(assignment): Id,
    ApiJson(body): ApiJson<SkipBody>,
) -> ApiResult<StatusCode> {
    s.app.skip(&p, assignment, body).await?;
    Ok(StatusCode::NO_CONTENT)
}
