//! The screening interview: an optional, text-only interview of a candidate for a project, run by a language model
//! behind any OpenAI-compatible `POST {base}/chat/completions` endpoint (configured once for the platform: base URL,
//! model, API key from an environment variable, timeout), with a person behind every decision.
//!
//! How it runs: the project's questions are asked as the requester wrote them, one at a time, so every candidate
//! gets the same questions; after each answer the model may ask up to `max_followups` follow-ups on that question.
//! When every question is answered the model scores the transcript against the project's rubric and must answer
//! JSON that names every criterion once with a whole score in its range and a reason; anything else is an error,
//! never a score. Scores at or above the pass mark pass; anything below goes to a person (the reviewers' queue)
//! before anyone is turned away; the candidate may ask for a person on any result; a person's decision, with a
//! note, replaces the model's and is what counts.
//!
//! Failure is plain: the candidate's answer is stored before the model is asked anything, so an endpoint that is
//! down, slow (the timeout) or answers garbage loses no turn and scores nothing; the candidate is told so
//! (`503 interviewer_unavailable`) and retries the same step.

use std::time::Duration;

use fairloop_domain::ProjectId;
use fairloop_domain::time::{now_millis, to_rfc3339};
use fairloop_store::Principal;
use fairloop_store::interviews::{Interview, Next};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::review::can_review;
use crate::{App, AppError, AppResult};

/// Most questions in an interview.
pub const MAX_QUESTIONS: usize = 20;
/// Most rubric criteria.
pub const MAX_CRITERIA: usize = 10;
/// The highest level of a criterion's scale.
pub const MAX_LEVEL: u32 = 10;
/// Most follow-ups per question a project may allow.
pub const MAX_FOLLOWUPS: u32 = 3;
/// Longest answer, question or level description, in characters.
pub const MAX_TEXT_CHARS: usize = 4000;
/// Largest reply read from the model's endpoint.
const MAX_REPLY_BYTES: usize = 1 << 20;

/// Where the interviewer model is (the `interview` section of the configuration file).
#[derive(Clone)]
pub struct InterviewConfig {
    /// The endpoint's base URL; requests go to `{base_url}/chat/completions`.
    pub base_url: String,
    /// The model name sent with every request.
    pub model: String,
    /// The API key (read from the environment variable the configuration names), sent as a bearer token.
    pub api_key: Option<String>,
    /// How long one request may take before the candidate is told and may retry.
    pub timeout: Duration,
}

impl std::fmt::Debug for InterviewConfig {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("InterviewConfig")
            .field("base_url", &self.base_url)
            .field("model", &self.model)
            .field("api_key", &self.api_key.as_ref().map(|_| "<redacted>"))
            .field("timeout", &self.timeout)
            .finish()
    }
}

/// One criterion of the rubric: a scale from 0 to `max`, with what each level means.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Criterion {
    /// Its name (unique in the rubric).
    pub name: String,
    /// The top of the scale (1 to 10); the scale starts at 0.
    pub max: u32,
    /// What each level means, from 0 to `max` (exactly `max + 1` entries).
    pub levels: Vec<String>,
}

/// A project's interview, as the requester writes it.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct InterviewSetup {
    /// The domain questions, asked in order (1 to 20).
    pub questions: Vec<String>,
    /// The rubric the transcript is scored against (1 to 10 criteria).
    pub rubric: Vec<Criterion>,
    /// Follow-ups the model may ask per question (0 to 3, default 1).
    #[serde(default = "one")]
    pub max_followups: u32,
    /// The total score (sum over criteria) that passes without a person; lower goes to a person.
    pub pass_mark: u32,
}

fn one() -> u32 {
    1
}

impl InterviewSetup {
    fn max_total(&self) -> i64 {
        self.rubric.iter().map(|c| i64::from(c.max)).sum()
    }
}

/// One turn of the transcript.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct TurnView {
    /// 1, 2, 3…
    pub seq: i64,
    /// `interviewer` or `candidate`.
    pub role: String,
    /// The text.
    pub content: String,
    /// When (RFC 3339 UTC).
    pub at: String,
}

