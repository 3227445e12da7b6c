//! JSON Lines export: one item per line.

use std::io::Write;

use super::ExportItem;
use crate::FormatError;

/// Writes the JSONL export: one [`ExportItem`] per line, serialized straight into the writer
/// (no intermediate `String`).
///
/// The writer does no buffering of its own, so that every byte of a written item is in `W` when
/// [`write_item`](Self::write_item) returns: give it a `Vec<u8>` and drain it with
/// [`take_bytes`](JsonlExportWriter::take_bytes) (or `std::mem::take(w.get_mut())`) to stream
/// over HTTP, or a `BufWriter<File>` for a file (a bare `File` would make one system call per
/// JSON token).
#[derive(Debug)]
pub struct JsonlExportWriter<W: Write> {
    w: W,
    items: u64,
    annotations: u64,
}

impl<W: Write> JsonlExportWriter<W> {
    /// Starts an export into `w`. Nothing is written until the first item.
    pub fn new(w: W) -> Self {
        Self {
            w,
            items: 0,
            annotations: 0,
        }
    }

    /// Writes one item as one line. On error (I/O, or an `extra` key that repeats a fixed key)
    /// part of the line may have been written; stop the export.
    pub fn write_item(&mut self, item: &ExportItem) -> Result<(), FormatError> {
        serde_json::to_writer(&mut self.w, item)?;
        self.w.write_all(b"\n")?;
        self.items += 1;
        self.annotations += item.annotations.len() as u64;
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

    /// The underlying writer, e.g. to look at how much has been buffered.
    pub fn get_ref(&self) -> &W {
        &self.w
    }

    /// The underlying writer, to take out the bytes written so far (every completed
    /// [`write_item`](Self::write_item) is entirely in it).
    pub fn get_mut(&mut self) -> &mut W {
        &mut self.w
    }

    /// Flushes and returns the underlying writer. JSONL has no footer, so this only flushes.
    pub fn finish(mut self) -> Result<W, FormatError> {
        self.w.flush()?;
        Ok(self.w)
    }
}

impl JsonlExportWriter<Vec<u8>> {
    /// Takes the bytes written so far (whole lines only), leaving the buffer empty: the way to
    /// stream the export in chunks.
    pub fn take_bytes(&mut self) -> Vec<u8> {
        std::mem::take(&mut self.w)
    }
}

#[cfg(test)]
mod tests {
    use super::super::test_data;
    use super::*;
    use serde_json::Value;

    #[test]
    fn lines_parse_back_to_the_same_items() {
        let items = test_data::items();
        let mut w = JsonlExportWriter::new(Vec::new());
        for item in &items {
            w.write_item(item).unwrap();
        }
        assert_eq!(w.items_written(), 3);
        assert_eq!(w.annotations_written(), 3);
        let bytes = w.finish().unwrap();
        let text = String::from_utf8(bytes).unwrap();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(lines.len(), 3);
        for (line, item) in lines.iter().zip(&items) {
            let back: ExportItem = serde_json::from_str(line).unwrap();
            assert_eq!(&back, item);
            // And the contract's shape, read as plain JSON.
            let v: Value = serde_json::from_str(line).unwrap();
            assert!(v["annotations"].is_array());
            assert!(v["aggregate"].is_object());
        }
    }

    #[test]
    fn take_bytes_drains_whole_lines() {
        let items = test_data::items();
        let mut w = JsonlExportWriter::new(Vec::new());
        let mut out = Vec::new();
        for item in &items {
            w.write_item(item).unwrap();
            let chunk = w.take_bytes();
            assert_eq!(chunk.last(), Some(&b'\n'));
            out.extend_from_slice(&chunk);
        }
        assert!(w.get_ref().is_empty());
        let rest = w.finish().unwrap();
        assert!(rest.is_empty());
        assert_eq!(out.iter().filter(|&&b| b == b'\n').count(), 3);
    }

    #[test]
    fn works_over_a_mutable_reference() {
        let mut buf = Vec::new();
        let mut w = JsonlExportWriter::new(&mut buf);
        w.write_item(&test_data::items()[0]).unwrap();
        let first = std::mem::take(*w.get_mut());
        assert!(first.ends_with(b"\n"));
        w.finish().unwrap();
    }
}
