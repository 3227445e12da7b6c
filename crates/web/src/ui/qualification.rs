//! The requester's "Qualification" console tab of a project: its assessments (with a form to create one), which
//! of them the project requires, and the screening interview's setup. Until this page, requesters could only do
//! this through the API; the forms call the same use cases (`create_assessment`,
//! `set_qualification_requirements`, `set_interview_setup`), so validation and errors are the API's.
//!
//! Why JSON in textareas: an assessment's questions are a task template (docs/templates.md), the same format the
//! gallery and the project's own template use; a structured editor would duplicate the template builder. Bad
//! input re-renders the page with the error naming the field next to the form, keeping what was typed.
//!
//! Routes: `GET /projects/{id}/qualification`, `POST /projects/{id}/qualification/assessments`,
//! `POST /projects/{id}/qualification/requirements`, `POST /projects/{id}/qualification/interview`.

use std::sync::Arc;

use axum::Extension;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use axum::routing::{get, post};
use fairloop_app::AppError;
use fairloop_app::assessments::{AssessmentInput, RequirementInput};
use fairloop_app::interview::{Criterion, InterviewSetup};
use minijinja::context;
use serde::Deserialize;
use serde_json::{Map, Value};

use super::Ui;
use super::pages::{PageResult, capitalise, id, parse_form, see_other, user_view};
use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};
use crate::AppState;

/// The routes of the tab.
pub(crate) fn router() -> Router<AppState> {
    Router::new()
        .route("/projects/{id}/qualification", get(show))
        .route(
            "/projects/{id}/qualification/assessments",
            post(create_assessment),
        )
        .route(
            "/projects/{id}/qualification/requirements",
            post(save_requirements),
        )
        .route(
            "/projects/{id}/qualification/interview",
            post(save_interview),
        )
}

/// `?done=created|required|interview` after a form.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

/// A refusal to show next to one form, with what was typed in it.
struct Refusal {
    /// `assessment`, `requirements` or `interview`.
    form: &'static str,
    message: String,
    typed: Vec<(String, String)>,
}

/// What the questions box starts with: one keyed question and one graded by rubric, in the gallery's format.
const EXAMPLE_TEMPLATE: &str = r#"{"fields": [], "questions": [
  {"name": "colour", "type": "single_choice", "label": "Colour of a ripe banana?", "options": ["red", "yellow"]},
  {"name": "why", "type": "text", "label": "Why do bananas brown?"}
]}"#;

