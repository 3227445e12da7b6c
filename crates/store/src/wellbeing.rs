//! Wellbeing: sensitivity categories of projects and items, workers' opt-ins, the daily exposure count, and
//! skips that never count against a worker.
//!
//! The queue's part is [`Store::claim_sensitive`]: the claim for projects with sensitive content. It runs as
//! one portable write transaction that reads the worker's opt-ins and today's exposure, leaves out every item
//! of a category the worker did not opt into or has reached today's limit in, takes the next item and counts it,
//! all under the same per-worker serialization as the ordinary claim (the SQLite writer; on PostgreSQL the
//! transaction-level advisory lock on the worker id that `claim_next` takes too). So concurrent claims of one
//! worker, in any number of processes, can never go over the limit. Projects without sensitive content never
//! come here: their claim is the tuned one in `ops.rs`, unchanged but for a `sensitivity = 0` condition.

use fairloop_domain::sensitivity::{ALL, CATEGORIES, Mask, utc_day};
use fairloop_domain::time::Millis;
use fairloop_domain::{AssignmentId, OrgId, ProjectId, UserId};

use crate::portable::{Backend, Tx};
use crate::{Claim, Store, StoreError, StoreResult, params};

/// A project's wellbeing settings as stored; the defaults (no row) are all zero or `None`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ProjectWellbeing {
    /// The project's own categories: every item is in them.
    pub sensitivity: Mask,
    /// Union of the categories items were imported with.
    pub item_sensitivity: Mask,
    /// Sensitive items of one category a worker may be handed per UTC day; `None` = the platform default.
    pub daily_limit: Option<i64>,
    /// Minutes of active time before a break reminder; `None` = the platform default, 0 = none.
    pub break_minutes: Option<i64>,
    /// Support resources (Markdown); `None` = the platform default.
    pub support_markdown: Option<String>,
}

impl ProjectWellbeing {
    /// Whether the project has any sensitive content, i.e. whether claims take the sensitive path.
    pub fn is_sensitive(&self) -> bool {
        self.sensitivity != 0 || self.item_sensitivity != 0
    }
}

/// New settings for a project.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct WellbeingUpdate {
    /// The project's own categories.
    pub sensitivity: Mask,
    /// See [`ProjectWellbeing::daily_limit`].
    pub daily_limit: Option<i64>,
    /// See [`ProjectWellbeing::break_minutes`].
    pub break_minutes: Option<i64>,
    /// See [`ProjectWellbeing::support_markdown`].
    pub support_markdown: Option<String>,
}

/// What the sensitive claim needs beyond the store's own data.
#[derive(Debug, Clone, Copy)]
pub struct SensitiveClaimRequest {
    /// The worker's organization.
    pub org_id: OrgId,
    /// The project.
    pub project_id: ProjectId,
    /// The worker.
    pub worker_id: UserId,
    /// Now (the UTC day of the exposure count comes from it).
    pub now: Millis,
    /// The platform's daily limit, used when the project sets none.
    pub default_limit: i64,
    /// Try a gold item first (the app decides by the project's gold rate).
    pub want_gold: bool,
}

/// The answer of the sensitive claim.
#[derive(Debug, Clone)]
pub enum SensitiveClaim {
    /// An item (new or already held).
    Claimed(Claim),
    /// The worker has not opted into these categories of the project: no task until they do.
    OptInNeeded {
        /// The categories missing.
        missing: Mask,
    },
    /// Nothing for this worker now; `at_limit` are the categories they reached today's limit in.
    Nothing {
        /// Categories at today's limit.
        at_limit: Mask,
    },
}

/// A worker's exposure today in one category.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Exposure {
    /// The category's bit.
    pub category: u32,
    /// Sensitive items of it handed to the worker today.
    pub items: i64,
}

const PROJECT_WELLBEING: &str = "SELECT w.sensitivity, w.item_sensitivity, w.daily_limit, w.break_minutes, \
     w.support_markdown FROM projects p LEFT JOIN project_wellbeing w ON w.project_id = p.id \
     WHERE p.id = $1 AND p.org_id = $2";
const ORG_WELLBEING: &str = "SELECT project_id, sensitivity, item_sensitivity, daily_limit, break_minutes, \
     support_markdown FROM project_wellbeing WHERE org_id = $1";
const UPSERT_WELLBEING: &str = "INSERT INTO project_wellbeing (project_id, org_id, sensitivity, daily_limit, \
     break_minutes, support_markdown, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7) ON CONFLICT (project_id) \
     DO UPDATE SET sensitivity = $3, daily_limit = $4, break_minutes = $5, support_markdown = $6, updated_at = $7";
