//! Parquet export: one row per item, written a row group at a time.

use std::io::Write;
use std::sync::Arc;

use arrow_array::builder::StringBuilder;
use arrow_array::{ArrayRef, ListArray, RecordBatch, StructArray, TimestampMicrosecondArray};
use arrow_buffer::{OffsetBuffer, ScalarBuffer};
use arrow_schema::{DataType, Field, FieldRef, Fields, Schema, SchemaRef, TimeUnit};
use parquet::arrow::ArrowWriter;
use parquet::basic::Compression;
use parquet::file::properties::WriterProperties;

use super::{ExportAnnotation, ExportItem};
use crate::FormatError;

/// Hard cap on buffered bytes per row group, whatever the options say: Arrow string columns
/// use 32-bit offsets, so one column of one batch must stay under 2 GiB.
const HARD_MAX_GROUP_BYTES: usize = 1 << 30;

/// When [`ParquetExportWriter`] closes a row group. Whichever limit is reached first wins.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParquetExportOptions {
    /// Most items per row group. Default 16 384: row groups large enough for efficient
    /// column reads, small enough that a streaming export sends bytes regularly.
    pub max_rows_per_group: usize,
    /// Most buffered bytes (approximate size of the row group's strings before encoding) per
    /// row group. Default 32 MiB, which bounds the writer's memory (roughly twice this at the
    /// moment a row group is encoded) whatever the item size. Capped at 1 GiB.
    pub max_bytes_per_group: usize,
}

impl Default for ParquetExportOptions {
    fn default() -> Self {
        Self {
            max_rows_per_group: 16 * 1024,
            max_bytes_per_group: 32 << 20,
        }
    }
}

/// Writes the Parquet export: one row per item, Snappy-compressed.
///
/// Schema (JSON values are stored as JSON text, since their shape varies by project):
///
/// | column | type |
/// |---|---|
/// | `id` | utf8 |
/// | `data` | utf8, JSON object |
/// | `annotations` | list of struct { `annotation_id` utf8, `annotator` utf8, `answers` utf8 JSON, `submitted_at` timestamp(µs, UTC), `extra` utf8 JSON object or null } |
/// | `aggregate` | utf8, JSON object |
/// | `extra` | utf8 JSON object, or null when the item has no extra keys |
///
/// The two `extra` columns carry [`ExportItem::extra`] and [`ExportAnnotation::extra`] (e.g.
/// `guideline_version`) so that nothing in the JSONL export is lost here.
///
/// Rows are buffered and written as a row group every
/// [`max_rows_per_group`](ParquetExportOptions::max_rows_per_group) items or
/// [`max_bytes_per_group`](ParquetExportOptions::max_bytes_per_group) bytes; the footer is written
/// by [`finish`](Self::finish), and a file without it is unreadable.
///
/// # Streaming
/// Write into a `Vec<u8>` and call [`take_bytes`](ParquetExportWriter::take_bytes) after each
/// [`write_item`](Self::write_item): it returns the finished row groups' bytes (often empty, since
/// bytes only appear when a row group is closed), and after [`finish`](Self::finish) the rest,
/// footer included. Draining is safe because parquet tracks file offsets itself rather than
/// from the buffer's length. [`flush_row_group`](Self::flush_row_group) closes a row group early,
/// e.g. to send something on a slow export.
pub struct ParquetExportWriter<W: Write + Send> {
    writer: ArrowWriter<W>,
    schema: SchemaRef,
    annotation_fields: Fields,
    annotation_item: FieldRef,
    options: ParquetExportOptions,
    ids: StringBuilder,
    data: StringBuilder,
    aggregate: StringBuilder,
    extra: StringBuilder,
    offsets: Vec<i32>,
    annotation_ids: StringBuilder,
    annotators: StringBuilder,
    answers: StringBuilder,
    submitted_at: Vec<i64>,
    annotation_extra: StringBuilder,
    rows: usize,
    bytes: usize,
    /// Every JSON text of the current item, back to back; `spans` indexes it.
    scratch: Vec<u8>,
    spans: Vec<(usize, usize)>,
    items: u64,
    annotations: u64,
}

impl<W: Write + Send> std::fmt::Debug for ParquetExportWriter<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParquetExportWriter")
            .field("options", &self.options)
            .field("buffered_rows", &self.rows)
            .field("items", &self.items)
            .finish_non_exhaustive()
    }
}

impl<W: Write + Send> ParquetExportWriter<W> {
    /// Starts an export into `w` with the default [`ParquetExportOptions`]. Writes the file's
    /// magic bytes at once.
    pub fn new(w: W) -> Result<Self, FormatError> {
        Self::with_options(w, ParquetExportOptions::default())
    }

