//! `fairloop bench`: load tools that measure a running server over HTTP, the way outside clients use it.
//!
//! `queue` creates a project, imports items and workers through the API, then runs N simulated workers in
//! parallel, each looping claim → submit (with an Idempotency-Key), and reports cycles per second and latency
//! percentiles. Every request loop is bounded by `--duration`, and the target must be a loopback address.
//! `gen-items` writes a JSONL file of realistic items for import benchmarks.

use std::io::Write;
use std::path::PathBuf;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use clap::{Args, Subcommand};
use hdrhistogram::Histogram;
use serde_json::{Value, json};

/// Arguments of `fairloop bench`.
#[derive(Debug, Args)]
pub struct BenchArgs {
    #[command(subcommand)]
    command: BenchCommand,
}

#[derive(Debug, Subcommand)]
enum BenchCommand {
    /// Claim+submit cycles against a running server.
    Queue {
        /// The server's base URL (loopback only).
        #[arg(long, default_value = "http://127.0.0.1:8080")]
        url: String,
        /// An admin token of the organization to create the project and workers in.
        #[arg(long, env = "FAIRLOOP_BENCH_TOKEN")]
        token: String,
        /// Simulated workers running at once.
        #[arg(long, default_value_t = 200)]
        workers: usize,
        /// Items to import.
        #[arg(long, default_value_t = 100_000)]
        items: usize,
        /// Workers per item.
        #[arg(long, default_value_t = 1)]
        overlap: u32,
        /// How long to run the load, in seconds.
        #[arg(long, default_value_t = 20)]
        duration: u64,
    },
    /// Write a JSONL file of realistic items (for `fairloop import` and HTTP import benchmarks).
    GenItems {
        /// How many items.
        #[arg(long, default_value_t = 1_000_000)]
        count: usize,
        /// Where to write.
        #[arg(long)]
        output: PathBuf,
    },
}

/// Runs a bench subcommand.
pub async fn run(args: BenchArgs) -> Result<()> {
    match args.command {
        BenchCommand::Queue {
            url,
            token,
            workers,
            items,
            overlap,
            duration,
        } => {
            queue(
                &url,
                &token,
                workers,
                items,
                overlap,
                Duration::from_secs(duration),
            )
            .await
        }
        BenchCommand::GenItems { count, output } => gen_items(count, &output),
    }
}

const WORDS: [&str; 24] = [
    "the",
    "model",
    "answer",
    "is",
    "correct",
    "because",
    "patient",
    "contract",
    "clause",
    "review",
    "shipping",
    "late",
    "excellent",
    "battery",
    "refund",
    "support",
    "quickly",
    "never",
    "again",
    "price",
    "quality",
    "screen",
    "broken",
    "works",
];

fn sentence(seed: usize, len: usize) -> String {
    let mut s = String::with_capacity(len * 7);
    let mut x = seed.wrapping_mul(2_654_435_761).wrapping_add(1);
    for i in 0..len {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
        if i > 0 {
            s.push(' ');
        }
        s.push_str(WORDS[x % WORDS.len()]);
    }
    s
}

fn gen_items(count: usize, output: &PathBuf) -> Result<()> {
    let file =
        std::fs::File::create(output).with_context(|| format!("creating {}", output.display()))?;
    let mut out = std::io::BufWriter::with_capacity(1 << 20, file);
    for i in 0..count {
        let line = json!({"id": format!("item-{i:08}"), "data": {"text": sentence(i, 12 + i % 20), "source": "bench"}});
        writeln!(out, "{line}")?;
    }
    out.flush()?;
    eprintln!("wrote {count} items to {}", output.display());
    Ok(())
}

fn check_loopback(url: &str) -> Result<()> {
    let parsed = reqwest::Url::parse(url).with_context(|| format!("{url:?} is not a URL"))?;
    let host = parsed.host_str().unwrap_or("");
    let loopback = host == "localhost"
        || host
            .trim_start_matches('[')
            .trim_end_matches(']')
            .parse::<std::net::IpAddr>()
            .is_ok_and(|ip| ip.is_loopback());
    if !loopback {
        bail!("bench only targets loopback servers (localhost, 127.0.0.0/8, [::1]); got {host:?}");
    }
    Ok(())
}