/// The model's score on one criterion.
#[derive(Debug, Clone, Serialize, Deserialize, utoipa::ToSchema)]
pub struct CriterionScore {
    /// The criterion.
    pub criterion: String,
    /// The score.
    pub score: i64,
    /// The top of its scale.
    pub max: i64,
    /// The model's reason.
    pub reason: String,
}

/// A person's decision.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct DecisionView {
    /// Passed or not.
    pub pass: bool,
    /// Their note.
    pub note: String,
    /// When (RFC 3339 UTC).
    pub decided_at: String,
}

/// An interview as the candidate (or the organization's reviewers) see it.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct InterviewView {
    /// Id.
    pub id: i64,
    /// Project.
    pub project_id: i64,
    /// The candidate.
    pub worker_id: i64,
    /// The candidate's email (reviewers only).
    pub worker_email: Option<String>,
    /// `active`, `answered`, `scored`, `needs_review` or `decided`.
    pub status: String,
    /// Who acts next: `candidate` (answer the last question), `interviewer` (retry: the model has not answered
    /// yet), `scoring` (retry: the model has not scored yet) or `nobody`.
    pub waiting_for: String,
    /// The transcript.
    pub turns: Vec<TurnView>,
    /// Which question is being asked (1-based) and how many there are.
    pub question_number: i64,
    /// How many questions there are.
    pub question_count: i64,
    /// The model's scores with reasons, once scored.
    pub scores: Option<Vec<CriterionScore>>,
    /// The model's total.
    pub model_total: Option<i64>,
    /// The most possible.
    pub model_max: Option<i64>,
    /// The total that passes without a person.
    pub pass_mark: i64,
    /// The candidate asked for a person.
    pub review_requested: bool,
    /// A person's decision, which replaces the model's.
    pub decision: Option<DecisionView>,
    /// What counts now: `in_progress`, `awaiting_scores`, `passed`, `awaiting_review` or `not_passed`.
    pub outcome: String,
}

/// How talking to the model failed.
#[derive(Debug)]
enum ChatError {
    /// No answer (connection, TLS, timeout) or an HTTP error status.
    Unreachable(String),
    /// An answer we cannot use.
    Garbage(String),
}

impl ChatError {
    fn into_app(self) -> AppError {
        match self {
            ChatError::Unreachable(why) => {
                tracing::warn!(%why, "interview endpoint unreachable");
                AppError::Unavailable {
                    code: "interviewer_unavailable",
                    message: format!(
                        "the interviewer is not answering right now ({why}); your answers are saved and nothing \
                         was scored: try again in a moment"
                    ),
                }
            }
            ChatError::Garbage(why) => {
                tracing::warn!(%why, "interview endpoint answered garbage");
                AppError::Unavailable {
                    code: "interviewer_unavailable",
                    message: format!(
                        "the interviewer answered something we could not use ({why}); your answers are saved and \
                         nothing was scored: try again"
                    ),
                }
            }
        }
    }
}

/// A client for `POST {base}/chat/completions` through [`crate::outbound`] (a connection per request: an interview
/// makes a handful), the whole exchange under the configured timeout, the reply read up to [`MAX_REPLY_BYTES`].
#[derive(Clone)]
struct ChatClient {
    config: InterviewConfig,
}

impl ChatClient {
    /// A client over the configuration; fails only if TLS cannot be set up.
    fn new(config: InterviewConfig) -> AppResult<ChatClient> {
        crate::outbound::tls().map_err(AppError::Internal)?;
        Ok(ChatClient { config })
    }

    /// Sends the messages; answers the first choice's content.
    async fn complete(&self, messages: Vec<Value>) -> Result<String, ChatError> {
        let body = json!({"model": self.config.model, "messages": messages, "temperature": 0});
        let raw = self.post(body.to_string()).await?;
        let v: Value = serde_json::from_slice(&raw)
            .map_err(|e| ChatError::Garbage(format!("the reply is not JSON: {e}")))?;
        v.pointer("/choices/0/message/content")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| ChatError::Garbage("the reply has no choices[0].message.content".into()))
    }

    /// Posts the body; answers the reply's bytes, or why there is no usable reply (any failure, and any status
    /// but 2xx, is the endpoint being unreachable: the candidate retries the same step).
    async fn post(&self, body: String) -> Result<Vec<u8>, ChatError> {
        let base = self.config.base_url.trim_end_matches('/');
        let url = url::Url::parse(&format!("{base}/chat/completions"))
            .map_err(|e| ChatError::Unreachable(format!("the configured base URL: {e}")))?;
        let mut headers = vec![("accept", "application/json".to_string())];
        if let Some(k) = &self.config.api_key {
            headers.push(("authorization", format!("Bearer {k}")));
        }
        let post = crate::outbound::Post {
            url: &url,
            headers: &headers,
            body,
            timeout: self.config.timeout,
            max_body: MAX_REPLY_BYTES,
            check: None,
        };
        let answer = crate::outbound::post_json(post)
            .await
            .map_err(|e| ChatError::Unreachable(e.to_string()))?;
        if !answer.is_success() {
            return Err(ChatError::Unreachable(format!("HTTP {}", answer.status)));
        }
        Ok(answer.body)
    }
}

