//! `fairloop quality …`: offline agreement, aggregation and ranking over CSV files.
//!
//! A thin clap layer over `fairloop_quality::commands`, where reading, the algorithms and the output formats live
//! (and are tested). Output goes to stdout or `--output FILE`; `--json` prints the JSON summary on stdout instead
//! of the CSV (with `--output`, the CSV still goes to the file). See `docs/quality.md`.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};
use std::path::PathBuf;

use anyhow::{Context, Result, anyhow};
use clap::{Args, Subcommand, ValueEnum};
use fairloop_quality::aggregate::Options;
use fairloop_quality::commands::{
    AggregateSettings, aggregate_command, agreement_command, rank_command,
};

/// Arguments of `fairloop quality`.
#[derive(Debug, Args)]
pub struct QualityArgs {
    /// What to compute.
    #[command(subcommand)]
    pub command: QualityCommand,
}

/// The `fairloop quality` subcommands.
#[derive(Debug, Subcommand)]
pub enum QualityCommand {
    /// Aggregate workers' labels into one label per task (input columns task,worker,label).
    Aggregate(AggregateArgs),
    /// Measure inter-rater agreement (input columns item,rater,value; optional question).
    Agreement(AgreementArgs),
    /// Rank items from pairwise comparisons (winner,loser[,tie]) or rankings (ranking,item,position).
    Rank(RankArgs),
}

/// Input and output flags shared by the subcommands.
#[derive(Debug, Args)]
pub struct IoArgs {
    /// Input CSV with a header row; `-` reads standard input.
    #[arg(long, short)]
    pub input: PathBuf,
    /// Write the CSV here instead of standard output.
    #[arg(long, short)]
    pub output: Option<PathBuf>,
    /// Print a JSON summary instead of the CSV.
    #[arg(long)]
    pub json: bool,
}

/// Aggregation methods.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AggregateMethod {
    /// Majority vote (ties: the label seen first).
    Majority,
    /// Dawid-Skene (full confusion matrices, EM).
    DawidSkene,
    /// One-coin Dawid-Skene (one accuracy per worker).
    OneCoinDawidSkene,
    /// GLAD (worker ability, task difficulty).
    Glad,
    /// MACE (competence and spamming).
    Mace,
    /// Numeric answers: mean.
    Mean,
    /// Numeric answers: median.
    Median,
    /// Numeric answers: trimmed mean (see --trim).
    TrimmedMean,
}

/// Arguments of `fairloop quality aggregate`.
#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// The aggregation method.
    #[arg(long, short, value_enum)]
    pub method: AggregateMethod,
    /// Input, output and format.
    #[command(flatten)]
    pub io: IoArgs,
    /// Maximum EM iterations (method default if absent).
    #[arg(long)]
    pub max_iter: Option<usize>,
    /// Convergence tolerance on the objective per label (method default if absent).
    #[arg(long)]
    pub tol: Option<f64>,
    /// Proportion cut from each end by trimmed-mean.
    #[arg(long, default_value_t = 0.1)]
    pub trim: f64,
}

/// Agreement metrics.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum AgreementMetric {
    /// Krippendorff's alpha (see --level).
    KrippendorffAlpha,
    /// Fleiss' kappa.
    FleissKappa,
    /// Cohen's kappa, exactly two raters (see --weights).
    CohenKappa,
    /// Mean pairwise percent agreement.
    PercentAgreement,
    /// Randolph's free-marginal kappa.
    RandolphKappa,
}

/// Levels of measurement for Krippendorff's alpha.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LevelArg {
    /// Unordered categories.
    Nominal,
    /// Ordered categories.
    Ordinal,
    /// Differences matter.
    Interval,
    /// Ratios matter.
    Ratio,
}

/// Weights for Cohen's kappa.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum WeightsArg {
    /// Unweighted.
    None,
    /// Linear in the distance between label positions.
    Linear,
    /// Quadratic in that distance.
    Quadratic,
}

