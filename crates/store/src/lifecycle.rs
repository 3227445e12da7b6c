//! A project's lifecycle (draft, recruiting, active, paused, winding down, closed), its history, and closing:
//! the state change, the end of the leases still open, the notice record and the notice compensation, all in
//! one transaction.
//!
//! Every change locks the project's row first (PostgreSQL; SQLite has one writer), so two concurrent changes are
//! serialized and the second one sees the first one's state: closing twice at once closes once. Compensation is
//! also posted under a unique source key per project and worker (`notice:<project>:<worker>`), so it cannot be
//! paid twice even by a path that skipped the lock. A project without a lifecycle row is `active`.

use std::collections::HashMap;

use fairloop_domain::lifecycle::{DAY_MS, ProjectState, notice_compensation};
use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::ledger::{AccountRef, Posting, post_from_budget};
use crate::portable::{Row, Tx};
use crate::{Store, StoreError, StoreResult, conflict, params};

/// A project's lifecycle as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lifecycle {
    /// The stored state (see [`fairloop_domain::lifecycle::effective_state`] for the one that applies now).
    pub state: ProjectState,
    /// Why, in the words of whoever changed it (shown to workers).
    pub reason: String,
    /// When the state last changed (0 for a project that never changed it).
    pub changed_at: Millis,
    /// When notice of the end was given.
    pub notice_given_at: Option<Millis>,
    /// The days of notice the terms promised when it was given.
    pub notice_days: Option<i64>,
    /// The end date the notice set.
    pub ends_at: Option<Millis>,
    /// When the project closed.
    pub closed_at: Option<Millis>,
    /// The notice the workers actually had before the close, in milliseconds.
    pub notice_given_ms: Option<Millis>,
    /// Workers paid notice compensation at the close.
    pub compensated_workers: i64,
    /// Compensation paid in total, in minor units of `currency`.
    pub compensation_minor: i64,
    /// The currency of the compensation, when any was due.
    pub currency: Option<String>,
}

impl Default for Lifecycle {
    fn default() -> Self {
        Lifecycle {
            state: ProjectState::Active,
            reason: String::new(),
            changed_at: 0,
            notice_given_at: None,
            notice_days: None,
            ends_at: None,
            closed_at: None,
            notice_given_ms: None,
            compensated_workers: 0,
            compensation_minor: 0,
            currency: None,
        }
    }
}

/// One change of state, for the history.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifecycleEvent {
    /// From.
    pub from: String,
    /// To.
    pub to: String,
    /// Why.
    pub reason: String,
    /// When.
    pub at: Millis,
}

/// A change of state other than closing.
#[derive(Debug, Clone)]
pub struct StateChange {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// The new state (not `closed`: see [`CloseProject`]).
    pub to: ProjectState,
    /// Why (shown to workers).
    pub reason: String,
    /// For `winding_down`: the notice days promised and the end date.
    pub notice: Option<(i64, Millis)>,
    /// Who.
    pub by: Option<UserId>,
    /// When.
    pub now: Millis,
}

/// What closing pays each affected worker for the notice they did not get.
#[derive(Debug, Clone)]
pub struct NoticePay {
    /// The compensation the terms name for the whole notice period, per worker, in minor units.
    pub full_minor: i64,
    /// The project's pay currency.
    pub currency: String,
    /// The notice days the terms promise now (used when no notice was given before).
    pub notice_days: i64,
}

/// Closing a project now (a person) or at its end date (the job).
#[derive(Debug, Clone)]
pub struct CloseProject {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// Why (shown to workers).
    pub reason: String,
    /// Compensation owed for missing notice, when the terms name one and the project pays.
    pub pay: Option<NoticePay>,
    /// Workers who submitted since this time are the affected ones.
    pub affected_since: Millis,
    /// Only close a winding-down project whose end date has passed (the job); otherwise a no-op.
    pub only_if_due: bool,
    /// Who (None for the job).
    pub by: Option<UserId>,
    /// When.
    pub now: Millis,
}

/// What a close did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Closed {
    /// The lifecycle after the close.
    pub lifecycle: Lifecycle,
    /// Compensation transactions posted now (0 when every one existed already).
    pub posted: u64,
}

pub(crate) const COLUMNS: &str = "state, reason, changed_at, notice_given_at, notice_days, ends_at, closed_at, \
     notice_given_ms, compensated_workers, compensation_minor, currency";

