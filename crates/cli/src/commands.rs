//! The subcommands that use the store: serve, demo, users, import, export, migrate, backup.

use std::io::{IsTerminal, Read, Write};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;

use anyhow::{Context, Result, bail};
use fairloop_app::export::{ExportFormat, ExportProgress};
use fairloop_app::import::{ImportMode, ImportProgress};
use fairloop_app::jobs::LeaseExpiry;
use fairloop_app::{App, AppError};
use fairloop_domain::Role;
use fairloop_formats::ImportFormat;
use fairloop_store::Principal;
use fairloop_web::AppState;
use indicatif::{ProgressBar, ProgressStyle};

use crate::config::{Config, StorageArgs, redact};

async fn open(storage: &StorageArgs, listen: Option<&str>) -> Result<(Config, App)> {
    let config = Config::load(storage, listen)?;
    let store = fairloop_store::connect(&config.database_url)
        .await
        .with_context(|| format!("opening the database {}", redact(&config.database_url)))?;
    let media = config.media_store()?;
    Ok((
        config.clone(),
        App::new(store, config.app.clone()).with_media(media),
    ))
}

/// Turns a use-case error into a CLI error with the same sentence the API would give.
fn app_err(e: AppError) -> anyhow::Error {
    anyhow::anyhow!("{e}")
}

pub async fn serve(storage: &StorageArgs, listen: Option<&str>) -> Result<()> {
    let (config, app) = open(storage, listen).await?;
    run_server(config, app, None).await
}

async fn run_server(config: Config, app: App, banner: Option<String>) -> Result<()> {
    let listener = tokio::net::TcpListener::bind(&config.listen)
        .await
        .with_context(|| {
            format!(
                "binding {}; is another server running there? (use --listen)",
                config.listen
            )
        })?;
    tokio::spawn(LeaseExpiry::new(app.clone()).run(Duration::from_secs(1)));
    tokio::spawn(
        fairloop_app::dashboard::ActivityRollup::new(app.clone()).run(Duration::from_secs(30)),
    );
    tokio::spawn(fairloop_app::quality::QualityJob::new(app.clone()).run(Duration::from_secs(2)));
    tokio::spawn(fairloop_app::ledger::PayPosting::new(app.clone()).run(Duration::from_secs(1)));
    let webhooks = fairloop_app::webhooks::WebhookJob::new(app.clone()).map_err(app_err)?;
    tokio::spawn(webhooks.run(Duration::from_secs(2)));
    tokio::spawn(
        fairloop_app::lifecycle::LifecycleClosing::new(app.clone()).run(Duration::from_secs(30)),
    );
    tokio::spawn(fairloop_app::media::MediaJanitor::new(app.clone()).run(Duration::from_secs(300)));
    let state = AppState {
        app,
        tmp_dir: config.tmp_dir()?,
    };
    tracing::info!(
        backend = state.app.store.backend(),
        data_dir = %config.data_dir.display(),
        media = state.app.media_store().describe(),
        "starting"
    );
    if let Some(b) = banner {
        print!("{b}");
    }
    fairloop_web::serve(listener, fairloop_web::router(state), shutdown_signal()).await?;
    Ok(())
}

async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        if let Ok(mut s) = tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate())
        {
            s.recv().await;
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
    tracing::info!("shutting down");
}

