//! The structured editors of the "Qualification" tab: an assessment as question blocks (kind, prompt, options one
//! per line, the correct option(s), the explanation for a wrong answer, a rubric of criteria with points for free
//! text) and the screening interview as question and criterion blocks. Requesters do not type JSON.
//!
//! Why plain forms: "Add a question", "Remove" and "Save" are submit buttons of one form, so the editor works
//! without JavaScript; every post carries everything typed, and the page comes back with it kept (adding or
//! removing a block re-renders, saving validates). Saving builds the same [`AssessmentInput`] / [`InterviewSetup`]
//! the API takes and calls the same use case, so the console and the API refuse alike; each refusal is placed
//! next to the field it names (`keys.q3` → question 3's correct option).

use std::collections::BTreeMap;

use fairloop_app::AppError;
use fairloop_app::assessments::{AssessmentInput, AssessmentPatch};
use fairloop_app::interview::{Criterion, InterviewSetup};
use serde::Serialize;
use serde_json::{Map, Value, json};

use super::super::pages::capitalise;
use crate::ui::session::form_value;

/// The question kinds the editor builds (the template system's types that need no item field).
pub(crate) const KINDS: &[(&str, &str)] = &[
    ("single_choice", "Single choice"),
    ("multi_choice", "Multiple choice"),
    ("rating", "Rating on a scale"),
    ("text", "Free text, graded by a person"),
];

/// Most question blocks in one assessment.
const MAX_BLOCKS: usize = 100;

fn kind_label(kind: &str) -> &'static str {
    KINDS
        .iter()
        .find(|(k, _)| *k == kind)
        .map_or("Unknown", |(_, l)| l)
}

/// One rubric criterion of a free-text question: what the answer should do, and how much it weighs.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct RubricLine {
    /// The criterion.
    pub text: String,
    /// Its points, as typed.
    pub points: String,
}

/// One question block as typed.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Block {
    /// The question's name in the template (kept across edits so keys stay attached).
    pub name: String,
    /// Its type (one of [`KINDS`]).
    pub kind: String,
    /// The kind in words.
    pub kind_label: String,
    /// What the worker reads.
    pub prompt: String,
    /// Choice options, one per line.
    pub options: String,
    /// The correct option (single choice), options one per line (multiple choice) or number (rating).
    pub correct: String,
    /// Rating scale bounds.
    pub min: String,
    /// Rating scale bounds.
    pub max: String,
    /// Shown to a worker who answered otherwise.
    pub explanation: String,
    /// Free text: how a person grades it.
    pub criteria: Vec<RubricLine>,
    /// Errors by part (`prompt`, `options`, `correct`, `scale`, `explanation`, `criteria`, `block`).
    pub errors: BTreeMap<String, String>,
}

/// The whole assessment editor as typed.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct Editor {
    /// Title.
    pub title: String,
    /// Minutes.
    pub time_limit_minutes: String,
    /// Attempts.
    pub max_attempts: String,
    /// Percent.
    pub pass_mark: String,
    /// Paid as onboarding time.
    pub paid: bool,
    /// The question blocks.
    pub blocks: Vec<Block>,
    /// Errors of the settings, by field name, and `form` for one that names no field.
    pub errors: BTreeMap<String, String>,
    /// The questions cannot change (someone attempted it, or it uses what the editor cannot show): only the
    /// title, settings and explanations are sent.
    pub locked: bool,
}

/// What a post of the editor asks for.
pub(crate) enum Action {
    /// Validate and save.
    Save,
    /// Re-render with what changed (a block added or removed).
    Rerender,
}

impl Editor {
    /// An empty editor for a new assessment: one single-choice question.
    pub fn new_assessment() -> Editor {
        let mut e = Editor {
            time_limit_minutes: "20".into(),
            max_attempts: "1".into(),
            pass_mark: "80".into(),
            ..Editor::default()
        };
        e.add("single_choice");
        e
    }

