//! A short quiz on a guideline change: a requester attaches a few single-choice questions (each with its right
//! answer and an explanation) when publishing a version; a worker who must acknowledge that version passes the
//! quiz instead (all right, or the pass mark), so the change is understood and not only clicked through. Wrong
//! answers come back with their explanation, every attempt is recorded, and the requester sees the results.
//!
//! The quiz is a task template of `single_choice` questions (`q1`, `q2`, …), so answers are checked by the same
//! code as task answers ([`TaskTemplate::validate_answers`]) and the pages render it with the workbench's
//! question partial.

use fairloop_domain::ProjectId;
use fairloop_domain::template::TaskTemplate;
use fairloop_domain::time::{now_millis, to_rfc3339};
use fairloop_store::Principal;
use fairloop_store::quiz::NewAttempt;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Most questions in a quiz: it is a check on one change, not an exam.
pub const MAX_QUESTIONS: usize = 10;
/// Most options per question.
pub const MAX_OPTIONS: usize = 8;
/// Longest prompt, option or explanation, in characters.
pub const MAX_TEXT_CHARS: usize = 1000;

/// One question of a quiz, as the requester writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizQuestion {
    /// The question.
    pub prompt: String,
    /// The choices, two to eight, each different.
    pub options: Vec<String>,
    /// The right choice (one of `options`, as written).
    pub answer: String,
    /// Why that is right: shown to a worker who picked something else.
    #[serde(default)]
    pub explanation: String,
}

/// A quiz attached to a guidelines version.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct QuizInput {
    /// One to ten questions.
    pub questions: Vec<QuizQuestion>,
    /// Right answers needed to pass (default: all of them).
    #[serde(default)]
    pub pass_mark: Option<u32>,
}

/// A quiz question as a worker sees it: no right answer, no explanation.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizQuestionView {
    /// The answer key (`q1`, `q2`, …).
    pub name: String,
    /// The question.
    pub prompt: String,
    /// The choices.
    pub options: Vec<String>,
}

/// The current version's quiz for the caller.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizView {
    /// The guidelines version it belongs to.
    pub version: i64,
    /// Right answers needed to pass.
    pub pass_mark: i64,
    /// The questions.
    pub questions: Vec<QuizQuestionView>,
    /// Whether the caller has passed it.
    pub passed: bool,
    /// The caller's attempts so far.
    pub attempts: usize,
}

/// An attempt.
#[derive(Debug, Clone, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptBody {
    /// The version whose quiz this answers (the current one).
    pub version: i64,
    /// Answers by question name: `{"q1": "an option", …}`.
    #[schema(value_type = Object)]
    pub answers: Value,
}

/// How one question went.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionResult {
    /// The answer key.
    pub name: String,
    /// The question.
    pub prompt: String,
    /// Whether the answer was right.
    pub correct: bool,
    /// The explanation, for a wrong answer.
    pub explanation: Option<String>,
}

/// How an attempt went.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct AttemptResult {
    /// Passed: the guidelines version is now acknowledged.
    pub passed: bool,
    /// Right answers.
    pub correct: i64,
    /// Questions.
    pub total: i64,
    /// Right answers needed.
    pub pass_mark: i64,
    /// Per question.
    pub results: Vec<QuestionResult>,
}

/// One worker's attempts, for the requester.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct WorkerQuizResult {
    /// The worker.
    pub worker_id: i64,
    /// Their email.
    pub email: String,
    /// Attempts made.
    pub attempts: usize,
    /// Whether one passed.
    pub passed: bool,
    /// The best score.
    pub best: i64,
    /// The latest attempt (RFC 3339 UTC).
    pub last_at: String,
}

/// A quiz question with how often it was answered right.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuestionStats {
    /// The answer key.
    pub name: String,
    /// The question.
    pub prompt: String,
    /// The right answer.
    pub answer: String,
    /// Share (0..1) of attempts that got it right.
    pub right_share: Option<f64>,
}

