//! Outgoing webhooks: an organization's admin registers endpoints (URL and event types); events are queued as
//! rows and posted by a background job, signed, retried with exponential backoff, and sent only to hosts the
//! platform admin allows.
//!
//! Why each rule:
//! - **Allowlist.** A webhook makes the server open connections on a tenant's behalf. Without a limit an admin
//!   of one organization could make the server probe its own network (SSRF). So the platform admin lists the
//!   hosts in the configuration (`webhook_allowed_hosts`): host names (`hooks.example.com`, `*.example.com`)
//!   and IP addresses or ranges (`203.0.113.7`, `10.1.0.0/16`). Registration refuses a URL whose host is not
//!   listed; delivery checks again (the list may have changed) and refuses to connect to a loopback, private,
//!   link-local or otherwise non-public address unless that address is listed itself, so a listed name that
//!   resolves to `127.0.0.1` is still refused. The addresses checked are the ones connected to (the client
//!   resolves the name itself), so a name cannot pass the check and then resolve elsewhere. Redirects are
//!   not followed and no proxy is used.
//! - **Signature.** `Fairloop-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` with the
//!   endpoint's secret (shown once, at registration), like Stripe's; receivers check it and reject old `t`.
//! - **Durability.** A delivery is a row from the moment its event happens (see `fairloop_store::webhooks`);
//!   the job takes due rows under a lease, so a restart or a crash loses nothing and retries later.
//!   Delivery is at least once: receivers drop repeats by `Fairloop-Event-Id`.

use std::net::IpAddr;
use std::sync::Arc;
use std::time::Duration;

use fairloop_domain::pseudonym::annotator_pseudonym;
use fairloop_domain::time::{Millis, now_millis, to_rfc3339};
use fairloop_domain::{OrgId, ProjectId, Role};
use fairloop_store::Principal;
use fairloop_store::webhooks::{Delivery, DueDelivery, Endpoint, NewEndpoint, NewEvent};
use hmac::{Hmac, KeyInit, Mac};
use serde_json::{Value, json};
use sha2::Sha256;

use crate::error::NotFoundAs;
use crate::outbound::OutboundError;
use crate::{App, AppError, AppResult};

/// Every event type an endpoint may subscribe to.
pub const EVENT_TYPES: &[&str] = &[
    "submission.created",
    "item.completed",
    "project.state_changed",
    "pay.withheld",
    "pay.dispute_decided",
    "payout.paid",
    "payout.failed",
];
/// The type of the event sent by "send test event" (to any endpoint, whatever it subscribed to).
pub const TEST_EVENT: &str = "webhook.test";
/// Attempts before a delivery is given up (the first and the retries).
pub const MAX_ATTEMPTS: i64 = 10;
/// The wait before the first retry; it doubles after each failure.
pub const FIRST_RETRY_MS: i64 = 30_000;
/// The longest wait between two attempts.
pub const MAX_RETRY_MS: i64 = 6 * 3600 * 1000;
/// How long a taken delivery is held before another process may try it (longer than one attempt can take).
pub const LEASE_MS: i64 = 60_000;
/// Deliveries sent per job step.
const BATCH: i64 = 20;
/// Annotations turned into events per endpoint per job step.
const ANNOTATION_BATCH: i64 = 500;
/// Endpoints per organization.
pub const MAX_ENDPOINTS: usize = 20;

/// The platform admin's webhook settings (from the configuration file).
#[derive(Debug, Clone)]
pub struct WebhookConfig {
    /// Hosts deliveries may go to: names (`hooks.example.com`, `*.example.com`), addresses and ranges
    /// (`203.0.113.7`, `10.0.0.0/8`, `::1`). Empty: webhooks are off.
    pub allowed_hosts: Vec<String>,
    /// How long one attempt may take.
    pub timeout: Duration,
}

impl Default for WebhookConfig {
    fn default() -> Self {
        WebhookConfig {
            allowed_hosts: Vec::new(),
            timeout: Duration::from_secs(10),
        }
    }
}

