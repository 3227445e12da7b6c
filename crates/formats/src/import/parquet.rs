//! Parquet import: one item per row.

use std::fs::File;

use arrow_array::RecordBatch;
use parquet::arrow::arrow_reader::{ParquetRecordBatchReader, ParquetRecordBatchReaderBuilder};
use serde_json::{Map, Value};

use super::arrow_json::{check_type, integer_at, is_integer, is_string, string_at, to_json};
use super::{RawItem, ReadLimits, json_kind, merge_data_object};
use crate::{FormatError, LineError};

/// Rows decoded per Arrow batch: small enough to keep memory flat for wide rows, large enough
/// to amortise decoding.
const BATCH_ROWS: usize = 1024;

/// What a top-level column contributes to an item.
#[derive(Debug, Clone, Copy)]
enum Role {
    Id,
    Priority,
    /// Sensitivity category keys: a list of strings, or one string of keys separated by `|`, `;` or `,`.
    Sensitivity,
    /// `data` holding JSON text (parsed) or a struct/map (taken as is), merged into `data`.
    Data,
    /// Any other column: a `data` entry under the column's name.
    Field,
}

/// Reads items from a Parquet file, one row at a time, decoding row group by row group in
/// batches of 1024 rows.
///
/// Columns map to the item like this:
/// - `id`: the external id; a string or integer column (an integer becomes its decimal string);
///   null means no id, an empty string is an error;
/// - `priority`: an integer column, higher first; null means 0;
/// - `sensitivity`: sensitivity category keys, a list of strings or one string separated by `|`, `;` or `,`;
/// - `data`: JSON text holding an object (as written by `df["data"] = df.x.map(json.dumps)`),
///   or a struct or map column; its keys are merged into `data`, and a key also set by another
///   column is an error;
/// - every other column: an entry of `data` under the column's name with its natural JSON type:
///   strings, integers, floats (NaN and infinities become `null`), booleans, lists → arrays,
///   structs and string-keyed maps → objects, dictionary-encoded (categorical) columns → their
///   values, decimals → strings (to keep every digit), dates → `"YYYY-MM-DD"`, timestamps → RFC
///   3339 text (`Z` when the column has a time zone).
///
/// A null cell in a top-level column is omitted from `data` (as an empty CSV cell is); a null
/// inside a list or struct stays `null`.
///
/// `line` is the row number in the file, from 1. A row whose `data` is bigger than
/// [`ReadLimits::max_line_bytes`] once written as JSON is an error for that row, like an
/// over-long JSONL line. The schema is checked before any row is read: an `id` or `priority`
/// column of the wrong type, or a column of a type with no JSON form (binary, time of day,
/// durations, intervals, unions), fails the whole file with [`FormatError::Unsupported`] naming
/// the column. A file that cannot be opened as Parquet gives [`FormatError::Parquet`]; an error
/// while decoding a later row group yields one [`LineError`] at the first row not read and ends
/// the stream.
pub fn read_parquet(
    file: File,
    limits: &ReadLimits,
) -> Result<impl Iterator<Item = Result<RawItem, LineError>> + use<>, FormatError> {
    let builder = guard(|| ParquetRecordBatchReaderBuilder::try_new(file))
        .map_err(FormatError::Unsupported)??;
    let mut roles = Vec::new();
    for field in builder.schema().fields() {
        let name = field.name().as_str();
        let dt = field.data_type();
        let role = match name {
            "id" if is_string(dt) || is_integer(dt) => Role::Id,
            "id" => {
                return Err(FormatError::Unsupported(format!(
                    "column \"id\" must hold strings or integers, found {dt}"
                )));
            }
            "priority" if is_integer(dt) => Role::Priority,
            "priority" => {
                return Err(FormatError::Unsupported(format!(
                    "column \"priority\" must hold integers, found {dt}"
                )));
            }
            "sensitivity" => Role::Sensitivity,
            "data" => {
                let nested = matches!(
                    dt,
                    arrow_schema::DataType::Struct(_) | arrow_schema::DataType::Map(..)
                );
                if !is_string(dt) && !nested {
                    return Err(FormatError::Unsupported(format!(
                        "column \"data\" must hold JSON text or a struct, found {dt}"
                    )));
                }
                Role::Data
            }
            _ => Role::Field,
        };
        check_type(dt).map_err(|e| FormatError::Unsupported(format!("column \"{name}\": {e}")))?;
        roles.push((name.to_owned(), role));
    }
    let reader = guard(|| builder.with_batch_size(BATCH_ROWS).build())
        .map_err(FormatError::Unsupported)??;
    Ok(ParquetItems {
        reader,
        roles,
        batch: None,
        row_in_batch: 0,
        row: 0,
        limit: limits.max_line_bytes,
        done: false,
    })
}

