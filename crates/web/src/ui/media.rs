//! Media in the browser: the authenticated media route, the helpers the workbench uses to show a media field,
//! and the console's media page.
//!
//! - `GET /media/{key}` serves a file's bytes with the `Content-Type` stored at upload (read from the bytes,
//!   never sniffed by the browser: `nosniff`), single byte ranges for video seeking (`206`, `416`), an `ETag`
//!   (the SHA-256) with `304` on `If-None-Match`, and long-lived *private* caching (a key names one content for
//!   good, see `fairloop_app::media`). `GET /media/{key}/thumb` is the thumbnail or poster, `GET
//!   /media/{key}/info` the file's details as JSON (size, duration, fps) for the widgets. The caller is the
//!   session cookie's user or a bearer token's; a worker reads only media of projects they have taken work in,
//!   and another organization's key is 404 like a missing one.
//! - [`media_url`] turns a field value into the URL the workbench loads; [`media_csp`] widens the page's
//!   Content-Security-Policy to the organization's allowed media hosts so URL media load too.
//! - `GET|POST /projects/{id}/media`: upload several files at once (each judged on its own, each listed with
//!   its key or the reason it was refused), the organization's recent media, and its allowed hosts
//!   (`POST /projects/{id}/media/hosts`); `POST /projects/{id}/media/delete` deletes a file no item refers to.

use std::sync::Arc;

use axum::Extension;
use axum::Json;
use axum::body::{Body, Bytes};
use axum::extract::{Multipart, Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use fairloop_app::media::{MediaView, UploadRequest};
use fairloop_app::{App, AppError};
use fairloop_domain::media::{MediaRef, key_from_file_name};
use fairloop_domain::template::{FieldKind, TaskTemplate};
use fairloop_media::store::ByteRange;
use fairloop_store::Principal;
use futures_util::StreamExt;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::pages::{PageResult, id, parse_form, user_view};
use super::render::{render, ser};
use super::session::{CurrentUser, SESSION_COOKIE, cookie};
use super::{UI_CSP, Ui, UiError};
use crate::AppState;
use crate::error::ApiError;

/// How long browsers may keep a media file: a year, privately (the content under a key never changes).
const MEDIA_CACHE: &str = "private, max-age=31536000, immutable";

/// The media route, outside the UI router so that its responses carry their own headers.
pub fn serve_routes() -> axum::Router<AppState> {
    axum::Router::new().route("/media/{*path}", get(serve))
}

/// The URL the workbench loads for a media field's value: `/media/KEY` for `media:KEY` or a bare key, the URL
/// itself for an `http(s)` URL (the import only accepted it from an allowed host), `None` for anything else.
///
/// The `shapes` widgets call this for `image`, `video` and `audio` fields; the page must then carry
/// [`media_csp`] for URLs on other hosts to load.
pub fn media_url(value: &str) -> Option<String> {
    match MediaRef::parse(value).ok()? {
        MediaRef::Key(k) => Some(fairloop_app::media::media_path(k)),
        MediaRef::Url { url, .. } => Some(url.to_string()),
    }
}

/// The thumbnail (image) or poster (video) URL of a media field's value, for uploaded files only.
pub fn media_thumbnail_url(value: &str) -> Option<String> {
    match MediaRef::parse(value).ok()? {
        MediaRef::Key(k) => Some(format!("{}/thumb", fairloop_app::media::media_path(k))),
        MediaRef::Url { .. } => None,
    }
}

/// The details of an uploaded file a field value names (size, duration, frame rate), when the caller may read
/// it: the workbench puts them on the widget so frame stepping needs no extra request.
pub async fn media_details(app: &App, principal: &Principal, value: &str) -> Option<MediaView> {
    match MediaRef::parse(value).ok()? {
        MediaRef::Key(k) => app
            .media_for_reading(principal, k)
            .await
            .ok()
            .map(|m| MediaView::from(&m)),
        MediaRef::Url { .. } => None,
    }
}

/// The UI's Content-Security-Policy with `img-src` and `media-src` widened to the organization's allowed
/// media hosts (`https://host`, `https://*.domain`), for pages that show URL media. Without hosts it is
/// [`UI_CSP`].
pub fn media_csp(allowed_hosts: &[String]) -> String {
    if allowed_hosts.is_empty() {
        return UI_CSP.to_string();
    }
    // Hosts were normalised when saved (letters, digits, dots, dashes, an optional leading `*.`), so they cannot
    // break out of the header.
    let sources: String = allowed_hosts
        .iter()
        .filter(|h| {
            h.chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '-' | '*' | ':'))
        })
        .map(|h| format!(" https://{h}"))
        .collect();
    UI_CSP
        .replace(
            "img-src 'self' data:",
            &format!("img-src 'self' data:{sources}"),
        )
        .replace("media-src 'self'", &format!("media-src 'self'{sources}"))
}

