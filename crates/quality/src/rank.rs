//! Bradley-Terry ranking from pairwise comparisons (with ties) and from rankings.
//!
//! Model: item `i` beats item `j` with probability `g_i / (g_i + g_j)`. We compute the maximum-likelihood
//! strengths with Hunter's (2004) MM algorithm and report `score = ln g_i` centred to mean 0, the same
//! parameterisation as the `choix` package, so scores compare directly.
//!
//! Ties: a tie counts as half a win for each side (the usual convention; it is exactly what two "half rows" with
//! swapped sides would give). Rankings are broken into all their pairs before estimation (see
//! [`crate::io::read_comparisons`]).
//!
//! The maximum-likelihood estimate exists only when the "beats" graph is strongly connected: every group of items
//! must have won at least once against the rest. When it is not (an item that never wins, two groups never
//! compared), the estimate would run off to infinity; we then add, for every item, a tenth of a tied comparison
//! against one virtual reference item (a weak prior that pulls unconnected items together) and say so in
//! [`Ranking::regularized`].

// Parallel arrays are indexed by dense ids on purpose: it is the layout these loops are written for.
#![allow(clippy::needless_range_loop)]

use std::collections::HashMap;

use crate::data::Comparisons;

/// Weight of the virtual tie each item gets when the plain MLE does not exist.
pub const PRIOR_WEIGHT: f64 = 0.1;

/// Options for [`bradley_terry`].
#[derive(Debug, Clone, Copy)]
pub struct RankOptions {
    /// Maximum MM iterations.
    pub max_iter: usize,
    /// Stop when no log-strength moves by more than this.
    pub tol: f64,
}

impl Default for RankOptions {
    fn default() -> Self {
        RankOptions {
            max_iter: 100_000,
            tol: 1e-11,
        }
    }
}

/// Estimated strengths and the resulting order; vectors are indexed by item id.
#[derive(Debug, Clone)]
pub struct Ranking {
    /// Log-strength, centred to mean 0 (higher is better).
    pub score: Vec<f64>,
    /// Competition rank (1 = best; equal scores share a rank).
    pub rank: Vec<usize>,
    /// Item ids from best to worst (equal scores by name).
    pub order: Vec<u32>,
    /// MM iterations run.
    pub iterations: usize,
    /// Whether the iterations met the tolerance.
    pub converged: bool,
    /// Log-likelihood of the comparisons at the estimate (without the virtual ties).
    pub log_likelihood: f64,
    /// Whether the weak prior was needed because the plain MLE does not exist.
    pub regularized: bool,
}

struct Edge {
    i: usize,
    j: usize,
    wi: f64,
    wj: f64,
}

fn strongly_connected(n: usize, edges: &[Edge]) -> bool {
    if n <= 1 {
        return true;
    }
    let mut fwd = vec![Vec::new(); n];
    let mut bwd = vec![Vec::new(); n];
    for e in edges {
        if e.wi > 0.0 {
            fwd[e.i].push(e.j);
            bwd[e.j].push(e.i);
        }
        if e.wj > 0.0 {
            fwd[e.j].push(e.i);
            bwd[e.i].push(e.j);
        }
    }
    let reach_all = |adj: &Vec<Vec<usize>>| {
        let mut seen = vec![false; n];
        let mut stack = vec![0];
        seen[0] = true;
        let mut count = 1;
        while let Some(x) = stack.pop() {
            for &y in &adj[x] {
                if !seen[y] {
                    seen[y] = true;
                    count += 1;
                    stack.push(y);
                }
            }
        }
        count == n
    };
    reach_all(&fwd) && reach_all(&bwd)
}

