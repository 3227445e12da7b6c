//! Checks against published worked examples and the reference Python implementations' outputs, stored in
//! `shared/data/quality/expected.json` (crowd-kit 1.4.2, krippendorff 0.9.0, scikit-learn, statsmodels).

use std::collections::HashMap;

use fairloop_quality::aggregate::{Aggregation, Method, Options, aggregate};
use fairloop_quality::agreement::{
    Level, Metric, Weights, agreement, fleiss_kappa_table, krippendorff_alpha_counts,
};
use fairloop_quality::{LabelData, RatingData};
use serde_json::Value;

const DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/data/quality/");

fn read(name: &str) -> String {
    std::fs::read_to_string(format!("{DIR}{name}")).unwrap_or_else(|e| panic!("{DIR}{name}: {e}"))
}

fn expected() -> Value {
    serde_json::from_str(&read("expected.json")).unwrap()
}

fn labels(name: &str) -> LabelData {
    fairloop_quality::io::read_labels(read(name).as_bytes()).unwrap()
}

/// The 1979 data, all rows or only the first repeat.
fn dawid_skene_1979(first_repeat_only: bool) -> LabelData {
    let text = read("dawid_skene_1979.csv");
    let mut d = LabelData::new();
    for line in text.lines().skip(1) {
        let f: Vec<&str> = line.split(',').collect();
        if !first_repeat_only || f[3] == "0" {
            d.push(f[0], f[1], f[2]);
        }
    }
    d
}

/// A label as crowd-kit wrote it (a JSON string or number).
fn text(v: &Value) -> String {
    match v {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    }
}

fn close(a: f64, b: f64, tol: f64, what: &str) {
    assert!(
        (a - b).abs() <= tol,
        "{what}: ours {a} vs expected {b} (diff {:e})",
        (a - b).abs()
    );
}

fn check_probas(d: &LabelData, r: &Aggregation, exp: &Value, tol: f64, what: &str) {
    let probas = exp["probas"].as_object().unwrap();
    assert_eq!(probas.len(), d.tasks.len(), "{what}: task count");
    for (task, row) in probas {
        let t = d.tasks.lookup(task).unwrap() as usize;
        for (label, v) in row.as_object().unwrap() {
            let c = d.classes.lookup(label).unwrap() as usize;
            close(
                r.proba_row(t)[c],
                v.as_f64().unwrap(),
                tol,
                &format!("{what} P({label}|{task})"),
            );
        }
    }
}

fn check_labels(d: &LabelData, r: &Aggregation, exp: &Value, what: &str) {
    for (task, label) in exp["labels"].as_object().unwrap() {
        let t = d.tasks.lookup(task).unwrap() as usize;
        let ours = d.classes.get(r.label[t]);
        assert_eq!(ours, text(label), "{what}: label of task {task}");
    }
}

fn check_priors(d: &LabelData, r: &Aggregation, exp: &Value, tol: f64, what: &str) {
    for (label, v) in exp["priors"].as_object().unwrap() {
        let c = d.classes.lookup(label).unwrap() as usize;
        close(
            r.priors[c],
            v.as_f64().unwrap(),
            tol,
            &format!("{what} prior {label}"),
        );
    }
}

/// crowd-kit's `errors_[worker][observed][true]`.
fn check_errors(d: &LabelData, r: &Aggregation, exp: &Value, tol: f64, what: &str) {
    let k = d.classes.len();
    for (worker, m) in exp["errors"].as_object().unwrap() {
        let w = d.workers.lookup(worker).unwrap() as usize;
        for (observed, col) in m.as_object().unwrap() {
            let l = d.classes.lookup(observed).unwrap() as usize;
            for (truth, v) in col.as_object().unwrap() {
                let c = d.classes.lookup(truth).unwrap() as usize;
                close(
                    r.errors[(w * k + l) * k + c],
                    v.as_f64().unwrap(),
                    tol,
                    &format!("{what} e[{worker}][{observed}|{truth}]"),
                );
            }
        }
    }
}

