//! A person's rights over their data (issue 7, point 1): everything stored about a worker as one document, and
//! the deletion of their account.
//!
//! The download is a table of [`SECTIONS`]: a name, one query with the user id as `$1` and the names of its
//! columns. Every query is scoped by that id (directly or through the user's accounts), so the document holds
//! nobody else's data; a new feature adds its rows by adding one entry (profiles and assessments land next).
//!
//! Deletion turns the user row into a tombstone: the identity (email, name, password, country, the vendor's
//! reference) is overwritten, sessions end, tokens are revoked, drafts and inbox notices go; the row itself stays
//! so annotations, reviews and ledger entries keep a valid foreign key. The ledger is append-only and is not
//! touched at all, so it still balances and statements still add up.

use fairloop_domain::UserId;
use fairloop_domain::time::Millis;
use serde_json::{Map, Value};

use crate::portable::{Cell, Row};
use crate::{Store, StoreError, StoreResult, conflict, params};

/// One section of the download: its key, its query (`$1` = the user id) and its column names (a name ending in
/// `:json` holds JSON text and is embedded as JSON).
pub struct Section {
    /// The key in the document.
    pub name: &'static str,
    /// The query.
    pub sql: &'static str,
    /// Column names, in the query's order.
    pub columns: &'static [&'static str],
}

