//! Moving on without waiting: the workbench holds the worker's next item while they answer the current one.
//!
//! A project lets a worker hold `max_open_per_worker` leases (2 by default) precisely so that the web app can
//! take the next item ahead of time. While item A is on screen, [`App::prefetch_next`] leases item B (or finds
//! the one already held) and the page asks the browser to fetch B's page in the background; after submitting
//! A, "next" resumes the oldest lease still held, which is B, already loaded. An unanswered prefetched lease
//! simply expires like any other.

use fairloop_domain::time::now_millis;
use fairloop_domain::{AssignmentId, ProjectId};
use fairloop_store::Principal;

use crate::error::NotFoundAs;
use crate::{App, AppResult};

impl App {
    /// The oldest lease the worker still holds in the project, so "next" resumes it before taking a new one.
    pub async fn held_assignment(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<AssignmentId>> {
        let open = self
            .store
            .open_assignments(principal.org_id, principal.user_id, project, now_millis())
            .await?;
        Ok(open.first().copied())
    }

    /// The item to prefetch while `current` is on screen: another lease the worker holds, or a new one when
    /// they are under their cap. `None` when nothing else is left (or the cap is 1).
    pub async fn prefetch_next(
        &self,
        principal: &Principal,
        project: ProjectId,
        current: AssignmentId,
    ) -> AppResult<Option<AssignmentId>> {
        let p = self
            .store
            .project(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let open = self
            .store
            .open_assignments(principal.org_id, principal.user_id, project, now_millis())
            .await?;
        if let Some(other) = open.iter().copied().find(|a| *a != current) {
            return Ok(Some(other));
        }
        if open.len() >= p.policy.max_open_per_worker as usize {
            return Ok(None);
        }
        Ok(self
            .next_task(principal, project)
            .await?
            .map(|t| t.assignment_id)
            .filter(|a| *a != current))
    }
}
