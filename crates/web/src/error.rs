//! The one API error body: `{"error": {"code": "snake_case", "message": "…", "details": …}}`.
//!
//! Every failure, from a malformed body to a store conflict, leaves through [`ApiError`], so clients can rely on
//! one shape and a stable code table (documented in docs/api.md). Internal errors are logged with their cause and
//! answered with an opaque message.

use axum::Json;
use axum::extract::rejection::JsonRejection;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fairloop_app::AppError;
use serde_json::{Value, json};

/// An error on its way to the client.
#[derive(Debug)]
pub struct ApiError {
    /// HTTP status.
    pub status: StatusCode,
    /// Stable snake_case code.
    pub code: &'static str,
    /// Sentence for the user.
    pub message: String,
    /// Structured details (e.g. bad lines, bad answers).
    pub details: Option<Value>,
}

impl ApiError {
    /// An error with no details.
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            details: None,
        }
    }
}

impl From<AppError> for ApiError {
    fn from(e: AppError) -> Self {
        match e {
            AppError::Unauthorized(m) => ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", m),
            AppError::Forbidden { code, message } => {
                ApiError::new(StatusCode::FORBIDDEN, code, message)
            }
            AppError::NotFound(what) => ApiError::new(
                StatusCode::NOT_FOUND,
                "not_found",
                format!("{what} not found"),
            ),
            AppError::BadRequest {
                code,
                message,
                details,
            } => ApiError {
                status: StatusCode::BAD_REQUEST,
                code,
                message,
                details,
            },
            AppError::Invalid {
                code,
                message,
                details,
            } => ApiError {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                code,
                message,
                details,
            },
            AppError::Conflict { code, message } => {
                ApiError::new(StatusCode::CONFLICT, code, message)
            }
            AppError::Unavailable { code, message } => {
                ApiError::new(StatusCode::SERVICE_UNAVAILABLE, code, message)
            }
            AppError::Refused {
                code,
                message,
                details,
            } => ApiError {
                status: StatusCode::FORBIDDEN,
                code,
                message,
                details,
            },
            AppError::PayloadTooLarge { limit } => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!(
                    "the request body is over the limit of {limit} bytes; split the file or raise the limit"
                ),
            ),
            AppError::Internal(cause) => {
                tracing::error!(%cause, "internal error");
                ApiError::new(
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "internal",
                    "something went wrong on our side; it has been logged",
                )
            }
        }
    }
}

impl From<JsonRejection> for ApiError {
    fn from(r: JsonRejection) -> Self {
        match r {
            JsonRejection::JsonDataError(e) => ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_body",
                message: format!(
                    "the body does not match the expected shape: {}",
                    inner_message(&e)
                ),
                details: None,
            },
            JsonRejection::JsonSyntaxError(e) => ApiError {
                status: StatusCode::BAD_REQUEST,
                code: "invalid_json",
                message: format!("the body is not valid JSON: {}", inner_message(&e)),
                details: None,
            },
            JsonRejection::MissingJsonContentType(_) => ApiError::new(
                StatusCode::UNSUPPORTED_MEDIA_TYPE,
                "unsupported_media_type",
                "send the body as JSON with Content-Type: application/json",
            ),
            other if other.status() == StatusCode::PAYLOAD_TOO_LARGE => ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                "the request body is over the limit for this endpoint",
            ),
            other => ApiError::new(StatusCode::BAD_REQUEST, "invalid_body", other.body_text()),
        }
    }
}

/// The innermost cause of a rejection: serde's message with its line and column.
fn inner_message(e: &dyn std::error::Error) -> String {
    let mut cur: &dyn std::error::Error = e;
    while let Some(next) = cur.source() {
        cur = next;
    }
    cur.to_string()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut body = json!({"error": {"code": self.code, "message": self.message}});
        if let Some(d) = self.details {
            body["error"]["details"] = d;
        }
        (self.status, Json(body)).into_response()
    }
}

/// Result alias for handlers.
pub type ApiResult<T> = Result<T, ApiError>;