/// The workbench's policy for `principal`'s organization, when it allows URL media (else `None`: the UI's).
pub async fn workbench_csp(app: &App, principal: &Principal) -> Option<HeaderValue> {
    let hosts = app.allowed_media_hosts(principal).await.ok()?;
    if hosts.is_empty() {
        return None;
    }
    HeaderValue::from_str(&media_csp(&hosts)).ok()
}

/// The caller of a media request: a bearer token, else the session cookie.
async fn caller(s: &AppState, headers: &HeaderMap) -> Result<Principal, ApiError> {
    if let Some(auth) = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        let token = auth
            .split_once(' ')
            .filter(|(scheme, _)| scheme.eq_ignore_ascii_case("bearer"))
            .map(|(_, t)| t.trim())
            .ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "unauthorized",
                    "the Authorization header must be Bearer TOKEN",
                )
            })?;
        return Ok(s.app.authenticate(token).await?);
    }
    let session = match cookie(headers, SESSION_COOKIE) {
        Some(token) => s.app.session(token).await?,
        None => None,
    };
    session.map(|s| s.principal).ok_or_else(|| {
        ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "sign in (or send an API token as Authorization: Bearer TOKEN) to read media",
        )
    })
}

/// A `Range` header against an object of `size` bytes: `Ok(None)` to send it whole (no header, several ranges,
/// or one that does not parse), `Ok(Some((start, end)))` for `start..end`, `Err(())` when it cannot be satisfied.
fn parse_range(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let Some((a, b)) = spec.trim().split_once('-') else {
        return Ok(None);
    };
    let (a, b) = (a.trim(), b.trim());
    match (a.parse::<u64>(), b.parse::<u64>()) {
        (Ok(start), Ok(end)) if start <= end => {
            if start >= size {
                Err(())
            } else {
                Ok(Some((start, end.min(size - 1) + 1)))
            }
        }
        (Ok(_), Ok(_)) => Ok(None),
        (Ok(start), Err(_)) if b.is_empty() => {
            if start >= size {
                Err(())
            } else {
                Ok(Some((start, size)))
            }
        }
        (Err(_), Ok(n)) if a.is_empty() => {
            if n == 0 || size == 0 {
                Err(())
            } else {
                Ok(Some((size - n.min(size), size)))
            }
        }
        _ => Ok(None),
    }
}

fn etag_matches(header: Option<&str>, etag: &str) -> bool {
    header.is_some_and(|h| {
        h.split(',')
            .map(|t| t.trim().trim_start_matches("W/"))
            .any(|t| t == "*" || t == etag)
    })
}

