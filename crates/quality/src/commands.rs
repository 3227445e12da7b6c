//! The `fairloop quality` commands minus argument parsing: read CSV, run, write CSV, return the JSON summary.
//!
//! The binary's clap layer (and the benchmark example) call these, so the command behaviour is tested here
//! without building the server crates. Output conventions (public contract):
//! - `aggregate`: CSV `task,label,confidence`, one row per task, sorted by task (numerically when every task
//!   name is an integer); summary `{"method", "tasks", "workers", "iterations", "worker_skill": {worker: value}}`
//!   plus `labels` (the number of input rows), `classes` and `priors`.
//! - `agreement`: the value alone, full precision (`{}` formatting of an `f64` round-trips); with a `question`
//!   column, CSV `question,value`. Summary: metric, level, value, items, raters, pairable values, observed and
//!   expected disagreement.
//! - `rank`: CSV `item,score,rank` in rank order; summary method, items, comparisons, iterations, converged,
//!   log-likelihood, regularized.

use std::io::{Read, Write};

use serde_json::{Map, Value, json};

use crate::QualityError;
use crate::aggregate::numeric::{NumericMethod, aggregate_numeric};
use crate::aggregate::{Method, Options, aggregate};
use crate::agreement::{Level, Metric, Weights, agreement};
use crate::io::{self, fmt_f64};
use crate::rank::{RankOptions, bradley_terry};

/// Method names `aggregate` accepts: the contract's five plus the numeric ones.
pub const AGGREGATE_METHODS: &[&str] = &[
    "majority",
    "dawid-skene",
    "one-coin-dawid-skene",
    "glad",
    "mace",
    "mean",
    "median",
    "trimmed-mean",
];

/// Metric names `agreement` accepts.
pub const AGREEMENT_METRICS: &[&str] = &[
    "krippendorff-alpha",
    "fleiss-kappa",
    "cohen-kappa",
    "percent-agreement",
    "randolph-kappa",
];

/// Settings of `aggregate` besides the method.
#[derive(Debug, Clone, Copy)]
pub struct AggregateSettings {
    /// Iteration limit and tolerance for the EM methods.
    pub options: Options,
    /// Proportion cut from each end by `trimmed-mean`.
    pub trim: f64,
}

impl Default for AggregateSettings {
    fn default() -> Self {
        AggregateSettings {
            options: Options::default(),
            trim: 0.1,
        }
    }
}

fn unknown(kind: &str, got: &str, known: &[&str]) -> QualityError {
    QualityError::Unsupported(format!(
        "unknown {kind} `{got}`; use one of: {}",
        known.join(", ")
    ))
}

fn num(v: f64) -> Value {
    serde_json::Number::from_f64(v).map_or(Value::Null, Value::Number)
}

/// Runs `fairloop quality aggregate`: reads `task,worker,label`, writes the CSV to `csv_out` (if any) and returns
/// the JSON summary.
pub fn aggregate_command(
    method: &str,
    settings: AggregateSettings,
    input: impl Read,
    csv_out: Option<&mut dyn Write>,
) -> Result<Value, QualityError> {
    let numeric = match method {
        "mean" => Some(NumericMethod::Mean),
        "median" => Some(NumericMethod::Median),
        "trimmed-mean" => Some(NumericMethod::TrimmedMean(settings.trim)),
        _ => None,
    };
    if let Some(nm) = numeric {
        if let NumericMethod::TrimmedMean(p) = nm {
            // Check before reading a large file.
            crate::aggregate::numeric::trimmed_mean(&mut [], p)?;
        }
        let data = io::read_numeric_labels(input)?;
        let r = aggregate_numeric(&data, nm)?;
        if let Some(w) = csv_out {
            let value = &r.value;
            io::write_aggregation_csv(
                w,
                &data.tasks,
                |t| value[t as usize].to_string(),
                &r.std_error,
            )?;
        }
        return Ok(json!({
            "method": method,
            "tasks": data.tasks.len(),
            "workers": data.workers.len(),
            "iterations": 0,
            "worker_skill": {},
            "labels": data.task.len(),
        }));
    }
    let m = Method::parse(method).ok_or_else(|| unknown("method", method, AGGREGATE_METHODS))?;
    let data = io::read_labels(input)?;
    let r = aggregate(&data, m, settings.options);
    if let Some(w) = csv_out {
        io::write_aggregation_csv(
            w,
            &data.tasks,
            |t| data.classes.get(r.label[t as usize]),
            &r.confidence,
        )?;
    }
    let mut skill = Map::new();
    for w in data.workers.sorted_ids() {
        skill.insert(
            data.workers.get(w).to_string(),
            num(r.worker_skill[w as usize]),
        );
    }
    let mut priors = Map::new();
    for (c, p) in r.priors.iter().enumerate() {
        priors.insert(data.classes.get(c as u32).to_string(), num(*p));
    }
    Ok(json!({
        "method": m.name(),
        "tasks": data.tasks.len(),
        "workers": data.workers.len(),
        "iterations": r.iterations,
        "worker_skill": skill,
        "labels": data.len(),
        "classes": data.classes.iter().collect::<Vec<_>>(),
        "priors": priors,
    }))
}

