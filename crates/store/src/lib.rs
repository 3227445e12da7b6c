//! The only crate that speaks SQL.
//!
//! [`Store`] is the storage contract of the platform, with methods sized to a use case so that every
//! transaction stays in here. Two implementations keep the same behaviour, proven by one conformance suite:
//! [`sqlite::SqliteStore`] (the embedded default: one writer that commits submissions in groups, many readers)
//! and [`postgres::PgStore`] (the scale-out store: several `serve` processes on one database). The URL scheme
//! picks the backend; an unknown scheme is an error, never a silent fallback.
//!
//! Every method that touches a tenant's rows takes the organization id and puts it in the `WHERE` clause, so a
//! guessed id of another organization's row is simply not found.

use std::path::Path;
use std::sync::Arc;

use async_trait::async_trait;
use fairloop_domain::queue::QueuePolicy;
use fairloop_domain::time::Millis;
use fairloop_domain::{AnnotationId, AssignmentId, ItemId, OrgId, ProjectId, Role, UserId};
use tokio::sync::mpsc;

pub mod assessments;
pub mod dashboard;
pub mod floor;
pub mod home;
pub mod interviews;
pub mod invitations;
pub mod ledger;
pub mod lifecycle;
pub mod media;
pub mod messages;
mod migrate;
pub mod onboarding;
mod ops;
pub mod pay_disputes;
pub mod payouts;
pub mod portable;
pub mod postgres;
pub mod privacy;
pub mod profiles;
pub mod quality;
pub mod quiz;
pub mod review;
mod sql;
pub mod sqlite;
pub mod terms;
pub mod time;
pub mod transparency;
pub mod vendors;
pub mod webhooks;
pub mod wellbeing;
pub mod worktools;

/// What can go wrong in the store, split by what the caller should do about it.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The row does not exist, or belongs to another organization or user (callers answer 404).
    #[error("not found")]
    NotFound,
    /// The request contradicts the current state (callers answer 409 with `code`).
    #[error("{message}")]
    Conflict {
        /// Stable snake_case code for the API.
        code: &'static str,
        /// A sentence for the user.
        message: String,
    },
    /// The database URL is not one we understand.
    #[error("unsupported database URL {0:?}: use sqlite://PATH or postgres://…")]
    UnsupportedUrl(String),
    /// The writer task is gone (the process is shutting down).
    #[error("the store is shutting down")]
    Closed,
    /// A database error, with its cause.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("migration {name} failed: {source}")]
    Migration {
        /// Which migration file.
        name: String,
        /// Why.
        source: sqlx::Error,
    },
    /// An error from the SQLite writer's connection.
    #[error("database error: {0}")]
    Sqlite(String),
    /// A group commit failed after this operation ran; nothing of it was saved.
    #[error("commit failed: {0}")]
    CommitFailed(String),
}

/// Result alias for the store.
pub type StoreResult<T> = Result<T, StoreError>;

/// The authenticated caller, as a token or session resolves to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Principal {
    /// The user.
    pub user_id: UserId,
    /// Their organization: every query they cause is scoped by it.
    pub org_id: OrgId,
    /// What they may do.
    pub role: Role,
    /// Their email (shown to themselves only).
    pub email: String,
}

/// A user row.
#[derive(Debug, Clone)]
pub struct User {
    /// Id.
    pub id: UserId,
    /// Organization.
    pub org_id: OrgId,
    /// Sign-in email, unique across the installation.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
}

/// A new user to create (or find, by email).
#[derive(Debug, Clone)]
pub struct NewUser {
    /// Organization name; created when missing.
    pub org_name: String,
    /// Sign-in email.
    pub email: String,
    /// Display name.
    pub name: String,
    /// Role.
    pub role: Role,
    /// argon2 hash of a password, if one was set.
    pub password_hash: Option<String>,
}

/// A project as stored.
#[derive(Debug, Clone)]
pub struct Project {
    /// Id.
    pub id: ProjectId,
    /// Owning organization.
    pub org_id: OrgId,
    /// Display name.
    pub name: String,
    /// The task template, as JSON text.
    pub template: String,
    /// Queue settings.
    pub policy: QueuePolicy,
    /// Pay settings as JSON text, when set.
    pub pay: Option<String>,
    /// Creation time.
    pub created_at: Millis,
}

/// A project to create.
#[derive(Debug, Clone)]
pub struct NewProject {
    /// Owning organization.
    pub org_id: OrgId,
    /// Display name.
    pub name: String,
    /// The validated template, as JSON text.
    pub template: String,
    /// Queue settings.
    pub policy: QueuePolicy,
    /// Pay settings as JSON text.
    pub pay: Option<String>,
    /// Who created it.
    pub created_by: UserId,
}

