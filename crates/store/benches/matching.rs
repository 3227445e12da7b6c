//! The matching query at 100,000 workers (issue 7: "under 100 ms"), for docs/benchmarks.md.
//!
//! Seeds one organization with 100,000 workers, each with a profile, one or two areas of expertise, one or two
//! languages, a country and (for four in five) a quality history, then measures `match_workers` for a page of
//! 50 under several requirement shapes. SQLite by default; set `FAIRLOOP_BENCH_DATABASE_URL` to an empty
//! PostgreSQL database to measure that instead.
//!
//! The seed writes the source tables (users, profiles, expertise, languages) directly and then runs the backfill
//! of migration `0023_match_rows`, which builds the match rows the query reads.
//!
//! Run with `cargo bench -p fairloop-store --bench matching`.

use std::hint::black_box;

use criterion::{Criterion, criterion_group, criterion_main};
use fairloop_domain::workforce::{self, LanguageNeed, Requirements};
use fairloop_store::params;
use fairloop_store::profiles::MatchQuery;

const WORKERS: i64 = 100_000;

/// The backfill of migration `0023_match_rows` (everything after its `-- BACKFILL` line), one statement at a
/// time: the seed writes the source tables directly, so the match rows are built the way an upgraded
/// installation builds them.
fn backfill_statements(postgres: bool) -> Vec<&'static str> {
    let text = if postgres {
        include_str!("../migrations/postgres/0023_match_rows.sql")
    } else {
        include_str!("../migrations/sqlite/0023_match_rows.sql")
    };
    let (_, backfill) = text.split_once("-- BACKFILL").expect("the backfill marker");
    let (_, backfill) = backfill.split_once('\n').expect("a line after the marker");
    backfill
        .split(";\n")
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .collect()
}

fn seed(store: &dyn fairloop_store::Store, rt: &tokio::runtime::Runtime, postgres: bool) {
    let keys: Vec<(i64, String, String)> = workforce::TAXONOMY
        .iter()
        .enumerate()
        .map(|(i, d)| (i as i64, d.key.to_string(), d.top().to_string()))
        .collect();
    let n = keys.len() as i64;
    rt.block_on(store.write_tx(move |tx| {
        tx.execute("INSERT INTO organizations (id, name, created_at) VALUES (1, 'Bench', 0)", params![])?;
        tx.execute(
            "INSERT INTO users (org_id, email, name, role, created_at) VALUES (1, 'req@bench.test', 'Requester', 'requester', 0)",
            params![],
        )?;
        tx.execute("CREATE TEMPORARY TABLE bench_tax (idx BIGINT PRIMARY KEY, key TEXT NOT NULL, top TEXT NOT NULL)", params![])?;
        for (i, k, t) in &keys {
            tx.execute("INSERT INTO bench_tax VALUES ($1, $2, $3)", params![*i, k.as_str(), t.as_str()])?;
        }
        // 100,000 workers in batches of 10,000 (one statement each).
        for batch in 0..(WORKERS / 10_000) {
            tx.execute(
                "WITH RECURSIVE seq(i) AS (SELECT $1 UNION ALL SELECT i + 1 FROM seq WHERE i < $2) \
                 INSERT INTO users (org_id, email, name, role, country, created_at) \
                 SELECT 1, 'w' || i || '@bench.test', 'Worker ' || i, 'worker', \
                 CASE i % 5 WHEN 0 THEN 'DE' WHEN 1 THEN 'KE' WHEN 2 THEN 'BR' WHEN 3 THEN 'IN' ELSE 'US' END, 0 FROM seq",
                params![batch * 10_000 + 1, batch * 10_000 + 10_000],
            )?;
        }
        tx.execute(
            "INSERT INTO worker_profiles (user_id, org_id, time_zone, hours_per_week, days_mask, min_rate_minor, \
             min_rate_currency, quality_permille, base_points, updated_at) \
             SELECT id, 1, 'UTC', (id * 7) % 41, 31, 1000 + (id * 37) % 5000, 'USD', \
             CASE WHEN id % 5 = 0 THEN NULL ELSE 500 + (id * 13) % 500 END, \
             (CASE WHEN id % 5 = 0 THEN 15 ELSE 30 * (500 + (id * 13) % 500) / 1000 END) + 15 * ((id * 7) % 41) / 40, 0 \
             FROM users WHERE role = 'worker'",
            params![],
        )?;
        tx.execute(
            "INSERT INTO worker_expertise (user_id, org_id, domain, top, years) \
             SELECT u.id, 1, t.key, t.top, (u.id * 11) % 25 FROM users u JOIN bench_tax t ON t.idx = u.id % $1 \
             WHERE u.role = 'worker'",
            params![n],
        )?;
        tx.execute(
            "INSERT INTO worker_expertise (user_id, org_id, domain, top, years) \
             SELECT u.id, 1, t.key, t.top, (u.id * 3) % 12 FROM users u JOIN bench_tax t ON t.idx = (u.id * 7 + 3) % $1 \
             WHERE u.role = 'worker' AND (u.id * 7 + 3) % $1 <> u.id % $1 AND u.id % 2 = 0",
            params![n],
        )?;
        tx.execute(
            "INSERT INTO worker_languages (user_id, org_id, language, level_rank) \
             SELECT id, 1, 'en', 1 + id % 7 FROM users WHERE role = 'worker'",
            params![],
        )?;
        tx.execute(
            "INSERT INTO worker_languages (user_id, org_id, language, level_rank) \
             SELECT id, 1, CASE id % 4 WHEN 0 THEN 'de' WHEN 1 THEN 'sw' WHEN 2 THEN 'pt' ELSE 'hi' END, 7 \
             FROM users WHERE role = 'worker'",
            params![],
        )?;
        for statement in backfill_statements(postgres) {
            tx.execute(statement, params![])?;
        }
        Ok(())
    }))
    .expect("seed");
}

