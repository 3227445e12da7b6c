//! Pages about time and money: the workbench's heartbeat, the worker's timesheet with what is recorded and
//! disputes, the worker's earnings, and the requester's spend. Server-rendered like every page; charts are
//! inline SVG with the same numbers in a table beside them, so they need no script and read on a phone.

use std::collections::BTreeMap;
use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::{Extension, Path};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fairloop_app::time::{DisputeBody, HeartbeatBody, NOT_RECORDED, RECORDED, idle_rule};
use fairloop_domain::time::{now_millis, to_rfc3339};
use fairloop_store::ledger::{AccountKind, AccountRef, TransactionView};
use fairloop_store::payouts::week_of;
use minijinja::context;
use serde::Serialize;

use super::pages::{PageResult, id, parse_form, see_other, user_view};
use super::render::{render, ser};
use super::session::{CurrentUser, form_value};
use super::{Ui, UiError};

/// Days shown on the timesheet page.
const WINDOW_DAYS: i64 = 30;
/// Transactions read for the money pages.
const HISTORY: i64 = 5000;

/// `12345` as `123.45`.
fn money(minor: i64) -> String {
    fairloop_app::payouts::decimal(minor)
}

/// One bar or point of a chart, with its label.
#[derive(Debug, Clone, Serialize)]
pub struct ChartPoint {
    /// Label (a date).
    pub label: String,
    /// Value in minor units.
    pub value: i64,
    /// The value spelled for people.
    pub text: String,
}

/// An inline SVG bar chart (values ≥ 0) with a title for screen readers; the page shows the same data as a table.
fn bar_chart(title: &str, points: &[ChartPoint]) -> String {
    let (w, h) = (600_i64, 160_i64);
    let max = points.iter().map(|p| p.value).max().unwrap_or(0).max(1);
    let n = points.len().max(1) as i64;
    let slot = w / n;
    let mut bars = String::new();
    for (i, p) in points.iter().enumerate() {
        let bh = (p.value.max(0) * (h - 20)) / max;
        // Bars at most 60 units wide, so one week is a bar, not a wall.
        let bw = (slot * 3 / 4).clamp(1, 60);
        let x = i as i64 * slot.min(80) + 10;
        bars.push_str(&format!(
            "<rect x=\"{x}\" y=\"{}\" width=\"{bw}\" height=\"{bh}\"><title>{}: {}</title></rect>",
            h - bh,
            escape(&p.label),
            escape(&p.text)
        ));
    }
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{t}\" preserveAspectRatio=\"none\">\
         <title>{t}</title>{bars}</svg>",
        t = escape(title)
    )
}

/// An inline SVG line chart of a running balance (may go below zero).
fn line_chart(title: &str, points: &[ChartPoint]) -> String {
    let (w, h) = (600_i64, 160_i64);
    let max = points.iter().map(|p| p.value).max().unwrap_or(0).max(1);
    let min = points.iter().map(|p| p.value).min().unwrap_or(0).min(0);
    let span = (max - min).max(1);
    let n = (points.len() as i64 - 1).max(1);
    let coords: Vec<String> = points
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let x = i as i64 * w / n;
            let y = h - 5 - (p.value - min) * (h - 10) / span;
            format!("{x},{y}")
        })
        .collect();
    let zero = h - 5 - (-min) * (h - 10) / span;
    format!(
        "<svg class=\"chart\" viewBox=\"0 0 {w} {h}\" role=\"img\" aria-label=\"{t}\" preserveAspectRatio=\"none\">\
         <title>{t}</title><line x1=\"0\" x2=\"{w}\" y1=\"{zero}\" y2=\"{zero}\" class=\"axis\"/>\
         <polyline fill=\"none\" points=\"{}\"/></svg>",
        coords.join(" "),
        t = escape(title)
    )
}

