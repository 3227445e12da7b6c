//! The SQL both backends share, written once.
//!
//! Most statements read the same on SQLite and PostgreSQL (`$N` placeholders, `RETURNING`, `ON CONFLICT`), so
//! each operation is written here once, against a connection, and [`shared_ops!`] stamps it out for each
//! backend's connection type. Where the dialects differ (row locks that PostgreSQL needs because it runs
//! callers in parallel, and SQLite does not because it has one writer), the backend passes the clause in.
//! Transactions are the caller's: the SQLite writer wraps operations in group commits, PostgreSQL in one
//! transaction each.

/// Generates the shared operations for one backend.
///
/// `$conn` is the connection type, `$db` the sqlx database; `$lock` is appended to `SELECT`s that must lock
/// the row they read (`" FOR UPDATE"` on PostgreSQL, `""` on SQLite); `$skip_locked` likewise for queue scans
/// (`" FOR UPDATE SKIP LOCKED"`).
macro_rules! shared_ops {
    ($conn:ty, $db:ty, lock = $lock:literal, skip_locked = $skip_locked:literal) => {
        use fairloop_domain::queue::QueuePolicy;
        use fairloop_domain::time::{now_millis, Millis};
        use fairloop_domain::{AssignmentId, ItemId, OrgId, ProjectId, UserId};
        use sqlx::QueryBuilder;

        use crate::{
            AssignmentContext, Claim, ExportAnnotationRow, ExportRow, ImportOutcome, NewItem, NewProject, NewUser,
            Principal, Project, ProjectStats, StoreError, StoreResult, Submission, Submitted, User,
            parse_role, NewSession, SessionInfo, TokenInfo, UserCredentials,
        };

        /// Rows per multi-row `INSERT` during imports (6 bound values each, under both backends' limits).
        const IMPORT_ROWS_PER_STATEMENT: usize = 500;

        type ProjectTuple = (i64, i64, String, String, i64, i64, i64, Option<String>, i64);
        const PROJECT_COLUMNS: &str =
            "id, org_id, name, template, overlap, lease_seconds, max_open_per_worker, pay, created_at";

        fn project_from(t: ProjectTuple) -> Project {
            Project {
                id: t.0,
                org_id: t.1,
                name: t.2,
                template: t.3,
                policy: QueuePolicy {
                    overlap: t.4 as u32,
                    lease_seconds: t.5 as u32,
                    max_open_per_worker: t.6 as u32,
                },
                pay: t.7,
                created_at: t.8,
            }
        }

        fn user_from(t: (i64, i64, String, String, String)) -> StoreResult<User> {
            Ok(User { id: t.0, org_id: t.1, email: t.2, name: t.3, role: parse_role(&t.4)? })
        }

        pub(crate) async fn setting(conn: &mut $conn, key: &str) -> StoreResult<Option<String>> {
            let row: Option<(String,)> = sqlx::query_as($crate::sql::SETTING)
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
            Ok(row.map(|r| r.0))
        }

        pub(crate) async fn init_setting(conn: &mut $conn, key: &str, value: &str) -> StoreResult<String> {
            sqlx::query($crate::sql::INIT_SETTING)
                .bind(key)
                .bind(value)
                .execute(&mut *conn)
                .await?;
            setting(conn, key).await?.ok_or(StoreError::NotFound)
        }

        pub(crate) async fn upsert_user(conn: &mut $conn, user: NewUser) -> StoreResult<User> {
            let now = now_millis();
            let existing: Option<(i64, i64, String, String, String)> =
                sqlx::query_as($crate::sql::USER_BY_EMAIL)
                    .bind(&user.email)
                    .fetch_optional(&mut *conn)
                    .await?;
            if let Some(t) = existing {
                return user_from(t);
            }
            sqlx::query($crate::sql::INSERT_ORG)
                .bind(&user.org_name)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            let (org_id,): (i64,) = sqlx::query_as($crate::sql::ORG_BY_NAME)
                .bind(&user.org_name)
                .fetch_one(&mut *conn)
                .await?;
            let (id,): (i64,) = sqlx::query_as(
                $crate::sql::INSERT_USER,
            )
            .bind(org_id)
            .bind(&user.email)
            .bind(&user.name)
            .bind(user.role.as_str())
            .bind(&user.password_hash)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            sqlx::query($crate::sql::INSERT_MATCH_ROW).bind(id).execute(&mut *conn).await?;
            Ok(User { id, org_id, email: user.email, name: user.name, role: user.role })
        }

        pub(crate) async fn org_name(conn: &mut $conn, org: OrgId) -> StoreResult<String> {
            let row: Option<(String,)> = sqlx::query_as("SELECT name FROM organizations WHERE id = $1")
                .bind(org)
                .fetch_optional(&mut *conn)
                .await?;
            row.map(|r| r.0).ok_or(StoreError::NotFound)
        }

        pub(crate) async fn user_by_email(conn: &mut $conn, email: &str) -> StoreResult<Option<User>> {
            let row: Option<(i64, i64, String, String, String)> =
                sqlx::query_as($crate::sql::USER_BY_EMAIL)
                    .bind(email)
                    .fetch_optional(&mut *conn)
                    .await?;
            row.map(user_from).transpose()
        }

        pub(crate) async fn create_token(conn: &mut $conn, user_id: UserId, hash: &str, label: &str) -> StoreResult<i64> {
            let row: Option<(i64,)> = sqlx::query_as(
                $crate::sql::INSERT_TOKEN,
            )
            .bind(hash)
            .bind(label)
            .bind(now_millis())
            .bind(user_id)
            .fetch_optional(&mut *conn)
            .await?;
            row.map(|r| r.0).ok_or(StoreError::NotFound)
        }

        pub(crate) async fn revoke_token(conn: &mut $conn, user_id: UserId, token_id: i64) -> StoreResult<()> {
            let done = sqlx::query(
                $crate::sql::REVOKE_TOKEN,
            )
            .bind(now_millis())
            .bind(token_id)
            .bind(user_id)
            .execute(&mut *conn)
            .await?;
            if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        }

        pub(crate) async fn principal_by_token_hash(conn: &mut $conn, hash: &str) -> StoreResult<Option<Principal>> {
            let row: Option<(i64, i64, String, String)> = sqlx::query_as(
                "SELECT u.id, u.org_id, u.role, u.email FROM api_tokens t JOIN users u ON u.id = t.user_id \
                 WHERE t.token_hash = $1 AND t.revoked_at IS NULL",
            )
            .bind(hash)
            .fetch_optional(&mut *conn)
            .await?;
            row.map(|(user_id, org_id, role, email)| {
                Ok(Principal { user_id, org_id, role: parse_role(&role)?, email })
            })
            .transpose()
        }

        pub(crate) async fn create_project(conn: &mut $conn, p: NewProject) -> StoreResult<Project> {
            let now = now_millis();
            let (id,): (i64,) = sqlx::query_as(
                $crate::sql::INSERT_PROJECT,
            )
            .bind(p.org_id)
            .bind(&p.name)
            .bind(&p.template)
            .bind(i64::from(p.policy.overlap))
            .bind(i64::from(p.policy.lease_seconds))
            .bind(i64::from(p.policy.max_open_per_worker))
            .bind(&p.pay)
            .bind(p.created_by)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            Ok(Project {
                id,
                org_id: p.org_id,
                name: p.name,
                template: p.template,
                policy: p.policy,
                pay: p.pay,
                created_at: now,
            })
        }

        pub(crate) async fn project(conn: &mut $conn, org: OrgId, id: ProjectId) -> StoreResult<Project> {
            let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE id = $1 AND org_id = $2");
            let row: Option<ProjectTuple> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(id).bind(org).fetch_optional(&mut *conn).await?;
            row.map(project_from).ok_or(StoreError::NotFound)
        }

        pub(crate) async fn projects(conn: &mut $conn, org: OrgId) -> StoreResult<Vec<Project>> {
            let sql = format!("SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = $1 ORDER BY id DESC");
            let rows: Vec<ProjectTuple> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org).fetch_all(&mut *conn).await?;
            Ok(rows.into_iter().map(project_from).collect())
        }

        pub(crate) async fn project_by_name(conn: &mut $conn, org: OrgId, name: &str) -> StoreResult<Option<Project>> {
            let sql = format!(
                "SELECT {PROJECT_COLUMNS} FROM projects WHERE org_id = $1 AND name = $2 ORDER BY id LIMIT 1"
            );
            let row: Option<ProjectTuple> =
                sqlx::query_as(sqlx::AssertSqlSafe(sql)).bind(org).bind(name).fetch_optional(&mut *conn).await?;
            Ok(row.map(project_from))
        }

        pub(crate) async fn project_creator(conn: &mut $conn, project: ProjectId) -> StoreResult<Option<User>> {
            let row: Option<(i64, i64, String, String, String)> = sqlx::query_as(
                "SELECT u.id, u.org_id, u.email, u.name, u.role FROM projects p JOIN users u ON u.id = p.created_by \
                 WHERE p.id = $1",
            )
            .bind(project)
            .fetch_optional(&mut *conn)
            .await?;
            row.map(user_from).transpose()
        }

        pub(crate) async fn project_overlap(conn: &mut $conn, org: OrgId, project: ProjectId) -> StoreResult<i64> {
            let row: Option<(i64,)> = sqlx::query_as($crate::sql::PROJECT_OVERLAP)
                .bind(project)
                .bind(org)
                .fetch_optional(&mut *conn)
                .await?;
            row.map(|r| r.0).ok_or(StoreError::NotFound)
        }

        /// Inserts one batch of items; known external ids are skipped and counted as duplicates.
        pub(crate) async fn insert_items(
            conn: &mut $conn,
            org: OrgId,
            project: ProjectId,
            overlap: i64,
            batch: &[NewItem],
        ) -> StoreResult<ImportOutcome> {
            let now = now_millis();
            let mut outcome = ImportOutcome::default();
            for chunk in batch.chunks(IMPORT_ROWS_PER_STATEMENT) {
                let mut qb: QueryBuilder<$db> = QueryBuilder::new(
                    "INSERT INTO items (org_id, project_id, free_slots, created_at, external_id, data, priority, gold, \
                     sensitivity, own_sensitivity) ",
                );
                qb.push_values(chunk, |mut b, item| {
                    // Integers we computed, not user input: inlining them saves four bound values per row.
                    // Gold items start with no free slot: only the gold hand-out (store/src/quality.rs) offers them.
                    let slots = if item.gold.is_some() { 0 } else { overlap };
                    b.push_unseparated(format!("{org}, {project}, {slots}, {now}, "));
                    b.push_bind(item.external_id.clone())
                        .push_bind(item.data.clone())
                        .push_bind(item.priority)
                        .push_bind(item.gold.clone())
                        .push_bind(item.sensitivity)
                        .push_bind(item.own_sensitivity);
                });
                qb.push(" ON CONFLICT (project_id, external_id) DO NOTHING");
                let inserted = qb.build().execute(&mut *conn).await?.rows_affected();
                outcome.imported += inserted;
                outcome.duplicates += chunk.len() as u64 - inserted;
            }
            Ok(outcome)
        }

        /// The queue settings a claim needs, and the proof that the project is the organization's.
        pub(crate) async fn claim_policy(conn: &mut $conn, org: OrgId, project: ProjectId) -> StoreResult<(i64, i64)> {
            sqlx::query_as("SELECT lease_seconds, max_open_per_worker FROM projects WHERE id = $1 AND org_id = $2")
                .bind(project)
                .bind(org)
                .fetch_optional(&mut *conn)
                .await?
                .ok_or(StoreError::NotFound)
        }

        /// The queue's claim: see [`crate::Store::claim_next`]. `policy` is `(lease_seconds, max_open)` from
        /// [`claim_policy`], read beforehand so that the writer does not spend a statement on it. The common path is
        /// three statements: the worker's open leases, one `UPDATE … RETURNING` that takes the next free slot, and
        /// the new lease.
        pub(crate) async fn claim_next(
            conn: &mut $conn,
            org: OrgId,
            project: ProjectId,
            worker: UserId,
            now: Millis,
            (lease_seconds, max_open): (i64, i64),
        ) -> StoreResult<Option<Claim>> {
            let held: Vec<(i64, i64, i64, Option<String>, String, i64)> = sqlx::query_as(
                $crate::sql::HELD_LEASES,
            )
            .bind(worker)
            .bind(project)
            .fetch_all(&mut *conn)
            .await?;
            if held.iter().any(|h| h.2 <= now) {
                // This worker's own expired leases go back to the pool first, so they do not count against the cap.
                let expired: Vec<(i64,)> = sqlx::query_as(
                    $crate::sql::EXPIRE_OWN_LEASES,
                )
                .bind(now)
                .bind(worker)
                .bind(project)
                .fetch_all(&mut *conn)
                .await?;
                release_slots(conn, &expired).await?;
            }
            let live: Vec<_> = held.into_iter().filter(|h| h.2 > now).collect();
            // The oldest lease still held: handed back when the worker is at their cap or nothing new is left,
            // so "next" always answers with what they should work on.
            let oldest_held =
                live.first().cloned().map(|(assignment_id, item_id, expires_at, external_id, data, sensitivity)| {
                    Claim { assignment_id, item_id, external_id, data, expires_at, reused: true, sensitivity }
                });
            if live.len() as i64 >= max_open {
                return Ok(oldest_held);
            }
            let sql = concat!(
                "UPDATE items SET free_slots = free_slots - 1 WHERE id = (",
                $crate::ops::next_candidate_sql!(),
                $skip_locked,
                ") RETURNING id, external_id, data"
            );
            let mut taken: Option<(i64, Option<String>, String)> =
                sqlx::query_as(sql).bind(project).bind(worker).fetch_optional(&mut *conn).await?;
            if taken.is_none() && !$skip_locked.is_empty() {
                // Skipping locked rows can miss a slot that another claimer holds only for a moment (an item with
                // two free slots, one being taken). Before answering "nothing left", wait for those locks once.
                let sql = concat!(
                    "UPDATE items SET free_slots = free_slots - 1 WHERE id = (",
                    $crate::ops::next_candidate_sql!(),
                    $lock,
                    ") RETURNING id, external_id, data"
                );
                taken = sqlx::query_as(sql).bind(project).bind(worker).fetch_optional(&mut *conn).await?;
            }
            let Some((item_id, external_id, data)) = taken else { return Ok(oldest_held) };
            let expires_at = now + lease_seconds * 1000;
            let (assignment_id,): (i64,) = sqlx::query_as(
                $crate::sql::INSERT_LEASE,
            )
            .bind(org)
            .bind(project)
            .bind(item_id)
            .bind(worker)
            .bind(now)
            .bind(expires_at)
            .fetch_one(&mut *conn)
            .await?;
            Ok(Some(Claim { assignment_id, item_id, external_id, data, expires_at, reused: false, sensitivity: 0 }))
        }

        /// Gives one slot back to each listed item (one row per released lease).
        async fn release_slots(conn: &mut $conn, items: &[(i64,)]) -> StoreResult<()> {
            for (item_id,) in items {
                sqlx::query($crate::sql::RELEASE_SLOT)
                    .bind(item_id)
                    .execute(&mut *conn)
                    .await?;
            }
            Ok(())
        }

        pub(crate) async fn assignment_context(
            conn: &mut $conn,
            org: OrgId,
            worker: UserId,
            id: AssignmentId,
        ) -> StoreResult<AssignmentContext> {
            let row: Option<(i64, i64, i64, String, String, String, i64)> = sqlx::query_as(
                "SELECT a.id, a.project_id, a.item_id, i.data, p.template, a.status, i.sensitivity FROM assignments a \
                 JOIN items i ON i.id = a.item_id JOIN projects p ON p.id = a.project_id \
                 WHERE a.id = $1 AND a.worker_id = $2 AND a.org_id = $3",
            )
            .bind(id)
            .bind(worker)
            .bind(org)
            .fetch_optional(&mut *conn)
            .await?;
            let (assignment_id, project_id, item_id, item_data, template, status, sensitivity) =
                row.ok_or(StoreError::NotFound)?;
            Ok(AssignmentContext { assignment_id, project_id, item_id, item_data, template, status, sensitivity })
        }

        /// Records a submission: see [`crate::Store::submit`] for the rules. The common path (an open lease) is
        /// four statements: close the lease, count the annotation on the item, insert it, record the key.
        pub(crate) async fn submit(conn: &mut $conn, s: Submission, now: Millis) -> StoreResult<Submitted> {
            let closed: Option<(i64, i64)> = sqlx::query_as(
                $crate::sql::CLOSE_OPEN_LEASE,
            )
            .bind(now)
            .bind(s.assignment_id)
            .bind(s.worker_id)
            .bind(s.org_id)
            .fetch_optional(&mut *conn)
            .await?;
            let (item_id, project_id) = match closed {
                Some(ids) => {
                    sqlx::query($crate::sql::COUNT_ANNOTATION)
                        .bind(ids.0)
                        .execute(&mut *conn)
                        .await?;
                    ids
                }
                None => match submit_not_open(conn, &s, now).await? {
                    Ok(ids) => ids,
                    Err(replayed) => return Ok(replayed),
                },
            };
            let (annotation_id,): (i64,) = sqlx::query_as(
                $crate::sql::INSERT_ANNOTATION,
            )
            .bind(s.org_id)
            .bind(project_id)
            .bind(item_id)
            .bind(s.assignment_id)
            .bind(s.worker_id)
            .bind(&s.answers)
            .bind(now)
            .fetch_one(&mut *conn)
            .await?;
            if let Some(key) = &s.idempotency_key {
                let recorded = sqlx::query(
                    $crate::sql::RECORD_IDEMPOTENCY_KEY,
                )
                .bind(s.worker_id)
                .bind(key)
                .bind(s.assignment_id)
                .bind(annotation_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
                if recorded.rows_affected() == 0 {
                    // The key was used for another assignment: the caller rolls this whole submission back.
                    return Err(crate::conflict(
                        "idempotency_key_reused",
                        "this Idempotency-Key was already used for another assignment; use a new key per submission",
                    ));
                }
            }
            Ok(Submitted { annotation_id, replayed: false })
        }

        /// A submission whose lease is not open: a retry (answered from its key), a late submit on an expired
        /// lease (counted if the slot is still free), or a conflict. `Ok(Err(_))` is a replayed result.
        async fn submit_not_open(
            conn: &mut $conn,
            s: &Submission,
            now: Millis,
        ) -> StoreResult<Result<(i64, i64), Submitted>> {
            // Lock the lease: a concurrent retry with the same key then waits and finds the key below.
            let sql = concat!(
                "SELECT status, item_id, project_id FROM assignments WHERE id = $1 AND worker_id = $2 AND org_id = $3",
                $lock
            );
            let row: Option<(String, i64, i64)> = sqlx::query_as(sql)
                .bind(s.assignment_id)
                .bind(s.worker_id)
                .bind(s.org_id)
                .fetch_optional(&mut *conn)
                .await?;
            let (status, item_id, project_id) = row.ok_or(StoreError::NotFound)?;
            if let Some(key) = &s.idempotency_key {
                let seen: Option<(i64, i64)> = sqlx::query_as(
                    $crate::sql::IDEMPOTENCY_KEY,
                )
                .bind(s.worker_id)
                .bind(key)
                .fetch_optional(&mut *conn)
                .await?;
                if let Some((assignment_id, annotation_id)) = seen {
                    return crate::replay(assignment_id, annotation_id, s.assignment_id).map(Err);
                }
            }
            match status.as_str() {
                "expired" => {
                    // The lease ran out. The work still counts if the item has room: nobody else took the slot.
                    let took = sqlx::query(
                        $crate::sql::RETAKE_SLOT,
                    )
                    .bind(item_id)
                    .execute(&mut *conn)
                    .await?;
                    if took.rows_affected() == 0 {
                        return Err(crate::lease_expired());
                    }
                    sqlx::query($crate::sql::MARK_SUBMITTED)
                        .bind(now)
                        .bind(s.assignment_id)
                        .execute(&mut *conn)
                        .await?;
                    Ok(Ok((item_id, project_id)))
                }
                other => Err(crate::closed(other)),
            }
        }

        pub(crate) async fn skip(
            conn: &mut $conn,
            org: OrgId,
            worker: UserId,
            id: AssignmentId,
            reason: &str,
            now: Millis,
        ) -> StoreResult<()> {
            let sql = concat!(
                "SELECT status, item_id FROM assignments WHERE id = $1 AND worker_id = $2 AND org_id = $3",
                $lock
            );
            let row: Option<(String, i64)> =
                sqlx::query_as(sql).bind(id).bind(worker).bind(org).fetch_optional(&mut *conn).await?;
            let (status, item_id) = row.ok_or(StoreError::NotFound)?;
            match status.as_str() {
                "open" | "expired" => {}
                "skipped" => return Ok(()),
                other => return Err(crate::closed(other)),
            }
            sqlx::query(
                $crate::sql::MARK_SKIPPED,
            )
            .bind(reason)
            .bind(now)
            .bind(id)
            .execute(&mut *conn)
            .await?;
            if status == "open" {
                release_slots(conn, &[(item_id,)]).await?;
            }
            Ok(())
        }

        pub(crate) async fn expire_leases(conn: &mut $conn, now: Millis, limit: i64) -> StoreResult<u64> {
            let sql = concat!(
                "UPDATE assignments SET status = 'expired', closed_at = $1 WHERE id IN \
                 (SELECT id FROM assignments WHERE status = 'open' AND expires_at <= $1 LIMIT $2",
                $skip_locked,
                ") RETURNING item_id"
            );
            let expired: Vec<(i64,)> = sqlx::query_as(sql).bind(now).bind(limit).fetch_all(&mut *conn).await?;
            release_slots(conn, &expired).await?;
            Ok(expired.len() as u64)
        }

        pub(crate) async fn project_stats(conn: &mut $conn, org: OrgId, project: ProjectId) -> StoreResult<ProjectStats> {
            let overlap = project_overlap(conn, org, project).await?;
            let (items,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM items WHERE project_id = $1")
                .bind(project)
                .fetch_one(&mut *conn)
                .await?;
            let (completed_items,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM items WHERE project_id = $1 AND annotations >= $2")
                    .bind(project)
                    .bind(overlap)
                    .fetch_one(&mut *conn)
                    .await?;
            let (annotations,): (i64,) = sqlx::query_as("SELECT COUNT(*) FROM annotations WHERE project_id = $1")
                .bind(project)
                .fetch_one(&mut *conn)
                .await?;
            let (open_assignments,): (i64,) =
                sqlx::query_as("SELECT COUNT(*) FROM assignments WHERE project_id = $1 AND status = 'open'")
                    .bind(project)
                    .fetch_one(&mut *conn)
                    .await?;
            let (skipped_assignments,): (i64,) =
                // Skips that never count against a worker (too distressing, or of a sensitive item) are not counted.
                sqlx::query_as(
                    "SELECT COUNT(*) FROM assignments WHERE project_id = $1 AND status = 'skipped' \
                     AND NOT EXISTS (SELECT 1 FROM protected_skips s WHERE s.assignment_id = assignments.id)",
                )
                    .bind(project)
                    .fetch_one(&mut *conn)
                    .await?;
            Ok(ProjectStats { items, annotations, completed_items, open_assignments, skipped_assignments })
        }

        pub(crate) async fn export_page(
            conn: &mut $conn,
            org: OrgId,
            project: ProjectId,
            after: ItemId,
            limit: i64,
        ) -> StoreResult<Vec<ExportRow>> {
            let items: Vec<(i64, Option<String>, String, i64)> = sqlx::query_as(
                $crate::sql::EXPORT_ITEMS,
            )
            .bind(project)
            .bind(org)
            .bind(after)
            .bind(limit)
            .fetch_all(&mut *conn)
            .await?;
            let Some(last) = items.last().map(|i| i.0) else { return Ok(Vec::new()) };
            let anns: Vec<(i64, i64, i64, String, i64)> = sqlx::query_as(
                $crate::sql::EXPORT_ANNOTATIONS,
            )
            .bind(project)
            .bind(org)
            .bind(after)
            .bind(last)
            .fetch_all(&mut *conn)
            .await?;
            let mut out: Vec<ExportRow> = items
                .into_iter()
                .map(|(item_id, external_id, data, sensitivity)| ExportRow {
                    item_id,
                    external_id,
                    data,
                    sensitivity,
                    annotations: Vec::new(),
                })
                .collect();
            let mut idx = 0;
            for (annotation_id, item_id, worker_id, answers, submitted_at) in anns {
                while idx < out.len() && out[idx].item_id < item_id {
                    idx += 1;
                }
                if let Some(row) = out.get_mut(idx).filter(|r| r.item_id == item_id) {
                    row.annotations.push(ExportAnnotationRow { annotation_id, worker_id, answers, submitted_at });
                }
            }
            Ok(out)
        }
        pub(crate) async fn create_session(conn: &mut $conn, s: NewSession) -> StoreResult<()> {
            let now = now_millis();
            sqlx::query($crate::sql::DELETE_EXPIRED_SESSIONS)
                .bind(s.user_id)
                .bind(now)
                .execute(&mut *conn)
                .await?;
            sqlx::query(
                $crate::sql::INSERT_SESSION,
            )
            .bind(&s.token_hash)
            .bind(s.user_id)
            .bind(&s.csrf_token)
            .bind(now)
            .bind(s.expires_at)
            .execute(&mut *conn)
            .await?;
            Ok(())
        }

        pub(crate) async fn session_by_hash(
            conn: &mut $conn,
            hash: &str,
            now: Millis,
        ) -> StoreResult<Option<SessionInfo>> {
            let row: Option<(i64, i64, String, String, String, String, i64, i64, i64)> = sqlx::query_as(
                "SELECT u.id, u.org_id, u.role, u.email, u.name, s.csrf_token, s.expires_at, \
                 (SELECT CAST(COUNT(*) AS BIGINT) FROM notices n WHERE n.user_id = u.id AND n.read_at IS NULL), \
                 CAST(CASE WHEN o.kind = 'vendor' THEN 1 ELSE 0 END AS BIGINT) \
                 FROM sessions s JOIN users u ON u.id = s.user_id JOIN organizations o ON o.id = u.org_id \
                 WHERE s.token_hash = $1 AND s.expires_at > $2",
            )
            .bind(hash)
            .bind(now)
            .fetch_optional(&mut *conn)
            .await?;
            row.map(|(user_id, org_id, role, email, name, csrf_token, expires_at, unread_notices, vendor)| {
                Ok(SessionInfo {
                    principal: Principal { user_id, org_id, role: parse_role(&role)?, email },
                    name,
                    csrf_token,
                    expires_at,
                    unread_notices,
                    in_vendor: vendor == 1,
                })
            })
            .transpose()
        }

        pub(crate) async fn delete_session(conn: &mut $conn, hash: &str) -> StoreResult<()> {
            sqlx::query($crate::sql::DELETE_SESSION).bind(hash).execute(&mut *conn).await?;
            Ok(())
        }

        pub(crate) async fn user_credentials_by_email(
            conn: &mut $conn,
            email: &str,
        ) -> StoreResult<Option<UserCredentials>> {
            let row: Option<(i64, i64, String, String, String, Option<String>)> = sqlx::query_as(
                "SELECT id, org_id, email, name, role, password_hash FROM users WHERE email = $1",
            )
            .bind(email)
            .fetch_optional(&mut *conn)
            .await?;
            row.map(|(id, org_id, email, name, role, password_hash)| {
                Ok(UserCredentials { user: user_from((id, org_id, email, name, role))?, password_hash })
            })
            .transpose()
        }

        pub(crate) async fn user_tokens(conn: &mut $conn, user_id: UserId) -> StoreResult<Vec<TokenInfo>> {
            let rows: Vec<(i64, String, i64, Option<i64>)> = sqlx::query_as(
                "SELECT id, label, created_at, revoked_at FROM api_tokens WHERE user_id = $1 ORDER BY id DESC",
            )
            .bind(user_id)
            .fetch_all(&mut *conn)
            .await?;
            Ok(rows
                .into_iter()
                .map(|(id, label, created_at, revoked_at)| TokenInfo { id, label, created_at, revoked_at })
                .collect())
        }

        pub(crate) async fn set_password_hash(conn: &mut $conn, user_id: UserId, hash: &str) -> StoreResult<()> {
            let done = sqlx::query($crate::sql::SET_PASSWORD_HASH)
                .bind(hash)
                .bind(user_id)
                .execute(&mut *conn)
                .await?;
            if done.rows_affected() == 0 { Err(StoreError::NotFound) } else { Ok(()) }
        }

        pub(crate) async fn delete_other_sessions(conn: &mut $conn, user_id: UserId, keep: &str) -> StoreResult<u64> {
            let done = sqlx::query($crate::sql::DELETE_OTHER_SESSIONS)
                .bind(user_id)
                .bind(keep)
                .execute(&mut *conn)
                .await?;
            Ok(done.rows_affected())
        }
    };
}

pub(crate) use shared_ops;

/// The queue's hot query: the first item of a project with a free slot that this worker has not touched.
/// It must stay a walk of the partial index `items_next` (a test checks SQLite's plan).
///
/// `i.sensitivity = 0`: this path serves projects without sensitive content (the app sends the others to the
/// sensitive claim, `store/src/wellbeing.rs`, which checks opt-ins and the daily exposure limit). The condition
/// makes that hold even when the app's view of a project is stale (another process just marked items or the
/// project sensitive): this path can then never hand out a sensitive item. It costs no statement.
macro_rules! next_candidate_sql {
    () => {
        "SELECT i.id FROM items i \
         WHERE i.project_id = $1 AND i.free_slots > 0 AND i.sensitivity = 0 \
         AND NOT EXISTS (SELECT 1 FROM assignments a WHERE a.item_id = i.id AND a.worker_id = $2) \
         ORDER BY i.priority DESC, i.id LIMIT 1"
    };
}

pub(crate) use next_candidate_sql;
