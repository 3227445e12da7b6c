//! CSV input and output for the `fairloop quality` commands.
//!
//! Readers take any [`std::io::Read`], reuse one `csv::ByteRecord` for every row and intern names as they go, so
//! reading costs no allocation per row; [`read_labels`], which meets files of millions of rows, reads the input
//! whole and splits plain lines itself (see there for why the result is the same). Headers are matched by name
//! (case-insensitive, surrounding spaces ignored, extra columns ignored, in any order). Every error names the line
//! (the header is line 1) and the column.
//!
//! Writers print floats exactly as Rust's shortest round-trip formatting does (full precision, no noise digits),
//! through `ryu` where that gives the same text ([`fmt_f64`]).

use std::collections::HashMap;
use std::io::{Read, Write};

use csv::{ByteRecord, ReaderBuilder};

use crate::QualityError;
use crate::data::{Comparisons, LabelData, NumericData, RatingData};
use crate::intern::Interner;

struct Input<R: Read> {
    rdr: csv::Reader<R>,
    rec: ByteRecord,
}

impl<R: Read> Input<R> {
    /// Opens a CSV and finds the columns; `required` must all be present, `optional` may be.
    fn open(
        r: R,
        required: &[&str],
        optional: &[&str],
    ) -> Result<(Self, Vec<Option<usize>>), QualityError> {
        // Fields are trimmed by hand: csv's own trimming rebuilds the record, an allocation per row.
        let mut rdr = ReaderBuilder::new().has_headers(true).from_reader(r);
        let headers = rdr.byte_headers().map_err(QualityError::from_csv)?.clone();
        let names: Vec<String> = headers
            .iter()
            .map(|h| {
                String::from_utf8_lossy(h)
                    .trim_start_matches('\u{feff}')
                    .trim()
                    .to_ascii_lowercase()
            })
            .collect();
        let mut cols = Vec::new();
        for want in required.iter().chain(optional) {
            cols.push(names.iter().position(|n| n == want));
        }
        for (i, want) in required.iter().enumerate() {
            if cols[i].is_none() {
                return Err(QualityError::MissingColumn {
                    column: (*want).to_string(),
                    found: if names.iter().all(|n| n.is_empty()) {
                        "nothing".into()
                    } else {
                        names.join(", ")
                    },
                    expected: required.join(","),
                });
            }
        }
        Ok((
            Input {
                rdr,
                rec: ByteRecord::new(),
            },
            cols,
        ))
    }

    /// Reads the next row; returns its 1-based line number, or `None` at the end.
    fn next(&mut self) -> Result<Option<u64>, QualityError> {
        if !self
            .rdr
            .read_byte_record(&mut self.rec)
            .map_err(QualityError::from_csv)?
        {
            return Ok(None);
        }
        Ok(Some(self.rec.position().map_or(0, |p| p.line())))
    }

    /// A non-empty field.
    fn field(&self, idx: usize, line: u64, name: &str) -> Result<&[u8], QualityError> {
        match self.rec.get(idx).map(<[u8]>::trim_ascii) {
            Some(f) if !f.is_empty() => Ok(f),
            _ => Err(QualityError::EmptyField {
                line,
                column: name.to_string(),
            }),
        }
    }

    fn optional_field(&self, idx: Option<usize>) -> &[u8] {
        idx.and_then(|i| self.rec.get(i))
            .map_or(b"", <[u8]>::trim_ascii)
    }
}

fn intern(int: &mut Interner, bytes: &[u8], line: u64, column: &str) -> Result<u32, QualityError> {
    int.intern_bytes(bytes)
        .map_err(|_| QualityError::InvalidUtf8 {
            line,
            column: column.to_string(),
        })
}

/// Parses a finite number; the error names the line and column.
pub fn parse_number(bytes: &[u8], line: u64, column: &str) -> Result<f64, QualityError> {
    let bad = |hint: &str| QualityError::InvalidNumber {
        line,
        column: column.to_string(),
        value: String::from_utf8_lossy(bytes).into_owned(),
        hint: hint.to_string(),
    };
    let s = std::str::from_utf8(bytes).map_err(|_| bad(""))?;
    match s.parse::<f64>() {
        Ok(v) if v.is_finite() => Ok(v),
        Ok(_) => Err(bad(" (it must be finite)")),
        Err(_) => Err(bad("")),
    }
}

/// Task names waiting to be interned: one entry per run of consecutive rows with the same task.
#[derive(Default)]
struct RunBatch {
    names: String,
    ends: Vec<usize>,
}

/// Runs per [`RunBatch`]: large enough that the channel costs nothing per name, small enough to stay in cache.
const RUN_BATCH: usize = 1 << 12;

