//! Media endpoints: upload (raw body or multipart, streamed to disk under the size limit), the organization's
//! media list, and its allowed URL hosts. The bytes themselves are served at `/media/{key}` (see
//! [`crate::ui::media`]), where the browser's session cookie works as well as a token.

use std::path::Path;

use axum::Json;
use axum::body::Body;
use axum::extract::{FromRequest, Query, Request, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fairloop_app::AppError;
use fairloop_app::media::{MediaView, UploadRequest, Uploaded};
use futures_util::{Stream, StreamExt};
use serde::{Deserialize, Serialize};
use tokio::io::AsyncWriteExt;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth};

/// Upload options.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct UploadQuery {
    /// The key items will use (`A-Z a-z 0-9 . _ - /`, up to 200 bytes). Default: a multipart file's name made
    /// into a key, else a generated `m-….EXT`.
    pub key: Option<String>,
}

/// Writes a stream of chunks to a new spool file in `dir`, refusing it (413) once it passes `limit` bytes.
pub(crate) async fn spool_stream<S, E>(
    stream: S,
    limit: u64,
    dir: &Path,
) -> ApiResult<tempfile::TempPath>
where
    S: Stream<Item = Result<bytes::Bytes, E>>,
    E: std::fmt::Display,
{
    let mut stream = std::pin::pin!(stream);
    let file = tempfile::Builder::new()
        .prefix("media-")
        .tempfile_in(dir)
        .map_err(|e| {
            AppError::Internal(format!("creating a spool file in {}: {e}", dir.display()))
        })?;
    let (std_file, path) = file.into_parts();
    let mut out = tokio::io::BufWriter::with_capacity(1 << 16, tokio::fs::File::from_std(std_file));
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

/// Refuses a body whose declared length is already over the limit, before reading a byte of it.
fn check_declared_length(headers: &HeaderMap, limit: u64) -> ApiResult<()> {
    let declared = headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<u64>().ok());
    match declared {
        // A multipart body carries a few hundred bytes of headers around the file.
        Some(n) if n > limit.saturating_add(64 << 10) => {
            Err(AppError::PayloadTooLarge { limit }.into())
        }
        _ => Ok(()),
    }
}

fn uploaded_response(u: Uploaded) -> Response {
    let status = if u.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    let location = u.media.url.clone();
    (status, [(header::LOCATION, location)], Json(u.media)).into_response()
}

/// Uploads one media file: the raw body (any Content-Type but `multipart/form-data`), or a multipart form
/// with one `file` part (and an optional `key` part before it). The type is read from the bytes; PNG, JPEG,
/// WebP, GIF, MP4 (H.264/VP9/AV1), WebM (VP8/VP9/AV1), MP3, WAV and Ogg are accepted, SVG is refused.
/// Uploading the same bytes again under the same key (or without a key) answers 200 with the stored file.
#[utoipa::path(post, path = "/api/v1/media", params(UploadQuery),
    request_body(content = String, content_type = "application/octet-stream"),
    responses((status = 201, body = MediaView), (status = 200, body = MediaView, description = "already stored"),
        (status = 409, description = "media_key_taken"), (status = 413, description = "over max_media_bytes"),
        (status = 422, description = "unsupported_media, svg_refused, image_too_large, corrupt_media, unplayable_video")))]
