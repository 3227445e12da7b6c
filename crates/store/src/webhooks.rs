//! Outgoing webhooks: an organization's endpoints and the durable queue of deliveries to them.
//!
//! A delivery is a row from the moment its event happens until it is delivered or out of attempts, so a
//! restart of the server loses nothing: the delivery job picks up whatever is due. A job takes due rows by
//! pushing their next attempt a lease into the future in the same statement group that reads them (and on
//! PostgreSQL skips rows another process holds), so two processes never send one attempt twice; a process that
//! dies mid-send leaves the row to be retried when the lease runs out (receivers deduplicate by event id).

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, UserId};

use crate::portable::{Backend, Row, Tx};
use crate::{Store, StoreError, StoreResult, params};

/// A registered endpoint (the secret is read only by the delivery job).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// Id.
    pub id: i64,
    /// Organization.
    pub org_id: OrgId,
    /// Where events are posted.
    pub url: String,
    /// Event types it receives.
    pub events: Vec<String>,
    /// What it is for, in the admin's words.
    pub description: String,
    /// When it was registered.
    pub created_at: Millis,
    /// When it was switched off (no new deliveries), if it was.
    pub disabled_at: Option<Millis>,
}

/// A new endpoint.
#[derive(Debug, Clone)]
pub struct NewEndpoint {
    /// Organization.
    pub org_id: OrgId,
    /// URL, already checked against the allowlist.
    pub url: String,
    /// Event types.
    pub events: Vec<String>,
    /// Signing secret.
    pub secret: String,
    /// Description.
    pub description: String,
    /// Who registered it.
    pub created_by: UserId,
    /// When.
    pub now: Millis,
}

/// One event queued for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Delivery {
    /// Id.
    pub id: i64,
    /// The endpoint.
    pub endpoint_id: i64,
    /// Unique per endpoint; sent as `Fairloop-Event-Id` so receivers can drop repeats.
    pub event_id: String,
    /// `submission.created`, …
    pub event_type: String,
    /// The JSON body sent.
    pub payload: String,
    /// `pending`, `delivered` or `failed`.
    pub status: String,
    /// Attempts made so far.
    pub attempts: i64,
    /// When the next attempt is due (pending only).
    pub next_attempt_at: Millis,
    /// HTTP status of the last attempt, if it got one.
    pub last_status: Option<i64>,
    /// What went wrong on the last attempt.
    pub last_error: Option<String>,
    /// When the event happened.
    pub created_at: Millis,
    /// When it was delivered.
    pub delivered_at: Option<Millis>,
}

/// A delivery taken by the job, with what it needs to send it.
#[derive(Debug, Clone)]
pub struct DueDelivery {
    /// The delivery (attempts already counts this attempt).
    pub delivery: Delivery,
    /// The endpoint's URL.
    pub url: String,
    /// The endpoint's secret.
    pub secret: String,
}

/// An event to queue for every live endpoint of an organization that subscribed to its type.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// Organization.
    pub org_id: OrgId,
    /// Unique per endpoint (e.g. `payout.paid:12`): queuing the same event twice stores one delivery.
    pub event_id: String,
    /// Type.
    pub event_type: String,
    /// The JSON body.
    pub payload: String,
    /// When.
    pub now: Millis,
}

/// An annotation turned into events by [`Store::webhook_annotation_events`] (dyn impl).
#[derive(Debug, Clone)]
pub struct AnnotationEvent {
    /// Annotation id.
    pub annotation_id: i64,
    /// Project.
    pub project_id: i64,
    /// Item.
    pub item_id: i64,
    /// The item's external id.
    pub external_id: Option<String>,
    /// The annotator (turned into a pseudonym by the caller).
    pub worker_id: UserId,
    /// When it was submitted.
    pub submitted_at: Millis,
    /// Whether this annotation gave the item as many answers as the project's overlap asks.
    pub completed_item: bool,
}

const ENDPOINT_COLUMNS: &str = "id, org_id, url, events, description, created_at, disabled_at";
const DELIVERY_COLUMNS: &str = "d.id, d.endpoint_id, d.event_id, d.event_type, d.payload, d.status, d.attempts, \
     d.next_attempt_at, d.last_status, d.last_error, d.created_at, d.delivered_at";

fn endpoint_from(r: &Row) -> StoreResult<Endpoint> {
    Ok(Endpoint {
        id: r.i64(0)?,
        org_id: r.i64(1)?,
        url: r.string(2)?,
        events: r
            .string(3)?
            .split(',')
            .filter(|s| !s.is_empty())
            .map(str::to_string)
            .collect(),
        description: r.string(4)?,
        created_at: r.i64(5)?,
        disabled_at: r.opt_i64(6)?,
    })
}

