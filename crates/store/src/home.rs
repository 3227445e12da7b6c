//! What the worker's home page needs to explain every project card, in one read: the organization's project
//! requirements and the worker's profile (eligibility), the assessments the worker has not passed yet, and the
//! projects with a screening interview.
//!
//! Why one read: the home page is the page every worker opens most; reading these in three transactions cost
//! three round trips (three thread hops on PostgreSQL) per view for data that changes rarely. Each part is the
//! same statement its own module runs, called inside this one transaction.

use std::collections::HashMap;

use fairloop_domain::{OrgId, ProjectId, UserId};

use crate::assessments::{Requirement, unmet_requirements_in};
use crate::interviews::projects_with_interviews_in;
use crate::profiles::{ProfileRow, profile_in, requirements_in};
use crate::{Store, StoreResult};

/// Everything the home page's cards read besides the projects themselves.
#[derive(Debug, Clone)]
pub struct HomeFacts {
    /// Each project's requirements (the stored JSON spec), by project.
    pub requirements: HashMap<ProjectId, String>,
    /// The worker's profile; `None` when the user is not in the organization.
    pub profile: Option<ProfileRow>,
    /// Assessments required by a project that the worker has not passed: (project, requirement).
    pub unmet_assessments: Vec<(ProjectId, Requirement)>,
    /// The organization's projects that run a screening interview.
    pub interview_projects: Vec<ProjectId>,
}

impl dyn Store + '_ {
    /// The [`HomeFacts`] of `worker` in `org`, in one read transaction.
    pub async fn home_facts(&self, org: OrgId, worker: UserId) -> StoreResult<HomeFacts> {
        self.read_tx(move |tx| {
            let requirements = requirements_in(tx, org)?;
            Ok(HomeFacts {
                requirements,
                profile: profile_in(tx, org, worker)?,
                unmet_assessments: unmet_requirements_in(tx, org, worker)?,
                interview_projects: projects_with_interviews_in(tx, org)?,
            })
        })
        .await
    }
}
