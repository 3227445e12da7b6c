//! Property tests: readers never panic on arbitrary input, and writes read back unchanged.

use std::io::Write as _;

use fairloop_formats::{
    CsvExportWriter, ExportAnnotation, ExportItem, JsonlExportWriter, ParquetExportWriter, RawItem,
    ReadLimits, read_csv, read_jsonl, read_parquet,
};
use proptest::prelude::*;
use serde_json::{Map, Value, json};

/// Arbitrary JSON. Floats are multiples of 1/4 so that text round trips are exact whatever
/// serde_json's float parsing mode.
fn json_value() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (-1_000_000i32..1_000_000).prop_map(|n| json!(f64::from(n) / 4.0 + 0.25)),
        any::<String>().prop_map(Value::String),
    ];
    leaf.prop_recursive(3, 32, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::Array),
            prop::collection::vec((any::<String>(), inner), 0..6)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

fn json_object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((any::<String>(), json_value()), 0..6)
        .prop_map(|kv| kv.into_iter().collect())
}

fn export_item() -> impl Strategy<Value = ExportItem> {
    let annotation = (
        any::<String>(),
        any::<String>(),
        json_value(),
        (0i64..4_000_000_000, 0u32..1_000_000),
        json_object(),
    )
        .prop_map(
            |(annotation_id, annotator, answers, (secs, micros), mut extra)| {
                for k in ["annotation_id", "annotator", "answers", "submitted_at"] {
                    extra.remove(k);
                }
                let at = chrono::DateTime::from_timestamp(secs, micros * 1000)
                    .expect("in range")
                    .to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
                ExportAnnotation {
                    annotation_id,
                    annotator,
                    answers,
                    submitted_at: at,
                    extra,
                }
            },
        );
    (
        any::<String>(),
        json_value(),
        prop::collection::vec(annotation, 0..4),
        json_object(),
        json_object(),
    )
        .prop_map(|(id, data, annotations, aggregate, mut extra)| {
            for k in ["id", "data", "annotations", "aggregate"] {
                extra.remove(k);
            }
            ExportItem {
                id,
                data,
                annotations,
                aggregate,
                extra,
            }
        })
}

/// A valid small Parquet export file, to corrupt.
fn sample_parquet() -> Vec<u8> {
    let mut w = ParquetExportWriter::new(Vec::new()).unwrap();
    w.write_item(&ExportItem {
        id: "a".into(),
        data: json!({"text": "hello"}),
        annotations: vec![ExportAnnotation {
            annotation_id: "x".into(),
            annotator: "w".into(),
            answers: json!({"label": "a"}),
            submitted_at: "2026-01-01T00:00:00Z".into(),
            extra: Map::new(),
        }],
        aggregate: Map::new(),
        extra: Map::new(),
    })
    .unwrap();
    w.finish().unwrap()
}

