//! Ledger and payout endpoints: fund a budget, read balances, withhold a submission's pay, run payouts and
//! record the payment provider's answers (see docs/ledger.md).

use axum::Json;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use fairloop_app::floor::{PayCheck, PayFloor, TopUpRun};
use fairloop_app::ledger::{
    BonusBody, FundBody, LedgerView, PostedView, ResolvePayDispute, WithholdBody,
};
use fairloop_app::payouts::{SettleBody, payouts_csv};
use fairloop_domain::time::now_millis;
use serde_json::Value;

use crate::AppState;
use crate::error::ApiResult;
use crate::extract::{ApiJson, Auth, Id};

fn posted(view: PostedView) -> Response {
    let status = if view.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(view)).into_response()
}

/// Funds the caller's organization budget (requesters and admins). 201 when posted, 200 when this
/// `reference` was posted before (nothing changed).
#[utoipa::path(post, path = "/api/v1/ledger/fund", request_body = FundBody,
    responses((status = 201, body = PostedView), (status = 200, body = PostedView), (status = 403), (status = 422)))]
pub async fn fund(
    State(s): State<AppState>,
    Auth(p): Auth,
    ApiJson(body): ApiJson<FundBody>,
) -> ApiResult<Response> {
    Ok(posted(s.app.fund_budget(&p, body).await?))
}

/// The caller's accounts and latest transactions: a worker's own earnings, or the organization's books for
/// requesters and admins. Amounts are integer minor units.
#[utoipa::path(get, path = "/api/v1/ledger", responses((status = 200, body = LedgerView)))]
pub async fn ledger(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<LedgerView>> {
    Ok(Json(s.app.ledger_view(&p).await?))
}

/// Withholds a submission's pay with a reason the worker sees (reviewers and admins): a reversing
/// transaction; 200 when it was already withheld. 404 until the pay is posted.
#[utoipa::path(post, path = "/api/v1/annotations/{id}/withhold", params(("id" = i64, Path)),
    request_body = WithholdBody,
    responses((status = 201, body = PostedView), (status = 200, body = PostedView), (status = 403), (status = 404)))]
pub async fn withhold(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(annotation): Id,
    ApiJson(body): ApiJson<WithholdBody>,
) -> ApiResult<Response> {
    Ok(posted(s.app.withhold_pay(&p, annotation, body).await?))
}

/// The worker disputes the withholding of their submission's pay, with a reason (one dispute per
/// withholding); a reviewer or admin resolves it.
#[utoipa::path(post, path = "/api/v1/annotations/{id}/dispute-withholding", params(("id" = i64, Path)),
    request_body = WithholdBody, responses((status = 200, body = Object), (status = 404), (status = 409)))]
pub async fn dispute_withholding(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(annotation): Id,
    ApiJson(body): ApiJson<WithholdBody>,
) -> ApiResult<Json<Value>> {
    let d = s.app.dispute_withholding(&p, annotation, body).await?;
    Ok(Json(serde_json::to_value(d).unwrap_or(Value::Null)))
}

/// Disputes of withheld pay: a worker's own; the organization's for reviewers, requesters and admins.
#[utoipa::path(get, path = "/api/v1/pay-disputes", responses((status = 200, body = Vec<Object>)))]
pub async fn pay_disputes(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    let list = s.app.pay_disputes(&p).await?;
    Ok(Json(serde_json::to_value(list).unwrap_or(Value::Null)))
}

/// Resolves a dispute of withheld pay (reviewers and admins): overturn (the pay is posted again) or uphold.
#[utoipa::path(post, path = "/api/v1/pay-disputes/{id}/resolve", params(("id" = i64, Path)),
    request_body = ResolvePayDispute,
    responses((status = 200, body = Object), (status = 403), (status = 404), (status = 409)))]
pub async fn resolve_pay_dispute(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<ResolvePayDispute>,
) -> ApiResult<Json<Value>> {
    let d = s.app.resolve_pay_dispute(&p, id, body).await?;
    Ok(Json(serde_json::to_value(d).unwrap_or(Value::Null)))
}

/// Pays a worker a bonus (quality, gold or completion) on a project, out of the budget (requesters and
/// admins). 409 `budget_exhausted` when a budgeted project cannot cover it; 200 when this worker, kind and
/// reference were paid before.
#[utoipa::path(post, path = "/api/v1/projects/{id}/bonuses", params(("id" = i64, Path)), request_body = BonusBody,
    responses((status = 201, body = PostedView), (status = 200, body = PostedView), (status = 403), (status = 404),
        (status = 409), (status = 422)))]
pub async fn bonus(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
    ApiJson(body): ApiJson<BonusBody>,
) -> ApiResult<Response> {
    Ok(posted(s.app.pay_bonus(&p, project, body).await?))
}

/// The platform's minimum effective hourly rate (`null` when none is set).
#[utoipa::path(get, path = "/api/v1/pay-floor", responses((status = 200, body = Option<PayFloor>)))]
pub async fn pay_floor(
    State(s): State<AppState>,
    Auth(_): Auth,
) -> ApiResult<Json<Option<PayFloor>>> {
    Ok(Json(s.app.pay_floor().await?))
}

/// The launch check of a per-task project (requesters): the pilot's median time, the effective hourly rate,
/// and a warning with a suggested per-task amount when it is under the floor.
#[utoipa::path(get, path = "/api/v1/projects/{id}/pay-check", params(("id" = i64, Path)),
    responses((status = 200, body = PayCheck), (status = 403), (status = 404), (status = 422)))]