const NOTE_ITEM_SENSITIVITY: &str = "INSERT INTO project_wellbeing (project_id, org_id, item_sensitivity, \
     updated_at) VALUES ($1, $2, $3, $4) ON CONFLICT (project_id) DO UPDATE SET \
     item_sensitivity = project_wellbeing.item_sensitivity | $3";
/// Recomputes the queue's categories of a project's items from their own and the project's.
const FOLD_ITEMS: &str = "UPDATE items SET sensitivity = own_sensitivity | $1 WHERE project_id = $2 AND org_id = $3 \
     AND sensitivity <> (own_sensitivity | $1)";
const OPTED_IN: &str = "SELECT opted_in FROM worker_wellbeing WHERE worker_id = $1 AND org_id = $2";
const SET_OPTED_IN: &str = "INSERT INTO worker_wellbeing (worker_id, org_id, opted_in, updated_at) \
     SELECT id, org_id, $3, $4 FROM users WHERE id = $1 AND org_id = $2 ON CONFLICT (worker_id) \
     DO UPDATE SET opted_in = $3, updated_at = $4";
const TAKE_BREAK: &str = "INSERT INTO worker_wellbeing (worker_id, org_id, opted_in, break_at, updated_at) \
     SELECT id, org_id, 0, $3, $3 FROM users WHERE id = $1 AND org_id = $2 ON CONFLICT (worker_id) \
     DO UPDATE SET break_at = $3, updated_at = $3";
const BREAK_AT: &str = "SELECT break_at FROM worker_wellbeing WHERE worker_id = $1 AND org_id = $2";
const RECENT_CREDIT: &str = "SELECT at, credited_ms FROM heartbeats WHERE org_id = $1 AND worker_id = $2 \
     AND at > $3 AND credited_ms > 0 ORDER BY at DESC";
const EXPOSURE_TODAY: &str = "SELECT category, items FROM exposure_counts WHERE worker_id = $1 AND org_id = $2 \
     AND day = $3 ORDER BY category";
const COUNT_EXPOSURE: &str = "INSERT INTO exposure_counts (worker_id, day, category, org_id, items) \
     VALUES ($1, $2, $3, $4, 1) ON CONFLICT (worker_id, day, category) DO UPDATE SET items = exposure_counts.items + 1";
const LOCK_PROJECT: &str = "SELECT id FROM projects WHERE id = $1 AND org_id = $2";
const CLAIM_POLICY: &str =
    "SELECT lease_seconds, max_open_per_worker FROM projects WHERE id = $1 AND org_id = $2";
/// The sensitive queue's candidate: `ops.rs`'s hot query with "none of the blocked categories" ($3).
const SENSITIVE_CANDIDATE: &str = "SELECT i.id FROM items i WHERE i.project_id = $1 AND i.free_slots > 0 \
     AND (i.sensitivity & $3) = 0 \
     AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id AND a.worker_id = $2) \
     ORDER BY i.priority DESC, i.id LIMIT 1";
/// The gold hand-out (`quality.rs`) with the same condition.
const SENSITIVE_GOLD: &str = "SELECT i.id FROM items i WHERE i.project_id = $1 AND i.gold IS NOT NULL \
     AND (i.sensitivity & $3) = 0 \
     AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id AND a.worker_id = $2) \
     ORDER BY i.annotations, i.id LIMIT 1";
const SKIP_TARGET: &str = "SELECT a.status, a.item_id, a.project_id, i.sensitivity FROM assignments a \
     JOIN items i ON i.id = a.item_id WHERE a.id = $1 AND a.worker_id = $2 AND a.org_id = $3";
const PROTECT_SKIP: &str = "INSERT INTO protected_skips (assignment_id, org_id, project_id, worker_id, distressing, \
     created_at) VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (assignment_id) DO NOTHING";
const DISTRESSING_SKIPS: &str = "SELECT CAST(COUNT(*) AS BIGINT) FROM protected_skips WHERE project_id = $1 \
     AND org_id = $2 AND distressing = 1";

fn wellbeing_from(r: &crate::portable::Row, at: usize) -> StoreResult<ProjectWellbeing> {
    Ok(ProjectWellbeing {
        sensitivity: r.opt_i64(at)?.unwrap_or(0),
        item_sensitivity: r.opt_i64(at + 1)?.unwrap_or(0),
        daily_limit: r.opt_i64(at + 2)?,
        break_minutes: r.opt_i64(at + 3)?,
        support_markdown: r.opt_string(at + 4)?,
    })
}