fn check_lines(results: &[Result<RawItem, fairloop_formats::LineError>]) {
    let lines: Vec<u64> = results
        .iter()
        .map(|r| match r {
            Ok(item) => item.line,
            Err(e) => e.line,
        })
        .collect();
    assert!(lines.iter().all(|&l| l >= 1));
    assert!(lines.windows(2).all(|w| w[0] < w[1]), "{lines:?}");
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn jsonl_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048), limit in 1usize..64) {
        let r: Vec<_> = read_jsonl(bytes.as_slice(), &ReadLimits::default()).collect();
        check_lines(&r);
        let r: Vec<_> = read_jsonl(bytes.as_slice(), &ReadLimits { max_line_bytes: limit }).collect();
        check_lines(&r);
    }

    #[test]
    fn jsonl_reader_never_panics_on_jsonish_text(text in "[{}\\[\\]\":,a-z0-9 \\n\\r\\\\]{0,300}") {
        let r: Vec<_> = read_jsonl(text.as_bytes(), &ReadLimits::default()).collect();
        check_lines(&r);
    }

    #[test]
    fn csv_reader_never_panics(bytes in prop::collection::vec(any::<u8>(), 0..2048), limit in 1usize..64) {
        let r: Vec<_> = read_csv(bytes.as_slice(), &ReadLimits::default()).collect();
        check_lines(&r);
        let r: Vec<_> = read_csv(bytes.as_slice(), &ReadLimits { max_line_bytes: limit }).collect();
        check_lines(&r);
    }

    #[test]
    fn csv_reader_never_panics_on_csvish_text(text in "[\",a-z \\n\\r{}:]{0,300}") {
        let input = format!("id,priority,data,text\n{text}");
        let r: Vec<_> = read_csv(input.as_bytes(), &ReadLimits::default()).collect();
        check_lines(&r);
    }

    #[test]
    fn parquet_reader_never_panics_on_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..512)) {
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&bytes).unwrap();
        if let Ok(items) = read_parquet(f, &ReadLimits::default()) {
            let r: Vec<_> = items.collect();
            check_lines(&r);
        }
    }

    #[test]
    fn parquet_reader_never_panics_on_corrupted_files(edits in prop::collection::vec((any::<prop::sample::Index>(), any::<u8>()), 1..8)) {
        let mut bytes = sample_parquet();
        for (at, b) in edits {
            let i = at.index(bytes.len());
            bytes[i] = b;
        }
        let mut f = tempfile::tempfile().unwrap();
        f.write_all(&bytes).unwrap();
        if let Ok(items) = read_parquet(f, &ReadLimits::default()) {
            let r: Vec<_> = items.collect();
            check_lines(&r);
        }
    }

    #[test]
    fn jsonl_import_round_trip(
        items in prop::collection::vec(
            (prop::option::of(".+"), any::<i64>(), json_object(), prop::option::of(json_value())),
            0..8,
        )
    ) {
        let mut text = String::new();
        let mut want = Vec::new();
        for (n, (id, priority, data, gold)) in items.into_iter().enumerate() {
            let gold = gold.filter(|g| !g.is_null());
            let mut line = Map::new();
            if let Some(id) = &id {
                line.insert("id".into(), json!(id));
            }
            line.insert("data".into(), Value::Object(data.clone()));
            line.insert("priority".into(), json!(priority));
            if let Some(g) = &gold {
                line.insert("gold".into(), g.clone());
            }
            text.push_str(&serde_json::to_string(&line).unwrap());
            text.push('\n');
            want.push(RawItem { line: n as u64 + 1, external_id: id, priority, data, gold, sensitivity: Vec::new() });
        }
        let got: Vec<RawItem> = read_jsonl(text.as_bytes(), &ReadLimits::default())
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn csv_import_round_trip(rows in prop::collection::vec(prop::collection::vec(any::<String>(), 3), 0..8)) {
        let mut w = csv::Writer::from_writer(Vec::new());
        w.write_record(["id", "a", "b"]).unwrap();
        let mut want = Vec::new();
        for row in &rows {
            // A row that is one whitespace-only field is a blank line; a row of three empty
            // cells in a 3-column file is "," and stays a record.
            w.write_record(row).unwrap();
            let mut data = Map::new();
            for (name, cell) in ["a", "b"].iter().zip(&row[1..]) {
                if !cell.is_empty() {
                    data.insert((*name).into(), json!(cell));
                }
            }
            want.push((Some(row[0].clone()).filter(|s| !s.is_empty()), data));
        }
        let bytes = w.into_inner().unwrap();
        let got: Vec<(Option<String>, Map<String, Value>)> = read_csv(bytes.as_slice(), &ReadLimits::default())
            .map(|r| r.map(|item| (item.external_id, item.data)))
            .collect::<Result<_, _>>()
            .unwrap();
        prop_assert_eq!(got, want);
    }

    #[test]
    fn jsonl_export_round_trip(items in prop::collection::vec(export_item(), 0..6)) {
        let mut w = JsonlExportWriter::new(Vec::new());
        for item in &items {
            w.write_item(item).unwrap();
        }
        let bytes = w.finish().unwrap();
        let text = std::str::from_utf8(&bytes).unwrap();
        let back: Vec<ExportItem> = text.lines().map(|l| serde_json::from_str(l).unwrap()).collect();
        prop_assert_eq!(back, items);
    }

    #[test]
    fn parquet_export_accepts_anything(items in prop::collection::vec(export_item(), 0..6)) {
        let mut w = ParquetExportWriter::new(Vec::new()).unwrap();
        for item in &items {
            w.write_item(item).unwrap();
        }
        let bytes = w.finish().unwrap();
        prop_assert!(bytes.starts_with(b"PAR1") && bytes.ends_with(b"PAR1"));
    }

    #[test]
    fn csv_export_parses_back(items in prop::collection::vec(export_item(), 0..6)) {
        let mut w = CsvExportWriter::new(Vec::new(), vec!["q".into()]).unwrap();
        for item in &items {
            w.write_item(item).unwrap();
        }
        let bytes = w.finish().unwrap();
        let mut r = csv::ReaderBuilder::new().from_reader(bytes.as_slice());
        let ids: Vec<String> = r.records().map(|rec| rec.unwrap()[0].to_owned()).collect();
        let want: Vec<String> = items
            .iter()
            .flat_map(|i| std::iter::repeat_n(i.id.clone(), i.annotations.len().max(1)))
            .collect();
        prop_assert_eq!(ids, want);
    }
}
