//! The JSON API under `/api/v1`, described by the OpenAPI document at `/api/openapi.json`.

pub mod account;
pub mod assessments;
pub mod guidelines;
pub mod invitations;
pub mod ledger;
pub mod lifecycle;
pub mod media;
pub mod messages;
pub mod profiles;
pub mod projects;
pub mod quality;
pub mod review;
pub mod terms;
pub mod time;
pub mod transparency;
pub mod vendors;
pub mod webhooks;
pub mod wellbeing;
pub mod work;

use utoipa::OpenApi;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::AppState;

/// The OpenAPI document's header; paths and schemas are collected from the handlers.
#[derive(OpenApi)]
#[openapi(
    info(title = "Fairloop API", description = "Projects, items, the assignment queue, submissions and exports. \
        Errors are {\"error\":{\"code\",\"message\",\"details\"}}."),
    modifiers(&BearerAuth)
)]
pub struct ApiDoc;

struct BearerAuth;

impl utoipa::Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        use utoipa::openapi::security::{
            HttpAuthScheme, HttpBuilder, SecurityRequirement, SecurityScheme,
        };
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(HttpBuilder::new().scheme(HttpAuthScheme::Bearer).build()),
        );
        openapi.security = Some(vec![SecurityRequirement::new(
            "bearer",
            Vec::<String>::new(),
        )]);
    }
}

/// Every API route with its OpenAPI description.
pub fn routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(projects::create_project, projects::list_projects))
        .routes(routes!(projects::get_project))
        .routes(routes!(projects::project_stats))
        .routes(routes!(projects::import_items))
        .routes(routes!(projects::export))
        .routes(routes!(quality::project_quality))
        .routes(routes!(work::next))
        .routes(routes!(work::submit))
        .routes(routes!(work::skip))
        .routes(routes!(account::me))
        .routes(routes!(account::create_user))
        .routes(routes!(account::create_token))
        .routes(routes!(account::revoke_token))
        .routes(routes!(vendors::contract, vendors::contracts))
        .routes(routes!(vendors::end_contract))
        .routes(routes!(vendors::lab_workers))
        .routes(routes!(vendors::labs))
        .routes(routes!(vendors::invite, vendors::invitations))
        .routes(routes!(vendors::revoke_invitation))
        .routes(routes!(vendors::workers))
        .routes(routes!(vendors::worker, vendors::set_reference))
        .routes(routes!(vendors::my_data))
        .routes(routes!(vendors::delete_me))
        .routes(routes!(
            invitations::create_invitation,
            invitations::list_invitations
        ))
        .routes(routes!(invitations::revoke_invitation))
        .routes(routes!(guidelines::publish, guidelines::current))
        .routes(routes!(guidelines::versions))
        .routes(routes!(guidelines::acknowledge))
        .routes(routes!(transparency::report))
        .routes(routes!(terms::publish, terms::current))
        .routes(routes!(terms::decide))
        .routes(routes!(terms::ask, terms::questions))
        .routes(routes!(terms::answer))
        .routes(routes!(ledger::fund))
        .routes(routes!(ledger::ledger))
        .routes(routes!(ledger::withhold))
        .routes(routes!(ledger::bonus))
        .routes(routes!(ledger::dispute_withholding))
        .routes(routes!(ledger::pay_disputes))
        .routes(routes!(ledger::resolve_pay_dispute))
        .routes(routes!(ledger::pay_floor))
        .routes(routes!(ledger::pay_check))
        .routes(routes!(ledger::top_ups))
        .routes(routes!(ledger::statement_csv))
        .routes(routes!(ledger::invoice_csv))
        .routes(routes!(time::heartbeat))
        .routes(routes!(time::onboarding_heartbeat))
        .routes(routes!(time::timesheet))
        .routes(routes!(time::dispute))
        .routes(routes!(time::disputes))
        .routes(routes!(time::resolve))
        .routes(routes!(ledger::run))
        .routes(routes!(ledger::list))
        .routes(routes!(ledger::csv))
        .routes(routes!(ledger::settle))
        .routes(routes!(ledger::retry))
        .merge(review_routes())
        .merge(message_routes())
        .merge(profile_routes())
}