    fn add(&mut self, kind: &str) {
        let kind = if KINDS.iter().any(|(k, _)| *k == kind) {
            kind
        } else {
            "single_choice"
        };
        let taken: Vec<&str> = self.blocks.iter().map(|b| b.name.as_str()).collect();
        let name = (1..)
            .map(|n| format!("q{n}"))
            .find(|n| !taken.contains(&n.as_str()))
            .expect("a free name");
        let mut b = Block {
            name,
            kind: kind.into(),
            kind_label: kind_label(kind).into(),
            ..Block::default()
        };
        if kind == "rating" {
            b.min = "1".into();
            b.max = "5".into();
        }
        if kind == "text" {
            b.criteria.push(RubricLine::default());
        }
        self.blocks.push(b);
    }

    /// The editor as a post left it, and what the post asks for (adding or removing blocks is done here).
    pub fn from_form(form: &[(String, String)]) -> (Editor, Action) {
        let v = |k: &str| form_value(form, k).unwrap_or_default().to_string();
        let mut e = Editor {
            title: v("title"),
            time_limit_minutes: v("time_limit_minutes"),
            max_attempts: v("max_attempts"),
            pass_mark: v("pass_mark"),
            paid: !v("paid").is_empty(),
            locked: v("locked") == "1",
            ..Editor::default()
        };
        for (k, kind) in form {
            let Some(i) = k
                .strip_prefix('q')
                .and_then(|r| r.strip_suffix("_kind"))
                .filter(|i| i.bytes().all(|b| b.is_ascii_digit()))
            else {
                continue;
            };
            if e.blocks.len() >= MAX_BLOCKS {
                break;
            }
            let f = |part: &str| v(&format!("q{i}_{part}"));
            let mut criteria = Vec::new();
            for (ck, text) in form {
                let Some(j) = ck
                    .strip_prefix(&format!("q{i}_c"))
                    .and_then(|r| r.strip_suffix("_text"))
                else {
                    continue;
                };
                criteria.push(RubricLine {
                    text: text.clone(),
                    points: v(&format!("q{i}_c{j}_points")),
                });
            }
            e.blocks.push(Block {
                name: f("name"),
                kind: kind.clone(),
                kind_label: kind_label(kind).into(),
                prompt: f("prompt"),
                options: f("options"),
                correct: f("correct"),
                min: f("min"),
                max: f("max"),
                explanation: f("explanation"),
                criteria,
                errors: BTreeMap::new(),
            });
        }
        let action = if v("action") == "add_question" && !e.locked {
            if e.blocks.len() < MAX_BLOCKS {
                e.add(&v("new_kind"));
            }
            Action::Rerender
        } else if let Some(i) = form_value(form, "remove_question").filter(|_| !e.locked) {
            if let Ok(i) = i.parse::<usize>()
                && i < e.blocks.len()
            {
                e.blocks.remove(i);
            }
            Action::Rerender
        } else if let Some(i) = form_value(form, "add_criterion").filter(|_| !e.locked) {
            if let Some(b) = i.parse::<usize>().ok().and_then(|i| e.blocks.get_mut(i))
                && b.criteria.len() < 20
            {
                b.criteria.push(RubricLine::default());
            }
            Action::Rerender
        } else if let Some(ij) = form_value(form, "remove_criterion").filter(|_| !e.locked) {
            if let Some((i, j)) = ij.split_once('_')
                && let (Ok(i), Ok(j)) = (i.parse::<usize>(), j.parse::<usize>())
                && let Some(b) = e.blocks.get_mut(i)
                && j < b.criteria.len()
            {
                b.criteria.remove(j);
            }
            Action::Rerender
        } else {
            Action::Save
        };
        (e, action)
    }

