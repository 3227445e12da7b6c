-- The lifecycle of a project (docs/lifecycle.md): draft, recruiting, active, paused, winding_down, closed.
-- A project without a row here is active, so projects made before this migration (and through the API without
-- a state) keep working as they did.
CREATE TABLE project_lifecycle (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    state TEXT NOT NULL CHECK (state IN ('draft', 'recruiting', 'active', 'paused', 'winding_down', 'closed')),
    -- Why, in words the workers read (a pause, a closure).
    reason TEXT NOT NULL DEFAULT '',
    changed_at BIGINT NOT NULL,
    changed_by BIGINT REFERENCES users(id),
    -- Notice of the end: when it was given, the days the terms promised then, and the end date it set.
    notice_given_at BIGINT,
    notice_days BIGINT,
    ends_at BIGINT,
    -- Once closed: when, how many days of notice the workers actually had, who was compensated for the rest.
    closed_at BIGINT,
    notice_given_ms BIGINT,
    compensated_workers BIGINT NOT NULL DEFAULT 0,
    compensation_minor BIGINT NOT NULL DEFAULT 0,
    currency TEXT
);
CREATE INDEX project_lifecycle_ending ON project_lifecycle(ends_at) WHERE state = 'winding_down';

-- Every change of state, for the project page's history.
CREATE TABLE project_lifecycle_events (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    from_state TEXT NOT NULL,
    to_state TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    created_by BIGINT REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX project_lifecycle_events_project ON project_lifecycle_events(project_id, id);

-- A short quiz attached to a guidelines version: a worker who must acknowledge that version passes it first.
CREATE TABLE guideline_quizzes (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    version BIGINT NOT NULL,
    -- The questions with their right answers and explanations, JSON.
    quiz TEXT NOT NULL,
    -- Right answers needed to pass.
    pass_mark BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, version)
);

-- Every attempt at a quiz, right or wrong, so the requester sees how the change was understood.
CREATE TABLE quiz_attempts (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    version BIGINT NOT NULL,
    worker_id BIGINT NOT NULL REFERENCES users(id),
    answers TEXT NOT NULL,
    correct BIGINT NOT NULL,
    total BIGINT NOT NULL,
    passed BIGINT NOT NULL CHECK (passed IN (0, 1)),
    created_at BIGINT NOT NULL
);
CREATE INDEX quiz_attempts_project ON quiz_attempts(project_id, version, worker_id);
