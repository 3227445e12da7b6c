//! Vendors over the API (docs/vendors.md), and a worker's data download and account deletion.
//!
//! Lab side: `POST/GET /api/v1/vendors/contracts`, `DELETE /api/v1/vendors/contracts/{vendor}`,
//! `GET /api/v1/vendors/workers`. Vendor-manager side, every answer filtered by the caller's vendor:
//! `GET /api/v1/vendor/labs`, `POST/GET /api/v1/vendor/invitations`, `DELETE /api/v1/vendor/invitations/{id}`,
//! `GET /api/v1/vendor/workers`, `GET/PUT /api/v1/vendor/workers/{id}`.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use fairloop_domain::time::to_rfc3339;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, Id};

/// A lab contracts a vendor by its exact name.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ContractInput {
    /// The vendor organization's name.
    pub vendor: String,
}

/// A vendor manager's invitation into a lab.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct VendorInviteInput {
    /// The lab (an organization that contracts the vendor; see `GET /api/v1/vendor/labs`).
    pub org_id: i64,
    /// Bind the link to this email (recommended).
    #[serde(default)]
    pub email: Option<String>,
    /// Days the link works (1 to 30; default 7).
    #[serde(default)]
    pub valid_days: Option<u32>,
}

/// The vendor's own reference for a worker.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReferenceInput {
    /// Up to 100 characters; empty clears it.
    pub reference: String,
}

/// The password that confirms an account deletion.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DeleteInput {
    /// The account's current password.
    pub password: String,
}

/// A new vendor invitation, its link shown once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct VendorInvitationCreated {
    /// Id.
    pub id: i64,
    /// The link's path; prefix it with this server's address.
    pub path: String,
    /// When it stops working (RFC 3339 UTC).
    pub expires_at: String,
}

/// Contracts the vendor named in the body (lab admins).
#[utoipa::path(post, path = "/api/v1/vendors/contracts", request_body = ContractInput,
    responses((status = 201, description = "the contract"), (status = 403), (status = 422, description = "unknown_vendor")))]
pub async fn contract(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<ContractInput>,
) -> ApiResult<(StatusCode, Json<Value>)> {
    let c = s.app.contract_vendor(&p, &body.vendor).await?;
    Ok((StatusCode::CREATED, Json(json!(c))))
}

/// The caller's contracts: a lab's vendors (requesters, admins) or a vendor's labs (vendor managers).
#[utoipa::path(get, path = "/api/v1/vendors/contracts", responses((status = 200, description = "contracts")))]
pub async fn contracts(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"contracts": s.app.vendor_contracts(&p).await?}),
    ))
}

/// Ends the lab's contract with a vendor (lab admins).
#[utoipa::path(delete, path = "/api/v1/vendors/contracts/{id}", params(("id" = i64, Path, description = "the vendor's organization id")),
    responses((status = 204), (status = 404)))]
pub async fn end_contract(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(vendor): Id,
) -> ApiResult<StatusCode> {
    s.app.end_vendor_contract(&p, vendor).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The lab's workers with the vendor each came through (requesters, admins).
#[utoipa::path(get, path = "/api/v1/vendors/workers", responses((status = 200, description = "workers")))]
pub async fn lab_workers(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(json!({"workers": s.app.lab_workers(&p).await?})))
}

/// The labs that contract the caller's vendor (vendor managers).
#[utoipa::path(get, path = "/api/v1/vendor/labs", responses((status = 200, description = "labs"), (status = 403)))]
pub async fn labs(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    s.app.vendor_of(&p).await?;
    Ok(Json(json!({"labs": s.app.vendor_contracts(&p).await?})))
}

/// Invites a worker into a lab that contracts the vendor (vendor managers).
#[utoipa::path(post, path = "/api/v1/vendor/invitations", request_body = VendorInviteInput,
    responses((status = 201, body = VendorInvitationCreated), (status = 403), (status = 409, description = "email_taken or no_contract")))]
pub async fn invite(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<VendorInviteInput>,
) -> ApiResult<(StatusCode, Json<VendorInvitationCreated>)> {
    let inv = s
        .app
        .vendor_invite(&p, body.org_id, body.email.as_deref(), body.valid_days)
        .await?;
    Ok((
        StatusCode::CREATED,
        Json(VendorInvitationCreated {
            id: inv.id,
            path: format!("/invite/{}", inv.token),
            expires_at: to_rfc3339(inv.expires_at),
        }),
    ))
}

/// The vendor's invitations (vendor managers).
#[utoipa::path(get, path = "/api/v1/vendor/invitations", responses((status = 200, description = "invitations")))]
pub async fn invitations(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(
        json!({"invitations": s.app.vendor_invitations(&p).await?}),
    ))
}

/// Withdraws one of the vendor's invitations.
#[utoipa::path(delete, path = "/api/v1/vendor/invitations/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 404)))]
pub async fn revoke_invitation(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.app.revoke_vendor_invitation(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// The vendor's workers with work, quality and balances (vendor managers).
#[utoipa::path(get, path = "/api/v1/vendor/workers", responses((status = 200, description = "workers and balances")))]
pub async fn workers(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    Ok(Json(json!(s.app.vendor_pool(&p).await?)))
}

/// One of the vendor's workers: projects, balances, ledger entries; 404 for anyone else's.
#[utoipa::path(get, path = "/api/v1/vendor/workers/{id}", params(("id" = i64, Path)),
    responses((status = 200, description = "the worker"), (status = 404)))]
pub async fn worker(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<Value>> {
    Ok(Json(json!(s.app.vendor_worker(&p, id).await?)))
}

/// Sets the vendor's reference for one of its workers; 404 for anyone else's.
#[utoipa::path(put, path = "/api/v1/vendor/workers/{id}", params(("id" = i64, Path)), request_body = ReferenceInput,
    responses((status = 204), (status = 404)))]
pub async fn set_reference(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<ReferenceInput>,
) -> ApiResult<StatusCode> {
    s.app.set_vendor_ref(&p, id, &body.reference).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Everything stored about the caller, as one JSON document (a download).
#[utoipa::path(get, path = "/api/v1/me/data", responses((status = 200, description = "the document")))]
pub async fn my_data(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Response> {
    let doc = s.app.personal_data(&p).await?;
    let mut resp = Json(doc).into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"fairloop-my-data.json\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Deletes the caller's account (workers; confirmed with the password).
#[utoipa::path(post, path = "/api/v1/me/delete", request_body = DeleteInput,
    responses((status = 204), (status = 403), (status = 409, description = "money_owed or payout_pending"),
        (status = 422, description = "wrong_password")))]
pub async fn delete_me(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<DeleteInput>,
) -> ApiResult<StatusCode> {
    s.app.delete_account(&p, &body.password).await?;
    Ok(StatusCode::NO_CONTENT)
}
