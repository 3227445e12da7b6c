//! Project terms over the API: publish versions, read them, accept or decline, ask and answer questions.

use axum::Json;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use fairloop_app::terms::{PublishTerms, TermsSummary};
use fairloop_domain::time::to_rfc3339;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// The current terms with the caller's decision.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TermsView {
    /// Version number.
    pub version: i64,
    /// The structured fields.
    pub summary: TermsSummary,
    /// The full text, Markdown.
    pub markdown: String,
    /// SHA-256 of summary and text: send it back when deciding, so the decision names what was read.
    pub text_hash: String,
    /// When this version was published (RFC 3339 UTC).
    pub created_at: String,
    /// `accepted`, `declined`, or null before deciding.
    pub my_decision: Option<String>,
}

/// A decision on the current version.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Decision {
    /// The version read.
    pub version: i64,
    /// Its `text_hash` as read.
    pub text_hash: String,
    /// `true` to accept, `false` to decline.
    pub accept: bool,
}

/// A question, or an answer.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Text {
    /// The words (1 to 2000 characters).
    pub text: String,
}

/// A question on the terms.
#[derive(Serialize, utoipa::ToSchema)]
pub struct QuestionView {
    /// Id.
    pub id: i64,
    /// Who asked (managers see every worker's questions; a worker only their own).
    pub worker_id: i64,
    /// The terms version asked about.
    pub version: i64,
    /// The question.
    pub question: String,
    /// When (RFC 3339 UTC).
    pub asked_at: String,
    /// The answer, once given.
    pub answer: Option<String>,
    /// When it was answered.
    pub answered_at: Option<String>,
}

/// An id just created.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    /// The version or question id.
    pub id: i64,
}

/// Publishes a new version of the terms (requesters and admins); workers must accept it before more work.
#[utoipa::path(post, path = "/api/v1/projects/{id}/terms", params(("id" = i64, Path)), request_body = PublishTerms,
    responses((status = 201, body = Created), (status = 403), (status = 404), (status = 422)))]
pub async fn publish(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<PublishTerms>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let version = s.app.publish_terms(&p, id, body).await?;
    Ok((StatusCode::CREATED, Json(Created { id: version })))
}

/// The current terms; 404 `no_terms` when the project has none (then nothing needs accepting).
#[utoipa::path(get, path = "/api/v1/projects/{id}/terms", params(("id" = i64, Path)),
    responses((status = 200, body = TermsView), (status = 404)))]
pub async fn current(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<TermsView>> {
    let Some(v) = s.app.terms(&p, id).await? else {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "no_terms",
            "this project has no terms to accept",
        ));
    };
    Ok(Json(TermsView {
        version: v.terms.version,
        summary: v.summary,
        markdown: v.terms.markdown,
        text_hash: v.terms.text_hash,
        created_at: to_rfc3339(v.terms.created_at),
        my_decision: v.my_decision.map(|d| d.decision),
    }))
}

/// Accepts or declines the current version (`409 terms_outdated` / `terms_changed` when it is not what is current).
#[utoipa::path(post, path = "/api/v1/projects/{id}/terms/decision", params(("id" = i64, Path)), request_body = Decision,
    responses((status = 204), (status = 404), (status = 409)))]
pub async fn decide(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<Decision>,
) -> ApiResult<StatusCode> {
    s.app
        .decide_terms(&p, id, body.version, &body.text_hash, body.accept)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Asks a question about the current terms.
#[utoipa::path(post, path = "/api/v1/projects/{id}/terms/questions", params(("id" = i64, Path)), request_body = Text,
    responses((status = 201, body = Created), (status = 404), (status = 422)))]
pub async fn ask(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<Text>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let q = s.app.ask_about_terms(&p, id, &body.text).await?;
    Ok((StatusCode::CREATED, Json(Created { id: q })))
}

/// Questions on the terms, newest first (a worker: their own; requesters and admins: all).
#[utoipa::path(get, path = "/api/v1/projects/{id}/terms/questions", params(("id" = i64, Path)),
    responses((status = 200, body = Vec<QuestionView>), (status = 404)))]
pub async fn questions(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<Vec<QuestionView>>> {
    let list = s.app.terms_questions(&p, id).await?;
    Ok(Json(
        list.into_iter()
            .map(|q| QuestionView {
                id: q.id,
                worker_id: q.worker_id,
                version: q.version,
                question: q.question,
                asked_at: to_rfc3339(q.asked_at),
                answer: q.answer,
                answered_at: q.answered_at.map(to_rfc3339),
            })
            .collect(),
    ))
}

/// Answers a question (requesters and admins), once (`409 already_answered`).
#[utoipa::path(post, path = "/api/v1/projects/{id}/terms/questions/{question}/answer",
    params(("id" = i64, Path), ("question" = i64, Path)), request_body = Text,
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn answer(
    State(s): State<AppState>,
    Auth(p): Auth,
    Path((id, question)): Path<(String, String)>,
    ApiJson(body): ApiJson<Text>,
) -> ApiResult<StatusCode> {
    let parse = |v: &str| {
        v.parse::<i64>()
            .map_err(|_| ApiError::new(StatusCode::NOT_FOUND, "not_found", "no such question"))
    };
    s.app
        .answer_terms_question(&p, parse(&id)?, parse(&question)?, &body.text)
        .await?;
    Ok(StatusCode::NO_CONTENT)
}
