//! JSON Lines import: one `{"id":…, "data":{…}}` object per line.

use std::io::{BufRead, ErrorKind};

use serde_json::{Map, Value};

use super::{RawItem, ReadLimits, json_kind};
use crate::LineError;

const ALLOWED_KEYS: &str = "\"id\", \"data\", \"priority\", \"gold\" and \"sensitivity\"";

/// Reads items from JSON Lines, one record at a time.
///
/// Each line is `{"id":"external-id", "data":{…}, "priority":N, "gold":…}`:
/// - `data` (required) must be a JSON object: the item's fields;
/// - `id` (optional) is a non-empty string, or an integer which becomes its decimal string;
///   `null` means no id;
/// - `priority` (optional) is an integer, higher first, 0 when absent or `null`;
/// - `gold` (optional) is any JSON value, the known answer; `null` means no gold;
/// - `sensitivity` (optional) is a list of sensitivity category keys (`["violence", "hate"]`);
/// - any other key is an error naming it.
///
/// `line` is the physical line number from 1. Blank lines (only whitespace) are skipped, CRLF
/// endings and a UTF-8 byte-order mark on the first line are accepted. A line that is not valid
/// UTF-8, not valid JSON, or longer than [`ReadLimits::max_line_bytes`] is an error for that line
/// only and reading continues with the next line; an over-long line is skipped without being
/// held in memory. An I/O error ends the stream after one error item.
pub fn read_jsonl<R: BufRead>(
    r: R,
    limits: &ReadLimits,
) -> impl Iterator<Item = Result<RawItem, LineError>> + use<R> {
    JsonlReader {
        r,
        limit: limits.max_line_bytes,
        line: 0,
        buf: Vec::new(),
        done: false,
    }
}

struct JsonlReader<R> {
    r: R,
    limit: usize,
    line: u64,
    buf: Vec<u8>,
    done: bool,
}

/// One physical line as the splitter saw it.
enum Line {
    /// The line's bytes (without `\n`) are in `buf`.
    Complete,
    /// The line was longer than the limit; this many bytes were skipped.
    TooLong(u64),
}

impl<R: BufRead> JsonlReader<R> {
    /// Reads the next physical line into `self.buf`, keeping at most `limit + 1` bytes (room for
    /// a `\r` before the `\n`). Returns `None` at end of input.
    fn next_line(&mut self) -> Option<Result<Line, std::io::Error>> {
        self.buf.clear();
        let mut total: u64 = 0;
        let mut overflow = false;
        let mut saw_any = false;
        loop {
            let available = match self.r.fill_buf() {
                Ok(b) => b,
                Err(e) if e.kind() == ErrorKind::Interrupted => continue,
                Err(e) => return Some(Err(e)),
            };
            if available.is_empty() {
                if !saw_any {
                    return None;
                }
                break;
            }
            saw_any = true;
            let (chunk_len, consumed, found_newline) = match memchr::memchr(b'\n', available) {
                Some(i) => (i, i + 1, true),
                None => (available.len(), available.len(), false),
            };
            total += chunk_len as u64;
            if !overflow {
                if self.buf.len() + chunk_len > self.limit.saturating_add(1) {
                    overflow = true;
                    // Give back the memory: the point of the limit is not to hold the line.
                    self.buf = Vec::new();
                } else {
                    self.buf.extend_from_slice(&available[..chunk_len]);
                }
            }
            self.r.consume(consumed);
            if found_newline {
                break;
            }
        }
        if overflow {
            return Some(Ok(Line::TooLong(total)));
        }
        if self.buf.last() == Some(&b'\r') {
            self.buf.pop();
        }
        if self.buf.len() > self.limit {
            return Some(Ok(Line::TooLong(self.buf.len() as u64)));
        }
        Some(Ok(Line::Complete))
    }
}