fn accuracy(d: &LabelData, r: &Aggregation, truth_file: &str) -> f64 {
    let text = read(truth_file);
    let mut n = 0;
    let mut ok = 0;
    for line in text.lines().skip(1) {
        let (task, label) = line.split_once(',').unwrap();
        let t = d.tasks.lookup(task).unwrap() as usize;
        n += 1;
        ok += usize::from(d.classes.get(r.label[t]) == label);
    }
    ok as f64 / n as f64
}

const TOL: f64 = 1e-9;

#[test]
fn dawid_skene_step_by_step_matches_crowd_kit() {
    let exp = expected();
    let d = labels("crowdkit_ds_step.csv");
    for n in [0usize, 1, 2, 100] {
        let e = &exp["crowdkit_ds_step"][format!("n_iter_{n}")];
        let r = aggregate(
            &d,
            Method::DawidSkene,
            Options {
                max_iter: Some(n),
                tol: None,
            },
        );
        let what = format!("ds_step n_iter={n}");
        check_probas(&d, &r, e, TOL, &what);
        check_priors(&d, &r, e, TOL, &what);
        check_errors(&d, &r, e, TOL, &what);
        check_labels(&d, &r, e, &what);
    }
}

fn check_crowdkit_set(d: &LabelData, exp: &Value, name: &str, truth: Option<&str>) {
    let ck = &exp["crowdkit"];
    let mv = aggregate(d, Method::Majority, Options::default());
    check_probas(d, &mv, &ck["mv"], 1e-12, &format!("{name} mv"));
    check_labels(d, &mv, &ck["mv"], &format!("{name} mv"));

    let ds = aggregate(d, Method::DawidSkene, Options::default());
    let what = format!("{name} ds");
    check_probas(d, &ds, &ck["ds"], TOL, &what);
    check_labels(d, &ds, &ck["ds"], &what);
    check_priors(d, &ds, &ck["ds"], TOL, &what);
    check_errors(d, &ds, &ck["ds"], TOL, &what);
    assert_eq!(
        ds.iterations as u64,
        ck["ds"]["iterations_run"].as_u64().unwrap(),
        "{what} iterations"
    );

    let oc = aggregate(d, Method::OneCoinDawidSkene, Options::default());
    let what = format!("{name} ocds");
    check_probas(d, &oc, &ck["ocds"], TOL, &what);
    check_labels(d, &oc, &ck["ocds"], &what);
    check_priors(d, &oc, &ck["ocds"], TOL, &what);
    assert_eq!(
        oc.iterations as u64,
        ck["ocds"]["iterations_run"].as_u64().unwrap(),
        "{what} iterations"
    );
    for (worker, v) in ck["ocds"]["skills"].as_object().unwrap() {
        let w = d.workers.lookup(worker).unwrap() as usize;
        close(
            oc.worker_skill[w],
            v.as_f64().unwrap(),
            TOL,
            &format!("{what} skill {worker}"),
        );
    }

    // GLAD and MACE: crowd-kit stops GLAD early and starts MACE at random, so we compare decisions, not decimals.
    for (method, key) in [(Method::Glad, "glad"), (Method::Mace, "mace")] {
        let r = aggregate(d, method, Options::default());
        let exp_labels = ck[key]["labels"].as_object().unwrap();
        let same = exp_labels
            .iter()
            .filter(|(task, l)| {
                d.classes
                    .get(r.label[d.tasks.lookup(task).unwrap() as usize])
                    == text(l)
            })
            .count();
        let share = same as f64 / exp_labels.len() as f64;
        assert!(
            share >= 0.9,
            "{name} {key}: only {same} of {} labels agree with crowd-kit",
            exp_labels.len()
        );
        if let (Some(truth), Some(ck_acc)) = (truth, ck[key]["accuracy"].as_f64()) {
            let acc = accuracy(d, &r, truth);
            assert!(
                acc >= ck_acc,
                "{name} {key}: accuracy {acc} below crowd-kit's {ck_acc}"
            );
        }
        assert!(r.confidence.iter().all(|c| (0.0..=1.0).contains(c)));
        assert!(r.worker_skill.iter().all(|s| s.is_finite()));
    }
    if let Some(truth) = truth {
        for (r, key) in [(&ds, "ds"), (&oc, "ocds"), (&mv, "mv")] {
            close(
                accuracy(d, r, truth),
                ck[key]["accuracy"].as_f64().unwrap(),
                1e-12,
                &format!("{name} {key} accuracy"),
            );
        }
    }
}

