//! Time tracking in the open: heartbeats turned into active time by one documented idle rule, timesheets that
//! the worker and the requester read from the same query, and disputes a human resolves.
//!
//! Why the credit is computed when a heartbeat arrives and stored with it: the rule then runs once, in one
//! place, under the same transaction that checks the assignment is still open, and every reader (timesheet,
//! hourly pay) only sums `credited_ms` — so the worker and the requester cannot see different numbers.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, UserId};

use crate::portable::Row;
use crate::{Store, StoreError, StoreResult, conflict, params};

/// Heartbeats closer than this to the previous accepted one are ignored (not stored): the workbench sends one
/// every 15 s, so only a misbehaving client sends them faster.
pub const MIN_GAP_MS: i64 = 5_000;
/// The most one heartbeat can credit: a laptop closed for an hour credits at most this, not the hour.
pub const MAX_CREDIT_MS: i64 = 30_000;

/// What one heartbeat reports: nothing but two booleans.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Heartbeat {
    /// Organization.
    pub org_id: OrgId,
    /// The worker sending it.
    pub worker_id: UserId,
    /// The assignment being worked on.
    pub assignment_id: i64,
    /// The page was visible and focused during the interval.
    pub focus: bool,
    /// There was keyboard, pointer or touch input during the interval.
    pub input: bool,
}

/// What the server made of a heartbeat.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct HeartbeatOutcome {
    /// False when it came too soon after the previous one and was ignored.
    pub recorded: bool,
    /// Active time it credited, in milliseconds.
    pub credited_ms: i64,
    /// The assignment's active time so far, in milliseconds.
    pub active_ms: i64,
}

/// The idle rule: the interval since the previous heartbeat (or the claim) counts as active, up to
/// [`MAX_CREDIT_MS`], when the page had focus and there was input in this interval or the previous one (so
/// reading for up to two intervals without touching anything counts, but an unattended page does not).
pub fn credit(gap_ms: i64, focus: bool, input: bool, previous_input: bool) -> i64 {
    if focus && (input || previous_input) {
        gap_ms.clamp(0, MAX_CREDIT_MS)
    } else {
        0
    }
}

const ASSIGNMENT: &str = "SELECT project_id, status, created_at, expires_at FROM assignments \
     WHERE id = $1 AND org_id = $2 AND worker_id = $3";
const LAST_BEAT: &str =
    "SELECT at, input FROM heartbeats WHERE assignment_id = $1 ORDER BY at DESC, id DESC LIMIT 1";
const INSERT_BEAT: &str = "INSERT INTO heartbeats (org_id, project_id, assignment_id, worker_id, at, focus, input, credited_ms) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
const ACTIVE: &str = "SELECT CAST(COALESCE((SELECT SUM(credited_ms) FROM heartbeats WHERE assignment_id = $1 AND org_id = $2), 0) \
     + COALESCE((SELECT SUM(added_ms) FROM time_disputes WHERE assignment_id = $1 AND org_id = $2 AND status = 'accepted'), 0) AS BIGINT)";

fn active_ms(tx: &dyn crate::portable::Tx, org: OrgId, assignment: i64) -> StoreResult<i64> {
    tx.query_one(ACTIVE, params![assignment, org])?.i64(0)
}

/// One line of a timesheet: an assignment with its active time.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimesheetEntry {
    /// The assignment.
    pub assignment_id: i64,
    /// Its project.
    pub project_id: i64,
    /// The project's name.
    pub project_name: String,
    /// The item's external id (or internal id).
    pub item: String,
    /// When it was claimed (UTC millis).
    pub claimed_at: Millis,
    /// When it was submitted, skipped or expired.
    pub closed_at: Option<Millis>,
    /// `open`, `submitted`, `skipped` or `expired`.
    pub status: String,
    /// Heartbeats recorded.
    pub heartbeats: i64,
    /// Active time from heartbeats, in milliseconds.
    pub measured_ms: i64,
    /// Time added by accepted disputes, in milliseconds.
    pub added_ms: i64,
    /// The latest dispute's status, if any.
    pub dispute: Option<String>,
}

const TIMESHEET: &str = "SELECT s.id, s.project_id, p.name, COALESCE(i.external_id, CAST(i.id AS TEXT)), s.created_at, \
     s.closed_at, s.status, \
     CAST((SELECT COUNT(*) FROM heartbeats h WHERE h.assignment_id = s.id) AS BIGINT), \
     CAST(COALESCE((SELECT SUM(h.credited_ms) FROM heartbeats h WHERE h.assignment_id = s.id), 0) AS BIGINT), \
     CAST(COALESCE((SELECT SUM(d.added_ms) FROM time_disputes d WHERE d.assignment_id = s.id AND d.status = 'accepted'), 0) AS BIGINT), \
     (SELECT d.status FROM time_disputes d WHERE d.assignment_id = s.id ORDER BY d.id DESC LIMIT 1) \
     FROM assignments s JOIN projects p ON p.id = s.project_id JOIN items i ON i.id = s.item_id \
     WHERE s.org_id = $1 AND s.worker_id = $2 AND s.created_at >= $3 AND s.created_at < $4 \
     ORDER BY s.created_at, s.id";

