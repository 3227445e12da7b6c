//! Throughput of the JSONL import reader (items/s) and the export writers (annotations/s) on
//! generated data, for docs/benchmarks.md.
//!
//! Run with `cargo bench -p fairloop-formats --bench formats`.

use std::hint::black_box;

use criterion::{Criterion, Throughput, criterion_group, criterion_main};
use fairloop_formats::{
    ExportAnnotation, ExportItem, JsonlExportWriter, ParquetExportWriter, ReadLimits, read_csv,
    read_jsonl,
};
use serde_json::{Map, json};

const ITEMS: usize = 10_000;
const ANNOTATIONS_PER_ITEM: usize = 3;
const LABELS: [&str; 3] = ["pos", "neg", "neu"];

/// A typical text-classification import line (~200 bytes).
fn import_jsonl() -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..ITEMS {
        let line = json!({
            "id": format!("item-{i:06}"),
            "data": {
                "text": format!("Review {i}: the product arrived on time and works as described, \
                                 although the manual is only available in English."),
                "source": "shop-a",
                "stars": i % 5 + 1,
            },
            "priority": i % 3,
        });
        serde_json::to_writer(&mut out, &line).unwrap();
        out.push(b'\n');
    }
    out
}

fn import_csv() -> Vec<u8> {
    let mut out = b"id,text,source,stars,priority\n".to_vec();
    for i in 0..ITEMS {
        out.extend_from_slice(
            format!(
                "item-{i:06},\"Review {i}: the product arrived on time and works as described, \
                 although the manual is only available in English.\",shop-a,{},{}\n",
                i % 5 + 1,
                i % 3
            )
            .as_bytes(),
        );
    }
    out
}

/// Export records shaped like the contract: data, three annotations with a single-choice and a
/// free-text answer, an aggregate.
fn export_items() -> Vec<ExportItem> {
    (0..ITEMS)
        .map(|i| ExportItem {
            id: format!("item-{i:06}"),
            data: json!({"text": format!("Review {i}: the product arrived on time and works as described.")}),
            annotations: (0..ANNOTATIONS_PER_ITEM)
                .map(|k| {
                    let mut extra = Map::new();
                    extra.insert("guideline_version".into(), json!(2));
                    ExportAnnotation {
                        annotation_id: format!("ann-{i:06}-{k}"),
                        annotator: format!("w-{:04x}", (i * 7 + k) % 4096),
                        answers: json!({"label": LABELS[(i + k) % 3], "comment": "ok"}),
                        submitted_at: "2026-11-23T10:15:30.123456Z".into(),
                        extra,
                    }
                })
                .collect(),
            aggregate: json!({"label": "pos"}).as_object().cloned().unwrap_or_default(),
            extra: Map::new(),
        })
        .collect()
}

fn bench_import(c: &mut Criterion) {
    let jsonl = import_jsonl();
    let csv = import_csv();
    let limits = ReadLimits::default();
    let mut g = c.benchmark_group("import");
    g.throughput(Throughput::Elements(ITEMS as u64));
    g.bench_function("jsonl_items", |b| {
        b.iter(|| {
            let n = read_jsonl(black_box(jsonl.as_slice()), &limits)
                .filter(Result::is_ok)
                .count();
            assert_eq!(n, ITEMS);
        })
    });
    g.bench_function("csv_items", |b| {
        b.iter(|| {
            let n = read_csv(black_box(csv.as_slice()), &limits)
                .filter(Result::is_ok)
                .count();
            assert_eq!(n, ITEMS);
        })
    });
    g.finish();
}

fn bench_export(c: &mut Criterion) {
    let items = export_items();
    let mut g = c.benchmark_group("export");
    g.throughput(Throughput::Elements((ITEMS * ANNOTATIONS_PER_ITEM) as u64));
    g.bench_function("jsonl_annotations", |b| {
        let mut buf = Vec::with_capacity(8 << 20);
        b.iter(|| {
            buf.clear();
            let mut w = JsonlExportWriter::new(&mut buf);
            for item in &items {
                w.write_item(black_box(item)).unwrap();
            }
            w.finish().unwrap();
        })
    });
    g.bench_function("parquet_annotations", |b| {
        b.iter(|| {
            let mut w = ParquetExportWriter::new(Vec::with_capacity(4 << 20)).unwrap();
            for item in &items {
                w.write_item(black_box(item)).unwrap();
            }
            black_box(w.finish().unwrap());
        })
    });
    g.finish();
}

criterion_group!(benches, bench_import, bench_export);
criterion_main!(benches);