/// `GET /media/{key}`, `/media/{key}/thumb`, `/media/{key}/info` (see the module docs).
async fn serve(
    State(s): State<AppState>,
    Path(path): Path<String>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let principal = caller(&s, &headers).await?;
    let (key, part) = match path.rsplit_once('/') {
        Some((k, "thumb")) => (k, "thumb"),
        Some((k, "info")) => (k, "info"),
        _ => (path.as_str(), "file"),
    };
    let row = s.app.media_for_reading(&principal, key).await?;
    if part == "info" {
        let mut resp = Json(MediaView::from(&row)).into_response();
        resp.headers_mut()
            .insert(header::CACHE_CONTROL, HeaderValue::from_static(MEDIA_CACHE));
        return Ok(resp);
    }
    let thumb = part == "thumb";
    let etag = if thumb {
        format!("\"{}-thumb\"", row.sha256)
    } else {
        format!("\"{}\"", row.sha256)
    };
    let content_type = if thumb {
        row.thumb_content_type
            .clone()
            .ok_or(AppError::NotFound("thumbnail"))?
    } else {
        row.content_type.clone()
    };
    let common = |b: axum::http::response::Builder| {
        b.header(header::ETAG, &etag)
            .header(header::CACHE_CONTROL, MEDIA_CACHE)
            .header(header::ACCEPT_RANGES, if thumb { "none" } else { "bytes" })
            .header(header::CONTENT_DISPOSITION, "inline")
            .header(
                header::CONTENT_SECURITY_POLICY,
                "default-src 'none'; sandbox",
            )
    };
    if etag_matches(
        headers
            .get(header::IF_NONE_MATCH)
            .and_then(|v| v.to_str().ok()),
        &etag,
    ) {
        return Ok(common(Response::builder().status(StatusCode::NOT_MODIFIED))
            .body(Body::empty())
            .expect("valid headers"));
    }
    let size = row.size_bytes.max(0) as u64;
    // A range applies to the file (not thumbnails) and only while the client's copy is this one (If-Range).
    let range_header = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let if_range_ok = headers
        .get(header::IF_RANGE)
        .and_then(|v| v.to_str().ok())
        .is_none_or(|v| v.trim() == etag);
    let range = if thumb || !if_range_ok {
        None
    } else {
        match parse_range(range_header, size) {
            Ok(r) => r,
            Err(()) => {
                return Ok(
                    common(Response::builder().status(StatusCode::RANGE_NOT_SATISFIABLE))
                        .header(header::CONTENT_RANGE, format!("bytes */{size}"))
                        .body(Body::empty())
                        .expect("valid headers"),
                );
            }
        }
    };
    let read = s
        .app
        .read_media(&row, thumb, range.map(|(a, b)| ByteRange::Bounded(a, b)))
        .await?;
    let len = read.range.end - read.range.start;
    let mut builder = common(Response::builder())
        .header(header::CONTENT_TYPE, content_type)
        .header(header::CONTENT_LENGTH, len);
    builder = match range {
        Some(_) => builder.status(StatusCode::PARTIAL_CONTENT).header(
            header::CONTENT_RANGE,
            format!(
                "bytes {}-{}/{}",
                read.range.start,
                read.range.end.saturating_sub(1),
                read.total
            ),
        ),
        None => builder.status(StatusCode::OK),
    };
    let stream = read.stream.map(|r| r.map_err(std::io::Error::other));
    Ok(builder
        .body(Body::from_stream(stream))
        .expect("valid headers"))
}

// -------------------------------------------------------------------------------------------------------------
// The console's media page
// -------------------------------------------------------------------------------------------------------------

fn require_console(user: &CurrentUser) -> Result<(), UiError> {
    if user.session.principal.role.can_manage_projects() {
        Ok(())
    } else {
        Err(UiError::page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Uploading media needs the admin or requester role.",
        ))
    }
}

/// One file of an upload, as the page reports it.
#[derive(Serialize)]
struct UploadResult {
    name: String,
    key: Option<String>,
    kind: Option<String>,
    again: bool,
    error: Option<String>,
}

/// A stored file as the page lists it.
#[derive(Serialize)]
struct Row {
    key: String,
    kind: String,
    content_type: String,
    size: String,
    details: String,
    thumbnail_url: Option<String>,
    url: String,
    created_at: String,
}

