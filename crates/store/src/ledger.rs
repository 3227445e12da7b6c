//! The ledger: double-entry, append-only bookkeeping of every amount Fairloop moves (see docs/ledger.md).
//!
//! Why double-entry: every transaction's entries sum to zero per currency, so money can only move between
//! accounts, never appear or vanish, and a bug shows up as an unbalanced transaction that `fairloop ledger
//! verify` names. Why append-only: a worker's statement must never change after the fact; a correction is a
//! new transaction that reverses an old one (the database's triggers refuse `UPDATE` and `DELETE` on entries).
//! Why a unique source key per transaction: the same payable event (a submission, a top-up for a period, a
//! payout) may be posted by several job runs or processes at once, and the key makes all but one a no-op.
//!
//! Accounts cache their balance, updated in the same transaction as the entries, so pages read balances without
//! summing history; [`verify`] proves the caches equal the sums. Budgeted projects hold money for each claimed
//! task in `budget_reservations` so that work stops before the organization's budget or the project's cap would
//! go negative.
//!
//! Everything here is written once over [`Tx`] and runs on both backends. Lock order (PostgreSQL), to rule out
//! deadlocks: the submission's annotation row (pay posting only), the organization's budget account, then
//! reservation rows, then `project_budgets` rows and the other accounts in (kind, owner) order. Every
//! transaction that touches the budget takes the budget account first, so they queue there.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::portable::Tx;
use crate::{Store, StoreError, StoreResult, conflict, params};

/// ISO 4217's code for "no currency involved", for a transaction whose entries name none (an empty one).
pub const NO_CURRENCY: &str = "XXX";

/// What an account is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AccountKind {
    /// The organization's funded budget: funding adds to it, pay takes from it.
    Budget,
    /// The counterpart of funding: money the organization paid in (negative balance = total paid in).
    Funding,
    /// A worker's earnings not yet paid out.
    Earnings,
    /// Platform fees.
    Fees,
    /// Money sent to a worker by payout runs.
    Payouts,
}

impl AccountKind {
    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            AccountKind::Budget => "budget",
            AccountKind::Funding => "funding",
            AccountKind::Earnings => "earnings",
            AccountKind::Fees => "fees",
            AccountKind::Payouts => "payouts",
        }
    }

    /// Parses a stored name.
    pub fn parse(s: &str) -> StoreResult<AccountKind> {
        Ok(match s {
            "budget" => AccountKind::Budget,
            "funding" => AccountKind::Funding,
            "earnings" => AccountKind::Earnings,
            "fees" => AccountKind::Fees,
            "payouts" => AccountKind::Payouts,
            other => {
                return Err(StoreError::Sqlite(format!(
                    "unknown account kind {other:?}"
                )));
            }
        })
    }
}

/// Names an account inside an organization: its kind and, for per-worker accounts, the worker (else 0).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccountRef {
    /// Kind.
    pub kind: AccountKind,
    /// The worker for earnings and payouts, 0 for organization-wide accounts.
    pub owner: UserId,
}

impl AccountRef {
    /// The organization's budget.
    pub const BUDGET: AccountRef = AccountRef {
        kind: AccountKind::Budget,
        owner: 0,
    };
    /// The organization's funding counterpart.
    pub const FUNDING: AccountRef = AccountRef {
        kind: AccountKind::Funding,
        owner: 0,
    };
    /// The organization's platform fees.
    pub const FEES: AccountRef = AccountRef {
        kind: AccountKind::Fees,
        owner: 0,
    };
    /// A worker's earnings payable.
    pub fn earnings(worker: UserId) -> AccountRef {
        AccountRef {
            kind: AccountKind::Earnings,
            owner: worker,
        }
    }
    /// A worker's payouts.
    pub fn payouts(worker: UserId) -> AccountRef {
        AccountRef {
            kind: AccountKind::Payouts,
            owner: worker,
        }
    }
}

/// A transaction to post: its entries must sum to zero.
#[derive(Debug, Clone)]
pub struct Posting {
    /// Organization: every account touched belongs to it.
    pub org_id: OrgId,
    /// Unique key of the event that causes it (`task:<annotation>`, `fund:<key>`, …).
    pub source_key: String,
    /// `funding`, `task_pay`, `bonus`, `top_up`, `payout`, `reversal`, …
    pub kind: String,
    /// The project it is about, if any (budget caps count spending by it).
    pub project_id: Option<ProjectId>,
    /// The worker it is about, if any.
    pub worker_id: Option<UserId>,
    /// The submission it pays, if any.
    pub annotation_id: Option<i64>,
    /// A human-readable note (a withholding reason is shown to the worker).
    pub memo: String,
    /// Who caused it (None for jobs).
    pub created_by: Option<UserId>,
    /// ISO 4217 code of every entry.
    pub currency: String,
    /// Signed amounts in minor units per account.
    pub entries: Vec<(AccountRef, i64)>,
}

/// How a posting went.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Posted {
    /// A new transaction with this id.
    New(i64),
    /// The source key was already posted, as this transaction: nothing changed.
    Already(i64),
}

impl Posted {
    /// The transaction id either way.
    pub fn id(self) -> i64 {
        match self {
            Posted::New(id) | Posted::Already(id) => id,
        }
    }
}

const INSERT_ACCOUNT: &str = "INSERT INTO ledger_accounts (org_id, kind, owner_id, currency, balance_minor, created_at) \
     VALUES ($1, $2, $3, $4, 0, $5) ON CONFLICT (org_id, kind, owner_id, currency) DO NOTHING";
const SELECT_ACCOUNT: &str = "SELECT id, balance_minor FROM ledger_accounts \
     WHERE org_id = $1 AND kind = $2 AND owner_id = $3 AND currency = $4";
