//! Inter-rater agreement: percent agreement, Cohen's kappa (unweighted, linear, quadratic), Fleiss' kappa,
//! Randolph's free-marginal kappa and Krippendorff's alpha (nominal, ordinal, interval, ratio; missing ratings
//! allowed).
//!
//! Definitions follow the reference implementations, so values agree with them to rounding (tests check 1e-9):
//! - Krippendorff's alpha as in Krippendorff (2011) and the `krippendorff` Python package: `1 - D_o / D_e` over
//!   the coincidences of pairable values (items with at least two ratings); the ordinal distance uses the
//!   marginal counts of the values between the two values. Interval, ratio and ordinal levels need numeric values.
//! - Cohen's kappa as scikit-learn's `cohen_kappa_score`: over items rated by both raters; the weighted variants
//!   weight by the distance between the *positions* of the two labels in sorted order (numeric order when every
//!   label is a number, else text order), not by the values themselves.
//! - Fleiss' kappa as statsmodels' `fleiss_kappa`; when items have different numbers of ratings we use each item's
//!   own count in its agreement term (the usual generalisation; identical to statsmodels when all counts are
//!   equal). Items with fewer than two ratings carry no agreement information and are left out.
//! - Percent agreement: the share of agreeing rater pairs per item, averaged over items with two or more ratings
//!   (for two raters: the share of items on which they agree).

// Parallel arrays are indexed by dense ids on purpose: it is the layout these loops are written for.
#![allow(clippy::needless_range_loop)]

use crate::QualityError;
use crate::data::RatingData;

/// Level of measurement for Krippendorff's alpha.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Unordered categories.
    Nominal,
    /// Ordered categories (only the order matters).
    Ordinal,
    /// Numbers whose differences matter.
    Interval,
    /// Numbers whose ratios matter (absolute zero).
    Ratio,
}

impl Level {
    /// Parses the CLI name (`nominal`, `ordinal`, `interval`, `ratio`).
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "nominal" => Some(Level::Nominal),
            "ordinal" => Some(Level::Ordinal),
            "interval" => Some(Level::Interval),
            "ratio" => Some(Level::Ratio),
            _ => None,
        }
    }

    /// The CLI name.
    pub fn name(self) -> &'static str {
        match self {
            Level::Nominal => "nominal",
            Level::Ordinal => "ordinal",
            Level::Interval => "interval",
            Level::Ratio => "ratio",
        }
    }
}

/// Disagreement weights for Cohen's kappa.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weights {
    /// Any disagreement counts 1.
    Unweighted,
    /// Distance between label positions.
    Linear,
    /// Squared distance between label positions.
    Quadratic,
}

/// An agreement metric.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Metric {
    /// Krippendorff's alpha at a level of measurement.
    KrippendorffAlpha(Level),
    /// Fleiss' kappa.
    FleissKappa,
    /// Randolph's free-marginal multirater kappa (chance agreement `1 / categories`).
    RandolphKappa,
    /// Cohen's kappa for exactly two raters.
    CohenKappa(Weights),
    /// Mean pairwise percent agreement.
    PercentAgreement,
}

/// An agreement value with the numbers behind it (the CLI's `--json` details).
#[derive(Debug, Clone, PartialEq)]
pub struct Agreement {
    /// The coefficient.
    pub value: f64,
    /// Items in the input.
    pub items: usize,
    /// Raters in the input.
    pub raters: usize,
    /// Values that entered the computation (ratings of items with at least two ratings; for Cohen's kappa, the
    /// ratings of items both raters rated).
    pub pairable_values: usize,
    /// Observed disagreement (`1 - observed agreement` for the kappas).
    pub observed_disagreement: f64,
    /// Expected (chance) disagreement; `None` for percent agreement.
    pub expected_disagreement: Option<f64>,
}