    /// The editor for a stored assessment. `editable`: nobody attempted it yet. Questions the editor cannot show
    /// whole (other types, help text, option labels, …) lock the questions too, so saving never drops them.
    pub fn from_input(input: &AssessmentInput, editable: bool) -> Editor {
        let mut e = Editor {
            title: input.title.clone(),
            time_limit_minutes: input.time_limit_minutes.to_string(),
            max_attempts: input.max_attempts.unwrap_or(1).to_string(),
            pass_mark: input.pass_mark.to_string(),
            paid: input.paid,
            locked: !editable,
            ..Editor::default()
        };
        let text_of = |v: Option<&Value>| v.and_then(Value::as_str).unwrap_or_default().to_string();
        for q in input.template["questions"].as_array().into_iter().flatten() {
            let name = text_of(q.get("name"));
            let kind = text_of(q.get("type"));
            let key = input.keys.get(&name);
            let options: Vec<String> = q["options"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|o| match o {
                    Value::String(s) => s.clone(),
                    other => text_of(other.get("value")),
                })
                .collect();
            let correct = match key {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Array(a)) => a
                    .iter()
                    .map(|x| text_of(Some(x)))
                    .collect::<Vec<_>>()
                    .join("\n"),
                Some(Value::Number(n)) => n.to_string(),
                _ => String::new(),
            };
            let rubric = text_of(input.rubrics.get(&name));
            e.blocks.push(Block {
                kind_label: kind_label(&kind).into(),
                prompt: text_of(q.get("label")),
                options: options.join("\n"),
                correct,
                min: q.get("min").map_or("1".into(), Value::to_string),
                max: q.get("max").map_or("5".into(), Value::to_string),
                explanation: text_of(input.explanations.get(&name)),
                criteria: rubric_lines(&rubric),
                name,
                kind,
                errors: BTreeMap::new(),
            });
        }
        if !e.locked {
            // Rebuilding must give back exactly what is stored, or the editor would drop something.
            let mut probe = e.clone();
            let same = probe
                .build_input()
                .is_some_and(|i| i.template == input.template && i.keys == input.keys);
            if !same {
                e.locked = true;
                e.errors.insert(
                    "notice".into(),
                    "These questions use settings the editor does not show (another question type, help text, \
                     option labels…), so only the title, settings and explanations can change here; change the \
                     questions through the API (PATCH /api/v1/assessments/{id})."
                        .into(),
                );
            }
        }
        e
    }

    /// Whether any error is recorded.
    pub fn has_errors(&self) -> bool {
        self.errors.keys().any(|k| k != "notice")
            || self.blocks.iter().any(|b| !b.errors.is_empty())
    }

    fn err(&mut self, field: &str, message: impl Into<String>) {
        self.errors
            .entry(field.into())
            .or_insert_with(|| capitalise(&message.into()));
    }

    /// The input the API takes, or `None` with every error recorded next to its field.
    pub fn build_input(&mut self) -> Option<AssessmentInput> {
        let number = |e: &mut Editor, field: &str, raw: &str| -> u32 {
            match raw.trim().parse::<u32>() {
                Ok(n) => n,
                Err(_) => {
                    e.err(field, format!("“{}” is not a whole number", raw.trim()));
                    0
                }
            }
        };
        let (tl, ma, pm) = (
            self.time_limit_minutes.clone(),
            self.max_attempts.clone(),
            self.pass_mark.clone(),
        );
        let time_limit_minutes = number(self, "time_limit_minutes", &tl);
        let max_attempts = number(self, "max_attempts", &ma);
        let pass_mark = number(self, "pass_mark", &pm);
        if self.blocks.is_empty() && !self.locked {
            self.err("form", "add at least one question");
        }
        let mut questions = Vec::new();
        let mut keys = Map::new();
        let mut explanations = Map::new();
        let mut rubrics = Map::new();
        for b in &mut self.blocks {
            let mut bad = |part: &str, m: &str| {
                b.errors.entry(part.into()).or_insert_with(|| capitalise(m));
            };
            let name = b.name.trim().to_string();
            if !b.explanation.trim().is_empty() {
                explanations.insert(name.clone(), Value::String(b.explanation.trim().into()));
            }
            if b.prompt.trim().is_empty() {
                bad("prompt", "write the question");
            }
            let lines = |s: &str| -> Vec<String> {
                s.lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect()
            };
            let mut q = json!({"name": name, "type": b.kind, "label": b.prompt.trim()});
            match b.kind.as_str() {
                "single_choice" | "multi_choice" => {
                    let options = lines(&b.options);
                    if options.len() < 2 {
                        bad("options", "give at least two options, one per line");
                    }
                    let correct = lines(&b.correct);
                    if correct.is_empty() {
                        bad("correct", "say which option is correct");
                    } else if let Some(c) = correct.iter().find(|c| !options.contains(c)) {
                        bad(
                            "correct",
                            &format!(
                                "the correct option “{c}” is not one of the options (type it exactly as in the \
                                 list)"
                            ),
                        );
                    } else if b.kind == "single_choice" && correct.len() > 1 {
                        bad("correct", "a single-choice question has one correct option");
                    }
                    q["options"] = json!(options);
                    if b.kind == "single_choice" {
                        keys.insert(name, json!(correct.first().cloned().unwrap_or_default()));
                    } else {
                        keys.insert(name, json!(correct));
                    }
                }
                "rating" => {
                    let min = b.min.trim().parse::<i64>();
                    let max = b.max.trim().parse::<i64>();
                    match (&min, &max) {
                        (Ok(lo), Ok(hi)) if lo < hi => {
                            q["min"] = json!(lo);
                            q["max"] = json!(hi);
                            match b.correct.trim().parse::<i64>() {
                                Ok(c) if (*lo..=*hi).contains(&c) => {
                                    keys.insert(name, json!(c));
                                }
                                _ => bad(
                                    "correct",
                                    &format!(
                                        "the correct rating is a whole number from {lo} to {hi}"
                                    ),
                                ),
                            }
                        }
                        _ => bad(
                            "scale",
                            "the scale needs whole numbers, the lowest below the highest",
                        ),
                    }
                }
                "text" => {
                    let mut out = Vec::new();
                    for c in &b.criteria {
                        let text = c.text.trim();
                        if text.is_empty() && c.points.trim().is_empty() {
                            continue;
                        }
                        if text.is_empty() {
                            bad("criteria", "every criterion with points needs its text");
                            continue;
                        }
                        match c.points.trim().parse::<u32>() {
                            Ok(p @ 1..=100) => out.push(format!(
                                "- {text} ({p} point{})",
                                if p == 1 { "" } else { "s" }
                            )),
                            _ => bad(
                                "criteria",
                                &format!("the points of “{text}” are a whole number from 1 to 100"),
                            ),
                        }
                    }
                    if out.is_empty() {
                        bad(
                            "criteria",
                            "give at least one criterion a person grades the answer by",
                        );
                    }
                    rubrics.insert(name, Value::String(out.join("\n")));
                }
                other => bad(
                    "block",
                    &format!("{other} questions are not in the editor; use the API"),
                ),
            }
            questions.push(q);
        }
        if self.has_errors() {
            return None;
        }
        Some(AssessmentInput {
            title: self.title.clone(),
            template: json!({"fields": [], "questions": questions}),
            keys,
            explanations,
            rubrics,
            time_limit_minutes,
            max_attempts: Some(max_attempts),
            pass_mark,
            paid: self.paid,
        })
    }

    /// What saving sends when the questions are locked: the title, settings and explanations only.
    pub fn build_settings_patch(&mut self) -> Option<AssessmentPatch> {
        let (tl, ma, pm) = (
            self.time_limit_minutes.clone(),
            self.max_attempts.clone(),
            self.pass_mark.clone(),
        );
        let mut num = |field: &str, raw: String| match raw.trim().parse::<u32>() {
            Ok(n) => Some(n),
            Err(_) => {
                self.err(field, format!("“{}” is not a whole number", raw.trim()));
                None
            }
        };
        let t = num("time_limit_minutes", tl);
        let a = num("max_attempts", ma);
        let p = num("pass_mark", pm);
        if self.has_errors() {
            return None;
        }
        Some(AssessmentPatch {
            title: Some(self.title.clone()),
            explanations: Some(
                self.blocks
                    .iter()
                    .filter(|b| !b.explanation.trim().is_empty())
                    .map(|b| (b.name.clone(), Value::String(b.explanation.trim().into())))
                    .collect(),
            ),
            time_limit_minutes: t,
            max_attempts: a,
            pass_mark: p,
            paid: Some(self.paid),
            ..AssessmentPatch::default()
        })
    }

    /// Places a refusal of the use case next to the field its message names (`keys.q2 …` → question q2's
    /// correct option, `template.questions[1].options …` → the second block's options, `pass_mark …`); a
    /// message naming nothing known goes above the form.
    pub fn place(&mut self, message: &str) {
        let first = message.split([' ', ':']).next().unwrap_or_default();
        for (prefix, part) in [
            ("keys.", "correct"),
            ("explanations.", "explanation"),
            ("rubrics.", "criteria"),
        ] {
            if let Some(name) = first.strip_prefix(prefix)
                && let Some(b) = self.blocks.iter_mut().find(|b| b.name == name)
            {
                b.errors.insert(part.into(), capitalise(message));
                return;
            }
        }
        if let Some(rest) = first.strip_prefix("template.questions[")
            && let Some((i, tail)) = rest.split_once(']')
            && let Ok(i) = i.parse::<usize>()
            && let Some(b) = self.blocks.get_mut(i)
        {
            let part = match tail {
                t if t.starts_with(".options") => "options",
                t if t.starts_with(".label") => "prompt",
                t if t.starts_with(".min") || t.starts_with(".max") => "scale",
                _ => "block",
            };
            b.errors.insert(part.into(), capitalise(message));
            return;
        }
        if let Some(name) = message
            .strip_prefix("question \"")
            .and_then(|r| r.split('"').next())
            && let Some(b) = self.blocks.iter_mut().find(|b| b.name == name)
        {
            b.errors.insert("block".into(), capitalise(message));
            return;
        }
        for field in [
            "title",
            "time_limit_minutes",
            "max_attempts",
            "pass_mark",
            "paid",
        ] {
            if first == field {
                self.errors.insert(field.into(), capitalise(message));
                return;
            }
        }
        self.errors.insert("form".into(), capitalise(message));
    }

    /// Every error with the id of its field, in page order (the summary above the form links each).
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        if let Some(m) = self.errors.get("form") {
            out.push(("e-title".to_string(), m.clone()));
        }
        for (field, id) in [
            ("title", "e-title"),
            ("time_limit_minutes", "e-time"),
            ("max_attempts", "e-attempts"),
            ("pass_mark", "e-pass"),
            ("paid", "e-paid"),
        ] {
            if let Some(m) = self.errors.get(field) {
                out.push((id.to_string(), m.clone()));
            }
        }
        for (i, b) in self.blocks.iter().enumerate() {
            for (part, m) in &b.errors {
                let id = match part.as_str() {
                    "block" => format!("q{i}_prompt"),
                    "scale" => format!("q{i}_min"),
                    "criteria" => format!("q{i}_c0_text"),
                    p => format!("q{i}_{p}"),
                };
                out.push((id, format!("Question {}: {m}", i + 1)));
            }
        }
        out
    }
}

