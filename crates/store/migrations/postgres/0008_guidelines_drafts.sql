-- Guidelines, versioned: a new text is a new version, never an edit, so a worker's answers can be read
-- against the guidelines they had on screen.
CREATE TABLE project_guidelines (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    version BIGINT NOT NULL,
    markdown TEXT NOT NULL,
    note TEXT,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, version)
);

-- The workbench's draft of an open assignment, saved as the worker types, so a closed tab, a lost
-- connection or another device loses nothing. Form fields as JSON pairs.
CREATE TABLE drafts (
    assignment_id BIGINT PRIMARY KEY REFERENCES assignments(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    form TEXT NOT NULL,
    updated_at BIGINT NOT NULL
);
