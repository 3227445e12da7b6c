//! Streaming readers and writers for the file formats Fairloop imports and exports.
//!
//! This crate owns the byte-level formats and nothing else: it knows JSON Lines, CSV and Parquet,
//! and it knows neither the database nor HTTP nor async. Everything is written over `std::io`
//! traits so that the same code serves the HTTP endpoints, the CLI and the tests.
//!
//! # Import
//! [`read_jsonl`], [`read_csv`] and [`read_parquet`] turn a file into a stream of
//! `Result<`[`RawItem`]`, `[`LineError`]`>`: one record at a time, never the whole file in memory.
//! A bad record yields an error that names the record (its "line") and says what is wrong, and
//! reading continues with the next record, so that an import can list every bad line at once.
//! [`ImportFormat`] picks the reader from a file name or a `Content-Type`.
//!
//! What "line" means differs by format, because each format has its own natural unit:
//! - JSONL: the physical line number, starting at 1 (blank lines count, they are just skipped).
//! - CSV: the record number, counting the header row as line 1, so the first data row is line 2.
//!   Blank lines are skipped and not counted; a quoted cell spanning several physical lines is one
//!   record. This is the row number a spreadsheet shows.
//! - Parquet: the row number in the file, starting at 1.
//!
//! # Export
//! [`JsonlExportWriter`], [`ParquetExportWriter`] and [`CsvExportWriter`] write one
//! [`ExportItem`] at a time. They write straight into any [`std::io::Write`]; for streaming over
//! HTTP, give them a `Vec<u8>` and drain it with their `take_bytes` method between items.

mod error;
mod export;
mod import;

pub use error::{FormatError, LineError};
pub use export::{
    CsvExportWriter, ExportAnnotation, ExportItem, JsonlExportWriter, ParquetExportOptions,
    ParquetExportWriter,
};
pub use import::{ImportFormat, RawItem, ReadLimits, read_csv, read_jsonl, read_parquet};
