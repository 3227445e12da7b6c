//! The requester's "Qualification" tab, on every backend: creating an assessment from the form (a bad field is
//! named next to the form and what was typed is kept), requiring it with a pass mark, and the note that the
//! platform does not run interviews; each checked through the API. The structured editors (assessment blocks,
//! the interview setup) are tested in `qualification_editor.rs`.

mod common;

use common::{TestApp, expect_status, form, minimal_template, on_every_backend};
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn api_get(app: &TestApp, token: &str, path: &str) -> Value {
    expect_status(app.get(token, path).await, StatusCode::OK).await
}

const TEMPLATE: &str = r#"{"fields": [], "questions": [
  {"name": "colour", "type": "single_choice", "options": ["red", "yellow"], "label": "Colour of a ripe banana?"},
  {"name": "why", "type": "text", "label": "Why do bananas brown?"}]}"#;

fn assessment_form(template: &str, pass_mark: &str) -> String {
    form(&[
        ("title", "Banana basics"),
        ("template", template),
        ("keys", r#"{"colour": "yellow"}"#),
        ("explanations", r#"{"colour": "Ripe bananas are yellow."}"#),
        ("rubrics", r#"{"why": "Mentions ripening."}"#),
        ("time_limit_minutes", "15"),
        ("max_attempts", "2"),
        ("pass_mark", pass_mark),
    ])
}

#[tokio::test]
async fn requester_creates_and_requires_an_assessment_from_the_qualification_tab() {
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
        let (status, console) = req.get(&format!("/projects/{project}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            console.contains(&format!("href=\"{tab}\"")),
            "the console links the tab"
        );
        let (status, page) = req.get(&tab).await;
        assert_eq!(status, StatusCode::OK, "{page}");
        assert!(page.contains("id=\"no-assessments\""), "{page}");
        assert!(page.contains("id=\"interview-not-configured\""), "{page}");

        // Bad JSON: the error names the field and the title typed is kept.
        let r = req
            .post(
                &format!("{tab}/assessments"),
                &assessment_form("{not json", "80"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(body.contains("id=\"assessment-error\""), "{body}");
        assert!(body.contains("Template: not valid JSON"), "{body}");
        assert!(
            body.contains("value=\"Banana basics\""),
            "typed title kept: {body}"
        );
        assert!(body.contains("{not json"), "typed template kept: {body}");
        // A pass mark out of range is refused by the use case, naming the field.
        let r = req
            .post(
                &format!("{tab}/assessments"),
                &assessment_form(TEMPLATE, "0"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("Pass_mark must be a percent from 1 to 100, got 0"),
            "{body}"
        );
        // Without the CSRF token nothing is created.
        let r = req
            .post_raw(
                &format!("{tab}/assessments"),
                &assessment_form(TEMPLATE, "80"),
            )
            .await;
        assert!(r.status().is_client_error(), "{}", r.status());
        let list = api_get(
            &app,
            &token,
            &format!("/api/v1/projects/{project}/assessments"),
        )
        .await;
        assert_eq!(list["assessments"].as_array().unwrap().len(), 0, "{list}");

        let r = req
            .post(
                &format!("{tab}/assessments"),
                &assessment_form(TEMPLATE, "80"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let list = api_get(
            &app,
            &token,
            &format!("/api/v1/projects/{project}/assessments"),
        )
        .await;
        let a = &list["assessments"][0];
        assert_eq!(a["title"], "Banana basics");
        assert_eq!(a["pass_mark"], 80);
        assert_eq!(a["max_attempts"], 2);
        assert_eq!(a["time_limit_minutes"], 15);
        assert_eq!(a["paid"], false);
        assert_eq!(a["keys"]["colour"], "yellow");
        assert_eq!(a["rubrics"]["why"], "Mentions ripening.");
        let aid = a["id"].as_i64().unwrap();
        let (_, page) = req.get(&format!("{tab}?done=created")).await;
        assert!(
            page.contains(&format!("data-assessment=\"{aid}\"")),
            "{page}"
        );
        assert!(page.contains("15 min"), "{page}");
        assert!(
            page.contains("0 attempts by 0 workers · 0 passed"),
            "{page}"
        );
        // A worker's attempt shows in the results.
        let w = app.user("fruit", "taker@fruit.test", Role::Worker).await;
        let r = app
            .api
            .client
            .post(app.api.url(&format!("/api/v1/assessments/{aid}/attempts")))
            .bearer_auth(&w.token)
            .json(&json!({}))
            .send()
            .await
            .unwrap();
        expect_status(r, StatusCode::CREATED).await;
        let (_, page) = req.get(&tab).await;
        assert!(page.contains("1 attempt by 1 worker · 0 passed"), "{page}");

        // Required with its own pass mark; a bad mark is named.
        let r = req
            .post(
                &format!("{tab}/requirements"),
                &form(&[
                    ("require", &aid.to_string()),
                    (&format!("pass_mark_{aid}"), "x"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::UNPROCESSABLE_ENTITY);
        let body = r.text().await.unwrap();
        assert!(
            body.contains("id=\"requirements-error\"")
                && body.contains(&format!("pass_mark_{aid}")),
            "{body}"
        );
        let r = req
            .post(
                &format!("{tab}/requirements"),
                &form(&[
                    ("require", &aid.to_string()),
                    (&format!("pass_mark_{aid}"), "90"),
                ]),
            )
            .await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let reqs = api_get(
            &app,
            &token,
            &format!("/api/v1/projects/{project}/qualifications"),
        )
        .await;
        assert_eq!(reqs["requirements"][0]["assessment_id"], aid, "{reqs}");
        assert_eq!(reqs["requirements"][0]["pass_mark"], 90, "{reqs}");
        let (_, page) = req.get(&tab).await;
        assert!(
            page.contains(&format!("id=\"require-{aid}\" checked")),
            "{page}"
        );
        // Unticking removes it.
        let r = req.post(&format!("{tab}/requirements"), "").await;
        assert_eq!(r.status(), StatusCode::SEE_OTHER);
        let reqs = api_get(
            &app,
            &token,
            &format!("/api/v1/projects/{project}/qualifications"),
        )
        .await;
        assert_eq!(reqs["requirements"].as_array().unwrap().len(), 0, "{reqs}");

        // Another organization's requester cannot see the tab or create on the project.
        let (other, _) = app
            .page_session("veg", "req@veg.test", Role::Requester)
            .await;
        let (status, _) = other.get(&tab).await;
        assert_eq!(status, StatusCode::NOT_FOUND);
        let r = other
            .post(
                &format!("{tab}/assessments"),
                &assessment_form(TEMPLATE, "80"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::NOT_FOUND);
        // A worker of the organization cannot create one either.
        let (worker, _) = app
            .page_session("fruit", "w@fruit.test", Role::Worker)
            .await;
        let r = worker
            .post(
                &format!("{tab}/assessments"),
                &assessment_form(TEMPLATE, "80"),
            )
            .await;
        assert_eq!(r.status(), StatusCode::FORBIDDEN);
        let list = api_get(
            &app,
            &token,
            &format!("/api/v1/projects/{project}/assessments"),
        )
        .await;
        assert_eq!(list["assessments"].as_array().unwrap().len(), 1, "{list}");
    })
    .await;
}
