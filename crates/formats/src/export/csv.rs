//! CSV export: one row per annotation, for projects whose answers are flat.

use std::io::Write;

use serde_json::Value;

use super::ExportItem;
use crate::FormatError;

const FIXED_COLUMNS: [&str; 4] = ["item_id", "annotation_id", "annotator", "submitted_at"];

/// Writes the CSV export, meant for spreadsheets and flat answers: one row per annotation.
///
/// Columns: `item_id`, `annotation_id`, `annotator`, `submitted_at`, then one column per
/// question name given to [`new`](Self::new), holding that annotation's answer:
/// - a string as is; a number or boolean as its JSON text (`4`, `2.5`, `true`);
/// - missing or `null`: an empty cell;
/// - a list of strings, numbers or booleans (e.g. a multiple choice) joined with `|`
///   (`x|y`; an empty list gives an empty cell), unless an element itself contains `|`, in
///   which case the list is written as JSON (`["a|b","c"]`) so it stays unambiguous;
/// - anything else (objects, nested lists, lists with nulls: spans, boxes…) as compact JSON.
///
/// An item without annotations gets one row with its `item_id` and every other cell empty, so
/// that every item appears. Item data and aggregates are not part of this export (use JSONL or
/// Parquet for them).
///
/// RFC 4180 output: `,` separators, CRLF line endings, a field is quoted with `"` (doubling
/// inner quotes) only when it contains `,`, `"`, CR or LF. The header row is written with the
/// first item, or by [`finish`](Self::finish) for an empty export. Like
/// [`JsonlExportWriter`](crate::JsonlExportWriter) it does not buffer: each item's rows are
/// in `W` when [`write_item`](Self::write_item) returns.
#[derive(Debug)]
pub struct CsvExportWriter<W: Write> {
    w: W,
    questions: Vec<String>,
    header_written: bool,
    row: Vec<u8>,
    cell: String,
    items: u64,
}

impl<W: Write> CsvExportWriter<W> {
    /// Starts an export into `w` with one answer column per question, in the given order.
    ///
    /// Fails with [`FormatError::InvalidRecord`] when a question name is empty, repeated, or
    /// the name of a fixed column (`item_id`, `annotation_id`, `annotator`, `submitted_at`),
    /// since a header with duplicate names cannot be read back reliably.
    pub fn new(w: W, questions: Vec<String>) -> Result<Self, FormatError> {
        for (i, q) in questions.iter().enumerate() {
            if q.is_empty() {
                return Err(FormatError::InvalidRecord(
                    "a question name for the CSV export is empty".into(),
                ));
            }
            if FIXED_COLUMNS.contains(&q.as_str()) || questions[..i].contains(q) {
                return Err(FormatError::InvalidRecord(format!(
                    "question \"{q}\" would be a second CSV column of that name"
                )));
            }
        }
        Ok(Self {
            w,
            questions,
            header_written: false,
            row: Vec::new(),
            cell: String::new(),
            items: 0,
        })
    }

    fn write_header(&mut self) -> Result<(), FormatError> {
        if self.header_written {
            return Ok(());
        }
        self.row.clear();
        let names = FIXED_COLUMNS
            .iter()
            .copied()
            .chain(self.questions.iter().map(String::as_str));
        for (i, name) in names.enumerate() {
            push_field(&mut self.row, i, name);
        }
        self.row.extend_from_slice(b"\r\n");
        self.w.write_all(&self.row)?;
        self.header_written = true;
        Ok(())
    }

    /// Writes the item's rows: one per annotation, or one with empty annotation cells.
    pub fn write_item(&mut self, item: &ExportItem) -> Result<(), FormatError> {
        self.write_header()?;
        self.row.clear();
        if item.annotations.is_empty() {
            push_field(&mut self.row, 0, &item.id);
            for i in 1..FIXED_COLUMNS.len() + self.questions.len() {
                push_field(&mut self.row, i, "");
            }
            self.row.extend_from_slice(b"\r\n");
        }
        for a in &item.annotations {
            push_field(&mut self.row, 0, &item.id);
            push_field(&mut self.row, 1, &a.annotation_id);
            push_field(&mut self.row, 2, &a.annotator);
            push_field(&mut self.row, 3, &a.submitted_at);
            for (k, q) in self.questions.iter().enumerate() {
                self.cell.clear();
                if let Some(v) = a.answers.get(q) {
                    format_answer(&mut self.cell, v)?;
                }
                push_field(&mut self.row, FIXED_COLUMNS.len() + k, &self.cell);
            }
            self.row.extend_from_slice(b"\r\n");
        }
        self.w.write_all(&self.row)?;
        self.items += 1;
        Ok(())
    }

    /// Items written so far, for progress reports.
    pub fn items_written(&self) -> u64 {
        self.items
    }

    /// The underlying writer.
    pub fn get_ref(&self) -> &W {
        &self.w
    }

    /// The underlying writer, to take out the bytes written so far (whole rows only).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }

    /// Writes the header if no item was written, flushes, and returns the underlying writer.
    pub fn finish(mut self) -> Result<W, FormatError> {
        self.write_header()?;
        self.w.flush()?;
        Ok(self.w)
    }
}

