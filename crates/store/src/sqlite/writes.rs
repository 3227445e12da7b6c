//! Every SQLite write, as plain synchronous calls on the writer thread's connection.
//!
//! The writer owns one `rusqlite` connection and runs these functions directly: a statement is a function call
//! of a few microseconds rather than a round trip to another thread, which is what lets one writer keep up with
//! thousands of claims and submissions a second. The SQL text is shared with the operations in `ops.rs`
//! (PostgreSQL and SQLite reads) through [`crate::sql`], with `$N` placeholders bound in order.

use fairloop_domain::time::{Millis, now_millis};
use fairloop_domain::{AssignmentId, OrgId, ProjectId, UserId};
use rusqlite::{Connection, OptionalExtension, params};

use crate::{
    Claim, ImportOutcome, NewItem, NewProject, NewSession, NewUser, Project, StoreError,
    StoreResult, Submission, Submitted, User, parse_role,
};

/// Rows per multi-row `INSERT` during imports.
const IMPORT_ROWS_PER_STATEMENT: usize = 100;

fn db(e: rusqlite::Error) -> StoreError {
    StoreError::Sqlite(e.to_string())
}

pub(super) fn init_setting(conn: &Connection, key: &str, value: &str) -> StoreResult<String> {
    conn.prepare_cached(crate::sql::INIT_SETTING)
        .and_then(|mut s| s.execute(params![key, value]))
        .map_err(db)?;
    conn.prepare_cached(crate::sql::SETTING)
        .and_then(|mut s| s.query_row(params![key], |r| r.get(0)))
        .map_err(db)
}

