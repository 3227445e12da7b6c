//! Exports: every item with its annotations and the aggregated answers, streamed page by page.
//!
//! Items are read in pages by id (a key walk, never `OFFSET`), turned into [`ExportItem`]s and written by the
//! format's writer into a buffer that is handed out after each page, so memory stays flat whatever the size of
//! the project. Annotators appear under a pseudonym that is a keyed hash per project (see
//! [`fairloop_domain::pseudonym`]).

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use fairloop_domain::ProjectId;
use fairloop_domain::pseudonym::annotator_pseudonym;
use fairloop_domain::template::{TaskTemplate, majority_answer};
use fairloop_domain::time::to_rfc3339;
use fairloop_formats::{
    CsvExportWriter, ExportAnnotation, ExportItem, JsonlExportWriter, ParquetExportWriter,
};
use fairloop_store::quality::ItemQualityView;
use fairloop_store::{ExportRow, Principal};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Items per page read from the store.
const PAGE: i64 = 2000;

/// The CSV columns that carry an item's stored aggregate after the question columns (question names cannot
/// contain a dot, so these never collide with one).
pub const CSV_QUALITY_COLUMNS: [&str; 3] =
    ["quality.answer", "quality.confidence", "quality.agreement"];

/// Export choices beyond the format.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExportOptions {
    /// Include gold items (with their `"gold"` answer in JSONL and Parquet `extra`). Off by default: gold items
    /// are quality checks, not data.
    pub include_gold: bool,
}

/// One page of stored rows with their stored aggregates and gold answers.
type Page = (
    Vec<ExportRow>,
    HashMap<i64, ItemQualityView>,
    HashMap<i64, String>,
);

/// The `"quality"` value of an export line: the stored aggregate, or `null` before the quality job saw the item.
fn quality_value(q: Option<&ItemQualityView>) -> Value {
    match q {
        None => Value::Null,
        Some(q) => serde_json::json!({
            "answer": q.answer.as_deref().and_then(|a| serde_json::from_str::<Value>(a).ok()),
            "confidence": q.confidence,
            "agreement": q.agreement,
            "method": q.method,
        }),
    }
}

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per item per line.
    Jsonl,
    /// One row per item, annotations as a nested list.
    Parquet,
    /// One row per annotation; only for templates whose answers are flat.
    Csv,
    /// COCO JSON: images, boxes, polygons and keypoints in pixels (see [`crate::media_export`]).
    Coco,
    /// A ZIP of YOLO label files with `data.yaml` (see [`crate::media_export`]).
    Yolo,
    /// One JSON line per item with its videos' events and tracks, frame numbers included.
    VideoJsonl,
}

impl ExportFormat {
    /// Parses the `format` parameter.
    pub fn parse(s: &str) -> AppResult<ExportFormat> {
        match s {
            "jsonl" => Ok(ExportFormat::Jsonl),
            "parquet" => Ok(ExportFormat::Parquet),
            "csv" => Ok(ExportFormat::Csv),
            "coco" => Ok(ExportFormat::Coco),
            "yolo" => Ok(ExportFormat::Yolo),
            "video_jsonl" => Ok(ExportFormat::VideoJsonl),
            other => Err(AppError::bad_request(
                "invalid_format",
                format!(
                    "format must be one of jsonl, parquet, csv, coco, yolo, video_jsonl; got {other:?}"
                ),
            )),
        }
    }

    /// The HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "application/x-ndjson",
            ExportFormat::Parquet => "application/vnd.apache.parquet",
            ExportFormat::Csv => "text/csv; charset=utf-8",
            ExportFormat::Coco => "application/json",
            ExportFormat::Yolo => "application/zip",
            ExportFormat::VideoJsonl => "application/x-ndjson",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
            ExportFormat::Coco => "coco.json",
            ExportFormat::Yolo => "yolo.zip",
            ExportFormat::VideoJsonl => "video.jsonl",
        }
    }

    /// The name of the format as the `format` parameter spells it.
    pub fn name(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
            ExportFormat::Coco => "coco",
            ExportFormat::Yolo => "yolo",
            ExportFormat::VideoJsonl => "video_jsonl",
        }
    }
}

/// Counts of a running export, for progress bars.
#[derive(Debug, Default)]
pub struct ExportProgress {
    /// Items written so far.
    pub items: AtomicU64,
    /// Annotations written so far.
    pub annotations: AtomicU64,
}

/// A format writer behind one interface, so the page loop is written once.
enum Writer {
    Jsonl(JsonlExportWriter<Vec<u8>>),
    Parquet(Box<ParquetExportWriter<Vec<u8>>>),
    Csv(CsvExportWriter<Vec<u8>>),
}

impl Writer {
    fn write(&mut self, item: &ExportItem) -> AppResult<()> {
        let r = match self {
            Writer::Jsonl(w) => w.write_item(item),
            Writer::Parquet(w) => w.write_item(item),
            Writer::Csv(w) => w.write_item(item),
        };
        r.map_err(|e| AppError::Internal(format!("export writer: {e}")))
    }

