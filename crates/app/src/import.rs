//! Importing items from JSONL, CSV and Parquet files.
//!
//! Files are read as streams (one record at a time) on a blocking thread and written in batches, so a file of
//! millions of lines never sits in memory. Every record is checked against the project's template before it
//! is written, and every bad one is reported with its line number and reason.
//!
//! Two modes: `atomic` (the default) first validates the whole file and writes nothing if any line is bad,
//! then writes everything in one transaction; `skip` writes the good lines batch by batch and lists the bad
//! ones. In both, an item whose external id is already in the project is counted as a duplicate and left
//! untouched, so re-running an import is safe.

use std::fs::File;
use std::io::{BufReader, Read};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicU64, Ordering};

use fairloop_domain::ProjectId;
use fairloop_domain::sensitivity::{self, Mask};
use fairloop_domain::template::TaskTemplate;
use fairloop_formats::{ImportFormat, LineError, RawItem, ReadLimits};
use fairloop_store::{NewItem, Principal};
use serde::Serialize;
use tokio::sync::mpsc;

use crate::error::NotFoundAs;
use crate::media::MediaChecker;
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Items sent to the store per batch.
const BATCH: usize = 2000;
/// Longest external id accepted.
const MAX_EXTERNAL_ID: usize = 256;

/// What to do with a file that has bad lines.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ImportMode {
    /// Any bad line rejects the whole file; nothing is written.
    #[default]
    Atomic,
    /// Good lines are written, bad ones listed.
    Skip,
}

impl ImportMode {
    /// Parses the `mode` query parameter.
    pub fn parse(s: &str) -> AppResult<ImportMode> {
        match s {
            "atomic" => Ok(ImportMode::Atomic),
            "skip" => Ok(ImportMode::Skip),
            other => Err(AppError::bad_request(
                "invalid_mode",
                format!("mode must be atomic or skip, got {other:?}"),
            )),
        }
    }
}

/// One bad line as reported to the user.
#[derive(Debug, Clone, Serialize, PartialEq, Eq, utoipa::ToSchema)]
pub struct BadLine {
    /// Line (JSONL), record (CSV, header = 1) or row (Parquet) number.
    pub line: u64,
    /// Why it was rejected.
    pub message: String,
}

/// The result of an import.
#[derive(Debug, Clone, Serialize, Default, utoipa::ToSchema)]
pub struct ImportReport {
    /// New items written.
    pub imported: u64,
    /// Items whose external id was already known (left as they were).
    pub duplicates: u64,
    /// Bad lines, at most the configured number.
    pub errors: Vec<BadLine>,
    /// How many lines were bad in all.
    pub error_count: u64,
    /// True when the import was rejected as a whole (atomic mode with bad lines).
    pub rejected: bool,
}

/// Progress of a running import, for progress bars.
#[derive(Debug, Default)]
pub struct ImportProgress {
    /// Bytes of the file read in the current pass.
    pub bytes: AtomicU64,
    /// Records read in the current pass.
    pub records: AtomicU64,
    /// 0 = validating (first pass of an atomic import), 1 = writing.
    pub phase: AtomicU8,
}

