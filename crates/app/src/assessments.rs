//! Qualification assessments: a requester builds a test from the task template system (questions, an answer key
//! for each keyed question, a rubric for each free-text one that a person grades), with a time limit, an attempts
//! limit and a pass mark, paid as onboarding time or not as the project decides. A worker takes it; keyed answers
//! are scored at once by the same comparison as gold items ([`score_question`]), and the worker sees the score
//! and, for each wrong answer, the requester's explanation. A project can require passing an assessment (with its
//! own pass mark): claims by workers who have not are refused with `403 qualification_required`.
//!
//! Why the deadline is the server's: the page's timer is a courtesy; the attempt row carries its deadline, and
//! answers that arrive after it (plus [`GRACE_MS`] for the network) close the attempt as expired and are not
//! scored, whatever the browser says.
//!
//! Why answers are not all required: at the deadline the page sends what is there, so an unanswered question
//! counts as wrong instead of blocking the submission.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use fairloop_domain::ProjectId;
use fairloop_domain::template::TaskTemplate;
use fairloop_domain::template::score_question;
use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_store::Principal;
use fairloop_store::assessments::{
    AssessmentUpdate, Attempt, Finish, NewAssessment, Requirement, StoredAssessment,
};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value, json};

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::review::can_review;
use crate::{App, AppError, AppResult};

/// Time allowed after the deadline for the answers to travel: a submission sent at 0:00 left is still taken.
pub const GRACE_MS: i64 = 5_000;
/// Longest time limit, in minutes.
pub const MAX_TIME_LIMIT_MINUTES: u32 = 480;
/// Most attempts a requester may allow.
pub const MAX_ATTEMPTS: u32 = 10;
/// Longest title, explanation or rubric, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// How long the claim path trusts its knowledge of whether a project has requirements (other processes see a
/// change within this time; this process at once).
pub const REQUIREMENTS_CACHE: Duration = Duration::from_secs(5);

/// An assessment as the requester writes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentInput {
    /// What it is called (the worker sees it).
    pub title: String,
    /// A task template with questions only (no fields): the questions of the assessment (docs/templates.md).
    #[schema(value_type = Object)]
    pub template: Value,
    /// The right answer of each keyed question, by question name, in the answer format of its type.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub keys: Map<String, Value>,
    /// Why the key is right, by question name: shown to a worker who answered otherwise.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub explanations: Map<String, Value>,
    /// How a person grades each `text` question without a key, by question name.
    #[serde(default)]
    #[schema(value_type = Object)]
    pub rubrics: Map<String, Value>,
    /// Minutes an attempt may take (1 to 480), enforced by the server.
    pub time_limit_minutes: u32,
    /// Attempts a worker may make (1 to 10, default 1).
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// Percent of the questions to get right to pass (1 to 100).
    pub pass_mark: u32,
    /// Whether time on it is paid as onboarding time (activity `qualification`); the project must pay onboarding.
    #[serde(default)]
    pub paid: bool,
}

/// A change to an assessment (`PATCH /api/v1/assessments/{id}`): any field left out keeps its value. The result
/// is validated exactly as a new assessment. Questions, keys and rubrics change only while nobody attempted it
/// (`409 assessment_attempted`); the title, explanations and settings change any time.
#[derive(Debug, Clone, Default, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AssessmentPatch {
    /// New title.
    #[serde(default)]
    pub title: Option<String>,
    /// New questions (a task template with questions only).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub template: Option<Value>,
    /// New answer keys, by question name (replaces them all).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub keys: Option<Map<String, Value>>,
    /// New explanations, by question name (replaces them all).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub explanations: Option<Map<String, Value>>,
    /// New rubrics, by question name (replaces them all).
    #[serde(default)]
    #[schema(value_type = Object)]
    pub rubrics: Option<Map<String, Value>>,
    /// New time limit in minutes (applies to attempts started from now on).
    #[serde(default)]
    pub time_limit_minutes: Option<u32>,
    /// New attempts limit.
    #[serde(default)]
    pub max_attempts: Option<u32>,
    /// New pass mark in percent (attempts already graded keep their recorded result).
    #[serde(default)]
    pub pass_mark: Option<u32>,
    /// Paid as onboarding time or not.
    #[serde(default)]
    pub paid: Option<bool>,
}

impl From<AssessmentInput> for AssessmentPatch {
    fn from(i: AssessmentInput) -> Self {
        AssessmentPatch {
            title: Some(i.title),
            template: Some(i.template),
            keys: Some(i.keys),
            explanations: Some(i.explanations),
            rubrics: Some(i.rubrics),
            time_limit_minutes: Some(i.time_limit_minutes),
            max_attempts: i.max_attempts,
            pass_mark: Some(i.pass_mark),
            paid: Some(i.paid),
        }
    }
}

/// The stored spec: what grading needs.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Spec {
    template: Value,
    keys: Map<String, Value>,
    explanations: BTreeMap<String, String>,
    rubrics: BTreeMap<String, String>,
}

