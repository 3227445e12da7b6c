//! Wellbeing pages: a worker chooses the sensitive content they see (`/settings/sensitivity`), a project's
//! page says what it shows, where the worker stands and where to find support (`/projects/{id}/wellbeing`,
//! where requesters also edit the settings), and the workbench's break reminder records a break
//! (`/work/break`). See docs/wellbeing.md.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fairloop_app::AppError;
use fairloop_app::wellbeing::{OptInBody, WellbeingInput};
use fairloop_domain::sensitivity::{self, CATEGORIES, Mask};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::Ui;
use super::pages::{PageResult, id, parse_form, see_other, user_view};
use super::render::{self, render, ser};
use super::session::{self, CurrentUser, form_value};

/// `?done=` after a form, or why the worker was sent here.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// One category as a checkbox row.
#[derive(Serialize)]
struct CategoryRow {
    key: &'static str,
    name: &'static str,
    description: &'static str,
    checked: bool,
    /// Sensitive items of it handed to the worker today.
    today: i64,
}

fn rows(checked: Mask, today: &[(String, i64)]) -> Vec<CategoryRow> {
    CATEGORIES
        .iter()
        .map(|c| CategoryRow {
            key: c.key,
            name: c.name,
            description: c.description,
            checked: checked & (1 << c.bit) != 0,
            today: today
                .iter()
                .find(|(k, _)| k == c.key)
                .map_or(0, |(_, n)| *n),
        })
        .collect()
}

fn checked_keys(form: &[(String, String)]) -> Vec<String> {
    form.iter()
        .filter(|(k, _)| k == "category")
        .map(|(_, v)| v.clone())
        .collect()
}

/// The worker's choice of sensitive content, with today's exposure per category.
pub async fn sensitivity_page(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let mine = ui.state.app.my_sensitivity(&user.session.principal).await?;
    let opted = sensitivity::parse(&mine.opted_in).unwrap_or(0);
    let today: Vec<(String, i64)> = mine
        .exposure_today
        .iter()
        .map(|e| (e.category.to_string(), e.items))
        .collect();
    let notice = match q.done.as_deref() {
        Some("saved") => {
            Some("Saved. Projects and items follow your choice from the next task on.")
        }
        _ => None,
    };
    Ok(render(
        "sensitivity.html",
        context! {
            title => "Sensitive content", nav => "settings", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token, categories => ser(&rows(opted, &today)),
            day => mine.day, limit => ui.state.app.config.wellbeing.daily_exposure_limit,
            notice => notice, can_work => user.session.principal.role.can_work(),
        },
    )
    .into_response())
}

/// Saves the worker's opt-ins (the checked categories; none checked = opted out of everything).
pub async fn save_sensitivity(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state
        .app
        .set_my_sensitivity(
            &user.session.principal,
            OptInBody {
                opted_in: checked_keys(&form),
            },
        )
        .await?;
    let back = session::safe_next(form_value(&form, "back"));
    Ok(see_other(
        back.as_deref()
            .unwrap_or("/settings/sensitivity?done=saved"),
    ))
}

/// A project's wellbeing page: what it shows, where the worker stands, support; requesters edit it here.
pub async fn project_page(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let project = id(&project)?;
    let notice = match q.done.as_deref() {
        Some("saved") => Some("Saved. The next claim follows the new settings."),
        Some("opt_in_first") => Some(
            "This project shows content you have not opted into. Read what it is below, and opt in only if you \
             want to see it.",
        ),
        _ => None,
    };
    project_view(&ui, &user, project, StatusCode::OK, notice, None).await
}