/// Interns a batch of task names (in order, so ids stay in order of first appearance) and records each run's id.
fn intern_runs(tasks: &mut Interner, run_ids: &mut Vec<u32>, batch: &RunBatch) {
    let mut names = Vec::with_capacity(batch.ends.len());
    let mut start = 0;
    for &end in &batch.ends {
        names.push(&batch.names[start..end]);
        start = end;
    }
    tasks.intern_all(&names, run_ids);
}

/// A direct-mapped cache in front of an [`Interner`] for names of at most 7 bytes (worker and class names, usually).
///
/// A few hundred workers and a few classes are looked up millions of times. The interner's lookup hashes the name,
/// probes its table and compares bytes in its arena; here a name packed into one `u64` (bytes, then its length in
/// the top byte, so two different names never share a key) is compared with one instruction. A miss (a long name,
/// or a slot taken by another name) simply asks the interner, so the ids are the interner's in every case.
struct ShortNames {
    slots: Vec<(u64, u32)>,
}

impl ShortNames {
    const BITS: u32 = 12;
    /// No packed name has its top byte at 0xff (lengths are at most 7), so this key never matches.
    const EMPTY: u64 = u64::MAX;

    fn new() -> Self {
        ShortNames {
            slots: vec![(Self::EMPTY, 0); 1 << Self::BITS],
        }
    }

    fn id(
        &mut self,
        int: &mut Interner,
        bytes: &[u8],
        line: u64,
        column: &str,
    ) -> Result<u32, QualityError> {
        if bytes.len() > 7 {
            return intern(int, bytes, line, column);
        }
        let mut key = (bytes.len() as u64) << 56;
        for (i, &b) in bytes.iter().enumerate() {
            key |= u64::from(b) << (8 * i);
        }
        let slot = (key.wrapping_mul(0x9e37_79b9_7f4a_7c15) >> (64 - Self::BITS)) as usize;
        let (k, id) = self.slots[slot];
        if k == key {
            return Ok(id);
        }
        let id = intern(int, bytes, line, column)?;
        self.slots[slot] = (key, id);
        Ok(id)
    }
}

/// A field trimmed of surrounding spaces, or the error for an empty one (as [`Input::field`]).
fn non_empty<'a>(f: Option<&'a [u8]>, line: u64, name: &str) -> Result<&'a [u8], QualityError> {
    match f.map(<[u8]>::trim_ascii) {
        Some(f) if !f.is_empty() => Ok(f),
        _ => Err(QualityError::EmptyField {
            line,
            column: name.to_string(),
        }),
    }
}

/// The rows read so far by [`read_labels`], with task names interned in batches (see there).
struct LabelRows<'a> {
    d: LabelData,
    /// Where full batches go: the helper thread, or `None` to intern them on this thread.
    helper: Option<&'a std::sync::mpsc::SyncSender<RunBatch>>,
    tasks: Interner,
    run_ids: Vec<u32>,
    batch: RunBatch,
    runs: u32,
    /// The name of the current run, to tell when the next row starts a new one.
    last_task: Vec<u8>,
    worker_ids: ShortNames,
    class_ids: ShortNames,
}

impl<'a> LabelRows<'a> {
    fn new(helper: Option<&'a std::sync::mpsc::SyncSender<RunBatch>>) -> Self {
        LabelRows {
            d: LabelData::new(),
            helper,
            tasks: Interner::new(),
            run_ids: Vec::new(),
            batch: RunBatch::default(),
            runs: 0,
            last_task: Vec::new(),
            worker_ids: ShortNames::new(),
            class_ids: ShortNames::new(),
        }
    }

    /// Adds one row from its raw (untrimmed) fields, checking them in column order as the CSV reader always has.
    fn push(
        &mut self,
        task: Option<&[u8]>,
        worker: Option<&[u8]>,
        label: Option<&[u8]>,
        line: u64,
    ) -> Result<(), QualityError> {
        let t = non_empty(task, line, "task")?;
        if self.runs == 0 || self.last_task.as_slice() != t {
            let name = std::str::from_utf8(t).map_err(|_| QualityError::InvalidUtf8 {
                line,
                column: "task".to_string(),
            })?;
            self.last_task.clear();
            self.last_task.extend_from_slice(t);
            self.batch.names.push_str(name);
            self.batch.ends.push(self.batch.names.len());
            self.runs = self
                .runs
                .checked_add(1)
                .expect("more than 4 billion runs of tasks");
            if self.batch.ends.len() == RUN_BATCH {
                let full = std::mem::take(&mut self.batch);
                match self.helper {
                    // The helper only stops when the sender is dropped, so sending cannot fail.
                    Some(tx) => {
                        let _ = tx.send(full);
                    }
                    None => intern_runs(&mut self.tasks, &mut self.run_ids, &full),
                }
            }
        }
        let w = non_empty(worker, line, "worker")?;
        let wid = self.worker_ids.id(&mut self.d.workers, w, line, "worker")?;
        let l = non_empty(label, line, "label")?;
        let lid = self.class_ids.id(&mut self.d.classes, l, line, "label")?;
        self.d.task.push(self.runs - 1);
        self.d.worker.push(wid);
        self.d.label.push(lid);
        Ok(())
    }
}