impl<R: BufRead> Iterator for JsonlReader<R> {
    type Item = Result<RawItem, LineError>;

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            if self.done {
                return None;
            }
            let line = match self.next_line() {
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
                Some(Ok(line)) => line,
            };
            self.line += 1;
            let n = self.line;
            if let Line::TooLong(len) = line {
                return Some(Err(LineError::new(
                    n,
                    format!(
                        "the line is {len} bytes long, over the limit of {} bytes; \
                         make the item smaller (e.g. store large content as a URL)",
                        self.limit
                    ),
                )));
            }
            let mut bytes: &[u8] = &self.buf;
            if n == 1 {
                bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
            }
            if bytes.iter().all(u8::is_ascii_whitespace) {
                continue;
            }
            return Some(parse_line(n, bytes));
        }
    }
}

fn parse_line(n: u64, bytes: &[u8]) -> Result<RawItem, LineError> {
    let text = std::str::from_utf8(bytes).map_err(|e| {
        LineError::new(
            n,
            format!(
                "the line is not valid UTF-8 (bad byte at column {}); save the file as UTF-8",
                e.valid_up_to() + 1
            ),
        )
    })?;
    let value: Value = serde_json::from_str(text).map_err(|e| json_error(n, &e))?;
    item_from_value(n, value).map_err(|m| LineError::new(n, m))
}

/// Turns a serde_json error into "invalid JSON at column C: what", dropping serde_json's own
/// "at line 1 column C" suffix, which would contradict our line numbering.
fn json_error(n: u64, e: &serde_json::Error) -> LineError {
    let full = e.to_string();
    let what = match full.rfind(" at line ") {
        Some(i) => &full[..i],
        None => full.as_str(),
    };
    LineError::new(n, format!("invalid JSON at column {}: {what}", e.column()))
}

fn item_from_value(n: u64, value: Value) -> Result<RawItem, String> {
    let Value::Object(obj) = value else {
        return Err(format!(
            "each line must be a JSON object like {{\"id\": \"…\", \"data\": {{…}}}}, found {}",
            json_kind(&value)
        ));
    };
    let mut item = RawItem::new(n);
    let mut data: Option<Map<String, Value>> = None;
    for (key, v) in obj {
        match key.as_str() {
            "data" => match v {
                Value::Object(m) => data = Some(m),
                other => {
                    return Err(format!(
                        "\"data\" must be a JSON object, found {}",
                        json_kind(&other)
                    ));
                }
            },
            "id" => item.external_id = parse_id(&v)?,
            "priority" => item.priority = parse_priority(&v)?,
            "gold" => item.gold = (!v.is_null()).then_some(v),
            "sensitivity" => item.sensitivity = super::sensitivity_from(&v)?,
            _ => {
                return Err(format!(
                    "unknown key \"{key}\"; the allowed keys are {ALLOWED_KEYS} \
                     (put the item's own fields inside \"data\")"
                ));
            }
        }
    }
    item.data = data.ok_or_else(|| {
        "\"data\" is missing; each line needs \"data\": {…} holding the item's fields".to_owned()
    })?;
    Ok(item)
}

fn parse_id(v: &Value) -> Result<Option<String>, String> {
    match v {
        Value::Null => Ok(None),
        Value::String(s) if s.is_empty() => {
            Err("\"id\" must not be empty; leave it out to import the item without an id".into())
        }
        Value::String(s) => Ok(Some(s.clone())),
        Value::Number(num) if num.is_i64() || num.is_u64() => Ok(Some(num.to_string())),
        Value::Number(num) => Err(format!(
            "\"id\" must be a string or an integer, found the number {num}"
        )),
        other => Err(format!(
            "\"id\" must be a string or an integer, found {}",
            json_kind(other)
        )),
    }
}