/// The results of a version's quiz, for the requester.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct QuizResults {
    /// The guidelines version.
    pub version: i64,
    /// Right answers needed.
    pub pass_mark: i64,
    /// Attempts in all.
    pub attempts: usize,
    /// Workers who passed.
    pub workers_passed: usize,
    /// Per question.
    pub questions: Vec<QuestionStats>,
    /// Per worker.
    pub workers: Vec<WorkerQuizResult>,
}

fn text(field: String, v: &str, required: bool) -> AppResult<String> {
    let v = v.trim();
    crate::reject_nul(&field, v)?;
    if required && v.is_empty() {
        return Err(AppError::invalid(
            "invalid_quiz",
            format!("{field} must not be empty"),
        ));
    }
    if v.chars().count() > MAX_TEXT_CHARS {
        return Err(AppError::invalid(
            "invalid_quiz",
            format!("{field} is at most {MAX_TEXT_CHARS} characters"),
        ));
    }
    Ok(v.to_string())
}

/// Checks a quiz and trims it; answers it with its pass mark. Each error names the field (`quiz.questions[1].answer`).
pub fn validate_quiz(input: QuizInput) -> AppResult<(QuizInput, i64)> {
    let n = input.questions.len();
    if n == 0 || n > MAX_QUESTIONS {
        return Err(AppError::invalid(
            "invalid_quiz",
            format!("quiz.questions needs 1 to {MAX_QUESTIONS} questions, got {n}"),
        ));
    }
    let mut questions = Vec::with_capacity(n);
    for (i, q) in input.questions.into_iter().enumerate() {
        let at = format!("quiz.questions[{i}]");
        let prompt = text(format!("{at}.prompt"), &q.prompt, true)?;
        if q.options.len() < 2 || q.options.len() > MAX_OPTIONS {
            return Err(AppError::invalid(
                "invalid_quiz",
                format!("{at}.options needs 2 to {MAX_OPTIONS} choices"),
            ));
        }
        let mut options: Vec<String> = Vec::with_capacity(q.options.len());
        for (j, o) in q.options.iter().enumerate() {
            let o = text(format!("{at}.options[{j}]"), o, true)?;
            if options.contains(&o) {
                return Err(AppError::invalid(
                    "invalid_quiz",
                    format!("{at}.options[{j}] repeats the choice {o:?}"),
                ));
            }
            options.push(o);
        }
        let answer = q.answer.trim().to_string();
        if !options.contains(&answer) {
            return Err(AppError::invalid(
                "invalid_quiz",
                format!("{at}.answer must be one of its options, got {answer:?}"),
            ));
        }
        questions.push(QuizQuestion {
            prompt,
            options,
            answer,
            explanation: text(format!("{at}.explanation"), &q.explanation, false)?,
        });
    }
    let pass_mark = match input.pass_mark {
        None => n as i64,
        Some(m) if m >= 1 && m as usize <= n => i64::from(m),
        Some(m) => {
            return Err(AppError::invalid(
                "invalid_quiz",
                format!("quiz.pass_mark must be between 1 and the {n} questions, got {m}"),
            ));
        }
    };
    Ok((
        QuizInput {
            questions,
            pass_mark: Some(pass_mark as u32),
        },
        pass_mark,
    ))
}