/// Profiles, requirements, matching and invitations (docs/workforce.md), kept apart so the main list merges
/// easily. Credential uploads read their body under their own limit (10 MiB).
fn profile_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(profiles::add_credential))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .routes(routes!(profiles::taxonomy))
        .routes(routes!(profiles::get_profile, profiles::put_profile))
        .routes(routes!(profiles::credential_document))
        .routes(routes!(profiles::decide_credential))
        .routes(routes!(profiles::worker_profile))
        .routes(routes!(
            profiles::get_requirements,
            profiles::put_requirements
        ))
        .routes(routes!(profiles::eligibility))
        .routes(routes!(profiles::matches))
        .routes(routes!(profiles::invite))
        .routes(routes!(profiles::my_invites))
        .routes(routes!(profiles::projects_for_you))
}

/// Announcements, the board, the inbox and webhooks, kept apart so that the main list above stays easy to merge.
fn message_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(messages::announce, messages::announcements))
        .routes(routes!(messages::ask, messages::board))
        .routes(routes!(messages::answer))
        .routes(routes!(messages::pin))
        .routes(routes!(messages::inbox))
        .routes(routes!(messages::mark_read))
        .routes(routes!(messages::mark_all_read))
        .routes(routes!(webhooks::register, webhooks::list))
        .routes(routes!(webhooks::get, webhooks::disable))
        .routes(routes!(webhooks::deliveries))
        .routes(routes!(webhooks::test))
        .routes(routes!(webhooks::retry))
        .merge(lifecycle_routes())
        .merge(assessment_routes())
}

/// Assessments, qualification requirements and screening interviews, kept apart so the main list merges easily.
fn assessment_routes() -> OpenApiRouter<AppState> {
    use assessments as a;
    OpenApiRouter::new()
        .routes(routes!(a::create, a::list))
        .routes(routes!(a::get, a::update, a::delete))
        .routes(routes!(a::archive))
        .routes(routes!(a::start))
        .routes(routes!(a::attempt))
        .routes(routes!(a::submit))
        .routes(routes!(a::grading))
        .routes(routes!(a::grade))
        .routes(routes!(
            a::set_qualification_requirements,
            a::qualification_requirements
        ))
        .routes(routes!(a::put_setup, a::get_setup))
        .routes(routes!(a::start_interview))
        .routes(routes!(a::get_interview))
        .routes(routes!(a::answer))
        .routes(routes!(a::retry))
        .routes(routes!(a::request_review))
        .routes(routes!(a::review_queue))
        .routes(routes!(a::decide))
}

/// The lifecycle and guideline-quiz endpoints, kept apart like the review ones so the main list merges easily.
fn lifecycle_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(lifecycle::get_lifecycle, lifecycle::change))
        .routes(routes!(lifecycle::close))
        .routes(routes!(lifecycle::history))
        .routes(routes!(lifecycle::quiz, lifecycle::attempt))
        .routes(routes!(lifecycle::results))
        .merge(media_routes())
}

/// The media endpoints. Uploads stream to disk under their own limit (`max_media_bytes`), so the JSON body
/// limit does not apply to them.
fn media_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(media::upload, media::list))
        .layer(axum::extract::DefaultBodyLimit::disable())
        .routes(routes!(media::get_settings, media::put_settings))
        // Keys may contain `/`, so the route takes the rest of the path (documented as `/api/v1/media/{key}`).
        .route("/api/v1/media/{*key}", axum::routing::delete(media::delete))
        .merge(wellbeing_routes())
}

/// The wellbeing endpoints (docs/wellbeing.md), apart for the same reason.
fn wellbeing_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(wellbeing::categories))
        .routes(routes!(wellbeing::get_project, wellbeing::put_project))
        .routes(routes!(wellbeing::get_mine, wellbeing::put_mine))
        .routes(routes!(wellbeing::break_status))
        .routes(routes!(wellbeing::take_break))
}

/// The review, appeal and pause endpoints, kept apart so that the main list above stays easy to merge.
fn review_routes() -> OpenApiRouter<AppState> {
    OpenApiRouter::new()
        .routes(routes!(review::get_settings, review::put_settings))
        .routes(routes!(review::queue))
        .routes(routes!(review::get_review))
        .routes(routes!(review::decide))
        .routes(routes!(review::appeal))
        .routes(routes!(review::my_reviews))
        .routes(routes!(review::appeals))
        .routes(routes!(review::decide_appeal))
        .routes(routes!(review::pause, review::pauses))
        .routes(routes!(review::lift_pause))
}
