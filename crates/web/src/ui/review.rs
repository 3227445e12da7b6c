//! The review pages: the reviewer's queue (one submission at a time, `a`/`r`/`c` to pick the judgement), open
//! appeals and the pause confirmation on the same page, and the worker's "My reviews" page with the appeal form.
//!
//! Routes: `GET /review` (projects with their queue sizes), `GET /review/{project}`,
//! `POST /review/{project}/{review}` (judge), `POST /review/{project}/appeals/{appeal}` (decide an appeal),
//! `POST /review/{project}/pause` (confirm a pause), `POST /review/{project}/pauses/{worker}/lift`, `GET /reviews` (my reviews), `POST /reviews/{id}/appeal`.
//! Every form works without JavaScript and posts through the same use cases as the JSON API; the script only
//! adds the keyboard shortcuts.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Redirect, Response};
use fairloop_app::AppError;
use fairloop_app::review::{
    AppealBody, AppealDecisionBody, ClientSignals, DecisionBody, PauseBody, ReviewView, can_review,
};
use fairloop_domain::template::TaskTemplate;
use minijinja::context;
use serde::Serialize;
use serde_json::Value;

use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};
use super::{Ui, UiError};

type PageResult = Result<Response, UiError>;

/// The workbench's integrity counts from its hidden fields (`paste_events`, `pasted_chars`), when present
/// (they are only there when `integrity.js` ran).
pub fn integrity_from_form(form: &[(String, String)]) -> Option<ClientSignals> {
    let events = form_value(form, "paste_events")?.trim().parse().ok()?;
    let chars = form_value(form, "pasted_chars")
        .and_then(|v| v.trim().parse().ok())
        .unwrap_or(0);
    Some(ClientSignals {
        paste_events: events,
        pasted_chars: chars,
    })
}

fn id(raw: &str) -> Result<i64, UiError> {
    raw.parse().map_err(|_| UiError::not_found())
}

fn parse_form(body: &Bytes) -> Result<Vec<(String, String)>, UiError> {
    serde_urlencoded::from_bytes(body).map_err(|_| {
        UiError::page(
            StatusCode::BAD_REQUEST,
            "That did not work",
            "The form could not be read. Reload the page and try again.",
        )
    })
}

fn field(form: &[(String, String)], key: &str) -> String {
    form_value(form, key).unwrap_or_default().to_string()
}

fn see_other(to: &str) -> Response {
    Redirect::to(to).into_response()
}

/// An RFC 3339 time as people read it: `2026-11-23 11:20 UTC`.
fn readable(rfc3339: &str) -> String {
    match rfc3339.get(..16) {
        Some(head) => format!("{} UTC", head.replacen('T', " ", 1)),
        None => rfc3339.to_string(),
    }
}

fn pretty(v: &Value) -> String {
    serde_json::to_string_pretty(v).unwrap_or_default()
}

fn fmt_value(kind: &str, v: f64) -> String {
    if kind == "time_on_task" {
        format!("{v:.0} s")
    } else {
        format!("{:.0}%", v * 100.0)
    }
}

/// The inverse of [`render::answers_from_form`]: the form values that show `answers` in the template's controls,
/// so that a reviewer corrects an answer by changing what is wrong rather than retyping it.
fn form_values_of(t: &TaskTemplate, answers: &Value) -> render::FormValues {
    use fairloop_domain::template::QuestionKind;
    let scalar = |v: &Value| match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    };
    let mut out = render::FormValues::new();
    for q in &t.questions {
        let Some(a) = answers.get(&q.name) else {
            continue;
        };
        let input = format!("q.{}", q.name);
        match &q.kind {
            QuestionKind::SingleChoice { .. }
            | QuestionKind::Rating { .. }
            | QuestionKind::Text { .. } => {
                out.insert(input, vec![scalar(a)]);
            }
            QuestionKind::MultiChoice { .. } => {
                out.insert(
                    input,
                    a.as_array().into_iter().flatten().map(scalar).collect(),
                );
            }
            QuestionKind::Pairwise { .. } => {
                for part in ["strength", "justification"] {
                    if let Some(v) = a.get(part) {
                        out.insert(format!("{input}.{part}"), vec![scalar(v)]);
                    }
                }
            }
            QuestionKind::Rubric { criteria } => {
                for c in criteria {
                    if let Some(v) = a.get(&c.name) {
                        out.insert(format!("{input}.{}", c.name), vec![scalar(v)]);
                    }
                }
            }
            _ => {}
        }
    }
    out
}

