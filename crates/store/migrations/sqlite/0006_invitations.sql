-- Invitation links: registration is closed, so a requester or admin invites people into their organization.
-- Only the SHA-256 of the link's secret is stored; a link works once, until it expires or is revoked.
CREATE TABLE invitations (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    token_hash TEXT NOT NULL UNIQUE,
    email TEXT,
    role TEXT NOT NULL CHECK (role IN ('admin', 'requester', 'reviewer', 'worker')),
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    accepted_by INTEGER REFERENCES users(id),
    accepted_at INTEGER,
    revoked_at INTEGER
);
CREATE INDEX invitations_org ON invitations(org_id, id);
