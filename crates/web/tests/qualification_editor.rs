//! The structured assessment editor and the screening interview editor on the "Qualification" tab, and editing,
//! archiving and deleting assessments (page and API), on every backend. Forms are posted as a browser without
//! JavaScript posts them; what they did is checked through the API.

mod common;

use std::time::Duration;

use common::{
    TestApp, expect_error, expect_status, form, minimal_template, on_every_backend,
    on_every_backend_with,
};
use fairloop_app::AppConfig;
use fairloop_app::interview::InterviewConfig;
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn send(
    app: &TestApp,
    method: reqwest::Method,
    token: &str,
    path: &str,
    body: Option<Value>,
) -> reqwest::Response {
    let mut r = app
        .api
        .client
        .request(method, app.api.url(path))
        .bearer_auth(token);
    if let Some(b) = body {
        r = r.json(&b);
    }
    r.send().await.unwrap()
}

/// A 3-question assessment as the editor posts it: single choice, multiple choice, free text with a rubric.
fn three_questions() -> Vec<(&'static str, &'static str)> {
    vec![
        ("title", "Fruit basics"),
        ("q0_name", "q1"),
        ("q0_kind", "single_choice"),
        ("q0_prompt", "Colour of a ripe banana?"),
        ("q0_options", "red\nyellow\nblue"),
        ("q0_correct", "yellow"),
        ("q0_explanation", "Ripe bananas are yellow."),
        ("q1_name", "q2"),
        ("q1_kind", "multi_choice"),
        ("q1_prompt", "Which are citrus fruits?"),
        ("q1_options", "lemon\nlime\napple"),
        ("q1_correct", "lemon\nlime"),
        ("q1_explanation", ""),
        ("q2_name", "q3"),
        ("q2_kind", "text"),
        ("q2_prompt", "Why do bananas brown?"),
        ("q2_c0_text", "Mentions ripening"),
        ("q2_c0_points", "2"),
        ("q2_c1_text", "Names an enzyme"),
        ("q2_c1_points", "1"),
        ("q2_explanation", "Browning is ripening."),
        ("time_limit_minutes", "15"),
        ("max_attempts", "2"),
        ("pass_mark", "60"),
    ]
}

fn with(base: &[(&'static str, &'static str)], changes: &[(&'static str, &'static str)]) -> String {
    let mut f: Vec<(&str, &str)> = base
        .iter()
        .filter(|(k, _)| !changes.iter().any(|(c, _)| c == k))
        .copied()
        .collect();
    f.extend_from_slice(changes);
    form(&f)
}