/// Reads `task,worker,label` rows (crowd-kit's layout) for categorical aggregation.
///
/// Two things make this fast on a million tasks, with the same result as a plain loop over `csv` records:
///
/// - Plain lines (no quote, no carriage return, the header's number of fields) are split on commas directly,
///   several times faster than the general CSV state machine. From the first line that is not plain, the rest of
///   the input goes through the `csv` crate, which has always read these files; the line numbers in errors are
///   the same either way. This needs the whole input in memory, which the data set built from it needs anyway.
/// - Looking each new task name up in its hash table is a cache miss and about as costly as parsing, so (when
///   there is more than one core) a helper thread interns the task names while this thread parses: the parser
///   records which run of consecutive rows each row belongs to and sends the run's name, and the run numbers
///   become task ids at the end. Task names are checked for UTF-8 here, row by row, so errors still name the
///   first bad line.
pub fn read_labels<R: Read>(r: R) -> Result<LabelData, QualityError> {
    let mut buf = Vec::new();
    let mut r = r;
    r.read_to_end(&mut buf)
        .map_err(|e| QualityError::Csv(format!("cannot read the input: {e}")))?;
    read_labels_from(&buf, true)
}

/// [`read_labels`] on the whole input; `fast` allows the plain-line path (the tests compare both ways).
fn read_labels_from(buf: &[u8], fast: bool) -> Result<LabelData, QualityError> {
    let (mut input, cols) = Input::open(buf, &["task", "worker", "label"], &[])?;
    let (ct, cw, cl) = (
        cols[0].unwrap_or(0),
        cols[1].unwrap_or(0),
        cols[2].unwrap_or(0),
    );
    let n_fields = input
        .rdr
        .byte_headers()
        .map_err(QualityError::from_csv)?
        .len();
    let threaded = std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    std::thread::scope(|s| {
        let (tx, rx) = std::sync::mpsc::sync_channel::<RunBatch>(4);
        let helper = threaded.then(|| {
            s.spawn(move || {
                let (mut tasks, mut run_ids) = (Interner::new(), Vec::new());
                for batch in rx {
                    intern_runs(&mut tasks, &mut run_ids, &batch);
                }
                (tasks, run_ids)
            })
        });
        let mut rows = LabelRows::new(helper.as_ref().map(|_| &tx));
        let pos = input.rdr.position();
        let (mut at, mut line) = (pos.byte() as usize, pos.line());
        // Plain lines first, while the header ended with a plain line break.
        if fast && at > 0 && buf.get(at - 1) == Some(&b'\n') {
            let wanted = [ct, cw, cl];
            'lines: while at < buf.len() {
                // One pass over the line: field boundaries, and a bail-out on anything that is not plain.
                let mut fields: [Option<&[u8]>; 3] = [None; 3];
                let (mut n, mut start, mut i) = (0, at, at);
                loop {
                    let b = buf.get(i).copied().unwrap_or(b'\n');
                    match b {
                        b',' | b'\n' => {
                            for (f, &c) in fields.iter_mut().zip(&wanted) {
                                if c == n {
                                    *f = Some(&buf[start..i]);
                                }
                            }
                            n += 1;
                            start = i + 1;
                            if b == b'\n' {
                                break;
                            }
                        }
                        b'"' | b'\r' => break 'lines,
                        _ => {}
                    }
                    i += 1;
                }
                // The `csv` crate skips empty lines; any other line is a record.
                if i > at {
                    if n != n_fields {
                        return Err(unequal_lengths(line, n, n_fields));
                    }
                    rows.push(fields[0], fields[1], fields[2], line)?;
                }
                at = i + 1;
                line += 1;
            }
        }
        if at < buf.len() {
            // The rest, from the first line that is not plain, as general CSV.
            let mut rdr = ReaderBuilder::new()
                .has_headers(false)
                .flexible(true)
                .from_reader(&buf[at..]);
            let mut rec = ByteRecord::new();
            while rdr
                .read_byte_record(&mut rec)
                .map_err(QualityError::from_csv)?
            {
                let l = rec.position().map_or(0, |p| p.line()) + line - 1;
                if rec.len() != n_fields {
                    return Err(unequal_lengths(l, rec.len(), n_fields));
                }
                rows.push(rec.get(ct), rec.get(cw), rec.get(cl), l)?;
            }
        }
        let LabelRows {
            mut d,
            mut tasks,
            mut run_ids,
            batch,
            ..
        } = rows;
        if d.is_empty() {
            return Err(QualityError::NoData);
        }
        match helper {
            Some(h) => {
                let _ = tx.send(batch);
                drop(tx);
                (tasks, run_ids) = h.join().expect("the task interning thread does not panic");
            }
            None => intern_runs(&mut tasks, &mut run_ids, &batch),
        }
        for t in &mut d.task {
            *t = run_ids[*t as usize];
        }
        d.tasks = tasks;
        Ok(d)
    })
}

