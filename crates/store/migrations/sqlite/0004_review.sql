-- Review with appeals, integrity signals and human-confirmed pauses (issue 4, points 5 and 6).
-- Every row carries org_id; times are UTC milliseconds.

-- Per-project review settings; a project without a row uses the defaults in crates/app/src/review.rs.
CREATE TABLE review_settings (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    sample_rate REAL NOT NULL,
    min_seconds INTEGER NOT NULL,
    low_agreement REAL NOT NULL,
    updated_at INTEGER NOT NULL
);

-- One row per signal measured on a submission; `flagged` when it crossed its threshold.
CREATE TABLE integrity_signals (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    annotation_id INTEGER NOT NULL REFERENCES annotations(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    value REAL NOT NULL,
    threshold REAL NOT NULL,
    flagged INTEGER NOT NULL,
    detail TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX integrity_signals_annotation ON integrity_signals(annotation_id);

-- MinHash signatures of submitted free text, to find near-duplicates across workers without re-reading text.
CREATE TABLE text_signatures (
    annotation_id INTEGER PRIMARY KEY REFERENCES annotations(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    signature TEXT NOT NULL,
    created_at INTEGER NOT NULL
);
CREATE INDEX text_signatures_project ON text_signatures(project_id, annotation_id);

-- A submission queued for review (once: annotation_id is unique) and its judgement.
CREATE TABLE reviews (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    item_id INTEGER NOT NULL REFERENCES items(id),
    annotation_id INTEGER NOT NULL UNIQUE REFERENCES annotations(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    reasons TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('queued', 'decided')),
    reviewer_id INTEGER REFERENCES users(id),
    decision TEXT CHECK (decision IN ('accepted', 'rejected', 'corrected')),
    corrected_answers TEXT,
    feedback TEXT,
    created_at INTEGER NOT NULL,
    decided_at INTEGER
);
CREATE INDEX reviews_queue ON reviews(project_id, status, id);
CREATE INDEX reviews_worker ON reviews(worker_id, id);

-- At most one appeal per judgement, decided by a second reviewer; the outcome is final.
CREATE TABLE appeals (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    review_id INTEGER NOT NULL UNIQUE REFERENCES reviews(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('open', 'decided')),
    decider_id INTEGER REFERENCES users(id),
    outcome TEXT CHECK (outcome IN ('upheld', 'overturned')),
    note TEXT,
    created_at INTEGER NOT NULL,
    decided_at INTEGER
);
CREATE INDEX appeals_project ON appeals(project_id, status, id);

-- A worker paused from a project by a human, with the reason they see; lifted rows stay as history.
CREATE TABLE worker_pauses (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    reason TEXT NOT NULL,
    paused_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    lifted_by INTEGER REFERENCES users(id),
    lifted_at INTEGER
);
CREATE UNIQUE INDEX worker_pauses_active ON worker_pauses(project_id, worker_id) WHERE lifted_at IS NULL;
CREATE INDEX worker_pauses_worker ON worker_pauses(worker_id, id);