pub(crate) fn lifecycle_from(r: &Row) -> StoreResult<Lifecycle> {
    let state = r.string(0)?;
    Ok(Lifecycle {
        state: state
            .parse()
            .map_err(|e: fairloop_domain::lifecycle::UnknownState| {
                StoreError::Sqlite(e.to_string())
            })?,
        reason: r.string(1)?,
        changed_at: r.i64(2)?,
        notice_given_at: r.opt_i64(3)?,
        notice_days: r.opt_i64(4)?,
        ends_at: r.opt_i64(5)?,
        closed_at: r.opt_i64(6)?,
        notice_given_ms: r.opt_i64(7)?,
        compensated_workers: r.i64(8)?,
        compensation_minor: r.i64(9)?,
        currency: r.opt_string(10)?,
    })
}

/// The stored lifecycle of a project of the organization; `None` when it never changed (it is active). Cheap: one
/// primary-key read, so the claim path folds it into the read it already makes (see `App::check_open_for_work`).
pub fn lifecycle_row(
    tx: &dyn Tx,
    org: OrgId,
    project: ProjectId,
) -> StoreResult<Option<Lifecycle>> {
    tx.query_opt(
        &format!("SELECT {COLUMNS} FROM project_lifecycle WHERE project_id = $1 AND org_id = $2"),
        params![project, org],
    )?
    .as_ref()
    .map(lifecycle_from)
    .transpose()
}

/// Locks the project's row (PostgreSQL) and reads its lifecycle; `NotFound` for another organization's project.
fn lock_lifecycle(tx: &dyn Tx, org: OrgId, project: ProjectId) -> StoreResult<Lifecycle> {
    tx.query_opt(
        &format!(
            "SELECT id FROM projects WHERE id = $1 AND org_id = $2{}",
            tx.for_update()
        ),
        params![project, org],
    )?
    .ok_or(StoreError::NotFound)?;
    Ok(lifecycle_row(tx, org, project)?.unwrap_or_default())
}

fn bad_move(from: ProjectState, to: ProjectState) -> StoreError {
    let allowed: Vec<&str> = from.next_states().iter().map(|s| s.as_str()).collect();
    conflict(
        "invalid_transition",
        if allowed.is_empty() {
            format!("the project is {from}, which is final: it cannot become {to}")
        } else {
            format!(
                "a {from} project cannot become {to}; it can become {}",
                allowed.join(", ")
            )
        },
    )
}

fn write_row(
    tx: &dyn Tx,
    org: OrgId,
    project: ProjectId,
    l: &Lifecycle,
    by: Option<UserId>,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO project_lifecycle (project_id, org_id, state, reason, changed_at, changed_by, notice_given_at, \
         notice_days, ends_at, closed_at, notice_given_ms, compensated_workers, compensation_minor, currency) \
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14) \
         ON CONFLICT (project_id) DO UPDATE SET state = excluded.state, reason = excluded.reason, \
         changed_at = excluded.changed_at, changed_by = excluded.changed_by, \
         notice_given_at = excluded.notice_given_at, notice_days = excluded.notice_days, \
         ends_at = excluded.ends_at, closed_at = excluded.closed_at, notice_given_ms = excluded.notice_given_ms, \
         compensated_workers = excluded.compensated_workers, compensation_minor = excluded.compensation_minor, \
         currency = excluded.currency",
        params![
            project,
            org,
            l.state.as_str(),
            l.reason.as_str(),
            l.changed_at,
            by,
            l.notice_given_at,
            l.notice_days,
            l.ends_at,
            l.closed_at,
            l.notice_given_ms,
            l.compensated_workers,
            l.compensation_minor,
            l.currency.clone()
        ],
    )?;
    Ok(())
}

fn log_event(
    tx: &dyn Tx,
    org: OrgId,
    project: ProjectId,
    (from, to): (ProjectState, ProjectState),
    reason: &str,
    by: Option<UserId>,
    now: Millis,
) -> StoreResult<()> {
    tx.execute(
        "INSERT INTO project_lifecycle_events (org_id, project_id, from_state, to_state, reason, created_by, \
         created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        params![org, project, from.as_str(), to.as_str(), reason, by, now],
    )?;
    Ok(())
}

/// Sets the state a new project starts in (inside its creation, before anyone can see it).
pub fn set_initial_state(
    tx: &dyn Tx,
    org: OrgId,
    project: ProjectId,
    state: ProjectState,
    by: UserId,
    now: Millis,
) -> StoreResult<()> {
    let l = Lifecycle {
        state,
        changed_at: now,
        ..Lifecycle::default()
    };
    write_row(tx, org, project, &l, Some(by))
}

