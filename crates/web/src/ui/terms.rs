//! The terms page of a project: a worker reads the summary and the full text, accepts or declines, and asks
//! questions; requesters and admins publish versions and answer the questions.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fairloop_app::AppError;
use fairloop_app::terms::{PublishTerms, TermsSummary};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::Ui;
use super::pages::{PageResult, checked_form, finish_form, id, short_time, user_view};
use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};

#[derive(Serialize)]
struct QuestionRow {
    id: i64,
    worker_id: i64,
    version: i64,
    question: String,
    asked: String,
    answer: Option<String>,
    answered: Option<String>,
}

/// `?done=accepted|declined|asked|published|answered` after a form.
#[derive(Deserialize, Default)]
pub struct DoneQuery {
    done: Option<String>,
}

async fn page(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> PageResult {
    let p = &user.session.principal;
    let project = ui.state.app.project(p, project_id).await?;
    let view = ui.state.app.terms(p, project_id).await?;
    let questions: Vec<QuestionRow> = ui
        .state
        .app
        .terms_questions(p, project_id)
        .await?
        .into_iter()
        .map(|q| QuestionRow {
            id: q.id,
            worker_id: q.worker_id,
            version: q.version,
            question: q.question,
            asked: short_time(q.asked_at).0,
            answer: q.answer,
            answered: q.answered_at.map(|t| short_time(t).0),
        })
        .collect();
    let manager = p.role.can_manage_projects();
    let summary = view
        .as_ref()
        .map(|v| v.summary.clone())
        .unwrap_or_else(|| serde_json::from_str::<TermsSummary>("{}").expect("defaults"));
    Ok((
        status,
        render(
            "terms.html",
            context! {
                title => format!("Terms · {}", project.name), nav => if manager { "projects" } else { "work" },
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name, pay => render::pay_text(project.pay.as_deref()) },
                manager => manager, notice => notice, error => error,
                terms => view.as_ref().map(|v| context! {
                    version => v.terms.version, hash => &v.terms.text_hash,
                    html => render::markdown(&v.terms.markdown), markdown => &v.terms.markdown,
                    published => short_time(v.terms.created_at).0,
                    decision => v.my_decision.as_ref().map(|d| d.decision.clone()),
                }),
                summary => ser(&summary), warnings_text => summary.content_warnings.join("\n"),
                compensation => project.pay.as_deref()
                    .and_then(|s| serde_json::from_str::<serde_json::Value>(s).ok())
                    .and_then(|v| v["currency"].as_str().map(str::to_string))
                    .filter(|_| summary.notice_compensation_minor > 0)
                    .map(|c| render::money(summary.notice_compensation_minor, &c)),
                questions => ser(&questions),
            },
        ),
    )
        .into_response())
}

/// Ends a form handler through [`finish_form`], showing this page again on a refusal.
async fn finish(
    ui: &Ui,
    user: &CurrentUser,
    project: i64,
    result: Result<String, AppError>,
) -> PageResult {
    finish_form(result, |status, message| {
        page(ui, user, project, status, None, Some(message))
    })
    .await
}

/// The terms of a project, for a worker to read and decide on, or for a requester to publish.
pub async fn show(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<DoneQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("declined") => {
            Some("You declined these terms. You can accept them later from this page.")
        }
        Some("asked") => Some("Your question was sent; the answer will appear here."),
        Some("published") => {
            Some("The new version is published. Workers accept it before their next task.")
        }
        Some("answered") => Some("Your answer is saved and shown to the worker."),
        Some("accept_first") => {
            Some("Read and accept the current terms before working on this project.")
        }
        _ => None,
    };
    page(&ui, &user, id(&raw)?, StatusCode::OK, notice, None).await
}

/// Publishes a new version (requesters and admins).
pub async fn publish(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = checked_form(&user, &body)?;
    let get = |k: &str| form_value(&form, k).unwrap_or_default().to_string();
    let notice_days = match get("notice_days").trim() {
        "" => 0,
        n => match n.parse::<u32>() {
            Ok(d) => d,
            Err(_) => {
                let e = format!("“{n}” is not a number of days");
                return page(
                    &ui,
                    &user,
                    project,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(e),
                )
                .await;
            }
        },
    };
    let compensation = match get("notice_compensation_minor").trim() {
        "" => 0,
        n => match n.parse::<i64>() {
            Ok(m) => m,
            Err(_) => {
                let e = format!("“{n}” is not an amount in minor units (e.g. 5000 for 50.00)");
                return page(
                    &ui,
                    &user,
                    project,
                    StatusCode::UNPROCESSABLE_ENTITY,
                    None,
                    Some(e),
                )
                .await;
            }
        },
    };
    let input = PublishTerms {
        summary: TermsSummary {
            notice_compensation_minor: compensation,
            ip_assigned: get("ip_assigned"),
            confidential: get("confidential"),
            notice_days,
            expected_duration: get("expected_duration"),
            weekly_hours: get("weekly_hours"),
            content_warnings: get("content_warnings")
                .lines()
                .map(str::to_string)
                .collect(),
        },
        markdown: get("markdown"),
    };
    let result = ui
        .state
        .app
        .publish_terms(&user.session.principal, project, input)
        .await
        .map(|_| format!("/projects/{project}/terms?done=published"));
    finish(&ui, &user, project, result).await
}

/// Accepts (and goes to work) or declines the current version.
pub async fn decide(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = checked_form(&user, &body)?;
    let version: i64 = form_value(&form, "version")
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let hash = form_value(&form, "text_hash").unwrap_or_default();
    let accept = form_value(&form, "decision") == Some("accept");
    let result = ui
        .state
        .app
        .decide_terms(&user.session.principal, project, version, hash, accept)
        .await
        .map(|()| match accept {
            true => format!("/work/{project}"),
            false => format!("/projects/{project}/terms?done=declined"),
        });
    finish(&ui, &user, project, result).await
}

/// A worker's question about the terms.
pub async fn ask(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = checked_form(&user, &body)?;
    let text = form_value(&form, "question").unwrap_or_default();
    let result = ui
        .state
        .app
        .ask_about_terms(&user.session.principal, project, text)
        .await
        .map(|_| format!("/projects/{project}/terms?done=asked"));
    finish(&ui, &user, project, result).await
}

/// A requester's answer to a question.
pub async fn answer(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw, question)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let question = id(&question)?;
    let form = checked_form(&user, &body)?;
    let text = form_value(&form, "answer").unwrap_or_default();
    let result = ui
        .state
        .app
        .answer_terms_question(&user.session.principal, project, question, text)
        .await
        .map(|()| format!("/projects/{project}/terms?done=answered"));
    finish(&ui, &user, project, result).await
}