fn escape(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// The workbench's heartbeat (`heartbeat.js`): a form post with the session's CSRF token; 204, or the status
/// that tells the script to stop (404, 409).
pub async fn heartbeat(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path((_project, assignment)): Path<(String, String)>,
    body: Bytes,
) -> PageResult {
    let assignment = id(&assignment)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let flag = |k: &str| form_value(&form, k) == Some("1");
    let beat = HeartbeatBody {
        focus: flag("focus"),
        input: flag("input"),
    };
    match ui
        .state
        .app
        .heartbeat(&user.session.principal, assignment, beat)
        .await
    {
        Ok(_) => Ok(StatusCode::NO_CONTENT.into_response()),
        Err(fairloop_app::AppError::Conflict { .. }) => Ok(StatusCode::CONFLICT.into_response()),
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize)]
struct EntryRow {
    assignment_id: i64,
    project: String,
    item: String,
    claimed: String,
    status: String,
    active: String,
    heartbeats: i64,
    dispute: Option<String>,
    can_dispute: bool,
}

fn duration(ms: i64) -> String {
    let s = ms / 1000;
    format!("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60)
}

/// The worker's timesheet, exactly what is recorded, the idle rule, and a dispute form per entry.
pub async fn time_page(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    let p = &user.session.principal;
    let to = now_millis() + 60_000;
    let sheet = ui
        .state
        .app
        .timesheet(p, None, to - WINDOW_DAYS * 86_400_000, to)
        .await?;
    let disputes = ui.state.app.time_disputes(p).await?;
    let entries: Vec<EntryRow> = sheet
        .entries
        .iter()
        .rev()
        .map(|e| EntryRow {
            assignment_id: e.assignment_id,
            project: e.project_name.clone(),
            item: e.item.clone(),
            claimed: to_rfc3339(e.claimed_at)[..16].replace('T', " "),
            status: e.status.clone(),
            active: duration(e.measured_ms + e.added_ms),
            heartbeats: e.heartbeats,
            dispute: e.dispute.clone(),
            can_dispute: e.dispute.as_deref() != Some("open"),
        })
        .collect();
    let days: Vec<(String, String, usize)> = sheet
        .days
        .iter()
        .rev()
        .map(|d| (d.day.clone(), duration(d.active_seconds * 1000), d.tasks))
        .collect();
    let onboarding: Vec<(String, String, String, String)> = sheet
        .onboarding
        .iter()
        .rev()
        .map(|d| {
            (
                to_rfc3339(d.day * fairloop_store::onboarding::DAY_MS)[..10].to_string(),
                d.project_name.clone(),
                duration(d.active_ms),
                match d.transaction_id {
                    Some(_) => "paid".to_string(),
                    None => "to be paid after the day ends".to_string(),
                },
            )
        })
        .collect();
    Ok(render(
        "time.html",
        context! { title => "Time", nav => "time", user => ser(&user_view(&user.session)),
        onboarding => ser(&onboarding),
        csrf => &user.session.csrf_token, entries => ser(&entries), days => ser(&days),
        total => duration(sheet.total_active_seconds * 1000), recorded => ser(&RECORDED),
        not_recorded => ser(&NOT_RECORDED), idle_rule => idle_rule(), disputes => ser(&disputes) },
    )
    .into_response())
}

/// A dispute of a timesheet entry, from the time page.
pub async fn dispute(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(assignment): Path<String>,
    body: Bytes,
) -> PageResult {
    let assignment = id(&assignment)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let reason = form_value(&form, "reason").unwrap_or_default().to_string();
    match ui
        .state
        .app
        .dispute_time(&user.session.principal, assignment, DisputeBody { reason })
        .await
    {
        Ok(_) => Ok(see_other("/time#disputes")),
        Err(fairloop_app::AppError::Invalid { message, .. })
        | Err(fairloop_app::AppError::Conflict { message, .. }) => Err(UiError::page(
            StatusCode::UNPROCESSABLE_ENTITY,
            "The dispute was not sent",
            format!("{message}. Go back and write what is wrong with the entry."),
        )),
        Err(e) => Err(e.into()),
    }
}

#[derive(Serialize, Default)]
struct ProjectMoney {
    project: String,
    amount: String,
    tasks: i64,
    per_task: String,
}

fn weekly(history: &[TransactionView], sign: i64) -> Vec<ChartPoint> {
    let mut weeks: BTreeMap<i64, i64> = BTreeMap::new();
    for t in history {
        *weeks.entry(week_of(t.created_at).0).or_default() += sign * t.amount_minor;
    }
    weeks
        .into_iter()
        .map(|(start, v)| ChartPoint {
            label: to_rfc3339(start)[..10].to_string(),
            value: v,
            text: money(v),
        })
        .collect()
}

fn project_names(projects: &[fairloop_store::Project]) -> BTreeMap<i64, String> {
    projects.iter().map(|p| (p.id, p.name.clone())).collect()
}

/// The worker's earnings: balance, per project, per week (with a chart), effective hourly rate, payouts,
/// and every transaction with its note (a withholding reason is shown here).
pub async fn earnings(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    let app = &ui.state.app;
    let p = &user.session.principal;
    let history = app
        .store
        .ledger_history(p.org_id, AccountRef::earnings(p.user_id), HISTORY)
        .await
        .map_err(fairloop_app::AppError::from)?;
    let accounts = app.ledger_view(p).await?.accounts;
    let balance: Vec<(String, String)> = accounts
        .iter()
        .filter(|a| a.kind == AccountKind::Earnings)
        .map(|a| (a.currency.clone(), money(a.balance_minor)))
        .collect();
    let names = project_names(
        &app.store
            .projects(p.org_id)
            .await
            .map_err(fairloop_app::AppError::from)?,
    );
    let mut per_project: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    let mut earned = 0;
    for t in &history {
        // Payouts and failed payouts move money out of and back into earnings; they are not earnings.
        let payout_flow = t.kind == "payout"
            || (t.kind == "reversal" && t.annotation_id.is_none() && t.project_id.is_none());
        if payout_flow {
            continue;
        }
        let project = t.project_id.unwrap_or(0);
        let e = per_project.entry(project).or_default();
        e.0 += t.amount_minor;
        if t.kind == "task_pay" {
            e.1 += 1;
        }
        earned += t.amount_minor;
    }
    let rows: Vec<ProjectMoney> = per_project
        .iter()
        .map(|(id, (amount, paid))| (*id, (*amount, *paid)))
        .map(|(id, (amount, tasks))| ProjectMoney {
            project: names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| "Floor top-ups and time adjustments".into()),
            amount: money(amount),
            tasks,
            per_task: if tasks > 0 {
                money(amount / tasks)
            } else {
                "—".into()
            },
        })
        .collect();
    let to = now_millis() + 60_000;
    let sheet = app.timesheet(p, None, 0, to).await?;
    let hourly = (sheet.total_active_seconds > 0)
        .then(|| money(earned.saturating_mul(3600) / sheet.total_active_seconds));
    let earning_entries: Vec<TransactionView> = history
        .iter()
        .filter(|t| {
            !(t.kind == "payout"
                || (t.kind == "reversal" && t.annotation_id.is_none() && t.project_id.is_none()))
        })
        .cloned()
        .collect();
    let weeks = weekly(&earning_entries, 1);
    let chart = bar_chart("Earnings per week", &weeks);
    let payouts = app.payouts(p, None).await?;
    let payouts: Vec<(String, String, String, String)> = payouts
        .iter()
        .map(|x| {
            (
                to_rfc3339(x.period_start)[..10].to_string(),
                money(x.amount_minor),
                x.currency.clone(),
                x.status.clone(),
            )
        })
        .collect();
    let tx: Vec<(String, String, String, String)> = history
        .iter()
        .take(100)
        .map(|t| {
            (
                to_rfc3339(t.created_at)[..16].replace('T', " "),
                t.kind.replace('_', " "),
                money(t.amount_minor),
                t.memo.clone(),
            )
        })
        .collect();
    Ok(render(
        "earnings.html",
        context! { title => "Earnings", nav => "earnings", user => ser(&user_view(&user.session)),
        csrf => &user.session.csrf_token, balance => ser(&balance), projects => ser(&rows),
        hourly => hourly, active => duration(sheet.total_active_seconds * 1000), chart => chart,
        weeks => ser(&weeks), payouts => ser(&payouts), transactions => ser(&tx) },
    )
    .into_response())
}

/// The requester's spend: budget, spend per project with cost per paid label, and a budget burn-down chart.
pub async fn spend(Extension(ui): Extension<Arc<Ui>>, user: CurrentUser) -> PageResult {
    let app = &ui.state.app;
    let p = &user.session.principal;
    if !p.role.can_manage_projects() {
        return Err(UiError::page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            format!(
                "Spending needs the requester or admin role; you are a {}.",
                p.role
            ),
        ));
    }
    let history = app
        .store
        .ledger_history(p.org_id, AccountRef::BUDGET, HISTORY)
        .await
        .map_err(fairloop_app::AppError::from)?;
    let all_projects = app
        .store
        .projects(p.org_id)
        .await
        .map_err(fairloop_app::AppError::from)?;
    let names = project_names(&all_projects);
    // A project's task type: its template's question types ("pairwise + rubric"), for spend per type.
    let types: BTreeMap<i64, String> = all_projects
        .iter()
        .map(|pr| {
            let kinds = serde_json::from_str(&pr.template)
                .ok()
                .and_then(|v| fairloop_domain::template::TaskTemplate::from_json(&v).ok())
                .map(|t| {
                    let mut k: Vec<&str> = t.questions.iter().map(|q| q.kind.type_name()).collect();
                    k.sort_unstable();
                    k.dedup();
                    k.join(" + ").replace('_', " ")
                })
                .unwrap_or_else(|| "unknown".into());
            (pr.id, kinds)
        })
        .collect();
    let mut per_project: BTreeMap<i64, (i64, i64)> = BTreeMap::new();
    for t in &history {
        let Some(project) = t.project_id else {
            continue;
        };
        let e = per_project.entry(project).or_default();
        e.0 -= t.amount_minor;
        match t.kind.as_str() {
            "task_pay" if t.amount_minor != 0 => e.1 += 1,
            "reversal" if t.annotation_id.is_some() => e.1 -= 1,
            _ => {}
        }
    }
    let rows: Vec<ProjectMoney> = per_project
        .iter()
        .map(|(id, (amount, paid))| (*id, (*amount, *paid)))
        .map(|(id, (amount, paid))| ProjectMoney {
            project: names
                .get(&id)
                .cloned()
                .unwrap_or_else(|| format!("Project {id}")),
            amount: money(amount),
            tasks: paid,
            per_task: if paid > 0 {
                money(amount / paid)
            } else {
                "—".into()
            },
        })
        .collect();
    let mut per_type: BTreeMap<String, (i64, i64)> = BTreeMap::new();
    for (id, (amount, paid)) in &per_project {
        let e = per_type
            .entry(types.get(id).cloned().unwrap_or_else(|| "unknown".into()))
            .or_default();
        e.0 += amount;
        e.1 += paid;
    }
    let by_type: Vec<ProjectMoney> = per_type
        .into_iter()
        .map(|(kind, (amount, paid))| ProjectMoney {
            project: kind,
            amount: money(amount),
            tasks: paid,
            per_task: if paid > 0 {
                money(amount / paid)
            } else {
                "—".into()
            },
        })
        .collect();
    let mut running = 0;
    let mut points = Vec::new();
    for t in history.iter().rev() {
        running += t.amount_minor;
        points.push(ChartPoint {
            label: to_rfc3339(t.created_at)[..16].replace('T', " "),
            value: running,
            text: money(running),
        });
    }
    let chart = line_chart("Budget balance over time", &points);
    let accounts = app.ledger_view(p).await?.accounts;
    let budget: Vec<(String, String)> = accounts
        .iter()
        .filter(|a| a.kind == AccountKind::Budget)
        .map(|a| (a.currency.clone(), money(a.balance_minor)))
        .collect();
    let recent: Vec<ChartPoint> = points.iter().rev().take(20).cloned().collect();
    Ok(render(
        "spend.html",
        context! { title => "Spend", nav => "spend", user => ser(&user_view(&user.session)),
        csrf => &user.session.csrf_token, budget => ser(&budget), projects => ser(&rows), chart => chart,
        points => ser(&recent), by_type => ser(&by_type) },
    )
    .into_response())
}

