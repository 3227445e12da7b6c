//! Message pages: a project's board (announcements, the FAQ and the questions on the guidelines), the inbox of
//! notices, and the organization admin's webhooks with their delivery log.
//!
//! Routes: `GET|POST /projects/{id}/board`, `POST /projects/{id}/announcements`,
//! `POST /projects/{id}/board/{q}/answer`, `POST /projects/{id}/board/{q}/pin`, `GET /inbox`,
//! `POST /inbox/{id}/read`, `POST /inbox/read-all`, `GET|POST /webhooks`, `GET /webhooks/{id}`,
//! `POST /webhooks/{id}/test`, `POST /webhooks/{id}/disable`, `POST /webhooks/deliveries/{id}/retry`.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fairloop_app::AppError;
use fairloop_app::messages::NewAnnouncement;
use fairloop_app::webhooks::{EVENT_TYPES, NewWebhook};
use minijinja::context;
use serde::{Deserialize, Serialize};

use super::Ui;
use super::pages::{PageResult, capitalise, id, parse_form, see_other, short_time, user_view};
use super::render::{self, render, ser};
use super::session::{CurrentUser, form_value};

/// `?done=…` after a form, `?before=…` for the next page.
#[derive(Deserialize, Default)]
pub struct PageQuery {
    done: Option<String>,
    before: Option<i64>,
}

#[derive(Serialize)]
struct AnnouncementRow {
    id: i64,
    title: String,
    html: String,
    author: String,
    when: String,
    iso: String,
}

#[derive(Serialize)]
struct QuestionRow {
    id: i64,
    asked_by: String,
    mine: bool,
    version: Option<i64>,
    question: String,
    when: String,
    answer: Option<String>,
    answered_by: Option<String>,
    answered: Option<String>,
    pinned: bool,
}

async fn board_page(
    ui: &Ui,
    user: &CurrentUser,
    project_id: i64,
    status: StatusCode,
    notice: Option<&str>,
    error: Option<String>,
) -> PageResult {
    let p = &user.session.principal;
    let app = &ui.state.app;
    let project = app.project(p, project_id).await?;
    let announcements: Vec<AnnouncementRow> = app
        .announcements(p, project_id)
        .await?
        .into_iter()
        .map(|a| {
            let (when, iso) = short_time(a.created_at);
            AnnouncementRow {
                id: a.id,
                title: a.title,
                html: render::markdown(&a.markdown),
                author: a.author_name,
                when,
                iso,
            }
        })
        .collect();
    let questions: Vec<QuestionRow> = app
        .board(p, project_id)
        .await?
        .into_iter()
        .map(|q| QuestionRow {
            id: q.id,
            asked_by: q.asked_by,
            mine: q.mine,
            version: q.guideline_version,
            question: q.question,
            when: short_time(q.asked_at).0,
            answer: q.answer,
            answered_by: q.answered_by,
            answered: q.answered_at.map(|t| short_time(t).0),
            pinned: q.pinned,
        })
        .collect();
    let (faq, open): (Vec<QuestionRow>, Vec<QuestionRow>) =
        questions.into_iter().partition(|q| q.pinned);
    let manager = p.role.can_manage_projects();
    Ok((
        status,
        render(
            "board.html",
            context! {
                title => format!("Announcements and questions · {}", project.name),
                nav => if manager { "projects" } else { "work" },
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name },
                manager => manager, can_ask => p.role.can_work(), notice => notice, error => error,
                announcements => ser(&announcements), faq => ser(&faq), questions => ser(&open),
            },
        ),
    )
        .into_response())
}

/// Ends a board form: on success to `to`; a refusal the user can act on shows the page again with the reason.
async fn finish_board(
    ui: &Ui,
    user: &CurrentUser,
    project: i64,
    result: Result<String, AppError>,
) -> PageResult {
    match result {
        Ok(to) => Ok(see_other(&to)),
        Err(AppError::Invalid { message, .. }) => {
            let m = Some(capitalise(&message));
            board_page(ui, user, project, StatusCode::UNPROCESSABLE_ENTITY, None, m).await
        }
        Err(AppError::Conflict { message, .. }) => {
            let m = Some(capitalise(&message));
            board_page(ui, user, project, StatusCode::CONFLICT, None, m).await
        }
        Err(e) => Err(e.into()),
    }
}

/// The board of a project: announcements, the FAQ, the questions, and the forms to add to them.
pub async fn board(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let notice = match q.done.as_deref() {
        Some("asked") => {
            Some("Your question is on the board. You will find the answer in your inbox.")
        }
        Some("announced") => {
            Some("The announcement is posted and in the inbox of everyone working on the project.")
        }
        Some("answered") => Some("Your answer is on the board and the asker was told."),
        Some("pinned") => Some("The question is in the FAQ."),
        Some("unpinned") => Some("The question is out of the FAQ."),
        _ => None,
    };
    board_page(&ui, &user, id(&raw)?, StatusCode::OK, notice, None).await
}

