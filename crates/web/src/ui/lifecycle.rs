//! The project status page (its lifecycle state, the end date while it winds down, the work left and the
//! forecast, the history; for requesters the controls to pause, resume, close with notice or close now), and
//! the worker's side of a guideline quiz (the page that shows what changed asks the quiz and explains wrong
//! answers). Routes: `GET|POST /projects/{id}/status`, `POST /projects/{id}/close`,
//! `GET /projects/{id}/guidelines/changes`, `POST /projects/{id}/guidelines/quiz`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fairloop_app::AppError;
use fairloop_app::lifecycle::{
    AFFECTED_DAYS, ChangeState, CloseBody, CloseMode, LifecycleView, WorkForecast,
};
use fairloop_app::quiz::{AttemptBody, AttemptResult};
use fairloop_domain::lifecycle::ProjectState;
use fairloop_domain::time::now_millis;
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::pages::{PageResult, id, parse_form, see_other, short_time, user_view};
use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};
use super::{Ui, UiError};

/// "3 June 2027" style dates are locale-bound; the UI writes dates as `2027-06-03` (UTC), the same for everyone.
fn day_of(rfc3339: &str) -> String {
    rfc3339.get(..10).unwrap_or(rfc3339).to_string()
}

/// Days as a person says them.
pub(crate) fn days_text(d: f64) -> String {
    if d < 1.0 {
        "under a day".to_string()
    } else if d < 1.5 {
        "about 1 day".to_string()
    } else {
        format!("about {:.0} days", d)
    }
}

/// The forecast in one sentence for the home card and the status page.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct ForecastText {
    /// Answers left.
    pub remaining: i64,
    /// "12 a day lately" or "none in the last week".
    pub pace: String,
    /// "about 14 days of work left" or nothing when there is no pace.
    pub days_left: Option<String>,
    /// The end date (YYYY-MM-DD, UTC) while winding down.
    pub ends_on: Option<String>,
    /// "in about 14 days".
    pub ends_in: Option<String>,
}

pub(crate) fn forecast_text(f: &WorkForecast) -> ForecastText {
    ForecastText {
        remaining: f.remaining,
        pace: if f.recent_submissions == 0 {
            "no answers in the last week".to_string()
        } else {
            format!("{:.0} answers a day lately", f.per_day.max(1.0))
        },
        days_left: f
            .days_left
            .filter(|_| f.remaining > 0)
            .map(|d| format!("{} of work left at that pace", days_text(d))),
        ends_on: f.ends_at.as_deref().map(day_of),
        ends_in: f.days_to_end.map(|d| {
            if d < 1.0 {
                "within a day".to_string()
            } else {
                format!("in {}", days_text(d))
            }
        }),
    }
}

#[derive(Serialize)]
struct EventRow {
    from: String,
    to: String,
    reason: String,
    at: String,
}

#[derive(Serialize)]
struct MoveButton {
    state: &'static str,
    label: String,
}

/// A sentence for each state, as a worker reads it.
pub(crate) fn state_sentence(v: &LifecycleView) -> String {
    let why = if v.reason.is_empty() {
        String::new()
    } else {
        format!(" Reason: {}", v.reason)
    };
    match v.state {
        ProjectState::Draft => format!("A draft: workers do not see it yet.{why}"),
        ProjectState::Recruiting => format!(
            "Recruiting: read and accept the terms now; tasks open when the project becomes active.{why}"
        ),
        ProjectState::Active => "Active: tasks are handed out.".to_string(),
        ProjectState::Paused => format!(
            "Paused: no new tasks until it resumes; items you already hold can still be submitted.{why}"
        ),
        ProjectState::WindingDown => format!(
            "Winding down: work goes on until {}, then the project closes.{why}",
            v.ends_at.as_deref().map(day_of).unwrap_or_default()
        ),
        ProjectState::Closed => format!("Closed: it takes no more work.{why}"),
    }
}

