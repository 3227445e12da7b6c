//! `fairloop quality …` end to end: runs the built binary on the shared reference data and on small files.

use std::path::Path;
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_fairloop");
const DATA: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/quality/");

fn run(args: &[&str]) -> Output {
    Command::new(BIN)
        .arg("quality")
        .args(args)
        .output()
        .expect("run fairloop")
}

fn ok(args: &[&str]) -> String {
    let o = run(args);
    assert!(
        o.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&o.stderr)
    );
    String::from_utf8(o.stdout).unwrap()
}

fn write(dir: &Path, name: &str, text: &str) -> String {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p.to_string_lossy().into_owned()
}

fn expected() -> serde_json::Value {
    serde_json::from_str(&std::fs::read_to_string(format!("{DATA}expected.json")).unwrap()).unwrap()
}

#[test]
fn aggregate_dawid_skene_matches_crowd_kit_on_the_toy_set() {
    let input = format!("{DATA}crowdkit_toy.csv");
    let out = ok(&["aggregate", "--method", "dawid-skene", "--input", &input]);
    let exp = expected();
    let labels = exp["crowdkit_toy"]["crowdkit"]["ds"]["labels"]
        .as_object()
        .unwrap();
    let mut lines = out.lines();
    assert_eq!(lines.next(), Some("task,label,confidence"));
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(',').collect()).collect();
    assert_eq!(rows.len(), labels.len());
    let tasks: Vec<&str> = rows.iter().map(|r| r[0]).collect();
    let mut sorted = tasks.clone();
    sorted.sort();
    assert_eq!(tasks, sorted, "rows are sorted by task");
    for r in &rows {
        assert_eq!(r[1], labels[r[0]].as_str().unwrap());
        let c: f64 = r[2].parse().unwrap();
        assert!(c > 0.99 && c <= 1.0);
    }
}

#[test]
fn aggregate_json_summary_and_every_method() {
    let input = format!("{DATA}crowdkit_simple.csv");
    for method in [
        "majority",
        "dawid-skene",
        "one-coin-dawid-skene",
        "glad",
        "mace",
    ] {
        let out = ok(&["aggregate", "--method", method, "--input", &input, "--json"]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["method"], method);
        assert_eq!(v["tasks"], 10);
        assert_eq!(v["workers"], 6);
        assert!(v["iterations"].is_u64());
        assert_eq!(v["worker_skill"].as_object().unwrap().len(), 6);
    }
}

#[test]
fn aggregate_writes_output_file() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("out.csv");
    let input = format!("{DATA}crowdkit_toy.csv");
    let stdout = ok(&[
        "aggregate",
        "--method",
        "majority",
        "--input",
        &input,
        "--output",
        out.to_str().unwrap(),
    ]);
    assert!(stdout.is_empty());
    let text = std::fs::read_to_string(out).unwrap();
    assert!(
        text.starts_with("task,label,confidence\nt1,no,0.5\n"),
        "{text}"
    );
}

#[test]
fn agreement_prints_the_value_alone_with_full_precision() {
    let exp = expected();
    let dir = tempfile::tempdir().unwrap();
    let m = exp["textbook"]["krippendorff_2011_example"]["reliability_data_observers_x_units"]
        .as_array()
        .unwrap();
    let mut csv = String::from("item,rater,value\n");
    for (o, row) in m.iter().enumerate() {
        for (u, v) in row.as_array().unwrap().iter().enumerate() {
            if let Some(v) = v.as_i64() {
                csv.push_str(&format!("u{u},o{o},{v}\n"));
            }
        }
    }
    let input = write(dir.path(), "r.csv", &csv);
    for level in ["nominal", "ordinal", "interval", "ratio"] {
        let out = ok(&[
            "agreement",
            "--metric",
            "krippendorff-alpha",
            "--level",
            level,
            "--input",
            &input,
        ]);
        let want = exp["textbook"]["krippendorff_2011_example"][level]
            .as_f64()
            .unwrap();
        let got: f64 = out.trim_end().parse().unwrap();
        assert!((got - want).abs() < 1e-9, "{level}: {got} vs {want}");
        assert_eq!(out.lines().count(), 1);
    }
    let out = ok(&[
        "agreement",
        "--metric",
        "krippendorff-alpha",
        "--input",
        &input,
        "--json",
    ]);
    let v: serde_json::Value = serde_json::from_str(&out).unwrap();
    assert_eq!(v["items"], 12);
    assert_eq!(v["raters"], 4);
    assert_eq!(v["pairable_values"], 40);
    assert!(v["observed_disagreement"].is_f64() && v["expected_disagreement"].is_f64());
}

#[test]
fn rank_bradley_terry_orders_items() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(
        dir.path(),
        "c.csv",
        "winner,loser,tie\na,b,\na,c,\nb,c,\nc,a,\nb,a,1\n",
    );
    let out = ok(&["rank", "--method", "bradley-terry", "--input", &input]);
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines[0], "item,score,rank");
    assert!(
        lines[1].starts_with("a,") && lines[1].ends_with(",1"),
        "{out}"
    );
    assert!(
        lines[3].starts_with("c,") && lines[3].ends_with(",3"),
        "{out}"
    );
}

#[test]
fn bad_input_fails_with_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    let input = write(dir.path(), "bad.csv", "task,worker,label\nt1,w1,a\nt2,,b\n");
    let o = run(&["aggregate", "--method", "dawid-skene", "--input", &input]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(
        err.contains("line 3, column `worker`: the value is empty"),
        "{err}"
    );

    let input = write(dir.path(), "cols.csv", "task,annotator,label\nt1,w1,a\n");
    let o = run(&["aggregate", "--method", "majority", "--input", &input]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("no `worker` column"));

    let input = write(
        dir.path(),
        "three.csv",
        "item,rater,value\n1,a,x\n1,b,x\n1,c,y\n",
    );
    let o = run(&["agreement", "--metric", "cohen-kappa", "--input", &input]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("exactly two raters"));

    let o = run(&[
        "aggregate",
        "--method",
        "majority",
        "--input",
        "/nonexistent/labels.csv",
    ]);
    assert!(!o.status.success());
}