/// One item to insert.
#[derive(Debug, Clone)]
pub struct NewItem {
    /// The requester's id for it; re-importing a known one is a no-op.
    pub external_id: Option<String>,
    /// The item data, as JSON text.
    pub data: String,
    /// Higher is handed out first.
    pub priority: i64,
    /// The known answer of a gold item, as JSON text.
    pub gold: Option<String>,
    /// Sensitivity categories the queue filters on (a mask, see `fairloop_domain::sensitivity`): the item's own
    /// and its project's. 0 for an item without sensitive content.
    pub sensitivity: i64,
    /// The item's own categories, as the import file gave them (exported).
    pub own_sensitivity: i64,
}

/// How an import went.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ImportOutcome {
    /// New items saved.
    pub imported: u64,
    /// Items skipped because their external id was already known.
    pub duplicates: u64,
}

/// A claimed (or still held) assignment with what the worker needs to do it.
#[derive(Debug, Clone)]
pub struct Claim {
    /// The assignment (lease) id.
    pub assignment_id: AssignmentId,
    /// The item's internal id.
    pub item_id: ItemId,
    /// The item's external id, if it has one.
    pub external_id: Option<String>,
    /// The item data, as JSON text.
    pub data: String,
    /// When the lease ends.
    pub expires_at: Millis,
    /// True when this is an assignment the worker already held (they were at their cap).
    pub reused: bool,
    /// The item's sensitivity categories (a mask, see `fairloop_domain::sensitivity`); 0 for most items.
    pub sensitivity: i64,
}

/// An open assignment with the item and project it belongs to, for validating a submission.
#[derive(Debug, Clone)]
pub struct AssignmentContext {
    /// The assignment.
    pub assignment_id: AssignmentId,
    /// Its project.
    pub project_id: ProjectId,
    /// Its item.
    pub item_id: ItemId,
    /// The item data, as JSON text.
    pub item_data: String,
    /// The project's template, as JSON text.
    pub template: String,
    /// `open`, `submitted`, `skipped` or `expired`.
    pub status: String,
    /// The item's sensitivity categories (a mask): the workbench blurs sensitive items until revealed.
    pub sensitivity: i64,
}

/// A submission to record.
#[derive(Debug, Clone)]
pub struct Submission {
    /// Caller's organization.
    pub org_id: OrgId,
    /// The worker submitting.
    pub worker_id: UserId,
    /// The lease it is fenced by.
    pub assignment_id: AssignmentId,
    /// Validated answers, as JSON text.
    pub answers: String,
    /// A client key that makes retries safe.
    pub idempotency_key: Option<String>,
}

/// The result of a submission.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Submitted {
    /// The annotation saved.
    pub annotation_id: AnnotationId,
    /// True when this answers a retry: the annotation was saved by an earlier call with the same key.
    pub replayed: bool,
}

/// Live counts for a project.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, serde::Serialize)]
pub struct ProjectStats {
    /// Items imported.
    pub items: i64,
    /// Annotations submitted.
    pub annotations: i64,
    /// Items with as many annotations as the overlap asks.
    pub completed_items: i64,
    /// Leases currently held.
    pub open_assignments: i64,
    /// Assignments skipped by workers, except skips that never count against them ("too distressing", or of
    /// a sensitive item: see `wellbeing`).
    pub skipped_assignments: i64,
}

/// An item with its annotations, for exports.
#[derive(Debug, Clone)]
pub struct ExportRow {
    /// Internal id (the paging key).
    pub item_id: ItemId,
    /// External id, if any.
    pub external_id: Option<String>,
    /// Item data, JSON text.
    pub data: String,
    /// The item's own sensitivity categories (a mask), as imported.
    pub sensitivity: i64,
    /// Its annotations in submission order.
    pub annotations: Vec<ExportAnnotationRow>,
}

/// One annotation for an export.
#[derive(Debug, Clone)]
pub struct ExportAnnotationRow {
    /// Id.
    pub annotation_id: AnnotationId,
    /// Who (internal; exports turn it into a pseudonym).
    pub worker_id: UserId,
    /// Answers, JSON text.
    pub answers: String,
    /// When.
    pub submitted_at: Millis,
}

/// A web sign-in session to save: only the hash of its cookie value is kept.
#[derive(Debug, Clone)]
pub struct NewSession {
    /// SHA-256 (hex) of the random cookie value.
    pub token_hash: String,
    /// Who signed in.
    pub user_id: UserId,
    /// The token every form of this session carries, so another site cannot post on the user's behalf.
    pub csrf_token: String,
    /// When the session stops working.
    pub expires_at: Millis,
}

