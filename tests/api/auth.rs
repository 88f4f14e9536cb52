use std::time::Duration;

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{error_code, json_of, spawn_app, spawn_app_with, Backend};
use crate::on_both_databases;

on_both_databases!(
    auth_answers_a_hash_that_opens_calls,
    wrong_credentials_are_102,
    missing_or_malformed_hash_is_3_and_unknown_is_4,
    the_hash_is_read_from_body_query_and_header,
    logout_ends_the_session,
    an_idle_session_expires,
);

async fn auth_answers_a_hash_that_opens_calls(backend: Backend) {
    let app = spawn_app(backend).await;
    app.new_master("fleet", "pw-1").await;
    let (status, body) = app
        .call("/user/auth", json!({"login": "fleet", "password": "pw-1"}))
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["success"], json!(true));
    let hash = body["hash"].as_str().unwrap();
    assert_eq!(hash.len(), 32);
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()));
    let (status, body) = app.call("/employee/list", json!({"hash": hash})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], json!(0));
}

async fn wrong_credentials_are_102(backend: Backend) {
    let app = spawn_app(backend).await;
    app.new_master("fleet", "pw-1").await;
    for (login, password) in [("fleet", "wrong"), ("nobody", "pw-1"), ("fleet", "")] {
        let (status, body) = app
            .call("/user/auth", json!({"login": login, "password": password}))
            .await;
        assert_eq!(status, StatusCode::BAD_REQUEST);
        assert_eq!(error_code(&body), 102, "{login}/{password}");
    }
    let (_, body) = app.call("/user/auth", json!({"login": "fleet"})).await;
    assert_eq!(error_code(&body), 7);
    assert_eq!(body["errors"][0]["parameter"], json!("password"));
}

async fn missing_or_malformed_hash_is_3_and_unknown_is_4(backend: Backend) {
    let app = spawn_app(backend).await;
    let (status, body) = app.call("/employee/list", json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, 3));
    for malformed in [
        "abc",
        "zz0123456789abcdef0123456789abcd",
        "0123456789abcdef0123456789abcdef0",
    ] {
        let (_, body) = app.call("/employee/list", json!({"hash": malformed})).await;
        assert_eq!(error_code(&body), 3, "{malformed}");
    }
    let (status, body) = app
        .call(
            "/employee/list",
            json!({"hash": "0123456789abcdef0123456789abcdef"}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, 4));
}

async fn the_hash_is_read_from_body_query_and_header(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let url = app.url("/employee/list");
    let by_query = app
        .client
        .get(format!("{url}?hash={}", account.hash))
        .send()
        .await
        .unwrap();
    let by_header = app
        .client
        .get(&url)
        .header("Authorization", format!("NVX {}", account.hash))
        .send()
        .await
        .unwrap();
    let by_form = app
        .client
        .post(&url)
        .form(&[("hash", account.hash.as_str())])
        .send()
        .await
        .unwrap();
    for response in [by_query, by_header, by_form] {
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
    }
    // The body is looked at first: a bad hash there is not rescued by a good one in the query.
    let response = app
        .client
        .post(format!("{url}?hash={}", account.hash))
        .json(&json!({"hash": "0123456789abcdef0123456789abcdef"}))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&json_of(response).await.1), 4);
}

async fn logout_ends_the_session(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let (status, body) = app.call_as(&account, "/user/logout", json!({})).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body, json!({"success": true}));
    let (_, body) = app.call_as(&account, "/employee/list", json!({})).await;
    assert_eq!(error_code(&body), 4);
    let (_, body) = app.call_as(&account, "/user/logout", json!({})).await;
    assert_eq!(error_code(&body), 4);
    let (_, body) = app.call("/user/logout", json!({})).await;
    assert_eq!(error_code(&body), 3);
}

async fn an_idle_session_expires(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.session.idle_timeout_seconds = 1).await;
    let account = app.master("fleet").await;
    let (status, _) = app.call_as(&account, "/employee/list", json!({})).await;
    assert_eq!(status, StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(2100)).await;
    let (status, body) = app.call_as(&account, "/employee/list", json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, 4));
    // A fresh login works again.
    let hash = app.login("fleet", "secret-pw").await;
    let (status, _) = app.call("/employee/list", json!({"hash": hash})).await;
    assert_eq!(status, StatusCode::OK);
}