/// One entry of the allowlist.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Rule {
    /// This name exactly.
    Name(String),
    /// Names ending in `.suffix` (not the suffix itself).
    Wildcard(String),
    /// An address range (a single address is a /32 or /128).
    Net(IpAddr, u8),
}

fn parse_rule(raw: &str) -> Option<Rule> {
    let s = raw.trim().to_ascii_lowercase();
    let s = s.trim_start_matches('[').trim_end_matches(']');
    if s.is_empty() {
        return None;
    }
    if let Some((addr, bits)) = s.split_once('/') {
        let ip: IpAddr = addr.parse().ok()?;
        let bits: u8 = bits.parse().ok()?;
        let max = if ip.is_ipv4() { 32 } else { 128 };
        return (bits <= max).then_some(Rule::Net(ip, bits));
    }
    if let Ok(ip) = s.parse::<IpAddr>() {
        let bits = if ip.is_ipv4() { 32 } else { 128 };
        return Some(Rule::Net(ip, bits));
    }
    if let Some(suffix) = s.strip_prefix("*.") {
        return Some(Rule::Wildcard(suffix.to_string()));
    }
    Some(Rule::Name(s.to_string()))
}

fn in_net(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u32::MAX << (32 - bits)
            };
            u32::from(a) & mask == u32::from(n) & mask
        }
        (IpAddr::V6(a), IpAddr::V6(n)) => {
            let mask = if bits == 0 {
                0
            } else {
                u128::MAX << (128 - bits)
            };
            u128::from(a) & mask == u128::from(n) & mask
        }
        _ => false,
    }
}

/// Whether an address is on the public internet: not loopback, private, link-local, shared (CGNAT),
/// unspecified, broadcast, multicast, documentation or otherwise reserved.
pub fn is_public(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => {
            let o = v4.octets();
            !(v4.is_loopback()
                || v4.is_private()
                || v4.is_link_local()
                || v4.is_unspecified()
                || v4.is_broadcast()
                || v4.is_multicast()
                || v4.is_documentation()
                || o[0] == 0
                || (o[0] == 100 && (64..128).contains(&o[1]))
                || (o[0] == 192 && o[1] == 0 && o[2] == 0)
                || (o[0] == 198 && (18..20).contains(&o[1]))
                || o[0] >= 240)
        }
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public(IpAddr::V4(v4));
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00
                || (s[0] & 0xffc0) == 0xfe80
                || (s[0] == 0x2001 && s[1] == 0x0db8)
                || (s[0] == 0x0064 && s[1] == 0xff9b))
        }
    }
}

/// The allowlist, parsed once.
#[derive(Debug, Clone)]
pub struct HostPolicy {
    rules: Vec<Rule>,
}

/// Why a URL or an address is refused; the message says what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Refused(pub String);

impl HostPolicy {
    /// Parses the configured entries (unreadable ones are skipped with a warning).
    pub fn new(entries: &[String]) -> HostPolicy {
        let rules = entries
            .iter()
            .filter_map(|e| {
                let r = parse_rule(e);
                if r.is_none() && !e.trim().is_empty() {
                    tracing::warn!(entry = %e, "webhook_allowed_hosts: entry not understood, ignored");
                }
                r
            })
            .collect();
        HostPolicy { rules }
    }

    fn address_listed(&self, ip: IpAddr) -> bool {
        self.rules
            .iter()
            .any(|r| matches!(r, Rule::Net(n, b) if in_net(ip, *n, *b)))
    }

    /// Whether a connection to this address may be made: public, or listed itself.
    pub fn check_address(&self, host: &str, ip: IpAddr) -> Result<(), Refused> {
        if is_public(ip) || self.address_listed(ip) {
            Ok(())
        } else {
            Err(Refused(format!(
                "{host} resolves to {ip}, a loopback, private or reserved address; deliveries go there only if \
                 the platform admin lists that address itself in webhook_allowed_hosts"
            )))
        }
    }

