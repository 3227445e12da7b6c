//! Qualification assessments, project requirements and screening interviews over the API (see
//! `fairloop_app::assessments` and `fairloop_app::interview` for the rules). Anything of another organization is
//! 404; a worker sees only their own attempts and interviews.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fairloop_app::assessments::{
    AssessmentInput, AssessmentPatch, AssessmentView, AttemptView, GradeBody, GradingItem,
    RequirementInput, RequirementView,
};
use fairloop_app::interview::{InterviewSetup, InterviewView};
use serde::{Deserialize, Serialize};
use serde_json::Value;

use crate::AppState;
use crate::error::{ApiError, ApiResult};
use crate::extract::{ApiJson, Auth, Id};

/// The id of something just made.
#[derive(Serialize, utoipa::ToSchema)]
pub struct Created {
    /// Its id.
    pub id: i64,
}

/// A project's assessments.
#[derive(Serialize, utoipa::ToSchema)]
pub struct AssessmentList {
    /// Oldest first.
    pub assessments: Vec<AssessmentView>,
}

/// Answers to an attempt.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AttemptAnswers {
    /// Answers by question name, in the template's answer formats; a question left out counts as wrong.
    #[schema(value_type = Object)]
    pub answers: Value,
}

/// Attempts waiting for a person.
#[derive(Serialize, utoipa::ToSchema)]
pub struct GradingQueue {
    /// Oldest first (at most 200).
    pub attempts: Vec<GradingItem>,
}

/// A project's qualification requirements.
#[derive(Deserialize, Serialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RequirementsBody {
    /// Pass each assessment with at least its mark.
    pub requirements: Vec<RequirementInput>,
}

/// A project's requirements, each with whether the caller meets it.
#[derive(Serialize, utoipa::ToSchema)]
pub struct RequirementList {
    /// The requirements.
    pub requirements: Vec<RequirementView>,
}

/// The candidate's answer to the last question.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AnswerBody {
    /// The number (`seq`) of the interviewer turn being answered: a stale page gets `409 interview_out_of_order`.
    pub after_seq: i64,
    /// The answer (at most 4,000 characters).
    pub answer: String,
}

/// The candidate asks for a person.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReviewRequestBody {
    /// Why (optional).
    #[serde(default)]
    pub reason: String,
}

/// A person's decision on an interview.
#[derive(Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub struct DecisionBody {
    /// Passed or not.
    pub pass: bool,
    /// Why (required; the candidate reads it).
    pub note: String,
}

/// Interviews waiting for a person.
#[derive(Serialize, utoipa::ToSchema)]
pub struct InterviewQueue {
    /// Oldest first (at most 200), with transcripts and the model's scores.
    pub interviews: Vec<InterviewView>,
}

/// Creates an assessment on a project (requesters and admins).
#[utoipa::path(post, path = "/api/v1/projects/{id}/assessments", params(("id" = i64, Path)),
    request_body = AssessmentInput,
    responses((status = 201, body = Created), (status = 403), (status = 404), (status = 422)))]
pub async fn create(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
    ApiJson(body): ApiJson<AssessmentInput>,
) -> ApiResult<(StatusCode, Json<Created>)> {
    let id = s.app.create_assessment(&p, project, body).await?;
    Ok((StatusCode::CREATED, Json(Created { id })))
}

/// A project's assessments.
#[utoipa::path(get, path = "/api/v1/projects/{id}/assessments", params(("id" = i64, Path)),
    responses((status = 200, body = AssessmentList), (status = 404)))]
