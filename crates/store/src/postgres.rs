//! The PostgreSQL store: the scale-out mode, where several `serve` processes share one database.
//!
//! Each operation runs in its own transaction. Callers run truly in parallel here, so the queue takes row locks
//! that SQLite's single writer does not need: candidates are picked with `FOR UPDATE SKIP LOCKED` (two
//! workers never wait on, or take, the same free slot), a worker's claims are serialized by a transaction-level
//! advisory lock on their id (so the per-worker cap holds across processes), and a submission locks its lease
//! row (so a retry with the same key sees the first one's result). PostgreSQL groups concurrent commits into one
//! WAL flush by itself.

use std::path::Path;
use std::time::Duration;

use async_trait::async_trait;
use fairloop_domain::time::{Millis, now_millis};
use fairloop_domain::{AssignmentId, ItemId, OrgId, ProjectId, UserId};
use futures_util::future::BoxFuture;
use sqlx::postgres::{PgConnection, PgPool, PgPoolOptions};
use tokio::sync::OnceCell;

use crate::migrate::{CREATE_TABLE, MIGRATIONS};
use crate::{
    AssignmentContext, Claim, ExportRow, ImportOutcome, ItemBatches, NewProject, NewUser,
    Principal, Project, ProjectStats, SECRET_KEY, Store, StoreError, StoreResult, Submission,
    Submitted, User, conflict, random_secret_hex,
};

mod ops {
    crate::ops::shared_ops!(
        sqlx::postgres::PgConnection,
        sqlx::Postgres,
        lock = " FOR UPDATE",
        skip_locked = " FOR UPDATE SKIP LOCKED"
    );
}
use ops::*;

/// Key of the advisory lock that serializes migrations between processes starting together.
const MIGRATION_LOCK: i64 = 0x6661_6972_6c6f_6f70; // "fairloop"

/// The PostgreSQL implementation of [`Store`].
#[derive(Debug)]
pub struct PgStore {
    pool: PgPool,
    secret: OnceCell<Vec<u8>>,
}

impl PgStore {
    /// Connects, migrates and returns the store.
    pub async fn connect(url: &str) -> StoreResult<PgStore> {
        let max = std::env::var("FAIRLOOP_PG_POOL")
            .ok()
            .and_then(|v| v.parse().ok())
            .unwrap_or(16);
        let pool = PgPoolOptions::new()
            .max_connections(max)
            .acquire_timeout(Duration::from_secs(30))
            .connect(url)
            .await?;
        let store = PgStore {
            pool,
            secret: OnceCell::new(),
        };
        store.migrate().await?;
        Ok(store)
    }

    async fn migrate(&self) -> StoreResult<()> {
        let mut conn = self.pool.acquire().await?;
        sqlx::query("SELECT pg_advisory_lock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
        let result = async {
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
                let mut tx = sqlx::Connection::begin(&mut *conn).await?;
                sqlx::raw_sql(sqlx::AssertSqlSafe(m.postgres))
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
            Ok::<(), StoreError>(())
        }
        .await;
        sqlx::query("SELECT pg_advisory_unlock($1)")
            .bind(MIGRATION_LOCK)
            .execute(&mut *conn)
            .await?;
        result
    }

    /// Runs `op` in a transaction of its own: committed when it succeeds, rolled back when it fails.
    async fn tx<T, F>(&self, op: F) -> StoreResult<T>
    where
        T: Send,
        F: for<'c> FnOnce(&'c mut PgConnection) -> BoxFuture<'c, StoreResult<T>> + Send,
    {
        let mut tx = self.pool.begin().await?;
        match op(&mut tx).await {
            Ok(v) => {
                tx.commit().await?;
                Ok(v)
            }
            Err(e) => {
                tx.rollback().await?;
                Err(e)
            }
        }
    }

    /// Runs a portable operation in a transaction of its own, on a blocking thread that drives it.
    async fn portable(
        &self,
        op: crate::portable::PortableOp,
    ) -> StoreResult<Box<dyn std::any::Any + Send>> {
        let mut tx = self.pool.begin().await?;
        let handle = tokio::runtime::Handle::current();
        tokio::task::spawn_blocking(move || {
            let result = {
                let ptx = crate::portable::PgTx {
                    conn: std::cell::RefCell::new(&mut *tx),
                    handle: handle.clone(),
                };
                op(&ptx)
            };
            match result {
                Ok(v) => handle
                    .block_on(tx.commit())
                    .map(|_| v)
                    .map_err(StoreError::from),
                Err(e) => {
                    let _ = handle.block_on(tx.rollback());
                    Err(e)
                }
            }
        })
        .await
        .map_err(|e| StoreError::Sqlite(format!("portable operation: {e}")))?
    }

