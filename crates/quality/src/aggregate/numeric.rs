//! Numeric answers (a count, a price, a bounding-box coordinate): mean, median and trimmed mean per task.
//!
//! The trimmed mean follows `scipy.stats.trim_mean`: with `n` answers and proportion `p`, drop `floor(p * n)`
//! answers from each end of the sorted list and average the rest. It resists a minority of wild answers while
//! using more of the data than the median.
//!
//! Alongside each estimate we report the standard error of the mean of the task's answers (sample standard
//! deviation over the square root of `n`; 0 for a single answer): a spread measure in the answers' own unit, where
//! smaller means the workers agree more. The CLI writes it in the `confidence` column.

use crate::QualityError;
use crate::data::NumericData;

/// A numeric aggregation method.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum NumericMethod {
    /// Arithmetic mean.
    Mean,
    /// Median (mean of the two middle answers when their number is even).
    Median,
    /// Mean after cutting this proportion (0 to below 0.5) from each end.
    TrimmedMean(f64),
}

/// Per-task estimates, indexed by task id.
#[derive(Debug, Clone)]
pub struct NumericAggregation {
    /// The estimate per task.
    pub value: Vec<f64>,
    /// Standard error of the mean of the task's answers.
    pub std_error: Vec<f64>,
    /// Number of answers per task.
    pub count: Vec<usize>,
}

/// Mean of a slice (0 for an empty one).
pub fn mean(v: &[f64]) -> f64 {
    if v.is_empty() {
        0.0
    } else {
        v.iter().sum::<f64>() / v.len() as f64
    }
}

/// Median of a slice; sorts it in place.
pub fn median(v: &mut [f64]) -> f64 {
    if v.is_empty() {
        return 0.0;
    }
    v.sort_by(f64::total_cmp);
    let n = v.len();
    if n % 2 == 1 {
        v[n / 2]
    } else {
        0.5 * (v[n / 2 - 1] + v[n / 2])
    }
}

/// Trimmed mean as `scipy.stats.trim_mean`; sorts the slice in place.
pub fn trimmed_mean(v: &mut [f64], proportion: f64) -> Result<f64, QualityError> {
    if !(0.0..0.5).contains(&proportion) {
        return Err(QualityError::Unsupported(format!(
            "the trim proportion must be at least 0 and below 0.5, got {proportion}"
        )));
    }
    v.sort_by(f64::total_cmp);
    let cut = (proportion * v.len() as f64).floor() as usize;
    Ok(mean(&v[cut..v.len() - cut]))
}

/// Aggregates every task's answers.
pub fn aggregate_numeric(
    data: &NumericData,
    method: NumericMethod,
) -> Result<NumericAggregation, QualityError> {
    let n_tasks = data.tasks.len();
    let mut by_task: Vec<Vec<f64>> = vec![Vec::new(); n_tasks];
    for (&t, &v) in data.task.iter().zip(&data.value) {
        by_task[t as usize].push(v);
    }
    let mut out = NumericAggregation {
        value: Vec::new(),
        std_error: Vec::new(),
        count: Vec::new(),
    };
    for vals in &mut by_task {
        let n = vals.len();
        let m = mean(vals);
        let se = if n > 1 {
            (vals.iter().map(|x| (x - m) * (x - m)).sum::<f64>() / ((n - 1) * n) as f64).sqrt()
        } else {
            0.0
        };
        let est = match method {
            NumericMethod::Mean => m,
            NumericMethod::Median => median(vals),
            NumericMethod::TrimmedMean(p) => trimmed_mean(vals, p)?,
        };
        out.value.push(est);
        out.std_error.push(se);
        out.count.push(n);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numeric_estimators() {
        let mut v = vec![1.0, 2.0, 3.0, 4.0, 100.0];
        assert_eq!(mean(&v), 22.0);
        assert_eq!(median(&mut v.clone()), 3.0);
        assert_eq!(median(&mut [4.0, 1.0, 2.0, 3.0]), 2.5);
        // scipy.stats.trim_mean([1, 2, 3, 4, 100], 0.2) == 3.0
        assert_eq!(trimmed_mean(&mut v, 0.2).unwrap(), 3.0);
        assert_eq!(trimmed_mean(&mut v, 0.1).unwrap(), 22.0);
        assert!(trimmed_mean(&mut v, 0.5).is_err());
        let mut d = NumericData::default();
        d.push("t", "a", 1.0);
        d.push("t", "b", 3.0);
        d.push("u", "a", 5.0);
        let r = aggregate_numeric(&d, NumericMethod::Median).unwrap();
        assert_eq!(r.value, [2.0, 5.0]);
        assert_eq!(r.std_error[1], 0.0);
        assert!((r.std_error[0] - 1.0).abs() < 1e-15);
    }
}