/// A stored rubric back into criteria: lines `- text (N points)`; any other line is a criterion without points.
fn rubric_lines(rubric: &str) -> Vec<RubricLine> {
    let mut out = Vec::new();
    for line in rubric.lines().map(str::trim).filter(|l| !l.is_empty()) {
        let line = line.strip_prefix("- ").unwrap_or(line);
        let parsed = line
            .strip_suffix(')')
            .and_then(|l| l.rsplit_once(" ("))
            .and_then(|(t, p)| {
                let n = p
                    .strip_suffix(" points")
                    .or_else(|| p.strip_suffix(" point"))?;
                n.parse::<u32>()
                    .ok()
                    .map(|n| (t.to_string(), n.to_string()))
            });
        out.push(match parsed {
            Some((text, points)) => RubricLine { text, points },
            None => RubricLine {
                text: line.to_string(),
                points: String::new(),
            },
        });
    }
    if out.is_empty() {
        out.push(RubricLine::default());
    }
    out
}

/// One interview criterion as typed.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct CriterionBlock {
    /// Name.
    pub name: String,
    /// Top of the scale, as typed.
    pub max: String,
    /// What each level means, one line per level from 0.
    pub levels: String,
    /// Errors by part (`name`, `max`, `levels`).
    pub errors: BTreeMap<String, String>,
}