/// Krippendorff's alpha from per-unit value counts. `units[u]` lists `(value index, count)`; `values` are the
/// numeric values by index (used by the interval and ratio levels) and must be sorted ascending for the ordinal
/// level. Returns `(alpha, pairable values, D_o, D_e)`.
pub fn krippendorff_alpha_counts(
    units: &[Vec<(usize, f64)>],
    values: &[f64],
    level: Level,
) -> (f64, f64, f64, f64) {
    let v = values.len();
    let mut n_c = vec![0.0; v];
    for unit in units {
        let m: f64 = unit.iter().map(|x| x.1).sum();
        if m >= 2.0 {
            for &(c, cnt) in unit {
                n_c[c] += cnt;
            }
        }
    }
    let n: f64 = n_c.iter().sum();
    let mut cum = vec![0.0; v + 1];
    for i in 0..v {
        cum[i + 1] = cum[i] + n_c[i];
    }
    let delta = |c: usize, k: usize| -> f64 {
        if c == k {
            return 0.0;
        }
        match level {
            Level::Nominal => 1.0,
            Level::Interval => (values[c] - values[k]).powi(2),
            Level::Ratio => {
                let s = values[c] + values[k];
                if s == 0.0 {
                    0.0
                } else {
                    ((values[c] - values[k]) / s).powi(2)
                }
            }
            Level::Ordinal => {
                let (lo, hi) = if c < k { (c, k) } else { (k, c) };
                (cum[hi + 1] - cum[lo] - (n_c[c] + n_c[k]) / 2.0).powi(2)
            }
        }
    };
    let mut d_o = 0.0;
    for unit in units {
        let m: f64 = unit.iter().map(|x| x.1).sum();
        if m < 2.0 {
            continue;
        }
        let mut s = 0.0;
        for &(c, a) in unit {
            for &(k, b) in unit {
                s += a * b * delta(c, k);
            }
        }
        d_o += s / (m - 1.0);
    }
    d_o /= n;
    let e_sum = match level {
        Level::Nominal => n * n - n_c.iter().map(|x| x * x).sum::<f64>(),
        Level::Interval => {
            let mu = (0..v).map(|i| n_c[i] * values[i]).sum::<f64>() / n;
            2.0 * n
                * (0..v)
                    .map(|i| n_c[i] * (values[i] - mu).powi(2))
                    .sum::<f64>()
        }
        _ => {
            let mut s = 0.0;
            for c in 0..v {
                if n_c[c] == 0.0 {
                    continue;
                }
                for k in 0..v {
                    s += n_c[c] * n_c[k] * delta(c, k);
                }
            }
            s
        }
    };
    let d_e = e_sum / (n * (n - 1.0));
    (1.0 - d_o / d_e, n, d_o, d_e)
}

/// Fleiss' kappa from an `items x categories` count table. Returns `(kappa, mean observed agreement, chance
/// agreement)`. Rows with fewer than two ratings are skipped.
pub fn fleiss_kappa_table(table: &[Vec<f64>]) -> (f64, f64, f64) {
    let k = table.iter().map(Vec::len).max().unwrap_or(0);
    let mut p_cat = vec![0.0; k];
    let mut total = 0.0;
    let mut p_sum = 0.0;
    let mut rows = 0usize;
    for row in table {
        let n: f64 = row.iter().sum();
        if n < 2.0 {
            continue;
        }
        rows += 1;
        total += n;
        for (p, x) in p_cat.iter_mut().zip(row) {
            *p += x;
        }
        p_sum += (row.iter().map(|x| x * x).sum::<f64>() - n) / (n * (n - 1.0));
    }
    let p_bar = p_sum / rows as f64;
    let p_e: f64 = p_cat.iter().map(|x| (x / total).powi(2)).sum();
    ((p_bar - p_e) / (1.0 - p_e), p_bar, p_e)
}

/// Cohen's kappa from paired label positions `(rater 1, rater 2)` among `n_labels` ordered labels.
/// Returns `(kappa, observed disagreement, expected disagreement)`.
pub fn cohen_kappa_pairs(
    pairs: &[(usize, usize)],
    n_labels: usize,
    weights: Weights,
) -> (f64, f64, f64) {
    let k = n_labels;
    let mut conf = vec![0.0; k * k];
    for &(a, b) in pairs {
        conf[a * k + b] += 1.0;
    }
    let n = pairs.len() as f64;
    let mut r = vec![0.0; k];
    let mut c = vec![0.0; k];
    for i in 0..k {
        for j in 0..k {
            r[i] += conf[i * k + j];
            c[j] += conf[i * k + j];
        }
    }
    let (mut o, mut e) = (0.0, 0.0);
    for i in 0..k {
        for j in 0..k {
            let d = i.abs_diff(j) as f64;
            let w = match weights {
                Weights::Unweighted => f64::from(u8::from(i != j)),
                Weights::Linear => d,
                Weights::Quadratic => d * d,
            };
            o += w * conf[i * k + j] / n;
            e += w * r[i] * c[j] / (n * n);
        }
    }
    (1.0 - o / e, o, e)
}

