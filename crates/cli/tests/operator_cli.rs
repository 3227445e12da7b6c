//! The operator commands as a person runs them: import CSV, Parquet and JSONL files with `fairloop import`
//! (beside a running server), export with `fairloop export`, back up, migrate, print the default config.

mod common;

use std::path::Path;
use std::process::{Command, Output};
use std::sync::Arc;

use common::{BIN, create_project, export_jsonl, start};

fn fairloop(data_dir: &Path, args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .arg("--data-dir")
        .arg(data_dir)
        .output()
        .unwrap()
}

fn text(b: &[u8]) -> String {
    String::from_utf8_lossy(b).into_owned()
}

fn write_parquet(path: &Path) {
    use arrow_array::{ArrayRef, Int64Array, RecordBatch, StringArray};
    let ids: ArrayRef = Arc::new(StringArray::from(vec!["pq-1", "pq-2", "pq-3"]));
    let texts: ArrayRef = Arc::new(StringArray::from(vec!["first", "second", "third"]));
    let prio: ArrayRef = Arc::new(Int64Array::from(vec![0, 9, 0]));
    let batch =
        RecordBatch::try_from_iter(vec![("id", ids), ("text", texts), ("priority", prio)]).unwrap();
    let file = std::fs::File::create(path).unwrap();
    let mut w = parquet::arrow::ArrowWriter::try_new(file, batch.schema(), None).unwrap();
    w.write(&batch).unwrap();
    w.close().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn import_export_backup_and_config_from_the_command_line() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data");
    let out = fairloop(
        &data,
        &[
            "users",
            "add",
            "--email",
            "ops@acme.test",
            "--role",
            "admin",
            "--org",
            "Acme",
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let token = text(&out.stdout).lines().last().unwrap().trim().to_string();
    assert!(token.starts_with("fl_"));
    // Re-running prints a fresh token for the same user.
    let again = fairloop(
        &data,
        &[
            "users",
            "add",
            "--email",
            "ops@acme.test",
            "--role",
            "admin",
            "--org",
            "Acme",
        ],
    );
    assert_ne!(text(&again.stdout).lines().last().unwrap().trim(), token);
    let bad_role = fairloop(
        &data,
        &["users", "add", "--email", "x@acme.test", "--role", "boss"],
    );
    assert!(!bad_role.status.success());
    assert!(
        text(&bad_role.stderr).contains("unknown role"),
        "{}",
        text(&bad_role.stderr)
    );

    let server = start(&data, &None);
    let http = reqwest::Client::new();
    let auth = format!("Bearer {token}");
    let pid = create_project(&http, &server.url, &auth, 1)
        .await
        .to_string();

    // Parquet: every row becomes an item; `priority` is honoured.
    let pq = dir.path().join("items.parquet");
    write_parquet(&pq);
    let out = fairloop(&data, &["import", &pid, pq.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 3 items"),
        "{}",
        text(&out.stdout)
    );

    // CSV with a bad row: atomic mode refuses the file and names the line; skip mode imports the good rows.
    let csv = dir.path().join("items.csv");
    std::fs::write(&csv, "id,text\ncsv-1,hello\ncsv-2,\ncsv-3,world\n").unwrap();
    let out = fairloop(&data, &["import", &pid, csv.to_str().unwrap()]);
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(err.contains("line 3") && err.contains("data.text"), "{err}");
    assert!(err.contains("nothing was imported"), "{err}");
    let out = fairloop(
        &data,
        &["import", &pid, csv.to_str().unwrap(), "--mode", "skip"],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(
        text(&out.stdout).contains("imported 2 items, 0 duplicates, 1 bad lines"),
        "{}",
        text(&out.stdout)
    );

    // JSONL re-import of known ids is a no-op.
    let jsonl = dir.path().join("items.jsonl");
    std::fs::write(&jsonl, "{\"id\":\"pq-1\",\"data\":{\"text\":\"changed\"}}\n{\"id\":\"j-1\",\"data\":{\"text\":\"new\"}}\n")
        .unwrap();
    let out = fairloop(&data, &["import", &pid, jsonl.to_str().unwrap()]);
    assert!(
        text(&out.stdout).contains("imported 1 items, 1 duplicates"),
        "{}",
        text(&out.stdout)
    );
    let unknown = fairloop(&data, &["import", "999", jsonl.to_str().unwrap()]);
    assert!(
        !unknown.status.success() && text(&unknown.stderr).contains("project 999 does not exist")
    );

    // The export over HTTP sees every item, with the untouched data of the duplicate.
    let items = export_jsonl(&http, &server.url, &auth, pid.parse().unwrap()).await;
    assert_eq!(items.len(), 6);
    let pq1 = items.iter().find(|i| i["id"] == "pq-1").unwrap();
    assert_eq!(pq1["data"]["text"], "first");

    // CLI export to a file.
    let csv_out = dir.path().join("out.csv");
    let out = fairloop(
        &data,
        &[
            "export",
            &pid,
            "--format",
            "csv",
            "--output",
            csv_out.to_str().unwrap(),
        ],
    );
    assert!(out.status.success(), "{}", text(&out.stderr));
    let exported = std::fs::read_to_string(&csv_out).unwrap();
    assert!(
        exported.starts_with("item_id,annotation_id,annotator,submitted_at,label"),
        "{exported}"
    );
    assert_eq!(exported.lines().count(), 7);

    // A consistent backup while the server runs; a second one to the same file is refused.
    let copy = dir.path().join("copy.db");
    let out = fairloop(&data, &["backup", "--output", copy.to_str().unwrap()]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    assert!(std::fs::metadata(&copy).unwrap().len() > 0);
    assert!(
        !fairloop(&data, &["backup", "--output", copy.to_str().unwrap()])
            .status
            .success()
    );

    let out = fairloop(&data, &["migrate"]);
    assert!(
        text(&out.stdout).contains("up to date"),
        "{}",
        text(&out.stdout)
    );
    let cfg = Command::new(BIN).arg("default-config").output().unwrap();
    assert!(text(&cfg.stdout).contains("max_import_bytes"));
    let bad_url = fairloop(&data, &["migrate", "--database-url", "mysql://x/y"]);
    assert!(
        !bad_url.status.success() && text(&bad_url.stderr).contains("unsupported database URL")
    );
    drop(server);
}
