//! Payout runs: moving workers' earnings payable to payouts, once per worker, currency and pay period.
//!
//! Why a run per period with a source key `payout:<org>:<worker>:<currency>:<period start>`: the operator may
//! run it twice (a crash, a retry, two processes) and a worker must still be paid once. A payout starts
//! `pending` (the CSV for the payment provider lists it); the provider's answer marks it `paid`, or `failed`,
//! which reverses its transaction so the money is owed to the worker again; a failed payout can be `retried`,
//! which posts a new payout for it. Every step is a ledger transaction, so `ledger verify` covers payouts too.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, UserId};

use crate::ledger::{AccountRef, Posted, Posting, post, reverse};
use crate::portable::{Row, Tx};
use crate::{Store, StoreResult, conflict, params};

/// One payout as the CSV and statements show it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Payout {
    /// Id (the provider's reference back to us).
    pub id: i64,
    /// Organization.
    pub org_id: OrgId,
    /// The worker paid.
    pub worker_id: UserId,
    /// Their email (where the provider sends the money).
    pub worker_email: String,
    /// Their display name.
    pub worker_name: String,
    /// Start of the pay period, UTC millis.
    pub period_start: Millis,
    /// End of the pay period (exclusive), UTC millis.
    pub period_end: Millis,
    /// ISO 4217 code.
    pub currency: String,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// `pending`, `paid`, `failed` or `retried`.
    pub status: String,
    /// The ledger transaction that moved the money.
    pub transaction_id: i64,
    /// The failed payout this one retries.
    pub retry_of: Option<i64>,
    /// Why it failed, as the provider said.
    pub failure_reason: Option<String>,
}

const SELECT_PAYOUT: &str = "SELECT p.id, p.org_id, p.worker_id, u.email, u.name, p.period_start, p.period_end, \
     p.currency, p.amount_minor, p.status, p.transaction_id, p.retry_of, p.failure_reason \
     FROM payouts p JOIN users u ON u.id = p.worker_id";
const PAYABLE: &str = "SELECT owner_id, currency, balance_minor FROM ledger_accounts \
     WHERE org_id = $1 AND kind = 'earnings' AND balance_minor > 0 ORDER BY owner_id, currency";
const INSERT_PAYOUT: &str = "INSERT INTO payouts (org_id, worker_id, period_start, period_end, currency, \
     amount_minor, status, transaction_id, retry_of, created_at, updated_at) \
     VALUES ($1, $2, $3, $4, $5, $6, 'pending', $7, $8, $9, $9) RETURNING id";
const SET_STATUS: &str = "UPDATE payouts SET status = $1, failure_reason = $2, updated_at = $3 \
     WHERE id = $4 AND org_id = $5 AND status = $6";

fn payout_row(r: &Row) -> StoreResult<Payout> {
    Ok(Payout {
        id: r.i64(0)?,
        org_id: r.i64(1)?,
        worker_id: r.i64(2)?,
        worker_email: r.string(3)?,
        worker_name: r.string(4)?,
        period_start: r.i64(5)?,
        period_end: r.i64(6)?,
        currency: r.string(7)?,
        amount_minor: r.i64(8)?,
        status: r.string(9)?,
        transaction_id: r.i64(10)?,
        retry_of: r.opt_i64(11)?,
        failure_reason: r.opt_string(12)?,
    })
}

fn payout(tx: &dyn Tx, org: OrgId, id: i64) -> StoreResult<Payout> {
    payout_row(&tx.query_one(
        &format!("{SELECT_PAYOUT} WHERE p.id = $1 AND p.org_id = $2"),
        params![id, org],
    )?)
}

/// One week in milliseconds.
pub const WEEK_MS: Millis = 7 * 24 * 3600 * 1000;

/// The weekly pay period containing `t`: Monday 00:00 UTC to the next Monday.
pub fn week_of(t: Millis) -> (Millis, Millis) {
    // 1970-01-01 was a Thursday; the first Monday was four days later.
    const MONDAY: Millis = 4 * 24 * 3600 * 1000;
    let start = (t - MONDAY).div_euclid(WEEK_MS) * WEEK_MS + MONDAY;
    (start, start + WEEK_MS)
}

/// One payout to post.
struct PayOut<'a> {
    org: OrgId,
    worker: UserId,
    currency: &'a str,
    amount: i64,
    key: String,
    period: (Millis, Millis),
    retry_of: Option<i64>,
}

fn pay_out(tx: &dyn Tx, p: PayOut<'_>, now: Millis) -> StoreResult<Option<i64>> {
    let PayOut {
        org,
        worker,
        currency,
        amount,
        key,
        period,
        retry_of,
    } = p;
    let posted = post(
        tx,
        &Posting {
            org_id: org,
            source_key: key,
            kind: "payout".into(),
            project_id: None,
            worker_id: Some(worker),
            annotation_id: None,
            memo: String::new(),
            created_by: None,
            currency: currency.to_string(),
            entries: vec![
                (AccountRef::earnings(worker), -amount),
                (AccountRef::payouts(worker), amount),
            ],
        },
        None,
        now,
    )?;
    let Posted::New(transaction) = posted else {
        return Ok(None);
    };
    Ok(Some(
        tx.query_one(
            INSERT_PAYOUT,
            params![
                org,
                worker,
                period.0,
                period.1,
                currency,
                amount,
                transaction,
                retry_of,
                now
            ],
        )?
        .i64(0)?,
    ))
}