/// Reads the quiz editor's plain-text form: a line starting with `?` opens a question, `*` marks the right
/// choice, `-` another choice, `>` the explanation (more `>` lines continue it); blank lines are ignored.
/// `None` for an empty text. Errors name the line.
pub fn parse_quiz_text(src: &str, pass_mark: Option<u32>) -> AppResult<Option<QuizInput>> {
    let mut questions: Vec<QuizQuestion> = Vec::new();
    for (i, raw) in src.lines().enumerate() {
        let line = raw.trim();
        if line.is_empty() {
            continue;
        }
        let bad = |m: &str| AppError::invalid("invalid_quiz", format!("quiz line {}: {m}", i + 1));
        let (mark, rest) = line.split_at(1);
        let rest = rest.trim().to_string();
        if mark == "?" {
            questions.push(QuizQuestion {
                prompt: rest,
                options: Vec::new(),
                answer: String::new(),
                explanation: String::new(),
            });
            continue;
        }
        let Some(q) = questions.last_mut() else {
            return Err(bad("start a question with a line beginning with ?"));
        };
        match mark {
            "*" => {
                if !q.answer.is_empty() {
                    return Err(bad(
                        "a question has one right choice (marked *); mark the others with -",
                    ));
                }
                q.answer = rest.clone();
                q.options.push(rest);
            }
            "-" => q.options.push(rest),
            ">" => {
                if !q.explanation.is_empty() {
                    q.explanation.push(' ');
                }
                q.explanation.push_str(&rest);
            }
            _ => {
                return Err(bad(
                    "begin each line with ? (a question), * (the right choice), - (another choice) or > (why)",
                ));
            }
        }
    }
    if questions.is_empty() {
        return Ok(None);
    }
    if let Some((i, _)) = questions
        .iter()
        .enumerate()
        .find(|(_, q)| q.answer.is_empty())
    {
        return Err(AppError::invalid(
            "invalid_quiz",
            format!(
                "quiz question {} has no right choice: mark it with *",
                i + 1
            ),
        ));
    }
    Ok(Some(QuizInput {
        questions,
        pass_mark,
    }))
}

/// The quiz as a task template of required single-choice questions `q1`, `q2`, …
pub fn quiz_template(quiz: &QuizInput) -> AppResult<TaskTemplate> {
    let questions: Vec<Value> = quiz
        .questions
        .iter()
        .enumerate()
        .map(|(i, q)| {
            json!({"name": format!("q{}", i + 1), "type": "single_choice", "label": q.prompt,
                   "options": q.options, "required": true})
        })
        .collect();
    TaskTemplate::from_json(&json!({"fields": [], "questions": questions}))
        .map_err(|e| AppError::Internal(format!("quiz template: {e}")))
}

fn stored(raw: &str) -> AppResult<QuizInput> {
    serde_json::from_str(raw).map_err(|e| AppError::Internal(format!("stored quiz: {e}")))
}

impl App {
    /// Publishes a guidelines version with an optional quiz (requesters and admins); answers the version.
    pub async fn set_guidelines_with_quiz(
        &self,
        principal: &Principal,
        project: ProjectId,
        markdown: &str,
        note: Option<&str>,
        quiz: Option<QuizInput>,
    ) -> AppResult<i64> {
        require_manager(principal)?;
        let (markdown, note) = crate::guidelines::check_guidelines(markdown, note)?;
        let quiz = match quiz {
            Some(q) => {
                let (q, mark) = validate_quiz(q)?;
                Some((serde_json::to_string(&q).expect("quiz serializes"), mark))
            }
            None => None,
        };
        let version = self
            .store
            .add_guidelines_with_quiz(
                principal.org_id,
                project,
                fairloop_store::quiz::NewVersion {
                    markdown,
                    note: note.clone(),
                    quiz,
                },
                principal.user_id,
                now_millis(),
            )
            .await
            .or_not_found("project")?;
        let name = self.project_label(principal.org_id, project).await;
        self.notify_project_workers_logged(
            principal.org_id,
            project,
            Some(principal.user_id),
            crate::notices::Notify {
                kind: crate::notices::NoticeKind::Guidelines,
                project: Some(project),
                title: format!("{name}: the guidelines changed (version {version})"),
                body: match note {
                    Some(n) => format!("What changed: {n}"),
                    None => "Read what changed before your next task.".into(),
                },
                link: Some(format!("/projects/{project}/guidelines/changes")),
                source_key: format!("guidelines:{project}:{version}"),
            },
        )
        .await;
        Ok(version)
    }

