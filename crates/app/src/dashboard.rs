//! The requester's project dashboard and item browser.
//!
//! The dashboard reads the hourly roll-up (see `fairloop_store::dashboard`) that [`ActivityRollup`] keeps up to
//! date in the background, so its cost does not grow with the project: a million-item project renders from a
//! few dozen rows. The item browser pages by key, never by `OFFSET`.

use std::time::Duration;

use fairloop_domain::time::{Millis, now_millis};
use fairloop_domain::{ItemId, ProjectId};
use fairloop_store::dashboard::{HOUR_MS, HourActivity, ItemFilter, ItemQuery, ItemSummary};
use fairloop_store::{Principal, ProjectStats};

use crate::error::NotFoundAs;
use crate::projects::require_manager;
use crate::{App, AppError, AppResult};

/// Hours the dashboard charts.
pub const CHART_HOURS: i64 = 48;
/// Items per page of the browser.
pub const BROWSE_PAGE: i64 = 50;

/// One hour of the chart (hours without submissions included, as zeros).
#[derive(Debug, Clone, Copy, PartialEq, serde::Serialize)]
pub struct HourPoint {
    /// Start of the hour (UTC milliseconds).
    pub start: Millis,
    /// Submissions in the hour.
    pub submissions: i64,
    /// Mean seconds from hand-out to submission, when there were submissions.
    pub mean_seconds: Option<f64>,
}

/// What the dashboard shows.
#[derive(Debug, Clone, serde::Serialize)]
pub struct Dashboard {
    /// Live counts.
    pub stats: ProjectStats,
    /// Annotations still needed to reach the overlap on every item.
    pub remaining: i64,
    /// The last [`CHART_HOURS`] hours, oldest first.
    pub hours: Vec<HourPoint>,
    /// Submissions in the last 24 hours.
    pub last_day: i64,
    /// Hours to finish at the last 24 hours' pace, when there was any.
    pub eta_hours: Option<f64>,
}

/// A page of the item browser.
#[derive(Debug, Clone)]
pub struct ItemPage {
    /// The items.
    pub items: Vec<ItemSummary>,
    /// The key of the next page, when there may be one.
    pub next_after: Option<ItemId>,
}

/// Fills the hours without submissions with zeros, so the chart's time axis is even.
pub fn fill_hours(rows: &[HourActivity], first_hour: i64, hours: i64) -> Vec<HourPoint> {
    (first_hour..first_hour + hours)
        .map(|h| {
            let row = rows.iter().find(|r| r.hour == h);
            HourPoint {
                start: h * HOUR_MS,
                submissions: row.map_or(0, |r| r.submissions),
                mean_seconds: row
                    .filter(|r| r.submissions > 0)
                    .map(|r| r.work_ms as f64 / r.submissions as f64 / 1000.0),
            }
        })
        .collect()
}

