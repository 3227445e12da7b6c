//! CSV import: a header row, then one item per record.

use std::io::{ErrorKind, Read};

use csv_core::ReadRecordResult;
use serde_json::{Map, Value};

use super::{RawItem, ReadLimits, json_kind, merge_data_object};
use crate::LineError;

/// Size of the input chunk read from the underlying reader at a time.
const CHUNK: usize = 64 * 1024;

/// Reads items from CSV (comma-separated, `"` quoting with `""` as an escaped quote, RFC 4180),
/// one record at a time.
///
/// The first record is the header. Column names are trimmed of surrounding whitespace and must
/// be unique and non-empty. Columns map to the item like this:
/// - `id`: the external id; an empty cell means no id;
/// - `priority`: an integer (surrounding spaces allowed), higher first; an empty cell means 0;
/// - `sensitivity`: sensitivity category keys separated by `|`, `;` or `,` (`violence|hate`);
/// - `data`: if present, a non-empty cell must hold a JSON object whose keys are merged into
///   `data` (this is how nested or typed values get through CSV); a key also set by another
///   column is an error rather than a silent overwrite;
/// - every other column: a string entry of `data`, under the column's name.
///
/// **Empty cells are omitted** from `data`, not stored as `""`: CSV cannot tell an empty value
/// from a missing one, and spreadsheets write missing values as empty cells, so an absent field
/// is the honest reading (the template then reports a required field as missing).
///
/// **`line` is the CSV record number, counting the header as line 1**, so the first data row is
/// line 2: the row number a spreadsheet shows. Blank lines are skipped and not counted; a quoted
/// cell spanning several physical lines is still one record.
///
/// A record with a different number of fields than the header, invalid UTF-8, or more than
/// [`ReadLimits::max_line_bytes`] raw bytes is an error for that record (an over-long record is
/// skipped without being held in memory) and reading continues. A bad header yields one error
/// for line 1 and ends the stream, since no row can be interpreted without it. A UTF-8
/// byte-order mark is ignored.
pub fn read_csv<R: Read>(
    r: R,
    limits: &ReadLimits,
) -> impl Iterator<Item = Result<RawItem, LineError>> + use<R> {
    CsvReader {
        records: Records::new(r, limits.max_line_bytes),
        header: None,
        line: 0,
        done: false,
    }
}

/// A parsed header: which column plays which role.
struct Header {
    names: Vec<String>,
    id: Option<usize>,
    priority: Option<usize>,
    data: Option<usize>,
    sensitivity: Option<usize>,
}

struct CsvReader<R> {
    records: Records<R>,
    header: Option<Header>,
    line: u64,
    done: bool,
}

impl<R: Read> Iterator for CsvReader<R> {
    type Item = Result<RawItem, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let record = match self.records.next_record() {
                None => {
                    self.done = true;
                    return None;
                }
                Some(Err(e)) => {
                    self.done = true;
                    return Some(Err(LineError::new(
                        self.line + 1,
                        format!("could not read the input: {e}"),
                    )));
                }
                Some(Ok(r)) => r,
            };
            if matches!(record, Record::Fields) && self.records.is_blank() {
                continue;
            }
            self.line += 1;
            let n = self.line;
            let result = match record {
                Record::TooLong(len) => Err(LineError::new(
                    n,
                    format!(
                        "the record is {len} bytes long, over the limit of {} bytes; \
                         make the item smaller (e.g. store large content as a URL)",
                        self.records.limit
                    ),
                )),
                Record::Fields => match &self.header {
                    Some(h) => self.records.item(n, h),
                    None => match self.records.header() {
                        Ok(h) => {
                            self.header = Some(h);
                            continue;
                        }
                        Err(m) => Err(LineError::new(n, m)),
                    },
                },
            };
            if self.header.is_none() {
                // Without a usable header no row can be read: report once and stop.
                self.done = true;
            }
            return Some(result);
        }
    }
}

/// What [`Records::next_record`] found.
enum Record {
    /// A record; its fields are in `out`/`ends`.
    Fields,
    /// A record over the limit, skipped; its raw length in bytes.
    TooLong(u64),
}