/// An assessment as a caller sees it (the keys, explanations and rubrics only for requesters and admins).
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AssessmentView {
    /// Id.
    pub id: i64,
    /// Its project.
    pub project_id: i64,
    /// Title.
    pub title: String,
    /// The questions, as a task template.
    #[schema(value_type = Object)]
    pub template: Value,
    /// Minutes per attempt.
    pub time_limit_minutes: i64,
    /// Attempts allowed.
    pub max_attempts: i64,
    /// Percent needed to pass.
    pub pass_mark: i64,
    /// Paid as onboarding time.
    pub paid: bool,
    /// Archived: takes no new attempts, its results are kept.
    pub archived: bool,
    /// Questions a person grades by rubric.
    pub rubric_questions: Vec<String>,
    /// Answer keys (requesters and admins only).
    #[schema(value_type = Object)]
    pub keys: Option<Map<String, Value>>,
    /// Explanations (requesters and admins only).
    #[schema(value_type = Object)]
    pub explanations: Option<BTreeMap<String, String>>,
    /// Rubrics (requesters and admins only).
    #[schema(value_type = Object)]
    pub rubrics: Option<BTreeMap<String, String>>,
    /// The caller's attempts so far.
    pub attempts_used: i64,
    /// The caller's open attempt, if any.
    pub open_attempt: Option<i64>,
    /// The caller's best graded score in percent.
    pub best_score: Option<i64>,
    /// Whether the caller has passed it.
    pub passed: bool,
}

/// How one question of an attempt went.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct QuestionOutcome {
    /// The question's name.
    pub name: String,
    /// The question as the worker read it.
    pub label: String,
    /// Right or not; `null` while a person has not graded it.
    pub correct: Option<bool>,
    /// Why the key is right: present for a wrong answer when the requester wrote one.
    pub explanation: Option<String>,
    /// The grader's note on a rubric answer.
    pub note: Option<String>,
}

/// An attempt as its worker (or the organization's reviewers) see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptView {
    /// Id.
    pub id: i64,
    /// The assessment.
    pub assessment_id: i64,
    /// The worker.
    pub worker_id: i64,
    /// `open`, `grading` (waiting for a person), `graded` or `expired` (the time ran out).
    pub status: String,
    /// When it started (RFC 3339 UTC).
    pub started_at: String,
    /// When answers stop being taken (RFC 3339 UTC).
    pub deadline_at: String,
    /// The same, in milliseconds since the epoch (for a countdown).
    pub deadline_ms: i64,
    /// Seconds left (0 once past), for an open attempt.
    pub seconds_left: i64,
    /// The score in percent, once graded (0 for an expired attempt).
    pub score_pct: Option<i64>,
    /// The percent needed.
    pub pass_mark: i64,
    /// Whether it passed.
    pub passed: bool,
    /// Per question, once submitted.
    pub results: Vec<QuestionOutcome>,
    /// The answers given, once submitted.
    #[schema(value_type = Object)]
    pub answers: Option<Value>,
}

/// A person's grade of one rubric answer.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Grade {
    /// Whether the answer meets the rubric.
    pub correct: bool,
    /// Why (shown to the worker).
    #[serde(default)]
    pub note: String,
}

/// The grades of an attempt's rubric answers, by question name (every rubric question once).
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct GradeBody {
    /// Grades by question name.
    #[schema(value_type = Object)]
    pub grades: std::collections::HashMap<String, Grade>,
}

/// One requirement of a project as set by the requester.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementInput {
    /// An assessment of the organization.
    pub assessment_id: i64,
    /// Percent needed (1 to 100; default: the assessment's own pass mark).
    #[serde(default)]
    pub pass_mark: Option<u32>,
}

/// A requirement as the caller sees it, with whether the caller meets it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct RequirementView {
    /// The assessment.
    pub assessment_id: i64,
    /// Its title.
    pub title: String,
    /// Percent needed.
    pub pass_mark: i64,
    /// Whether the caller meets it.
    pub met: bool,
    /// Where to take it.
    pub link: String,
}

/// Whether the claim path checks requirements, per (organization, project), and since when that is known.
pub(crate) type RequirementsCache =
    std::sync::Arc<std::sync::Mutex<std::collections::HashMap<(i64, ProjectId), (bool, Instant)>>>;

fn invalid(message: impl Into<String>) -> AppError {
    AppError::invalid("invalid_assessment", message)
}

fn text(field: &str, v: &str, required: bool) -> AppResult<String> {
    let v = v.trim();
    crate::reject_nul(field, v)?;
    if required && v.is_empty() {
        return Err(invalid(format!("{field} must not be empty")));
    }
    if v.chars().count() > MAX_TEXT_CHARS {
        return Err(invalid(format!(
            "{field} is at most {MAX_TEXT_CHARS} characters"
        )));
    }
    Ok(v.to_string())
}

fn string_map(field: &str, m: &Map<String, Value>) -> AppResult<BTreeMap<String, String>> {
    let mut out = BTreeMap::new();
    for (k, v) in m {
        let Some(s) = v.as_str() else {
            return Err(invalid(format!("{field}.{k} must be a string")));
        };
        out.insert(k.clone(), text(&format!("{field}.{k}"), s, true)?);
    }
    Ok(out)
}

