-- Vendors, account deletion and email normalization (issue 7: point 6, point 1's data rights, duplicate emails).

-- An organization is a lab (it runs projects) or a staffing vendor (it supplies workers to labs that contract it).
ALTER TABLE organizations ADD COLUMN kind TEXT NOT NULL DEFAULT 'lab' CHECK (kind IN ('lab', 'vendor'));

-- A lab's contract with a vendor: while it is not ended, the vendor's managers may invite workers into the lab.
CREATE TABLE vendor_contracts (
    id INTEGER PRIMARY KEY,
    org_id INTEGER NOT NULL REFERENCES organizations(id),
    vendor_id INTEGER NOT NULL REFERENCES organizations(id),
    created_by INTEGER NOT NULL REFERENCES users(id),
    created_at INTEGER NOT NULL,
    ended_at INTEGER
);
CREATE UNIQUE INDEX vendor_contracts_pair ON vendor_contracts(org_id, vendor_id);
CREATE INDEX vendor_contracts_vendor ON vendor_contracts(vendor_id, org_id);

-- The vendor a worker came through (NULL: a direct worker of the lab), and the vendor's own reference for them.
ALTER TABLE users ADD COLUMN vendor_id INTEGER REFERENCES organizations(id);
ALTER TABLE users ADD COLUMN vendor_ref TEXT;
-- A deleted account keeps its row as a tombstone (foreign keys hold) with its identity removed.
ALTER TABLE users ADD COLUMN deleted_at INTEGER;
CREATE INDEX users_vendor ON users(vendor_id, org_id) WHERE vendor_id IS NOT NULL;

-- An invitation a vendor manager made: the new worker joins the lab tagged with the vendor.
ALTER TABLE invitations ADD COLUMN vendor_id INTEGER REFERENCES organizations(id);
CREATE INDEX invitations_vendor ON invitations(vendor_id, id) WHERE vendor_id IS NOT NULL;

-- Emails are compared trimmed and lowercase; new rows are written so. Normalize old rows unless that would
-- collide with another account (an operator resolves such a pair by hand; sign-in already lowercases).
UPDATE users SET email = lower(trim(email))
WHERE email <> lower(trim(email))
  AND NOT EXISTS (SELECT 1 FROM users u2 WHERE u2.email = lower(trim(users.email)) AND u2.id <> users.id);
UPDATE invitations SET email = lower(trim(email)) WHERE email IS NOT NULL AND email <> lower(trim(email));
