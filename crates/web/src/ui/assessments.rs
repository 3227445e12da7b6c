//! The pages of qualification assessments and the screening interview: the worker's assessment page (rules,
//! attempts, start), the attempt (questions with the server's deadline and a countdown, then the score and each
//! wrong answer's explanation), the text-only interview (the transcript as a list, one answer box, a plain
//! "try again" when the model is unavailable, the result and "ask for a person"), and the reviewers' page that
//! decides interviews and grades written answers.
//!
//! Routes: `GET /assessments/{id}`, `POST /assessments/{id}/start`, `GET|POST /assessment-attempts/{id}`,
//! `GET|POST /projects/{id}/interview`, `POST /interviews/{id}/answer`, `POST /interviews/{id}/retry`,
//! `POST /interviews/{id}/review-request`, `GET /assessment-reviews`, `POST /assessment-reviews/interviews/{id}`,
//! `POST /assessment-reviews/attempts/{id}`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use fairloop_app::AppError;
use fairloop_app::assessments::{AttemptView, Grade, GradeBody};
use fairloop_domain::time::now_millis;
use minijinja::context;

use super::pages::{PageResult, id, parse_form, see_other, user_view};
use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};
use super::{Ui, UiError};
use crate::AppState;

/// The routes of these pages.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/assessments/{id}", get(assessment_page))
        .route("/assessments/{id}/start", post(start))
        .route("/assessment-attempts/{id}", get(attempt_page).post(submit))
        .route(
            "/projects/{id}/interview",
            get(interview_page).post(interview_start),
        )
        .route("/interviews/{id}/answer", post(interview_answer))
        .route("/interviews/{id}/retry", post(interview_retry))
        .route(
            "/interviews/{id}/review-request",
            post(interview_review_request),
        )
        .route("/assessment-reviews", get(reviews_page))
        .route("/assessment-reviews/interviews/{id}", post(decide))
        .route("/assessment-reviews/attempts/{id}", post(grade))
}

fn paid_text(pay: Option<&str>) -> Option<String> {
    render::onboarding_text(pay).map(|t| t.replacen("reading the guidelines", "Assessment time", 1))
}

/// The assessment's rules, the worker's attempts and the button to start (or continue).
pub async fn assessment_page(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let aid = id(&raw)?;
    let p = &user.session.principal;
    let a = ui.state.app.assessment(p, aid).await?;
    let project = ui.state.app.project(p, a.project_id).await?;
    let template = ui.state.app.assessment_template(p, aid).await?;
    let required = ui
        .state
        .app
        .qualification_requirements(p, a.project_id)
        .await?
        .into_iter()
        .find(|r| r.assessment_id == aid)
        .map(|r| r.pass_mark);
    let attempts: Vec<minijinja::Value> = ui
        .state
        .app
        .store
        .worker_attempts(p.org_id, aid, p.user_id)
        .await
        .map_err(AppError::from)?
        .iter()
        .map(|t| {
            let label = match (t.status.as_str(), t.score_pct) {
                ("graded", Some(s)) => format!("{s} %{}", if t.passed { ", passed" } else { "" }),
                ("grading", _) => "waiting for a person".into(),
                ("expired", _) => "ran out of time (0 %)".into(),
                _ => "in progress".into(),
            };
            context! { id => t.id, label => label }
        })
        .collect();
    Ok(render(
        "assessment.html",
        context! {
            title => format!("Assessment · {}", a.title), nav => "work",
            user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
            a => ser(&a), questions => template.questions.len(), required => required,
            offer => paid_text(project.pay.as_deref()), attempts => attempts,
        },
    )
    .into_response())
}

/// Starts an attempt (or finds the open one) and goes to it.
pub async fn start(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let aid = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let t = ui
        .state
        .app
        .start_attempt(&user.session.principal, aid)
        .await?;
    Ok(see_other(&format!("/assessment-attempts/{}", t.id)))
}

async fn attempt_view_page(
    ui: &Ui,
    user: &CurrentUser,
    t: &AttemptView,
    status: StatusCode,
    values: &render::FormValues,
    error: Option<String>,
) -> PageResult {
    let p = &user.session.principal;
    let a = ui.state.app.assessment(p, t.assessment_id).await?;
    let project = ui.state.app.project(p, a.project_id).await?;
    let template = ui.state.app.assessment_template(p, t.assessment_id).await?;
    let questions = render::questions(&template, values, &HashMap::new());
    Ok((
        status,
        render(
            "attempt.html",
            context! {
                title => format!("Assessment · {}", a.title), nav => "work",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                a => ser(&a), t => ser(t), questions => ser(&questions), error => error,
                deadline_ms => t.deadline_ms,
                minutes_left => format!("{}:{:02}", t.seconds_left / 60, t.seconds_left % 60),
                paid => if a.paid { paid_text(project.pay.as_deref()) } else { None },
            },
        ),
    )
        .into_response())
}

/// An attempt: its questions and countdown while open, its score and explanations once answered.
pub async fn attempt_page(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let tid = id(&raw)?;
    let t = ui.state.app.attempt(&user.session.principal, tid).await?;
    attempt_view_page(
        &ui,
        &user,
        &t,
        StatusCode::OK,
        &render::FormValues::new(),
        None,
    )
    .await
}