    /// Parses and checks a URL: http(s), no credentials, and a host the allowlist names.
    pub fn check_url(&self, raw: &str) -> Result<url::Url, Refused> {
        if self.rules.is_empty() {
            return Err(Refused(
                "webhooks are off on this installation: the platform admin has not allowed any host \
                 (webhook_allowed_hosts in fairloop.toml)"
                    .into(),
            ));
        }
        let url = url::Url::parse(raw.trim())
            .map_err(|e| Refused(format!("url is not a valid URL ({e})")))?;
        if !matches!(url.scheme(), "https" | "http") {
            return Err(Refused(format!(
                "url must start with https:// (or http://), not {}://",
                url.scheme()
            )));
        }
        if !url.username().is_empty() || url.password().is_some() {
            return Err(Refused(
                "url must not carry a user name or password; the signature authenticates deliveries".into(),
            ));
        }
        let allowed = match url.host() {
            None => return Err(Refused("url has no host".into())),
            Some(url::Host::Ipv4(v4)) => self.check_ip_host(IpAddr::V4(v4))?,
            Some(url::Host::Ipv6(v6)) => self.check_ip_host(IpAddr::V6(v6))?,
            Some(url::Host::Domain(name)) => {
                let name = name.trim_end_matches('.').to_ascii_lowercase();
                self.rules.iter().any(|r| match r {
                    Rule::Name(n) => *n == name,
                    Rule::Wildcard(s) => name.ends_with(&format!(".{s}")),
                    Rule::Net(..) => false,
                })
            }
        };
        if !allowed {
            return Err(Refused(format!(
                "{} is not on this installation's list of webhook hosts; ask the platform admin to add it to \
                 webhook_allowed_hosts",
                url.host_str().unwrap_or_default()
            )));
        }
        Ok(url)
    }

    fn check_ip_host(&self, ip: IpAddr) -> Result<bool, Refused> {
        if self.address_listed(ip) {
            return Ok(true);
        }
        if !is_public(ip) {
            return Err(Refused(format!(
                "{ip} is a loopback, private or reserved address; it can be used only if the platform admin \
                 lists it itself in webhook_allowed_hosts"
            )));
        }
        Ok(false)
    }
}

/// The `Fairloop-Signature` header value for a body sent at unix second `t`.
pub fn signature(secret: &str, t: i64, body: &str) -> String {
    let mut mac =
        <Hmac<Sha256> as KeyInit>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(t.to_string().as_bytes());
    mac.update(b".");
    mac.update(body.as_bytes());
    format!("t={t},v1={}", hex::encode(mac.finalize().into_bytes()))
}

/// Exponential backoff: the wait after the `attempts`-th failed attempt.
pub fn backoff_ms(attempts: i64) -> i64 {
    let shift = (attempts - 1).clamp(0, 30) as u32;
    FIRST_RETRY_MS
        .saturating_mul(1_i64 << shift)
        .min(MAX_RETRY_MS)
}

/// What an admin registers.
#[derive(Debug, Clone, serde::Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewWebhook {
    /// Where to post events (`https://…`), on a host the platform admin allows.
    pub url: String,
    /// Event types to receive (see the list in docs/api.md).
    pub events: Vec<String>,
    /// What it is for.
    #[serde(default)]
    pub description: String,
}

/// A registered endpoint with the secret, shown this once.
#[derive(Debug, Clone)]
pub struct Registered {
    /// The endpoint.
    pub endpoint: Endpoint,
    /// The signing secret; never shown again.
    pub secret: String,
}

fn require_org_admin(p: &Principal) -> AppResult<()> {
    if p.role == Role::Admin {
        Ok(())
    } else {
        Err(AppError::forbidden(format!(
            "webhooks are managed by the organization's admins; you are a {}",
            p.role
        )))
    }
}

fn refused(r: Refused) -> AppError {
    AppError::invalid("webhook_host_not_allowed", r.0)
}

/// The JSON body of an event.
pub fn envelope(event_id: &str, event_type: &str, now: Millis, data: Value) -> String {
    json!({"id": event_id, "type": event_type, "created_at": to_rfc3339(now), "data": data})
        .to_string()
}