/// A worker's question on the board.
pub async fn ask(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let text = form_value(&form, "question").unwrap_or_default();
    let result = ui
        .state
        .app
        .ask_board(&user.session.principal, project, text)
        .await
        .map(|q| format!("/projects/{project}/board?done=asked#q{q}"));
    finish_board(&ui, &user, project, result).await
}

/// A requester's announcement.
pub async fn announce(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let input = NewAnnouncement {
        title: form_value(&form, "title").unwrap_or_default().to_string(),
        markdown: form_value(&form, "markdown")
            .unwrap_or_default()
            .to_string(),
    };
    let result = ui
        .state
        .app
        .announce(&user.session.principal, project, input)
        .await
        .map(|_| format!("/projects/{project}/board?done=announced"));
    finish_board(&ui, &user, project, result).await
}

/// A requester's answer to a board question.
pub async fn answer(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw, question)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let question = id(&question)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let text = form_value(&form, "answer").unwrap_or_default();
    let result = ui
        .state
        .app
        .answer_board(&user.session.principal, project, question, text)
        .await
        .map(|()| format!("/projects/{project}/board?done=answered#q{question}"));
    finish_board(&ui, &user, project, result).await
}

/// Pins a question into the FAQ or takes it out.
pub async fn pin(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((raw, question)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let project = id(&raw)?;
    let question = id(&question)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let pinned = form_value(&form, "pinned") == Some("1");
    let result = ui
        .state
        .app
        .pin_board(&user.session.principal, project, question, pinned)
        .await
        .map(|()| {
            let done = if pinned { "pinned" } else { "unpinned" };
            format!("/projects/{project}/board?done={done}#q{question}")
        });
    finish_board(&ui, &user, project, result).await
}

#[derive(Serialize)]
struct NoticeRow {
    id: i64,
    kind: String,
    label: &'static str,
    title: String,
    body: String,
    link: Option<String>,
    when: String,
    iso: String,
    unread: bool,
}

fn kind_label(kind: &str) -> &'static str {
    match kind {
        "announcement" => "Announcement",
        "terms" => "Terms",
        "guidelines" => "Guidelines",
        "answer" => "Answer",
        "review" => "Review",
        "appeal" => "Appeal",
        "pay" => "Pay",
        "payout" => "Payout",
        "lifecycle" => "Project",
        _ => "Notice",
    }
}

/// The inbox, newest first, a page at a time.
pub async fn inbox(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let p = &user.session.principal;
    let page = ui.state.app.inbox(p, q.before, None).await?;
    let rows: Vec<NoticeRow> = page
        .notices
        .into_iter()
        .map(|n| {
            let (when, iso) = short_time(n.created_at);
            NoticeRow {
                id: n.id,
                label: kind_label(&n.kind),
                kind: n.kind,
                title: n.title,
                body: n.body,
                link: n.link,
                when,
                iso,
                unread: n.read_at.is_none(),
            }
        })
        .collect();
    let mut session = user.session.clone();
    session.unread_notices = page.unread;
    let notice = match q.done.as_deref() {
        Some("all") => Some("Every notice is marked read."),
        _ => None,
    };
    Ok(render(
        "inbox.html",
        context! {
            title => "Inbox", nav => "inbox", user => ser(&user_view(&session)),
            csrf => &user.session.csrf_token, notices => ser(&rows), unread => page.unread,
            next_before => page.next_before, first_page => q.before.is_none(), notice => notice,
        },
    )
    .into_response())
}

/// Marks a notice read; with `open=1`, goes on to where the notice points.
pub async fn mark_read(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let notice = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let p = &user.session.principal;
    ui.state.app.mark_notice_read(p, notice).await?;
    let to = form_value(&form, "open")
        .filter(|v| *v == "1")
        .and(form_value(&form, "link"))
        .and_then(|l| super::session::safe_next(Some(l)));
    Ok(see_other(to.as_deref().unwrap_or("/inbox")))
}

/// Marks every notice read.
pub async fn mark_all_read(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state
        .app
        .mark_all_notices_read(&user.session.principal)
        .await?;
    Ok(see_other("/inbox?done=all"))
}

#[derive(Serialize)]
struct EndpointRow {
    id: i64,
    url: String,
    events: Vec<String>,
    description: String,
    created: String,
    disabled: Option<String>,
}

impl From<fairloop_store::webhooks::Endpoint> for EndpointRow {
    fn from(e: fairloop_store::webhooks::Endpoint) -> Self {
        EndpointRow {
            id: e.id,
            url: e.url,
            events: e.events,
            description: e.description,
            created: short_time(e.created_at).0,
            disabled: e.disabled_at.map(|t| short_time(t).0),
        }
    }
}