pub async fn demo(storage: &StorageArgs, listen: Option<&str>, no_serve: bool) -> Result<()> {
    let (config, app) = open(storage, listen).await?;
    let summary = app
        .seed_demo()
        .await
        .map_err(app_err)
        .context("seeding the demo")?;
    let mut banner = String::new();
    banner.push_str("\nFairloop demo: organization \"Demo Lab\"\n\nProjects:\n");
    for (id, name, items) in &summary.projects {
        banner.push_str(&format!("  #{id:<3} {name} ({items} items)\n"));
    }
    banner.push_str(&format!(
        "\nUsers (web password for all: {}; API tokens are new on every run):\n",
        fairloop_app::demo::DEMO_PASSWORD
    ));
    for (user, token) in &summary.users {
        banner.push_str(&format!(
            "  {:<10} {:<32} {token}\n",
            user.role.as_str(),
            user.email
        ));
    }
    let first = summary.projects.first().map(|p| p.0).unwrap_or(1);
    banner.push_str(&format!(
        "\nOpen http://{}/ and sign in as worker1@demo.fairloop.test (or requester@…) with the password above.\n",
        config.listen
    ));
    banner.push_str(&format!(
        "Or use the API:\n  curl -s -X POST -H \"Authorization: Bearer {}\" http://{}/api/v1/projects/{first}/assignments/next\n\n",
        summary.users.get(3).map(|u| u.1.as_str()).unwrap_or("TOKEN"),
        config.listen
    ));
    if no_serve {
        print!("{banner}");
        return Ok(());
    }
    run_server(config, app, Some(banner)).await
}

pub async fn users_add(
    storage: &StorageArgs,
    email: &str,
    role: &str,
    org: &str,
    name: &str,
    password_stdin: bool,
    vendor: bool,
) -> Result<()> {
    let role: Role = role.parse()?;
    if vendor && role != Role::Admin {
        anyhow::bail!("a vendor's users are its managers: use --role admin with --vendor");
    }
    let password = if password_stdin {
        let mut s = String::new();
        std::io::stdin()
            .read_to_string(&mut s)
            .context("reading the password from standard input")?;
        Some(s.trim_end_matches(['\r', '\n']).to_string())
    } else {
        None
    };
    let (_, app) = open(storage, None).await?;
    let (user, token) = if vendor {
        app.create_vendor(org, email, name, password.as_deref())
            .await
            .map_err(app_err)?
    } else {
        app.add_user(org, email, name, role, password.as_deref())
            .await
            .map_err(app_err)?
    };
    eprintln!(
        "user {} ({}) in organization #{}",
        user.email, user.role, user.org_id
    );
    println!("{token}");
    Ok(())
}

/// The operator acts for the project's creator, inside that project's organization.
async fn operator_for(app: &App, project_id: i64) -> Result<Principal> {
    let creator = app
        .store
        .project_creator(project_id)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?
        .with_context(|| format!("project {project_id} does not exist"))?;
    Ok(Principal {
        user_id: creator.id,
        org_id: creator.org_id,
        role: Role::Admin,
        email: creator.email,
    })
}

pub(crate) fn bar(len: u64, template: &str) -> ProgressBar {
    let pb = if std::io::stderr().is_terminal() {
        ProgressBar::new(len)
    } else {
        ProgressBar::hidden()
    };
    pb.set_style(
        ProgressStyle::with_template(template)
            .expect("valid template")
            .progress_chars("=> "),
    );
    pb.enable_steady_tick(Duration::from_millis(100));
    pb
}