impl App {
    /// Registers an endpoint (organization admins); the answer carries the signing secret, shown only now.
    pub async fn register_webhook(
        &self,
        principal: &Principal,
        input: NewWebhook,
    ) -> AppResult<Registered> {
        require_org_admin(principal)?;
        let url = self.webhook_policy.check_url(&input.url).map_err(refused)?;
        let mut events: Vec<String> = Vec::new();
        for e in &input.events {
            let e = e.trim();
            if !EVENT_TYPES.contains(&e) {
                return Err(AppError::invalid(
                    "invalid_event_type",
                    format!(
                        "events: {e:?} is not an event type; use some of {}",
                        EVENT_TYPES.join(", ")
                    ),
                ));
            }
            if !events.iter().any(|x| x == e) {
                events.push(e.to_string());
            }
        }
        if events.is_empty() {
            return Err(AppError::invalid(
                "invalid_event_type",
                format!(
                    "events must name at least one of {}",
                    EVENT_TYPES.join(", ")
                ),
            ));
        }
        let description = input.description.trim().to_string();
        crate::reject_nul("description", &description)?;
        if description.chars().count() > 500 {
            return Err(AppError::invalid(
                "invalid_text",
                "description is at most 500 characters",
            ));
        }
        let live = self
            .store
            .webhook_endpoints(principal.org_id)
            .await?
            .into_iter()
            .filter(|e| e.disabled_at.is_none())
            .count();
        if live >= MAX_ENDPOINTS {
            return Err(AppError::Conflict {
                code: "too_many_webhooks",
                message: format!(
                    "an organization has at most {MAX_ENDPOINTS} live endpoints; switch one off first"
                ),
            });
        }
        let secret = format!("whsec_{}", crate::accounts::random_secret());
        let endpoint = self
            .store
            .add_webhook_endpoint(NewEndpoint {
                org_id: principal.org_id,
                url: url.to_string(),
                events,
                secret: secret.clone(),
                description,
                created_by: principal.user_id,
                now: now_millis(),
            })
            .await?;
        Ok(Registered { endpoint, secret })
    }

    /// The organization's endpoints (admins).
    pub async fn webhooks(&self, principal: &Principal) -> AppResult<Vec<Endpoint>> {
        require_org_admin(principal)?;
        Ok(self.store.webhook_endpoints(principal.org_id).await?)
    }

    /// One endpoint (admins).
    pub async fn webhook(&self, principal: &Principal, id: i64) -> AppResult<Endpoint> {
        require_org_admin(principal)?;
        self.store
            .webhook_endpoint(principal.org_id, id)
            .await
            .or_not_found("webhook")
    }

    /// Switches an endpoint off (admins): nothing more is queued for it and pending deliveries stop.
    pub async fn disable_webhook(&self, principal: &Principal, id: i64) -> AppResult<()> {
        require_org_admin(principal)?;
        self.store
            .disable_webhook_endpoint(principal.org_id, id, now_millis())
            .await
            .or_not_found("webhook")
    }

    /// An endpoint's delivery log, newest first (admins).
    pub async fn webhook_deliveries(
        &self,
        principal: &Principal,
        id: i64,
        before: Option<i64>,
    ) -> AppResult<Vec<Delivery>> {
        require_org_admin(principal)?;
        self.store
            .webhook_deliveries(principal.org_id, id, before, 50)
            .await
            .or_not_found("webhook")
    }

    /// Queues a `webhook.test` event for one endpoint (admins); answers the delivery.
    pub async fn send_test_webhook(&self, principal: &Principal, id: i64) -> AppResult<Delivery> {
        require_org_admin(principal)?;
        let now = now_millis();
        let event_id = format!(
            "{TEST_EVENT}:{id}:{now}:{}",
            &crate::accounts::random_secret()[..8]
        );
        let payload = envelope(
            &event_id,
            TEST_EVENT,
            now,
            json!({"endpoint_id": id, "message": "a test event sent from the webhook's page"}),
        );
        let delivery = self
            .store
            .queue_webhook_test(
                principal.org_id,
                id,
                NewEvent {
                    org_id: principal.org_id,
                    event_id,
                    event_type: TEST_EVENT.into(),
                    payload,
                    now,
                },
            )
            .await
            .or_not_found("webhook")?;
        self.store
            .webhook_delivery(principal.org_id, delivery)
            .await
            .or_not_found("delivery")
    }

