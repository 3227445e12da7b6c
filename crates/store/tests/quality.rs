//! The quality store functions on every backend: the gold hand-out (slots below zero, the cap, once per worker,
//! another organization), the job's input and its guarded save (a run that lost a race writes nothing), and
//! tenancy of the stored figures.
//!
//! SQLite always runs; PostgreSQL when `FAIRLOOP_TEST_DATABASE_URL` is set (required with
//! `FAIRLOOP_REQUIRE_POSTGRES=1`).

use std::sync::Arc;

use fairloop_domain::Role;
use fairloop_domain::queue::QueuePolicy;
use fairloop_store::portable::Tx;
use fairloop_store::quality::{ItemQualityRow, QualityResults, QualitySettings};
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

async fn fresh_postgres(url: &str) -> Arc<dyn Store> {
    use sqlx::Connection;
    let name = format!(
        "fl_quality_{:x}{:x}",
        std::process::id(),
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .unwrap()
            .as_nanos()
    );
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

fn item(ext: &str, gold: Option<&str>) -> NewItem {
    NewItem {
        external_id: Some(ext.into()),
        data: "{}".into(),
        priority: 0,
        gold: gold.map(str::to_string),
        sensitivity: 0,
        own_sensitivity: 0,
    }
}

async fn free_slots(store: &(dyn Store + 'static), ext: &'static str) -> i64 {
    store
        .read_tx(move |tx: &dyn Tx| {
            tx.query_one(
                "SELECT free_slots FROM items WHERE external_id = $1",
                &[ext.into()],
            )?
            .i64(0)
        })
        .await
        .unwrap()
}

#[tokio::test]
async fn gold_hand_out_and_guarded_quality_saves_behave_the_same_on_every_backend() {
    for (store, _dir) in backends().await {
        let store: &(dyn Store + 'static) = store.as_ref();
        let backend = store.backend();
        let req = user(store, "acme", "req@acme.test", Role::Requester).await;
        let w1 = user(store, "acme", "w1@acme.test", Role::Worker).await;
        let other = user(store, "globex", "req@globex.test", Role::Requester).await;
        let p = store
            .create_project(NewProject {
                org_id: req.org_id,
                name: "p".into(),
                template: "{}".into(),
                policy: QueuePolicy {
                    overlap: 2,
                    lease_seconds: 60,
                    max_open_per_worker: 1,
                },
                pay: None,
                created_by: req.id,
            })
            .await
            .unwrap();
        let (tx, rx) = mpsc::channel(1);
        tx.send(vec![
            item("n1", None),
            item("g1", Some("{\"label\":\"a\"}")),
        ])
        .await
        .unwrap();
        drop(tx);
        store
            .import_items(req.org_id, p.id, rx, false)
            .await
            .unwrap();
        assert_eq!(free_slots(store, "n1").await, 2, "{backend}");
        assert_eq!(
            free_slots(store, "g1").await,
            0,
            "{backend}: gold starts without slots"
        );

        // Settings: only in the project's organization.
        let s = QualitySettings {
            gold_rate: 0.25,
            adaptive: Some((0.6, 3)),
        };
        store
            .set_quality_settings(req.org_id, p.id, s)
            .await
            .unwrap();
        assert_eq!(store.quality_settings(req.org_id, p.id).await.unwrap(), s);
        assert!(matches!(
            store.set_quality_settings(other.org_id, p.id, s).await,
            Err(StoreError::NotFound)
        ));

        // Another organization's worker id and org get nothing; the worker gets the gold item once.
        assert!(
            store
                .claim_gold(other.org_id, p.id, w1.id, 1000, 60, 1)
                .await
                .unwrap()
                .is_none(),
            "{backend}"
        );
        let g = store
            .claim_gold(req.org_id, p.id, w1.id, 1000, 60, 1)
            .await
            .unwrap()
            .expect("a gold item");
        assert_eq!(g.external_id.as_deref(), Some("g1"));
        assert_eq!(free_slots(store, "g1").await, -1, "{backend}");
        // At the cap of one open lease: no further gold (the normal claim hands back the held lease).
        assert!(
            store
                .claim_gold(req.org_id, p.id, w1.id, 1000, 60, 1)
                .await
                .unwrap()
                .is_none()
        );
        let held = store
            .claim_next(req.org_id, p.id, w1.id, 1000)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((held.assignment_id, held.reused), (g.assignment_id, true));
        store
            .submit(
                Submission {
                    org_id: req.org_id,
                    worker_id: w1.id,
                    assignment_id: g.assignment_id,
                    answers: "{\"label\":\"b\"}".into(),
                    idempotency_key: None,
                },
                1001,
            )
            .await
            .unwrap();
        assert_eq!(
            free_slots(store, "g1").await,
            -1,
            "{backend}: a submit keeps the slot taken"
        );
        // Once answered, never again for this worker, even under the cap.
        assert!(
            store
                .claim_gold(req.org_id, p.id, w1.id, 1002, 60, 5)
                .await
                .unwrap()
                .is_none()
        );

        // The job's input: the gold submission is unscored; two runs read the same watermark.
        let first = store
            .next_quality_input()
            .await
            .unwrap()
            .expect("work to do");
        let second = store
            .next_quality_input()
            .await
            .unwrap()
            .expect("work to do");
        assert_eq!(first.project.project_id, p.id);
        assert_eq!(first.unscored_gold.len(), 1);
        assert_eq!(first.unscored_gold[0].1, "{\"label\":\"a\"}");
        assert!(
            first.annotations.is_empty(),
            "gold answers are not normal annotations"
        );
        let save = |input: &fairloop_store::quality::QualityInput| QualityResults {
            org_id: input.project.org_id,
            project_id: input.project.project_id,
            previous_watermark: input.project.last_annotation_id,
            watermark: input.max_annotation_id,
            items: vec![ItemQualityRow {
                item_id: held.item_id,
                agreement: None,
                answer: None,
                confidence: None,
                annotations: 0,
                method: "majority".into(),
            }],
            questions: Vec::new(),
            workers: Vec::new(),
            gold: Vec::new(),
            extra_slots: Vec::new(),
            now: 2000,
        };
        store.save_quality(save(&first)).await.unwrap();
        // The second run read the old watermark: it lost the race and writes nothing.
        let mut late = save(&second);
        late.items[0].method = "late".into();
        assert!(matches!(
            store.save_quality(late).await,
            Err(StoreError::Conflict { .. })
        ));
        let method: String = store
            .read_tx(|tx: &dyn Tx| {
                tx.query_one("SELECT method FROM item_quality", &[])?
                    .string(0)
            })
            .await
            .unwrap();
        assert_eq!(method, "majority", "{backend}");
        assert!(
            store.next_quality_input().await.unwrap().is_none(),
            "{backend}: up to date"
        );

        // Figures are the organization's only.
        assert!(matches!(
            store.quality_report(other.org_id, p.id).await,
            Err(StoreError::NotFound)
        ));
        assert!(matches!(
            store.quality_summary(other.org_id, p.id).await,
            Err(StoreError::NotFound)
        ));
        let (q, gold) = store
            .export_quality_page(other.org_id, p.id, 0, i64::MAX)
            .await
            .unwrap();
        assert!(q.is_empty() && gold.is_empty(), "{backend}");
        let (q, gold) = store
            .export_quality_page(req.org_id, p.id, 0, i64::MAX)
            .await
            .unwrap();
        assert_eq!((q.len(), gold.len()), (1, 1), "{backend}");
    }
}