    /// The quiz of the current guidelines version as the caller sees it (no answers); `None` without one.
    pub async fn guideline_quiz(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<QuizView>> {
        let Some(g) = self.guidelines(principal, project).await? else {
            return Ok(None);
        };
        let Some(q) = self
            .store
            .guideline_quiz(principal.org_id, project, g.version)
            .await?
        else {
            return Ok(None);
        };
        let quiz = stored(&q.quiz)?;
        let mine = self
            .store
            .quiz_attempts(
                principal.org_id,
                project,
                g.version,
                Some(principal.user_id),
            )
            .await?;
        Ok(Some(QuizView {
            version: g.version,
            pass_mark: q.pass_mark,
            questions: quiz
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| QuizQuestionView {
                    name: format!("q{}", i + 1),
                    prompt: q.prompt.clone(),
                    options: q.options.clone(),
                })
                .collect(),
            passed: mine.iter().any(|a| a.passed),
            attempts: mine.len(),
        }))
    }

    /// The quiz of the current version as a task template (for the page that renders it); `None` without one.
    pub async fn guideline_quiz_template(
        &self,
        principal: &Principal,
        project: ProjectId,
        version: i64,
    ) -> AppResult<Option<TaskTemplate>> {
        match self
            .store
            .guideline_quiz(principal.org_id, project, version)
            .await?
        {
            Some(q) => Ok(Some(quiz_template(&stored(&q.quiz)?)?)),
            None => Ok(None),
        }
    }

    /// A worker answers the current version's quiz: the attempt is recorded, and when it passes the version is
    /// acknowledged (so the next task is handed out). Wrong answers come back with their explanations.
    pub async fn take_guideline_quiz(
        &self,
        principal: &Principal,
        project: ProjectId,
        body: AttemptBody,
    ) -> AppResult<AttemptResult> {
        if !principal.role.can_work() {
            return Err(AppError::forbidden(format!(
                "quizzes are taken by the people who do the work; you are a {}",
                principal.role
            )));
        }
        self.project(principal, project).await?;
        let q = self
            .store
            .guideline_quiz(principal.org_id, project, body.version)
            .await?
            .ok_or(AppError::NotFound("quiz"))?;
        let quiz = stored(&q.quiz)?;
        let template = quiz_template(&quiz)?;
        if let Err(errors) = template.validate_answers(&body.answers, &serde_json::Map::new()) {
            let list: Vec<Value> = errors
                .iter()
                .map(|e| json!({"question": e.question, "message": e.message}))
                .collect();
            return Err(AppError::Invalid {
                code: "invalid_answer",
                message: errors.first().map(|e| e.to_string()).unwrap_or_default(),
                details: Some(json!({ "errors": list })),
            });
        }
        let results: Vec<QuestionResult> = quiz
            .questions
            .iter()
            .enumerate()
            .map(|(i, q)| {
                let name = format!("q{}", i + 1);
                let correct = body.answers.get(&name).and_then(Value::as_str) == Some(&q.answer);
                QuestionResult {
                    prompt: q.prompt.clone(),
                    correct,
                    explanation: (!correct && !q.explanation.is_empty())
                        .then(|| q.explanation.clone()),
                    name,
                }
            })
            .collect();
        let correct = results.iter().filter(|r| r.correct).count() as i64;
        let total = results.len() as i64;
        let passed = correct >= q.pass_mark;
        self.store
            .record_quiz_attempt(NewAttempt {
                org_id: principal.org_id,
                project_id: project,
                version: body.version,
                worker_id: principal.user_id,
                answers: body.answers.to_string(),
                correct,
                total,
                passed,
                now: now_millis(),
            })
            .await
            .or_not_found("guidelines")?;
        Ok(AttemptResult {
            passed,
            correct,
            total,
            pass_mark: q.pass_mark,
            results,
        })
    }

