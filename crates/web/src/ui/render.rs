//! Turning domain data into what the templates show: the template environment, Markdown rendered and
//! sanitised on the server, money from minor units, item fields and question forms, and answers back from
//! posted forms.
//!
//! Everything reaches the page through minijinja's autoescaping. The one exception is Markdown, which is
//! rendered to HTML by pulldown-cmark and then cleaned by ammonia (no scripts, no event handlers, no
//! `javascript:` links) before a template marks it safe.

use std::collections::HashMap;
use std::sync::OnceLock;

use axum::response::Html;
use fairloop_domain::template::{
    ChoiceOption, DEFAULT_FPS, FieldKind, Justification, QuestionKind, TaskTemplate,
};
use minijinja::Environment;
use serde::Serialize;
use serde_json::{Map, Value};

/// The templates, embedded at compile time and parsed once.
fn env() -> &'static Environment<'static> {
    static ENV: OnceLock<Environment<'static>> = OnceLock::new();
    ENV.get_or_init(|| {
        let mut env = Environment::new();
        for (name, src) in [
            ("base.html", include_str!("../../templates/base.html")),
            ("_item.html", include_str!("../../templates/_item.html")),
            (
                "_questions.html",
                include_str!("../../templates/_questions.html"),
            ),
            ("signin.html", include_str!("../../templates/signin.html")),
            (
                "qualification.html",
                include_str!("../../templates/qualification.html"),
            ),
            ("home.html", include_str!("../../templates/home.html")),
            (
                "workbench.html",
                include_str!("../../templates/workbench.html"),
            ),
            ("done.html", include_str!("../../templates/done.html")),
            ("start.html", include_str!("../../templates/start.html")),
            (
                "projects.html",
                include_str!("../../templates/projects.html"),
            ),
            ("error.html", include_str!("../../templates/error.html")),
            ("quality.html", include_str!("../../templates/quality.html")),
            (
                "_signals.html",
                include_str!("../../templates/_signals.html"),
            ),
            (
                "_review_questions.html",
                include_str!("../../templates/_review_questions.html"),
            ),
            (
                "review_projects.html",
                include_str!("../../templates/review_projects.html"),
            ),
            (
                "review_queue.html",
                include_str!("../../templates/review_queue.html"),
            ),
            (
                "my_reviews.html",
                include_str!("../../templates/my_reviews.html"),
            ),
            ("time.html", include_str!("../../templates/time.html")),
            (
                "earnings.html",
                include_str!("../../templates/earnings.html"),
            ),
            ("spend.html", include_str!("../../templates/spend.html")),
            (
                "statement.html",
                include_str!("../../templates/statement.html"),
            ),
            (
                "settings.html",
                include_str!("../../templates/settings.html"),
            ),
            (
                "invitations.html",
                include_str!("../../templates/invitations.html"),
            ),
            ("invite.html", include_str!("../../templates/invite.html")),
            (
                "_preview.html",
                include_str!("../../templates/_preview.html"),
            ),
            (
                "project_new.html",
                include_str!("../../templates/project_new.html"),
            ),
            ("upload.html", include_str!("../../templates/upload.html")),
            ("media.html", include_str!("../../templates/media.html")),
            (
                "sensitivity.html",
                include_str!("../../templates/sensitivity.html"),
            ),
            (
                "project_wellbeing.html",
                include_str!("../../templates/project_wellbeing.html"),
            ),
            ("terms.html", include_str!("../../templates/terms.html")),
            (
                "transparency.html",
                include_str!("../../templates/transparency.html"),
            ),
            (
                "guideline_changes.html",
                include_str!("../../templates/guideline_changes.html"),
            ),
            ("project.html", include_str!("../../templates/project.html")),
            ("profile.html", include_str!("../../templates/profile.html")),
            (
                "worker_profile.html",
                include_str!("../../templates/worker_profile.html"),
            ),
            (
                "matching.html",
                include_str!("../../templates/matching.html"),
            ),
            ("items.html", include_str!("../../templates/items.html")),
            (
                "guidelines.html",
                include_str!("../../templates/guidelines.html"),
            ),
            (
                "lifecycle.html",
                include_str!("../../templates/lifecycle.html"),
            ),
            (
                "guidelines_read.html",
                include_str!("../../templates/guidelines_read.html"),
            ),
            ("board.html", include_str!("../../templates/board.html")),
            (
                "_board_question.html",
                include_str!("../../templates/_board_question.html"),
            ),
            ("inbox.html", include_str!("../../templates/inbox.html")),
            (
                "webhooks.html",
                include_str!("../../templates/webhooks.html"),
            ),
            ("webhook.html", include_str!("../../templates/webhook.html")),
            ("vendors.html", include_str!("../../templates/vendors.html")),
            ("vendor.html", include_str!("../../templates/vendor.html")),
            (
                "vendor_worker.html",
                include_str!("../../templates/vendor_worker.html"),
            ),
            (
                "assessment.html",
                include_str!("../../templates/assessment.html"),
            ),
            ("attempt.html", include_str!("../../templates/attempt.html")),
            (
                "interview.html",
                include_str!("../../templates/interview.html"),
            ),
            (
                "assessment_reviews.html",
                include_str!("../../templates/assessment_reviews.html"),
            ),
        ] {
            env.add_template(name, src)
                .unwrap_or_else(|e| panic!("template {name}: {e}"));
        }
        env
    })
}

