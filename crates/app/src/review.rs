//! Review with appeals, integrity signals and human-confirmed pauses.
//!
//! Labs need to trust the data, and workers deserve judgements they can see and contest. So:
//! - every submission is measured by a few **integrity signals** (time on task, pasting, near-duplicate free text
//!   across workers, free text copied from the item); they are shown to the worker as well as to reviewers;
//! - a submission enters a project's **review queue** when it is sampled, when its item has low agreement, or
//!   when a signal is flagged; a reviewer (reviewer, requester or admin of the organization, never the author)
//!   accepts, rejects or corrects it, always with written feedback; each submission is judged once;
//! - the worker sees each judgement with its feedback and evidence and may **appeal** once; a second reviewer
//!   (not the first) decides, and that decision is final;
//! - a worker is **paused** from a project only when a reviewer or admin confirms it with a written reason, which
//!   the worker sees; the queue then refuses them with `worker_paused`.
//!
//! Nothing here rejects, cuts pay or pauses automatically: signals and agreement only put work in front of a
//! human. The thresholds are documented in `docs/quality.md`.

use std::collections::HashMap;

use fairloop_domain::Role;
use fairloop_domain::template::{QuestionKind, TaskTemplate};
use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_quality::similarity::{self, Signature};
use fairloop_store::review::{self as rs, ReviewSettings, Signal, SubmissionFacts};
use fairloop_store::{Principal, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::error::NotFoundAs;
use crate::notices::{NoticeKind, Notify};
use crate::{App, AppError, AppResult};

/// Default share of submissions sampled into review when a project has not set one.
pub const DEFAULT_SAMPLE_RATE: f64 = 0.10;
/// Default plausible minimum time on task, in seconds.
pub const DEFAULT_MIN_SECONDS: i64 = 10;
/// Default agreement below which an item's submissions are reviewed.
pub const DEFAULT_LOW_AGREEMENT: f64 = 0.6;
/// Share of the free text pasted at or above which the paste signal is flagged.
pub const PASTE_SHARE_FLAG: f64 = 0.5;
/// Fewest pasted characters that can flag the paste signal (pasting a word or two is normal).
pub const PASTE_MIN_CHARS: u64 = 40;
/// Estimated Jaccard similarity with another worker's free text at or above which it is a near-duplicate.
pub const NEAR_DUPLICATE_FLAG: f64 = 0.8;
/// Share of the free text's word shingles found in one item field at or above which it copies the item.
pub const COPIES_ITEM_FLAG: f64 = 0.6;
/// Fewest words of free text before the text signals are measured (short answers match by chance).
pub const MIN_TEXT_WORDS: usize = 8;
/// How many recent free-text signatures of other workers a new one is compared with.
pub const SIGNATURES_COMPARED: i64 = 500;
/// Longest feedback, appeal reason, note or pause reason accepted, in bytes.
pub const MAX_TEXT: usize = 5000;
/// Most rows a queue or list answers at once.
pub const PAGE: i64 = 200;

/// What the workbench measured in the browser, sent with the submission.
#[derive(Debug, Clone, Default, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ClientSignals {
    /// How many times the worker pasted into an answer.
    #[serde(default)]
    pub paste_events: u64,
    /// How many characters were pasted into free-text answers in total.
    #[serde(default)]
    pub pasted_chars: u64,
}

/// A project's review settings as the API shows and takes them.
#[derive(Debug, Clone, PartialEq, Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewSettingsBody {
    /// Share of submissions sampled into review, 0 to 1.
    pub sample_rate: f64,
    /// Plausible minimum seconds on a task; faster submissions are flagged (0 turns the signal off).
    pub min_seconds: i64,
    /// Item agreement (0 to 1) below which its submissions are reviewed.
    pub low_agreement: f64,
}

impl From<ReviewSettings> for ReviewSettingsBody {
    fn from(s: ReviewSettings) -> Self {
        ReviewSettingsBody {
            sample_rate: s.sample_rate,
            min_seconds: s.min_seconds,
            low_agreement: s.low_agreement,
        }
    }
}

fn defaults() -> ReviewSettings {
    ReviewSettings {
        sample_rate: DEFAULT_SAMPLE_RATE,
        min_seconds: DEFAULT_MIN_SECONDS,
        low_agreement: DEFAULT_LOW_AGREEMENT,
    }
}

/// One integrity signal as shown to the worker and the reviewer.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct SignalView {
    /// `time_on_task`, `paste`, `near_duplicate` or `copies_item`.
    pub kind: String,
    /// The measurement: seconds for time on task, a share (0 to 1) otherwise.
    pub value: f64,
    /// What it was compared with.
    pub threshold: f64,
    /// Whether it crossed the threshold (this put the submission in review; it decides nothing by itself).
    pub flagged: bool,
    /// A sentence explaining it.
    pub detail: String,
}

impl From<Signal> for SignalView {
    fn from(s: Signal) -> Self {
        SignalView {
            kind: s.kind,
            value: s.value,
            threshold: s.threshold,
            flagged: s.flagged,
            detail: s.detail,
        }
    }
}