/// A bounded-memory record splitter over `csv_core` (the `csv` crate's reader would hold a whole
/// record however long it is, e.g. after an unbalanced quote).
struct Records<R> {
    r: R,
    core: csv_core::Reader,
    input: Box<[u8]>,
    in_pos: usize,
    in_len: usize,
    eof: bool,
    out: Vec<u8>,
    out_len: usize,
    ends: Vec<usize>,
    n_ends: usize,
    limit: usize,
}

impl<R: Read> Records<R> {
    fn new(r: R, limit: usize) -> Self {
        Self {
            r,
            core: csv_core::Reader::new(),
            input: vec![0; CHUNK].into_boxed_slice(),
            in_pos: 0,
            in_len: 0,
            eof: false,
            out: vec![0; 1024],
            out_len: 0,
            ends: vec![0; 16],
            n_ends: 0,
            limit,
        }
    }

    fn next_record(&mut self) -> Option<std::io::Result<Record>> {
        self.out_len = 0;
        self.n_ends = 0;
        // Raw input bytes of this record, terminator included.
        let mut consumed: u64 = 0;
        let mut overflow = false;
        // Room for a CRLF terminator on top of the limit.
        let max = self.limit as u64 + 2;
        loop {
            if self.in_pos == self.in_len && !self.eof {
                match self.r.read(&mut self.input) {
                    Ok(0) => self.eof = true,
                    Ok(k) => {
                        self.in_pos = 0;
                        self.in_len = k;
                    }
                    Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                    Err(e) => return Some(Err(e)),
                }
            }
            let (res, nin, nout, nend) = self.core.read_record(
                &self.input[self.in_pos..self.in_len],
                &mut self.out[self.out_len..],
                &mut self.ends[self.n_ends..],
            );
            self.in_pos += nin;
            consumed += nin as u64;
            self.out_len += nout;
            self.n_ends += nend;
            if consumed > max && !overflow {
                overflow = true;
                self.out = vec![0; 1024];
                self.ends = vec![0; 16];
            }
            if overflow {
                // Keep parsing to find the end of the record, but keep nothing.
                self.out_len = 0;
                self.n_ends = 0;
            }
            match res {
                ReadRecordResult::InputEmpty => {}
                ReadRecordResult::OutputFull => {
                    let len = self.out.len();
                    self.out.resize(len * 2, 0);
                }
                ReadRecordResult::OutputEndsFull => {
                    let len = self.ends.len();
                    self.ends.resize(len * 2, 0);
                }
                ReadRecordResult::Record => {
                    return Some(Ok(if overflow {
                        Record::TooLong(consumed)
                    } else {
                        Record::Fields
                    }));
                }
                ReadRecordResult::End => return None,
            }
        }
    }

    fn field(&self, i: usize) -> &[u8] {
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        &self.out[start..self.ends[i]]
    }

    /// A record whose only field is whitespace is a blank line (csv_core already drops truly
    /// empty lines).
    fn is_blank(&self) -> bool {
        self.n_ends == 1 && self.field(0).iter().all(u8::is_ascii_whitespace)
    }

    fn field_str(&self, i: usize) -> Result<&str, String> {
        std::str::from_utf8(self.field(i)).map_err(|e| {
            format!(
                "field {} is not valid UTF-8 (bad byte at position {}); save the file as UTF-8",
                i + 1,
                e.valid_up_to() + 1
            )
        })
    }

    fn header(&self) -> Result<Header, String> {
        let mut h = Header {
            names: Vec::with_capacity(self.n_ends),
            id: None,
            priority: None,
            data: None,
            sensitivity: None,
        };
        for i in 0..self.n_ends {
            let name = self.field_str(i)?.trim();
            if name.is_empty() {
                return Err(format!(
                    "column {} has no name in the header row; every column needs one \
                     (pandas writes its index this way: use to_csv(index=False))",
                    i + 1
                ));
            }
            if h.names.iter().any(|n| n == name) {
                return Err(format!(
                    "the header names column \"{name}\" twice; column names must be unique"
                ));
            }
            match name {
                "id" => h.id = Some(i),
                "priority" => h.priority = Some(i),
                "data" => h.data = Some(i),
                "sensitivity" => h.sensitivity = Some(i),
                _ => {}
            }
            h.names.push(name.to_owned());
        }
        Ok(h)
    }

    fn item(&self, n: u64, h: &Header) -> Result<RawItem, LineError> {
        self.item_inner(n, h).map_err(|m| LineError::new(n, m))
    }

