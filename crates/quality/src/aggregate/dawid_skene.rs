//! Dawid-Skene and one-coin Dawid-Skene, step for step as crowd-kit 1.4 computes them.
//!
//! Start from the majority-vote posteriors, then alternate E-step (posteriors from priors and confusion
//! matrices) and M-step (confusion matrices from posteriors). Like crowd-kit: error rates are clipped below at
//! [`EPS`] before normalising, priors are clipped at [`EPS`] before taking logs, the loss is crowd-kit's evidence
//! lower bound divided by the number of labels (its prior term counted once per label, not per task), the loop
//! stops when the loss improves by less than `tol`, and the returned posteriors are clipped at [`EPS`]. Matching
//! these details is what makes our output equal crowd-kit's to about 1e-12 rather than merely close.
//!
//! Each iteration makes two passes over the tasks. The E-step computes every task's posterior and entropy terms
//! independently, split over the available cores. The reduction then adds up, in task order, the sufficient
//! statistics of the M-step (posterior mass per worker, observed label and true class), the class totals and the
//! entropy; the joint term of the loss follows from those statistics without another pass. Keeping every sum in
//! task order (instead of summing per thread and combining) makes the result independent of the number of threads
//! and identical, bit for bit, to a sequential run.

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

/// Sums the posterior rows into `counts[worker][observed label][true class]`, in task order.
fn accumulate(groups: &TaskGroups, p: &[f64], k: usize, counts: &mut [f64]) {
    let f = match k {
        2 => accumulate_k::<2>,
        3 => accumulate_k::<3>,
        4 => accumulate_k::<4>,
        5 => accumulate_k::<5>,
        _ => accumulate_k::<0>,
    };
    f(groups, p, k, counts);
}

/// [`accumulate`] with the class count `K` known at compile time (0: use `k`), as in [`e_step_range`].
fn accumulate_k<const K: usize>(groups: &TaskGroups, p: &[f64], k: usize, counts: &mut [f64]) {
    let k = if K == 0 { k } else { K };
    counts.fill(0.0);
    for (t, row) in p.chunks_exact(k).enumerate() {
        for j in groups.range(t) {
            let base = (groups.worker[j] as usize * k + groups.label[j] as usize) * k;
            for (c, v) in counts[base..base + k].iter_mut().zip(row) {
                *c += v;
            }
        }
    }
}

/// Tasks below which the E-step stays on the calling thread: spawning costs more than it saves on small inputs.
const PARALLEL_MIN_TASKS: usize = 1 << 14;

/// How many threads the E-step uses. The result does not depend on it (see [`e_step`] and [`reduce`]), only the
/// speed does.
fn worker_threads(n_tasks: usize) -> usize {
    if n_tasks < PARALLEL_MIN_TASKS {
        return 1;
    }
    std::thread::available_parallelism().map_or(1, |n| n.get().min(8))
}

/// E-step for the tasks whose posterior rows are `p` and entropy terms `ent`, starting at task `first`.
///
/// Each task is independent: its posterior is a softmax of the log prior plus the log error rates of its labels,
/// and its entropy terms are `-p_c ln p_c` with crowd-kit's clip. Nothing is summed across tasks here, so the
/// values do not depend on how the tasks are split between threads.
///
/// `K` is the number of classes when it is known at compile time (0 otherwise, then `k` is used): with a constant,
/// the loops over classes are unrolled and the slice bounds checks disappear. The operations, and so the results,
/// are the same either way.
fn e_step_range<const K: usize>(
    groups: &TaskGroups,
    lprior: &[f64],
    logerr: &[f64],
    k: usize,
    first: usize,
    p: &mut [f64],
    ent: &mut [f64],
) {
    let k = if K == 0 { k } else { K };
    let mut buf = vec![0.0; k];
    let lp = &mut buf[..k];
    let eps_term = EPS * EPS.ln();
    for (i, (row, terms)) in p
        .chunks_exact_mut(k)
        .zip(ent.chunks_exact_mut(k))
        .enumerate()
    {
        let range = groups.range(first + i);
        lp.copy_from_slice(lprior);
        for (&w, &l) in groups.worker[range.clone()]
            .iter()
            .zip(&groups.label[range])
        {
            let base = (w as usize * k + l as usize) * k;
            for (a, e) in lp.iter_mut().zip(&logerr[base..base + k]) {
                *a += e;
            }
        }
        let m = lp.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        let mut sum = 0.0;
        for (r, a) in row.iter_mut().zip(lp.iter()) {
            // exp(0) is exactly 1: skipping it for the most likely class saves a quarter of the exps at 4 classes.
            *r = if *a == m { 1.0 } else { (a - m).exp() };
            sum += *r;
        }
        // ln p_c = (lp_c - m) - ln(sum): one log per task instead of one per class.
        let lsum = sum.ln();
        for ((r, term), a) in row.iter_mut().zip(terms.iter_mut()).zip(lp.iter()) {
            *r /= sum;
            *term = if *r < EPS {
                eps_term
            } else {
                *r * (a - m - lsum)
            };
        }
    }
}