/// An appeal as shown to the worker and the reviewers.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealView {
    /// Id.
    pub id: i64,
    /// The judgement appealed.
    pub review_id: i64,
    /// The worker's reason.
    pub reason: String,
    /// `open` or `decided`.
    pub status: String,
    /// `upheld` (the judgement stands) or `overturned` (it is withdrawn); final.
    pub outcome: Option<String>,
    /// The second reviewer's note.
    pub note: Option<String>,
    /// When it was made (RFC 3339 UTC).
    pub created_at: String,
    /// When it was decided.
    pub decided_at: Option<String>,
}

impl From<rs::Appeal> for AppealView {
    fn from(a: rs::Appeal) -> Self {
        AppealView {
            id: a.id,
            review_id: a.review_id,
            reason: a.reason,
            status: a.status,
            outcome: a.outcome,
            note: a.note,
            created_at: to_rfc3339(a.created_at),
            decided_at: a.decided_at.map(to_rfc3339),
        }
    }
}

/// A submission under review, or judged, with its evidence.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ReviewView {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Project name.
    pub project_name: String,
    /// Item id.
    pub item_id: i64,
    /// The item's data.
    #[schema(value_type = Object)]
    pub item_data: Value,
    /// The submission.
    pub annotation_id: i64,
    /// Its answers.
    #[schema(value_type = Object)]
    pub answers: Value,
    /// When it was submitted (RFC 3339 UTC).
    pub submitted_at: String,
    /// Who submitted it (shown to reviewers; the worker's own view omits nothing of theirs).
    pub worker_id: i64,
    /// Why it was queued: `sample`, `low_agreement`, `signal`.
    pub reasons: Vec<String>,
    /// `queued` or `decided`.
    pub status: String,
    /// `accepted`, `rejected` or `corrected`.
    pub decision: Option<String>,
    /// The reviewer's corrected answers.
    #[schema(value_type = Option<Object>)]
    pub corrected_answers: Option<Value>,
    /// The reviewer's written feedback.
    pub feedback: Option<String>,
    /// Who judged it: shown to reviewers (so the appeal goes to someone else), hidden from the worker.
    pub reviewer_id: Option<i64>,
    /// When it was judged.
    pub decided_at: Option<String>,
    /// The integrity signals of the submission.
    pub signals: Vec<SignalView>,
    /// The appeal, if the worker made one.
    pub appeal: Option<AppealView>,
}

fn json_or_null(s: &str) -> Value {
    serde_json::from_str(s).unwrap_or(Value::Null)
}

fn review_view(
    tx: &dyn fairloop_store::portable::Tx,
    org: i64,
    r: rs::Review,
) -> Result<ReviewView, StoreError> {
    let signals = rs::signals_of(tx, org, r.annotation_id)?
        .into_iter()
        .map(SignalView::from)
        .collect();
    let appeal = rs::appeal_of_review(tx, org, r.id)?.map(AppealView::from);
    Ok(ReviewView {
        id: r.id,
        project_id: r.project_id,
        project_name: r.project_name,
        item_id: r.item_id,
        item_data: json_or_null(&r.item_data),
        annotation_id: r.annotation_id,
        answers: json_or_null(&r.answers),
        submitted_at: to_rfc3339(r.submitted_at),
        worker_id: r.worker_id,
        reasons: r.reasons,
        status: r.status,
        decision: r.decision,
        corrected_answers: r.corrected_answers.as_deref().map(json_or_null),
        feedback: r.feedback,
        reviewer_id: r.reviewer_id,
        decided_at: r.decided_at.map(to_rfc3339),
        signals,
        appeal,
    })
}

/// An open appeal with the judgement it contests.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AppealCase {
    /// The appeal.
    pub appeal: AppealView,
    /// The judgement, its evidence and the first reviewer.
    pub review: ReviewView,
}

/// A pause as the worker and the reviewers see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct PauseView {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// Project name.
    pub project_name: String,
    /// The paused worker.
    pub worker_id: i64,
    /// The reason, written by the human who confirmed the pause.
    pub reason: String,
    /// Since when (RFC 3339 UTC).
    pub created_at: String,
    /// When it was lifted; `null` while in force.
    pub lifted_at: Option<String>,
}

impl From<rs::Pause> for PauseView {
    fn from(p: rs::Pause) -> Self {
        PauseView {
            id: p.id,
            project_id: p.project_id,
            project_name: p.project_name,
            worker_id: p.worker_id,
            reason: p.reason,
            created_at: to_rfc3339(p.created_at),
            lifted_at: p.lifted_at.map(to_rfc3339),
        }
    }
}

/// The worker's own judgements and pauses.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct MyReviews {
    /// Judged submissions, newest first, each with its feedback, evidence and appeal.
    pub reviews: Vec<ReviewView>,
    /// Pauses, in force and lifted, newest first.
    pub pauses: Vec<PauseView>,
}