pub(super) fn upsert_user(conn: &Connection, user: NewUser) -> StoreResult<User> {
    let now = now_millis();
    let existing: Option<(i64, i64, String, String, String)> = conn
        .prepare_cached(crate::sql::USER_BY_EMAIL)
        .and_then(|mut s| {
            s.query_row(params![user.email], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .optional()
        })
        .map_err(db)?;
    if let Some((id, org_id, email, name, role)) = existing {
        return Ok(User {
            id,
            org_id,
            email,
            name,
            role: parse_role(&role)?,
        });
    }
    conn.prepare_cached(crate::sql::INSERT_ORG)
        .and_then(|mut s| s.execute(params![user.org_name, now]))
        .map_err(db)?;
    let org_id: i64 = conn
        .prepare_cached(crate::sql::ORG_BY_NAME)
        .and_then(|mut s| s.query_row(params![user.org_name], |r| r.get(0)))
        .map_err(db)?;
    let id: i64 = conn
        .prepare_cached(crate::sql::INSERT_USER)
        .and_then(|mut s| {
            s.query_row(
                params![
                    org_id,
                    user.email,
                    user.name,
                    user.role.as_str(),
                    user.password_hash,
                    now
                ],
                |r| r.get(0),
            )
        })
        .map_err(db)?;
    conn.prepare_cached(crate::sql::INSERT_MATCH_ROW)
        .and_then(|mut s| s.execute(params![id]))
        .map_err(db)?;
    Ok(User {
        id,
        org_id,
        email: user.email,
        name: user.name,
        role: user.role,
    })
}

pub(super) fn create_token(
    conn: &Connection,
    user_id: UserId,
    hash: &str,
    label: &str,
) -> StoreResult<i64> {
    conn.prepare_cached(crate::sql::INSERT_TOKEN)
        .and_then(|mut s| {
            s.query_row(params![hash, label, now_millis(), user_id], |r| r.get(0))
                .optional()
        })
        .map_err(db)?
        .ok_or(StoreError::NotFound)
}

pub(super) fn revoke_token(conn: &Connection, user_id: UserId, token_id: i64) -> StoreResult<()> {
    let n = conn
        .prepare_cached(crate::sql::REVOKE_TOKEN)
        .and_then(|mut s| s.execute(params![now_millis(), token_id, user_id]))
        .map_err(db)?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(super) fn create_project(conn: &Connection, p: NewProject) -> StoreResult<Project> {
    let now = now_millis();
    let id: i64 = conn
        .prepare_cached(crate::sql::INSERT_PROJECT)
        .and_then(|mut s| {
            s.query_row(
                params![
                    p.org_id,
                    p.name,
                    p.template,
                    i64::from(p.policy.overlap),
                    i64::from(p.policy.lease_seconds),
                    i64::from(p.policy.max_open_per_worker),
                    p.pay,
                    p.created_by,
                    now
                ],
                |r| r.get(0),
            )
        })
        .map_err(db)?;
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

pub(super) fn project_overlap(
    conn: &Connection,
    org: OrgId,
    project: ProjectId,
) -> StoreResult<i64> {
    conn.prepare_cached(crate::sql::PROJECT_OVERLAP)
        .and_then(|mut s| s.query_row(params![project, org], |r| r.get(0)).optional())
        .map_err(db)?
        .ok_or(StoreError::NotFound)
}

/// The multi-row insert for `rows` items; integers we computed are inlined, user data is bound.
fn insert_sql(rows: usize, org: OrgId, project: ProjectId, overlap: i64, now: Millis) -> String {
    let mut sql = String::from(
        "INSERT INTO items (org_id, project_id, free_slots, created_at, external_id, data, priority, gold, \
         sensitivity, own_sensitivity) VALUES ",
    );
    for i in 0..rows {
        if i > 0 {
            sql.push_str(", ");
        }
        // Gold items start with no free slot (`CASE` on the bound gold value): only the gold hand-out offers them.
        sql.push_str(&format!(
            "({org}, {project}, CASE WHEN ?{g} IS NULL THEN {overlap} ELSE 0 END, {now}, ?{}, ?{}, ?{}, ?{g}, ?{}, ?{})",
            ITEM_VALUES * i + 1,
            ITEM_VALUES * i + 2,
            ITEM_VALUES * i + 3,
            ITEM_VALUES * i + 5,
            ITEM_VALUES * i + 6,
            g = ITEM_VALUES * i + 4
        ));
    }
    sql.push_str(" ON CONFLICT (project_id, external_id) DO NOTHING");
    sql
}

/// Values bound per imported item: external id, data, priority, gold, sensitivity, own sensitivity.
const ITEM_VALUES: usize = 6;

/// Inserts a batch of items; known external ids are skipped and counted as duplicates.
pub(super) fn insert_items(
    conn: &Connection,
    org: OrgId,
    project: ProjectId,
    overlap: i64,
    batch: &[NewItem],
) -> StoreResult<ImportOutcome> {
    let now = now_millis();
    let mut outcome = ImportOutcome::default();
    for chunk in batch.chunks(IMPORT_ROWS_PER_STATEMENT) {
        let sql = insert_sql(chunk.len(), org, project, overlap, now);
        // Full chunks share one cached statement; only the last, shorter chunk of a batch is prepared anew.
        let mut stmt = conn.prepare_cached(&sql).map_err(db)?;
        let mut values: Vec<&dyn rusqlite::ToSql> = Vec::with_capacity(chunk.len() * ITEM_VALUES);
        for item in chunk {
            values.push(&item.external_id);
            values.push(&item.data);
            values.push(&item.priority);
            values.push(&item.gold);
            values.push(&item.sensitivity);
            values.push(&item.own_sensitivity);
        }
        let inserted = stmt.execute(values.as_slice()).map_err(db)? as u64;
        outcome.imported += inserted;
        outcome.duplicates += chunk.len() as u64 - inserted;
    }
    Ok(outcome)
}

type Held = (i64, i64, i64, Option<String>, String, i64);

/// The queue's claim: see [`crate::Store::claim_next`] and the shared version in `ops.rs`.
pub(super) fn claim_next(
    conn: &Connection,
    org: OrgId,
    project: ProjectId,
    worker: UserId,
    now: Millis,
    (lease_seconds, max_open): (i64, i64),
) -> StoreResult<Option<Claim>> {
    let held: Vec<Held> = conn
        .prepare_cached(crate::sql::HELD_LEASES)
        .and_then(|mut s| {
            s.query_map(params![worker, project], |r| {
                Ok((
                    r.get(0)?,
                    r.get(1)?,
                    r.get(2)?,
                    r.get(3)?,
                    r.get(4)?,
                    r.get(5)?,
                ))
            })?
            .collect()
        })
        .map_err(db)?;
    if held.iter().any(|h| h.2 <= now) {
        // This worker's own expired leases go back to the pool first, so they do not count against the cap.
        let expired: Vec<i64> = conn
            .prepare_cached(crate::sql::EXPIRE_OWN_LEASES)
            .and_then(|mut s| {
                s.query_map(params![now, worker, project], |r| r.get(0))?
                    .collect()
            })
            .map_err(db)?;
        release_slots(conn, &expired)?;
    }
    let mut live = held.into_iter().filter(|h| h.2 > now);
    let count = live.clone().count() as i64;
    let oldest_held = live.next().map(
        |(assignment_id, item_id, expires_at, external_id, data, sensitivity)| Claim {
            assignment_id,
            item_id,
            external_id,
            data,
            expires_at,
            reused: true,
            sensitivity,
        },
    );
    if count >= max_open {
        return Ok(oldest_held);
    }
    let taken: Option<(i64, Option<String>, String)> = conn
        .prepare_cached(concat!(
            "UPDATE items SET free_slots = free_slots - 1 WHERE id = (",
            crate::ops::next_candidate_sql!(),
            ") RETURNING id, external_id, data"
        ))
        .and_then(|mut s| {
            s.query_row(params![project, worker], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?))
            })
            .optional()
        })
        .map_err(db)?;
    let Some((item_id, external_id, data)) = taken else {
        return Ok(oldest_held);
    };
    let expires_at = now + lease_seconds * 1000;
    let assignment_id: i64 = conn
        .prepare_cached(crate::sql::INSERT_LEASE)
        .and_then(|mut s| {
            s.query_row(
                params![org, project, item_id, worker, now, expires_at],
                |r| r.get(0),
            )
        })
        .map_err(db)?;
    Ok(Some(Claim {
        assignment_id,
        item_id,
        external_id,
        data,
        expires_at,
        reused: false,
        sensitivity: 0,
    }))
}