fn delivery_from(r: &Row) -> StoreResult<Delivery> {
    Ok(Delivery {
        id: r.i64(0)?,
        endpoint_id: r.i64(1)?,
        event_id: r.string(2)?,
        event_type: r.string(3)?,
        payload: r.string(4)?,
        status: r.string(5)?,
        attempts: r.i64(6)?,
        next_attempt_at: r.i64(7)?,
        last_status: r.opt_i64(8)?,
        last_error: r.opt_string(9)?,
        created_at: r.i64(10)?,
        delivered_at: r.opt_i64(11)?,
    })
}

/// Queues an event inside an open transaction for every live endpoint of the organization that takes its
/// type; answers how many deliveries are new.
pub fn queue_event(tx: &dyn Tx, e: &NewEvent) -> StoreResult<u64> {
    let endpoints = tx.query(
        "SELECT id, events FROM webhook_endpoints WHERE org_id = $1 AND disabled_at IS NULL",
        params![e.org_id],
    )?;
    let mut added = 0;
    for ep in endpoints {
        let subscribed = ep.string(1)?.split(',').any(|t| t == e.event_type);
        if !subscribed {
            continue;
        }
        added += insert_delivery(tx, e.org_id, ep.i64(0)?, e)?;
    }
    Ok(added)
}

fn insert_delivery(tx: &dyn Tx, org: OrgId, endpoint: i64, e: &NewEvent) -> StoreResult<u64> {
    tx.execute(
        "INSERT INTO webhook_deliveries (org_id, endpoint_id, event_id, event_type, payload, status, attempts, \
         next_attempt_at, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, 'pending', 0, $6, $6, $6) \
         ON CONFLICT (endpoint_id, event_id) DO NOTHING",
        params![
            org,
            endpoint,
            e.event_id.as_str(),
            e.event_type.as_str(),
            e.payload.as_str(),
            e.now
        ],
    )
}

