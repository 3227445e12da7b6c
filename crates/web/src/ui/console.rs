//! The requester console's project pages: the dashboard (progress, throughput and time per item as charts)
//! and the item browser (search by id prefix, filter by state, paged by key).

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fairloop_domain::time::now_millis;
use fairloop_store::dashboard::ItemFilter;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::charts::{self, Chart};
use super::pages::{PageResult, id, short_time, user_view};
use super::render::{self, render, ser, url_encode};
use super::session::CurrentUser;
use super::{Ui, UiError};

fn hour_label(ms: f64) -> String {
    let iso = fairloop_domain::time::to_rfc3339(ms as i64);
    format!("{}h", &iso[11..13])
}

/// The project's dashboard.
pub async fn dashboard(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let p = &user.session.principal;
    let project_id = id(&raw)?;
    let project = ui.state.app.project(p, project_id).await?;
    let d = ui
        .state
        .app
        .project_dashboard(p, project_id, now_millis())
        .await?;
    let state = ui.state.app.project_lifecycle_state(p, project_id).await?;
    let needed = d.stats.items * i64::from(project.policy.overlap);
    let percent = if needed == 0 {
        0
    } else {
        (d.stats.annotations.min(needed) * 100) / needed
    };
    let throughput = charts::bar_chart(
        &format!(
            "Submissions per hour over the last {} hours (UTC)",
            d.hours.len()
        ),
        ["Hour (UTC)", "Submissions"],
        &d.hours
            .iter()
            .map(|h| (hour_label(h.start as f64), h.submissions as f64))
            .collect::<Vec<_>>(),
    );
    let timing: Vec<(f64, f64)> = d
        .hours
        .iter()
        .filter_map(|h| h.mean_seconds.map(|s| (h.start as f64, s)))
        .collect();
    let time_chart: Option<Chart> = (!timing.is_empty()).then(|| {
        charts::line_chart(
            "Mean seconds from hand-out to submission, per hour (UTC)",
            ["Hour (UTC)", "Seconds"],
            &timing,
            &hour_label,
        )
    });
    let eta = d.eta_hours.map(|h| {
        if h < 1.0 {
            "under an hour".to_string()
        } else if h < 48.0 {
            format!("about {h:.0} hours")
        } else {
            format!("about {:.0} days", h / 24.0)
        }
    });
    Ok(render(
        "project.html",
        context! {
            title => &project.name, nav => "projects", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token, project => context! {
                id => project.id, name => &project.name, overlap => project.policy.overlap,
                pay => render::pay_text(project.pay.as_deref()),
                created => short_time(project.created_at).0,
                state => state.as_str(), state_label => state.label(),
            },
            stats => ser(&d.stats), percent => percent, remaining => d.remaining, last_day => d.last_day,
            eta => eta, throughput => ser(&throughput), time_chart => time_chart.as_ref().map(ser),
        },
    )
    .into_response())
}

/// The dashboard's live numbers as JSON, for `assets/live.js` (session-authenticated, like the page).
pub async fn live(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let p = &user.session.principal;
    let project_id = id(&raw)?;
    let project = ui.state.app.project(p, project_id).await?;
    let s = ui.state.app.project_stats(p, project_id).await?;
    let needed = s.items * i64::from(project.policy.overlap);
    let percent = if needed == 0 {
        0
    } else {
        (s.annotations.min(needed) * 100) / needed
    };
    Ok(axum::Json(serde_json::json!({
        "items": s.items, "annotations": s.annotations, "completed_items": s.completed_items,
        "open_assignments": s.open_assignments, "percent": percent, "remaining": (needed - s.annotations).max(0),
    }))
    .into_response())
}

#[derive(Serialize)]
struct VersionRow {
    version: i64,
    note: Option<String>,
    created: String,
}