/// Renders a page. A template error is a bug (templates are fixed at compile time and tested), so it is
/// logged and answered with a plain sentence rather than a half page.
pub fn render(name: &str, ctx: minijinja::Value) -> Html<String> {
    match env().get_template(name).and_then(|t| t.render(ctx)) {
        Ok(html) => Html(html),
        Err(e) => {
            tracing::error!(error = %e, template = name, "template failed");
            Html("<!doctype html><title>Error</title><p>This page failed to render; it has been logged.".into())
        }
    }
}

/// Any serializable view as a template value.
pub fn ser<T: Serialize>(x: &T) -> minijinja::Value {
    minijinja::Value::from(minijinja::value::Serde(x))
}

/// Percent-encodes a string for a query parameter.
pub fn url_encode(s: &str) -> String {
    serde_urlencoded::to_string([("", s)])
        .map(|e| e.trim_start_matches('=').to_string())
        .unwrap_or_default()
}

/// Markdown to sanitised HTML, with fenced code blocks highlighted.
///
/// Sanitising (ammonia) would strip the highlighter's classes, so each code block is first replaced by a
/// placeholder carrying a per-render random nonce, the document is sanitised, and then the placeholders are
/// swapped for the highlighted code, which syntect builds from the escaped code text alone.
pub fn markdown(src: &str) -> String {
    use pulldown_cmark::{CodeBlockKind, Event, Options, Parser, Tag, TagEnd, html};
    let mut opts = Options::empty();
    opts.insert(Options::ENABLE_TABLES);
    opts.insert(Options::ENABLE_STRIKETHROUGH);
    let nonce = format!("{:016x}", rand_nonce());
    let mut blocks: Vec<String> = Vec::new();
    let mut events = Vec::new();
    let mut code: Option<(String, String)> = None;
    for event in Parser::new_ext(src, opts) {
        match (&mut code, event) {
            (None, Event::Start(Tag::CodeBlock(kind))) => {
                let lang = match kind {
                    CodeBlockKind::Fenced(info) => {
                        info.split_whitespace().next().unwrap_or("").to_string()
                    }
                    CodeBlockKind::Indented => String::new(),
                };
                code = Some((lang, String::new()));
            }
            (Some((_, text)), Event::Text(t)) => text.push_str(&t),
            (Some(_), Event::End(TagEnd::CodeBlock)) => {
                let (lang, text) = code.take().expect("inside a code block");
                events.push(Event::Html(
                    format!(
                        "<pre class=\"code\"><code>fl-code-{nonce}-{}</code></pre>",
                        blocks.len()
                    )
                    .into(),
                ));
                blocks.push(highlight(&lang, &text));
            }
            (Some(_), _) => {}
            (None, e) => events.push(e),
        }
    }
    let mut out = String::with_capacity(src.len() * 3 / 2);
    html::push_html(&mut out, events.into_iter());
    let mut clean = ammonia::clean(&out);
    for (i, block) in blocks.iter().enumerate() {
        clean = clean.replacen(&format!("fl-code-{nonce}-{i}"), block, 1);
    }
    clean
}

fn rand_nonce() -> u64 {
    use std::hash::{BuildHasher, Hasher};
    // A fresh random seed per call (std's hasher keys are random); no crate needed for a nonce.
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u8(0);
    h.finish()
}

/// Highlighted HTML for a code block: `<span class="hl-…">` runs, the code text escaped. Unknown languages
/// come back escaped and plain.
pub fn highlight(lang: &str, code: &str) -> String {
    use syntect::html::{ClassStyle, ClassedHTMLGenerator};
    use syntect::parsing::SyntaxSet;
    use syntect::util::LinesWithEndings;
    static SYNTAXES: OnceLock<SyntaxSet> = OnceLock::new();
    let set = SYNTAXES.get_or_init(SyntaxSet::load_defaults_newlines);
    let syntax = (!lang.is_empty())
        .then(|| set.find_syntax_by_token(lang))
        .flatten();
    let Some(syntax) = syntax else {
        return escape_html(code);
    };
    let mut generator = ClassedHTMLGenerator::new_with_class_style(
        syntax,
        set,
        ClassStyle::SpacedPrefixed { prefix: "hl-" },
    );
    for line in LinesWithEndings::from(code) {
        if generator
            .parse_html_for_line_which_includes_newline(line)
            .is_err()
        {
            return escape_html(code);
        }
    }
    generator.finalize()
}

/// A line diff from `old` to `new` as HTML: removed lines in `<del>`, added ones in `<ins>`, unchanged ones as
/// they are; every line escaped. For showing a worker what changed in the guidelines.
pub fn diff_html(old: &str, new: &str) -> String {
    use similar::{ChangeTag, TextDiff};
    let diff = TextDiff::from_lines(old, new);
    let mut out = String::new();
    for change in diff.iter_all_changes() {
        let line = escape_html(change.value().trim_end_matches('\n'));
        match change.tag() {
            ChangeTag::Delete => out.push_str(&format!("<del>- {line}</del>\n")),
            ChangeTag::Insert => out.push_str(&format!("<ins>+ {line}</ins>\n")),
            ChangeTag::Equal => out.push_str(&format!("<span>  {line}</span>\n")),
        }
    }
    out
}

