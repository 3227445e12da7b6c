//! CSV input and output for the `fairloop quality` commands.
//!
//! Readers take any [`std::io::Read`], reuse one `csv::ByteRecord` for every row and intern names as they go, so
//! reading costs no allocation per row. Headers are matched by name (case-insensitive, surrounding spaces ignored,
//! extra columns ignored, in any order). Every error names the line (the header is line 1) and the column.
//!
//! Writers print floats with Rust's shortest round-trip formatting: full precision, no noise digits.

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

/// Reads `task,worker,label` rows (crowd-kit's layout) for categorical aggregation.
pub fn read_labels<R: Read>(r: R) -> Result<LabelData, QualityError> {
    let (mut input, cols) = Input::open(r, &["task", "worker", "label"], &[])?;
    let (ct, cw, cl) = (
        cols[0].unwrap_or(0),
        cols[1].unwrap_or(0),
        cols[2].unwrap_or(0),
    );
    let mut d = LabelData::new();
    // Consecutive rows usually share a task; remember the last one to skip the hash lookup.
    let mut last_task: Option<(Vec<u8>, u32)> = None;
    while let Some(line) = input.next()? {
        let t = input.field(ct, line, "task")?;
        let tid = match &last_task {
            Some((name, id)) if name.as_slice() == t => *id,
            _ => {
                let id = intern(&mut d.tasks, t, line, "task")?;
                match &mut last_task {
                    Some((name, last)) => {
                        name.clear();
                        name.extend_from_slice(t);
                        *last = id;
                    }
                    None => last_task = Some((t.to_vec(), id)),
                }
                id
            }
        };
        let w = input.field(cw, line, "worker")?;
        let wid = intern(&mut d.workers, w, line, "worker")?;
        let l = input.field(cl, line, "label")?;
        let lid = intern(&mut d.classes, l, line, "label")?;
        d.task.push(tid);
        d.worker.push(wid);
        d.label.push(lid);
    }
    if d.is_empty() {
        return Err(QualityError::NoData);
    }
    Ok(d)
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

/// A reusable float formatter: shortest representation that parses back to the same `f64`.
pub fn fmt_f64(buf: &mut String, v: f64) -> &str {
    use std::fmt::Write as _;
    buf.clear();
    let _ = write!(buf, "{v}");
    buf
}

/// Writes `task,label,confidence`, one row per task, tasks in [`Interner::sorted_ids`] order.
pub fn write_aggregation_csv<W: Write>(
    w: W,
    tasks: &Interner,
    label_of: impl Fn(u32) -> String,
    confidence: &[f64],
) -> std::io::Result<()> {
    let mut out = csv::Writer::from_writer(w);
    out.write_record(["task", "label", "confidence"])?;
    let mut num = String::new();
    for t in tasks.sorted_ids() {
        let label = label_of(t);
        out.write_record([
            tasks.get(t),
            label.as_str(),
            fmt_f64(&mut num, confidence[t as usize]),
        ])?;
    }
    out.flush()
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