    fn take(&mut self) -> AppResult<Vec<u8>> {
        match self {
            Writer::Jsonl(w) => Ok(w.take_bytes()),
            Writer::Parquet(w) => w
                .take_bytes()
                .map_err(|e| AppError::Internal(format!("parquet writer: {e}"))),
            Writer::Csv(w) => Ok(w.take_bytes()),
        }
    }

    fn finish(self) -> AppResult<Vec<u8>> {
        let r = match self {
            Writer::Jsonl(w) => w.finish(),
            Writer::Parquet(w) => w.finish(),
            Writer::Csv(w) => w.finish(),
        };
        r.map_err(|e| AppError::Internal(format!("export writer: {e}")))
    }
}

/// Turns stored rows into export records: pseudonyms, parsed JSON, majority answers.
struct Shaper {
    project: ProjectId,
    key: Vec<u8>,
    template: Arc<TaskTemplate>,
    majority: Vec<String>,
    pseudonyms: HashMap<i64, String>,
    csv: bool,
    /// The project's guideline versions as (published at, version), oldest first: an annotation was made
    /// under the latest one published before it was submitted.
    guidelines: Vec<(i64, i64)>,
}

impl Shaper {
    fn shape(
        &mut self,
        row: ExportRow,
        quality: Option<&ItemQualityView>,
        gold: Option<&String>,
    ) -> ExportItem {
        let quality = quality_value(quality);
        let mut annotations = Vec::with_capacity(row.annotations.len());
        for a in row.annotations {
            let (project, key) = (self.project, &self.key);
            let annotator = self
                .pseudonyms
                .entry(a.worker_id)
                .or_insert_with(|| annotator_pseudonym(key, project, a.worker_id))
                .clone();
            let mut extra = Map::new();
            let version = self
                .guidelines
                .iter()
                .take_while(|(at, _)| *at <= a.submitted_at)
                .last()
                .map(|(_, v)| Value::from(*v));
            extra.insert("guideline_version".into(), version.unwrap_or(Value::Null));
            let mut answers: Value = serde_json::from_str(&a.answers).unwrap_or(Value::Null);
            if self.csv
                && let Value::Object(m) = &mut answers
            {
                // CSV has one row per annotation: the item's aggregate repeats on each of its rows.
                let (answer, confidence, agreement) = match &quality {
                    Value::Object(q) => (
                        q["answer"].clone(),
                        q["confidence"].clone(),
                        q["agreement"].clone(),
                    ),
                    _ => (Value::Null, Value::Null, Value::Null),
                };
                m.insert(CSV_QUALITY_COLUMNS[0].into(), answer);
                m.insert(CSV_QUALITY_COLUMNS[1].into(), confidence);
                m.insert(CSV_QUALITY_COLUMNS[2].into(), agreement);
            }
            annotations.push(ExportAnnotation {
                annotation_id: a.annotation_id.to_string(),
                annotator,
                answers,
                submitted_at: to_rfc3339(a.submitted_at),
                extra,
            });
        }
        let mut aggregate = Map::new();
        for q in &self.majority {
            let answers: Vec<&Value> = annotations
                .iter()
                .filter_map(|a| a.answers.get(q))
                .filter(|v| !v.is_null())
                .collect();
            let value = majority_answer(&self.template, q, &answers).unwrap_or(Value::Null);
            aggregate.insert(q.clone(), value);
        }
        ExportItem {
            id: row.external_id.unwrap_or_else(|| row.item_id.to_string()),
            data: serde_json::from_str(&row.data).unwrap_or(Value::Null),
            annotations,
            aggregate,
            extra: {
                let mut extra = Map::new();
                extra.insert("quality".into(), quality);
                if row.sensitivity != 0 {
                    // The item's own sensitivity categories, as in the import file (docs/wellbeing.md).
                    extra.insert(
                        "sensitivity".into(),
                        fairloop_domain::sensitivity::keys(row.sensitivity).into(),
                    );
                }
                if let Some(g) = gold {
                    extra.insert(
                        "gold".into(),
                        serde_json::from_str(g).unwrap_or(Value::Null),
                    );
                }
                extra
            },
        }
    }
}

impl App {
    /// Starts an export and returns a channel of byte chunks; checks (project, format) happen before the
    /// first byte, so an error here is a clean 4xx and not a truncated file.
    pub async fn export(
        &self,
        principal: &Principal,
        project_id: ProjectId,
        format: ExportFormat,
        progress: Arc<ExportProgress>,
    ) -> AppResult<mpsc::Receiver<AppResult<Vec<u8>>>> {
        self.export_with(
            principal,
            project_id,
            format,
            ExportOptions::default(),
            progress,
        )
        .await
    }