impl dyn Store + '_ {
    /// Registers an endpoint; its annotation events start after the newest annotation of the organization, so
    /// a new endpoint is not flooded with history.
    pub async fn add_webhook_endpoint(&self, e: NewEndpoint) -> StoreResult<Endpoint> {
        self.write_tx(move |tx| {
            let cursor = tx
                .query_one(
                    "SELECT CAST(COALESCE(MAX(id), 0) AS BIGINT) FROM annotations WHERE org_id = $1",
                    params![e.org_id],
                )?
                .i64(0)?;
            let id = tx
                .query_one(
                    "INSERT INTO webhook_endpoints (org_id, url, events, secret, description, created_by, \
                     created_at, annotation_cursor) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id",
                    params![
                        e.org_id,
                        e.url,
                        e.events.join(","),
                        e.secret,
                        e.description,
                        e.created_by,
                        e.now,
                        cursor
                    ],
                )?
                .i64(0)?;
            endpoint_from(&tx.query_one(
                &format!("SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE id = $1"),
                params![id],
            )?)
        })
        .await
    }

    /// The organization's endpoints, newest first.
    pub async fn webhook_endpoints(&self, org: OrgId) -> StoreResult<Vec<Endpoint>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 ORDER BY id DESC"
                ),
                params![org],
            )?
            .iter()
            .map(endpoint_from)
            .collect()
        })
        .await
    }

    /// One endpoint of the organization.
    pub async fn webhook_endpoint(&self, org: OrgId, id: i64) -> StoreResult<Endpoint> {
        self.read_tx(move |tx| {
            endpoint_from(&tx.query_one(
                &format!(
                    "SELECT {ENDPOINT_COLUMNS} FROM webhook_endpoints WHERE org_id = $1 AND id = $2"
                ),
                params![org, id],
            )?)
        })
        .await
    }

    /// Switches an endpoint off: no new deliveries, and pending ones are failed with the reason.
    pub async fn disable_webhook_endpoint(
        &self,
        org: OrgId,
        id: i64,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE webhook_endpoints SET disabled_at = COALESCE(disabled_at, $1) WHERE org_id = $2 AND id = $3",
                params![now, org, id],
            )?;
            if n == 0 {
                return Err(StoreError::NotFound);
            }
            tx.execute(
                "UPDATE webhook_deliveries SET status = 'failed', last_error = 'the endpoint was switched off', \
                 updated_at = $1 WHERE endpoint_id = $2 AND org_id = $3 AND status = 'pending'",
                params![now, id, org],
            )?;
            Ok(())
        })
        .await
    }

    /// Queues an event for the organization's subscribed endpoints; answers how many deliveries are new.
    pub async fn queue_webhook_event(&self, e: NewEvent) -> StoreResult<u64> {
        self.write_tx(move |tx| queue_event(tx, &e)).await
    }

    /// Queues an event for one endpoint whatever its subscriptions (the "send test event" button).
    pub async fn queue_webhook_test(
        &self,
        org: OrgId,
        endpoint: i64,
        e: NewEvent,
    ) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            tx.query_opt(
                "SELECT 1 FROM webhook_endpoints WHERE org_id = $1 AND id = $2 AND disabled_at IS NULL",
                params![org, endpoint],
            )?
            .ok_or(StoreError::NotFound)?;
            insert_delivery(tx, org, endpoint, &e)?;
            tx.query_one(
                "SELECT id FROM webhook_deliveries WHERE endpoint_id = $1 AND event_id = $2",
                params![endpoint, e.event_id.as_str()],
            )?
            .i64(0)
        })
        .await
    }

    /// An endpoint's deliveries, newest first, below `before` when given.
    pub async fn webhook_deliveries(
        &self,
        org: OrgId,
        endpoint: i64,
        before: Option<i64>,
        limit: i64,
    ) -> StoreResult<Vec<Delivery>> {
        self.read_tx(move |tx| {
            tx.query_opt(
                "SELECT 1 FROM webhook_endpoints WHERE org_id = $1 AND id = $2",
                params![org, endpoint],
            )?
            .ok_or(StoreError::NotFound)?;
            tx.query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.org_id = $1 AND d.endpoint_id = $2 \
                     AND d.id < $3 ORDER BY d.id DESC LIMIT $4"
                ),
                params![org, endpoint, before.unwrap_or(i64::MAX), limit],
            )?
            .iter()
            .map(delivery_from)
            .collect()
        })
        .await
    }

    /// One delivery of the organization.
    pub async fn webhook_delivery(&self, org: OrgId, id: i64) -> StoreResult<Delivery> {
        self.read_tx(move |tx| {
            delivery_from(&tx.query_one(
                &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.org_id = $1 AND d.id = $2"),
                params![org, id],
            )?)
        })
        .await
    }

    /// Puts a delivery back in the queue now (manual retry), whatever its state, with a fresh set of attempts.
    pub async fn retry_webhook_delivery(
        &self,
        org: OrgId,
        id: i64,
        now: Millis,
    ) -> StoreResult<Delivery> {
        self.write_tx(move |tx| {
            let live = tx.query_opt(
                "SELECT e.disabled_at FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                 WHERE d.org_id = $1 AND d.id = $2",
                params![org, id],
            )?;
            match live {
                None => return Err(StoreError::NotFound),
                Some(r) if r.opt_i64(0)?.is_some() => {
                    return Err(crate::conflict(
                        "endpoint_disabled",
                        "the endpoint is switched off; register it again to send to it",
                    ));
                }
                Some(_) => {}
            }
            tx.execute(
                "UPDATE webhook_deliveries SET status = 'pending', attempts = 0, next_attempt_at = $1, \
                 updated_at = $1 WHERE org_id = $2 AND id = $3",
                params![now, org, id],
            )?;
            delivery_from(&tx.query_one(
                &format!("SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries d WHERE d.org_id = $1 AND d.id = $2"),
                params![org, id],
            )?)
        })
        .await
    }

    /// Takes up to `limit` deliveries due by `now` for sending: counts the attempt and moves the next one
    /// `lease_ms` ahead, so a crash mid-send retries later and another process does not take them meanwhile.
    pub async fn take_due_deliveries(
        &self,
        now: Millis,
        limit: i64,
        lease_ms: i64,
    ) -> StoreResult<Vec<DueDelivery>> {
        self.write_tx(move |tx| {
            let lock = match tx.backend() {
                Backend::Sqlite => "",
                Backend::Postgres => " FOR UPDATE OF d SKIP LOCKED",
            };
            let rows = tx.query(
                &format!(
                    "SELECT {DELIVERY_COLUMNS}, e.url, e.secret FROM webhook_deliveries d \
                     JOIN webhook_endpoints e ON e.id = d.endpoint_id \
                     WHERE d.status = 'pending' AND d.next_attempt_at <= $1 ORDER BY d.next_attempt_at, d.id \
                     LIMIT $2{lock}"
                ),
                params![now, limit],
            )?;
            let mut out = Vec::with_capacity(rows.len());
            for r in rows {
                let mut delivery = delivery_from(&r)?;
                delivery.attempts += 1;
                delivery.next_attempt_at = now + lease_ms;
                tx.execute(
                    "UPDATE webhook_deliveries SET attempts = $1, next_attempt_at = $2, updated_at = $3 WHERE id = $4",
                    params![delivery.attempts, delivery.next_attempt_at, now, delivery.id],
                )?;
                out.push(DueDelivery {
                    delivery,
                    url: r.string(12)?,
                    secret: r.string(13)?,
                });
            }
            Ok(out)
        })
        .await
    }

    /// Records the outcome of an attempt: delivered, failed for good, or due again at `retry_at`.
    #[allow(clippy::too_many_arguments)]
    pub async fn record_delivery_attempt(
        &self,
        id: i64,
        attempts: i64,
        delivered: bool,
        retry_at: Option<Millis>,
        status: Option<i64>,
        error: Option<String>,
        now: Millis,
    ) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let new_status = match (delivered, retry_at) {
                (true, _) => "delivered",
                (false, Some(_)) => "pending",
                (false, None) => "failed",
            };
            // Only the attempt that took the row records it: a manual retry in between reset `attempts`.
            tx.execute(
                "UPDATE webhook_deliveries SET status = $1, next_attempt_at = COALESCE($2, next_attempt_at), \
                 last_status = $3, last_error = $4, updated_at = $5, \
                 delivered_at = CASE WHEN $1 = 'delivered' THEN $5 ELSE delivered_at END \
                 WHERE id = $6 AND attempts = $7 AND status = 'pending'",
                params![new_status, retry_at, status, error, now, id, attempts],
            )?;
            Ok(())
        })
        .await
    }

    /// Turns new annotations of organizations with subscribed endpoints into `submission.created` and
    /// `item.completed` deliveries, at most `limit` annotations per endpoint per call; `payload` shapes an
    /// event. Answers how many deliveries were queued.
    pub async fn webhook_annotation_events(
        &self,
        limit: i64,
        now: Millis,
        payload: impl Fn(&AnnotationEvent, &str) -> String + Send + 'static,
    ) -> StoreResult<u64> {
        self.write_tx(move |tx| {
            let lock = match tx.backend() {
                Backend::Sqlite => "",
                Backend::Postgres => " FOR UPDATE SKIP LOCKED",
            };
            let endpoints = tx.query(
                &format!(
                    "SELECT id, org_id, events, annotation_cursor FROM webhook_endpoints WHERE disabled_at IS NULL \
                     AND (events LIKE '%submission.created%' OR events LIKE '%item.completed%') ORDER BY id{lock}"
                ),
                &[],
            )?;
            let mut added = 0;
            for ep in endpoints {
                let (endpoint, org, cursor) = (ep.i64(0)?, ep.i64(1)?, ep.i64(3)?);
                let events: Vec<String> = ep.string(2)?.split(',').map(str::to_string).collect();
                let rows = tx.query(
                    "SELECT a.id, a.project_id, a.item_id, i.external_id, a.worker_id, a.submitted_at, \
                     CASE WHEN (SELECT COUNT(*) FROM annotations b WHERE b.item_id = a.item_id AND b.id <= a.id) \
                       = p.overlap THEN 1 ELSE 0 END \
                     FROM annotations a JOIN items i ON i.id = a.item_id JOIN projects p ON p.id = a.project_id \
                     WHERE a.org_id = $1 AND a.id > $2 ORDER BY a.id LIMIT $3",
                    params![org, cursor, limit],
                )?;
                let mut last = cursor;
                for r in rows {
                    let ev = AnnotationEvent {
                        annotation_id: r.i64(0)?,
                        project_id: r.i64(1)?,
                        item_id: r.i64(2)?,
                        external_id: r.opt_string(3)?,
                        worker_id: r.i64(4)?,
                        submitted_at: r.i64(5)?,
                        completed_item: r.i64(6)? == 1,
                    };
                    last = ev.annotation_id;
                    let mut kinds = vec![("submission.created", format!("submission.created:{}", ev.annotation_id))];
                    if ev.completed_item {
                        kinds.push(("item.completed", format!("item.completed:{}", ev.item_id)));
                    }
                    for (kind, event_id) in kinds {
                        if !events.iter().any(|e| e == kind) {
                            continue;
                        }
                        added += insert_delivery(
                            tx,
                            org,
                            endpoint,
                            &NewEvent {
                                org_id: org,
                                event_id,
                                event_type: kind.to_string(),
                                payload: payload(&ev, kind),
                                now,
                            },
                        )?;
                    }
                }
                if last != cursor {
                    tx.execute(
                        "UPDATE webhook_endpoints SET annotation_cursor = $1 WHERE id = $2",
                        params![last, endpoint],
                    )?;
                }
            }
            Ok(added)
        })
        .await
    }
}
