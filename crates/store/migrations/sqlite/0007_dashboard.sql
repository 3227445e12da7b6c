-- Hourly activity per project for the console's charts, kept up to date by a background roll-up so that a
-- dashboard at a million items reads a few dozen rows instead of scanning annotations.
CREATE TABLE project_hourly (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    hour BIGINT NOT NULL,
    submissions BIGINT NOT NULL,
    -- Sum over the hour's submissions of (submitted_at - the assignment's hand-out time), in milliseconds.
    work_ms BIGINT NOT NULL,
    PRIMARY KEY (project_id, hour)
);
-- The roll-up reads recent annotations by time.
CREATE INDEX annotations_submitted ON annotations(submitted_at);
-- A worker's own progress per project (home page, earnings).
CREATE INDEX annotations_worker ON annotations(worker_id, project_id);