/// A reviewer's judgement.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// `accept`, `reject` or `correct`.
    pub action: String,
    /// For `correct`: the corrected answers, validated against the template.
    #[serde(default)]
    #[schema(value_type = Option<Object>)]
    pub answers: Option<Value>,
    /// Written feedback for the worker (required).
    pub feedback: String,
}

/// A worker's appeal.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealBody {
    /// Why the judgement is wrong (required).
    pub reason: String,
}

/// The second reviewer's decision on an appeal.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AppealDecisionBody {
    /// `upheld` (the judgement stands) or `overturned` (it is withdrawn).
    pub outcome: String,
    /// A note for the worker (required).
    pub note: String,
}

/// A human-confirmed pause.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PauseBody {
    /// The worker to pause.
    pub worker_id: i64,
    /// Why, in words the worker will read (required).
    pub reason: String,
}

/// Whether a role may review: reviewers, requesters and admins of the organization.
pub fn can_review(role: Role) -> bool {
    matches!(role, Role::Reviewer | Role::Requester | Role::Admin)
}

fn require_reviewer(p: &Principal) -> AppResult<()> {
    if can_review(p.role) {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "reviewing needs the reviewer, requester or admin role; you are a {}",
            p.role
        )))
    }
}

/// Checks a required piece of writing: present, not blank, not too long; the error names the field.
fn required_text(field: &str, value: &str) -> AppResult<String> {
    crate::reject_nul(field, value)?;
    let t = value.trim();
    if t.is_empty() {
        return Err(AppError::invalid(
            "missing_text",
            format!("{field} is required: write a sentence the worker can act on"),
        ));
    }
    if t.len() > MAX_TEXT {
        return Err(AppError::invalid(
            "text_too_long",
            format!("{field} must be at most {MAX_TEXT} bytes"),
        ));
    }
    Ok(t.to_string())
}

fn project_404(e: StoreError) -> AppError {
    match e {
        StoreError::NotFound => AppError::NotFound("project"),
        other => other.into(),
    }
}

// -------------------------------------------------------------------------------------------------------------
// Signals

/// Every string in a JSON value, depth first (free text in answers, text fields in items).
fn strings(v: &Value, out: &mut Vec<String>) {
    match v {
        Value::String(s) => out.push(s.clone()),
        Value::Array(a) => a.iter().for_each(|x| strings(x, out)),
        Value::Object(m) => m.values().for_each(|x| strings(x, out)),
        _ => {}
    }
}

/// The free text of a submission: the answers to `text` questions and the justifications of `pairwise` ones
/// (choices, ratings and labels are not writing, so they are left out).
pub fn free_text(template: &TaskTemplate, answers: &Value) -> String {
    let mut parts = Vec::new();
    for q in &template.questions {
        let text = match &q.kind {
            QuestionKind::Text { .. } => answers.get(&q.name),
            QuestionKind::Pairwise { .. } => {
                answers.get(&q.name).and_then(|a| a.get("justification"))
            }
            _ => None,
        };
        if let Some(Value::String(t)) = text
            && !t.trim().is_empty()
        {
            parts.push(t.clone());
        }
    }
    parts.join("\n")
}

fn signature_text(sig: &Signature) -> String {
    sig.0.iter().map(|x| format!("{x:016x}")).collect()
}

fn signature_parse(text: &str) -> Option<Signature> {
    if !text.len().is_multiple_of(16) {
        return None;
    }
    (0..text.len() / 16)
        .map(|i| u64::from_str_radix(&text[i * 16..i * 16 + 16], 16).ok())
        .collect::<Option<Vec<_>>>()
        .map(Signature)
}

