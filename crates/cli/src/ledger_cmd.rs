//! `fairloop ledger …` and `fairloop payouts …`: verify the books, fund a budget, run payouts (docs/operations.md).
//!
//! Money-moving commands act as a named user (`--as EMAIL`) and go through the same use cases and role checks
//! as the API, so the ledger records who funded or paid out; only `verify`, which changes nothing, needs no user.

use std::path::PathBuf;

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use fairloop_app::App;
use fairloop_app::ledger::FundBody;
use fairloop_app::payouts::{SettleBody, payouts_csv};
use fairloop_domain::time::now_millis;
use fairloop_store::Principal;

use crate::config::StorageArgs;

/// Arguments of `fairloop ledger`.
#[derive(Debug, Args)]
pub struct LedgerArgs {
    #[command(subcommand)]
    command: LedgerCommand,
}

#[derive(Debug, Subcommand)]
enum LedgerCommand {
    /// Check that every transaction balances and every cached balance equals its entries; exits 1 and names
    /// each transaction, account or project that is off.
    Verify {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Fund an organization's budget (a requester or admin of it).
    Fund {
        #[command(flatten)]
        storage: StorageArgs,
        /// Email of the requester or admin funding it.
        #[arg(long = "as")]
        as_user: String,
        /// Amount in minor units (cents).
        #[arg(long)]
        amount_minor: i64,
        /// ISO 4217 code.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// The payment's reference: funding the same reference twice posts once.
        #[arg(long)]
        reference: String,
    },
    /// Set the platform's minimum effective hourly rate (every organization).
    Floor {
        #[command(flatten)]
        storage: StorageArgs,
        /// Minimum per hour in minor units.
        #[arg(long)]
        hourly_minor: i64,
        /// ISO 4217 code.
        #[arg(long, default_value = "USD")]
        currency: String,
        /// A country's own floor, `CC=MINOR` (repeatable), e.g. `--country DE=1400`.
        #[arg(long = "country")]
        countries: Vec<String>,
    },
    /// Top up every worker of the admin's organization who was under the floor last week (once per period).
    TopUps {
        #[command(flatten)]
        storage: StorageArgs,
        /// Email of an admin of the organization.
        #[arg(long = "as")]
        as_user: String,
    },
}

/// Arguments of `fairloop payouts`.
#[derive(Debug, Args)]
pub struct PayoutArgs {
    #[command(subcommand)]
    command: PayoutCommand,
}

#[derive(Debug, Subcommand)]
enum PayoutCommand {
    /// Pay out every positive earnings balance of the admin's organization for this week; writes the CSV for
    /// the payment provider. Running it again this week pays nothing twice.
    Run {
        #[command(flatten)]
        storage: StorageArgs,
        /// Email of an admin of the organization.
        #[arg(long = "as")]
        as_user: String,
        /// Where to write the CSV; `-` for standard output.
        #[arg(long)]
        output: PathBuf,
    },
    /// Record the provider's answer for a pending payout.
    Settle {
        #[command(flatten)]
        storage: StorageArgs,
        /// Email of an admin of the organization.
        #[arg(long = "as")]
        as_user: String,
        /// The payout id (first CSV column).
        id: i64,
        /// paid or failed.
        #[arg(long)]
        status: String,
        /// Why it failed (required with failed).
        #[arg(long)]
        reason: Option<String>,
    },
    /// Retry a failed payout.
    Retry {
        #[command(flatten)]
        storage: StorageArgs,
        /// Email of an admin of the organization.
        #[arg(long = "as")]
        as_user: String,
        /// The payout id.
        id: i64,
    },
}

async fn open(storage: &StorageArgs) -> Result<App> {
    let config = crate::config::Config::load(storage, None)?;
    let store = fairloop_store::connect(&config.database_url)
        .await
        .with_context(|| {
            format!(
                "opening the database {}",
                crate::config::redact(&config.database_url)
            )
        })?;
    Ok(App::new(store, config.app.clone()))
}

async fn principal(app: &App, email: &str) -> Result<Principal> {
    let user = app
        .store
        .user_by_email(&email.trim().to_lowercase())
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("--as: no user with the email {email:?}"))?;
    Ok(Principal {
        user_id: user.id,
        org_id: user.org_id,
        role: user.role,
        email: user.email,
    })
}