fn project_wellbeing(tx: &dyn Tx, org: OrgId, project: ProjectId) -> StoreResult<ProjectWellbeing> {
    let row = tx.query_one(PROJECT_WELLBEING, params![project, org])?;
    wellbeing_from(&row, 0)
}

fn opted_in(tx: &dyn Tx, org: OrgId, worker: UserId) -> StoreResult<Mask> {
    Ok(tx
        .query_opt(OPTED_IN, params![worker, org])?
        .map(|r| r.i64(0))
        .transpose()?
        .unwrap_or(0))
}

fn exposure(tx: &dyn Tx, org: OrgId, worker: UserId, day: i64) -> StoreResult<Vec<Exposure>> {
    tx.query(EXPOSURE_TODAY, params![worker, org, day])?
        .iter()
        .map(|r| {
            Ok(Exposure {
                category: r.i64(0)? as u32,
                items: r.i64(1)?,
            })
        })
        .collect()
}

/// An item just taken: id, external id, data, categories.
type Taken = (i64, Option<String>, String, Mask);

/// Takes one slot of the first item `candidate` finds (PostgreSQL: skipping rows another claim holds, then,
/// when that finds nothing, waiting for them once, as `ops.rs` does).
fn take(
    tx: &dyn Tx,
    candidate: &str,
    project: ProjectId,
    worker: UserId,
    blocked: Mask,
) -> StoreResult<Option<Taken>> {
    let run = |lock: &str| -> StoreResult<Option<Taken>> {
        let sql = format!(
            "UPDATE items SET free_slots = free_slots - 1 WHERE id = ({candidate}{lock}) \
             RETURNING id, external_id, data, sensitivity"
        );
        tx.query_opt(&sql, params![project, worker, blocked])?
            .map(|r| Ok((r.i64(0)?, r.opt_string(1)?, r.string(2)?, r.i64(3)?)))
            .transpose()
    };
    match tx.backend() {
        Backend::Sqlite => run(""),
        Backend::Postgres => match run(" FOR UPDATE SKIP LOCKED")? {
            Some(t) => Ok(Some(t)),
            None => run(" FOR UPDATE"),
        },
    }
}

fn claim(tx: &dyn Tx, req: SensitiveClaimRequest) -> StoreResult<SensitiveClaim> {
    let SensitiveClaimRequest {
        org_id: org,
        project_id: project,
        worker_id: worker,
        now,
        default_limit,
        want_gold,
    } = req;
    if tx.backend() == Backend::Postgres {
        // The same lock as `claim_next`: one claim at a time per worker, across every process and project.
        tx.execute("SELECT pg_advisory_xact_lock($1)", params![worker])?;
    }
    let policy = tx.query_one(CLAIM_POLICY, params![project, org])?;
    let (lease_seconds, max_open) = (policy.i64(0)?, policy.i64(1)?);
    let settings = project_wellbeing(tx, org, project)?;
    let opted = opted_in(tx, org, worker)?;
    let missing = settings.sensitivity & !opted;
    if missing != 0 {
        return Ok(SensitiveClaim::OptInNeeded { missing });
    }
    let limit = settings.daily_limit.unwrap_or(default_limit);
    let day = utc_day(now);
    let at_limit = exposure(tx, org, worker, day)?
        .iter()
        .filter(|e| e.items >= limit)
        .fold(0, |m, e| m | (1 << e.category));
    // Held leases come first, as in the ordinary claim: they were counted when they were taken.
    let held = tx.query(crate::sql::HELD_LEASES, params![worker, project])?;
    if held.iter().any(|h| h.i64(2).is_ok_and(|e| e <= now)) {
        let expired = tx.query(crate::sql::EXPIRE_OWN_LEASES, params![now, worker, project])?;
        for r in expired {
            tx.execute(crate::sql::RELEASE_SLOT, params![r.i64(0)?])?;
        }
    }
    let mut live = Vec::new();
    for h in held {
        if h.i64(2)? > now {
            live.push(Claim {
                assignment_id: h.i64(0)?,
                item_id: h.i64(1)?,
                expires_at: h.i64(2)?,
                external_id: h.opt_string(3)?,
                data: h.string(4)?,
                reused: true,
                sensitivity: h.i64(5)?,
            });
        }
    }
    let oldest = live.first().cloned();
    if live.len() as i64 >= max_open {
        return Ok(oldest.map_or(
            SensitiveClaim::Nothing { at_limit },
            SensitiveClaim::Claimed,
        ));
    }
    if settings.sensitivity & at_limit != 0 {
        // Every item of the project is in a category at today's limit.
        return Ok(oldest.map_or(
            SensitiveClaim::Nothing { at_limit },
            SensitiveClaim::Claimed,
        ));
    }
    let blocked = (ALL & !opted) | at_limit;
    let mut taken = None;
    if want_gold {
        taken = take(tx, SENSITIVE_GOLD, project, worker, blocked)?;
    }
    if taken.is_none() {
        taken = take(tx, SENSITIVE_CANDIDATE, project, worker, blocked)?;
    }
    let Some((item_id, external_id, data, sensitivity)) = taken else {
        return Ok(oldest.map_or(
            SensitiveClaim::Nothing { at_limit },
            SensitiveClaim::Claimed,
        ));
    };
    let expires_at = now + lease_seconds * 1000;
    let assignment_id = tx
        .query_one(
            crate::sql::INSERT_LEASE,
            params![org, project, item_id, worker, now, expires_at],
        )?
        .i64(0)?;
    let counted = sensitivity | settings.sensitivity;
    for c in CATEGORIES.iter().filter(|c| counted & (1 << c.bit) != 0) {
        tx.execute(COUNT_EXPOSURE, params![worker, day, i64::from(c.bit), org])?;
    }
    Ok(SensitiveClaim::Claimed(Claim {
        assignment_id,
        item_id,
        external_id,
        data,
        expires_at,
        reused: false,
        sensitivity,
    }))
}

