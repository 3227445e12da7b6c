//! The embedded SQLite store.
//!
//! SQLite allows one writer at a time, and the disk syncs only a few hundred times a second, so every write
//! goes through one writer thread that runs whatever has queued up as one transaction (each operation under its
//! own savepoint, so a failed one does not spoil the others) and acknowledges each operation only after the
//! group's commit is durable. With `synchronous=FULL` an acknowledged submission survives a crash of the
//! process and a power loss; one sync is shared by every submission in the group.
//!
//! The writer owns a `rusqlite` connection and calls SQLite directly ([`writes`]): a statement costs a few
//! microseconds instead of a round trip to another thread (sqlx runs each SQLite connection on a worker thread
//! of its own), and that per-statement cost is what bounds a single writer. Reads use a sqlx pool of
//! connections, which WAL mode lets run beside the writer, with the SQL shared with PostgreSQL.

mod reads;
mod writes;

use std::panic::AssertUnwindSafe;
use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteConnection, SqliteJournalMode, SqlitePool, SqlitePoolOptions,
    SqliteSynchronous,
};
use sqlx::{Connection, Sqlite};
use tokio::sync::{OnceCell, mpsc, oneshot};

use crate::migrate::{CREATE_TABLE, MIGRATIONS};
use fairloop_domain::time::{Millis, now_millis};
use fairloop_domain::{AssignmentId, ItemId, OrgId, ProjectId, UserId};

use crate::{
    AssignmentContext, Claim, ExportRow, ImportOutcome, ItemBatches, NewProject, NewUser,
    Principal, Project, ProjectStats, SECRET_KEY, Store, StoreError, StoreResult, Submission,
    Submitted, User, conflict, random_secret_hex,
};

/// The shared SQL, used here for reads only: the writes are the synchronous versions in [`writes`].
#[allow(dead_code)]
mod ops {
    crate::ops::shared_ops!(
        sqlx::sqlite::SqliteConnection,
        sqlx::Sqlite,
        lock = "",
        skip_locked = ""
    );
}
use ops::*;

/// Called once the group an operation ran in has committed (or failed to).
type Completion = Box<dyn FnOnce(Result<(), String>) + Send>;
/// One write operation: runs on the writer connection inside the group transaction, says whether it succeeded
/// (a failed one is rolled back to its savepoint) and how to tell its caller once the group is durable.
type Job = Box<dyn FnOnce(&rusqlite::Connection) -> (bool, Completion) + Send>;

/// Most operations in one group transaction: bounds how long the first one waits for the last.
const MAX_GROUP: usize = 512;

/// The SQLite implementation of [`Store`].
pub struct SqliteStore {
    path: PathBuf,
    reads: SqlitePool,
    writer: mpsc::Sender<Job>,
    /// Idle `rusqlite` read connections for bulk reads ([`reads`]).
    bulk_readers: std::sync::Arc<std::sync::Mutex<Vec<rusqlite::Connection>>>,
    /// Queue settings by (organization, project): they never change once a project exists, and every claim
    /// needs them.
    policies: std::sync::Mutex<std::collections::HashMap<(OrgId, ProjectId), (i64, i64)>>,
    secret: OnceCell<Vec<u8>>,
}

impl std::fmt::Debug for SqliteStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SqliteStore")
            .field("path", &self.path)
            .finish_non_exhaustive()
    }
}

fn options(path: &Path) -> SqliteConnectOptions {
    SqliteConnectOptions::new()
        .filename(path)
        .create_if_missing(true)
        .journal_mode(SqliteJournalMode::Wal)
        .synchronous(SqliteSynchronous::Full)
        .busy_timeout(Duration::from_secs(10))
        .foreign_keys(true)
        .pragma("temp_store", "memory")
        .pragma("cache_size", "-32768")
}