    /// Sends a delivery again now (admins), with a fresh set of attempts.
    pub async fn retry_webhook_delivery(
        &self,
        principal: &Principal,
        id: i64,
    ) -> AppResult<Delivery> {
        require_org_admin(principal)?;
        self.store
            .retry_webhook_delivery(principal.org_id, id, now_millis())
            .await
            .or_not_found("delivery")
    }

    /// Queues an event for every endpoint of the organization subscribed to its type; `event_id` names the
    /// event so that emitting it twice queues it once. Answers how many deliveries were queued.
    pub async fn emit_webhook_event(
        &self,
        org: OrgId,
        event_type: &str,
        event_id: &str,
        data: Value,
    ) -> AppResult<u64> {
        let now = now_millis();
        Ok(self
            .store
            .queue_webhook_event(NewEvent {
                org_id: org,
                event_id: event_id.to_string(),
                event_type: event_type.to_string(),
                payload: envelope(event_id, event_type, now, data),
                now,
            })
            .await?)
    }

    /// [`App::emit_webhook_event`] after an action that already succeeded: a failure is logged.
    pub async fn emit_webhook_event_logged(
        &self,
        org: OrgId,
        event_type: &str,
        event_id: &str,
        data: Value,
    ) {
        if let Err(e) = self
            .emit_webhook_event(org, event_type, event_id, data)
            .await
        {
            tracing::warn!(error = %e, event_id, "a webhook event could not be queued");
        }
    }

    /// The hook for the project lifecycle: queues `project.state_changed` (from, to) for the organization's
    /// endpoints. `change` names this change uniquely within the project (e.g. the state row's id).
    pub async fn emit_project_state_changed(
        &self,
        org: OrgId,
        project: ProjectId,
        change: i64,
        from: &str,
        to: &str,
    ) -> AppResult<u64> {
        self.emit_webhook_event(
            org,
            "project.state_changed",
            &format!("project.state_changed:{project}:{change}"),
            json!({"project_id": project, "from": from, "to": to}),
        )
        .await
    }
}

/// How one attempt ended short of an HTTP answer.
#[derive(Debug)]
enum SendError {
    /// The policy refused the address: retrying will not help.
    Refused(String),
    /// Anything else (DNS, connection, TLS, timeout): worth retrying.
    Failed(String),
}

/// Posts deliveries through [`crate::outbound`] (a fresh connection per attempt, no redirects: a 3xx is an answer
/// like any other) to an address the policy allows: the URL is checked against the allowlist, and every address
/// its host resolves to is checked before connecting, so what is checked is what is connected to.
#[derive(Debug, Clone)]
pub struct DeliveryClient {
    policy: Arc<HostPolicy>,
    timeout: Duration,
}

impl DeliveryClient {
    /// A client over the policy, with a timeout per attempt; fails only if TLS cannot be set up.
    pub fn new(policy: Arc<HostPolicy>, timeout: Duration) -> Result<DeliveryClient, String> {
        crate::outbound::tls()?;
        Ok(DeliveryClient { policy, timeout })
    }

    /// Posts `body` with `headers` to `url`; answers the HTTP status (the answer's body is not read).
    async fn post(
        &self,
        url: &str,
        headers: &[(&str, String)],
        body: String,
    ) -> Result<u16, SendError> {
        let url = self
            .policy
            .check_url(url)
            .map_err(|r| SendError::Refused(r.0))?;
        let check = |host: &str, ip: IpAddr| self.policy.check_address(host, ip).map_err(|r| r.0);
        let post = crate::outbound::Post {
            url: &url,
            headers,
            body,
            timeout: self.timeout,
            max_body: 0,
            check: Some(&check),
        };
        match crate::outbound::post_json(post).await {
            Ok(answer) => Ok(answer.status),
            Err(OutboundError::Refused(why)) => Err(SendError::Refused(why)),
            Err(e) => Err(SendError::Failed(e.to_string())),
        }
    }
}

