//! Outgoing webhooks on every backend, against a real HTTP receiver written here: deliveries are signed so that
//! the receiver can check them with the secret alone, retried after 500s until one succeeds, kept as rows so
//! that a restarted server delivers what the old one had queued, sent only to allowed hosts, and managed only
//! by the organization's admins.

mod common;

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode as AxStatus};
use common::{
    TestApp, expect_error, expect_status, jsonl_items, minimal_template, on_every_backend_with,
};
use fairloop_app::webhooks::{FIRST_RETRY_MS, LEASE_MS, WebhookConfig, WebhookJob};
use fairloop_app::{App, AppConfig};
use fairloop_domain::Role;
use fairloop_domain::time::now_millis;
use hmac::{Hmac, KeyInit, Mac};
use reqwest::{Method, StatusCode};
use serde_json::{Value, json};
use sha2::Sha256;

/// What the receiver got: headers of interest and the body.
#[derive(Debug, Clone)]
struct Received {
    signature: String,
    event: String,
    event_id: String,
    body: String,
}

#[derive(Clone, Default)]
struct Receiver {
    got: Arc<Mutex<Vec<Received>>>,
    /// Answer 500 to this many requests first.
    fail_first: Arc<AtomicUsize>,
}

async fn receive(State(r): State<Receiver>, headers: HeaderMap, body: String) -> AxStatus {
    let h = |k: &str| {
        headers
            .get(k)
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string()
    };
    r.got.lock().unwrap().push(Received {
        signature: h("fairloop-signature"),
        event: h("fairloop-event"),
        event_id: h("fairloop-event-id"),
        body,
    });
    let left = r.fail_first.load(Ordering::SeqCst);
    if left > 0 {
        r.fail_first.store(left - 1, Ordering::SeqCst);
        AxStatus::INTERNAL_SERVER_ERROR
    } else {
        AxStatus::OK
    }
}

/// A receiver on 127.0.0.1 and a random port; answers its address.
async fn start_receiver(r: Receiver) -> std::net::SocketAddr {
    let router = axum::Router::new()
        .route("/hook", axum::routing::post(receive))
        .with_state(r);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    tokio::spawn(async move { axum::serve(listener, router).await.unwrap() });
    addr
}

/// The receiver's check, written from the documentation: `t=<secs>,v1=<hex HMAC-SHA256(secret, "<t>.<body>")>`,
/// compared in constant time, and `t` no older than five minutes.
fn verify(secret: &str, header: &str, body: &str) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = v.parse::<i64>().ok(),
            Some(("v1", v)) => v1 = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else {
        return false;
    };
    if (now_millis() / 1000 - t).abs() > 300 {
        return false;
    }
    let mut mac = <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).unwrap();
    mac.update(format!("{t}.{body}").as_bytes());
    let Ok(sent) = (0..v1.len() / 2)
        .map(|i| u8::from_str_radix(&v1[2 * i..2 * i + 2], 16))
        .collect::<Result<Vec<u8>, _>>()
    else {
        return false;
    };
    mac.verify_slice(&sent).is_ok()
}

fn allowing(hosts: &[&str]) -> AppConfig {
    AppConfig {
        webhooks: WebhookConfig {
            allowed_hosts: hosts.iter().map(|s| s.to_string()).collect(),
            ..Default::default()
        },
        ..AppConfig::default()
    }
}

