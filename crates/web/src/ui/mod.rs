//! The server-rendered web app: sign-in, the worker's home and workbench, and the requester's console.
//!
//! Pages are HTML rendered from templates embedded in the binary (minijinja, autoescaping on), styled by one
//! CSS file and made keyboard-fast by one small ES module, all served from `/assets` under a Content-Security-
//! Policy that allows no inline script or style. Every form works without JavaScript; the script only adds
//! shortcuts, the draft kept in the browser and the timer. Handlers call the same use cases as the JSON API.
//!
//! Routes (see docs/web.md): `GET /signin`, `POST /signin`, `POST /signout`, `GET /`, `GET /work/{project}`,
//! `GET|POST /work/{project}/{assignment}`, `POST /work/{project}/{assignment}/skip`,
//! `GET /settings`, `POST /settings/password`, `POST /settings/tokens`, `POST /settings/tokens/{id}/revoke`,
//! `GET /projects`, `GET /projects/{id}/export`, `GET /projects/{id}/quality`, `GET /assets/{file}`; the review
//! pages are listed in [`review`], the media page and `/media/{key}` in [`media`], the vendor pages in
//! [`vendors`]; `GET /settings/data` downloads the user's data and `POST /settings/delete` deletes a worker's
//! account.

use std::sync::Arc;

use axum::Router;
use axum::extract::Path;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use axum::routing::get;
use fairloop_app::AppError;
use fairloop_app::accounts::SignInLimiter;
use minijinja::context;
use tower_http::set_header::SetResponseHeaderLayer;

use crate::AppState;

mod assessments;
mod charts;
mod console;
mod create;
mod invitations;
mod lifecycle;
pub mod media;
mod messages;
mod money;
mod onboarding;
mod pages;
mod profiles;
mod qualification;
mod quality;
pub mod render;
pub mod review;
mod review_shapes;
pub mod session;
mod terms;
#[cfg(test)]
mod tests;
mod vendors;
mod wellbeing;

/// The policy of every UI page: our own scripts, styles and images only; no inline code, no framing, forms
/// post only to us.
pub const UI_CSP: &str = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; \
     media-src 'self' data:; connect-src 'self'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'";

/// What the UI handlers share: the application and the sign-in limiter.
#[derive(Debug)]
pub struct Ui {
    /// The use cases (the same as the API's).
    pub state: AppState,
    /// Failed sign-ins per email and address.
    pub limiter: SignInLimiter,
}