fn human_size(n: i64) -> String {
    let n = n.max(0) as f64;
    if n < 1024.0 {
        format!("{n} B")
    } else if n < 1024.0 * 1024.0 {
        format!("{:.1} KB", n / 1024.0)
    } else if n < 1024.0 * 1024.0 * 1024.0 {
        format!("{:.1} MB", n / 1024.0 / 1024.0)
    } else {
        format!("{:.2} GB", n / 1024.0 / 1024.0 / 1024.0)
    }
}

fn row_view(m: MediaView) -> Row {
    let mut details = Vec::new();
    if let (Some(w), Some(h)) = (m.width, m.height) {
        details.push(format!("{w}×{h}"));
    }
    if let Some(d) = m.duration_seconds {
        details.push(format!("{d:.2} s"));
    }
    if let Some(f) = m.fps {
        details.push(format!("{f} fps"));
    }
    if let Some(c) = &m.codec {
        details.push(c.to_uppercase());
    }
    Row {
        size: human_size(m.size_bytes),
        details: details.join(" · "),
        thumbnail_url: m.thumbnail_url,
        url: m.url,
        key: m.key,
        kind: m.kind,
        content_type: m.content_type,
        created_at: m.created_at.replace('T', " ").chars().take(16).collect(),
    }
}

/// Page options.
#[derive(Deserialize)]
pub struct PageQuery {
    before: Option<i64>,
    /// The key just deleted (after the delete form's redirect), to say so.
    deleted: Option<String>,
}

/// The media fields of a project's template, (data key, kind), and the media exports that apply to it.
fn media_fields(
    project: &fairloop_store::Project,
) -> (Vec<(String, &'static str)>, Vec<&'static str>) {
    let Some(t) = serde_json::from_str::<serde_json::Value>(&project.template)
        .ok()
        .and_then(|v| TaskTemplate::from_json(&v).ok())
    else {
        return (Vec::new(), Vec::new());
    };
    let fields = t
        .fields
        .iter()
        .filter(|f| {
            matches!(
                f.kind,
                FieldKind::Image | FieldKind::Video | FieldKind::Audio
            )
        })
        .map(|f| (f.source().to_string(), f.kind.as_str()))
        .collect();
    let kinds: Vec<&str> = t.questions.iter().map(|q| q.kind.type_name()).collect();
    let mut exports = Vec::new();
    if kinds
        .iter()
        .any(|k| matches!(*k, "boxes" | "polygons" | "keypoints"))
    {
        exports.extend(["coco", "yolo"]);
    }
    if kinds
        .iter()
        .any(|k| matches!(*k, "video_events" | "tracks"))
    {
        exports.push("video_jsonl");
    }
    (fields, exports)
}

#[allow(clippy::too_many_arguments)]
async fn media_page(
    ui: &Ui,
    user: &CurrentUser,
    project: &fairloop_store::Project,
    status: StatusCode,
    before: Option<i64>,
    results: Vec<UploadResult>,
    error: Option<String>,
    hosts_error: Option<String>,
    deleted: Option<String>,
) -> PageResult {
    let principal = &user.session.principal;
    const PAGE: i64 = 50;
    let rows = ui.state.app.list_media(principal, before, PAGE).await?;
    let next = (rows.len() as i64 == PAGE)
        .then(|| rows.last().map(|r| r.0))
        .flatten();
    let rows: Vec<Row> = rows.into_iter().map(|(_, m)| row_view(m)).collect();
    let hosts = ui.state.app.allowed_media_hosts(principal).await?;
    let (fields, exports) = media_fields(project);
    let example_key = results
        .iter()
        .find_map(|r| r.key.clone())
        .or_else(|| rows.first().map(|r| r.key.clone()));
    Ok((
        status,
        render(
            "media.html",
            context! {
                title => format!("Media · {}", project.name), nav => "projects",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name },
                rows => ser(&rows), next => next, results => ser(&results), error => error,
                hosts => hosts.join("\n"), hosts_error => hosts_error, deleted => deleted,
                fields => ser(&fields), exports => exports, example_key => example_key,
                max_mb => ui.state.app.config.media.max_upload_bytes >> 20,
            },
        ),
    )
        .into_response())
}