const INSERT_TRANSACTION: &str = "INSERT INTO ledger_transactions \
     (org_id, source_key, kind, project_id, worker_id, annotation_id, reverses_id, memo, created_by, created_at) \
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) ON CONFLICT (source_key) DO NOTHING RETURNING id";
const SELECT_TRANSACTION_BY_KEY: &str =
    "SELECT id, org_id FROM ledger_transactions WHERE source_key = $1";
const INSERT_ENTRY: &str = "INSERT INTO ledger_entries (org_id, transaction_id, account_id, amount_minor, currency) \
     VALUES ($1, $2, $3, $4, $5)";
const ADD_BALANCE: &str =
    "UPDATE ledger_accounts SET balance_minor = balance_minor + $1 WHERE id = $2 AND org_id = $3";
const ADD_SPENT: &str = "UPDATE project_budgets SET spent_minor = spent_minor + $1 \
     WHERE project_id = $2 AND org_id = $3 AND currency = $4";

/// Checks that a currency is an ISO 4217-shaped code (three capital letters).
pub fn valid_currency(c: &str) -> bool {
    c.len() == 3 && c.bytes().all(|b| b.is_ascii_uppercase())
}

/// The account's id, creating it at balance zero when it is new.
pub fn ensure_account(
    tx: &dyn Tx,
    org: OrgId,
    account: AccountRef,
    currency: &str,
    now: Millis,
) -> StoreResult<i64> {
    tx.execute(
        INSERT_ACCOUNT,
        params![org, account.kind.as_str(), account.owner, currency, now],
    )?;
    tx.query_one(
        SELECT_ACCOUNT,
        params![org, account.kind.as_str(), account.owner, currency],
    )?
    .i64(0)
}

/// Posts a balanced transaction, or answers [`Posted::Already`] when its source key was posted before.
///
/// Refuses (`unbalanced`) entries that do not sum to zero, and a source key already used by another
/// organization (`NotFound`, so keys leak nothing).
pub fn post(tx: &dyn Tx, p: &Posting, reverses: Option<i64>, now: Millis) -> StoreResult<Posted> {
    let sum: i128 = p.entries.iter().map(|(_, a)| *a as i128).sum();
    if sum != 0 {
        return Err(conflict(
            "unbalanced",
            format!(
                "transaction {} does not balance: its entries sum to {sum}",
                p.source_key
            ),
        ));
    }
    if !valid_currency(&p.currency) {
        return Err(conflict(
            "invalid_currency",
            format!(
                "currency must be a three-letter ISO 4217 code, got {:?}",
                p.currency
            ),
        ));
    }
    let inserted = tx.query_opt(
        INSERT_TRANSACTION,
        params![
            p.org_id,
            p.source_key.as_str(),
            p.kind.as_str(),
            p.project_id,
            p.worker_id,
            p.annotation_id,
            reverses,
            p.memo.as_str(),
            p.created_by,
            now
        ],
    )?;
    let id = match inserted {
        Some(row) => row.i64(0)?,
        None => {
            let row = tx.query_one(SELECT_TRANSACTION_BY_KEY, params![p.source_key.as_str()])?;
            if row.i64(1)? != p.org_id {
                return Err(StoreError::NotFound);
            }
            return Ok(Posted::Already(row.i64(0)?));
        }
    };
    // Accounts in one fixed order (kind, then owner: the budget always first), for creating and for locking,
    // so concurrent postings cannot deadlock.
    let mut entries = p.entries.clone();
    entries.sort_by_key(|(a, _)| *a);
    let mut resolved = Vec::with_capacity(entries.len());
    for (account, amount) in &entries {
        let account_id = ensure_account(tx, p.org_id, *account, &p.currency, now)?;
        resolved.push((account_id, *account, *amount));
    }
    for (account_id, _, amount) in &resolved {
        tx.execute(
            INSERT_ENTRY,
            params![p.org_id, id, *account_id, *amount, p.currency.as_str()],
        )?;
        tx.execute(ADD_BALANCE, params![*amount, *account_id, p.org_id])?;
    }
    if let Some(project) = p.project_id {
        let budget_delta: i64 = resolved
            .iter()
            .filter(|(_, a, _)| a.kind == AccountKind::Budget)
            .map(|(_, _, amount)| -amount)
            .sum();
        if budget_delta != 0 {
            tx.execute(
                ADD_SPENT,
                params![budget_delta, project, p.org_id, p.currency.as_str()],
            )?;
        }
    }
    Ok(Posted::New(id))
}

/// One entry of a posted transaction.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct EntryView {
    /// The account.
    pub account_id: i64,
    /// Its kind.
    pub kind: AccountKind,
    /// Its owner (worker) or 0.
    pub owner_id: UserId,
    /// Signed amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

const SELECT_ENTRIES: &str = "SELECT e.account_id, a.kind, a.owner_id, e.amount_minor, e.currency \
     FROM ledger_entries e JOIN ledger_accounts a ON a.id = e.account_id \
     WHERE e.transaction_id = $1 AND e.org_id = $2 ORDER BY e.id";
const SELECT_TRANSACTION: &str = "SELECT id, source_key, kind, project_id, worker_id, annotation_id, reverses_id \
     FROM ledger_transactions WHERE id = $1 AND org_id = $2";