/// Measures the signals of one submission. Pure apart from the recent signatures passed in.
pub fn measure(
    facts: &SubmissionFacts,
    settings: &ReviewSettings,
    client: Option<&ClientSignals>,
    others: &[(i64, String)],
) -> (Vec<Signal>, Option<Signature>) {
    let mut out = Vec::new();
    let secs = (facts.submitted_at - facts.assigned_at).max(0) as f64 / 1000.0;
    let min = settings.min_seconds as f64;
    out.push(Signal {
        kind: "time_on_task".into(),
        value: secs,
        threshold: min,
        flagged: settings.min_seconds > 0 && secs < min,
        detail: format!(
            "{secs:.0} s from taking the task to submitting it; the project's plausible minimum is {} s",
            settings.min_seconds
        ),
    });
    let answers = json_or_null(&facts.answers);
    let text = template_of(&facts.template)
        .map(|t| free_text(&t, &answers))
        .unwrap_or_default();
    let text_chars = text.chars().count() as u64;
    if let Some(c) = client {
        let share = if text_chars == 0 {
            0.0
        } else {
            (c.pasted_chars as f64 / text_chars as f64).min(1.0)
        };
        out.push(Signal {
            kind: "paste".into(),
            value: share,
            threshold: PASTE_SHARE_FLAG,
            flagged: c.pasted_chars >= PASTE_MIN_CHARS && share >= PASTE_SHARE_FLAG,
            detail: format!(
                "{} paste event(s); {} pasted character(s), {:.0}% of the free text",
                c.paste_events,
                c.pasted_chars,
                share * 100.0
            ),
        });
    }
    let mut signature = None;
    if similarity::words(&text).len() >= MIN_TEXT_WORDS {
        let sig = Signature::of_text(&text);
        if let Some(sig) = &sig {
            let best = others
                .iter()
                .filter_map(|(id, s)| signature_parse(s).map(|o| (*id, sig.jaccard(&o))))
                .fold(None::<(i64, f64)>, |best, (id, j)| match best {
                    Some((_, b)) if b >= j => best,
                    _ => Some((id, j)),
                });
            let (with, value) = best.unwrap_or((0, 0.0));
            out.push(Signal {
                kind: "near_duplicate".into(),
                value,
                threshold: NEAR_DUPLICATE_FLAG,
                flagged: value >= NEAR_DUPLICATE_FLAG,
                detail: if with > 0 {
                    format!(
                        "the free text is {:.0}% similar to another worker's (submission {with}), \
                         compared with their {} most recent texts in this project",
                        value * 100.0,
                        others.len()
                    )
                } else {
                    "no other worker's free text in this project to compare with yet".into()
                },
            });
        }
        signature = sig;
        let mut fields = Vec::new();
        strings(&json_or_null(&facts.item_data), &mut fields);
        let copied = fields
            .iter()
            .map(|f| similarity::containment(&text, f))
            .fold(0.0_f64, f64::max);
        out.push(Signal {
            kind: "copies_item".into(),
            value: copied,
            threshold: COPIES_ITEM_FLAG,
            flagged: copied >= COPIES_ITEM_FLAG,
            detail: format!(
                "{:.0}% of the free text's three-word runs appear in a text shown in the item",
                copied * 100.0
            ),
        });
    }
    (out, signature)
}

// -------------------------------------------------------------------------------------------------------------
// Low agreement: the one source the integrator points at `item_quality` once live agreement is merged.

/// A parsed template from its stored JSON (`None` if it does not parse, which creation prevents).
fn template_of(json: &str) -> Option<TaskTemplate> {
    serde_json::from_str::<Value>(json)
        .ok()
        .and_then(|v| TaskTemplate::from_json(&v).ok())
}

/// Keys sorted, so that two equal objects compare equal whatever order they were written in.
fn canonical(v: &Value) -> Value {
    match v {
        Value::Array(a) => Value::Array(a.iter().map(canonical).collect()),
        Value::Object(m) => {
            let mut keys: Vec<&String> = m.keys().collect();
            keys.sort();
            Value::Object(
                keys.into_iter()
                    .map(|k| (k.clone(), canonical(&m[k])))
                    .collect(),
            )
        }
        other => other.clone(),
    }
}

/// What of an answer is compared for agreement: the whole answer for choices, ratings, rankings and rubrics (a
/// multiple choice as a sorted set), the strength of a pairwise comparison; nothing for free text, spans, boxes
/// and video events (exact equality is meaningless there; live agreement measures overlap).
fn comparable(kind: &QuestionKind, answer: &Value) -> Option<Value> {
    match kind {
        QuestionKind::SingleChoice { .. }
        | QuestionKind::Rating { .. }
        | QuestionKind::Ranking { .. }
        | QuestionKind::Rubric { .. } => Some(canonical(answer)),
        QuestionKind::MultiChoice { .. } => {
            let mut values: Vec<String> = answer
                .as_array()
                .into_iter()
                .flatten()
                .map(|v| v.to_string())
                .collect();
            values.sort();
            Some(Value::from(values))
        }
        QuestionKind::Pairwise { .. } => answer.get("strength").cloned(),
        _ => None,
    }
}

/// The agreement of an item's answers: for each comparable question, the share of answers equal to the most
/// common one; the item's agreement is the lowest over its questions. `None` when no question has two answers.
/// A stand-in for live agreement (`item_quality.agreement`) until that is merged.
pub fn item_agreement(template: &TaskTemplate, answers: &[Value]) -> Option<f64> {
    let mut lowest: Option<f64> = None;
    for q in &template.questions {
        let mut counts: HashMap<String, usize> = HashMap::new();
        for a in answers {
            if let Some(v) = a.get(&q.name).and_then(|v| comparable(&q.kind, v)) {
                *counts.entry(v.to_string()).or_default() += 1;
            }
        }
        let n: usize = counts.values().sum();
        if n >= 2 {
            let share = *counts.values().max().unwrap_or(&0) as f64 / n as f64;
            lowest = Some(lowest.map_or(share, |l| l.min(share)));
        }
    }
    lowest
}