#[test]
fn crowd_kit_toy() {
    let exp = expected();
    check_crowdkit_set(
        &labels("crowdkit_toy.csv"),
        &exp["crowdkit_toy"],
        "toy",
        Some("crowdkit_toy_truth.csv"),
    );
}

#[test]
fn crowd_kit_simple() {
    let exp = expected();
    check_crowdkit_set(
        &labels("crowdkit_simple.csv"),
        &exp["crowdkit_simple"],
        "simple",
        Some("crowdkit_simple_truth.csv"),
    );
}

#[test]
fn dawid_skene_1979_all_rows() {
    let exp = expected();
    check_crowdkit_set(
        &dawid_skene_1979(false),
        &exp["dawid_skene_1979"]["all_315_rows"],
        "1979 all",
        None,
    );
}

#[test]
fn dawid_skene_1979_first_repeat() {
    let exp = expected();
    check_crowdkit_set(
        &dawid_skene_1979(true),
        &exp["dawid_skene_1979"]["first_repeat_225_rows"],
        "1979 first",
        None,
    );
}

#[test]
fn dawid_skene_1979_labels_match_the_paper_style_em() {
    let exp = expected();
    for (rows, key) in [(false, "all_315_rows"), (true, "first_repeat_225_rows")] {
        let d = dawid_skene_1979(rows);
        let r = aggregate(&d, Method::DawidSkene, Options::default());
        let paper = &exp["dawid_skene_1979"][key]["paper_style_em"]["map_labels"];
        let mut differ = 0;
        for (task, label) in paper.as_object().unwrap() {
            let t = d.tasks.lookup(task).unwrap() as usize;
            differ += usize::from(d.classes.get(r.label[t]) != label.as_u64().unwrap().to_string());
        }
        assert_eq!(differ, 0, "{key}");
    }
}

fn ratings_from_matrix(m: &[Vec<Option<String>>]) -> RatingData {
    // m[observer][unit]
    let mut d = RatingData::default();
    for (o, row) in m.iter().enumerate() {
        for (u, v) in row.iter().enumerate() {
            if let Some(v) = v {
                d.push(&format!("unit{u}"), &format!("obs{o}"), v);
            }
        }
    }
    d
}

#[test]
fn krippendorff_2011_worked_example() {
    let exp = expected();
    let e = &exp["textbook"]["krippendorff_2011_example"];
    let m: Vec<Vec<Option<String>>> = e["reliability_data_observers_x_units"]
        .as_array()
        .unwrap()
        .iter()
        .map(|row| {
            row.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_i64().map(|x| x.to_string()))
                .collect()
        })
        .collect();
    let d = ratings_from_matrix(&m);
    for level in [
        Level::Nominal,
        Level::Ordinal,
        Level::Interval,
        Level::Ratio,
    ] {
        let a = agreement(&d, Metric::KrippendorffAlpha(level)).unwrap();
        close(
            a.value,
            e[level.name()].as_f64().unwrap(),
            TOL,
            level.name(),
        );
        close(
            a.value,
            e["published"][level.name()].as_f64().unwrap(),
            5e-4,
            "published",
        );
        assert_eq!(a.pairable_values, 40);
    }
}