    /// Starts an export into `w` with explicit row-group limits.
    pub fn with_options(w: W, options: ParquetExportOptions) -> Result<Self, FormatError> {
        let schema = Self::schema();
        let DataType::List(annotation_item) = schema.field(2).data_type().clone() else {
            unreachable!("the annotations column is a list")
        };
        let DataType::Struct(annotation_fields) = annotation_item.data_type().clone() else {
            unreachable!("annotations are structs")
        };
        let props = WriterProperties::builder()
            .set_compression(Compression::SNAPPY)
            .build();
        let writer = ArrowWriter::try_new(w, schema.clone(), Some(props))?;
        Ok(Self {
            writer,
            schema,
            annotation_fields,
            annotation_item,
            options,
            ids: StringBuilder::new(),
            data: StringBuilder::new(),
            aggregate: StringBuilder::new(),
            extra: StringBuilder::new(),
            offsets: vec![0],
            annotation_ids: StringBuilder::new(),
            annotators: StringBuilder::new(),
            answers: StringBuilder::new(),
            submitted_at: Vec::new(),
            annotation_extra: StringBuilder::new(),
            rows: 0,
            bytes: 0,
            scratch: Vec::new(),
            spans: Vec::new(),
            items: 0,
            annotations: 0,
        })
    }

    /// The Arrow schema of the export file (see the type's docs), e.g. for documentation or
    /// to check a file read back.
    pub fn schema() -> SchemaRef {
        let utf8 = |name: &str, nullable| Field::new(name, DataType::Utf8, nullable);
        let annotation = Fields::from(vec![
            utf8("annotation_id", false),
            utf8("annotator", false),
            utf8("answers", false),
            Field::new(
                "submitted_at",
                DataType::Timestamp(TimeUnit::Microsecond, Some("UTC".into())),
                false,
            ),
            utf8("extra", true),
        ]);
        Arc::new(Schema::new(vec![
            utf8("id", false),
            utf8("data", false),
            Field::new(
                "annotations",
                DataType::List(Arc::new(Field::new(
                    "item",
                    DataType::Struct(annotation),
                    false,
                ))),
                false,
            ),
            utf8("aggregate", false),
            utf8("extra", true),
        ]))
    }

    /// Buffers one item as one row, closing a row group when a limit is reached. An item with an
    /// invalid `submitted_at` is refused whole (nothing of it is buffered) and the export can
    /// go on.
    pub fn write_item(&mut self, item: &ExportItem) -> Result<(), FormatError> {
        // Convert and serialize everything first, so a failure leaves the columns aligned.
        let first_stamp = self.submitted_at.len();
        for a in &item.annotations {
            match parse_timestamp(&a.submitted_at) {
                Ok(t) => self.submitted_at.push(t),
                Err(e) => {
                    self.submitted_at.truncate(first_stamp);
                    return Err(FormatError::InvalidRecord(format!(
                        "item \"{}\", annotation \"{}\": submitted_at \"{}\" is not an RFC 3339 \
                         timestamp ({e})",
                        item.id, a.annotation_id, a.submitted_at
                    )));
                }
            }
        }
        self.scratch.clear();
        self.spans.clear();
        let res = self.serialize_json(item);
        if let Err(e) = res {
            self.submitted_at.truncate(first_stamp);
            return Err(e);
        }
        let text = match std::str::from_utf8(&self.scratch) {
            Ok(t) => t,
            Err(e) => {
                self.submitted_at.truncate(first_stamp);
                return Err(FormatError::InvalidRecord(e.to_string()));
            }
        };
        let span = |k: usize| {
            let (a, b) = self.spans[k];
            &text[a..b]
        };
        self.ids.append_value(&item.id);
        self.data.append_value(span(0));
        self.aggregate.append_value(span(1));
        if item.extra.is_empty() {
            self.extra.append_null();
        } else {
            self.extra.append_value(span(2));
        }
        for (k, a) in item.annotations.iter().enumerate() {
            self.annotation_ids.append_value(&a.annotation_id);
            self.annotators.append_value(&a.annotator);
            self.answers.append_value(span(3 + 2 * k));
            if a.extra.is_empty() {
                self.annotation_extra.append_null();
            } else {
                self.annotation_extra.append_value(span(4 + 2 * k));
            }
            self.bytes += a.annotation_id.len() + a.annotator.len() + 8;
        }
        let last = *self.offsets.last().unwrap_or(&0);
        self.offsets.push(last + item.annotations.len() as i32);
        self.bytes += item.id.len() + self.scratch.len();
        self.rows += 1;
        self.items += 1;
        self.annotations += item.annotations.len() as u64;
        let max_bytes = self.options.max_bytes_per_group.min(HARD_MAX_GROUP_BYTES);
        if self.rows >= self.options.max_rows_per_group.max(1) || self.bytes >= max_bytes {
            self.flush_row_group()?;
        }
        Ok(())
    }