fn timesheet_row(r: &Row) -> StoreResult<TimesheetEntry> {
    Ok(TimesheetEntry {
        assignment_id: r.i64(0)?,
        project_id: r.i64(1)?,
        project_name: r.string(2)?,
        item: r.string(3)?,
        claimed_at: r.i64(4)?,
        closed_at: r.opt_i64(5)?,
        status: r.string(6)?,
        heartbeats: r.i64(7)?,
        measured_ms: r.i64(8)?,
        added_ms: r.i64(9)?,
        dispute: r.opt_string(10)?,
    })
}

/// A dispute of a timesheet entry.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TimeDispute {
    /// Id.
    pub id: i64,
    /// The worker.
    pub worker_id: UserId,
    /// The assignment disputed.
    pub assignment_id: i64,
    /// The worker's reason.
    pub reason: String,
    /// `open`, `accepted` or `rejected`.
    pub status: String,
    /// Time added when accepted, in milliseconds.
    pub added_ms: i64,
    /// The resolver's note.
    pub resolution: Option<String>,
    /// When it was opened.
    pub created_at: Millis,
}

/// How a human resolved a dispute.
#[derive(Debug, Clone)]
pub struct DisputeResolution {
    /// True to accept.
    pub accept: bool,
    /// Active time to add when accepted, in milliseconds.
    pub added_ms: i64,
    /// A note the worker reads.
    pub note: String,
    /// Who resolved it.
    pub by: UserId,
}

const SELECT_DISPUTE: &str = "SELECT id, worker_id, assignment_id, reason, status, added_ms, resolution, created_at \
     FROM time_disputes";

fn dispute_row(r: &Row) -> StoreResult<TimeDispute> {
    Ok(TimeDispute {
        id: r.i64(0)?,
        worker_id: r.i64(1)?,
        assignment_id: r.i64(2)?,
        reason: r.string(3)?,
        status: r.string(4)?,
        added_ms: r.i64(5)?,
        resolution: r.opt_string(6)?,
        created_at: r.i64(7)?,
    })
}

impl dyn Store {
    /// Records a heartbeat on the worker's own open assignment under the idle rule. `NotFound` for another
    /// worker's or organization's assignment; `409 assignment_closed` once it is submitted, skipped or expired.
    pub async fn record_heartbeat(
        &self,
        beat: Heartbeat,
        now: Millis,
    ) -> StoreResult<HeartbeatOutcome> {
        self.write_tx(move |tx| {
            let (org, a) = (beat.org_id, beat.assignment_id);
            let row = tx.query_one(ASSIGNMENT, params![a, org, beat.worker_id])?;
            let (project, status, claimed, expires) =
                (row.i64(0)?, row.string(1)?, row.i64(2)?, row.i64(3)?);
            if status != "open" || now > expires {
                return Err(conflict(
                    "assignment_closed",
                    format!("this assignment is {status}; time is recorded only while it is open"),
                ));
            }
            let last = tx.query_opt(LAST_BEAT, params![a])?;
            let (prev_at, prev_input) = match &last {
                Some(r) => (r.i64(0)?, r.bool(1)?),
                // The claim itself counts as input.
                None => (claimed, true),
            };
            if last.is_some() && now - prev_at < MIN_GAP_MS {
                return Ok(HeartbeatOutcome {
                    recorded: false,
                    credited_ms: 0,
                    active_ms: active_ms(tx, org, a)?,
                });
            }
            let credited = credit(now - prev_at, beat.focus, beat.input, prev_input);
            tx.execute(
                INSERT_BEAT,
                params![
                    org,
                    project,
                    a,
                    beat.worker_id,
                    now,
                    beat.focus,
                    beat.input,
                    credited
                ],
            )?;
            Ok(HeartbeatOutcome {
                recorded: true,
                credited_ms: credited,
                active_ms: active_ms(tx, org, a)?,
            })
        })
        .await
    }

    /// An assignment's active time (heartbeats plus accepted disputes), in milliseconds.
    pub async fn active_ms(&self, org: OrgId, assignment: i64) -> StoreResult<i64> {
        self.read_tx(move |tx| active_ms(tx, org, assignment)).await
    }

    /// An assignment's active time from heartbeats only (what its hourly pay is posted from; time added by
    /// disputes is paid by its own transaction), in milliseconds.
    pub async fn measured_ms(&self, org: OrgId, assignment: i64) -> StoreResult<i64> {
        self.read_tx(move |tx| {
            tx.query_one(
                "SELECT CAST(COALESCE(SUM(credited_ms), 0) AS BIGINT) FROM heartbeats \
                 WHERE assignment_id = $1 AND org_id = $2",
                params![assignment, org],
            )?
            .i64(0)
        })
        .await
    }