    /// [`App::export`] with options (gold items included or not).
    pub async fn export_with(
        &self,
        principal: &Principal,
        project_id: ProjectId,
        format: ExportFormat,
        options: ExportOptions,
        progress: Arc<ExportProgress>,
    ) -> AppResult<mpsc::Receiver<AppResult<Vec<u8>>>> {
        require_manager(principal)?;
        let project = self
            .store
            .project(principal.org_id, project_id)
            .await
            .or_not_found("project")?;
        let template = self.template_of(project.id, &project.template)?;
        if matches!(
            format,
            ExportFormat::Coco | ExportFormat::Yolo | ExportFormat::VideoJsonl
        ) {
            return self
                .export_media(principal, project, template, format, options, progress)
                .await;
        }
        let mut writer = match format {
            ExportFormat::Jsonl => Writer::Jsonl(JsonlExportWriter::new(Vec::new())),
            ExportFormat::Parquet => Writer::Parquet(Box::new(
                ParquetExportWriter::new(Vec::new())
                    .map_err(|e| AppError::Internal(format!("parquet writer: {e}")))?,
            )),
            ExportFormat::Csv => {
                if !template.has_flat_answers() {
                    return Err(AppError::bad_request(
                        "format_unsupported",
                        "CSV export needs a template whose answers are flat (choices, ratings, text); use jsonl or parquet",
                    ));
                }
                let questions = template
                    .questions
                    .iter()
                    .map(|q| q.name.clone())
                    .chain(CSV_QUALITY_COLUMNS.iter().map(|c| c.to_string()))
                    .collect();
                Writer::Csv(
                    CsvExportWriter::new(Vec::new(), questions)
                        .map_err(|e| AppError::Internal(format!("csv writer: {e}")))?,
                )
            }
            ExportFormat::Coco | ExportFormat::Yolo | ExportFormat::VideoJsonl => {
                unreachable!("media formats return above")
            }
        };
        let mut shaper = Shaper {
            project: project.id,
            key: self.store.installation_secret().await?,
            majority: template
                .majority_questions()
                .into_iter()
                .map(String::from)
                .collect(),
            template,
            pseudonyms: HashMap::new(),
            csv: format == ExportFormat::Csv,
            guidelines: {
                let mut v: Vec<(i64, i64)> = self
                    .store
                    .guideline_versions(principal.org_id, project.id)
                    .await?
                    .into_iter()
                    .map(|g| (g.created_at, g.version))
                    .collect();
                v.sort_unstable();
                v
            },
        };
        let (tx, rx) = mpsc::channel::<AppResult<Vec<u8>>>(4);
        let store = self.store.clone();
        let org = principal.org_id;
        // Reading the next page overlaps with shaping and writing this one.
        let (pages_tx, mut pages) = mpsc::channel::<AppResult<Page>>(2);
        tokio::spawn(async move {
            let mut after = 0;
            loop {
                let page = match store.export_page(org, project.id, after, PAGE).await {
                    Ok(rows) => match rows.last().map(|r| r.item_id) {
                        None => Ok((rows, HashMap::new(), HashMap::new())),
                        Some(upto) => store
                            .export_quality_page(org, project.id, after, upto)
                            .await
                            .map(|(q, g)| (rows, q, g)),
                    },
                    Err(e) => Err(e),
                }
                .map_err(AppError::from);
                let last = page
                    .as_ref()
                    .ok()
                    .and_then(|p| p.0.last())
                    .map(|r| r.item_id);
                let failed = page.is_err();
                if pages_tx.send(page).await.is_err() || failed {
                    return;
                }
                match last {
                    Some(id) => after = id,
                    None => return,
                }
            }
        });
        tokio::spawn(async move {
            while let Some(page) = pages.recv().await {
                let (page, quality, gold) = match page {
                    Ok(p) if p.0.is_empty() => break,
                    Ok(p) => p,
                    Err(e) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                };
                // Shaping and encoding are CPU work: keep them off the async workers.
                let (w, s, chunk) = match tokio::task::spawn_blocking(move || {
                    let mut counts = (0u64, 0u64);
                    for row in page {
                        let g = gold.get(&row.item_id);
                        if g.is_some() && !options.include_gold {
                            continue;
                        }
                        counts.0 += 1;
                        counts.1 += row.annotations.len() as u64;
                        let q = quality.get(&row.item_id);
                        writer.write(&shaper.shape(row, q, g))?;
                    }
                    let bytes = writer.take()?;
                    Ok::<_, AppError>((writer, shaper, (bytes, counts)))
                })
                .await
                {
                    Ok(Ok(done)) => done,
                    Ok(Err(e)) => {
                        let _ = tx.send(Err(e)).await;
                        return;
                    }
                    Err(e) => {
                        let _ = tx
                            .send(Err(AppError::Internal(format!("export task: {e}"))))
                            .await;
                        return;
                    }
                };
                (writer, shaper) = (w, s);
                let (bytes, (items, annotations)) = chunk;
                progress.items.fetch_add(items, Ordering::Relaxed);
                progress
                    .annotations
                    .fetch_add(annotations, Ordering::Relaxed);
                if !bytes.is_empty() && tx.send(Ok(bytes)).await.is_err() {
                    return; // The client went away.
                }
            }
            let tail = writer.finish();
            let _ = tx.send(tail).await;
        });
        Ok(rx)
    }
}