pub async fn list(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Json<AssessmentList>> {
    Ok(Json(AssessmentList {
        assessments: s.app.project_assessments(&p, project).await?,
    }))
}

/// An assessment, with the caller's attempts so far (keys and rubrics for requesters and admins only).
#[utoipa::path(get, path = "/api/v1/assessments/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = AssessmentView), (status = 404)))]
pub async fn get(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<AssessmentView>> {
    Ok(Json(s.app.assessment(&p, id).await?))
}

/// Changes an assessment (requesters and admins); fields left out keep their value. The title, explanations and
/// settings change any time; the questions, keys and rubrics only while nobody attempted it (`409
/// assessment_attempted`: copy it to a new assessment instead). `409 assessment_archived` for an archived one.
#[utoipa::path(patch, path = "/api/v1/assessments/{id}", params(("id" = i64, Path)),
    request_body = AssessmentPatch,
    responses((status = 200, body = AssessmentView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn update(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<AssessmentPatch>,
) -> ApiResult<Json<AssessmentView>> {
    s.app.update_assessment(&p, id, body).await?;
    Ok(Json(s.app.assessment(&p, id).await?))
}

/// Deletes an assessment nobody attempted and no project requires (requesters and admins). `409
/// assessment_attempted` (archive it instead), `409 assessment_required` (remove the requirement first).
#[utoipa::path(delete, path = "/api/v1/assessments/{id}", params(("id" = i64, Path)),
    responses((status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn delete(State(s): State<AppState>, Auth(p): Auth, Id(id): Id) -> ApiResult<StatusCode> {
    s.app.delete_assessment(&p, id).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Archives an assessment (requesters and admins): no new attempts (`409 assessment_archived`), results kept.
/// `409 assessment_required` while a project requires it.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/archive", params(("id" = i64, Path)),
    responses((status = 200, body = AssessmentView), (status = 403), (status = 404), (status = 409)))]
pub async fn archive(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<AssessmentView>> {
    s.app.archive_assessment(&p, id).await?;
    Ok(Json(s.app.assessment(&p, id).await?))
}

/// Starts an attempt (or answers the open one) with its deadline. `409 attempts_exhausted` when none is left.
#[utoipa::path(post, path = "/api/v1/assessments/{id}/attempts", params(("id" = i64, Path)),
    responses((status = 201, body = AttemptView), (status = 403), (status = 404), (status = 409)))]
pub async fn start(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<(StatusCode, Json<AttemptView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.start_attempt(&p, id).await?),
    ))
}

/// An attempt: the worker's own, or any of the organization's for reviewers, requesters and admins.
#[utoipa::path(get, path = "/api/v1/assessment-attempts/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = AttemptView), (status = 404)))]
pub async fn attempt(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(s.app.attempt(&p, id).await?))
}

/// Answers an open attempt: keyed questions are scored at once, with the explanation of each wrong answer;
/// rubric questions wait for a person (`status: grading`). After the deadline: `409 time_limit_passed`.
#[utoipa::path(post, path = "/api/v1/assessment-attempts/{id}/submit", params(("id" = i64, Path)),
    request_body = AttemptAnswers,
    responses((status = 200, body = AttemptView), (status = 404), (status = 409), (status = 422)))]
pub async fn submit(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<AttemptAnswers>,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(s.app.submit_attempt(&p, id, body.answers).await?))
}

/// Attempts of the organization waiting for a person to grade rubric answers (reviewers, requesters, admins).
#[utoipa::path(get, path = "/api/v1/assessment-grading",
    responses((status = 200, body = GradingQueue), (status = 403)))]
pub async fn grading(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<GradingQueue>> {
    Ok(Json(GradingQueue {
        attempts: s.app.attempts_to_grade(&p).await?,
    }))
}

/// A person grades an attempt's rubric answers. `409 attempt_not_grading` when it waits for none.
#[utoipa::path(post, path = "/api/v1/assessment-attempts/{id}/grade", params(("id" = i64, Path)),
    request_body = GradeBody,
    responses((status = 200, body = AttemptView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn grade(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<GradeBody>,
) -> ApiResult<Json<AttemptView>> {
    Ok(Json(s.app.grade_attempt(&p, id, body).await?))
}

/// Replaces a project's qualification requirements (requesters and admins).
#[utoipa::path(put, path = "/api/v1/projects/{id}/qualifications", params(("id" = i64, Path)),
    request_body = RequirementsBody,
    responses((status = 200, body = RequirementList), (status = 403), (status = 404), (status = 422)))]
pub async fn set_qualification_requirements(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
    ApiJson(body): ApiJson<RequirementsBody>,
) -> ApiResult<Json<RequirementList>> {
    Ok(Json(RequirementList {
        requirements: s
            .app
            .set_qualification_requirements(&p, project, body.requirements)
            .await?,
    }))
}

/// A project's qualification requirements, each with whether the caller meets it.
#[utoipa::path(get, path = "/api/v1/projects/{id}/qualifications", params(("id" = i64, Path)),
    responses((status = 200, body = RequirementList), (status = 404)))]
pub async fn qualification_requirements(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Json<RequirementList>> {
    Ok(Json(RequirementList {
        requirements: s.app.qualification_requirements(&p, project).await?,
    }))
}

/// Sets a project's screening interview: questions, rubric, follow-ups, pass mark (requesters and admins).
#[utoipa::path(put, path = "/api/v1/projects/{id}/interview", params(("id" = i64, Path)),
    request_body = InterviewSetup,
    responses((status = 200, body = InterviewSetup), (status = 403), (status = 404), (status = 422)))]