/// Every section of a worker's data download, in the document's order.
pub const SECTIONS: &[Section] = &[
    Section {
        name: "account",
        sql: "SELECT u.id, u.email, u.name, u.role, u.country, u.created_at, o.id, o.name, v.name, u.vendor_ref \
              FROM users u JOIN organizations o ON o.id = u.org_id LEFT JOIN organizations v ON v.id = u.vendor_id \
              WHERE u.id = $1",
        columns: &[
            "id",
            "email",
            "name",
            "role",
            "country",
            "created_at",
            "organization_id",
            "organization",
            "vendor",
            "vendor_reference",
        ],
    },
    Section {
        name: "assignments",
        sql: "SELECT s.id, s.project_id, p.name, s.item_id, s.status, s.created_at, s.closed_at, s.skip_reason \
              FROM assignments s JOIN projects p ON p.id = s.project_id WHERE s.worker_id = $1 ORDER BY s.id",
        columns: &[
            "id",
            "project_id",
            "project",
            "item_id",
            "status",
            "created_at",
            "closed_at",
            "skip_reason",
        ],
    },
    Section {
        name: "annotations",
        sql: "SELECT a.id, a.project_id, p.name, a.item_id, i.external_id, a.answers, a.submitted_at \
              FROM annotations a JOIN projects p ON p.id = a.project_id JOIN items i ON i.id = a.item_id \
              WHERE a.worker_id = $1 ORDER BY a.id",
        columns: &[
            "id",
            "project_id",
            "project",
            "item_id",
            "item_external_id",
            "answers:json",
            "submitted_at",
        ],
    },
    Section {
        name: "time_records",
        sql: "SELECT h.project_id, p.name, h.assignment_id, h.at, h.focus, h.input, h.credited_ms \
              FROM heartbeats h JOIN projects p ON p.id = h.project_id WHERE h.worker_id = $1 ORDER BY h.id",
        columns: &[
            "project_id",
            "project",
            "assignment_id",
            "at",
            "focus",
            "input",
            "credited_ms",
        ],
    },
    Section {
        name: "onboarding_time",
        sql: "SELECT t.project_id, p.name, t.day, t.activity, t.active_ms FROM onboarding_time t \
              JOIN projects p ON p.id = t.project_id WHERE t.worker_id = $1 ORDER BY t.project_id, t.day",
        columns: &["project_id", "project", "day", "activity", "active_ms"],
    },
    Section {
        name: "time_disputes",
        sql: "SELECT id, assignment_id, reason, status, added_ms, resolution, created_at, resolved_at \
              FROM time_disputes WHERE worker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "assignment_id",
            "reason",
            "status",
            "added_ms",
            "resolution",
            "created_at",
            "resolved_at",
        ],
    },
    Section {
        name: "terms_decisions",
        sql: "SELECT d.project_id, p.name, d.version, d.text_hash, d.decision, d.decided_at FROM terms_decisions d \
              JOIN projects p ON p.id = d.project_id WHERE d.worker_id = $1 ORDER BY d.decided_at",
        columns: &[
            "project_id",
            "project",
            "version",
            "text_hash",
            "decision",
            "decided_at",
        ],
    },
    Section {
        name: "terms_questions",
        sql: "SELECT id, project_id, version, question, asked_at, answer, answered_at FROM terms_questions \
              WHERE worker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "project_id",
            "version",
            "question",
            "asked_at",
            "answer",
            "answered_at",
        ],
    },
    Section {
        name: "guideline_acknowledgements",
        sql: "SELECT g.project_id, p.name, g.version, g.acked_at FROM guideline_acks g \
              JOIN projects p ON p.id = g.project_id WHERE g.worker_id = $1 ORDER BY g.acked_at",
        columns: &["project_id", "project", "version", "acknowledged_at"],
    },
    Section {
        name: "quiz_attempts",
        sql: "SELECT id, project_id, version, answers, correct, total, passed, created_at FROM quiz_attempts \
              WHERE worker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "project_id",
            "version",
            "answers:json",
            "correct",
            "total",
            "passed",
            "created_at",
        ],
    },
    Section {
        name: "profile",
        sql: "SELECT time_zone, hours_per_week, days_mask, min_rate_minor, min_rate_currency, quality_permille, \
              updated_at FROM worker_profiles WHERE user_id = $1",
        columns: &[
            "time_zone",
            "hours_per_week",
            "days_mask",
            "min_rate_minor",
            "min_rate_currency",
            "quality_permille",
            "updated_at",
        ],
    },
    Section {
        name: "expertise",
        sql: "SELECT domain, years FROM worker_expertise WHERE user_id = $1 ORDER BY domain",
        columns: &["domain", "years"],
    },
    Section {
        name: "languages",
        sql: "SELECT language, level_rank FROM worker_languages WHERE user_id = $1 ORDER BY language",
        columns: &["language", "level_rank"],
    },
    Section {
        name: "credentials",
        sql: "SELECT id, title, issuer, content_type, size_bytes, sha256, status, decided_at, note, created_at \
              FROM worker_credentials WHERE user_id = $1 ORDER BY id",
        columns: &[
            "id",
            "title",
            "issuer",
            "content_type",
            "size_bytes",
            "sha256",
            "status",
            "decided_at",
            "note",
            "created_at",
        ],
    },
    Section {
        name: "project_invitations",
        sql: "SELECT i.project_id, p.name, i.invited_at FROM project_invites i JOIN projects p ON p.id = i.project_id \
              WHERE i.worker_id = $1 ORDER BY i.invited_at",
        columns: &["project_id", "project", "invited_at"],
    },
    Section {
        name: "sensitivity_opt_ins",
        sql: "SELECT opted_in, break_at, updated_at FROM worker_wellbeing WHERE worker_id = $1",
        columns: &["categories_mask", "last_break_at", "updated_at"],
    },
    Section {
        name: "sensitive_exposure",
        sql: "SELECT day, category, items FROM exposure_counts WHERE worker_id = $1 ORDER BY day, category",
        columns: &["day", "category_bit", "items"],
    },
    Section {
        name: "protected_skips",
        sql: "SELECT assignment_id, project_id, distressing, created_at FROM protected_skips \
              WHERE worker_id = $1 ORDER BY assignment_id",
        columns: &["assignment_id", "project_id", "distressing", "created_at"],
    },
    Section {
        name: "assessment_attempts",
        sql: "SELECT t.id, a.project_id, a.title, t.status, t.started_at, t.deadline_at, t.submitted_at, \
              t.answers, t.results, t.score_pct, t.passed, t.graded_at FROM assessment_attempts t \
              JOIN assessments a ON a.id = t.assessment_id WHERE t.worker_id = $1 ORDER BY t.id",
        columns: &[
            "id",
            "project_id",
            "assessment",
            "status",
            "started_at",
            "deadline_at",
            "submitted_at",
            "answers:json",
            "results:json",
            "score_pct",
            "passed",
            "graded_at",
        ],
    },
    Section {
        name: "interviews",
        sql: "SELECT id, project_id, status, scores, model_total, model_max, model_passed, review_requested, \
              review_reason, decision, decision_note, decided_at, created_at FROM interviews \
              WHERE worker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "project_id",
            "status",
            "model_scores:json",
            "model_total",
            "model_max",
            "model_passed",
            "review_requested",
            "review_reason",
            "decision",
            "decision_note",
            "decided_at",
            "created_at",
        ],
    },
    Section {
        name: "interview_transcripts",
        sql: "SELECT t.interview_id, t.seq, t.role, t.content, t.question_index, t.created_at \
              FROM interview_turns t JOIN interviews i ON i.id = t.interview_id \
              WHERE i.worker_id = $1 ORDER BY t.interview_id, t.seq",
        columns: &[
            "interview_id",
            "seq",
            "role",
            "content",
            "question_index",
            "created_at",
        ],
    },
    Section {
        name: "board_questions",
        sql: "SELECT id, project_id, question, asked_at, answer, answered_at FROM board_questions \
              WHERE asker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "project_id",
            "question",
            "asked_at",
            "answer",
            "answered_at",
        ],
    },
    Section {
        name: "notices",
        sql: "SELECT id, kind, project_id, title, body, link, created_at, read_at FROM notices \
              WHERE user_id = $1 ORDER BY id",
        columns: &[
            "id",
            "kind",
            "project_id",
            "title",
            "body",
            "link",
            "created_at",
            "read_at",
        ],
    },
    Section {
        name: "reviews",
        sql: "SELECT id, project_id, annotation_id, reasons, status, decision, corrected_answers, feedback, \
              created_at, decided_at FROM reviews WHERE worker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "project_id",
            "annotation_id",
            "reasons:json",
            "status",
            "decision",
            "corrected_answers:json",
            "feedback",
            "created_at",
            "decided_at",
        ],
    },
    Section {
        name: "appeals",
        sql: "SELECT id, project_id, review_id, reason, status, outcome, note, created_at, decided_at FROM appeals \
              WHERE worker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "project_id",
            "review_id",
            "reason",
            "status",
            "outcome",
            "note",
            "created_at",
            "decided_at",
        ],
    },
    Section {
        name: "quality",
        sql: "SELECT q.project_id, p.name, q.submissions, q.compared, q.agreed, q.gold_answers, q.gold_score_sum \
              FROM worker_quality q JOIN projects p ON p.id = q.project_id WHERE q.worker_id = $1 ORDER BY q.project_id",
        columns: &[
            "project_id",
            "project",
            "submissions",
            "compared",
            "agreed",
            "gold_answers",
            "gold_score_sum",
        ],
    },
    Section {
        name: "pauses",
        sql: "SELECT id, project_id, reason, created_at, lifted_at FROM worker_pauses WHERE worker_id = $1 ORDER BY id",
        columns: &["id", "project_id", "reason", "created_at", "lifted_at"],
    },
    Section {
        name: "ledger_accounts",
        sql: "SELECT la.id, la.kind, la.currency, la.balance_minor FROM ledger_accounts la \
              JOIN users u ON u.id = la.owner_id AND u.org_id = la.org_id WHERE u.id = $1 ORDER BY la.id",
        columns: &["id", "kind", "currency", "balance_minor"],
    },
    Section {
        name: "ledger_entries",
        sql: "SELECT e.id, t.id, t.kind, t.source_key, t.project_id, t.memo, la.kind, e.amount_minor, e.currency, \
              t.created_at FROM ledger_entries e JOIN ledger_accounts la ON la.id = e.account_id \
              JOIN ledger_transactions t ON t.id = e.transaction_id \
              JOIN users u ON u.id = la.owner_id AND u.org_id = la.org_id WHERE u.id = $1 ORDER BY e.id",
        columns: &[
            "id",
            "transaction_id",
            "kind",
            "source_key",
            "project_id",
            "memo",
            "account",
            "amount_minor",
            "currency",
            "created_at",
        ],
    },
    Section {
        name: "payouts",
        sql: "SELECT id, period_start, period_end, currency, amount_minor, status, provider_reference, \
              failure_reason, created_at, updated_at FROM payouts WHERE worker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "period_start",
            "period_end",
            "currency",
            "amount_minor",
            "status",
            "provider_reference",
            "failure_reason",
            "created_at",
            "updated_at",
        ],
    },
    Section {
        name: "pay_disputes",
        sql: "SELECT id, annotation_id, reason, status, resolution, created_at, resolved_at FROM pay_disputes \
              WHERE worker_id = $1 ORDER BY id",
        columns: &[
            "id",
            "annotation_id",
            "reason",
            "status",
            "resolution",
            "created_at",
            "resolved_at",
        ],
    },
];