async fn guidelines_page(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    status: StatusCode,
    draft: Option<(String, String, String)>,
    error: Option<String>,
    saved: Option<i64>,
) -> PageResult {
    let p = &user.session.principal;
    let project = ui.state.app.project(p, project_id).await?;
    let history = ui.state.app.guideline_history(p, project_id).await?;
    let current = history.first();
    let results = match current {
        Some(g) => ui.state.app.quiz_results(p, project_id, g.version).await?,
        None => None,
    };
    let (draft, quiz_text, pass_mark) = match draft {
        Some((d, q, m)) => (Some(d), q, m),
        None => (None, String::new(), String::new()),
    };
    let versions: Vec<VersionRow> = history
        .iter()
        .map(|g| VersionRow {
            version: g.version,
            note: g.note.clone(),
            created: short_time(g.created_at).0,
        })
        .collect();
    Ok((
        status,
        render(
            "guidelines.html",
            context! {
                title => format!("Guidelines · {}", project.name), nav => "projects",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name },
                current => current.map(|g| context! { version => g.version, html => render::markdown(&g.markdown) }),
                text => draft.or_else(|| current.map(|g| g.markdown.clone())).unwrap_or_default(),
                versions => ser(&versions), error => error, saved => saved,
                quiz_text => quiz_text, pass_mark => pass_mark,
                results => results.as_ref().map(ser),
            },
        ),
    )
        .into_response())
}

/// `?saved=N` after publishing.
#[derive(Deserialize, Default)]
pub struct SavedQuery {
    saved: Option<i64>,
}

/// The project's guidelines: the current version rendered, the editor, and the history.
pub async fn guidelines(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<SavedQuery>,
) -> PageResult {
    guidelines_page(&ui, &user, id(&raw)?, StatusCode::OK, None, None, q.saved).await
}