pub async fn put_setup(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
    ApiJson(body): ApiJson<InterviewSetup>,
) -> ApiResult<Json<InterviewSetup>> {
    Ok(Json(s.app.set_interview_setup(&p, project, body).await?))
}

/// A project's screening interview setup; 404 `no_interview` when it has none.
#[utoipa::path(get, path = "/api/v1/projects/{id}/interview", params(("id" = i64, Path)),
    responses((status = 200, body = InterviewSetup), (status = 404)))]
pub async fn get_setup(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Json<InterviewSetup>> {
    s.app
        .interview_setup(&p, project)
        .await?
        .map(Json)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::NOT_FOUND,
                "no_interview",
                "this project has no screening interview",
            )
        })
}

/// Starts the caller's interview (its first question), or answers the one in progress. `503
/// interview_not_configured` when the platform runs no interviews.
#[utoipa::path(post, path = "/api/v1/projects/{id}/interviews", params(("id" = i64, Path)),
    responses((status = 201, body = InterviewView), (status = 403), (status = 404), (status = 503)))]
pub async fn start_interview(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<(StatusCode, Json<InterviewView>)> {
    Ok((
        StatusCode::CREATED,
        Json(s.app.start_interview(&p, project).await?),
    ))
}

/// An interview with its transcript: the candidate's own, or any of the organization's for reviewers.
#[utoipa::path(get, path = "/api/v1/interviews/{id}", params(("id" = i64, Path)),
    responses((status = 200, body = InterviewView), (status = 404)))]
pub async fn get_interview(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<InterviewView>> {
    Ok(Json(s.app.interview(&p, id).await?))
}

/// The candidate answers the last question. The answer is stored first; when the model's endpoint is down,
/// slow or answers garbage: `503 interviewer_unavailable`, nothing is lost or scored, and `…/retry` continues.
#[utoipa::path(post, path = "/api/v1/interviews/{id}/answer", params(("id" = i64, Path)),
    request_body = AnswerBody,
    responses((status = 200, body = InterviewView), (status = 404), (status = 409), (status = 422), (status = 503)))]
pub async fn answer(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<AnswerBody>,
) -> ApiResult<Json<InterviewView>> {
    Ok(Json(
        s.app
            .answer_interview(&p, id, body.after_seq, &body.answer)
            .await?,
    ))
}

/// Retries the interviewer's pending step (the next question or the scores) after a `503`.
#[utoipa::path(post, path = "/api/v1/interviews/{id}/retry", params(("id" = i64, Path)),
    responses((status = 200, body = InterviewView), (status = 404), (status = 503)))]
pub async fn retry(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
) -> ApiResult<Json<InterviewView>> {
    Ok(Json(s.app.retry_interview(&p, id).await?))
}

/// The candidate asks a person to review the result (any result).
#[utoipa::path(post, path = "/api/v1/interviews/{id}/review-request", params(("id" = i64, Path)),
    request_body = ReviewRequestBody,
    responses((status = 200, body = InterviewView), (status = 404), (status = 409)))]
pub async fn request_review(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<ReviewRequestBody>,
) -> ApiResult<Json<InterviewView>> {
    Ok(Json(
        s.app.request_interview_review(&p, id, &body.reason).await?,
    ))
}

/// Interviews of the organization waiting for a person (reviewers, requesters, admins).
#[utoipa::path(get, path = "/api/v1/interview-reviews",
    responses((status = 200, body = InterviewQueue), (status = 403)))]
pub async fn review_queue(
    State(s): State<AppState>,
    Auth(p): Auth,
) -> ApiResult<Json<InterviewQueue>> {
    Ok(Json(InterviewQueue {
        interviews: s.app.interviews_to_review(&p).await?,
    }))
}

/// A person decides on an interview; the decision replaces the model's result.
#[utoipa::path(post, path = "/api/v1/interviews/{id}/decision", params(("id" = i64, Path)),
    request_body = DecisionBody,
    responses((status = 200, body = InterviewView), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn decide(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<DecisionBody>,
) -> ApiResult<Json<InterviewView>> {
    Ok(Json(
        s.app
            .decide_interview(&p, id, body.pass, &body.note)
            .await?,
    ))
}
