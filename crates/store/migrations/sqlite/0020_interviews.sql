-- Screening interviews (docs/assessments.md): a project's questions and rubric, each candidate's interview with its
-- transcript turn by turn, the model's scores and reasons, and a person's decision that replaces them.
CREATE TABLE interview_setups (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    -- Questions and rubric, JSON (fairloop_app::interview::InterviewSetup).
    spec TEXT NOT NULL,
    updated_by BIGINT NOT NULL REFERENCES users(id),
    updated_at BIGINT NOT NULL
);

CREATE TABLE interviews (
    id INTEGER PRIMARY KEY,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    -- active (questions being asked), answered (waiting for the model's scores), scored (the model's scores pass),
    -- needs_review (below the pass mark, or the candidate asked for a person), decided (a person decided).
    status TEXT NOT NULL CHECK (status IN ('active', 'answered', 'scored', 'needs_review', 'decided')),
    question_index BIGINT NOT NULL DEFAULT 0,
    followups BIGINT NOT NULL DEFAULT 0,
    -- The model's scores with reasons, JSON; its total, the most possible, and whether it reached the pass mark.
    scores TEXT,
    model_total BIGINT,
    model_max BIGINT,
    model_passed BIGINT CHECK (model_passed IN (0, 1)),
    review_requested BIGINT NOT NULL DEFAULT 0 CHECK (review_requested IN (0, 1)),
    review_reason TEXT,
    decision TEXT CHECK (decision IN ('pass', 'fail')),
    decision_note TEXT,
    decided_by BIGINT REFERENCES users(id),
    decided_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX interviews_worker ON interviews(org_id, project_id, worker_id);
CREATE UNIQUE INDEX interviews_one_open ON interviews(project_id, worker_id) WHERE status IN ('active', 'answered');
CREATE INDEX interviews_review ON interviews(org_id) WHERE status = 'needs_review';

-- The transcript, one row per turn, numbered from 1 per interview.
CREATE TABLE interview_turns (
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    interview_id BIGINT NOT NULL REFERENCES interviews(id),
    seq BIGINT NOT NULL,
    role TEXT NOT NULL CHECK (role IN ('interviewer', 'candidate')),
    content TEXT NOT NULL,
    question_index BIGINT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (interview_id, seq)
);
