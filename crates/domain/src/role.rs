//! User roles and what each may do.

use std::fmt;
use std::str::FromStr;

/// What a user is allowed to do inside their organization.
///
/// Roles are ordered by the reach of the endpoints they open: a worker works, a reviewer also reviews, a
/// requester also runs projects, an admin also manages the organization.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Manages the organization, its users and everything a requester can do.
    Admin,
    /// Creates projects, imports data, exports results.
    Requester,
    /// Checks other people's work.
    Reviewer,
    /// Does the work: claims items and submits answers.
    Worker,
}

impl Role {
    /// Every role, in the order the CLI lists them.
    pub const ALL: [Role; 4] = [Role::Admin, Role::Requester, Role::Reviewer, Role::Worker];

    /// The stable lowercase name used in the database, the API and the CLI.
    pub fn as_str(self) -> &'static str {
        match self {
            Role::Admin => "admin",
            Role::Requester => "requester",
            Role::Reviewer => "reviewer",
            Role::Worker => "worker",
        }
    }

    /// Whether this role may create and manage projects (requester endpoints).
    pub fn can_manage_projects(self) -> bool {
        matches!(self, Role::Admin | Role::Requester)
    }

    /// Whether this role may claim and submit work.
    pub fn can_work(self) -> bool {
        // Reviewers and admins may also take tasks (to try a project out); requesters run projects only.
        matches!(self, Role::Worker | Role::Reviewer | Role::Admin)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of `admin`, `requester`, `reviewer`, `worker`.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown role {0:?}: expected one of admin, requester, reviewer, worker")]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|r| r.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_round_trip_and_unknown_is_rejected() {
        for r in Role::ALL {
            assert_eq!(r.as_str().parse::<Role>().unwrap(), r);
        }
        let err = "boss".parse::<Role>().unwrap_err();
        assert!(err.to_string().contains("boss"));
    }

    #[test]
    fn requesters_manage_and_workers_work() {
        assert!(Role::Requester.can_manage_projects());
        assert!(!Role::Worker.can_manage_projects());
        assert!(Role::Worker.can_work());
        assert!(!Role::Requester.can_work());
    }
}
