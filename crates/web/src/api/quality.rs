//! Quality endpoints: the stored quality figures of a project.

use axum::Json;
use axum::extract::State;
use fairloop_app::quality::QualityView;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Id};

/// A project's quality figures: per-question agreement, per-worker agreement and gold accuracy, the item
/// agreement histogram and adaptive overlap counts, as the quality job last saved them (see docs/quality.md).
#[utoipa::path(get, path = "/api/v1/projects/{id}/quality", params(("id" = i64, Path)),
    responses((status = 200, body = QualityView), (status = 403, description = "not a requester or admin"),
        (status = 404, description = "no such project in your organization")))]
pub async fn project_quality(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<QualityView>> {
    Ok(Json(s.app.project_quality(&p, id).await?))
}
