//! Fairloop's HTTP layer: the JSON API (with its OpenAPI document), bearer-token auth and security headers,
//! and the server-rendered web app ([`ui`]) with cookie sessions.
//!
//! Handlers are thin: they parse the request, call one use case of [`fairloop_app::App`] and map the result to
//! a status and body. Every error leaves through [`error::ApiError`] with the documented body.

use std::net::SocketAddr;
use std::path::PathBuf;

use axum::Router;
use axum::extract::{DefaultBodyLimit, State};
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use axum::routing::get;
use fairloop_app::App;
use tower_http::set_header::SetResponseHeaderLayer;

pub mod api;
pub mod error;
pub mod extract;
pub mod ui;

use error::ApiError;

/// Largest JSON body accepted by ordinary endpoints (imports stream and have their own, larger limit).
pub const JSON_BODY_LIMIT: usize = 2 << 20;

/// What every handler can reach.
#[derive(Clone, Debug)]
pub struct AppState {
    /// The use cases.
    pub app: App,
    /// Where uploads are spooled before import.
    pub tmp_dir: PathBuf,
}

/// The whole HTTP application.
pub fn router(state: AppState) -> Router {
    let (api, openapi) = api::routes().split_for_parts();
    let openapi_json = openapi
        .to_pretty_json()
        .expect("the OpenAPI document serializes");
    Router::new()
        .route("/healthz", get(healthz))
        .route(
            "/api/openapi.json",
            get(
                move || async move { ([(header::CONTENT_TYPE, "application/json")], openapi_json) },
            ),
        )
        .merge(api)
        // UI pages set their own, stricter Content-Security-Policy; the layer below only fills it in elsewhere.
        .merge(ui::router(state.clone()))
        .merge(ui::media::serve_routes())
        .fallback(not_found)
        .method_not_allowed_fallback(method_not_allowed)
        .layer(DefaultBodyLimit::max(JSON_BODY_LIMIT))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::X_FRAME_OPTIONS,
            HeaderValue::from_static("DENY"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::REFERRER_POLICY,
            HeaderValue::from_static("no-referrer"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static("default-src 'self'; frame-ancestors 'none'"),
        ))
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CACHE_CONTROL,
            HeaderValue::from_static("no-store"),
        ))
        .with_state(state)
}

async fn healthz(State(s): State<AppState>) -> impl IntoResponse {
    match s.app.store.ping().await {
        Ok(()) => (StatusCode::OK, "ok").into_response(),
        Err(e) => {
            tracing::error!(error = %e, "health check failed");
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "storage_unavailable",
                "the database does not answer",
            )
            .into_response()
        }
    }
}

async fn method_not_allowed() -> ApiError {
    ApiError::new(
        StatusCode::METHOD_NOT_ALLOWED,
        "method_not_allowed",
        "this endpoint does not take that method; see /api/openapi.json",
    )
}

async fn not_found() -> ApiError {
    ApiError::new(
        StatusCode::NOT_FOUND,
        "not_found",
        "no such endpoint; see /api/openapi.json",
    )
}

/// Serves the router on a bound listener until `shutdown` resolves; prints the documented ready line.
pub async fn serve(
    listener: tokio::net::TcpListener,
    router: Router,
    shutdown: impl std::future::Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    let addr: SocketAddr = listener.local_addr()?;
    println!("listening on http://{addr}");
    // Connection info gives the sign-in rate limit the client's address.
    axum::serve(
        listener,
        router.into_make_service_with_connect_info::<SocketAddr>(),
    )
    .with_graceful_shutdown(shutdown)
    .await
}