fn escape_html(s: &str) -> String {
    s.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
}

/// An amount of money from minor units: `$1.80`, `€28.00`, `1200 JPY`.
pub fn money(minor: i64, currency: &str) -> String {
    let decimals = match currency {
        "JPY" | "KRW" | "VND" | "CLP" | "ISK" => 0,
        _ => 2,
    };
    let sign = if minor < 0 { "-" } else { "" };
    let abs = minor.unsigned_abs();
    let amount = if decimals == 0 {
        abs.to_string()
    } else {
        format!("{}.{:02}", abs / 100, abs % 100)
    };
    match currency {
        "USD" => format!("{sign}${amount}"),
        "EUR" => format!("{sign}€{amount}"),
        "GBP" => format!("{sign}£{amount}"),
        other => format!("{sign}{amount} {other}"),
    }
}

/// A project's pay as a worker reads it: "$1.80 per task", "$28.00 per hour", or `None` when unset.
pub fn pay_text(pay_json: Option<&str>) -> Option<String> {
    let pay: Value = serde_json::from_str(pay_json?).ok()?;
    let currency = pay["currency"].as_str()?;
    match pay["model"].as_str()? {
        "per_task" => Some(format!(
            "{} per task",
            money(pay["amount_minor"].as_i64()?, currency)
        )),
        "hourly" => Some(format!(
            "{} per hour",
            money(pay["rate_minor"].as_i64()?, currency)
        )),
        _ => None,
    }
    .map(|base| match onboarding_text(pay_json) {
        Some(extra) => format!("{base} · {extra}"),
        None => base,
    })
}

/// The onboarding offer in words ("reading the guidelines paid at $12.00 per hour, up to 60 min"), when the
/// project pays onboarding time.
pub fn onboarding_text(pay_json: Option<&str>) -> Option<String> {
    let (offer, currency) = fairloop_app::onboarding::OnboardingPay::from_stored(pay_json)?;
    Some(format!(
        "reading the guidelines paid at {} per hour, up to {} min",
        money(offer.rate_minor, &currency),
        offer.max_ms() / 60_000
    ))
}

/// Question types the browser workbench can answer today (all of them: the shape types through `shapes.js`
/// and `video.js`).
pub fn supported(kind: &QuestionKind) -> bool {
    matches!(
        kind,
        QuestionKind::SingleChoice { .. }
            | QuestionKind::MultiChoice { .. }
            | QuestionKind::Rating { .. }
            | QuestionKind::Text { .. }
            | QuestionKind::Pairwise { .. }
            | QuestionKind::Rubric { .. }
            | QuestionKind::Spans { .. }
            | QuestionKind::Ranking { .. }
            | QuestionKind::Boxes { .. }
            | QuestionKind::Polygons { .. }
            | QuestionKind::Keypoints { .. }
            | QuestionKind::VideoEvents { .. }
            | QuestionKind::Tracks { .. }
    )
}

/// The address the browser loads an image, video or audio field from. The one place that maps a media value
/// to a URL: `http(s)://` URLs and `data:` URLs of images, video and audio are used as they are; anything else
/// is a media key (bare or as `media:KEY`), served under `/media/` by the media store's route. `None` for a value the page must not load (e.g. `javascript:` or other `data:`).
pub fn media_src(value: &str) -> Option<String> {
    let v = value.trim();
    let lower = v.to_ascii_lowercase();
    if lower.starts_with("https://") || lower.starts_with("http://") {
        return Some(v.to_string());
    }
    if lower.starts_with("data:image/")
        || lower.starts_with("data:video/")
        || lower.starts_with("data:audio/")
    {
        return Some(v.to_string());
    }
    // `media:KEY` names an uploaded file like a bare `KEY` (docs/media.md), and is what imports usually say.
    let v = if lower.starts_with("media:") {
        &v["media:".len()..]
    } else {
        v
    };
    if v.is_empty() || v.contains(':') || v.starts_with('/') || v.split('/').any(|p| p == "..") {
        return None;
    }
    Some(format!(
        "/media/{}",
        v.split('/')
            .map(url_path_segment)
            .collect::<Vec<_>>()
            .join("/")
    ))
}