fn parse_priority(v: &Value) -> Result<i64, String> {
    match v {
        Value::Null => Ok(0),
        Value::Number(num) => num.as_i64().ok_or_else(|| {
            if num.is_u64() {
                format!("\"priority\" {num} is too large; use an integer below 2^63")
            } else {
                format!("\"priority\" must be an integer, found the number {num}")
            }
        }),
        other => Err(format!(
            "\"priority\" must be an integer, found {}",
            json_kind(other)
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn read(input: &[u8]) -> Vec<Result<RawItem, LineError>> {
        read_jsonl(input, &ReadLimits::default()).collect()
    }

    fn err(r: &Result<RawItem, LineError>) -> String {
        r.as_ref().expect_err("expected an error").to_string()
    }

    #[test]
    fn good_lines() {
        let input = br#"{"id":"a","data":{"text":"hello"}}
{"data":{"text":"no id"},"priority":5}
{"id":42,"data":{},"gold":{"label":"x"}}
{"id":null,"data":{"n":1},"priority":null,"gold":null}
"#;
        let items: Vec<RawItem> = read(input).into_iter().map(Result::unwrap).collect();
        assert_eq!(items.len(), 4);
        assert_eq!(items[0].line, 1);
        assert_eq!(items[0].external_id.as_deref(), Some("a"));
        assert_eq!(items[0].data["text"], json!("hello"));
        assert_eq!(items[0].priority, 0);
        assert_eq!(items[1].external_id, None);
        assert_eq!(items[1].priority, 5);
        assert_eq!(items[2].external_id.as_deref(), Some("42"));
        assert_eq!(items[2].gold, Some(json!({"label":"x"})));
        assert_eq!(items[3].external_id, None);
        assert_eq!(items[3].priority, 0);
        assert_eq!(items[3].gold, None);
    }

    #[test]
    fn data_key_order_is_preserved() {
        let items = read(br#"{"data":{"z":1,"a":2,"m":3}}"#);
        let keys: Vec<&str> = items[0]
            .as_ref()
            .unwrap()
            .data
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(keys, ["z", "a", "m"]);
    }

    #[test]
    fn bad_lines_are_reported_with_their_number_and_reading_continues() {
        let input = "{\"data\":{}}\n\
            {\"data\":\"text\"}\n\
            {\"id\":\"x\"}\n\
            {\"data\":{},\"extra\":1}\n\
            [1,2]\n\
            {\"data\":{} \n\
            {\"id\":[1],\"data\":{}}\n\
            {\"id\":1.5,\"data\":{}}\n\
            {\"id\":\"\",\"data\":{}}\n\
            {\"priority\":\"high\",\"data\":{}}\n\
            {\"priority\":2.5,\"data\":{}}\n\
            {\"priority\":18446744073709551615,\"data\":{}}\n\
            {\"data\":{}} {\"data\":{}}\n\
            {\"data\":{\"ok\":true}}\n";
        let r = read(input.as_bytes());
        assert_eq!(r.len(), 14);
        assert!(r[0].is_ok());
        assert_eq!(
            err(&r[1]),
            "line 2: \"data\" must be a JSON object, found a string"
        );
        assert_eq!(
            err(&r[2]),
            "line 3: \"data\" is missing; each line needs \"data\": {…} holding the item's fields"
        );
        assert!(
            err(&r[3]).starts_with(
                "line 4: unknown key \"extra\"; the allowed keys are \"id\", \"data\", \"priority\", \"gold\" and \"sensitivity\""
            ),
            "{}",
            err(&r[3])
        );
        assert!(err(&r[4]).starts_with("line 5: each line must be a JSON object"));
        assert!(err(&r[4]).ends_with("found an array"));
        assert_eq!(
            err(&r[5]),
            "line 6: invalid JSON at column 11: EOF while parsing an object"
        );
        assert_eq!(
            err(&r[6]),
            "line 7: \"id\" must be a string or an integer, found an array"
        );
        assert_eq!(
            err(&r[7]),
            "line 8: \"id\" must be a string or an integer, found the number 1.5"
        );
        assert!(err(&r[8]).starts_with("line 9: \"id\" must not be empty"));
        assert_eq!(
            err(&r[9]),
            "line 10: \"priority\" must be an integer, found a string"
        );
        assert_eq!(
            err(&r[10]),
            "line 11: \"priority\" must be an integer, found the number 2.5"
        );
        assert!(err(&r[11]).starts_with("line 12: \"priority\" 18446744073709551615 is too large"));
        assert_eq!(
            err(&r[12]),
            "line 13: invalid JSON at column 13: trailing characters"
        );
        assert_eq!(r[13].as_ref().unwrap().line, 14);
    }

    #[test]
    fn blank_lines_are_skipped_but_counted() {
        let input = b"\n   \n{\"data\":{}}\n\t\r\n\n{\"data\":{\"a\":1}}\n\n";
        let items: Vec<RawItem> = read(input).into_iter().map(Result::unwrap).collect();
        assert_eq!(items.iter().map(|i| i.line).collect::<Vec<_>>(), [3, 6]);
    }

    #[test]
    fn crlf_and_missing_final_newline() {
        let input = b"{\"id\":\"a\",\"data\":{}}\r\n{\"id\":\"b\",\"data\":{}}";
        let items: Vec<RawItem> = read(input).into_iter().map(Result::unwrap).collect();
        assert_eq!(items.len(), 2);
        assert_eq!(items[1].external_id.as_deref(), Some("b"));
        assert_eq!(items[1].line, 2);
    }

    #[test]
    fn byte_order_mark_on_first_line() {
        let input = b"\xEF\xBB\xBF{\"data\":{}}\n";
        assert!(read(input)[0].is_ok());
    }

    #[test]
    fn unicode_is_kept() {
        let input = "{\"id\":\"é-1\",\"data\":{\"text\":\"日本語 🎉\",\"esc\":\"\\u00e9\"}}\n";
        let item = read(input.as_bytes()).remove(0).unwrap();
        assert_eq!(item.external_id.as_deref(), Some("é-1"));
        assert_eq!(item.data["text"], json!("日本語 🎉"));
        assert_eq!(item.data["esc"], json!("é"));
    }

    #[test]
    fn invalid_utf8_is_an_error_for_that_line() {
        let input = b"{\"data\":{}}\n{\"data\":{\"t\":\"\xff\"}}\n{\"data\":{}}\n";
        let r = read(input);
        assert_eq!(r.len(), 3);
        assert_eq!(
            err(&r[1]),
            "line 2: the line is not valid UTF-8 (bad byte at column 15); save the file as UTF-8"
        );
        assert!(r[2].is_ok());
    }

    #[test]
    fn over_long_line_is_skipped() {
        let limits = ReadLimits { max_line_bytes: 32 };
        let long = format!("{{\"data\":{{\"t\":\"{}\"}}}}", "x".repeat(100));
        let exact = format!("{{\"data\":{{\"t\":\"{}\"}}}}", "x".repeat(32 - 17));
        assert_eq!(exact.len(), 32);
        let input = format!("{{\"data\":{{}}}}\n{long}\n{exact}\r\n{long}");
        // A tiny BufReader capacity makes the long line arrive in many chunks.
        let reader = std::io::BufReader::with_capacity(7, input.as_bytes());
        let r: Vec<_> = read_jsonl(reader, &limits).collect();
        assert_eq!(r.len(), 4);
        assert!(r[0].is_ok());
        assert_eq!(
            err(&r[1]),
            "line 2: the line is 117 bytes long, over the limit of 32 bytes; \
             make the item smaller (e.g. store large content as a URL)"
        );
        assert!(r[2].is_ok(), "{:?}", r[2]);
        assert!(err(&r[3]).starts_with("line 4: the line is 117 bytes long"));
    }

    #[test]
    fn io_error_ends_the_stream() {
        struct Failing;
        impl std::io::Read for Failing {
            fn read(&mut self, _: &mut [u8]) -> std::io::Result<usize> {
                Err(std::io::Error::other("disk on fire"))
            }
        }
        let r: Vec<_> =
            read_jsonl(std::io::BufReader::new(Failing), &ReadLimits::default()).collect();
        assert_eq!(r.len(), 1);
        assert_eq!(err(&r[0]), "line 1: could not read the input: disk on fire");
    }
}
