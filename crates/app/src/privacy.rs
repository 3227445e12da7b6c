//! A worker's data rights (issue 7, point 1): download everything as one JSON document, delete the account.
//!
//! The download is one function, [`App::personal_data`], built from the store's table of sections
//! (`fairloop_store::privacy::SECTIONS`): each source of personal data is one section, so new features add a
//! section there and the download, its test and the docs pick it up.
//!
//! Deletion needs the password (a stolen session alone cannot erase someone), removes the identity and keeps
//! the work and the money: annotations stay (the lab paid for them) and the append-only ledger is not touched,
//! so it still balances; the rows now point at a tombstone shown as "deleted worker #N". It is refused while
//! money is owed to the worker or a payout is on its way (see docs/vendors.md, "Deleting an account").

use fairloop_domain::Role;
use fairloop_domain::time::{now_millis, to_rfc3339};
use fairloop_store::Principal;
use fairloop_store::privacy::Deleted;
use serde_json::{Value, json};

use crate::{App, AppError, AppResult};

/// The version of the download's layout, so a reader can tell what it holds.
pub const DATA_FORMAT: &str = "fairloop-personal-data/1";

/// Sensitivity categories and language levels are stored as numbers for the queue and for matching; the
/// download names them (keys as in `GET /api/v1/sensitivity-categories`, CEFR levels), so it reads without the
/// code.
fn readable(doc: &mut serde_json::Map<String, Value>) {
    use fairloop_domain::sensitivity;
    if let Some(Value::Array(rows)) = doc.get_mut("sensitivity_opt_ins") {
        for row in rows.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(mask) = row.remove("categories_mask").and_then(|v| v.as_i64()) {
                row.insert("opted_in".into(), json!(sensitivity::keys(mask)));
            }
        }
    }
    if let Some(Value::Array(rows)) = doc.get_mut("languages") {
        for row in rows.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(rank) = row.remove("level_rank").and_then(|v| v.as_i64()) {
                let level = fairloop_domain::workforce::Level::from_rank(rank).map(|l| l.as_str());
                row.insert("level".into(), json!(level));
            }
        }
    }
    if let Some(Value::Array(rows)) = doc.get_mut("sensitive_exposure") {
        for row in rows.iter_mut().filter_map(Value::as_object_mut) {
            if let Some(bit) = row.remove("category_bit").and_then(|v| v.as_i64()) {
                let key = sensitivity::keys(1i64.checked_shl(bit as u32).unwrap_or(0));
                row.insert("category".into(), json!(key.first()));
            }
        }
    }
}

impl App {
    /// Everything stored about the caller, as one JSON document (one key per section).
    pub async fn personal_data(&self, p: &Principal) -> AppResult<Value> {
        let sections = self.store.personal_data(p.user_id).await?;
        let mut doc = serde_json::Map::new();
        doc.insert("format".into(), json!(DATA_FORMAT));
        doc.insert("generated_at".into(), json!(to_rfc3339(now_millis())));
        doc.extend(sections);
        readable(&mut doc);
        Ok(Value::Object(doc))
    }

    /// Deletes the caller's account after checking their password (workers only: an admin or requester leaving
    /// hands their organization over first).
    pub async fn delete_account(&self, p: &Principal, password: &str) -> AppResult<Deleted> {
        if p.role != Role::Worker {
            return Err(AppError::forbidden(format!(
                "only workers delete their own account here; a {} asks another admin of the organization",
                p.role
            )));
        }
        let creds = self.store.user_credentials_by_email(&p.email).await?;
        let hash = creds
            .as_ref()
            .filter(|c| c.user.id == p.user_id)
            .and_then(|c| c.password_hash.clone());
        let ok = match hash {
            Some(h) if !password.is_empty() && password.len() <= 1024 => {
                let pw = password.to_string();
                tokio::task::spawn_blocking(move || crate::accounts::verify_password(&pw, &h))
                    .await
                    .map_err(|e| AppError::Internal(format!("password check: {e}")))?
            }
            _ => false,
        };
        if !ok {
            return Err(AppError::invalid(
                "wrong_password",
                "password: that is not your password; type your current password to confirm",
            ));
        }
        let deleted = self
            .store
            .delete_account(p.user_id, now_millis())
            .await
            .map_err(|e| match e {
                fairloop_store::StoreError::NotFound => AppError::NotFound("account"),
                e => e.into(),
            })?;
        // Revoked tokens must stop working in this process at once, not after the cache's 5 seconds.
        self.token_cache.lock().expect("token cache lock").clear();
        // Credential documents are identity too. The rows are gone already; a file that fails to go now is
        // unreachable (no row names it) and logged for the operator.
        for key in &deleted.credential_keys {
            let removed = match fairloop_media::ObjectKey::parse(key) {
                Ok(k) => self.media.delete(&k).await.map_err(|e| e.to_string()),
                Err(e) => Err(e.to_string()),
            };
            if let Err(e) = removed {
                tracing::warn!(key, error = %e, "could not remove a deleted account's credential file");
            }
        }
        Ok(deleted)
    }
}