/// Percent-encodes one path segment (everything but unreserved characters).
fn url_path_segment(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// Whether a worker can complete this template's tasks in the browser (every required question is of a
/// supported type).
pub fn workable(t: &TaskTemplate) -> bool {
    t.questions
        .iter()
        .all(|q| !q.required || supported(&q.kind))
}

/// One chat turn.
#[derive(Debug, Serialize)]
pub struct Turn {
    role: String,
    content: String,
}

/// One item field as the workbench shows it.
#[derive(Debug, Serialize)]
pub struct FieldView {
    name: String,
    label: String,
    kind: &'static str,
    /// Plain text (text fields; also media names, shown as text for now).
    text: Option<String>,
    /// Sanitised HTML (Markdown fields only).
    html: Option<String>,
    turns: Vec<Turn>,
    /// A checked http(s) URL (link fields).
    url: Option<String>,
    /// Where the browser loads an image, video or audio field from ([`media_src`]).
    src: Option<String>,
    /// Video fields: the frame rate (the item's, or [`DEFAULT_FPS`]).
    fps: Option<f64>,
    /// Video fields: true when the item gave no frame rate and [`DEFAULT_FPS`] is assumed.
    fps_assumed: bool,
}

/// The item's fields, ready for the template.
pub fn fields(t: &TaskTemplate, data: &Map<String, Value>) -> Vec<FieldView> {
    let mut out = Vec::new();
    for f in &t.fields {
        let Some(v) = data.get(f.source()).filter(|v| !v.is_null()) else {
            continue;
        };
        let mut view = FieldView {
            name: f.name.clone(),
            label: f.label.clone().unwrap_or_else(|| f.name.clone()),
            kind: f.kind.as_str(),
            text: None,
            html: None,
            turns: Vec::new(),
            url: None,
            src: None,
            fps: None,
            fps_assumed: false,
        };
        match f.kind {
            FieldKind::Markdown => view.html = Some(markdown(v.as_str().unwrap_or_default())),
            FieldKind::Chat => {
                view.turns = v
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|turn| Turn {
                        role: turn["role"].as_str().unwrap_or_default().to_string(),
                        content: turn["content"].as_str().unwrap_or_default().to_string(),
                    })
                    .collect()
            }
            FieldKind::Link => {
                let s = v.as_str().unwrap_or_default();
                if s.starts_with("https://") || s.starts_with("http://") {
                    view.url = Some(s.to_string());
                } else {
                    view.text = Some(s.to_string());
                }
            }
            FieldKind::Image | FieldKind::Video | FieldKind::Audio => {
                let s = v.as_str().unwrap_or_default();
                view.src = media_src(s);
                view.text = Some(s.to_string());
                if f.kind == FieldKind::Video {
                    let fps = f.fps_in(data);
                    view.fps_assumed = fps.is_none();
                    view.fps = Some(fps.unwrap_or(DEFAULT_FPS));
                }
            }
            _ => {
                view.text = Some(match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                })
            }
        }
        out.push(view);
    }
    out
}

/// Gives video fields whose item names no frame rate the rate of their uploaded file (`(field name, fps)`,
/// from the media row), so the page assumes [`DEFAULT_FPS`] only when neither the item nor the file says.
pub fn with_file_fps(mut views: Vec<FieldView>, file_fps: &[(String, f64)]) -> Vec<FieldView> {
    for v in &mut views {
        if let Some((_, fps)) = file_fps.iter().find(|(n, _)| *n == v.name)
            && v.fps_assumed
        {
            v.fps = Some(*fps);
            v.fps_assumed = false;
        }
    }
    views
}

/// One option (or scale point) of a radio or checkbox group.
#[derive(Debug, Serialize)]
pub struct OptionView {
    value: String,
    label: String,
    /// The number key that picks it (1 to 9), when there is one.
    key: Option<u32>,
    checked: bool,
}

/// A group of options that number keys act on: a whole choice question, or one criterion of a rubric.
#[derive(Debug, Serialize)]
pub struct GroupView {
    /// The form field name.
    input: String,
    /// `radio` or `checkbox`.
    input_type: &'static str,
    /// Caption of the group (a rubric criterion), if any.
    label: Option<String>,
    description: Option<String>,
    min_label: Option<String>,
    max_label: Option<String>,
    options: Vec<OptionView>,
}

/// A question with its controls, current values and error.
#[derive(Debug, Serialize)]
pub struct QuestionView {
    name: String,
    label: String,
    help: Option<String>,
    kind: &'static str,
    required: bool,
    supported: bool,
    groups: Vec<GroupView>,
    /// A text box: its form field name, current value and limits.
    text_input: Option<String>,
    text_value: String,
    text_label: Option<String>,
    max_length: Option<usize>,
    error: Option<String>,
    /// Shown only when this earlier question has one of these values (the script hides it otherwise).
    show_if_question: Option<String>,
    show_if_values: Option<String>,
    hidden: bool,
    /// An interactive widget (`spans` or `ranking`, in `widgets.js`) that keeps its answer as JSON in a
    /// hidden input named like the question.
    widget: Option<&'static str>,
    /// The widget's settings as JSON (labels and their keys, or the fields to rank).
    widget_config: String,
    /// The widget's current answer as JSON text (empty when unanswered).
    widget_value: String,
}

fn options_group(
    input: String,
    input_type: &'static str,
    options: impl IntoIterator<Item = (String, String)>,
    picked: &[&str],
) -> GroupView {
    GroupView {
        input,
        input_type,
        label: None,
        description: None,
        min_label: None,
        max_label: None,
        options: options
            .into_iter()
            .enumerate()
            .map(|(i, (value, label))| OptionView {
                checked: picked.contains(&value.as_str()),
                key: (i < 9).then_some(i as u32 + 1),
                value,
                label,
            })
            .collect(),
    }
}

fn choice_pairs(options: &[ChoiceOption]) -> Vec<(String, String)> {
    options
        .iter()
        .map(|o| (o.value.clone(), o.display().to_string()))
        .collect()
}

fn scale_pairs(min: i64, max: i64) -> Vec<(String, String)> {
    (min..=max)
        .map(|v| (v.to_string(), v.to_string()))
        .collect()
}

/// The form's values by field name (a field may repeat, for checkboxes).
pub type FormValues = HashMap<String, Vec<String>>;

/// Groups posted pairs by field name.
pub fn form_values(form: &[(String, String)]) -> FormValues {
    let mut out: FormValues = HashMap::new();
    for (k, v) in form {
        out.entry(k.clone()).or_default().push(v.clone());
    }
    out
}

