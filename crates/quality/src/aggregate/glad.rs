//! GLAD (Whitehill et al., 2009): `P(correct) = sigmoid(alpha_worker * exp(beta_task))`, wrong answers spread
//! evenly over the other classes, Gaussian N(1, 1) priors on `alpha` and `beta` and uniform class priors, as in
//! crowd-kit.
//!
//! Unlike crowd-kit (whose own convergence test often stops it after two iterations), we run EM until the
//! log-posterior per label improves by less than `tol` (default 1e-7). The M-step exploits that the objective
//! separates: given the abilities, each task's `beta` is a one-dimensional problem (Newton with a step-halving
//! line search), and given the difficulties each worker's `alpha` is a concave one-dimensional problem (Newton).
//! One sweep of each per iteration is a generalised EM step; every sweep is linear in the number of labels.
//!
//! A useful identity keeps the E-step cheap: since `ln sigmoid(x) - ln(1 - sigmoid(x)) = x`, the log-posterior of
//! class `c` is a per-task constant plus the sum of `x + ln(K - 1)` over the labels that say `c`.

// Parallel arrays are indexed by dense ids on purpose: it is the layout these loops are written for.
#![allow(clippy::needless_range_loop)]

use super::{Aggregation, Method, Options, decide};
use crate::data::TaskGroups;

fn softplus(x: f64) -> f64 {
    x.max(0.0) + (-x.abs()).exp().ln_1p()
}

fn sigmoid(x: f64) -> f64 {
    if x >= 0.0 {
        1.0 / (1.0 + (-x).exp())
    } else {
        let e = x.exp();
        e / (1.0 + e)
    }
}

pub(crate) fn run(groups: &TaskGroups, k: usize, n_workers: usize, opts: Options) -> Aggregation {
    let max_iter = opts.max_iter.unwrap_or(100);
    let tol = opts.tol.unwrap_or(1e-7);
    let n_tasks = groups.n_tasks();
    let n_labels = groups.worker.len().max(1) as f64;
    let lk1 = ((k.max(2) - 1) as f64).ln();
    let lnk = (k as f64).ln();
    let mut alpha: Vec<f64> = vec![1.0; n_workers];
    let mut beta: Vec<f64> = vec![1.0; n_tasks];
    let mut p = vec![0.0; n_tasks * k];
    let mut q = vec![0.0; groups.worker.len()];
    let mut lp = vec![0.0; k];
    let mut g = vec![0.0; n_workers];
    let mut h = vec![0.0; n_workers];
    let mut prev = f64::NEG_INFINITY;
    let mut iterations = 0;
    for it in 0..=max_iter {
        // E-step: posteriors, per-label probability of being right, and the log-posterior objective.
        let mut obj = 0.0;
        for t in 0..n_tasks {
            let eb = beta[t].exp();
            lp.fill(0.0);
            let mut base = 0.0;
            for j in groups.range(t) {
                let x = alpha[groups.worker[j] as usize] * eb;
                lp[groups.label[j] as usize] += x + lk1;
                base += -softplus(x) - lk1;
            }
            let m = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
            let row = &mut p[t * k..(t + 1) * k];
            let mut sum = 0.0;
            for (r, a) in row.iter_mut().zip(&lp) {
                *r = (a - m).exp();
                sum += *r;
            }
            row.iter_mut().for_each(|r| *r /= sum);
            obj += base + m + sum.ln() - lnk - 0.5 * (beta[t] - 1.0) * (beta[t] - 1.0);
            for j in groups.range(t) {
                q[j] = row[groups.label[j] as usize];
            }
        }
        obj -= alpha
            .iter()
            .map(|a| 0.5 * (a - 1.0) * (a - 1.0))
            .sum::<f64>();
        if it > 0 && (obj - prev) / n_labels < tol {
            break;
        }
        if it == max_iter {
            break;
        }
        prev = obj;
        iterations = it + 1;

        // M-step, abilities: one Newton step per worker on a concave objective.
        for w in 0..n_workers {
            g[w] = -(alpha[w] - 1.0);
            h[w] = -1.0;
        }
        for t in 0..n_tasks {
            let eb = beta[t].exp();
            for j in groups.range(t) {
                let w = groups.worker[j] as usize;
                let s = sigmoid(alpha[w] * eb);
                g[w] += (q[j] - s) * eb;
                h[w] -= s * (1.0 - s) * eb * eb;
            }
        }
        for w in 0..n_workers {
            alpha[w] -= (g[w] / h[w]).clamp(-2.0, 2.0);
        }

        // M-step, difficulties: Newton with step halving per task.
        for t in 0..n_tasks {
            let r = groups.range(t);
            let f = |b: f64| -> f64 {
                let eb = b.exp();
                let mut v = -0.5 * (b - 1.0) * (b - 1.0);
                for j in r.clone() {
                    let x = alpha[groups.worker[j] as usize] * eb;
                    v -= q[j] * softplus(-x) + (1.0 - q[j]) * softplus(x);
                }
                v
            };
            let b0 = beta[t];
            let eb = b0.exp();
            let (mut gb, mut hb) = (-(b0 - 1.0), -1.0);
            for j in r.clone() {
                let x = alpha[groups.worker[j] as usize] * eb;
                let s = sigmoid(x);
                gb += (q[j] - s) * x;
                hb += -s * (1.0 - s) * x * x + (q[j] - s) * x;
            }
            let mut step = if hb < 0.0 {
                -gb / hb
            } else {
                0.5 * gb.signum()
            };
            step = step.clamp(-1.0, 1.0);
            if step.abs() < 1e-12 {
                continue;
            }
            let f0 = f(b0);
            for _ in 0..6 {
                if f(b0 + step) >= f0 {
                    beta[t] = b0 + step;
                    break;
                }
                step *= 0.5;
            }
        }
    }
    let (label, confidence) = decide(&p, k);
    Aggregation {
        method: Method::Glad,
        label,
        confidence,
        probas: p,
        worker_skill: alpha,
        iterations,
        priors: vec![1.0 / k as f64; k],
        errors: Vec::new(),
    }
}