fn release_slots(conn: &Connection, items: &[i64]) -> StoreResult<()> {
    let mut stmt = conn.prepare_cached(crate::sql::RELEASE_SLOT).map_err(db)?;
    for item in items {
        stmt.execute(params![item]).map_err(db)?;
    }
    Ok(())
}

/// Records a submission: see [`crate::Store::submit`] and the shared version in `ops.rs`.
pub(super) fn submit(conn: &Connection, s: Submission, now: Millis) -> StoreResult<Submitted> {
    let closed: Option<(i64, i64)> = conn
        .prepare_cached(crate::sql::CLOSE_OPEN_LEASE)
        .and_then(|mut st| {
            st.query_row(params![now, s.assignment_id, s.worker_id, s.org_id], |r| {
                Ok((r.get(0)?, r.get(1)?))
            })
            .optional()
        })
        .map_err(db)?;
    let (item_id, project_id) = match closed {
        Some(ids) => {
            conn.prepare_cached(crate::sql::COUNT_ANNOTATION)
                .and_then(|mut st| st.execute(params![ids.0]))
                .map_err(db)?;
            ids
        }
        None => match submit_not_open(conn, &s, now)? {
            Ok(ids) => ids,
            Err(replayed) => return Ok(replayed),
        },
    };
    let annotation_id: i64 = conn
        .prepare_cached(crate::sql::INSERT_ANNOTATION)
        .and_then(|mut st| {
            st.query_row(
                params![
                    s.org_id,
                    project_id,
                    item_id,
                    s.assignment_id,
                    s.worker_id,
                    s.answers,
                    now
                ],
                |r| r.get(0),
            )
        })
        .map_err(db)?;
    if let Some(key) = &s.idempotency_key {
        let recorded = conn
            .prepare_cached(crate::sql::RECORD_IDEMPOTENCY_KEY)
            .and_then(|mut st| {
                st.execute(params![
                    s.worker_id,
                    key,
                    s.assignment_id,
                    annotation_id,
                    now
                ])
            })
            .map_err(db)?;
        if recorded == 0 {
            return Err(crate::conflict(
                "idempotency_key_reused",
                "this Idempotency-Key was already used for another assignment; use a new key per submission",
            ));
        }
    }
    Ok(Submitted {
        annotation_id,
        replayed: false,
    })
}