impl App {
    /// The dashboard of one of the caller's organization's projects (requesters and admins).
    pub async fn project_dashboard(
        &self,
        principal: &Principal,
        project: ProjectId,
        now: Millis,
    ) -> AppResult<Dashboard> {
        require_manager(principal)?;
        let p = self
            .store
            .project(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let stats = self.store.project_stats(principal.org_id, project).await?;
        let first_hour = now.div_euclid(HOUR_MS) - CHART_HOURS + 1;
        let rows = self
            .store
            .project_activity(principal.org_id, project, first_hour)
            .await?;
        let hours = fill_hours(&rows, first_hour, CHART_HOURS);
        let last_day: i64 = hours.iter().rev().take(24).map(|h| h.submissions).sum();
        let needed = stats.items * i64::from(p.policy.overlap);
        let remaining = (needed - stats.annotations).max(0);
        let eta_hours =
            (last_day > 0 && remaining > 0).then(|| remaining as f64 / (last_day as f64 / 24.0));
        Ok(Dashboard {
            stats,
            remaining,
            hours,
            last_day,
            eta_hours,
        })
    }

    /// A page of the project's items (requesters and admins), after the item id `after`.
    pub async fn browse_items(
        &self,
        principal: &Principal,
        project: ProjectId,
        filter: ItemFilter,
        id_prefix: Option<&str>,
        after: ItemId,
    ) -> AppResult<ItemPage> {
        require_manager(principal)?;
        let p = self
            .store
            .project(principal.org_id, project)
            .await
            .or_not_found("project")?;
        let prefix = id_prefix.map(str::trim).filter(|s| !s.is_empty());
        if let Some(q) = prefix {
            crate::reject_nul("q", q)?;
            if q.chars().count() > 200 {
                return Err(AppError::invalid(
                    "invalid_query",
                    "search for at most 200 characters",
                ));
            }
        }
        let mut items = self
            .store
            .browse_items(
                principal.org_id,
                project,
                ItemQuery {
                    overlap: i64::from(p.policy.overlap),
                    filter,
                    id_prefix: prefix.map(str::to_string),
                    after,
                    limit: BROWSE_PAGE + 1,
                },
            )
            .await?;
        let more = items.len() as i64 > BROWSE_PAGE;
        items.truncate(BROWSE_PAGE as usize);
        Ok(ItemPage {
            next_after: if more {
                items.last().map(|i| i.id)
            } else {
                None
            },
            items,
        })
    }
}

/// What a worker sees about a project before starting: the pace of recent work and what it means per hour.
#[derive(Debug, Clone, Default, PartialEq, serde::Serialize)]
pub struct WorkOutlook {
    /// Mean seconds per task over the last week of everyone's work, when there was any.
    pub mean_seconds: Option<f64>,
    /// For per-task pay: what that pace earns per hour, in minor units of the pay currency.
    pub effective_hourly_minor: Option<i64>,
    /// Answers this worker has submitted in the project.
    pub my_submissions: i64,
}

/// Days of recent work the pace estimate reads.
pub const PACE_DAYS: i64 = 7;

impl App {
    /// Pace, effective hourly rate and the worker's own progress for each project of their organization.
    pub async fn work_outlook(
        &self,
        principal: &Principal,
        now: Millis,
    ) -> AppResult<std::collections::HashMap<ProjectId, WorkOutlook>> {
        let since = now.div_euclid(HOUR_MS) - PACE_DAYS * 24;
        let mine = self
            .store
            .worker_submissions(principal.org_id, principal.user_id)
            .await?;
        let pace = self.store.recent_pace(principal.org_id, since).await?;
        let mut out: std::collections::HashMap<ProjectId, WorkOutlook> = Default::default();
        for (project, n) in mine {
            out.entry(project).or_default().my_submissions = n;
        }
        for (project, n, ms) in pace {
            let mean = ms as f64 / n.max(1) as f64 / 1000.0;
            // Under a second is not a pace a person works at (seeded or scripted answers): say nothing.
            if n > 0 && mean >= 1.0 {
                out.entry(project).or_default().mean_seconds = Some(mean);
            }
        }
        for p in self.store.projects(principal.org_id).await? {
            let Some(o) = out.get_mut(&p.id) else {
                continue;
            };
            let pay: Option<crate::projects::Pay> =
                p.pay.as_deref().and_then(|s| serde_json::from_str(s).ok());
            o.effective_hourly_minor = match (pay, o.mean_seconds) {
                (Some(crate::projects::Pay::PerTask { amount_minor, .. }), Some(s)) if s > 0.0 => {
                    Some((amount_minor as f64 * 3600.0 / s).round() as i64)
                }
                (Some(crate::projects::Pay::Hourly { rate_minor, .. }), _) => Some(rate_minor),
                _ => None,
            };
        }
        Ok(out)
    }
}

/// Keeps the hourly roll-up current.
#[derive(Debug, Clone)]
pub struct ActivityRollup {
    app: App,
}

impl ActivityRollup {
    /// A roll-up job over the app's store.
    pub fn new(app: App) -> Self {
        ActivityRollup { app }
    }

    /// Brings the roll-up up to `now` (several steps when catching up on history); answers the project-hours
    /// written.
    pub async fn try_run_one(&self, now: Millis) -> AppResult<u64> {
        let mut written = self.app.store.rollup_activity(now).await?;
        while self.app.store.rollup_behind(now).await? {
            written += self.app.store.rollup_activity(now).await?;
        }
        Ok(written)
    }

    /// Runs forever, a step every `period`.
    pub async fn run(self, period: Duration) {
        loop {
            if let Err(e) = self.try_run_one(now_millis()).await {
                tracing::warn!(error = %e, "activity roll-up failed");
            }
            tokio::time::sleep(period).await;
        }
    }
}
