//! The caller's own account: who am I, and my API tokens.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, Id};

/// Who the token belongs to.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Me {
    /// User id.
    pub user_id: i64,
    /// Organization id.
    pub org_id: i64,
    /// Role.
    pub role: String,
    /// Email.
    pub email: String,
}

/// A user created by an admin, with their first API token (shown once).
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedUser {
    /// User id.
    pub user_id: i64,
    /// Email.
    pub email: String,
    /// Role.
    pub role: String,
    /// API token.
    pub token: String,
}

/// Adds a user to the caller's organization (admins only).
#[utoipa::path(post, path = "/api/v1/users", request_body = fairloop_app::users::CreateUser,
    responses((status = 201, body = CreatedUser), (status = 403), (status = 409, description = "email taken")))]
pub async fn create_user(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<fairloop_app::users::CreateUser>,
) -> ApiResult<(StatusCode, Json<CreatedUser>)> {
    let (user, token) = s.app.create_org_user(&p, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedUser {
            user_id: user.id,
            email: user.email,
            role: user.role.to_string(),
            token,
        }),
    ))
}

/// Returns the caller.
#[utoipa::path(get, path = "/api/v1/me", responses((status = 200, body = Me)))]
pub async fn me(Auth(p): Auth) -> Json<Me> {
    Json(Me {
        user_id: p.user_id,
        org_id: p.org_id,
        role: p.role.to_string(),
        email: p.email,
    })
}

/// A new token's label.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewToken {
    /// What the token is for, e.g. "labelling script".
    pub label: String,
}

/// A token, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct IssuedToken {
    /// Id, for revoking.
    pub id: i64,
    /// The token itself; it is not stored and cannot be shown again.
    pub token: String,
}

/// Issues a new API token for the caller.
#[utoipa::path(post, path = "/api/v1/me/tokens", request_body = NewToken, responses((status = 201, body = IssuedToken)))]
pub async fn create_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewToken>,
) -> ApiResult<(StatusCode, Json<IssuedToken>)> {
    let label: String = body.label.trim().chars().take(100).collect();
    let (id, token) = s.app.issue_token(p.user_id, &label).await?;
    Ok((StatusCode::CREATED, Json(IssuedToken { id, token })))
}

/// Revokes one of the caller's tokens; it stops working at once.
#[utoipa::path(delete, path = "/api/v1/me/tokens/{id}", params(("id" = i64, Path)), responses((status = 204)))]
pub async fn revoke_token(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.app.revoke_token(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
