//! Staffing vendors (issue 7, point 6): organizations of kind `vendor` that supply workers to labs.
//!
//! Tenancy: a worker a vendor supplied is a user of the *lab's* organization (they work on its projects, their
//! ledger accounts are the lab's) carrying `users.vendor_id`. Everything a vendor manager reads or changes goes
//! through a query with `users.vendor_id = $vendor` in its `WHERE` clause (or a join on it), so another
//! vendor's workers and the lab's direct workers are simply not found; a lab's contract with the vendor is
//! checked in the same transaction that creates a vendor invitation.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, UserId};

use crate::portable::{Row, Tx};
use crate::{Store, StoreError, StoreResult, conflict, params};

/// `lab` (runs projects) or `vendor` (supplies workers).
pub const KIND_VENDOR: &str = "vendor";

/// A lab's contract with a vendor, as either side lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Contract {
    /// Id.
    pub id: i64,
    /// The lab.
    pub org_id: OrgId,
    /// The lab's name.
    pub org_name: String,
    /// The vendor.
    pub vendor_id: OrgId,
    /// The vendor's name.
    pub vendor_name: String,
    /// When it was made (or made again).
    pub created_at: Millis,
    /// When the lab ended it; `None` while it is active.
    pub ended_at: Option<Millis>,
    /// Workers the vendor has in the lab.
    pub workers: i64,
}

/// One of a vendor's workers with their work and pay in figures.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VendorWorker {
    /// User id.
    pub id: UserId,
    /// The lab they work in.
    pub org_id: OrgId,
    /// Its name.
    pub org_name: String,
    /// Display name (`deleted worker #N` after deletion).
    pub name: String,
    /// Email (a placeholder after deletion).
    pub email: String,
    /// The vendor's own reference for them (an employee number), if set.
    pub vendor_ref: Option<String>,
    /// When they joined.
    pub created_at: Millis,
    /// When they deleted their account, if they did.
    pub deleted_at: Option<Millis>,
    /// Submissions.
    pub annotations: i64,
    /// Active time credited by the time tracker, in milliseconds.
    pub active_ms: i64,
    /// Answers compared with an aggregate, and how many agreed with it.
    pub compared: i64,
    /// Of those, how many agreed.
    pub agreed: i64,
    /// Answers to gold items, and the sum of their scores (0..1 each).
    pub gold_answers: i64,
    /// Sum of gold scores.
    pub gold_score_sum: f64,
}

/// A worker's figures in one project.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct WorkerProject {
    /// Project id.
    pub project_id: i64,
    /// Project name.
    pub name: String,
    /// Submissions.
    pub annotations: i64,
    /// Active time in milliseconds.
    pub active_ms: i64,
    /// Compared answers.
    pub compared: i64,
    /// Agreeing answers.
    pub agreed: i64,
    /// Gold answers.
    pub gold_answers: i64,
    /// Sum of gold scores.
    pub gold_score_sum: f64,
}

/// A ledger account balance of a worker.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Balance {
    /// The worker.
    pub worker_id: UserId,
    /// `earnings` (owed to them) or `payouts` (paid to them).
    pub kind: String,
    /// ISO 4217 code.
    pub currency: String,
    /// Balance in minor units.
    pub balance_minor: i64,
}

/// One ledger entry on a worker's account.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct WorkerEntry {
    /// Transaction id.
    pub transaction_id: i64,
    /// `task_pay`, `bonus`, `top_up`, `payout`, `reversal`, …
    pub kind: String,
    /// The note on it.
    pub memo: String,
    /// The project, if any.
    pub project_id: Option<i64>,
    /// Which of the worker's accounts.
    pub account: String,
    /// Signed amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// When.
    pub created_at: Millis,
}

/// Everything a vendor manager sees of one of their workers.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct VendorWorkerDetail {
    /// The worker and their totals.
    pub worker: VendorWorker,
    /// Per project.
    pub projects: Vec<WorkerProject>,
    /// Account balances.
    pub balances: Vec<Balance>,
    /// The latest 200 entries on their accounts, newest first.
    pub entries: Vec<WorkerEntry>,
}

/// A worker of a lab as the lab lists them, with the vendor they came through.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct LabWorker {
    /// User id.
    pub id: UserId,
    /// Display name.
    pub name: String,
    /// Email.
    pub email: String,
    /// The vendor, if they came through one.
    pub vendor_id: Option<OrgId>,
    /// Its name.
    pub vendor_name: Option<String>,
    /// When they deleted their account, if they did.
    pub deleted_at: Option<Millis>,
}

