//! The conformance story: one sequence of use cases run against every backend, asserting identical behaviour.
//!
//! SQLite always runs. PostgreSQL runs when `FAIRLOOP_TEST_DATABASE_URL` is set (CI sets it); with
//! `FAIRLOOP_REQUIRE_POSTGRES=1` a missing URL fails instead of skipping, so a broken CI step cannot hide.

use std::sync::Arc;

use fairloop_domain::Role;
use fairloop_domain::queue::QueuePolicy;
use fairloop_store::{NewItem, NewProject, NewUser, Store, StoreError, Submission};
use tokio::sync::mpsc;

async fn backends() -> Vec<(Arc<dyn Store>, Option<tempfile::TempDir>)> {
    let dir = tempfile::tempdir().unwrap();
    let sqlite = fairloop_store::connect(&fairloop_store::sqlite_url_in(dir.path()))
        .await
        .unwrap();
    let mut out: Vec<(Arc<dyn Store>, Option<tempfile::TempDir>)> = vec![(sqlite, Some(dir))];
    match std::env::var("FAIRLOOP_TEST_DATABASE_URL") {
        Ok(url) => out.push((fresh_postgres(&url).await, None)),
        Err(_) if std::env::var("FAIRLOOP_REQUIRE_POSTGRES").is_ok() => {
            panic!("FAIRLOOP_REQUIRE_POSTGRES is set but FAIRLOOP_TEST_DATABASE_URL is not")
        }
        Err(_) => {}
    }
    out
}

/// A new database on the test server, so tests do not see each other's rows.
async fn fresh_postgres(url: &str) -> Arc<dyn Store> {
    use sqlx::Connection;
    let name = format!("fl_conf_{}", rand_suffix());
    let mut admin = sqlx::PgConnection::connect(url).await.unwrap();
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let (base, _) = url.rsplit_once('/').unwrap();
    fairloop_store::connect(&format!("{base}/{name}"))
        .await
        .unwrap()
}

