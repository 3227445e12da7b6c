-- Project terms: versioned documents with structured fields, accepted (or declined) per version by each worker.
CREATE TABLE project_terms (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    version BIGINT NOT NULL,
    -- The structured fields (IP assigned, confidentiality, notice, duration, weekly hours, content warnings), JSON.
    summary TEXT NOT NULL,
    markdown TEXT NOT NULL,
    -- SHA-256 of the summary and text together, so an acceptance names exactly what was accepted.
    text_hash TEXT NOT NULL,
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, version)
);

CREATE TABLE terms_decisions (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    version BIGINT NOT NULL,
    text_hash TEXT NOT NULL,
    decision TEXT NOT NULL CHECK (decision IN ('accepted', 'declined')),
    decided_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, worker_id, version)
);

-- A worker's question about the terms, answered by a person at the requester; kept with the project.
CREATE TABLE terms_questions (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    version BIGINT NOT NULL,
    question TEXT NOT NULL,
    asked_at BIGINT NOT NULL,
    answer TEXT,
    answered_by BIGINT REFERENCES users(id),
    answered_at BIGINT
);
CREATE INDEX terms_questions_project ON terms_questions(project_id, id);