impl SqliteStore {
    /// Opens (creating if missing) the database file, migrates it and starts the writer.
    pub async fn open(path: &Path) -> StoreResult<SqliteStore> {
        if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
            std::fs::create_dir_all(dir).map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        }
        let mut conn = SqliteConnection::connect_with(&options(path)).await?;
        migrate(&mut conn).await?;
        let reads = SqlitePoolOptions::new()
            .max_connections(8)
            .min_connections(1)
            .connect_with(options(path).read_only(true))
            .await?;
        conn.close().await?;
        let writer = open_writer(path)?;
        let (tx, rx) = mpsc::channel::<Job>(4096);
        std::thread::Builder::new()
            .name("fairloop-sqlite-writer".into())
            .spawn(move || writer_loop(writer, rx))
            .map_err(|e| StoreError::Database(sqlx::Error::Io(e)))?;
        Ok(SqliteStore {
            path: path.to_path_buf(),
            reads,
            writer: tx,
            bulk_readers: Default::default(),
            policies: Default::default(),
            secret: OnceCell::new(),
        })
    }

    /// Runs `op` on the writer connection in the next group; returns its result once the group is durable.
    async fn write<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let (tx, rx) = oneshot::channel::<StoreResult<T>>();
        let job: Job = Box::new(move |conn| {
            let result =
                std::panic::catch_unwind(AssertUnwindSafe(|| op(conn))).unwrap_or_else(|_| {
                    Err(StoreError::CommitFailed(
                        "a write operation panicked".into(),
                    ))
                });
            let ok = result.is_ok();
            let done: Completion = Box::new(move |commit| {
                let _ = tx.send(match commit {
                    Err(e) if ok => Err(StoreError::CommitFailed(e)),
                    _ => result,
                });
            });
            (ok, done)
        });
        self.writer
            .send(job)
            .await
            .map_err(|_| StoreError::Closed)?;
        rx.await.map_err(|_| StoreError::Closed)?
    }

    /// Runs `op` on a `rusqlite` read connection on a blocking thread (bulk reads).
    async fn bulk_read<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send + 'static,
        F: FnOnce(&rusqlite::Connection) -> StoreResult<T> + Send + 'static,
    {
        let (pool, path) = (self.bulk_readers.clone(), self.path.clone());
        tokio::task::spawn_blocking(move || {
            let idle = pool.lock().expect("reader pool lock").pop();
            let conn = match idle {
                Some(c) => c,
                None => open_reader(&path)?,
            };
            let result = op(&conn);
            pool.lock().expect("reader pool lock").push(conn);
            result
        })
        .await
        .map_err(|e| StoreError::Sqlite(format!("bulk read task: {e}")))?
    }

    async fn read(&self) -> StoreResult<sqlx::pool::PoolConnection<Sqlite>> {
        Ok(self.reads.acquire().await?)
    }
}

async fn migrate(conn: &mut SqliteConnection) -> StoreResult<()> {
    sqlx::query(CREATE_TABLE).execute(&mut *conn).await?;
    for m in MIGRATIONS {
        let done: Option<(String,)> =
            sqlx::query_as("SELECT name FROM _fairloop_migrations WHERE name = $1")
                .bind(m.name)
                .fetch_optional(&mut *conn)
                .await?;
        if done.is_some() {
            continue;
        }
        let mut tx = conn.begin().await?;
        sqlx::raw_sql(sqlx::AssertSqlSafe(m.sqlite))
            .execute(&mut *tx)
            .await
            .map_err(|source| StoreError::Migration {
                name: m.name.into(),
                source,
            })?;
        sqlx::query("INSERT INTO _fairloop_migrations (name, applied_at) VALUES ($1, $2)")
            .bind(m.name)
            .bind(now_millis())
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
    }
    Ok(())
}

