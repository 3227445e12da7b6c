//! A project's transparency report as JSON (the same figures as the page).

use axum::Json;
use axum::extract::State;
use fairloop_app::transparency::TransparencyReport;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{Auth, Id};

/// The transparency report of a project (anyone in its organization, workers included).
#[utoipa::path(get, path = "/api/v1/projects/{id}/transparency", params(("id" = i64, Path)),
    responses((status = 200, body = TransparencyReport), (status = 404)))]
pub async fn report(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<TransparencyReport>> {
    Ok(Json(s.app.transparency_report(&p, id).await?))
}