async fn status_page(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    status: StatusCode,
    notice: Option<String>,
    error: Option<String>,
) -> PageResult {
    let p = &user.session.principal;
    let project = ui.state.app.project(p, project_id).await?;
    let v = ui
        .state
        .app
        .project_lifecycle(p, project_id, now_millis())
        .await?;
    let history: Vec<EventRow> = ui
        .state
        .app
        .lifecycle_history(p, project_id)
        .await?
        .into_iter()
        .map(|e| EventRow {
            from: e.from.replace('_', " "),
            to: e.to.replace('_', " "),
            reason: e.reason,
            at: short_time(e.at).0,
        })
        .collect();
    let manager = p.role.can_manage_projects();
    let moves: Vec<MoveButton> = v
        .allowed
        .iter()
        .filter(|s| !matches!(s, ProjectState::WindingDown | ProjectState::Closed))
        .map(|s| MoveButton {
            state: s.as_str(),
            label: match s {
                ProjectState::Active if v.state == ProjectState::Paused => "Resume".to_string(),
                ProjectState::Active if v.state == ProjectState::WindingDown => {
                    "Cancel the closing and keep it active".to_string()
                }
                ProjectState::Active => "Make it active".to_string(),
                ProjectState::Paused => "Pause".to_string(),
                ProjectState::Recruiting => "Start recruiting".to_string(),
                other => format!("Make it {}", other.label().to_lowercase()),
            },
        })
        .collect();
    let currency = ui
        .state
        .app
        .store
        .project(p.org_id, project_id)
        .await
        .map_err(AppError::from)?
        .pay
        .as_deref()
        .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
        .and_then(|v| v["currency"].as_str().map(str::to_string));
    let compensation = match (&currency, v.notice_compensation_minor) {
        (Some(c), m) if m > 0 => Some(render::money(m, c)),
        _ => None,
    };
    let can_close = v.allowed.contains(&ProjectState::Closed);
    let notice_end = (v.notice_days > 0).then(|| {
        day_of(&fairloop_domain::time::to_rfc3339(
            now_millis() + v.notice_days * fairloop_domain::lifecycle::DAY_MS,
        ))
    });
    let closure = match &v.closure {
        Some(_) => Some(
            ui.state
                .app
                .transparency_report(p, project_id)
                .await?
                .notice,
        ),
        None => None,
    };
    Ok((
        status,
        render(
            "lifecycle.html",
            context! {
                title => format!("Status · {}", project.name),
                nav => if manager { "projects" } else { "work" },
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name },
                manager => manager, can_work => p.role.can_work(),
                state => v.state.as_str(), state_label => v.state.label(), sentence => state_sentence(&v),
                reason => &v.reason,
                ends_on => v.ends_at.as_deref().map(day_of),
                forecast => ser(&forecast_text(&v.forecast)),
                notice_days => v.notice_days, notice_end => notice_end, compensation => compensation,
                affected_days => AFFECTED_DAYS,
                moves => ser(&moves), can_close => can_close,
                winding => v.state == ProjectState::WindingDown,
                hands_out_work => v.state.hands_out_work(),
                closure => closure, history => ser(&history),
                notice => notice, error => error,
            },
        ),
    )
        .into_response())
}

/// `?done=` after a change, so the page can say what happened.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// The project status page, for everyone in the organization (a draft only for requesters and admins).
pub async fn status(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("state") => Some("The project's state is changed.".to_string()),
        Some("notice") => Some("Notice is given: the workers see the end date.".to_string()),
        Some("closed") => Some("The project is closed.".to_string()),
        _ => None,
    };
    status_page(&ui, &user, id(&raw)?, StatusCode::OK, notice, None).await
}

/// The page a worker lands on when the queue refuses work because of the project's state (409).
pub(crate) async fn refused(
    ui: &Ui,
    user: &CurrentUser,
    project: i64,
    message: String,
) -> PageResult {
    status_page(
        ui,
        user,
        project,
        StatusCode::CONFLICT,
        None,
        Some(super::pages::capitalise(&message)),
    )
    .await
}

fn conflict_message(e: AppError) -> Result<String, UiError> {
    match e {
        AppError::Conflict { message, .. } | AppError::Invalid { message, .. } => {
            Ok(super::pages::capitalise(&message))
        }
        other => Err(other.into()),
    }
}

/// Moves the project to another state (requesters and admins).
pub async fn change(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let state = form_value(&form, "state")
        .unwrap_or_default()
        .parse::<ProjectState>()
        .map_err(|e| UiError::page(StatusCode::BAD_REQUEST, "That did not work", e.to_string()))?;
    let reason = form_value(&form, "reason").unwrap_or_default().to_string();
    match ui
        .state
        .app
        .change_project_state(
            &user.session.principal,
            project,
            ChangeState { state, reason },
        )
        .await
    {
        Ok(_) => Ok(see_other(&format!("/projects/{project}/status?done=state"))),
        Err(e) => {
            let message = conflict_message(e)?;
            status_page(
                &ui,
                &user,
                project,
                StatusCode::CONFLICT,
                None,
                Some(message),
            )
            .await
        }
    }
}

