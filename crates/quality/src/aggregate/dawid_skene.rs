//! Dawid-Skene and one-coin Dawid-Skene, step for step as crowd-kit 1.4 computes them.
//!
//! Start from the majority-vote posteriors, then alternate E-step (posteriors from priors and confusion
//! matrices) and M-step (confusion matrices from posteriors). Like crowd-kit: error rates are clipped below at
//! [`EPS`] before normalising, priors are clipped at [`EPS`] before taking logs, the loss is crowd-kit's evidence
//! lower bound divided by the number of labels (its prior term counted once per label, not per task), the loop
//! stops when the loss improves by less than `tol`, and the returned posteriors are clipped at [`EPS`]. Matching
//! these details is what makes our output equal crowd-kit's to about 1e-12 rather than merely close.
//!
//! One pass over the labels per iteration does the E-step, the sufficient statistics of the M-step (posterior mass
//! per worker, observed label and true class) and the entropy; the joint term of the loss then follows from those
//! statistics without another pass.

// Parallel arrays are indexed by dense ids on purpose: it is the layout these loops are written for.
#![allow(clippy::needless_range_loop)]

use super::majority::vote_shares;
use super::{Aggregation, EPS, Method, Options, decide};
use crate::data::TaskGroups;

#[allow(clippy::too_many_arguments)]
fn m_step(
    counts: &[f64],
    present: &[bool],
    n_w: &[usize],
    k: usize,
    one_coin: bool,
    err: &mut [f64],
    skill: &mut [f64],
) {
    let kk = k * k;
    for w in 0..n_w.len() {
        let mut diag = 0.0;
        for l in 0..k {
            if present[w * k + l] {
                diag += counts[w * kk + l * k + l];
            }
        }
        skill[w] = if n_w[w] == 0 {
            0.0
        } else {
            diag / n_w[w] as f64
        };
        if one_coin {
            let s = skill[w];
            let other = if k > 1 {
                (1.0 - s) / (k - 1) as f64
            } else {
                0.0
            };
            for l in 0..k {
                if !present[w * k + l] {
                    continue;
                }
                for c in 0..k {
                    let v = if c == l { s } else { other };
                    err[w * kk + l * k + c] = v.clamp(EPS, 1.0 - EPS);
                }
            }
        } else {
            for c in 0..k {
                let mut sum = 0.0;
                for l in 0..k {
                    if present[w * k + l] {
                        sum += counts[w * kk + l * k + c].max(EPS);
                    }
                }
                for l in 0..k {
                    if present[w * k + l] {
                        err[w * kk + l * k + c] = counts[w * kk + l * k + c].max(EPS) / sum;
                    }
                }
            }
        }
    }
}

fn accumulate(groups: &TaskGroups, p: &[f64], k: usize, counts: &mut [f64]) {
    counts.fill(0.0);
    for t in 0..groups.n_tasks() {
        let row = &p[t * k..(t + 1) * k];
        for j in groups.range(t) {
            let base = (groups.worker[j] as usize * k + groups.label[j] as usize) * k;
            for (c, v) in counts[base..base + k].iter_mut().zip(row) {
                *c += v;
            }
        }
    }
}

pub(crate) fn run(
    groups: &TaskGroups,
    k: usize,
    n_workers: usize,
    one_coin: bool,
    opts: Options,
) -> Aggregation {
    let max_iter = opts.max_iter.unwrap_or(100);
    let tol = opts.tol.unwrap_or(1e-5);
    let n_tasks = groups.n_tasks();
    let n_labels = groups.worker.len() as f64;
    let kk = k * k;

    let mut present = vec![false; n_workers * k];
    let mut n_w = vec![0usize; n_workers];
    for (&w, &l) in groups.worker.iter().zip(&groups.label) {
        present[w as usize * k + l as usize] = true;
        n_w[w as usize] += 1;
    }

    let mut p = vote_shares(groups, k);
    let mut prior = vec![0.0; k];
    for row in p.chunks_exact(k) {
        for (a, v) in prior.iter_mut().zip(row) {
            *a += v;
        }
    }
    prior.iter_mut().for_each(|a| *a /= n_tasks as f64);
    let mut counts = vec![0.0; n_workers * kk];
    accumulate(groups, &p, k, &mut counts);
    let mut err = vec![0.0; n_workers * kk];
    let mut skill = vec![0.0; n_workers];
    m_step(&counts, &present, &n_w, k, one_coin, &mut err, &mut skill);
    let mut logerr: Vec<f64> = err.iter().map(|e| e.ln()).collect();

    let mut loss = f64::NEG_INFINITY;
    let mut iterations = 0;
    let mut lp = vec![0.0; k];
    let mut prior_sum = vec![0.0; k];
    let mut colsum = vec![0.0; k];
    for it in 0..max_iter {
        let lprior: Vec<f64> = prior.iter().map(|&x| x.max(EPS).ln()).collect();
        counts.fill(0.0);
        prior_sum.fill(0.0);
        let mut entropy = 0.0;
        for t in 0..n_tasks {
            let range = groups.range(t);
            lp.copy_from_slice(&lprior);
            for j in range.clone() {
                let base = (groups.worker[j] as usize * k + groups.label[j] as usize) * k;
                for (a, e) in lp.iter_mut().zip(&logerr[base..base + k]) {
                    *a += e;
                }
            }
            let m = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let row = &mut p[t * k..(t + 1) * k];
            let mut sum = 0.0;
            for (r, a) in row.iter_mut().zip(&lp) {
                *r = (a - m).exp();
                sum += *r;
            }
            // ln p_c = (lp_c - m) - ln(sum): one log per task instead of one per class.
            let lsum = sum.ln();
            for (c, r) in row.iter_mut().enumerate() {
                *r /= sum;
                prior_sum[c] += *r;
                entropy -= if *r < EPS {
                    EPS * EPS.ln()
                } else {
                    *r * (lp[c] - m - lsum)
                };
            }
            for j in range {
                let base = (groups.worker[j] as usize * k + groups.label[j] as usize) * k;
                for (c, v) in counts[base..base + k].iter_mut().zip(row.iter()) {
                    *c += v;
                }
            }
        }
        for (a, s) in prior.iter_mut().zip(&prior_sum) {
            *a = s / n_tasks as f64;
        }
        m_step(&counts, &present, &n_w, k, one_coin, &mut err, &mut skill);
        for (le, e) in logerr.iter_mut().zip(&err) {
            *le = e.ln();
        }
        colsum.fill(0.0);
        let mut joint = 0.0;
        for wl in 0..n_workers * k {
            if !present[wl] {
                continue;
            }
            for c in 0..k {
                let x = counts[wl * k + c];
                joint += x * logerr[wl * k + c];
                colsum[c] += x;
            }
        }
        for c in 0..k {
            joint += colsum[c] * prior[c].max(EPS).ln();
        }
        let new_loss = (joint + entropy) / n_labels;
        iterations = it + 1;
        if new_loss - loss < tol {
            break;
        }
        loss = new_loss;
    }
    if iterations > 0 {
        // crowd-kit clips the posteriors in place while computing the loss, so its output carries the clip.
        p.iter_mut().for_each(|v| *v = v.max(EPS));
        prior.iter_mut().for_each(|v| *v = v.max(EPS));
    }
    let (label, confidence) = decide(&p, k);
    Aggregation {
        method: if one_coin {
            Method::OneCoinDawidSkene
        } else {
            Method::DawidSkene
        },
        label,
        confidence,
        probas: p,
        worker_skill: skill,
        iterations,
        priors: prior,
        errors: err,
    }
}
