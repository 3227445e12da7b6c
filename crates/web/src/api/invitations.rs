//! Invitation links over the API, for admin tooling that onboards people in bulk.
//!
//! Accepting an invitation is a browser flow (the person chooses a password and is signed in), so it lives in
//! the web UI at `/invite/{token}`; the API creates, lists and withdraws links.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fairloop_app::invitations::InviteInput;
use fairloop_domain::time::to_rfc3339;
use fairloop_store::invitations::Invitation;
use serde::Serialize;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, Id};

/// An invitation as listed.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InvitationView {
    /// Id, for withdrawing it.
    pub id: i64,
    /// The email it is bound to, if any.
    pub email: Option<String>,
    /// The role the new user gets.
    pub role: String,
    /// `open`, `accepted`, `revoked` or `expired`.
    pub status: String,
    /// When it was created (RFC 3339 UTC).
    pub created_at: String,
    /// When it stops working (RFC 3339 UTC).
    pub expires_at: String,
}

impl From<Invitation> for InvitationView {
    fn from(i: Invitation) -> Self {
        InvitationView {
            id: i.id,
            status: invitation_status(&i, fairloop_domain::time::now_millis()).into(),
            email: i.email,
            role: i.role.to_string(),
            created_at: to_rfc3339(i.created_at),
            expires_at: to_rfc3339(i.expires_at),
        }
    }
}

/// Where an invitation stands at `now`.
pub fn invitation_status(i: &Invitation, now: i64) -> &'static str {
    if i.accepted_at.is_some() {
        "accepted"
    } else if i.revoked_at.is_some() {
        "revoked"
    } else if i.expires_at <= now {
        "expired"
    } else {
        "open"
    }
}

/// A new invitation with its link, shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct CreatedInvitation {
    /// The invitation.
    pub invitation: InvitationView,
    /// The path of the link to send (prefix it with this server's address); it cannot be shown again.
    pub path: String,
}

/// Invites someone into the caller's organization (requesters: workers and reviewers; admins: any role).
#[utoipa::path(post, path = "/api/v1/invitations", request_body = InviteInput,
    responses((status = 201, body = CreatedInvitation), (status = 403), (status = 409, description = "email taken"),
        (status = 422, description = "invalid email or validity")))]
pub async fn create_invitation(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<InviteInput>,
) -> ApiResult<(StatusCode, Json<CreatedInvitation>)> {
    let invited = s.app.invite(&p, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(CreatedInvitation {
            path: format!("/invite/{}", invited.token),
            invitation: invited.invitation.into(),
        }),
    ))
}

/// The caller's organization's invitations, newest first.
#[utoipa::path(get, path = "/api/v1/invitations", responses((status = 200, body = Vec<InvitationView>)))]
pub async fn list_invitations(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<Vec<InvitationView>>> {
    let list = s.app.invitations(&p).await?;
    Ok(Json(list.into_iter().map(Into::into).collect()))
}

/// Withdraws an unused invitation; its link stops working at once.
#[utoipa::path(delete, path = "/api/v1/invitations/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)))]
pub async fn revoke_invitation(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.app.revoke_invitation(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}
