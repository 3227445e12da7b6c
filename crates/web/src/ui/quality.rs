//! The project quality page (`GET /projects/{id}/quality`): per-question agreement, the item agreement histogram
//! and per-worker figures, with charts drawn as inline SVG on the server.
//!
//! The page only reads what the quality job stored (nothing is computed on view). Charts are plain `<svg>` with
//! precomputed geometry and CSS classes for colour (the UI's Content-Security-Policy allows no inline style), each
//! with a text alternative, and every figure is also in a table, so screen readers and phones get the numbers.

use std::sync::Arc;

use axum::Extension;
use axum::extract::Path;
use axum::response::IntoResponse;
use fairloop_app::quality::QualityView;
use minijinja::context;
use serde::Serialize;

use super::pages::{id, user_view};
use super::render::{render, ser};
use super::session::CurrentUser;
use super::{Ui, UiError};

/// Width of the charts' drawing area in SVG units.
const CHART_WIDTH: f64 = 300.0;
/// Height of the histogram's bars area.
const HIST_HEIGHT: f64 = 100.0;
/// Most workers drawn in the chart (the table lists all).
const CHART_WORKERS: usize = 30;

/// A figure as text: two decimals, or "undefined".
fn fig(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("{x:.2}"),
        None => "undefined".into(),
    }
}

/// A share as a percentage, or "–".
fn pct(v: Option<f64>) -> String {
    match v {
        Some(x) => format!("{:.0}%", x * 100.0),
        None => "–".into(),
    }
}

#[derive(Serialize)]
struct Bar {
    x: f64,
    y: f64,
    w: f64,
    h: f64,
    label: String,
    count: i64,
}

#[derive(Serialize)]
struct WorkerRow {
    name: String,
    short_name: String,
    submissions: i64,
    agreement: String,
    gold_answers: i64,
    gold: String,
    y: f64,
    agreement_w: f64,
    gold_w: Option<f64>,
}

#[derive(Serialize)]
struct QuestionRow {
    question: String,
    metric: String,
    alpha: String,
    fleiss: String,
    percent: String,
    note: Option<String>,
    items: i64,
    annotations: i64,
    alpha_w: f64,
}

fn histogram(q: &QualityView) -> Vec<Bar> {
    let max = q
        .agreement_histogram
        .iter()
        .copied()
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let slot = CHART_WIDTH / q.agreement_histogram.len().max(1) as f64;
    q.agreement_histogram
        .iter()
        .enumerate()
        .map(|(i, &count)| {
            let h = HIST_HEIGHT * count as f64 / max;
            Bar {
                x: i as f64 * slot + 2.0,
                y: HIST_HEIGHT - h,
                w: slot - 4.0,
                h,
                label: format!("{:.1}–{:.1}", i as f64 / 10.0, (i + 1) as f64 / 10.0),
                count,
            }
        })
        .collect()
}

/// The quality page of one project (requesters and admins of its organization).
pub async fn quality(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(project): Path<String>,
) -> Result<axum::response::Response, UiError> {
    let project = id(&project)?;
    let p = &user.session.principal;
    let q = ui.state.app.project_quality(p, project).await?;
    let info = ui.state.app.project(p, project).await?;
    let questions: Vec<QuestionRow> = q
        .questions
        .iter()
        .map(|x| QuestionRow {
            question: x.question.clone(),
            metric: x.metric.replace('_', " "),
            alpha: fig(x.alpha),
            fleiss: fig(x.fleiss_kappa),
            percent: pct(x.percent_agreement),
            note: x.note.clone(),
            items: x.items,
            annotations: x.annotations,
            alpha_w: x.alpha.unwrap_or(0.0).clamp(0.0, 1.0) * 100.0,
        })
        .collect();
    let workers: Vec<WorkerRow> = q
        .workers
        .iter()
        .enumerate()
        .map(|(i, w)| WorkerRow {
            name: w.name.clone(),
            short_name: if w.name.chars().count() > 16 {
                w.name.chars().take(15).chain(['…']).collect()
            } else {
                w.name.clone()
            },
            submissions: w.submissions,
            agreement: pct(w.agreement),
            gold_answers: w.gold_answers,
            gold: pct(w.gold_accuracy),
            y: i as f64 * 24.0,
            agreement_w: w.agreement.unwrap_or(0.0) * 180.0,
            gold_w: w.gold_accuracy.map(|g| g * 180.0),
        })
        .collect();
    let chart_workers = workers.len().min(CHART_WORKERS);
    let settings = &q.settings;
    Ok(render(
        "quality.html",
        context! {
            title => format!("Quality of {}", info.name),
            nav => "projects",
            user => ser(&user_view(&user.session)),
            csrf => &user.session.csrf_token,
            project => ser(&serde_json::json!({"id": info.id, "name": info.name, "overlap": info.policy.overlap})),
            gold_rate => pct(Some(settings.gold_rate)),
            adaptive => settings.adaptive_overlap.map(|a| format!(
                "below {:.2} agreement, up to {} answers", a.threshold, a.max_overlap)),
            computed_at => q.computed_at.clone(),
            items => q.items,
            low => q.low_agreement_items,
            adapted => q.adapted_items,
            extra_slots => q.extra_slots,
            questions => ser(&questions),
            histogram => ser(&histogram(&q)),
            hist_total => q.agreement_histogram.iter().sum::<i64>(),
            workers => ser(&workers),
            chart_workers => ser(&&workers[..chart_workers]),
            chart_height => chart_workers as f64 * 24.0,
        },
    )
    .into_response())
}