/// `?from=` (UTC millis) of the printable statement and invoice; the current week by default.
#[derive(Debug, serde::Deserialize)]
pub struct PeriodQuery {
    from: Option<i64>,
}

fn week(q: &PeriodQuery) -> (i64, i64) {
    let start = week_of(q.from.unwrap_or_else(now_millis)).0;
    (start, start + fairloop_store::payouts::WEEK_MS)
}

#[derive(Serialize)]
struct PrintLine {
    at: String,
    what: String,
    memo: String,
    amount: String,
    currency: String,
}

fn printable(
    user: &CurrentUser,
    nav: &str,
    s: &fairloop_app::statements::Statement,
    start: i64,
    base: &str,
) -> axum::response::Response {
    let lines: Vec<PrintLine> = s
        .lines
        .iter()
        .map(|l| PrintLine {
            at: l.at[..16].replace('T', " "),
            what: l.what.clone(),
            memo: l.memo.clone(),
            amount: money(l.amount_minor),
            currency: l.currency.clone(),
        })
        .collect();
    let totals: Vec<(String, String, String, String, String)> = s
        .totals
        .iter()
        .map(|t| {
            (
                t.currency.clone(),
                money(t.opening_minor),
                money(t.credits_minor),
                money(t.debits_minor),
                money(t.closing_minor),
            )
        })
        .collect();
    let week_ms = fairloop_store::payouts::WEEK_MS;
    render(
        "statement.html",
        context! { title => s.title, nav => nav, user => ser(&user_view(&user.session)),
        csrf => &user.session.csrf_token, heading => s.title, from => &s.from[..10], to => &s.to[..10],
        owner => s.owner_id, lines => ser(&lines), totals => ser(&totals),
        previous => format!("{base}?from={}", start - week_ms), next => format!("{base}?from={}", start + week_ms),
        csv => format!("/api/v1/{}.csv?from={start}&to={}", s.title.to_lowercase(), start + week_ms) },
    )
    .into_response()
}