async fn queue(
    url: &str,
    token: &str,
    workers: usize,
    items: usize,
    overlap: u32,
    duration: Duration,
) -> Result<()> {
    check_loopback(url)?;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(workers + 8)
        .build()?;
    let auth = format!("Bearer {token}");
    let project: Value = client
        .post(format!("{url}/api/v1/projects"))
        .header("authorization", &auth)
        .json(&json!({
            "name": format!("bench {}", std::process::id()),
            "overlap": overlap,
            "max_open_per_worker": 1,
            "template": {"fields":[{"name":"text","type":"text"}],
                         "questions":[{"name":"label","type":"single_choice","options":["a","b","c"],"required":true}]}
        }))
        .send()
        .await?
        .error_for_status()
        .context("creating the bench project (is the token an admin's?)")?
        .json()
        .await?;
    let pid = project["id"].as_i64().context("project id")?;
    let mut body = Vec::with_capacity(items * 80);
    for i in 0..items {
        writeln!(
            body,
            "{}",
            json!({"id": format!("b{i}"), "data": {"text": sentence(i, 10)}})
        )?;
    }
    let t = Instant::now();
    client
        .post(format!("{url}/api/v1/projects/{pid}/items"))
        .header("authorization", &auth)
        .header("content-type", "application/x-ndjson")
        .body(body)
        .send()
        .await?
        .error_for_status()
        .context("importing bench items")?;
    eprintln!(
        "imported {items} items over HTTP in {:.2}s",
        t.elapsed().as_secs_f64()
    );
    let mut tokens = Vec::with_capacity(workers);
    for w in 0..workers {
        let created: Value = client
            .post(format!("{url}/api/v1/users"))
            .header("authorization", &auth)
            .json(&json!({"email": format!("bench-{}-{w}@bench.test", std::process::id()), "role": "worker"}))
            .send()
            .await?
            .error_for_status()
            .context("creating a bench worker")?
            .json()
            .await?;
        tokens.push(created["token"].as_str().context("token")?.to_string());
    }
    eprintln!("running {workers} workers for {}s", duration.as_secs());
    let cycles = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let deadline = Instant::now() + duration;
    let started = Instant::now();
    let mut tasks = Vec::new();
    for (w, token) in tokens.into_iter().enumerate() {
        let (client, url, cycles, errors) = (
            client.clone(),
            url.to_string(),
            cycles.clone(),
            errors.clone(),
        );
        tasks.push(tokio::spawn(async move {
            let mut cycle_h = Histogram::<u64>::new(3).expect("histogram");
            let mut req_h = Histogram::<u64>::new(3).expect("histogram");
            let auth = format!("Bearer {token}");
            let mut n = 0u64;
            while Instant::now() < deadline {
                let t0 = Instant::now();
                let next = client
                    .post(format!("{url}/api/v1/projects/{pid}/assignments/next"))
                    .header("authorization", &auth)
                    .send()
                    .await;
                let t1 = Instant::now();
                let _ = req_h.record(t1.duration_since(t0).as_micros() as u64);
                let task: Value = match next {
                    Ok(r) if r.status() == 200 => r.json().await.unwrap_or(Value::Null),
                    Ok(r) if r.status() == 204 => break,
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                        continue;
                    }
                };
                let Some(aid) = task["assignment_id"].as_i64() else {
                    continue;
                };
                let label = ["a", "b", "c"][(aid as usize + w) % 3];
                let t2 = Instant::now();
                let sub = client
                    .post(format!("{url}/api/v1/assignments/{aid}/submit"))
                    .header("authorization", &auth)
                    .header("idempotency-key", format!("w{w}-{n}"))
                    .json(&json!({"answers": {"label": label}}))
                    .send()
                    .await;
                let t3 = Instant::now();
                let _ = req_h.record(t3.duration_since(t2).as_micros() as u64);
                match sub {
                    Ok(r) if r.status() == 200 => {
                        cycles.fetch_add(1, Ordering::Relaxed);
                        let _ = cycle_h.record(t3.duration_since(t0).as_micros() as u64);
                    }
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                n += 1;
            }
            (cycle_h, req_h)
        }));
    }
    let mut cycle_h = Histogram::<u64>::new(3)?;
    let mut req_h = Histogram::<u64>::new(3)?;
    for t in tasks {
        let (c, r) = t.await?;
        cycle_h.add(c)?;
        req_h.add(r)?;
    }
    let secs = started.elapsed().as_secs_f64();
    let done = cycles.load(Ordering::Relaxed);
    let stats: Value = client
        .get(format!("{url}/api/v1/projects/{pid}/stats"))
        .header("authorization", &auth)
        .send()
        .await?
        .json()
        .await?;
    let ms = |h: &Histogram<u64>, q: f64| h.value_at_quantile(q) as f64 / 1000.0;
    println!("workers: {workers}, duration: {secs:.1}s");
    println!(
        "claim+submit cycles: {done} ({:.0}/s), errors: {}",
        done as f64 / secs,
        errors.load(Ordering::Relaxed)
    );
    println!(
        "cycle latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(&cycle_h, 0.5),
        ms(&cycle_h, 0.9),
        ms(&cycle_h, 0.99),
        cycle_h.max() as f64 / 1000.0
    );
    println!(
        "request latency ms: p50 {:.2}  p90 {:.2}  p99 {:.2}  max {:.2}",
        ms(&req_h, 0.5),
        ms(&req_h, 0.9),
        ms(&req_h, 0.99),
        req_h.max() as f64 / 1000.0
    );
    println!(
        "server stats: annotations {} (acknowledged {done})",
        stats["annotations"]
    );
    if stats["annotations"].as_u64() != Some(done) {
        bail!(
            "the server holds {} annotations but {done} submits were acknowledged",
            stats["annotations"]
        );
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::check_loopback;

    #[test]
    fn only_loopback_targets_are_accepted() {
        for ok in [
            "http://127.0.0.1:8080",
            "http://localhost:1",
            "http://[::1]:8080/x",
            "http://127.9.9.9",
        ] {
            assert!(check_loopback(ok).is_ok(), "{ok}");
        }
        for bad in [
            "http://10.0.0.1:8080",
            "http://example.com",
            "http://[::2]:80",
            "not a url",
        ] {
            assert!(check_loopback(bad).is_err(), "{bad}");
        }
    }
}