/// A signal as the pages show it: the measurement and its threshold in the units people read.
#[derive(Serialize)]
struct SignalRow {
    label: &'static str,
    value: String,
    threshold: String,
    flagged: bool,
    detail: String,
}

/// A review as the pages show it.
#[derive(Serialize)]
struct ReviewRow {
    id: i64,
    project_id: i64,
    project_name: String,
    worker_id: i64,
    reasons: String,
    submitted_at: String,
    answers: String,
    corrected: Option<String>,
    decision: Option<String>,
    feedback: Option<String>,
    decided_at: Option<String>,
    reviewer_id: Option<i64>,
    signals: Vec<SignalRow>,
    flagged: usize,
    appeal: Option<AppealRow>,
}

#[derive(Serialize)]
struct AppealRow {
    id: i64,
    reason: String,
    status: String,
    outcome: Option<String>,
    note: Option<String>,
}

fn review_row(r: &ReviewView) -> ReviewRow {
    let signals: Vec<SignalRow> = r
        .signals
        .iter()
        .map(|s| SignalRow {
            label: match s.kind.as_str() {
                "time_on_task" => "Time on task",
                "paste" => "Pasted text",
                "near_duplicate" => "Similar to another worker's text",
                "copies_item" => "Copies text shown in the item",
                _ => "Signal",
            },
            value: fmt_value(&s.kind, s.value),
            threshold: if s.kind == "time_on_task" {
                format!("under {}", fmt_value(&s.kind, s.threshold))
            } else {
                format!("{} or more", fmt_value(&s.kind, s.threshold))
            },
            flagged: s.flagged,
            detail: s.detail.clone(),
        })
        .collect();
    ReviewRow {
        id: r.id,
        project_id: r.project_id,
        project_name: r.project_name.clone(),
        worker_id: r.worker_id,
        reasons: r
            .reasons
            .iter()
            .map(|x| match x.as_str() {
                "sample" => "random sample",
                "low_agreement" => "low agreement on the item",
                "signal" => "a flagged signal",
                _ => "other",
            })
            .collect::<Vec<_>>()
            .join(", "),
        submitted_at: readable(&r.submitted_at),
        answers: pretty(&r.answers),
        corrected: r.corrected_answers.as_ref().map(pretty),
        decision: r.decision.clone(),
        feedback: r.feedback.clone(),
        decided_at: r.decided_at.as_deref().map(readable),
        reviewer_id: r.reviewer_id,
        flagged: signals.iter().filter(|s| s.flagged).count(),
        signals,
        appeal: r.appeal.as_ref().map(|a| AppealRow {
            id: a.id,
            reason: a.reason.clone(),
            status: a.status.clone(),
            outcome: a.outcome.clone(),
            note: a.note.clone(),
        }),
    }
}

fn require_review_role(user: &CurrentUser) -> Result<(), UiError> {
    if can_review(user.session.principal.role) {
        Ok(())
    } else {
        Err(UiError::page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            "Reviewing needs the reviewer, requester or admin role.",
        ))
    }
}

// ---------------------------------------------------------------------------------------------------------------
// Reviewer pages

#[derive(Serialize)]
struct ProjectQueue {
    id: i64,
    name: String,
    queued: usize,
    appeals: usize,
}

