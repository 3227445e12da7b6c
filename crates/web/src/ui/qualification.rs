//! The requester's "Qualification" console tab of a project: its assessments (a structured editor to create or
//! edit one, archive or delete it), which of them the project requires, and the screening interview's setup. The
//! forms call the same use cases as the API (`create_assessment`, `update_assessment`, `archive_assessment`,
//! `delete_assessment`, `set_qualification_requirements`, `set_interview_setup`), so validation and errors are
//! the API's; the editors themselves are in [`editor`].
//!
//! The questions are written as blocks (no JSON); a "JSON (advanced)" disclosure still takes a task template
//! with keys, for question types the editor does not build. Bad input re-renders the page with each error next
//! to its field, keeping what was typed.
//!
//! Routes: `GET /projects/{id}/qualification`, `POST /projects/{id}/qualification/assessments` (the editor, or
//! the JSON form), `GET|POST /projects/{id}/qualification/assessments/{aid}` (edit),
//! `GET …/assessments/{aid}/copy` (the create editor filled with a copy), `POST …/assessments/{aid}/archive`,
//! `POST …/assessments/{aid}/delete`,
//! `POST /projects/{id}/qualification/requirements`, `POST /projects/{id}/qualification/interview`.

mod editor;

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
use minijinja::context;
use serde::Deserialize;
use serde_json::{Map, Value};

use self::editor::{Action, Editor, InterviewEditor};
use super::pages::{
    PageResult, capitalise, checked_form, finish_form, id, parse_form, see_other, user_view,
};
use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};
use super::{Ui, UiError};
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
            "/projects/{id}/qualification/assessments/{aid}",
            get(show_edit).post(save_edit),
        )
        .route(
            "/projects/{id}/qualification/assessments/{aid}/copy",
            get(show_copy),
        )
        .route(
            "/projects/{id}/qualification/assessments/{aid}/archive",
            post(archive),
        )
        .route(
            "/projects/{id}/qualification/assessments/{aid}/delete",
            post(delete),
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
    /// `assessment` (the JSON form), `requirements` or `list`.
    form: &'static str,
    message: String,
    typed: Vec<(String, String)>,
}

/// What the page shows in its forms besides the stored state: an editor as typed, a refusal.
#[derive(Default)]
struct Forms {
    refusal: Option<Refusal>,
    editor: Option<Editor>,
    interview: Option<InterviewEditor>,
    /// The id of the field to focus (a block just added).
    focus: Option<String>,
}

/// The assessment being edited, for the edit view of the page.
struct Editing {
    id: i64,
    title: String,
    archived: bool,
    attempted: bool,
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
    forms: Forms,
    editing: Option<Editing>,
) -> PageResult {
    let refusal = forms.refusal;
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
                time_limit => a.time_limit_minutes, paid => a.paid, archived => a.archived,
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
    let interview = forms
        .interview
        .unwrap_or_else(|| InterviewEditor::from_setup(setup.as_ref()));
    let editor = forms.editor.unwrap_or_else(Editor::new_assessment);
    let editor_action = match &editing {
        Some(e) => format!("/projects/{project_id}/qualification/assessments/{}", e.id),
        None => format!("/projects/{project_id}/qualification/assessments"),
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
                interview => ser(&interview), interview_saved => setup.is_some(),
                interview_summary => interview.summary(),
                editor_summary => editor.summary(),
                editor => ser(&editor), editor_action => editor_action, kinds => ser(&editor::KINDS),
                focus => forms.focus,
                editing => editing.map(|e| context! {
                    id => e.id, title => e.title, archived => e.archived, attempted => e.attempted,
                }),
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
    let to = result.map(|done| format!("/projects/{project}/qualification?done={done}"));
    finish_form(to, |status, message| async move {
        let forms = Forms {
            refusal: Some(Refusal {
                form: form_name,
                message,
                typed,
            }),
            ..Forms::default()
        };
        page(ui, user, project, status, None, forms, None).await
    })
    .await
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
        Some("saved") => Some("The assessment is saved."),
        Some("archived") => {
            Some("The assessment is archived: it takes no new attempts, its results are kept.")
        }
        Some("deleted") => Some("The assessment is deleted."),
        _ => None,
    };
    let project = id(&raw)?;
    page(
        &ui,
        &user,
        project,
        StatusCode::OK,
        notice,
        Forms::default(),
        None,
    )
    .await
}

