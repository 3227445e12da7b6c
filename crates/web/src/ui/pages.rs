//! The page handlers. Each parses the request, calls a use case and renders a template or redirects; forms
//! answer 303 to a page on success (so a reload does not post twice) and re-render with the error otherwise.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Query};
use axum::http::{HeaderMap, HeaderValue, Request, StatusCode, header};
use axum::response::{IntoResponse, Redirect, Response};
use fairloop_app::AppError;
use fairloop_app::accounts::random_secret;
use fairloop_app::export::{ExportFormat, ExportProgress};
use fairloop_app::settings::{MAX_TOKEN_LABEL, PasswordChange};
use fairloop_app::users::MIN_PASSWORD_LEN;
use fairloop_app::work::{SkipBody, SubmitBody};
use fairloop_domain::template::TaskTemplate;
use fairloop_store::{Project, SessionInfo};
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::Value;

use super::render::{self, FormValues, render, ser};
use super::session::{
    self, CSRF_FIELD, CurrentUser, SESSION_COOKIE, SIGNIN_CSRF_COOKIE, form_value,
};
use super::{Ui, UiError};

pub(crate) type PageResult = Result<Response, UiError>;

/// What the base layout needs about the signed-in user.
#[derive(Serialize)]
pub(crate) struct UserView {
    name: String,
    email: String,
    role: &'static str,
    can_work: bool,
    can_manage: bool,
    /// Unread notices, shown in the nav bar.
    unread: i64,
    /// Organization admins see the webhooks page.
    is_admin: bool,
    /// People of a staffing vendor see their workers, not the lab's pages.
    vendor: bool,
}

pub(crate) fn user_view(s: &SessionInfo) -> UserView {
    UserView {
        name: s.name.clone(),
        email: s.principal.email.clone(),
        role: s.principal.role.as_str(),
        can_work: s.principal.role.can_work(),
        can_manage: s.principal.role.can_manage_projects(),
        unread: s.unread_notices,
        is_admin: s.principal.role == fairloop_domain::Role::Admin,
        vendor: s.in_vendor,
    }
}

/// A path id; anything that is not a number is simply not found.
pub(crate) fn id(raw: &str) -> Result<i64, UiError> {
    raw.parse().map_err(|_| UiError::not_found())
}

/// Parses a posted form (`application/x-www-form-urlencoded`), keeping repeated fields (checkboxes).
pub(crate) fn parse_form(body: &Bytes) -> Result<Vec<(String, String)>, UiError> {
    serde_urlencoded::from_bytes(body).map_err(|_| {
        UiError::page(
            StatusCode::BAD_REQUEST,
            "That did not work",
            "The form could not be read. Reload the page and try again.",
        )
    })
}

/// A posted form whose CSRF token matches the session's: how every signed-in page form handler starts.
pub(crate) fn checked_form(
    user: &CurrentUser,
    body: &Bytes,
) -> Result<Vec<(String, String)>, UiError> {
    let form = parse_form(body)?;
    user.check_csrf(&form)?;
    Ok(form)
}

/// Ends a page form handler the way every form page does, so each handler only says what it calls and which
/// page it shows again:
/// - `Ok(to)`: done; 303 to `to` (usually the page with a `?done=` notice), so a reload does not post twice.
/// - `Err(AppError::Invalid)`: input the person can correct; `rerender(422, message)` shows the page again with
///   the message (capitalised, as pages write sentences).
/// - `Err(AppError::Conflict)`: the same at 409 (something changed under them; the page says what).
/// - anything else: the error page for that error.
///
/// `rerender` is usually the handler's page function with the status and the message as its error.
pub(crate) async fn finish_form<F, Fut>(result: Result<String, AppError>, rerender: F) -> PageResult
where
    F: FnOnce(StatusCode, String) -> Fut,
    Fut: std::future::Future<Output = PageResult>,
{
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(AppError::Invalid { message, .. }) => {
            rerender(StatusCode::UNPROCESSABLE_ENTITY, capitalise(&message)).await
        }
        Err(AppError::Conflict { message, .. }) => {
            rerender(StatusCode::CONFLICT, capitalise(&message)).await
        }
        Err(e) => Err(e.into()),
    }
}

fn template_of(project: &Project) -> Result<TaskTemplate, UiError> {
    let v: Value = serde_json::from_str(&project.template)
        .map_err(|e| AppError::Internal(format!("stored template: {e}")))?;
    Ok(TaskTemplate::from_json(&v)
        .map_err(|e| AppError::Internal(format!("stored template: {e}")))?)
}

pub(crate) fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

// ---------------------------------------------------------------------------------------------------------------
// Sign-in and sign-out

/// `?next=` on the sign-in page.
#[derive(Deserialize, Default)]
pub struct NextQuery {
    next: Option<String>,
    /// Set after an account deletion, to say it is done.
    deleted: Option<String>,
}

fn signin_page(
    status: StatusCode,
    csrf: &str,
    email: &str,
    next: Option<&str>,
    error: Option<&str>,
    secure: bool,
) -> Response {
    signin_page_with(status, csrf, email, next, error, secure, false)
}