/// Value ids in sort order: numeric when every value is a number, else by text. Returns (position of each value
/// id, numeric value of each position if numeric).
fn order_values(data: &RatingData) -> (Vec<usize>, Option<Vec<f64>>) {
    let nums: Option<Vec<f64>> = data
        .values
        .iter()
        .map(|s| s.parse::<f64>().ok().filter(|v| v.is_finite()))
        .collect();
    let mut ids: Vec<usize> = (0..data.values.len()).collect();
    match &nums {
        Some(v) => ids.sort_by(|&a, &b| v[a].total_cmp(&v[b])),
        None => ids.sort_by(|&a, &b| data.values.get(a as u32).cmp(data.values.get(b as u32))),
    }
    let mut pos = vec![0; ids.len()];
    for (p, &id) in ids.iter().enumerate() {
        pos[id] = p;
    }
    let sorted_nums = nums.map(|v| ids.iter().map(|&id| v[id]).collect());
    (pos, sorted_nums)
}

fn per_item(data: &RatingData) -> Vec<Vec<u32>> {
    let mut items = vec![Vec::new(); data.items.len()];
    for (&i, &v) in data.item.iter().zip(&data.value) {
        items[i as usize].push(v);
    }
    items
}

/// Computes `metric` on `data`.
pub fn agreement(data: &RatingData, metric: Metric) -> Result<Agreement, QualityError> {
    if data.is_empty() {
        return Err(QualityError::NoData);
    }
    let items = per_item(data);
    let base = Agreement {
        value: f64::NAN,
        items: data.items.len(),
        raters: data.raters.len(),
        pairable_values: 0,
        observed_disagreement: f64::NAN,
        expected_disagreement: None,
    };
    let pairable: usize = items.iter().filter(|v| v.len() >= 2).map(Vec::len).sum();
    if pairable == 0 && !matches!(metric, Metric::CohenKappa(_)) {
        return Err(QualityError::Unsupported(
            "no item has two or more ratings, so agreement cannot be measured".into(),
        ));
    }
    match metric {
        Metric::KrippendorffAlpha(level) => {
            let (units, values): (Vec<Vec<(usize, f64)>>, Vec<f64>) = if level == Level::Nominal {
                let units = items
                    .iter()
                    .map(|vals| counts(vals.iter().map(|&v| v as usize)))
                    .collect();
                (units, vec![0.0; data.values.len()])
            } else {
                let mut num = Vec::with_capacity(data.values.len());
                for s in data.values.iter() {
                    match s.parse::<f64>() {
                        Ok(v) if v.is_finite() => num.push(v),
                        _ => {
                            return Err(QualityError::Unsupported(format!(
                                "Krippendorff's alpha at the {} level needs numeric values, but `{s}` is not a \
                                 number (use --level nominal for categories)",
                                level.name()
                            )));
                        }
                    }
                }
                let mut distinct = num.clone();
                distinct.sort_by(f64::total_cmp);
                distinct.dedup();
                let pos: Vec<usize> = num
                    .iter()
                    .map(|v| distinct.binary_search_by(|x| x.total_cmp(v)).unwrap_or(0))
                    .collect();
                let units = items
                    .iter()
                    .map(|vals| counts(vals.iter().map(|&v| pos[v as usize])))
                    .collect();
                (units, distinct)
            };
            let (alpha, n, d_o, d_e) = krippendorff_alpha_counts(&units, &values, level);
            Ok(Agreement {
                value: alpha,
                pairable_values: n as usize,
                observed_disagreement: d_o,
                expected_disagreement: Some(d_e),
                ..base
            })
        }
        Metric::FleissKappa | Metric::RandolphKappa => {
            let k = data.values.len();
            let table: Vec<Vec<f64>> = items
                .iter()
                .filter(|v| v.len() >= 2)
                .map(|vals| {
                    let mut row = vec![0.0; k];
                    for &v in vals {
                        row[v as usize] += 1.0;
                    }
                    row
                })
                .collect();
            let (kappa, p_bar, p_e) = fleiss_kappa_table(&table);
            let (value, p_e) = if metric == Metric::RandolphKappa {
                let p_e = 1.0 / k as f64;
                ((p_bar - p_e) / (1.0 - p_e), p_e)
            } else {
                (kappa, p_e)
            };
            Ok(Agreement {
                value,
                pairable_values: pairable,
                observed_disagreement: 1.0 - p_bar,
                expected_disagreement: Some(1.0 - p_e),
                ..base
            })
        }
        Metric::PercentAgreement => {
            let (mut sum, mut n) = (0.0, 0usize);
            for vals in items.iter().filter(|v| v.len() >= 2) {
                let m = vals.len() as f64;
                let agree: f64 = counts(vals.iter().map(|&v| v as usize))
                    .iter()
                    .map(|&(_, c)| c * (c - 1.0))
                    .sum();
                sum += agree / (m * (m - 1.0));
                n += 1;
            }
            let value = sum / n as f64;
            Ok(Agreement {
                value,
                pairable_values: pairable,
                observed_disagreement: 1.0 - value,
                expected_disagreement: None,
                ..base
            })
        }
        Metric::CohenKappa(weights) => {
            if data.raters.len() != 2 {
                return Err(QualityError::Unsupported(format!(
                    "Cohen's kappa compares exactly two raters, but the input has {} ({}); use fleiss-kappa or \
                     krippendorff-alpha for more",
                    data.raters.len(),
                    data.raters.iter().take(5).collect::<Vec<_>>().join(", ")
                )));
            }
            let mut first: Vec<Option<u32>> = vec![None; data.items.len()];
            let mut second: Vec<Option<u32>> = vec![None; data.items.len()];
            for ((&i, &r), &v) in data.item.iter().zip(&data.rater).zip(&data.value) {
                if r == 0 {
                    first[i as usize] = Some(v);
                } else {
                    second[i as usize] = Some(v);
                }
            }
            let both: Vec<(u32, u32)> = first
                .iter()
                .zip(&second)
                .filter_map(|(a, b)| Some(((*a)?, (*b)?)))
                .collect();
            if both.is_empty() {
                return Err(QualityError::Unsupported(
                    "the two raters have no item in common".into(),
                ));
            }
            // Labels are those that occur in the paired items (as scikit-learn sees them), in sorted order.
            let (pos, _) = order_values(data);
            let mut used = vec![false; data.values.len()];
            for &(a, b) in &both {
                used[a as usize] = true;
                used[b as usize] = true;
            }
            let mut order: Vec<usize> = (0..data.values.len()).filter(|&v| used[v]).collect();
            order.sort_by_key(|&v| pos[v]);
            let mut rank = vec![0usize; data.values.len()];
            for (p, &v) in order.iter().enumerate() {
                rank[v] = p;
            }
            let pairs: Vec<(usize, usize)> = both
                .iter()
                .map(|&(a, b)| (rank[a as usize], rank[b as usize]))
                .collect();
            let (kappa, o, e) = cohen_kappa_pairs(&pairs, order.len(), weights);
            Ok(Agreement {
                value: kappa,
                pairable_values: 2 * pairs.len(),
                observed_disagreement: o,
                expected_disagreement: Some(e),
                ..base
            })
        }
    }
}

