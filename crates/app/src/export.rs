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
use fairloop_store::{ExportRow, Principal};
use serde_json::{Map, Value};
use tokio::sync::mpsc;

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Items per page read from the store.
const PAGE: i64 = 2000;

/// The export formats.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExportFormat {
    /// One JSON object per item per line.
    Jsonl,
    /// One row per item, annotations as a nested list.
    Parquet,
    /// One row per annotation; only for templates whose answers are flat.
    Csv,
}

impl ExportFormat {
    /// Parses the `format` parameter.
    pub fn parse(s: &str) -> AppResult<ExportFormat> {
        match s {
            "jsonl" => Ok(ExportFormat::Jsonl),
            "parquet" => Ok(ExportFormat::Parquet),
            "csv" => Ok(ExportFormat::Csv),
            other => Err(AppError::bad_request(
                "invalid_format",
                format!("format must be one of jsonl, parquet, csv; got {other:?}"),
            )),
        }
    }

    /// The HTTP content type.
    pub fn content_type(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "application/x-ndjson",
            ExportFormat::Parquet => "application/vnd.apache.parquet",
            ExportFormat::Csv => "text/csv; charset=utf-8",
        }
    }

    /// The file extension.
    pub fn extension(self) -> &'static str {
        match self {
            ExportFormat::Jsonl => "jsonl",
            ExportFormat::Parquet => "parquet",
            ExportFormat::Csv => "csv",
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
}

impl Shaper {
    fn shape(&mut self, row: ExportRow) -> ExportItem {
        let mut annotations = Vec::with_capacity(row.annotations.len());
        for a in row.annotations {
            let (project, key) = (self.project, &self.key);
            let annotator = self
                .pseudonyms
                .entry(a.worker_id)
                .or_insert_with(|| annotator_pseudonym(key, project, a.worker_id))
                .clone();
            let mut extra = Map::new();
            extra.insert("guideline_version".into(), Value::Null);
            annotations.push(ExportAnnotation {
                annotation_id: a.annotation_id.to_string(),
                annotator,
                answers: serde_json::from_str(&a.answers).unwrap_or(Value::Null),
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
            extra: Map::new(),
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
        require_manager(principal)?;
        let project = self
            .store
            .project(principal.org_id, project_id)
            .await
            .or_not_found("project")?;
        let template = self.template_of(project.id, &project.template)?;
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
                let questions = template.questions.iter().map(|q| q.name.clone()).collect();
                Writer::Csv(
                    CsvExportWriter::new(Vec::new(), questions)
                        .map_err(|e| AppError::Internal(format!("csv writer: {e}")))?,
                )
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
        };
        let (tx, rx) = mpsc::channel::<AppResult<Vec<u8>>>(4);
        let store = self.store.clone();
        let org = principal.org_id;
        // Reading the next page overlaps with shaping and writing this one.
        let (pages_tx, mut pages) = mpsc::channel::<AppResult<Vec<ExportRow>>>(2);
        tokio::spawn(async move {
            let mut after = 0;
            loop {
                let page = store
                    .export_page(org, project.id, after, PAGE)
                    .await
                    .map_err(AppError::from);
                let last = page.as_ref().ok().and_then(|p| p.last()).map(|r| r.item_id);
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
                let page = match page {
                    Ok(p) if p.is_empty() => break,
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
                        counts.0 += 1;
                        counts.1 += row.annotations.len() as u64;
                        writer.write(&shaper.shape(row))?;
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