fn query(requirements: Requirements, offset: i64) -> MatchQuery {
    MatchQuery {
        org_id: 1,
        requirements: requirements.validate().expect("valid"),
        project_rate: Some((3000, "USD".to_string())),
        limit: 50,
        offset,
    }
}

fn bench(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let url = std::env::var("FAIRLOOP_BENCH_DATABASE_URL")
        .unwrap_or_else(|_| fairloop_store::sqlite_url_in(dir.path()));
    let store = rt
        .block_on(fairloop_store::connect(&url))
        .expect("open the store");
    let started = std::time::Instant::now();
    seed(store.as_ref(), &rt, url.starts_with("postgres"));
    eprintln!(
        "seeded {WORKERS} workers in {:.1} s on {url}",
        started.elapsed().as_secs_f64()
    );
    let en_c1 = LanguageNeed {
        language: "en".into(),
        min_level: "C1".into(),
    };
    let cases = [
        ("no requirements, page 1", Requirements::default(), 0),
        (
            "no requirements, page 100",
            Requirements::default(),
            99 * 50,
        ),
        (
            "medicine + en C1",
            Requirements {
                domains: vec!["medicine".into()],
                languages: vec![en_c1.clone()],
                ..Default::default()
            },
            0,
        ),
        (
            "dermatology + DE + quality 0.8",
            Requirements {
                domains: vec!["medicine/dermatology".into()],
                countries: vec!["DE".into()],
                min_quality: Some(0.8),
                ..Default::default()
            },
            0,
        ),
        (
            "en C1 + quality 0.7 (wide)",
            Requirements {
                languages: vec![en_c1],
                min_quality: Some(0.7),
                ..Default::default()
            },
            0,
        ),
    ];
    let mut group = c.benchmark_group("match_workers_100k");
    group.sample_size(20);
    for (name, req, offset) in cases {
        let (total, rows) = rt
            .block_on(store.match_workers(query(req.clone(), offset), Some(1)))
            .unwrap();
        eprintln!("{name}: {total} eligible, {} on the page", rows.len());
        group.bench_function(name, |b| {
            b.iter(|| {
                black_box(
                    rt.block_on(store.match_workers(query(req.clone(), offset), Some(1)))
                        .unwrap(),
                )
            })
        });
    }
    group.finish();
}

criterion_group!(benches, bench);
criterion_main!(benches);
