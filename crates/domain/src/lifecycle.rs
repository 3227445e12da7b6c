//! The lifecycle of a project and its rules: which states exist, which moves between them are allowed, and what
//! each state lets workers do. Written once here so the store (which checks a move under a row lock), the use
//! cases and the pages agree (see docs/lifecycle.md).

use std::fmt;
use std::str::FromStr;

use crate::time::Millis;

/// One day in milliseconds: notice periods are whole days.
pub const DAY_MS: Millis = 86_400_000;

/// Where a project is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ProjectState {
    /// Being set up: invisible to workers.
    Draft,
    /// Visible; workers read and accept the terms; no tasks yet.
    Recruiting,
    /// Tasks are handed out (the state of every project that never set one).
    Active,
    /// No new tasks (workers see why); leases already held may still be submitted.
    Paused,
    /// Ending with notice: work goes on until the end date, then the project closes.
    WindingDown,
    /// Ended: no tasks, nothing more is submitted; read-only.
    Closed,
}

/// Every state, in the order of a project's life.
pub const STATES: [ProjectState; 6] = [
    ProjectState::Draft,
    ProjectState::Recruiting,
    ProjectState::Active,
    ProjectState::Paused,
    ProjectState::WindingDown,
    ProjectState::Closed,
];

impl ProjectState {
    /// The stored and API name.
    pub fn as_str(self) -> &'static str {
        match self {
            ProjectState::Draft => "draft",
            ProjectState::Recruiting => "recruiting",
            ProjectState::Active => "active",
            ProjectState::Paused => "paused",
            ProjectState::WindingDown => "winding_down",
            ProjectState::Closed => "closed",
        }
    }

    /// The name a person reads.
    pub fn label(self) -> &'static str {
        match self {
            ProjectState::Draft => "Draft",
            ProjectState::Recruiting => "Recruiting",
            ProjectState::Active => "Active",
            ProjectState::Paused => "Paused",
            ProjectState::WindingDown => "Winding down",
            ProjectState::Closed => "Closed",
        }
    }

    /// The states this one may move to. Closing goes through "close" (with notice: `winding_down`; now:
    /// `closed`), which computes the notice owed; a closed project stays closed.
    pub fn next_states(self) -> &'static [ProjectState] {
        use ProjectState::*;
        match self {
            Draft => &[Recruiting, Active, Closed],
            Recruiting => &[Active, Paused, WindingDown, Closed],
            Active => &[Paused, WindingDown, Closed],
            Paused => &[Active, WindingDown, Closed],
            WindingDown => &[Active, Closed],
            Closed => &[],
        }
    }

    /// True when a project in this state may move to `to`.
    pub fn can_move_to(self, to: ProjectState) -> bool {
        self.next_states().contains(&to)
    }

    /// True when workers of the organization see the project at all.
    pub fn visible_to_workers(self) -> bool {
        self != ProjectState::Draft
    }

    /// True when new tasks may be handed out (a winding-down project only until its end date: see
    /// [`effective_state`]).
    pub fn hands_out_work(self) -> bool {
        matches!(self, ProjectState::Active | ProjectState::WindingDown)
    }
}

impl fmt::Display for ProjectState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A name that is not a state.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "{0:?} is not a project state; use one of draft, recruiting, active, paused, winding_down, closed"
)]
pub struct UnknownState(pub String);

impl FromStr for ProjectState {
    type Err = UnknownState;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        STATES
            .into_iter()
            .find(|st| st.as_str() == s)
            .ok_or_else(|| UnknownState(s.to_string()))
    }
}

/// The state that applies at `now`: a winding-down project whose end date has passed is closed even before the
/// job that records it has run, so no task is handed out after the end date.
pub fn effective_state(state: ProjectState, ends_at: Option<Millis>, now: Millis) -> ProjectState {
    match (state, ends_at) {
        (ProjectState::WindingDown, Some(end)) if end <= now => ProjectState::Closed,
        _ => state,
    }
}

/// The notice compensation one worker is owed when a project ends before the full notice: the amount the terms
/// name for the whole notice period, times the share of the period not given, rounded up to a whole minor unit.
/// `notice_ms` is the promised period, `given_ms` the notice the worker actually had.
pub fn notice_compensation(full_minor: i64, notice_ms: Millis, given_ms: Millis) -> i64 {
    if full_minor <= 0 || notice_ms <= 0 {
        return 0;
    }
    let missing = (notice_ms - given_ms.max(0)).clamp(0, notice_ms);
    let v = (i128::from(full_minor) * i128::from(missing) + i128::from(notice_ms) - 1)
        / i128::from(notice_ms);
    v.min(i128::from(i64::MAX)) as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn states_round_trip_by_name() {
        for s in STATES {
            assert_eq!(s.as_str().parse::<ProjectState>(), Ok(s));
        }
        assert!("open".parse::<ProjectState>().is_err());
    }

    #[test]
    fn closed_is_final_and_draft_is_hidden() {
        assert!(ProjectState::Closed.next_states().is_empty());
        for s in STATES {
            assert!(!s.can_move_to(s), "{s} to itself is not a move");
            assert_eq!(s.visible_to_workers(), s != ProjectState::Draft);
        }
        assert!(!ProjectState::WindingDown.can_move_to(ProjectState::Paused));
        assert!(!ProjectState::Recruiting.can_move_to(ProjectState::Draft));
        assert!(ProjectState::Paused.can_move_to(ProjectState::Active));
    }

    #[test]
    fn a_passed_end_date_closes() {
        let w = ProjectState::WindingDown;
        assert_eq!(effective_state(w, Some(10), 9), w);
        assert_eq!(effective_state(w, Some(10), 10), ProjectState::Closed);
        assert_eq!(
            effective_state(ProjectState::Active, Some(1), 10),
            ProjectState::Active
        );
    }

    #[test]
    fn compensation_is_the_share_of_notice_not_given_rounded_up() {
        let day = DAY_MS;
        assert_eq!(notice_compensation(1400, 14 * day, 0), 1400);
        assert_eq!(notice_compensation(1400, 14 * day, 7 * day), 700);
        assert_eq!(notice_compensation(1000, 3 * day, day), 667);
        assert_eq!(notice_compensation(1400, 14 * day, 20 * day), 0);
        assert_eq!(notice_compensation(1400, 0, 0), 0);
        assert_eq!(notice_compensation(0, 14 * day, 0), 0);
    }
}