struct ParquetItems {
    reader: ParquetRecordBatchReader,
    roles: Vec<(String, Role)>,
    batch: Option<RecordBatch>,
    row_in_batch: usize,
    row: u64,
    limit: usize,
    done: bool,
}

impl Iterator for ParquetItems {
    type Item = Result<RawItem, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            if let Some(batch) = &self.batch
                && self.row_in_batch < batch.num_rows()
            {
                let i = self.row_in_batch;
                self.row_in_batch += 1;
                self.row += 1;
                let n = self.row;
                let (roles, limit) = (&self.roles, self.limit);
                let item = guard(|| row_to_item(batch, i, n, roles, limit)).unwrap_or_else(|m| {
                    self.done = true;
                    Err(m)
                });
                return Some(item.map_err(|m| LineError::new(n, m)));
            }
            let reader = &mut self.reader;
            let next = guard(|| reader.next())
                .unwrap_or_else(|panic| Some(Err(arrow_schema::ArrowError::ParquetError(panic))));
            match next {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(LineError::new(
                        self.row + 1,
                        format!("could not read the Parquet file from here on: {e}"),
                    )));
                }
                Some(Ok(batch)) => {
                    self.batch = Some(batch);
                    self.row_in_batch = 0;
                }
            }
        }
    }
}

fn row_to_item(
    batch: &RecordBatch,
    i: usize,
    n: u64,
    roles: &[(String, Role)],
    limit: usize,
) -> Result<RawItem, String> {
    let mut item = RawItem::new(n);
    let mut data = Map::with_capacity(roles.len());
    let mut data_column = None;
    for ((name, role), column) in roles.iter().zip(batch.columns()) {
        let column = column.as_ref();
        if column.is_null(i) {
            continue;
        }
        match role {
            Role::Id => {
                let id = if is_string(column.data_type()) {
                    string_at(column, i).map(str::to_owned)
                } else {
                    match integer_at(column, i) {
                        Ok(v) => v.map(|v| v.to_string()),
                        // Too big for i64 but still a perfectly good id.
                        Err(big) => Some(big.to_string()),
                    }
                };
                if id.as_deref() == Some("") {
                    return Err(
                        "\"id\" must not be empty; use null for an item without an id".to_owned(),
                    );
                }
                item.external_id = id;
            }
            Role::Priority => {
                item.priority = integer_at(column, i)
                    .map_err(|v| {
                        format!("\"priority\" {v} is too large; use an integer below 2^63")
                    })?
                    .unwrap_or(0);
            }
            Role::Sensitivity => {
                let v = to_json(column, i).map_err(|e| format!("column \"sensitivity\": {e}"))?;
                item.sensitivity = super::sensitivity_from(&v)?;
            }
            Role::Data => {
                let value = match string_at(column, i) {
                    Some(text) => serde_json::from_str(text).map_err(|e| {
                        format!(
                            "column \"data\" must hold a JSON object, but it is not valid JSON: {e}"
                        )
                    })?,
                    None => to_json(column, i)?,
                };
                match value {
                    Value::Object(m) => data_column = Some(m),
                    other => {
                        return Err(format!(
                            "column \"data\" must hold a JSON object, found {}",
                            json_kind(&other)
                        ));
                    }
                }
            }
            Role::Field => {
                let v = to_json(column, i).map_err(|e| format!("column \"{name}\": {e}"))?;
                data.insert(name.clone(), v);
            }
        }
    }
    if let Some(extra) = data_column {
        merge_data_object(&mut data, extra)?;
    }
    let size = json_size(&data);
    if size > limit as u64 {
        return Err(format!(
            "the row's data is {size} bytes as JSON, over the limit of {limit} bytes; \
             make the item smaller (e.g. store large content as a URL)"
        ));
    }
    item.data = data;
    Ok(item)
}