/// The worker's printable statement for a week.
pub async fn statement(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<PeriodQuery>,
) -> PageResult {
    let (from, to) = week(&q);
    let s = ui
        .state
        .app
        .statement(&user.session.principal, None, from, to)
        .await?;
    Ok(printable(
        &user,
        "earnings",
        &s,
        from,
        "/earnings/statement",
    ))
}

/// The organization's printable invoice for a week (requesters and admins).
pub async fn invoice(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    axum::extract::Query(q): axum::extract::Query<PeriodQuery>,
) -> PageResult {
    let (from, to) = week(&q);
    let s = ui
        .state
        .app
        .invoice(&user.session.principal, from, to)
        .await?;
    Ok(printable(&user, "spend", &s, from, "/spend/invoice"))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn charts_escape_their_labels_and_handle_empty_data() {
        let p = ChartPoint {
            label: "<b>".into(),
            value: 5,
            text: "0.05".into(),
        };
        let svg = bar_chart("A & B", std::slice::from_ref(&p));
        assert!(svg.contains("A &amp; B") && svg.contains("&lt;b&gt;"));
        assert!(bar_chart("empty", &[]).starts_with("<svg"));
        assert!(line_chart("one", &[p]).contains("polyline"));
        assert_eq!(duration(3_725_000), "1:02:05");
    }
}