fn picked<'a>(values: &'a FormValues, input: &str) -> Vec<&'a str> {
    values
        .get(input)
        .map(|v| v.iter().map(String::as_str).collect())
        .unwrap_or_default()
}

/// The questions with their controls, filled with `values` (a re-rendered form) and `errors` by question.
pub fn questions(
    t: &TaskTemplate,
    values: &FormValues,
    errors: &HashMap<String, String>,
) -> Vec<QuestionView> {
    questions_for_item(t, values, errors, &Map::new())
}

/// Labels as the shape widgets take them: value, what the worker reads, and the number key that picks it.
fn label_config(labels: &[ChoiceOption]) -> Vec<Value> {
    labels
        .iter()
        .enumerate()
        .map(|(i, o)| {
            serde_json::json!({"value": o.value, "label": o.display(), "key": (i < 9).then_some(i + 1)})
        })
        .collect()
}

/// The settings of a shape widget (`shapes.js`, `video.js`): the question's type, field and labels, the item's
/// pre-drawn answer (its `prefill`), and for video the frame rate.
fn shape_config(
    t: &TaskTemplate,
    q: &fairloop_domain::template::Question,
    data: &Map<String, Value>,
) -> Option<Value> {
    let (field, labels) = match &q.kind {
        QuestionKind::Boxes { field, labels, .. }
        | QuestionKind::Polygons { field, labels, .. }
        | QuestionKind::Keypoints { field, labels, .. }
        | QuestionKind::VideoEvents { field, labels, .. }
        | QuestionKind::Tracks { field, labels } => (field, labels),
        _ => return None,
    };
    let mut c = serde_json::json!({
        "type": q.kind.type_name(),
        "field": field,
        "labels": label_config(labels),
        "prefill": t.prefill_in(q, data),
    });
    match &q.kind {
        QuestionKind::Boxes {
            min_boxes: min,
            max_boxes: max,
            ..
        }
        | QuestionKind::Polygons {
            min_shapes: min,
            max_shapes: max,
            ..
        } => {
            c["min"] = serde_json::json!(min);
            c["max"] = serde_json::json!(max);
        }
        QuestionKind::Keypoints {
            points, skeleton, ..
        } => {
            c["points"] = serde_json::json!(points);
            c["skeleton"] = serde_json::json!(skeleton);
        }
        QuestionKind::VideoEvents { severities, .. } => {
            c["severities"] = Value::from(label_config(severities));
        }
        _ => {}
    }
    if let Some(f) = t.field(field).filter(|f| f.kind == FieldKind::Video) {
        let fps = f.fps_in(data);
        c["fps"] = serde_json::json!(fps.unwrap_or(DEFAULT_FPS));
        c["fps_assumed"] = Value::from(fps.is_none());
    }
    Some(c)
}