/// Opens the writer's connection with the same settings as the pool's.
fn open_writer(path: &Path) -> StoreResult<rusqlite::Connection> {
    let conn = rusqlite::Connection::open(path).map_err(|e| StoreError::Sqlite(e.to_string()))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| StoreError::Sqlite(e.to_string()))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL; PRAGMA synchronous = FULL; PRAGMA foreign_keys = ON; \
         PRAGMA temp_store = MEMORY; PRAGMA cache_size = -65536;",
    )
    .map_err(|e| StoreError::Sqlite(e.to_string()))?;
    conn.set_prepared_statement_cache_capacity(128);
    Ok(conn)
}

/// Opens a read-only connection for bulk reads.
fn open_reader(path: &Path) -> StoreResult<rusqlite::Connection> {
    let conn =
        rusqlite::Connection::open_with_flags(path, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)
            .map_err(|e| StoreError::Sqlite(e.to_string()))?;
    conn.busy_timeout(Duration::from_secs(10))
        .map_err(|e| StoreError::Sqlite(e.to_string()))?;
    Ok(conn)
}

/// The group-commit loop: takes every operation that has queued, runs them in one transaction, commits once.
fn writer_loop(conn: rusqlite::Connection, mut rx: mpsc::Receiver<Job>) {
    let mut group: Vec<Job> = Vec::with_capacity(MAX_GROUP);
    let mut completions: Vec<Completion> = Vec::with_capacity(MAX_GROUP);
    let exec = |sql: &str| {
        conn.prepare_cached(sql)
            .and_then(|mut s| s.execute([]))
            .map(|_| ())
    };
    while let Some(first) = rx.blocking_recv() {
        group.push(first);
        while group.len() < MAX_GROUP {
            match rx.try_recv() {
                Ok(job) => group.push(job),
                Err(_) => break,
            }
        }
        let started = std::time::Instant::now();
        if let Err(e) = exec("BEGIN IMMEDIATE") {
            // The operations never ran; dropping them closes their callers' channels, which report an error.
            tracing::error!(error = %e, "could not begin a write transaction");
            group.clear();
            continue;
        }
        for job in group.drain(..) {
            // Savepoints are not released on success: they stack until the COMMIT, which saves a statement
            // per operation, and `ROLLBACK TO op` still undoes exactly the latest one (this operation's).
            let savepoint = exec("SAVEPOINT op");
            let (ok, done) = job(&conn);
            if savepoint.is_ok() && !ok {
                let _ = exec("ROLLBACK TO op");
            }
            completions.push(done);
        }
        let ran = started.elapsed();
        let commit = exec("COMMIT").map_err(|e| e.to_string());
        if let Err(e) = &commit {
            tracing::error!(error = %e, "group commit failed");
            let _ = exec("ROLLBACK");
        }
        tracing::debug!(
            operations = completions.len(),
            run_us = ran.as_micros() as u64,
            commit_us = (started.elapsed() - ran).as_micros() as u64,
            "group committed"
        );
        for done in completions.drain(..) {
            done(commit.clone());
        }
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.reads).await?;
        Ok(())
    }

    async fn installation_secret(&self) -> StoreResult<Vec<u8>> {
        self.secret
            .get_or_try_init(|| async {
                let candidate = random_secret_hex();
                let value = self
                    .write(move |conn| writes::init_setting(conn, SECRET_KEY, &candidate))
                    .await?;
                Ok(hex::decode(value).unwrap_or_default())
            })
            .await
            .cloned()
    }

    async fn upsert_user(&self, user: NewUser) -> StoreResult<User> {
        self.write(move |conn| writes::upsert_user(conn, user))
            .await
    }

    async fn org_name(&self, org: OrgId) -> StoreResult<String> {
        org_name(&mut *self.read().await?, org).await
    }

    async fn user_by_email(&self, email: &str) -> StoreResult<Option<User>> {
        user_by_email(&mut *self.read().await?, email).await
    }

    async fn create_token(
        &self,
        user_id: UserId,
        token_hash: &str,
        label: &str,
    ) -> StoreResult<i64> {
        let (hash, label) = (token_hash.to_string(), label.to_string());
        self.write(move |conn| writes::create_token(conn, user_id, &hash, &label))
            .await
    }

    async fn revoke_token(&self, user_id: UserId, token_id: i64) -> StoreResult<()> {
        self.write(move |conn| writes::revoke_token(conn, user_id, token_id))
            .await
    }

    async fn principal_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Principal>> {
        principal_by_token_hash(&mut *self.read().await?, token_hash).await
    }

    async fn project_creator(&self, project: ProjectId) -> StoreResult<Option<User>> {
        project_creator(&mut *self.read().await?, project).await
    }

    async fn create_project(&self, p: NewProject) -> StoreResult<Project> {
        self.write(move |conn| writes::create_project(conn, p))
            .await
    }

    async fn project(&self, org: OrgId, id: ProjectId) -> StoreResult<Project> {
        project(&mut *self.read().await?, org, id).await
    }

    async fn projects(&self, org: OrgId) -> StoreResult<Vec<Project>> {
        projects(&mut *self.read().await?, org).await
    }

    async fn project_by_name(&self, org: OrgId, name: &str) -> StoreResult<Option<Project>> {
        project_by_name(&mut *self.read().await?, org, name).await
    }

    async fn import_items(
        &self,
        org: OrgId,
        project: ProjectId,
        mut batches: ItemBatches,
        atomic: bool,
    ) -> StoreResult<ImportOutcome> {
        if atomic {
            // One operation for the whole stream: it commits with everything or rolls back to its savepoint.
            return self
                .write(move |conn| {
                    let overlap = writes::project_overlap(conn, org, project)?;
                    let mut total = ImportOutcome::default();
                    // The reader feeds this from a local file, so the writer waits only on disk reads here.
                    while let Some(batch) = batches.blocking_recv() {
                        let o = writes::insert_items(conn, org, project, overlap, &batch)?;
                        total.imported += o.imported;
                        total.duplicates += o.duplicates;
                    }
                    Ok(total)
                })
                .await;
        }
        let overlap = project_overlap(&mut *self.read().await?, org, project).await?;
        let mut total = ImportOutcome::default();
        while let Some(batch) = batches.recv().await {
            let o = self
                .write(move |conn| writes::insert_items(conn, org, project, overlap, &batch))
                .await?;
            total.imported += o.imported;
            total.duplicates += o.duplicates;
        }
        Ok(total)
    }

    async fn claim_next(
        &self,
        org: OrgId,
        project: ProjectId,
        worker: UserId,
        now: Millis,
    ) -> StoreResult<Option<Claim>> {
        let cached = self
            .policies
            .lock()
            .expect("policy cache lock")
            .get(&(org, project))
            .copied();
        let policy = match cached {
            Some(p) => p,
            None => {
                let p = claim_policy(&mut *self.read().await?, org, project).await?;
                self.policies
                    .lock()
                    .expect("policy cache lock")
                    .insert((org, project), p);
                p
            }
        };
        self.write(move |conn| writes::claim_next(conn, org, project, worker, now, policy))
            .await
    }

    async fn assignment_context(
        &self,
        org: OrgId,
        worker: UserId,
        id: AssignmentId,
    ) -> StoreResult<AssignmentContext> {
        assignment_context(&mut *self.read().await?, org, worker, id).await
    }

    async fn submit(&self, s: Submission, now: Millis) -> StoreResult<Submitted> {
        self.write(move |conn| writes::submit(conn, s, now)).await
    }

    async fn skip(
        &self,
        org: OrgId,
        worker: UserId,
        id: AssignmentId,
        reason: &str,
        now: Millis,
    ) -> StoreResult<()> {
        let reason = reason.to_string();
        self.write(move |conn| writes::skip(conn, org, worker, id, &reason, now))
            .await
    }

    async fn expire_leases(&self, now: Millis, limit: i64) -> StoreResult<u64> {
        self.write(move |conn| writes::expire_leases(conn, now, limit))
            .await
    }

    async fn project_stats(&self, org: OrgId, project: ProjectId) -> StoreResult<ProjectStats> {
        project_stats(&mut *self.read().await?, org, project).await
    }

    async fn export_page(
        &self,
        org: OrgId,
        project: ProjectId,
        after: ItemId,
        limit: i64,
    ) -> StoreResult<Vec<ExportRow>> {
        self.bulk_read(move |conn| reads::export_page(conn, org, project, after, limit))
            .await
    }

    async fn backup(&self, dest: &Path) -> StoreResult<()> {
        if dest.exists() {
            return Err(conflict(
                "backup_exists",
                format!("{} already exists; choose a new file", dest.display()),
            ));
        }
        let mut conn = SqliteConnection::connect_with(&options(&self.path)).await?;
        sqlx::query("VACUUM INTO $1")
            .bind(dest.to_string_lossy().to_string())
            .execute(&mut conn)
            .await?;
        conn.close().await?;
        Ok(())
    }

    async fn create_session(&self, session: crate::NewSession) -> StoreResult<()> {
        self.write(move |conn| writes::create_session(conn, session))
            .await
    }

    async fn session_by_hash(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<Option<crate::SessionInfo>> {
        session_by_hash(&mut *self.read().await?, token_hash, now).await
    }

    async fn delete_session(&self, token_hash: &str) -> StoreResult<()> {
        let hash = token_hash.to_string();
        self.write(move |conn| writes::delete_session(conn, &hash))
            .await
    }

    async fn user_credentials_by_email(
        &self,
        email: &str,
    ) -> StoreResult<Option<crate::UserCredentials>> {
        user_credentials_by_email(&mut *self.read().await?, email).await
    }

    async fn user_tokens(&self, user_id: UserId) -> StoreResult<Vec<crate::TokenInfo>> {
        user_tokens(&mut *self.read().await?, user_id).await
    }

    async fn set_password_hash(&self, user_id: UserId, password_hash: &str) -> StoreResult<()> {
        let hash = password_hash.to_string();
        self.write(move |conn| writes::set_password_hash(conn, user_id, &hash))
            .await
    }

    async fn delete_other_sessions(&self, user_id: UserId, keep_hash: &str) -> StoreResult<u64> {
        let keep = keep_hash.to_string();
        self.write(move |conn| writes::delete_other_sessions(conn, user_id, &keep))
            .await
    }

    async fn portable_write(
        &self,
        op: crate::portable::PortableOp,
    ) -> StoreResult<Box<dyn std::any::Any + Send>> {
        self.write(move |conn| op(conn)).await
    }

    async fn portable_read(
        &self,
        op: crate::portable::PortableOp,
    ) -> StoreResult<Box<dyn std::any::Any + Send>> {
        self.bulk_read(move |conn| op(conn)).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// "Next item" must be an index walk, never a scan of the project's items.
    #[tokio::test]
    async fn next_item_query_walks_the_partial_index() {
        let dir = tempfile::tempdir().unwrap();
        let store = SqliteStore::open(&dir.path().join("t.db")).await.unwrap();
        let sql = format!("EXPLAIN QUERY PLAN {}", crate::ops::next_candidate_sql!());
        let rows: Vec<(i64, i64, i64, String)> = sqlx::query_as(sqlx::AssertSqlSafe(sql))
            .bind(1_i64)
            .bind(1_i64)
            .fetch_all(&mut *store.read().await.unwrap())
            .await
            .unwrap();
        let plan: Vec<&str> = rows.iter().map(|r| r.3.as_str()).collect();
        assert!(
            plan.iter().any(|d| d.contains("USING INDEX items_next")),
            "plan: {plan:?}"
        );
        assert!(
            plan.iter()
                .any(|d| d.contains("USING") && d.contains("assignments_item_worker")),
            "plan: {plan:?}"
        );
        assert!(
            !plan
                .iter()
                .any(|d| d.starts_with("SCAN i") || d.contains("TEMP B-TREE")),
            "plan: {plan:?}"
        );
    }
}