async fn project_view(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> PageResult {
    let p = &user.session.principal;
    let project = ui.state.app.project(p, project_id).await?;
    let w = ui.state.app.project_wellbeing(p, project_id).await?;
    let declared = sensitivity::parse(&w.sensitivity).unwrap_or(0);
    let items = sensitivity::parse(&w.item_sensitivity).unwrap_or(0);
    let (opted, today) = if p.role.can_work() {
        let mine = ui.state.app.my_sensitivity(p).await?;
        let today: Vec<(String, i64)> = mine
            .exposure_today
            .iter()
            .map(|e| (e.category.to_string(), e.items))
            .collect();
        (sensitivity::parse(&mine.opted_in).unwrap_or(0), today)
    } else {
        (0, Vec::new())
    };
    // The project's categories and its items' with where the worker stands in each.
    let shown: Vec<CategoryRow> = rows(opted, &today)
        .into_iter()
        .filter(|r| {
            sensitivity::by_key(r.key).is_some_and(|c| (declared | items) & (1 << c.bit) != 0)
        })
        .collect();
    let missing = declared & !opted;
    let html = render(
        "project_wellbeing.html",
        context! {
            title => format!("Wellbeing · {}", project.name), nav => if p.role.can_manage_projects() { "projects" } else { "work" },
            user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
            project => context! { id => project.id, name => &project.name },
            shown => ser(&shown),
            declared => sensitivity::names(declared),
            items_only => sensitivity::names(items & !declared),
            missing => sensitivity::names(missing),
            missing_keys => sensitivity::keys(missing),
            opted_keys => sensitivity::keys(opted),
            limit => w.daily_exposure_limit,
            break_minutes => w.break_after_minutes,
            support_html => render::markdown(&w.support),
            support_is_custom => w.support_is_custom,
            can_work => p.role.can_work(),
            can_manage => p.role.can_manage_projects(),
            categories => ser(&rows(declared, &[])),
            limit_override => w.daily_exposure_limit_override,
            break_override => w.break_after_minutes_override,
            support_text => if w.support_is_custom { w.support.clone() } else { String::new() },
            platform_limit => ui.state.app.config.wellbeing.daily_exposure_limit,
            distressing_skips => w.distressing_skips,
            notice => notice, error => error,
        },
    );
    Ok((status, html).into_response())
}

/// Opts the worker into the categories the project needs (the button on the project's page).
pub async fn opt_in_project(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&project)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let p = &user.session.principal;
    let mut keys = ui.state.app.my_sensitivity(p).await?.opted_in;
    keys.extend(checked_keys(&form));
    ui.state
        .app
        .set_my_sensitivity(p, OptInBody { opted_in: keys })
        .await?;
    Ok(see_other(&format!(
        "/projects/{project}/wellbeing?done=saved"
    )))
}

fn optional_number(form: &[(String, String)], field: &str) -> Result<Option<i64>, String> {
    match form_value(form, field).map(str::trim) {
        None | Some("") => Ok(None),
        Some(v) => v.parse().map(Some).map_err(|_| {
            format!("{field} must be a whole number, or empty for the platform default")
        }),
    }
}

/// Saves a project's wellbeing settings from its page (requesters and admins).
pub async fn save_project(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&project)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let input = optional_number(&form, "daily_exposure_limit").and_then(|limit| {
        Ok(WellbeingInput {
            sensitivity: checked_keys(&form),
            daily_exposure_limit: limit,
            break_after_minutes: optional_number(&form, "break_after_minutes")?,
            support: form_value(&form, "support").map(str::to_string),
        })
    });
    let result = match input {
        Ok(input) => {
            ui.state
                .app
                .set_project_wellbeing(&user.session.principal, project, input)
                .await
        }
        Err(message) => Err(AppError::invalid("invalid_wellbeing", message)),
    };
    match result {
        Ok(_) => Ok(see_other(&format!(
            "/projects/{project}/wellbeing?done=saved"
        ))),
        Err(AppError::Invalid { message, .. }) => {
            project_view(
                &ui,
                &user,
                project,
                StatusCode::UNPROCESSABLE_ENTITY,
                None,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// The break reminder's "I'll take a break": records it and goes back.
pub async fn take_break(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state.app.take_break(&user.session.principal).await?;
    let back = session::safe_next(form_value(&form, "back"));
    Ok(see_other(back.as_deref().unwrap_or("/")))
}