    /// Serializes the item's JSON texts into `scratch`: data, aggregate, extra, then answers and
    /// extra per annotation.
    fn serialize_json(&mut self, item: &ExportItem) -> Result<(), FormatError> {
        fn push(
            scratch: &mut Vec<u8>,
            spans: &mut Vec<(usize, usize)>,
            v: &impl serde::Serialize,
        ) -> Result<(), FormatError> {
            let start = scratch.len();
            serde_json::to_writer(&mut *scratch, v)?;
            spans.push((start, scratch.len()));
            Ok(())
        }
        push(&mut self.scratch, &mut self.spans, &item.data)?;
        push(&mut self.scratch, &mut self.spans, &item.aggregate)?;
        push(&mut self.scratch, &mut self.spans, &item.extra)?;
        for a in &item.annotations {
            let ExportAnnotation { answers, extra, .. } = a;
            push(&mut self.scratch, &mut self.spans, answers)?;
            push(&mut self.scratch, &mut self.spans, extra)?;
        }
        Ok(())
    }

    /// Writes the buffered rows as a row group now (a no-op when none are buffered).
    pub fn flush_row_group(&mut self) -> Result<(), FormatError> {
        if self.rows == 0 {
            return Ok(());
        }
        let stamps = std::mem::take(&mut self.submitted_at);
        let annotations = StructArray::try_new(
            self.annotation_fields.clone(),
            vec![
                Arc::new(self.annotation_ids.finish()) as ArrayRef,
                Arc::new(self.annotators.finish()),
                Arc::new(self.answers.finish()),
                Arc::new(TimestampMicrosecondArray::from(stamps).with_timezone("UTC")),
                Arc::new(self.annotation_extra.finish()),
            ],
            None,
        )?;
        let offsets = std::mem::replace(&mut self.offsets, vec![0]);
        let list = ListArray::try_new(
            self.annotation_item.clone(),
            OffsetBuffer::new(ScalarBuffer::from(offsets)),
            Arc::new(annotations),
            None,
        )?;
        let batch = RecordBatch::try_new(
            self.schema.clone(),
            vec![
                Arc::new(self.ids.finish()) as ArrayRef,
                Arc::new(self.data.finish()),
                Arc::new(list),
                Arc::new(self.aggregate.finish()),
                Arc::new(self.extra.finish()),
            ],
        )?;
        self.rows = 0;
        self.bytes = 0;
        self.writer.write(&batch)?;
        self.writer.flush()?;
        Ok(())
    }

    /// Items written so far, for progress reports.
    pub fn items_written(&self) -> u64 {
        self.items
    }

    /// Annotations written so far, for progress reports.
    pub fn annotations_written(&self) -> u64 {
        self.annotations
    }

    /// The underlying writer. Bytes of closed row groups may still sit in parquet's internal
    /// 8 KiB buffer; [`take_bytes`](ParquetExportWriter::take_bytes) handles that for `Vec<u8>`.
    pub fn get_ref(&self) -> &W {
        self.writer.inner()
    }

    /// The underlying writer, to take bytes out of it (e.g. drain a buffer). Never write to it:
    /// the footer's offsets would no longer match the file.
    pub fn get_mut(&mut self) -> &mut W {
        self.writer.inner_mut()
    }

    /// Writes the buffered rows and the footer, and returns the underlying writer (flushed).
    pub fn finish(mut self) -> Result<W, FormatError> {
        self.flush_row_group()?;
        let mut w = self.writer.into_inner()?;
        w.flush()?;
        Ok(w)
    }
}

impl ParquetExportWriter<Vec<u8>> {
    /// Takes every byte of the file written so far, leaving the buffer empty: the way to stream
    /// the export in chunks. The concatenation of all chunks and the `Vec` returned by
    /// [`finish`](Self::finish) is the complete file.
    pub fn take_bytes(&mut self) -> Result<Vec<u8>, FormatError> {
        self.writer.sync()?;
        Ok(std::mem::take(self.writer.inner_mut()))
    }
}

/// RFC 3339 text to microseconds since the epoch (any offset is converted to UTC).
fn parse_timestamp(s: &str) -> Result<i64, chrono::ParseError> {
    Ok(chrono::DateTime::parse_from_rfc3339(s)?.timestamp_micros())
}

#[cfg(test)]
mod tests {
    use super::super::test_data;
    use super::*;
    use arrow_array::Array;
    use arrow_array::cast::AsArray;
    use arrow_array::types::TimestampMicrosecondType;
    use parquet::arrow::arrow_reader::ParquetRecordBatchReaderBuilder;
    use serde_json::json;