/// What one step of the job did.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct WebhookStep {
    /// Deliveries queued from new annotations.
    pub queued: u64,
    /// Attempts that got a 2xx.
    pub delivered: u64,
    /// Attempts that failed and will be retried.
    pub retrying: u64,
    /// Deliveries given up (out of attempts, or refused by the policy).
    pub failed: u64,
}

/// The delivery job: turns new annotations into events, then sends what is due.
#[derive(Debug, Clone)]
pub struct WebhookJob {
    app: App,
    client: DeliveryClient,
}

impl WebhookJob {
    /// A job over the app's store and its webhook policy.
    pub fn new(app: App) -> AppResult<WebhookJob> {
        let client = DeliveryClient::new(app.webhook_policy.clone(), app.config.webhooks.timeout)
            .map_err(AppError::Internal)?;
        Ok(WebhookJob { app, client })
    }

    /// One bounded step at time `now` (tests pass a time to make retries due).
    pub async fn try_run_one(&self, now: Millis) -> AppResult<WebhookStep> {
        let mut step = WebhookStep::default();
        let key = self.app.store.installation_secret().await?;
        step.queued = self
            .app
            .store
            .webhook_annotation_events(ANNOTATION_BATCH, now, move |a, kind| {
                let annotator = annotator_pseudonym(&key, a.project_id, a.worker_id);
                let (event_id, data) = if kind == "item.completed" {
                    (
                        format!("item.completed:{}", a.item_id),
                        json!({"project_id": a.project_id, "item_id": a.item_id, "external_id": a.external_id,
                               "completed_at": to_rfc3339(a.submitted_at)}),
                    )
                } else {
                    (
                        format!("submission.created:{}", a.annotation_id),
                        json!({"project_id": a.project_id, "item_id": a.item_id, "external_id": a.external_id,
                               "annotation_id": a.annotation_id, "annotator": annotator,
                               "submitted_at": to_rfc3339(a.submitted_at)}),
                    )
                };
                envelope(&event_id, kind, a.submitted_at, data)
            })
            .await?;
        let due = self
            .app
            .store
            .take_due_deliveries(now, BATCH, LEASE_MS)
            .await?;
        for d in due {
            let (ok, retry_at, status, error) = self.attempt(&d).await;
            let retry_at = match (ok, retry_at) {
                (true, _) => None,
                (false, false) => None,
                (false, true) if d.delivery.attempts >= MAX_ATTEMPTS => None,
                (false, true) => Some(now + backoff_ms(d.delivery.attempts)),
            };
            if ok {
                step.delivered += 1;
            } else if retry_at.is_some() {
                step.retrying += 1;
            } else {
                step.failed += 1;
            }
            self.app
                .store
                .record_delivery_attempt(
                    d.delivery.id,
                    d.delivery.attempts,
                    ok,
                    retry_at,
                    status,
                    error,
                    now_millis(),
                )
                .await?;
        }
        Ok(step)
    }

    /// Sends one delivery; answers (delivered, worth retrying, HTTP status, error).
    async fn attempt(&self, d: &DueDelivery) -> (bool, bool, Option<i64>, Option<String>) {
        let t = now_millis() / 1000;
        let body = d.delivery.payload.clone();
        let headers = [
            (
                "user-agent",
                concat!("Fairloop-Webhooks/", env!("CARGO_PKG_VERSION")).to_string(),
            ),
            ("fairloop-signature", signature(&d.secret, t, &body)),
            ("fairloop-event", d.delivery.event_type.clone()),
            ("fairloop-event-id", d.delivery.event_id.clone()),
            ("fairloop-delivery", d.delivery.id.to_string()),
        ];
        match self.client.post(&d.url, &headers, body).await {
            Ok(code) if (200..300).contains(&code) => (true, false, Some(code.into()), None),
            Ok(code) => (
                false,
                true,
                Some(code.into()),
                Some(format!("the endpoint answered HTTP {code}")),
            ),
            // The allowlist (which may have changed since registration) or the address refused it.
            Err(SendError::Refused(why)) => (false, false, None, Some(format!("refused: {why}"))),
            Err(SendError::Failed(why)) => (false, true, None, Some(why)),
        }
    }

