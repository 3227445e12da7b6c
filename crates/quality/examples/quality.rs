//! A stand-in for `fairloop quality …` that needs only this crate, so the benchmark and the Python cross-check
//! can run while the rest of the workspace is being built. Same flags and output as the real command:
//!
//! ```text
//! cargo run --release -p fairloop-quality --example quality -- aggregate --method dawid-skene --input labels.csv
//! cargo run --release -p fairloop-quality --example quality -- agreement --metric krippendorff-alpha --level interval --input r.csv
//! cargo run --release -p fairloop-quality --example quality -- rank --method bradley-terry --input c.csv --json
//! ```
//! Also generates the benchmark data: `gen-labels --tasks N --workers W --classes K --overlap R --seed S`
//! writes `task,worker,label` for workers of varied accuracy to stdout.

use std::fs::File;
use std::io::{BufReader, BufWriter, Read, Write};

use fairloop_quality::aggregate::Options;
use fairloop_quality::commands::{
    AggregateSettings, aggregate_command, agreement_command, rank_command,
};

fn flag(args: &[String], name: &str) -> Option<String> {
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .cloned()
}

fn input(args: &[String]) -> Box<dyn Read> {
    match flag(args, "--input").as_deref() {
        None | Some("-") => Box::new(std::io::stdin().lock()),
        Some(p) => Box::new(BufReader::with_capacity(
            1 << 20,
            File::open(p).unwrap_or_else(|e| die(&format!("{p}: {e}"))),
        )),
    }
}

fn die(msg: &str) -> ! {
    eprintln!("error: {msg}");
    std::process::exit(1)
}

/// SplitMix64: a tiny, good-enough generator so the example needs no dependency.
struct Rng(u64);
impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1u64 << 53) as f64
    }
    fn below(&mut self, n: u64) -> u64 {
        self.next() % n
    }
}

fn gen_labels(args: &[String]) {
    let get = |n: &str, d: u64| {
        flag(args, n).map_or(d, |v| {
            v.parse().unwrap_or_else(|_| die(&format!("bad {n}")))
        })
    };
    let (tasks, workers, classes, overlap, seed) = (
        get("--tasks", 1000),
        get("--workers", 300),
        get("--classes", 4),
        get("--overlap", 3),
        get("--seed", 1),
    );
    let mut rng = Rng(seed);
    let acc: Vec<f64> = (0..workers).map(|_| 0.45 + 0.5 * rng.unit()).collect();
    let mut out = BufWriter::with_capacity(1 << 20, std::io::stdout().lock());
    let mut truth =
        flag(args, "--truth").map(|p| BufWriter::new(File::create(p).expect("truth file")));
    writeln!(out, "task,worker,label").unwrap();
    if let Some(t) = truth.as_mut() {
        writeln!(t, "task,label").unwrap();
    }
    for t in 0..tasks {
        let y = rng.below(classes);
        if let Some(tr) = truth.as_mut() {
            writeln!(tr, "t{t},c{y}").unwrap();
        }
        let mut chosen: Vec<u64> = Vec::new();
        while chosen.len() < overlap as usize {
            let w = rng.below(workers);
            if !chosen.contains(&w) {
                chosen.push(w);
            }
        }
        for w in chosen {
            let l = if rng.unit() < acc[w as usize] {
                y
            } else {
                (y + 1 + rng.below(classes - 1)) % classes
            };
            writeln!(out, "t{t},w{w},c{l}").unwrap();
        }
    }
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let mut out: Box<dyn Write> = match flag(&args, "--output") {
        Some(p) => Box::new(BufWriter::new(
            File::create(&p).unwrap_or_else(|e| die(&format!("{p}: {e}"))),
        )),
        None => Box::new(BufWriter::new(std::io::stdout().lock())),
    };
    let to_file = flag(&args, "--output").is_some();
    let result = match args.first().map(String::as_str) {
        Some("gen-labels") => {
            gen_labels(&args);
            return;
        }
        Some("aggregate") => {
            let mut settings = AggregateSettings {
                options: Options {
                    max_iter: flag(&args, "--max-iter").and_then(|v| v.parse().ok()),
                    tol: flag(&args, "--tol").and_then(|v| v.parse().ok()),
                },
                ..Default::default()
            };
            if let Some(t) = flag(&args, "--trim").and_then(|v| v.parse().ok()) {
                settings.trim = t;
            }
            let method = flag(&args, "--method").unwrap_or_else(|| die("--method is required"));
            let csv: Option<&mut dyn Write> = if json && !to_file {
                None
            } else {
                Some(&mut *out)
            };
            aggregate_command(&method, settings, input(&args), csv).map(|s| json.then_some(s))
        }
        Some("agreement") => {
            let metric = flag(&args, "--metric").unwrap_or_else(|| die("--metric is required"));
            agreement_command(
                &metric,
                flag(&args, "--level").as_deref(),
                flag(&args, "--weights").as_deref(),
                input(&args),
            )
            .map(|o| {
                if json {
                    Some(o.json)
                } else {
                    out.write_all(o.text.as_bytes()).unwrap();
                    None
                }
            })
        }
        Some("rank") => {
            let method = flag(&args, "--method").unwrap_or_else(|| "bradley-terry".into());
            let csv: Option<&mut dyn Write> = if json && !to_file {
                None
            } else {
                Some(&mut *out)
            };
            rank_command(&method, input(&args), csv).map(|s| json.then_some(s))
        }
        _ => die("usage: quality aggregate|agreement|rank|gen-labels …"),
    };
    match result {
        Ok(Some(summary)) => {
            let mut stdout = std::io::stdout().lock();
            serde_json::to_writer_pretty(&mut stdout, &summary).unwrap();
            writeln!(stdout).unwrap();
        }
        Ok(None) => {}
        Err(e) => die(&e.to_string()),
    }
    out.flush().unwrap();
}