/// Every UI route, with the UI's Content-Security-Policy. Merged into [`crate::router`].
pub fn router(state: AppState) -> Router<AppState> {
    let ui = Arc::new(Ui {
        state,
        limiter: SignInLimiter::default(),
    });
    Router::new()
        .route("/", get(pages::home))
        .route("/signin", get(pages::signin_form).post(pages::signin))
        .route("/signout", axum::routing::post(pages::signout))
        .route("/work/{project}", get(pages::claim).post(pages::start))
        .route(
            "/work/{project}/{assignment}",
            get(pages::workbench).post(pages::submit),
        )
        .route(
            "/work/{project}/{assignment}/draft",
            axum::routing::post(pages::save_draft),
        )
        .route(
            "/work/{project}/{assignment}/skip",
            axum::routing::post(pages::skip),
        )
        .route("/settings", get(pages::settings))
        .route("/profile", get(profiles::show).post(profiles::save))
        .route(
            "/profile/credentials",
            axum::routing::post(profiles::upload_credential).layer(
                axum::extract::DefaultBodyLimit::max(
                    fairloop_domain::workforce::MAX_CREDENTIAL_BYTES + 64 * 1024,
                ),
            ),
        )
        .route(
            "/profile/credentials/{id}",
            get(profiles::credential_document),
        )
        .route("/workers/{id}", get(profiles::worker))
        .route(
            "/workers/{id}/credentials/{credential}",
            axum::routing::post(profiles::decide),
        )
        .route("/projects/{id}/matching", get(profiles::matching))
        .route(
            "/projects/{id}/requirements",
            axum::routing::post(profiles::save_requirements),
        )
        .route(
            "/projects/{id}/matching/invite",
            axum::routing::post(profiles::invite),
        )
        .route(
            "/settings/sensitivity",
            get(wellbeing::sensitivity_page).post(wellbeing::save_sensitivity),
        )
        .route(
            "/projects/{id}/wellbeing",
            get(wellbeing::project_page).post(wellbeing::save_project),
        )
        .route(
            "/projects/{id}/wellbeing/opt-in",
            axum::routing::post(wellbeing::opt_in_project),
        )
        .route("/work/break", axum::routing::post(wellbeing::take_break))
        .route(
            "/settings/password",
            axum::routing::post(pages::change_password),
        )
        .route("/settings/tokens", axum::routing::post(pages::create_token))
        .route("/settings/country", axum::routing::post(pages::set_country))
        .route("/settings/data", get(pages::download_data))
        .route(
            "/settings/delete",
            axum::routing::post(pages::delete_account),
        )
        .route("/vendors", get(vendors::page))
        .route("/vendors/contracts", axum::routing::post(vendors::contract))
        .route(
            "/vendors/contracts/{vendor}/end",
            axum::routing::post(vendors::end_contract),
        )
        .route("/vendor/invitations", axum::routing::post(vendors::invite))
        .route(
            "/vendor/invitations/{id}/revoke",
            axum::routing::post(vendors::revoke),
        )
        .route("/vendor/workers/{id}", get(vendors::worker))
        .route(
            "/vendor/workers/{id}/reference",
            axum::routing::post(vendors::set_reference),
        )
        .route(
            "/settings/tokens/{id}/revoke",
            axum::routing::post(pages::revoke_token),
        )
        .route(
            "/invitations",
            get(invitations::list).post(invitations::create),
        )
        .route(
            "/invitations/{id}/revoke",
            axum::routing::post(invitations::revoke),
        )
        .route(
            "/invite/{token}",
            get(invitations::accept_form).post(invitations::accept),
        )
        .route(
            "/work/{project}/{assignment}/heartbeat",
            axum::routing::post(money::heartbeat),
        )
        .route("/guidelines/{project}", get(onboarding::read_guidelines))
        .route(
            "/guidelines/{project}/heartbeat",
            axum::routing::post(onboarding::heartbeat),
        )
        .route("/time", get(money::time_page))
        .route(
            "/time/{assignment}/dispute",
            axum::routing::post(money::dispute),
        )
        .route("/earnings", get(money::earnings))
        .route("/spend", get(money::spend))
        .route("/earnings/statement", get(money::statement))
        .route("/spend/invoice", get(money::invoice))
        .route("/projects", get(pages::projects))
        .route("/projects/new", get(create::new_form).post(create::create))
        .route(
            "/projects/new/preview",
            axum::routing::post(create::preview_fragment),
        )
        .route(
            "/projects/{id}/upload",
            get(create::upload_form)
                .post(create::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route("/projects/{id}", get(console::dashboard))
        .route("/projects/{id}/live", get(console::live))
        .route("/projects/{id}/transparency", get(console::transparency))
        .route(
            "/projects/{id}/terms",
            get(terms::show).post(terms::publish),
        )
        .route(
            "/projects/{id}/terms/decision",
            axum::routing::post(terms::decide),
        )
        .route(
            "/projects/{id}/terms/questions",
            axum::routing::post(terms::ask),
        )
        .route(
            "/projects/{id}/terms/questions/{question}/answer",
            axum::routing::post(terms::answer),
        )
        .route(
            "/projects/{id}/guidelines",
            get(console::guidelines).post(console::publish_guidelines),
        )
        .route(
            "/projects/{id}/guidelines/changes",
            get(console::guideline_changes),
        )
        .route(
            "/projects/{id}/guidelines/acknowledge",
            axum::routing::post(console::acknowledge_guidelines),
        )
        .route("/projects/{id}/items", get(console::items))
        .route("/projects/{id}/export", get(pages::export))
        .route(
            "/projects/{id}/media",
            get(media::page)
                .post(media::upload)
                .layer(axum::extract::DefaultBodyLimit::disable()),
        )
        .route(
            "/projects/{id}/media/hosts",
            axum::routing::post(media::set_hosts),
        )
        .route(
            "/projects/{id}/media/delete",
            axum::routing::post(media::delete),
        )
        .merge(review_router())
        .merge(message_router())
        .merge(lifecycle_router())
        .merge(assessments::router())
        .merge(qualification::router())
        .route("/projects/{id}/quality", get(quality::quality))
        .route("/assets/{file}", get(asset))
        .layer(axum::Extension(ui))
        // A page may set its own policy (the workbench widens it to the organization's media hosts).
        .layer(SetResponseHeaderLayer::if_not_present(
            header::CONTENT_SECURITY_POLICY,
            HeaderValue::from_static(UI_CSP),
        ))
}

/// The project status and guideline-quiz pages (see [`lifecycle`]), kept apart like the review pages.
fn lifecycle_router() -> Router<AppState> {
    use axum::routing::post;
    Router::new()
        .route(
            "/projects/{id}/status",
            get(lifecycle::status).post(lifecycle::change),
        )
        .route("/projects/{id}/close", post(lifecycle::close))
        .route("/projects/{id}/guidelines/quiz", post(lifecycle::take_quiz))
}

/// The review pages (see [`review`]), kept apart so that the route list above stays easy to merge.
fn review_router() -> Router<AppState> {
    use axum::routing::post;
    Router::new()
        .route("/review", get(review::projects))
        .route("/review/{project}", get(review::queue))
        .route("/review/{project}/pause", post(review::pause))
        .route(
            "/review/{project}/pauses/{worker}/lift",
            post(review::lift_pause),
        )
        .route("/review/{project}/{review}", post(review::decide))
        .route(
            "/review/{project}/appeals/{appeal}",
            post(review::decide_appeal),
        )
        .route("/reviews", get(review::my_reviews))
        .route("/reviews/{id}/appeal", post(review::appeal))
}

/// The message pages (see [`messages`]), kept apart so that the route list above stays easy to merge.
fn message_router() -> Router<AppState> {
    use axum::routing::post;
    Router::new()
        .route(
            "/projects/{id}/board",
            get(messages::board).post(messages::ask),
        )
        .route("/projects/{id}/announcements", post(messages::announce))
        .route(
            "/projects/{id}/board/{question}/answer",
            post(messages::answer),
        )
        .route("/projects/{id}/board/{question}/pin", post(messages::pin))
        .route("/inbox", get(messages::inbox))
        .route("/inbox/read-all", post(messages::mark_all_read))
        .route("/inbox/{id}/read", post(messages::mark_read))
        .route(
            "/webhooks",
            get(messages::webhooks).post(messages::register),
        )
        .route("/webhooks/{id}", get(messages::webhook))
        .route("/webhooks/{id}/test", post(messages::send_test))
        .route("/webhooks/{id}/disable", post(messages::disable))
        .route("/webhooks/deliveries/{id}/retry", post(messages::retry))
}

/// A page-level failure: sent to sign-in, or an error page with a status and a sentence that says what to do.
#[derive(Debug)]
pub enum UiError {
    /// No live session: go to the sign-in page and come back to `next` afterwards.
    SignIn {
        /// Where the user was going.
        next: Option<String>,
    },
    /// An error page.
    Page {
        /// HTTP status.
        status: StatusCode,
        /// Short heading.
        title: String,
        /// What happened and what to do.
        message: String,
    },
}

impl UiError {
    /// An error page.
    pub fn page(status: StatusCode, title: &str, message: impl Into<String>) -> Self {
        UiError::Page {
            status,
            title: title.into(),
            message: message.into(),
        }
    }

    /// A form without a valid CSRF token (403): an old tab, or another site posting on the user's behalf.
    pub fn csrf() -> Self {
        UiError::page(
            StatusCode::FORBIDDEN,
            "This form has expired",
            "The form was sent without a valid security token, so nothing was changed. Go back, reload the page \
             and send it again.",
        )
    }

    /// 404 for anything the user's organization does not have, whether or not it exists elsewhere.
    pub fn not_found() -> Self {
        UiError::page(
            StatusCode::NOT_FOUND,
            "Not found",
            "There is nothing here, or it belongs to another organization. Check the address, or start from the \
             home page.",
        )
    }
}

impl From<AppError> for UiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthorized(_) => UiError::SignIn { next: None },
            AppError::NotFound(_) => UiError::not_found(),
            AppError::Forbidden { message, .. } | AppError::Refused { message, .. } => {
                UiError::page(StatusCode::FORBIDDEN, "Not allowed", message)
            }
            AppError::Conflict { message, .. } => {
                UiError::page(StatusCode::CONFLICT, "That did not work", message)
            }
            AppError::Unavailable { message, .. } => UiError::page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Not available right now",
                message,
            ),
            AppError::BadRequest { message, .. } | AppError::Invalid { message, .. } => {
                UiError::page(StatusCode::BAD_REQUEST, "That did not work", message)
            }
            AppError::PayloadTooLarge { limit } => UiError::page(
                StatusCode::PAYLOAD_TOO_LARGE,
                "Too large",
                format!("The request is over the limit of {limit} bytes."),
            ),
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error on a page");
                UiError::page(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "Something went wrong on our side",
                    "It has been logged. Try again in a moment.",
                )
            }
        }
    }
}