/// Sends the answers; after the deadline the page says they were not taken.
pub async fn submit(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let tid = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let p = &user.session.principal;
    let t = ui.state.app.attempt(p, tid).await?;
    let template = ui.state.app.assessment_template(p, t.assessment_id).await?;
    let values = render::form_values(&form);
    let answers = render::answers_from_form(&template, &values);
    match ui.state.app.submit_attempt(p, tid, answers).await {
        Ok(_) => Ok(see_other(&format!("/assessment-attempts/{tid}"))),
        Err(AppError::Conflict {
            code: "time_limit_passed",
            message,
        }) => {
            let t = ui.state.app.attempt(p, tid).await?;
            attempt_view_page(
                &ui,
                &user,
                &t,
                StatusCode::CONFLICT,
                &values,
                Some(format!("Time is up: {message}.")),
            )
            .await
        }
        Err(AppError::Invalid { message, .. }) => {
            attempt_view_page(
                &ui,
                &user,
                &t,
                StatusCode::UNPROCESSABLE_ENTITY,
                &values,
                Some(message),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

async fn interview_view_page(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    status: StatusCode,
    error: Option<String>,
    draft: &str,
) -> PageResult {
    let p = &user.session.principal;
    let project = ui.state.app.project(p, project_id).await?;
    let Some(setup) = ui.state.app.interview_setup(p, project_id).await? else {
        return Err(UiError::page(
            StatusCode::NOT_FOUND,
            "No interview",
            "This project has no screening interview.",
        ));
    };
    let i = ui.state.app.my_interview(p, project_id).await?;
    let last = i.as_ref().and_then(|i| i.turns.last());
    Ok((
        status,
        render(
            "interview.html",
            context! {
                title => format!("Screening interview · {}", project.name), nav => "work",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name },
                setup => ser(&setup), i => i.as_ref().map(ser), error => error, draft => draft,
                last_seq => last.map(|t| t.seq), last_text => last.map(|t| t.content.clone()),
            },
        ),
    )
        .into_response())
}

/// The interview page: the introduction and rubric, or the transcript with the next step.
pub async fn interview_page(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let project = id(&raw)?;
    interview_view_page(&ui, &user, project, StatusCode::OK, None, "").await
}

/// Starts the interview.
pub async fn interview_start(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    match ui
        .state
        .app
        .start_interview(&user.session.principal, project)
        .await
    {
        Ok(_) => Ok(see_other(&format!("/projects/{project}/interview"))),
        Err(AppError::Unavailable { message, .. }) => {
            interview_view_page(
                &ui,
                &user,
                project,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(message),
                "",
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// What an interview step's failure shows: the page again, with the error said plainly (and the typed answer
/// kept when it was not stored).
async fn interview_outcome(
    ui: &Ui,
    user: &CurrentUser,
    interview: i64,
    result: Result<fairloop_app::interview::InterviewView, AppError>,
    draft: &str,
) -> PageResult {
    let p = &user.session.principal;
    let project = ui.state.app.interview(p, interview).await?.project_id;
    match result {
        Ok(_) => Ok(see_other(&format!("/projects/{project}/interview"))),
        Err(AppError::Unavailable { message, .. }) => {
            interview_view_page(
                ui,
                user,
                project,
                StatusCode::SERVICE_UNAVAILABLE,
                Some(capitalise(&message)),
                "",
            )
            .await
        }
        Err(AppError::Invalid { message, .. }) => {
            interview_view_page(
                ui,
                user,
                project,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(capitalise(&message)),
                draft,
            )
            .await
        }
        Err(AppError::Conflict { message, .. }) => {
            interview_view_page(
                ui,
                user,
                project,
                StatusCode::CONFLICT,
                Some(capitalise(&message)),
                draft,
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

fn capitalise(s: &str) -> String {
    super::pages::capitalise(s)
}

/// The candidate sends an answer.
pub async fn interview_answer(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let interview = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let after = form_value(&form, "after_seq")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let answer = form_value(&form, "answer").unwrap_or_default();
    let r = ui
        .state
        .app
        .answer_interview(&user.session.principal, interview, after, answer)
        .await;
    interview_outcome(&ui, &user, interview, r, answer).await
}

/// The candidate retries the interviewer's step.
pub async fn interview_retry(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let interview = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let r = ui
        .state
        .app
        .retry_interview(&user.session.principal, interview)
        .await;
    interview_outcome(&ui, &user, interview, r, "").await
}

/// The candidate asks for a person.
pub async fn interview_review_request(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let interview = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let reason = form_value(&form, "reason").unwrap_or_default();
    let r = ui
        .state
        .app
        .request_interview_review(&user.session.principal, interview, reason)
        .await;
    interview_outcome(&ui, &user, interview, r, "").await
}

/// Interviews and written answers waiting for a person.
pub async fn reviews_page(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    let p = &user.session.principal;
    let interviews = ui.state.app.interviews_to_review(p).await?;
    let grading = ui.state.app.attempts_to_grade(p).await?;
    Ok(render(
        "assessment_reviews.html",
        context! {
            title => "Interviews and assessments to decide", nav => "review",
            user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
            interviews => ser(&interviews), grading => ser(&grading), now => now_millis(),
        },
    )
    .into_response())
}

/// A person decides on an interview.
pub async fn decide(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let interview = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let pass = form_value(&form, "decision") == Some("pass");
    let note = form_value(&form, "note").unwrap_or_default();
    ui.state
        .app
        .decide_interview(&user.session.principal, interview, pass, note)
        .await?;
    Ok(see_other("/assessment-reviews"))
}

/// A person grades an attempt's written answers (`g.NAME` = right|wrong, `n.NAME` = note).
pub async fn grade(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: axum::body::Bytes,
) -> PageResult {
    let attempt = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let mut grades = HashMap::new();
    for (k, v) in &form {
        if let Some(name) = k.strip_prefix("g.") {
            grades.insert(
                name.to_string(),
                Grade {
                    correct: v == "right",
                    note: form_value(&form, &format!("n.{name}"))
                        .unwrap_or_default()
                        .to_string(),
                },
            );
        }
    }
    ui.state
        .app
        .grade_attempt(&user.session.principal, attempt, GradeBody { grades })
        .await?;
    Ok(see_other("/assessment-reviews"))
}
