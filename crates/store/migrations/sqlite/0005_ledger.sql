-- The ledger: double-entry, append-only, integer minor units (see docs/ledger.md).
-- Accounts carry their balance as a cache of the sum of their entries, updated in the posting transaction and
-- checked by `fairloop ledger verify`.
CREATE TABLE ledger_accounts (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    -- budget: the organization's funded budget; funding: money paid in (its counterpart, negative);
    -- earnings: a worker's earnings payable; fees: platform fees; payouts: money sent to workers.
    kind TEXT NOT NULL CHECK (kind IN ('budget', 'funding', 'earnings', 'fees', 'payouts')),
    -- The worker for earnings and payouts, 0 for organization-wide accounts.
    owner_id INTEGER NOT NULL DEFAULT 0,
    currency TEXT NOT NULL CHECK (length(currency) = 3),
    balance_minor INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX ledger_accounts_key ON ledger_accounts(org_id, kind, owner_id, currency);

CREATE TABLE ledger_transactions (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    -- What caused it, e.g. `task:<annotation id>`: each payable event is posted at most once.
    source_key TEXT NOT NULL UNIQUE,
    kind TEXT NOT NULL,
    project_id INTEGER,
    worker_id INTEGER,
    annotation_id INTEGER,
    -- The transaction this one reverses (corrections never edit entries).
    reverses_id INTEGER REFERENCES ledger_transactions(id),
    memo TEXT NOT NULL DEFAULT '',
    created_by INTEGER,
    created_at INTEGER NOT NULL
);
CREATE INDEX ledger_transactions_org ON ledger_transactions(org_id, id);
CREATE INDEX ledger_transactions_annotation ON ledger_transactions(annotation_id) WHERE annotation_id IS NOT NULL;
CREATE INDEX ledger_transactions_project ON ledger_transactions(project_id, id) WHERE project_id IS NOT NULL;

CREATE TABLE ledger_entries (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    transaction_id INTEGER NOT NULL REFERENCES ledger_transactions(id),
    account_id INTEGER NOT NULL REFERENCES ledger_accounts(id),
    -- Positive adds to the account's balance, negative takes from it; a transaction's entries sum to zero.
    amount_minor INTEGER NOT NULL,
    currency TEXT NOT NULL
);
CREATE INDEX ledger_entries_transaction ON ledger_entries(transaction_id);
CREATE INDEX ledger_entries_account ON ledger_entries(account_id, id);

-- Append-only: the database itself refuses to change or remove a posted transaction or entry.
CREATE TRIGGER ledger_entries_no_update BEFORE UPDATE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a reversing transaction'); END;
CREATE TRIGGER ledger_entries_no_delete BEFORE DELETE ON ledger_entries
BEGIN SELECT RAISE(ABORT, 'ledger entries are append-only: post a reversing transaction'); END;
CREATE TRIGGER ledger_transactions_no_update BEFORE UPDATE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only: post a reversing transaction'); END;
CREATE TRIGGER ledger_transactions_no_delete BEFORE DELETE ON ledger_transactions
BEGIN SELECT RAISE(ABORT, 'ledger transactions are append-only: post a reversing transaction'); END;

-- A project's budget: its cap, what its posted pay spent and what open claims hold (both caches, verified).
CREATE TABLE project_budgets (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    currency TEXT NOT NULL,
    cap_minor INTEGER NOT NULL,
    spent_minor INTEGER NOT NULL DEFAULT 0,
    reserved_minor INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX project_budgets_org ON project_budgets(org_id, currency);

-- Money held for a claimed task of a budgeted project until it is submitted (used) or given back (released).
CREATE TABLE budget_reservations (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    assignment_id INTEGER REFERENCES assignments(id),
    amount_minor INTEGER NOT NULL CHECK (amount_minor >= 0),
    status TEXT NOT NULL CHECK (status IN ('held', 'used', 'released')),
    created_at INTEGER NOT NULL,
    closed_at INTEGER
);
CREATE UNIQUE INDEX budget_reservations_assignment ON budget_reservations(assignment_id)
    WHERE status = 'held' AND assignment_id IS NOT NULL;
CREATE INDEX budget_reservations_held ON budget_reservations(project_id) WHERE status = 'held';

-- Submissions whose pay could not be posted yet (a late submission after its reservation was released, with
-- the budget used up): retried after the budget is funded, never dropped.
CREATE TABLE ledger_deferred (
    annotation_id INTEGER PRIMARY KEY REFERENCES annotations(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    reason TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- Payouts: one per worker, currency and pay period (weekly by default), moving earnings payable to payouts.
-- pending -> paid, or pending -> failed (the money goes back to earnings payable) -> retried (a new payout).
CREATE TABLE payouts (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    period_start INTEGER NOT NULL,
    period_end INTEGER NOT NULL,
    currency TEXT NOT NULL,
    amount_minor INTEGER NOT NULL CHECK (amount_minor > 0),
    status TEXT NOT NULL CHECK (status IN ('pending', 'paid', 'failed', 'retried')),
    transaction_id INTEGER NOT NULL REFERENCES ledger_transactions(id),
    retry_of INTEGER REFERENCES payouts(id),
    provider_reference TEXT,
    failure_reason TEXT,
    created_at INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX payouts_org ON payouts(org_id, period_start, id);
CREATE INDEX payouts_worker ON payouts(worker_id, id);

-- Time tracking in the open (docs/ledger.md, "The idle rule"): one row per accepted heartbeat, with the active
-- time it credits. Nothing else is recorded: no screenshots, no keystrokes, no mouse positions.
CREATE TABLE heartbeats (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    assignment_id INTEGER NOT NULL REFERENCES assignments(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    at INTEGER NOT NULL,
    focus INTEGER NOT NULL,
    input INTEGER NOT NULL,
    credited_ms INTEGER NOT NULL
);
CREATE INDEX heartbeats_assignment ON heartbeats(assignment_id, at);
CREATE INDEX heartbeats_worker ON heartbeats(org_id, worker_id, at);

-- A worker's dispute of a timesheet entry; a requester or admin resolves it (accepting may add time).
CREATE TABLE time_disputes (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    assignment_id INTEGER NOT NULL REFERENCES assignments(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'accepted', 'rejected')),
    added_ms INTEGER NOT NULL DEFAULT 0,
    resolution TEXT,
    resolved_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE INDEX time_disputes_org ON time_disputes(org_id, status, id);
CREATE UNIQUE INDEX time_disputes_open ON time_disputes(assignment_id) WHERE status = 'open';

-- A worker's dispute of withheld pay; a reviewer or admin upholds it or overturns it (which pays again).
CREATE TABLE pay_disputes (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    annotation_id INTEGER NOT NULL REFERENCES annotations(id),
    reversal_id INTEGER NOT NULL REFERENCES ledger_transactions(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'upheld', 'overturned')),
    resolution TEXT,
    resolved_by INTEGER REFERENCES users(id),
    created_at INTEGER NOT NULL,
    resolved_at INTEGER
);
CREATE UNIQUE INDEX pay_disputes_reversal ON pay_disputes(reversal_id);
CREATE INDEX pay_disputes_org ON pay_disputes(org_id, status, id);
