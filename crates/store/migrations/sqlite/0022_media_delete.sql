-- Deleted media: the keys of files a requester deleted, with the SHA-256 of what they named. A key names one
-- content for good (browsers keep `/media/{key}` for a year), so a deleted key may be used again only for the
-- same bytes; other content under it is refused like any used key.
CREATE TABLE media_deleted_keys (
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    media_key TEXT NOT NULL,
    sha256 TEXT NOT NULL,
    deleted_by INTEGER NOT NULL REFERENCES users(id),
    deleted_at INTEGER NOT NULL,
    PRIMARY KEY (org_id, media_key)
);