fn cell_json(cell: &Cell, json: bool) -> Value {
    match cell {
        Cell::Null => Value::Null,
        Cell::Int(v) => Value::from(*v),
        Cell::Real(v) => Value::from(*v),
        Cell::Text(t) if json => serde_json::from_str(t).unwrap_or_else(|_| Value::from(t.clone())),
        Cell::Text(t) => Value::from(t.clone()),
    }
}

fn row_json(row: &Row, columns: &[&str]) -> Value {
    let mut m = Map::new();
    for (i, name) in columns.iter().enumerate() {
        let (key, json) = match name.strip_suffix(":json") {
            Some(k) => (k, true),
            None => (*name, false),
        };
        let v = row.0.get(i).map_or(Value::Null, |c| cell_json(c, json));
        m.insert(key.to_string(), v);
    }
    Value::Object(m)
}

/// Why a deletion was refused, or what it removed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Deleted {
    /// The tombstone's id (`deleted worker #N`).
    pub user_id: UserId,
    /// Sessions ended.
    pub sessions: u64,
    /// Tokens revoked.
    pub tokens: u64,
    /// Media keys of the credential documents whose rows were removed (their files go next).
    pub credential_keys: Vec<String>,
}

/// The placeholder email of a deleted account: unique, and in the reserved `.invalid` domain so it can never
/// receive mail or collide with a real address.
pub fn tombstone_email(user: UserId) -> String {
    format!("deleted-{user}@deleted.invalid")
}