/// `GET /review`: the organization's projects with how much waits for review in each.
pub async fn projects(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    require_review_role(&user)?;
    let p = &user.session.principal;
    let app = &ui.state.app;
    let mut rows = Vec::new();
    for project in app.store.projects(p.org_id).await.map_err(AppError::from)? {
        rows.push(ProjectQueue {
            id: project.id,
            queued: app.review_queue(p, project.id).await?.len(),
            appeals: app.appeal_queue(p, project.id).await?.len(),
            name: project.name,
        });
    }
    Ok(render(
        "review_projects.html",
        context! { title => "Review", nav => "review", user => ser(&super::pages::user_view(&user.session)),
        csrf => &user.session.csrf_token, projects => ser(&rows) },
    )
    .into_response())
}

/// `GET /review/{project}`: the oldest queued submission with its item, answers and signals, the judgement
/// form, the pause confirmation, and the open appeals.
pub async fn queue(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
) -> PageResult {
    require_review_role(&user)?;
    let project = id(&project)?;
    let p = &user.session.principal;
    let app = &ui.state.app;
    let queued = app.review_queue(p, project).await?;
    let stored = app
        .store
        .project(p.org_id, project)
        .await
        .map_err(|_| UiError::not_found())?;
    let template = serde_json::from_str::<Value>(&stored.template)
        .ok()
        .and_then(|v| TaskTemplate::from_json(&v).ok())
        .ok_or_else(|| AppError::Internal("stored template".into()))?;
    // Every question must have controls, or a correction made in them would drop the others' answers.
    // Shape answers have no controls on the review page (its widgets are the workbench's), so a shape template
    // gets no correction form.
    let correction_form = template.questions.iter().all(|q| {
        render::supported(&q.kind) && !fairloop_domain::template::shapes::is_shape_kind(&q.kind)
    });
    let current = queued.first().map(|r| {
        let data = r.item_data.as_object().cloned().unwrap_or_default();
        let values = form_values_of(&template, &r.answers);
        let questions = render::questions(&template, &values, &Default::default());
        (review_row(r), render::fields(&template, &data), questions)
    });
    // The answer's shapes over each image, so the reviewer sees what the worker drew.
    let overlays: std::collections::HashMap<String, super::review_shapes::Overlay> = queued
        .first()
        .map(|r| {
            template
                .fields
                .iter()
                .filter(|f| f.kind == fairloop_domain::template::FieldKind::Image)
                .map(|f| {
                    (
                        f.name.clone(),
                        super::review_shapes::overlay(&template, &f.name, &r.answers),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let appeals: Vec<_> = app
        .appeal_queue(p, project)
        .await?
        .into_iter()
        .map(|c| {
            let mut row = review_row(&c.review);
            row.appeal = Some(AppealRow {
                id: c.appeal.id,
                reason: c.appeal.reason,
                status: c.appeal.status,
                outcome: c.appeal.outcome,
                note: c.appeal.note,
            });
            row
        })
        .collect();
    let (review, fields, questions) = match current {
        Some((r, f, q)) => (Some(r), f, q),
        None => (None, Vec::new(), Vec::new()),
    };
    let pauses = app.project_pauses(p, project).await?;
    let may_pause = matches!(
        p.role,
        fairloop_domain::Role::Reviewer | fairloop_domain::Role::Admin
    );
    Ok(render(
        "review_queue.html",
        context! { title => format!("Review · {}", stored.name), nav => "review",
        user => ser(&super::pages::user_view(&user.session)), csrf => &user.session.csrf_token,
        project => context! { id => stored.id, name => &stored.name }, remaining => queued.len(),
        review => ser(&review), fields => ser(&fields), appeals => ser(&appeals), me => p.user_id,
        may_pause => may_pause, pauses => ser(&pauses), questions => ser(&questions),
        correction_form => correction_form, overlays => ser(&overlays) },
    )
    .into_response())
}

/// `POST /review/{project}/{review}`: accept, reject or correct, with feedback.
pub async fn decide(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((project, review)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let (project, review) = (id(&project)?, id(&review)?);
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let action = field(&form, "action");
    let answers = if action == "correct" && form_value(&form, "answers").is_none() {
        // The correction form: the template's controls, read back exactly like the workbench's.
        let stored = ui
            .state
            .app
            .store
            .project(user.session.principal.org_id, project)
            .await
            .map_err(|_| UiError::not_found())?;
        let template = serde_json::from_str::<Value>(&stored.template)
            .ok()
            .and_then(|v| TaskTemplate::from_json(&v).ok())
            .ok_or_else(|| AppError::Internal("stored template".into()))?;
        Some(render::answers_from_form(
            &template,
            &render::form_values(&form),
        ))
    } else if action == "correct" {
        let raw = field(&form, "answers");
        Some(serde_json::from_str::<Value>(&raw).map_err(|e| {
            UiError::page(
                StatusCode::BAD_REQUEST,
                "That did not work",
                format!("Corrected answers: this is not valid JSON ({e}). Go back and fix it."),
            )
        })?)
    } else {
        None
    };
    ui.state
        .app
        .decide_review(
            &user.session.principal,
            review,
            DecisionBody {
                action,
                answers,
                feedback: field(&form, "feedback"),
            },
        )
        .await?;
    Ok(see_other(&format!("/review/{project}")))
}

/// `POST /review/{project}/appeals/{appeal}`: a second reviewer's final decision.
pub async fn decide_appeal(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((project, appeal)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let (project, appeal) = (id(&project)?, id(&appeal)?);
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state
        .app
        .decide_appeal(
            &user.session.principal,
            appeal,
            AppealDecisionBody {
                outcome: field(&form, "outcome"),
                note: field(&form, "note"),
            },
        )
        .await?;
    Ok(see_other(&format!("/review/{project}#appeals")))
}

/// `POST /review/{project}/pause`: pauses a worker, only with a reason and the confirmation box ticked.
pub async fn pause(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&project)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    if form_value(&form, "confirm") != Some("yes") {
        return Err(UiError::page(
            StatusCode::BAD_REQUEST,
            "Not paused",
            "Tick the box to confirm that you, a person, decided this pause. Nothing was changed.",
        ));
    }
    let worker = field(&form, "worker_id").trim().parse().map_err(|_| {
        UiError::page(
            StatusCode::BAD_REQUEST,
            "Not paused",
            "worker_id must be a number.",
        )
    })?;
    ui.state
        .app
        .pause_worker(
            &user.session.principal,
            project,
            PauseBody {
                worker_id: worker,
                reason: field(&form, "reason"),
            },
        )
        .await?;
    Ok(see_other(&format!("/review/{project}")))
}

/// `POST /review/{project}/pauses/{worker}/lift`: lifts a pause (reviewer or admin).
pub async fn lift_pause(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((project, worker)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let (project, worker) = (id(&project)?, id(&worker)?);
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state
        .app
        .lift_pause(&user.session.principal, project, worker)
        .await?;
    Ok(see_other(&format!("/review/{project}#pauses")))
}

// ---------------------------------------------------------------------------------------------------------------
// Worker pages

/// `GET /reviews`: the worker's judgements with feedback and evidence, appeals, and pauses with their reasons.
pub async fn my_reviews(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    let mine = ui.state.app.my_reviews(&user.session.principal).await?;
    let reviews: Vec<ReviewRow> = mine.reviews.iter().map(review_row).collect();
    Ok(render(
        "my_reviews.html",
        context! { title => "My reviews", nav => "reviews", user => ser(&super::pages::user_view(&user.session)),
        csrf => &user.session.csrf_token, reviews => ser(&reviews), pauses => ser(&mine.pauses) },
    )
    .into_response())
}

/// `POST /reviews/{id}/appeal`: appeals a judgement once, with a reason.
pub async fn appeal(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(review): Path<String>,
    body: Bytes,
) -> PageResult {
    let review = id(&review)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state
        .app
        .appeal(
            &user.session.principal,
            review,
            AppealBody {
                reason: field(&form, "reason"),
            },
        )
        .await?;
    Ok(see_other(&format!("/reviews#review-{review}")))
}
