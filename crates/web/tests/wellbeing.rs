//! Wellbeing over HTTP on every backend: the categories, project settings at creation and later, a worker's
//! own opt-ins (nobody else's), the stable error code before opting in, CSV imports with categories, and the
//! pages (home card, blurred workbench, "too distressing" from the skip form).

mod common;

use common::{FormBrowser, expect_error, expect_status, minimal_template, on_every_backend};
use fairloop_domain::Role;
use reqwest::StatusCode;
use reqwest::header::AUTHORIZATION;
use serde_json::{Value, json};

async fn put(app: &common::TestApp, token: &str, path: &str, body: Value) -> reqwest::Response {
    app.client
        .put(app.url(path))
        .header(AUTHORIZATION, format!("Bearer {token}"))
        .json(&body)
        .send()
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn projects_carry_categories_from_creation_and_workers_opt_in_for_themselves() {
    on_every_backend(async |app| {
        let req = app.user("acme", "req@acme.test", Role::Requester).await;
        let w1 = app.user("acme", "w1@acme.test", Role::Worker).await;
        let w2 = app.user("acme", "w2@acme.test", Role::Worker).await;

        let cats = expect_status(app.get(&w1.token, "/api/v1/sensitivity-categories").await, StatusCode::OK).await;
        assert!(cats.as_array().unwrap().iter().any(|c| c["key"] == "medical_imagery" && c["description"].is_string()));

        // Unknown category and a limit looser than the platform's: 422 naming the field.
        let mut body = json!({"name": "Wounds", "template": minimal_template(), "overlap": 1,
            "wellbeing": {"sensitivity": ["gore"]}});
        let e = expect_error(app.create_project(&req.token, &body).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_sensitivity").await;
        assert!(e["message"].as_str().unwrap().contains("\"gore\""), "{e}");
        body["wellbeing"] = json!({"sensitivity": ["graphic_injury"], "daily_exposure_limit": 500});
        expect_error(app.create_project(&req.token, &body).await, StatusCode::UNPROCESSABLE_ENTITY, "invalid_wellbeing").await;
        body["wellbeing"] = json!({"sensitivity": ["graphic_injury"], "daily_exposure_limit": 10, "break_after_minutes": 30});
        let p = app.project(&req.token, body).await;
        let csv = "id,text,sensitivity\na,first,\nb,second,medical_imagery|violence\n";
        let r = app.import_csv(&req.token, p, csv, None).await;
        assert!(r.status().is_success(), "{:?}", r.text().await);

        let view = expect_status(app.get(&w1.token, &format!("/api/v1/projects/{p}/wellbeing")).await, StatusCode::OK).await;
        assert_eq!(view["sensitivity"], json!(["graphic_injury"]));
        assert_eq!(view["item_sensitivity"], json!(["violence", "medical_imagery"]));
        assert_eq!(view["daily_exposure_limit"], 10);
        assert_eq!(view["break_after_minutes"], 30);
        assert!(view.get("distressing_skips").is_none(), "workers do not see requester figures: {view}");
        // A worker cannot change a project's settings.
        expect_error(put(&app, &w1.token, &format!("/api/v1/projects/{p}/wellbeing"), json!({})).await, StatusCode::FORBIDDEN, "forbidden").await;

        // Before opting in: the stable code.
        expect_error(app.next(&w1.token, p).await, StatusCode::FORBIDDEN, "sensitivity_opt_in_required").await;
        // Each worker's opt-ins are their own.
        let mine = expect_status(put(&app, &w1.token, "/api/v1/me/sensitivity", json!({"opted_in": ["graphic_injury"]})).await, StatusCode::OK).await;
        assert_eq!(mine["opted_in"], json!(["graphic_injury"]));
        let theirs = expect_status(app.get(&w2.token, "/api/v1/me/sensitivity").await, StatusCode::OK).await;
        assert_eq!(theirs["opted_in"], json!([]));
        expect_error(app.next(&w2.token, p).await, StatusCode::FORBIDDEN, "sensitivity_opt_in_required").await;
        // Extra fields (such as another worker's id) are refused, not silently applied.
        let r = put(&app, &w2.token, "/api/v1/me/sensitivity", json!({"opted_in": ["hate"], "worker_id": w1.id})).await;
        assert_eq!(r.status(), StatusCode::BAD_REQUEST);
        let again = expect_status(app.get(&w1.token, "/api/v1/me/sensitivity").await, StatusCode::OK).await;
        assert_eq!(again["opted_in"], json!(["graphic_injury"]));

        // w1 gets the item without item categories (the other shows ones they did not opt into), marked.
        let t = app.claim(&w1.token, p).await;
        assert_eq!(t["item"]["id"], "a");
        assert_eq!(t["item"]["sensitivity"], json!(["graphic_injury"]));
        let a = t["assignment_id"].as_i64().unwrap();
        let r = app.client.post(app.url(&format!("/api/v1/assignments/{a}/skip")))
            .header(AUTHORIZATION, format!("Bearer {}", w1.token))
            .json(&json!({"too_distressing": true})).send().await.unwrap();
        assert_eq!(r.status(), StatusCode::NO_CONTENT);
        assert_eq!(app.next(&w1.token, p).await.status(), StatusCode::NO_CONTENT);
        let stats = app.stats_json(&req.token, p).await;
        assert_eq!(stats["skipped_assignments"], 0, "{stats}");
        let view = expect_status(app.get(&req.token, &format!("/api/v1/projects/{p}/wellbeing")).await, StatusCode::OK).await;
        assert_eq!(view["distressing_skips"], 1);
        let exposure = expect_status(app.get(&w1.token, "/api/v1/me/sensitivity").await, StatusCode::OK).await;
        assert_eq!(exposure["exposure_today"], json!([{"category": "graphic_injury", "items": 1}]));

        // Exports carry the items' own categories.
        let lines = app.export_jsonl(&req.token, p).await;
        let b = lines.iter().find(|l| l["id"] == "b").unwrap();
        assert_eq!(b["sensitivity"], json!(["violence", "medical_imagery"]));
        assert!(lines.iter().find(|l| l["id"] == "a").unwrap().get("sensitivity").is_none());

        // Another organization sees nothing of it.
        let stranger = app.user("other", "req@other.test", Role::Requester).await;
        assert_eq!(app.get(&stranger.token, &format!("/api/v1/projects/{p}/wellbeing")).await.status(), StatusCode::NOT_FOUND);
        expect_error(put(&app, &stranger.token, &format!("/api/v1/projects/{p}/wellbeing"), json!({})).await, StatusCode::NOT_FOUND, "not_found").await;
    })
    .await;
}

const PASSWORD: &str = "wellbeing-pages-password";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wellbeing_pages_from_the_console_to_the_workbench() {
    on_every_backend(async |app| {
        app.app
            .add_user(
                "acme",
                "req@acme.test",
                "req",
                Role::Requester,
                Some(PASSWORD),
            )
            .await
            .unwrap();
        app.app
            .add_user("acme", "w@acme.test", "w", Role::Worker, Some(PASSWORD))
            .await
            .unwrap();
        let (_, token) = app
            .app
            .add_user("acme", "req@acme.test", "req", Role::Requester, None)
            .await
            .unwrap();
        let p = app
            .project(
                &token,
                json!({"name": "Reports", "template": minimal_template(), "overlap": 1}),
            )
            .await;
        let r = app
            .import_jsonl(
                &token,
                p,
                "{\"id\":\"r1\",\"data\":{\"text\":\"a report\"}}\n",
                None,
            )
            .await;
        assert!(r.status().is_success());

        // The requester sets the project's categories and support on its Wellbeing page; bad input re-renders.
        let req = FormBrowser::sign_in(&app, "req@acme.test", PASSWORD, "/settings").await;
        let (status, page) = req.get(&format!("/projects/{p}")).await;
        assert_eq!(status, StatusCode::OK);
        assert!(
            page.contains(&format!("href=\"/projects/{p}/wellbeing\"")),
            "the console links the page"
        );
        let (status, _, body) = req
            .post(
                &format!("/projects/{p}/wellbeing"),
                &[
                    ("category", "child_safety"),
                    ("daily_exposure_limit", "999"),
                ],
            )
            .await;
        assert_eq!(status, StatusCode::UNPROCESSABLE_ENTITY);
        assert!(
            body.contains("daily_exposure_limit"),
            "the error names the field"
        );
        let (status, to, _) = req
            .post(
                &format!("/projects/{p}/wellbeing"),
                &[
                    ("category", "child_safety"),
                    ("daily_exposure_limit", "12"),
                    ("break_after_minutes", ""),
                    (
                        "support",
                        "Talk to [our counsellor](https://example.org/help).",
                    ),
                ],
            )
            .await;
        assert_eq!(
            (status, to.as_str()),
            (
                StatusCode::SEE_OTHER,
                format!("/projects/{p}/wellbeing?done=saved").as_str()
            )
        );

        // The worker's home says what it shows and offers no Start; starting anyway leads to the page.
        let w = FormBrowser::sign_in(&app, "w@acme.test", PASSWORD, "/settings").await;
        let (_, home) = w.get("/").await;
        assert!(
            home.contains("Child safety reports") && home.contains(&format!("data-opt-in=\"{p}\"")),
            "{home}"
        );
        assert!(
            !home.contains(&format!("data-project=\"{p}\"")),
            "no Start before opting in"
        );
        let (_, to, _) = w.post(&format!("/work/{p}"), &[]).await;
        assert_eq!(to, format!("/projects/{p}/wellbeing?done=opt_in_first"));
        let (_, page) = w.get(&to).await;
        assert!(
            page.contains("our counsellor") && page.contains("id=\"opt-in\""),
            "{page}"
        );
        // Opting in from the page: only this worker, only the category shown.
        let (_, to, _) = w
            .post(
                &format!("/projects/{p}/wellbeing/opt-in"),
                &[("category", "child_safety")],
            )
            .await;
        assert!(to.ends_with("done=saved"));
        let (_, settings) = w.get("/settings/sensitivity").await;
        assert!(
            settings.contains("id=\"cat-child_safety\" checked"),
            "{settings}"
        );
        assert!(!settings.contains("id=\"cat-violence\" checked"));

        // The workbench blurs the item, offers support and "Too distressing"; that skip does not count.
        let (_, bench, _) = w.post(&format!("/work/{p}"), &[]).await;
        assert!(bench.starts_with(&format!("/work/{p}/")), "{bench}");
        let (_, page) = w.get(&bench).await;
        assert!(
            page.contains("class=\"sensitive-wrap\"") && page.contains("id=\"reveal\""),
            "blurred until revealed"
        );
        assert!(page.contains("id=\"support-text\"") && page.contains("our counsellor"));
        assert!(page.contains("value=\"Too distressing\""));
        let (status, _, _) = w
            .post(&format!("{bench}/skip"), &[("reason", "Too distressing")])
            .await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        let stats = app.stats_json(&token, p).await;
        assert_eq!(stats["skipped_assignments"], 0, "{stats}");
        let view = expect_status(
            app.get(&token, &format!("/api/v1/projects/{p}/wellbeing"))
                .await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(view["distressing_skips"], 1);
        // Settings: choosing nothing opts out of everything again.
        let (_, to, _) = w.post("/settings/sensitivity", &[]).await;
        assert_eq!(to, "/settings/sensitivity?done=saved");
        let (_, home) = w.get("/").await;
        assert!(home.contains(&format!("data-opt-in=\"{p}\"")));
    })
    .await;
}
