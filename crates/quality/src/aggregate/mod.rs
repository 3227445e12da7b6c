//! Label aggregation: from several workers' labels per task to one label, a confidence and a skill per worker.
//!
//! | method | model | `worker_skill` |
//! |---|---|---|
//! | [`Method::Majority`] | most frequent label; ties go to the label that appears first in the input (as in crowd-kit) | share of the worker's labels equal to the majority label |
//! | [`Method::DawidSkene`] | full confusion matrix per worker, EM from the majority-vote start (Dawid & Skene 1979), replicating crowd-kit 1.4 step by step | expected accuracy: mean posterior probability of the worker's labels |
//! | [`Method::OneCoinDawidSkene`] | one accuracy per worker, errors spread evenly over the other classes | the accuracy parameter (same definition as above, as in crowd-kit) |
//! | [`Method::Glad`] | ability per worker times (exponentiated) easiness per task (Whitehill et al. 2009), EM run to convergence | the ability `alpha` (0 = random, negative = adversarial) |
//! | [`Method::Mace`] | each worker either knows the answer or spams from a personal distribution (Hovy et al. 2013), variational Bayes | the probability that the worker is not spamming |
//!
//! The confidence of a task is the posterior probability of its chosen label (for majority vote: the share of
//! votes). All methods are deterministic: no random restarts, ties broken by order of first appearance.

mod dawid_skene;
mod glad;
mod mace;
mod majority;
pub mod numeric;

use crate::data::LabelData;

/// Clip value used by crowd-kit (`_EPS`) for probabilities and error rates; reproduced so results match.
pub const EPS: f64 = 1e-10;

/// An aggregation method for categorical labels.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Majority vote.
    Majority,
    /// Dawid-Skene with a full confusion matrix per worker.
    DawidSkene,
    /// Dawid-Skene with one accuracy parameter per worker.
    OneCoinDawidSkene,
    /// GLAD: worker ability and task difficulty.
    Glad,
    /// MACE: multi-annotator competence estimation.
    Mace,
}

impl Method {
    /// The CLI name (`majority`, `dawid-skene`, …), fixed by the public contract.
    pub fn name(self) -> &'static str {
        match self {
            Method::Majority => "majority",
            Method::DawidSkene => "dawid-skene",
            Method::OneCoinDawidSkene => "one-coin-dawid-skene",
            Method::Glad => "glad",
            Method::Mace => "mace",
        }
    }

    /// Parses a CLI name.
    pub fn parse(s: &str) -> Option<Self> {
        [
            Method::Majority,
            Method::DawidSkene,
            Method::OneCoinDawidSkene,
            Method::Glad,
            Method::Mace,
        ]
        .into_iter()
        .find(|m| m.name() == s)
    }
}

/// Knobs shared by the iterative methods; `None` means the method's default.
#[derive(Debug, Clone, Copy, Default)]
pub struct Options {
    /// Maximum EM iterations (defaults: Dawid-Skene 100, GLAD 100, MACE 50).
    pub max_iter: Option<usize>,
    /// Convergence tolerance on the objective per label (defaults: Dawid-Skene 1e-5 as crowd-kit, GLAD 1e-7,
    /// MACE 1e-9).
    pub tol: Option<f64>,
}

/// The result of an aggregation; per-task vectors are indexed by task id, per-worker ones by worker id.
#[derive(Debug, Clone)]
pub struct Aggregation {
    /// The method that produced it.
    pub method: Method,
    /// Class id of the chosen label per task.
    pub label: Vec<u32>,
    /// Posterior probability of the chosen label per task.
    pub confidence: Vec<f64>,
    /// Full posterior, row-major `tasks x classes`.
    pub probas: Vec<f64>,
    /// Skill estimate per worker (meaning depends on the method, see the module docs).
    pub worker_skill: Vec<f64>,
    /// EM iterations run (0 for majority vote).
    pub iterations: usize,
    /// Estimated class priors (uniform for GLAD and MACE, which do not estimate them).
    pub priors: Vec<f64>,
    /// Per-worker confusion matrices `workers x observed x true`, row-major, for Dawid-Skene only (otherwise empty):
    /// entry `[w][l][c]` is the probability that worker `w` answers `l` when the truth is `c`.
    pub errors: Vec<f64>,
}

impl Aggregation {
    /// The posterior of task `t`.
    pub fn proba_row(&self, t: usize) -> &[f64] {
        let k = self.priors.len();
        &self.probas[t * k..(t + 1) * k]
    }
}

/// Runs `method` on `data`. Deterministic for a given input order.
pub fn aggregate(data: &LabelData, method: Method, opts: Options) -> Aggregation {
    let groups = data.by_task();
    let k = data.classes.len();
    let w = data.workers.len();
    if k <= 1 && method != Method::Majority {
        // One class: every model agrees with the vote; avoid dividing by K - 1.
        let mut a = majority::run(&groups, k, w);
        a.method = method;
        return a;
    }
    match method {
        Method::Majority => majority::run(&groups, k, w),
        Method::DawidSkene => dawid_skene::run(&groups, k, w, false, opts),
        Method::OneCoinDawidSkene => dawid_skene::run(&groups, k, w, true, opts),
        Method::Glad => glad::run(&groups, k, w, opts),
        Method::Mace => mace::run(&groups, k, w, opts),
    }
}

/// Index of the first maximum: ties go to the lowest class id, i.e. the label seen first.
pub(crate) fn argmax(row: &[f64]) -> usize {
    let mut best = 0;
    for (i, &v) in row.iter().enumerate() {
        if v > row[best] {
            best = i;
        }
    }
    best
}

/// Fills `label` and `confidence` from the posteriors.
pub(crate) fn decide(probas: &[f64], k: usize) -> (Vec<u32>, Vec<f64>) {
    let n = probas.len().checked_div(k).unwrap_or(0);
    let mut label = Vec::with_capacity(n);
    let mut conf = Vec::with_capacity(n);
    for row in probas.chunks_exact(k.max(1)) {
        let b = argmax(row);
        label.push(b as u32);
        conf.push(row[b]);
    }
    (label, conf)
}
