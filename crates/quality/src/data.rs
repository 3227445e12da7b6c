//! In-memory data sets as struct-of-arrays over interned ids.

use crate::intern::Interner;

/// Categorical labels: one entry per `(task, worker, label)` row, names interned to dense ids.
///
/// Flat parallel arrays keep the EM loops cache-friendly and the memory small (12 bytes per label plus the names).
#[derive(Debug, Clone, Default)]
pub struct LabelData {
    /// Task names.
    pub tasks: Interner,
    /// Worker names.
    pub workers: Interner,
    /// Label (class) names, in order of first appearance; that order breaks ties.
    pub classes: Interner,
    /// Task id of each row.
    pub task: Vec<u32>,
    /// Worker id of each row.
    pub worker: Vec<u32>,
    /// Class id of each row.
    pub label: Vec<u32>,
}

impl LabelData {
    /// An empty data set.
    pub fn new() -> Self {
        Self::default()
    }

    /// Adds one row; convenient for tests and callers that do not read CSV.
    pub fn push(&mut self, task: &str, worker: &str, label: &str) {
        self.task.push(self.tasks.intern(task));
        self.worker.push(self.workers.intern(worker));
        self.label.push(self.classes.intern(label));
    }

    /// Number of rows (labels).
    pub fn len(&self) -> usize {
        self.task.len()
    }

    /// True when there are no rows.
    pub fn is_empty(&self) -> bool {
        self.task.is_empty()
    }

    /// Groups the rows by task (a stable counting sort), the layout every EM loop walks.
    pub fn by_task(&self) -> TaskGroups {
        let n_tasks = self.tasks.len();
        let mut offsets = vec![0usize; n_tasks + 1];
        for &t in &self.task {
            offsets[t as usize + 1] += 1;
        }
        for i in 0..n_tasks {
            offsets[i + 1] += offsets[i];
        }
        let mut fill = offsets.clone();
        let mut worker = vec![0u32; self.len()];
        let mut label = vec![0u32; self.len()];
        for i in 0..self.len() {
            let t = self.task[i] as usize;
            let at = fill[t];
            fill[t] += 1;
            worker[at] = self.worker[i];
            label[at] = self.label[i];
        }
        TaskGroups {
            offsets,
            worker,
            label,
        }
    }
}

/// Rows grouped by task: the rows of task `t` are `offsets[t]..offsets[t + 1]` of `worker` and `label`.
#[derive(Debug, Clone)]
pub struct TaskGroups {
    /// Start of each task's rows, plus the total at the end.
    pub offsets: Vec<usize>,
    /// Worker id of each grouped row.
    pub worker: Vec<u32>,
    /// Class id of each grouped row.
    pub label: Vec<u32>,
}

impl TaskGroups {
    /// Number of tasks.
    pub fn n_tasks(&self) -> usize {
        self.offsets.len() - 1
    }

    /// The row range of task `t`.
    pub fn range(&self, t: usize) -> std::ops::Range<usize> {
        self.offsets[t]..self.offsets[t + 1]
    }
}

/// Numeric answers: one value per `(task, worker)` row, for the mean, median and trimmed-mean aggregates.
#[derive(Debug, Clone, Default)]
pub struct NumericData {
    /// Task names.
    pub tasks: Interner,
    /// Worker names.
    pub workers: Interner,
    /// Task id of each row.
    pub task: Vec<u32>,
    /// Worker id of each row.
    pub worker: Vec<u32>,
    /// The answer of each row.
    pub value: Vec<f64>,
}

impl NumericData {
    /// Adds one row.
    pub fn push(&mut self, task: &str, worker: &str, value: f64) {
        self.task.push(self.tasks.intern(task));
        self.worker.push(self.workers.intern(worker));
        self.value.push(value);
    }
}

/// Ratings for agreement metrics: `(item, rater, value)` rows, each rater at most once per item.
#[derive(Debug, Clone, Default)]
pub struct RatingData {
    /// Item (unit) names.
    pub items: Interner,
    /// Rater (coder, observer) names.
    pub raters: Interner,
    /// Distinct values as written.
    pub values: Interner,
    /// Item id of each row.
    pub item: Vec<u32>,
    /// Rater id of each row.
    pub rater: Vec<u32>,
    /// Value id of each row.
    pub value: Vec<u32>,
}

impl RatingData {
    /// Adds one rating (no duplicate check; the CSV reader does that with line numbers).
    pub fn push(&mut self, item: &str, rater: &str, value: &str) {
        self.item.push(self.items.intern(item));
        self.rater.push(self.raters.intern(rater));
        self.value.push(self.values.intern(value));
    }

    /// Number of ratings.
    pub fn len(&self) -> usize {
        self.item.len()
    }

    /// True when there are no ratings.
    pub fn is_empty(&self) -> bool {
        self.item.is_empty()
    }
}

/// Pairwise comparisons for ranking. A tie is half a win for each side.
#[derive(Debug, Clone, Default)]
pub struct Comparisons {
    /// Item names.
    pub items: Interner,
    /// Winner of each comparison (for a tie: either side).
    pub winner: Vec<u32>,
    /// Loser of each comparison (for a tie: the other side).
    pub loser: Vec<u32>,
    /// Whether the comparison was a tie.
    pub tie: Vec<bool>,
}

impl Comparisons {
    /// Adds one comparison.
    pub fn push(&mut self, winner: &str, loser: &str, tie: bool) {
        self.winner.push(self.items.intern(winner));
        self.loser.push(self.items.intern(loser));
        self.tie.push(tie);
    }

    /// Number of comparisons.
    pub fn len(&self) -> usize {
        self.winner.len()
    }

    /// True when there are no comparisons.
    pub fn is_empty(&self) -> bool {
        self.winner.is_empty()
    }
}
