-- Live quality: per-project settings and the quality job's watermark, per-item aggregates, per-question
-- agreement, per-worker figures and gold scores. Every row carries org_id; the job writes these tables and pages
-- only read them (nothing is computed on view). Reals are DOUBLE PRECISION, NULL where a figure is undefined.

-- One row per project that has quality settings or has been through the quality job.
CREATE TABLE project_quality (
    project_id BIGINT PRIMARY KEY REFERENCES projects(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    -- Share of "next task" calls that first try a gold item (0 = never).
    gold_rate DOUBLE PRECISION NOT NULL DEFAULT 0,
    -- Adaptive overlap: below this item agreement, one more worker is asked, up to max_overlap answers.
    adaptive_threshold DOUBLE PRECISION,
    adaptive_max_overlap BIGINT,
    -- The job has taken every annotation with an id up to this one into account.
    last_annotation_id BIGINT NOT NULL DEFAULT 0,
    computed_at BIGINT
);
CREATE INDEX project_quality_org ON project_quality(org_id);

-- The aggregated answer of each (non-gold) item with annotations; the review queue selects low agreement here.
CREATE TABLE item_quality (
    item_id BIGINT PRIMARY KEY REFERENCES items(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    -- Mean share of agreeing answer pairs over the item's questions; NULL with fewer than two answers.
    agreement DOUBLE PRECISION,
    -- JSON object {question: aggregated answer}.
    answer TEXT,
    -- Mean over questions of the aggregated answer's vote share (majority) or posterior (Dawid-Skene).
    confidence DOUBLE PRECISION,
    annotations BIGINT NOT NULL,
    -- `majority` or `dawid_skene` (the method behind the single-choice answers).
    method TEXT NOT NULL,
    -- Slots adaptive overlap added to this item.
    extra_slots BIGINT NOT NULL DEFAULT 0,
    updated_at BIGINT NOT NULL
);
CREATE INDEX item_quality_agreement ON item_quality(project_id, agreement);

-- Agreement per question of a project (over non-gold items).
CREATE TABLE question_quality (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    question TEXT NOT NULL,
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    metric TEXT NOT NULL,
    alpha DOUBLE PRECISION,
    fleiss_kappa DOUBLE PRECISION,
    percent_agreement DOUBLE PRECISION,
    -- Why a figure is undefined (NULL when all are defined).
    note TEXT,
    items BIGINT NOT NULL,
    annotations BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, question)
);

-- Figures per worker of a project.
CREATE TABLE worker_quality (
    project_id BIGINT NOT NULL REFERENCES projects(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    submissions BIGINT NOT NULL,
    -- Answers compared with an aggregate of at least two answers, and how many matched it.
    compared BIGINT NOT NULL,
    agreed BIGINT NOT NULL,
    gold_answers BIGINT NOT NULL,
    gold_score_sum DOUBLE PRECISION NOT NULL,
    updated_at BIGINT NOT NULL,
    PRIMARY KEY (project_id, worker_id)
);

-- The score of each submission on a gold item (0..1, the mean over its scored questions).
CREATE TABLE gold_scores (
    annotation_id BIGINT PRIMARY KEY REFERENCES annotations(id),
    org_id BIGINT NOT NULL REFERENCES organizations(id),
    project_id BIGINT NOT NULL REFERENCES projects(id),
    item_id BIGINT NOT NULL REFERENCES items(id),
    worker_id BIGINT NOT NULL REFERENCES users(id),
    score DOUBLE PRECISION,
    -- JSON object {question: score}.
    detail TEXT NOT NULL,
    scored_at BIGINT NOT NULL
);
CREATE INDEX gold_scores_worker ON gold_scores(project_id, worker_id);

-- The gold hand-out looks for a project's gold items through this index alone.
CREATE INDEX items_gold ON items(project_id, annotations, id) WHERE gold IS NOT NULL;

-- The quality job finds projects with annotations past its watermark through this index (one entry more per
-- submit; see docs/quality.md).
CREATE INDEX annotations_project_id ON annotations(project_id, id);