pub async fn pay_check(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(project): Id,
) -> ApiResult<Json<PayCheck>> {
    Ok(Json(s.app.pay_check(&p, project).await?))
}

/// Tops up every worker under the floor in the last completed weekly period (admins); at most once per
/// project, worker and period.
#[utoipa::path(post, path = "/api/v1/ledger/top-ups/run", responses((status = 200, body = TopUpRun), (status = 403)))]
pub async fn top_ups(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<TopUpRun>> {
    Ok(Json(s.app.run_top_ups(&p, now_millis()).await?))
}

/// Runs the payout for the current weekly period (admins): every positive earnings balance becomes a
/// pending payout, once per period. Answers the payouts this run created.
#[utoipa::path(post, path = "/api/v1/payouts/run",
    responses((status = 200, body = Vec<Object>), (status = 403)))]
pub async fn run(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    let created = s.app.payout_run(&p, now_millis()).await?;
    Ok(Json(serde_json::to_value(created).unwrap_or(Value::Null)))
}

/// Payouts the caller may see (the organization's, or a worker's own), newest first.
#[utoipa::path(get, path = "/api/v1/payouts", responses((status = 200, body = Vec<Object>)))]
pub async fn list(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Json<Value>> {
    let list = s.app.payouts(&p, None).await?;
    Ok(Json(serde_json::to_value(list).unwrap_or(Value::Null)))
}

/// The same payouts as CSV for the payment provider.
#[utoipa::path(get, path = "/api/v1/payouts.csv",
    responses((status = 200, content_type = "text/csv", body = String)))]
pub async fn csv(State(s): State<AppState>, Auth(p): Auth) -> ApiResult<Response> {
    let list = s.app.payouts(&p, None).await?;
    Ok((
        [(header::CONTENT_TYPE, "text/csv; charset=utf-8")],
        payouts_csv(&list),
    )
        .into_response())
}

/// Records the provider's answer for a pending payout (admins): `paid`, or `failed` with a reason (the money
/// is owed to the worker again).
#[utoipa::path(post, path = "/api/v1/payouts/{id}/settle", params(("id" = i64, Path)), request_body = SettleBody,
    responses((status = 200, body = Object), (status = 403), (status = 404), (status = 409), (status = 422)))]
pub async fn settle(
    State(s): State<AppState>,
    Auth(p): Auth,
    Id(id): Id,
    ApiJson(body): ApiJson<SettleBody>,
) -> ApiResult<Json<Value>> {
    let payout = s.app.payout_settle(&p, id, body).await?;
    Ok(Json(serde_json::to_value(payout).unwrap_or(Value::Null)))
}

/// Retries a failed payout (admins): answers the new pending payout, or 204 when nothing is owed any more.
#[utoipa::path(post, path = "/api/v1/payouts/{id}/retry", params(("id" = i64, Path)),
    responses((status = 200, body = Object), (status = 204), (status = 403), (status = 404), (status = 409)))]
pub async fn retry(State(s): State<AppState>, Auth(p): Auth, Id(id): Id) -> ApiResult<Response> {
    Ok(match s.app.payout_retry(&p, id).await? {
        Some(payout) => Json(payout).into_response(),
        None => StatusCode::NO_CONTENT.into_response(),
    })
}

/// `?from=&to=&worker_id=` of statements and invoices (UTC millis; the current weekly period by default).
#[derive(Debug, serde::Deserialize, utoipa::IntoParams)]
pub struct PeriodQuery {
    /// Start (inclusive), UTC millis.
    pub from: Option<i64>,
    /// End (exclusive), UTC millis.
    pub to: Option<i64>,
    /// Another worker of the organization (requesters and admins; statements only).
    pub worker_id: Option<i64>,
}

fn period(q: &PeriodQuery) -> (i64, i64) {
    let (start, end) = fairloop_store::payouts::week_of(now_millis());
    (q.from.unwrap_or(start), q.to.unwrap_or(end))
}

fn csv_response(body: String) -> Response {
    ([(header::CONTENT_TYPE, "text/csv; charset=utf-8")], body).into_response()
}

/// A worker's earnings statement for a period as CSV (the caller's own; any worker's for requesters and
/// admins): every movement, then opening and closing balances.
#[utoipa::path(get, path = "/api/v1/statement.csv", params(PeriodQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403)))]
pub async fn statement_csv(
    State(s): State<AppState>,
    Auth(p): Auth,
    axum::extract::Query(q): axum::extract::Query<PeriodQuery>,
) -> ApiResult<Response> {
    let (from, to) = period(&q);
    Ok(csv_response(
        s.app.statement(&p, q.worker_id, from, to).await?.to_csv(),
    ))
}

/// The organization's invoice for a period as CSV (requesters and admins): every budget movement, then
/// opening and closing balances.
#[utoipa::path(get, path = "/api/v1/invoice.csv", params(PeriodQuery),
    responses((status = 200, content_type = "text/csv", body = String), (status = 403)))]
pub async fn invoice_csv(
    State(s): State<AppState>,
    Auth(p): Auth,
    axum::extract::Query(q): axum::extract::Query<PeriodQuery>,
) -> ApiResult<Response> {
    let (from, to) = period(&q);
    Ok(csv_response(s.app.invoice(&p, from, to).await?.to_csv()))
}
