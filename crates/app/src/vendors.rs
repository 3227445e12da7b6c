//! Staffing vendors (issue 7, point 6): a vendor is an organization of its own (kind `vendor`) whose admins are
//! its *vendor managers*. A lab's admin contracts a vendor by its exact name; the vendor's managers may then
//! invite workers into that lab (the worker joins the lab's pool, tagged with the vendor) and see, for their
//! own workers only, the work (counts, time), quality figures and pay (balances and ledger entries). The lab
//! sees which vendor each worker came through.
//!
//! Why "by name" and not a link: the vendor exists before any lab contracts it (an operator creates it with
//! `fairloop vendors add`), names of organizations are unique, and a contract gives the vendor nothing of the
//! lab's data beyond its name and its own workers, so the lab's admin deciding alone is enough; the lab can end
//! the contract at any time. Every read below passes the vendor's id to a store query that filters on it.

use fairloop_domain::time::now_millis;
use fairloop_domain::{OrgId, Role, UserId};
use fairloop_store::vendors::{
    Balance, Contract, KIND_VENDOR, LabWorker, NewVendorInvitation, VendorInvitation, VendorWorker,
    VendorWorkerDetail,
};
use fairloop_store::{Principal, StoreError, User};

use crate::accounts::{hash_session_token, random_secret};
use crate::invitations::{DEFAULT_VALID_DAYS, MAX_VALID_DAYS};
use crate::{App, AppError, AppResult};

/// A vendor manager's invitation, with the secret shown once.
#[derive(Debug, Clone)]
pub struct VendorInvited {
    /// Id.
    pub id: i64,
    /// The secret of the link `/invite/{token}`.
    pub token: String,
    /// When it stops working.
    pub expires_at: i64,
}

/// A vendor's workers with their balances.
#[derive(Debug, Clone, serde::Serialize)]
pub struct VendorPool {
    /// The workers, with totals.
    pub workers: Vec<VendorWorker>,
    /// Their earnings and payouts balances.
    pub balances: Vec<Balance>,
}

fn normalize_email(raw: Option<&str>) -> AppResult<Option<String>> {
    match raw.map(str::trim) {
        None | Some("") => Ok(None),
        Some(e) => {
            crate::reject_nul("email", e)?;
            if !e.contains('@') || e.len() > 254 {
                return Err(AppError::invalid(
                    "invalid_email",
                    format!("email: {e:?} is not an email address"),
                ));
            }
            Ok(Some(e.to_lowercase()))
        }
    }
}

impl App {
    /// The caller's vendor, when they are a vendor manager (an admin of a vendor organization); 403 otherwise.
    pub async fn vendor_of(&self, p: &Principal) -> AppResult<OrgId> {
        if p.role == Role::Admin && self.store.org_kind(p.org_id).await? == KIND_VENDOR {
            Ok(p.org_id)
        } else {
            Err(AppError::forbidden(
                "this is for vendor managers (admins of a staffing vendor organization)",
            ))
        }
    }

    /// Whether the caller is a vendor manager (for the navigation bar).
    pub async fn is_vendor_manager(&self, p: &Principal) -> AppResult<bool> {
        Ok(p.role == Role::Admin && self.store.org_kind(p.org_id).await? == KIND_VENDOR)
    }

    /// Creates a vendor organization with its first manager (operators: `fairloop vendors add`), or adds a
    /// manager to an existing vendor; answers the manager and an API token.
    pub async fn create_vendor(
        &self,
        org: &str,
        email: &str,
        name: &str,
        password: Option<&str>,
    ) -> AppResult<(User, String)> {
        // Refuse before creating anyone: a typo naming a lab must not add an admin to that lab.
        if let Some(kind) = self.store.org_kind_by_name(org.trim()).await?
            && kind != KIND_VENDOR
        {
            return Err(AppError::Conflict {
                code: "organization_in_use",
                message: format!(
                    "{:?} is a lab, not a vendor; a vendor is an organization of its own",
                    org.trim()
                ),
            });
        }
        let (user, token) = self
            .add_user(org, email, name, Role::Admin, password)
            .await?;
        if self.store.org_kind(user.org_id).await? != KIND_VENDOR {
            self.store.make_vendor(user.org_id).await?;
        }
        Ok((user, token))
    }

    async fn lab_admin(&self, p: &Principal) -> AppResult<()> {
        if p.role != Role::Admin {
            return Err(AppError::forbidden(format!(
                "contracting vendors needs the admin role; you are a {}",
                p.role
            )));
        }
        if self.store.org_kind(p.org_id).await? == KIND_VENDOR {
            return Err(AppError::forbidden(
                "a vendor cannot contract vendors; labs contract vendors",
            ));
        }
        Ok(())
    }

