//! Background jobs.
//!
//! Each job has a `try_run_one` that does one bounded step and says how much it did, so tests drive jobs
//! step by step and the server runs them in a loop. Jobs hold no state of their own: several `serve`
//! processes on one PostgreSQL may run them at once (the store's statements skip rows another process holds).

use std::time::Duration;

use fairloop_domain::time::{Millis, now_millis};

use crate::{App, AppResult};

/// Most leases returned to the pool in one step.
const EXPIRY_BATCH: i64 = 1000;

/// Returns expired leases to the pool.
#[derive(Debug, Clone)]
pub struct LeaseExpiry {
    app: App,
}

impl LeaseExpiry {
    /// A lease-expiry job over the app's store.
    pub fn new(app: App) -> Self {
        LeaseExpiry { app }
    }

    /// Expires up to one batch of leases that ended by `now`; returns how many.
    pub async fn try_run_one(&self, now: Millis) -> AppResult<u64> {
        Ok(self.app.store.expire_leases(now, EXPIRY_BATCH).await?)
    }

    /// Runs forever: a step every `period`, or at once again while there is a backlog.
    pub async fn run(self, period: Duration) {
        loop {
            match self.try_run_one(now_millis()).await {
                Ok(n) if n as i64 == EXPIRY_BATCH => continue,
                Ok(_) => {}
                Err(e) => tracing::warn!(error = %e, "lease expiry step failed"),
            }
            tokio::time::sleep(period).await;
        }
    }
}
