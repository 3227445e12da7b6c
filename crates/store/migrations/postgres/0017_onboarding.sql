-- Paid onboarding time (reading guidelines, qualification): active time per project, worker and UTC day, credited
-- by the same idle rule as task time, and the ledger transaction that paid the day once it is over.
CREATE TABLE onboarding_time (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    day BIGINT NOT NULL,
    activity TEXT NOT NULL,
    active_ms BIGINT NOT NULL,
    beats BIGINT NOT NULL,
    last_at BIGINT NOT NULL,
    last_input BIGINT NOT NULL,
    transaction_id BIGINT REFERENCES ledger_transactions(id),
    PRIMARY KEY (project_id, worker_id, day)
);
CREATE INDEX onboarding_time_unpaid ON onboarding_time(day) WHERE transaction_id IS NULL;
CREATE INDEX onboarding_time_worker ON onboarding_time(org_id, worker_id, day);