#[test]
fn fleiss_wikipedia_example() {
    let exp = expected();
    let e = &exp["textbook"]["fleiss_wikipedia_example"];
    let table: Vec<Vec<f64>> = e["count_table"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            r.as_array()
                .unwrap()
                .iter()
                .map(|v| v.as_f64().unwrap())
                .collect()
        })
        .collect();
    close(
        fleiss_kappa_table(&table).0,
        e["fleiss_kappa"].as_f64().unwrap(),
        TOL,
        "fleiss",
    );
    let units: Vec<Vec<(usize, f64)>> = table
        .iter()
        .map(|r| {
            r.iter()
                .enumerate()
                .filter(|x| *x.1 > 0.0)
                .map(|(i, &c)| (i, c))
                .collect()
        })
        .collect();
    let values: Vec<f64> = (0..5).map(f64::from).collect();
    let (alpha, ..) = krippendorff_alpha_counts(&units, &values, Level::Nominal);
    close(
        alpha,
        e["kripp_nominal_from_value_counts"].as_f64().unwrap(),
        TOL,
        "kripp from counts",
    );
}

#[test]
fn dawid_skene_1979_agreement() {
    let exp = expected();
    let e = &exp["dawid_skene_1979"]["agreement_first_repeat"];
    let d = dawid_skene_1979(true);
    let mut r = RatingData::default();
    for i in 0..d.len() {
        r.push(
            d.tasks.get(d.task[i]),
            d.workers.get(d.worker[i]),
            d.classes.get(d.label[i]),
        );
    }
    close(
        agreement(&r, Metric::FleissKappa).unwrap().value,
        e["fleiss_kappa"].as_f64().unwrap(),
        TOL,
        "fleiss",
    );
    close(
        agreement(&r, Metric::RandolphKappa).unwrap().value,
        e["randolph_kappa"].as_f64().unwrap(),
        TOL,
        "randolph",
    );
    for level in [
        Level::Nominal,
        Level::Ordinal,
        Level::Interval,
        Level::Ratio,
    ] {
        let key = format!("kripp_{}", level.name());
        close(
            agreement(&r, Metric::KrippendorffAlpha(level))
                .unwrap()
                .value,
            e[&key].as_f64().unwrap(),
            TOL,
            &key,
        );
    }

    // Knock out cells [observer index, unit index] (clinicians 1..5, patients 1..45).
    let knocked: Vec<(usize, usize)> = e["missing_mask_cells_knocked_out"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| {
            (
                p[0].as_u64().unwrap() as usize,
                p[1].as_u64().unwrap() as usize,
            )
        })
        .collect();
    let mut m = RatingData::default();
    for i in 0..d.len() {
        let (task, worker) = (d.tasks.get(d.task[i]), d.workers.get(d.worker[i]));
        let cell = (
            worker.parse::<usize>().unwrap() - 1,
            task.parse::<usize>().unwrap() - 1,
        );
        if !knocked.contains(&cell) {
            m.push(task, worker, d.classes.get(d.label[i]));
        }
    }
    for level in [
        Level::Nominal,
        Level::Ordinal,
        Level::Interval,
        Level::Ratio,
    ] {
        let key = format!("kripp_{}_with_missing", level.name());
        close(
            agreement(&m, Metric::KrippendorffAlpha(level))
                .unwrap()
                .value,
            e[&key].as_f64().unwrap(),
            TOL,
            &key,
        );
    }

    // Cohen's kappa for every pair of clinicians.
    let pairs: HashMap<String, Value> = e["cohen_pairs_observers"]
        .as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), v.clone()))
        .collect();
    assert_eq!(pairs.len(), 10);
    for (pair, vals) in &pairs {
        let (a, b) = pair.split_once('-').unwrap();
        let mut two = RatingData::default();
        for i in 0..d.len() {
            let w = d.workers.get(d.worker[i]);
            if w == a || w == b {
                two.push(d.tasks.get(d.task[i]), w, d.classes.get(d.label[i]));
            }
        }
        for (weights, key) in [
            (Weights::Unweighted, "unweighted"),
            (Weights::Linear, "linear"),
            (Weights::Quadratic, "quadratic"),
        ] {
            let k = agreement(&two, Metric::CohenKappa(weights)).unwrap();
            close(
                k.value,
                vals[key].as_f64().unwrap(),
                TOL,
                &format!("cohen {pair} {key}"),
            );
        }
    }
}
