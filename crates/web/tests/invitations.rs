//! Joining by invitation, on every backend: who may invite whom, links bound to an email, a link that works
//! exactly once (even when two people race for it), withdrawal, and organizations that cannot see or touch
//! each other's invitations.

mod common;

use common::{TestApp, expect_error, expect_status, on_every_backend};
use fairloop_app::invitations::AcceptInput;
use fairloop_domain::Role;
use reqwest::StatusCode;
use serde_json::{Value, json};

async fn delete(app: &TestApp, token: &str, path: &str) -> reqwest::Response {
    app.api
        .client
        .delete(app.api.url(path))
        .bearer_auth(token)
        .send()
        .await
        .unwrap()
}

fn account(email: &str) -> AcceptInput {
    AcceptInput {
        email: email.into(),
        name: "New Person".into(),
        password: "a long enough password".into(),
        confirm: "a long enough password".into(),
    }
}

fn secret(created: &Value) -> String {
    created["path"]
        .as_str()
        .unwrap()
        .strip_prefix("/invite/")
        .unwrap()
        .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn invitations_admit_once_with_the_role_the_inviter_may_grant() {
    on_every_backend(async |app: TestApp| {
        let req = app.user("Lab", "req@lab.test", Role::Requester).await;
        let admin = app.user("Lab", "admin@lab.test", Role::Admin).await;
        let worker = app.user("Lab", "w@lab.test", Role::Worker).await;
        let other = app.user("Other", "req@other.test", Role::Requester).await;

        // Who may invite whom.
        let r = app
            .post(&req.token, "/api/v1/invitations", json!({"role": "admin"}))
            .await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app
            .post(
                &worker.token,
                "/api/v1/invitations",
                json!({"role": "worker"}),
            )
            .await;
        expect_error(r, StatusCode::FORBIDDEN, "forbidden").await;
        let r = app
            .post(
                &admin.token,
                "/api/v1/invitations",
                json!({"role": "requester"}),
            )
            .await;
        expect_status(r, StatusCode::CREATED).await;
        // Bad input names the field.
        let r = app
            .post(
                &req.token,
                "/api/v1/invitations",
                json!({"role": "worker", "email": "nope"}),
            )
            .await;
        let e = expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_email").await;
        assert!(e["message"].as_str().unwrap().contains("nope"));
        let r = app
            .post(
                &req.token,
                "/api/v1/invitations",
                json!({"role": "worker", "valid_days": 0}),
            )
            .await;
        expect_error(r, StatusCode::UNPROCESSABLE_ENTITY, "invalid_valid_days").await;
        let r = app
            .post(
                &req.token,
                "/api/v1/invitations",
                json!({"role": "worker", "email": "w@lab.test"}),
            )
            .await;
        expect_error(r, StatusCode::CONFLICT, "email_taken").await;
        let r = app
            .post(&req.token, "/api/v1/invitations", json!({"role": "boss"}))
            .await;
        let e = expect_error(r, StatusCode::BAD_REQUEST, "invalid_body").await;
        assert!(e["message"].as_str().unwrap().contains("role"), "{e}");

        // A link bound to an email admits that email once, into the inviter's organization.
        let r = app
            .post(
                &req.token,
                "/api/v1/invitations",
                json!({"role": "worker", "email": "New@Lab.test"}),
            )
            .await;
        let created = expect_status(r, StatusCode::CREATED).await;
        assert_eq!(created["invitation"]["status"], "open");
        assert_eq!(created["invitation"]["email"], "new@lab.test");
        let token = secret(&created);
        let preview = app.app.invitation_preview(&token).await.unwrap();
        assert_eq!(
            (preview.org_name.as_str(), preview.role),
            ("Lab", Role::Worker)
        );
        let wrong = app
            .app
            .accept_invitation(&token, account("someone@else.test"))
            .await;
        assert!(matches!(
            wrong,
            Err(fairloop_app::AppError::Conflict {
                code: "invitation_email_mismatch",
                ..
            })
        ));
        let signed_in = app
            .app
            .accept_invitation(&token, account("new@lab.test"))
            .await
            .unwrap();
        assert_eq!(
            (signed_in.user.org_id, signed_in.user.role),
            (req.org_id, Role::Worker)
        );
        assert!(
            app.app
                .session(&signed_in.session_token)
                .await
                .unwrap()
                .is_some()
        );
        let again = app
            .app
            .accept_invitation(&token, account("new@lab.test"))
            .await;
        assert!(matches!(
            again,
            Err(fairloop_app::AppError::Conflict {
                code: "invitation_used",
                ..
            })
        ));
        assert!(
            app.app
                .sign_in("new@lab.test", "a long enough password", None)
                .await
                .is_ok()
        );

        // An unbound link raced by two people admits exactly one of them.
        let r = app
            .post(
                &req.token,
                "/api/v1/invitations",
                json!({"role": "reviewer"}),
            )
            .await;
        let token = secret(&expect_status(r, StatusCode::CREATED).await);
        let (a, b) = tokio::join!(
            app.app
                .accept_invitation(&token, account("racer1@lab.test")),
            app.app
                .accept_invitation(&token, account("racer2@lab.test")),
        );
        assert_eq!(
            [a.is_ok(), b.is_ok()].iter().filter(|ok| **ok).count(),
            1,
            "{a:?} {b:?}"
        );

        // Listing, tenancy and withdrawal.
        let r = app
            .post(&req.token, "/api/v1/invitations", json!({"role": "worker"}))
            .await;
        let open = expect_status(r, StatusCode::CREATED).await;
        let id = open["invitation"]["id"].as_i64().unwrap();
        let list = expect_status(
            app.api.get(&req.token, "/api/v1/invitations").await,
            StatusCode::OK,
        )
        .await;
        let statuses: Vec<&str> = list
            .as_array()
            .unwrap()
            .iter()
            .map(|i| i["status"].as_str().unwrap())
            .collect();
        assert_eq!(statuses, ["open", "accepted", "accepted", "open"]);
        let theirs = expect_status(
            app.api.get(&other.token, "/api/v1/invitations").await,
            StatusCode::OK,
        )
        .await;
        assert_eq!(theirs, json!([]));
        let r = delete(&app, &other.token, &format!("/api/v1/invitations/{id}")).await;
        expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
        expect_status(
            delete(&app, &req.token, &format!("/api/v1/invitations/{id}")).await,
            StatusCode::NO_CONTENT,
        )
        .await;
        let r = delete(&app, &req.token, &format!("/api/v1/invitations/{id}")).await;
        expect_error(r, StatusCode::NOT_FOUND, "not_found").await;
        let withdrawn = app
            .app
            .accept_invitation(&secret(&open), account("late@lab.test"))
            .await;
        assert!(matches!(
            withdrawn,
            Err(fairloop_app::AppError::Conflict {
                code: "invitation_revoked",
                ..
            })
        ));
        // A made-up link is simply not found.
        assert!(matches!(
            app.app.invitation_preview(&"ab".repeat(32)).await,
            Err(fairloop_app::AppError::NotFound(_))
        ));
    })
    .await;
}
