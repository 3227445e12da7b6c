//! Worker profiles, credentials, project requirements, matching and invitations over the API (see
//! docs/workforce.md). Every route works inside the caller's organization; another organization's worker or
//! project answers 404.

use axum::Json;
use axum::body::Body;
use axum::extract::{Query, Request, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fairloop_app::AppError;
use fairloop_app::profiles::{
    CredentialDecision, CredentialView, Eligibility, MatchPage, ProfileInput, ProfileView,
    ProjectForYou, ProjectInviteView,
};
use fairloop_domain::workforce::{self, Requirements};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// One taxonomy entry.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DomainView {
    /// Stable key.
    pub key: &'static str,
    /// Plain label.
    pub label: &'static str,
    /// The top-level key (itself for a top-level domain).
    pub top: &'static str,
}

/// The expertise taxonomy and the language levels.
#[derive(Serialize, utoipa::ToSchema)]
pub struct TaxonomyView {
    /// Every domain and sub-domain.
    pub domains: Vec<DomainView>,
    /// Language levels, lowest first.
    pub levels: Vec<&'static str>,
}

/// The fixed expertise taxonomy (anyone signed in).
#[utoipa::path(get, path = "/api/v1/taxonomy", responses((status = 200, body = TaxonomyView)))]
pub async fn taxonomy(Auth(_p): Auth) -> Json<TaxonomyView> {
    Json(TaxonomyView {
        domains: workforce::TAXONOMY
            .iter()
            .map(|d| DomainView {
                key: d.key,
                label: d.label,
                top: d.top(),
            })
            .collect(),
        levels: workforce::Level::ALL.iter().map(|l| l.as_str()).collect(),
    })
}

/// The caller's profile.
#[utoipa::path(get, path = "/api/v1/me/profile", responses((status = 200, body = ProfileView)))]
pub async fn get_profile(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<ProfileView>> {
    Ok(Json(s.app.my_profile(&p).await?))
}

/// Saves the caller's whole profile (422 `invalid_profile` naming the field in `details.field`).
#[utoipa::path(put, path = "/api/v1/me/profile", request_body = ProfileInput,
    responses((status = 200, body = ProfileView), (status = 422)))]
pub async fn put_profile(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<ProfileInput>,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(s.app.save_my_profile(&p, body).await?))
}

/// What a credential is.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct CredentialQuery {
    /// What it is ("Board certification in dermatology").
    pub title: String,
    /// Who issued it.
    #[serde(default)]
    pub issuer: Option<String>,
}

/// Adds a credential; the body is the evidence itself (PDF, PNG or JPEG, at most 10 MiB; the type is read from
/// the bytes). 413 when too large, 422 `invalid_document` for another type.
#[utoipa::path(post, path = "/api/v1/me/credentials", params(CredentialQuery),
    request_body(content = Vec<u8>, content_type = "application/octet-stream"),
    responses((status = 201, body = CredentialView), (status = 413), (status = 422)))]
pub async fn add_credential(
    State(s): State<AppState>,
    Auth(p): Auth,
    query: Result<Query<CredentialQuery>, axum::extract::rejection::QueryRejection>,
    request: Request,
) -> ApiResult<(StatusCode, Json<CredentialView>)> {
    let Query(q) = query.map_err(|e| {
        ApiError::new(
            StatusCode::BAD_REQUEST,
            "invalid_query",
            format!("{} (give ?title=…&issuer=…)", e.body_text()),
        )
    })?;
    let limit = workforce::MAX_CREDENTIAL_BYTES;
    let bytes = axum::body::to_bytes(request.into_body(), limit + 1)
        .await
        .map_err(|_| AppError::PayloadTooLarge {
            limit: limit as u64,
        })?;
    let view = s
        .app
        .add_credential(
            &p,
            &q.title,
            q.issuer.as_deref().unwrap_or(""),
            bytes.to_vec(),
        )
        .await?;
    Ok((StatusCode::CREATED, Json(view)))
}

/// The evidence of a credential (its owner and the organization's admins; 404 for anyone else).
#[utoipa::path(get, path = "/api/v1/credentials/{id}/document", params(("id" = i64, Path)),
    responses((status = 200), (status = 404)))]
pub async fn credential_document(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Response> {
    let (content_type, bytes) = s.app.credential_document(&p, id).await?;
    Ok(document_response(content_type, bytes))
}

/// The evidence as a download that no browser renders inline as a page of ours.
pub(crate) fn document_response(content_type: String, bytes: Vec<u8>) -> Response {
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff".to_string()),
            (header::CONTENT_DISPOSITION, "attachment".to_string()),
            (header::CACHE_CONTROL, "private, no-store".to_string()),
        ],
        Body::from(bytes),
    )
        .into_response()
}