/// The template with every question optional: an unanswered question is wrong, not an error (see module docs).
fn lenient(template: &Value) -> AppResult<TaskTemplate> {
    let mut t = template.clone();
    if let Some(qs) = t.get_mut("questions").and_then(Value::as_array_mut) {
        for q in qs {
            if let Some(o) = q.as_object_mut() {
                o.insert("required".into(), Value::Bool(false));
            }
        }
    }
    TaskTemplate::from_json(&t).map_err(|e| AppError::Internal(format!("stored assessment: {e}")))
}

/// Checks an assessment; answers the spec to store. Every error names the field.
fn validate(input: &AssessmentInput) -> AppResult<(String, Spec)> {
    let title = text("title", &input.title, true)?;
    if title.chars().count() > 200 {
        return Err(invalid("title is at most 200 characters"));
    }
    let template = TaskTemplate::from_json(&input.template)
        .map_err(|e| invalid(format!("template{}: {}", dotted(e.path()), e.message())))?;
    if !template.fields.is_empty() {
        return Err(invalid(
            "template.fields must be empty: an assessment has questions only (put any passage in a question's \
             label or help)",
        ));
    }
    let check = lenient(&input.template)?;
    let explanations = string_map("explanations", &input.explanations)?;
    let rubrics = string_map("rubrics", &input.rubrics)?;
    for (field, names) in [
        ("keys", input.keys.keys().collect::<Vec<_>>()),
        ("explanations", explanations.keys().collect()),
        ("rubrics", rubrics.keys().collect()),
    ] {
        if let Some(n) = names.iter().find(|n| template.question(n).is_none()) {
            return Err(invalid(format!(
                "{field}.{n} names no question of the template"
            )));
        }
    }
    for (i, q) in template.questions.iter().enumerate() {
        let at = format!("template.questions[{i}]");
        if q.show_if.is_some() {
            return Err(invalid(format!(
                "{at}.show_if is not supported in assessments: every question is shown"
            )));
        }
        match (input.keys.get(&q.name), rubrics.get(&q.name)) {
            (Some(_), Some(_)) => {
                return Err(invalid(format!(
                    "question {:?} has both a key and a rubric; give one",
                    q.name
                )));
            }
            (None, None) => {
                return Err(invalid(format!(
                    "question {:?} needs a key (keys.{}) or, for a text question, a rubric (rubrics.{})",
                    q.name, q.name, q.name
                )));
            }
            (None, Some(_)) if q.kind.type_name() != "text" => {
                return Err(invalid(format!(
                    "rubrics.{} is for text questions; give question {:?} ({}) a key instead",
                    q.name,
                    q.name,
                    q.kind.type_name()
                )));
            }
            (Some(key), None) => {
                if let Err(errors) =
                    check.validate_answers(&json!({ q.name.clone(): key }), &Map::new())
                    && let Some(e) = errors.first()
                {
                    return Err(invalid(format!("keys.{}: {}", q.name, e.message)));
                }
                score_question(&q.kind, Some(key), key, q.gold.unwrap_or_default()).ok_or_else(
                    || {
                        invalid(format!(
                            "keys.{}: {} questions cannot be scored against a key",
                            q.name,
                            q.kind.type_name()
                        ))
                    },
                )?;
            }
            (None, Some(_)) => {}
        }
    }
    if !(1..=MAX_TIME_LIMIT_MINUTES).contains(&input.time_limit_minutes) {
        return Err(invalid(format!(
            "time_limit_minutes must be from 1 to {MAX_TIME_LIMIT_MINUTES}, got {}",
            input.time_limit_minutes
        )));
    }
    if let Some(m) = input.max_attempts
        && !(1..=MAX_ATTEMPTS).contains(&m)
    {
        return Err(invalid(format!(
            "max_attempts must be from 1 to {MAX_ATTEMPTS}, got {m}"
        )));
    }
    if !(1..=100).contains(&input.pass_mark) {
        return Err(invalid(format!(
            "pass_mark must be a percent from 1 to 100, got {}",
            input.pass_mark
        )));
    }
    Ok((
        title,
        Spec {
            template: input.template.clone(),
            keys: input.keys.clone(),
            explanations,
            rubrics,
        },
    ))
}

fn dotted(path: &str) -> String {
    if path.is_empty() || path.starts_with('[') {
        path.to_string()
    } else {
        format!(".{path}")
    }
}

fn spec_of(a: &StoredAssessment) -> AppResult<Spec> {
    serde_json::from_str(&a.spec).map_err(|e| AppError::Internal(format!("stored assessment: {e}")))
}

fn label_of(t: &TaskTemplate, name: &str) -> String {
    t.question(name)
        .and_then(|q| q.label.clone())
        .unwrap_or_else(|| name.to_string())
}