fn counts(vals: impl Iterator<Item = usize>) -> Vec<(usize, f64)> {
    let mut out: Vec<(usize, f64)> = Vec::new();
    for v in vals {
        match out.iter_mut().find(|x| x.0 == v) {
            Some(x) => x.1 += 1.0,
            None => out.push((v, 1.0)),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_raters_percent_and_cohen() {
        let mut d = RatingData::default();
        for (i, a, b) in [
            ("1", "x", "x"),
            ("2", "y", "y"),
            ("3", "x", "y"),
            ("4", "y", "y"),
        ] {
            d.push(i, "r1", a);
            d.push(i, "r2", b);
        }
        let p = agreement(&d, Metric::PercentAgreement).unwrap();
        assert_eq!(p.value, 0.75);
        // Observed 0.75; chance: r1 = (x .5, y .5), r2 = (x .25, y .75): 0.125 + 0.375 = 0.5; kappa = 0.5.
        let k = agreement(&d, Metric::CohenKappa(Weights::Unweighted)).unwrap();
        assert!((k.value - 0.5).abs() < 1e-15);
        d.push("5", "r3", "x");
        assert!(agreement(&d, Metric::CohenKappa(Weights::Unweighted)).is_err());
    }

    #[test]
    fn numeric_levels_need_numbers() {
        let mut d = RatingData::default();
        d.push("1", "a", "low");
        d.push("1", "b", "high");
        let e = agreement(&d, Metric::KrippendorffAlpha(Level::Interval))
            .unwrap_err()
            .to_string();
        assert!(e.contains("`low` is not a number"), "{e}");
    }
}
