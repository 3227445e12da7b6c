//! The demo seeding on every backend: the lab's users and projects, and the staffing vendor whose manager sees
//! exactly the vendor's two workers (with the work they did), twice in a row, since `fairloop demo` reuses what
//! exists.

mod common;

use std::collections::BTreeSet;

use common::*;
use fairloop_app::demo::{DEMO_ORG, DEMO_VENDOR, DEMO_VENDOR_MANAGER, VENDOR_WORKERS};
use fairloop_domain::Role;
use fairloop_store::Principal;

fn principal_of(u: &fairloop_store::User) -> Principal {
    Principal {
        user_id: u.id,
        org_id: u.org_id,
        role: u.role,
        email: u.email.clone(),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_demo_vendor_manager_sees_exactly_its_two_workers() {
    for b in backends().await {
        let app = &b.app;
        for run in 1..=2 {
            let demo = app.seed_demo().await.unwrap();
            let (manager, _) = demo
                .users
                .iter()
                .find(|(u, _)| u.email == DEMO_VENDOR_MANAGER)
                .unwrap_or_else(|| panic!("{}: the summary lists the vendor manager", b.name));
            assert_eq!(manager.role, Role::Admin);
            let vendor = principal_of(manager);
            assert!(app.is_vendor_manager(&vendor).await.unwrap(), "{}", b.name);

            let pool = app.vendor_pool(&vendor).await.unwrap();
            let emails: BTreeSet<&str> = pool.workers.iter().map(|w| w.email.as_str()).collect();
            let expected: BTreeSet<&str> = VENDOR_WORKERS.iter().map(|(e, _)| *e).collect();
            assert_eq!(
                emails, expected,
                "{} run {run}: exactly the vendor's two workers",
                b.name
            );
            for w in &pool.workers {
                assert_eq!(
                    w.org_name, DEMO_ORG,
                    "{}: they work in the Demo Lab",
                    b.name
                );
                assert_eq!(
                    w.annotations, 3,
                    "{} run {run}: {} did a little work",
                    b.name, w.email
                );
            }

            // The lab contracts the vendor, and tells the vendor's workers from its own.
            let lab_admin = demo
                .users
                .iter()
                .find(|(u, _)| u.email == "admin@demo.fairloop.test")
                .map(|(u, _)| principal_of(u))
                .unwrap();
            let contracts = app.vendor_contracts(&lab_admin).await.unwrap();
            assert!(
                contracts
                    .iter()
                    .any(|c| c.vendor_name == DEMO_VENDOR && c.ended_at.is_none()),
                "{}: the Demo Lab contracts {DEMO_VENDOR}",
                b.name
            );
            let through_vendor: BTreeSet<String> = app
                .lab_workers(&lab_admin)
                .await
                .unwrap()
                .into_iter()
                .filter(|w| w.vendor_name.as_deref() == Some(DEMO_VENDOR))
                .map(|w| w.email)
                .collect();
            assert_eq!(through_vendor.len(), 2, "{}: {through_vendor:?}", b.name);
        }
    }
}