/// Publishes a new version of the guidelines.
pub async fn publish_guidelines(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let project_id = id(&raw)?;
    let form = super::pages::parse_form(&body)?;
    user.check_csrf(&form)?;
    let text = super::session::form_value(&form, "markdown").unwrap_or_default();
    let note = super::session::form_value(&form, "note");
    let quiz_text = super::session::form_value(&form, "quiz").unwrap_or_default();
    let mark_text = super::session::form_value(&form, "pass_mark")
        .unwrap_or_default()
        .trim();
    let draft = Some((
        text.to_string(),
        quiz_text.to_string(),
        mark_text.to_string(),
    ));
    // The quiz is written as plain text (see `fairloop_app::quiz::parse_quiz_text`); an empty box means none.
    let quiz = match mark_text.parse::<u32>() {
        Ok(m) => fairloop_app::quiz::parse_quiz_text(quiz_text, Some(m)),
        Err(_) if mark_text.is_empty() => fairloop_app::quiz::parse_quiz_text(quiz_text, None),
        Err(_) => Err(fairloop_app::AppError::invalid(
            "invalid_quiz",
            format!("the pass mark “{mark_text}” is not a number of right answers"),
        )),
    };
    let result = match quiz {
        Ok(quiz) => {
            ui.state
                .app
                .set_guidelines_with_quiz(&user.session.principal, project_id, text, note, quiz)
                .await
        }
        Err(e) => Err(e),
    };
    match result {
        Ok(v) => Ok(super::pages::see_other(&format!(
            "/projects/{project_id}/guidelines?saved={v}"
        ))),
        Err(fairloop_app::AppError::Invalid { message, .. }) => {
            guidelines_page(
                &ui,
                &user,
                project_id,
                StatusCode::UNPROCESSABLE_ENTITY,
                draft,
                Some(super::pages::capitalise(&message)),
                None,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// What changed in the guidelines since the version before, for a worker to read and acknowledge (with the
/// quiz, when the version has one: see [`super::lifecycle::changes_page`]).
pub async fn guideline_changes(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    super::lifecycle::changes_page(&ui, &user, id(&raw)?, StatusCode::OK, None).await
}

/// The worker acknowledges the current guidelines and goes on to work.
pub async fn acknowledge_guidelines(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let project_id = id(&raw)?;
    let form = super::pages::parse_form(&body)?;
    user.check_csrf(&form)?;
    let version = super::session::form_value(&form, "version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    ui.state
        .app
        .acknowledge_guidelines(&user.session.principal, project_id, version)
        .await?;
    Ok(super::pages::see_other(&format!("/work/{project_id}")))
}

/// The project's transparency report, for everyone in the organization.
pub async fn transparency(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let p = &user.session.principal;
    let project_id = id(&raw)?;
    let project = ui.state.app.project(p, project_id).await?;
    let r = ui.state.app.transparency_report(p, project_id).await?;
    let money = |m: Option<i64>| match (m, &r.currency) {
        (Some(m), Some(c)) => Some(render::money(m, c)),
        _ => None,
    };
    Ok(render(
        "transparency.html",
        context! {
            title => format!("Transparency · {}", project.name),
            nav => if p.role.can_manage_projects() { "projects" } else { "work" },
            user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
            project => context! { id => project.id, name => &project.name },
            manager => p.role.can_manage_projects(),
            r => ser(&r), median => money(r.median_effective_hourly_minor), floor => money(r.floor_hourly_minor),
            under => r.share_under_floor.map(|s| format!("{:.0}%", s * 100.0)),
            wait => r.median_answer_hours.map(|h| if h < 1.0 { format!("{:.0} minutes", h * 60.0) } else { format!("{h:.1} hours") }),
        },
    )
    .into_response())
}

/// The item browser's query string.
#[derive(Deserialize, Default)]
pub struct BrowseQuery {
    q: Option<String>,
    state: Option<String>,
    after: Option<String>,
}

#[derive(Serialize)]
struct ItemRow {
    id: i64,
    external_id: Option<String>,
    preview: String,
    annotations: i64,
    gold: bool,
    priority: i64,
}

const STATES: [(&str, &str); 5] = [
    ("all", "All"),
    ("not_started", "Not started"),
    ("in_progress", "In progress"),
    ("done", "Done"),
    ("gold", "Gold"),
];

/// The item browser.
pub async fn items(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<BrowseQuery>,
) -> PageResult {
    let p = &user.session.principal;
    let project_id = id(&raw)?;
    let project = ui.state.app.project(p, project_id).await?;
    let state = q.state.as_deref().unwrap_or("all");
    let filter = match state {
        "all" | "" => ItemFilter::All,
        "not_started" => ItemFilter::NotStarted,
        "in_progress" => ItemFilter::InProgress,
        "done" => ItemFilter::Done,
        "gold" => ItemFilter::Gold,
        other => {
            return Err(UiError::page(
                StatusCode::BAD_REQUEST,
                "Unknown filter",
                format!(
                    "{other:?} is not a state to filter by; use one of the buttons on the page."
                ),
            ));
        }
    };
    let after = match q.after.as_deref() {
        None | Some("") => 0,
        Some(a) => a.parse().map_err(|_| {
            UiError::page(
                StatusCode::BAD_REQUEST,
                "Bad page link",
                "The page link is damaged; go back to the first page.",
            )
        })?,
    };
    let page = ui
        .state
        .app
        .browse_items(p, project_id, filter, q.q.as_deref(), after)
        .await?;
    let rows: Vec<ItemRow> = page
        .items
        .into_iter()
        .map(|i| ItemRow {
            id: i.id,
            external_id: i.external_id,
            preview: i.preview,
            annotations: i.annotations,
            gold: i.gold,
            priority: i.priority,
        })
        .collect();
    let query = q.q.clone().unwrap_or_default();
    let next = page.next_after.map(|a| {
        format!(
            "/projects/{project_id}/items?state={state}&q={}&after={a}",
            url_encode(&query)
        )
    });
    Ok(render(
        "items.html",
        context! {
            title => format!("Items · {}", project.name), nav => "projects",
            user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
            project => context! { id => project.id, name => &project.name, overlap => project.policy.overlap },
            items => ser(&rows), q => query, state => state, states => STATES.iter().map(|(k, v)| context! {
                key => *k, label => *v,
                href => format!("/projects/{project_id}/items?state={k}&q={}", url_encode(&q.q.clone().unwrap_or_default())),
            }).collect::<Vec<_>>(),
            next => next, first_page => after == 0,
            first => format!("/projects/{project_id}/items?state={state}&q={}", url_encode(&q.q.clone().unwrap_or_default())),
        },
    )
    .into_response())
}