/// [`e_step_range`] with the class count as a constant for the common small counts.
fn e_step_part(
    groups: &TaskGroups,
    lprior: &[f64],
    logerr: &[f64],
    k: usize,
    first: usize,
    p: &mut [f64],
    ent: &mut [f64],
) {
    let f = match k {
        2 => e_step_range::<2>,
        3 => e_step_range::<3>,
        4 => e_step_range::<4>,
        5 => e_step_range::<5>,
        _ => e_step_range::<0>,
    };
    f(groups, lprior, logerr, k, first, p, ent);
}

/// E-step over all tasks: `p` (posteriors) and `ent` (entropy terms), split into `threads` contiguous chunks.
fn e_step(
    groups: &TaskGroups,
    lprior: &[f64],
    logerr: &[f64],
    k: usize,
    threads: usize,
    p: &mut [f64],
    ent: &mut [f64],
) {
    let chunk = groups.n_tasks().div_ceil(threads.max(1)).max(1);
    std::thread::scope(|s| {
        let mut parts = p.chunks_mut(chunk * k).zip(ent.chunks_mut(chunk * k));
        // The calling thread takes the first chunk, so one thread spawns nothing.
        let head = parts.next();
        for (i, (pc, ec)) in parts.enumerate() {
            s.spawn(move || e_step_part(groups, lprior, logerr, k, (i + 1) * chunk, pc, ec));
        }
        if let Some((pc, ec)) = head {
            e_step_part(groups, lprior, logerr, k, 0, pc, ec);
        }
    });
}

/// The sums over tasks after an E-step: M-step statistics into `counts`, class totals into `prior_sum`, and the
/// entropy (returned).
///
/// Every sum runs over the tasks in order, exactly as a single sequential loop would add them: floating-point
/// addition is not associative, and this order is what keeps the output identical, bit for bit, whatever the
/// number of threads. Parallelism comes from splitting by accumulator instead: with `parallel`, one thread does
/// `counts` while the other does the priors and the entropy.
fn reduce(
    groups: &TaskGroups,
    p: &[f64],
    ent: &[f64],
    k: usize,
    parallel: bool,
    counts: &mut [f64],
    prior_sum: &mut [f64],
) -> f64 {
    let totals = |prior_sum: &mut [f64]| {
        prior_sum.fill(0.0);
        let mut entropy = 0.0;
        for (row, terms) in p.chunks_exact(k).zip(ent.chunks_exact(k)) {
            for c in 0..k {
                prior_sum[c] += row[c];
                entropy -= terms[c];
            }
        }
        entropy
    };
    if parallel {
        std::thread::scope(|s| {
            let h = s.spawn(|| totals(prior_sum));
            accumulate(groups, p, k, counts);
            h.join().expect("the reduction thread does not panic")
        })
    } else {
        accumulate(groups, p, k, counts);
        totals(prior_sum)
    }
}

pub(crate) fn run(
    groups: &TaskGroups,
    k: usize,
    n_workers: usize,
    one_coin: bool,
    opts: Options,
) -> Aggregation {
    let threads = worker_threads(groups.n_tasks());
    run_with_threads(groups, k, n_workers, one_coin, opts, threads)
}

/// [`run`] with the number of E-step threads given (the tests check that it does not change the result).
fn run_with_threads(
    groups: &TaskGroups,
    k: usize,
    n_workers: usize,
    one_coin: bool,
    opts: Options,
    threads: usize,
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
    let mut prior_sum = vec![0.0; k];
    let mut colsum = vec![0.0; k];
    // Entropy term of every (task, class), written by the parallel E-step and summed in order afterwards.
    let mut ent = vec![0.0; n_tasks * k];
    for it in 0..max_iter {
        let lprior: Vec<f64> = prior.iter().map(|&x| x.max(EPS).ln()).collect();
        e_step(groups, &lprior, &logerr, k, threads, &mut p, &mut ent);
        let entropy = reduce(
            groups,
            &p,
            &ent,
            k,
            threads > 1,
            &mut counts,
            &mut prior_sum,
        );
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::data::LabelData;

    #[test]
    fn threads_do_not_change_the_result() {
        // 3,000 tasks with 3 labels each from 50 workers of varied accuracy, 4 classes.
        let mut d = LabelData::new();
        let mut x: u64 = 7;
        let mut next = |n: u64| {
            x = x
                .wrapping_mul(6_364_136_223_846_793_005)
                .wrapping_add(1_442_695_040_888_963_407);
            (x >> 33) % n
        };
        for t in 0..3000 {
            let truth = next(4);
            for _ in 0..3 {
                let w = next(50);
                let l = if next(100) < 40 + w { truth } else { next(4) };
                d.push(&format!("t{t}"), &format!("w{w}"), &format!("c{l}"));
            }
        }
        let g = d.by_task();
        let (k, w) = (d.classes.len(), d.workers.len());
        for one_coin in [false, true] {
            let one = run_with_threads(&g, k, w, one_coin, Options::default(), 1);
            for threads in [2, 3, 8] {
                let many = run_with_threads(&g, k, w, one_coin, Options::default(), threads);
                assert_eq!(one.iterations, many.iterations);
                assert!(one.iterations > 1);
                let bits = |v: &[f64]| v.iter().map(|x| x.to_bits()).collect::<Vec<_>>();
                assert_eq!(bits(&one.probas), bits(&many.probas));
                assert_eq!(bits(&one.errors), bits(&many.errors));
                assert_eq!(bits(&one.priors), bits(&many.priors));
                assert_eq!(bits(&one.worker_skill), bits(&many.worker_skill));
            }
        }
    }
}