/// The error the `csv` crate gives (through [`QualityError::from_csv`]) for a row with the wrong number of fields.
fn unequal_lengths(line: u64, len: usize, expected_len: usize) -> QualityError {
    QualityError::Csv(format!(
        "line {line}: found {len} fields but the header has {expected_len}"
    ))
}

/// Reads `task,worker,label` rows whose labels are numbers, for the mean, median and trimmed-mean aggregates.
pub fn read_numeric_labels<R: Read>(r: R) -> Result<NumericData, QualityError> {
    let (mut input, cols) = Input::open(r, &["task", "worker", "label"], &[])?;
    let (ct, cw, cl) = (
        cols[0].unwrap_or(0),
        cols[1].unwrap_or(0),
        cols[2].unwrap_or(0),
    );
    let mut d = NumericData::default();
    while let Some(line) = input.next()? {
        let tid = intern(&mut d.tasks, input.field(ct, line, "task")?, line, "task")?;
        let wid = intern(
            &mut d.workers,
            input.field(cw, line, "worker")?,
            line,
            "worker",
        )?;
        let v = parse_number(input.field(cl, line, "label")?, line, "label")?;
        d.task.push(tid);
        d.worker.push(wid);
        d.value.push(v);
    }
    if d.task.is_empty() {
        return Err(QualityError::NoData);
    }
    Ok(d)
}

/// Ratings of one question (or of the whole file when it has no `question` column).
#[derive(Debug, Clone)]
pub struct QuestionRatings {
    /// The question name, when the input has a `question` column.
    pub question: Option<String>,
    /// The ratings.
    pub data: RatingData,
}

/// Reads `item,rater,value` rows (missing ratings are simply absent). An optional `question` column splits the
/// file into one data set per question, in order of first appearance. A rater rating an item twice (within one
/// question) is an error naming both lines.
pub fn read_ratings<R: Read>(r: R) -> Result<Vec<QuestionRatings>, QualityError> {
    let (mut input, cols) = Input::open(r, &["item", "rater", "value"], &["question"])?;
    let (ci, cr, cv, cq) = (
        cols[0].unwrap_or(0),
        cols[1].unwrap_or(0),
        cols[2].unwrap_or(0),
        cols[3],
    );
    let mut questions = Interner::new();
    // Per question: the ratings and the line of each (item, rater) pair seen so far.
    type Seen = HashMap<(u32, u32), u64>;
    let mut sets: Vec<(RatingData, Seen)> = Vec::new();
    while let Some(line) = input.next()? {
        let q = match cq {
            Some(_) => intern(
                &mut questions,
                input.field(cq.unwrap_or(0), line, "question")?,
                line,
                "question",
            )?,
            None => 0,
        };
        if q as usize == sets.len() {
            sets.push(Default::default());
        }
        let (d, seen) = &mut sets[q as usize];
        let item = intern(&mut d.items, input.field(ci, line, "item")?, line, "item")?;
        let rater = intern(
            &mut d.raters,
            input.field(cr, line, "rater")?,
            line,
            "rater",
        )?;
        let value = intern(
            &mut d.values,
            input.field(cv, line, "value")?,
            line,
            "value",
        )?;
        if let Some(&first_line) = seen.get(&(item, rater)) {
            return Err(QualityError::DuplicateRating {
                line,
                first_line,
                item: d.items.get(item).to_string(),
                rater: d.raters.get(rater).to_string(),
            });
        }
        seen.insert((item, rater), line);
        d.item.push(item);
        d.rater.push(rater);
        d.value.push(value);
    }
    if sets.is_empty() {
        return Err(QualityError::NoData);
    }
    Ok(sets
        .into_iter()
        .enumerate()
        .map(|(i, (data, _))| QuestionRatings {
            question: cq.map(|_| questions.get(i as u32).to_string()),
            data,
        })
        .collect())
}

fn parse_tie(bytes: &[u8], line: u64) -> Result<bool, QualityError> {
    let s = String::from_utf8_lossy(bytes).to_ascii_lowercase();
    match s.as_str() {
        "" | "0" | "false" | "no" | "f" | "n" => Ok(false),
        "1" | "true" | "yes" | "t" | "y" => Ok(true),
        _ => Err(QualityError::InvalidValue {
            line,
            column: "tie".into(),
            message: format!(
                "`{s}` is not a tie flag; use 1/0, true/false or yes/no (empty means no tie)"
            ),
        }),
    }
}