/// One interview question as typed.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct InterviewQuestion {
    /// The question.
    pub text: String,
    /// Its error.
    pub error: Option<String>,
}

/// The screening interview editor as typed.
#[derive(Debug, Clone, Default, Serialize)]
pub(crate) struct InterviewEditor {
    /// Asked in order.
    pub questions: Vec<InterviewQuestion>,
    /// The rubric.
    pub criteria: Vec<CriterionBlock>,
    /// Follow-ups per question, as typed.
    pub max_followups: String,
    /// Pass mark, as typed.
    pub pass_mark: String,
    /// Errors of the other fields by name (`questions`, `criteria`, `max_followups`, `pass_mark`, `form`).
    pub errors: BTreeMap<String, String>,
}

impl InterviewEditor {
    /// The editor for a saved setup, or a blank one (one question, one criterion from 0 to 2).
    pub fn from_setup(setup: Option<&InterviewSetup>) -> InterviewEditor {
        match setup {
            Some(s) => InterviewEditor {
                questions: s
                    .questions
                    .iter()
                    .map(|q| InterviewQuestion {
                        text: q.clone(),
                        error: None,
                    })
                    .collect(),
                criteria: s
                    .rubric
                    .iter()
                    .map(|c| CriterionBlock {
                        name: c.name.clone(),
                        max: c.max.to_string(),
                        levels: c.levels.join("\n"),
                        errors: BTreeMap::new(),
                    })
                    .collect(),
                max_followups: s.max_followups.to_string(),
                pass_mark: s.pass_mark.to_string(),
                errors: BTreeMap::new(),
            },
            None => InterviewEditor {
                questions: vec![InterviewQuestion::default()],
                criteria: vec![CriterionBlock {
                    max: "2".into(),
                    ..CriterionBlock::default()
                }],
                max_followups: "1".into(),
                pass_mark: String::new(),
                errors: BTreeMap::new(),
            },
        }
    }