async fn webhooks_page(
    ui: &Ui,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
    secret: Option<(String, i64)>,
    form: Option<&[(String, String)]>,
) -> PageResult {
    let p = &user.session.principal;
    let endpoints: Vec<EndpointRow> = ui
        .state
        .app
        .webhooks(p)
        .await?
        .into_iter()
        .map(EndpointRow::from)
        .collect();
    let checked: Vec<String> = form
        .map(|f| {
            f.iter()
                .filter(|(k, _)| k == "events")
                .map(|(_, v)| v.clone())
                .collect()
        })
        .unwrap_or_default();
    let url = form.and_then(|f| form_value(f, "url")).unwrap_or_default();
    let description = form
        .and_then(|f| form_value(f, "description"))
        .unwrap_or_default();
    Ok((
        status,
        render(
            "webhooks.html",
            context! {
                title => "Webhooks", nav => "webhooks", user => ser(&user_view(&user.session)),
                csrf => &user.session.csrf_token, endpoints => ser(&endpoints), error => error,
                secret => secret.as_ref().map(|(s, id)| context! { value => s, endpoint => id }),
                event_types => ser(&EVENT_TYPES), checked => checked, url => url, description => description,
            },
        ),
    )
        .into_response())
}

/// The organization's webhooks and the form to register one (admins).
pub async fn webhooks(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    webhooks_page(&ui, &user, StatusCode::OK, None, None, None).await
}

/// Registers a webhook and shows its secret, once.
pub async fn register(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    body: Bytes,
) -> PageResult {
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let input = NewWebhook {
        url: form_value(&form, "url").unwrap_or_default().to_string(),
        events: form
            .iter()
            .filter(|(k, _)| k == "events")
            .map(|(_, v)| v.clone())
            .collect(),
        description: form_value(&form, "description")
            .unwrap_or_default()
            .to_string(),
    };
    match ui
        .state
        .app
        .register_webhook(&user.session.principal, input)
        .await
    {
        Ok(r) => {
            webhooks_page(
                &ui,
                &user,
                StatusCode::CREATED,
                None,
                Some((r.secret, r.endpoint.id)),
                None,
            )
            .await
        }
        Err(AppError::Invalid { message, .. } | AppError::Conflict { message, .. }) => {
            let m = Some(capitalise(&message));
            webhooks_page(
                &ui,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                m,
                None,
                Some(&form),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct DeliveryRow {
    id: i64,
    event_type: String,
    event_id: String,
    status: String,
    attempts: i64,
    last_status: Option<i64>,
    last_error: Option<String>,
    created: String,
    next: Option<String>,
    delivered: Option<String>,
    payload: String,
}

/// One webhook with its delivery log (admins).
pub async fn webhook(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<PageQuery>,
) -> PageResult {
    let p = &user.session.principal;
    let endpoint_id = id(&raw)?;
    let endpoint = EndpointRow::from(ui.state.app.webhook(p, endpoint_id).await?);
    let deliveries = ui
        .state
        .app
        .webhook_deliveries(p, endpoint_id, q.before)
        .await?;
    let next_before = (deliveries.len() == 50)
        .then(|| deliveries.last().map(|d| d.id))
        .flatten();
    let rows: Vec<DeliveryRow> = deliveries
        .into_iter()
        .map(|d| DeliveryRow {
            id: d.id,
            event_type: d.event_type,
            event_id: d.event_id,
            next: (d.status == "pending").then(|| short_time(d.next_attempt_at).0),
            status: d.status,
            attempts: d.attempts,
            last_status: d.last_status,
            last_error: d.last_error,
            created: short_time(d.created_at).0,
            delivered: d.delivered_at.map(|t| short_time(t).0),
            payload: d.payload,
        })
        .collect();
    let notice = match q.done.as_deref() {
        Some("test") => Some(
            "A test event is queued; it is sent within a few seconds. Reload to see the result.",
        ),
        Some("retry") => Some("The delivery is queued again and is sent within a few seconds."),
        Some("disabled") => Some("The endpoint is switched off; nothing more is sent to it."),
        _ => None,
    };
    Ok(render(
        "webhook.html",
        context! {
            title => "Webhook", nav => "webhooks", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token, endpoint => ser(&endpoint), deliveries => ser(&rows),
            next_before => next_before, notice => notice,
        },
    )
    .into_response())
}

/// Queues a test event for a webhook.
pub async fn send_test(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let endpoint = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state
        .app
        .send_test_webhook(&user.session.principal, endpoint)
        .await?;
    Ok(see_other(&format!("/webhooks/{endpoint}?done=test")))
}

/// Switches a webhook off.
pub async fn disable(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let endpoint = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    ui.state
        .app
        .disable_webhook(&user.session.principal, endpoint)
        .await?;
    Ok(see_other(&format!("/webhooks/{endpoint}?done=disabled")))
}

/// Sends a delivery again.
pub async fn retry(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let delivery = id(&raw)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let d = ui
        .state
        .app
        .retry_webhook_delivery(&user.session.principal, delivery)
        .await?;
    Ok(see_other(&format!(
        "/webhooks/{}?done=retry",
        d.endpoint_id
    )))
}
