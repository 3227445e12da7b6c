//! What the fair-pay floor needs from the database: the floor setting, and per-submission pay and time.
//!
//! Why per-submission rows rather than SQL aggregates: a submission's time is its measured active time when
//! there are heartbeats, else its claim-to-submit time capped by its lease; that choice needs `LEAST`/`CASE`
//! spelled differently per backend, while summing a bounded number of rows in Rust keeps one SQL text.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::{Store, StoreResult, params};

/// The settings key of the platform's pay floor (JSON).
pub const FLOOR_KEY: &str = "pay_floor";

/// One submission's pay and time, for effective hourly rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PaidSubmission {
    /// The worker.
    pub worker_id: UserId,
    /// Net task pay posted for it, in minor units (0 when withheld).
    pub pay_minor: i64,
    /// Its time in milliseconds: measured active time, or claim to submission capped at the lease.
    pub millis: i64,
    /// True when its pay was withheld (such submissions count neither pay nor time).
    pub withheld: bool,
}

const PAID_SUBMISSIONS: &str = "SELECT a.worker_id, \
     CAST(COALESCE((SELECT SUM(e.amount_minor) FROM ledger_entries e JOIN ledger_accounts acc ON acc.id = e.account_id \
        WHERE e.transaction_id = t.id AND acc.kind = 'earnings'), 0) AS BIGINT), \
     a.submitted_at - s.created_at, p.lease_seconds, \
     CAST((SELECT COUNT(*) FROM ledger_transactions r WHERE r.reverses_id = t.id) AS BIGINT), \
     CAST(COALESCE((SELECT SUM(h.credited_ms) FROM heartbeats h WHERE h.assignment_id = a.assignment_id), 0) \
        + COALESCE((SELECT SUM(d.added_ms) FROM time_disputes d WHERE d.assignment_id = a.assignment_id \
           AND d.status = 'accepted'), 0) AS BIGINT) \
     FROM annotations a JOIN assignments s ON s.id = a.assignment_id JOIN projects p ON p.id = a.project_id \
     JOIN ledger_transactions t ON t.annotation_id = a.id AND t.kind = 'task_pay' \
     WHERE a.org_id = $1 AND a.project_id = $2 AND a.submitted_at >= $3 AND a.submitted_at < $4 \
     ORDER BY a.id";
const PILOT: &str = "SELECT a.submitted_at - s.created_at, p.lease_seconds, \
     CAST(COALESCE((SELECT SUM(h.credited_ms) FROM heartbeats h WHERE h.assignment_id = a.assignment_id), 0) AS BIGINT) \
     FROM annotations a JOIN assignments s ON s.id = a.assignment_id JOIN projects p ON p.id = a.project_id \
     WHERE a.org_id = $1 AND a.project_id = $2 ORDER BY a.id LIMIT $3";
const UPSERT_SETTING: &str = "INSERT INTO settings (key, value) VALUES ($1, $2) \
     ON CONFLICT (key) DO UPDATE SET value = excluded.value";
const SELECT_SETTING: &str = "SELECT value FROM settings WHERE key = $1";

/// A submission's time: its measured active time when the workbench sent heartbeats, otherwise the time from
/// claim to submission capped at the lease (an API client that sends no heartbeats is not paid as if it took
/// no time).
fn time_of(elapsed: i64, lease_seconds: i64, measured: i64) -> i64 {
    if measured > 0 {
        measured
    } else {
        elapsed.clamp(0, lease_seconds.saturating_mul(1000))
    }
}

impl dyn Store {
    /// The platform's pay floor setting (JSON text), if set.
    pub async fn pay_floor(&self) -> StoreResult<Option<String>> {
        self.read_tx(|tx| {
            tx.query_opt(SELECT_SETTING, params![FLOOR_KEY])?
                .map(|r| r.string(0))
                .transpose()
        })
        .await
    }

    /// Replaces the platform's pay floor setting.
    pub async fn set_pay_floor(&self, json: String) -> StoreResult<()> {
        self.write_tx(move |tx| {
            tx.execute(UPSERT_SETTING, params![FLOOR_KEY, json])?;
            Ok(())
        })
        .await
    }

    /// The project's paid submissions made in `[start, end)`, with their pay and time.
    pub async fn paid_submissions(
        &self,
        org: OrgId,
        project: ProjectId,
        start: Millis,
        end: Millis,
    ) -> StoreResult<Vec<PaidSubmission>> {
        self.read_tx(move |tx| {
            tx.query(PAID_SUBMISSIONS, params![org, project, start, end])?
                .iter()
                .map(|r| {
                    let withheld = r.i64(4)? > 0;
                    Ok(PaidSubmission {
                        worker_id: r.i64(0)?,
                        pay_minor: if withheld { 0 } else { r.i64(1)? },
                        millis: time_of(r.i64(2)?, r.i64(3)?, r.i64(5)?),
                        withheld,
                    })
                })
                .collect()
        })
        .await
    }

    /// The time (ms; measured active time, or claim to submission capped at the lease) of the project's first
    /// `limit` submissions: the pilot the launch check measures.
    pub async fn pilot_times(
        &self,
        org: OrgId,
        project: ProjectId,
        limit: i64,
    ) -> StoreResult<Vec<i64>> {
        self.read_tx(move |tx| {
            tx.query(PILOT, params![org, project, limit])?
                .iter()
                .map(|r| Ok(time_of(r.i64(0)?, r.i64(1)?, r.i64(2)?)))
                .collect()
        })
        .await
    }
}