    /// The editor as a post left it, and what the post asks for.
    pub fn from_form(form: &[(String, String)]) -> (InterviewEditor, Action) {
        let v = |k: &str| form_value(form, k).unwrap_or_default().to_string();
        let mut e = InterviewEditor {
            max_followups: v("max_followups"),
            pass_mark: v("pass_mark"),
            ..InterviewEditor::default()
        };
        for (k, val) in form {
            if k.strip_prefix("iq")
                .is_some_and(|i| !i.is_empty() && i.bytes().all(|b| b.is_ascii_digit()))
                && e.questions.len() < 50
            {
                e.questions.push(InterviewQuestion {
                    text: val.clone(),
                    error: None,
                });
            }
            if let Some(j) = k.strip_prefix("ic").and_then(|r| r.strip_suffix("_name"))
                && e.criteria.len() < 30
            {
                e.criteria.push(CriterionBlock {
                    name: val.clone(),
                    max: v(&format!("ic{j}_max")),
                    levels: v(&format!("ic{j}_levels")),
                    errors: BTreeMap::new(),
                });
            }
        }
        let index = |k: &str| form_value(form, k).and_then(|i| i.parse::<usize>().ok());
        let action = match v("action").as_str() {
            "add_interview_question" => {
                e.questions.push(InterviewQuestion::default());
                Action::Rerender
            }
            "add_interview_criterion" => {
                e.criteria.push(CriterionBlock {
                    max: "2".into(),
                    ..CriterionBlock::default()
                });
                Action::Rerender
            }
            _ => {
                if let Some(i) = index("remove_interview_question") {
                    if i < e.questions.len() {
                        e.questions.remove(i);
                    }
                    Action::Rerender
                } else if let Some(j) = index("remove_interview_criterion") {
                    if j < e.criteria.len() {
                        e.criteria.remove(j);
                    }
                    Action::Rerender
                } else {
                    Action::Save
                }
            }
        };
        (e, action)
    }