/// What `agreement` prints: `text` without `--json`, `json` with it.
#[derive(Debug, Clone)]
pub struct AgreementOutput {
    /// The value alone and a newline, or CSV `question,value` when the input has questions.
    pub text: String,
    /// The details: one object, or an array of objects (one per question).
    pub json: Value,
}

/// Runs `fairloop quality agreement`. `level` applies to Krippendorff's alpha (default `nominal`), `weights`
/// (`none`, `linear`, `quadratic`) to Cohen's kappa.
pub fn agreement_command(
    metric: &str,
    level: Option<&str>,
    weights: Option<&str>,
    input: impl Read,
) -> Result<AgreementOutput, QualityError> {
    let lvl = match level {
        None => Level::Nominal,
        Some(l) => Level::parse(l)
            .ok_or_else(|| unknown("level", l, &["nominal", "ordinal", "interval", "ratio"]))?,
    };
    let w = match weights.unwrap_or("none") {
        "none" | "unweighted" => Weights::Unweighted,
        "linear" => Weights::Linear,
        "quadratic" => Weights::Quadratic,
        other => return Err(unknown("weights", other, &["none", "linear", "quadratic"])),
    };
    let m = match metric {
        "krippendorff-alpha" => Metric::KrippendorffAlpha(lvl),
        "fleiss-kappa" => Metric::FleissKappa,
        "randolph-kappa" => Metric::RandolphKappa,
        "cohen-kappa" => Metric::CohenKappa(w),
        "percent-agreement" => Metric::PercentAgreement,
        other => return Err(unknown("metric", other, AGREEMENT_METRICS)),
    };
    if level.is_some() && !matches!(m, Metric::KrippendorffAlpha(_)) {
        return Err(QualityError::Unsupported(format!(
            "--level applies to krippendorff-alpha only, not {metric}"
        )));
    }
    let sets = io::read_ratings(input)?;
    let mut text = String::new();
    let mut details = Vec::new();
    let with_questions = sets.first().is_some_and(|s| s.question.is_some());
    if with_questions {
        text.push_str("question,value\n");
    }
    let mut buf = String::new();
    for set in &sets {
        let a = agreement(&set.data, m).map_err(|e| match &set.question {
            Some(q) => QualityError::Unsupported(format!("question `{q}`: {e}")),
            None => e,
        })?;
        match &set.question {
            Some(q) => {
                let mut wtr = csv::Writer::from_writer(Vec::new());
                wtr.write_record([q.as_str(), fmt_f64(&mut buf, a.value)])
                    .map_err(QualityError::from_csv)?;
                text.push_str(&String::from_utf8_lossy(
                    &wtr.into_inner().map_err(|e| e.into_error())?,
                ));
            }
            None => {
                text.push_str(fmt_f64(&mut buf, a.value));
                text.push('\n');
            }
        }
        let mut obj = Map::new();
        if let Some(q) = &set.question {
            obj.insert("question".into(), json!(q));
        }
        obj.insert("metric".into(), json!(metric));
        if let Metric::KrippendorffAlpha(l) = m {
            obj.insert("level".into(), json!(l.name()));
        }
        if let Metric::CohenKappa(w) = m {
            let name = match w {
                Weights::Unweighted => "none",
                Weights::Linear => "linear",
                Weights::Quadratic => "quadratic",
            };
            obj.insert("weights".into(), json!(name));
        }
        obj.insert("value".into(), num(a.value));
        obj.insert("items".into(), json!(a.items));
        obj.insert("raters".into(), json!(a.raters));
        obj.insert("pairable_values".into(), json!(a.pairable_values));
        obj.insert("observed_disagreement".into(), num(a.observed_disagreement));
        obj.insert(
            "expected_disagreement".into(),
            a.expected_disagreement.map_or(Value::Null, num),
        );
        details.push(Value::Object(obj));
    }
    let json = if with_questions {
        Value::Array(details)
    } else {
        details.pop().unwrap_or(Value::Null)
    };
    Ok(AgreementOutput { text, json })
}

