//! Invitation links: how people join an organization while open registration is off.
//!
//! A link carries a 256-bit secret; only its SHA-256 is stored, like sessions and API tokens. Accepting one
//! creates the user and spends the link in one transaction, so a link forwarded to two people admits one.

use fairloop_domain::time::Millis;
use fairloop_domain::{OrgId, Role, UserId};

use crate::portable::{Row, Tx};
use crate::{Store, StoreError, StoreResult, User, conflict, params, parse_role};

/// An invitation as its organization's settings page lists it (never the secret).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invitation {
    /// Id, for revoking.
    pub id: i64,
    /// The email it is meant for, when the inviter named one (the link then only works for that email).
    pub email: Option<String>,
    /// The role the new user gets.
    pub role: Role,
    /// Who created it.
    pub created_by: UserId,
    /// When.
    pub created_at: Millis,
    /// When it stops working.
    pub expires_at: Millis,
    /// When it was used, if it was.
    pub accepted_at: Option<Millis>,
    /// When it was revoked, if it was.
    pub revoked_at: Option<Millis>,
}

/// What an invitation link resolves to before it is accepted: enough to show "join ORG as ROLE".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingInvitation {
    /// Id.
    pub id: i64,
    /// The organization to join.
    pub org_id: OrgId,
    /// Its name.
    pub org_name: String,
    /// The email it is bound to, if any.
    pub email: Option<String>,
    /// The role the new user gets.
    pub role: Role,
    /// When it stops working.
    pub expires_at: Millis,
}

/// A new invitation to save.
#[derive(Debug, Clone)]
pub struct NewInvitation {
    /// The inviting organization.
    pub org_id: OrgId,
    /// SHA-256 (hex) of the link's secret.
    pub token_hash: String,
    /// Bound email, if any (lowercase).
    pub email: Option<String>,
    /// Role for the new user.
    pub role: Role,
    /// The inviter.
    pub created_by: UserId,
    /// Creation time.
    pub created_at: Millis,
    /// Expiry time.
    pub expires_at: Millis,
}

/// The account an accepted invitation creates.
#[derive(Debug, Clone)]
pub struct Acceptance {
    /// Sign-in email (lowercase).
    pub email: String,
    /// Display name.
    pub name: String,
    /// argon2id hash of the chosen password.
    pub password_hash: String,
    /// When.
    pub now: Millis,
}

const INVITATION_COLUMNS: &str =
    "id, email, role, created_by, created_at, expires_at, accepted_at, revoked_at";

fn invitation_from(r: &Row) -> StoreResult<Invitation> {
    Ok(Invitation {
        id: r.i64(0)?,
        email: r.opt_string(1)?,
        role: parse_role(&r.string(2)?)?,
        created_by: r.i64(3)?,
        created_at: r.i64(4)?,
        expires_at: r.i64(5)?,
        accepted_at: r.opt_i64(6)?,
        revoked_at: r.opt_i64(7)?,
    })
}

/// Why a link cannot be used, in words for the person holding it.
fn unusable(accepted: bool, revoked: bool) -> StoreError {
    if accepted {
        conflict(
            "invitation_used",
            "this invitation link was already used; ask whoever invited you for a new one",
        )
    } else if revoked {
        conflict(
            "invitation_revoked",
            "this invitation link was withdrawn; ask whoever invited you for a new one",
        )
    } else {
        conflict(
            "invitation_expired",
            "this invitation link has expired; ask whoever invited you for a new one",
        )
    }
}

fn pending(tx: &dyn Tx, token_hash: &str, now: Millis) -> StoreResult<PendingInvitation> {
    let sql = format!(
        "SELECT id, org_id, email, role, expires_at, accepted_at, revoked_at \
         FROM invitations WHERE token_hash = $1{}",
        tx.for_update()
    );
    let r = tx.query_one(&sql, params![token_hash])?;
    let (accepted, revoked, expires_at) = (r.opt_i64(5)?, r.opt_i64(6)?, r.i64(4)?);
    if accepted.is_some() || revoked.is_some() || expires_at <= now {
        return Err(unusable(accepted.is_some(), revoked.is_some()));
    }
    let org_id = r.i64(1)?;
    let org_name = tx
        .query_one(
            "SELECT name FROM organizations WHERE id = $1",
            params![org_id],
        )?
        .string(0)?;
    Ok(PendingInvitation {
        id: r.i64(0)?,
        org_id,
        org_name,
        email: r.opt_string(2)?,
        role: parse_role(&r.string(3)?)?,
        expires_at,
    })
}