#[tokio::test]
async fn requester_builds_an_assessment_with_the_structured_editor() {
    on_every_backend(async |app| {
        let (req, token) = app
            .page_session("fruit", "req@fruit.test", Role::Requester)
            .await;
        let project = app
            .project(
                &token,
                json!({"name": "Bananas", "template": minimal_template()}),
            )
            .await;
        let tab = format!("/projects/{project}/qualification");
        let post_to = format!("{tab}/assessments");
        let (status, page) = req.get(&tab).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("id=\"editor-form\""), "{page}");
        assert!(
            page.contains("name=\"q0_kind\" value=\"single_choice\""),
            "a new assessment starts with one question: {page}"
        );

        // "Add a question" keeps everything typed and focuses the new block.
        let r = req
            .post(
                &post_to,
                &form(&[
                    ("title", "Fruit basics"),
                    ("q0_name", "q1"),
                    ("q0_kind", "single_choice"),
                    ("q0_prompt", "Colour of a ripe banana?"),
                    ("q0_options", "red\nyellow"),
                    ("q0_correct", "yellow"),
                    ("time_limit_minutes", "15"),
                    ("max_attempts", "2"),
                    ("pass_mark", "60"),
                    ("new_kind", "text"),
                    ("action", "add_question"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(body.contains("value=\"Fruit basics\""), "{body}");
        assert!(
            body.contains(">Colour of a ripe banana?</textarea>"),
            "{body}"
        );
        assert!(body.contains("name=\"q1_kind\" value=\"text\""), "{body}");
        assert!(body.contains("name=\"q1_name\" value=\"q2\""), "{body}");
        assert!(
            body.contains("id=\"q1_prompt\" name=\"q1_prompt\" rows=\"2\" autofocus"),
            "the new block is focused: {body}"
        );
        // "Remove" drops that block only; the question names stay attached to their blocks.
        let r = req
            .post(
                &post_to,
                &form(&[
                    ("title", "Fruit basics"),
                    ("q0_name", "q1"),
                    ("q0_kind", "single_choice"),
                    ("q0_prompt", "Colour?"),
                    ("q1_name", "q2"),
                    ("q1_kind", "text"),
                    ("q1_prompt", "Why brown?"),
                    ("remove_question", "0"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(!body.contains("Colour?"), "{body}");
        assert!(body.contains("name=\"q0_name\" value=\"q2\""), "{body}");
        assert!(body.contains(">Why brown?</textarea>"), "{body}");

        // Save: each error next to its field, everything typed kept.
        let base = three_questions();
        let r = req
            .post(
                &post_to,
                &with(&base, &[("q0_correct", "green"), ("q2_c1_points", "x")]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains("id=\"editor-error\""), "{body}");
        assert!(
            body.contains(
                "id=\"q0_correct-error\">The correct option “green” is not one of the options"
            ),
            "{body}"
        );
        assert!(
            body.contains("aria-describedby=\"q0_correct-error\""),
            "the field points at its error: {body}"
        );
        assert!(
            body.contains("id=\"q2_criteria-error\">The points of “Names an enzyme”"),
            "{body}"
        );
        assert!(
            body.contains("href=\"#q0_correct\""),
            "the summary links the field: {body}"
        );
        assert!(body.contains("value=\"green\""), "typed kept: {body}");
        assert!(
            body.contains(">Which are citrus fruits?</textarea>"),
            "{body}"
        );
        // A refusal of the use case itself lands next to its field too.
        let r = req
            .post(&post_to, &with(&base, &[("pass_mark", "0")]))
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("id=\"e-pass-error\">Pass_mark must be a percent from 1 to 100, got 0"),
            "{body}"
        );
        let list = expect_status(
            app.get(&token, &format!("/api/v1/projects/{project}/assessments"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(list["assessments"].as_array().unwrap().len(), 0, "{list}");

        // Valid: created, and the API sees the same data it would have taken as JSON.
        let r = req.post(&post_to, &with(&base, &[])).await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let list = expect_status(
            app.get(&token, &format!("/api/v1/projects/{project}/assessments"))
                .await,
            StatusCode::OK,
        )
        .await;
        let a = &list["assessments"][0];
        assert_eq!(a["title"], "Fruit basics");
        assert_eq!(a["time_limit_minutes"], 15);
        assert_eq!(a["max_attempts"], 2);
        assert_eq!(a["pass_mark"], 60);
        let qs = a["template"]["questions"].as_array().unwrap();
        assert_eq!(qs.len(), 3, "{a}");
        assert_eq!(qs[0]["label"], "Colour of a ripe banana?");
        assert_eq!(qs[1]["type"], "multi_choice");
        assert_eq!(a["keys"]["q1"], "yellow");
        assert_eq!(a["keys"]["q2"], json!(["lemon", "lime"]));
        assert_eq!(
            a["rubrics"]["q3"],
            "- Mentions ripening (2 points)\n- Names an enzyme (1 point)"
        );
        assert_eq!(a["explanations"]["q1"], "Ripe bananas are yellow.");
        assert_eq!(a["rubric_questions"], json!(["q3"]));

        // The edit view shows it back in the same blocks.
        let aid = a["id"].as_i64().unwrap();
        let (status, page) = req.get(&format!("{tab}/assessments/{aid}")).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("value=\"Names an enzyme\""), "{page}");
        assert!(page.contains(">lemon\nlime</textarea>"), "{page}");
        assert!(!page.contains("id=\"locked-note\""), "{page}");
    })
    .await;
}

#[tokio::test]
async fn assessments_are_edited_archived_and_deleted_by_their_rules() {
    on_every_backend(async |app| {
        let (req, token) = app
            .page_session("fruit", "req@fruit.test", Role::Requester)
            .await;
        let project = app
            .project(
                &token,
                json!({"name": "Bananas", "template": minimal_template()}),
            )
            .await;
        let tab = format!("/projects/{project}/qualification");
        let base = three_questions();
        let r = req
            .post(&format!("{tab}/assessments"), &with(&base, &[]))
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let r = req
            .post(
                &format!("{tab}/assessments"),
                &with(&base, &[("title", "Spare")]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let list = expect_status(
            app.get(&token, &format!("/api/v1/projects/{project}/assessments"))
                .await,
            StatusCode::OK,
        )
        .await;
        let aid = list["assessments"][0]["id"].as_i64().unwrap();
        let spare = list["assessments"][1]["id"].as_i64().unwrap();
        let edit = format!("{tab}/assessments/{aid}");
        let api = format!("/api/v1/assessments/{aid}");

        // Before anyone attempted it, everything may change through the editor.
        let r = req
            .post(
                &edit,
                &with(
                    &base,
                    &[
                        ("q0_prompt", "Colour of a ripe lemon?"),
                        ("pass_mark", "70"),
                    ],
                ),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let a = expect_status(app.get(&token, &api).await, StatusCode::OK).await;
        assert_eq!(
            a["template"]["questions"][0]["label"],
            "Colour of a ripe lemon?"
        );
        assert_eq!(a["pass_mark"], 70);

        // A worker attempts it: the questions are locked, the settings and explanations are not.
        let w = app.user("fruit", "taker@fruit.test", Role::Worker).await;
        expect_status(
            send(
                &app,
                reqwest::Method::POST,
                &w.token,
                &format!("{api}/attempts"),
                Some(json!({})),
            )
            .await,
            StatusCode::CREATED,
        )
        .await;
        let (_, page) = req.get(&edit).await;
        assert!(page.contains("id=\"locked-note\""), "{page}");
        assert!(page.contains("name=\"locked\" value=\"1\""), "{page}");
        assert!(
            !page.contains("id=\"q0_options\""),
            "questions shown read-only: {page}"
        );
        let r = req
            .post(
                &edit,
                &form(&[
                    ("locked", "1"),
                    ("title", "Fruit basics, v2"),
                    ("q0_name", "q1"),
                    ("q0_kind", "single_choice"),
                    ("q0_explanation", "A ripe lemon is yellow."),
                    ("time_limit_minutes", "30"),
                    ("max_attempts", "3"),
                    ("pass_mark", "70"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let a = expect_status(app.get(&token, &api).await, StatusCode::OK).await;
        assert_eq!(a["title"], "Fruit basics, v2");
        assert_eq!(a["time_limit_minutes"], 30);
        assert_eq!(a["explanations"]["q1"], "A ripe lemon is yellow.");
        assert_eq!(
            a["template"]["questions"][0]["label"], "Colour of a ripe lemon?",
            "questions unchanged"
        );
        // Forging an unlocked post is refused by the store, with why, and what was typed is kept.
        let r = req
            .post(&edit, &with(&base, &[("q0_prompt", "Sneaky change?")]))
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Candidates have attempted this assessment"),
            "{body}"
        );
        // "Copy to a new assessment": the create editor, filled, saved as a second assessment with new questions.
        assert!(page.contains(&format!("href=\"{edit}/copy\"")), "{page}");
        let (status, copy) = req.get(&format!("{edit}/copy")).await;
        assert_eq!(status, StatusCode::OK, "{copy}");
        assert!(
            copy.contains("value=\"Copy of Fruit basics, v2\""),
            "{copy}"
        );
        assert!(
            copy.contains(&format!("action=\"{tab}/assessments\"")),
            "{copy}"
        );
        assert!(
            copy.contains(">Colour of a ripe lemon?</textarea>"),
            "{copy}"
        );
        let r = req
            .post(
                &format!("{tab}/assessments"),
                &with(
                    &base,
                    &[
                        ("title", "Fruit basics, v3"),
                        ("q0_prompt", "Sneaky change?"),
                    ],
                ),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);

        // The API says the same with its codes.
        let e = expect_error(
            send(
                &app,
                reqwest::Method::PATCH,
                &token,
                &api,
                Some(json!({"keys": {"q1": "red", "q2": ["lemon"]}})),
            )
            .await,
            StatusCode::CONFLICT,
            "assessment_attempted",
        )
        .await;
        assert!(
            e["message"].as_str().unwrap().contains("copy it to a new"),
            "{e}"
        );
        let a = expect_status(
            send(
                &app,
                reqwest::Method::PATCH,
                &token,
                &api,
                Some(json!({"max_attempts": 4})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(a["max_attempts"], 4);
        assert_eq!(a["archived"], false);
        expect_error(
            send(
                &app,
                reqwest::Method::PATCH,
                &token,
                &api,
                Some(json!({"time_limit_minutes": 0})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_assessment",
        )
        .await;
        expect_error(
            send(&app, reqwest::Method::DELETE, &token, &api, None).await,
            StatusCode::CONFLICT,
            "assessment_attempted",
        )
        .await;

        // Required by the project: neither archived nor deleted, and the page says why.
        expect_status(
            send(
                &app,
                reqwest::Method::PUT,
                &token,
                &format!("/api/v1/projects/{project}/qualifications"),
                Some(json!({"requirements": [{"assessment_id": aid}, {"assessment_id": spare}]})),
            )
            .await,
            StatusCode::OK,
        )
        .await;
        expect_error(
            send(
                &app,
                reqwest::Method::POST,
                &token,
                &format!("{api}/archive"),
                None,
            )
            .await,
            StatusCode::CONFLICT,
            "assessment_required",
        )
        .await;
        let r = req
            .post(&format!("{tab}/assessments/{spare}/delete"), "")
            .await;
        assert_eq!(r.status(), StatusCode::CONFLICT);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("id=\"list-error\"") && body.contains("requires this assessment"),
            "{body}"
        );
        expect_status(
            send(
                &app,
                reqwest::Method::PUT,
                &token,
                &format!("/api/v1/projects/{project}/qualifications"),
                Some(json!({"requirements": []})),
            )
            .await,
            StatusCode::OK,
        )
        .await;

        // Archived from the page: no new attempts, results kept, shown as archived, not requirable.
        let r = req.post(&format!("{edit}/archive"), "").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let a = expect_status(app.get(&token, &api).await, StatusCode::OK).await;
        assert_eq!(a["archived"], true);
        let w2 = app.user("fruit", "late@fruit.test", Role::Worker).await;
        expect_error(
            send(
                &app,
                reqwest::Method::POST,
                &w2.token,
                &format!("{api}/attempts"),
                Some(json!({})),
            )
            .await,
            StatusCode::CONFLICT,
            "assessment_archived",
        )
        .await;
        let (_, page) = req.get(&tab).await;
        assert!(page.contains(&format!("id=\"archived-{aid}\"")), "{page}");
        assert!(
            page.contains("1 attempt by 1 worker"),
            "results kept: {page}"
        );
        assert!(!page.contains(&format!("id=\"require-{aid}\"")), "{page}");
        expect_error(
            send(
                &app,
                reqwest::Method::PUT,
                &token,
                &format!("/api/v1/projects/{project}/qualifications"),
                Some(json!({"requirements": [{"assessment_id": aid}]})),
            )
            .await,
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_assessment",
        )
        .await;
        expect_error(
            send(
                &app,
                reqwest::Method::PATCH,
                &token,
                &api,
                Some(json!({"title": "Back again"})),
            )
            .await,
            StatusCode::CONFLICT,
            "assessment_archived",
        )
        .await;
        let (_, page) = req.get(&edit).await;
        assert!(page.contains("id=\"archived-note\""), "{page}");
        assert!(!page.contains("id=\"editor-form\""), "{page}");

        // Nobody attempted the spare one: deleted from the page.
        let r = req
            .post(&format!("{tab}/assessments/{spare}/delete"), "")
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        expect_error(
            app.get(&token, &format!("/api/v1/assessments/{spare}"))
                .await,
            StatusCode::NOT_FOUND,
            "not_found",
        )
        .await;
    })
    .await;
}

#[tokio::test]
async fn another_organization_cannot_edit_archive_or_delete_an_assessment() {
    on_every_backend(async |app| {
        let (req, token) = app
            .page_session("fruit", "req@fruit.test", Role::Requester)
            .await;
        let project = app
            .project(
                &token,
                json!({"name": "Bananas", "template": minimal_template()}),
            )
            .await;
        let tab = format!("/projects/{project}/qualification");
        let r = req
            .post(
                &format!("{tab}/assessments"),
                &with(&three_questions(), &[]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let list = expect_status(
            app.get(&token, &format!("/api/v1/projects/{project}/assessments"))
                .await,
            StatusCode::OK,
        )
        .await;
        let aid = list["assessments"][0]["id"].as_i64().unwrap();
        let api = format!("/api/v1/assessments/{aid}");

        let (other, other_token) = app
            .page_session("veg", "req@veg.test", Role::Requester)
            .await;
        for (method, path, body) in [
            (
                reqwest::Method::PATCH,
                api.clone(),
                Some(json!({"title": "Mine now"})),
            ),
            (reqwest::Method::DELETE, api.clone(), None),
            (reqwest::Method::POST, format!("{api}/archive"), None),
        ] {
            expect_error(
                send(&app, method, &other_token, &path, body).await,
                StatusCode::NOT_FOUND,
                "not_found",
            )
            .await;
        }
        let (status, _) = other.get(&format!("{tab}/assessments/{aid}")).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        for path in [
            format!("{tab}/assessments/{aid}"),
            format!("{tab}/assessments/{aid}/archive"),
            format!("{tab}/assessments/{aid}/delete"),
        ] {
            let r = other
                .post(&path, &with(&three_questions(), &[("title", "Mine now")]))
                .await;
            assert_eq!(r.status(), StatusCode::NOT_FOUND, "{path}");
        }
        // A worker of the organization may not change it either.
        let w = app.user("fruit", "w@fruit.test", Role::Worker).await;
        expect_error(
            send(
                &app,
                reqwest::Method::PATCH,
                &w.token,
                &api,
                Some(json!({"title": "Mine now"})),
            )
            .await,
            StatusCode::FORBIDDEN,
            "forbidden",
        )
        .await;
        let a = expect_status(app.get(&token, &api).await, StatusCode::OK).await;
        assert_eq!(a["title"], "Fruit basics", "unchanged");
        assert_eq!(a["archived"], false);
    })
    .await;
}

#[tokio::test]
async fn requester_sets_up_the_interview_with_structured_fields() {
    let config = AppConfig {
        interview: Some(InterviewConfig {
            base_url: "http://127.0.0.1:9".into(),
            model: "test".into(),
            api_key: None,
            timeout: Duration::from_millis(200),
        }),
        ..AppConfig::default()
    };
    on_every_backend_with(config, async |app| {
        let (req, token) = app
            .page_session("clinic", "req@clinic.test", Role::Requester)
            .await;
        let project = app
            .project(
                &token,
                json!({"name": "Derm", "template": minimal_template()}),
            )
            .await;
        let tab = format!("/projects/{project}/qualification");
        let post_to = format!("{tab}/interview");
        let (_, page) = req.get(&tab).await;
        assert!(page.contains("id=\"iq0\""), "{page}");
        assert!(page.contains("id=\"ic0_name\""), "{page}");
        let typed = [
            ("iq0", "How do you tell a melanoma from a mole?"),
            ("ic0_name", "Accuracy"),
            ("ic0_max", "2"),
            ("ic0_levels", "wrong\npartly right\nright"),
            ("max_followups", "1"),
            ("pass_mark", "2"),
        ];
        // Add a question and a criterion: typed kept, new blocks empty.
        let mut f = typed.to_vec();
        f.push(("action", "add_interview_question"));
        let r = req.post(&post_to, &form(&f)).await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(
            body.contains(">How do you tell a melanoma from a mole?</textarea>"),
            "{body}"
        );
        assert!(
            body.contains("id=\"iq1\" name=\"iq1\" rows=\"2\" autofocus"),
            "{body}"
        );
        let mut f = typed.to_vec();
        f.push(("action", "add_interview_criterion"));
        let r = req.post(&post_to, &form(&f)).await;
        let body = r.text().await.unwrap();
        assert!(body.contains("id=\"ic1_name\""), "{body}");
        assert!(body.contains("value=\"Accuracy\""), "{body}");

        // Errors next to their fields: levels not matching the scale, a pass mark above the total.
        let r = req
            .post(
                &post_to,
                &form(&[
                    ("iq0", "How do you tell a melanoma from a mole?"),
                    ("iq1", "What is ABCDE?"),
                    ("ic0_name", "Accuracy"),
                    ("ic0_max", "2"),
                    ("ic0_levels", "wrong\nright"),
                    ("max_followups", "1"),
                    ("pass_mark", "2"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains("id=\"interview-error\""), "{body}");
        assert!(
            body.contains("id=\"ic0_levels-error\">Rubric[0].levels must say what each level"),
            "{body}"
        );
        assert!(body.contains(">What is ABCDE?</textarea>"), "{body}");
        let r = req
            .post(
                &post_to,
                &form(&[
                    ("iq0", "How do you tell a melanoma from a mole?"),
                    ("ic0_name", "Accuracy"),
                    ("ic0_max", "2"),
                    ("ic0_levels", "wrong\npartly right\nright"),
                    ("max_followups", "1"),
                    ("pass_mark", "5"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("id=\"i-pass-error\">Pass_mark must be from 1 to the rubric"),
            "{body}"
        );

        // Saved: two questions (a blank block is dropped), two criteria, checked through the API.
        let r = req
            .post(
                &post_to,
                &form(&[
                    ("iq0", "How do you tell a melanoma from a mole?"),
                    ("iq1", "What is ABCDE?"),
                    ("iq2", ""),
                    ("ic0_name", "Accuracy"),
                    ("ic0_max", "2"),
                    ("ic0_levels", "wrong\npartly right\nright"),
                    ("ic1_name", "Clarity"),
                    ("ic1_max", "1"),
                    ("ic1_levels", "unclear\nclear"),
                    ("max_followups", "2"),
                    ("pass_mark", "2"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let s = expect_status(
            app.get(&token, &format!("/api/v1/projects/{project}/interview"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(
            s["questions"],
            json!(["How do you tell a melanoma from a mole?", "What is ABCDE?"])
        );
        assert_eq!(s["rubric"][1]["name"], "Clarity");
        assert_eq!(s["rubric"][0]["levels"][2], "right");
        assert_eq!(s["max_followups"], 2);
        // Shown back in blocks; removing a criterion keeps the rest.
        let (_, page) = req.get(&tab).await;
        assert!(page.contains(">What is ABCDE?</textarea>"), "{page}");
        assert!(page.contains("value=\"Clarity\""), "{page}");
        let r = req
            .post(
                &post_to,
                &form(&[
                    ("iq0", "Q one"),
                    ("ic0_name", "Accuracy"),
                    ("ic0_max", "2"),
                    ("ic0_levels", "a\nb\nc"),
                    ("ic1_name", "Clarity"),
                    ("ic1_max", "1"),
                    ("ic1_levels", "x\ny"),
                    ("max_followups", "1"),
                    ("pass_mark", "2"),
                    ("remove_interview_criterion", "0"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::OK);
        let body = r.text().await.unwrap();
        assert!(!body.contains("value=\"Accuracy\""), "{body}");
        assert!(
            body.contains("id=\"ic0_name\" name=\"ic0_name\" type=\"text\" value=\"Clarity\""),
            "{body}"
        );
    })
    .await;
}