fn signin_page_with(
    status: StatusCode,
    csrf: &str,
    email: &str,
    next: Option<&str>,
    error: Option<&str>,
    secure: bool,
    deleted: bool,
) -> Response {
    let html = render(
        "signin.html",
        context! { title => "Sign in", csrf => csrf, email => email, next => next, error => error,
        deleted => deleted },
    );
    let mut resp = (status, html).into_response();
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::set_cookie(SIGNIN_CSRF_COOKIE, csrf, 3600, secure),
    );
    resp
}

/// The sign-in form. Already signed in: straight on to where the user was going.
pub async fn signin_form(
    Extension(ui): Extension<Arc<Ui>>,
    headers: HeaderMap,
    Query(q): Query<NextQuery>,
) -> PageResult {
    let next = session::safe_next(q.next.as_deref());
    if let Some(token) = session::cookie(&headers, SESSION_COOKIE)
        && ui.state.app.session(token).await?.is_some()
    {
        return Ok(see_other(next.as_deref().unwrap_or("/")));
    }
    Ok(signin_page_with(
        StatusCode::OK,
        &random_secret(),
        "",
        next.as_deref(),
        None,
        session::is_https(&headers),
        q.deleted.is_some(),
    ))
}

/// Checks the form's token against its cookie, the rate limit and the password; opens a new session.
pub async fn signin(Extension(ui): Extension<Arc<Ui>>, req: Request<Body>) -> PageResult {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, 64 * 1024).await.map_err(|_| {
        UiError::page(
            StatusCode::BAD_REQUEST,
            "That did not work",
            "The form is too large.",
        )
    })?;
    let form = parse_form(&body)?;
    let headers = &parts.headers;
    let secure = session::is_https(headers);
    let email = form_value(&form, "email")
        .unwrap_or_default()
        .trim()
        .to_lowercase();
    let password = form_value(&form, "password").unwrap_or_default();
    let next = session::safe_next(form_value(&form, "next"));
    // Double-submit check: another site can make a browser post this form, but cannot read or set our cookie.
    let cookie_token = session::cookie(headers, SIGNIN_CSRF_COOKIE).unwrap_or_default();
    let sent = form_value(&form, CSRF_FIELD).unwrap_or_default();
    if cookie_token.is_empty() || !session::constant_time_eq(cookie_token, sent) {
        return Err(UiError::csrf());
    }
    let key = format!("{email}|{}", session::client_ip(&parts.extensions));
    if let Err(wait) = ui.limiter.check(&key) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        let mut resp = signin_page(
            StatusCode::TOO_MANY_REQUESTS,
            &random_secret(),
            &email,
            next.as_deref(),
            Some(&format!(
                "Too many failed sign-ins for this email. Wait {minutes} minute{} and try again.",
                if minutes == 1 { "" } else { "s" }
            )),
            secure,
        );
        resp.headers_mut().insert(
            header::RETRY_AFTER,
            HeaderValue::from(wait.as_secs().max(1)),
        );
        return Ok(resp);
    }
    let previous = session::cookie(headers, SESSION_COOKIE);
    match ui.state.app.sign_in(&email, password, previous).await {
        Ok(signed_in) => {
            ui.limiter.reset(&key);
            let mut resp = see_other(next.as_deref().unwrap_or("/"));
            let h = resp.headers_mut();
            h.append(
                header::SET_COOKIE,
                session::session_cookie(&signed_in.session_token, secure),
            );
            h.append(
                header::SET_COOKIE,
                session::clear_cookie(SIGNIN_CSRF_COOKIE, secure),
            );
            Ok(resp)
        }
        Err(AppError::Unauthorized(message)) => {
            ui.limiter.record_failure(&key);
            Ok(signin_page(
                StatusCode::UNAUTHORIZED,
                &random_secret(),
                &email,
                next.as_deref(),
                Some(&message),
                secure,
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Ends the session everywhere (the row is deleted, not just the cookie).
pub async fn signout(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    user.check_csrf(&parse_form(&body)?)?;
    ui.state.app.sign_out(&user.token).await?;
    let mut resp = see_other("/signin");
    resp.headers_mut().append(
        header::SET_COOKIE,
        session::clear_cookie(SESSION_COOKIE, session::is_https(&headers)),
    );
    Ok(resp)
}

// ---------------------------------------------------------------------------------------------------------------
// Worker home and workbench

#[derive(Serialize)]
struct ProjectCard {
    id: i64,
    name: String,
    pay: Option<String>,
    questions: String,
    workable: bool,
    /// Recent pace of everyone's work ("about 40 s per task"), when there is any.
    pace: Option<String>,
    /// What that pace earns per hour (per-task pay), or the hourly rate.
    effective: Option<String>,
    /// Answers this worker has given in the project.
    mine: i64,
    /// The content warnings of the project's terms.
    warnings: Vec<String>,
    /// The current terms still need this worker's acceptance.
    terms_needed: bool,
    /// The project has terms at all.
    has_terms: bool,
    /// The newest announcement to the project's workers, if any.
    announcement: Option<minijinja::Value>,
    /// Its lifecycle state (`active`, `winding_down`, …) and label.
    state: &'static str,
    state_label: &'static str,
    /// Why it is paused or closing, in the requester's words.
    state_reason: String,
    /// Work left and the end date while winding down (see `ui/lifecycle.rs`).
    forecast: super::lifecycle::ForecastText,
    /// The project's requirements are met (see `ui/profiles.rs`); otherwise `needs` says what is missing.
    eligible: bool,
    /// `needs: Dermatology; C1 English`, or empty.
    needs: String,
    /// Sensitive content (docs/wellbeing.md): the project's own categories (names).
    sensitive: Option<String>,
    /// Categories only some items have (names).
    sensitive_items: Option<String>,
    /// Project categories the worker has not opted into: no task until they do (names).
    opt_in_needed: Option<String>,
    /// Item categories the worker has not opted into: those items are never handed to them (names).
    items_withheld: Option<String>,
    /// Categories in which the worker reached today's limit (names).
    at_limit: Option<String>,
}

/// The worker's home: the projects open to them (their organization's, for now) as cards.
pub async fn home(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    let p = &user.session.principal;
    // A staffing vendor's people manage their workers; they have no work or projects of their own.
    if user.session.in_vendor {
        return Ok(see_other("/vendors"));
    }
    if !p.role.can_work() {
        return Ok(see_other("/projects"));
    }
    let outlook = ui
        .state
        .app
        .work_outlook(p, fairloop_domain::time::now_millis())
        .await?;
    let now = fairloop_domain::time::now_millis();
    let states = ui.state.app.project_states(p).await?;
    let forecasts = ui.state.app.work_forecasts(p, now).await?;
    let gates = ui.state.app.project_gates(p).await?;
    let names = |m: i64| (m != 0).then(|| fairloop_domain::sensitivity::names(m));
    let projects = ui.state.app.projects(p).await?;
    let ids: Vec<i64> = projects.iter().map(|p| p.id).collect();
    // Eligibility, unmet assessments and interviews: one read for every card.
    let qualification = ui.state.app.home_qualification(p, &ids).await?;
    let eligibility = &qualification.eligibility;
    let mut cards = Vec::new();
    for project in projects {
        let fit = eligibility.get(&project.id).cloned().unwrap_or_default();
        let gate = gates.get(&project.id).cloned().unwrap_or_default();
        let o = outlook.get(&project.id).cloned().unwrap_or_default();
        let life = states.get(&project.id).cloned().unwrap_or_default();
        let state = fairloop_domain::lifecycle::effective_state(life.state, life.ends_at, now);
        let currency = project
            .pay
            .as_deref()
            .and_then(|s| serde_json::from_str::<Value>(s).ok())
            .and_then(|v| v["currency"].as_str().map(str::to_string));
        let terms = ui.state.app.terms(p, project.id).await?;
        let announcement = ui
            .state
            .app
            .recent_announcements(p, project.id, 1)
            .await?
            .into_iter()
            .next()
            .map(|a| context! { id => a.id, title => a.title, when => short_time(a.created_at).0 });
        let t = template_of(&project)?;
        let mut kinds: Vec<&str> = t.questions.iter().map(|q| q.kind.type_name()).collect();
        kinds.dedup();
        cards.push(ProjectCard {
            id: project.id,
            name: project.name.clone(),
            pay: render::pay_text(project.pay.as_deref()),
            questions: format!(
                "{} question{}: {}",
                t.questions.len(),
                if t.questions.len() == 1 { "" } else { "s" },
                kinds.join(", ").replace('_', " ")
            ),
            workable: render::workable(&t),
            pace: o.mean_seconds.map(|s| {
                if s < 90.0 {
                    format!("about {s:.0} s per task")
                } else {
                    format!("about {:.0} min per task", s / 60.0)
                }
            }),
            effective: match (o.effective_hourly_minor, &currency) {
                (Some(m), Some(c)) => Some(format!("{} per hour", render::money(m, c))),
                _ => None,
            },
            mine: o.my_submissions,
            warnings: terms
                .as_ref()
                .map(|v| v.summary.content_warnings.clone())
                .unwrap_or_default(),
            has_terms: terms.is_some(),
            announcement,
            terms_needed: terms.as_ref().is_some_and(|v| {
                v.my_decision
                    .as_ref()
                    .is_none_or(|d| d.decision != "accepted")
            }),
            state: state.as_str(),
            state_label: state.label(),
            state_reason: life.reason.clone(),
            forecast: forecasts
                .get(&project.id)
                .map(super::lifecycle::forecast_text)
                .unwrap_or_default(),
            eligible: fit.eligible || fit.unmet.is_empty(),
            needs: fit.needs,
            sensitive: names(gate.declared),
            sensitive_items: names(gate.items & !gate.declared),
            opt_in_needed: names(gate.missing),
            items_withheld: names(gate.items_not_opted),
            at_limit: names(gate.at_limit),
        });
    }
    // What the worker is owed now (earned and not yet paid out), per currency; the Earnings page has the detail.
    let owed: Vec<String> = ui
        .state
        .app
        .earnings_of(p, p.user_id)
        .await?
        .into_iter()
        .filter(|(_, minor)| *minor != 0)
        .map(|(currency, minor)| render::money(minor, &currency))
        .collect();
    // Qualification requirements not met yet: the card offers the assessment instead of "Start".
    let unmet = &qualification.unmet_assessments;
    let qual_projects: Vec<i64> = unmet.iter().map(|(project, _)| *project).collect();
    let quals: Vec<minijinja::Value> = unmet
        .iter()
        .map(|(project, r)| {
            context! { project_id => project, assessment_id => r.assessment_id,
            title => &r.title, pass_mark => r.pass_mark }
        })
        .collect();
    // Projects with a screening interview: the card links it (docs/assessments.md).
    let interview_projects = &qualification.interview_projects;
    Ok(render(
        "home.html",
        context! { title => "Your work", nav => "work", user => ser(&user_view(&user.session)),
        csrf => &user.session.csrf_token, projects => ser(&cards), owed => owed,
        qual_projects => qual_projects, quals => quals, interview_projects => interview_projects },
    )
    .into_response())
}

/// Goes to the item the worker holds in the project (the one prefetched while they answered the last); with
/// none held, a page whose form takes the next one. A GET never takes a lease: `assets/autostart.js` submits
/// that form at once, so "Start" still lands on an item in one click, and without JavaScript it is one button.
pub async fn claim(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
) -> PageResult {
    let project = id(&project)?;
    let p = &user.session.principal;
    if !p.role.can_work() {
        return Err(UiError::page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            format!(
                "Taking tasks needs the worker, reviewer or admin role; you are a {}.",
                p.role
            ),
        ));
    }
    if let Some(held) = ui.state.app.held_assignment(p, project).await? {
        return Ok(see_other(&format!("/work/{project}/{held}")));
    }
    let project = ui.state.app.project(p, project).await?;
    Ok(render(
        "start.html",
        context! { title => &project.name, nav => "work", user => ser(&user_view(&user.session)),
        csrf => &user.session.csrf_token, project => context! { id => project.id, name => &project.name } },
    )
    .into_response())
}

/// Takes the next task (and, within the worker's cap, one more to prefetch) and goes to it; "nothing left"
/// otherwise; the terms page first when the current terms are not accepted yet.
pub async fn start(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&project)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let p = &user.session.principal;
    let next = match ui.state.app.line_up(p, project).await {
        Err(AppError::Forbidden {
            code: "terms_not_accepted",
            ..
        }) => {
            return Ok(see_other(&format!(
                "/projects/{project}/terms?done=accept_first"
            )));
        }
        Err(AppError::Forbidden {
            code: "guidelines_changed",
            ..
        }) => {
            return Ok(see_other(&format!(
                "/projects/{project}/guidelines/changes"
            )));
        }
        Err(AppError::Conflict {
            code: "project_not_active",
            message,
        }) => return super::lifecycle::refused(&ui, &user, project, message).await,
        Err(AppError::Forbidden {
            code: "sensitivity_opt_in_required",
            ..
        }) => {
            return Ok(see_other(&format!(
                "/projects/{project}/wellbeing?done=opt_in_first"
            )));
        }
        other => other?,
    };
    match next {
        Some(assignment) => Ok(see_other(&format!("/work/{project}/{assignment}"))),
        None => {
            // Nothing now may mean today's exposure limit: say so, and when more comes.
            let gate = ui
                .state
                .app
                .project_gates(p)
                .await?
                .remove(&project)
                .unwrap_or_default();
            let at_limit =
                (gate.at_limit != 0).then(|| fairloop_domain::sensitivity::names(gate.at_limit));
            let project = ui.state.app.project(p, project).await?;
            Ok(render(
                "done.html",
                context! { title => "Nothing left", nav => "work", user => ser(&user_view(&user.session)),
                csrf => &user.session.csrf_token, project => project.name, project_id => project.id,
                at_limit => at_limit },
            )
            .into_response())
        }
    }
}

/// Everything the workbench page shows for one assignment.
struct Bench {
    project: Project,
    template: TaskTemplate,
    data: serde_json::Map<String, Value>,
    remaining: i64,
    /// The current guidelines: version and rendered HTML.
    guidelines: Option<(i64, String)>,
    /// The page of the next item, for the browser to fetch in the background.
    prefetch: Option<String>,
    /// The item's sensitivity categories (a mask): blurred until revealed when not 0.
    sensitivity: i64,
    /// The break reminder: interval, active time since the last break, due now.
    breaks: fairloop_app::wellbeing::BreakStatus,
    /// Support resources, rendered.
    support_html: String,
    /// Frame rates read from uploaded video files, by field name, for video fields whose item gives none.
    file_fps: Vec<(String, f64)>,
}

async fn load_bench(
    ui: &Ui,
    user: &CurrentUser,
    project: i64,
    assignment: i64,
) -> Result<Result<Bench, Response>, UiError> {
    let p = &user.session.principal;
    if !p.role.can_work() {
        return Err(UiError::page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            format!(
                "Taking tasks needs the worker, reviewer or admin role; you are a {}.",
                p.role
            ),
        ));
    }
    let project = ui.state.app.project(p, project).await?;
    // Read-only and scoped by organization and worker: this worker's own lease, or nothing.
    let ctx = match ui
        .state
        .app
        .store
        .assignment_context(p.org_id, p.user_id, assignment)
        .await
    {
        Ok(c) if c.project_id == project.id => c,
        Ok(_) | Err(fairloop_store::StoreError::NotFound) => return Err(UiError::not_found()),
        Err(e) => return Err(AppError::from(e).into()),
    };
    if ctx.status != "open" {
        // Submitted, skipped or expired: move on to what is next.
        return Ok(Err(see_other(&format!("/work/{}", project.id))));
    }
    let stats = ui
        .state
        .app
        .store
        .project_stats(p.org_id, project.id)
        .await
        .map_err(AppError::from)?;
    let needed = stats.items * i64::from(project.policy.overlap);
    let data: serde_json::Map<String, Value> = serde_json::from_str(&ctx.item_data)
        .map_err(|e| AppError::Internal(format!("stored item data: {e}")))?;
    let guidelines = ui
        .state
        .app
        .guidelines(p, project.id)
        .await?
        .map(|g| (g.version, render::markdown(&g.markdown)));
    let breaks = ui.state.app.break_status(p, project.id).await?;
    let support_html =
        render::markdown(&ui.state.app.project_wellbeing(p, project.id).await?.support);
    let template = template_of(&project)?;
    // A video's frame rate comes from the item, else from the uploaded file (its container said it at upload),
    // so frame stepping matches the file without the requester repeating it in every item.
    let mut file_fps = Vec::new();
    for f in &template.fields {
        if f.kind != fairloop_domain::template::FieldKind::Video || f.fps_in(&data).is_some() {
            continue;
        }
        let Some(value) = data.get(f.source()).and_then(Value::as_str) else {
            continue;
        };
        if let Some(fps) = super::media::media_details(&ui.state.app, p, value)
            .await
            .and_then(|m| m.fps)
            .filter(|f| *f > 0.0)
        {
            file_fps.push((f.name.clone(), fps));
        }
    }
    Ok(Ok(Bench {
        sensitivity: ctx.sensitivity,
        breaks,
        support_html,
        template,
        remaining: (needed - stats.annotations).max(0),
        project,
        data,
        guidelines,
        prefetch: None,
        file_fps,
    }))
}

fn bench_page(
    status: StatusCode,
    user: &CurrentUser,
    bench: &Bench,
    assignment: i64,
    values: &FormValues,
    errors: &HashMap<String, String>,
    general_error: Option<&str>,
) -> Response {
    let questions = render::questions_for_item(&bench.template, values, errors, &bench.data);
    let workable = render::workable(&bench.template);
    let html = render(
        "workbench.html",
        context! {
            title => &bench.project.name, nav => "work", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token,
            project => context! { id => bench.project.id, name => &bench.project.name,
                                  pay => render::pay_text(bench.project.pay.as_deref()) },
            assignment => assignment,
            remaining => bench.remaining,
            fields => ser(&render::with_file_fps(render::fields(&bench.template, &bench.data), &bench.file_fps)),
            questions => ser(&questions),
            workable => workable,
            error => general_error,
            guidelines => bench.guidelines.as_ref().map(|(v, html)| context! { version => v, html => html }),
            prefetch => &bench.prefetch,
            sensitive => (bench.sensitivity != 0).then(|| fairloop_domain::sensitivity::names(bench.sensitivity)),
            breaks => ser(&bench.breaks),
            support_html => &bench.support_html,
        },
    );
    (status, html).into_response()
}

/// The workbench: the item, large, and the questions beside it.
pub async fn workbench(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((project, assignment)): Path<(String, String)>,
) -> PageResult {
    let (project, assignment) = (id(&project)?, id(&assignment)?);
    let mut bench = match load_bench(&ui, &user, project, assignment).await? {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    // The next item is leased now and its page fetched by the browser in the background, so moving on after
    // submitting is a page already loaded. A failure here (nothing left, a pause) only means no prefetch.
    let next = ui
        .state
        .app
        .prefetch_next(&user.session.principal, project, assignment)
        .await
        .ok()
        .flatten();
    bench.prefetch = next.map(|n| format!("/work/{project}/{n}"));
    // A draft saved from this or another device fills the form in again.
    let draft = ui
        .state
        .app
        .draft(&user.session.principal, assignment)
        .await?
        .map(|pairs| render::form_values(&pairs))
        .unwrap_or_default();
    let mut resp = bench_page(
        StatusCode::OK,
        &user,
        &bench,
        assignment,
        &draft,
        &HashMap::new(),
        None,
    );
    // The prefetched page may be kept briefly (private to this browser) so the navigation after submitting
    // can use it.
    resp.headers_mut().insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("private, max-age=60"),
    );
    // Media given as URLs load from the organization's allowed hosts only.
    if let Some(csp) = super::media::workbench_csp(&ui.state.app, &user.session.principal).await {
        resp.headers_mut()
            .insert(header::CONTENT_SECURITY_POLICY, csp);
    }
    Ok(resp)
}

/// Keeps the workbench's draft on the server (`workbench.js` posts the form a moment after each change).
pub async fn save_draft(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((_project, assignment)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let assignment = id(&assignment)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let pairs: Vec<(String, String)> = form.into_iter().filter(|(k, _)| k != CSRF_FIELD).collect();
    ui.state
        .app
        .save_draft(&user.session.principal, assignment, &pairs)
        .await?;
    Ok(StatusCode::NO_CONTENT.into_response())
}

/// Submits the form through the same validation as the API; 422 re-renders it with each error by its question.
pub async fn submit(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((project, assignment)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let (project, assignment) = (id(&project)?, id(&assignment)?);
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let bench = match load_bench(&ui, &user, project, assignment).await? {
        Ok(b) => b,
        Err(redirect) => return Ok(redirect),
    };
    let values = render::form_values(&form);
    let answers = render::answers_from_form(&bench.template, &values);
    let next = format!("/work/{project}");
    match ui
        .state
        .app
        .submit(
            &user.session.principal,
            assignment,
            SubmitBody {
                answers,
                integrity: super::review::integrity_from_form(&form),
            },
            None,
        )
        .await
    {
        Ok(_) => {
            // The draft has served its purpose; a failure to delete it only leaves a row nobody reads.
            let _ = ui
                .state
                .app
                .discard_draft(&user.session.principal, assignment)
                .await;
            // Lines up the next item (this is a POST, so it may take leases); a refusal shows on the way.
            let _ = ui.state.app.line_up(&user.session.principal, project).await;
            Ok(see_other(&next))
        }
        Err(AppError::Conflict {
            code: "already_submitted",
            ..
        }) => Ok(see_other(&next)),
        Err(AppError::Invalid {
            message, details, ..
        }) => {
            let mut errors = HashMap::new();
            let mut general = Vec::new();
            for e in details
                .as_ref()
                .and_then(|d| d["errors"].as_array())
                .into_iter()
                .flatten()
            {
                let q = e["question"].as_str().unwrap_or_default();
                let m = e["message"].as_str().unwrap_or_default().to_string();
                if bench.template.question(q).is_some() {
                    errors.entry(q.to_string()).or_insert(m);
                } else {
                    general.push(m);
                }
            }
            if errors.is_empty() && general.is_empty() {
                general.push(message);
            }
            let general = (!general.is_empty()).then(|| general.join("; "));
            Ok(bench_page(
                StatusCode::UNPROCESSABLE_ENTITY,
                &user,
                &bench,
                assignment,
                &values,
                &errors,
                general.as_deref().or(Some(
                    "Some answers need another look; see the notes next to the questions.",
                )),
            ))
        }
        Err(e) => Err(e.into()),
    }
}

/// Gives the item back (with an optional reason) and moves on.
pub async fn skip(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((project, assignment)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let (project, assignment) = (id(&project)?, id(&assignment)?);
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let reason = skip_reason(&form);
    let too_distressing = form_value(&form, "reason") == Some(fairloop_app::work::TOO_DISTRESSING);
    ui.state
        .app
        .skip(
            &user.session.principal,
            assignment,
            SkipBody {
                reason,
                too_distressing,
            },
        )
        .await?;
    let _ = ui
        .state
        .app
        .discard_draft(&user.session.principal, assignment)
        .await;
    let _ = ui.state.app.line_up(&user.session.principal, project).await;
    Ok(see_other(&format!("/work/{project}")))
}

/// The skip reason from the form: the chosen common reason, the free text, or both joined ("Not in my
/// expertise: dosage questions"); `None` when the worker gave neither.
fn skip_reason(form: &[(String, String)]) -> Option<String> {
    let pick = form_value(form, "reason")
        .map(str::trim)
        .unwrap_or_default();
    let text = form_value(form, "reason_text")
        .map(str::trim)
        .unwrap_or_default();
    match (pick.is_empty(), text.is_empty()) {
        (true, true) => None,
        (false, true) => Some(pick.to_string()),
        (true, false) => Some(text.to_string()),
        (false, false) => Some(format!("{pick}: {text}")),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Account settings

/// `?done=` after a settings form succeeded, so the page can say what happened.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

#[derive(Serialize)]
struct TokenRow {
    id: i64,
    label: String,
    created: String,
    created_iso: String,
    revoked: Option<String>,
}

/// "2026-11-23 09:07 UTC" from stored milliseconds: short, unambiguous, the same for every reader.
pub(crate) fn short_time(ms: i64) -> (String, String) {
    let iso = fairloop_domain::time::to_rfc3339(ms);
    let short = format!("{} {} UTC", &iso[..10], &iso[11..16]);
    (short, iso)
}

/// What the settings page shows besides the lists: a notice, the errors of either form, a token just issued.
#[derive(Default)]
struct SettingsExtras<'a> {
    notice: Option<&'a str>,
    password_error: Option<String>,
    token_error: Option<String>,
    label: &'a str,
    new_token: Option<(&'a str, &'a str)>,
    country_error: Option<String>,
    delete_error: Option<String>,
}

async fn settings_page(
    ui: &Ui,
    user: &CurrentUser,
    status: StatusCode,
    extras: SettingsExtras<'_>,
) -> PageResult {
    let tokens: Vec<TokenRow> = ui
        .state
        .app
        .my_tokens(&user.session.principal)
        .await?
        .into_iter()
        .map(|t| {
            let (created, created_iso) = short_time(t.created_at);
            TokenRow {
                id: t.id,
                label: t.label,
                created,
                created_iso,
                revoked: t.revoked_at.map(|r| short_time(r).0),
            }
        })
        .collect();
    let html = render(
        "settings.html",
        context! {
            title => "Settings", nav => "settings", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token, tokens => ser(&tokens),
            min_password_len => MIN_PASSWORD_LEN, max_label => MAX_TOKEN_LABEL,
            notice => extras.notice, password_error => extras.password_error,
            token_error => extras.token_error, label => extras.label,
            new_token => extras.new_token.map(|(label, token)| context! { label => label, token => token }),
            country => ui.state.app.my_country(&user.session.principal).await?,
            country_error => extras.country_error, delete_error => extras.delete_error,
            user_id => user.session.principal.user_id,
        },
    );
    let mut resp = (status, html).into_response();
    // The page may hold a token shown once: never keep it in a cache or the back-forward history.
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// The account settings: change the password, and create, list and revoke API tokens.
pub async fn settings(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("password") => Some(
            "Your password was changed. Every other session of your account has been signed out.",
        ),
        Some("revoked") => Some("The token was revoked; it stops working at once."),
        Some("country") => Some("Your country is saved."),
        _ => None,
    };
    settings_page(
        &ui,
        &user,
        StatusCode::OK,
        SettingsExtras {
            notice,
            ..Default::default()
        },
    )
    .await
}

/// Saves the country the user works from (it picks the pay floor that applies to them).
pub async fn set_country(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let raw = form_value(&form, "country").unwrap_or_default();
    match ui
        .state
        .app
        .set_my_country(&user.session.principal, raw)
        .await
    {
        Ok(_) => Ok(see_other("/settings?done=country")),
        Err(AppError::Invalid { message, .. }) => {
            settings_page(
                &ui,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                SettingsExtras {
                    country_error: Some(capitalise(&message)),
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Downloads everything stored about the signed-in user as one JSON file (see `App::personal_data`).
pub async fn download_data(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    let doc = ui.state.app.personal_data(&user.session.principal).await?;
    let body = serde_json::to_vec_pretty(&doc)
        .map_err(|e| AppError::Internal(format!("data download: {e}")))?;
    let mut resp = body.into_response();
    let h = resp.headers_mut();
    h.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static("application/json"),
    );
    h.insert(
        header::CONTENT_DISPOSITION,
        HeaderValue::from_static("attachment; filename=\"fairloop-my-data.json\""),
    );
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    Ok(resp)
}

/// Deletes the signed-in worker's account (password and a tick to confirm), then shows the signed-out page.
pub async fn delete_account(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let refuse = async |message: String| {
        settings_page(
            &ui,
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            SettingsExtras {
                delete_error: Some(message),
                ..Default::default()
            },
        )
        .await
    };
    if form_value(&form, "confirm") != Some("yes") {
        return refuse("Tick the box to confirm that you want your account deleted.".into()).await;
    }
    let password = form_value(&form, "password").unwrap_or_default();
    match ui
        .state
        .app
        .delete_account(&user.session.principal, password)
        .await
    {
        Ok(_) => {
            let mut resp = see_other("/signin?deleted=1");
            resp.headers_mut().append(
                header::SET_COOKIE,
                session::clear_cookie(session::SESSION_COOKIE, session::is_https(&headers)),
            );
            Ok(resp)
        }
        Err(
            AppError::Invalid { message, .. }
            | AppError::Conflict { message, .. }
            | AppError::Forbidden { message, .. },
        ) => refuse(capitalise(&message)).await,
        Err(e) => Err(e.into()),
    }
}

/// Changes the password (current one first); ends every other session and rotates this one.
pub async fn change_password(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let p = &user.session.principal;
    // The same limit as sign-in: a borrowed session must not become a way to guess the password at speed.
    let key = format!("password|{}", p.user_id);
    let refuse = |status: StatusCode, message: String| {
        settings_page(
            &ui,
            &user,
            status,
            SettingsExtras {
                password_error: Some(message),
                ..Default::default()
            },
        )
    };
    if let Err(wait) = ui.limiter.check(&key) {
        let minutes = wait.as_secs().div_ceil(60).max(1);
        return refuse(
            StatusCode::TOO_MANY_REQUESTS,
            format!(
                "Too many wrong current passwords. Wait {minutes} minute{} and try again.",
                if minutes == 1 { "" } else { "s" }
            ),
        )
        .await;
    }
    let change = PasswordChange {
        current: form_value(&form, "current_password")
            .unwrap_or_default()
            .to_string(),
        new: form_value(&form, "new_password")
            .unwrap_or_default()
            .to_string(),
        confirm: form_value(&form, "confirm_password")
            .unwrap_or_default()
            .to_string(),
    };
    match ui.state.app.change_password(p, change).await {
        Ok(signed_in) => {
            ui.limiter.reset(&key);
            let mut resp = see_other("/settings?done=password");
            resp.headers_mut().append(
                header::SET_COOKIE,
                session::session_cookie(&signed_in.session_token, session::is_https(&headers)),
            );
            Ok(resp)
        }
        Err(AppError::Forbidden { message, .. }) => {
            ui.limiter.record_failure(&key);
            refuse(StatusCode::FORBIDDEN, capitalise(&message)).await
        }
        Err(AppError::Invalid { message, .. }) => {
            refuse(StatusCode::UNPROCESSABLE_ENTITY, capitalise(&message)).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The app's messages are sentences without the capital (they also go into JSON); pages start them with one.
pub(super) fn capitalise(s: &str) -> String {
    let mut c = s.chars();
    match c.next() {
        Some(first) => first.to_uppercase().chain(c).collect::<String>() + ".",
        None => String::new(),
    }
}

/// Creates a token with a label and shows it on the page that answers, once.
pub async fn create_token(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let label = form_value(&form, "label").unwrap_or_default().trim();
    match ui
        .state
        .app
        .create_my_token(&user.session.principal, label)
        .await
    {
        Ok((_, token)) => {
            settings_page(
                &ui,
                &user,
                StatusCode::OK,
                SettingsExtras {
                    new_token: Some((label, &token)),
                    ..Default::default()
                },
            )
            .await
        }
        Err(AppError::Invalid { message, .. }) => {
            settings_page(
                &ui,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                SettingsExtras {
                    token_error: Some(capitalise(&message)),
                    label,
                    ..Default::default()
                },
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// Revokes one of the user's own tokens (404 for anyone else's); revoking twice just comes back.
pub async fn revoke_token(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(token): Path<String>,
    body: Bytes,
) -> PageResult {
    let token = id(&token)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let p = &user.session.principal;
    match ui.state.app.revoke_token(p, token).await {
        Ok(()) => Ok(see_other("/settings?done=revoked")),
        Err(AppError::NotFound(_)) => {
            // A double click: the token is mine and already revoked. Anything else is not found.
            let mine = ui.state.app.my_tokens(p).await?;
            if mine.iter().any(|t| t.id == token && t.revoked_at.is_some()) {
                Ok(see_other("/settings?done=revoked"))
            } else {
                Err(UiError::not_found())
            }
        }
        Err(e) => Err(e.into()),
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Requester console

#[derive(Serialize)]
struct ProjectRow {
    id: i64,
    name: String,
    pay: Option<String>,
    items: i64,
    annotations: i64,
    completed: i64,
    open: i64,
    skipped: i64,
    percent: i64,
    flat: bool,
    /// The gold rate as a percentage, when gold items are handed out.
    gold: Option<String>,
}

/// The organization's projects with their progress and export links.
pub async fn projects(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    let p = &user.session.principal;
    if !p.role.can_manage_projects() {
        return Err(UiError::page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            format!(
                "The project console needs the requester or admin role; you are a {}.",
                p.role
            ),
        ));
    }
    let mut rows = Vec::new();
    for project in ui.state.app.projects(p).await? {
        let s = ui.state.app.project_stats(p, project.id).await?;
        let gold_rate = ui
            .state
            .app
            .quality_settings(p, project.id)
            .await?
            .gold_rate;
        let needed = s.items * i64::from(project.policy.overlap);
        let percent = if needed == 0 {
            0
        } else {
            (s.annotations.min(needed) * 100) / needed
        };
        rows.push(ProjectRow {
            id: project.id,
            pay: render::pay_text(project.pay.as_deref()),
            flat: template_of(&project)?.has_flat_answers(),
            gold: (gold_rate > 0.0).then(|| format!("{:.0}% gold", gold_rate * 100.0)),
            name: project.name,
            items: s.items,
            annotations: s.annotations,
            completed: s.completed_items,
            open: s.open_assignments,
            skipped: s.skipped_assignments,
            percent,
        });
    }
    Ok(render(
        "projects.html",
        context! { title => "Projects", nav => "projects", user => ser(&user_view(&user.session)),
        csrf => &user.session.csrf_token, projects => ser(&rows) },
    )
    .into_response())
}

/// `?format=` of the export download.
#[derive(Deserialize)]
pub struct ExportQuery {
    format: Option<String>,
}

/// The export file, streamed, for a signed-in requester (the API's export needs a bearer token).
pub async fn export(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
    Query(q): Query<ExportQuery>,
) -> PageResult {
    let project = id(&project)?;
    let format = ExportFormat::parse(q.format.as_deref().unwrap_or("jsonl"))?;
    let rx = ui
        .state
        .app
        .export(
            &user.session.principal,
            project,
            format,
            Arc::new(ExportProgress::default()),
        )
        .await?;
    let stream = futures_util::stream::unfold((rx, false), |(mut rx, failed)| async move {
        if failed {
            return None;
        }
        match rx.recv().await? {
            Ok(bytes) => Some((Ok(Bytes::from(bytes)), (rx, false))),
            Err(e) => {
                tracing::error!(error = %e, "export failed mid-stream");
                Some((Err(std::io::Error::other(e.to_string())), (rx, true)))
            }
        }
    });
    Ok((
        [
            (header::CONTENT_TYPE, format.content_type().to_string()),
            (
                header::CONTENT_DISPOSITION,
                format!(
                    "attachment; filename=\"project-{project}.{}\"",
                    format.extension()
                ),
            ),
        ],
        Body::from_stream(stream),
    )
        .into_response())
}
