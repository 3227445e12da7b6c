//! Requester endpoints: projects, item import, stats, export.

use std::sync::Arc;

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fairloop_app::AppError;
use fairloop_app::export::{ExportFormat, ExportProgress};
use fairloop_app::import::{ImportMode, ImportProgress, ImportReport};
use fairloop_app::projects::{CreateProject, ProjectView};
use fairloop_formats::ImportFormat;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};
use serde_json::json;
use tokio::io::AsyncWriteExt;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// Creates a project from a name, a task template, the overlap and pay.
#[utoipa::path(post, path = "/api/v1/projects", request_body = CreateProject,
    responses((status = 201, body = ProjectView), (status = 422, description = "invalid template or settings")))]
pub async fn create_project(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<CreateProject>,
) -> ApiResult<(StatusCode, Json<ProjectView>)> {
    let state = body
        .state
        .unwrap_or(fairloop_domain::lifecycle::ProjectState::Active);
    let project = s.app.create_project(&p, body).await?;
    let mut view = ProjectView::from(&project);
    view.quality = Some(s.app.quality_settings(&p, project.id).await?);
    view.state = Some(state);
    Ok((StatusCode::CREATED, Json(view)))
}

/// The projects of the caller's organization.
#[utoipa::path(get, path = "/api/v1/projects", responses((status = 200, body = Vec<ProjectView>)))]
pub async fn list_projects(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<ProjectView>>> {
    let states = s.app.project_states(&p).await?;
    let now = fairloop_domain::time::now_millis();
    Ok(Json(
        s.app
            .projects(&p)
            .await?
            .iter()
            .map(|project| {
                let mut view = ProjectView::from(project);
                let l = states.get(&project.id).cloned().unwrap_or_default();
                view.state = Some(fairloop_domain::lifecycle::effective_state(
                    l.state, l.ends_at, now,
                ));
                view
            })
            .collect(),
    ))
}

/// One project.
#[utoipa::path(get, path = "/api/v1/projects/{id}", params(("id" = i64, Path)), responses((status = 200, body = ProjectView)))]
pub async fn get_project(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<ProjectView>> {
    let mut view = ProjectView::from(&s.app.project(&p, id).await?);
    view.quality = Some(s.app.quality_settings(&p, id).await?);
    view.state = Some(s.app.project_lifecycle_state(&p, id).await?);
    Ok(Json(view))
}

/// Live counts of a project.
#[derive(Serialize, utoipa::ToSchema)]
pub struct StatsView {
    /// Items imported.
    pub items: i64,
    /// Annotations submitted.
    pub annotations: i64,
    /// Items with as many annotations as the overlap asks.
    pub completed_items: i64,
    /// Leases currently held.
    pub open_assignments: i64,
    /// Assignments workers skipped.
    pub skipped_assignments: i64,
    /// Share of the needed annotations that are in (0 to 1).
    pub progress: f64,
    /// Headline quality figures, as the quality job last stored them (docs/quality.md).
    pub quality: fairloop_app::quality::QualitySummaryView,
}

/// Live counts of a project.
#[utoipa::path(get, path = "/api/v1/projects/{id}/stats", params(("id" = i64, Path)), responses((status = 200, body = StatsView)))]
pub async fn project_stats(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<StatsView>> {
    let project = s.app.project(&p, id).await?;
    let st = s.app.project_stats(&p, id).await?;
    let quality = s.app.quality_summary(&p, id).await?;
    let needed = st.items * i64::from(project.policy.overlap);
    Ok(Json(StatsView {
        items: st.items,
        annotations: st.annotations,
        completed_items: st.completed_items,
        open_assignments: st.open_assignments,
        skipped_assignments: st.skipped_assignments,
        progress: if needed == 0 {
            0.0
        } else {
            (st.annotations as f64 / needed as f64).min(1.0)
        },
        quality,
    }))
}

/// Import options.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ImportQuery {
    /// `atomic` (default: any bad line rejects the request) or `skip` (good lines saved, bad ones listed).
    pub mode: Option<String>,
    /// `jsonl`, `csv` or `parquet`; by default taken from the Content-Type.
    pub format: Option<String>,
}

/// Imports items. The body is JSON Lines (`application/x-ndjson`), CSV (`text/csv`) or Parquet
/// (`application/vnd.apache.parquet`), streamed to disk and then read record by record.
#[utoipa::path(post, path = "/api/v1/projects/{id}/items", params(("id" = i64, Path), ImportQuery),
    request_body(content = String, content_type = "application/x-ndjson"),
    responses((status = 201, body = ImportReport), (status = 200, body = ImportReport, description = "nothing new"),
        (status = 400, description = "bad lines (atomic mode), listed in details.errors"), (status = 413)))]
