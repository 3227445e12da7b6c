-- Wellbeing: sensitivity categories on projects and items, workers' opt-ins, the daily exposure count, skips
-- that never count against a worker. Category sets are bit masks (see fairloop_domain::sensitivity).

-- An item's categories: `sensitivity` is what the queue filters on (the item's own categories and its
-- project's), `own_sensitivity` what the import file said (exported, and kept to recompute the first when the
-- project's categories change). Both 0 for items without sensitive content, which the queue treats as before.
ALTER TABLE items ADD COLUMN sensitivity BIGINT NOT NULL DEFAULT 0;
ALTER TABLE items ADD COLUMN own_sensitivity BIGINT NOT NULL DEFAULT 0;

-- A project's wellbeing settings; no row = no sensitive content and the platform's defaults.
CREATE TABLE project_wellbeing (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    -- Categories of the whole project: every item is in them, and a worker must opt into all of them to work.
    sensitivity BIGINT NOT NULL DEFAULT 0,
    -- Union of the categories items were imported with (only ever grows): whether the claim takes the
    -- sensitive path.
    item_sensitivity BIGINT NOT NULL DEFAULT 0,
    -- Sensitive items of one category a worker may be handed per UTC day; NULL = the platform default.
    daily_limit BIGINT,
    -- Minutes of active time before a break reminder; NULL = the platform default, 0 = no reminders.
    break_minutes BIGINT,
    -- Support resources (Markdown) shown to workers; NULL = the platform default.
    support_markdown TEXT,
    updated_at BIGINT NOT NULL
);

-- The categories a worker opted into (default: none), and when they last took a break the workbench
-- suggested (break reminders count active time from then).
CREATE TABLE worker_wellbeing (
    worker_id BIGINT PRIMARY KEY REFERENCES users(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    opted_in BIGINT NOT NULL DEFAULT 0,
    break_at BIGINT,
    updated_at BIGINT NOT NULL
);

-- Sensitive items handed to a worker per UTC day (days since 1970-01-01) and category (its bit).
CREATE TABLE exposure_counts (
    worker_id BIGINT NOT NULL REFERENCES users(id),
    day BIGINT NOT NULL,
    category BIGINT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    items BIGINT NOT NULL,
    PRIMARY KEY (worker_id, day, category)
);

-- Skips that never count against the worker: "too distressing", or any skip of a sensitive item.
CREATE TABLE protected_skips (
    assignment_id BIGINT PRIMARY KEY REFERENCES assignments(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    distressing BIGINT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX protected_skips_project ON protected_skips(project_id);