/// Grades keyed answers; rubric questions stay `None` for a person. Answers the outcomes and, when nothing waits
/// for a person, the score in percent.
fn grade(
    spec: &Spec,
    template: &TaskTemplate,
    answers: &Value,
) -> (Vec<QuestionOutcome>, Option<i64>) {
    let mut out = Vec::new();
    for q in &template.questions {
        let correct = spec.keys.get(&q.name).map(|key| {
            let given = answers.get(&q.name).filter(|v| !v.is_null());
            score_question(&q.kind, given, key, q.gold.unwrap_or_default()).unwrap_or(0.0)
                >= 0.999_999
        });
        out.push(QuestionOutcome {
            name: q.name.clone(),
            label: label_of(template, &q.name),
            correct,
            explanation: match correct {
                Some(false) => spec.explanations.get(&q.name).cloned(),
                _ => None,
            },
            note: None,
        });
    }
    let score = score_of(&out);
    (out, score)
}

fn score_of(outcomes: &[QuestionOutcome]) -> Option<i64> {
    if outcomes.iter().any(|o| o.correct.is_none()) || outcomes.is_empty() {
        return None;
    }
    let right = outcomes.iter().filter(|o| o.correct == Some(true)).count() as i64;
    let total = outcomes.len() as i64;
    // Rounded half up, in integers: 2 of 3 is 67 %.
    Some((right * 200 + total) / (total * 2))
}

fn attempt_view(a: &Attempt, pass_mark: i64, now: Millis) -> AttemptView {
    let results: Vec<QuestionOutcome> = a
        .results
        .as_deref()
        .and_then(|r| serde_json::from_str(r).ok())
        .unwrap_or_default();
    AttemptView {
        id: a.id,
        assessment_id: a.assessment_id,
        worker_id: a.worker_id,
        status: a.status.clone(),
        started_at: to_rfc3339(a.started_at),
        deadline_at: to_rfc3339(a.deadline_at),
        deadline_ms: a.deadline_at,
        seconds_left: if a.status == "open" {
            ((a.deadline_at - now).max(0) + 999) / 1000
        } else {
            0
        },
        score_pct: a.score_pct,
        pass_mark,
        passed: a.passed,
        results,
        answers: a
            .answers
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
    }
}

impl App {
    /// Creates an assessment on a project (requesters and admins); answers its id.
    pub async fn create_assessment(
        &self,
        principal: &Principal,
        project: ProjectId,
        input: AssessmentInput,
    ) -> AppResult<i64> {
        require_manager(principal)?;
        let p = self.project(principal, project).await?;
        let (title, spec) = validate(&input)?;
        if input.paid && crate::onboarding::OnboardingPay::from_stored(p.pay.as_deref()).is_none() {
            return Err(invalid(
                "paid: this project pays no onboarding time; give it onboarding_pay or set paid to false",
            ));
        }
        self.store
            .create_assessment(NewAssessment {
                org_id: principal.org_id,
                project_id: project,
                title,
                spec: serde_json::to_string(&spec).expect("spec serializes"),
                time_limit_s: i64::from(input.time_limit_minutes) * 60,
                max_attempts: i64::from(input.max_attempts.unwrap_or(1)),
                pass_mark: i64::from(input.pass_mark),
                paid: input.paid,
                by: principal.user_id,
                now: now_millis(),
            })
            .await
            .or_not_found("project")
    }

    /// Changes an assessment (requesters and admins): the patch over what is stored, validated like a new one.
    /// `409 assessment_attempted` when its questions, keys or rubrics change after someone attempted it, `409
    /// assessment_archived` for an archived one.
    pub async fn update_assessment(
        &self,
        principal: &Principal,
        id: i64,
        patch: AssessmentPatch,
    ) -> AppResult<()> {
        require_manager(principal)?;
        let (a, p) = self.visible_assessment(principal, id).await?;
        let old = spec_of(&a)?;
        let input = AssessmentInput {
            title: patch.title.unwrap_or(a.title.clone()),
            template: patch.template.unwrap_or(old.template.clone()),
            keys: patch.keys.unwrap_or(old.keys.clone()),
            explanations: patch.explanations.unwrap_or_else(|| {
                old.explanations
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect()
            }),
            rubrics: patch.rubrics.unwrap_or_else(|| {
                old.rubrics
                    .iter()
                    .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                    .collect()
            }),
            time_limit_minutes: patch
                .time_limit_minutes
                .unwrap_or(u32::try_from(a.time_limit_s / 60).unwrap_or(u32::MAX)),
            max_attempts: Some(
                patch
                    .max_attempts
                    .unwrap_or(u32::try_from(a.max_attempts).unwrap_or(u32::MAX)),
            ),
            pass_mark: patch
                .pass_mark
                .unwrap_or(u32::try_from(a.pass_mark).unwrap_or(u32::MAX)),
            paid: patch.paid.unwrap_or(a.paid),
        };
        let (title, spec) = validate(&input)?;
        if input.paid
            && !a.paid
            && crate::onboarding::OnboardingPay::from_stored(p.pay.as_deref()).is_none()
        {
            return Err(invalid(
                "paid: this project pays no onboarding time; give it onboarding_pay or set paid to false",
            ));
        }
        let scoring_changed =
            spec.template != old.template || spec.keys != old.keys || spec.rubrics != old.rubrics;
        self.store
            .update_assessment(
                principal.org_id,
                id,
                AssessmentUpdate {
                    title,
                    spec: serde_json::to_string(&spec).expect("spec serializes"),
                    scoring_changed,
                    time_limit_s: i64::from(input.time_limit_minutes) * 60,
                    max_attempts: i64::from(input.max_attempts.unwrap_or(1)),
                    pass_mark: i64::from(input.pass_mark),
                    paid: input.paid,
                },
            )
            .await
            .or_not_found("assessment")
    }

