-- Qualification assessments (docs/assessments.md): questions from a task template with answer keys (graded at
-- once) or rubrics (graded by a person), a time limit the server enforces, an attempts limit and a pass mark.
CREATE TABLE assessments (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    title TEXT NOT NULL,
    -- The template, answer keys, explanations and rubrics, JSON (fairloop_app::assessments::AssessmentSpec).
    spec TEXT NOT NULL,
    time_limit_s BIGINT NOT NULL,
    max_attempts BIGINT NOT NULL,
    -- Percent of the points needed to pass.
    pass_mark BIGINT NOT NULL,
    -- Whether time on it is paid as onboarding time (activity `qualification`).
    paid BIGINT NOT NULL CHECK (paid IN (0, 1)),
    created_by BIGINT NOT NULL REFERENCES users(id),
    created_at BIGINT NOT NULL
);
CREATE INDEX assessments_project ON assessments(org_id, project_id);

-- Every attempt: opened with its deadline; answers are taken only until the deadline.
CREATE TABLE assessment_attempts (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    assessment_id BIGINT NOT NULL REFERENCES assessments(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    started_at BIGINT NOT NULL,
    deadline_at BIGINT NOT NULL,
    submitted_at BIGINT,
    -- open, grading (a rubric answer waits for a person), graded, expired (the time ran out unanswered).
    status TEXT NOT NULL CHECK (status IN ('open', 'grading', 'graded', 'expired')),
    answers TEXT,
    -- Per question: {name: {correct: bool|null, note}}, JSON.
    results TEXT,
    score_pct BIGINT,
    passed BIGINT NOT NULL DEFAULT 0 CHECK (passed IN (0, 1)),
    graded_by BIGINT REFERENCES users(id),
    graded_at BIGINT
);
CREATE INDEX assessment_attempts_worker ON assessment_attempts(assessment_id, worker_id);
CREATE UNIQUE INDEX assessment_attempts_one_open ON assessment_attempts(assessment_id, worker_id) WHERE status = 'open';
CREATE INDEX assessment_attempts_grading ON assessment_attempts(org_id) WHERE status = 'grading';

-- A project's qualification requirements: pass this assessment with at least this score to take its tasks.
CREATE TABLE project_qualifications (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    assessment_id BIGINT NOT NULL REFERENCES assessments(id),
    pass_mark BIGINT NOT NULL,
    PRIMARY KEY (project_id, assessment_id)
);