    /// The project and status of a dispute's assignment, for paying accepted time.
    pub async fn dispute_project(&self, org: OrgId, dispute: i64) -> StoreResult<(i64, UserId)> {
        self.read_tx(move |tx| {
            let r = tx.query_one(
                "SELECT s.project_id, s.worker_id FROM time_disputes d JOIN assignments s ON s.id = d.assignment_id \
                 WHERE d.id = $1 AND d.org_id = $2",
                params![dispute, org],
            )?;
            Ok((r.i64(0)?, r.i64(1)?))
        })
        .await
    }

    /// A worker's timesheet: their assignments claimed in `[from, to)` with active time. The worker and the
    /// requester both read it through this one query.
    pub async fn timesheet(
        &self,
        org: OrgId,
        worker: UserId,
        from: Millis,
        to: Millis,
    ) -> StoreResult<Vec<TimesheetEntry>> {
        self.read_tx(move |tx| {
            tx.query(TIMESHEET, params![org, worker, from, to])?
                .iter()
                .map(timesheet_row)
                .collect()
        })
        .await
    }

    /// Opens a dispute of one of the worker's own timesheet entries (one open dispute per entry).
    pub async fn open_time_dispute(
        &self,
        org: OrgId,
        worker: UserId,
        assignment: i64,
        reason: String,
        now: Millis,
    ) -> StoreResult<TimeDispute> {
        self.write_tx(move |tx| {
            tx.query_one(ASSIGNMENT, params![assignment, org, worker])?;
            let inserted = tx.query_opt(
                "INSERT INTO time_disputes (org_id, worker_id, assignment_id, reason, status, created_at) \
                 VALUES ($1, $2, $3, $4, 'open', $5) ON CONFLICT DO NOTHING RETURNING id",
                params![org, worker, assignment, reason.as_str(), now],
            )?;
            let Some(id) = inserted else {
                return Err(conflict(
                    "dispute_open",
                    "this entry already has an open dispute; a requester or admin will resolve it",
                ));
            };
            dispute_row(&tx.query_one(
                &format!("{SELECT_DISPUTE} WHERE id = $1 AND org_id = $2"),
                params![id.i64(0)?, org],
            )?)
        })
        .await
    }

    /// Resolves an open dispute: accepted (adding `added_ms` of active time) or rejected, with a note.
    pub async fn resolve_time_dispute(
        &self,
        org: OrgId,
        id: i64,
        r: DisputeResolution,
        now: Millis,
    ) -> StoreResult<TimeDispute> {
        let DisputeResolution {
            accept,
            added_ms,
            note: resolution,
            by,
        } = r;
        self.write_tx(move |tx| {
            let status = if accept { "accepted" } else { "rejected" };
            let n = tx.execute(
                "UPDATE time_disputes SET status = $1, added_ms = $2, resolution = $3, resolved_by = $4, \
                 resolved_at = $5 WHERE id = $6 AND org_id = $7 AND status = 'open'",
                params![
                    status,
                    if accept { added_ms } else { 0 },
                    resolution.as_str(),
                    by,
                    now,
                    id,
                    org
                ],
            )?;
            let row = tx
                .query_opt(
                    &format!("{SELECT_DISPUTE} WHERE id = $1 AND org_id = $2"),
                    params![id, org],
                )?
                .ok_or(StoreError::NotFound)?;
            let d = dispute_row(&row)?;
            if n == 0 {
                return Err(conflict(
                    "dispute_resolved",
                    format!("dispute {id} is already {}", d.status),
                ));
            }
            Ok(d)
        })
        .await
    }

    /// The organization's disputes (one worker's when `worker` is given), newest first.
    pub async fn time_disputes(
        &self,
        org: OrgId,
        worker: Option<UserId>,
    ) -> StoreResult<Vec<TimeDispute>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "{SELECT_DISPUTE} WHERE org_id = $1 AND ($2 = 0 OR worker_id = $2) ORDER BY id DESC"
                ),
                params![org, worker.unwrap_or(0)],
            )?
            .iter()
            .map(dispute_row)
            .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_idle_rule() {
        assert_eq!(credit(15_000, true, true, false), 15_000);
        assert_eq!(
            credit(15_000, true, false, true),
            15_000,
            "reading after input counts"
        );
        assert_eq!(
            credit(15_000, true, false, false),
            0,
            "a second silent interval does not"
        );
        assert_eq!(
            credit(15_000, false, true, true),
            0,
            "an unfocused page does not"
        );
        assert_eq!(credit(3_600_000, true, true, true), MAX_CREDIT_MS);
        assert_eq!(credit(-5, true, true, true), 0);
    }
}