impl dyn Store + '_ {
    /// Saves a new invitation; answers its id.
    pub async fn create_invitation(&self, inv: NewInvitation) -> StoreResult<i64> {
        self.write_tx(move |tx| {
            tx.query_one(
                "INSERT INTO invitations (org_id, token_hash, email, role, created_by, created_at, expires_at) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id",
                params![
                    inv.org_id,
                    inv.token_hash,
                    inv.email,
                    inv.role.as_str(),
                    inv.created_by,
                    inv.created_at,
                    inv.expires_at
                ],
            )?
            .i64(0)
        })
        .await
    }

    /// The organization's invitations, newest first.
    pub async fn invitations(&self, org: OrgId) -> StoreResult<Vec<Invitation>> {
        self.read_tx(move |tx| {
            tx.query(
                &format!(
                    "SELECT {INVITATION_COLUMNS} FROM invitations WHERE org_id = $1 ORDER BY id DESC LIMIT 200"
                ),
                params![org],
            )?
            .iter()
            .map(invitation_from)
            .collect()
        })
        .await
    }

    /// Withdraws an unused invitation of the organization; `NotFound` for another organization's or a used one.
    pub async fn revoke_invitation(&self, org: OrgId, id: i64, now: Millis) -> StoreResult<()> {
        self.write_tx(move |tx| {
            let n = tx.execute(
                "UPDATE invitations SET revoked_at = $1 \
                 WHERE id = $2 AND org_id = $3 AND accepted_at IS NULL AND revoked_at IS NULL",
                params![now, id, org],
            )?;
            if n == 0 {
                Err(StoreError::NotFound)
            } else {
                Ok(())
            }
        })
        .await
    }

    /// What a link's secret hash invites to, if it is still usable at `now` (`NotFound` for an unknown one,
    /// a conflict saying why for a used, withdrawn or expired one).
    pub async fn pending_invitation(
        &self,
        token_hash: &str,
        now: Millis,
    ) -> StoreResult<PendingInvitation> {
        let hash = token_hash.to_string();
        self.read_tx(move |tx| pending(tx, &hash, now)).await
    }

    /// Spends the invitation and creates its user in one transaction. The email must be new to the
    /// installation, and must be the invited one when the invitation names one.
    pub async fn accept_invitation(&self, token_hash: &str, who: Acceptance) -> StoreResult<User> {
        let hash = token_hash.to_string();
        self.write_tx(move |tx| {
            let inv = pending(tx, &hash, who.now)?;
            if let Some(bound) = &inv.email
                && *bound != who.email
            {
                return Err(conflict(
                    "invitation_email_mismatch",
                    format!("this invitation is for {bound}; sign up with that email"),
                ));
            }
            let taken =
                tx.query_opt("SELECT id FROM users WHERE email = $1", params![&who.email])?;
            if taken.is_some() {
                return Err(conflict(
                    "email_taken",
                    "an account with this email already exists; sign in instead",
                ));
            }
            let id = tx
                .query_one(
                    "INSERT INTO users (org_id, email, name, role, password_hash, created_at) \
                     VALUES ($1, $2, $3, $4, $5, $6) RETURNING id",
                    params![
                        inv.org_id,
                        who.email.clone(),
                        who.name.clone(),
                        inv.role.as_str(),
                        who.password_hash,
                        who.now
                    ],
                )?
                .i64(0)?;
            tx.execute(crate::sql::INSERT_MATCH_ROW, params![id])?;
            // A vendor's invitation tags the worker with the vendor, while the lab's contract with it holds.
            let vendor = tx
                .query_one(
                    "SELECT vendor_id FROM invitations WHERE id = $1",
                    params![inv.id],
                )?
                .opt_i64(0)?;
            if let Some(vendor) = vendor {
                let active = tx.query_opt(
                    "SELECT id FROM vendor_contracts WHERE org_id = $1 AND vendor_id = $2 AND ended_at IS NULL",
                    params![inv.org_id, vendor],
                )?;
                if active.is_none() {
                    return Err(conflict(
                        "invitation_revoked",
                        "the contract behind this invitation has ended; ask whoever invited you",
                    ));
                }
                tx.execute(
                    "UPDATE users SET vendor_id = $1 WHERE id = $2",
                    params![vendor, id],
                )?;
            }
            tx.execute(
                "UPDATE invitations SET accepted_by = $1, accepted_at = $2 WHERE id = $3",
                params![id, who.now, inv.id],
            )?;
            Ok(User {
                id,
                org_id: inv.org_id,
                email: who.email,
                name: who.name,
                role: inv.role,
            })
        })
        .await
    }
}