    /// Archives an assessment (requesters and admins): it takes no new attempts and keeps its results. `409
    /// assessment_required` while a project requires it.
    pub async fn archive_assessment(&self, principal: &Principal, id: i64) -> AppResult<()> {
        require_manager(principal)?;
        self.visible_assessment(principal, id).await?;
        self.store
            .archive_assessment(principal.org_id, id, now_millis())
            .await
            .or_not_found("assessment")
    }

    /// Deletes an assessment nobody attempted and no project requires (requesters and admins); otherwise `409
    /// assessment_attempted` (archive it instead) or `409 assessment_required`.
    pub async fn delete_assessment(&self, principal: &Principal, id: i64) -> AppResult<()> {
        require_manager(principal)?;
        self.visible_assessment(principal, id).await?;
        self.store
            .delete_assessment(principal.org_id, id)
            .await
            .or_not_found("assessment")
    }

    /// An assessment as its requester wrote it, for the editor: the input that would recreate it, and whether
    /// its questions may still change (nobody attempted it) and whether it is archived.
    pub async fn assessment_for_editing(
        &self,
        principal: &Principal,
        id: i64,
    ) -> AppResult<(ProjectId, AssessmentInput, bool, bool)> {
        require_manager(principal)?;
        let (a, _) = self.visible_assessment(principal, id).await?;
        let spec = spec_of(&a)?;
        let attempted = !self
            .store
            .assessment_attempts(principal.org_id, id)
            .await?
            .is_empty();
        let strings = |m: &BTreeMap<String, String>| -> Map<String, Value> {
            m.iter()
                .map(|(k, v)| (k.clone(), Value::String(v.clone())))
                .collect()
        };
        Ok((
            a.project_id,
            AssessmentInput {
                title: a.title.clone(),
                template: spec.template.clone(),
                keys: spec.keys.clone(),
                explanations: strings(&spec.explanations),
                rubrics: strings(&spec.rubrics),
                time_limit_minutes: u32::try_from(a.time_limit_s / 60).unwrap_or(0),
                max_attempts: Some(u32::try_from(a.max_attempts).unwrap_or(1)),
                pass_mark: u32::try_from(a.pass_mark).unwrap_or(0),
                paid: a.paid,
            },
            !attempted,
            a.archived_at.is_some(),
        ))
    }

    /// Loads an assessment of the caller's organization with its project, under the project's visibility rules
    /// (drafts and the rest apply to its assessments too): every use case about one assessment starts here.
    async fn visible_assessment(
        &self,
        principal: &Principal,
        id: i64,
    ) -> AppResult<(StoredAssessment, fairloop_store::Project)> {
        let a = self
            .store
            .assessment(principal.org_id, id)
            .await
            .or_not_found("assessment")?;
        let p = self.project(principal, a.project_id).await?;
        Ok((a, p))
    }

    /// An assessment of the caller's organization as the caller sees it.
    pub async fn assessment(&self, principal: &Principal, id: i64) -> AppResult<AssessmentView> {
        // Drafts and other visibility rules of the project apply to its assessments too.
        let (a, _) = self.visible_assessment(principal, id).await?;
        let spec = spec_of(&a)?;
        let mine = self
            .store
            .worker_attempts(principal.org_id, id, principal.user_id)
            .await?;
        let manager = principal.role.can_manage_projects();
        let best = mine
            .iter()
            .filter(|t| t.status == "graded")
            .filter_map(|t| t.score_pct)
            .max();
        Ok(AssessmentView {
            id: a.id,
            project_id: a.project_id,
            title: a.title.clone(),
            template: spec.template.clone(),
            time_limit_minutes: a.time_limit_s / 60,
            max_attempts: a.max_attempts,
            pass_mark: a.pass_mark,
            paid: a.paid,
            archived: a.archived_at.is_some(),
            rubric_questions: spec.rubrics.keys().cloned().collect(),
            keys: manager.then(|| spec.keys.clone()),
            explanations: manager.then(|| spec.explanations.clone()),
            rubrics: manager.then(|| spec.rubrics.clone()),
            attempts_used: mine.len() as i64,
            open_attempt: mine
                .iter()
                .find(|t| t.status == "open" && now_millis() <= t.deadline_at + GRACE_MS)
                .map(|t| t.id),
            best_score: best,
            passed: mine.iter().any(|t| t.passed),
        })
    }