impl dyn Store + '_ {
    /// A project's wellbeing settings (the defaults when it has none); `NotFound` for another organization's.
    pub async fn project_wellbeing(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<ProjectWellbeing> {
        self.read_tx(move |tx| project_wellbeing(tx, org, project))
            .await
    }

    /// Every project of an organization that has wellbeing settings, by project id.
    pub async fn org_wellbeing(
        &self,
        org: OrgId,
    ) -> StoreResult<std::collections::HashMap<ProjectId, ProjectWellbeing>> {
        self.read_tx(move |tx| {
            tx.query(ORG_WELLBEING, params![org])?
                .iter()
                .map(|r| Ok((r.i64(0)?, wellbeing_from(r, 1)?)))
                .collect()
        })
        .await
    }

    /// Saves a project's settings. When its categories change, its items' queue categories are recomputed in
    /// the same transaction (one `UPDATE` over the project's items: seconds at a million items).
    pub async fn set_project_wellbeing(
        &self,
        org: OrgId,
        project: ProjectId,
        update: WellbeingUpdate,
        now: Millis,
    ) -> StoreResult<ProjectWellbeing> {
        self.write_tx(move |tx| {
            // Locks the project row so two edits do not interleave their item updates (SQLite's writer runs one
            // transaction at a time anyway).
            let lock = format!("{LOCK_PROJECT}{}", tx.for_update());
            tx.query_one(&lock, params![project, org])?;
            let before = project_wellbeing(tx, org, project)?;
            tx.execute(
                UPSERT_WELLBEING,
                params![
                    project,
                    org,
                    update.sensitivity,
                    update.daily_limit,
                    update.break_minutes,
                    update.support_markdown.clone(),
                    now
                ],
            )?;
            if before.sensitivity != update.sensitivity {
                tx.execute(FOLD_ITEMS, params![update.sensitivity, project, org])?;
            }
            project_wellbeing(tx, org, project)
        })
        .await
    }

    /// Records that items with these own categories are about to be imported (before they are written, so the
    /// app's view of the project turns sensitive first); answers the project's own categories to fold in.
    pub async fn note_item_sensitivity(
        &self,
        org: OrgId,
        project: ProjectId,
        mask: Mask,
        now: Millis,
    ) -> StoreResult<Mask> {
        self.write_tx(move |tx| {
            project_wellbeing(tx, org, project)?;
            if mask != 0 {
                tx.execute(NOTE_ITEM_SENSITIVITY, params![project, org, mask, now])?;
            }
            Ok(project_wellbeing(tx, org, project)?.sensitivity)
        })
        .await
    }

    /// Recomputes a project's items' queue categories from their own and the project's (after an import that
    /// raced with a change of the project's categories).
    pub async fn fold_item_sensitivity(&self, org: OrgId, project: ProjectId) -> StoreResult<u64> {
        self.write_tx(move |tx| {
            let declared = project_wellbeing(tx, org, project)?.sensitivity;
            tx.execute(FOLD_ITEMS, params![declared, project, org])
        })
        .await
    }

    /// The categories a worker opted into (none until they choose).
    pub async fn opted_in(&self, org: OrgId, worker: UserId) -> StoreResult<Mask> {
        self.read_tx(move |tx| opted_in(tx, org, worker)).await
    }

    /// Replaces a worker's opt-ins; `NotFound` when the worker is not in the organization.
    pub async fn set_opted_in(
        &self,
        org: OrgId,
        worker: UserId,
        mask: Mask,
        now: Millis,
    ) -> StoreResult<Mask> {
        self.write_tx(move |tx| {
            if tx.execute(SET_OPTED_IN, params![worker, org, mask & ALL, now])? == 0 {
                return Err(StoreError::NotFound);
            }
            opted_in(tx, org, worker)
        })
        .await
    }

    /// Records that the worker took a break now (break reminders count active time from here).
    pub async fn take_break(&self, org: OrgId, worker: UserId, now: Millis) -> StoreResult<()> {
        self.write_tx(move |tx| {
            if tx.execute(TAKE_BREAK, params![worker, org, now])? == 0 {
                return Err(StoreError::NotFound);
            }
            Ok(())
        })
        .await
    }

    /// Active time (from heartbeats, `time.rs`) since the worker's last break: since they last took one when
    /// reminded, or since the last stretch of `pause_ms` without active time, whichever is later (looking back
    /// at most 12 hours).
    pub async fn active_since_break(
        &self,
        org: OrgId,
        worker: UserId,
        now: Millis,
        pause_ms: i64,
    ) -> StoreResult<i64> {
        self.read_tx(move |tx| {
            let took = tx
                .query_opt(BREAK_AT, params![worker, org])?
                .and_then(|r| r.opt_i64(0).transpose())
                .transpose()?
                .unwrap_or(0);
            let from = took.max(now - 12 * 3_600_000);
            let mut active = 0;
            let mut later = now;
            for r in tx.query(RECENT_CREDIT, params![org, worker, from])? {
                let (at, credited) = (r.i64(0)?, r.i64(1)?);
                if later - at >= pause_ms {
                    break;
                }
                active += credited;
                later = at - credited;
            }
            Ok(active)
        })
        .await
    }

    /// A worker's exposure on the UTC day of `now`, per category that has any.
    pub async fn exposure_today(
        &self,
        org: OrgId,
        worker: UserId,
        now: Millis,
    ) -> StoreResult<Vec<Exposure>> {
        self.read_tx(move |tx| exposure(tx, org, worker, utc_day(now)))
            .await
    }

    /// The claim for projects with sensitive content: see the module docs.
    pub async fn claim_sensitive(&self, req: SensitiveClaimRequest) -> StoreResult<SensitiveClaim> {
        self.write_tx(move |tx| claim(tx, req)).await
    }

    /// A skip that never counts against the worker: it is recorded as protected when `distressing` is set or
    /// the item is sensitive (otherwise it is an ordinary skip). Repeating it is a no-op.
    pub async fn skip_protected(
        &self,
        org: OrgId,
        worker: UserId,
        assignment: AssignmentId,
        reason: String,
        distressing: bool,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let sql = format!("{SKIP_TARGET}{}", tx.for_update());
            let row = tx.query_one(&sql, params![assignment, worker, org])?;
            let (status, item, project, sensitivity) =
                (row.string(0)?, row.i64(1)?, row.i64(2)?, row.i64(3)?);
            match status.as_str() {
                "open" | "expired" => {
                    tx.execute(
                        crate::sql::MARK_SKIPPED,
                        params![reason.as_str(), now, assignment],
                    )?;
                    if status == "open" {
                        tx.execute(crate::sql::RELEASE_SLOT, params![item])?;
                    }
                }
                "skipped" => {}
                other => return Err(crate::closed(other)),
            }
            if distressing || sensitivity != 0 {
                tx.execute(
                    PROTECT_SKIP,
                    params![assignment, org, project, worker, distressing, now],
                )?;
            }
            Ok(())
        })
        .await
    }

    /// How many skips of a project were "too distressing" (for the requester: a sign the content needs care).
    pub async fn distressing_skips(&self, org: OrgId, project: ProjectId) -> StoreResult<i64> {
        self.read_tx(move |tx| {
            tx.query_one(DISTRESSING_SKIPS, params![project, org])?
                .i64(0)
        })
        .await
    }
}