fn rand_suffix() -> String {
    format!(
        "{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    )
}

async fn user(store: &dyn Store, org: &str, email: &str, role: Role) -> fairloop_store::User {
    store
        .upsert_user(NewUser {
            org_name: org.into(),
            email: email.into(),
            name: email.into(),
            role,
            password_hash: None,
        })
        .await
        .unwrap()
}

async fn import(
    store: &dyn Store,
    org: i64,
    project: i64,
    items: Vec<NewItem>,
    atomic: bool,
) -> fairloop_store::ImportOutcome {
    let (tx, rx) = mpsc::channel(4);
    let task = tokio::spawn(async move {
        for chunk in items.chunks(700) {
            tx.send(chunk.to_vec()).await.unwrap();
        }
    });
    let out = store.import_items(org, project, rx, atomic).await.unwrap();
    task.await.unwrap();
    out
}

fn item(ext: &str, priority: i64) -> NewItem {
    NewItem {
        external_id: Some(ext.into()),
        data: format!("{{\"text\":\"{ext}\"}}"),
        priority,
        gold: None,
        sensitivity: 0,
        own_sensitivity: 0,
    }
}

#[tokio::test]
async fn queue_story_behaves_the_same_on_every_backend() {
    for (store, _dir) in backends().await {
        let store = store.as_ref();
        let backend = store.backend();
        let req = user(store, "acme", "req@acme.test", Role::Requester).await;
        let w1 = user(store, "acme", "w1@acme.test", Role::Worker).await;
        let w2 = user(store, "acme", "w2@acme.test", Role::Worker).await;
        let w3 = user(store, "acme", "w3@acme.test", Role::Worker).await;
        let other = user(store, "globex", "req@globex.test", Role::Requester).await;
        assert_eq!(w1.org_id, req.org_id);
        assert_ne!(other.org_id, req.org_id);

        let policy = QueuePolicy {
            overlap: 2,
            lease_seconds: 60,
            max_open_per_worker: 1,
        };
        let p = store
            .create_project(NewProject {
                org_id: req.org_id,
                name: "p".into(),
                template: "{}".into(),
                policy,
                pay: None,
                created_by: req.id,
            })
            .await
            .unwrap();
        // Tenancy: another org cannot see it.
        assert!(
            matches!(
                store.project(other.org_id, p.id).await,
                Err(StoreError::NotFound)
            ),
            "{backend}"
        );

        // Import 1500 items, then again: all duplicates.
        let items: Vec<NewItem> = (0..1500)
            .map(|i| item(&format!("x{i}"), if i == 1499 { 5 } else { 0 }))
            .collect();
        let first = import(store, req.org_id, p.id, items.clone(), true).await;
        assert_eq!((first.imported, first.duplicates), (1500, 0), "{backend}");
        let again = import(store, req.org_id, p.id, items, false).await;
        assert_eq!((again.imported, again.duplicates), (0, 1500), "{backend}");

        // Priority first.
        let now = 1_000_000;
        let c1 = store
            .claim_next(req.org_id, p.id, w1.id, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c1.external_id.as_deref(), Some("x1499"), "{backend}");
        // At the cap, the held assignment comes back.
        let again = store
            .claim_next(req.org_id, p.id, w1.id, now)
            .await
            .unwrap()
            .unwrap();
        assert!(
            again.reused && again.assignment_id == c1.assignment_id,
            "{backend}"
        );
        // Another worker gets the same item (overlap 2), a third gets the next one.
        let c2 = store
            .claim_next(req.org_id, p.id, w2.id, now)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(c2.item_id, c1.item_id, "{backend}");
        let c3 = store
            .claim_next(req.org_id, p.id, w3.id, now)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(c3.item_id, c1.item_id, "{backend}");

        // Submit, and retry with the same key: one annotation.
        let sub = |a: i64, w: i64, key: Option<&str>| Submission {
            org_id: req.org_id,
            worker_id: w,
            assignment_id: a,
            answers: "{\"label\":\"a\"}".into(),
            idempotency_key: key.map(String::from),
        };
        let s1 = store
            .submit(sub(c1.assignment_id, w1.id, Some("k1")), now)
            .await
            .unwrap();
        let s1b = store
            .submit(sub(c1.assignment_id, w1.id, Some("k1")), now)
            .await
            .unwrap();
        assert_eq!(s1.annotation_id, s1b.annotation_id, "{backend}");
        assert!(s1b.replayed && !s1.replayed, "{backend}");
        // Without the key a second submit is a conflict.
        let dup = store
            .submit(sub(c1.assignment_id, w1.id, None), now)
            .await
            .unwrap_err();
        assert!(
            matches!(
                dup,
                StoreError::Conflict {
                    code: "already_submitted",
                    ..
                }
            ),
            "{backend}: {dup:?}"
        );
        // Another worker cannot submit on w1's assignment (not found, not forbidden).
        let foreign = store
            .submit(sub(c1.assignment_id, w2.id, None), now)
            .await
            .unwrap_err();
        assert!(matches!(foreign, StoreError::NotFound), "{backend}");

        // w1 never gets the same item again.
        let c1n = store
            .claim_next(req.org_id, p.id, w1.id, now)
            .await
            .unwrap()
            .unwrap();
        assert_ne!(c1n.item_id, c1.item_id, "{backend}");

        // Skip gives the slot back.
        store
            .skip(req.org_id, w3.id, c3.assignment_id, "unclear", now)
            .await
            .unwrap();

        // Lease expiry: w2's lease ends; the expiry job returns it; a fourth worker takes the slot; w2's late
        // submit is then refused with 409.
        let later = now + 61_000;
        let expired = store.expire_leases(later, 1000).await.unwrap();
        assert!(expired >= 1, "{backend}");
        let w4 = user(store, "acme", "w4@acme.test", Role::Worker).await;
        let c4 = store
            .claim_next(req.org_id, p.id, w4.id, later)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            c4.item_id, c1.item_id,
            "{backend}: the freed slot of the priority item goes first"
        );
        let late = store
            .submit(sub(c2.assignment_id, w2.id, None), later)
            .await
            .unwrap_err();
        assert!(
            matches!(
                late,
                StoreError::Conflict {
                    code: "lease_expired",
                    ..
                }
            ),
            "{backend}: {late:?}"
        );
        store
            .submit(sub(c4.assignment_id, w4.id, None), later)
            .await
            .unwrap();

        let stats = store.project_stats(req.org_id, p.id).await.unwrap();
        assert_eq!(stats.items, 1500, "{backend}");
        assert_eq!(stats.annotations, 2, "{backend}");
        assert_eq!(stats.completed_items, 1, "{backend}");
        assert_eq!(stats.skipped_assignments, 1, "{backend}");
        assert!(
            matches!(
                store.project_stats(other.org_id, p.id).await,
                Err(StoreError::NotFound)
            ),
            "{backend}"
        );

        // Export pages carry the annotations with their items; another org's export is empty.
        let page = store.export_page(req.org_id, p.id, 0, 2000).await.unwrap();
        assert_eq!(page.len(), 1500, "{backend}");
        let annotated: usize = page.iter().map(|r| r.annotations.len()).sum();
        assert_eq!(annotated, 2, "{backend}");
        assert!(
            store
                .export_page(other.org_id, p.id, 0, 10)
                .await
                .unwrap()
                .is_empty(),
            "{backend}"
        );

        // Tokens: revoked tokens stop resolving.
        let t = store.create_token(w1.id, "hash-1", "cli").await.unwrap();
        assert_eq!(
            store
                .principal_by_token_hash("hash-1")
                .await
                .unwrap()
                .unwrap()
                .user_id,
            w1.id
        );
        store.revoke_token(w1.id, t).await.unwrap();
        assert!(
            store
                .principal_by_token_hash("hash-1")
                .await
                .unwrap()
                .is_none(),
            "{backend}"
        );

        // The installation secret is stable.
        let s1 = store.installation_secret().await.unwrap();
        assert_eq!(s1.len(), 32);
    }
}

