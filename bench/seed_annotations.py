#!/usr/bin/env python3
"""Fills a project of a (stopped) SQLite Fairloop database with annotated items, for export benchmarks.

Usage: seed_annotations.py DB_PATH PROJECT_ID ITEMS OVERLAP
Writes ITEMS items, each with OVERLAP submitted assignments and annotations from OVERLAP different workers
(created as worker users of the project's organization), with counters consistent with what the server keeps.
"""
import json
import random
import sqlite3
import sys
import time

db, project, n_items, overlap = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
con = sqlite3.connect(db)
con.execute("PRAGMA foreign_keys = ON")
(org,) = con.execute("SELECT org_id FROM projects WHERE id = ?", (project,)).fetchone()
now = int(time.time() * 1000)
workers = []
for w in range(overlap * 4):
    cur = con.execute(
        "INSERT INTO users (org_id, email, name, role, created_at) VALUES (?, ?, ?, 'worker', ?)",
        (org, f"seed-{project}-{w}@bench.test", f"seed {w}", now),
    )
    workers.append(cur.lastrowid)
rng = random.Random(7)
words = "the model answer is correct because patient contract clause review late excellent".split()
for i in range(n_items):
    text = " ".join(rng.choice(words) for _ in range(14))
    cur = con.execute(
        "INSERT INTO items (org_id, project_id, external_id, data, priority, free_slots, annotations, created_at) "
        "VALUES (?, ?, ?, ?, 0, 0, ?, ?)",
        (org, project, f"seed-{i}", json.dumps({"text": text}), overlap, now),
    )
    item = cur.lastrowid
    for w in rng.sample(workers, overlap):
        a = con.execute(
            "INSERT INTO assignments (org_id, project_id, item_id, worker_id, status, created_at, expires_at, closed_at) "
            "VALUES (?, ?, ?, ?, 'submitted', ?, ?, ?)",
            (org, project, item, w, now, now + 60000, now),
        ).lastrowid
        con.execute(
            "INSERT INTO annotations (org_id, project_id, item_id, assignment_id, worker_id, answers, submitted_at) "
            "VALUES (?, ?, ?, ?, ?, ?, ?)",
            (org, project, item, a, w, json.dumps({"label": rng.choice("abc")}), now),
        )
con.commit()
print(f"seeded {n_items} items with {n_items * overlap} annotations into project {project}")