/// The low-agreement source of the review queue: the agreement of one item when it is below the threshold.
fn low_agreement(
    tx: &dyn fairloop_store::portable::Tx,
    org: i64,
    facts: &SubmissionFacts,
    threshold: f64,
) -> Result<Option<(f64, Vec<i64>)>, StoreError> {
    let Some(template) = template_of(&facts.template) else {
        return Ok(None);
    };
    let rows = rs::item_answers(tx, org, facts.project_id, facts.item_id)?;
    let answers: Vec<Value> = rows.iter().map(|(_, _, a)| json_or_null(a)).collect();
    Ok(item_agreement(&template, &answers)
        .filter(|a| *a < threshold)
        .map(|a| (a, rows.iter().map(|(id, _, _)| *id).collect())))
}

impl App {
    /// Measures and records a new submission's signals and queues it for review when it is sampled, its item
    /// has low agreement (then the item's other submissions too) or a signal is flagged. Called once per new
    /// submission by [`App::submit`]; never rejects anything.
    pub async fn after_submit(
        &self,
        principal: &Principal,
        annotation: i64,
        client: Option<ClientSignals>,
    ) -> AppResult<()> {
        self.after_submit_at(
            principal.org_id,
            annotation,
            client,
            rand::random::<f64>(),
            now_millis(),
        )
        .await
    }

    /// [`App::after_submit`] with the sampling draw (0..1) and the clock given (tests fix both).
    pub async fn after_submit_at(
        &self,
        org: i64,
        annotation: i64,
        client: Option<ClientSignals>,
        draw: f64,
        now: Millis,
    ) -> AppResult<()> {
        self.store
            .write_tx(move |tx| {
                let facts = rs::submission_facts(tx, org, annotation)?;
                let settings = rs::settings(tx, org, facts.project_id)?.unwrap_or_else(defaults);
                let others = rs::recent_signatures(
                    tx,
                    org,
                    facts.project_id,
                    facts.worker_id,
                    SIGNATURES_COMPARED,
                )?;
                let (signals, signature) = measure(&facts, &settings, client.as_ref(), &others);
                rs::insert_signals(tx, org, &facts, &signals, now)?;
                if let Some(sig) = signature {
                    rs::insert_signature(tx, org, &facts, &signature_text(&sig), now)?;
                }
                let mut reasons = Vec::new();
                if draw < settings.sample_rate {
                    reasons.push("sample");
                }
                if signals.iter().any(|s| s.flagged) {
                    reasons.push("signal");
                }
                if let Some((_, annotations)) =
                    low_agreement(tx, org, &facts, settings.low_agreement)?
                {
                    for other in annotations.into_iter().filter(|a| *a != annotation) {
                        rs::enqueue(tx, org, other, &["low_agreement"], now)?;
                    }
                    reasons.push("low_agreement");
                }
                if !reasons.is_empty() {
                    rs::enqueue(tx, org, annotation, &reasons, now)?;
                }
                Ok(())
            })
            .await
            .or_not_found("annotation")
    }

    /// A project's review settings (the defaults when none were saved); reviewers and managers may read them.
    pub async fn review_settings(
        &self,
        principal: &Principal,
        project: i64,
    ) -> AppResult<ReviewSettingsBody> {
        require_reviewer(principal)?;
        let org = principal.org_id;
        self.store
            .read_tx(move |tx| {
                if !rs::project_in_org(tx, org, project)? {
                    return Err(StoreError::NotFound);
                }
                Ok(rs::settings(tx, org, project)?
                    .unwrap_or_else(defaults)
                    .into())
            })
            .await
            .map_err(project_404)
    }

    /// Saves a project's review settings (requester or admin); each field is checked and named when wrong.
    pub async fn set_review_settings(
        &self,
        principal: &Principal,
        project: i64,
        body: ReviewSettingsBody,
    ) -> AppResult<ReviewSettingsBody> {
        if !principal.role.can_manage_projects() {
            return Err(AppError::forbidden(
                "changing review settings needs the requester or admin role",
            ));
        }
        if !(0.0..=1.0).contains(&body.sample_rate) {
            return Err(AppError::invalid(
                "invalid_settings",
                "sample_rate must be between 0 and 1 (0.1 reviews one submission in ten)",
            ));
        }
        if !(0..=86_400).contains(&body.min_seconds) {
            return Err(AppError::invalid(
                "invalid_settings",
                "min_seconds must be between 0 (off) and 86400",
            ));
        }
        if !(0.0..=1.0).contains(&body.low_agreement) {
            return Err(AppError::invalid(
                "invalid_settings",
                "low_agreement must be between 0 and 1",
            ));
        }
        let org = principal.org_id;
        let settings = ReviewSettings {
            sample_rate: body.sample_rate,
            min_seconds: body.min_seconds,
            low_agreement: body.low_agreement,
        };
        let now = now_millis();
        self.store
            .write_tx(move |tx| {
                if !rs::project_in_org(tx, org, project)? {
                    return Err(StoreError::NotFound);
                }
                rs::put_settings(tx, org, project, &settings, now)?;
                Ok(settings.into())
            })
            .await
            .map_err(project_404)
    }