/// Posts the reversal of transaction `id` (every entry negated), at most once (`reverse:<id>`).
pub fn reverse(
    tx: &dyn Tx,
    org: OrgId,
    id: i64,
    memo: &str,
    by: Option<UserId>,
    now: Millis,
) -> StoreResult<Posted> {
    let row = tx.query_one(SELECT_TRANSACTION, params![id, org])?;
    if row.opt_i64(6)?.is_some() {
        return Err(conflict(
            "not_reversible",
            format!("transaction {id} is itself a reversal; post a new transaction instead"),
        ));
    }
    let entries = tx.query(SELECT_ENTRIES, params![id, org])?;
    let mut currency = None;
    let mut out = Vec::new();
    for e in &entries {
        currency = Some(e.string(4)?);
        out.push((
            AccountRef {
                kind: AccountKind::parse(&e.string(1)?)?,
                owner: e.i64(2)?,
            },
            -e.i64(3)?,
        ));
    }
    post(
        tx,
        &Posting {
            org_id: org,
            source_key: format!("reverse:{id}"),
            kind: "reversal".into(),
            project_id: row.opt_i64(3)?,
            worker_id: row.opt_i64(4)?,
            annotation_id: row.opt_i64(5)?,
            memo: memo.to_string(),
            created_by: by,
            currency: currency.unwrap_or_else(|| NO_CURRENCY.into()),
            entries: out,
        },
        Some(id),
        now,
    )
}

/// The entries of one transaction of the organization.
pub fn entries(tx: &dyn Tx, org: OrgId, id: i64) -> StoreResult<Vec<EntryView>> {
    tx.query(SELECT_ENTRIES, params![id, org])?
        .into_iter()
        .map(|r| {
            Ok(EntryView {
                account_id: r.i64(0)?,
                kind: AccountKind::parse(&r.string(1)?)?,
                owner_id: r.i64(2)?,
                amount_minor: r.i64(3)?,
                currency: r.string(4)?,
            })
        })
        .collect()
}

/// An account with its cached balance.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountView {
    /// Id.
    pub id: i64,
    /// Kind.
    pub kind: AccountKind,
    /// Worker, or 0.
    pub owner_id: UserId,
    /// ISO 4217 code.
    pub currency: String,
    /// Balance in minor units.
    pub balance_minor: i64,
}

const SELECT_ORG_ACCOUNTS: &str = "SELECT id, kind, owner_id, currency, balance_minor FROM ledger_accounts \
     WHERE org_id = $1 ORDER BY kind, owner_id, currency";
const SELECT_OWNER_ACCOUNTS: &str = "SELECT id, kind, owner_id, currency, balance_minor FROM ledger_accounts \
     WHERE org_id = $1 AND owner_id = $2 ORDER BY kind, currency";