async fn call(
    app: &TestApp,
    method: Method,
    path: &str,
    token: &str,
    body: Option<Value>,
) -> reqwest::Response {
    app.send(method, token, path, body).await
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn deliveries_are_signed_retried_after_500s_and_survive_a_restart() {
    on_every_backend_with(allowing(&["127.0.0.1"]), async |app: TestApp| {
        let receiver = Receiver::default();
        receiver.fail_first.store(4, Ordering::SeqCst);
        let addr = start_receiver(receiver.clone()).await;
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let other_admin = app.user("Other", "admin@other.test", Role::Admin).await;

        // Only admins manage webhooks; the events must be known ones.
        let url = format!("http://{addr}/hook");
        let body = json!({"url": url, "events": ["submission.created", "item.completed"], "description": "ours"});
        expect_error(app.post(&req.token, "/api/v1/webhooks", body.clone()).await, StatusCode::FORBIDDEN, "forbidden")
            .await;
        expect_error(app.post(&w.token, "/api/v1/webhooks", body.clone()).await, StatusCode::FORBIDDEN, "forbidden")
            .await;
        let e = expect_error(app.post(&admin.token, "/api/v1/webhooks",
            json!({"url": url, "events": ["submission.made"]})).await,
            StatusCode::UNPROCESSABLE_ENTITY, "invalid_event_type").await;
        assert!(e["message"].as_str().unwrap().contains("submission.made"), "{e}");
        let reg = expect_status(app.post(&admin.token, "/api/v1/webhooks", body).await, StatusCode::CREATED).await;
        let secret = reg["secret"].as_str().unwrap().to_string();
        assert!(secret.starts_with("whsec_"), "{reg}");
        let endpoint = reg["endpoint"]["id"].as_i64().unwrap();
        // The secret is shown once: neither the list nor the endpoint carries it.
        let listed = expect_status(app.api.get(&admin.token, "/api/v1/webhooks").await, StatusCode::OK).await;
        assert!(!listed.to_string().contains(&secret));
        assert_eq!(listed[0]["events"], json!(["submission.created", "item.completed"]));
        // Another organization sees nothing of it.
        expect_error(app.api.get(&other_admin.token, &format!("/api/v1/webhooks/{endpoint}")).await,
            StatusCode::NOT_FOUND, "not_found").await;
        expect_error(app.api.get(&other_admin.token, &format!("/api/v1/webhooks/{endpoint}/deliveries")).await,
            StatusCode::NOT_FOUND, "not_found").await;
        assert_eq!(expect_status(app.api.get(&other_admin.token, "/api/v1/webhooks").await, StatusCode::OK).await,
            json!([]));

        // A submission that completes its item (overlap 1): two events.
        let project = app.project(&req.token, json!({"name": "Hooked", "template": minimal_template(), "overlap": 1}))
            .await;
        app.items(&req.token, project, &jsonl_items("h", 0..2)).await;
        let task = app.claim(&w.token, project).await;
        let annotation = expect_status(app.submit(&w.token, task["assignment_id"].as_i64().unwrap(),
            json!({"label": "b"}), None).await, StatusCode::OK).await["annotation_id"].as_i64().unwrap();

        // First attempt of each: the receiver answers 500, so both wait for a retry.
        let t0 = now_millis();
        let job = WebhookJob::new(app.app.clone()).unwrap();
        let s = job.try_run_one(t0).await.unwrap();
        assert_eq!((s.queued, s.delivered, s.retrying, s.failed), (2, 0, 2, 0), "{s:?}");
        // Nothing is due before the backoff has passed.
        let s = job.try_run_one(t0 + 1000).await.unwrap();
        assert_eq!((s.queued, s.delivered, s.retrying), (0, 0, 0), "{s:?}");
        let log = expect_status(app.api.get(&admin.token, &format!("/api/v1/webhooks/{endpoint}/deliveries")).await,
            StatusCode::OK).await;
        assert_eq!(log.as_array().unwrap().len(), 2);
        for d in log.as_array().unwrap() {
            assert_eq!((d["status"].clone(), d["attempts"].clone(), d["last_status"].clone()),
                (json!("pending"), json!(1), json!(500)), "{d}");
            assert!(d["last_error"].as_str().unwrap().contains("500"), "{d}");
        }
        // Second attempt after the first backoff: 500 again, the wait doubles.
        let t1 = t0 + FIRST_RETRY_MS + 1;
        let s = job.try_run_one(t1).await.unwrap();
        assert_eq!((s.delivered, s.retrying), (0, 2), "{s:?}");
        assert_eq!(job.try_run_one(t1 + FIRST_RETRY_MS + 1).await.unwrap().retrying, 0, "the wait doubled");

        // A restart: a new application over a new connection to the same database, nothing kept in memory.
        // It delivers what the old one had queued; the receiver now answers 200.
        drop(job);
        let store = fairloop_store::connect(&app.db_url).await.unwrap();
        let restarted = App::new(store, allowing(&["127.0.0.1"]));
        let job = WebhookJob::new(restarted).unwrap();
        let s = job.try_run_one(t1 + 2 * FIRST_RETRY_MS + 1).await.unwrap();
        assert_eq!((s.delivered, s.retrying, s.failed), (2, 0, 0), "{s:?}");

        // The receiver got 6 posts: 2 events × (500, 500, 200), each signed over exactly its body.
        let got = receiver.got.lock().unwrap().clone();
        assert_eq!(got.len(), 6, "{got:?}");
        for r in &got {
            assert!(verify(&secret, &r.signature, &r.body), "bad signature {r:?}");
            assert!(!verify("whsec_wrong", &r.signature, &r.body));
            assert!(!verify(&secret, &r.signature, &format!("{} ", r.body)), "a changed body fails");
            let v: Value = serde_json::from_str(&r.body).unwrap();
            assert_eq!(v["type"], r.event);
            assert_eq!(v["id"], r.event_id);
        }
        let created: Vec<&Received> = got.iter().filter(|r| r.event == "submission.created").collect();
        assert_eq!(created.len(), 3);
        assert!(created.iter().all(|r| r.event_id == created[0].event_id), "the same event id on every retry");
        let v: Value = serde_json::from_str(&created[2].body).unwrap();
        assert_eq!(v["data"]["annotation_id"], annotation);
        assert_eq!(v["data"]["project_id"], project);
        assert_eq!(v["data"]["external_id"], "h0");
        assert!(v["data"]["annotator"].as_str().unwrap().starts_with("a_"), "a pseudonym: {v}");
        assert!(!created[2].body.contains("w@lab.test"));
        assert_eq!(got.iter().filter(|r| r.event == "item.completed").count(), 3);

        let log = expect_status(app.api.get(&admin.token, &format!("/api/v1/webhooks/{endpoint}/deliveries")).await,
            StatusCode::OK).await;
        for d in log.as_array().unwrap() {
            assert_eq!((d["status"].clone(), d["attempts"].clone(), d["last_status"].clone()),
                (json!("delivered"), json!(3), json!(200)), "{d}");
            assert!(d["delivered_at"].is_string());
        }
        // Nothing more to do; the same annotation is never queued twice.
        let s = job.try_run_one(now_millis() + 10 * FIRST_RETRY_MS).await.unwrap();
        assert_eq!((s.queued, s.delivered), (0, 0));

        // Manual retry and the test event, from the admin; another organization cannot retry ours.
        let first = log[0]["id"].as_i64().unwrap();
        expect_error(app.post(&other_admin.token, &format!("/api/v1/webhooks/deliveries/{first}/retry"), json!({}))
            .await, StatusCode::NOT_FOUND, "not_found").await;
        let again = expect_status(app.post(&admin.token, &format!("/api/v1/webhooks/deliveries/{first}/retry"),
            json!({})).await, StatusCode::ACCEPTED).await;
        assert_eq!((again["status"].clone(), again["attempts"].clone()), (json!("pending"), json!(0)));
        let test = expect_status(app.post(&admin.token, &format!("/api/v1/webhooks/{endpoint}/test"), json!({}))
            .await, StatusCode::ACCEPTED).await;
        assert_eq!(test["event_type"], "webhook.test");
        let s = job.try_run_one(now_millis()).await.unwrap();
        assert_eq!(s.delivered, 2, "{s:?}");
        let got = receiver.got.lock().unwrap().clone();
        assert_eq!(got.len(), 8);
        assert!(got.iter().any(|r| r.event == "webhook.test" && verify(&secret, &r.signature, &r.body)));

        // Switched off: nothing more is queued for it.
        expect_status(call(&app, Method::DELETE, &format!("/api/v1/webhooks/{endpoint}"), &admin.token, None).await,
            StatusCode::NO_CONTENT).await;
        let task = app.claim(&w.token, project).await;
        expect_status(app.submit(&w.token, task["assignment_id"].as_i64().unwrap(), json!({"label": "a"}), None).await,
            StatusCode::OK).await;
        let s = job.try_run_one(now_millis()).await.unwrap();
        assert_eq!((s.queued, s.delivered), (0, 0));
        expect_error(app.post(&admin.token, &format!("/api/v1/webhooks/{endpoint}/test"), json!({})).await,
            StatusCode::NOT_FOUND, "not_found").await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_taken_by_a_server_that_died_is_sent_after_its_lease() {
    on_every_backend_with(allowing(&["127.0.0.1"]), async |app: TestApp| {
        let receiver = Receiver::default();
        let addr = start_receiver(receiver.clone()).await;
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let reg = expect_status(
            app.post(
                &admin.token,
                "/api/v1/webhooks",
                json!({"url": format!("http://{addr}/hook"), "events": ["payout.paid"]}),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let endpoint = reg["endpoint"]["id"].as_i64().unwrap();
        expect_status(
            app.post(
                &admin.token,
                &format!("/api/v1/webhooks/{endpoint}/test"),
                json!({}),
            )
            .await,
            StatusCode::ACCEPTED,
        )
        .await;
        // A server takes the delivery and dies before sending it (nothing but the lease is written).
        let t0 = now_millis();
        let taken = app
            .app
            .store
            .take_due_deliveries(t0, 10, LEASE_MS)
            .await
            .unwrap();
        assert_eq!(taken.len(), 1);
        // Another server does not send it while the lease holds, and does once it has run out.
        let store = fairloop_store::connect(&app.db_url).await.unwrap();
        let job = WebhookJob::new(App::new(store, allowing(&["127.0.0.1"]))).unwrap();
        assert_eq!(job.try_run_one(t0 + 1000).await.unwrap().delivered, 0);
        assert!(receiver.got.lock().unwrap().is_empty());
        assert_eq!(
            job.try_run_one(t0 + LEASE_MS + 1).await.unwrap().delivered,
            1
        );
        assert_eq!(receiver.got.lock().unwrap().len(), 1);
        // Events of a type the endpoint did not subscribe to are not queued for it; subscribed ones are, once.
        assert_eq!(
            app.app
                .emit_webhook_event(admin.org_id, "pay.withheld", "pay.withheld:1", json!({}))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            app.app
                .emit_webhook_event(admin.org_id, "payout.paid", "payout.paid:1", json!({}))
                .await
                .unwrap(),
            1
        );
        assert_eq!(
            app.app
                .emit_webhook_event(admin.org_id, "payout.paid", "payout.paid:1", json!({}))
                .await
                .unwrap(),
            0
        );
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhooks_go_only_to_hosts_the_platform_admin_allows() {
    // Off by default: no host is allowed.
    on_every_backend_with(AppConfig::default(), async |app: TestApp| {
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let e = expect_error(
            app.post(
                &admin.token,
                "/api/v1/webhooks",
                json!({"url": "https://hooks.example.com/in", "events": ["item.completed"]}),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "webhook_host_not_allowed",
        )
        .await;
        assert!(
            e["message"]
                .as_str()
                .unwrap()
                .contains("webhook_allowed_hosts"),
            "{e}"
        );
    })
    .await;

    // A name is allowed, but it resolves to loopback, which is not listed itself: refused at delivery.
    on_every_backend_with(allowing(&["localhost", "hooks.example.com"]), async |app: TestApp| {
        let receiver = Receiver::default();
        let addr = start_receiver(receiver.clone()).await;
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        for (url, why) in [
            (format!("http://{addr}/hook"), "loopback"),
            ("http://10.0.0.7/hook".to_string(), "private"),
            ("https://evil.example.org/hook".to_string(), "not on this installation's list"),
            ("ftp://hooks.example.com/x".to_string(), "https://"),
            ("https://user:pw@hooks.example.com/x".to_string(), "password"),
        ] {
            let e = expect_error(app.post(&admin.token, "/api/v1/webhooks",
                json!({"url": url, "events": ["item.completed"]})).await,
                StatusCode::UNPROCESSABLE_ENTITY, "webhook_host_not_allowed").await;
            assert!(e["message"].as_str().unwrap().contains(why), "{url}: {e}");
        }
        let reg = expect_status(app.post(&admin.token, "/api/v1/webhooks",
            json!({"url": format!("http://localhost:{}/hook", addr.port()), "events": ["item.completed"]})).await,
            StatusCode::CREATED).await;
        let endpoint = reg["endpoint"]["id"].as_i64().unwrap();
        expect_status(app.post(&admin.token, &format!("/api/v1/webhooks/{endpoint}/test"), json!({})).await,
            StatusCode::ACCEPTED).await;
        let job = WebhookJob::new(app.app.clone()).unwrap();
        let s = job.try_run_one(now_millis()).await.unwrap();
        assert_eq!((s.delivered, s.retrying, s.failed), (0, 0, 1), "refused, not retried: {s:?}");
        assert!(receiver.got.lock().unwrap().is_empty(), "nothing reached the loopback receiver");
        let log = expect_status(app.api.get(&admin.token, &format!("/api/v1/webhooks/{endpoint}/deliveries")).await,
            StatusCode::OK).await;
        assert_eq!(log[0]["status"], "failed");
        let err = log[0]["last_error"].as_str().unwrap();
        assert!(err.starts_with("refused:") && err.contains("loopback"), "{err}");
    })
    .await;
}