/// Arguments of `fairloop quality agreement`.
#[derive(Debug, Args)]
pub struct AgreementArgs {
    /// The agreement metric.
    #[arg(long, value_enum)]
    pub metric: AgreementMetric,
    /// Level of measurement for krippendorff-alpha (default nominal).
    #[arg(long, value_enum)]
    pub level: Option<LevelArg>,
    /// Weights for cohen-kappa.
    #[arg(long, value_enum)]
    pub weights: Option<WeightsArg>,
    /// Input, output and format.
    #[command(flatten)]
    pub io: IoArgs,
}

/// Ranking methods.
#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum RankMethod {
    /// Bradley-Terry maximum likelihood.
    BradleyTerry,
}

/// Arguments of `fairloop quality rank`.
#[derive(Debug, Args)]
pub struct RankArgs {
    /// The ranking method.
    #[arg(long, short, value_enum, default_value = "bradley-terry")]
    pub method: RankMethod,
    /// Input, output and format.
    #[command(flatten)]
    pub io: IoArgs,
}

fn name<T: ValueEnum>(v: &T) -> String {
    v.to_possible_value()
        .map(|p| p.get_name().to_string())
        .unwrap_or_default()
}

fn open_input(io: &IoArgs) -> Result<Box<dyn Read>> {
    if io.input.as_os_str() == "-" {
        return Ok(Box::new(BufReader::with_capacity(
            1 << 20,
            std::io::stdin().lock(),
        )));
    }
    let f = File::open(&io.input).with_context(|| format!("cannot open {}", io.input.display()))?;
    Ok(Box::new(BufReader::with_capacity(1 << 20, f)))
}

fn open_output(io: &IoArgs) -> Result<Box<dyn Write>> {
    Ok(match &io.output {
        Some(p) => Box::new(BufWriter::new(
            File::create(p).with_context(|| format!("cannot create {}", p.display()))?,
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    })
}

fn print_json(v: &serde_json::Value) -> Result<()> {
    let mut out = std::io::stdout().lock();
    serde_json::to_writer_pretty(&mut out, v)?;
    writeln!(out)?;
    Ok(())
}

/// Runs a `fairloop quality` subcommand; errors name the file, line and column.
pub fn run(args: QualityArgs) -> Result<()> {
    match args.command {
        QualityCommand::Aggregate(a) => {
            let settings = AggregateSettings {
                options: Options {
                    max_iter: a.max_iter,
                    tol: a.tol,
                },
                trim: a.trim,
            };
            let input = open_input(&a.io)?;
            let write_csv = !a.io.json || a.io.output.is_some();
            let mut out = if write_csv {
                Some(open_output(&a.io)?)
            } else {
                None
            };
            let summary = aggregate_command(
                &name(&a.method),
                settings,
                input,
                out.as_deref_mut().map(|w| w as &mut dyn Write),
            )
            .map_err(|e| anyhow!("{}: {e}", a.io.input.display()))?;
            if let Some(mut o) = out {
                o.flush()?;
            }
            if a.io.json {
                print_json(&summary)?;
            }
        }
        QualityCommand::Agreement(a) => {
            let input = open_input(&a.io)?;
            let level = a.level.map(|l| name(&l));
            let weights = a.weights.map(|w| name(&w));
            let o = agreement_command(
                &name(&a.metric),
                level.as_deref(),
                weights.as_deref(),
                input,
            )
            .map_err(|e| anyhow!("{}: {e}", a.io.input.display()))?;
            if a.io.json {
                print_json(&o.json)?;
            } else {
                let mut out = open_output(&a.io)?;
                out.write_all(o.text.as_bytes())?;
                out.flush()?;
            }
        }
        QualityCommand::Rank(a) => {
            let input = open_input(&a.io)?;
            let write_csv = !a.io.json || a.io.output.is_some();
            let mut out = if write_csv {
                Some(open_output(&a.io)?)
            } else {
                None
            };
            let summary = rank_command(
                &name(&a.method),
                input,
                out.as_deref_mut().map(|w| w as &mut dyn Write),
            )
            .map_err(|e| anyhow!("{}: {e}", a.io.input.display()))?;
            if let Some(mut o) = out {
                o.flush()?;
            }
            if a.io.json {
                print_json(&summary)?;
            }
        }
    }
    Ok(())
}