impl dyn Store + '_ {
    /// The lifecycle of a project of the organization (`NotFound` for any other).
    pub async fn lifecycle(&self, org: OrgId, project: ProjectId) -> StoreResult<Lifecycle> {
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT id FROM projects WHERE id = $1 AND org_id = $2",
                params![project, org],
            )?
            .ok_or(StoreError::NotFound)?;
            Ok(lifecycle_row(tx, org, project)?.unwrap_or_default())
        })
        .await
    }

    /// The lifecycles of the organization's projects that ever changed state (the others are active).
    pub async fn lifecycles(&self, org: OrgId) -> StoreResult<HashMap<ProjectId, Lifecycle>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!("SELECT {COLUMNS}, project_id FROM project_lifecycle WHERE org_id = $1"),
                params![org],
            )?
            .iter()
            .map(|r| Ok((r.i64(11)?, lifecycle_from(r)?)))
            .collect()
        })
        .await
    }

    /// The project's changes of state, newest first.
    pub async fn lifecycle_events(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Vec<LifecycleEvent>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT from_state, to_state, reason, created_at FROM project_lifecycle_events \
                 WHERE org_id = $1 AND project_id = $2 ORDER BY id DESC LIMIT 100",
                params![org, project],
            )?
            .iter()
            .map(|r| {
                Ok(LifecycleEvent {
                    from: r.string(0)?,
                    to: r.string(1)?,
                    reason: r.string(2)?,
                    at: r.i64(3)?,
                })
            })
            .collect()
        })
        .await
    }

    /// Moves a project to another state (not `closed`: see [`Store::close_project`]); `409 invalid_transition`
    /// when the current state does not allow it.
    pub async fn change_state(&self, c: StateChange) -> StoreResult<Lifecycle> {
        self.write_tx(move |tx| {
            let current = lock_lifecycle(tx, c.org_id, c.project_id)?;
            if c.to == ProjectState::Closed || !current.state.can_move_to(c.to) {
                return Err(bad_move(current.state, c.to));
            }
            let mut next = Lifecycle {
                state: c.to,
                reason: c.reason.clone(),
                changed_at: c.now,
                ..Lifecycle::default()
            };
            if c.to == ProjectState::WindingDown {
                let (days, ends_at) = c.notice.ok_or_else(|| {
                    conflict("invalid_transition", "winding down needs an end date")
                })?;
                next.notice_given_at = Some(c.now);
                next.notice_days = Some(days);
                next.ends_at = Some(ends_at);
            }
            write_row(tx, c.org_id, c.project_id, &next, c.by)?;
            log_event(
                tx,
                c.org_id,
                c.project_id,
                (current.state, c.to),
                &c.reason,
                c.by,
                c.now,
            )?;
            Ok(next)
        })
        .await
    }

    /// Closes a project: records the notice the workers had, pays each affected worker (one who submitted since
    /// `affected_since`) the compensation for the notice they did not get, ends the leases still open (their
    /// slots go back, so the counts stay true) and logs the change, all in one transaction. Closing a closed
    /// project is `409 project_closed` and pays nothing; with `only_if_due` a project that is not past its end
    /// date is left alone (`Ok(None)`).
    pub async fn close_project(&self, c: CloseProject) -> StoreResult<Option<Closed>> {
        self.write_tx(move |tx| {
            let current = lock_lifecycle(tx, c.org_id, c.project_id)?;
            if c.only_if_due
                && !(current.state == ProjectState::WindingDown
                    && current.ends_at.is_some_and(|e| e <= c.now))
            {
                return Ok(None);
            }
            if current.state == ProjectState::Closed {
                return Err(conflict(
                    "project_closed",
                    "the project is already closed; nothing was changed or paid",
                ));
            }
            if !current.state.can_move_to(ProjectState::Closed) {
                return Err(bad_move(current.state, ProjectState::Closed));
            }
            // The notice promised: what was promised when notice was given, else what the terms promise now.
            let notice_days = current
                .notice_days
                .or_else(|| c.pay.as_ref().map(|p| p.notice_days))
                .unwrap_or(0);
            let notice_ms = notice_days * DAY_MS;
            let given_ms = current
                .notice_given_at
                .map_or(0, |at| (c.now - at).max(0))
                .min(notice_ms.max(0));
            let mut next = Lifecycle {
                state: ProjectState::Closed,
                reason: if c.reason.is_empty() {
                    current.reason.clone()
                } else {
                    c.reason.clone()
                },
                changed_at: c.now,
                notice_given_at: current.notice_given_at,
                notice_days: Some(notice_days),
                ends_at: current.ends_at,
                closed_at: Some(c.now),
                notice_given_ms: Some(given_ms),
                ..Lifecycle::default()
            };
            let mut posted = 0;
            if let Some(pay) = &c.pay {
                let each = notice_compensation(pay.full_minor, notice_ms, given_ms);
                if each > 0 {
                    let workers = tx.query(
                        "SELECT DISTINCT worker_id FROM annotations WHERE project_id = $1 AND org_id = $2 \
                         AND submitted_at >= $3 ORDER BY worker_id",
                        params![c.project_id, c.org_id, c.affected_since],
                    )?;
                    for w in &workers {
                        let worker = w.i64(0)?;
                        let outcome = post_from_budget(
                            tx,
                            &Posting {
                                org_id: c.org_id,
                                source_key: format!("notice:{}:{worker}", c.project_id),
                                kind: "notice_compensation".into(),
                                project_id: Some(c.project_id),
                                worker_id: Some(worker),
                                annotation_id: None,
                                memo: format!(
                                    "Notice compensation: the project closed with {} of {notice_days} days of notice",
                                    given_ms / DAY_MS
                                ),
                                created_by: c.by,
                                currency: pay.currency.clone(),
                                entries: vec![
                                    (AccountRef::BUDGET, -each),
                                    (AccountRef::earnings(worker), each),
                                ],
                            },
                            None,
                            c.now,
                        )?;
                        if matches!(outcome, crate::ledger::Posted::New(_)) {
                            posted += 1;
                        }
                        next.compensated_workers += 1;
                        next.compensation_minor += each;
                    }
                    next.currency = Some(pay.currency.clone());
                }
            }
            end_open_leases(tx, c.org_id, c.project_id, c.now)?;
            write_row(tx, c.org_id, c.project_id, &next, c.by)?;
            log_event(
                tx,
                c.org_id,
                c.project_id,
                (current.state, ProjectState::Closed),
                &next.reason,
                c.by,
                c.now,
            )?;
            Ok(Some(Closed {
                lifecycle: next,
                posted,
            }))
        })
        .await
    }

    /// Winding-down projects whose end date has passed by `now`, oldest first (for the closing job).
    pub async fn lifecycle_due(
        &self,
        now: Millis,
        limit: i64,
    ) -> StoreResult<Vec<(OrgId, ProjectId)>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT org_id, project_id FROM project_lifecycle WHERE state = 'winding_down' AND ends_at <= $1 \
                 ORDER BY ends_at LIMIT $2",
                params![now, limit],
            )?
            .iter()
            .map(|r| Ok((r.i64(0)?, r.i64(1)?)))
            .collect()
        })
        .await
    }

    /// Ends leases still open in closed projects (one taken in the instant a project closed, on another
    /// process); answers how many. The closing job runs it, so a closed project holds no open lease for long.
    pub async fn end_leases_of_closed(&self, now: Millis) -> StoreResult<u64> {
        self.write_tx(move |tx| {
            let stray = tx.query(
                "SELECT DISTINCT a.org_id, a.project_id FROM assignments a JOIN project_lifecycle l \
                 ON l.project_id = a.project_id WHERE l.state = 'closed' AND a.status = 'open' LIMIT 100",
                params![],
            )?;
            let mut n = 0;
            for r in &stray {
                n += end_open_leases(tx, r.i64(0)?, r.i64(1)?, now)?;
            }
            Ok(n)
        })
        .await
    }
}

/// Ends every open lease of the project as skipped with the reason "project closed", giving each slot back, so
/// a submit on one is refused (`409 assignment_closed`) and the queue's counts stay true.
fn end_open_leases(tx: &dyn Tx, org: OrgId, project: ProjectId, now: Millis) -> StoreResult<u64> {
    let ended = tx.query(
        "UPDATE assignments SET status = 'skipped', skip_reason = 'project closed', closed_at = $1 \
         WHERE project_id = $2 AND org_id = $3 AND status = 'open' RETURNING item_id",
        params![now, project, org],
    )?;
    for r in &ended {
        tx.execute(crate::sql::RELEASE_SLOT, params![r.i64(0)?])?;
    }
    Ok(ended.len() as u64)
}