/// [`questions`] for one item: shape widgets also get the item's pre-drawn shapes and the video's frame rate.
pub fn questions_for_item(
    t: &TaskTemplate,
    values: &FormValues,
    errors: &HashMap<String, String>,
    data: &Map<String, Value>,
) -> Vec<QuestionView> {
    let answers = answers_from_form(t, values);
    let shown = t.shown_questions(answers.as_object().expect("an object"));
    t.questions
        .iter()
        .zip(shown)
        .map(|(q, shown)| {
            let input = format!("q.{}", q.name);
            let mut view = QuestionView {
                name: q.name.clone(),
                label: q.label.clone().unwrap_or_else(|| q.name.clone()),
                help: q.help.clone(),
                kind: q.kind.type_name(),
                required: q.required,
                supported: supported(&q.kind),
                groups: Vec::new(),
                text_input: None,
                text_value: String::new(),
                text_label: None,
                max_length: None,
                error: errors.get(&q.name).cloned(),
                show_if_question: q.show_if.as_ref().map(|s| s.question.clone()),
                show_if_values: q.show_if.as_ref().map(|s| {
                    let vals: Vec<String> = s
                        .condition
                        .values()
                        .iter()
                        .map(|v| match v {
                            Value::String(s) => s.clone(),
                            other => other.to_string(),
                        })
                        .collect();
                    serde_json::to_string(&vals).expect("strings serialize")
                }),
                hidden: !shown,
                widget: None,
                widget_config: String::new(),
                widget_value: String::new(),
            };
            match &q.kind {
                QuestionKind::SingleChoice { options } => {
                    view.groups.push(options_group(
                        input.clone(),
                        "radio",
                        choice_pairs(options),
                        &picked(values, &input),
                    ));
                }
                QuestionKind::MultiChoice { options, .. } => {
                    view.groups.push(options_group(
                        input.clone(),
                        "checkbox",
                        choice_pairs(options),
                        &picked(values, &input),
                    ));
                }
                QuestionKind::Rating { scale } => {
                    let mut g = options_group(
                        input.clone(),
                        "radio",
                        scale_pairs(scale.min, scale.max),
                        &picked(values, &input),
                    );
                    g.min_label = scale.min_label.clone();
                    g.max_label = scale.max_label.clone();
                    view.groups.push(g);
                }
                QuestionKind::Text { max_length, .. } => {
                    view.text_value = picked(values, &input).first().copied().unwrap_or("").into();
                    view.text_input = Some(input);
                    view.max_length = *max_length;
                }
                QuestionKind::Pairwise {
                    a,
                    b,
                    justification,
                } => {
                    let name = |f: &str| {
                        t.field(f)
                            .and_then(|f| f.label.clone())
                            .unwrap_or_else(|| f.to_string())
                    };
                    let (a, b) = (name(a), name(b));
                    let labels = [
                        format!("{a} much better"),
                        format!("{a} clearly better"),
                        format!("{a} slightly better"),
                        "About the same".to_string(),
                        format!("{b} slightly better"),
                        format!("{b} clearly better"),
                        format!("{b} much better"),
                    ];
                    let strength = format!("{input}.strength");
                    view.groups.push(options_group(
                        strength.clone(),
                        "radio",
                        (-3..=3).zip(labels).map(|(v, l)| (v.to_string(), l)),
                        &picked(values, &strength),
                    ));
                    if *justification != Justification::None {
                        let j = format!("{input}.justification");
                        view.text_value = picked(values, &j).first().copied().unwrap_or("").into();
                        view.text_input = Some(j);
                        view.text_label = Some(if *justification == Justification::Required {
                            "Why? (required)".into()
                        } else {
                            "Why? (optional)".into()
                        });
                    }
                }
                QuestionKind::Rubric { criteria } => {
                    for c in criteria {
                        let ci = format!("{input}.{}", c.name);
                        let mut g = options_group(
                            ci.clone(),
                            "radio",
                            scale_pairs(c.scale.min, c.scale.max),
                            &picked(values, &ci),
                        );
                        g.label = Some(c.label.clone().unwrap_or_else(|| c.name.clone()));
                        g.description = c.description.clone();
                        g.min_label = c.scale.min_label.clone();
                        g.max_label = c.scale.max_label.clone();
                        view.groups.push(g);
                    }
                }
                QuestionKind::Spans {
                    field,
                    labels,
                    allow_overlap,
                } => {
                    view.widget = Some("spans");
                    view.widget_value = picked(values, &input).first().copied().unwrap_or("").into();
                    view.widget_config = serde_json::json!({
                        "field": field,
                        "allow_overlap": allow_overlap,
                        "labels": labels.iter().enumerate().map(|(i, o)| serde_json::json!({
                            "value": o.value, "label": o.display(), "key": (i < 9).then_some(i + 1),
                        })).collect::<Vec<_>>(),
                    })
                    .to_string();
                }
                QuestionKind::Boxes { .. }
                | QuestionKind::Polygons { .. }
                | QuestionKind::Keypoints { .. }
                | QuestionKind::VideoEvents { .. }
                | QuestionKind::Tracks { .. } => {
                    view.widget = Some(q.kind.type_name());
                    view.widget_value = picked(values, &input).first().copied().unwrap_or("").into();
                    view.widget_config = shape_config(t, q, data)
                        .map(|c| c.to_string())
                        .unwrap_or_default();
                }
                QuestionKind::Ranking { fields } => {
                    view.widget = Some("ranking");
                    view.widget_value = picked(values, &input).first().copied().unwrap_or("").into();
                    view.widget_config = serde_json::json!({
                        "fields": fields.iter().map(|f| serde_json::json!({
                            "name": f,
                            "label": t.field(f).and_then(|f| f.label.clone()).unwrap_or_else(|| f.clone()),
                        })).collect::<Vec<_>>(),
                    })
                    .to_string();
                }
            }
            view
        })
        .collect()
}

/// A widget's JSON answer from its hidden input; text that is not JSON is passed on as a string, so the
/// template's validation names the question and says what shape it wants.
fn widget_answer(raw: &str) -> Value {
    serde_json::from_str(raw).unwrap_or_else(|_| Value::from(raw))
}

fn number_or_text(s: &str) -> Value {
    s.trim()
        .parse::<i64>()
        .map(Value::from)
        .unwrap_or_else(|_| Value::from(s))
}