    /// The queued submissions of a project, oldest first, with their evidence.
    pub async fn review_queue(
        &self,
        principal: &Principal,
        project: i64,
    ) -> AppResult<Vec<ReviewView>> {
        require_reviewer(principal)?;
        let org = principal.org_id;
        self.store
            .read_tx(move |tx| {
                if !rs::project_in_org(tx, org, project)? {
                    return Err(StoreError::NotFound);
                }
                rs::queue(tx, org, project, PAGE)?
                    .into_iter()
                    .map(|r| review_view(tx, org, r))
                    .collect()
            })
            .await
            .map_err(project_404)
    }

    /// One review with its evidence, for a reviewer of the organization.
    pub async fn review(&self, principal: &Principal, id: i64) -> AppResult<ReviewView> {
        require_reviewer(principal)?;
        let org = principal.org_id;
        self.store
            .read_tx(move |tx| {
                let r = rs::review(tx, org, id)?;
                review_view(tx, org, r)
            })
            .await
            .or_not_found("review")
    }

    /// Accepts, rejects or corrects a queued submission, with written feedback. Each is judged once; nobody
    /// judges their own submission; a correction is validated against the template like a submission.
    pub async fn decide_review(
        &self,
        principal: &Principal,
        id: i64,
        body: DecisionBody,
    ) -> AppResult<ReviewView> {
        require_reviewer(principal)?;
        let feedback = required_text("feedback", &body.feedback)?;
        let decision = match body.action.as_str() {
            "accept" => "accepted",
            "reject" => "rejected",
            "correct" => "corrected",
            other => {
                return Err(AppError::invalid(
                    "invalid_action",
                    format!("action must be accept, reject or correct, not {other:?}"),
                ));
            }
        };
        if decision != "corrected" && body.answers.is_some() {
            return Err(AppError::invalid(
                "invalid_action",
                "answers are only taken with the action correct",
            ));
        }
        let org = principal.org_id;
        let current = self
            .store
            .read_tx(move |tx| rs::review(tx, org, id))
            .await
            .or_not_found("review")?;
        if current.worker_id == principal.user_id {
            return Err(AppError::Forbidden {
                code: "own_submission",
                message: "you cannot review your own submission; another reviewer will".into(),
            });
        }
        let corrected = if decision == "corrected" {
            let answers = body.answers.ok_or_else(|| {
                AppError::invalid(
                    "missing_answers",
                    "answers is required with the action correct: the corrected answers",
                )
            })?;
            let project = self
                .store
                .project(org, current.project_id)
                .await
                .or_not_found("project")?;
            let template = self.template_of(project.id, &project.template)?;
            let data: serde_json::Map<String, Value> = serde_json::from_str(&current.item_data)
                .map_err(|e| AppError::Internal(format!("stored item data: {e}")))?;
            if let Err(errors) = template.validate_answers(&answers, &data) {
                let list: Vec<Value> = errors
                    .iter()
                    .map(|e| serde_json::json!({"question": e.question, "message": e.message}))
                    .collect();
                return Err(AppError::Invalid {
                    code: "invalid_answer",
                    message: format!(
                        "the corrected answers are not valid: {}",
                        errors.first().map(|e| e.to_string()).unwrap_or_default()
                    ),
                    details: Some(serde_json::json!({ "errors": list })),
                });
            }
            Some(answers.to_string())
        } else {
            None
        };
        let reviewer = principal.user_id;
        let now = now_millis();
        let view = self
            .store
            .write_tx(move |tx| {
                rs::review_locked(tx, org, id)?;
                rs::decide(tx, org, id, reviewer, decision, corrected, &feedback, now)?;
                let r = rs::review(tx, org, id)?;
                review_view(tx, org, r)
            })
            .await
            .or_not_found("review")?;
        self.notify_logged(
            org,
            &[view.worker_id],
            Notify {
                kind: NoticeKind::Review,
                project: Some(view.project_id),
                title: format!(
                    "{}: a reviewer {} your submission",
                    view.project_name, decision
                ),
                body: "Read the feedback and the evidence; if you disagree you may appeal once."
                    .into(),
                link: Some("/reviews".into()),
                source_key: format!("review:{id}"),
            },
        )
        .await;
        Ok(view)
    }

