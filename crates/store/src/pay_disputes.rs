//! Disputes of withheld pay: the worker says why the withholding is wrong; a reviewer or admin upholds it or
//! overturns it, and overturning pays the amount again (`reinstate:<reversal id>`), so a person, never a
//! rule, has the last word on pay. One dispute per withholding.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, UserId};

use crate::ledger::{AccountRef, Posting, post};
use crate::portable::Row;
use crate::{Store, StoreError, StoreResult, conflict, params};

/// A dispute of withheld pay.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct PayDispute {
    /// Id.
    pub id: i64,
    /// The worker.
    pub worker_id: UserId,
    /// The submission whose pay was withheld.
    pub annotation_id: i64,
    /// The withholding (reversal) transaction.
    pub reversal_id: i64,
    /// The worker's reason.
    pub reason: String,
    /// `open`, `upheld` or `overturned`.
    pub status: String,
    /// The resolver's note.
    pub resolution: Option<String>,
    /// When it was opened (UTC millis).
    pub created_at: Millis,
}

const SELECT: &str = "SELECT id, worker_id, annotation_id, reversal_id, reason, status, resolution, created_at \
     FROM pay_disputes";
const WITHHOLDING: &str = "SELECT r.id FROM ledger_transactions t JOIN ledger_transactions r ON r.reverses_id = t.id \
     WHERE t.source_key = $1 AND t.org_id = $2 AND t.worker_id = $3";

fn row(r: &Row) -> StoreResult<PayDispute> {
    Ok(PayDispute {
        id: r.i64(0)?,
        worker_id: r.i64(1)?,
        annotation_id: r.i64(2)?,
        reversal_id: r.i64(3)?,
        reason: r.string(4)?,
        status: r.string(5)?,
        resolution: r.opt_string(6)?,
        created_at: r.i64(7)?,
    })
}

impl dyn Store {
    /// The worker disputes the withholding of their submission's pay. `NotFound` unless that pay was withheld
    /// and is theirs; `409 dispute_exists` for a second dispute.
    pub async fn open_pay_dispute(
        &self,
        org: OrgId,
        worker: UserId,
        annotation: i64,
        reason: String,
        now: Millis,
    ) -> StoreResult<PayDispute> {
        self.write_tx(move |tx| {
            let key = format!("task:{annotation}");
            let reversal = tx
                .query_opt(WITHHOLDING, params![key.as_str(), org, worker])?
                .ok_or(StoreError::NotFound)?
                .i64(0)?;
            let id = tx
                .query_opt(
                    "INSERT INTO pay_disputes (org_id, worker_id, annotation_id, reversal_id, reason, status, created_at) \
                     VALUES ($1, $2, $3, $4, $5, 'open', $6) ON CONFLICT DO NOTHING RETURNING id",
                    params![org, worker, annotation, reversal, reason.as_str(), now],
                )?
                .ok_or_else(|| {
                    conflict(
                        "dispute_exists",
                        "this withholding was already disputed; a reviewer or admin resolves it once",
                    )
                })?
                .i64(0)?;
            row(&tx.query_one(&format!("{SELECT} WHERE id = $1 AND org_id = $2"), params![id, org])?)
        })
        .await
    }

    /// Resolves an open dispute: `overturn` pays the withheld amount again (once), otherwise it is upheld.
    pub async fn resolve_pay_dispute(
        &self,
        org: OrgId,
        id: i64,
        overturn: bool,
        note: String,
        by: UserId,
        now: Millis,
    ) -> StoreResult<PayDispute> {
        self.write_tx(move |tx| {
            let d = row(&tx.query_one(&format!("{SELECT} WHERE id = $1 AND org_id = $2"), params![id, org])?)?;
            let status = if overturn { "overturned" } else { "upheld" };
            let n = tx.execute(
                "UPDATE pay_disputes SET status = $1, resolution = $2, resolved_by = $3, resolved_at = $4 \
                 WHERE id = $5 AND org_id = $6 AND status = 'open'",
                params![status, note.as_str(), by, now, id, org],
            )?;
            if n == 0 {
                return Err(conflict("dispute_resolved", format!("dispute {id} is already {}", d.status)));
            }
            if overturn {
                let entries = crate::ledger::entries(tx, org, d.reversal_id)?;
                let currency = entries.first().map(|e| e.currency.clone()).unwrap_or_else(|| crate::ledger::NO_CURRENCY.into());
                let project = tx
                    .query_one(
                        "SELECT project_id FROM ledger_transactions WHERE id = $1 AND org_id = $2",
                        params![d.reversal_id, org],
                    )?
                    .opt_i64(0)?;
                post(
                    tx,
                    &Posting {
                        org_id: org,
                        source_key: format!("reinstate:{}", d.reversal_id),
                        kind: "reinstated".into(),
                        // Owed whatever the cap (like floor top-ups): not counted against it.
                        project_id: None,
                        worker_id: Some(d.worker_id),
                        annotation_id: Some(d.annotation_id),
                        memo: format!(
                            "project {}: withholding overturned: {note}",
                            project.unwrap_or(0)
                        ),
                        created_by: Some(by),
                        currency,
                        entries: entries
                            .iter()
                            .map(|e| {
                                (
                                    AccountRef {
                                        kind: e.kind,
                                        owner: e.owner_id,
                                    },
                                    -e.amount_minor,
                                )
                            })
                            .collect(),
                    },
                    None,
                    now,
                )?;
            }
            row(&tx.query_one(&format!("{SELECT} WHERE id = $1 AND org_id = $2"), params![id, org])?)
        })
        .await
    }

    /// The organization's pay disputes (one worker's when `worker` is given), newest first.
    pub async fn pay_disputes(
        &self,
        org: OrgId,
        worker: Option<UserId>,
    ) -> StoreResult<Vec<PayDispute>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "{SELECT} WHERE org_id = $1 AND ($2 = 0 OR worker_id = $2) ORDER BY id DESC"
                ),
                params![org, worker.unwrap_or(0)],
            )?
            .iter()
            .map(row)
            .collect()
        })
        .await
    }
}