/// `GET /projects/{id}/media`.
pub async fn page(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    require_console(&user)?;
    let project = ui
        .state
        .app
        .project(&user.session.principal, id(&raw)?)
        .await?;
    media_page(
        &ui,
        &user,
        &project,
        StatusCode::OK,
        q.before,
        Vec::new(),
        None,
        None,
        q.deleted
            .filter(|k| fairloop_domain::media::check_key(k).is_ok()),
    )
    .await
}

/// `POST /projects/{id}/media`: several files in one form; each is stored or refused on its own.
pub async fn upload(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    mut form: Multipart,
) -> PageResult {
    require_console(&user)?;
    let principal = user.session.principal.clone();
    let project = ui.state.app.project(&principal, id(&raw)?).await?;
    let limit = ui.state.app.config.media.max_upload_bytes;
    let mut csrf_ok = false;
    let mut results = Vec::new();
    let broken = |e: String| {
        UiError::page(
            StatusCode::BAD_REQUEST,
            "The upload did not arrive",
            format!(
                "The form could not be read ({e}). Files listed as stored before this are kept."
            ),
        )
    };
    while let Some(field) = form.next_field().await.map_err(|e| broken(e.to_string()))? {
        let name = field.name().unwrap_or_default().to_string();
        if name == "_csrf" {
            let sent = field.text().await.unwrap_or_default();
            user.check_csrf(&[("_csrf".to_string(), sent)])?;
            csrf_ok = true;
            continue;
        }
        // The token comes first in the form; a file before it is never stored.
        if !csrf_ok {
            return Err(UiError::csrf());
        }
        if name != "files" {
            continue;
        }
        let file_name = field.file_name().unwrap_or_default().to_string();
        if file_name.is_empty() {
            continue; // The form was sent with no file chosen.
        }
        let spool = match crate::api::media::spool_stream(field, limit, &ui.state.tmp_dir).await {
            Ok(p) => p,
            Err(e) if e.status == StatusCode::PAYLOAD_TOO_LARGE => {
                results.push(UploadResult {
                    name: file_name,
                    key: None,
                    kind: None,
                    again: false,
                    error: Some(format!(
                        "The file is over the limit of {} MB, so it was not stored.",
                        limit >> 20
                    )),
                });
                // The rest of the body cannot be trusted to follow; stop here.
                break;
            }
            Err(e) => return Err(broken(e.message)),
        };
        let outcome = ui
            .state
            .app
            .upload_media(
                &principal,
                &spool,
                UploadRequest {
                    key: key_from_file_name(&file_name),
                    original_name: Some(file_name.clone()),
                },
            )
            .await;
        results.push(match outcome {
            Ok(u) => UploadResult {
                name: file_name,
                key: Some(u.media.key),
                kind: Some(u.media.kind),
                again: !u.created,
                error: None,
            },
            Err(AppError::Internal(cause)) => {
                tracing::error!(%cause, "media upload failed");
                UploadResult {
                    name: file_name,
                    key: None,
                    kind: None,
                    again: false,
                    error: Some(
                        "Something went wrong on our side; it has been logged. Try again.".into(),
                    ),
                }
            }
            Err(e) => UploadResult {
                name: file_name,
                key: None,
                kind: None,
                again: false,
                error: Some(capitalise(&e.to_string())),
            },
        });
    }
    if !csrf_ok {
        return Err(UiError::csrf());
    }
    let (status, error) = if results.is_empty() {
        (
            StatusCode::UNPROCESSABLE_ENTITY,
            Some("Choose one or more files to upload.".to_string()),
        )
    } else if results.iter().all(|r| r.error.is_some()) {
        (StatusCode::UNPROCESSABLE_ENTITY, None)
    } else {
        (StatusCode::OK, None)
    };
    media_page(
        &ui, &user, &project, status, None, results, error, None, None,
    )
    .await
}

fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(f) => {
            f.to_uppercase().chain(c).collect::<String>() + if s.ends_with('.') { "" } else { "." }
        }
        None => String::new(),
    }
}

