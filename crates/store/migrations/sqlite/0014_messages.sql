-- Messages (issue 6, point 4): per-project announcements, a question-and-answer board on the guidelines, an
-- inbox of notices per user, and outgoing webhooks for organizations with a durable delivery queue.

-- A requester's announcement to the workers of one project (Markdown, rendered sanitised).
CREATE TABLE announcements (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    author_id BIGINT NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    markdown TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE INDEX announcements_project ON announcements(project_id, id);

-- A public question on the guidelines: every worker of the project reads it (under the asker's per-project
-- pseudonym); a person at the requester answers; an answer can be pinned into the project's FAQ.
CREATE TABLE board_questions (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    asker_id BIGINT NOT NULL REFERENCES users(id),
    guideline_version BIGINT,
    question TEXT NOT NULL,
    asked_at BIGINT NOT NULL,
    answer TEXT,
    answered_by BIGINT REFERENCES users(id),
    answered_at BIGINT,
    pinned INTEGER NOT NULL DEFAULT 0,
    pinned_at BIGINT
);
CREATE INDEX board_questions_project ON board_questions(project_id, id);

-- One notice in one user's inbox. source_key names the event, so telling the same user of the same event twice
-- stores it once.
CREATE TABLE notices (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    user_id BIGINT NOT NULL REFERENCES users(id),
    kind TEXT NOT NULL,
    project_id BIGINT REFERENCES projects(id),
    title TEXT NOT NULL,
    body TEXT NOT NULL,
    link TEXT,
    source_key TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    read_at BIGINT
);
CREATE UNIQUE INDEX notices_source ON notices(user_id, source_key);
CREATE INDEX notices_user ON notices(user_id, id);
CREATE INDEX notices_unread ON notices(user_id) WHERE read_at IS NULL;

-- An organization's webhook endpoint. The secret signs every delivery (HMAC-SHA256); it is shown once. The
-- cursor is the last annotation turned into events for this endpoint.
CREATE TABLE webhook_endpoints (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    url TEXT NOT NULL,
    events TEXT NOT NULL,
    secret TEXT NOT NULL,
    description TEXT NOT NULL DEFAULT '',
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL,
    disabled_at BIGINT,
    annotation_cursor BIGINT NOT NULL DEFAULT 0
);
CREATE INDEX webhook_endpoints_org ON webhook_endpoints(org_id, id);

-- One event to send to one endpoint: a row, so a restart loses nothing; retried with backoff until delivered
-- or out of attempts.
CREATE TABLE webhook_deliveries (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    endpoint_id BIGINT NOT NULL REFERENCES webhook_endpoints(id),
    event_id TEXT NOT NULL,
    event_type TEXT NOT NULL,
    payload TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    last_status INTEGER,
    last_error TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    delivered_at BIGINT
);
CREATE UNIQUE INDEX webhook_deliveries_event ON webhook_deliveries(endpoint_id, event_id);
CREATE INDEX webhook_deliveries_endpoint ON webhook_deliveries(endpoint_id, id);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries(next_attempt_at) WHERE status = 'pending';
