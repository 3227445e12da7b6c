//! What the worker's home page needs, besides the projects, to explain each card: whether the profile meets the
//! project's requirements, which required assessments are not passed yet (the card offers them instead of
//! "Start"), and which projects run a screening interview (the card links it).
//!
//! Why one call: the home page is the page every worker opens most. These used to be three calls, each its own
//! store read; [`App::home_qualification`] makes them one read (`fairloop_store::home`) and answers the same
//! values the three did.

use std::collections::HashMap;

use fairloop_domain::ProjectId;
use fairloop_store::Principal;
use fairloop_store::assessments::Requirement;

use crate::profiles::{Eligibility, eligibility_of};
use crate::{App, AppResult};

/// The qualification side of the home page's cards.
#[derive(Debug, Clone, Default)]
pub struct HomeQualification {
    /// Whether each project asked about is open to the worker by their profile (as [`App::eligibility`]).
    pub eligibility: HashMap<ProjectId, Eligibility>,
    /// Required assessments not passed yet: (project, requirement), as [`App::my_unmet_requirements`].
    pub unmet_assessments: Vec<(ProjectId, Requirement)>,
    /// The organization's projects with a screening interview, as [`App::interview_projects`].
    pub interview_projects: Vec<ProjectId>,
}

impl App {
    /// The [`HomeQualification`] of the caller for `projects`, in one store read.
    pub async fn home_qualification(
        &self,
        principal: &Principal,
        projects: &[ProjectId],
    ) -> AppResult<HomeQualification> {
        let facts = self
            .store
            .home_facts(principal.org_id, principal.user_id)
            .await?;
        Ok(HomeQualification {
            eligibility: eligibility_of(&facts.requirements, facts.profile.as_ref(), projects)?,
            unmet_assessments: facts.unmet_assessments,
            interview_projects: facts.interview_projects,
        })
    }
}