/// Reads comparisons for ranking, in one of two layouts chosen by the header:
///
/// - `winner,loser[,tie]`: one row per comparison. A row whose `tie` column is `1`/`true`/`yes` is a tie (half a
///   win for each side); an empty or `0`/`false`/`no` tie field is a plain win. Writing a tie as two rows with
///   swapped sides gives the same estimate as one tie row counted twice.
/// - `ranking,item,position`: one row per ranked item; rows with the same `ranking` form one ranking, a lower
///   `position` is better and equal positions are tied. Each ranking is broken into all its pairs (full rank
///   breaking), which is a consistent estimator of the Plackett-Luce strengths.
pub fn read_comparisons<R: Read>(r: R) -> Result<Comparisons, QualityError> {
    let mut buf = Vec::new();
    let mut r = r;
    r.read_to_end(&mut buf)
        .map_err(|e| QualityError::Csv(format!("cannot read the input: {e}")))?;
    let first = buf.split(|&b| b == b'\n').next().unwrap_or(b"");
    let header = String::from_utf8_lossy(first).to_ascii_lowercase();
    let has = |c: &str| {
        header
            .split(',')
            .any(|h| h.trim().trim_start_matches('\u{feff}').trim_matches('"') == c)
    };
    if !has("winner") && has("ranking") {
        return read_rankings(&buf[..]);
    }
    let (mut input, cols) = Input::open(&buf[..], &["winner", "loser"], &["tie"])?;
    let (cw, cl, ct) = (cols[0].unwrap_or(0), cols[1].unwrap_or(0), cols[2]);
    let mut c = Comparisons::default();
    while let Some(line) = input.next()? {
        let w = intern(
            &mut c.items,
            input.field(cw, line, "winner")?,
            line,
            "winner",
        )?;
        let l = intern(&mut c.items, input.field(cl, line, "loser")?, line, "loser")?;
        if w == l {
            return Err(QualityError::InvalidValue {
                line,
                column: "loser".into(),
                message: format!("`{}` is compared with itself", c.items.get(w)),
            });
        }
        let tie = parse_tie(input.optional_field(ct), line)?;
        c.winner.push(w);
        c.loser.push(l);
        c.tie.push(tie);
    }
    if c.is_empty() {
        return Err(QualityError::NoData);
    }
    Ok(c)
}

fn read_rankings(buf: &[u8]) -> Result<Comparisons, QualityError> {
    let (mut input, cols) = Input::open(buf, &["ranking", "item", "position"], &[])?;
    let (cr, ci, cp) = (
        cols[0].unwrap_or(0),
        cols[1].unwrap_or(0),
        cols[2].unwrap_or(0),
    );
    let mut rankings = Interner::new();
    let mut items = Interner::new();
    let mut entries: Vec<Vec<(f64, u32, u64)>> = Vec::new();
    while let Some(line) = input.next()? {
        let rk = intern(
            &mut rankings,
            input.field(cr, line, "ranking")?,
            line,
            "ranking",
        )?;
        let it = intern(&mut items, input.field(ci, line, "item")?, line, "item")?;
        let pos = parse_number(input.field(cp, line, "position")?, line, "position")?;
        if rk as usize == entries.len() {
            entries.push(Vec::new());
        }
        if let Some(&(_, _, first)) = entries[rk as usize].iter().find(|e| e.1 == it) {
            return Err(QualityError::InvalidValue {
                line,
                column: "item".into(),
                message: format!(
                    "`{}` already appears in ranking `{}` on line {first}",
                    items.get(it),
                    rankings.get(rk)
                ),
            });
        }
        entries[rk as usize].push((pos, it, line));
    }
    let mut c = Comparisons {
        items,
        ..Default::default()
    };
    for e in &entries {
        for (i, a) in e.iter().enumerate() {
            for b in &e[i + 1..] {
                let (w, l) = if a.0 <= b.0 { (a.1, b.1) } else { (b.1, a.1) };
                c.winner.push(w);
                c.loser.push(l);
                c.tie.push(a.0 == b.0);
            }
        }
    }
    if c.is_empty() {
        return Err(QualityError::NoData);
    }
    Ok(c)
}

/// A reusable float formatter: shortest representation that parses back to the same `f64`, exactly as Rust's
/// `{}` formatting prints it (plain decimal, never an exponent; `1` rather than `1.0`).
///
/// `ryu` finds the same shortest digits several times faster than `std`, with three differences, handled here: it
/// appends `.0` to integers (stripped), it switches to an exponent outside about `1e-5..1e16`, and when two
/// shortest candidates are exactly equally close it picks the even one where `std` rounds up. Values where either
/// of the last two can happen go through `std` (see `may_tie`), so the output is `std`'s for every input.
pub fn fmt_f64(buf: &mut String, v: f64) -> &str {
    use std::fmt::Write as _;
    buf.clear();
    if v.is_finite() && !may_tie(v) {
        let mut r = ryu::Buffer::new();
        let s = r.format_finite(v);
        if !s.contains('e') {
            buf.push_str(s.strip_suffix(".0").unwrap_or(s));
            return buf;
        }
    }
    let _ = write!(buf, "{v}");
    buf
}

