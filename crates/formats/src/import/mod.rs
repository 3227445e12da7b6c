//! Import side: readers that turn an uploaded file into a stream of [`RawItem`]s.

mod arrow_json;
mod csv;
mod jsonl;
mod parquet;

use std::path::Path;

use serde::Serialize;
use serde_json::{Map, Value};

pub use self::csv::read_csv;
pub use self::jsonl::read_jsonl;
pub use self::parquet::read_parquet;

/// The file formats items can be imported from; picks the reader for an upload.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ImportFormat {
    /// JSON Lines: one `{"id":…, "data":{…}}` object per line ([`read_jsonl`]).
    Jsonl,
    /// CSV with a header row ([`read_csv`]).
    Csv,
    /// Apache Parquet, one row per item ([`read_parquet`]).
    Parquet,
}

impl ImportFormat {
    /// Guesses the format from a file name's extension (case-insensitive), for the CLI and for
    /// uploads whose `Content-Type` says nothing useful.
    ///
    /// `.jsonl`, `.ndjson`, `.jsonlines` → JSONL; `.csv` → CSV; `.parquet`, `.pq` → Parquet.
    /// Plain `.json` is not JSON Lines (usually one big array) and gives `None`.
    pub fn from_path(p: &Path) -> Option<Self> {
        let ext = p.extension()?.to_str()?.to_ascii_lowercase();
        match ext.as_str() {
            "jsonl" | "ndjson" | "jsonlines" => Some(Self::Jsonl),
            "csv" => Some(Self::Csv),
            "parquet" | "pq" => Some(Self::Parquet),
            _ => None,
        }
    }

    /// Picks the format from an HTTP `Content-Type` (parameters such as `; charset=utf-8` and
    /// case are ignored).
    ///
    /// `application/x-ndjson`, `application/ndjson`, `application/jsonl`,
    /// `application/x-jsonlines`, `application/jsonlines` → JSONL; `text/csv`,
    /// `application/csv` → CSV; `application/vnd.apache.parquet`, `application/x-parquet` →
    /// Parquet. `application/octet-stream` gives `None` on purpose: it says nothing about the
    /// format, so the caller should fall back to [`ImportFormat::from_path`] or
    /// [`ImportFormat::sniff`] rather than guess here.
    pub fn from_content_type(ct: &str) -> Option<Self> {
        let essence = ct.split(';').next()?.trim().to_ascii_lowercase();
        match essence.as_str() {
            "application/x-ndjson"
            | "application/ndjson"
            | "application/jsonl"
            | "application/x-jsonlines"
            | "application/jsonlines" => Some(Self::Jsonl),
            "text/csv" | "application/csv" => Some(Self::Csv),
            "application/vnd.apache.parquet" | "application/x-parquet" => Some(Self::Parquet),
            _ => None,
        }
    }

    /// Recognises Parquet by its magic bytes (`PAR1`) at the start of a file, for uploads sent
    /// as `application/octet-stream` without a file name. Text formats cannot be told apart
    /// reliably by content, so this only ever answers `Parquet` or `None`.
    pub fn sniff(first_bytes: &[u8]) -> Option<Self> {
        first_bytes.starts_with(b"PAR1").then_some(Self::Parquet)
    }

    /// The canonical `Content-Type` of the format, for responses and documentation.
    pub fn content_type(self) -> &'static str {
        match self {
            Self::Jsonl => "application/x-ndjson",
            Self::Csv => "text/csv",
            Self::Parquet => "application/vnd.apache.parquet",
        }
    }
}

/// Limits that keep a hostile or broken upload from using unbounded memory.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReadLimits {
    /// Longest record accepted, in bytes: a JSONL line without its line ending, a raw CSV record,
    /// or a Parquet row measured as the JSON of its `data`. A longer record is an error for that
    /// record; JSONL and CSV readers skip over it without ever holding it whole in memory.
    /// Default 1 MiB.
    pub max_line_bytes: usize,
}

impl ReadLimits {
    /// The default record limit, 1 MiB: generous for text items, small enough that a server
    /// can read many uploads at once.
    pub const DEFAULT_MAX_LINE_BYTES: usize = 1 << 20;
}

impl Default for ReadLimits {
    fn default() -> Self {
        Self {
            max_line_bytes: Self::DEFAULT_MAX_LINE_BYTES,
        }
    }
}

