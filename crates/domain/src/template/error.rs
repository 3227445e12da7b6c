//! The three kinds of error of the template system: a bad template, bad item data, a bad answer.
//!
//! Each names the part that is wrong (a path, a data key, a question) separately from the sentence saying why, so
//! the web layer can put the name in the error's `details` and the sentence in its `message`.

use std::fmt;

use serde::Serialize;

/// Why a template was rejected and where: `path` is like `questions[1].options`, empty for the template as a whole.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TemplateError {
    path: String,
    message: String,
}

impl TemplateError {
    pub(crate) fn new(path: impl Into<String>, message: impl Into<String>) -> Self {
        TemplateError {
            path: path.into(),
            message: message.into(),
        }
    }

    /// Where in the template document the problem is, e.g. `questions[1].options` (empty: the whole template).
    pub fn path(&self) -> &str {
        &self.path
    }

    /// What is wrong there, without the path.
    pub fn message(&self) -> &str {
        &self.message
    }
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.path.is_empty() {
            write!(f, "template: {}", self.message)
        } else {
            write!(f, "{}: {}", self.path, self.message)
        }
    }
}

impl std::error::Error for TemplateError {}

/// Why an item's data does not fit the template: `field` is the item data key (the field's `source`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    /// The key in the item's `data` object that is missing or wrong.
    pub field: String,
    /// What is wrong with it, as a sentence fragment ("must be a string, got a number").
    pub message: String,
}

impl fmt::Display for FieldError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "item data field {:?}: {}", self.field, self.message)
    }
}

impl std::error::Error for FieldError {}

/// Why one answer was rejected: `question` is the question's name (empty when the answers are not an object).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AnswerError {
    /// The name of the question whose answer is wrong (or the unknown name that was answered).
    pub question: String,
    /// What is wrong with the answer and what would be accepted.
    pub message: String,
}

impl fmt::Display for AnswerError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.question.is_empty() {
            write!(f, "{}", self.message)
        } else {
            write!(f, "question {:?}: {}", self.question, self.message)
        }
    }
}

impl std::error::Error for AnswerError {}