    /// The caller's judged submissions with feedback, evidence and appeals, and their pauses.
    pub async fn my_reviews(&self, principal: &Principal) -> AppResult<MyReviews> {
        let (org, me) = (principal.org_id, principal.user_id);
        self.store
            .read_tx(move |tx| {
                let reviews = rs::worker_reviews(tx, org, me, PAGE)?
                    .into_iter()
                    .map(|r| {
                        review_view(tx, org, r).map(|mut v| {
                            v.reviewer_id = None;
                            v
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()?;
                let pauses = rs::worker_pauses(tx, org, me)?
                    .into_iter()
                    .map(PauseView::from)
                    .collect();
                Ok(MyReviews { reviews, pauses })
            })
            .await
            .map_err(AppError::from)
    }

    /// Appeals one of the caller's judgements, once, with a reason.
    pub async fn appeal(
        &self,
        principal: &Principal,
        review: i64,
        body: AppealBody,
    ) -> AppResult<AppealView> {
        let reason = required_text("reason", &body.reason)?;
        let (org, me) = (principal.org_id, principal.user_id);
        let now = now_millis();
        self.store
            .write_tx(move |tx| {
                let r = rs::review_locked(tx, org, review)?;
                if r.worker_id != me {
                    return Err(StoreError::NotFound);
                }
                if r.status != "decided" {
                    return Err(StoreError::Conflict {
                        code: "not_reviewed",
                        message:
                            "this submission has not been judged yet, so there is nothing to appeal"
                                .into(),
                    });
                }
                if r.decision.as_deref() == Some("accepted") {
                    return Err(StoreError::Conflict {
                        code: "nothing_to_appeal",
                        message:
                            "this submission was accepted; only a rejection or a correction can be \
                                  appealed"
                                .into(),
                    });
                }
                let id = rs::insert_appeal(tx, org, &r, &reason, now)?;
                Ok(AppealView::from(rs::appeal(tx, org, id)?))
            })
            .await
            .or_not_found("review")
    }

    /// The open appeals of a project, oldest first, each with the judgement it contests.
    pub async fn appeal_queue(
        &self,
        principal: &Principal,
        project: i64,
    ) -> AppResult<Vec<AppealCase>> {
        require_reviewer(principal)?;
        let org = principal.org_id;
        self.store
            .read_tx(move |tx| {
                if !rs::project_in_org(tx, org, project)? {
                    return Err(StoreError::NotFound);
                }
                rs::open_appeals(tx, org, project, PAGE)?
                    .into_iter()
                    .map(|a| {
                        let review = review_view(tx, org, rs::review(tx, org, a.review_id)?)?;
                        Ok(AppealCase {
                            appeal: a.into(),
                            review,
                        })
                    })
                    .collect()
            })
            .await
            .map_err(project_404)
    }

    /// Decides an appeal: a second reviewer, not the one who judged and not the appellant; final.
    pub async fn decide_appeal(
        &self,
        principal: &Principal,
        id: i64,
        body: AppealDecisionBody,
    ) -> AppResult<AppealView> {
        require_reviewer(principal)?;
        let note = required_text("note", &body.note)?;
        let outcome = match body.outcome.as_str() {
            "upheld" | "overturned" => body.outcome.clone(),
            other => {
                return Err(AppError::invalid(
                    "invalid_outcome",
                    format!(
                        "outcome must be upheld (the judgement stands) or overturned, not {other:?}"
                    ),
                ));
            }
        };
        let (org, me) = (principal.org_id, principal.user_id);
        let now = now_millis();
        let decided = self
            .store
            .write_tx(move |tx| {
                let a = rs::appeal_locked(tx, org, id)?;
                let r = rs::review(tx, org, a.review_id)?;
                if r.reviewer_id == Some(me) {
                    return Err(StoreError::Conflict {
                        code: "same_reviewer",
                        message:
                            "you made the judgement under appeal; a second reviewer must decide it"
                                .into(),
                    });
                }
                if a.worker_id == me {
                    return Err(StoreError::Conflict {
                        code: "own_appeal",
                        message: "you cannot decide your own appeal".into(),
                    });
                }
                rs::decide_appeal(tx, org, id, me, &outcome, &note, now)?;
                let r = rs::review(tx, org, a.review_id)?;
                Ok((
                    AppealView::from(rs::appeal(tx, org, id)?),
                    r.worker_id,
                    r.project_id,
                    r.project_name,
                ))
            })
            .await
            .map(|(view, worker, project, name)| {
                let title = format!(
                    "{name}: your appeal was decided ({})",
                    view.outcome.as_deref().unwrap_or("decided")
                );
                (view, worker, project, title)
            })
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound("appeal"),
                StoreError::Conflict { code, message }
                    if code == "same_reviewer" || code == "own_appeal" =>
                {
                    AppError::Forbidden { code, message }
                }
                other => other.into(),
            })?;
        let (view, worker, project, title) = decided;
        self.notify_logged(
            org,
            &[worker],
            Notify {
                kind: NoticeKind::Appeal,
                project: Some(project),
                title,
                body: view.note.clone().unwrap_or_default(),
                link: Some("/reviews".into()),
                source_key: format!("appeal:{id}"),
            },
        )
        .await;
        Ok(view)
    }

    /// Pauses a worker from a project: only a reviewer or admin, only with a written reason the worker sees.
    pub async fn pause_worker(
        &self,
        principal: &Principal,
        project: i64,
        body: PauseBody,
    ) -> AppResult<PauseView> {
        if !matches!(principal.role, Role::Reviewer | Role::Admin) {
            return Err(AppError::forbidden(
                "pausing a worker needs the reviewer or admin role",
            ));
        }
        let reason = required_text("reason", &body.reason)?;
        let (org, me, worker) = (principal.org_id, principal.user_id, body.worker_id);
        if worker == me {
            return Err(AppError::invalid(
                "invalid_worker",
                "worker_id: you cannot pause yourself",
            ));
        }
        let now = now_millis();
        self.store
            .write_tx(move |tx| {
                if !rs::project_in_org(tx, org, project)? {
                    return Err(StoreError::NotFound);
                }
                if rs::user_role(tx, org, worker)?.is_none() {
                    return Err(StoreError::Conflict {
                        code: "unknown_worker",
                        message: format!(
                            "worker_id: there is no user {worker} in your organization"
                        ),
                    });
                }
                rs::insert_pause(tx, org, project, worker, &reason, me, now)?;
                rs::active_pause(tx, org, project, worker)?
                    .map(PauseView::from)
                    .ok_or(StoreError::NotFound)
            })
            .await
            .map_err(|e| match e {
                StoreError::Conflict {
                    code: "unknown_worker",
                    ..
                } => AppError::NotFound("worker"),
                other => project_404(other),
            })
    }

    /// Lifts a worker's pause from a project (reviewer or admin); 404 when none is in force.
    pub async fn lift_pause(
        &self,
        principal: &Principal,
        project: i64,
        worker: i64,
    ) -> AppResult<()> {
        if !matches!(principal.role, Role::Reviewer | Role::Admin) {
            return Err(AppError::forbidden(
                "lifting a pause needs the reviewer or admin role",
            ));
        }
        let (org, me) = (principal.org_id, principal.user_id);
        let now = now_millis();
        let lifted = self
            .store
            .write_tx(move |tx| rs::lift_pause(tx, org, project, worker, me, now))
            .await?;
        if lifted {
            Ok(())
        } else {
            Err(AppError::NotFound("pause"))
        }
    }

    /// The pauses in force in a project (reviewers).
    pub async fn project_pauses(
        &self,
        principal: &Principal,
        project: i64,
    ) -> AppResult<Vec<PauseView>> {
        require_reviewer(principal)?;
        let org = principal.org_id;
        self.store
            .read_tx(move |tx| {
                if !rs::project_in_org(tx, org, project)? {
                    return Err(StoreError::NotFound);
                }
                Ok(rs::project_pauses(tx, org, project)?
                    .into_iter()
                    .map(PauseView::from)
                    .collect())
            })
            .await
            .map_err(project_404)
    }

    /// Refuses work to a worker paused from the project, with the human's reason (403 `worker_paused`).
    pub async fn check_not_paused(&self, principal: &Principal, project: i64) -> AppResult<()> {
        let (org, me) = (principal.org_id, principal.user_id);
        let pause = self
            .store
            .read_tx(move |tx| rs::active_pause(tx, org, project, me))
            .await?;
        match pause {
            None => Ok(()),
            Some(p) => Err(AppError::Forbidden {
                code: "worker_paused",
                message: format!(
                    "you are paused from this project by a reviewer: {} (see My reviews; you can appeal the \
                     judgements behind it)",
                    p.reason
                ),
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn template() -> TaskTemplate {
        TaskTemplate::from_json(&json!({
            "fields": [{"name": "a", "type": "text"}, {"name": "b", "type": "text"}],
            "questions": [
                {"name": "label", "type": "single_choice", "options": ["A is much better", "B is much better"]},
                {"name": "why", "type": "text"},
                {"name": "pref", "type": "pairwise", "a": "a", "b": "b"}
            ]
        }))
        .unwrap()
    }

    #[test]
    fn agreement_ignores_free_text_and_takes_the_lowest_question() {
        let t = template();
        let a = json!({"label": "A is much better", "why": "because it reads well to me",
            "pref": {"strength": -2, "justification": "A is better for many reasons"}});
        let b = json!({"why": "a different long explanation here", "label": "A is much better",
            "pref": {"justification": "I also think A is far better", "strength": -2}});
        assert_eq!(item_agreement(&t, &[a.clone(), b.clone()]), Some(1.0));
        let c = json!({"label": "B is much better", "why": "x", "pref": {"strength": -2, "justification": "y"}});
        assert_eq!(item_agreement(&t, &[a.clone(), b, c]), Some(2.0 / 3.0));
        assert_eq!(item_agreement(&t, &[a]), None);
    }

    #[test]
    fn signatures_round_trip_as_text() {
        let s = Signature::of_text("one two three four five").unwrap();
        assert_eq!(signature_parse(&signature_text(&s)), Some(s));
        assert_eq!(signature_parse("xyz"), None);
    }

    #[test]
    fn free_text_is_text_answers_and_justifications_only() {
        let a = json!({"label": "A is much better", "why": "the first one is right",
            "pref": {"strength": 1, "justification": "B cites sources"}});
        assert_eq!(
            free_text(&template(), &a),
            "the first one is right\nB cites sources"
        );
    }
}