/// Creates an assessment from the form.
pub async fn create_assessment(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = checked_form(&user, &body)?;
    if form_value(&form, "template").is_none() {
        return editor_post(&ui, &user, project, None, &form).await;
    }
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
    let form = checked_form(&user, &body)?;
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
    let form = checked_form(&user, &body)?;
    let (mut editor, action) = InterviewEditor::from_form(&form);
    let mut status = StatusCode::OK;
    if let Action::Save = action {
        match editor.build_setup() {
            Some(setup) => match ui
                .state
                .app
                .set_interview_setup(&user.session.principal, project, setup)
                .await
            {
                Ok(_) => {
                    return Ok(see_other(&format!(
                        "/projects/{project}/qualification?done=interview#interview"
                    )));
                }
                Err(e) => {
                    let (s, message) = editor::refusal_message(e)?;
                    status = s;
                    editor.place(&message);
                }
            },
            None => status = StatusCode::UNPROCESSABLE_ENTITY,
        }
    }
    let focus = match action {
        Action::Rerender => form_value(&form, "action").map(|a| match a {
            "add_interview_question" => format!("iq{}", editor.questions.len().saturating_sub(1)),
            _ => format!("ic{}_name", editor.criteria.len().saturating_sub(1)),
        }),
        Action::Save => None,
    };
    let forms = Forms {
        interview: Some(editor),
        focus,
        ..Forms::default()
    };
    page(&ui, &user, project, status, None, forms, None).await
}

/// The editor's post (create when `editing` is `None`): adds or removes a block and shows the form again, or
/// validates and saves, placing each refusal next to its field.
async fn editor_post(
    ui: &Ui,
    user: &CurrentUser,
    project: i64,
    editing: Option<Editing>,
    form: &[(String, String)],
) -> PageResult {
    let (mut editor, action) = Editor::from_form(form);
    let p = &user.session.principal;
    if let Some(e) = &editing
        && editor.locked
    {
        // Locked questions are shown from what is stored; only the settings and explanations come from the form.
        let (_, input, editable, _) = ui.state.app.assessment_for_editing(p, e.id).await?;
        let mut stored = Editor::from_input(&input, editable);
        stored.locked = true;
        for b in &mut stored.blocks {
            if let Some(t) = editor.blocks.iter().find(|t| t.name == b.name) {
                b.explanation = t.explanation.clone();
            }
        }
        stored.title = editor.title.clone();
        stored.time_limit_minutes = editor.time_limit_minutes.clone();
        stored.max_attempts = editor.max_attempts.clone();
        stored.pass_mark = editor.pass_mark.clone();
        stored.paid = editor.paid;
        editor = stored;
    }
    let mut status = StatusCode::OK;
    let mut focus = None;
    match action {
        Action::Rerender => {
            focus = match form_value(form, "action") {
                Some("add_question") => {
                    Some(format!("q{}_prompt", editor.blocks.len().saturating_sub(1)))
                }
                _ => form_value(form, "add_criterion")
                    .and_then(|i| i.parse::<usize>().ok())
                    .and_then(|i| {
                        editor
                            .blocks
                            .get(i)
                            .map(|b| format!("q{i}_c{}_text", b.criteria.len().saturating_sub(1)))
                    })
                    .or_else(|| Some("add-question".into())),
            };
        }
        Action::Save => {
            let result = match (&editing, editor.locked) {
                (None, _) => match editor.build_input() {
                    Some(input) => Some(
                        ui.state
                            .app
                            .create_assessment(p, project, input)
                            .await
                            .map(|_| "created"),
                    ),
                    None => None,
                },
                (Some(e), false) => match editor.build_input() {
                    Some(input) => Some(
                        ui.state
                            .app
                            .update_assessment(p, e.id, input.into())
                            .await
                            .map(|()| "saved"),
                    ),
                    None => None,
                },
                (Some(e), true) => match editor.build_settings_patch() {
                    Some(patch) => Some(
                        ui.state
                            .app
                            .update_assessment(p, e.id, patch)
                            .await
                            .map(|()| "saved"),
                    ),
                    None => None,
                },
            };
            match result {
                Some(Ok(done)) => {
                    return Ok(see_other(&format!(
                        "/projects/{project}/qualification?done={done}"
                    )));
                }
                Some(Err(e)) => {
                    let (s, message) = editor::refusal_message(e)?;
                    status = s;
                    editor.place(&message);
                }
                None => status = StatusCode::UNPROCESSABLE_ENTITY,
            }
        }
    }
    let forms = Forms {
        editor: Some(editor),
        focus,
        ..Forms::default()
    };
    page(ui, user, project, status, None, forms, editing).await
}

