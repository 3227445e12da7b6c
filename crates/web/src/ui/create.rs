//! Creating a project in the console: a gallery of templates, the template document with a live preview of
//! the worker's view, pay and overlap; then uploading data with a report that lists every bad line.
//!
//! Everything works as plain forms (the preview has a "Preview" button); `assets/preview.js` only refreshes
//! the preview while the requester types.

use std::sync::Arc;

use axum::Extension;
use axum::body::Bytes;
use axum::extract::{Multipart, Path, Query};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use fairloop_app::AppError;
use fairloop_app::import::{ImportMode, ImportProgress};
use fairloop_app::projects::{CreateProject, Pay};
use fairloop_domain::template::{FieldKind, TaskTemplate, examples};
use fairloop_formats::ImportFormat;
use minijinja::context;
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};
use tokio::io::AsyncWriteExt;

use super::pages::{PageResult, capitalise, id, parse_form, see_other, user_view};
use super::render::{self, form_values, render, ser};
use super::session::{CurrentUser, form_value};
use super::{Ui, UiError};

/// The gallery: example name, title and a sentence, in the order shown.
const GALLERY: [(&str, &str, &str); 14] = [
    (
        "llm_pairwise_rubric",
        "LLM pairwise preference",
        "Two model answers side by side: which is better and by how much, why, and a rubric score.",
    ),
    (
        "rubric_grading",
        "Rubric grading",
        "Grade one response on several criteria, each on its own scale.",
    ),
    (
        "response_ranking",
        "Rank responses",
        "Order several answers best to worst, ties allowed.",
    ),
    (
        "reference_answer",
        "Write a reference answer",
        "An expert writes the answer a model should have given (SFT data).",
    ),
    (
        "text_classification",
        "Classification",
        "One label per text, with number keys.",
    ),
    (
        "named_entities",
        "Entity spans",
        "Mark people, organizations and places in a text.",
    ),
    (
        "chat_rating",
        "Multi-turn chat rating",
        "Rate a whole conversation and flag its problems.",
    ),
    (
        "search_relevance",
        "Search relevance",
        "Judge how well a result answers a query.",
    ),
    (
        "image_boxes",
        "Image boxes",
        "Draw labelled boxes around objects, by mouse, touch or keyboard.",
    ),
    (
        "image_segments",
        "Image regions (X-ray)",
        "Outline regions as polygons, with zoom, brightness and contrast.",
    ),
    (
        "pose_keypoints",
        "Pose keypoints",
        "Place named points (head, shoulders, hands) on every person.",
    ),
    (
        "generated_video_qa",
        "QA of generated video",
        "Mark visual errors of a model's video as time ranges with a category and severity, then rate it.",
    ),
    (
        "video_events",
        "Video events",
        "Mark when actions start and end, frame by frame.",
    ),
    (
        "object_tracking",
        "Object tracking",
        "Follow objects through a video as boxes on key frames, interpolated between them.",
    ),
];

/// Currencies offered in the form (any ISO code works through the API).
const CURRENCIES: [&str; 6] = ["USD", "EUR", "GBP", "CAD", "INR", "JPY"];

fn example_json(name: &str) -> Option<String> {
    examples()
        .into_iter()
        .find(|(n, _)| *n == name)
        .map(|(_, v)| serde_json::to_string_pretty(&v).expect("examples serialize"))
}

/// The preview's stand-in for an image: 640x400, grey, with a caption.
const SAMPLE_IMAGE: &str = "data:image/svg+xml,%3Csvg%20xmlns%3D%22http%3A%2F%2Fwww.w3.org%2F2000%2Fsvg%22%20width%3D%22640%22%20height%3D%22400%22%3E%3Crect%20width%3D%22640%22%20height%3D%22400%22%20fill%3D%22%23777%22%2F%3E%3Ctext%20x%3D%22320%22%20y%3D%22210%22%20font-size%3D%2232%22%20text-anchor%3D%22middle%22%20fill%3D%22%23eee%22%3ESample%20image%3C%2Ftext%3E%3C%2Fsvg%3E";

