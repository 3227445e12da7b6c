//! Majority vote, the baseline and the starting point of Dawid-Skene.

// Parallel arrays are indexed by dense ids on purpose: it is the layout these loops are written for.
#![allow(clippy::needless_range_loop)]

use super::{Aggregation, Method, decide};
use crate::data::TaskGroups;

/// Vote shares per task, row-major `tasks x classes`.
pub(crate) fn vote_shares(groups: &TaskGroups, k: usize) -> Vec<f64> {
    let mut p = vec![0.0; groups.n_tasks() * k];
    for t in 0..groups.n_tasks() {
        let r = groups.range(t);
        let row = &mut p[t * k..(t + 1) * k];
        for j in r.clone() {
            row[groups.label[j] as usize] += 1.0;
        }
        let n = r.len() as f64;
        for v in row.iter_mut() {
            *v /= n;
        }
    }
    p
}

pub(crate) fn run(groups: &TaskGroups, k: usize, n_workers: usize) -> Aggregation {
    let probas = vote_shares(groups, k);
    let (label, confidence) = decide(&probas, k);
    let mut agree = vec![0usize; n_workers];
    let mut cnt = vec![0usize; n_workers];
    for t in 0..groups.n_tasks() {
        for j in groups.range(t) {
            let w = groups.worker[j] as usize;
            cnt[w] += 1;
            agree[w] += usize::from(groups.label[j] == label[t]);
        }
    }
    let worker_skill = agree
        .iter()
        .zip(&cnt)
        .map(|(&a, &c)| a as f64 / c.max(1) as f64)
        .collect();
    let mut priors = vec![0.0; k];
    for row in probas.chunks_exact(k) {
        for (p, v) in priors.iter_mut().zip(row) {
            *p += v;
        }
    }
    let n = groups.n_tasks().max(1) as f64;
    priors.iter_mut().for_each(|p| *p /= n);
    Aggregation {
        method: Method::Majority,
        label,
        confidence,
        probas,
        worker_skill,
        iterations: 0,
        priors,
        errors: Vec::new(),
    }
}