/// Fits Bradley-Terry by maximum likelihood.
pub fn bradley_terry(c: &Comparisons, opts: RankOptions) -> Ranking {
    let n = c.items.len();
    let mut index: HashMap<(u32, u32), usize> = HashMap::new();
    let mut edges: Vec<Edge> = Vec::new();
    for ((&w, &l), &tie) in c.winner.iter().zip(&c.loser).zip(&c.tie) {
        let (a, b) = if w < l { (w, l) } else { (l, w) };
        let e = *index.entry((a, b)).or_insert_with(|| {
            edges.push(Edge {
                i: a as usize,
                j: b as usize,
                wi: 0.0,
                wj: 0.0,
            });
            edges.len() - 1
        });
        let e = &mut edges[e];
        if tie {
            e.wi += 0.5;
            e.wj += 0.5;
        } else if w == a {
            e.wi += 1.0;
        } else {
            e.wj += 1.0;
        }
    }
    let n_real_edges = edges.len();
    let regularized = !strongly_connected(n, &edges);
    let total = if regularized {
        for i in 0..n {
            edges.push(Edge {
                i,
                j: n,
                wi: PRIOR_WEIGHT / 2.0,
                wj: PRIOR_WEIGHT / 2.0,
            });
        }
        n + 1
    } else {
        n
    };
    let mut wins = vec![0.0; total];
    for e in &edges {
        wins[e.i] += e.wi;
        wins[e.j] += e.wj;
    }
    let mut g = vec![1.0; total];
    let mut denom = vec![0.0; total];
    let mut iterations = 0;
    let mut converged = false;
    while iterations < opts.max_iter {
        iterations += 1;
        denom.fill(0.0);
        for e in &edges {
            let x = (e.wi + e.wj) / (g[e.i] + g[e.j]);
            denom[e.i] += x;
            denom[e.j] += x;
        }
        let mut new: Vec<f64> = (0..total)
            .map(|i| {
                if denom[i] > 0.0 {
                    wins[i] / denom[i]
                } else {
                    g[i]
                }
            })
            .collect();
        let mean_log = new[..n].iter().map(|x| x.ln()).sum::<f64>() / n.max(1) as f64;
        let scale = (-mean_log).exp();
        new.iter_mut().for_each(|x| *x *= scale);
        let change = new
            .iter()
            .zip(&g)
            .map(|(a, b)| (a.ln() - b.ln()).abs())
            .fold(0.0, f64::max);
        g = new;
        if change < opts.tol {
            converged = true;
            break;
        }
    }
    let log_likelihood = edges[..n_real_edges]
        .iter()
        .map(|e| {
            let s = (g[e.i] + g[e.j]).ln();
            let mut v = 0.0;
            if e.wi > 0.0 {
                v += e.wi * (g[e.i].ln() - s);
            }
            if e.wj > 0.0 {
                v += e.wj * (g[e.j].ln() - s);
            }
            v
        })
        .sum();
    let logs: Vec<f64> = g[..n].iter().map(|x| x.ln()).collect();
    let mean = logs.iter().sum::<f64>() / n.max(1) as f64;
    let score: Vec<f64> = logs.iter().map(|x| x - mean).collect();
    let mut order: Vec<u32> = (0..n as u32).collect();
    order.sort_by(|&a, &b| {
        score[b as usize]
            .total_cmp(&score[a as usize])
            .then_with(|| c.items.get(a).cmp(c.items.get(b)))
    });
    let mut rank = vec![0; n];
    for (pos, &i) in order.iter().enumerate() {
        rank[i as usize] = if pos > 0 && score[order[pos - 1] as usize] == score[i as usize] {
            rank[order[pos - 1] as usize]
        } else {
            pos + 1
        };
    }
    Ranking {
        score,
        rank,
        order,
        iterations,
        converged,
        log_likelihood,
        regularized,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn two_items_closed_form() {
        // a beats b 3 times, b beats a once: g_a / g_b = 3, scores +-ln(3)/2.
        let mut c = Comparisons::default();
        for _ in 0..3 {
            c.push("a", "b", false);
        }
        c.push("b", "a", false);
        let r = bradley_terry(&c, RankOptions::default());
        assert!(!r.regularized && r.converged);
        assert!((r.score[0] - 3f64.ln() / 2.0).abs() < 1e-9);
        assert_eq!(r.rank, [1, 2]);
    }

    #[test]
    fn a_tie_is_two_half_rows() {
        let mut c1 = Comparisons::default();
        let mut c2 = Comparisons::default();
        for (w, l) in [("a", "b"), ("b", "c"), ("c", "a"), ("a", "c")] {
            c1.push(w, l, false);
            c2.push(w, l, false);
        }
        c1.push("a", "b", true);
        c2.push("a", "b", false);
        c2.push("b", "a", false);
        let (r1, r2) = (
            bradley_terry(&c1, RankOptions::default()),
            bradley_terry(&c2, RankOptions::default()),
        );
        // Same wins per item, but c2 has one more comparison between a and b; a tie is half of that pair.
        let mut c3 = c1.clone();
        c3.push("a", "b", true);
        let r3 = bradley_terry(&c3, RankOptions::default());
        for i in 0..3 {
            assert!((r3.score[i] - r2.score[i]).abs() < 1e-9);
        }
        assert!(r1.converged);
    }

    #[test]
    fn never_winning_item_is_regularized_and_last() {
        let mut c = Comparisons::default();
        c.push("a", "b", false);
        c.push("b", "a", false);
        c.push("a", "z", false);
        c.push("b", "z", false);
        let r = bradley_terry(&c, RankOptions::default());
        assert!(r.regularized);
        assert_eq!(r.rank[2], 3);
        assert!(r.score.iter().all(|s| s.is_finite()));
        assert_eq!(r.rank[0], 1);
        assert_eq!(r.rank[1], 1);
    }
}