/// Runs `fairloop ledger …`.
pub async fn ledger(args: LedgerArgs) -> Result<()> {
    match args.command {
        LedgerCommand::Verify { storage } => {
            let app = open(&storage).await?;
            let pb =
                crate::commands::bar(0, "{spinner} checking transactions {pos}/{len} {elapsed}");
            let report = app
                .verify_ledger(|done, total| {
                    pb.set_length(total);
                    pb.set_position(done);
                })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            pb.finish_and_clear();
            eprintln!(
                "checked {} transactions, {} accounts, {} project budgets",
                report.transactions, report.accounts, report.budgets
            );
            if !report.problems.is_empty() {
                for p in &report.problems {
                    println!("{p}");
                }
                bail!(
                    "the ledger is off in {} place(s) (listed above)",
                    report.problems.len()
                );
            }
            println!("ok: every transaction balances and every balance equals its entries");
            Ok(())
        }
        LedgerCommand::Fund {
            storage,
            as_user,
            amount_minor,
            currency,
            reference,
        } => {
            let app = open(&storage).await?;
            let p = principal(&app, &as_user).await?;
            let posted = app
                .fund_budget(
                    &p,
                    FundBody {
                        amount_minor,
                        currency,
                        reference,
                    },
                )
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            if posted.created {
                println!("funded: transaction {}", posted.transaction_id);
            } else {
                println!(
                    "already funded by transaction {} (same reference): nothing changed",
                    posted.transaction_id
                );
            }
            Ok(())
        }
        LedgerCommand::Floor {
            storage,
            hourly_minor,
            currency,
            countries,
        } => {
            let app = open(&storage).await?;
            let floor = fairloop_app::floor::PayFloor {
                currency,
                hourly_minor,
                countries: parse_countries(&countries)?,
            };
            app.set_pay_floor(floor.clone())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "pay floor: {} {} an hour",
                floor.hourly_minor, floor.currency
            );
            Ok(())
        }
        LedgerCommand::TopUps { storage, as_user } => {
            let app = open(&storage).await?;
            let p = principal(&app, &as_user).await?;
            let run = app
                .run_top_ups(&p, now_millis())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!(
                "{} top-ups posted, {} minor units in all",
                run.posted, run.total_minor
            );
            Ok(())
        }
    }
}

fn parse_countries(list: &[String]) -> Result<std::collections::BTreeMap<String, i64>> {
    list.iter()
        .map(|c| {
            let (code, rate) = c
                .split_once('=')
                .with_context(|| format!("--country {c:?}: write it as CC=MINOR, e.g. DE=1400"))?;
            let rate = rate
                .parse()
                .with_context(|| format!("--country {c:?}: {rate:?} is not a whole number"))?;
            Ok((code.to_string(), rate))
        })
        .collect()
}

/// Runs `fairloop payouts …`.
pub async fn payouts(args: PayoutArgs) -> Result<()> {
    match args.command {
        PayoutCommand::Run {
            storage,
            as_user,
            output,
        } => {
            let app = open(&storage).await?;
            let p = principal(&app, &as_user).await?;
            let created = app
                .payout_run(&p, now_millis())
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            let csv = payouts_csv(&created);
            if output.as_os_str() == "-" {
                print!("{csv}");
            } else {
                std::fs::write(&output, csv)
                    .with_context(|| format!("writing {}", output.display()))?;
            }
            eprintln!("{} payouts created", created.len());
            Ok(())
        }
        PayoutCommand::Settle {
            storage,
            as_user,
            id,
            status,
            reason,
        } => {
            let app = open(&storage).await?;
            let p = principal(&app, &as_user).await?;
            let payout = app
                .payout_settle(&p, id, SettleBody { status, reason })
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?;
            println!("payout {} is {}", payout.id, payout.status);
            Ok(())
        }
        PayoutCommand::Retry {
            storage,
            as_user,
            id,
        } => {
            let app = open(&storage).await?;
            let p = principal(&app, &as_user).await?;
            match app
                .payout_retry(&p, id)
                .await
                .map_err(|e| anyhow::anyhow!("{e}"))?
            {
                Some(n) => println!("payout {id} retried as payout {}", n.id),
                None => println!("payout {id} marked retried; nothing is owed any more"),
            }
            Ok(())
        }
    }
}