/// The display name of a deleted account, as admins and vendors see it.
pub fn tombstone_name(user: UserId) -> String {
    format!("deleted worker #{user}")
}

impl dyn Store + '_ {
    /// Every section of the user's data, read in one transaction so the document is consistent. Sections
    /// named in `SECTIONS` only; each is an array of objects (`account` is an object).
    pub async fn personal_data(&self, user: UserId) -> StoreResult<Map<String, Value>> {
        self.read_tx(move |tx| {
            let mut doc = Map::new();
            for s in SECTIONS {
                let rows = tx.query(s.sql, params![user])?;
                let mut list: Vec<Value> = rows.iter().map(|r| row_json(r, s.columns)).collect();
                let v = if s.name == "account" {
                    list.pop().ok_or(StoreError::NotFound)?
                } else {
                    Value::Array(list)
                };
                doc.insert(s.name.to_string(), v);
            }
            Ok(doc)
        })
        .await
    }

    /// Turns the account into a tombstone (see the module doc). Refused with `money_owed` while any of the
    /// worker's earnings accounts holds money owed to them, and with `payout_pending` while a payout to them is
    /// on its way: the payment details behind those belong to the identity being removed.
    pub async fn delete_account(&self, user: UserId, now: Millis) -> StoreResult<Deleted> {
        self.write_tx(move |tx| {
            let row = tx
                .query_opt(
                    &format!(
                        "SELECT org_id, deleted_at FROM users WHERE id = $1{}",
                        tx.for_update()
                    ),
                    params![user],
                )?
                .ok_or(StoreError::NotFound)?;
            if row.opt_i64(1)?.is_some() {
                return Err(StoreError::NotFound);
            }
            let org = row.i64(0)?;
            let owed = tx.query(
                "SELECT currency, balance_minor FROM ledger_accounts \
                 WHERE org_id = $1 AND kind = 'earnings' AND owner_id = $2 AND balance_minor > 0 ORDER BY currency",
                params![org, user],
            )?;
            if !owed.is_empty() {
                let amounts: Vec<String> = owed
                    .iter()
                    .map(|r| Ok(format!("{} {}", r.i64(1)?, r.string(0)?)))
                    .collect::<StoreResult<_>>()?;
                return Err(conflict(
                    "money_owed",
                    format!(
                        "you are still owed {} (minor units); it is paid out with the next payout run, and you can \
                         delete your account once it is paid",
                        amounts.join(", ")
                    ),
                ));
            }
            let pending = tx.query_one(
                "SELECT COUNT(*) FROM payouts WHERE worker_id = $1 AND org_id = $2 AND status = 'pending'",
                params![user, org],
            )?;
            if pending.i64(0)? > 0 {
                return Err(conflict(
                    "payout_pending",
                    "a payout to you is on its way; you can delete your account once it is marked paid",
                ));
            }
            tx.execute(
                "UPDATE users SET email = $1, name = $2, password_hash = NULL, country = NULL, vendor_ref = NULL, \
                 deleted_at = $3 WHERE id = $4",
                params![tombstone_email(user), tombstone_name(user), now, user],
            )?;
            // The account leaves the matching pool with its identity (see `profiles::refresh_match_row`).
            tx.execute(
                "DELETE FROM worker_match WHERE org_id = $1 AND user_id = $2",
                params![org, user],
            )?;
            let sessions = tx.execute("DELETE FROM sessions WHERE user_id = $1", params![user])?;
            let tokens = tx.execute(
                "UPDATE api_tokens SET revoked_at = $1 WHERE user_id = $2 AND revoked_at IS NULL",
                params![now, user],
            )?;
            tx.execute("DELETE FROM drafts WHERE worker_id = $1", params![user])?;
            tx.execute("DELETE FROM notices WHERE user_id = $1", params![user])?;
            // The profile is the person's own account of themselves: it goes with the identity. Credential
            // documents are returned so the caller removes their files as well.
            let credential_keys = tx
                .query(
                    "SELECT object_key FROM worker_credentials WHERE user_id = $1",
                    params![user],
                )?
                .iter()
                .map(|r| r.string(0))
                .collect::<StoreResult<Vec<_>>>()?;
            for (table, column) in [
                ("worker_credentials", "user_id"),
                ("worker_expertise", "user_id"),
                ("worker_languages", "user_id"),
                ("worker_profiles", "user_id"),
                ("worker_wellbeing", "worker_id"),
                ("project_invites", "worker_id"),
            ] {
                tx.execute(
                    &format!("DELETE FROM {table} WHERE {column} = $1"),
                    params![user],
                )?;
            }
            Ok(Deleted {
                user_id: user,
                sessions,
                tokens,
                credential_keys,
            })
        })
        .await
    }
}