    fn item_inner(&self, n: u64, h: &Header) -> Result<RawItem, String> {
        if self.n_ends != h.names.len() {
            return Err(format!(
                "the record has {} fields but the header has {}; check for a missing or extra \
                 comma, or an unbalanced quote",
                self.n_ends,
                h.names.len()
            ));
        }
        let mut item = RawItem::new(n);
        let mut data = Map::with_capacity(h.names.len());
        let mut data_column: Option<Map<String, Value>> = None;
        for (i, name) in h.names.iter().enumerate() {
            let cell = self.field_str(i)?;
            if cell.is_empty() {
                continue;
            }
            if Some(i) == h.id {
                item.external_id = Some(cell.to_owned());
            } else if Some(i) == h.priority {
                item.priority = cell.trim().parse().map_err(|_| {
                    format!("column \"priority\" must be an integer, found \"{cell}\"")
                })?;
            } else if Some(i) == h.sensitivity {
                item.sensitivity = super::split_keys(cell);
            } else if Some(i) == h.data {
                match serde_json::from_str::<Value>(cell) {
                    Ok(Value::Object(m)) => data_column = Some(m),
                    Ok(other) => {
                        return Err(format!(
                            "column \"data\" must hold a JSON object, found {}",
                            json_kind(&other)
                        ));
                    }
                    Err(e) => {
                        return Err(format!(
                            "column \"data\" must hold a JSON object, but it is not valid JSON: {e}"
                        ));
                    }
                }
            } else {
                data.insert(name.clone(), Value::String(cell.to_owned()));
            }
        }
        if let Some(extra) = data_column {
            merge_data_object(&mut data, extra)?;
        }
        item.data = data;
        Ok(item)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(input: &[u8]) -> Vec<Result<RawItem, LineError>> {
        read_csv(input, &ReadLimits::default()).collect()
    }

    fn err(r: &Result<RawItem, LineError>) -> String {
        r.as_ref().expect_err("expected an error").to_string()
    }

    #[test]
    fn good_rows() {
        let input =
            b"id,text,priority,lang\na1,hello,3,en\n,no id,,\n7,\"quoted, with comma\",-2,fr\n";
        let items: Vec<RawItem> = read(input).into_iter().map(Result::unwrap).collect();
        assert_eq!(items.len(), 3);
        assert_eq!(items[0].line, 2);
        assert_eq!(items[0].external_id.as_deref(), Some("a1"));
        assert_eq!(items[0].priority, 3);
        assert_eq!(
            Value::Object(items[0].data.clone()),
            json!({"text":"hello","lang":"en"})
        );
        assert_eq!(items[1].external_id, None);
        assert_eq!(items[1].priority, 0);
        // Empty cells are omitted.
        assert_eq!(
            Value::Object(items[1].data.clone()),
            json!({"text":"no id"})
        );
        assert_eq!(items[2].external_id.as_deref(), Some("7"));
        assert_eq!(items[2].priority, -2);
        assert_eq!(items[2].data["text"], json!("quoted, with comma"));
        assert_eq!(items[2].line, 4);
    }

    #[test]
    fn quoting_escaped_quotes_and_newlines_in_cells() {
        let input = "text,n\n\"she said \"\"hi\"\"\",1\n\"two\nlines\",2\nplain,3\n";
        let items: Vec<RawItem> = read(input.as_bytes())
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(items[0].data["text"], json!("she said \"hi\""));
        assert_eq!(items[1].data["text"], json!("two\nlines"));
        // The multi-line cell is one record: line numbers count records.
        assert_eq!(items.iter().map(|i| i.line).collect::<Vec<_>>(), [2, 3, 4]);
    }

    #[test]
    fn crlf_bom_blank_lines_and_unicode() {
        let input = "\u{feff}id,text\r\n\r\na,日本語 🎉\r\n   \r\nb,é\r\n";
        let items: Vec<RawItem> = read(input.as_bytes())
            .into_iter()
            .map(Result::unwrap)
            .collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0].external_id.as_deref(), Some("a"));
        assert_eq!(items[0].data["text"], json!("日本語 🎉"));
        assert_eq!(items[0].line, 2);
        assert_eq!(items[1].data["text"], json!("é"));
        assert_eq!(items[1].line, 3);
    }

    #[test]
    fn header_names_are_trimmed() {
        let items = read(b" id , text \nx,y\n");
        let item = items[0].as_ref().unwrap();
        assert_eq!(item.external_id.as_deref(), Some("x"));
        assert_eq!(item.data["text"], json!("y"));
    }

    #[test]
    fn data_column_is_merged() {
        let input = b"id,data,text\na,\"{\"\"n\"\":1,\"\"tags\"\":[\"\"x\"\"]}\",hi\nb,,only text\nc,\"{\"\"text\"\":1}\",clash\nd,[1],x\ne,{oops,x\n";
        let r = read(input);
        assert_eq!(
            Value::Object(r[0].as_ref().unwrap().data.clone()),
            json!({"text":"hi","n":1,"tags":["x"]})
        );
        assert_eq!(
            Value::Object(r[1].as_ref().unwrap().data.clone()),
            json!({"text":"only text"})
        );
        assert!(err(&r[2]).starts_with("line 4: the \"data\" column sets \"text\""));
        assert_eq!(
            err(&r[3]),
            "line 5: column \"data\" must hold a JSON object, found an array"
        );
        assert!(err(&r[4]).starts_with(
            "line 6: column \"data\" must hold a JSON object, but it is not valid JSON"
        ));
    }

    #[test]
    fn bad_rows_are_reported_and_reading_continues() {
        let input = b"id,text,priority\na,x,1\nb,y\nc,z,high\nd,\xff\xfe,1\ne,w,1,extra\nf,v,2\n";
        let r = read(input);
        assert_eq!(r.len(), 6);
        assert!(r[0].is_ok());
        assert_eq!(
            err(&r[1]),
            "line 3: the record has 2 fields but the header has 3; check for a missing or extra \
             comma, or an unbalanced quote"
        );
        assert_eq!(
            err(&r[2]),
            "line 4: column \"priority\" must be an integer, found \"high\""
        );
        assert!(err(&r[3]).starts_with("line 5: field 2 is not valid UTF-8"));
        assert!(err(&r[4]).starts_with("line 6: the record has 4 fields"));
        assert_eq!(r[5].as_ref().unwrap().line, 7);
    }

    #[test]
    fn bad_header_stops_the_stream() {
        let r = read(b",text\n0,a\n1,b\n");
        assert_eq!(r.len(), 1);
        assert!(err(&r[0]).starts_with("line 1: column 1 has no name in the header row"));
        let r = read(b"a,b,a\n1,2,3\n");
        assert_eq!(r.len(), 1);
        assert_eq!(
            err(&r[0]),
            "line 1: the header names column \"a\" twice; column names must be unique"
        );
    }

    #[test]
    fn empty_input_gives_nothing() {
        assert!(read(b"").is_empty());
        assert!(read(b"id,text\n").is_empty());
        assert!(read(b"\n\n").is_empty());
    }

    #[test]
    fn over_long_record_is_skipped() {
        let limits = ReadLimits { max_line_bytes: 20 };
        let long = "x".repeat(CHUNK * 2 + 10);
        // The long record also has an unbalanced-looking quoted cell spanning lines.
        let input = format!(
            "id,text\na,short\nb,\"{long}\n{long}\"\nc,{}\nd,fine\n",
            "y".repeat(18)
        );
        let r: Vec<_> = read_csv(input.as_bytes(), &limits).collect();
        assert_eq!(r.len(), 4, "{r:?}");
        assert!(r[0].is_ok());
        assert!(err(&r[1]).starts_with(&format!(
            "line 3: the record is {} bytes long, over the limit of 20 bytes",
            2 + 2 * long.len() + 1 + 2 + 1
        )));
        // Exactly at the limit (20 bytes + "\n") is fine.
        assert_eq!(r[2].as_ref().unwrap().data["text"], json!("y".repeat(18)));
        assert_eq!(r[3].as_ref().unwrap().line, 5);
    }

    #[test]
    fn unbalanced_quote_is_bounded() {
        let limits = ReadLimits {
            max_line_bytes: 100,
        };
        let input = format!("text\n\"never closed\n{}", "z\n".repeat(10_000));
        let r: Vec<_> = read_csv(input.as_bytes(), &limits).collect();
        assert_eq!(r.len(), 1);
        assert!(err(&r[0]).starts_with("line 2: the record is 20014 bytes long"));
    }
}
