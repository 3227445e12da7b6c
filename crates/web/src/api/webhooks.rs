//! Outgoing webhooks over the API (organization admins): register endpoints, read their delivery log, send a
//! test event, retry a delivery, switch an endpoint off.

use axum::Json;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use fairloop_app::webhooks::NewWebhook;
use fairloop_domain::time::to_rfc3339;
use fairloop_store::webhooks::{Delivery, Endpoint};
use serde::{Deserialize, Serialize};

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, Id};

/// An endpoint (its secret is shown only in the answer to registering it).
#[derive(Serialize, utoipa::ToSchema)]
pub struct EndpointView {
    /// Id.
    pub id: i64,
    /// Where events are posted.
    pub url: String,
    /// Event types it receives.
    pub events: Vec<String>,
    /// What it is for.
    pub description: String,
    /// When it was registered (RFC 3339 UTC).
    pub created_at: String,
    /// When it was switched off; null while live.
    pub disabled_at: Option<String>,
}

impl From<Endpoint> for EndpointView {
    fn from(e: Endpoint) -> Self {
        EndpointView {
            id: e.id,
            url: e.url,
            events: e.events,
            description: e.description,
            created_at: to_rfc3339(e.created_at),
            disabled_at: e.disabled_at.map(to_rfc3339),
        }
    }
}

/// A new endpoint and its signing secret, shown this once.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RegisteredView {
    /// The endpoint.
    pub endpoint: EndpointView,
    /// `whsec_…`: the key of the `Fairloop-Signature` HMAC. Keep it; it is never shown again.
    pub secret: String,
}

/// One delivery in the log.
#[derive(Serialize, utoipa::ToSchema)]
pub struct DeliveryView {
    /// Id (sent as `Fairloop-Delivery`).
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// The event's id (sent as `Fairloop-Event-Id`; the same on every retry).
    pub event_id: String,
    /// The event's type.
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made.
    pub attempts: i64,
    /// When the next attempt is due (pending only; RFC 3339 UTC).
    pub next_attempt_at: Option<String>,
    /// HTTP status of the last attempt.
    pub last_status: Option<i64>,
    /// What went wrong last.
    pub last_error: Option<String>,
    /// When the event happened.
    pub created_at: String,
    /// When it was delivered.
    pub delivered_at: Option<String>,
}

impl From<Delivery> for DeliveryView {
    fn from(d: Delivery) -> Self {
        DeliveryView {
            id: d.id,
            endpoint_id: d.endpoint_id,
            event_id: d.event_id,
            event_type: d.event_type,
            payload: d.payload,
            next_attempt_at: (d.status == "pending").then(|| to_rfc3339(d.next_attempt_at)),
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created_at: to_rfc3339(d.created_at),
            delivered_at: d.delivered_at.map(to_rfc3339),
        }
    }
}

/// `?before=` of the delivery log.
#[derive(Debug, Deserialize, utoipa::IntoParams)]
pub struct LogQuery {
    /// Only deliveries with an id below this (the last id of the previous page).
    pub before: Option<i64>,
}

/// Registers an endpoint (admins). The host must be on the installation's allowlist
/// (`422 webhook_host_not_allowed` otherwise).
#[utoipa::path(post, path = "/api/v1/webhooks", request_body = NewWebhook,
    responses((status = 201, body = RegisteredView), (status = 403), (status = 409), (status = 422)))]
pub async fn register(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<NewWebhook>,
) -> ApiResult<(StatusCode, Json<RegisteredView>)> {
    let r = s.app.register_webhook(&p, body).await?;
    Ok((
        StatusCode::CREATED,
        Json(RegisteredView {
            endpoint: r.endpoint.into(),
            secret: r.secret,
        }),
    ))
}

/// The organization's endpoints (admins).
#[utoipa::path(get, path = "/api/v1/webhooks",
    responses((status = 200, body = Vec<EndpointView>), (status = 403)))]
pub async fn list(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Vec<EndpointView>>> {
    Ok(Json(
        s.app
            .webhooks(&p)
            .await?
            .into_iter()
            .map(EndpointView::from)
            .collect(),
    ))
}

/// One endpoint (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = EndpointView), (status = 403), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<EndpointView>> {
    Ok(Json(s.app.webhook(&p, id).await?.into()))
}

/// Switches an endpoint off (admins): nothing more is queued, pending deliveries stop.
#[utoipa::path(delete, path = "/api/v1/webhooks/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404)))]
pub async fn disable(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<StatusCode> {
    s.app.disable_webhook(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// An endpoint's delivery log, newest first, 50 at a time (admins).
#[utoipa::path(get, path = "/api/v1/webhooks/{id}/deliveries", params(("id" = i64, Path), LogQuery),
    responses((status = 200, body = Vec<DeliveryView>), (status = 403), (status = 404)))]
pub async fn deliveries(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    Query(q): Query<LogQuery>,
) -> ApiResult<Json<Vec<DeliveryView>>> {
    Ok(Json(
        s.app
            .webhook_deliveries(&p, id, q.before)
            .await?
            .into_iter()
            .map(DeliveryView::from)
            .collect(),
    ))
}

/// Queues a `webhook.test` event for the endpoint (admins); the job sends it within seconds.
#[utoipa::path(post, path = "/api/v1/webhooks/{id}/test", params(("id" = i64, Path)),
    responses((status = 202, body = DeliveryView), (status = 403), (status = 404)))]
pub async fn test(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let d = s.app.send_test_webhook(&p, id).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}

/// Sends a delivery again now, with a fresh set of attempts (admins; `409 endpoint_disabled`).
#[utoipa::path(post, path = "/api/v1/webhooks/deliveries/{id}/retry", params(("id" = i64, Path)),
    responses((status = 202, body = DeliveryView), (status = 403), (status = 404), (status = 409)))]
pub async fn retry(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<DeliveryView>)> {
    let d = s.app.retry_webhook_delivery(&p, id).await?;
    Ok((StatusCode::ACCEPTED, Json(d.into())))
}