/// A submission whose lease is not open: a retry, a late submit on an expired lease, or a conflict.
fn submit_not_open(
    conn: &Connection,
    s: &Submission,
    now: Millis,
) -> StoreResult<Result<(i64, i64), Submitted>> {
    let row: Option<(String, i64, i64)> = conn
        .prepare_cached(
            "SELECT status, item_id, project_id FROM assignments WHERE id = $1 AND worker_id = $2 AND org_id = $3",
        )
        .and_then(|mut st| {
            st.query_row(params![s.assignment_id, s.worker_id, s.org_id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
                .optional()
        })
        .map_err(db)?;
    let (status, item_id, project_id) = row.ok_or(StoreError::NotFound)?;
    if let Some(key) = &s.idempotency_key {
        let seen: Option<(i64, i64)> = conn
            .prepare_cached(crate::sql::IDEMPOTENCY_KEY)
            .and_then(|mut st| {
                st.query_row(params![s.worker_id, key], |r| Ok((r.get(0)?, r.get(1)?)))
                    .optional()
            })
            .map_err(db)?;
        if let Some((assignment_id, annotation_id)) = seen {
            return crate::replay(assignment_id, annotation_id, s.assignment_id).map(Err);
        }
    }
    match status.as_str() {
        "expired" => {
            let took = conn
                .prepare_cached(crate::sql::RETAKE_SLOT)
                .and_then(|mut st| st.execute(params![item_id]))
                .map_err(db)?;
            if took == 0 {
                return Err(crate::lease_expired());
            }
            conn.prepare_cached(crate::sql::MARK_SUBMITTED)
                .and_then(|mut st| st.execute(params![now, s.assignment_id]))
                .map_err(db)?;
            Ok(Ok((item_id, project_id)))
        }
        other => Err(crate::closed(other)),
    }
}

pub(super) fn skip(
    conn: &Connection,
    org: OrgId,
    worker: UserId,
    id: AssignmentId,
    reason: &str,
    now: Millis,
) -> StoreResult<()> {
    let row: Option<(String, i64)> = conn
        .prepare_cached("SELECT status, item_id FROM assignments WHERE id = $1 AND worker_id = $2 AND org_id = $3")
        .and_then(|mut st| st.query_row(params![id, worker, org], |r| Ok((r.get(0)?, r.get(1)?))).optional())
        .map_err(db)?;
    let (status, item_id) = row.ok_or(StoreError::NotFound)?;
    match status.as_str() {
        "open" | "expired" => {}
        "skipped" => return Ok(()),
        other => return Err(crate::closed(other)),
    }
    conn.prepare_cached(crate::sql::MARK_SKIPPED)
        .and_then(|mut st| st.execute(params![reason, now, id]))
        .map_err(db)?;
    if status == "open" {
        release_slots(conn, &[item_id])?;
    }
    Ok(())
}

pub(super) fn expire_leases(conn: &Connection, now: Millis, limit: i64) -> StoreResult<u64> {
    let expired: Vec<i64> = conn
        .prepare_cached(
            "UPDATE assignments SET status = 'expired', closed_at = $1 WHERE id IN \
             (SELECT id FROM assignments WHERE status = 'open' AND expires_at <= $1 LIMIT $2) RETURNING item_id",
        )
        .and_then(|mut st| st.query_map(params![now, limit], |r| r.get(0))?.collect())
        .map_err(db)?;
    release_slots(conn, &expired)?;
    Ok(expired.len() as u64)
}

pub(super) fn create_session(conn: &Connection, s: NewSession) -> StoreResult<()> {
    let now = now_millis();
    conn.prepare_cached(crate::sql::DELETE_EXPIRED_SESSIONS)
        .and_then(|mut st| st.execute(params![s.user_id, now]))
        .map_err(db)?;
    conn.prepare_cached(crate::sql::INSERT_SESSION)
        .and_then(|mut st| {
            st.execute(params![
                s.token_hash,
                s.user_id,
                s.csrf_token,
                now,
                s.expires_at
            ])
        })
        .map_err(db)?;
    Ok(())
}

pub(super) fn delete_session(conn: &Connection, hash: &str) -> StoreResult<()> {
    conn.prepare_cached(crate::sql::DELETE_SESSION)
        .and_then(|mut st| st.execute(params![hash]))
        .map_err(db)?;
    Ok(())
}

pub(super) fn set_password_hash(conn: &Connection, user_id: UserId, hash: &str) -> StoreResult<()> {
    let n = conn
        .prepare_cached(crate::sql::SET_PASSWORD_HASH)
        .and_then(|mut st| st.execute(params![hash, user_id]))
        .map_err(db)?;
    if n == 0 {
        Err(StoreError::NotFound)
    } else {
        Ok(())
    }
}

pub(super) fn delete_other_sessions(
    conn: &Connection,
    user_id: UserId,
    keep: &str,
) -> StoreResult<u64> {
    let n = conn
        .prepare_cached(crate::sql::DELETE_OTHER_SESSIONS)
        .and_then(|mut st| st.execute(params![user_id, keep]))
        .map_err(db)?;
    Ok(n as u64)
}