/// Runs a call into the parquet crate, turning a panic into an error message.
///
/// parquet 60 still panics on some corrupt files (e.g. "column start and length should not be
/// negative" from a damaged footer, found by this crate's property tests), and an upload must
/// never take down the thread that reads it. The reader is not touched again after a panic:
/// the iterator ends right after reporting it.
fn guard<T>(f: impl FnOnce() -> T) -> Result<T, String> {
    std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)).map_err(|payload| {
        let what = payload
            .downcast_ref::<&str>()
            .map(|s| (*s).to_owned())
            .or_else(|| payload.downcast_ref::<String>().cloned())
            .unwrap_or_else(|| "unknown failure".to_owned());
        format!("the Parquet file is corrupt ({what})")
    })
}

/// Length of the compact JSON form, without building it.
fn json_size(data: &Map<String, Value>) -> u64 {
    struct Count(u64);
    impl std::io::Write for Count {
        fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
            self.0 += buf.len() as u64;
            Ok(buf.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }
    let mut c = Count(0);
    // Writing a Map of Values to a sink that never fails cannot fail.
    let _ = serde_json::to_writer(&mut c, data);
    c.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use arrow_array::builder::{
        Float64Builder, Int32Builder, ListBuilder, StringBuilder, StringDictionaryBuilder,
    };
    use arrow_array::types::Int32Type;
    use arrow_array::{
        ArrayRef, BinaryArray, BooleanArray, Date32Array, Float64Array, Int32Array, Int64Array,
        StringArray, StructArray, TimestampMillisecondArray, UInt64Array,
    };
    use arrow_schema::{DataType, Field};
    use parquet::arrow::ArrowWriter;
    use parquet::file::properties::WriterProperties;
    use serde_json::json;
    use std::sync::Arc;

    /// Writes `columns` to a temporary Parquet file with two rows per row group.
    fn write(columns: Vec<(&str, ArrayRef)>) -> tempfile::NamedTempFile {
        let batch = RecordBatch::try_from_iter(columns).unwrap();
        let file = tempfile::NamedTempFile::new().unwrap();
        let props = WriterProperties::builder()
            .set_max_row_group_row_count(Some(2))
            .build();
        let mut w =
            ArrowWriter::try_new(file.reopen().unwrap(), batch.schema(), Some(props)).unwrap();
        w.write(&batch).unwrap();
        w.close().unwrap();
        file
    }

    fn read(
        file: &tempfile::NamedTempFile,
        limits: &ReadLimits,
    ) -> Vec<Result<RawItem, LineError>> {
        read_parquet(file.reopen().unwrap(), limits)
            .unwrap()
            .collect()
    }

    fn read_err(file: &tempfile::NamedTempFile) -> String {
        match read_parquet(file.reopen().unwrap(), &ReadLimits::default()) {
            Ok(_) => panic!("expected the file to be refused"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn round_trip_with_nested_types() {
        let mut tags = ListBuilder::new(StringBuilder::new());
        tags.values().append_value("x");
        tags.values().append_value("y");
        tags.append(true);
        tags.append(true); // empty list
        tags.append(false); // null
        tags.values().append_value("日本");
        tags.values().append_null();
        tags.append(true);
        let mut cats = StringDictionaryBuilder::<Int32Type>::new();
        for c in ["cat", "dog", "cat", "dog"] {
            cats.append_value(c);
        }
        let mut nested = ListBuilder::new(Float64Builder::new());
        nested.values().append_value(1.5);
        nested.append(true);
        for _ in 0..3 {
            nested.append(true);
        }
        let meta = StructArray::from(vec![
            (
                Arc::new(Field::new("a", DataType::Int32, true)),
                Arc::new(Int32Array::from(vec![Some(1), None, Some(3), Some(4)])) as ArrayRef,
            ),
            (
                Arc::new(Field::new(
                    "b",
                    DataType::List(Arc::new(Field::new_list_field(DataType::Float64, true))),
                    true,
                )),
                Arc::new(nested.finish()) as ArrayRef,
            ),
        ]);
        let mut ids = Int32Builder::new();
        ids.append_slice(&[1, 2]);
        ids.append_null();
        ids.append_value(4);
        let file = write(vec![
            ("id", Arc::new(ids.finish()) as ArrayRef),
            (
                "priority",
                Arc::new(Int64Array::from(vec![Some(5), None, Some(-1), Some(0)])),
            ),
            (
                "text",
                Arc::new(StringArray::from(vec![
                    Some("héllo 🎉"),
                    Some(""),
                    None,
                    Some("d"),
                ])),
            ),
            (
                "score",
                Arc::new(Float64Array::from(vec![0.5, f64::NAN, 2.0, -1.25])),
            ),
            (
                "ok",
                Arc::new(BooleanArray::from(vec![
                    Some(true),
                    Some(false),
                    None,
                    Some(true),
                ])),
            ),
            ("big", Arc::new(UInt64Array::from(vec![u64::MAX, 0, 1, 2]))),
            ("tags", Arc::new(tags.finish())),
            ("meta", Arc::new(meta)),
            ("animal", Arc::new(cats.finish())),
            (
                "when",
                Arc::new(
                    TimestampMillisecondArray::from(vec![1_700_000_000_123, 0, 1, 2])
                        .with_timezone("UTC"),
                ),
            ),
            ("day", Arc::new(Date32Array::from(vec![19_000, 0, 1, 2]))),
            (
                "data",
                Arc::new(StringArray::from(vec![
                    Some(r#"{"extra":{"deep":[1,{"k":null}]}}"#),
                    None,
                    Some("{}"),
                    Some(r#"{"x":1}"#),
                ])),
            ),
        ]);
        let items: Vec<RawItem> = read(&file, &ReadLimits::default())
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 4);
        assert_eq!(
            items.iter().map(|i| i.line).collect::<Vec<_>>(),
            [1, 2, 3, 4]
        );
        let first = &items[0];
        assert_eq!(first.external_id.as_deref(), Some("1"));
        assert_eq!(first.priority, 5);
        assert_eq!(
            Value::Object(first.data.clone()),
            json!({
                "text": "héllo 🎉",
                "score": 0.5,
                "ok": true,
                "big": u64::MAX,
                "tags": ["x", "y"],
                "meta": {"a": 1, "b": [1.5]},
                "animal": "cat",
                "when": "2023-11-14T22:13:20.123Z",
                "day": "2022-01-08",
                "extra": {"deep": [1, {"k": null}]},
            })
        );
        // Key order follows the file's column order, then the data column's keys.
        let keys: Vec<&str> = first.data.keys().map(String::as_str).collect();
        assert_eq!(keys[0], "text");
        assert_eq!(keys[keys.len() - 1], "extra");
        let second = &items[1];
        assert_eq!(second.priority, 0);
        assert_eq!(second.data["text"], json!(""));
        assert_eq!(second.data["score"], Value::Null); // NaN
        assert_eq!(second.data["tags"], json!([]));
        assert_eq!(second.data["meta"], json!({"a": null, "b": []}));
        assert_eq!(second.data["when"], json!("1970-01-01T00:00:00Z"));
        let third = &items[2];
        assert_eq!(third.external_id, None);
        assert_eq!(third.priority, -1);
        // Null top-level cells are omitted.
        assert!(!third.data.contains_key("text"));
        assert!(!third.data.contains_key("ok"));
        assert!(!third.data.contains_key("tags"));
        assert_eq!(items[3].data["tags"], json!(["日本", null]));
        assert_eq!(items[3].data["x"], json!(1));
        assert_eq!(items[3].gold, None);
    }

    #[test]
    fn bad_rows_are_reported_and_reading_continues() {
        let file = write(vec![
            (
                "id",
                Arc::new(StringArray::from(vec!["a", "", "c", "d", "e"])) as ArrayRef,
            ),
            (
                "text",
                Arc::new(StringArray::from(vec!["t", "t", "t", "t", "t"])),
            ),
            (
                "data",
                Arc::new(StringArray::from(vec![
                    r#"{"n":1}"#,
                    "{}",
                    "[1]",
                    "{oops",
                    r#"{"text":"again"}"#,
                ])),
            ),
        ]);
        let r = read(&file, &ReadLimits::default());
        assert_eq!(r.len(), 5);
        assert_eq!(r[0].as_ref().unwrap().data["n"], json!(1));
        let err = |k: usize| r[k].as_ref().unwrap_err().to_string();
        assert!(err(1).starts_with("line 2: \"id\" must not be empty"));
        assert_eq!(
            err(2),
            "line 3: column \"data\" must hold a JSON object, found an array"
        );
        assert!(err(3).starts_with(
            "line 4: column \"data\" must hold a JSON object, but it is not valid JSON"
        ));
        assert!(err(4).starts_with("line 5: the \"data\" column sets \"text\""));
    }

    #[test]
    fn row_over_the_limit() {
        let file = write(vec![(
            "text",
            Arc::new(StringArray::from(vec!["short", &"x".repeat(100), "ok"])) as ArrayRef,
        )]);
        let r = read(&file, &ReadLimits { max_line_bytes: 50 });
        assert!(r[0].is_ok());
        assert_eq!(
            r[1].as_ref().unwrap_err().to_string(),
            "line 2: the row's data is 111 bytes as JSON, over the limit of 50 bytes; \
             make the item smaller (e.g. store large content as a URL)"
        );
        assert!(r[2].is_ok());
    }

    #[test]
    fn struct_data_column_is_merged() {
        let data = StructArray::from(vec![(
            Arc::new(Field::new("label", DataType::Utf8, true)),
            Arc::new(StringArray::from(vec!["a"])) as ArrayRef,
        )]);
        let file = write(vec![("data", Arc::new(data) as ArrayRef)]);
        let r = read(&file, &ReadLimits::default());
        assert_eq!(
            Value::Object(r[0].as_ref().unwrap().data.clone()),
            json!({"label":"a"})
        );
    }

    #[test]
    fn unusable_schemas_are_refused_up_front() {
        let binary = write(vec![(
            "blob",
            Arc::new(BinaryArray::from(vec![&b"x"[..]])) as ArrayRef,
        )]);
        assert!(
            read_err(&binary)
                .starts_with("unsupported file: column \"blob\": type Binary is not supported")
        );
        let float_id = write(vec![(
            "id",
            Arc::new(Float64Array::from(vec![1.0])) as ArrayRef,
        )]);
        assert_eq!(
            read_err(&float_id),
            "unsupported file: column \"id\" must hold strings or integers, found Float64"
        );
        let text_priority = write(vec![(
            "priority",
            Arc::new(StringArray::from(vec!["high"])) as ArrayRef,
        )]);
        assert_eq!(
            read_err(&text_priority),
            "unsupported file: column \"priority\" must hold integers, found Utf8"
        );
        let number_data = write(vec![(
            "data",
            Arc::new(Int32Array::from(vec![1])) as ArrayRef,
        )]);
        assert!(read_err(&number_data).contains("column \"data\" must hold JSON text or a struct"));
    }

    #[test]
    fn not_a_parquet_file() {
        let mut file = tempfile::NamedTempFile::new().unwrap();
        std::io::Write::write_all(&mut file, b"id,text\n1,a\n").unwrap();
        assert!(read_err(&file).starts_with("Parquet error:"));
    }
}