fn account_rows(rows: Vec<crate::portable::Row>) -> StoreResult<Vec<AccountView>> {
    rows.into_iter()
        .map(|r| {
            Ok(AccountView {
                id: r.i64(0)?,
                kind: AccountKind::parse(&r.string(1)?)?,
                owner_id: r.i64(2)?,
                currency: r.string(3)?,
                balance_minor: r.i64(4)?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Budgets and reservations.

/// A project's budget as stored.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct ProjectBudget {
    /// The project.
    pub project_id: ProjectId,
    /// ISO 4217 code.
    pub currency: String,
    /// The most it may spend.
    pub cap_minor: i64,
    /// Posted pay (net of reversals).
    pub spent_minor: i64,
    /// Held for claimed, unsubmitted tasks.
    pub reserved_minor: i64,
}

const INSERT_PROJECT_BUDGET: &str = "INSERT INTO project_budgets (project_id, org_id, currency, cap_minor) \
     VALUES ($1, $2, $3, $4) ON CONFLICT (project_id) DO NOTHING";
const SELECT_PROJECT_BUDGET: &str = "SELECT project_id, currency, cap_minor, spent_minor, reserved_minor \
     FROM project_budgets WHERE project_id = $1 AND org_id = $2";
const ORG_RESERVED: &str = "SELECT CAST(COALESCE(SUM(reserved_minor), 0) AS BIGINT) FROM project_budgets \
     WHERE org_id = $1 AND currency = $2";
const INSERT_RESERVATION: &str = "INSERT INTO budget_reservations \
     (org_id, project_id, worker_id, assignment_id, amount_minor, status, created_at) \
     VALUES ($1, $2, $3, NULL, $4, 'held', $5) RETURNING id";
const ADD_RESERVED: &str = "UPDATE project_budgets SET reserved_minor = reserved_minor + $1 \
     WHERE project_id = $2 AND org_id = $3";
const CLOSE_RESERVATION: &str = "UPDATE budget_reservations SET status = $1, closed_at = $2 \
     WHERE id = $3 AND org_id = $4 AND status = 'held' RETURNING amount_minor, project_id";
const HELD_FOR_ASSIGNMENT: &str = "SELECT id FROM budget_reservations \
     WHERE org_id = $1 AND assignment_id = $2 AND status = 'held'";
const ATTACH_RESERVATION: &str = "UPDATE budget_reservations SET assignment_id = $1 \
     WHERE id = $2 AND org_id = $3 AND status = 'held' AND assignment_id IS NULL";

fn project_budget_row(r: &crate::portable::Row) -> StoreResult<ProjectBudget> {
    Ok(ProjectBudget {
        project_id: r.i64(0)?,
        currency: r.string(1)?,
        cap_minor: r.i64(2)?,
        spent_minor: r.i64(3)?,
        reserved_minor: r.i64(4)?,
    })
}

/// Locks (creating it when missing) the organization's budget account in a currency; answers its balance.
fn lock_budget(tx: &dyn Tx, org: OrgId, currency: &str, now: Millis) -> StoreResult<i64> {
    let account = ensure_account(tx, org, AccountRef::BUDGET, currency, now)?;
    tx.query_one(
        &format!(
            "SELECT balance_minor FROM ledger_accounts WHERE id = $1 AND org_id = $2{}",
            tx.for_update()
        ),
        params![account, org],
    )?
    .i64(0)
}

/// Locks the organization's budget account and the project's budget row (creating either when missing) and
/// answers how much may still be spent: the smaller of the organization's unreserved balance and the
/// project's unreserved cap.
fn room(
    tx: &dyn Tx,
    org: OrgId,
    project: ProjectId,
    currency: &str,
    cap: i64,
    now: Millis,
) -> StoreResult<i64> {
    let balance = lock_budget(tx, org, currency, now)?;
    tx.execute(INSERT_PROJECT_BUDGET, params![project, org, currency, cap])?;
    let pb = project_budget_row(&tx.query_one(
        &format!("{SELECT_PROJECT_BUDGET}{}", tx.for_update()),
        params![project, org],
    )?)?;
    if pb.currency != currency {
        return Err(conflict(
            "currency_mismatch",
            format!(
                "project {project} budgets in {}, not {currency}",
                pb.currency
            ),
        ));
    }
    let org_reserved = tx.query_one(ORG_RESERVED, params![org, currency])?.i64(0)?;
    Ok((balance - org_reserved).min(pb.cap_minor - pb.spent_minor - pb.reserved_minor))
}

/// A request to hold budget for one claim.
#[derive(Debug, Clone)]
pub struct HoldRequest {
    /// Organization (whose budget account pays).
    pub org_id: OrgId,
    /// The budgeted project.
    pub project_id: ProjectId,
    /// The worker claiming.
    pub worker_id: UserId,
    /// What the claim may cost, in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The project's cap.
    pub cap_minor: i64,
}

/// Holds the cost of a claim; `None` (nothing held) when the organization's budget or the project's cap
/// cannot cover it.
pub fn reserve(tx: &dyn Tx, h: &HoldRequest, now: Millis) -> StoreResult<Option<i64>> {
    let (org, project) = (h.org_id, h.project_id);
    if room(tx, org, project, &h.currency, h.cap_minor, now)? < h.amount_minor {
        return Ok(None);
    }
    let id = tx
        .query_one(
            INSERT_RESERVATION,
            params![org, project, h.worker_id, h.amount_minor, now],
        )?
        .i64(0)?;
    tx.execute(ADD_RESERVED, params![h.amount_minor, project, org])?;
    Ok(Some(id))
}

/// Closes a held reservation as `used` or `released`, giving its amount back to the project; false when it
/// was not held.
pub fn close_reservation(
    tx: &dyn Tx,
    org: OrgId,
    reservation: i64,
    status: &str,
    now: Millis,
) -> StoreResult<bool> {
    match tx.query_opt(CLOSE_RESERVATION, params![status, now, reservation, org])? {
        Some(r) => {
            tx.execute(ADD_RESERVED, params![-r.i64(0)?, r.i64(1)?, org])?;
            Ok(true)
        }
        None => Ok(false),
    }
}

/// Ties a fresh reservation to the assignment its claim produced, or releases it when the claim produced
/// nothing new (no task, or a task the worker already held, which has its own reservation).
pub fn settle_reservation(
    tx: &dyn Tx,
    org: OrgId,
    reservation: i64,
    assignment: Option<i64>,
    now: Millis,
) -> StoreResult<()> {
    if let Some(a) = assignment
        && tx
            .query_opt(HELD_FOR_ASSIGNMENT, params![org, a])?
            .is_none()
    {
        tx.execute(ATTACH_RESERVATION, params![a, reservation, org])?;
        return Ok(());
    }
    close_reservation(tx, org, reservation, "released", now)?;
    Ok(())
}

/// Posts a payment out of the budget for a project (a bonus): when the project has a cap, only if the
/// organization's budget and the cap can cover it (`budget_exhausted` otherwise). Posting the same source key
/// again is a no-op even when the budget is gone by then.
pub fn post_from_budget(
    tx: &dyn Tx,
    p: &Posting,
    cap: Option<i64>,
    now: Millis,
) -> StoreResult<Posted> {
    if let Some(row) = tx.query_opt(SELECT_TRANSACTION_BY_KEY, params![p.source_key.as_str()])?
        && row.i64(1)? == p.org_id
    {
        return Ok(Posted::Already(row.i64(0)?));
    }
    let cost: i64 = -p
        .entries
        .iter()
        .filter(|(a, _)| a.kind == AccountKind::Budget)
        .map(|(_, amount)| amount)
        .sum::<i64>();
    if let (Some(cap), Some(project)) = (cap, p.project_id) {
        lock_budget(tx, p.org_id, &p.currency, now)?;
        let room = room(tx, p.org_id, project, &p.currency, cap, now)?;
        if room < cost {
            return Err(conflict(
                "budget_exhausted",
                format!(
                    "the project's budget has {} minor units left, not the {cost} this needs; fund the budget \
                     first",
                    room.max(0)
                ),
            ));
        }
    }
    post(tx, p, None, now)
}

/// Pay for one submission, as the posting job computed it from the project's pay settings.
#[derive(Debug, Clone)]
pub struct TaskPay {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// The submission.
    pub annotation_id: i64,
    /// Its assignment (its reservation, if any, is used).
    pub assignment_id: i64,
    /// The worker paid.
    pub worker_id: UserId,
    /// Amount in minor units.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
    /// The project's cap when it has a budget.
    pub cap_minor: Option<i64>,
}

/// What posting a submission's pay did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TaskPayOutcome {
    /// Posted now (or earlier, by another run): the transaction id.
    Posted(Posted),
    /// The budget cannot cover it (a late submission after its hold was released): recorded as deferred and
    /// retried after funding.
    Deferred,
}

const INSERT_DEFERRED: &str = "INSERT INTO ledger_deferred (annotation_id, org_id, project_id, reason, created_at) \
     VALUES ($1, $2, $3, $4, $5) ON CONFLICT (annotation_id) DO NOTHING";
const DELETE_DEFERRED: &str =
    "DELETE FROM ledger_deferred WHERE annotation_id = $1 AND org_id = $2";

/// Posts a submission's pay exactly once (`task:<annotation>`): budget → the worker's earnings. A budgeted
/// project pays from the claim's reservation, or from the room left when the reservation is gone.
pub fn post_task_pay(tx: &dyn Tx, pay: &TaskPay, now: Millis) -> StoreResult<TaskPayOutcome> {
    // Serialize posters of the same submission (jobs in several processes): the second waits here and then
    // sees the first one's transaction.
    tx.query_one(
        &format!(
            "SELECT id FROM annotations WHERE id = $1 AND org_id = $2{}",
            tx.for_update()
        ),
        params![pay.annotation_id, pay.org_id],
    )?;
    let key = format!("task:{}", pay.annotation_id);
    if let Some(row) = tx.query_opt(SELECT_TRANSACTION_BY_KEY, params![key.as_str()])? {
        tx.execute(DELETE_DEFERRED, params![pay.annotation_id, pay.org_id])?;
        return Ok(TaskPayOutcome::Posted(Posted::Already(row.i64(0)?)));
    }
    if let Some(cap) = pay.cap_minor {
        // The budget account first (see the lock order in the module comment): closing the reservation
        // locks the project's budget row, which comes after it.
        lock_budget(tx, pay.org_id, &pay.currency, now)?;
        let held = tx.query_opt(HELD_FOR_ASSIGNMENT, params![pay.org_id, pay.assignment_id])?;
        let covered = match held {
            Some(r) => close_reservation(tx, pay.org_id, r.i64(0)?, "used", now)?,
            None => false,
        };
        if !covered
            && room(tx, pay.org_id, pay.project_id, &pay.currency, cap, now)? < pay.amount_minor
        {
            tx.execute(
                INSERT_DEFERRED,
                params![
                    pay.annotation_id,
                    pay.org_id,
                    pay.project_id,
                    "the project's budget cannot cover this submission yet",
                    now
                ],
            )?;
            return Ok(TaskPayOutcome::Deferred);
        }
    }
    let posted = post(
        tx,
        &Posting {
            org_id: pay.org_id,
            source_key: key,
            kind: "task_pay".into(),
            project_id: Some(pay.project_id),
            worker_id: Some(pay.worker_id),
            annotation_id: Some(pay.annotation_id),
            memo: String::new(),
            created_by: None,
            currency: pay.currency.clone(),
            entries: if pay.amount_minor == 0 {
                Vec::new()
            } else {
                vec![
                    (AccountRef::BUDGET, -pay.amount_minor),
                    (AccountRef::earnings(pay.worker_id), pay.amount_minor),
                ]
            },
        },
        None,
        now,
    )?;
    tx.execute(DELETE_DEFERRED, params![pay.annotation_id, pay.org_id])?;
    Ok(TaskPayOutcome::Posted(posted))
}

/// A submission whose pay has not been posted yet.
#[derive(Debug, Clone)]
pub struct UnpostedSubmission {
    /// Organization.
    pub org_id: OrgId,
    /// Project.
    pub project_id: ProjectId,
    /// The annotation.
    pub annotation_id: i64,
    /// Its assignment.
    pub assignment_id: i64,
    /// The worker.
    pub worker_id: UserId,
    /// The project's pay settings (JSON text).
    pub pay: String,
}

const SELECT_UNPOSTED: &str = "SELECT a.org_id, a.project_id, a.id, a.assignment_id, a.worker_id, p.pay \
     FROM annotations a JOIN projects p ON p.id = a.project_id \
     WHERE (p.pay LIKE '%\"model\":\"per_task\"%' OR p.pay LIKE '%\"model\":\"hourly\"%') AND a.id > $1 \
       AND NOT EXISTS (SELECT 1 FROM ledger_transactions t WHERE t.annotation_id = a.id AND t.kind = 'task_pay') \
       AND NOT EXISTS (SELECT 1 FROM ledger_deferred d WHERE d.annotation_id = a.id) \
     ORDER BY a.id LIMIT $2";
const SELECT_DEFERRED: &str = "SELECT a.org_id, a.project_id, a.id, a.assignment_id, a.worker_id, p.pay \
     FROM ledger_deferred d JOIN annotations a ON a.id = d.annotation_id JOIN projects p ON p.id = a.project_id \
     WHERE d.annotation_id > $1 ORDER BY d.annotation_id LIMIT $2";
const SELECT_STALE_RESERVATIONS: &str = "SELECT r.id, r.org_id FROM budget_reservations r \
     LEFT JOIN assignments a ON a.id = r.assignment_id \
     WHERE r.status = 'held' AND ((r.assignment_id IS NULL AND r.created_at < $1) \
        OR a.status IN ('skipped', 'expired')) \
     ORDER BY r.id LIMIT $2";

fn unposted_rows(rows: Vec<crate::portable::Row>) -> StoreResult<Vec<UnpostedSubmission>> {
    rows.into_iter()
        .map(|r| {
            Ok(UnpostedSubmission {
                org_id: r.i64(0)?,
                project_id: r.i64(1)?,
                annotation_id: r.i64(2)?,
                assignment_id: r.i64(3)?,
                worker_id: r.i64(4)?,
                pay: r.string(5)?,
            })
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------------------
// Verification.

/// What `fairloop ledger verify` found.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct VerifyReport {
    /// Transactions checked.
    pub transactions: u64,
    /// Accounts checked.
    pub accounts: u64,
    /// Project budgets checked.
    pub budgets: u64,
    /// Every discrepancy, naming the transaction, account or project.
    pub problems: Vec<String>,
}

const COUNT_TRANSACTIONS: &str = "SELECT CAST(COUNT(*) AS BIGINT), CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM ledger_transactions";
const UNBALANCED: &str = "SELECT t.id, t.source_key, e.currency, CAST(SUM(e.amount_minor) AS BIGINT) \
     FROM ledger_transactions t JOIN ledger_entries e ON e.transaction_id = t.id \
     WHERE t.id > $1 AND t.id <= $2 GROUP BY t.id, t.source_key, e.currency \
     HAVING SUM(e.amount_minor) <> 0 ORDER BY t.id";
const FOREIGN_ENTRIES: &str = "SELECT e.transaction_id, e.id, a.id FROM ledger_entries e \
     JOIN ledger_accounts a ON a.id = e.account_id JOIN ledger_transactions t ON t.id = e.transaction_id \
     WHERE e.transaction_id > $1 AND e.transaction_id <= $2 \
       AND (a.org_id <> e.org_id OR t.org_id <> e.org_id OR a.currency <> e.currency) ORDER BY e.id";
const ACCOUNT_SUMS: &str = "SELECT a.id, a.org_id, a.kind, a.owner_id, a.currency, a.balance_minor, \
     CAST(COALESCE((SELECT SUM(e.amount_minor) FROM ledger_entries e WHERE e.account_id = a.id), 0) AS BIGINT) \
     FROM ledger_accounts a WHERE a.id > $1 ORDER BY a.id LIMIT $2";
const BUDGET_SUMS: &str = "SELECT b.project_id, b.spent_minor, b.reserved_minor, \
     CAST(COALESCE((SELECT -SUM(e.amount_minor) FROM ledger_entries e \
        JOIN ledger_transactions t ON t.id = e.transaction_id JOIN ledger_accounts a ON a.id = e.account_id \
        WHERE t.project_id = b.project_id AND a.kind = 'budget'), 0) AS BIGINT), \
     CAST(COALESCE((SELECT SUM(r.amount_minor) FROM budget_reservations r \
        WHERE r.project_id = b.project_id AND r.status = 'held'), 0) AS BIGINT), b.cap_minor \
     FROM project_budgets b ORDER BY b.project_id";

/// Transactions checked per read transaction.
const VERIFY_PAGE: i64 = 5000;

/// Checks the whole ledger: every transaction balances per currency, every entry's account belongs to the
/// transaction's organization and currency, every cached balance equals the sum of its entries, every project's
/// cached spend and holds equal their sources. `progress(done, total)` is called after each page.
pub async fn verify(
    store: &(dyn Store + 'static),
    mut progress: impl FnMut(u64, u64) + Send,
) -> StoreResult<VerifyReport> {
    let mut report = VerifyReport::default();
    let (count, max_id) = store
        .read_tx(|tx| {
            let r = tx.query_one(COUNT_TRANSACTIONS, &[])?;
            Ok((r.i64(0)?, r.i64(1)?))
        })
        .await?;
    let mut after = 0_i64;
    while after < max_id {
        let upto = after + VERIFY_PAGE;
        let problems = store
            .read_tx(move |tx| {
                let mut out = Vec::new();
                for r in tx.query(UNBALANCED, params![after, upto])? {
                    out.push(format!(
                        "transaction {} ({}) does not balance: its {} entries sum to {}",
                        r.i64(0)?,
                        r.string(1)?,
                        r.string(2)?,
                        r.i64(3)?
                    ));
                }
                for r in tx.query(FOREIGN_ENTRIES, params![after, upto])? {
                    out.push(format!(
                        "transaction {}: entry {} posts to account {} of another organization or currency",
                        r.i64(0)?,
                        r.i64(1)?,
                        r.i64(2)?
                    ));
                }
                let n = tx
                    .query_one(
                        "SELECT CAST(COUNT(*) AS BIGINT) FROM ledger_transactions WHERE id > $1 AND id <= $2",
                        params![after, upto],
                    )?
                    .i64(0)?;
                Ok((out, n as u64))
            })
            .await?;
        report.problems.extend(problems.0);
        report.transactions += problems.1;
        after = upto;
        progress(report.transactions, count as u64);
    }
    let mut after = 0_i64;
    loop {
        let rows = store
            .read_tx(move |tx| tx.query(ACCOUNT_SUMS, params![after, VERIFY_PAGE]))
            .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            after = r.i64(0)?;
            report.accounts += 1;
            let (cached, summed) = (r.i64(5)?, r.i64(6)?);
            if cached != summed {
                report.problems.push(format!(
                    "account {} (organization {}, {} {} {}) caches balance {cached} but its entries sum to {summed}",
                    r.i64(0)?,
                    r.i64(1)?,
                    r.string(2)?,
                    r.i64(3)?,
                    r.string(4)?
                ));
            }
        }
    }
    let budgets = store.read_tx(|tx| tx.query(BUDGET_SUMS, &[])).await?;
    for r in &budgets {
        report.budgets += 1;
        let project = r.i64(0)?;
        let (spent, reserved, spent_sum, held_sum, cap) =
            (r.i64(1)?, r.i64(2)?, r.i64(3)?, r.i64(4)?, r.i64(5)?);
        if spent != spent_sum {
            report.problems.push(format!(
                "project {project} caches spend {spent} but its budget entries sum to {spent_sum}"
            ));
        }
        if reserved != held_sum {
            report.problems.push(format!(
                "project {project} caches holds of {reserved} but its held reservations sum to {held_sum}"
            ));
        }
        if spent_sum + held_sum > cap {
            report.problems.push(format!(
                "project {project} spent {spent_sum} and holds {held_sum}, over its cap of {cap}"
            ));
        }
    }
    Ok(report)
}

// ---------------------------------------------------------------------------------------------------------
// Typed entry points for the application.

/// One transaction as a statement lists it.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct TransactionView {
    /// Id.
    pub id: i64,
    /// Source key.
    pub source_key: String,
    /// Kind.
    pub kind: String,
    /// Project, if any.
    pub project_id: Option<ProjectId>,
    /// Worker, if any.
    pub worker_id: Option<UserId>,
    /// Submission, if any.
    pub annotation_id: Option<i64>,
    /// The transaction it reverses, if any.
    pub reverses_id: Option<i64>,
    /// Note (a withholding reason).
    pub memo: String,
    /// When, UTC millis.
    pub created_at: Millis,
    /// The signed amount on the account the listing is for.
    pub amount_minor: i64,
    /// ISO 4217 code.
    pub currency: String,
}

const ACCOUNT_HISTORY: &str = "SELECT t.id, t.source_key, t.kind, t.project_id, t.worker_id, t.annotation_id, \
     t.reverses_id, t.memo, t.created_at, e.amount_minor, e.currency \
     FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
     JOIN ledger_accounts a ON a.id = e.account_id \
     WHERE e.org_id = $1 AND a.kind = $2 AND a.owner_id = $3 ORDER BY t.id DESC LIMIT $4";

const ACCOUNT_PERIOD: &str = "SELECT t.id, t.source_key, t.kind, t.project_id, t.worker_id, t.annotation_id, \
     t.reverses_id, t.memo, t.created_at, e.amount_minor, e.currency \
     FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
     JOIN ledger_accounts a ON a.id = e.account_id \
     WHERE e.org_id = $1 AND a.kind = $2 AND a.owner_id = $3 AND t.created_at >= $4 AND t.created_at < $5 \
     ORDER BY t.created_at, t.id";
const ACCOUNT_OPENING: &str = "SELECT e.currency, CAST(SUM(e.amount_minor) AS BIGINT) \
     FROM ledger_entries e JOIN ledger_transactions t ON t.id = e.transaction_id \
     JOIN ledger_accounts a ON a.id = e.account_id \
     WHERE e.org_id = $1 AND a.kind = $2 AND a.owner_id = $3 AND t.created_at < $4 \
     GROUP BY e.currency ORDER BY e.currency";

fn transaction_row(r: &crate::portable::Row) -> StoreResult<TransactionView> {
    Ok(TransactionView {
        id: r.i64(0)?,
        source_key: r.string(1)?,
        kind: r.string(2)?,
        project_id: r.opt_i64(3)?,
        worker_id: r.opt_i64(4)?,
        annotation_id: r.opt_i64(5)?,
        reverses_id: r.opt_i64(6)?,
        memo: r.string(7)?,
        created_at: r.i64(8)?,
        amount_minor: r.i64(9)?,
        currency: r.string(10)?,
    })
}

/// One account's movements over a period, for statements and invoices.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct AccountPeriod {
    /// Balance per currency before the period.
    pub opening: Vec<(String, i64)>,
    /// Every movement in the period, oldest first.
    pub movements: Vec<TransactionView>,
}

impl dyn Store {
    /// One account's opening balances and movements in `[from, to)` (statements and invoices).
    pub async fn ledger_period(
        &self,
        org: OrgId,
        account: AccountRef,
        from: Millis,
        to: Millis,
    ) -> StoreResult<AccountPeriod> {
        self.read_tx(move |tx| {
            let kind = account.kind.as_str();
            let opening = tx
                .query(ACCOUNT_OPENING, params![org, kind, account.owner, from])?
                .iter()
                .map(|r| Ok((r.string(0)?, r.i64(1)?)))
                .collect::<StoreResult<Vec<_>>>()?;
            let movements = tx
                .query(ACCOUNT_PERIOD, params![org, kind, account.owner, from, to])?
                .iter()
                .map(transaction_row)
                .collect::<StoreResult<Vec<_>>>()?;
            Ok(AccountPeriod { opening, movements })
        })
        .await
    }

    /// Posts a transaction (see [`post`]).
    pub async fn ledger_post(&self, posting: Posting, now: Millis) -> StoreResult<Posted> {
        self.write_tx(move |tx| post(tx, &posting, None, now)).await
    }

    /// Posts a payment out of a project's budget (see [`post_from_budget`]).
    pub async fn ledger_post_from_budget(
        &self,
        posting: Posting,
        cap: Option<i64>,
        now: Millis,
    ) -> StoreResult<Posted> {
        self.write_tx(move |tx| post_from_budget(tx, &posting, cap, now))
            .await
    }

    /// Withholds a submission's pay: reverses its `task:<annotation>` transaction once, with the reason as memo.
    /// `NotFound` until that pay is posted (or for another organization's submission).
    pub async fn ledger_withhold(
        &self,
        org: OrgId,
        annotation: i64,
        reason: String,
        by: UserId,
        now: Millis,
    ) -> StoreResult<Posted> {
        self.write_tx(move |tx| {
            let key = format!("task:{annotation}");
            let row = tx
                .query_opt(
                    "SELECT id FROM ledger_transactions WHERE source_key = $1 AND org_id = $2",
                    params![key.as_str(), org],
                )?
                .ok_or(StoreError::NotFound)?;
            reverse(tx, org, row.i64(0)?, &reason, Some(by), now)
        })
        .await
    }

    /// True when the user belongs to the organization (bonuses go only to its own people).
    pub async fn user_in_org(&self, org: OrgId, user: UserId) -> StoreResult<bool> {
        self.read_tx(move |tx| {
            Ok(tx
                .query_opt(
                    "SELECT id FROM users WHERE id = $1 AND org_id = $2",
                    params![user, org],
                )?
                .is_some())
        })
        .await
    }

    /// Reverses a transaction once (see [`reverse`]).
    pub async fn ledger_reverse(
        &self,
        org: OrgId,
        id: i64,
        memo: String,
        by: Option<UserId>,
        now: Millis,
    ) -> StoreResult<Posted> {
        self.write_tx(move |tx| reverse(tx, org, id, &memo, by, now))
            .await
    }

    /// Holds budget for a claim (see [`reserve`]).
    pub async fn ledger_reserve(&self, hold: HoldRequest, now: Millis) -> StoreResult<Option<i64>> {
        self.write_tx(move |tx| reserve(tx, &hold, now)).await
    }

    /// Ties a reservation to its claim or releases it (see [`settle_reservation`]).
    pub async fn ledger_settle_reservation(
        &self,
        org: OrgId,
        reservation: i64,
        assignment: Option<i64>,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| settle_reservation(tx, org, reservation, assignment, now))
            .await
    }

    /// Posts a submission's pay once (see [`post_task_pay`]).
    pub async fn ledger_post_task_pay(
        &self,
        pay: TaskPay,
        now: Millis,
    ) -> StoreResult<TaskPayOutcome> {
        self.write_tx(move |tx| post_task_pay(tx, &pay, now)).await
    }

    /// Up to `limit` submissions of paying projects after annotation `after` whose pay is neither posted nor
    /// deferred.
    pub async fn ledger_unposted(
        &self,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<UnpostedSubmission>> {
        self.read_tx(move |tx| unposted_rows(tx.query(SELECT_UNPOSTED, params![after, limit])?))
            .await
    }

    /// Up to `limit` deferred submissions after annotation `after`.
    pub async fn ledger_deferred(
        &self,
        after: i64,
        limit: i64,
    ) -> StoreResult<Vec<UnpostedSubmission>> {
        self.read_tx(move |tx| unposted_rows(tx.query(SELECT_DEFERRED, params![after, limit])?))
            .await
    }

    /// Releases up to `limit` holds whose assignment was skipped or expired, or that never got an assignment
    /// and were made before `orphaned_before`; answers how many.
    pub async fn ledger_release_stale(
        &self,
        orphaned_before: Millis,
        now: Millis,
        limit: i64,
    ) -> StoreResult<u64> {
        let stale = self
            .read_tx(move |tx| {
                tx.query(SELECT_STALE_RESERVATIONS, params![orphaned_before, limit])?
                    .iter()
                    .map(|r| Ok((r.i64(0)?, r.i64(1)?)))
                    .collect::<StoreResult<Vec<_>>>()
            })
            .await?;
        // One transaction per hold: holding several reservation rows at once could deadlock with a posting
        // that holds one of them and waits for the same project row.
        let mut n = 0;
        for (id, org) in stale {
            if self
                .write_tx(move |tx| close_reservation(tx, org, id, "released", now))
                .await?
            {
                n += 1;
            }
        }
        Ok(n)
    }

    /// Every account of the organization.
    pub async fn ledger_org_accounts(&self, org: OrgId) -> StoreResult<Vec<AccountView>> {
        self.read_tx(move |tx| account_rows(tx.query(SELECT_ORG_ACCOUNTS, params![org])?))
            .await
    }

    /// The accounts of one worker in the organization.
    pub async fn ledger_worker_accounts(
        &self,
        org: OrgId,
        worker: UserId,
    ) -> StoreResult<Vec<AccountView>> {
        self.read_tx(move |tx| account_rows(tx.query(SELECT_OWNER_ACCOUNTS, params![org, worker])?))
            .await
    }

    /// The latest `limit` transactions touching one account (kind and owner) of the organization.
    pub async fn ledger_history(
        &self,
        org: OrgId,
        account: AccountRef,
        limit: i64,
    ) -> StoreResult<Vec<TransactionView>> {
        self.read_tx(move |tx| {
            tx.query(
                ACCOUNT_HISTORY,
                params![org, account.kind.as_str(), account.owner, limit],
            )?
            .into_iter()
            .map(|r| {
                Ok(TransactionView {
                    id: r.i64(0)?,
                    source_key: r.string(1)?,
                    kind: r.string(2)?,
                    project_id: r.opt_i64(3)?,
                    worker_id: r.opt_i64(4)?,
                    annotation_id: r.opt_i64(5)?,
                    reverses_id: r.opt_i64(6)?,
                    memo: r.string(7)?,
                    created_at: r.i64(8)?,
                    amount_minor: r.i64(9)?,
                    currency: r.string(10)?,
                })
            })
            .collect()
        })
        .await
    }

    /// The entries of one transaction of the organization (empty for another organization's).
    pub async fn ledger_entries(&self, org: OrgId, id: i64) -> StoreResult<Vec<EntryView>> {
        self.read_tx(move |tx| entries(tx, org, id)).await
    }

    /// A project's budget row, if it has one.
    pub async fn ledger_project_budget(
        &self,
        org: OrgId,
        project: ProjectId,
    ) -> StoreResult<Option<ProjectBudget>> {
        self.read_tx(move |tx| {
            tx.query_opt(SELECT_PROJECT_BUDGET, params![project, org])?
                .as_ref()
                .map(project_budget_row)
                .transpose()
        })
        .await
    }
}