/// Made-up item data for the preview, one value per field of the template.
fn sample_data(t: &TaskTemplate) -> Map<String, Value> {
    let mut data = Map::new();
    for f in &t.fields {
        let label = f.label.clone().unwrap_or_else(|| f.name.clone());
        let v = match f.kind {
            FieldKind::Text => json!(format!(
                "Sample text for “{label}”: Maria Lopez met the board of Acme Corp in Lisbon on Monday."
            )),
            FieldKind::Markdown => json!(format!(
                "A **sample** {label}, as a model might write it:\n\n```python\nprint(\"hello\")\n```"
            )),
            FieldKind::Chat => json!([
                {"role": "user", "content": "Can you help me plan a three-day trip to Kyoto?"},
                {"role": "assistant", "content": "Gladly. Day one: Fushimi Inari early, then Gion in the evening."}
            ]),
            FieldKind::Link => json!("https://example.org/"),
            // A grey placeholder the shape widgets can draw on (an SVG in an <img> runs no script).
            FieldKind::Image => json!(SAMPLE_IMAGE),
            _ => json!(format!("sample-{}.bin", f.name)),
        };
        data.insert(f.source().to_string(), v);
    }
    data
}

/// The worker's view of a template, or the reason it is not a valid template.
fn preview(template_text: &str) -> Result<minijinja::Value, String> {
    let v: Value = serde_json::from_str(template_text).map_err(|e| {
        format!(
            "The template is not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let t = TaskTemplate::from_json(&v).map_err(|e| format!("The template is not valid: {e}"))?;
    let data = sample_data(&t);
    Ok(context! {
        fields => ser(&render::fields(&t, &data)),
        questions => ser(&render::questions_for_item(&t, &form_values(&[]), &Default::default(), &data)),
    })
}

/// What the form holds, to re-render it after an error or a preview.
#[derive(Serialize, Default)]
struct FormState {
    name: String,
    template: String,
    overlap: String,
    pay_model: String,
    amount: String,
    currency: String,
    chosen: String,
    gold_percent: String,
    /// Hourly rate for reading the guidelines (paid onboarding); empty for none.
    onboarding_rate: String,
}

#[derive(Deserialize, Default)]
pub struct NewQuery {
    template: Option<String>,
}

fn require_console(user: &CurrentUser) -> Result<(), UiError> {
    let p = &user.session.principal;
    if p.role.can_manage_projects() {
        Ok(())
    } else {
        Err(UiError::page(
            StatusCode::FORBIDDEN,
            "Not allowed",
            format!(
                "Creating projects needs the requester or admin role; you are a {}.",
                p.role
            ),
        ))
    }
}

fn new_page(
    user: &CurrentUser,
    status: StatusCode,
    state: &FormState,
    error: Option<String>,
) -> PageResult {
    let (shown, preview_error) = match preview(&state.template) {
        Ok(v) => (Some(v), None),
        Err(e) => (None, Some(e)),
    };
    let gallery: Vec<_> = GALLERY
        .iter()
        .map(|(n, title, blurb)| context! { name => *n, title => *title, blurb => *blurb })
        .collect();
    Ok((
        status,
        render(
            "project_new.html",
            context! {
                title => "New project", nav => "projects", user => ser(&user_view(&user.session)),
                csrf => &user.session.csrf_token, form => ser(state), gallery => gallery,
                currencies => CURRENCIES, error => error, preview => shown, preview_error => preview_error,
            },
        ),
    )
        .into_response())
}

/// The gallery and the form, with the chosen example filled in.
pub async fn new_form(user: CurrentUser, Query(q): Query<NewQuery>) -> PageResult {
    require_console(&user)?;
    let chosen = q
        .template
        .filter(|t| GALLERY.iter().any(|(n, ..)| n == t))
        .unwrap_or_else(|| GALLERY[0].0.to_string());
    let title = GALLERY
        .iter()
        .find(|(n, ..)| *n == chosen)
        .map(|g| g.1)
        .unwrap_or("");
    let state = FormState {
        name: title.to_string(),
        template: example_json(&chosen).unwrap_or_default(),
        overlap: "1".into(),
        pay_model: "per_task".into(),
        amount: "0.50".into(),
        currency: "USD".into(),
        chosen,
        gold_percent: "0".into(),
        onboarding_rate: String::new(),
    };
    new_page(&user, StatusCode::OK, &state, None)
}

/// "1.80" in a currency with `decimals` digits → 180; a clear message otherwise.
fn parse_amount(raw: &str, decimals: u32) -> Result<i64, String> {
    let raw = raw.trim();
    let bad = || format!("“{raw}” is not an amount; write it like 1.80");
    let (whole, frac) = raw.split_once('.').unwrap_or((raw, ""));
    if whole.is_empty() && frac.is_empty()
        || !whole.bytes().all(|b| b.is_ascii_digit())
        || !frac.bytes().all(|b| b.is_ascii_digit())
    {
        return Err(bad());
    }
    if frac.len() as u32 > decimals {
        return Err(format!(
            "“{raw}” has more decimals than the currency has ({decimals})"
        ));
    }
    let whole: i64 = if whole.is_empty() {
        0
    } else {
        whole.parse().map_err(|_| bad())?
    };
    let frac_value: i64 = if frac.is_empty() {
        0
    } else {
        frac.parse::<i64>().map_err(|_| bad())? * 10_i64.pow(decimals - frac.len() as u32)
    };
    whole
        .checked_mul(10_i64.pow(decimals))
        .and_then(|w| w.checked_add(frac_value))
        .ok_or_else(bad)
}

fn form_state(form: &[(String, String)]) -> FormState {
    let get = |k: &str| form_value(form, k).unwrap_or_default().to_string();
    FormState {
        name: get("name"),
        template: get("template"),
        overlap: get("overlap"),
        pay_model: get("pay_model"),
        amount: get("amount"),
        currency: get("currency"),
        chosen: get("chosen"),
        gold_percent: get("gold_percent"),
        onboarding_rate: get("onboarding_rate"),
    }
}

fn create_input(state: &FormState) -> Result<CreateProject, String> {
    let template: Value = serde_json::from_str(&state.template).map_err(|e| {
        format!(
            "The template is not valid JSON (line {}, column {}): {e}",
            e.line(),
            e.column()
        )
    })?;
    let overlap = match state.overlap.trim() {
        "" => None,
        o => Some(o.parse::<u32>().map_err(|_| {
            format!("“{o}” is not a number of workers per item; write a whole number such as 3")
        })?),
    };
    let currency = state.currency.trim().to_uppercase();
    let decimals = if currency == "JPY" { 0 } else { 2 };
    let pay = match state.pay_model.as_str() {
        "per_task" => Some(Pay::PerTask {
            amount_minor: parse_amount(&state.amount, decimals)?,
            currency,
        }),
        "hourly" => Some(Pay::Hourly {
            rate_minor: parse_amount(&state.amount, decimals)?,
            currency,
        }),
        _ => None,
    };
    let onboarding_pay = match state.onboarding_rate.trim() {
        "" | "0" => None,
        rate => Some(fairloop_app::onboarding::OnboardingPay {
            rate_minor: parse_amount(rate, decimals)?,
            max_minutes: None,
        }),
    };
    Ok(CreateProject {
        name: state.name.clone(),
        template,
        overlap,
        lease_seconds: None,
        max_open_per_worker: None,
        pay,
        budget_minor: None,
        gold_rate: match state.gold_percent.trim() {
            "" | "0" => None,
            g => Some(
                g.parse::<f64>()
                    .ok()
                    .filter(|v| (0.0..=100.0).contains(v))
                    .ok_or_else(|| {
                        format!(
                            "“{g}” is not a share of gold items; write a percentage from 0 to 100"
                        )
                    })?
                    / 100.0,
            ),
        },
        adaptive_overlap: None,
        state: None,
        onboarding_pay,
        requirements: None,
        wellbeing: None,
    })
}

/// Preview (re-render with the edited template) or create the project and go on to the upload.
pub async fn create(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    body: Bytes,
) -> PageResult {
    require_console(&user)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let state = form_state(&form);
    if form_value(&form, "action") == Some("preview") {
        return new_page(&user, StatusCode::OK, &state, None);
    }
    let input = match create_input(&state) {
        Ok(i) => i,
        Err(e) => return new_page(&user, StatusCode::UNPROCESSABLE_ENTITY, &state, Some(e)),
    };
    match ui
        .state
        .app
        .create_project(&user.session.principal, input)
        .await
    {
        Ok(p) => Ok(see_other(&format!("/projects/{}/upload?new=1", p.id))),
        Err(AppError::Invalid { message, .. }) => new_page(
            &user,
            StatusCode::UNPROCESSABLE_ENTITY,
            &state,
            Some(capitalise(&message)),
        ),
        Err(e) => Err(e.into()),
    }
}

/// Just the preview, for `preview.js` to swap in while the requester edits the template.
pub async fn preview_fragment(user: CurrentUser, body: Bytes) -> PageResult {
    require_console(&user)?;
    let form = parse_form(&body)?;
    user.check_csrf(&form)?;
    let template = form_value(&form, "template").unwrap_or_default();
    let ctx = match preview(template) {
        Ok(v) => context! { preview => v },
        Err(e) => context! { preview_error => e },
    };
    Ok(render("_preview.html", ctx).into_response())
}

#[derive(Deserialize, Default)]
pub struct UploadQuery {
    new: Option<String>,
}

/// The upload form of a project.
pub async fn upload_form(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    Query(q): Query<UploadQuery>,
) -> PageResult {
    require_console(&user)?;
    let project = ui
        .state
        .app
        .project(&user.session.principal, id(&raw)?)
        .await?;
    upload_page(&user, &project, StatusCode::OK, q.new.is_some(), None)
}

#[derive(Serialize)]
struct ReportView {
    file: String,
    imported: u64,
    duplicates: u64,
    error_count: u64,
    rejected: bool,
    errors: Vec<(u64, String)>,
    shown: usize,
}

fn upload_page(
    user: &CurrentUser,
    project: &fairloop_store::Project,
    status: StatusCode,
    created: bool,
    report: Option<(ReportView, Option<String>)>,
) -> PageResult {
    let (report, error) = match report {
        Some((r, e)) => (Some(r), e),
        None => (None, None),
    };
    let fields: Vec<String> = serde_json::from_str::<Value>(&project.template)
        .ok()
        .and_then(|v| TaskTemplate::from_json(&v).ok())
        .map(|t| t.fields.iter().map(|f| f.source().to_string()).collect())
        .unwrap_or_default();
    Ok((
        status,
        render(
            "upload.html",
            context! {
                title => format!("Upload · {}", project.name), nav => "projects",
                user => ser(&user_view(&user.session)), csrf => &user.session.csrf_token,
                project => context! { id => project.id, name => &project.name }, created => created,
                report => report.as_ref().map(ser), error => error, fields => fields,
            },
        ),
    )
        .into_response())
}

/// Receives the file (multipart), imports it and shows the report.
pub async fn upload(
    Extension(ui): Extension<Arc<Ui>>,
    user: CurrentUser,
    Path(raw): Path<String>,
    mut multipart: Multipart,
) -> PageResult {
    require_console(&user)?;
    let principal = user.session.principal.clone();
    let project = ui.state.app.project(&principal, id(&raw)?).await?;
    let limit = ui.state.app.config.max_import_bytes;
    let mut csrf = String::new();
    let mut mode = String::from("atomic");
    let mut file: Option<(tempfile::TempPath, String)> = None;
    let fail = |m: String| {
        UiError::page(
            StatusCode::BAD_REQUEST,
            "The upload did not arrive",
            format!("{m} Try again; nothing was imported."),
        )
    };
    while let Some(mut field) = multipart
        .next_field()
        .await
        .map_err(|e| fail(format!("The form could not be read ({e}).")))?
    {
        match field.name().unwrap_or_default() {
            "_csrf" => csrf = field.text().await.unwrap_or_default(),
            "mode" => mode = field.text().await.unwrap_or_default(),
            "file" => {
                let name = field.file_name().unwrap_or("upload").to_string();
                let tmp = tempfile::Builder::new()
                    .prefix("upload-")
                    .tempfile_in(&ui.state.tmp_dir)
                    .map_err(|e| AppError::Internal(format!("spool file: {e}")))?;
                let (std_file, path) = tmp.into_parts();
                let mut out = tokio::io::BufWriter::new(tokio::fs::File::from_std(std_file));
                let mut total = 0u64;
                while let Some(chunk) = field
                    .chunk()
                    .await
                    .map_err(|e| fail(format!("The upload was interrupted ({e}).")))?
                {
                    total += chunk.len() as u64;
                    if total > limit {
                        return Err(UiError::page(
                            StatusCode::PAYLOAD_TOO_LARGE,
                            "The file is too large",
                            format!(
                                "Files up to {} MB can be uploaded here; split the file, or use the API or \
                                 `fairloop import` for larger ones. Nothing was imported.",
                                limit >> 20
                            ),
                        ));
                    }
                    out.write_all(&chunk)
                        .await
                        .map_err(|e| AppError::Internal(format!("spool file: {e}")))?;
                }
                out.flush()
                    .await
                    .map_err(|e| AppError::Internal(format!("spool file: {e}")))?;
                file = Some((path, name));
            }
            _ => {}
        }
    }
    user.check_csrf(&[("_csrf".to_string(), csrf)])?;
    let Some((path, name)) = file.filter(|(_, n)| !n.is_empty()) else {
        return upload_page(
            &user,
            &project,
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
            Some((
                empty_report(""),
                Some("Choose a file to upload.".to_string()),
            )),
        );
    };
    let Some(format) = ImportFormat::from_path(std::path::Path::new(&name)) else {
        return upload_page(
            &user,
            &project,
            StatusCode::UNPROCESSABLE_ENTITY,
            false,
            Some((
                empty_report(&name),
                Some(format!(
                    "“{name}” is not a file this page can read: upload a .jsonl, .csv or .parquet file."
                )),
            )),
        );
    };
    let mode = ImportMode::parse(&mode)?;
    let report = ui
        .state
        .app
        .import_file(
            &principal,
            project.id,
            path.to_path_buf(),
            format,
            mode,
            Arc::new(ImportProgress::default()),
        )
        .await?;
    drop(path);
    let view = ReportView {
        file: name,
        imported: report.imported,
        duplicates: report.duplicates,
        error_count: report.error_count,
        rejected: report.rejected,
        shown: report.errors.len(),
        errors: report
            .errors
            .into_iter()
            .map(|e| (e.line, e.message))
            .collect(),
    };
    let status = if view.rejected {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    upload_page(&user, &project, status, false, Some((view, None)))
}

fn empty_report(file: &str) -> ReportView {
    ReportView {
        file: file.to_string(),
        imported: 0,
        duplicates: 0,
        error_count: 0,
        rejected: false,
        errors: Vec::new(),
        shown: 0,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn amounts_parse_into_minor_units_or_say_why_not() {
        assert_eq!(parse_amount("1.80", 2), Ok(180));
        assert_eq!(parse_amount("12", 2), Ok(1200));
        assert_eq!(parse_amount(".5", 2), Ok(50));
        assert_eq!(parse_amount("300", 0), Ok(300));
        assert!(
            parse_amount("1.805", 2)
                .unwrap_err()
                .contains("more decimals")
        );
        assert!(parse_amount("-1", 2).unwrap_err().contains("not an amount"));
        assert!(parse_amount("", 2).unwrap_err().contains("not an amount"));
        assert!(
            parse_amount("1,80", 2)
                .unwrap_err()
                .contains("not an amount")
        );
        assert!(parse_amount("99999999999999999999", 2).is_err());
    }

    #[test]
    fn every_gallery_entry_is_a_valid_example_with_a_preview() {
        for (name, ..) in GALLERY {
            let text = example_json(name).unwrap_or_else(|| panic!("{name} is not an example"));
            assert!(preview(&text).is_ok(), "{name}");
        }
        assert!(preview("{").unwrap_err().contains("line 1"));
        assert!(
            preview("{\"fields\": []}")
                .unwrap_err()
                .contains("not valid")
        );
    }
}