    async fn read(&self) -> StoreResult<sqlx::pool::PoolConnection<sqlx::Postgres>> {
        Ok(self.pool.acquire().await?)
    }
}

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn installation_secret(&self) -> StoreResult<Vec<u8>> {
        self.secret
            .get_or_try_init(|| async {
                let candidate = random_secret_hex();
                let value = self
                    .tx(|conn| {
                        Box::pin(async move { init_setting(conn, SECRET_KEY, &candidate).await })
                    })
                    .await?;
                Ok(hex::decode(value).unwrap_or_default())
            })
            .await
            .cloned()
    }

    async fn upsert_user(&self, user: NewUser) -> StoreResult<User> {
        self.tx(|conn| Box::pin(upsert_user(conn, user))).await
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
        self.tx(|conn| Box::pin(async move { create_token(conn, user_id, &hash, &label).await }))
            .await
    }

    async fn revoke_token(&self, user_id: UserId, token_id: i64) -> StoreResult<()> {
        self.tx(|conn| Box::pin(revoke_token(conn, user_id, token_id)))
            .await
    }

    async fn principal_by_token_hash(&self, token_hash: &str) -> StoreResult<Option<Principal>> {
        principal_by_token_hash(&mut *self.read().await?, token_hash).await
    }

    async fn project_creator(&self, project: ProjectId) -> StoreResult<Option<User>> {
        project_creator(&mut *self.read().await?, project).await
    }

    async fn create_project(&self, p: NewProject) -> StoreResult<Project> {
        self.tx(|conn| Box::pin(create_project(conn, p))).await
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
        let overlap = project_overlap(&mut *self.read().await?, org, project).await?;
        let mut total = ImportOutcome::default();
        if atomic {
            return self
                .tx(move |conn| {
                    Box::pin(async move {
                        while let Some(batch) = batches.recv().await {
                            let o = insert_items(conn, org, project, overlap, &batch).await?;
                            total.imported += o.imported;
                            total.duplicates += o.duplicates;
                        }
                        Ok(total)
                    })
                })
                .await;
        }
        while let Some(batch) = batches.recv().await {
            let o = self
                .tx(|conn| {
                    Box::pin(async move { insert_items(conn, org, project, overlap, &batch).await })
                })
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
        self.tx(|conn| {
            Box::pin(async move {
                // One claim at a time per worker, across every process: the cap check below then holds.
                sqlx::query("SELECT pg_advisory_xact_lock($1)")
                    .bind(worker)
                    .execute(&mut *conn)
                    .await?;
                let policy = claim_policy(conn, org, project).await?;
                claim_next(conn, org, project, worker, now, policy).await
            })
        })
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
        self.tx(|conn| Box::pin(submit(conn, s, now))).await
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
        self.tx(|conn| Box::pin(async move { skip(conn, org, worker, id, &reason, now).await }))
            .await
    }

    async fn expire_leases(&self, now: Millis, limit: i64) -> StoreResult<u64> {
        self.tx(|conn| Box::pin(expire_leases(conn, now, limit)))
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
        export_page(&mut *self.read().await?, org, project, after, limit).await
    }

    async fn backup(&self, _dest: &Path) -> StoreResult<()> {
        Err(conflict(
            "backup_unsupported",
            "fairloop backup copies the embedded SQLite database; back up PostgreSQL with pg_dump or your provider's tools",
        ))
    }

    async fn create_session(&self, session: crate::NewSession) -> StoreResult<()> {
        self.tx(|conn| Box::pin(create_session(conn, session)))
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
        self.tx(|conn| Box::pin(async move { delete_session(conn, &hash).await }))
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
        self.tx(|conn| Box::pin(async move { set_password_hash(conn, user_id, &hash).await }))
            .await
    }

    async fn delete_other_sessions(&self, user_id: UserId, keep_hash: &str) -> StoreResult<u64> {
        let keep = keep_hash.to_string();
        self.tx(|conn| Box::pin(async move { delete_other_sessions(conn, user_id, &keep).await }))
            .await
    }

    async fn portable_write(
        &self,
        op: crate::portable::PortableOp,
    ) -> StoreResult<Box<dyn std::any::Any + Send>> {
        self.portable(op).await
    }

    async fn portable_read(
        &self,
        op: crate::portable::PortableOp,
    ) -> StoreResult<Box<dyn std::any::Any + Send>> {
        self.portable(op).await
    }
}
