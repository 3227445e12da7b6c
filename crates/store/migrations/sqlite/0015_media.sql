-- Media: files uploaded to an organization (bytes in the MediaStore, described here), which projects' items
-- refer to them, and the hosts an organization allows media URLs from.
-- A row is 'pending' while its bytes are being written and 'ready' once they are all there; readers see only
-- 'ready' rows, and a job removes pending rows (with whatever bytes they got) that a crash left behind.
CREATE TABLE media (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    -- The name items use (`media:KEY` or KEY); unique in the organization, for good.
    media_key TEXT NOT NULL,
    -- Where the bytes are in the MediaStore: made by the server, never from user input.
    object_key TEXT NOT NULL,
    thumb_key TEXT,
    thumb_content_type TEXT,
    status TEXT NOT NULL CHECK (status IN ('pending', 'ready')),
    kind TEXT NOT NULL CHECK (kind IN ('image', 'video', 'audio')),
    content_type TEXT NOT NULL,
    size_bytes INTEGER NOT NULL,
    sha256 TEXT NOT NULL,
    width INTEGER,
    height INTEGER,
    duration_seconds REAL,
    fps REAL,
    codec TEXT,
    original_name TEXT,
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL
);
CREATE UNIQUE INDEX media_org_key ON media(org_id, media_key);
CREATE INDEX media_org_sha ON media(org_id, sha256);
CREATE INDEX media_pending ON media(created_at) WHERE status = 'pending';

-- Which projects' items refer to which media, written at import: a worker may read a media file when it is
-- referred to by a project they have taken work in.
CREATE TABLE media_refs (
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    project_id INTEGER NOT NULL REFERENCES projects(id),
    media_id INTEGER NOT NULL REFERENCES media(id),
    PRIMARY KEY (media_id, project_id)
);

-- Hosts whose URLs items may use for media (a JSON list of host names, `*.domain` for subdomains).
CREATE TABLE media_settings (
    org_id INTEGER PRIMARY KEY REFERENCES organizations(id),
    allowed_hosts TEXT NOT NULL,
    updated_at INTEGER NOT NULL
);

-- "Has this worker taken work in that project": the media access check, at any number of assignments.
CREATE INDEX assignments_worker_project ON assignments(worker_id, project_id);
