#!/usr/bin/env python3
"""Cross-check fairloop's quality algorithms against the reference Python libraries on generated data.

Usage (see run.sh, which sets up the virtual environment):
    crosscheck.py check --ours "target/release/fairloop quality" [--workdir DIR]
    crosscheck.py gen-labels --tasks N --workers W --classes K --overlap R --seed S OUT.csv [TRUTH.csv]
    crosscheck.py crowdkit METHOD IN.csv OUT.csv      # one crowd-kit fit, for timing

`check` compares, on data generated with fixed seeds:
  - Krippendorff's alpha (4 levels, with missing values) with `krippendorff`, Fleiss' kappa with statsmodels,
    Cohen's kappa (3 weightings) with scikit-learn, percent agreement with a direct computation: |diff| <= 1e-9;
  - majority vote, Dawid-Skene and one-coin Dawid-Skene with crowd-kit: accuracy within 0.5 percentage points
    (and Dawid-Skene labels nearly identical); GLAD and MACE accuracy reported side by side;
  - Bradley-Terry scores with choix's maximum-likelihood estimate: |diff| <= 1e-6.
Exits 1 if any check fails.
"""
import argparse
import io
import os
import shlex
import subprocess
import sys
import tempfile

import numpy as np
import pandas as pd

FAILURES = []


def check(name, ok, detail):
    print(f"{'ok  ' if ok else 'FAIL'} {name}: {detail}")
    if not ok:
        FAILURES.append(name)


def ours(cmd, args):
    res = subprocess.run(shlex.split(cmd) + args, capture_output=True, text=True)
    if res.returncode != 0:
        raise SystemExit(f"our command failed: {args}\n{res.stderr}")
    return res.stdout


def gen_labels(tasks, workers, classes, overlap, seed):
    rng = np.random.default_rng(seed)
    acc = 0.45 + 0.5 * rng.random(workers)
    truth = rng.integers(0, classes, tasks)
    # each task gets `overlap` distinct workers
    w = np.argsort(rng.random((tasks, workers)), axis=1)[:, :overlap] if workers <= 64 else None
    if w is None:
        w = np.empty((tasks, overlap), dtype=np.int64)
        for j in range(overlap):
            w[:, j] = rng.integers(0, workers, tasks)
        # re-draw collisions (rare with hundreds of workers)
        for _ in range(20):
            dup = np.zeros(tasks, dtype=bool)
            for a in range(overlap):
                for b in range(a + 1, overlap):
                    dup |= w[:, a] == w[:, b]
            if not dup.any():
                break
            w[dup, overlap - 1] = rng.integers(0, workers, dup.sum())
    t = np.repeat(np.arange(tasks), overlap)
    wf = w.reshape(-1)
    y = truth[t]
    correct = rng.random(t.size) < acc[wf]
    wrong = (y + 1 + rng.integers(0, classes - 1, t.size)) % classes
    lab = np.where(correct, y, wrong)
    df = pd.DataFrame({"task": np.char.add("t", t.astype(str)), "worker": np.char.add("w", wf.astype(str)),
                       "label": np.char.add("c", lab.astype(str))})
    gt = pd.Series(np.char.add("c", truth.astype(str)), index=np.char.add("t", np.arange(tasks).astype(str)))
    return df, gt


def accuracy(labels, gt):
    return float((labels.reindex(gt.index) == gt).mean())


def read_ours(text):
    df = pd.read_csv(io.StringIO(text), dtype=str)
    return pd.Series(df["label"].values, index=df["task"].values)


def check_agreement(cmd, wd):
    import krippendorff
    from sklearn.metrics import cohen_kappa_score
    from statsmodels.stats.inter_rater import aggregate_raters, fleiss_kappa

    rng = np.random.default_rng(11)
    for trial in range(3):
        n_items, n_raters = 150, 5
        truth = rng.integers(1, 6, n_items)
        m = np.where(rng.random((n_raters, n_items)) < 0.7, truth, rng.integers(1, 6, (n_raters, n_items))).astype(float)
        full = m.copy()
        m[rng.random(m.shape) < 0.2] = np.nan
        rows = [(f"i{u}", f"r{o}", int(m[o, u])) for o in range(n_raters) for u in range(n_items) if not np.isnan(m[o, u])]
        path = os.path.join(wd, f"ratings{trial}.csv")
        pd.DataFrame(rows, columns=["item", "rater", "value"]).to_csv(path, index=False)
        for level in ["nominal", "ordinal", "interval", "ratio"]:
            ref = krippendorff.alpha(reliability_data=m, level_of_measurement=level)
            got = float(ours(cmd, ["agreement", "--metric", "krippendorff-alpha", "--level", level, "--input", path]))
            check(f"krippendorff {level} #{trial}", abs(got - ref) <= 1e-9, f"ours {got!r} ref {ref!r}")
        # Fleiss on complete data
        rows = [(f"i{u}", f"r{o}", int(full[o, u])) for o in range(n_raters) for u in range(n_items)]
        fpath = os.path.join(wd, f"full{trial}.csv")
        pd.DataFrame(rows, columns=["item", "rater", "value"]).to_csv(fpath, index=False)
        table, _ = aggregate_raters(full.T.astype(int))
        ref = fleiss_kappa(table, method="fleiss")
        got = float(ours(cmd, ["agreement", "--metric", "fleiss-kappa", "--input", fpath]))
        check(f"fleiss #{trial}", abs(got - ref) <= 1e-9, f"ours {got!r} ref {ref!r}")
        ref = fleiss_kappa(table, method="randolph")
        got = float(ours(cmd, ["agreement", "--metric", "randolph-kappa", "--input", fpath]))
        check(f"randolph #{trial}", abs(got - ref) <= 1e-9, f"ours {got!r} ref {ref!r}")
        # Cohen on raters 0 and 1 where both rated
        both = ~np.isnan(m[0]) & ~np.isnan(m[1])
        rows = [(f"i{u}", f"r{o}", int(m[o, u])) for o in (0, 1) for u in range(n_items) if both[u]]
        cpath = os.path.join(wd, f"two{trial}.csv")
        pd.DataFrame(rows, columns=["item", "rater", "value"]).to_csv(cpath, index=False)
        for w in ["none", "linear", "quadratic"]:
            ref = cohen_kappa_score(m[0][both], m[1][both], weights=None if w == "none" else w)
            got = float(ours(cmd, ["agreement", "--metric", "cohen-kappa", "--weights", w, "--input", cpath]))
            check(f"cohen {w} #{trial}", abs(got - ref) <= 1e-9, f"ours {got!r} ref {ref!r}")
        ref = float((m[0][both] == m[1][both]).mean())
        got = float(ours(cmd, ["agreement", "--metric", "percent-agreement", "--input", cpath]))
        check(f"percent agreement #{trial}", abs(got - ref) <= 1e-12, f"ours {got!r} ref {ref!r}")