/// Closes the project with notice or now (requesters and admins).
pub async fn close(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let mode = match form_value(&form, "mode") {
        Some("now") => CloseMode::Now,
        Some("with_notice") => CloseMode::WithNotice,
        _ => {
            return Err(UiError::page(
                StatusCode::BAD_REQUEST,
                "That did not work",
                "Choose how to close: with notice, or now.",
            ));
        }
    };
    let reason = form_value(&form, "reason").unwrap_or_default().to_string();
    match ui
        .state
        .app
        .close_project(&user.session.principal, project, CloseBody { mode, reason })
        .await
    {
        Ok(out) => Ok(see_other(&format!(
            "/projects/{project}/status?done={}",
            if out.lifecycle.state == ProjectState::Closed {
                "closed"
            } else {
                "notice"
            }
        ))),
        Err(e) => {
            let message = conflict_message(e)?;
            status_page(
                &ui,
                &user,
                project,
                StatusCode::CONFLICT,
                None,
                Some(message),
            )
            .await
        }
    }
}

/// What changed in the guidelines since the version before, for a worker to read and acknowledge; with a quiz,
/// the quiz (and after a failed attempt, each wrong answer's explanation).
pub(crate) async fn changes_page(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    status: StatusCode,
    attempt: Option<(
        &render::FormValues,
        HashMap<String, String>,
        Option<&AttemptResult>,
    )>,
) -> PageResult {
    let p = &user.session.principal;
    let project = ui.state.app.project(p, project_id).await?;
    let versions = ui
        .state
        .app
        .store
        .guideline_versions(p.org_id, project_id)
        .await
        .map_err(AppError::from)?;
    let Some(current) = versions.first() else {
        return Ok(see_other(&format!("/work/{project_id}")));
    };
    let previous = versions.get(1);
    let quiz = ui.state.app.guideline_quiz(p, project_id).await?;
    let template = ui
        .state
        .app
        .guideline_quiz_template(p, project_id, current.version)
        .await?;
    let empty = render::FormValues::new();
    let (values, errors, result) = match attempt {
        Some((v, e, r)) => (v, e, r),
        None => (&empty, HashMap::new(), None),
    };
    let questions = template
        .as_ref()
        .map(|t| render::questions(t, values, &errors));
    Ok((
        status,
        render(
            "guideline_changes.html",
            context! {
                title => format!("Guidelines changed · {}", project.name), nav => "work",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name },
                version => current.version, note => &current.note,
                previous => previous.map(|g| g.version),
                diff => previous.map(|g| render::diff_html(&g.markdown, &current.markdown)),
                html => render::markdown(&current.markdown),
                offer => render::onboarding_text(project.pay.as_deref()).map(|o| super::pages::capitalise(&o)),
                quiz => quiz.as_ref().map(|q| context! {
                    pass_mark => q.pass_mark, total => q.questions.len(), passed => q.passed, attempts => q.attempts,
                }),
                questions => questions.as_ref().map(ser),
                result => result.map(|r| context! { correct => r.correct, total => r.total, pass_mark => r.pass_mark }),
            },
        ),
    )
        .into_response())
}

/// The worker answers the quiz on the change: passing acknowledges it and goes on to work; otherwise the page
/// comes back with the explanations (422).
pub async fn take_quiz(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let p = &user.session.principal;
    let version = form_value(&form, "version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let Some(template) = ui
        .state
        .app
        .guideline_quiz_template(p, project, version)
        .await?
    else {
        return Ok(see_other(&format!(
            "/projects/{project}/guidelines/changes"
        )));
    };
    let values = render::form_values(&form);
    let answers = render::answers_from_form(&template, &values);
    match ui
        .state
        .app
        .take_guideline_quiz(p, project, AttemptBody { version, answers })
        .await
    {
        Ok(r) if r.passed => Ok(see_other(&format!("/work/{project}"))),
        Ok(r) => {
            let errors = r
                .results
                .iter()
                .filter(|q| !q.correct)
                .map(|q| {
                    let text = match &q.explanation {
                        Some(e) => format!("Not quite. {e}"),
                        None => "Not quite: read the change again.".to_string(),
                    };
                    (q.name.clone(), text)
                })
                .collect();
            changes_page(
                &ui,
                &user,
                project,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((&values, errors, Some(&r))),
            )
            .await
        }
        Err(AppError::Invalid { .. }) => {
            // An unanswered question: say so by the question, as the workbench does (no attempt is recorded).
            let errors = template
                .questions
                .iter()
                .filter(|q| !values.contains_key(&format!("q.{}", q.name)))
                .map(|q| {
                    (
                        q.name.clone(),
                        "Pick an answer to this question.".to_string(),
                    )
                })
                .collect();
            changes_page(
                &ui,
                &user,
                project,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some((&values, errors, None)),
            )
            .await
        }
        Err(AppError::Conflict { .. }) => Ok(see_other(&format!(
            "/projects/{project}/guidelines/changes"
        ))),
        Err(e) => Err(e.into()),
    }
}
