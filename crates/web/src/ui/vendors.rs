//! Vendor pages (docs/vendors.md). `GET /vendors` is two pages behind one link: for a lab's requesters and
//! admins, the vendors it contracts and its workers with the vendor each came through; for a vendor manager,
//! the vendor console (labs, invitation links, the vendor's workers with their work and pay).
//! `GET /vendor/workers/{id}` shows one of the vendor's workers; another vendor's worker is a 404. Forms:
//! `POST /vendors/contracts`, `POST /vendors/contracts/{vendor}/end`, `POST /vendor/invitations`,
//! `POST /vendor/invitations/{id}/revoke`, `POST /vendor/workers/{id}/reference`.

use std::collections::HashMap;
use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::Path;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::IntoResponse;
use fairloop_app::AppError;
use fairloop_app::invitations::MAX_VALID_DAYS;
use fairloop_domain::time::now_millis;
use fairloop_store::vendors::VendorWorker;
use minijinja::context;
use serde::Serialize;

use super::Ui;
use super::invitations::{Extras, Scope, create_in, revoke_in};
use super::pages::{PageResult, capitalise, checked_form, id, see_other, short_time, user_view};
use super::render::{money, render, ser};
use super::session::{CurrentUser, form_value};

#[derive(Serialize)]
struct WorkerRow {
    id: i64,
    name: String,
    email: String,
    lab: String,
    reference: Option<String>,
    deleted: bool,
    annotations: i64,
    hours: String,
    agreement: String,
    gold: String,
    owed: String,
    paid: String,
}

fn hours(ms: i64) -> String {
    format!("{:.1} h", ms as f64 / 3_600_000.0)
}

fn share(n: i64, of: i64) -> String {
    if of == 0 {
        "–".into()
    } else {
        format!("{:.0} %", 100.0 * n as f64 / of as f64)
    }
}

fn gold(answers: i64, sum: f64) -> String {
    if answers == 0 {
        "–".into()
    } else {
        format!("{:.0} % ({answers})", 100.0 * sum / answers as f64)
    }
}

fn amounts(list: &[(String, i64)]) -> String {
    if list.is_empty() {
        return "–".into();
    }
    list.iter()
        .map(|(c, m)| money(*m, c))
        .collect::<Vec<_>>()
        .join(", ")
}

fn worker_row(
    w: &VendorWorker,
    balances: &HashMap<(i64, String), Vec<(String, i64)>>,
) -> WorkerRow {
    let get = |kind: &str| {
        amounts(
            balances
                .get(&(w.id, kind.to_string()))
                .map_or(&[][..], |v| v),
        )
    };
    WorkerRow {
        id: w.id,
        name: w.name.clone(),
        email: w.email.clone(),
        lab: w.org_name.clone(),
        reference: w.vendor_ref.clone(),
        deleted: w.deleted_at.is_some(),
        annotations: w.annotations,
        hours: hours(w.active_ms),
        agreement: share(w.agreed, w.compared),
        gold: gold(w.gold_answers, w.gold_score_sum),
        owed: get("earnings"),
        // The payouts account counts money sent to the worker (a positive balance).
        paid: get("payouts"),
    }
}

fn no_store(mut resp: axum::response::Response) -> axum::response::Response {
    resp.headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    resp
}

/// The vendor console (the vendor invitation form re-renders it through [`Scope::Vendor`]).
pub(super) async fn vendor_console(
    ui: &Ui,
    user: &CurrentUser,
    headers: &HeaderMap,
    status: StatusCode,
    extras: Extras,
) -> PageResult {
    let p = &user.session.principal;
    let app = &ui.state.app;
    let labs = app.vendor_contracts(p).await?;
    let pool = app.vendor_pool(p).await?;
    let mut balances: HashMap<(i64, String), Vec<(String, i64)>> = HashMap::new();
    for b in &pool.balances {
        balances
            .entry((b.worker_id, b.kind.clone()))
            .or_default()
            .push((b.currency.clone(), b.balance_minor));
    }
    let workers: Vec<WorkerRow> = pool
        .workers
        .iter()
        .map(|w| worker_row(w, &balances))
        .collect();
    let now = now_millis();
    let invitations: Vec<_> = app
        .vendor_invitations(p)
        .await?
        .into_iter()
        .map(|i| {
            let status = if i.accepted_at.is_some() {
                "accepted"
            } else if i.revoked_at.is_some() {
                "withdrawn"
            } else if i.expires_at <= now {
                "expired"
            } else {
                "open"
            };
            context! { id => i.id, lab => i.org_name, email => i.email, status => status,
            expires => short_time(i.expires_at).0, expires_iso => short_time(i.expires_at).1 }
        })
        .collect();
    let active_labs: Vec<_> = labs
        .iter()
        .filter(|c| c.ended_at.is_none())
        .map(|c| context! { id => c.org_id, name => &c.org_name })
        .collect();
    let html = render(
        "vendor.html",
        context! {
            title => "Vendor", nav => "vendors", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token, labs => ser(&labs), active_labs => active_labs,
            workers => ser(&workers), invitations => invitations, max_days => MAX_VALID_DAYS,
            error => extras.error,
            new_link => extras.new_link.map(|path| format!("{}{path}", super::invitations::origin(headers))),
        },
    );
    Ok(no_store((status, html).into_response()))
}