pub async fn import(
    storage: &StorageArgs,
    project_id: i64,
    file: &Path,
    mode: &str,
    format: Option<&str>,
) -> Result<()> {
    let mode = ImportMode::parse(mode).map_err(app_err)?;
    let format = match format {
        Some("jsonl") => ImportFormat::Jsonl,
        Some("csv") => ImportFormat::Csv,
        Some("parquet") => ImportFormat::Parquet,
        Some(other) => bail!("--format must be jsonl, csv or parquet, got {other:?}"),
        None => ImportFormat::from_path(file).with_context(|| {
            format!(
                "cannot tell the format of {} from its name; pass --format",
                file.display()
            )
        })?,
    };
    let size = std::fs::metadata(file)
        .with_context(|| format!("reading {}", file.display()))?
        .len();
    let (_, app) = open(storage, None).await?;
    let who = operator_for(&app, project_id).await?;
    let progress = Arc::new(ImportProgress::default());
    let pb = bar(
        size,
        "{msg:10} [{bar:40}] {bytes}/{total_bytes} {bytes_per_sec} ({eta})",
    );
    let watcher = {
        let (progress, pb) = (progress.clone(), pb.clone());
        tokio::spawn(async move {
            loop {
                pb.set_message(if progress.phase.load(Ordering::Relaxed) == 0 {
                    "validating"
                } else {
                    "importing"
                });
                pb.set_position(progress.bytes.load(Ordering::Relaxed));
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        })
    };
    let started = std::time::Instant::now();
    let report = app
        .import_file(
            &who,
            project_id,
            file.to_path_buf(),
            format,
            mode,
            progress.clone(),
        )
        .await;
    watcher.abort();
    pb.finish_and_clear();
    let report = report.map_err(app_err)?;
    for e in &report.errors {
        eprintln!("line {}: {}", e.line, e.message);
    }
    if report.error_count as usize > report.errors.len() {
        eprintln!(
            "… and {} more bad lines",
            report.error_count as usize - report.errors.len()
        );
    }
    let secs = started.elapsed().as_secs_f64();
    if report.rejected {
        bail!(
            "{} bad lines; nothing was imported (use --mode skip to import the good lines)",
            report.error_count
        );
    }
    println!(
        "imported {} items, {} duplicates, {} bad lines in {:.2}s ({:.0} items/s)",
        report.imported,
        report.duplicates,
        report.error_count,
        secs,
        (report.imported + report.duplicates) as f64 / secs.max(1e-9)
    );
    Ok(())
}

pub async fn export(
    storage: &StorageArgs,
    project_id: i64,
    format: &str,
    output: &Path,
) -> Result<()> {
    let format = ExportFormat::parse(format).map_err(app_err)?;
    let (_, app) = open(storage, None).await?;
    let who = operator_for(&app, project_id).await?;
    let total = app
        .project_stats(&who, project_id)
        .await
        .map_err(app_err)?
        .items as u64;
    let progress = Arc::new(ExportProgress::default());
    let started = std::time::Instant::now();
    let mut rx = app
        .export(&who, project_id, format, progress.clone())
        .await
        .map_err(app_err)?;
    let to_stdout = output.as_os_str() == "-";
    let mut out: Box<dyn Write> = if to_stdout {
        Box::new(std::io::BufWriter::new(std::io::stdout().lock()))
    } else {
        Box::new(std::io::BufWriter::new(
            std::fs::File::create(output)
                .with_context(|| format!("creating {}", output.display()))?,
        ))
    };
    let pb = bar(
        total,
        "exporting [{bar:40}] {pos}/{len} items {per_sec} ({eta})",
    );
    while let Some(chunk) = rx.recv().await {
        out.write_all(&chunk.map_err(app_err)?)
            .context("writing the export")?;
        pb.set_position(progress.items.load(Ordering::Relaxed));
    }
    out.flush().context("writing the export")?;
    pb.finish_and_clear();
    let secs = started.elapsed().as_secs_f64();
    let anns = progress.annotations.load(Ordering::Relaxed);
    eprintln!(
        "exported {} items, {anns} annotations in {secs:.2}s ({:.0} annotations/s)",
        progress.items.load(Ordering::Relaxed),
        anns as f64 / secs.max(1e-9)
    );
    Ok(())
}

pub async fn migrate(storage: &StorageArgs) -> Result<()> {
    let (config, app) = open(storage, None).await?;
    println!(
        "{} database {} is up to date",
        app.store.backend(),
        redact(&config.database_url)
    );
    Ok(())
}

pub async fn backup(storage: &StorageArgs, output: &Path) -> Result<()> {
    let (_, app) = open(storage, None).await?;
    app.store
        .backup(output)
        .await
        .map_err(|e| anyhow::anyhow!("{e}"))?;
    println!(
        "wrote a consistent copy of the database to {}",
        output.display()
    );
    Ok(())
}