async fn page(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    status: StatusCode,
    notice: Option<&str>,
    refusal: Option<Refusal>,
) -> PageResult {
    let p = &user.session.principal;
    let project = ui.state.app.project(p, project_id).await?;
    fairloop_app::projects::require_manager(p)?;
    let assessments = ui.state.app.project_assessments(p, project_id).await?;
    let required = ui
        .state
        .app
        .qualification_requirements(p, project_id)
        .await?;
    let mut rows: Vec<minijinja::Value> = Vec::new();
    for a in &assessments {
        // Results so far, across the organization's workers (scoped by organization in the store).
        let attempts = ui
            .state
            .app
            .store
            .assessment_attempts(p.org_id, a.id)
            .await
            .map_err(AppError::from)?;
        let mut passed: Vec<_> = attempts
            .iter()
            .filter(|t| t.passed)
            .map(|t| t.worker_id)
            .collect();
        passed.sort_unstable();
        passed.dedup();
        let mut workers: Vec<_> = attempts.iter().map(|t| t.worker_id).collect();
        workers.sort_unstable();
        workers.dedup();
        let grading = attempts.iter().filter(|t| t.status == "grading").count();
        let req = required.iter().find(|r| r.assessment_id == a.id);
        rows.push(context! {
                made => attempts.len(), workers => workers.len(), passed => passed.len(), grading => grading,
                id => a.id, title => &a.title, pass_mark => a.pass_mark, max_attempts => a.max_attempts,
                time_limit => a.time_limit_minutes, paid => a.paid,
                questions => a.template["questions"].as_array().map_or(0, Vec::len),
                rubric_questions => a.rubric_questions.len(),
                required => req.is_some(),
                required_mark => req.map_or(a.pass_mark, |r| r.pass_mark),
        });
    }
    let configured = ui.state.app.config.interview.is_some();
    let setup = ui.state.app.interview_setup(p, project_id).await?;
    let (refusal_form, error, typed) = match refusal {
        Some(r) => (Some(r.form), Some(r.message), r.typed),
        None => (None, None, Vec::new()),
    };
    let typed_in = |form: &str, k: &str| -> Option<String> {
        (refusal_form == Some(form)).then(|| form_value(&typed, k).unwrap_or_default().to_string())
    };
    let a_val =
        |k: &str, default: &str| typed_in("assessment", k).unwrap_or_else(|| default.into());
    let interview = context! {
        questions => typed_in("interview", "questions").unwrap_or_else(|| {
            setup.as_ref().map(|s| s.questions.join("\n")).unwrap_or_default()
        }),
        rubric => typed_in("interview", "rubric").unwrap_or_else(|| {
            setup.as_ref()
                .map(|s| serde_json::to_string_pretty(&s.rubric).expect("rubric serializes"))
                .unwrap_or_default()
        }),
        max_followups => typed_in("interview", "max_followups")
            .unwrap_or_else(|| setup.as_ref().map_or(1, |s| s.max_followups).to_string()),
        pass_mark => typed_in("interview", "pass_mark")
            .unwrap_or_else(|| setup.as_ref().map(|s| s.pass_mark.to_string()).unwrap_or_default()),
        saved => setup.is_some(),
    };
    Ok((
        status,
        render(
            "qualification.html",
            context! {
                title => format!("Qualification · {}", project.name), nav => "projects",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name, pay => render::pay_text(project.pay.as_deref()) },
                notice => notice, error => error, error_form => refusal_form,
                assessments => rows,
                form => context! {
                    title => a_val("title", ""),
                    template => a_val("template", EXAMPLE_TEMPLATE),
                    keys => a_val("keys", "{}"),
                    explanations => a_val("explanations", "{}"),
                    rubrics => a_val("rubrics", "{}"),
                    time_limit_minutes => a_val("time_limit_minutes", "20"),
                    max_attempts => a_val("max_attempts", "1"),
                    pass_mark => a_val("pass_mark", "80"),
                    paid => typed_in("assessment", "paid").is_some_and(|v| !v.is_empty()),
                },
                interview_configured => configured,
                interview => interview,
            },
        ),
    )
        .into_response())
}

/// Ends a form handler: on success, back to the tab with a notice; a refusal (invalid input, a conflict) shows
/// the page again with the reason next to the form and what was typed; anything else is an error page.
async fn finish(
    ui: &Ui,
    user: &CurrentUser,
    project: i64,
    form_name: &'static str,
    typed: Vec<(String, String)>,
    result: Result<&str, AppError>,
) -> PageResult {
    let refuse = |status, message: String| {
        (
            status,
            Refusal {
                form: form_name,
                message: capitalise(&message),
                typed: typed.clone(),
            },
        )
    };
    let (status, refusal) = match result {
        Ok(done) => {
            return Ok(see_other(&format!(
                "/projects/{project}/qualification?done={done}"
            )));
        }
        Err(AppError::Invalid { message, .. }) => refuse(StatusCode::UNPROCESSABLE_ENTITY, message),
        Err(AppError::Conflict { message, .. }) => refuse(StatusCode::CONFLICT, message),
        Err(e) => return Err(e.into()),
    };
    page(ui, user, project, status, None, Some(refusal)).await
}

fn invalid(code: &'static str, message: String) -> AppError {
    AppError::invalid(code, message)
}

/// A JSON object typed in a textarea (empty means `{}`); the error names the field.
fn json_object(form: &[(String, String)], field: &str) -> Result<Map<String, Value>, AppError> {
    let raw = form_value(form, field).unwrap_or_default().trim();
    if raw.is_empty() {
        return Ok(Map::new());
    }
    match serde_json::from_str::<Value>(raw) {
        Ok(Value::Object(m)) => Ok(m),
        Ok(_) => Err(invalid(
            "invalid_assessment",
            format!("{field}: must be a JSON object, like {{\"question_name\": ...}}"),
        )),
        Err(e) => Err(invalid(
            "invalid_assessment",
            format!("{field}: not valid JSON ({e})"),
        )),
    }
}

/// A whole number typed in a field; the error names the field.
fn number(form: &[(String, String)], field: &str, code: &'static str) -> Result<u32, AppError> {
    let raw = form_value(form, field).unwrap_or_default().trim();
    raw.parse::<u32>()
        .map_err(|_| invalid(code, format!("{field}: “{raw}” is not a whole number")))
}

