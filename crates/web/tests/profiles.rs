//! Worker profiles, credentials, project requirements and matching on every backend (docs/workforce.md): bad
//! input names the field, evidence is typed from its bytes and readable only by its owner and admins,
//! requirements filter claims with `not_eligible` and the reasons, matching ranks and explains, and another
//! organization sees and changes nothing.

mod common;

use common::{
    TestApp, expect_error, expect_status, jsonl_items, minimal_template, on_every_backend,
};
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Value,
) -> reqwest::Response {
    app.send(method, token, path, Some(body)).await
}

async fn put_profile(app: &TestApp, token: &str, body: Value) -> reqwest::Response {
    send(app, reqwest::Method::PUT, token, "/api/v1/me/profile", body).await
}

async fn upload(app: &TestApp, token: &str, title: &str, bytes: Vec<u8>) -> reqwest::Response {
    app.api
        .client
        .post(app.api.url(&format!(
            "/api/v1/me/credentials?title={title}&issuer=Board"
        )))
        .bearer_auth(token)
        // The name and header claim a PDF; only the bytes count.
        .header("content-type", "application/pdf")
        .body(bytes)
        .send()
        .await
        .unwrap()
}

fn pdf() -> Vec<u8> {
    b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n".to_vec()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_profile_round_trips_and_bad_input_names_the_field() {
    on_every_backend(async |app: TestApp| {
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let saved = expect_status(
            put_profile(
                &app,
                &w.token,
                json!({
                    "expertise": [{"domain": "medicine/dermatology", "years": 12}, {"domain": "law", "years": 2}],
                    "languages": [{"language": "EN", "level": "c1"}, {"language": "de", "level": "native"}],
                    "country": "de", "time_zone": "Europe/Berlin",
                    "availability": {"hours_per_week": 20, "days": ["mon", "wed", "fri"]},
                    "min_rate": {"amount_minor": 3000, "currency": "eur"}
                }),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(saved["expertise"][0]["domain"], "medicine/dermatology");
        assert_eq!(saved["expertise"][0]["label"], "Dermatology");
        assert_eq!(saved["languages"][0], json!({"language": "de", "level": "native"}));
        assert_eq!(saved["languages"][1], json!({"language": "en", "level": "C1"}));
        assert_eq!(saved["country"], "DE");
        assert_eq!(saved["time_zone"], "Europe/Berlin");
        assert_eq!(saved["availability"]["days"], json!(["mon", "wed", "fri"]));
        assert_eq!(saved["min_rate"], json!({"amount_minor": 3000, "currency": "EUR"}));
        let read = expect_status(app.api.get(&w.token, "/api/v1/me/profile").await, StatusCode::OK).await;
        assert_eq!(read["expertise"], saved["expertise"]);
        assert!(read["quality"].is_null());

        for (body, field) in [
            (json!({"expertise": [{"domain": "medicine/astrology", "years": 1}]}), "expertise[0].domain"),
            (json!({"languages": [{"language": "en", "level": "C3"}]}), "languages[0].level"),
            (json!({"languages": [{"language": "english", "level": "C1"}]}), "languages[0].language"),
            (json!({"time_zone": "Mars/Olympus_Mons"}), "time_zone"),
            (json!({"availability": {"hours_per_week": 200}}), "availability.hours_per_week"),
            (json!({"availability": {"days": ["mon", "funday"]}}), "availability.days[1]"),
            (json!({"min_rate": {"amount_minor": 100, "currency": "dollars"}}), "min_rate.currency"),
            (json!({"country": "Germany"}), "country"),
        ] {
            let e = expect_error(put_profile(&app, &w.token, body.clone()).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_profile").await;
            assert_eq!(e["details"]["field"], field, "{body}");
            assert!(e["message"].as_str().unwrap().starts_with(field), "{e}");
        }
        // A refused save changed nothing.
        let again = expect_status(app.api.get(&w.token, "/api/v1/me/profile").await, StatusCode::OK).await;
        assert_eq!(again["time_zone"], "Europe/Berlin");

        let taxonomy = expect_status(app.api.get(&w.token, "/api/v1/taxonomy").await, StatusCode::OK).await;
        assert!(taxonomy["domains"].as_array().unwrap().iter().any(|d| d["key"] == "law/patents" && d["top"] == "law"));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credentials_are_typed_from_their_bytes_kept_private_and_verified_by_an_admin() {
    on_every_backend(async |app: TestApp| {
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let w2 = app.user("Lab", "w2@lab.test", Role::Worker).await;
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let other_admin = app.user("Other", "admin@other.test", Role::Admin).await;
        let before = app.media_files().len();

        // Wrong type (an HTML page sent as application/pdf), empty, and oversize are refused, naming the field.
        let e = expect_error(
            upload(
                &app,
                &w.token,
                "Cert",
                b"<html><body>hi</body></html>".to_vec(),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        )
        .await;
        assert_eq!(e["details"]["field"], "document");
        assert!(
            e["message"].as_str().unwrap().contains("PDF, PNG or JPEG"),
            "{e}"
        );
        expect_error(
            upload(&app, &w.token, "Cert", Vec::new()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_document",
        )
        .await;
        let mut big = pdf();
        big.resize(fairloop_domain::workforce::MAX_CREDENTIAL_BYTES + 1, b' ');
        expect_error(
            upload(&app, &w.token, "Cert", big).await,
            StatusCode::PAYLOAD_TOO_LARGE,
            "payload_too_large",
        )
        .await;
        let e = expect_error(
            upload(&app, &w.token, "", pdf()).await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_credential",
        )
        .await;
        assert_eq!(e["details"]["field"], "title");
        assert_eq!(app.media_files().len(), before, "nothing refused is stored");

        let c = expect_status(
            upload(&app, &w.token, "Dermatology%20board", pdf()).await,
            StatusCode::CREATED,
        )
        .await;
        assert_eq!(c["status"], "pending");
        assert_eq!(c["content_type"], "application/pdf");
        let id = c["id"].as_i64().unwrap();
        let doc = format!("/api/v1/credentials/{id}/document");
        let r = app.api.get(&w.token, &doc).await;
        assert_eq!(r.status(), StatusCode::OK);
        assert_eq!(r.headers()["content-type"], "application/pdf");
        assert_eq!(r.bytes().await.unwrap().to_vec(), pdf());
        assert_eq!(
            app.api.get(&admin.token, &doc).await.status(),
            StatusCode::OK
        );
        // Nobody else: another worker, a requester of the same org, an admin of another org.
        for t in [&w2.token, &req.token, &other_admin.token] {
            expect_error(
                app.api.get(t, &doc).await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        }

        // Only an admin of the worker's organization decides.
        let decide = format!("/api/v1/credentials/{id}/decision");
        expect_error(
            send(
                &app,
                reqwest::Method::POST,
                &w.token,
                &decide,
                json!({"verified": true}),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        expect_error(
            send(
                &app,
                reqwest::Method::POST,
                &other_admin.token,
                &decide,
                json!({"verified": true}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        let v = expect_status(
            send(
                &app,
                reqwest::Method::POST,
                &admin.token,
                &decide,
                json!({"verified": true, "note": "Checked with the board"}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(v["status"], "verified");
        assert_eq!(v["decided_by"], "admin@lab.test");
        assert!(v["decided_at"].as_str().unwrap().ends_with('Z'));
        let mine = expect_status(
            app.api.get(&w.token, "/api/v1/me/profile").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine["credentials"][0]["status"], "verified");
        assert_eq!(mine["credentials"][0]["note"], "Checked with the board");
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn another_organization_cannot_read_or_change_profiles_requirements_or_matches() {
    on_every_backend(async |app: TestApp| {
        let w = app.user("Lab", "w@lab.test", Role::Worker).await;
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let reviewer = app.user("Lab", "rev@lab.test", Role::Reviewer).await;
        let w2 = app.user("Lab", "w2@lab.test", Role::Worker).await;
        let other = app.user("Other", "req@other.test", Role::Requester).await;
        let other_w = app.user("Other", "w@other.test", Role::Worker).await;
        expect_status(
            put_profile(
                &app,
                &w.token,
                json!({"expertise": [{"domain": "law/patents", "years": 5}]}),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        let path = format!("/api/v1/workers/{}/profile", w.id);
        // Inside the organization: requesters and reviewers read it; another worker does not.
        let seen = expect_status(app.api.get(&req.token, &path).await, StatusCode::OK).await;
        assert_eq!(seen["expertise"][0]["domain"], "law/patents");
        expect_status(app.api.get(&reviewer.token, &path).await, StatusCode::OK).await;
        expect_error(
            app.api.get(&w2.token, &path).await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        // Another organization: not found, as if the worker did not exist.
        expect_error(
            app.api.get(&other.token, &path).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;

        let project = app
            .project(
                &req.token,
                json!({"name": "Patents", "template": minimal_template()}),
            )
            .await;
        let rpath = format!("/api/v1/projects/{project}/requirements");
        expect_error(
            send(
                &app,
                reqwest::Method::PUT,
                &other.token,
                &rpath,
                json!({"domains": ["law"]}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.api.get(&other.token, &rpath).await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            app.api
                .get(&other.token, &format!("/api/v1/projects/{project}/matches"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        // Inviting across organizations fails both ways.
        expect_error(
            send(
                &app,
                reqwest::Method::POST,
                &other.token,
                &format!("/api/v1/projects/{project}/invites"),
                json!({"worker_id": w.id}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        expect_error(
            send(
                &app,
                reqwest::Method::POST,
                &req.token,
                &format!("/api/v1/projects/{project}/invites"),
                json!({"worker_id": other_w.id}),
            )
            .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
        // Another org's matching never lists this org's workers, even with no requirements.
        let theirs = app
            .project(
                &other.token,
                json!({"name": "Theirs", "template": minimal_template()}),
            )
            .await;
        let m = expect_status(
            app.api
                .get(&other.token, &format!("/api/v1/projects/{theirs}/matches"))
                .await,
            StatusCode::OK,
        )
        .await;
        let ids: Vec<i64> = m["workers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|w| w["worker_id"].as_i64().unwrap())
            .collect();
        assert_eq!(ids, vec![other_w.id]);
        // The profile is unchanged after all that.
        let mine = expect_status(
            app.api.get(&w.token, "/api/v1/me/profile").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(mine["expertise"][0]["years"], 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn requirements_filter_claims_with_the_reasons_and_leave_open_projects_alone() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let derm = app.user("Lab", "derm@lab.test", Role::Worker).await;
        let poet = app.user("Lab", "poet@lab.test", Role::Worker).await;
        expect_status(put_profile(&app, &derm.token, json!({"expertise": [{"domain": "medicine/dermatology", "years": 8}], "languages": [{"language": "en", "level": "C2"}]})).await, StatusCode::OK).await;
        expect_status(put_profile(&app, &poet.token, json!({"expertise": [{"domain": "creative-writing/poetry", "years": 3}], "languages": [{"language": "en", "level": "B2"}]})).await, StatusCode::OK).await;

        // Bad requirements name the field, at creation and on edit.
        let e = expect_error(app.create_project(&req.token, &json!({"name": "X", "template": minimal_template(), "requirements": {"domains": ["medicine/astrology"]}})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_requirements").await;
        assert_eq!(e["details"]["field"], "requirements.domains[0]");

        let skin = app.project(&req.token, json!({"name": "Skin", "template": minimal_template(), "overlap": 2,
            "requirements": {"domains": ["medicine/dermatology"], "languages": [{"language": "en", "min_level": "C1"}]}})).await;
        let open = app.project(&req.token, json!({"name": "Open", "template": minimal_template()})).await;
        for p in [skin, open] {
            app.items(&req.token, p, &jsonl_items("i", 0..3)).await;
        }
        let got = expect_status(app.api.get(&req.token, &format!("/api/v1/projects/{skin}/requirements")).await, StatusCode::OK).await;
        assert_eq!(got["languages"][0], json!({"language": "en", "min_level": "C1"}));

        let e = expect_error(app.next(&poet.token, skin).await, StatusCode::FORBIDDEN, "not_eligible").await;
        let reasons = e["details"]["reasons"].as_array().unwrap().clone();
        assert_eq!(reasons.len(), 2, "{e}");
        assert_eq!(reasons[0], json!({"kind": "domain", "needs": "Dermatology"}));
        assert_eq!(reasons[1], json!({"kind": "language", "needs": "C1 English"}));
        assert!(e["message"].as_str().unwrap().contains("needs: Dermatology; C1 English"), "{e}");
        let el = expect_status(app.api.get(&poet.token, &format!("/api/v1/projects/{skin}/eligibility")).await, StatusCode::OK).await;
        assert_eq!(el["eligible"], false);
        assert_eq!(el["needs"], "needs: Dermatology; C1 English");
        // The dermatologist works; everyone works on the open project.
        app.claim(&derm.token, skin).await;
        app.claim(&poet.token, open).await;
        let el = expect_status(app.api.get(&derm.token, &format!("/api/v1/projects/{skin}/eligibility")).await, StatusCode::OK).await;
        assert_eq!(el["eligible"], true);

        // Editing: loosen the language; the poet still lacks the domain only. Then clear the requirements.
        let rpath = format!("/api/v1/projects/{skin}/requirements");
        expect_error(send(&app, reqwest::Method::PUT, &poet.token, &rpath, json!({})).await, StatusCode::FORBIDDEN, "forbidden").await;
        let e = expect_error(send(&app, reqwest::Method::PUT, &req.token, &rpath, json!({"languages": [{"language": "en", "min_level": "Z9"}]})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_requirements").await;
        assert_eq!(e["details"]["field"], "requirements.languages[0].min_level");
        expect_status(send(&app, reqwest::Method::PUT, &req.token, &rpath, json!({"domains": ["medicine"], "languages": [{"language": "en", "min_level": "B2"}]})).await, StatusCode::OK).await;
        let e = expect_error(app.next(&poet.token, skin).await, StatusCode::FORBIDDEN, "not_eligible").await;
        assert_eq!(e["details"]["reasons"], json!([{"kind": "domain", "needs": "Medicine"}]));
        expect_status(send(&app, reqwest::Method::PUT, &req.token, &rpath, json!({})).await, StatusCode::OK).await;
        app.claim(&poet.token, skin).await;

        // Countries and quality: a worker with no history may start unless the requester says otherwise.
        expect_status(send(&app, reqwest::Method::PUT, &req.token, &rpath, json!({"countries": ["de"], "min_quality": 0.8})).await, StatusCode::OK).await;
        let e = expect_error(app.next(&derm.token, skin).await, StatusCode::FORBIDDEN, "not_eligible").await;
        assert_eq!(e["details"]["reasons"], json!([{"kind": "country", "needs": "working from DE"}]));
        expect_status(put_profile(&app, &derm.token, json!({"expertise": [{"domain": "medicine/dermatology", "years": 8}], "languages": [{"language": "en", "level": "C2"}], "country": "DE"})).await, StatusCode::OK).await;
        app.claim(&derm.token, skin).await;
        expect_status(send(&app, reqwest::Method::PUT, &req.token, &rpath, json!({"countries": ["DE"], "min_quality": 0.8, "exclude_without_history": true})).await, StatusCode::OK).await;
        let e = expect_error(app.next(&derm.token, skin).await, StatusCode::FORBIDDEN, "not_eligible").await;
        assert_eq!(e["details"]["reasons"][0]["kind"], "quality");
        assert!(e["message"].as_str().unwrap().contains("no quality history yet"), "{e}");
    })
    .await;
}

/// Gives a worker a quality history: one `worker_quality` row on `project`, rolled up as the quality job does.
async fn give_quality(
    app: &TestApp,
    org: i64,
    project: i64,
    worker: i64,
    agreed: i64,
    compared: i64,
) {
    app.app
        .store
        .write_tx(move |tx| {
            tx.execute(
                "INSERT INTO worker_quality (project_id, worker_id, org_id, submissions, compared, agreed, gold_answers, \
                 gold_score_sum, updated_at) VALUES ($1, $2, $3, $4, $4, $5, 0, 0.0, 0)",
                fairloop_store::params![project, worker, org, compared, agreed],
            )?;
            Ok(())
        })
        .await
        .unwrap();
    app.app.refresh_worker_quality(org, project).await.unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn matching_ranks_explains_pages_and_invites() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let senior = app.user("Lab", "senior@lab.test", Role::Worker).await;
        let junior = app.user("Lab", "junior@lab.test", Role::Worker).await;
        let pricey = app.user("Lab", "pricey@lab.test", Role::Worker).await;
        let poet = app.user("Lab", "poet@lab.test", Role::Worker).await;
        let _blank = app.user("Lab", "blank@lab.test", Role::Worker).await;
        let derm = |years: i64, hours: i64, rate: i64| json!({
            "expertise": [{"domain": "medicine/dermatology", "years": years}],
            "languages": [{"language": "en", "level": "C1"}],
            "availability": {"hours_per_week": hours}, "min_rate": {"amount_minor": rate, "currency": "USD"}});
        expect_status(put_profile(&app, &senior.token, derm(15, 40, 2000)).await, StatusCode::OK).await;
        expect_status(put_profile(&app, &junior.token, derm(2, 10, 2000)).await, StatusCode::OK).await;
        expect_status(put_profile(&app, &pricey.token, derm(15, 40, 9000)).await, StatusCode::OK).await;
        expect_status(put_profile(&app, &poet.token, json!({"expertise": [{"domain": "creative-writing/poetry", "years": 20}]})).await, StatusCode::OK).await;
        let project = app.project(&req.token, json!({"name": "Skin", "template": minimal_template(),
            "pay": {"model": "hourly", "rate_minor": 3000, "currency": "USD"},
            "requirements": {"domains": ["medicine"], "languages": [{"language": "en", "min_level": "B2"}]}})).await;
        // Quality history: the junior agrees 9 times in 10, the senior 6 in 10.
        give_quality(&app, req.org_id, project, junior.id, 9, 10).await;
        give_quality(&app, req.org_id, project, senior.id, 6, 10).await;
        let mine = expect_status(app.api.get(&junior.token, "/api/v1/me/profile").await, StatusCode::OK).await;
        assert_eq!(mine["quality"], 0.9);

        let m = expect_status(app.api.get(&req.token, &format!("/api/v1/projects/{project}/matches")).await, StatusCode::OK).await;
        assert_eq!(m["total"], 3, "{m}");
        let order: Vec<i64> = m["workers"].as_array().unwrap().iter().map(|w| w["worker_id"].as_i64().unwrap()).collect();
        // senior: 40 + 18 + 15 + 15 = 88; pricey: 40 + 15 + 15 + 0 = 70; junior: 8 + 27 + 3 + 15 = 53.
        assert_eq!(order, vec![senior.id, pricey.id, junior.id]);
        let scores: Vec<i64> = m["workers"].as_array().unwrap().iter().map(|w| w["score"].as_i64().unwrap()).collect();
        assert_eq!(scores, vec![88, 70, 53]);
        let reasons = |i: usize| m["workers"][i]["reasons"].as_array().unwrap().iter().map(|r| r.as_str().unwrap().to_string()).collect::<Vec<_>>();
        assert!(reasons(0)[0].contains("Dermatology: 15 years"), "{:?}", reasons(0));
        assert!(reasons(0)[1].contains("60.0%"), "{:?}", reasons(0));
        assert!(reasons(1)[3].contains("below their lowest rate"), "{:?}", reasons(1));
        assert!(reasons(2)[2].contains("10 h a week"), "{:?}", reasons(2));

        // The SQL filter agrees with the claim rule for every worker.
        for w in [&senior, &junior, &pricey, &poet, &_blank] {
            let el = expect_status(app.api.get(&w.token, &format!("/api/v1/projects/{project}/eligibility")).await, StatusCode::OK).await;
            assert_eq!(el["eligible"].as_bool().unwrap(), order.contains(&w.id), "{}", w.email);
        }

        // Pages.
        let p2 = expect_status(app.api.get(&req.token, &format!("/api/v1/projects/{project}/matches?page=2&per_page=2")).await, StatusCode::OK).await;
        assert_eq!(p2["total"], 3);
        assert_eq!(p2["workers"].as_array().unwrap().len(), 1);
        assert_eq!(p2["workers"][0]["worker_id"], junior.id);
        let p9 = expect_status(app.api.get(&req.token, &format!("/api/v1/projects/{project}/matches?page=9&per_page=2")).await, StatusCode::OK).await;
        assert_eq!(p9["total"], 3);
        assert!(p9["workers"].as_array().unwrap().is_empty());
        let e = expect_error(app.api.get(&req.token, &format!("/api/v1/projects/{project}/matches?per_page=0")).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_page").await;
        assert_eq!(e["details"]["field"], "per_page");
        expect_error(app.api.get(&senior.token, &format!("/api/v1/projects/{project}/matches")).await, StatusCode::FORBIDDEN, "forbidden").await;

        // A least quality of 70 % keeps the newcomer (no history) and drops the senior (60 %).
        expect_status(send(&app, reqwest::Method::PUT, &req.token, &format!("/api/v1/projects/{project}/requirements"),
            json!({"domains": ["medicine"], "min_quality": 0.7})).await, StatusCode::OK).await;
        let m = expect_status(app.api.get(&req.token, &format!("/api/v1/projects/{project}/matches")).await, StatusCode::OK).await;
        let order: Vec<i64> = m["workers"].as_array().unwrap().iter().map(|w| w["worker_id"].as_i64().unwrap()).collect();
        assert_eq!(order, vec![pricey.id, junior.id]);
        let e = expect_error(app.next(&senior.token, project).await, StatusCode::FORBIDDEN, "not_eligible").await;
        assert_eq!(e["details"]["reasons"][0]["kind"], "quality");

        // Invitations: a notice once, the worker's list, and "projects for you" with the same score.
        let invite = format!("/api/v1/projects/{project}/invites");
        let r = expect_status(send(&app, reqwest::Method::POST, &req.token, &invite, json!({"worker_id": junior.id})).await, StatusCode::CREATED).await;
        assert_eq!(r["created"], true);
        let r = expect_status(send(&app, reqwest::Method::POST, &req.token, &invite, json!({"worker_id": junior.id})).await, StatusCode::OK).await;
        assert_eq!(r["created"], false);
        let inbox = expect_status(app.api.get(&junior.token, "/api/v1/me/notices").await, StatusCode::OK).await;
        let invites: Vec<&Value> = inbox["notices"].as_array().unwrap().iter().filter(|n| n["kind"] == "invitation").collect();
        assert_eq!(invites.len(), 1, "{inbox}");
        assert_eq!(invites[0]["title"], "You are invited to Skin");
        let mine = expect_status(app.api.get(&junior.token, "/api/v1/me/project-invites").await, StatusCode::OK).await;
        assert_eq!(mine[0]["project_id"], project);
        assert_eq!(mine[0]["invited_by"], "req@lab.test");
        let m = expect_status(app.api.get(&req.token, &format!("/api/v1/projects/{project}/matches")).await, StatusCode::OK).await;
        assert_eq!(m["workers"][1]["invited"], true);
        let junior_score = m["workers"][1]["score"].clone();
        let open = app.project(&req.token, json!({"name": "Open", "template": minimal_template()})).await;
        let for_you = expect_status(app.api.get(&junior.token, "/api/v1/me/projects-for-you").await, StatusCode::OK).await;
        let list = for_you.as_array().unwrap();
        let skin = list.iter().find(|p| p["project_id"] == project).expect("the project is for the junior");
        assert_eq!(skin["score"], junior_score);
        assert_eq!(skin["invited"], true);
        assert!(list.iter().any(|p| p["project_id"] == open));
        let scores: Vec<i64> = list.iter().map(|p| p["score"].as_i64().unwrap()).collect();
        assert!(scores.windows(2).all(|w| w[0] >= w[1]), "{scores:?}");
        // The senior is below the least quality: the project is not for them.
        let for_senior = expect_status(app.api.get(&senior.token, "/api/v1/me/projects-for-you").await, StatusCode::OK).await;
        assert!(!for_senior.as_array().unwrap().iter().any(|p| p["project_id"] == project));
    })
    .await;
}

/// The ranked workers' ids and scores for a project.
async fn ranking(app: &TestApp, token: &str, project: i64) -> (i64, Vec<(i64, i64)>, Value) {
    let m = expect_status(
        app.api
            .get(token, &format!("/api/v1/projects/{project}/matches"))
            .await,
        StatusCode::OK,
    )
    .await;
    let rows = m["workers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|w| {
            (
                w["worker_id"].as_i64().unwrap(),
                w["score"].as_i64().unwrap(),
            )
        })
        .collect();
    (m["total"].as_i64().unwrap(), rows, m)
}

/// The match rows (`worker_match`) of an organization, with their token lists sorted, for comparing the rows the
/// writes keep with the rows the migration's backfill builds.
async fn match_rows(app: &TestApp, org: i64) -> Vec<String> {
    app.app
        .store
        .read_tx(move |tx| {
            let rows = tx.query(
                "SELECT user_id, country, langs, fit, quality_permille, base_points, min_rate_minor, min_rate_currency, \
                 utc_offset FROM worker_match WHERE org_id = $1 ORDER BY user_id",
                fairloop_store::params![org],
            )?;
            let sorted = |s: String| {
                let mut t: Vec<String> = s.split(',').filter(|x| !x.is_empty()).map(str::to_string).collect();
                t.sort();
                t.join(",")
            };
            rows.iter()
                .map(|r| {
                    Ok(format!(
                        "{} {:?} [{}] [{}] {:?} {} {:?} {:?} {:?}",
                        r.i64(0)?,
                        r.opt_string(1)?,
                        sorted(r.string(2)?),
                        sorted(r.string(3)?),
                        r.opt_i64(4)?,
                        r.i64(5)?,
                        r.opt_i64(6)?,
                        r.opt_string(7)?,
                        r.opt_i64(8)?
                    ))
                })
                .collect()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_match_row_follows_every_input_and_time_zones_filter() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let a = app.user("Lab", "a@lab.test", Role::Worker).await;
        let b = app.user("Lab", "b@lab.test", Role::Worker).await;
        let profile = |years: i64, level: &str, tz: &str| json!({
            "expertise": [{"domain": "medicine/dermatology", "years": years}],
            "languages": [{"language": "en", "level": level}, {"language": "de", "level": "native"}],
            "country": "DE", "time_zone": tz});
        expect_status(put_profile(&app, &a.token, profile(5, "C1", "Europe/Berlin")).await, StatusCode::OK).await;
        expect_status(put_profile(&app, &b.token, profile(8, "C1", "America/Sao_Paulo")).await, StatusCode::OK).await;
        let project = app.project(&req.token, json!({"name": "Skin", "template": minimal_template(),
            "pay": {"model": "hourly", "rate_minor": 3000, "currency": "USD"},
            "requirements": {"domains": ["medicine"], "languages": [{"language": "en", "min_level": "B2"}]}})).await;
        let rpath = format!("/api/v1/projects/{project}/requirements");
        let set = async |body: Value| {
            expect_status(send(&app, reqwest::Method::PUT, &req.token, &rpath, body).await, StatusCode::OK).await;
        };
        // Nobody stated quality, hours or a rate: 15 + 5 + 8 points each, plus 4 a year of dermatology.
        assert_eq!(ranking(&app, &req.token, project).await.1, vec![(b.id, 32 + 28), (a.id, 20 + 28)]);

        // Expertise: twelve years put the first worker ahead (capped at ten: 40 points).
        expect_status(put_profile(&app, &a.token, profile(12, "C1", "Europe/Berlin")).await, StatusCode::OK).await;
        assert_eq!(ranking(&app, &req.token, project).await.1, vec![(a.id, 68), (b.id, 60)]);
        // The same through a sub-domain (read from the expertise index), and a sub-domain nobody has.
        set(json!({"domains": ["medicine/dermatology", "law/tax"], "languages": [{"language": "en", "min_level": "B2"}]})).await;
        assert_eq!(ranking(&app, &req.token, project).await.1, vec![(a.id, 68), (b.id, 60)]);
        set(json!({"domains": ["medicine/radiology"]})).await;
        assert_eq!(ranking(&app, &req.token, project).await.0, 0);
        set(json!({"domains": ["medicine"], "languages": [{"language": "en", "min_level": "B2"}]})).await;

        // Language: English at B1 no longer meets B2.
        expect_status(put_profile(&app, &a.token, profile(12, "B1", "Europe/Berlin")).await, StatusCode::OK).await;
        assert_eq!(ranking(&app, &req.token, project).await.0, 1);
        assert_eq!(ranking(&app, &req.token, project).await.1, vec![(b.id, 60)]);
        expect_status(put_profile(&app, &a.token, profile(12, "native", "Europe/Berlin")).await, StatusCode::OK).await;
        assert_eq!(ranking(&app, &req.token, project).await.0, 2);

        // Country, set on its own (the settings page's write): the second worker moves to Kenya.
        set(json!({"domains": ["medicine"], "countries": ["DE"]})).await;
        assert_eq!(ranking(&app, &req.token, project).await.0, 2);
        app.app.store.set_user_country(req.org_id, b.id, Some("KE".into())).await.unwrap();
        assert_eq!(ranking(&app, &req.token, project).await.1, vec![(a.id, 68)]);

        // Quality: 50 % drops the first worker below a least quality of 70 %; 100 % lifts the second.
        set(json!({"domains": ["medicine"], "min_quality": 0.7})).await;
        give_quality(&app, req.org_id, project, a.id, 5, 10).await;
        give_quality(&app, req.org_id, project, b.id, 10, 10).await;
        assert_eq!(ranking(&app, &req.token, project).await.1, vec![(b.id, 32 + 30 + 5 + 8)]);

        // Time zones: a window of offsets filters, says where each worker is and adds no points.
        set(json!({"domains": ["medicine"], "utc_offset": {"min": "-04:00", "max": "UTC-2"}})).await;
        let got = expect_status(app.api.get(&req.token, &rpath).await, StatusCode::OK).await;
        assert_eq!(got["utc_offset"], json!({"min": "-04:00", "max": "-02:00"}));
        let (total, rows, m) = ranking(&app, &req.token, project).await;
        assert_eq!((total, rows), (1, vec![(b.id, 75)]));
        assert_eq!(m["workers"][0]["reasons"][4], "UTC-3, within the project's hours (UTC-4 to UTC-2)", "{m}");
        let e = expect_error(app.next(&a.token, project).await, StatusCode::FORBIDDEN, "not_eligible").await;
        assert_eq!(e["details"]["reasons"], json!([{"kind": "time_zone", "needs": "a time zone from UTC-4 to UTC-2 (yours is UTC+1)"}]));
        set(json!({"domains": ["medicine"], "utc_offset": {"min": "+00:00", "max": "+03:00"}})).await;
        assert_eq!(ranking(&app, &req.token, project).await.1, vec![(a.id, 40 + 15 + 5 + 8)]);
        for (body, field) in [
            (json!({"utc_offset": {"min": "noon", "max": "+01:00"}}), "requirements.utc_offset.min"),
            (json!({"utc_offset": {"min": "-01:00", "max": "+15:00"}}), "requirements.utc_offset.max"),
            (json!({"utc_offset": {"min": "+03:00", "max": "-03:00"}}), "requirements.utc_offset.max"),
        ] {
            let e = expect_error(send(&app, reqwest::Method::PUT, &req.token, &rpath, body).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_requirements").await;
            assert_eq!(e["details"]["field"], field, "{e}");
        }
        let e = expect_error(app.create_project(&req.token, &json!({"name": "X", "template": minimal_template(),
            "requirements": {"utc_offset": {"min": "-1", "max": "later"}}})).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_requirements").await;
        assert_eq!(e["details"]["field"], "requirements.utc_offset.max");

        // A worker who joins later is in the pool at once; a deleted account leaves it.
        set(json!({})).await;
        let c = app.user("Lab", "c@lab.test", Role::Worker).await;
        let (total, rows, _) = ranking(&app, &req.token, project).await;
        assert_eq!(total, 3);
        assert!(rows.iter().any(|(id, _)| *id == c.id));
        app.app.store.delete_account(b.id, 0).await.unwrap();
        let (total, rows, _) = ranking(&app, &req.token, project).await;
        assert_eq!(total, 2);
        assert!(!rows.iter().any(|(id, _)| *id == b.id));

        // The rows the writes kept are the rows the migration's backfill builds from the same data.
        let kept = match_rows(&app, req.org_id).await;
        assert_eq!(kept.len(), 2, "{kept:?}");
        let text = if app.backend == "postgres" {
            include_str!("../../store/migrations/postgres/0023_match_rows.sql")
        } else {
            include_str!("../../store/migrations/sqlite/0023_match_rows.sql")
        };
        let backfill = text.split_once("-- BACKFILL").unwrap().1.split_once('\n').unwrap().1.to_string();
        app.app
            .store
            .write_tx(move |tx| {
                tx.execute("DELETE FROM worker_match", fairloop_store::params![])?;
                for statement in backfill.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
                    tx.execute(statement, fairloop_store::params![])?;
                }
                Ok(())
            })
            .await
            .unwrap();
        assert_eq!(match_rows(&app, req.org_id).await, kept);
    })
    .await;
}