/// The JSON object in a model's reply: the whole content, or the part inside a fenced block or braces.
fn json_in(content: &str) -> Result<Value, ChatError> {
    let t = content.trim();
    let t = t
        .strip_prefix("```json")
        .or_else(|| t.strip_prefix("```"))
        .map(|s| s.trim_end().trim_end_matches("```"))
        .unwrap_or(t)
        .trim();
    serde_json::from_str::<Value>(t)
        .ok()
        .filter(Value::is_object)
        .ok_or_else(|| ChatError::Garbage("the reply is not the JSON object asked for".into()))
}

/// Reads the follow-up decision: `{"follow_up": "…"}` or `{"follow_up": null}`.
fn parse_follow_up(content: &str) -> Result<Option<String>, ChatError> {
    let v = json_in(content)?;
    match v.get("follow_up") {
        Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) if s.chars().count() <= MAX_TEXT_CHARS && !s.contains('\0') => {
            Ok(Some(s.trim().to_string()))
        }
        _ => Err(ChatError::Garbage(
            "follow_up must be a question or null".into(),
        )),
    }
}

/// Reads and checks the scores: every criterion once, a whole number in its range, a reason.
fn parse_scores(content: &str, setup: &InterviewSetup) -> Result<Vec<CriterionScore>, ChatError> {
    let v = json_in(content)?;
    let list = v
        .get("scores")
        .and_then(Value::as_array)
        .ok_or_else(|| ChatError::Garbage("no scores list".into()))?;
    let mut out = Vec::new();
    for c in &setup.rubric {
        let found: Vec<&Value> = list
            .iter()
            .filter(|s| s.get("criterion").and_then(Value::as_str) == Some(c.name.as_str()))
            .collect();
        let [s] = found.as_slice() else {
            return Err(ChatError::Garbage(format!(
                "criterion {:?} must be scored exactly once",
                c.name
            )));
        };
        let score = s
            .get("score")
            .and_then(Value::as_i64)
            .filter(|x| (0..=i64::from(c.max)).contains(x))
            .ok_or_else(|| {
                ChatError::Garbage(format!(
                    "the score of {:?} must be a whole number from 0 to {}",
                    c.name, c.max
                ))
            })?;
        let reason = s
            .get("reason")
            .and_then(Value::as_str)
            .map(str::trim)
            .filter(|r| !r.is_empty() && !r.contains('\0'))
            .ok_or_else(|| ChatError::Garbage(format!("no reason for {:?}", c.name)))?;
        out.push(CriterionScore {
            criterion: c.name.clone(),
            score,
            max: i64::from(c.max),
            reason: reason.chars().take(MAX_TEXT_CHARS).collect(),
        });
    }
    if list.len() != setup.rubric.len() {
        return Err(ChatError::Garbage(
            "scores name criteria outside the rubric".into(),
        ));
    }
    Ok(out)
}

fn transcript_messages(i: &Interview) -> Vec<Value> {
    i.turns
        .iter()
        .map(|t| {
            json!({"role": if t.role == "interviewer" { "assistant" } else { "user" }, "content": t.content})
        })
        .collect()
}

fn transcript_text(i: &Interview) -> String {
    i.turns
        .iter()
        .map(|t| {
            format!(
                "{}: {}",
                if t.role == "interviewer" {
                    "Interviewer"
                } else {
                    "Candidate"
                },
                t.content
            )
        })
        .collect::<Vec<_>>()
        .join("\n\n")
}