    /// The assessments of a project.
    pub async fn project_assessments(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Vec<AssessmentView>> {
        self.project(principal, project).await?;
        let mut out = Vec::new();
        for a in self
            .store
            .project_assessments(principal.org_id, project)
            .await?
        {
            out.push(self.assessment(principal, a.id).await?);
        }
        Ok(out)
    }

    /// The template of an assessment (for the page that renders its questions).
    pub async fn assessment_template(
        &self,
        principal: &Principal,
        id: i64,
    ) -> AppResult<TaskTemplate> {
        let a = self
            .store
            .assessment(principal.org_id, id)
            .await
            .or_not_found("assessment")?;
        lenient(&spec_of(&a)?.template)
    }

    /// Starts an attempt (or answers the one open). `409 attempts_exhausted` when none is left.
    pub async fn start_attempt(&self, principal: &Principal, id: i64) -> AppResult<AttemptView> {
        self.start_attempt_at(principal, id, now_millis()).await
    }

    /// [`App::start_attempt`] at a given time (tests drive the clock).
    pub async fn start_attempt_at(
        &self,
        principal: &Principal,
        id: i64,
        now: Millis,
    ) -> AppResult<AttemptView> {
        if !principal.role.can_work() {
            return Err(AppError::forbidden(format!(
                "assessments are taken by workers; you are a {}",
                principal.role
            )));
        }
        let (a, _) = self.visible_assessment(principal, id).await?;
        let t = self
            .store
            .open_attempt(principal.org_id, id, principal.user_id, now, GRACE_MS)
            .await
            .or_not_found("assessment")?;
        Ok(attempt_view(&t, a.pass_mark, now))
    }

    /// An attempt: the worker's own, or any of the organization's for reviewers, requesters and admins.
    pub async fn attempt(&self, principal: &Principal, id: i64) -> AppResult<AttemptView> {
        let t = self
            .store
            .attempt(principal.org_id, id)
            .await
            .or_not_found("attempt")?;
        if t.worker_id != principal.user_id && !can_review(principal.role) {
            return Err(AppError::NotFound("attempt"));
        }
        let a = self
            .store
            .assessment(principal.org_id, t.assessment_id)
            .await?;
        Ok(attempt_view(&t, a.pass_mark, now_millis()))
    }

    /// The worker answers an open attempt. Keyed questions are scored now; rubric questions wait for a person.
    /// After the deadline: `409 time_limit_passed`, the attempt closes as expired and the answers are not taken.
    pub async fn submit_attempt(
        &self,
        principal: &Principal,
        id: i64,
        answers: Value,
    ) -> AppResult<AttemptView> {
        self.submit_attempt_at(principal, id, answers, now_millis())
            .await
    }

    /// [`App::submit_attempt`] at a given time (tests drive the clock).
    pub async fn submit_attempt_at(
        &self,
        principal: &Principal,
        id: i64,
        answers: Value,
        now: Millis,
    ) -> AppResult<AttemptView> {
        let t = self
            .store
            .attempt(principal.org_id, id)
            .await
            .or_not_found("attempt")?;
        if t.worker_id != principal.user_id {
            return Err(AppError::NotFound("attempt"));
        }
        let a = self
            .store
            .assessment(principal.org_id, t.assessment_id)
            .await?;
        let spec = spec_of(&a)?;
        let template = lenient(&spec.template)?;
        // Past the deadline nothing is checked or scored: the store closes the attempt as expired.
        let late = now > t.deadline_at + GRACE_MS;
        let (results, score) = if late {
            (Vec::new(), None)
        } else {
            if let Err(errors) = template.validate_answers(&answers, &Map::new()) {
                return Err(AppError::Invalid {
                    code: "invalid_answers",
                    message: errors
                        .iter()
                        .map(ToString::to_string)
                        .collect::<Vec<_>>()
                        .join("; "),
                    details: Some(json!({ "errors": errors })),
                });
            }
            grade(&spec, &template, &answers)
        };
        let passed = score.is_some_and(|s| s >= a.pass_mark);
        let finish = self
            .store
            .finish_attempt(
                principal.org_id,
                id,
                principal.user_id,
                now,
                GRACE_MS,
                answers.to_string(),
                serde_json::to_string(&results).expect("results serialize"),
                score,
                passed,
            )
            .await
            .or_not_found("attempt")?;
        match finish {
            Finish::Recorded(t) => {
                if passed {
                    self.forget_requirements(principal.org_id, a.project_id);
                }
                Ok(attempt_view(&t, a.pass_mark, now))
            }
            Finish::TooLate(t) => Err(AppError::Conflict {
                code: "time_limit_passed",
                message: format!(
                    "the time limit of {} minutes ended at {}; these answers were not taken and the attempt is \
                     closed as expired",
                    a.time_limit_s / 60,
                    to_rfc3339(t.deadline_at)
                ),
            }),
        }
    }

    /// Attempts of the organization waiting for a person to grade rubric answers (reviewers, requesters,
    /// admins), with the answers and rubrics to grade them by.
    pub async fn attempts_to_grade(&self, principal: &Principal) -> AppResult<Vec<GradingItem>> {
        if !can_review(principal.role) {
            return Err(AppError::forbidden(format!(
                "grading needs the reviewer, requester or admin role; you are a {}",
                principal.role
            )));
        }
        let mut out = Vec::new();
        for t in self.store.attempts_to_grade(principal.org_id).await? {
            let a = self
                .store
                .assessment(principal.org_id, t.assessment_id)
                .await?;
            let spec = spec_of(&a)?;
            let template = lenient(&spec.template)?;
            let answers: Value = t
                .answers
                .as_deref()
                .and_then(|s| serde_json::from_str(s).ok())
                .unwrap_or(Value::Null);
            out.push(GradingItem {
                attempt_id: t.id,
                assessment_id: a.id,
                title: a.title.clone(),
                worker_id: t.worker_id,
                worker_email: t.worker_email.clone(),
                questions: spec
                    .rubrics
                    .iter()
                    .map(|(name, rubric)| GradingQuestion {
                        name: name.clone(),
                        label: label_of(&template, name),
                        rubric: rubric.clone(),
                        answer: answers
                            .get(name)
                            .and_then(Value::as_str)
                            .unwrap_or_default()
                            .to_string(),
                    })
                    .collect(),
            });
        }
        Ok(out)
    }

    /// A person grades an attempt's rubric answers; the score and pass follow from every question.
    pub async fn grade_attempt(
        &self,
        principal: &Principal,
        id: i64,
        body: GradeBody,
    ) -> AppResult<AttemptView> {
        if !can_review(principal.role) {
            return Err(AppError::forbidden(format!(
                "grading needs the reviewer, requester or admin role; you are a {}",
                principal.role
            )));
        }
        let t = self
            .store
            .attempt(principal.org_id, id)
            .await
            .or_not_found("attempt")?;
        if t.worker_id == principal.user_id {
            return Err(AppError::forbidden("you cannot grade your own attempt"));
        }
        let a = self
            .store
            .assessment(principal.org_id, t.assessment_id)
            .await?;
        let spec = spec_of(&a)?;
        let mut results: Vec<QuestionOutcome> = t
            .results
            .as_deref()
            .and_then(|r| serde_json::from_str(r).ok())
            .unwrap_or_default();
        for name in body.grades.keys() {
            if !spec.rubrics.contains_key(name) {
                return Err(invalid(format!(
                    "grades.{name} is not a question graded by rubric"
                )));
            }
        }
        for r in results
            .iter_mut()
            .filter(|r| spec.rubrics.contains_key(&r.name))
        {
            let Some(g) = body.grades.get(&r.name) else {
                return Err(invalid(format!("grades.{} is missing", r.name)));
            };
            r.correct = Some(g.correct);
            r.note = Some(text(&format!("grades.{}.note", r.name), &g.note, false)?)
                .filter(|n| !n.is_empty());
            if !g.correct {
                r.explanation = spec.explanations.get(&r.name).cloned();
            }
        }
        let score =
            score_of(&results).ok_or_else(|| invalid("grades must cover every rubric question"))?;
        let passed = score >= a.pass_mark;
        let t = self
            .store
            .grade_attempt(
                principal.org_id,
                id,
                serde_json::to_string(&results).expect("results serialize"),
                score,
                passed,
                principal.user_id,
                now_millis(),
            )
            .await?;
        self.forget_requirements(principal.org_id, a.project_id);
        Ok(attempt_view(&t, a.pass_mark, now_millis()))
    }

    /// Replaces a project's qualification requirements (requesters and admins).
    pub async fn set_qualification_requirements(
        &self,
        principal: &Principal,
        project: ProjectId,
        reqs: Vec<RequirementInput>,
    ) -> AppResult<Vec<RequirementView>> {
        require_manager(principal)?;
        self.project(principal, project).await?;
        let mut rows = Vec::new();
        for (i, r) in reqs.iter().enumerate() {
            let a = self
                .store
                .assessment(principal.org_id, r.assessment_id)
                .await
                .map_err(|_| {
                    invalid(format!(
                        "requirements[{i}].assessment_id: no assessment {} in your organization",
                        r.assessment_id
                    ))
                })?;
            if a.archived_at.is_some() {
                return Err(invalid(format!(
                    "requirements[{i}].assessment_id: the assessment “{}” is archived",
                    a.title
                )));
            }
            let mark = match r.pass_mark {
                None => a.pass_mark,
                Some(m) if (1..=100).contains(&m) => i64::from(m),
                Some(m) => {
                    return Err(invalid(format!(
                        "requirements[{i}].pass_mark must be a percent from 1 to 100, got {m}"
                    )));
                }
            };
            rows.push((r.assessment_id, mark));
        }
        self.store
            .set_qualification_requirements(principal.org_id, project, rows)
            .await
            .or_not_found("project")?;
        self.forget_requirements(principal.org_id, project);
        self.qualification_requirements(principal, project).await
    }

    /// A project's requirements, each with whether the caller meets it.
    pub async fn qualification_requirements(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Vec<RequirementView>> {
        self.project(principal, project).await?;
        let all = self
            .store
            .qualification_requirements(principal.org_id, project)
            .await?;
        let unmet = self
            .store
            .unmet_requirements(principal.org_id, project, principal.user_id)
            .await?;
        Ok(all
            .into_iter()
            .map(|r| RequirementView {
                met: !unmet.iter().any(|u| u.assessment_id == r.assessment_id),
                link: format!("/assessments/{}", r.assessment_id),
                assessment_id: r.assessment_id,
                title: r.title,
                pass_mark: r.pass_mark,
            })
            .collect())
    }

    /// The worker's unmet requirements on every project of the organization (the home page's "take the
    /// assessment").
    pub async fn my_unmet_requirements(
        &self,
        principal: &Principal,
    ) -> AppResult<Vec<(ProjectId, Requirement)>> {
        Ok(self
            .store
            .unmet_requirements_all(principal.org_id, principal.user_id)
            .await?)
    }

    /// Refuses a claim by a worker who has not passed a required assessment (`403 qualification_required`). A
    /// project without requirements costs no statement here while the cache knows it (see [`REQUIREMENTS_CACHE`]).
    pub(crate) async fn check_qualified(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<()> {
        let key = (principal.org_id, project);
        let known = self
            .requirements_cache
            .lock()
            .expect("requirements cache lock")
            .get(&key)
            .filter(|(_, at)| at.elapsed() < REQUIREMENTS_CACHE)
            .map(|(has, _)| *has);
        let has = match known {
            Some(h) => h,
            None => {
                let h = self
                    .store
                    .has_requirements(principal.org_id, project)
                    .await?;
                self.requirements_cache
                    .lock()
                    .expect("requirements cache lock")
                    .insert(key, (h, Instant::now()));
                h
            }
        };
        if !has {
            return Ok(());
        }
        let unmet = self
            .store
            .unmet_requirements(principal.org_id, project, principal.user_id)
            .await?;
        match unmet.first() {
            None => Ok(()),
            Some(r) => Err(AppError::Forbidden {
                code: "qualification_required",
                message: format!(
                    "this project needs a score of at least {} % on the assessment “{}”: take it at /assessments/{}",
                    r.pass_mark, r.title, r.assessment_id
                ),
            }),
        }
    }

    fn forget_requirements(&self, org: i64, project: ProjectId) {
        self.requirements_cache
            .lock()
            .expect("requirements cache lock")
            .remove(&(org, project));
    }
}

/// An attempt waiting for a person, with what they grade.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GradingItem {
    /// The attempt.
    pub attempt_id: i64,
    /// The assessment.
    pub assessment_id: i64,
    /// Its title.
    pub title: String,
    /// The worker.
    pub worker_id: i64,
    /// Their email.
    pub worker_email: String,
    /// The rubric questions with the answers given.
    pub questions: Vec<GradingQuestion>,
}

/// One rubric answer to grade.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct GradingQuestion {
    /// The question's name.
    pub name: String,
    /// The question.
    pub label: String,
    /// How to grade it.
    pub rubric: String,
    /// What the worker wrote.
    pub answer: String,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> AssessmentInput {
        serde_json::from_value(json!({
            "title": "Fruit",
            "template": {"fields": [], "questions": [
                {"name": "color", "type": "single_choice", "options": ["red", "yellow"], "label": "Banana colour?"},
                {"name": "why", "type": "text", "label": "Why?"}
            ]},
            "keys": {"color": "yellow"},
            "explanations": {"color": "Ripe bananas are yellow."},
            "rubrics": {"why": "Mentions ripeness."},
            "time_limit_minutes": 10, "pass_mark": 50
        }))
        .unwrap()
    }

    #[test]
    fn validation_names_the_field() {
        assert!(validate(&input()).is_ok());
        let mut i = input();
        i.keys.insert("color".into(), json!("blue"));
        let e = validate(&i).unwrap_err().to_string();
        assert!(e.contains("keys.color"), "{e}");
        let mut i = input();
        i.rubrics.clear();
        let e = validate(&i).unwrap_err().to_string();
        assert!(e.contains("\"why\" needs a key"), "{e}");
        let mut i = input();
        i.pass_mark = 0;
        assert!(validate(&i).unwrap_err().to_string().contains("pass_mark"));
        let mut i = input();
        i.explanations.insert("nope".into(), json!("x"));
        assert!(
            validate(&i)
                .unwrap_err()
                .to_string()
                .contains("explanations.nope")
        );
    }

    #[test]
    fn grading_scores_keys_and_leaves_rubrics_to_a_person() {
        let (_, spec) = validate(&input()).unwrap();
        let t = lenient(&spec.template).unwrap();
        let (out, score) = grade(&spec, &t, &json!({"color": "red", "why": "ripe"}));
        assert_eq!(out[0].correct, Some(false));
        assert_eq!(
            out[0].explanation.as_deref(),
            Some("Ripe bananas are yellow.")
        );
        assert_eq!(out[1].correct, None);
        assert_eq!(score, None);
        assert_eq!(score_of(&[out[0].clone()]), Some(0));
        let mut right = out[0].clone();
        right.correct = Some(true);
        assert_eq!(
            score_of(&[right.clone(), right.clone(), out[0].clone()]),
            Some(67)
        );
    }
}