def check_aggregation(cmd, wd):
    from crowdkit.aggregation import GLAD, MACE, DawidSkene, MajorityVote, OneCoinDawidSkene

    for tasks, workers, seed in [(20000, 100, 1), (5000, 40, 2)]:
        df, gt = gen_labels(tasks, workers, 4, 3, seed)
        path = os.path.join(wd, f"labels{seed}.csv")
        df.to_csv(path, index=False)
        ref = {
            "majority": MajorityVote().fit_predict(df),
            "dawid-skene": DawidSkene(n_iter=100).fit_predict(df),
            "one-coin-dawid-skene": OneCoinDawidSkene(n_iter=100).fit_predict(df),
        }
        if tasks <= 5000:
            ref["glad"] = GLAD().fit_predict(df)
            ref["mace"] = MACE(n_restarts=1).fit_predict(df)
        for method in ["majority", "dawid-skene", "one-coin-dawid-skene", "glad", "mace"]:
            got = read_ours(ours(cmd, ["aggregate", "--method", method, "--input", path]))
            a = accuracy(got, gt)
            if method in ref:
                r = accuracy(ref[method], gt)
                same = float((got.reindex(ref[method].index) == ref[method]).mean())
                strict = method in ("majority", "dawid-skene", "one-coin-dawid-skene")
                check(f"{method} {tasks} tasks", (abs(a - r) <= 0.005) or not strict,
                      f"accuracy ours {a:.4f} crowd-kit {r:.4f}, same label on {same:.4%} of tasks")
            else:
                print(f"info {method} {tasks} tasks: accuracy ours {a:.4f} (crowd-kit not run at this size)")


def check_ranking(cmd, wd):
    import choix

    rng = np.random.default_rng(5)
    n = 30
    theta = rng.normal(0, 1, n)
    pairs = []
    for _ in range(3000):
        i, j = rng.choice(n, 2, replace=False)
        p = 1 / (1 + np.exp(theta[j] - theta[i]))
        pairs.append((i, j) if rng.random() < p else (j, i))
    path = os.path.join(wd, "comparisons.csv")
    pd.DataFrame([(f"item{w}", f"item{l}") for w, l in pairs], columns=["winner", "loser"]).to_csv(path, index=False)
    ref = choix.ilsr_pairwise(n, pairs, alpha=0.0, max_iter=10000, tol=1e-14)
    ref = ref - ref.mean()
    got = pd.read_csv(io.StringIO(ours(cmd, ["rank", "--method", "bradley-terry", "--input", path])))
    score = dict(zip(got["item"], got["score"]))
    diff = max(abs(score[f"item{i}"] - ref[i]) for i in range(n))
    check("bradley-terry vs choix", diff <= 1e-6, f"max |score diff| {diff:.2e}")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--ours", required=True)
    c.add_argument("--workdir")
    g = sub.add_parser("gen-labels")
    for k, d in [("tasks", 1000000), ("workers", 300), ("classes", 4), ("overlap", 3), ("seed", 7)]:
        g.add_argument(f"--{k}", type=int, default=d)
    g.add_argument("out")
    g.add_argument("truth", nargs="?")
    k = sub.add_parser("crowdkit")
    k.add_argument("method")
    k.add_argument("input")
    k.add_argument("output")
    a = ap.parse_args()
    if a.cmd == "gen-labels":
        df, gt = gen_labels(a.tasks, a.workers, a.classes, a.overlap, a.seed)
        df.to_csv(a.out, index=False)
        if a.truth:
            gt.rename_axis("task").rename("label").to_csv(a.truth)
        return
    if a.cmd == "crowdkit":
        from crowdkit import aggregation as agg
        cls = {"dawid-skene": agg.DawidSkene, "one-coin-dawid-skene": agg.OneCoinDawidSkene, "glad": agg.GLAD,
               "mace": agg.MACE, "majority": agg.MajorityVote}[a.method]
        df = pd.read_csv(a.input)
        labels = cls().fit_predict(df)
        labels.rename("label").rename_axis("task").sort_index().to_csv(a.output)
        return
    wd = a.workdir or tempfile.mkdtemp(prefix="fairloop-crosscheck-")
    os.makedirs(wd, exist_ok=True)
    check_agreement(a.ours, wd)
    check_ranking(a.ours, wd)
    check_aggregation(a.ours, wd)
    print(f"{len(FAILURES)} failed" if FAILURES else "all checks passed")
    sys.exit(1 if FAILURES else 0)


if __name__ == "__main__":
    main()
