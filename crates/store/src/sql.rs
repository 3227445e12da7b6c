//! SQL text shared by the two SQLite drivers and PostgreSQL.
//!
//! The shared operations (`ops.rs`, sqlx: PostgreSQL, and SQLite reads) and the SQLite writer (`sqlite/writes.rs`,
//! rusqlite) run the same statements; each is written here once so that the backends cannot drift apart.
//! Placeholders are `$N`, first used in ascending order, which both drivers bind by position.

/// Stores a setting unless it is already set.
pub(crate) const INIT_SETTING: &str =
    "INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING";
/// Reads a setting.
pub(crate) const SETTING: &str = "SELECT value FROM settings WHERE key = $1";
/// A user by sign-in email.
pub(crate) const USER_BY_EMAIL: &str =
    "SELECT id, org_id, email, name, role FROM users WHERE email = $1";
/// Creates an organization unless one has that name.
pub(crate) const INSERT_ORG: &str =
    "INSERT INTO organizations (name, created_at) VALUES ($1, $2) ON CONFLICT (name) DO NOTHING";
/// An organization's id by name.
pub(crate) const ORG_BY_NAME: &str = "SELECT id FROM organizations WHERE name = $1";
/// Creates a user.
/// A new worker's match row (see `profiles::refresh_match_row`): nothing stated yet, so no languages, no
/// expertise and the base points of an empty profile (`workforce::base_points(None, None)`, 20, checked by a
/// test). A user of another role gets none.
pub(crate) const INSERT_MATCH_ROW: &str = "INSERT INTO worker_match (org_id, user_id, country, langs, fit, base_points) \
     SELECT org_id, id, country, ',', ',', 20 FROM users WHERE id = $1 AND role = 'worker' AND deleted_at IS NULL \
     ON CONFLICT (org_id, user_id) DO NOTHING";

pub(crate) const INSERT_USER: &str = "INSERT INTO users (org_id, email, name, role, password_hash, created_at) VALUES ($1, $2, $3, \
     $4, $5, $6) RETURNING id";
/// Saves a token hash for a user, in the user's organization.
pub(crate) const INSERT_TOKEN: &str = "INSERT INTO api_tokens (org_id, user_id, token_hash, label, created_at) SELECT org_id, id, $1, \
     $2, $3 FROM users WHERE id = $4 RETURNING id";
/// Revokes one of a user's live tokens.
pub(crate) const REVOKE_TOKEN: &str =
    "UPDATE api_tokens SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL";
/// Creates a project.
pub(crate) const INSERT_PROJECT: &str = "INSERT INTO projects (org_id, name, template, overlap, lease_seconds, max_open_per_worker, pay, \
     created_by, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id";
/// A project's overlap, scoped by organization.
pub(crate) const PROJECT_OVERLAP: &str =
    "SELECT overlap FROM projects WHERE id = $1 AND org_id = $2";
/// A worker's open leases in a project, oldest first, with their items.
pub(crate) const HELD_LEASES: &str = "SELECT a.id, a.item_id, a.expires_at, i.external_id, i.data, i.sensitivity FROM assignments a JOIN items i ON \
     i.id = a.item_id WHERE a.worker_id = $1 AND a.project_id = $2 AND a.status = 'open' ORDER BY \
     a.id";
/// Ends a worker's own leases that ran out; returns their items.
pub(crate) const EXPIRE_OWN_LEASES: &str = "UPDATE assignments SET status = 'expired', closed_at = $1 WHERE worker_id = $2 AND project_id = \
     $3 AND status = 'open' AND expires_at <= $1 RETURNING item_id";
/// Creates a lease.
pub(crate) const INSERT_LEASE: &str = "INSERT INTO assignments (org_id, project_id, item_id, worker_id, status, created_at, \
     expires_at) VALUES ($1, $2, $3, $4, 'open', $5, $6) RETURNING id";
/// Gives one slot of an item back to the pool.
pub(crate) const RELEASE_SLOT: &str = "UPDATE items SET free_slots = free_slots + 1 WHERE id = $1";
/// The submit fast path: closes an open lease of this worker; returns item and project.
pub(crate) const CLOSE_OPEN_LEASE: &str = "UPDATE assignments SET status = 'submitted', closed_at = $1 WHERE id = $2 AND worker_id = $3 \
     AND org_id = $4 AND status = 'open' RETURNING item_id, project_id";
/// Counts one more annotation on an item.
pub(crate) const COUNT_ANNOTATION: &str =
    "UPDATE items SET annotations = annotations + 1 WHERE id = $1";
/// Saves an annotation.
pub(crate) const INSERT_ANNOTATION: &str = "INSERT INTO annotations (org_id, project_id, item_id, assignment_id, worker_id, answers, \
     submitted_at) VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id";
/// Records a submission's key; no row when the key was used before.
pub(crate) const RECORD_IDEMPOTENCY_KEY: &str = "INSERT INTO idempotency_keys (user_id, key, assignment_id, annotation_id, created_at) VALUES \
     ($1, $2, $3, $4, $5) ON CONFLICT (user_id, key) DO NOTHING";
/// What an idempotency key was first used for.
pub(crate) const IDEMPOTENCY_KEY: &str =
    "SELECT assignment_id, annotation_id FROM idempotency_keys WHERE user_id = $1 AND key = $2";
/// A late submit takes a free slot again (no row when none is free).
pub(crate) const RETAKE_SLOT: &str = "UPDATE items SET free_slots = free_slots - 1, annotations = annotations + 1 WHERE id = $1 AND \
     free_slots > 0";
/// Marks a lease submitted.
pub(crate) const MARK_SUBMITTED: &str =
    "UPDATE assignments SET status = 'submitted', closed_at = $1 WHERE id = $2";
/// Marks a lease skipped with its reason.
pub(crate) const MARK_SKIPPED: &str = "UPDATE assignments SET status = 'skipped', skip_reason = $1, closed_at = COALESCE(closed_at, \
     $2) WHERE id = $3";
/// Drops a user's expired sessions.
pub(crate) const DELETE_EXPIRED_SESSIONS: &str =
    "DELETE FROM sessions WHERE user_id = $1 AND expires_at <= $2";
/// Saves a session.
pub(crate) const INSERT_SESSION: &str = "INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, expires_at) VALUES ($1, $2, \
     $3, $4, $5)";
/// Ends a session.
pub(crate) const DELETE_SESSION: &str = "DELETE FROM sessions WHERE token_hash = $1";
/// Sets a user's password hash.
pub(crate) const SET_PASSWORD_HASH: &str = "UPDATE users SET password_hash = $1 WHERE id = $2";
/// Ends every session of a user but one.
pub(crate) const DELETE_OTHER_SESSIONS: &str =
    "DELETE FROM sessions WHERE user_id = $1 AND token_hash <> $2";
/// A page of a project's items after an id.
pub(crate) const EXPORT_ITEMS: &str = "SELECT id, external_id, data, own_sensitivity FROM items WHERE project_id = $1 AND org_id = $2 AND id > $3 ORDER \
     BY id LIMIT $4";
/// The annotations of a page of items, in item then submission order.
pub(crate) const EXPORT_ANNOTATIONS: &str = "SELECT id, item_id, worker_id, answers, submitted_at FROM annotations WHERE project_id = $1 AND \
     org_id = $2 AND item_id > $3 AND item_id <= $4 ORDER BY item_id, id";
