//! The worker's reading of a project's guidelines outside a task, and its heartbeat: when the project pays
//! onboarding time (`fairloop_app::onboarding`), the page reports focus and input like the workbench does and the
//! reading time is paid.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path};
use axum::response::IntoResponse;
use fairloop_app::onboarding::{Activity, OnboardingBeatBody};
use minijinja::context;

use super::Ui;
use super::pages::{PageResult, id, parse_form, user_view};
use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};

/// `GET /guidelines/{project}`: the current guidelines for a worker, with the onboarding offer when there is one.
pub async fn read_guidelines(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let p = &user.session.principal;
    let project_id = id(&raw)?;
    let project = ui.state.app.project(p, project_id).await?;
    let current = ui.state.app.guidelines(p, project_id).await?;
    let offer = render::onboarding_text(project.pay.as_deref());
    Ok(render(
        "guidelines_read.html",
        context! {
            title => format!("Guidelines · {}", project.name), nav => "work",
            user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
            project => context! { id => project.id, name => &project.name },
            version => current.as_ref().map(|g| g.version),
            html => current.as_ref().map(|g| render::markdown(&g.markdown)),
            offer => offer.map(|o| super::pages::capitalise(&o)),
            can_work => p.role.can_work(),
        },
    )
    .into_response())
}

/// `POST /guidelines/{project}/heartbeat` (form: `_csrf`, `activity`, `focus`, `input`): answers the outcome as
/// JSON, so the page can stop when the project does not pay onboarding or the cap is reached.
pub async fn heartbeat(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project_id = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let flag = |k: &str| form_value(&form, k) == Some("1");
    let beat = OnboardingBeatBody {
        activity: Activity::parse(form_value(&form, "activity").unwrap_or("guidelines"))?,
        focus: flag("focus"),
        input: flag("input"),
    };
    let outcome = ui
        .state
        .app
        .onboarding_heartbeat(&user.session.principal, project_id, beat)
        .await?;
    Ok(axum::Json(outcome).into_response())
}