fn rubric_text(setup: &InterviewSetup) -> String {
    setup
        .rubric
        .iter()
        .map(|c| {
            let levels: Vec<String> = c
                .levels
                .iter()
                .enumerate()
                .map(|(l, d)| format!("  {l}: {d}"))
                .collect();
            format!("- {} (0 to {}):\n{}", c.name, c.max, levels.join("\n"))
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn check_text(field: &str, v: &str) -> AppResult<String> {
    let v = v.trim();
    crate::reject_nul(field, v)?;
    if v.is_empty() {
        return Err(AppError::invalid(
            "invalid_interview",
            format!("{field} must not be empty"),
        ));
    }
    if v.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid(
            "invalid_interview",
            format!("{field} is at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(v.to_string())
}

/// Checks a setup and trims it; errors name the field.
pub fn validate_setup(s: InterviewSetup) -> AppResult<InterviewSetup> {
    let bad = |m: String| AppError::invalid("invalid_interview", m);
    if s.questions.is_empty() || s.questions.len() > MAX_QUESTIONS {
        return Err(bad(format!(
            "questions needs 1 to {MAX_QUESTIONS} questions, got {}",
            s.questions.len()
        )));
    }
    if s.rubric.is_empty() || s.rubric.len() > MAX_CRITERIA {
        return Err(bad(format!(
            "rubric needs 1 to {MAX_CRITERIA} criteria, got {}",
            s.rubric.len()
        )));
    }
    if s.max_followups > MAX_FOLLOWUPS {
        return Err(bad(format!(
            "max_followups must be from 0 to {MAX_FOLLOWUPS}, got {}",
            s.max_followups
        )));
    }
    let questions = s
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| check_text(&format!("questions[{i}]"), q))
        .collect::<AppResult<Vec<_>>>()?;
    let mut rubric: Vec<Criterion> = Vec::new();
    for (i, c) in s.rubric.iter().enumerate() {
        let name = check_text(&format!("rubric[{i}].name"), &c.name)?;
        if rubric.iter().any(|r| r.name == name) {
            return Err(bad(format!("rubric[{i}].name repeats {name:?}")));
        }
        if !(1..=MAX_LEVEL).contains(&c.max) {
            return Err(bad(format!(
                "rubric[{i}].max must be from 1 to {MAX_LEVEL}, got {}",
                c.max
            )));
        }
        if c.levels.len() != c.max as usize + 1 {
            return Err(bad(format!(
                "rubric[{i}].levels must say what each level from 0 to {} means ({} entries), got {}",
                c.max,
                c.max + 1,
                c.levels.len()
            )));
        }
        let levels = c
            .levels
            .iter()
            .enumerate()
            .map(|(l, d)| check_text(&format!("rubric[{i}].levels[{l}]"), d))
            .collect::<AppResult<Vec<_>>>()?;
        rubric.push(Criterion {
            name,
            max: c.max,
            levels,
        });
    }
    let out = InterviewSetup {
        questions,
        rubric,
        max_followups: s.max_followups,
        pass_mark: s.pass_mark,
    };
    if s.pass_mark == 0 || i64::from(s.pass_mark) > out.max_total() {
        return Err(bad(format!(
            "pass_mark must be from 1 to the rubric's total of {}, got {}",
            out.max_total(),
            s.pass_mark
        )));
    }
    Ok(out)
}

fn view(i: &Interview, setup: &InterviewSetup, reviewer: bool) -> InterviewView {
    let last = i.turns.last();
    let waiting_for = match i.status.as_str() {
        "active" if last.is_some_and(|t| t.role == "candidate") => "interviewer",
        "active" => "candidate",
        "answered" => "scoring",
        _ => "nobody",
    };
    let outcome = match (i.status.as_str(), i.decision.as_deref()) {
        (_, Some("pass")) => "passed",
        (_, Some(_)) => "not_passed",
        ("active", _) => "in_progress",
        ("answered", _) => "awaiting_scores",
        ("scored", _) => "passed",
        _ => "awaiting_review",
    };
    InterviewView {
        id: i.id,
        project_id: i.project_id,
        worker_id: i.worker_id,
        worker_email: reviewer.then(|| i.worker_email.clone()),
        status: i.status.clone(),
        waiting_for: waiting_for.into(),
        turns: i
            .turns
            .iter()
            .map(|t| TurnView {
                seq: t.seq,
                role: t.role.clone(),
                content: t.content.clone(),
                at: to_rfc3339(t.created_at),
            })
            .collect(),
        question_number: i.question_index + 1,
        question_count: setup.questions.len() as i64,
        scores: i
            .scores
            .as_deref()
            .and_then(|s| serde_json::from_str(s).ok()),
        model_total: i.model_total,
        model_max: i.model_max,
        pass_mark: i64::from(setup.pass_mark),
        review_requested: i.review_requested,
        decision: i.decision.as_ref().map(|d| DecisionView {
            pass: d == "pass",
            note: i.decision_note.clone().unwrap_or_default(),
            decided_at: i.decided_at.map(to_rfc3339).unwrap_or_default(),
        }),
        outcome: outcome.into(),
    }
}

impl App {
    fn chat(&self) -> AppResult<ChatClient> {
        let Some(c) = self.config.interview.clone() else {
            return Err(AppError::Unavailable {
                code: "interview_not_configured",
                message: "screening interviews are not configured on this server (the interview section of the \
                          configuration file); ask the platform's administrator"
                    .into(),
            });
        };
        ChatClient::new(c)
    }

    async fn setup_of(&self, org: i64, project: ProjectId) -> AppResult<Option<InterviewSetup>> {
        self.store
            .interview_setup(org, project)
            .await?
            .map(|s| {
                serde_json::from_str(&s)
                    .map_err(|e| AppError::Internal(format!("stored interview setup: {e}")))
            })
            .transpose()
    }

    /// Sets a project's interview (requesters and admins).
    pub async fn set_interview_setup(
        &self,
        principal: &Principal,
        project: ProjectId,
        setup: InterviewSetup,
    ) -> AppResult<InterviewSetup> {
        require_manager(principal)?;
        self.project(principal, project).await?;
        let setup = validate_setup(setup)?;
        self.store
            .set_interview_setup(
                principal.org_id,
                project,
                serde_json::to_string(&setup).expect("setup serializes"),
                principal.user_id,
                now_millis(),
            )
            .await
            .or_not_found("project")?;
        Ok(setup)
    }

    /// The caller's organization's projects that run a screening interview, so the home page can offer it.
    pub async fn interview_projects(&self, principal: &Principal) -> AppResult<Vec<ProjectId>> {
        Ok(self
            .store
            .projects_with_interviews(principal.org_id)
            .await?)
    }

    /// A project's interview setup (anyone in the organization: candidates may read what they are scored on).
    pub async fn interview_setup(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<InterviewSetup>> {
        self.project(principal, project).await?;
        self.setup_of(principal.org_id, project).await
    }

    /// Starts the caller's interview on a project (its first question), or answers the one in progress.
    pub async fn start_interview(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<InterviewView> {
        if !principal.role.can_work() {
            return Err(AppError::forbidden(format!(
                "interviews are for candidates (workers); you are a {}",
                principal.role
            )));
        }
        self.project(principal, project).await?;
        self.chat()?;
        let setup = self
            .setup_of(principal.org_id, project)
            .await?
            .ok_or(AppError::NotFound("interview"))?;
        let i = self
            .store
            .start_interview(
                principal.org_id,
                project,
                principal.user_id,
                setup.questions[0].clone(),
                now_millis(),
            )
            .await
            .or_not_found("project")?;
        Ok(view(&i, &setup, false))
    }

    /// The caller's latest interview on a project.
    pub async fn my_interview(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<InterviewView>> {
        self.project(principal, project).await?;
        let Some(setup) = self.setup_of(principal.org_id, project).await? else {
            return Ok(None);
        };
        Ok(self
            .store
            .latest_interview(principal.org_id, project, principal.user_id)
            .await?
            .map(|i| view(&i, &setup, false)))
    }

    /// An interview: the candidate's own, or any of the organization's for reviewers, requesters and admins.
    pub async fn interview(&self, principal: &Principal, id: i64) -> AppResult<InterviewView> {
        let (i, setup) = self.load_interview(principal, id).await?;
        let reviewer = i.worker_id != principal.user_id;
        Ok(view(&i, &setup, reviewer))
    }

    async fn load_interview(
        &self,
        principal: &Principal,
        id: i64,
    ) -> AppResult<(Interview, InterviewSetup)> {
        let i = self
            .store
            .interview(principal.org_id, id)
            .await
            .or_not_found("interview")?;
        if i.worker_id != principal.user_id && !can_review(principal.role) {
            return Err(AppError::NotFound("interview"));
        }
        let setup = self
            .setup_of(principal.org_id, i.project_id)
            .await?
            .ok_or(AppError::NotFound("interview"))?;
        Ok((i, setup))
    }

    /// The candidate answers the last question (`after_seq`: the turn the page showed). The answer is stored
    /// first; then the interviewer takes its step. If the model fails the answer stays and the error says to
    /// retry ([`App::retry_interview`]).
    pub async fn answer_interview(
        &self,
        principal: &Principal,
        id: i64,
        after_seq: i64,
        answer: &str,
    ) -> AppResult<InterviewView> {
        let answer = check_text("answer", answer)?;
        let chat = self.chat()?;
        let i = self
            .store
            .add_answer(
                principal.org_id,
                id,
                principal.user_id,
                after_seq,
                answer,
                now_millis(),
            )
            .await
            .or_not_found("interview")?;
        self.advance(principal, &chat, i).await
    }

    /// Retries the step the interviewer owes (a follow-up or next question, or the scores) after a failure.
    pub async fn retry_interview(
        &self,
        principal: &Principal,
        id: i64,
    ) -> AppResult<InterviewView> {
        let chat = self.chat()?;
        let (i, _) = self.load_interview(principal, id).await?;
        if i.worker_id != principal.user_id {
            return Err(AppError::NotFound("interview"));
        }
        self.advance(principal, &chat, i).await
    }

    async fn advance(
        &self,
        principal: &Principal,
        chat: &ChatClient,
        mut i: Interview,
    ) -> AppResult<InterviewView> {
        let org = principal.org_id;
        let setup = self
            .setup_of(org, i.project_id)
            .await?
            .ok_or(AppError::NotFound("interview"))?;
        if i.status == "active"
            && let Some(last) = i.turns.last().filter(|t| t.role == "candidate")
        {
            let after = last.seq;
            let follow_up = if i.followups < i64::from(setup.max_followups) {
                let q = &setup.questions[i.question_index as usize];
                let mut messages = vec![json!({"role": "system", "content": format!(
                    "You are a fair, friendly screening interviewer for an expert annotation project. The current \
                     question is: \"{q}\". You may ask at most one follow-up on it when the candidate's last answer \
                     is unclear or incomplete; otherwise move on. Reply with JSON only: {{\"follow_up\": \"your \
                     follow-up question\"}} or {{\"follow_up\": null}}."
                )})];
                messages.extend(transcript_messages(&i));
                let content = chat.complete(messages).await.map_err(ChatError::into_app)?;
                parse_follow_up(&content).map_err(ChatError::into_app)?
            } else {
                None
            };
            let next_index = i.question_index + 1;
            let next = match follow_up {
                Some(f) => Next::FollowUp(f),
                None if (next_index as usize) < setup.questions.len() => {
                    Next::Question(next_index, setup.questions[next_index as usize].clone())
                }
                None => Next::Done,
            };
            i = self
                .store
                .interviewer_step(org, i.id, after, next, now_millis())
                .await?;
        }
        if i.status == "answered" {
            let messages = vec![
                json!({"role": "system", "content": format!(
                    "You score a screening interview transcript against a rubric. Score each criterion with a \
                     whole number on its scale and give a one-sentence reason drawn from the transcript.\n\
                     Rubric:\n{}\n\nReply with JSON only: {{\"scores\": [{{\"criterion\": \"name\", \"score\": 0, \
                     \"reason\": \"...\"}}]}} with every criterion exactly once.",
                    rubric_text(&setup)
                )}),
                json!({"role": "user", "content": format!("Transcript:\n\n{}", transcript_text(&i))}),
            ];
            let content = chat.complete(messages).await.map_err(ChatError::into_app)?;
            let scores = parse_scores(&content, &setup).map_err(ChatError::into_app)?;
            let total: i64 = scores.iter().map(|s| s.score).sum();
            let passed = total >= i64::from(setup.pass_mark);
            i = self
                .store
                .record_interview_scores(
                    org,
                    i.id,
                    serde_json::to_string(&scores).expect("scores serialize"),
                    total,
                    setup.max_total(),
                    passed,
                    now_millis(),
                )
                .await?;
        }
        Ok(view(&i, &setup, false))
    }

    /// The candidate asks a person to review the result.
    pub async fn request_interview_review(
        &self,
        principal: &Principal,
        id: i64,
        reason: &str,
    ) -> AppResult<InterviewView> {
        let reason = reason.trim();
        crate::reject_nul("reason", reason)?;
        let reason: String = reason.chars().take(MAX_TEXT_CHARS).collect();
        let (_, setup) = self.load_interview(principal, id).await?;
        let i = self
            .store
            .request_interview_review(
                principal.org_id,
                id,
                principal.user_id,
                reason,
                now_millis(),
            )
            .await
            .or_not_found("interview")?;
        Ok(view(&i, &setup, false))
    }

    /// Interviews of the organization waiting for a person (reviewers, requesters, admins).
    pub async fn interviews_to_review(
        &self,
        principal: &Principal,
    ) -> AppResult<Vec<InterviewView>> {
        if !can_review(principal.role) {
            return Err(AppError::forbidden(format!(
                "reviewing interviews needs the reviewer, requester or admin role; you are a {}",
                principal.role
            )));
        }
        let mut out = Vec::new();
        for i in self.store.interviews_to_review(principal.org_id).await? {
            let (full, setup) = self.load_interview(principal, i.id).await?;
            out.push(view(&full, &setup, true));
        }
        Ok(out)
    }

    /// A person decides (with a note): the decision replaces the model's result.
    pub async fn decide_interview(
        &self,
        principal: &Principal,
        id: i64,
        pass: bool,
        note: &str,
    ) -> AppResult<InterviewView> {
        if !can_review(principal.role) {
            return Err(AppError::forbidden(format!(
                "deciding on interviews needs the reviewer, requester or admin role; you are a {}",
                principal.role
            )));
        }
        let note = check_text("note", note)?;
        let (i, setup) = self.load_interview(principal, id).await?;
        if i.worker_id == principal.user_id {
            return Err(AppError::forbidden(
                "you cannot decide on your own interview",
            ));
        }
        let i = self
            .store
            .decide_interview(
                principal.org_id,
                id,
                pass,
                note,
                principal.user_id,
                now_millis(),
            )
            .await?;
        Ok(view(&i, &setup, true))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn setup() -> InterviewSetup {
        serde_json::from_value(json!({
            "questions": ["What is a melanoma?"],
            "rubric": [{"name": "accuracy", "max": 2, "levels": ["wrong", "partly", "right"]}],
            "pass_mark": 2
        }))
        .unwrap()
    }

    #[test]
    fn scores_must_name_every_criterion_once_within_its_scale() {
        let s = validate_setup(setup()).unwrap();
        let ok = parse_scores(
            r#"```json
{"scores":[{"criterion":"accuracy","score":2,"reason":"Right."}]}
```"#,
            &s,
        )
        .unwrap();
        assert_eq!(ok[0].score, 2);
        for bad in [
            "not json",
            r#"{"scores":[]}"#,
            r#"{"scores":[{"criterion":"accuracy","score":3,"reason":"x"}]}"#,
            r#"{"scores":[{"criterion":"accuracy","score":1}]}"#,
            r#"{"scores":[{"criterion":"accuracy","score":1,"reason":"x"},{"criterion":"other","score":1,"reason":"x"}]}"#,
        ] {
            assert!(parse_scores(bad, &s).is_err(), "{bad}");
        }
        assert_eq!(parse_follow_up(r#"{"follow_up": null}"#).unwrap(), None);
        assert!(parse_follow_up(r#"{"follow_up": 3}"#).is_err());
    }

    #[test]
    fn setup_errors_name_the_field() {
        let mut s = setup();
        s.rubric[0].levels.pop();
        let e = validate_setup(s).unwrap_err().to_string();
        assert!(e.contains("rubric[0].levels"), "{e}");
        let mut s = setup();
        s.pass_mark = 3;
        assert!(
            validate_setup(s)
                .unwrap_err()
                .to_string()
                .contains("pass_mark")
        );
    }
}
