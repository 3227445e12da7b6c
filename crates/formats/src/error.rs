//! Error types: one per-record error for imports, one error for whole-file failures.

use serde::Serialize;

/// A problem with one record of an import, reported to the user next to its line number.
///
/// It serializes as `{"line":L,"message":"…"}`, the shape the import endpoint returns in its
/// `errors` list, and displays as `line 7: …` for the CLI and logs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
#[error("line {line}: {message}")]
pub struct LineError {
    /// The line (JSONL), record (CSV, header = 1) or row (Parquet, from 1) the problem is in.
    pub line: u64,
    /// What is wrong and, where it helps, how to fix it; without the `line N:` prefix.
    pub message: String,
}

impl LineError {
    pub(crate) fn new(line: u64, message: impl Into<String>) -> Self {
        Self {
            line,
            message: message.into(),
        }
    }
}

/// A failure that concerns the whole file or stream rather than one record: I/O, a Parquet
/// file that cannot be opened or has an unusable schema, or an export record that cannot be
/// written.
#[derive(Debug, thiserror::Error)]
pub enum FormatError {
    /// Reading or writing the underlying stream failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The Parquet library rejected the file or the data written to it.
    #[error("Parquet error: {0}")]
    Parquet(#[from] parquet::errors::ParquetError),
    /// Arrow rejected a batch (e.g. while building an export row group or decoding an import).
    #[error("Arrow error: {0}")]
    Arrow(#[from] arrow_schema::ArrowError),
    /// Serializing a record to JSON failed (e.g. a non-string map key in custom data).
    #[error("JSON error: {0}")]
    Json(#[from] serde_json::Error),
    /// The file's schema cannot be imported, e.g. a Parquet column of an unsupported type;
    /// the message names the column and says why.
    #[error("unsupported file: {0}")]
    Unsupported(String),
    /// An export record is invalid (e.g. `submitted_at` is not RFC 3339, or a question name
    /// clashes with a fixed CSV column); the message names the item or column.
    #[error("invalid export record: {0}")]
    InvalidRecord(String),
}