pub async fn import_items(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    query: Result<Query<ImportQuery>, axum::extract::rejection::QueryRejection>,
    headers: HeaderMap,
    body: Body,
) -> ApiResult<Response> {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let mode = ImportMode::parse(q.mode.as_deref().unwrap_or("atomic"))?;
    let format = match q.format.as_deref() {
        Some("jsonl") => ImportFormat::Jsonl,
        Some("csv") => ImportFormat::Csv,
        Some("parquet") => ImportFormat::Parquet,
        Some(other) => {
            return Err(AppError::bad_request("invalid_format", format!("format must be jsonl, csv or parquet, got {other:?}")).into());
        }
        None => match headers.get(header::CONTENT_TYPE).and_then(|v| v.to_str().ok()) {
            None => ImportFormat::Jsonl,
            Some(ct) => ImportFormat::from_content_type(ct).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNSUPPORTED_MEDIA_TYPE,
                    "unsupported_media_type",
                    format!("cannot import {ct}; send application/x-ndjson, text/csv or application/vnd.apache.parquet"),
                )
            })?,
        },
    };
    // Check the role and access before reading a byte of a possibly huge body.
    fairloop_app::projects::require_manager(&p)?;
    s.app.project(&p, id).await?;
    let spool = spool_body(body, s.app.config.max_import_bytes, &s.tmp_dir).await?;
    let report = s
        .app
        .import_file(
            &p,
            id,
            spool.to_path_buf(),
            format,
            mode,
            Arc::new(ImportProgress::default()),
        )
        .await?;
    drop(spool);
    if report.rejected {
        let n = report.error_count;
        return Err(ApiError {
            status: StatusCode::BAD_REQUEST,
            code: "invalid_lines",
            message: format!(
                "{n} line{} invalid; nothing was imported",
                if n == 1 { " is" } else { "s are" }
            ),
            details: Some(json!({"errors": report.errors, "error_count": n})),
        });
    }
    let status = if report.imported > 0 {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(report)).into_response())
}

/// Writes the request body to a temporary file, refusing it (413) once it passes the limit.
async fn spool_body(
    body: Body,
    limit: u64,
    dir: &std::path::Path,
) -> ApiResult<tempfile::TempPath> {
    let file = tempfile::Builder::new()
        .prefix("import-")
        .tempfile_in(dir)
        .map_err(|e| {
            AppError::Internal(format!("creating a spool file in {}: {e}", dir.display()))
        })?;
    let (std_file, path) = file.into_parts();
    let mut out = tokio::io::BufWriter::with_capacity(1 << 16, tokio::fs::File::from_std(std_file));
    let mut stream = body.into_data_stream();
    let mut total: u64 = 0;
    while let Some(chunk) = stream.next().await {
        let chunk = chunk.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "body_read_failed",
                format!("the upload was interrupted: {e}"),
            )
        })?;
        total += chunk.len() as u64;
        if total > limit {
            return Err(AppError::PayloadTooLarge { limit }.into());
        }
        out.write_all(&chunk)
            .await
            .map_err(|e| AppError::Internal(format!("writing the spool file: {e}")))?;
    }
    out.flush()
        .await
        .map_err(|e| AppError::Internal(format!("writing the spool file: {e}")))?;
    Ok(path)
}

/// Export options.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ExportQuery {
    /// `jsonl` (default), `parquet` or `csv` (flat templates only).
    pub format: Option<String>,
    /// `true` includes gold items (with their `gold` answer); by default they are left out.
    pub include_gold: Option<bool>,
}

/// Streams every item with its annotations (pseudonymous annotators) and the majority answers.
#[utoipa::path(get, path = "/api/v1/projects/{id}/export", params(("id" = i64, Path), ExportQuery),
    responses((status = 200, description = "the export file, streamed")))]
pub async fn export(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    query: Result<Query<ExportQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Response> {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let format = ExportFormat::parse(q.format.as_deref().unwrap_or("jsonl"))?;
    let rx = s
        .app
        .export_with(
            &p,
            id,
            format,
            fairloop_app::export::ExportOptions {
                include_gold: q.include_gold.unwrap_or(false),
            },
            Arc::new(ExportProgress::default()),
        )
        .await?;
    let stream = tokio_stream_from(rx);
    let disposition = format!(
        "attachment; filename=\"project-{id}.{}\"",
        format.extension()
    );
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}

/// Turns the export's chunk channel into a body stream. An error mid-way ends the body with an error, so the
/// client sees a broken transfer rather than a silently short file.
fn tokio_stream_from(
    rx: tokio::sync::mpsc::Receiver<fairloop_app::AppResult<Vec<u8>>>,
) -> impl futures_util::Stream<Item = Result<bytes::Bytes, std::io::Error>> {
    futures_util::stream::unfold((rx, false), |(mut rx, failed)| async move {
        if failed {
            return None;
        }
        match rx.recv().await? {
            Ok(bytes) => Some((Ok(bytes::Bytes::from(bytes)), (rx, false))),
            Err(e) => {
                tracing::error!(error = %e, "export failed mid-stream");
                Some((Err(std::io::Error::other(e.to_string())), (rx, true)))
            }
        }
    })
}