/// Whether the shortest decimal of `v` could be a tie between two candidates (where `ryu` and `std` may differ).
///
/// A tie needs the exact value of `v` to be halfway between two shortest candidates (at most 17 digits), so its
/// exact decimal expansion has at most 18 significant digits. With `v = m * 2^q` (`m` odd), that expansion is the
/// integer `m * 5^-q` shifted when `q < 0`; when `q >= 0`, `v` is an integer printed in full below `1e16` (and
/// larger values take the `std` path anyway). Posteriors and other computed values have a long expansion, so
/// this rarely sends anything to the slow path.
fn may_tie(v: f64) -> bool {
    let bits = v.to_bits();
    let exp = ((bits >> 52) & 0x7ff) as i32;
    let frac = bits & ((1 << 52) - 1);
    let (m, q) = if exp == 0 {
        (frac, -1074)
    } else {
        (frac | (1 << 52), exp - 1075)
    };
    if m == 0 {
        return false;
    }
    let tz = m.trailing_zeros();
    let (m, q) = (m >> tz, q + tz as i32);
    if q >= 0 {
        return false;
    }
    // 5^27 alone exceeds 10^18.
    q >= -26 && u128::from(m) * 5u128.pow(q.unsigned_abs()) < 1_000_000_000_000_000_000
}

