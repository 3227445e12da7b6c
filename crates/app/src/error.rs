//! The error every use case returns, with a stable code for the API.
//!
//! Each variant says what the caller did wrong and how to fix it; the web layer maps variants to statuses
//! (and the CLI prints the message). Internal failures keep their cause for the log and show users nothing
//! of it.

use fairloop_store::StoreError;

/// A use case failed.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// No credentials, or credentials that do not resolve (401).
    #[error("{0}")]
    Unauthorized(String),
    /// Authenticated, but the role may not do this (403).
    #[error("{message}")]
    Forbidden {
        /// Stable code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
    },
    /// Nothing by that id in the caller's organization (404); also hides other tenants' rows.
    #[error("{0} not found")]
    NotFound(&'static str),
    /// The input is malformed (400), with optional structured details (e.g. the bad lines).
    #[error("{message}")]
    BadRequest {
        /// Stable code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
        /// Structured details (JSON), e.g. `{"errors":[{"line":3,"message":…}]}`.
        details: Option<serde_json::Value>,
    },
    /// Well-formed but invalid against the rules, e.g. an answer outside the options (422).
    #[error("{message}")]
    Invalid {
        /// Stable code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
        /// Structured details, e.g. the list of `{question, message}`.
        details: Option<serde_json::Value>,
    },
    /// Refused for a reason the caller can act on, with structured details (403), e.g. `not_eligible` with the
    /// list of unmet requirements.
    #[error("{message}")]
    Refused {
        /// Stable code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
        /// Structured details (JSON), e.g. `{"reasons":[{"kind":"domain","needs":"Dermatology"}]}`.
        details: Option<serde_json::Value>,
    },
    /// The request contradicts the current state (409).
    #[error("{message}")]
    Conflict {
        /// Stable code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
    },
    /// The body is over the configured limit (413).
    #[error("the request body is over the limit of {limit} bytes")]
    PayloadTooLarge {
        /// The limit in bytes.
        limit: u64,
    },
    /// A service this depends on (the interview model's endpoint) is down, slow or answered nonsense (503):
    /// nothing was lost and the same request may be retried.
    #[error("{message}")]
    Unavailable {
        /// Stable code.
        code: &'static str,
        /// Sentence for the user.
        message: String,
    },
    /// Something failed on our side; logged with its cause, opaque to the user (500).
    #[error("internal error: {0}")]
    Internal(String),
}

impl AppError {
    /// A 400 with a code and a message.
    pub fn bad_request(code: &'static str, message: impl Into<String>) -> Self {
        AppError::BadRequest {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// A 422 with a code and a message.
    pub fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        AppError::Invalid {
            code,
            message: message.into(),
            details: None,
        }
    }

    /// A 403 for a role that may not do this.
    pub fn forbidden(message: impl Into<String>) -> Self {
        AppError::Forbidden {
            code: "forbidden",
            message: message.into(),
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound => AppError::NotFound("resource"),
            StoreError::Conflict { code, message } => AppError::Conflict { code, message },
            other => AppError::Internal(other.to_string()),
        }
    }
}

/// Result alias for use cases.
pub type AppResult<T> = Result<T, AppError>;

/// Maps a store "not found" to a 404 naming what was looked for.
pub(crate) trait NotFoundAs<T> {
    fn or_not_found(self, what: &'static str) -> AppResult<T>;
}

impl<T> NotFoundAs<T> for Result<T, StoreError> {
    fn or_not_found(self, what: &'static str) -> AppResult<T> {
        self.map_err(|e| match e {
            StoreError::NotFound => AppError::NotFound(what),
            other => other.into(),
        })
    }
}