/// `POST /projects/{id}/media/hosts`: the allowed media hosts, one per line.
pub async fn set_hosts(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    require_console(&user)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let project_id = id(&raw)?;
    let project = ui
        .state
        .app
        .project(&user.session.principal, project_id)
        .await?;
    let hosts: Vec<String> = super::session::form_value(&form, "hosts")
        .unwrap_or_default()
        .lines()
        .map(str::to_string)
        .collect();
    match ui
        .state
        .app
        .set_allowed_media_hosts(&user.session.principal, hosts)
        .await
    {
        Ok(_) => Ok(Redirect::to(&format!("/projects/{project_id}/media#hosts")).into_response()),
        Err(AppError::Invalid { message, .. }) => {
            media_page(
                &ui,
                &user,
                &project,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Vec::new(),
                None,
                Some(capitalise(&message)),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// `POST /projects/{id}/media/delete`: deletes one file (`key`), refused with the number of items that refer
/// to it; back to the list with what happened.
pub async fn delete(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    require_console(&user)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let project_id = id(&raw)?;
    let project = ui
        .state
        .app
        .project(&user.session.principal, project_id)
        .await?;
    let key = super::session::form_value(&form, "key").unwrap_or_default();
    let refused = |status: StatusCode, message: String| {
        media_page(
            &ui,
            &user,
            &project,
            status,
            None,
            Vec::new(),
            Some(message),
            None,
            None,
        )
    };
    match ui
        .state
        .app
        .delete_media(&user.session.principal, key)
        .await
    {
        Ok(m) => Ok(Redirect::to(&format!(
            "/projects/{project_id}/media?deleted={}",
            m.key.replace('/', "%2F")
        ))
        .into_response()),
        Err(AppError::Conflict { message, .. }) => {
            refused(
                StatusCode::CONFLICT,
                format!("{} was not deleted: {message}.", key),
            )
            .await
        }
        Err(AppError::NotFound(_)) => {
            refused(
                StatusCode::NOT_FOUND,
                format!("There is no file {key:?} to delete (perhaps it was deleted already)."),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_parse_like_rfc_9110() {
        assert_eq!(parse_range(None, 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=0-9"), 100), Ok(Some((0, 10))));
        assert_eq!(parse_range(Some("bytes=90-"), 100), Ok(Some((90, 100))));
        assert_eq!(parse_range(Some("bytes=-10"), 100), Ok(Some((90, 100))));
        assert_eq!(parse_range(Some("bytes=-1000"), 100), Ok(Some((0, 100))));
        assert_eq!(parse_range(Some("bytes=50-1000"), 100), Ok(Some((50, 100))));
        assert_eq!(parse_range(Some("bytes=100-"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=-0"), 100), Err(()));
        assert_eq!(parse_range(Some("bytes=0-1,5-6"), 100), Ok(None));
        assert_eq!(parse_range(Some("items=0-1"), 100), Ok(None));
        assert_eq!(parse_range(Some("bytes=9-3"), 100), Ok(None));
    }

    #[test]
    fn field_values_become_urls() {
        assert_eq!(
            media_url("media:scans/a.png").as_deref(),
            Some("/media/scans/a.png")
        );
        assert_eq!(media_url("a.png").as_deref(), Some("/media/a.png"));
        assert_eq!(
            media_url("https://cdn.test/x.jpg").as_deref(),
            Some("https://cdn.test/x.jpg")
        );
        assert_eq!(media_url("javascript:alert(1)"), None);
        assert_eq!(
            media_thumbnail_url("a.mp4").as_deref(),
            Some("/media/a.mp4/thumb")
        );
        let csp = media_csp(&["cdn.test".into(), "*.img.test".into()]);
        assert!(
            csp.contains("img-src 'self' data: https://cdn.test https://*.img.test"),
            "{csp}"
        );
        assert!(
            csp.contains("media-src 'self' https://cdn.test https://*.img.test"),
            "{csp}"
        );
        assert_eq!(media_csp(&[]), UI_CSP);
    }
}