impl dyn Store {
    /// Pays out every positive earnings balance of the organization for the period `(start, end)`: one payout
    /// per worker and currency, at most once per period. Answers the payouts created by this run.
    pub async fn payout_run(
        &self,
        org: OrgId,
        period: (Millis, Millis),
        now: Millis,
    ) -> StoreResult<Vec<Payout>> {
        self.write_tx(move |tx| {
            let mut created = Vec::new();
            for r in tx.query(PAYABLE, params![org])? {
                let (worker, currency, amount) = (r.i64(0)?, r.string(1)?, r.i64(2)?);
                let key = format!("payout:{org}:{worker}:{currency}:{}", period.0);
                if let Some(id) = pay_out(
                    tx,
                    PayOut {
                        org,
                        worker,
                        currency: &currency,
                        amount,
                        key,
                        period,
                        retry_of: None,
                    },
                    now,
                )? {
                    created.push(payout(tx, org, id)?);
                }
            }
            Ok(created)
        })
        .await
    }

    /// Records the provider's answer: `paid`, or `failed` with a reason (the payout's transaction is reversed,
    /// so the worker is owed the money again). Only a pending payout changes.
    pub async fn payout_settle(
        &self,
        org: OrgId,
        id: i64,
        paid: bool,
        reason: Option<String>,
        now: Millis,
    ) -> StoreResult<Payout> {
        self.write_tx(move |tx| {
            let p = payout(tx, org, id)?;
            let status = if paid { "paid" } else { "failed" };
            if tx.execute(
                SET_STATUS,
                params![status, reason.clone(), now, id, org, "pending"],
            )? == 0
            {
                return Err(conflict(
                    "payout_not_pending",
                    format!(
                        "payout {id} is {}, only a pending payout can be marked {status}",
                        p.status
                    ),
                ));
            }
            if !paid {
                reverse(
                    tx,
                    org,
                    p.transaction_id,
                    reason.as_deref().unwrap_or("payout failed"),
                    None,
                    now,
                )?;
            }
            payout(tx, org, id)
        })
        .await
    }

    /// Retries a failed payout: marks it `retried` and posts a new pending payout of the same amount (or what
    /// the worker is still owed, if less). Answers the new payout, or `None` when nothing is owed any more.
    pub async fn payout_retry(
        &self,
        org: OrgId,
        id: i64,
        now: Millis,
    ) -> StoreResult<Option<Payout>> {
        self.write_tx(move |tx| {
            let p = payout(tx, org, id)?;
            if tx.execute(SET_STATUS, params!["retried", p.failure_reason.clone(), now, id, org, "failed"])? == 0 {
                return Err(conflict(
                    "payout_not_failed",
                    format!("payout {id} is {}, only a failed payout can be retried", p.status),
                ));
            }
            let owed = tx
                .query_opt(
                    "SELECT balance_minor FROM ledger_accounts WHERE org_id = $1 AND kind = 'earnings' \
                     AND owner_id = $2 AND currency = $3",
                    params![org, p.worker_id, p.currency.as_str()],
                )?
                .map(|r| r.i64(0))
                .transpose()?
                .unwrap_or(0);
            let amount = p.amount_minor.min(owed);
            if amount <= 0 {
                return Ok(None);
            }
            let new = pay_out(
                tx,
                PayOut {
                    org,
                    worker: p.worker_id,
                    currency: &p.currency,
                    amount,
                    key: format!("payout-retry:{id}"),
                    period: (p.period_start, p.period_end),
                    retry_of: Some(id),
                },
                now,
            )?;
            new.map(|n| payout(tx, org, n)).transpose()
        })
        .await
    }

    /// The organization's payouts, newest first; only one worker's when `worker` is given.
    pub async fn payouts(&self, org: OrgId, worker: Option<UserId>) -> StoreResult<Vec<Payout>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "{SELECT_PAYOUT} WHERE p.org_id = $1 AND ($2 = 0 OR p.worker_id = $2) ORDER BY p.id DESC"
                ),
                params![org, worker.unwrap_or(0)],
            )?
            .iter()
            .map(payout_row)
            .collect()
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn weeks_start_on_monday_utc() {
        // 2026-11-23 is a Monday.
        let monday = 1_795_392_000_000; // 2026-11-23T00:00:00Z
        assert_eq!(week_of(monday), (monday, monday + WEEK_MS));
        assert_eq!(week_of(monday + WEEK_MS - 1).0, monday);
        assert_eq!(week_of(monday - 1).0, monday - WEEK_MS);
        assert_eq!(week_of(0).0, -3 * 24 * 3600 * 1000);
    }
}