    /// A lab's admin contracts the vendor named `vendor` (exactly, as the vendor spells it).
    pub async fn contract_vendor(&self, p: &Principal, vendor: &str) -> AppResult<Contract> {
        self.lab_admin(p).await?;
        let name = vendor.trim();
        crate::reject_nul("vendor", name)?;
        if name.is_empty() {
            return Err(AppError::invalid(
                "invalid_vendor",
                "vendor: give the vendor organization's name",
            ));
        }
        self.store
            .contract_vendor(p.org_id, name, p.user_id, now_millis())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::invalid(
                    "unknown_vendor",
                    format!("vendor: no vendor organization is named {name:?}; ask the vendor for its exact name"),
                ),
                e => e.into(),
            })
    }

    /// A lab's admin ends a contract: the vendor's open invitations stop working; its workers stay.
    pub async fn end_vendor_contract(&self, p: &Principal, vendor: OrgId) -> AppResult<()> {
        self.lab_admin(p).await?;
        self.store
            .end_contract(p.org_id, vendor, now_millis())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound("contract"),
                e => e.into(),
            })
    }

    /// The caller's contracts: a lab's vendors (requesters and admins), or a vendor's labs (vendor managers).
    pub async fn vendor_contracts(&self, p: &Principal) -> AppResult<Vec<Contract>> {
        if self.is_vendor_manager(p).await? {
            return Ok(self.store.vendor_contracts(p.org_id).await?);
        }
        if !p.role.can_manage_projects() {
            return Err(AppError::forbidden(format!(
                "vendor contracts are for requesters, admins and vendor managers; you are a {}",
                p.role
            )));
        }
        Ok(self.store.lab_contracts(p.org_id).await?)
    }

    /// A lab's workers with the vendor each came through (requesters and admins).
    pub async fn lab_workers(&self, p: &Principal) -> AppResult<Vec<LabWorker>> {
        if !p.role.can_manage_projects() || self.is_vendor_manager(p).await? {
            return Err(AppError::forbidden(
                "the worker list is for the lab's requesters and admins",
            ));
        }
        Ok(self.store.lab_workers(p.org_id).await?)
    }

    /// A vendor manager invites a worker into a lab that contracts the vendor.
    pub async fn vendor_invite(
        &self,
        p: &Principal,
        org: OrgId,
        email: Option<&str>,
        valid_days: Option<u32>,
    ) -> AppResult<VendorInvited> {
        let vendor = self.vendor_of(p).await?;
        let email = normalize_email(email)?;
        let days = valid_days.unwrap_or(DEFAULT_VALID_DAYS);
        if !(1..=MAX_VALID_DAYS).contains(&days) {
            return Err(AppError::invalid(
                "invalid_valid_days",
                format!("valid_days must be between 1 and {MAX_VALID_DAYS}; it was {days}"),
            ));
        }
        if let Some(e) = &email
            && self.store.user_by_email(e).await?.is_some()
        {
            return Err(AppError::Conflict {
                code: "email_taken",
                message: format!("email: {e} already has an account"),
            });
        }
        let token = random_secret();
        let now = now_millis();
        let expires_at = now + i64::from(days) * 24 * 3600 * 1000;
        let id = self
            .store
            .create_vendor_invitation(NewVendorInvitation {
                vendor_id: vendor,
                org_id: org,
                token_hash: hash_session_token(&token),
                email,
                created_by: p.user_id,
                created_at: now,
                expires_at,
            })
            .await?;
        Ok(VendorInvited {
            id,
            token,
            expires_at,
        })
    }

    /// The vendor's invitations.
    pub async fn vendor_invitations(&self, p: &Principal) -> AppResult<Vec<VendorInvitation>> {
        let vendor = self.vendor_of(p).await?;
        Ok(self.store.vendor_invitations(vendor).await?)
    }

    /// Withdraws one of the vendor's invitations.
    pub async fn revoke_vendor_invitation(&self, p: &Principal, id: i64) -> AppResult<()> {
        let vendor = self.vendor_of(p).await?;
        self.store
            .revoke_vendor_invitation(vendor, id, now_millis())
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound("invitation"),
                e => e.into(),
            })
    }

    /// The vendor's workers, their work and pay.
    pub async fn vendor_pool(&self, p: &Principal) -> AppResult<VendorPool> {
        let vendor = self.vendor_of(p).await?;
        Ok(VendorPool {
            workers: self.store.vendor_workers(vendor).await?,
            balances: self.store.vendor_balances(vendor).await?,
        })
    }

    /// One of the vendor's workers in detail; 404 for anyone who is not the vendor's.
    pub async fn vendor_worker(
        &self,
        p: &Principal,
        worker: UserId,
    ) -> AppResult<VendorWorkerDetail> {
        let vendor = self.vendor_of(p).await?;
        self.store
            .vendor_worker(vendor, worker)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound("worker"),
                e => e.into(),
            })
    }

    /// Sets the vendor's own reference (an employee number, a note) on one of its workers.
    pub async fn set_vendor_ref(
        &self,
        p: &Principal,
        worker: UserId,
        reference: &str,
    ) -> AppResult<()> {
        let vendor = self.vendor_of(p).await?;
        let r = reference.trim();
        crate::reject_nul("reference", r)?;
        if r.chars().count() > 100 {
            return Err(AppError::invalid(
                "invalid_reference",
                "reference: at most 100 characters",
            ));
        }
        let value = (!r.is_empty()).then(|| r.to_string());
        self.store
            .set_vendor_ref(vendor, worker, value)
            .await
            .map_err(|e| match e {
                StoreError::NotFound => AppError::NotFound("worker"),
                e => e.into(),
            })
    }
}
