//! The request conventions of API.md section 1 and the error envelope of section 3.

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{error_code, json_of, spawn_app, spawn_app_with, Backend};
use crate::on_both_databases;

on_both_databases!(
    parameters_arrive_as_json_form_or_query,
    bodies_without_json_content_type_are_forms,
    unknown_calls_answer_111_or_112_as_json,
    malformed_requests_get_their_documented_errors,
    bodies_over_the_limit_are_error_9,
    the_api_can_be_mounted_under_a_prefix,
);

async fn parameters_arrive_as_json_form_or_query(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let url = app.url("/employee/create");

    let as_json = app
        .client
        .post(&url)
        .json(&json!({"hash": account.hash, "employee": {"first_name": "Json", "tracker_id": 1}}))
        .send()
        .await
        .unwrap();
    let as_form = app
        .client
        .post(&url)
        .form(&[
            ("hash", account.hash.as_str()),
            ("employee", r#"{"first_name":"Form","tracker_id":2}"#),
        ])
        .send()
        .await
        .unwrap();
    let as_query = app
        .client
        .get(&url)
        .query(&[
            ("hash", account.hash.as_str()),
            ("employee", r#"{"first_name":"Query","tracker_id":3}"#),
        ])
        .send()
        .await
        .unwrap();
    let mut ids = Vec::new();
    for response in [as_json, as_form, as_query] {
        let (status, body) = json_of(response).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        ids.push(body["id"].as_i64().unwrap());
    }

    // The platform SDK's form: bare numbers, JSON text for arrays and null.
    let response = app
        .client
        .post(app.url("/employee/list"))
        .form(&[
            ("hash", account.hash.as_str()),
            ("sort", r#"["tracker_id=desc"]"#),
            ("limit", "2"),
            ("offset", "0"),
            ("filter", "o"),
        ])
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["count"], json!(2), "Json and Form contain an o");
    assert_eq!(body["list"][0]["first_name"], json!("Form"));
    assert_eq!(body["list"][1]["first_name"], json!("Json"));

    let response = app
        .client
        .get(app.url("/employee/read"))
        .query(&[
            ("hash", account.hash.as_str()),
            ("employee_id", &ids[0].to_string()),
        ])
        .send()
        .await
        .unwrap();
    let (_, body) = json_of(response).await;
    assert_eq!(body["value"]["first_name"], json!("Json"));
}

async fn bodies_without_json_content_type_are_forms(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let body = format!(
        "hash={}&employee=%7B%22first_name%22%3A%22Plain%22%7D",
        account.hash
    );
    for content_type in [None, Some("text/plain")] {
        let mut request = app
            .client
            .post(app.url("/employee/create"))
            .body(body.clone());
        if let Some(content_type) = content_type {
            request = request.header("Content-Type", content_type);
        }
        let (status, answer) = json_of(request.send().await.unwrap()).await;
        assert_eq!(status, StatusCode::OK, "{content_type:?}: {answer}");
    }
    assert_eq!(app.list(&account, json!({})).await["count"], json!(2));
}

async fn unknown_calls_answer_111_or_112_as_json(backend: Backend) {
    let app = spawn_app(backend).await;
    for (path, code) in [
        ("/employee/fly", 112),
        ("/user/fly", 112),
        ("/tracker/list", 111),
        ("/nothing", 111),
        ("/", 111),
    ] {
        let response = app.client.get(app.url(path)).send().await.unwrap();
        let (status, body) = json_of(response).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, code),
            "{path}"
        );
    }
    // A trailing slash is accepted.
    let (status, body) = app.call("/employee/list/", json!({})).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, 3));
}

async fn malformed_requests_get_their_documented_errors(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let url = app.url("/employee/create");
    for broken in [r#"{"hash": "#, "[1,2,3]", "not json at all"] {
        let response = app
            .client
            .post(&url)
            .header("Content-Type", "application/json")
            .body(broken)
            .send()
            .await
            .unwrap();
        let (status, body) = json_of(response).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, 5),
            "{broken}"
        );
    }
    let response = app
        .client
        .get(app.url("/employee/read"))
        .query(&[("hash", account.hash.as_str()), ("employee_id", "abc")])
        .send()
        .await
        .unwrap();
    let (_, body) = json_of(response).await;
    assert_eq!(error_code(&body), 7);
    assert_eq!(body["errors"][0]["parameter"], json!("employee_id"));
    let (_, body) = app
        .call_as(&account, "/employee/read", json!({"employee_id": 1.5}))
        .await;
    assert_eq!(error_code(&body), 7);
    let (_, body) = app.call_as(&account, "/employee/read", json!({})).await;
    assert_eq!(error_code(&body), 7);
    let response = app
        .client
        .post(&url)
        .header("Content-Type", "multipart/form-data; boundary=x")
        .body("--x--")
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&json_of(response).await.1), 5);
}

async fn bodies_over_the_limit_are_error_9(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.server.max_body_bytes = 4096).await;
    let account = app.master("fleet").await;
    let big = "x".repeat(5000);
    let (status, body) = app
        .call_as(&account, "/employee/list", json!({"filter": big}))
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PRECONDITION_FAILED, 9)
    );
    // Chunked, without a Content-Length: refused while streaming.
    let chunks: Vec<Result<String, std::io::Error>> =
        (0..10).map(|_| Ok("y".repeat(1000))).collect();
    let response = app
        .client
        .post(app.url("/employee/list"))
        .header("Content-Type", "application/x-www-form-urlencoded")
        .body(reqwest::Body::wrap_stream(futures::stream::iter(chunks)))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PRECONDITION_FAILED, 9)
    );
    // The server is still there.
    assert_eq!(app.list(&account, json!({})).await["count"], json!(0));
}

async fn the_api_can_be_mounted_under_a_prefix(backend: Backend) {
    let app = spawn_app_with(backend, |s| s.server.api_prefix = "/v2".into()).await;
    let account = app.master("fleet").await;
    assert!(app.address.ends_with("/v2"));
    assert_eq!(app.list(&account, json!({})).await["count"], json!(0));
    let response = app
        .client
        .get(format!("http://127.0.0.1:{}/employee/list", app.port))
        .send()
        .await
        .unwrap();
    assert_eq!(error_code(&json_of(response).await.1), 111);
}