async fn lab_page(
    ui: &Ui,
    user: &CurrentUser,
    status: StatusCode,
    error: Option<String>,
) -> PageResult {
    let p = &user.session.principal;
    let app = &ui.state.app;
    let contracts = app.vendor_contracts(p).await?;
    let workers: Vec<_> = app
        .lab_workers(p)
        .await?
        .into_iter()
        .map(|w| {
            context! { id => w.id, name => w.name, email => w.email,
            vendor => w.vendor_name, deleted => w.deleted_at.is_some() }
        })
        .collect();
    let contracts: Vec<_> = contracts
        .iter()
        .map(|c| {
            context! { vendor_id => c.vendor_id, vendor => &c.vendor_name, workers => c.workers,
            active => c.ended_at.is_none(), since => short_time(c.created_at).0 }
        })
        .collect();
    let html = render(
        "vendors.html",
        context! {
            title => "Vendors", nav => "vendors", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token, contracts => contracts, workers => workers,
            is_admin => p.role == fairloop_domain::Role::Admin, error => error,
        },
    );
    Ok((status, html).into_response())
}

/// The vendor console for vendor managers; the lab's vendors page for requesters and admins.
pub async fn page(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    headers: HeaderMap,
) -> PageResult {
    if ui
        .state
        .app
        .is_vendor_manager(&user.session.principal)
        .await?
    {
        vendor_console(&ui, &user, &headers, StatusCode::OK, Extras::default()).await
    } else {
        lab_page(&ui, &user, StatusCode::OK, None).await
    }
}

/// A lab's admin contracts a vendor by name.
pub async fn contract(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    body: Bytes,
) -> PageResult {
    let form = checked_form(&user, &body)?;
    let name = form_value(&form, "vendor").unwrap_or_default();
    match ui
        .state
        .app
        .contract_vendor(&user.session.principal, name)
        .await
    {
        Ok(_) => Ok(see_other("/vendors")),
        Err(
            AppError::Invalid { message, .. }
            | AppError::Conflict { message, .. }
            | AppError::Forbidden { message, .. },
        ) => {
            lab_page(
                &ui,
                &user,
                StatusCode::UNPROCESSABLE_ENTITY,
                Some(capitalise(&message)),
            )
            .await
        }
        Err(e) => Err(e.into()),
    }
}

/// A lab's admin ends a contract.
pub async fn end_contract(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    checked_form(&user, &body)?;
    ui.state
        .app
        .end_vendor_contract(&user.session.principal, id(&raw)?)
        .await?;
    Ok(see_other("/vendors"))
}

/// A vendor manager creates an invitation link into a lab and sees it once.
pub async fn invite(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    headers: HeaderMap,
    body: Bytes,
) -> PageResult {
    create_in(&ui, &user, &headers, &body, Scope::Vendor).await
}

/// A vendor manager withdraws one of the vendor's invitations.
pub async fn revoke(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    revoke_in(&ui, &user, &raw, &body, Scope::Vendor).await
}

/// One of the vendor's workers: projects, quality, balances and ledger entries.
pub async fn worker(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
) -> PageResult {
    let d = ui
        .state
        .app
        .vendor_worker(&user.session.principal, id(&raw)?)
        .await?;
    let projects: Vec<_> = d
        .projects
        .iter()
        .map(|p| {
            context! { name => &p.name, annotations => p.annotations, hours => hours(p.active_ms),
                agreement => share(p.agreed, p.compared), gold => gold(p.gold_answers, p.gold_score_sum) }
        })
        .collect();
    let balances: Vec<_> = d
        .balances
        .iter()
        .map(|b| context! { kind => &b.kind, amount => money(b.balance_minor, &b.currency) })
        .collect();
    let entries: Vec<_> = d
        .entries
        .iter()
        .map(|e| {
            let (when, iso) = short_time(e.created_at);
            context! { kind => &e.kind, memo => &e.memo, account => &e.account,
            amount => money(e.amount_minor, &e.currency), when => when, iso => iso }
        })
        .collect();
    let w = &d.worker;
    let html = render(
        "vendor_worker.html",
        context! {
            title => w.name.clone(), nav => "vendors", user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token,
            worker => context! { id => w.id, name => &w.name, email => &w.email, lab => &w.org_name,
                reference => &w.vendor_ref, deleted => w.deleted_at.is_some(), annotations => w.annotations,
                hours => hours(w.active_ms), agreement => share(w.agreed, w.compared),
                gold => gold(w.gold_answers, w.gold_score_sum) },
            projects => projects, balances => balances, entries => entries,
        },
    );
    Ok(no_store(html.into_response()))
}

/// A vendor manager sets their reference for one of their workers.
pub async fn set_reference(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    body: Bytes,
) -> PageResult {
    let form = checked_form(&user, &body)?;
    let worker = id(&raw)?;
    ui.state
        .app
        .set_vendor_ref(
            &user.session.principal,
            worker,
            form_value(&form, "reference").unwrap_or_default(),
        )
        .await?;
    Ok(see_other(&format!("/vendor/workers/{worker}")))
}