/// Counts bytes as a reader is read, for progress.
struct Counting<R> {
    inner: R,
    progress: Arc<ImportProgress>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.progress.bytes.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

type Records = Box<dyn Iterator<Item = Result<RawItem, LineError>> + Send>;

fn open_records(
    path: &Path,
    format: ImportFormat,
    limits: &ReadLimits,
    progress: &Arc<ImportProgress>,
) -> AppResult<Records> {
    let file = File::open(path)
        .map_err(|e| AppError::Internal(format!("opening {}: {e}", path.display())))?;
    progress.bytes.store(0, Ordering::Relaxed);
    progress.records.store(0, Ordering::Relaxed);
    let counting = Counting {
        inner: file,
        progress: progress.clone(),
    };
    Ok(match format {
        ImportFormat::Jsonl => Box::new(fairloop_formats::read_jsonl(
            BufReader::with_capacity(1 << 16, counting),
            limits,
        )),
        ImportFormat::Csv => Box::new(fairloop_formats::read_csv(
            BufReader::with_capacity(1 << 16, counting),
            limits,
        )),
        ImportFormat::Parquet => {
            let len = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
            let records = fairloop_formats::read_parquet(counting.inner, limits).map_err(|e| {
                AppError::bad_request(
                    "invalid_file",
                    format!("the file is not a readable Parquet file: {e}"),
                )
            })?;
            progress.bytes.store(len, Ordering::Relaxed);
            Box::new(records)
        }
    })
}

/// Checks one record against the template (and its media references, when the template shows media) and
/// turns it into a row to insert; `declared` is the project's own sensitivity categories, which every item is in
/// (docs/wellbeing.md).
fn check(
    template: &TaskTemplate,
    media: Option<&mut MediaChecker>,
    raw: RawItem,
    declared: Mask,
) -> Result<NewItem, BadLine> {
    let bad = |message: String| BadLine {
        line: raw.line,
        message,
    };
    if let Some(id) = &raw.external_id
        && (id.is_empty() || id.len() > MAX_EXTERNAL_ID || id.contains('\0'))
    {
        return Err(bad(format!(
            "\"id\" must be 1 to {MAX_EXTERNAL_ID} bytes long, without NUL characters"
        )));
    }
    template
        .validate_item_data(&raw.data)
        .map_err(|e| bad(format!("data.{}: {}", e.field, e.message)))?;
    if let Some(m) = media {
        m.check(&raw.data).map_err(bad)?;
    }
    if let Some(gold) = &raw.gold {
        template.validate_answers(gold, &raw.data).map_err(|errs| {
            let list: Vec<String> = errs
                .iter()
                .map(|e| format!("{}: {}", e.question, e.message))
                .collect();
            bad(format!("gold answer is invalid: {}", list.join("; ")))
        })?;
    }
    let own = sensitivity::parse(&raw.sensitivity).map_err(|e| bad(format!("sensitivity: {e}")))?;
    Ok(NewItem {
        external_id: raw.external_id,
        data: serde_json::Value::Object(raw.data).to_string(),
        priority: raw.priority,
        gold: raw.gold.map(|g| g.to_string()),
        sensitivity: own | declared,
        own_sensitivity: own,
    })
}

impl App {
    /// Imports a file into a project (see the module docs for the modes).
    pub async fn import_file(
        &self,
        principal: &Principal,
        project_id: ProjectId,
        path: PathBuf,
        format: ImportFormat,
        mode: ImportMode,
        progress: Arc<ImportProgress>,
    ) -> AppResult<ImportReport> {
        require_manager(principal)?;
        let project = self
            .store
            .project(principal.org_id, project_id)
            .await
            .or_not_found("project")?;
        self.refuse_if_closed(principal, project_id).await?;
        let template = self.template_of(project.id, &project.template)?;
        let limits = ReadLimits {
            max_line_bytes: self.config.max_line_bytes,
        };
        let max_errors = self.config.max_reported_errors;
        let mut media = self
            .media_checker(principal.org_id, project.id, &template)
            .await?;
        let (org, project_id) = (principal.org_id, project.id);
        // Sensitivity categories the file brings, found by the validation pass of an atomic import.
        let mut noted: Mask = 0;

        if mode == ImportMode::Atomic {
            progress.phase.store(0, Ordering::Relaxed);
            let (path, template, limits, progress) = (
                path.clone(),
                template.clone(),
                limits.clone(),
                progress.clone(),
            );
            let checker = media.take();
            let (report, mask, checker) = tokio::task::spawn_blocking(move || {
                let mut checker = checker;
                let mut report = ImportReport::default();
                let mut mask: Mask = 0;
                for rec in open_records(&path, format, &limits, &progress)? {
                    progress.records.fetch_add(1, Ordering::Relaxed);
                    let outcome = rec
                        .map_err(|e| BadLine {
                            line: e.line,
                            message: e.message,
                        })
                        .and_then(|r| check(&template, checker.as_mut(), r, 0));
                    match outcome {
                        Ok(item) => mask |= item.own_sensitivity,
                        Err(bad) => note_error(&mut report, bad, max_errors),
                    }
                }
                // Workers of the project may read the media its items refer to: recorded before any item is.
                if report.error_count == 0
                    && let Some(c) = checker.as_mut()
                {
                    c.save_refs()?;
                }
                Ok::<_, AppError>((report, mask, checker))
            })
            .await
            .map_err(|e| AppError::Internal(format!("import validation task: {e}")))??;
            media = checker;
            if report.error_count > 0 {
                return Ok(ImportReport {
                    rejected: true,
                    ..report
                });
            }
            // Noted now: the atomic write below holds SQLite's writer until the whole file is in.
            if mask != 0 {
                self.store
                    .note_item_sensitivity(
                        org,
                        project_id,
                        mask,
                        fairloop_domain::time::now_millis(),
                    )
                    .await?;
                noted = mask;
            }
        }

        progress.phase.store(1, Ordering::Relaxed);
        // Sensitive items: the project's own categories are folded into each item's, and the categories the
        // items bring are noted on the project *before* a batch holding them is written (so claims take the
        // sensitive path by the time such an item exists; see `wellbeing.rs`).
        let declared = self
            .store
            .project_wellbeing(org, project_id)
            .await
            .or_not_found("project")?
            .sensitivity;
        let (store, handle) = (self.store.clone(), tokio::runtime::Handle::current());
        let atomic = mode == ImportMode::Atomic;
        let (tx, rx) = mpsc::channel::<Vec<NewItem>>(4);
        let reader = tokio::task::spawn_blocking(move || -> AppResult<ImportReport> {
            let mut report = ImportReport::default();
            let mut batch: Vec<NewItem> = Vec::with_capacity(BATCH);
            let mut note = |batch: &[NewItem]| -> AppResult<()> {
                let mask = batch.iter().fold(0, |m, i| m | i.own_sensitivity);
                if mask & !noted != 0 {
                    if atomic {
                        return Err(AppError::Internal(
                            "the import file changed between its two readings".into(),
                        ));
                    }
                    handle.block_on(store.note_item_sensitivity(
                        org,
                        project_id,
                        mask,
                        fairloop_domain::time::now_millis(),
                    ))?;
                    noted |= mask;
                }
                Ok(())
            };
            for rec in open_records(&path, format, &limits, &progress)? {
                progress.records.fetch_add(1, Ordering::Relaxed);
                match rec
                    .map_err(|e| BadLine {
                        line: e.line,
                        message: e.message,
                    })
                    .and_then(|r| check(&template, media.as_mut(), r, declared))
                {
                    Ok(item) => {
                        batch.push(item);
                        if batch.len() == BATCH {
                            if let Some(m) = media.as_mut() {
                                m.save_refs()?;
                            }
                            note(&batch)?;
                            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
                            if tx.blocking_send(full).is_err() {
                                // The writer stopped (it failed); its error is what the caller sees.
                                return Ok(report);
                            }
                        }
                    }
                    Err(bad) => note_error(&mut report, bad, max_errors),
                }
            }
            if !batch.is_empty() {
                if let Some(m) = media.as_mut() {
                    m.save_refs()?;
                }
                note(&batch)?;
                let _ = tx.blocking_send(batch);
            }
            Ok(report)
        });
        let written = self
            .store
            .import_items(principal.org_id, project.id, rx, mode == ImportMode::Atomic)
            .await;
        let mut report = reader
            .await
            .map_err(|e| AppError::Internal(format!("import reader task: {e}")))??;
        let written = written?;
        report.imported = written.imported;
        report.duplicates = written.duplicates;
        self.forget_wellbeing(org, project_id);
        // The project's categories changed while the file was read: refold so no item keeps the old ones.
        let now_declared = self
            .store
            .project_wellbeing(org, project_id)
            .await?
            .sensitivity;
        if now_declared != declared {
            self.store.fold_item_sensitivity(org, project_id).await?;
        }
        Ok(report)
    }
}

fn note_error(report: &mut ImportReport, bad: BadLine, max: usize) {
    report.error_count += 1;
    if report.errors.len() < max {
        report.errors.push(bad);
    }
}