/// One item as read from an import file, before the application validates `data` against the
/// project's template.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct RawItem {
    /// Where the item was in the file (see the crate docs for what "line" means per format),
    /// so that later validation errors can point at it too.
    pub line: u64,
    /// The requester's own id for the item; re-importing an id is a no-op.
    pub external_id: Option<String>,
    /// Scheduling priority: higher is served first. 0 when not given.
    pub priority: i64,
    /// The item's fields, shown to workers through the template.
    pub data: Map<String, Value>,
    /// The known answer, for gold (honeypot) items. Only JSONL carries it.
    pub gold: Option<Value>,
    /// Sensitivity category keys of the item (`["violence", …]`), unchecked: the application knows the
    /// list and reports an unknown key for this line. Empty when not given.
    pub sensitivity: Vec<String>,
}

impl RawItem {
    fn new(line: u64) -> Self {
        Self {
            line,
            external_id: None,
            priority: 0,
            data: Map::new(),
            gold: None,
            sensitivity: Vec::new(),
        }
    }
}

/// Sensitivity keys from a JSON value: an array of strings, or one string of keys separated by `|`, `;` or
/// `,` (how CSV and flat Parquet columns carry a list); `null` means none.
pub(crate) fn sensitivity_from(v: &Value) -> Result<Vec<String>, String> {
    match v {
        Value::Null => Ok(Vec::new()),
        Value::String(s) => Ok(split_keys(s)),
        Value::Array(a) => a
            .iter()
            .map(|k| match k {
                Value::String(s) if !s.trim().is_empty() => Ok(s.trim().to_owned()),
                other => Err(format!(
                    "\"sensitivity\" must be a list of category keys (strings), found {} in it",
                    json_kind(other)
                )),
            })
            .collect(),
        other => Err(format!(
            "\"sensitivity\" must be a list of category keys like [\"violence\"], found {}",
            json_kind(other)
        )),
    }
}

/// Splits `"violence|hate"` (or `;`, `,`) into keys, dropping empty ones.
pub(crate) fn split_keys(s: &str) -> Vec<String> {
    s.split(['|', ';', ','])
        .map(str::trim)
        .filter(|k| !k.is_empty())
        .map(str::to_owned)
        .collect()
}

/// "a string", "an object", … for error messages.
pub(crate) fn json_kind(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "an array",
        Value::Object(_) => "an object",
    }
}

/// Merges the keys of a JSON object given in a `data` column into `data`, refusing a key that
/// another column already set (silently letting one win would lose data).
pub(crate) fn merge_data_object(
    data: &mut Map<String, Value>,
    extra: Map<String, Value>,
) -> Result<(), String> {
    for (k, v) in extra {
        if data.contains_key(&k) {
            return Err(format!(
                "the \"data\" column sets \"{k}\", which another column also sets; keep one of them"
            ));
        }
        data.insert(k, v);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn format_from_path() {
        assert_eq!(
            ImportFormat::from_path(Path::new("a/b.JSONL")),
            Some(ImportFormat::Jsonl)
        );
        assert_eq!(
            ImportFormat::from_path(Path::new("x.ndjson")),
            Some(ImportFormat::Jsonl)
        );
        assert_eq!(
            ImportFormat::from_path(Path::new("x.csv")),
            Some(ImportFormat::Csv)
        );
        assert_eq!(
            ImportFormat::from_path(Path::new("x.parquet")),
            Some(ImportFormat::Parquet)
        );
        assert_eq!(ImportFormat::from_path(Path::new("x.json")), None);
        assert_eq!(ImportFormat::from_path(Path::new("noext")), None);
    }

    #[test]
    fn format_from_content_type() {
        assert_eq!(
            ImportFormat::from_content_type("application/x-ndjson; charset=utf-8"),
            Some(ImportFormat::Jsonl)
        );
        assert_eq!(
            ImportFormat::from_content_type("Application/JSONL"),
            Some(ImportFormat::Jsonl)
        );
        assert_eq!(
            ImportFormat::from_content_type("text/csv;header=present"),
            Some(ImportFormat::Csv)
        );
        assert_eq!(
            ImportFormat::from_content_type("application/vnd.apache.parquet"),
            Some(ImportFormat::Parquet)
        );
        assert_eq!(
            ImportFormat::from_content_type("application/octet-stream"),
            None
        );
        assert_eq!(ImportFormat::from_content_type("application/json"), None);
        for f in [
            ImportFormat::Jsonl,
            ImportFormat::Csv,
            ImportFormat::Parquet,
        ] {
            assert_eq!(ImportFormat::from_content_type(f.content_type()), Some(f));
        }
    }

    #[test]
    fn sniff_parquet() {
        assert_eq!(
            ImportFormat::sniff(b"PAR1\x15"),
            Some(ImportFormat::Parquet)
        );
        assert_eq!(ImportFormat::sniff(b"{\"data\""), None);
    }
}