/// Appends one CSV field as `csv::Writer` writes it by default: as is, or in double quotes (inner quotes doubled)
/// when it holds a comma, a quote or a line break.
fn push_csv_field(out: &mut Vec<u8>, field: &[u8]) {
    if field
        .iter()
        .any(|&b| matches!(b, b',' | b'"' | b'\n' | b'\r'))
    {
        out.push(b'"');
        for &b in field {
            if b == b'"' {
                out.push(b'"');
            }
            out.push(b);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(field);
    }
}

/// Writes `task,label,confidence`, one row per task, tasks in [`Interner::sorted_ids`] order.
///
/// Rows are formatted into byte buffers handed to `w` in large blocks: with a million rows, a `csv::Writer` call
/// and a `String` per row cost more than the rest of the writing. With more than one core, two blocks are
/// formatted at a time (one on a helper thread) and written in order, so the output is the same.
pub fn write_aggregation_csv<W: Write, L: AsRef<str>>(
    mut w: W,
    tasks: &Interner,
    label_of: impl Fn(u32) -> L + Sync,
    confidence: &[f64],
) -> std::io::Result<()> {
    /// Rows per block: about a megabyte of text.
    const BLOCK: usize = 1 << 15;
    let format = |ids: &[u32], out: &mut Vec<u8>| {
        out.clear();
        let mut num = String::new();
        for &t in ids {
            push_csv_field(out, tasks.get(t).as_bytes());
            out.push(b',');
            push_csv_field(out, label_of(t).as_ref().as_bytes());
            out.push(b',');
            out.extend_from_slice(fmt_f64(&mut num, confidence[t as usize]).as_bytes());
            out.push(b'\n');
        }
    };
    w.write_all(b"task,label,confidence\n")?;
    let ids = tasks.sorted_ids();
    let threaded =
        ids.len() > BLOCK && std::thread::available_parallelism().is_ok_and(|n| n.get() > 1);
    let (mut first, mut second) = (Vec::new(), Vec::new());
    if threaded {
        for pair in ids.chunks(2 * BLOCK) {
            let (a, b) = pair.split_at(pair.len().min(BLOCK));
            std::thread::scope(|s| {
                s.spawn(|| format(b, &mut second));
                format(a, &mut first);
            });
            w.write_all(&first)?;
            w.write_all(&second)?;
        }
    } else {
        for block in ids.chunks(BLOCK) {
            format(block, &mut first);
            w.write_all(&first)?;
        }
    }
    w.flush()
}

/// Writes `item,score,rank` rows in rank order.
pub fn write_ranking_csv<W: Write>(
    w: W,
    items: &Interner,
    ranking: &crate::rank::Ranking,
) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(["item", "score", "rank"])?;
    let mut num = String::new();
    for &i in &ranking.order {
        let i = i as usize;
        out.write_record([
            items.get(i as u32),
            fmt_f64(&mut num, ranking.score[i]),
            &ranking.rank[i].to_string(),
        ])?;
    }
    out.flush()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_labels_with_extra_columns_in_any_order() {
        let d = read_labels(
            "label, Task ,worker,extra\nyes,t1,w1,x\nno,t1,w2,y\nyes,t2,w1,z\n".as_bytes(),
        )
        .unwrap();
        assert_eq!(d.len(), 3);
        assert_eq!(d.tasks.len(), 2);
        assert_eq!(d.classes.get(d.label[1]), "no");
    }

    #[test]
    fn errors_name_line_and_column() {
        let e = read_labels("task,worker,label\nt1,w1,a\nt2,,b\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "line 3, column `worker`: the value is empty");
        let e = read_labels("task,annotator,label\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("no `worker` column") && e.contains("task, annotator, label"),
            "{e}"
        );
        let e = read_labels("task,worker,label\nt1,w1,a\nt2,w2\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 3:"), "{e}");
        let e = read_labels("task,worker,label\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "the input has no data rows");
        let e = read_numeric_labels("task,worker,label\nt,w,1.5\nt,v,abc\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert_eq!(e, "line 3, column `label`: `abc` is not a number");
        let e = read_ratings("item,rater,value\ni,r,1\ni,s,2\ni,r,3\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(
            e.starts_with("line 4: rater `r` already rated item `i` on line 2"),
            "{e}"
        );
        let e = read_comparisons("winner,loser,tie\na,b,maybe\n".as_bytes())
            .unwrap_err()
            .to_string();
        assert!(e.starts_with("line 2, column `tie`"), "{e}");
    }

    /// The straightforward reader `read_labels` must agree with: every record through `csv`, fields checked in
    /// order. Returns the names and ids, or the error message.
    fn reference_labels(text: &[u8]) -> Result<String, String> {
        let run = || -> Result<LabelData, QualityError> {
            let (mut input, cols) = Input::open(text, &["task", "worker", "label"], &[])?;
            let (ct, cw, cl) = (
                cols[0].unwrap_or(0),
                cols[1].unwrap_or(0),
                cols[2].unwrap_or(0),
            );
            let mut d = LabelData::new();
            while let Some(line) = input.next()? {
                let t = intern(&mut d.tasks, input.field(ct, line, "task")?, line, "task")?;
                let w = input.field(cw, line, "worker")?;
                let w = intern(&mut d.workers, w, line, "worker")?;
                let l = intern(
                    &mut d.classes,
                    input.field(cl, line, "label")?,
                    line,
                    "label",
                )?;
                d.task.push(t);
                d.worker.push(w);
                d.label.push(l);
            }
            if d.is_empty() {
                return Err(QualityError::NoData);
            }
            Ok(d)
        };
        run().map(|d| describe(&d)).map_err(|e| e.to_string())
    }

    fn describe(d: &LabelData) -> String {
        format!(
            "{:?} {:?} {:?} {:?} {:?} {:?}",
            d.tasks.iter().collect::<Vec<_>>(),
            d.workers.iter().collect::<Vec<_>>(),
            d.classes.iter().collect::<Vec<_>>(),
            d.task,
            d.worker,
            d.label
        )
    }

    #[test]
    fn reads_labels_like_a_plain_csv_loop() {
        let cases: &[&[u8]] = &[
            b"task,worker,label\nt1,w1,a\nt1,w2,b\nt2,w1,a\nt1,w3,a",
            b"task,worker,label\nt1,w1,a\n\n\nt2,w1,b\n\n",
            b"task,worker,label\r\nt1,w1,a\r\nt2,w2,b\r\n",
            b"task,worker,label\nt1,w1,a\r\nt2,w2,b\nt3,w3,c\n",
            b"task,worker,label\nt1,w1,a\n\"t,2\",w2,\"b\"\"\"\nt3,w3,c\nt4,,c\n",
            b"task,worker,label\nt1,w1,a\n\"t\n2\",w2,b\nt3,w3\n",
            b"\xef\xbb\xbftask,worker,label\nt1,w1,a\nt2,w2,b\n",
            b"\"task\nname\",worker,label,task\nt1,w1,a,x\nt2,w2,b,y\n",
            b"label,extra, Task ,worker\nyes,1,t1,w1\nno,2,t1,w2\n",
            b"task,worker,label\nt1,w1,a\nt2,w2,b,extra\n",
            b"task,worker,label\nt1,w1,a\n \nt2,w2,b\n",
            b"task,worker,label\nt1,w1,a\nt2, ,b\n",
            b"task,worker,label\nt1,w1,a\nt2,w2,\xff\n",
            b"task,worker,label\nt1,w1,a\n\xff,w2,b\n",
            b"task,worker,label\nt1,w1,a\nt2,\xfe,b\n",
            b"task,worker,label\n",
            b"task,worker,label",
            b"task,worker\nt1,w1\n",
            b"task,worker,label\n  t1 , w1 ,a \nt1,w1,a\nlong-task-name,long-worker-name,long-class-name\n",
            b"task,worker,label\nt1,w1,a\rt2,w2,b\r",
        ];
        for text in cases {
            let want = reference_labels(text);
            for fast in [true, false] {
                let got = read_labels_from(text, fast)
                    .map(|d| describe(&d))
                    .map_err(|e| e.to_string());
                assert_eq!(
                    got,
                    want,
                    "fast {fast}: {:?}",
                    String::from_utf8_lossy(text)
                );
            }
        }
    }

    #[test]
    fn formats_floats_like_std() {
        let mut buf = String::new();
        let mut x: u64 = 0x9e37_79b9_7f4a_7c15;
        let mut values = vec![
            0.0,
            -0.0,
            1.0,
            -2.0,
            0.5,
            1e-5,
            1.5e-5,
            9.99e-6,
            1e15,
            1e16,
            1.2345e16,
            1e17,
            1e-10,
            123_456_789.0,
            f64::MIN_POSITIVE,
            f64::MAX,
            f64::EPSILON,
            f64::NAN,
            f64::INFINITY,
            f64::NEG_INFINITY,
            0.1 + 0.2,
            2.0 / 3.0,
            // Exact ties between two shortest candidates: `std` rounds them up, `ryu` to even.
            f64::from_bits(0x4312_9879_088f_f039),
            65_537.0 / 131_072.0,
        ];
        for j in (1..1u64 << 20).step_by(7) {
            for shift in [3, 10, 17, 20, 24, 30] {
                values.push(j as f64 / (1u64 << shift) as f64);
            }
        }
        for _ in 0..100_000 {
            // SplitMix64: random bit patterns and random probabilities.
            x = x.wrapping_add(0x9e37_79b9_7f4a_7c15);
            let mut z = x;
            z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
            z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
            z ^= z >> 31;
            values.push(f64::from_bits(z));
            values.push((z >> 11) as f64 / (1u64 << 53) as f64);
        }
        for v in values {
            assert_eq!(fmt_f64(&mut buf, v), format!("{v}"), "{:#x}", v.to_bits());
        }
    }

    #[test]
    fn aggregation_csv_blocks_come_out_in_order() {
        // More than two blocks of rows, so that the threaded path formats several pairs.
        let mut tasks = Interner::new();
        let n = 70_001;
        for i in 0..n {
            tasks.intern(&format!("{}", n - i));
        }
        let conf: Vec<f64> = (0..n).map(|i| 1.0 / (i + 3) as f64).collect();
        let mut ours = Vec::new();
        write_aggregation_csv(
            &mut ours,
            &tasks,
            |t| if t % 2 == 0 { "a,b" } else { "c" },
            &conf,
        )
        .unwrap();
        let mut want = String::from("task,label,confidence\n");
        for t in tasks.sorted_ids() {
            let label = if t % 2 == 0 { "\"a,b\"" } else { "c" };
            want.push_str(&format!("{},{label},{}\n", tasks.get(t), conf[t as usize]));
        }
        assert_eq!(String::from_utf8(ours).unwrap(), want);
    }

    #[test]
    fn aggregation_csv_quotes_like_the_csv_crate() {
        let mut tasks = Interner::new();
        let names = [
            "plain",
            "a,b",
            "say \"hi\"",
            "two\nlines",
            "cr\r",
            " spaced ",
            "é",
        ];
        for n in names {
            tasks.intern(n);
        }
        let conf: Vec<f64> = (0..names.len()).map(|i| 1.0 / (i + 1) as f64).collect();
        let label = |t: u32| names[(t as usize + 1) % names.len()];
        let mut ours = Vec::new();
        write_aggregation_csv(&mut ours, &tasks, label, &conf).unwrap();
        let mut theirs = csv::Writer::from_writer(Vec::new());
        theirs
            .write_record(["task", "label", "confidence"])
            .unwrap();
        for t in tasks.sorted_ids() {
            let c = format!("{}", conf[t as usize]);
            theirs
                .write_record([tasks.get(t), label(t), c.as_str()])
                .unwrap();
        }
        assert_eq!(
            String::from_utf8(ours).unwrap(),
            String::from_utf8(theirs.into_inner().unwrap()).unwrap()
        );
    }

    #[test]
    fn reads_questions_and_rankings() {
        let q =
            read_ratings("question,item,rater,value\nq1,i,a,1\nq2,i,a,1\nq1,i,b,2\n".as_bytes())
                .unwrap();
        assert_eq!(q.len(), 2);
        assert_eq!(q[0].question.as_deref(), Some("q1"));
        assert_eq!(q[0].data.len(), 2);
        let c =
            read_comparisons("ranking,item,position\nr1,a,1\nr1,b,2\nr1,c,2\n".as_bytes()).unwrap();
        assert_eq!(c.len(), 3);
        assert_eq!(c.tie, [false, false, true]);
        let c = read_comparisons("winner,loser\na,b\n".as_bytes()).unwrap();
        assert_eq!(c.tie, [false]);
    }
}