/// Runs `fairloop quality rank` (method `bradley-terry`): reads comparisons or rankings, writes
/// `item,score,rank` to `csv_out` (if any) and returns the JSON summary.
pub fn rank_command(
    method: &str,
    input: impl Read,
    csv_out: Option<&mut dyn Write>,
) -> Result<Value, QualityError> {
    if method != "bradley-terry" {
        return Err(unknown("method", method, &["bradley-terry"]));
    }
    let c = io::read_comparisons(input)?;
    let r = bradley_terry(&c, RankOptions::default());
    if let Some(w) = csv_out {
        io::write_ranking_csv(w, &c.items, &r)?;
    }
    Ok(json!({
        "method": method,
        "items": c.items.len(),
        "comparisons": c.len(),
        "ties": c.tie.iter().filter(|t| **t).count(),
        "iterations": r.iterations,
        "converged": r.converged,
        "log_likelihood": num(r.log_likelihood),
        "regularized": r.regularized,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn aggregate_writes_sorted_csv_and_summary() {
        let input = "task,worker,label\n10,a,x\n2,a,y\n10,b,x\n2,b,y\n2,c,x\n";
        let mut out = Vec::new();
        let s = aggregate_command(
            "majority",
            AggregateSettings::default(),
            input.as_bytes(),
            Some(&mut out),
        )
        .unwrap();
        let csv = String::from_utf8(out).unwrap();
        assert_eq!(
            csv,
            "task,label,confidence\n2,y,0.6666666666666666\n10,x,1\n"
        );
        assert_eq!(s["tasks"], 2);
        assert_eq!(s["workers"], 3);
        assert_eq!(s["worker_skill"]["c"], 0.0);
        let mut out = Vec::new();
        aggregate_command(
            "median",
            AggregateSettings::default(),
            "task,worker,label\nt,a,1\nt,b,4\n".as_bytes(),
            Some(&mut out),
        )
        .unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "task,label,confidence\nt,2.5,1.5\n"
        );
        let e = aggregate_command("vote", AggregateSettings::default(), "".as_bytes(), None)
            .unwrap_err();
        assert!(e.to_string().starts_with("unknown method `vote`"));
    }

    #[test]
    fn agreement_prints_value_alone_or_per_question() {
        let input = "item,rater,value\n1,a,x\n1,b,x\n2,a,y\n2,b,x\n";
        let o = agreement_command("percent-agreement", None, None, input.as_bytes()).unwrap();
        assert_eq!(o.text, "0.5\n");
        assert_eq!(o.json["pairable_values"], 4);
        let input = "question,item,rater,value\nq,1,a,x\nq,1,b,x\nr,1,a,1\nr,1,b,2\n";
        let o = agreement_command("percent-agreement", None, None, input.as_bytes()).unwrap();
        assert_eq!(o.text, "question,value\nq,1\nr,0\n");
        assert!(
            agreement_command("fleiss-kappa", Some("ordinal"), None, input.as_bytes()).is_err()
        );
    }

    #[test]
    fn rank_writes_items_in_rank_order() {
        let mut out = Vec::new();
        let s = rank_command(
            "bradley-terry",
            "winner,loser\na,b\nb,a\na,b\n".as_bytes(),
            Some(&mut out),
        )
        .unwrap();
        let csv = String::from_utf8(out).unwrap();
        assert!(
            csv.starts_with("item,score,rank\na,0.34657359027997"),
            "{csv}"
        );
        assert!(csv.ends_with(",2\n"));
        assert_eq!(s["comparisons"], 3);
    }
}