    /// The results of a version's quiz (requesters and admins): per question and per worker; `None` when that
    /// version has no quiz.
    pub async fn quiz_results(
        &self,
        principal: &Principal,
        project: ProjectId,
        version: i64,
    ) -> AppResult<Option<QuizResults>> {
        require_manager(principal)?;
        self.project(principal, project).await?;
        let Some(q) = self
            .store
            .guideline_quiz(principal.org_id, project, version)
            .await?
        else {
            return Ok(None);
        };
        let quiz = stored(&q.quiz)?;
        let attempts = self
            .store
            .quiz_attempts(principal.org_id, project, version, None)
            .await?;
        let mut right = vec![0usize; quiz.questions.len()];
        for a in &attempts {
            let answers: Value = serde_json::from_str(&a.answers).unwrap_or(Value::Null);
            for (i, q) in quiz.questions.iter().enumerate() {
                if answers.get(format!("q{}", i + 1)).and_then(Value::as_str) == Some(&q.answer) {
                    right[i] += 1;
                }
            }
        }
        let mut workers: Vec<WorkerQuizResult> = Vec::new();
        for a in &attempts {
            match workers.iter_mut().find(|w| w.worker_id == a.worker_id) {
                Some(w) => {
                    w.attempts += 1;
                    w.passed |= a.passed;
                    w.best = w.best.max(a.correct);
                    w.last_at = to_rfc3339(a.created_at);
                }
                None => workers.push(WorkerQuizResult {
                    worker_id: a.worker_id,
                    email: a.worker_email.clone(),
                    attempts: 1,
                    passed: a.passed,
                    best: a.correct,
                    last_at: to_rfc3339(a.created_at),
                }),
            }
        }
        Ok(Some(QuizResults {
            version,
            pass_mark: q.pass_mark,
            attempts: attempts.len(),
            workers_passed: workers.iter().filter(|w| w.passed).count(),
            questions: quiz
                .questions
                .iter()
                .enumerate()
                .map(|(i, q)| QuestionStats {
                    name: format!("q{}", i + 1),
                    prompt: q.prompt.clone(),
                    answer: q.answer.clone(),
                    right_share: (!attempts.is_empty())
                        .then(|| right[i] as f64 / attempts.len() as f64),
                })
                .collect(),
            workers,
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_text_form_reads_questions_choices_and_explanations() {
        let q = parse_quiz_text(
            "? Is sarcasm positive?\n- yes\n* no\n> Label the intent,\n> not the words.\n\n? Pick b\n* b\n- a\n",
            Some(1),
        )
        .unwrap()
        .unwrap();
        assert_eq!(q.questions.len(), 2);
        assert_eq!(q.questions[0].options, ["yes", "no"]);
        assert_eq!(q.questions[0].answer, "no");
        assert_eq!(
            q.questions[0].explanation,
            "Label the intent, not the words."
        );
        assert_eq!(q.pass_mark, Some(1));
        assert!(parse_quiz_text("  \n", None).unwrap().is_none());
        let e = parse_quiz_text("- a\n", None).unwrap_err().to_string();
        assert!(e.contains("line 1"), "{e}");
        let e = parse_quiz_text("? q\n- a\n- b\n", None)
            .unwrap_err()
            .to_string();
        assert!(e.contains("no right choice"), "{e}");
    }

    #[test]
    fn validation_names_the_field() {
        let q = |answer: &str, pass: Option<u32>| QuizInput {
            questions: vec![QuizQuestion {
                prompt: "p".into(),
                options: vec!["a".into(), "b".into()],
                answer: answer.into(),
                explanation: String::new(),
            }],
            pass_mark: pass,
        };
        assert_eq!(validate_quiz(q("a", None)).unwrap().1, 1);
        let e = validate_quiz(q("c", None)).unwrap_err().to_string();
        assert!(e.contains("quiz.questions[0].answer"), "{e}");
        let e = validate_quiz(q("a", Some(2))).unwrap_err().to_string();
        assert!(e.contains("quiz.pass_mark"), "{e}");
        let t = quiz_template(&q("a", None)).unwrap();
        assert!(
            t.validate_answers(&json!({"q1": "b"}), &Default::default())
                .is_ok()
        );
        assert!(
            t.validate_answers(&json!({"q1": "z"}), &Default::default())
                .is_err()
        );
        assert!(t.validate_answers(&json!({}), &Default::default()).is_err());
    }
}