/// An invitation a vendor manager made.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct VendorInvitation {
    /// Id.
    pub id: i64,
    /// The lab it admits to.
    pub org_id: OrgId,
    /// The lab's name.
    pub org_name: String,
    /// The bound email, if any.
    pub email: Option<String>,
    /// When it was made.
    pub created_at: Millis,
    /// When it stops working.
    pub expires_at: Millis,
    /// When it was used.
    pub accepted_at: Option<Millis>,
    /// When it was withdrawn.
    pub revoked_at: Option<Millis>,
}

/// A new vendor invitation.
#[derive(Debug, Clone)]
pub struct NewVendorInvitation {
    /// The vendor.
    pub vendor_id: OrgId,
    /// The lab the worker joins (must have an active contract with the vendor).
    pub org_id: OrgId,
    /// SHA-256 (hex) of the link's secret.
    pub token_hash: String,
    /// Bound email, lowercase.
    pub email: Option<String>,
    /// The vendor manager.
    pub created_by: UserId,
    /// Now.
    pub created_at: Millis,
    /// Expiry.
    pub expires_at: Millis,
}

const WORKER_COLUMNS: &str = "u.id, u.org_id, o.name, u.name, u.email, u.vendor_ref, u.created_at, u.deleted_at, \
    (SELECT COUNT(*) FROM annotations a WHERE a.worker_id = u.id AND a.org_id = u.org_id), \
    (SELECT CAST(COALESCE(SUM(h.credited_ms), 0) AS BIGINT) FROM heartbeats h WHERE h.org_id = u.org_id AND h.worker_id = u.id), \
    (SELECT CAST(COALESCE(SUM(q.compared), 0) AS BIGINT) FROM worker_quality q WHERE q.org_id = u.org_id AND q.worker_id = u.id), \
    (SELECT CAST(COALESCE(SUM(q.agreed), 0) AS BIGINT) FROM worker_quality q WHERE q.org_id = u.org_id AND q.worker_id = u.id), \
    (SELECT CAST(COALESCE(SUM(q.gold_answers), 0) AS BIGINT) FROM worker_quality q WHERE q.org_id = u.org_id AND q.worker_id = u.id), \
    (SELECT COALESCE(SUM(q.gold_score_sum), 0.0) FROM worker_quality q WHERE q.org_id = u.org_id AND q.worker_id = u.id)";

fn worker_from(r: &Row) -> StoreResult<VendorWorker> {
    Ok(VendorWorker {
        id: r.i64(0)?,
        org_id: r.i64(1)?,
        org_name: r.string(2)?,
        name: r.string(3)?,
        email: r.string(4)?,
        vendor_ref: r.opt_string(5)?,
        created_at: r.i64(6)?,
        deleted_at: r.opt_i64(7)?,
        annotations: r.i64(8)?,
        active_ms: r.i64(9)?,
        compared: r.i64(10)?,
        agreed: r.i64(11)?,
        gold_answers: r.i64(12)?,
        gold_score_sum: r.f64(13)?,
    })
}

const CONTRACT_COLUMNS: &str = "c.id, c.org_id, o.name, c.vendor_id, v.name, c.created_at, c.ended_at, \
    (SELECT COUNT(*) FROM users u WHERE u.org_id = c.org_id AND u.vendor_id = c.vendor_id AND u.deleted_at IS NULL)";

fn contract_from(r: &Row) -> StoreResult<Contract> {
    Ok(Contract {
        id: r.i64(0)?,
        org_id: r.i64(1)?,
        org_name: r.string(2)?,
        vendor_id: r.i64(3)?,
        vendor_name: r.string(4)?,
        created_at: r.i64(5)?,
        ended_at: r.opt_i64(6)?,
        workers: r.i64(7)?,
    })
}

fn contracts_where(tx: &dyn Tx, clause: &str, id: i64) -> StoreResult<Vec<Contract>> {
    tx.query(
        &format!(
            "SELECT {CONTRACT_COLUMNS} FROM vendor_contracts c \
             JOIN organizations o ON o.id = c.org_id JOIN organizations v ON v.id = c.vendor_id \
             WHERE {clause} ORDER BY c.ended_at IS NOT NULL, o.name, v.name"
        ),
        params![id],
    )?
    .iter()
    .map(contract_from)
    .collect()
}