#[tokio::test]
async fn overlap_holds_under_many_concurrent_workers() {
    for (store, _dir) in backends().await {
        let backend = store.backend();
        let req = user(store.as_ref(), "acme", "req@acme.test", Role::Requester).await;
        let policy = QueuePolicy {
            overlap: 3,
            lease_seconds: 600,
            max_open_per_worker: 1,
        };
        let p = store
            .create_project(NewProject {
                org_id: req.org_id,
                name: "c".into(),
                template: "{}".into(),
                policy,
                pay: None,
                created_by: req.id,
            })
            .await
            .unwrap();
        import(
            store.as_ref(),
            req.org_id,
            p.id,
            (0..40).map(|i| item(&format!("i{i}"), 0)).collect(),
            true,
        )
        .await;
        let mut tasks = Vec::new();
        for w in 0..24 {
            let store = store.clone();
            let u = user(
                store.as_ref(),
                "acme",
                &format!("cw{w}@acme.test"),
                Role::Worker,
            )
            .await;
            let org = req.org_id;
            tasks.push(tokio::spawn(async move {
                let mut seen = std::collections::HashSet::new();
                while let Some(c) = store.claim_next(org, p.id, u.id, 1).await.unwrap() {
                    assert!(seen.insert(c.item_id), "same item twice to one worker");
                    store
                        .submit(
                            Submission {
                                org_id: org,
                                worker_id: u.id,
                                assignment_id: c.assignment_id,
                                answers: "{}".into(),
                                idempotency_key: None,
                            },
                            2,
                        )
                        .await
                        .unwrap();
                }
                seen.len()
            }));
        }
        let mut total = 0;
        for t in tasks {
            total += t.await.unwrap();
        }
        assert_eq!(total, 120, "{backend}: every slot filled exactly once");
        let page = store.export_page(req.org_id, p.id, 0, 100).await.unwrap();
        assert!(page.iter().all(|r| r.annotations.len() == 3), "{backend}");
    }
}

