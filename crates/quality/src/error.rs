//! The one error type of the crate.
//!
//! Every variant that comes from an input file names the line (1-based, header = line 1) and, where it applies,
//! the column, so that the CLI can print a message a user can act on without reading code.

use thiserror::Error;

/// What went wrong while reading input or running an algorithm; carries enough context to fix the input.
#[derive(Debug, Error)]
pub enum QualityError {
    /// The CSV itself is malformed (unbalanced quotes, a row with the wrong number of fields, I/O failure).
    #[error("{0}")]
    Csv(String),
    /// A required column is missing from the header row.
    #[error(
        "the header row has no `{column}` column (found: {found}); expected columns: {expected}"
    )]
    MissingColumn {
        /// The column we looked for.
        column: String,
        /// The header fields that were present, comma-separated.
        found: String,
        /// The columns this command needs, comma-separated.
        expected: String,
    },
    /// A required field is empty.
    #[error("line {line}, column `{column}`: the value is empty")]
    EmptyField {
        /// 1-based line number (the header is line 1).
        line: u64,
        /// The column name.
        column: String,
    },
    /// A field that must be a number is not one.
    #[error("line {line}, column `{column}`: `{value}` is not a number{hint}")]
    InvalidNumber {
        /// 1-based line number.
        line: u64,
        /// The column name.
        column: String,
        /// The offending text.
        value: String,
        /// Extra advice, possibly empty.
        hint: String,
    },
    /// A field is not valid UTF-8.
    #[error("line {line}, column `{column}`: the value is not valid UTF-8")]
    InvalidUtf8 {
        /// 1-based line number.
        line: u64,
        /// The column name.
        column: String,
    },
    /// A field has a value outside the allowed set.
    #[error("line {line}, column `{column}`: {message}")]
    InvalidValue {
        /// 1-based line number.
        line: u64,
        /// The column name.
        column: String,
        /// Why the value is refused.
        message: String,
    },
    /// The same rater rated the same item twice.
    #[error(
        "line {line}: rater `{rater}` already rated item `{item}` on line {first_line}; each rater may rate an item once"
    )]
    DuplicateRating {
        /// 1-based line number of the repeat.
        line: u64,
        /// 1-based line number of the first rating.
        first_line: u64,
        /// The item.
        item: String,
        /// The rater.
        rater: String,
    },
    /// The input has a header but no data rows.
    #[error("the input has no data rows")]
    NoData,
    /// Writing the output failed (a closed pipe, a full disk).
    #[error("cannot write the output: {0}")]
    Output(#[from] std::io::Error),
    /// The data is well-formed but the chosen method cannot use it (for example Cohen's kappa with five raters).
    #[error("{0}")]
    Unsupported(String),
}

impl QualityError {
    pub(crate) fn from_csv(err: csv::Error) -> Self {
        let line = err.position().map(|p| p.line());
        match err.kind() {
            csv::ErrorKind::UnequalLengths {
                expected_len, len, ..
            } => QualityError::Csv(format!(
                "line {}: found {len} fields but the header has {expected_len}",
                line.unwrap_or(0)
            )),
            csv::ErrorKind::Io(e) => QualityError::Csv(format!("cannot read the input: {e}")),
            _ => match line {
                Some(l) => QualityError::Csv(format!("line {l}: {err}")),
                None => QualityError::Csv(err.to_string()),
            },
        }
    }
}