/// A live session with its user, as a request's cookie resolves to.
#[derive(Debug, Clone)]
pub struct SessionInfo {
    /// The signed-in user.
    pub principal: Principal,
    /// Their display name (for the page header).
    pub name: String,
    /// The session's CSRF token.
    pub csrf_token: String,
    /// When the session stops working.
    pub expires_at: Millis,
    /// How many notices in the user's inbox are unread (the count in the nav bar), read with the session.
    pub unread_notices: i64,
    /// The user's organization is a staffing vendor: its people manage workers, not projects (docs/vendors.md).
    pub in_vendor: bool,
}

/// A user with their stored password hash, for checking a sign-in.
#[derive(Debug, Clone)]
pub struct UserCredentials {
    /// The user.
    pub user: User,
    /// The argon2id PHC string, when the user has a password.
    pub password_hash: Option<String>,
}

/// One of a user's API tokens as the settings page lists it: never the token or its hash, which cannot be shown
/// again and must not leave the store.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenInfo {
    /// Id, for revoking.
    pub id: i64,
    /// The label the user gave it, so they can tell their tokens apart.
    pub label: String,
    /// When it was issued.
    pub created_at: Millis,
    /// When it was revoked; `None` while it still works.
    pub revoked_at: Option<Millis>,
}

/// A batch stream for a streaming import: the importer sends batches, the store writes them.
pub type ItemBatches = mpsc::Receiver<Vec<NewItem>>;

/// The storage contract. Implementations must behave identically; `tests/conformance.rs` proves it.
#[async_trait]
pub trait Store: Send + Sync + std::fmt::Debug {
    /// `sqlite` or `postgres`.
    fn backend(&self) -> &'static str;

    /// Answers when the database does (health check).
    async fn ping(&self) -> StoreResult<()>;

    /// The installation's secret for keyed hashes (pseudonyms), created on first use.
    async fn installation_secret(&self) -> StoreResult<Vec<u8>>;

    /// Creates the user (and the organization if missing), or returns the existing one with that email.
    async fn upsert_user(&self, user: NewUser) -> StoreResult<User>;

    /// The name of an organization.
    async fn org_name(&self, org: OrgId) -> StoreResult<String>;

    /// Finds a user by email.
    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>>;

    /// Saves a token hash for a user; the token itself is never stored.
    async fn create_token(
        &self,
        user_id: UserId,
        token_hash: &str,
        label: &str,
    ) -> StoreResult<i64>;

    /// Revokes one of the user's own tokens.
    async fn revoke_token(&self, user_id: UserId, token_id: i64) -> StoreResult<()>;

    /// Resolves a token hash to its user, unless revoked.
    async fn principal_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Principal>>;

    /// The user who created a project, whatever its organization. Only for operator tools (the CLI), which act
    /// for that user; request handlers never call it.
    async fn project_creator(&self, project: ProjectId) -> StoreResult<Option<User>>;

    /// Creates a project.
    async fn create_project(&self, project: NewProject) -> StoreResult<Project>;

    /// One project of the organization.
    async fn project(&self, org: OrgId, id: ProjectId) -> StoreResult<Project>;

    /// The organization's projects, newest first.
    async fn projects(&self, org: OrgId) -> StoreResult<Vec<Project>>;

    /// Finds a project of the organization by name (the demo reuses its projects).
    async fn project_by_name(&self, org: OrgId, name: &str) -> StoreResult<Option<Project>>;

    /// Writes items from a stream of batches. With `atomic`, all batches commit together or not at all; without,
    /// each batch commits on its own so that a long import does not hold up other writers.
    async fn import_items(
        &self,
        org: OrgId,
        project: ProjectId,
        batches: ItemBatches,
        atomic: bool,
    ) -> StoreResult<ImportOutcome>;

    /// Leases the next item of the project to the worker. When they are at their cap of open assignments, or
    /// nothing new is left for them, the oldest lease they still hold comes back instead (`reused`). `None` when
    /// they hold nothing and nothing is left.
    async fn claim_next(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
        now: Millis,
    ) -> StoreResult<Option<Claim>>;

    /// The assignment of this worker with its item and template, for validating a submission.
    async fn assignment_context(
        &self,
        org: OrgId,
        worker: UserId,
        id: AssignmentId,
    ) -> StoreResult<AssignmentContext>;

    /// Records a submission, fenced by its lease and idempotent by key. Durable when it returns.
    async fn submit(&self, submission: Submission, now: Millis) -> StoreResult<Submitted>;

    /// Gives an open assignment back with a reason.
    async fn skip(
        &self,
        org: OrgId,
        worker: UserId,
        id: AssignmentId,
        reason: &str,
        now: Millis,
    ) -> StoreResult<()>;

    /// Returns up to `limit` expired leases to the pool; answers how many.
    async fn expire_leases(&self, now: Millis, limit: i64) -> StoreResult<u64>;

