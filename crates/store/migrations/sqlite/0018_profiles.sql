-- Worker profiles, project requirements and matching (issue 7, points 1, 2 and 5; see docs/workforce.md).

-- One row per worker with a profile or a quality history. base_points (quality + availability points of the
-- matching score, see domain::workforce) is stored so the matching query adds numbers instead of computing
-- them for 100,000 rows; quality_permille is rolled up from worker_quality by the quality job.
CREATE TABLE worker_profiles (
    user_id INTEGER PRIMARY KEY REFERENCES users(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    time_zone TEXT,
    hours_per_week INTEGER,
    days_mask INTEGER NOT NULL DEFAULT 0,
    min_rate_minor INTEGER,
    min_rate_currency TEXT,
    quality_permille INTEGER,
    base_points INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
);
CREATE INDEX worker_profiles_org ON worker_profiles(org_id, user_id);

-- Expertise: a taxonomy key, its top-level key (so a requirement of "medicine" finds dermatologists through an
-- index) and years of experience.
CREATE TABLE worker_expertise (
    user_id INTEGER NOT NULL REFERENCES users(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    domain TEXT NOT NULL,
    top TEXT NOT NULL,
    years INTEGER NOT NULL,
    PRIMARY KEY (user_id, domain)
);
CREATE INDEX worker_expertise_domain ON worker_expertise(org_id, domain, user_id, years);
CREATE INDEX worker_expertise_top ON worker_expertise(org_id, top, user_id, years);

-- Languages with a level rank (1 = A1 … 6 = C2, 7 = native) so SQL can compare levels.
CREATE TABLE worker_languages (
    user_id INTEGER NOT NULL REFERENCES users(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    language TEXT NOT NULL,
    level_rank INTEGER NOT NULL,
    PRIMARY KEY (user_id, language)
);
CREATE INDEX worker_languages_language ON worker_languages(org_id, language, level_rank, user_id);

-- A credential with its evidence (bytes in the MediaStore under object_key); verified or rejected by an admin.
CREATE TABLE worker_credentials (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    title TEXT NOT NULL,
    issuer TEXT NOT NULL,
    object_key TEXT NOT NULL,
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'verified', 'rejected')),
    decided_by INTEGER REFERENCES users(id),
    decided_at INTEGER,
    note TEXT,
    created_at INTEGER NOT NULL
);
CREATE INDEX worker_credentials_user ON worker_credentials(org_id, user_id, id);

-- What a project asks of its workers (JSON of domain::workforce::Requirements); no row = open to everyone.
CREATE TABLE project_requirements (
    project_id INTEGER PRIMARY KEY REFERENCES projects(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    spec TEXT NOT NULL,
    updated_by INTEGER NOT NULL REFERENCES users(id),
    updated_at INTEGER NOT NULL
);

-- A requester's invitation of one worker to one project.
CREATE TABLE project_invites (
    project_id INTEGER NOT NULL REFERENCES projects(id),
    worker_id INTEGER NOT NULL REFERENCES users(id),
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    invited_by INTEGER NOT NULL REFERENCES users(id),
    invited_at INTEGER NOT NULL,
    PRIMARY KEY (project_id, worker_id)
);
CREATE INDEX project_invites_worker ON project_invites(org_id, worker_id);

-- The matching query's filter and count read the organization's workers (and their country) from this index
-- alone.
CREATE INDEX users_org_role_country ON users(org_id, role, country);