    /// Runs forever: a step every `period`, at once again while there is a backlog.
    pub async fn run(self, period: Duration) {
        loop {
            match self.try_run_one(now_millis()).await {
                Ok(s) if s.delivered + s.retrying + s.failed >= BATCH as u64 => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "webhook step failed"),
            }
            tokio::time::sleep(period).await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str]) -> HostPolicy {
        HostPolicy::new(&entries.iter().map(|s| s.to_string()).collect::<Vec<_>>())
    }

    #[test]
    fn the_allowlist_names_hosts_and_guards_private_addresses() {
        let p = policy(&[
            "hooks.example.com",
            "*.corp.example",
            "127.0.0.1",
            "10.1.0.0/16",
        ]);
        assert!(p.check_url("https://hooks.example.com/in").is_ok());
        assert!(p.check_url("https://HOOKS.example.com./in").is_ok());
        assert!(p.check_url("https://a.corp.example/x").is_ok());
        assert!(p.check_url("https://corp.example/x").is_err());
        assert!(p.check_url("https://evil.example.com/in").is_err());
        assert!(p.check_url("http://127.0.0.1:9/x").is_ok());
        assert!(p.check_url("http://10.1.2.3/x").is_ok());
        let e = p.check_url("http://10.2.0.1/x").unwrap_err();
        assert!(e.0.contains("private"), "{e:?}");
        assert!(p.check_url("http://192.168.1.1/x").is_err());
        assert!(p.check_url("ftp://hooks.example.com/x").is_err());
        assert!(p.check_url("https://u:p@hooks.example.com/x").is_err());
        // A listed name that resolves to a private address is refused at connection time.
        assert!(
            p.check_address("hooks.example.com", "192.168.0.5".parse().unwrap())
                .is_err()
        );
        assert!(
            p.check_address("hooks.example.com", "127.0.0.1".parse().unwrap())
                .is_ok()
        );
        assert!(
            p.check_address("hooks.example.com", "93.184.216.34".parse().unwrap())
                .is_ok()
        );
        assert!(
            policy(&[])
                .check_url("https://hooks.example.com/")
                .unwrap_err()
                .0
                .contains("off")
        );
    }

    #[test]
    fn public_means_public() {
        for private in [
            "127.0.0.1",
            "10.0.0.1",
            "172.16.0.1",
            "192.168.0.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "255.255.255.255",
        ] {
            assert!(!is_public(private.parse().unwrap()), "{private}");
        }
        for public in ["93.184.216.34", "2606:4700::1111", "8.8.8.8"] {
            assert!(is_public(public.parse().unwrap()), "{public}");
        }
    }

    #[test]
    fn signatures_are_hmac_of_time_and_body() {
        let s = signature("whsec_x", 1700000000, "{\"a\":1}");
        assert!(s.starts_with("t=1700000000,v1="));
        assert_eq!(s.len(), "t=1700000000,v1=".len() + 64);
        assert_ne!(s, signature("whsec_y", 1700000000, "{\"a\":1}"));
        assert_ne!(s, signature("whsec_x", 1700000001, "{\"a\":1}"));
    }

    #[test]
    fn backoff_doubles_up_to_a_cap() {
        assert_eq!(backoff_ms(1), 30_000);
        assert_eq!(backoff_ms(2), 60_000);
        assert_eq!(backoff_ms(5), 480_000);
        assert_eq!(backoff_ms(40), MAX_RETRY_MS);
    }
}