    /// Live counts for a project.
    async fn project_stats(&self, org: OrgId, project: ProjectId) -> StoreResult<ProjectStats>;

    /// Up to `limit` items after `after` (by internal id), each with its annotations.
    async fn export_page(
        &self,
        org: OrgId,
        project: ProjectId,
        after: ItemId,
        limit: i64,
    ) -> StoreResult<Vec<ExportRow>>;

    /// Writes a consistent copy of the database to `dest` while it stays online (SQLite only).
    async fn backup(&self, dest: &Path) -> StoreResult<()>;

    /// Saves a web session (and drops the user's expired ones, so the table does not grow without end).
    async fn create_session(&self, session: NewSession) -> StoreResult<()>;

    /// The live session with this cookie hash and its user; `None` when unknown or expired at `now`.
    async fn session_by_hash(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<SessionInfo>>;

    /// Ends a session (sign-out, or rotation at sign-in); unknown hashes are not an error.
    async fn delete_session(&self, token_hash: &str) -> StoreResult<()>;

    /// A user by email with their password hash, for checking a sign-in.
    async fn user_credentials_by_email(&self, email: &str) -> StoreResult<Option<UserCredentials>>;

    /// The user's API tokens, newest first, revoked ones included (so the settings page can say so).
    async fn user_tokens(&self, user_id: UserId) -> StoreResult<Vec<TokenInfo>>;

    /// Replaces the user's password hash (a password change); `NotFound` for an unknown user.
    async fn set_password_hash(&self, user_id: UserId, password_hash: &str) -> StoreResult<()>;

    /// Ends every session of the user except the one with `keep_hash` (after a password change, so a stolen
    /// cookie stops working); answers how many were ended.
    async fn delete_other_sessions(&self, user_id: UserId, keep_hash: &str) -> StoreResult<u64>;

    /// Runs a portable operation in a write transaction (use the typed [`Store::write_tx`] on `dyn Store`).
    async fn portable_write(
        &self,
        op: portable::PortableOp,
    ) -> StoreResult<Box<dyn std::any::Any + Send>>;

    /// Runs a portable operation on a read connection (use the typed [`Store::read_tx`] on `dyn Store`).
    async fn portable_read(
        &self,
        op: portable::PortableOp,
    ) -> StoreResult<Box<dyn std::any::Any + Send>>;
}

/// Connects to the store a URL names and brings its schema up to date.
///
/// `sqlite://PATH` (or a plain path ending in `.db`) and `postgres://…`/`postgresql://…` are understood.
pub async fn connect(url: &str) -> StoreResult<Arc<dyn Store>> {
    if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        Ok(Arc::new(postgres::PgStore::connect(url).await?))
    } else if let Some(path) = url.strip_prefix("sqlite://") {
        Ok(Arc::new(sqlite::SqliteStore::open(Path::new(path)).await?))
    } else {
        Err(StoreError::UnsupportedUrl(url.to_string()))
    }
}

/// The SQLite URL of the database inside a data directory.
pub fn sqlite_url_in(data_dir: &Path) -> String {
    format!("sqlite://{}", data_dir.join("fairloop.db").display())
}

pub(crate) fn parse_role(s: &str) -> StoreResult<Role> {
    s.parse().map_err(|e: fairloop_domain::role::UnknownRole| {
        StoreError::Database(sqlx::Error::Decode(e.into()))
    })
}

pub(crate) fn random_secret_hex() -> String {
    let bytes: [u8; 32] = rand::random();
    hex::encode(bytes)
}

pub(crate) fn conflict(code: &'static str, message: impl Into<String>) -> StoreError {
    StoreError::Conflict {
        code,
        message: message.into(),
    }
}

pub(crate) fn replay(
    key_assignment: i64,
    annotation_id: i64,
    asked: i64,
) -> StoreResult<Submitted> {
    if key_assignment == asked {
        Ok(Submitted {
            annotation_id,
            replayed: true,
        })
    } else {
        Err(conflict(
            "idempotency_key_reused",
            "this Idempotency-Key was already used for another assignment; use a new key per submission",
        ))
    }
}

pub(crate) fn lease_expired() -> StoreError {
    conflict(
        "lease_expired",
        "the lease on this assignment expired and the item went to another worker; ask for the next item",
    )
}

pub(crate) fn closed(status: &str) -> StoreError {
    match status {
        "submitted" => conflict("already_submitted", "this assignment was already submitted"),
        _ => conflict(
            "assignment_closed",
            format!("this assignment is {status} and takes no submission"),
        ),
    }
}

/// The settings key of the installation secret.
pub(crate) const SECRET_KEY: &str = "installation_secret";
