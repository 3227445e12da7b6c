//! Task templates: what a worker is shown and what they are asked, and the validation of answers against it.
//!
//! A template is a JSON document `{"fields": [...], "questions": [...]}` (the reference with an example of every
//! kind is `docs/templates.md`). Fields bind item data to a way of showing it; questions say what to answer and
//! the shape of each answer. The answers of one annotation are a JSON object keyed by question name.
//!
//! Three checks live here, so the web layer, the importer and the CLI apply the same rules:
//! - [`TaskTemplate::from_json`]: is the template well formed? Unknown keys are errors, and every error carries
//!   the path of the bad part (`questions[1].options`).
//! - [`TaskTemplate::validate_item_data`]: does an item's data fit the fields? The error names the data key.
//! - [`TaskTemplate::validate_answers`]: does a submission fit the questions? Every bad answer is reported with
//!   its question's name (the API's 422).
//!
//! The template is parsed by hand from a `serde_json::Value` instead of a derived `Deserialize`, because serde's
//! errors for tagged enums carry no path; `Deserialize` is implemented on top of [`TaskTemplate::from_json`].

mod answer;
mod error;
mod examples;
mod field;
mod gold;
mod majority;
mod parse;
mod question;
pub mod shapes;

use serde::{Deserialize, Deserializer, Serialize};
use serde_json::{Map, Value};

pub use answer::{MAX_LIST_ANSWER_LEN, PAIRWISE_STRENGTH};
pub use error::{AnswerError, FieldError, TemplateError};
pub use examples::examples;
pub use field::{DEFAULT_FPS, Field, FieldKind, MAX_FPS};
pub use gold::{GoldScore, score_gold, score_question};
pub use majority::majority_answer;
pub use question::{
    ChoiceOption, Condition, Criterion, Justification, QUESTION_TYPES, Question, QuestionKind,
    Scale, ShowIf,
};

/// A project's task template: the fields shown to the worker and the questions asked about each item.
///
/// Build one with [`TaskTemplate::from_json`] (or serde); the fields are public so the UI can render them, but a
/// template changed by hand is only checked again when it goes through `from_json`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TaskTemplate {
    /// What the worker sees, in display order; names unique.
    pub fields: Vec<Field>,
    /// What the worker answers, in display order; names unique; `show_if` only refers to earlier questions.
    pub questions: Vec<Question>,
}

impl TaskTemplate {
    /// Parses and checks a template document; the error says where (a path) and why.
    pub fn from_json(v: &Value) -> Result<TaskTemplate, TemplateError> {
        let map = parse::object(v, "", "the template")?;
        parse::check_keys(map, "", &["fields", "questions"], "a template")?;
        let field_values = parse::req_array(
            map,
            "",
            "fields",
            "list what the worker is shown, e.g. [{\"name\": \"text\", \"type\": \"text\"}]",
        )?;
        let mut fields: Vec<Field> = Vec::with_capacity(field_values.len());
        for (i, fv) in field_values.iter().enumerate() {
            let path = parse::index("fields", i);
            let field = Field::parse(fv, &path)?;
            if let Some(j) = fields.iter().position(|f| f.name == field.name) {
                return Err(TemplateError::new(
                    parse::join(&path, "name"),
                    format!(
                        "field name {:?} is used twice (also fields[{j}])",
                        field.name
                    ),
                ));
            }
            fields.push(field);
        }
        let question_values =
            parse::req_array(map, "", "questions", "list what the worker is asked")?;
        if question_values.is_empty() {
            return Err(TemplateError::new(
                "questions",
                "a template needs at least one question",
            ));
        }
        let mut questions: Vec<Question> = Vec::with_capacity(question_values.len());
        for (i, qv) in question_values.iter().enumerate() {
            let question = Question::parse(qv, &parse::index("questions", i), &fields, &questions)?;
            questions.push(question);
        }
        Ok(TaskTemplate { fields, questions })
    }

    /// The template as a JSON document; [`TaskTemplate::from_json`] reads it back to an equal template.
    pub fn to_json(&self) -> Value {
        serde_json::to_value(self).expect("a template always serializes: string keys, no floats")
    }

    /// The field with this name.
    pub fn field(&self, name: &str) -> Option<&Field> {
        self.fields.iter().find(|f| f.name == name)
    }

    /// The question with this name.
    pub fn question(&self, name: &str) -> Option<&Question> {
        self.questions.iter().find(|q| q.name == name)
    }

    /// Checks that an item's data has every non-optional field with the right shape; the error names the data key.
    ///
    /// Keys the template does not read are allowed (items may carry ids and metadata for the requester). A
    /// question's `prefill` key, when the item holds it, must be a valid answer to that question (a pre-drawn
    /// answer that the worker could not submit unchanged would only confuse them).
    pub fn validate_item_data(&self, data: &Map<String, Value>) -> Result<(), FieldError> {
        self.fields.iter().try_for_each(|f| f.check_data(data))?;
        for q in &self.questions {
            let Some(key) = &q.prefill else { continue };
            let Some(v) = data.get(key).filter(|v| !v.is_null()) else {
                continue;
            };
            answer::check_prefill(self, q, v, data).map_err(|message| FieldError {
                field: key.clone(),
                message: format!(
                    "is not a valid pre-drawn answer to question {:?}: {message}",
                    q.name
                ),
            })?;
        }
        Ok(())
    }

    /// The pre-drawn answer of a question in an item (its `prefill` key's value), when there is one.
    pub fn prefill_in<'a>(
        &self,
        question: &Question,
        data: &'a Map<String, Value>,
    ) -> Option<&'a Value> {
        data.get(question.prefill.as_deref()?)
            .filter(|v| !v.is_null())
    }

    /// Checks one submission against the template and the answered item's data; returns every bad answer.
    ///
    /// An answer of `null` (or a blank string for a `text` question) counts as not given. A required question must
    /// be answered only when it is shown; a question hidden by its `show_if` must not be answered. Names that are
    /// not questions are errors. When `answers` is not an object there is one error, with an empty question name.
    pub fn validate_answers(
        &self,
        answers: &Value,
        item_data: &Map<String, Value>,
    ) -> Result<(), Vec<AnswerError>> {
        answer::validate(self, answers, item_data)
    }

    /// Which questions are shown for these answers, in template order (what the UI uses to hide and show).
    pub fn shown_questions(&self, answers: &Map<String, Value>) -> Vec<bool> {
        answer::visibility(self, answers)
    }

    /// True when every answer is a scalar or a list of scalars (only `single_choice`, `multi_choice`, `rating`
    /// and `text` questions), so the answers export as one CSV column per question.
    pub fn has_flat_answers(&self) -> bool {
        self.questions.iter().all(|q| q.kind.has_flat_answer())
    }

    /// The questions exports aggregate with [`majority_answer`]: `single_choice`, `multi_choice` and `rating`.
    pub fn majority_questions(&self) -> Vec<&str> {
        self.questions
            .iter()
            .filter(|q| majority::has_majority(&q.kind))
            .map(|q| q.name.as_str())
            .collect()
    }
}

impl<'de> Deserialize<'de> for TaskTemplate {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let v = Value::deserialize(d)?;
        TaskTemplate::from_json(&v).map_err(serde::de::Error::custom)
    }
}

#[cfg(test)]
mod tests;
