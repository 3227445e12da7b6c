//! The `fairloop` binary: one executable for the server, the demo, operator tasks and offline quality tools.
//!
//! Each subcommand parses its flags, merges the configuration (see [`config`]) and calls the same use cases
//! the HTTP API calls. Errors are printed once, at the top, with their whole chain of causes.

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};

mod bench;
mod commands;
mod config;
mod ledger_cmd;
mod quality_cmd;

use config::StorageArgs;

/// Fairloop: expert human data, fairly paid.
#[derive(Debug, Parser)]
#[command(name = "fairloop", version, about, propagate_version = true)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the server.
    Serve {
        #[command(flatten)]
        storage: StorageArgs,
        /// Address to listen on.
        #[arg(long, env = "FAIRLOOP_LISTEN")]
        listen: Option<String>,
    },
    /// Create (or reuse) a demo organization with sample projects and users, and serve it.
    Demo {
        #[command(flatten)]
        storage: StorageArgs,
        /// Address to listen on.
        #[arg(long, env = "FAIRLOOP_LISTEN")]
        listen: Option<String>,
        /// Seed the demo data and exit without serving.
        #[arg(long)]
        no_serve: bool,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        command: UsersCommand,
    },
    /// Import items into a project from a JSONL, CSV or Parquet file.
    Import {
        #[command(flatten)]
        storage: StorageArgs,
        /// The project's id.
        project_id: i64,
        /// The file (format from its extension unless --format is given).
        file: PathBuf,
        /// atomic (any bad line rejects the file) or skip (good lines imported, bad ones listed).
        #[arg(long, default_value = "atomic")]
        mode: String,
        /// jsonl, csv or parquet.
        #[arg(long)]
        format: Option<String>,
    },
    /// Export a project's items, annotations and aggregated answers.
    Export {
        #[command(flatten)]
        storage: StorageArgs,
        /// The project's id.
        project_id: i64,
        /// jsonl, parquet, csv, coco, yolo (a ZIP) or video_jsonl (see docs/api.md).
        #[arg(long, default_value = "jsonl")]
        format: String,
        /// Where to write; `-` for standard output.
        #[arg(long)]
        output: PathBuf,
    },
    /// Print a commented example configuration file.
    DefaultConfig,
    /// Bring the database schema up to date (serve does this too) and report.
    Migrate {
        #[command(flatten)]
        storage: StorageArgs,
    },
    /// Write a consistent copy of the SQLite database while the server keeps running.
    Backup {
        #[command(flatten)]
        storage: StorageArgs,
        /// The new file to write (must not exist).
        #[arg(long)]
        output: PathBuf,
    },
    /// Offline quality tools: agreement, aggregation, ranking over CSV files.
    Quality(quality_cmd::QualityArgs),
    /// Load tools that measure a running server (see docs/benchmarks.md).
    Bench(bench::BenchArgs),
    /// The ledger: verify the books, fund a budget (see docs/ledger.md).
    Ledger(ledger_cmd::LedgerArgs),
    /// Payout runs and the payment provider's answers.
    Payouts(ledger_cmd::PayoutArgs),
}

#[derive(Debug, Subcommand)]
enum UsersCommand {
    /// Create a user (and its organization if missing) and print an API token as the last line.
    Add {
        #[command(flatten)]
        storage: StorageArgs,
        /// Sign-in email.
        #[arg(long)]
        email: String,
        /// admin, requester, reviewer or worker.
        #[arg(long)]
        role: String,
        /// Organization name (created if missing).
        #[arg(long, default_value = "Default")]
        org: String,
        /// Display name.
        #[arg(long, default_value = "")]
        name: String,
        /// Read a password for web sign-in from standard input.
        #[arg(long)]
        password_stdin: bool,
        /// The organization is a staffing vendor and the user one of its managers (role admin; docs/vendors.md).
        #[arg(long)]
        vendor: bool,
    },
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_env("FAIRLOOP_LOG")
                .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,sqlx=warn")),
        )
        .with_writer(std::io::stderr)
        .init();
    let result = match cli.command {
        Command::Quality(args) => quality_cmd::run(args),
        other => {
            let runtime = tokio::runtime::Builder::new_multi_thread()
                .enable_all()
                .build()
                .expect("tokio runtime");
            runtime.block_on(run(other))
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn run(command: Command) -> anyhow::Result<()> {
    match command {
        Command::Serve { storage, listen } => commands::serve(&storage, listen.as_deref()).await,
        Command::Demo {
            storage,
            listen,
            no_serve,
        } => commands::demo(&storage, listen.as_deref(), no_serve).await,
        Command::Users {
            command:
                UsersCommand::Add {
                    storage,
                    email,
                    role,
                    org,
                    name,
                    password_stdin,
                    vendor,
                },
        } => {
            commands::users_add(&storage, &email, &role, &org, &name, password_stdin, vendor).await
        }
        Command::Import {
            storage,
            project_id,
            file,
            mode,
            format,
        } => commands::import(&storage, project_id, &file, &mode, format.as_deref()).await,
        Command::Export {
            storage,
            project_id,
            format,
            output,
        } => commands::export(&storage, project_id, &format, &output).await,
        Command::DefaultConfig => {
            print!("{}", config::DEFAULT_CONFIG);
            Ok(())
        }
        Command::Migrate { storage } => commands::migrate(&storage).await,
        Command::Backup { storage, output } => commands::backup(&storage, &output).await,
        Command::Bench(args) => bench::run(args).await,
        Command::Ledger(args) => ledger_cmd::ledger(args).await,
        Command::Payouts(args) => ledger_cmd::payouts(args).await,
        Command::Quality(_) => unreachable!("handled before the runtime starts"),
    }
}