pub async fn upload(
    State(s): State<AppState>,
    Auth(p): Auth,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> ApiResult<Response> {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    // The role is checked before a byte of a possibly huge body is read.
    fairloop_app::projects::require_manager(&p)?;
    let limit = s.app.config.media.max_upload_bytes;
    check_declared_length(request.headers(), limit)?;
    let is_multipart = request
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|ct| ct.to_ascii_lowercase().starts_with("multipart/form-data"));
    let (spool, up) = if is_multipart {
        let mut form = axum::extract::Multipart::from_request(request, &s)
            .await
            .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", e.body_text()))?;
        let mut key = q.key;
        let mut got = None;
        while let Some(field) = form.next_field().await.map_err(|e| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                format!("the multipart body could not be read: {e}"),
            )
        })? {
            match field.name().unwrap_or_default() {
                "key" if key.is_none() => {
                    key = Some(field.text().await.unwrap_or_default()).filter(|k| !k.is_empty())
                }
                "file" if got.is_none() => {
                    let name = field.file_name().map(str::to_string);
                    let spool = spool_stream(field, limit, &s.tmp_dir).await?;
                    got = Some((spool, name));
                }
                "file" => {
                    return Err(ApiError::new(
                        StatusCode::BAD_REQUEST,
                        "invalid_body",
                        "send one file per request (one \"file\" part)",
                    ));
                }
                _ => {}
            }
        }
        let (spool, name) = got.ok_or_else(|| {
            ApiError::new(
                StatusCode::BAD_REQUEST,
                "invalid_body",
                "the multipart form has no \"file\" part",
            )
        })?;
        let key = key.or_else(|| {
            name.as_deref()
                .and_then(fairloop_domain::media::key_from_file_name)
        });
        (
            spool,
            UploadRequest {
                key,
                original_name: name,
            },
        )
    } else {
        let body: Body = request.into_body();
        let spool = spool_stream(body.into_data_stream(), limit, &s.tmp_dir).await?;
        (
            spool,
            UploadRequest {
                key: q.key,
                original_name: None,
            },
        )
    };
    let uploaded = s.app.upload_media(&p, &spool, up).await?;
    drop(spool);
    Ok(uploaded_response(uploaded))
}

/// List options.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct ListQuery {
    /// Only media uploaded before this cursor (the `next` of the previous page).
    pub before: Option<i64>,
    /// Page size, 1 to 500 (default 100).
    pub limit: Option<i64>,
}

/// A page of the organization's media.
#[derive(Serialize, utoipa::ToSchema)]
pub struct MediaPage {
    /// Newest first.
    pub media: Vec<MediaView>,
    /// The cursor of the next page (`before=`), when there may be one.
    pub next: Option<i64>,
}

/// The organization's media files, newest first (admins, requesters, reviewers).
#[utoipa::path(get, path = "/api/v1/media", params(ListQuery), responses((status = 200, body = MediaPage)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    query: Result<Query<ListQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<MediaPage>> {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    let limit = q.limit.unwrap_or(100);
    let rows = s.app.list_media(&p, q.before, limit).await?;
    let next = (rows.len() as i64 >= limit.clamp(1, 500))
        .then(|| rows.last().map(|r| r.0))
        .flatten();
    Ok(Json(MediaPage {
        media: rows.into_iter().map(|r| r.1).collect(),
        next,
    }))
}

/// The hosts items may use in media URLs.
#[derive(Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct MediaSettings {
    /// Host names (`images.example.com`) or `*.example.com` for any subdomain; URLs on other hosts are refused
    /// at import, line by line.
    pub allowed_hosts: Vec<String>,
}

/// The organization's allowed media hosts.
#[utoipa::path(get, path = "/api/v1/media/settings", responses((status = 200, body = MediaSettings)))]
pub async fn get_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<MediaSettings>> {
    Ok(Json(MediaSettings {
        allowed_hosts: s.app.allowed_media_hosts(&p).await?,
    }))
}

/// Replaces the organization's allowed media hosts (admins and requesters).
#[utoipa::path(put, path = "/api/v1/media/settings", request_body = MediaSettings,
    responses((status = 200, body = MediaSettings), (status = 422, description = "invalid_host")))]
pub async fn put_settings(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<MediaSettings>,
) -> ApiResult<Json<MediaSettings>> {
    Ok(Json(MediaSettings {
        allowed_hosts: s
            .app
            .set_allowed_media_hosts(&p, body.allowed_hosts)
            .await?,
    }))
}

/// Deletes a media file of the organization (admins and requesters): `409 media_in_use`, naming how many items
/// refer to it, while any item does; otherwise the file, its thumbnail or poster and its row are removed (from
/// the data directory or the bucket) and the deleted file's details are answered. The key may contain `/`.
/// The key stays reserved for the same content: uploading other bytes under it later is `409 media_key_taken`.
#[utoipa::path(delete, path = "/api/v1/media/{key}", params(("key" = String, Path, description = "the media key")),
    responses((status = 200, body = MediaView), (status = 404, description = "not_found"),
        (status = 409, description = "media_in_use")))]
pub async fn delete(
    State(s): State<AppState>,
    Auth(p): Auth,
    axum::extract::Path(key): axum::extract::Path<String>,
) -> ApiResult<Json<MediaView>> {
    Ok(Json(s.app.delete_media(&p, &key).await?))
}
