-- A worker's acknowledgement that they read a change to the guidelines (workers who answered under an earlier
-- version acknowledge the new one before their next task).
CREATE TABLE guideline_acks (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    version BIGINT NOT NULL,
    acked_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, worker_id, version)
);