/// An admin verifies (`verified: true`) or rejects a credential of a worker of their organization.
#[utoipa::path(post, path = "/api/v1/credentials/{id}/decision", params(("id" = i64, Path)),
    request_body = CredentialDecision, responses((status = 200, body = CredentialView), (status = 403), (status = 404)))]
pub async fn decide_credential(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<CredentialDecision>,
) -> ApiResult<Json<CredentialView>> {
    Ok(Json(s.app.decide_credential(&p, id, body).await?))
}

/// A worker's profile (requesters, reviewers and admins of the worker's organization; 404 for others).
#[utoipa::path(get, path = "/api/v1/workers/{id}/profile", params(("id" = i64, Path)),
    responses((status = 200, body = ProfileView), (status = 403), (status = 404)))]
pub async fn worker_profile(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<ProfileView>> {
    Ok(Json(s.app.worker_profile(&p, id).await?))
}

/// A project's requirements (empty lists when it has none).
#[utoipa::path(get, path = "/api/v1/projects/{id}/requirements", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 404)))]
pub async fn get_requirements(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<Requirements>> {
    Ok(Json(s.app.requirements(&p, id).await?))
}

/// Replaces a project's requirements (requesters and admins); 422 `invalid_requirements` names the field.
#[utoipa::path(put, path = "/api/v1/projects/{id}/requirements", params(("id" = i64, Path)),
    request_body = Object, responses((status = 200, body = Object), (status = 403), (status = 404), (status = 422)))]
pub async fn put_requirements(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<Requirements>,
) -> ApiResult<Json<Requirements>> {
    Ok(Json(s.app.set_requirements(&p, id, body).await?))
}

/// Whether the project is open to the caller, and what it needs if not (profile requirements and assessments).
#[utoipa::path(get, path = "/api/v1/projects/{id}/eligibility", params(("id" = i64, Path)),
    responses((status = 200, body = Eligibility), (status = 404)))]
pub async fn eligibility(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<Eligibility>> {
    Ok(Json(s.app.project_eligibility(&p, id).await?))
}

/// Paging of the matching list.
#[derive(Deserialize, utoipa::IntoParams)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// Page number, from 1 (default 1).
    pub page: Option<i64>,
    /// Workers per page, 1 to 200 (default 50).
    pub per_page: Option<i64>,
}

/// The eligible workers of the organization for the project, best first, with the reasons (requesters and
/// admins).
#[utoipa::path(get, path = "/api/v1/projects/{id}/matches", params(("id" = i64, Path), PageQuery),
    responses((status = 200, body = MatchPage), (status = 403), (status = 404)))]
pub async fn matches(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    query: Result<Query<PageQuery>, axum::extract::rejection::QueryRejection>,
) -> ApiResult<Json<MatchPage>> {
    let Query(q) = query
        .map_err(|e| ApiError::new(StatusCode::BAD_REQUEST, "invalid_query", e.body_text()))?;
    Ok(Json(
        s.app
            .matches(&p, id, q.page.unwrap_or(1), q.per_page.unwrap_or(50))
            .await?,
    ))
}

/// Whom to invite.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InviteBody {
    /// A worker of the organization.
    pub worker_id: i64,
}

/// Whether the invitation is new.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InviteResult {
    /// False when the worker was invited before (they are told once).
    pub created: bool,
}

/// Invites a worker of the organization to the project; they get an inbox notice (requesters and admins).
#[utoipa::path(post, path = "/api/v1/projects/{id}/invites", params(("id" = i64, Path)), request_body = InviteBody,
    responses((status = 201, body = InviteResult), (status = 200, body = InviteResult), (status = 404)))]
pub async fn invite(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<InviteBody>,
) -> ApiResult<(StatusCode, Json<InviteResult>)> {
    let created = s.app.invite_worker(&p, id, body.worker_id).await?;
    Ok((
        if created {
            StatusCode::CREATED
        } else {
            StatusCode::OK
        },
        Json(InviteResult { created }),
    ))
}

/// The caller's invitations to projects, newest first.
#[utoipa::path(get, path = "/api/v1/me/project-invites", responses((status = 200, body = Vec<ProjectInviteView>)))]
pub async fn my_invites(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<ProjectInviteView>>> {
    Ok(Json(s.app.my_project_invites(&p).await?))
}

/// The projects open to the caller, ranked by the score matching gives them, with the reasons.
#[utoipa::path(get, path = "/api/v1/me/projects-for-you", responses((status = 200, body = Vec<ProjectForYou>)))]
pub async fn projects_for_you(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<ProjectForYou>>> {
    Ok(Json(s.app.projects_for_me(&p).await?))
}