    fn has_errors(&self) -> bool {
        !self.errors.is_empty()
            || self.questions.iter().any(|q| q.error.is_some())
            || self.criteria.iter().any(|c| !c.errors.is_empty())
    }

    /// The setup the API takes, or `None` with the errors recorded next to their fields. Blank question blocks
    /// are dropped (an unused "Add a question").
    pub fn build_setup(&mut self) -> Option<InterviewSetup> {
        let (mf, pm) = (self.max_followups.clone(), self.pass_mark.clone());
        let mut num = |field: &str, raw: String| match raw.trim().parse::<u32>() {
            Ok(n) => n,
            Err(_) => {
                self.errors.insert(
                    field.into(),
                    capitalise(&format!("“{}” is not a whole number", raw.trim())),
                );
                0
            }
        };
        let max_followups = num("max_followups", mf);
        let pass_mark = num("pass_mark", pm);
        let mut rubric = Vec::new();
        for c in &mut self.criteria {
            let max = match c.max.trim().parse::<u32>() {
                Ok(m) => m,
                Err(_) => {
                    c.errors.insert(
                        "max".into(),
                        "The top of the scale is a whole number from 1 to 10.".into(),
                    );
                    0
                }
            };
            rubric.push(Criterion {
                name: c.name.trim().to_string(),
                max,
                levels: c
                    .levels
                    .lines()
                    .map(str::trim)
                    .filter(|l| !l.is_empty())
                    .map(str::to_string)
                    .collect(),
            });
        }
        if self.has_errors() {
            return None;
        }
        // Kept in step with the blocks shown, so `questions[i]` errors land on the right block.
        self.questions.retain(|q| !q.text.trim().is_empty());
        Some(InterviewSetup {
            questions: self.questions.iter().map(|q| q.text.clone()).collect(),
            rubric,
            max_followups,
            pass_mark,
        })
    }

    /// Places a refusal of `validate_setup` next to the field it names.
    pub fn place(&mut self, message: &str) {
        let first = message.split(' ').next().unwrap_or_default();
        let msg = capitalise(message);
        let indexed = |p: &str| -> Option<(usize, String)> {
            let rest = first.strip_prefix(p)?;
            let (i, tail) = rest.split_once(']')?;
            Some((i.parse().ok()?, tail.to_string()))
        };
        if let Some((i, _)) = indexed("questions[")
            && let Some(q) = self.questions.get_mut(i)
        {
            q.error = Some(msg);
            return;
        }
        if let Some((i, tail)) = indexed("rubric[")
            && let Some(c) = self.criteria.get_mut(i)
        {
            let part = if tail.starts_with(".max") {
                "max"
            } else if tail.starts_with(".levels") {
                "levels"
            } else {
                "name"
            };
            c.errors.insert(part.into(), msg);
            return;
        }
        let field = match first {
            "questions" => "questions",
            "rubric" => "criteria",
            "max_followups" => "max_followups",
            "pass_mark" => "pass_mark",
            _ => "form",
        };
        self.errors.insert(field.into(), msg);
    }