impl CsvExportWriter<Vec<u8>> {
    /// Takes the bytes written so far (whole rows only), leaving the buffer empty: the way to
    /// stream the export in chunks.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.w)
    }
}

/// Appends one field (with its leading comma unless it is the first), quoted only if needed.
fn push_field(row: &mut Vec<u8>, index: usize, s: &str) {
    if index > 0 {
        row.push(b',');
    }
    if s.bytes().any(|b| matches!(b, b',' | b'"' | b'\r' | b'\n')) {
        row.push(b'"');
        for b in s.bytes() {
            if b == b'"' {
                row.push(b'"');
            }
            row.push(b);
        }
        row.push(b'"');
    } else {
        row.extend_from_slice(s.as_bytes());
    }
}

/// The cell text of one answer (see [`CsvExportWriter`] for the rules).
fn format_answer(out: &mut String, v: &Value) -> Result<(), FormatError> {
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        Value::Bool(_) | Value::Number(_) => out.push_str(&v.to_string()),
        Value::Array(items) if items.iter().all(is_joinable) => {
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push('|');
                }
                match item {
                    Value::String(s) => out.push_str(s),
                    other => out.push_str(&other.to_string()),
                }
            }
        }
        Value::Array(_) | Value::Object(_) => out.push_str(&serde_json::to_string(v)?),
    }
    Ok(())
}

fn is_joinable(v: &Value) -> bool {
    match v {
        Value::String(s) => !s.contains('|'),
        Value::Bool(_) | Value::Number(_) => true,
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_data;
    use super::*;

    fn questions() -> Vec<String> {
        ["label", "tags", "score", "note", "missing"]
            .map(String::from)
            .to_vec()
    }

    #[test]
    fn rows_parse_back_with_the_csv_crate() {
        let mut w = CsvExportWriter::new(Vec::new(), questions()).unwrap();
        for item in &test_data::items() {
            w.write_item(item).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut r = csv::Reader::from_reader(bytes.as_slice());
        let header: Vec<String> = r.headers().unwrap().iter().map(String::from).collect();
        assert_eq!(
            header,
            [
                "item_id",
                "annotation_id",
                "annotator",
                "submitted_at",
                "label",
                "tags",
                "score",
                "note",
                "missing"
            ]
        );
        let rows: Vec<Vec<String>> = r
            .records()
            .map(|rec| rec.unwrap().iter().map(String::from).collect())
            .collect();
        let want: Vec<Vec<&str>> = vec![
            vec![
                "it-1",
                "an-1",
                "w-1",
                "2026-01-02T03:04:05Z",
                "a",
                "",
                "4",
                "",
                "",
            ],
            vec![
                "it-1",
                "an-2",
                "w-2",
                "2026-01-02T04:04:05+01:00",
                "b",
                "",
                "true",
                "",
                "",
            ],
            vec![
                "it-2 日本",
                "an-3",
                "w-Ωmega",
                "2026-11-23T10:00:00.123456Z",
                "b",
                "x|y",
                "",
                "comma, \"quote\"\nnewline",
                "",
            ],
            vec!["it-3", "", "", "", "", "", "", "", ""],
        ];
        assert_eq!(rows, want);
    }

    #[test]
    fn answer_formatting() {
        let cell = |v: Value| {
            let mut s = String::new();
            format_answer(&mut s, &v).unwrap();
            s
        };
        use serde_json::json;
        assert_eq!(cell(json!("x")), "x");
        assert_eq!(cell(json!(2.5)), "2.5");
        assert_eq!(cell(json!(null)), "");
        assert_eq!(cell(json!([])), "");
        assert_eq!(cell(json!(["a", 1, false])), "a|1|false");
        assert_eq!(cell(json!(["a|b", "c"])), r#"["a|b","c"]"#);
        assert_eq!(cell(json!([null])), "[null]");
        assert_eq!(
            cell(json!([{"start":0,"end":4}])),
            r#"[{"start":0,"end":4}]"#
        );
    }

    #[test]
    fn empty_export_has_a_header_and_crlf() {
        let w = CsvExportWriter::new(Vec::new(), vec!["label".into()]).unwrap();
        assert_eq!(
            w.finish().unwrap(),
            b"item_id,annotation_id,annotator,submitted_at,label\r\n"
        );
    }

    #[test]
    fn clashing_question_names_are_refused() {
        assert!(CsvExportWriter::new(Vec::new(), vec!["annotator".into()]).is_err());
        assert!(CsvExportWriter::new(Vec::new(), vec!["a".into(), "a".into()]).is_err());
        assert!(CsvExportWriter::new(Vec::new(), vec![String::new()]).is_err());
    }

    #[test]
    fn take_bytes_drains_whole_rows() {
        let mut w = CsvExportWriter::new(Vec::new(), questions()).unwrap();
        w.write_item(&test_data::items()[0]).unwrap();
        let chunk = w.take_bytes();
        assert!(chunk.ends_with(b"\r\n"));
        assert_eq!(chunk.iter().filter(|&&b| b == b'\n').count(), 3);
        assert!(w.finish().unwrap().is_empty());
    }
}