/// The worker, if they are the vendor's: `NotFound` for anyone else (another vendor's, a direct worker).
fn vendor_worker_row(tx: &dyn Tx, vendor: OrgId, worker: UserId) -> StoreResult<VendorWorker> {
    let r = tx
        .query_opt(
            &format!(
                "SELECT {WORKER_COLUMNS} FROM users u JOIN organizations o ON o.id = u.org_id \
                 WHERE u.id = $1 AND u.vendor_id = $2"
            ),
            params![worker, vendor],
        )?
        .ok_or(StoreError::NotFound)?;
    worker_from(&r)
}

impl dyn Store + '_ {
    /// `lab` or `vendor`; `NotFound` for an unknown organization.
    pub async fn org_kind(&self, org: OrgId) -> StoreResult<String> {
        self.read_tx(move |tx| {
            tx.query_opt("SELECT kind FROM organizations WHERE id = $1", params![org])?
                .ok_or(StoreError::NotFound)?
                .string(0)
        })
        .await
    }

    /// The kind of the organization with this name, if one exists.
    pub async fn org_kind_by_name(&self, name: &str) -> StoreResult<Option<String>> {
        let name = name.to_string();
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT kind FROM organizations WHERE name = $1",
                params![&name],
            )?
            .map(|r| r.string(0))
            .transpose()
        })
        .await
    }

    /// Marks an organization as a vendor. Refused for an organization that already runs projects or has workers,
    /// so a lab cannot turn into a vendor with its data.
    pub async fn make_vendor(&self, org: OrgId) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let busy = tx.query_one(
                "SELECT (SELECT COUNT(*) FROM projects WHERE org_id = $1) + \
                 (SELECT COUNT(*) FROM users WHERE org_id = $1 AND role <> 'admin')",
                params![org],
            )?;
            if busy.i64(0)? > 0 {
                return Err(conflict(
                    "organization_in_use",
                    "this organization has projects or non-admin users; a vendor is an organization of its own",
                ));
            }
            tx.execute(
                "UPDATE organizations SET kind = 'vendor' WHERE id = $1",
                params![org],
            )?;
            Ok(())
        })
        .await
    }

    /// A lab contracts the vendor with this exact name (or re-activates an ended contract).
    /// `NotFound` when no vendor has that name.
    pub async fn contract_vendor(
        &self,
        org: OrgId,
        vendor_name: &str,
        by: UserId,
        now: Millis,
    ) -> StoreResult<Contract> {
        let name = vendor_name.to_string();
        self.write_tx(move |tx| {
            let vendor = tx
                .query_opt(
                    "SELECT id FROM organizations WHERE name = $1 AND kind = 'vendor'",
                    params![&name],
                )?
                .ok_or(StoreError::NotFound)?
                .i64(0)?;
            tx.execute(
                "INSERT INTO vendor_contracts (org_id, vendor_id, created_by, created_at) VALUES ($1, $2, $3, $4) \
                 ON CONFLICT (org_id, vendor_id) DO UPDATE SET ended_at = NULL, created_by = $3, created_at = $4 \
                 WHERE vendor_contracts.ended_at IS NOT NULL",
                params![org, vendor, by, now],
            )?;
            let mut c = tx.query(
                &format!(
                    "SELECT {CONTRACT_COLUMNS} FROM vendor_contracts c \
                     JOIN organizations o ON o.id = c.org_id JOIN organizations v ON v.id = c.vendor_id \
                     WHERE c.org_id = $1 AND c.vendor_id = $2"
                ),
                params![org, vendor],
            )?;
            contract_from(&c.pop().ok_or(StoreError::NotFound)?)
        })
        .await
    }

    /// The lab ends a contract: the vendor can no longer invite, and its open invitations stop working. The
    /// workers stay (they have work and pay in the lab), still tagged with the vendor.
    pub async fn end_contract(&self, org: OrgId, vendor: OrgId, now: Millis) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE vendor_contracts SET ended_at = $1 WHERE org_id = $2 AND vendor_id = $3 AND ended_at IS NULL",
                params![now, org, vendor],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "UPDATE invitations SET revoked_at = $1 \
                 WHERE org_id = $2 AND vendor_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
                params![now, org, vendor],
            )?;
            Ok(())
        })
        .await
    }

    /// A lab's contracts with vendors.
    pub async fn lab_contracts(&self, org: OrgId) -> StoreResult<Vec<Contract>> {
        self.read_tx(move |tx| contracts_where(tx, "c.org_id = $1", org))
            .await
    }

    /// A vendor's contracts with labs.
    pub async fn vendor_contracts(&self, vendor: OrgId) -> StoreResult<Vec<Contract>> {
        self.read_tx(move |tx| contracts_where(tx, "c.vendor_id = $1", vendor))
            .await
    }

    /// Saves a vendor invitation, checking in the same transaction that the lab's contract is active.
    pub async fn create_vendor_invitation(&self, inv: NewVendorInvitation) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            let active = tx.query_opt(
                "SELECT id FROM vendor_contracts WHERE org_id = $1 AND vendor_id = $2 AND ended_at IS NULL",
                params![inv.org_id, inv.vendor_id],
            )?;
            if active.is_none() {
                return Err(conflict(
                    "no_contract",
                    "this organization has no active contract with your vendor; its admin contracts you first",
                ));
            }
            tx.query_one(
                "INSERT INTO invitations (org_id, token_hash, email, role, created_by, created_at, expires_at, vendor_id) \
                 VALUES ($1, $2, $3, 'worker', $4, $5, $6, $7) RETURNING id",
                params![
                    inv.org_id,
                    inv.token_hash,
                    inv.email,
                    inv.created_by,
                    inv.created_at,
                    inv.expires_at,
                    inv.vendor_id
                ],
            )?
            .i64(0)
        })
        .await
    }

    /// The vendor's invitations, newest first.
    pub async fn vendor_invitations(&self, vendor: OrgId) -> StoreResult<Vec<VendorInvitation>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT i.id, i.org_id, o.name, i.email, i.created_at, i.expires_at, i.accepted_at, i.revoked_at \
                 FROM invitations i JOIN organizations o ON o.id = i.org_id \
                 WHERE i.vendor_id = $1 ORDER BY i.id DESC LIMIT 200",
                params![vendor],
            )?
            .iter()
            .map(|r| {
                Ok(VendorInvitation {
                    id: r.i64(0)?,
                    org_id: r.i64(1)?,
                    org_name: r.string(2)?,
                    email: r.opt_string(3)?,
                    created_at: r.i64(4)?,
                    expires_at: r.i64(5)?,
                    accepted_at: r.opt_i64(6)?,
                    revoked_at: r.opt_i64(7)?,
                })
            })
            .collect()
        })
        .await
    }

    /// Withdraws one of the vendor's unused invitations; `NotFound` for another vendor's.
    pub async fn revoke_vendor_invitation(
        &self,
        vendor: OrgId,
        id: i64,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE invitations SET revoked_at = $1 \
                 WHERE id = $2 AND vendor_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
                params![now, id, vendor],
            )?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    /// The vendor's workers in every lab, with their totals.
    pub async fn vendor_workers(&self, vendor: OrgId) -> StoreResult<Vec<VendorWorker>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "SELECT {WORKER_COLUMNS} FROM users u JOIN organizations o ON o.id = u.org_id \
                     WHERE u.vendor_id = $1 ORDER BY o.name, u.id LIMIT 5000"
                ),
                params![vendor],
            )?
            .iter()
            .map(worker_from)
            .collect()
        })
        .await
    }

    /// The ledger balances of every worker of the vendor.
    pub async fn vendor_balances(&self, vendor: OrgId) -> StoreResult<Vec<Balance>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT la.owner_id, la.kind, la.currency, la.balance_minor FROM ledger_accounts la \
                 JOIN users u ON u.id = la.owner_id AND u.org_id = la.org_id \
                 WHERE u.vendor_id = $1 AND la.kind IN ('earnings', 'payouts') \
                 ORDER BY la.owner_id, la.kind, la.currency",
                params![vendor],
            )?
            .iter()
            .map(balance_from)
            .collect()
        })
        .await
    }

    /// One of the vendor's workers in detail; `NotFound` unless the worker is the vendor's.
    pub async fn vendor_worker(
        &self,
        vendor: OrgId,
        worker: UserId,
    ) -> StoreResult<VendorWorkerDetail> {
        self.read_tx(move |tx| {
            let w = vendor_worker_row(tx, vendor, worker)?;
            // Every query below joins the worker's row on the vendor again, so it cannot answer for another.
            let projects = tx
                .query(
                    "SELECT p.id, p.name, \
                       (SELECT COUNT(*) FROM annotations a WHERE a.project_id = p.id AND a.worker_id = u.id), \
                       (SELECT CAST(COALESCE(SUM(h.credited_ms), 0) AS BIGINT) FROM heartbeats h \
                          WHERE h.org_id = u.org_id AND h.worker_id = u.id AND h.project_id = p.id), \
                       COALESCE(q.compared, 0), COALESCE(q.agreed, 0), COALESCE(q.gold_answers, 0), \
                       COALESCE(q.gold_score_sum, 0.0) \
                     FROM users u JOIN projects p ON p.org_id = u.org_id \
                     LEFT JOIN worker_quality q ON q.project_id = p.id AND q.worker_id = u.id \
                     WHERE u.id = $1 AND u.vendor_id = $2 \
                       AND (EXISTS (SELECT 1 FROM assignments s WHERE s.project_id = p.id AND s.worker_id = u.id) \
                            OR EXISTS (SELECT 1 FROM heartbeats h2 WHERE h2.project_id = p.id AND h2.worker_id = u.id)) \
                     ORDER BY p.id",
                    params![worker, vendor],
                )?
                .iter()
                .map(|r| {
                    Ok(WorkerProject {
                        project_id: r.i64(0)?,
                        name: r.string(1)?,
                        annotations: r.i64(2)?,
                        active_ms: r.i64(3)?,
                        compared: r.i64(4)?,
                        agreed: r.i64(5)?,
                        gold_answers: r.i64(6)?,
                        gold_score_sum: r.f64(7)?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            let balances = tx
                .query(
                    "SELECT la.owner_id, la.kind, la.currency, la.balance_minor FROM ledger_accounts la \
                     JOIN users u ON u.id = la.owner_id AND u.org_id = la.org_id \
                     WHERE u.id = $1 AND u.vendor_id = $2 ORDER BY la.kind, la.currency",
                    params![worker, vendor],
                )?
                .iter()
                .map(balance_from)
                .collect::<StoreResult<Vec<_>>>()?;
            let entries = tx
                .query(
                    "SELECT t.id, t.kind, t.memo, t.project_id, la.kind, e.amount_minor, e.currency, t.created_at \
                     FROM ledger_entries e JOIN ledger_accounts la ON la.id = e.account_id \
                     JOIN ledger_transactions t ON t.id = e.transaction_id \
                     JOIN users u ON u.id = la.owner_id AND u.org_id = la.org_id \
                     WHERE u.id = $1 AND u.vendor_id = $2 AND e.org_id = u.org_id \
                     ORDER BY e.id DESC LIMIT 200",
                    params![worker, vendor],
                )?
                .iter()
                .map(|r| {
                    Ok(WorkerEntry {
                        transaction_id: r.i64(0)?,
                        kind: r.string(1)?,
                        memo: r.string(2)?,
                        project_id: r.opt_i64(3)?,
                        account: r.string(4)?,
                        amount_minor: r.i64(5)?,
                        currency: r.string(6)?,
                        created_at: r.i64(7)?,
                    })
                })
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(VendorWorkerDetail {
                worker: w,
                projects,
                balances,
                entries,
            })
        })
        .await
    }

    /// Sets the vendor's own reference for one of its workers; `NotFound` unless the worker is the vendor's.
    pub async fn set_vendor_ref(
        &self,
        vendor: OrgId,
        worker: UserId,
        reference: Option<String>,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE users SET vendor_ref = $1 WHERE id = $2 AND vendor_id = $3 AND deleted_at IS NULL",
                params![reference, worker, vendor],
            )?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    /// A lab's workers with the vendor each came through (none for direct workers).
    pub async fn lab_workers(&self, org: OrgId) -> StoreResult<Vec<LabWorker>> {
        self.read_tx(move |tx| {
            tx.query(
                "SELECT u.id, u.name, u.email, u.vendor_id, v.name, u.deleted_at FROM users u \
                 LEFT JOIN organizations v ON v.id = u.vendor_id \
                 WHERE u.org_id = $1 AND u.role = 'worker' ORDER BY u.id LIMIT 5000",
                params![org],
            )?
            .iter()
            .map(|r| {
                Ok(LabWorker {
                    id: r.i64(0)?,
                    name: r.string(1)?,
                    email: r.string(2)?,
                    vendor_id: r.opt_i64(3)?,
                    vendor_name: r.opt_string(4)?,
                    deleted_at: r.opt_i64(5)?,
                })
            })
            .collect()
        })
        .await
    }
}

fn balance_from(r: &Row) -> StoreResult<Balance> {
    Ok(Balance {
        worker_id: r.i64(0)?,
        kind: r.string(1)?,
        currency: r.string(2)?,
        balance_minor: r.i64(3)?,
    })
}