    /// Every error with the id of its field, in page order.
    pub fn summary(&self) -> Vec<(String, String)> {
        let mut out = Vec::new();
        for f in ["form", "questions"] {
            if let Some(m) = self.errors.get(f) {
                out.push(("iq0".to_string(), m.clone()));
            }
        }
        for (i, q) in self.questions.iter().enumerate() {
            if let Some(m) = &q.error {
                out.push((format!("iq{i}"), format!("Question {}: {m}", i + 1)));
            }
        }
        if let Some(m) = self.errors.get("criteria") {
            out.push(("ic0_name".to_string(), m.clone()));
        }
        for (j, c) in self.criteria.iter().enumerate() {
            for (part, m) in &c.errors {
                out.push((format!("ic{j}_{part}"), format!("Criterion {}: {m}", j + 1)));
            }
        }
        for (f, id) in [("max_followups", "i-followups"), ("pass_mark", "i-pass")] {
            if let Some(m) = self.errors.get(f) {
                out.push((id.to_string(), m.clone()));
            }
        }
        out
    }
}

/// Turns a use case's refusal into its message (`Invalid` and `Conflict`), or hands back any other error.
pub(crate) fn refusal_message(e: AppError) -> Result<(axum::http::StatusCode, String), AppError> {
    match e {
        AppError::Invalid { message, .. } => {
            Ok((axum::http::StatusCode::UNPROCESSABLE_ENTITY, message))
        }
        AppError::Conflict { message, .. } => Ok((axum::http::StatusCode::CONFLICT, message)),
        e => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn form(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    #[test]
    fn a_typed_editor_builds_the_api_input_and_names_bad_fields() {
        let f = form(&[
            ("title", "Fruit"),
            ("time_limit_minutes", "10"),
            ("max_attempts", "2"),
            ("pass_mark", "50"),
            ("q0_name", "q1"),
            ("q0_kind", "single_choice"),
            ("q0_prompt", "Colour?"),
            ("q0_options", "red\nyellow\n"),
            ("q0_correct", "yellow"),
            ("q1_name", "q2"),
            ("q1_kind", "text"),
            ("q1_prompt", "Why?"),
            ("q1_c0_text", "Mentions ripening"),
            ("q1_c0_points", "2"),
        ]);
        let (mut e, action) = Editor::from_form(&f);
        assert!(matches!(action, Action::Save));
        let input = e.build_input().expect("valid");
        assert_eq!(input.keys["q1"], json!("yellow"));
        assert_eq!(input.rubrics["q2"], json!("- Mentions ripening (2 points)"));
        // Round trip: the stored input comes back as the same blocks, not locked.
        let back = Editor::from_input(&input, true);
        assert!(!back.locked, "{:?}", back.errors);
        assert_eq!(back.blocks[1].criteria[0].points, "2");

        let mut bad = f.clone();
        bad[8].1 = "green".into();
        let (mut e, _) = Editor::from_form(&bad);
        assert!(e.build_input().is_none());
        assert!(e.blocks[0].errors["correct"].contains("not one of the options"));
        assert_eq!(e.title, "Fruit", "typed kept");

        let mut add = f.clone();
        add.push(("action".into(), "add_question".into()));
        add.push(("new_kind".into(), "rating".into()));
        let (e, action) = Editor::from_form(&add);
        assert!(matches!(action, Action::Rerender));
        assert_eq!(e.blocks.len(), 3);
        assert_eq!(e.blocks[2].name, "q3");
        let mut rm = f.clone();
        rm.push(("remove_question".into(), "0".into()));
        let (e, _) = Editor::from_form(&rm);
        assert_eq!(e.blocks.len(), 1);
        assert_eq!(e.blocks[0].prompt, "Why?");
    }

    #[test]
    fn refusals_land_next_to_their_field() {
        let (mut e, _) =
            Editor::from_form(&form(&[("q0_name", "q1"), ("q0_kind", "single_choice")]));
        e.place("keys.q1: not an option");
        assert!(e.blocks[0].errors.contains_key("correct"));
        e.place("pass_mark must be a percent from 1 to 100, got 0");
        assert!(e.errors["pass_mark"].starts_with("Pass_mark must"));
        let mut i = InterviewEditor::from_setup(None);
        i.place("rubric[0].levels must say what each level from 0 to 2 means (3 entries), got 1");
        assert!(i.criteria[0].errors.contains_key("levels"));
    }
}