/// The answers a posted form holds, shaped as the template expects; questions hidden by `show_if` dropped
/// (answering them is an error, and a hidden control may still hold an old value).
pub fn answers_from_form(t: &TaskTemplate, values: &FormValues) -> Value {
    let mut answers = Map::new();
    for q in &t.questions {
        let input = format!("q.{}", q.name);
        let first = |name: &str| {
            values
                .get(name)
                .and_then(|v| v.first())
                .map(String::as_str)
                .filter(|s| !s.trim().is_empty())
        };
        let answer = match &q.kind {
            QuestionKind::SingleChoice { .. } => first(&input).map(Value::from),
            QuestionKind::MultiChoice { .. } => values.get(&input).map(|v| {
                Value::from(
                    v.iter()
                        .map(|s| Value::from(s.as_str()))
                        .collect::<Vec<_>>(),
                )
            }),
            QuestionKind::Rating { .. } => first(&input).map(number_or_text),
            QuestionKind::Text { .. } => first(&input).map(Value::from),
            QuestionKind::Pairwise { justification, .. } => first(&format!("{input}.strength"))
                .map(|s| {
                    let mut o = Map::new();
                    o.insert("strength".into(), number_or_text(s));
                    if *justification != Justification::None
                        && let Some(j) = first(&format!("{input}.justification"))
                    {
                        o.insert("justification".into(), Value::from(j));
                    }
                    Value::Object(o)
                }),
            QuestionKind::Rubric { criteria } => {
                let mut o = Map::new();
                for c in criteria {
                    if let Some(s) = first(&format!("{input}.{}", c.name)) {
                        o.insert(c.name.clone(), number_or_text(s));
                    }
                }
                (!o.is_empty()).then_some(Value::Object(o))
            }
            QuestionKind::Spans { .. }
            | QuestionKind::Ranking { .. }
            | QuestionKind::Boxes { .. }
            | QuestionKind::Polygons { .. }
            | QuestionKind::Keypoints { .. }
            | QuestionKind::VideoEvents { .. }
            | QuestionKind::Tracks { .. } => first(&input).map(widget_answer),
        };
        if let Some(a) = answer {
            answers.insert(q.name.clone(), a);
        }
    }
    // Drop answers of hidden questions until nothing changes (hiding one may hide a later one).
    for _ in 0..=t.questions.len() {
        let shown = t.shown_questions(&answers);
        let before = answers.len();
        for (q, s) in t.questions.iter().zip(shown) {
            if !s {
                answers.remove(&q.name);
            }
        }
        if answers.len() == before {
            break;
        }
    }
    Value::Object(answers)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn markdown_is_rendered_and_sanitised() {
        let html = markdown(
            "**bold** <script>alert(1)</script> [x](javascript:alert(1)) <img src=x onerror=alert(1)>",
        );
        assert!(html.contains("<strong>bold</strong>"), "{html}");
        assert!(!html.contains("<script"), "{html}");
        assert!(!html.contains("javascript:"), "{html}");
        assert!(!html.contains("onerror"), "{html}");
    }

    #[test]
    fn money_and_pay_read_naturally() {
        assert_eq!(money(180, "USD"), "$1.80");
        assert_eq!(money(2800, "EUR"), "€28.00");
        assert_eq!(money(8, "USD"), "$0.08");
        assert_eq!(money(1200, "JPY"), "1200 JPY");
        assert_eq!(money(150, "CHF"), "1.50 CHF");
        assert_eq!(
            pay_text(Some(
                r#"{"model":"per_task","amount_minor":180,"currency":"USD"}"#
            ))
            .as_deref(),
            Some("$1.80 per task")
        );
        assert_eq!(
            pay_text(Some(
                r#"{"model":"hourly","rate_minor":2800,"currency":"USD","budget_minor":5}"#
            ))
            .as_deref(),
            Some("$28.00 per hour")
        );
        assert_eq!(pay_text(None), None);
    }

    #[test]
    fn forms_become_answers_of_the_right_shape() {
        let t = TaskTemplate::from_json(&json!({
            "fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "text"}],
            "questions": [
                {"name": "c", "type": "single_choice", "options": ["x", "y"]},
                {"name": "m", "type": "multi_choice", "options": ["p", "q", "r"]},
                {"name": "r", "type": "rating", "min": 1, "max": 5},
                {"name": "t", "type": "text", "show_if": {"question": "c", "equals": "y"}},
                {"name": "pw", "type": "pairwise", "a": "a", "b": "b"},
                {"name": "ru", "type": "rubric", "criteria": [{"name": "acc"}, {"name": "tone"}]}
            ]
        }))
        .unwrap();
        let form: Vec<(String, String)> = [
            ("q.c", "x"),
            ("q.m", "p"),
            ("q.m", "r"),
            ("q.r", "4"),
            ("q.t", "hidden text"),
            ("q.pw.strength", "-2"),
            ("q.pw.justification", "A is right"),
            ("q.ru.acc", "5"),
            ("q.ru.tone", "3"),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v.to_string()))
        .collect();
        let answers = answers_from_form(&t, &form_values(&form));
        assert_eq!(
            answers,
            json!({"c": "x", "m": ["p", "r"], "r": 4,
                   "pw": {"strength": -2, "justification": "A is right"}, "ru": {"acc": 5, "tone": 3}})
        );
        let qs = questions(&t, &form_values(&form), &HashMap::new());
        assert!(qs[3].hidden, "t is hidden while c is x");
        assert_eq!(qs[4].groups[0].options.len(), 7);
        assert_eq!(qs[5].groups.len(), 2);
    }

    #[test]
    fn widget_answers_are_json_from_their_hidden_inputs() {
        let t = TaskTemplate::from_json(&json!({
            "fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "text"}],
            "questions": [
                {"name": "sp", "type": "spans", "field": "a", "labels": ["PER", "ORG"]},
                {"name": "rk", "type": "ranking", "fields": ["a", "b"]}
            ]
        }))
        .unwrap();
        let form: Vec<(String, String)> = vec![
            (
                "q.sp".into(),
                r#"[{"start":0,"end":3,"label":"PER"}]"#.into(),
            ),
            ("q.rk".into(), "not json".into()),
        ];
        let answers = answers_from_form(&t, &form_values(&form));
        assert_eq!(
            answers,
            json!({"sp": [{"start": 0, "end": 3, "label": "PER"}], "rk": "not json"})
        );
        let qs = questions(&t, &form_values(&form), &HashMap::new());
        assert_eq!(qs[0].widget, Some("spans"));
        assert!(
            qs[0].widget_config.contains(r#""key":1"#)
                && qs[0].widget_config.contains(r#""field":"a""#)
        );
        assert_eq!(
            qs[1].widget_value, "not json",
            "a bad value comes back to the form as it was"
        );
        // Nothing posted: no answer at all (so "required" says so), not an empty string.
        assert_eq!(answers_from_form(&t, &form_values(&[])), json!({}));
    }

    #[test]
    fn media_values_map_to_addresses_in_one_place() {
        assert_eq!(
            media_src("https://x.org/a.jpg").as_deref(),
            Some("https://x.org/a.jpg")
        );
        assert_eq!(
            media_src("media/scan 1.png").as_deref(),
            Some("/media/media/scan%201.png")
        );
        assert_eq!(
            media_src("media:scans/a_1.png").as_deref(),
            Some("/media/scans/a_1.png")
        );
        assert_eq!(media_src("media:"), None);
        assert_eq!(media_src("media:x:y"), None);
        assert_eq!(
            media_src("data:image/png;base64,AA").as_deref(),
            Some("data:image/png;base64,AA")
        );
        for bad in [
            "javascript:alert(1)",
            "data:text/html,<b>",
            "../secret",
            "/etc/passwd",
            " ",
        ] {
            assert_eq!(media_src(bad), None, "{bad}");
        }
    }

    #[test]
    fn shape_widgets_get_their_prefill_and_frame_rate_and_post_json() {
        let t = TaskTemplate::from_json(&json!({
            "fields": [{"name": "img", "type": "image"}, {"name": "clip", "type": "video", "fps": "rate"}],
            "questions": [
                {"name": "b", "type": "boxes", "field": "img", "labels": ["car"], "prefill": "pred", "max_boxes": 3},
                {"name": "e", "type": "video_events", "field": "clip", "labels": ["x"], "severities": ["minor"]},
                {"name": "k", "type": "keypoints", "field": "img", "labels": ["p"], "points": ["a", "b"], "skeleton": [[0, 1]]}
            ]
        }))
        .unwrap();
        let data = json!({"img": "a.png", "clip": "c.webm", "rate": 25,
            "pred": [{"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"}]});
        let data = data.as_object().unwrap();
        let qs = questions_for_item(&t, &form_values(&[]), &HashMap::new(), data);
        let cfg: Value = serde_json::from_str(&qs[0].widget_config).unwrap();
        assert_eq!(qs[0].widget, Some("boxes"));
        assert_eq!(cfg["prefill"], data["pred"]);
        assert_eq!(
            (cfg["max"].clone(), cfg["labels"][0]["key"].clone()),
            (json!(3), json!(1))
        );
        let cfg: Value = serde_json::from_str(&qs[1].widget_config).unwrap();
        assert_eq!(
            (cfg["fps"].clone(), cfg["fps_assumed"].clone()),
            (json!(25.0), json!(false))
        );
        assert_eq!(cfg["severities"][0]["value"], "minor");
        let cfg: Value = serde_json::from_str(&qs[2].widget_config).unwrap();
        assert_eq!(cfg["skeleton"], json!([[0, 1]]));
        let f = fields(&t, data);
        assert_eq!(f[0].src.as_deref(), Some("/media/a.png"));
        assert_eq!((f[1].fps, f[1].fps_assumed), (Some(25.0), false));
        assert!(workable(&t), "every shape type has a widget now");
        let form = vec![(
            "q.b".to_string(),
            r#"[{"x":0.1,"y":0.1,"w":0.2,"h":0.2,"label":"car"}]"#.to_string(),
        )];
        assert_eq!(
            answers_from_form(&t, &form_values(&form)),
            json!({"b": [{"x": 0.1, "y": 0.1, "w": 0.2, "h": 0.2, "label": "car"}]})
        );
    }

    #[test]
    fn code_blocks_are_highlighted_and_stay_escaped() {
        let html = markdown(
            "Use this:\n\n```rust\nfn main() { let s = \"</code></pre><script>x()</script>\"; }\n```\n",
        );
        assert!(html.contains("<span class=\"hl-"), "{html}");
        assert!(
            html.contains("&lt;/code&gt;&lt;/pre&gt;&lt;script&gt;"),
            "{html}"
        );
        assert!(!html.contains("<script>"), "{html}");
        // Unknown languages and indented blocks are escaped, plain.
        let plain = markdown("```nosuchlang\n<b>bold?</b>\n```\n\n    <i>x</i>\n");
        assert!(
            plain.contains("&lt;b&gt;bold?&lt;/b&gt;") && plain.contains("&lt;i&gt;x&lt;/i&gt;"),
            "{plain}"
        );
        assert!(!plain.contains("<span class"), "{plain}");
        // Text that looks like a placeholder is left alone (the real ones carry a random nonce).
        let sneaky = markdown("fl-code-0000000000000000-0\n\n```rust\nlet a = 1;\n```");
        assert!(sneaky.contains("fl-code-0000000000000000-0"), "{sneaky}");
    }

    #[test]
    fn a_diff_marks_removed_and_added_lines_and_escapes_them() {
        let d = diff_html("keep\nold <b>\n", "keep\nnew <i>\n");
        assert!(d.contains("<span>  keep</span>"), "{d}");
        assert!(d.contains("<del>- old &lt;b&gt;</del>"), "{d}");
        assert!(d.contains("<ins>+ new &lt;i&gt;</ins>"), "{d}");
    }
}
