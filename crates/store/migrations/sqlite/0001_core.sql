-- Core tables: organizations, users, tokens, projects, items, the assignment queue, annotations.
-- Times are UTC milliseconds since the Unix epoch; JSON is stored as text.
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE organizations (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    created_at INTEGER NOT NULL
);

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    email TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('admin', 'requester', 'reviewer', 'worker')),
    password_hash TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX users_org ON users(org_id);

CREATE TABLE api_tokens (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    token_hash TEXT NOT NULL UNIQUE,
    label TEXT NOT NULL,
    created_at INTEGER NOT NULL,
    revoked_at INTEGER
);
CREATE INDEX api_tokens_user ON api_tokens(user_id);

CREATE TABLE projects (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    name TEXT NOT NULL,
    template TEXT NOT NULL,
    overlap INTEGER NOT NULL,
    lease_seconds INTEGER NOT NULL,
    max_open_per_worker INTEGER NOT NULL,
    pay TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE INDEX projects_org ON projects(org_id, id);

-- free_slots = overlap - annotations - open leases: an item is offered while it is above zero.
CREATE TABLE items (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    external_id TEXT,
    data TEXT NOT NULL,
    priority INTEGER NOT NULL DEFAULT 0,
    gold TEXT,
    free_slots INTEGER NOT NULL,
    annotations INTEGER NOT NULL DEFAULT 0,
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX items_external ON items(project_id, external_id);
CREATE INDEX items_project ON items(project_id, id);
-- Progress counts (items, completed) read this index alone.
CREATE INDEX items_progress ON items(project_id, annotations);
-- "Next item" is a walk of this index from its start: only items with room are in it.
CREATE INDEX items_next ON items(project_id, priority DESC, id) WHERE free_slots > 0;

CREATE TABLE assignments (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    item_id INTEGER NOT NULL REFERENCES items(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    status TEXT NOT NULL CHECK (status IN ('open', 'submitted', 'skipped', 'expired')),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    closed_at INTEGER,
    skip_reason TEXT
);
-- Never the same item twice to one worker.
CREATE UNIQUE INDEX assignments_item_worker ON assignments(item_id, worker_id);
CREATE INDEX assignments_open_expiry ON assignments(expires_at) WHERE status = 'open';
CREATE INDEX assignments_worker_open ON assignments(worker_id, project_id) WHERE status = 'open';
CREATE INDEX assignments_project_status ON assignments(project_id, status);

CREATE TABLE annotations (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    item_id INTEGER NOT NULL REFERENCES items(id),
    assignment_id INTEGER NOT NULL UNIQUE REFERENCES assignments(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    answers TEXT NOT NULL,
    submitted_at INTEGER NOT NULL
);
CREATE INDEX annotations_item ON annotations(project_id, item_id);

-- A retried submit with the same key returns the first result.
CREATE TABLE idempotency_keys (
    user_id INTEGER NOT NULL REFERENCES users(id),
    key TEXT NOT NULL,
    assignment_id INTEGER NOT NULL,
    annotation_id INTEGER NOT NULL,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (user_id, key)
);