    /// Reads an export file back into items with parquet's own Arrow reader.
    fn read_back(bytes: Vec<u8>) -> (Vec<ExportItem>, usize) {
        let builder = ParquetRecordBatchReaderBuilder::try_new(bytes::Bytes::from(bytes)).unwrap();
        assert_eq!(
            builder.schema().fields(),
            ParquetExportWriter::<Vec<u8>>::schema().fields()
        );
        let groups = builder.metadata().num_row_groups();
        let mut out = Vec::new();
        for batch in builder.build().unwrap() {
            let batch = batch.unwrap();
            let ids = batch.column(0).as_string::<i32>();
            let data = batch.column(1).as_string::<i32>();
            let anns = batch.column(2).as_list::<i32>();
            let agg = batch.column(3).as_string::<i32>();
            let extra = batch.column(4).as_string::<i32>();
            for i in 0..batch.num_rows() {
                let a = anns.value(i);
                let a = a.as_struct();
                let mut annotations = Vec::new();
                for j in 0..a.len() {
                    let stamp = a
                        .column(3)
                        .as_primitive::<TimestampMicrosecondType>()
                        .value(j);
                    let ann_extra = a.column(4).as_string::<i32>();
                    annotations.push(ExportAnnotation {
                        annotation_id: a.column(0).as_string::<i32>().value(j).into(),
                        annotator: a.column(1).as_string::<i32>().value(j).into(),
                        answers: serde_json::from_str(a.column(2).as_string::<i32>().value(j))
                            .unwrap(),
                        submitted_at: chrono::DateTime::from_timestamp_micros(stamp)
                            .unwrap()
                            .to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
                        extra: if ann_extra.is_null(j) {
                            Default::default()
                        } else {
                            serde_json::from_str(ann_extra.value(j)).unwrap()
                        },
                    });
                }
                out.push(ExportItem {
                    id: ids.value(i).into(),
                    data: serde_json::from_str(data.value(i)).unwrap(),
                    annotations,
                    aggregate: serde_json::from_str(agg.value(i)).unwrap(),
                    extra: if extra.is_null(i) {
                        Default::default()
                    } else {
                        serde_json::from_str(extra.value(i)).unwrap()
                    },
                });
            }
        }
        (out, groups)
    }

    /// The items with `submitted_at` normalised to UTC, as the Parquet timestamp stores it.
    fn expected() -> Vec<ExportItem> {
        let mut items = test_data::items();
        items[0].annotations[1].submitted_at = "2026-01-02T03:04:05Z".into();
        items
    }

    #[test]
    fn round_trip_through_parquets_arrow_reader() {
        let mut w = ParquetExportWriter::new(Vec::new()).unwrap();
        for item in &test_data::items() {
            w.write_item(item).unwrap();
        }
        assert_eq!(w.items_written(), 3);
        let (back, groups) = read_back(w.finish().unwrap());
        assert_eq!(groups, 1);
        assert_eq!(back, expected());
        assert_eq!(
            back[1].annotations[0].answers["note"],
            json!("comma, \"quote\"\nnewline")
        );
    }

    #[test]
    fn row_groups_and_draining_give_the_same_file() {
        let items: Vec<ExportItem> = (0..10).flat_map(|_| test_data::items()).collect();
        let options = ParquetExportOptions {
            max_rows_per_group: 4,
            ..Default::default()
        };
        let mut w = ParquetExportWriter::with_options(Vec::new(), options).unwrap();
        let mut streamed = Vec::new();
        let mut chunks = 0;
        for item in &items {
            w.write_item(item).unwrap();
            let chunk = w.take_bytes().unwrap();
            if !chunk.is_empty() {
                chunks += 1;
            }
            streamed.extend(chunk);
        }
        streamed.extend(w.finish().unwrap());
        assert!(
            chunks >= 7,
            "row groups should reach the buffer as they close: {chunks}"
        );
        let (back, groups) = read_back(streamed);
        assert_eq!(groups, 8);
        let want: Vec<ExportItem> = (0..10).flat_map(|_| expected()).collect();
        assert_eq!(back, want);
    }

    #[test]
    fn bad_timestamp_refuses_the_item_only() {
        let mut w = ParquetExportWriter::new(Vec::new()).unwrap();
        let mut bad = test_data::items().remove(0);
        bad.annotations[1].submitted_at = "yesterday".into();
        let e = w.write_item(&bad).unwrap_err().to_string();
        assert!(
            e.starts_with("invalid export record: item \"it-1\", annotation \"an-2\": submitted_at \"yesterday\" is not an RFC 3339 timestamp"),
            "{e}"
        );
        for item in &test_data::items() {
            w.write_item(item).unwrap();
        }
        let (back, _) = read_back(w.finish().unwrap());
        assert_eq!(back, expected());
    }

    #[test]
    fn empty_export_is_a_valid_file() {
        let w = ParquetExportWriter::new(Vec::new()).unwrap();
        let (back, groups) = read_back(w.finish().unwrap());
        assert!(back.is_empty());
        assert_eq!(groups, 0);
    }
}