fn assessment_input(form: &[(String, String)]) -> Result<AssessmentInput, AppError> {
    let template_raw = form_value(form, "template").unwrap_or_default();
    let template = serde_json::from_str::<Value>(template_raw).map_err(|e| {
        invalid(
            "invalid_assessment",
            format!("template: not valid JSON ({e})"),
        )
    })?;
    Ok(AssessmentInput {
        title: form_value(form, "title").unwrap_or_default().to_string(),
        template,
        keys: json_object(form, "keys")?,
        explanations: json_object(form, "explanations")?,
        rubrics: json_object(form, "rubrics")?,
        time_limit_minutes: number(form, "time_limit_minutes", "invalid_assessment")?,
        max_attempts: Some(number(form, "max_attempts", "invalid_assessment")?),
        pass_mark: number(form, "pass_mark", "invalid_assessment")?,
        paid: form_value(form, "paid").is_some_and(|v| !v.is_empty()),
    })
}

/// The tab: assessments, requirements and the interview setup.
pub async fn show(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("created") => {
            Some("The assessment is created. Require it below to make workers pass it.")
        }
        Some("required") => Some("The requirements are saved; claims check them from now on."),
        Some("interview") => Some("The interview setup is saved."),
        _ => None,
    };
    page(&ui, &user, id(&raw)?, StatusCode::OK, notice, None).await
}

/// Creates an assessment from the form.
pub async fn create_assessment(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let result = match assessment_input(&form) {
        Ok(input) => ui
            .state
            .app
            .create_assessment(&user.session.principal, project, input)
            .await
            .map(|_| "created"),
        Err(e) => Err(e),
    };
    finish(&ui, &user, project, "assessment", form, result).await
}

/// Replaces the project's requirements with the ticked assessments and their pass marks.
pub async fn save_requirements(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let mut reqs = Vec::new();
    let mut bad = None;
    for (k, v) in &form {
        if k != "require" {
            continue;
        }
        let Ok(aid) = v.parse::<i64>() else {
            bad = Some(format!("require: “{v}” is not an assessment id"));
            break;
        };
        let field = format!("pass_mark_{aid}");
        let mark = match form_value(&form, &field).unwrap_or_default().trim() {
            "" => None,
            m => match m.parse::<u32>() {
                Ok(m) => Some(m),
                Err(_) => {
                    bad = Some(format!("{field}: “{m}” is not a whole percent"));
                    break;
                }
            },
        };
        reqs.push(RequirementInput {
            assessment_id: aid,
            pass_mark: mark,
        });
    }
    let result = match bad {
        Some(m) => Err(invalid("invalid_assessment", m)),
        None => ui
            .state
            .app
            .set_qualification_requirements(&user.session.principal, project, reqs)
            .await
            .map(|_| "required"),
    };
    finish(&ui, &user, project, "requirements", form, result).await
}

/// Saves the screening interview's setup.
pub async fn save_interview(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let parsed = (|| -> Result<InterviewSetup, AppError> {
        let questions = form_value(&form, "questions")
            .unwrap_or_default()
            .lines()
            .map(str::trim)
            .filter(|l| !l.is_empty())
            .map(str::to_string)
            .collect();
        let rubric_raw = form_value(&form, "rubric").unwrap_or_default();
        let rubric = serde_json::from_str::<Vec<Criterion>>(rubric_raw).map_err(|e| {
            invalid(
                "invalid_interview",
                format!(
                    "rubric: must be a JSON list of criteria like \
                     [{{\"name\": \"Accuracy\", \"max\": 2, \"levels\": [\"wrong\", \"partly\", \"right\"]}}] ({e})"
                ),
            )
        })?;
        Ok(InterviewSetup {
            questions,
            rubric,
            max_followups: number(&form, "max_followups", "invalid_interview")?,
            pass_mark: number(&form, "pass_mark", "invalid_interview")?,
        })
    })();
    let result = match parsed {
        Ok(setup) => ui
            .state
            .app
            .set_interview_setup(&user.session.principal, project, setup)
            .await
            .map(|_| "interview"),
        Err(e) => Err(e),
    };
    finish(&ui, &user, project, "interview", form, result).await
}
