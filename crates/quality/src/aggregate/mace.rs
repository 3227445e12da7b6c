//! MACE (Hovy et al., 2013) with crowd-kit's variational-Bayes M-step: Beta(0.5, 0.5) prior on spamming and a
//! symmetric Dirichlet(10) prior on each worker's spamming strategy, uniform class prior.
//!
//! crowd-kit starts from random parameters (and, seeding every restart identically, in effect runs one restart);
//! we start deterministically from "every worker spams half the time, uniformly", whose first E-step is a
//! majority vote. We stop after `max_iter` iterations (default 50, as crowd-kit) or earlier when the marginal
//! log-likelihood per label changes by less than `tol` (default 1e-9).
//!
//! In log space the E-step is a table lookup per label: with `a = ln(spam * theta[l])` and
//! `b = ln(spam * theta[l] + know)`, the log-posterior of class `c` is `sum(a) + sum over labels saying c of (b - a)`.

// Parallel arrays are indexed by dense ids on purpose: it is the layout these loops are written for.
#![allow(clippy::needless_range_loop)]

use super::{Aggregation, Method, Options, decide};
use crate::data::TaskGroups;

/// The digamma function (asymptotic series after shifting the argument to 10 or more; error below 1e-13).
pub(crate) fn digamma(mut x: f64) -> f64 {
    let mut r = 0.0;
    while x < 10.0 {
        r -= 1.0 / x;
        x += 1.0;
    }
    let f = 1.0 / (x * x);
    r + x.ln()
        - 0.5 / x
        - f * (1.0 / 12.0 - f * (1.0 / 120.0 - f * (1.0 / 252.0 - f * (1.0 / 240.0 - f / 132.0))))
}

const THETA_PRIOR_SPAM: f64 = 0.5;
const THETA_PRIOR_KNOW: f64 = 0.5;
const STRATEGY_PRIOR: f64 = 10.0;

pub(crate) fn run(groups: &TaskGroups, k: usize, n_workers: usize, opts: Options) -> Aggregation {
    let max_iter = opts.max_iter.unwrap_or(50);
    let tol = opts.tol.unwrap_or(1e-9);
    let n_tasks = groups.n_tasks();
    let n_labels = groups.worker.len().max(1) as f64;
    let lnk = (k as f64).ln();
    let mut spam = vec![0.5; n_workers];
    let mut know = vec![0.5; n_workers];
    let mut theta = vec![1.0 / k as f64; n_workers * k];
    let mut a = vec![0.0; n_workers * k];
    let mut d = vec![0.0; n_workers * k];
    let mut ratio = vec![0.0; n_workers * k];
    let mut p = vec![0.0; n_tasks * k];
    let mut strat = vec![0.0; n_workers * k];
    let mut scount = vec![0.0; n_workers];
    let mut kcount = vec![0.0; n_workers];
    let mut lp = vec![0.0; k];
    let mut prev = f64::NEG_INFINITY;
    let mut iterations = 0;
    for it in 0..=max_iter {
        for w in 0..n_workers {
            for l in 0..k {
                let st = spam[w] * theta[w * k + l];
                a[w * k + l] = st.ln();
                d[w * k + l] = (st + know[w]).ln() - st.ln();
                ratio[w * k + l] = st / (st + know[w]);
            }
        }
        strat.fill(0.0);
        scount.fill(0.0);
        kcount.fill(0.0);
        let mut ll = 0.0;
        for t in 0..n_tasks {
            lp.fill(0.0);
            let mut base = 0.0;
            for j in groups.range(t) {
                let wl = groups.worker[j] as usize * k + groups.label[j] as usize;
                base += a[wl];
                lp[groups.label[j] as usize] += d[wl];
            }
            let m = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let row = &mut p[t * k..(t + 1) * k];
            let mut sum = 0.0;
            for (r, x) in row.iter_mut().zip(&lp) {
                *r = (x - m).exp();
                sum += *r;
            }
            row.iter_mut().for_each(|r| *r /= sum);
            ll += base + m + sum.ln() - lnk;
            for j in groups.range(t) {
                let w = groups.worker[j] as usize;
                let wl = w * k + groups.label[j] as usize;
                let pl = row[groups.label[j] as usize];
                let r = ratio[wl];
                let s = (1.0 - pl) + pl * r;
                strat[wl] += s;
                scount[w] += s;
                kcount[w] += pl * (1.0 - r);
            }
        }
        if it == max_iter || (it > 0 && ((ll - prev) / n_labels).abs() < tol) {
            break;
        }
        prev = ll;
        iterations = it + 1;
        // Variational M-step.
        for w in 0..n_workers {
            let norm = digamma(scount[w] + kcount[w] + THETA_PRIOR_SPAM + THETA_PRIOR_KNOW);
            spam[w] = (digamma(scount[w] + THETA_PRIOR_SPAM) - norm).exp();
            know[w] = (digamma(kcount[w] + THETA_PRIOR_KNOW) - norm).exp();
            let total: f64 = strat[w * k..(w + 1) * k].iter().sum();
            let norm = digamma(total + STRATEGY_PRIOR * k as f64);
            for l in 0..k {
                theta[w * k + l] = (digamma(strat[w * k + l] + STRATEGY_PRIOR) - norm).exp();
            }
        }
    }
    let (label, confidence) = decide(&p, k);
    let worker_skill = spam
        .iter()
        .zip(&know)
        .map(|(s, kn)| kn / (s + kn))
        .collect();
    Aggregation {
        method: Method::Mace,
        label,
        confidence,
        probas: p,
        worker_skill,
        iterations,
        priors: vec![1.0 / k as f64; k],
        errors: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn digamma_matches_known_values() {
        // psi(1) = -gamma, psi(0.5) = -gamma - 2 ln 2, psi(10) from tables.
        let g = 0.577_215_664_901_532_9;
        assert!((super::digamma(1.0) + g).abs() < 1e-12);
        assert!((super::digamma(0.5) + g + 2.0 * 2f64.ln()).abs() < 1e-12);
        assert!((super::digamma(10.0) - 2.251_752_589_066_721).abs() < 1e-12);
    }
}
