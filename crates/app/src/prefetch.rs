//! Moving on without waiting: the workbench holds the worker's next item while they answer the current one.
//!
//! A project lets a worker hold `max_open_per_worker` leases (2 by default) precisely so that the web app can
//! take the next item ahead of time. Leases are only ever taken by a POST (starting, submitting, skipping):
//! [`App::line_up`] makes sure the worker holds the item to show and, within their cap, one more; the page of
//! the current item asks the browser to fetch the other held item's page in the background
//! ([`App::prefetch_next`] only reads), and after submitting, "next" resumes the oldest lease still held, which
//! is already loaded. An unanswered prefetched lease simply expires like any other.

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

    /// The item to prefetch while `current` is on screen: another lease the worker already holds (read only).
    pub async fn prefetch_next(
        &self,
        principal: &Principal,
        project: ProjectId,
        current: AssignmentId,
    ) -> AppResult<Option<AssignmentId>> {
        let open = self
            .store
            .open_assignments(principal.org_id, principal.user_id, project, now_millis())
            .await?;
        Ok(open.into_iter().find(|a| *a != current))
    }

    /// Takes leases (a POST's work) until the worker holds the next item to show and, within their cap, one
    /// more to prefetch; answers the oldest held lease, the one to show. `None` when nothing is left. Errors
    /// (terms not accepted, a pause, a spent budget) come back as they are, for the page to explain.
    pub async fn line_up(
        &self,
        principal: &Principal,
        project: ProjectId,
    ) -> AppResult<Option<AssignmentId>> {
        let p = self
            .store
            .project(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let cap = (p.policy.max_open_per_worker as usize).clamp(1, 2);
        let mut open = self
            .store
            .open_assignments(principal.org_id, principal.user_id, project, now_millis())
            .await?;
        while open.len() < cap {
            match self.next_task(principal, project).await? {
                Some(t) if !open.contains(&t.assignment_id) => open.push(t.assignment_id),
                // Nothing new (or the queue handed back a lease already held): stop.
                _ => break,
            }
        }
        open.sort_unstable();
        Ok(open.first().copied())
    }
}