impl IntoResponse for UiError {
    fn into_response(self) -> Response {
        match self {
            UiError::SignIn { next } => {
                let to = match session::safe_next(next.as_deref()) {
                    Some(n) if n != "/" => format!("/signin?next={}", render::url_encode(&n)),
                    _ => "/signin".to_string(),
                };
                Redirect::to(&to).into_response()
            }
            UiError::Page {
                status,
                title,
                message,
            } => {
                let html = render::render(
                    "error.html",
                    context! { title => title, message => message, status => status.as_u16() },
                );
                (status, html).into_response()
            }
        }
    }
}

/// The embedded static files: small, so they are compiled in and served with a short cache lifetime.
async fn asset(Path(file): Path<String>) -> Response {
    let (body, content_type): (&'static str, &str) = match file.as_str() {
        "app.css" => (
            include_str!("../../assets/app.css"),
            "text/css; charset=utf-8",
        ),
        "workbench.js" => (
            include_str!("../../assets/workbench.js"),
            "text/javascript; charset=utf-8",
        ),
        "autostart.js" => (
            include_str!("../../assets/autostart.js"),
            "text/javascript; charset=utf-8",
        ),
        "live.js" => (
            include_str!("../../assets/live.js"),
            "text/javascript; charset=utf-8",
        ),
        "preview.js" => (
            include_str!("../../assets/preview.js"),
            "text/javascript; charset=utf-8",
        ),
        "widgets.js" => (
            include_str!("../../assets/widgets.js"),
            "text/javascript; charset=utf-8",
        ),
        "shapes.js" => (
            include_str!("../../assets/shapes.js"),
            "text/javascript; charset=utf-8",
        ),
        "video.js" => (
            include_str!("../../assets/video.js"),
            "text/javascript; charset=utf-8",
        ),
        "assess.js" => (
            include_str!("../../assets/assess.js"),
            "text/javascript; charset=utf-8",
        ),
        "heartbeat.js" => (
            include_str!("../../assets/heartbeat.js"),
            "text/javascript; charset=utf-8",
        ),
        "wellbeing.js" => (
            include_str!("../../assets/wellbeing.js"),
            "text/javascript; charset=utf-8",
        ),
        "wellbeing.css" => (
            include_str!("../../assets/wellbeing.css"),
            "text/css; charset=utf-8",
        ),
        "favicon.svg" => (include_str!("../../assets/favicon.svg"), "image/svg+xml"),
        "review.css" => (
            include_str!("../../assets/review.css"),
            "text/css; charset=utf-8",
        ),
        "review.js" | "integrity.js" => (
            if file == "review.js" {
                include_str!("../../assets/review.js")
            } else {
                include_str!("../../assets/integrity.js")
            },
            "text/javascript; charset=utf-8",
        ),
        _ => return UiError::not_found().into_response(),
    };
    (
        [
            (header::CONTENT_TYPE, content_type),
            (header::CACHE_CONTROL, "public, max-age=300"),
        ],
        body,
    )
        .into_response()
}
