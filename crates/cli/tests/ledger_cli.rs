//! `fairloop ledger` and `fairloop payouts` as an operator runs them, on SQLite and (when configured)
//! PostgreSQL: funding posts once per reference, verify passes on good books and fails (exit 1, naming the
//! account) on tampered ones, and a payout run writes the provider's CSV.

mod common;

use std::path::Path;
use std::process::{Command, Output};

use common::{BIN, fresh_postgres};

fn fairloop(data_dir: &Path, db: &Option<String>, args: &[&str]) -> Output {
    let mut c = Command::new(BIN);
    c.args(args).arg("--data-dir").arg(data_dir);
    if let Some(url) = db {
        c.arg("--database-url").arg(url);
    }
    c.output().unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fund_verify_and_run_payouts_from_the_command_line() {
    let mut dbs = vec![None];
    match fresh_postgres().await {
        Some(url) => dbs.push(Some(url)),
        None if std::env::var("FAIRLOOP_REQUIRE_POSTGRES").is_ok() => {
            panic!("FAIRLOOP_REQUIRE_POSTGRES is set but FAIRLOOP_TEST_DATABASE_URL is not")
        }
        None => {}
    }
    for db in dbs {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data");
        let add = |email: &str, role: &str| {
            let out = fairloop(
                &data,
                &db,
                &[
                    "users", "add", "--email", email, "--role", role, "--org", "Acme",
                ],
            );
            assert!(out.status.success(), "{}", text(&out.stderr));
        };
        add("ops@acme.test", "admin");
        add("pat@acme.test", "worker");
        let fund = |reference: &str| {
            fairloop(
                &data,
                &db,
                &[
                    "ledger",
                    "fund",
                    "--as",
                    "ops@acme.test",
                    "--amount-minor",
                    "5000",
                    "--currency",
                    "USD",
                    "--reference",
                    reference,
                ],
            )
        };
        let first = fund("wire-1");
        assert!(first.status.success(), "{}", text(&first.stderr));
        assert!(text(&first.stdout).starts_with("funded: transaction"));
        let again = fund("wire-1");
        assert!(again.status.success());
        assert!(
            text(&again.stdout).contains("nothing changed"),
            "{}",
            text(&again.stdout)
        );
        let worker_funds = fairloop(
            &data,
            &db,
            &[
                "ledger",
                "fund",
                "--as",
                "pat@acme.test",
                "--amount-minor",
                "1",
                "--reference",
                "x",
            ],
        );
        assert!(!worker_funds.status.success());
        assert!(text(&worker_funds.stderr).contains("requester or admin"));

        let ok = fairloop(&data, &db, &["ledger", "verify"]);
        assert!(
            ok.status.success(),
            "{}{}",
            text(&ok.stdout),
            text(&ok.stderr)
        );
        assert!(text(&ok.stdout).starts_with("ok:"));

        let run = fairloop(
            &data,
            &db,
            &["payouts", "run", "--as", "ops@acme.test", "--output", "-"],
        );
        assert!(run.status.success(), "{}", text(&run.stderr));
        assert!(
            text(&run.stdout).starts_with("payout_id,worker_email,worker_name,amount,amount_minor")
        );
        let not_admin = fairloop(
            &data,
            &db,
            &["payouts", "run", "--as", "pat@acme.test", "--output", "-"],
        );
        assert!(!not_admin.status.success());

        let floor = fairloop(
            &data,
            &db,
            &[
                "ledger",
                "floor",
                "--hourly-minor",
                "1500",
                "--currency",
                "USD",
                "--country",
                "DE=1400",
            ],
        );
        assert!(floor.status.success(), "{}", text(&floor.stderr));
        assert_eq!(text(&floor.stdout).trim(), "pay floor: 1500 USD an hour");
        let bad_country = fairloop(
            &data,
            &db,
            &[
                "ledger",
                "floor",
                "--hourly-minor",
                "1500",
                "--country",
                "Germany=1400",
            ],
        );
        assert!(!bad_country.status.success());
        assert!(
            text(&bad_country.stderr).contains("two-letter ISO 3166"),
            "{}",
            text(&bad_country.stderr)
        );
        let top_ups = fairloop(&data, &db, &["ledger", "top-ups", "--as", "ops@acme.test"]);
        assert!(top_ups.status.success(), "{}", text(&top_ups.stderr));
        assert!(text(&top_ups.stdout).starts_with("0 top-ups posted"));

        // Tamper with a cached balance behind the ledger's back: verify names the account and exits 1.
        let url = db
            .clone()
            .unwrap_or_else(|| format!("sqlite://{}", data.join("fairloop.db").display()));
        let store = fairloop_store::connect(&url).await.unwrap();
        store
            .write_tx(|tx| {
                tx.execute(
                    "UPDATE ledger_accounts SET balance_minor = balance_minor - 7 WHERE kind = 'budget'",
                    &[],
                )
            })
            .await
            .unwrap();
        drop(store);
        let bad = fairloop(&data, &db, &["ledger", "verify"]);
        assert_eq!(bad.status.code(), Some(1));
        let out = text(&bad.stdout);
        assert!(
            out.contains("budget 0 USD) caches balance 4993 but its entries sum to 5000"),
            "{out}"
        );
        assert!(text(&bad.stderr).contains("the ledger is off in 1 place(s)"));
    }
}