/// The assessment `aid` of project `project` for the edit view; 404 when it belongs to another project.
async fn editing_of(
    ui: &Ui,
    user: &CurrentUser,
    project: i64,
    aid: i64,
) -> Result<(Editing, Editor), UiError> {
    let (of, input, editable, archived) = ui
        .state
        .app
        .assessment_for_editing(&user.session.principal, aid)
        .await?;
    if of != project {
        return Err(UiError::not_found());
    }
    let mut editor = Editor::from_input(&input, editable && !archived);
    if archived {
        editor.locked = true;
    }
    Ok((
        Editing {
            id: aid,
            title: input.title,
            archived,
            attempted: !editable,
        },
        editor,
    ))
}

/// The edit view: the editor filled with the stored assessment, with archive and delete.
pub async fn show_edit(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw, raw_aid)): Path<(String, String)>,
) -> PageResult {
    let (project, aid) = (id(&raw)?, id(&raw_aid)?);
    let (editing, editor) = editing_of(&ui, &user, project, aid).await?;
    let forms = Forms {
        editor: Some(editor),
        ..Forms::default()
    };
    page(
        &ui,
        &user,
        project,
        StatusCode::OK,
        None,
        forms,
        Some(editing),
    )
    .await
}

/// "Copy to a new assessment": the create editor filled with a copy of the assessment's questions and settings
/// (the way to change the questions of an assessment candidates already attempted).
pub async fn show_copy(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw, raw_aid)): Path<(String, String)>,
) -> PageResult {
    let (project, aid) = (id(&raw)?, id(&raw_aid)?);
    let (of, input, _, _) = ui
        .state
        .app
        .assessment_for_editing(&user.session.principal, aid)
        .await?;
    if of != project {
        return Err(UiError::not_found());
    }
    let mut editor = Editor::from_input(&input, true);
    if editor.locked {
        editor.locked = false;
        editor.errors.insert(
            "notice".into(),
            "The original uses settings the editor does not show (another question type, help text, option \
             labels…); this copy leaves them out."
                .into(),
        );
    }
    editor.title = format!("Copy of {}", input.title);
    let forms = Forms {
        editor: Some(editor),
        focus: Some("e-title".into()),
        ..Forms::default()
    };
    page(&ui, &user, project, StatusCode::OK, None, forms, None).await
}

/// The edit view's post: add, remove or save, like creating.
pub async fn save_edit(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw, raw_aid)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let (project, aid) = (id(&raw)?, id(&raw_aid)?);
    let form = checked_form(&user, &body)?;
    let (editing, _) = editing_of(&ui, &user, project, aid).await?;
    editor_post(&ui, &user, project, Some(editing), &form).await
}

/// Archives or deletes an assessment of the project; a conflict (attempted, required) shows the tab with why.
async fn archive_or_delete(
    ui: &Ui,
    user: &CurrentUser,
    raw: &str,
    raw_aid: &str,
    body: &Bytes,
    delete: bool,
) -> PageResult {
    let (project, aid) = (id(raw)?, id(raw_aid)?);
    let form = parse_form(body)?;
    user.check_csrf(&form)?;
    let (editing, editor) = editing_of(ui, user, project, aid).await?;
    let p = &user.session.principal;
    let result = if delete {
        ui.state
            .app
            .delete_assessment(p, aid)
            .await
            .map(|()| "deleted")
    } else {
        ui.state
            .app
            .archive_assessment(p, aid)
            .await
            .map(|()| "archived")
    };
    match result {
        Ok(done) => Ok(see_other(&format!(
            "/projects/{project}/qualification?done={done}"
        ))),
        Err(e) => {
            let (status, message) = editor::refusal_message(e)?;
            let forms = Forms {
                refusal: Some(Refusal {
                    form: "list",
                    message: capitalise(&message),
                    typed: Vec::new(),
                }),
                editor: Some(editor),
                ..Forms::default()
            };
            page(ui, user, project, status, None, forms, Some(editing)).await
        }
    }
}

/// Archives an assessment: no new attempts, results kept.
pub async fn archive(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw, raw_aid)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    archive_or_delete(&ui, &user, &raw, &raw_aid, &body, false).await
}

/// Deletes an assessment nobody attempted and no project requires.
pub async fn delete(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw, raw_aid)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    archive_or_delete(&ui, &user, &raw, &raw_aid, &body, true).await
}
