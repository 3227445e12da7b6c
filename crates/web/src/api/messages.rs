//! Messages over the API: a project's announcements and question-and-answer board, and the caller's inbox.

use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use fairloop_app::messages::{BoardEntry, NewAnnouncement};
use fairloop_domain::time::to_rfc3339;
use fairloop_store::messages::Notice;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// An id just created.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The new announcement's or question's id.
    pub id: i64,
}

/// An announcement.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AnnouncementView {
    /// Id.
    pub id: i64,
    /// Heading.
    pub title: String,
    /// Text, Markdown (render it sanitised).
    pub markdown: String,
    /// The author's display name (a person at the requester).
    pub author: String,
    /// When (RFC 3339 UTC).
    pub created_at: String,
}

/// A question, or an answer.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// The words (1 to 4000 characters).
    pub text: String,
}

/// Pin into the FAQ, or unpin.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Pin {
    /// `true` to pin.
    pub pinned: bool,
}

/// A notice in the inbox.
#[derive(Serialize, utoipa::ToSchema)]
pub struct NoticeView {
    /// Id.
    pub id: i64,
    /// `announcement`, `terms`, `guidelines`, `answer`, `review`, `appeal`, `pay`, `payout`, `lifecycle`.
    pub kind: String,
    /// The project it concerns, if any.
    pub project_id: Option<i64>,
    /// One line.
    pub title: String,
    /// Plain text.
    pub body: String,
    /// Where to act on it (a path of the web app).
    pub link: Option<String>,
    /// When (RFC 3339 UTC).
    pub created_at: String,
    /// When it was marked read; null while unread.
    pub read_at: Option<String>,
}

impl From<Notice> for NoticeView {
    fn from(n: Notice) -> Self {
        NoticeView {
            id: n.id,
            kind: n.kind,
            project_id: n.project_id,
            title: n.title,
            body: n.body,
            link: n.link,
            created_at: to_rfc3339(n.created_at),
            read_at: n.read_at.map(to_rfc3339),
        }
    }
}

/// A page of the inbox.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InboxView {
    /// Newest first.
    pub notices: Vec<NoticeView>,
    /// Unread notices in the whole inbox.
    pub unread: i64,
    /// Pass as `?before=` for the next page; null on the last page.
    pub next_before: Option<i64>,
}

/// `?before=&limit=` of the inbox.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct InboxQuery {
    /// Only notices with an id below this (the previous page's `next_before`).
    pub before: Option<i64>,
    /// Notices per page, 1 to 100 (default 25).
    pub limit: Option<i64>,
}

/// How many notices were marked read.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Marked {
    /// Notices that were unread.
    pub marked: u64,
}

fn two_ids(a: &str, b: &str) -> Result<(i64, i64), ApiError> {
    let parse = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such question"))
    };
    Ok((parse(a)?, parse(b)?))
}

/// Posts an announcement to the project's workers (requesters and admins); it reaches their inboxes.
#[utoipa::path(post, path = "/api/v1/projects/{id}/announcements", params(("id" = i64, Path)),
    request_body = NewAnnouncement,
    responses((status = 201, body = Created), (status = 403), (status = 404), (status = 422)))]
pub async fn announce(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<NewAnnouncement>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let a = s.app.announce(&p, id, body).await?;
    Ok((StatusCode::CREATED, Json(Created { id: a })))
}

/// The project's announcements, newest first (anyone of the organization).
#[utoipa::path(get, path = "/api/v1/projects/{id}/announcements", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<AnnouncementView>), (status = 404)))]
pub async fn announcements(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<Vec<AnnouncementView>>> {
    let list = s.app.announcements(&p, id).await?;
    Ok(Json(
        list.into_iter()
            .map(|a| AnnouncementView {
                id: a.id,
                title: a.title,
                markdown: a.markdown,
                author: a.author_name,
                created_at: to_rfc3339(a.created_at),
            })
            .collect(),
    ))
}

/// Asks a question on the project's board (people who work); the project's workers read it under the asker's
/// pseudonym.
#[utoipa::path(post, path = "/api/v1/projects/{id}/board", params(("id" = i64, Path)), request_body = Text,
    responses((status = 201, body = Created), (status = 403), (status = 404), (status = 422)))]
pub async fn ask(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<Text>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let q = s.app.ask_board(&p, id, &body.text).await?;
    Ok((StatusCode::CREATED, Json(Created { id: q })))
}

/// The board: pinned questions (the FAQ) first, then the others, newest first.
#[utoipa::path(get, path = "/api/v1/projects/{id}/board", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<BoardEntry>), (status = 404)))]
pub async fn board(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<Vec<BoardEntry>>> {
    Ok(Json(s.app.board(&p, id).await?))
}

/// Answers a board question (requesters and admins), once (`409 already_answered`); the asker is told.
#[utoipa::path(post, path = "/api/v1/projects/{id}/board/{question}/answer",
    params(("id" = i64, Path), ("question" = i64, Path)), request_body = Text,
    responses((status = 204), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn answer(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, question)): Path<(String, String)>,
    ApiJson(body): ApiJson<Text>,
) -> ApiResult<StatusCode> {
    let (id, question) = two_ids(&id, &question)?;
    s.app.answer_board(&p, id, question, &body.text).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Pins an answered question into the FAQ or unpins it (requesters and admins; `409 not_answered`).
#[utoipa::path(post, path = "/api/v1/projects/{id}/board/{question}/pin",
    params(("id" = i64, Path), ("question" = i64, Path)), request_body = Pin,
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn pin(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, question)): Path<(String, String)>,
    ApiJson(body): ApiJson<Pin>,
) -> ApiResult<StatusCode> {
    let (id, question) = two_ids(&id, &question)?;
    s.app.pin_board(&p, id, question, body.pinned).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The caller's inbox, newest first, a page at a time.
#[utoipa::path(get, path = "/api/v1/me/notices", params(InboxQuery),
    responses((status = 200, body = InboxView), (status = 422)))]
pub async fn inbox(
    State(s): State<AppState>,
    Auth(p): Auth,
    Query(q): Query<InboxQuery>,
) -> ApiResult<Json<InboxView>> {
    let page = s.app.inbox(&p, q.before, q.limit).await?;
    Ok(Json(InboxView {
        notices: page.notices.into_iter().map(NoticeView::from).collect(),
        unread: page.unread,
        next_before: page.next_before,
    }))
}

/// Marks one of the caller's notices read (404 for anyone else's).
#[utoipa::path(post, path = "/api/v1/me/notices/{id}/read", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)))]
pub async fn mark_read(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.app.mark_notice_read(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Marks every notice of the caller read.
#[utoipa::path(post, path = "/api/v1/me/notices/read-all", responses((status = 200, body = Marked)))]
pub async fn mark_all_read(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Marked>> {
    Ok(Json(Marked {
        marked: s.app.mark_all_notices_read(&p).await?,
    }))
}