#[tokio::test]
async fn backup_writes_a_consistent_copy() {
    let dir = tempfile::tempdir().unwrap();
    let store = fairloop_store::connect(&fairloop_store::sqlite_url_in(dir.path()))
        .await
        .unwrap();
    user(store.as_ref(), "acme", "a@acme.test", Role::Admin).await;
    let dest = dir.path().join("copy.db");
    store.backup(&dest).await.unwrap();
    let copy = fairloop_store::sqlite::SqliteStore::open(&dest)
        .await
        .unwrap();
    assert!(copy.user_by_email("a@acme.test").await.unwrap().is_some());
    // A second backup to the same file is refused rather than overwriting.
    assert!(matches!(
        store.backup(&dest).await,
        Err(StoreError::Conflict { .. })
    ));
    assert!(matches!(
        fairloop_store::connect("mysql://x").await,
        Err(StoreError::UnsupportedUrl(_))
    ));
}

#[tokio::test]
async fn sessions_and_credentials_behave_the_same_on_every_backend() {
    use fairloop_store::NewSession;
    for (store, _dir) in backends().await {
        let store = store.as_ref();
        let backend = store.backend();
        let u = store
            .upsert_user(NewUser {
                org_name: "acme".into(),
                email: "pw@acme.test".into(),
                name: "Pat".into(),
                role: Role::Worker,
                password_hash: Some("$argon2id$fake".into()),
            })
            .await
            .unwrap();
        let creds = store
            .user_credentials_by_email("pw@acme.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(creds.user.id, u.id, "{backend}");
        assert_eq!(creds.password_hash.as_deref(), Some("$argon2id$fake"));
        assert!(
            store
                .user_credentials_by_email("nobody@acme.test")
                .await
                .unwrap()
                .is_none()
        );

        let now = fairloop_domain::time::now_millis();
        store
            .create_session(NewSession {
                token_hash: "h1".into(),
                user_id: u.id,
                csrf_token: "c1".into(),
                expires_at: now + 60_000,
            })
            .await
            .unwrap();
        let s = store.session_by_hash("h1", now).await.unwrap().unwrap();
        assert_eq!(s.principal.user_id, u.id, "{backend}");
        assert_eq!(s.principal.org_id, u.org_id);
        assert_eq!(s.principal.role, Role::Worker);
        assert_eq!(s.name, "Pat");
        assert_eq!(s.csrf_token, "c1");
        // Expired at a later time; unknown hashes are not found.
        assert!(
            store
                .session_by_hash("h1", now + 60_000)
                .await
                .unwrap()
                .is_none()
        );
        assert!(store.session_by_hash("h2", now).await.unwrap().is_none());
        // Deleting ends it; deleting again is fine.
        store.delete_session("h1").await.unwrap();
        store.delete_session("h1").await.unwrap();
        assert!(store.session_by_hash("h1", now).await.unwrap().is_none());
    }
}

#[tokio::test]
async fn settings_tokens_passwords_and_other_sessions_behave_the_same_on_every_backend() {
    use fairloop_store::NewSession;
    for (store, _dir) in backends().await {
        let store = store.as_ref();
        let backend = store.backend();
        let me = user(store, "acme", "me@acme.test", Role::Worker).await;
        let other = user(store, "acme", "other@acme.test", Role::Worker).await;

        // Tokens: listed newest first with label and times, never the hash; revoked ones say so.
        assert!(
            store.user_tokens(me.id).await.unwrap().is_empty(),
            "{backend}"
        );
        let t1 = store.create_token(me.id, "hash-1", "laptop").await.unwrap();
        let t2 = store.create_token(me.id, "hash-2", "ci").await.unwrap();
        store
            .create_token(other.id, "hash-3", "theirs")
            .await
            .unwrap();
        let list = store.user_tokens(me.id).await.unwrap();
        assert_eq!(
            list.iter()
                .map(|t| (t.id, t.label.as_str()))
                .collect::<Vec<_>>(),
            vec![(t2, "ci"), (t1, "laptop")],
            "{backend}"
        );
        assert!(
            list.iter()
                .all(|t| t.created_at > 0 && t.revoked_at.is_none())
        );
        // Another user cannot revoke my token.
        assert!(matches!(
            store.revoke_token(other.id, t1).await,
            Err(StoreError::NotFound)
        ));
        store.revoke_token(me.id, t1).await.unwrap();
        let list = store.user_tokens(me.id).await.unwrap();
        assert!(
            list.iter()
                .find(|t| t.id == t1)
                .unwrap()
                .revoked_at
                .is_some()
        );
        assert!(
            list.iter()
                .find(|t| t.id == t2)
                .unwrap()
                .revoked_at
                .is_none()
        );
        assert_eq!(store.user_tokens(other.id).await.unwrap().len(), 1);

        // Password hash: replaced for this user only; an unknown user is not found.
        store
            .set_password_hash(me.id, "$argon2id$new")
            .await
            .unwrap();
        let creds = store
            .user_credentials_by_email("me@acme.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            creds.password_hash.as_deref(),
            Some("$argon2id$new"),
            "{backend}"
        );
        let theirs = store
            .user_credentials_by_email("other@acme.test")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(theirs.password_hash, None);
        assert!(matches!(
            store.set_password_hash(i64::MAX, "x").await,
            Err(StoreError::NotFound)
        ));

        // Other sessions: every session of the user but the kept one ends; other users' stay.
        let now = fairloop_domain::time::now_millis();
        for (hash, uid) in [
            ("s1", me.id),
            ("s2", me.id),
            ("s3", me.id),
            ("o1", other.id),
        ] {
            store
                .create_session(NewSession {
                    token_hash: hash.into(),
                    user_id: uid,
                    csrf_token: "c".into(),
                    expires_at: now + 60_000,
                })
                .await
                .unwrap();
        }
        assert_eq!(
            store.delete_other_sessions(me.id, "s2").await.unwrap(),
            2,
            "{backend}"
        );
        assert!(store.session_by_hash("s1", now).await.unwrap().is_none());
        assert!(store.session_by_hash("s2", now).await.unwrap().is_some());
        assert!(store.session_by_hash("s3", now).await.unwrap().is_none());
        assert!(store.session_by_hash("o1", now).await.unwrap().is_some());
        assert_eq!(store.delete_other_sessions(me.id, "s2").await.unwrap(), 0);
    }
}

#[tokio::test]
async fn portable_transactions_read_write_and_roll_back_the_same_on_every_backend() {
    use fairloop_store::params;
    use fairloop_store::portable::Tx;
    for (store, _dir) in backends().await {
        let store: &dyn Store = &*store;
        // A setting written, read back, and a failing closure that leaves nothing behind.
        store
            .write_tx(|tx: &dyn Tx| {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES ($1, $2)",
                    params!["portable_a", "1"],
                )
            })
            .await
            .unwrap();
        let failed = store
            .write_tx(|tx: &dyn Tx| {
                tx.execute(
                    "INSERT INTO settings (key, value) VALUES ($1, $2)",
                    params!["portable_b", "2"],
                )?;
                Err::<(), _>(StoreError::NotFound)
            })
            .await;
        assert!(matches!(failed, Err(StoreError::NotFound)));
        let (keys, typed) = store
            .read_tx(|tx: &dyn Tx| {
                let keys = tx
                    .query(
                        "SELECT key FROM settings WHERE key LIKE $1 ORDER BY key",
                        params!["portable_%"],
                    )?
                    .iter()
                    .map(|r| r.string(0))
                    .collect::<Result<Vec<_>, _>>()?;
                let row = tx.query_one(
                    "SELECT CAST(COUNT(*) AS BIGINT), CAST(SUM(LENGTH(key)) AS BIGINT), \
                     CAST(NULL AS TEXT), CAST(1.5 AS DOUBLE PRECISION) FROM settings WHERE key = $1",
                    params!["portable_a"],
                )?;
                Ok((
                    keys,
                    (row.i64(0)?, row.i64(1)?, row.opt_string(2)?, row.f64(3)?),
                ))
            })
            .await
            .unwrap();
        assert_eq!(keys, vec!["portable_a".to_string()], "{}", store.backend());
        // Placeholders may appear in any order: `$2` before `$1` still binds by number on SQLite too.
        let swapped = store
            .read_tx(|tx: &dyn Tx| {
                let r = tx.query_one(
                    "SELECT CAST($2 AS TEXT), CAST($1 AS BIGINT)",
                    params![7_i64, "x"],
                )?;
                Ok((r.string(0)?, r.i64(1)?))
            })
            .await
            .unwrap();
        assert_eq!(swapped, ("x".to_string(), 7), "{}", store.backend());
        assert_eq!(typed, (1, 10, None, 1.5), "{}", store.backend());
        // Typed nulls bind on both backends; a wrong parameter count is an error, not a panic.
        let org = user(store, "Portable Org", "portable@example.com", Role::Admin)
            .await
            .org_id;
        let n = store
            .write_tx(move |tx: &dyn Tx| {
                tx.execute(
                    "UPDATE organizations SET name = COALESCE($1, name) WHERE id = $2",
                    params![None::<String>, org],
                )
            })
            .await
            .unwrap();
        assert_eq!(n, 1);
        assert!(
            store
                .read_tx(|tx: &dyn Tx| tx.query("SELECT 1 WHERE 1 = $1", &[]))
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn activity_rollup_and_item_browser_behave_the_same_on_every_backend() {
    use fairloop_store::dashboard::{HOUR_MS, ItemFilter};
    for (store, _dir) in backends().await {
        let store = store.as_ref();
        let backend = store.backend();
        let req = user(store, "dash", "req@dash.test", Role::Requester).await;
        let w = user(store, "dash", "w@dash.test", Role::Worker).await;
        let other = user(store, "elsewhere", "req@elsewhere.test", Role::Requester).await;
        let p = store
            .create_project(NewProject {
                org_id: req.org_id,
                name: "dash".into(),
                template: "{}".into(),
                policy: QueuePolicy {
                    overlap: 1,
                    lease_seconds: 600,
                    max_open_per_worker: 1,
                },
                pay: None,
                created_by: req.id,
            })
            .await
            .unwrap();
        let mut items: Vec<NewItem> = (0..130).map(|i| item(&format!("a-{i:03}"), 0)).collect();
        items.extend((0..20).map(|i| item(&format!("b-{i:03}"), 0)));
        items[5].gold = Some("{\"label\":\"a\"}".into());
        import(store, req.org_id, p.id, items, true).await;

        // Three submissions in one hour (20 s, 40 s, 60 s after hand-out), two in the next.
        let hour0 = 490_000_i64;
        let at = |h: i64, s: i64| hour0 * HOUR_MS + h * HOUR_MS + s * 1000;
        for (h, claim_s, submit_s) in [
            (0, 0, 20),
            (0, 100, 140),
            (0, 200, 260),
            (1, 0, 30),
            (1, 40, 70),
        ] {
            let c = store
                .claim_next(req.org_id, p.id, w.id, at(h, claim_s))
                .await
                .unwrap()
                .unwrap();
            store
                .submit(
                    Submission {
                        org_id: req.org_id,
                        worker_id: w.id,
                        assignment_id: c.assignment_id,
                        answers: "{}".into(),
                        idempotency_key: None,
                    },
                    at(h, submit_s),
                )
                .await
                .unwrap();
        }
        // Far in the future, so the roll-up has history to catch up on in several steps.
        let now = at(60, 0);
        let mut steps = 0;
        store.rollup_activity(now).await.unwrap();
        while store.rollup_behind(now).await.unwrap() {
            store.rollup_activity(now).await.unwrap();
            steps += 1;
            assert!(steps < 10, "{backend}: the roll-up does not catch up");
        }
        let act = store
            .project_activity(req.org_id, p.id, hour0)
            .await
            .unwrap();
        let got: Vec<(i64, i64, i64)> = act
            .iter()
            .map(|a| (a.hour - hour0, a.submissions, a.work_ms))
            .collect();
        assert_eq!(got, vec![(0, 3, 120_000), (1, 2, 60_000)], "{backend}");
        // Idempotent: running again changes nothing; another organization sees nothing.
        store.rollup_activity(now).await.unwrap();
        assert_eq!(
            store
                .project_activity(req.org_id, p.id, hour0)
                .await
                .unwrap(),
            act,
            "{backend}"
        );
        assert!(
            store
                .project_activity(other.org_id, p.id, hour0)
                .await
                .unwrap()
                .is_empty(),
            "{backend}"
        );

        // The browser: pages by key, prefix search, state filters, tenancy.
        let page1 = browse(store, (req.org_id, p.id), 1, ItemFilter::All, None, 0, 50)
            .await
            .unwrap();
        assert_eq!(page1.len(), 50, "{backend}");
        let page3 = browse(
            store,
            (req.org_id, p.id),
            1,
            ItemFilter::All,
            None,
            page1[49].id + 50,
            50,
        )
        .await
        .unwrap();
        assert_eq!(page3.len(), 50, "{backend}");
        assert_eq!(
            page3.last().unwrap().external_id.as_deref(),
            Some("b-019"),
            "{backend}"
        );
        let b = browse(
            store,
            (req.org_id, p.id),
            1,
            ItemFilter::All,
            Some("b-01".into()),
            0,
            50,
        )
        .await
        .unwrap();
        let ids: Vec<_> = b.iter().map(|i| i.external_id.clone().unwrap()).collect();
        assert_eq!(ids.len(), 10, "{backend}: {ids:?}");
        assert!(ids.iter().all(|i| i.starts_with("b-01")), "{backend}");
        let done = browse(store, (req.org_id, p.id), 1, ItemFilter::Done, None, 0, 50)
            .await
            .unwrap();
        assert_eq!(done.len(), 5, "{backend}");
        assert!(done.iter().all(|i| i.annotations == 1), "{backend}");
        let not_started = browse(
            store,
            (req.org_id, p.id),
            1,
            ItemFilter::NotStarted,
            Some("a-".into()),
            0,
            500,
        )
        .await
        .unwrap();
        assert_eq!(not_started.len(), 125, "{backend}");
        let gold = browse(store, (req.org_id, p.id), 1, ItemFilter::Gold, None, 0, 50)
            .await
            .unwrap();
        assert_eq!(gold.len(), 1, "{backend}");
        assert!(
            gold[0].gold && gold[0].preview.contains("a-005"),
            "{backend}"
        );
        assert!(
            browse(store, (other.org_id, p.id), 1, ItemFilter::All, None, 0, 50)
                .await
                .unwrap()
                .is_empty(),
            "{backend}"
        );
    }
}

/// The item browser with its query spelled out as arguments, to keep the assertions short.
async fn browse(
    store: &dyn Store,
    (org, project): (i64, i64),
    overlap: i64,
    filter: fairloop_store::dashboard::ItemFilter,
    id_prefix: Option<String>,
    after: i64,
    limit: i64,
) -> Result<Vec<fairloop_store::dashboard::ItemSummary>, StoreError> {
    store
        .browse_items(
            org,
            project,
            fairloop_store::dashboard::ItemQuery {
                overlap,
                filter,
                id_prefix,
                after,
                limit,
            },
        )
        .await
}
