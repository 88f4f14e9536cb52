//! Operations: metrics, readiness, graceful stop, logs without secrets, rate limits, gc.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::cache::TestRedis;
use crate::helpers::{
    error_code, files_below, json_of, spawn_app, spawn_app_with, upload_form, use_redis, Backend,
    TestApp,
};
use crate::images::{encoded, photo, photo_jpeg, random_bytes};

const BINARY: &str = env!("CARGO_BIN_EXE_employee-avatars");

async fn metrics_text(app: &TestApp) -> String {
    let response = app.get("/metrics").await;
    assert_eq!(response.status(), StatusCode::OK);
    response.text().await.unwrap()
}

/// The value of one sample, e.g. `cache_hits_total` or `avatar_uploads_total{outcome="234"}`.
fn sample(text: &str, series: &str) -> Option<f64> {
    text.lines()
        .find_map(|line| line.strip_prefix(series)?.strip_prefix(' ')?.parse().ok())
}

#[actix_web::test]
async fn counters_follow_a_known_sequence_of_calls() {
    let app = spawn_app(Backend::Sqlite).await;
    let account = app.master("fleet").await;
    let id = app
        .create_employee(&account, json!({"first_name": "A"}))
        .await;
    app.create_employee(&account, json!({"first_name": "B"}))
        .await;
    app.list(&account, json!({})).await;
    app.list(&account, json!({})).await;
    let (status, _) = app
        .upload(&account, id, photo_jpeg(200, 150, 1), "image/jpeg")
        .await;
    assert_eq!(status, StatusCode::OK);
    let (_, body) = app
        .upload(&account, id, random_bytes(300), "image/png")
        .await;
    assert_eq!(error_code(&body), 234);

    let text = metrics_text(&app).await;
    for (series, value) in [
        ("cache_hits_total", 1.0),
        ("cache_misses_total", 1.0),
        ("cache_fallbacks_total", 0.0),
        ("avatar_uploads_total{outcome=\"success\"}", 1.0),
        ("avatar_uploads_total{outcome=\"234\"}", 1.0),
        (
            "http_requests_total{route=\"/employee/create\",status=\"200\"}",
            2.0,
        ),
        (
            "http_requests_total{route=\"/employee/list\",status=\"200\"}",
            2.0,
        ),
        (
            "http_requests_total{route=\"/employee/avatar/upload\",status=\"400\"}",
            1.0,
        ),
        (
            "http_requests_total{route=\"/user/auth\",status=\"200\"}",
            1.0,
        ),
        ("actor_mailbox_capacity{actor=\"cache\"}", 1024.0),
        ("actor_mailbox_capacity{actor=\"image_supervisor\"}", 64.0),
        ("actor_mailbox_depth{actor=\"image_supervisor\"}", 0.0),
        // The one upload that decoded: a normalise job; the refused one never reached a worker.
        ("image_job_processing_seconds_count{job=\"normalise\"}", 1.0),
        ("actor_restarts_total{actor=\"image_workers\"}", 0.0),
        ("build_info{version=\"0.1.0\"}", 1.0),
    ] {
        assert_eq!(sample(&text, series), Some(value), "{series} in\n{text}");
    }
    // Invalidations by two creates and one upload, lookups and stores of two lists.
    assert!(sample(&text, "actor_messages_handled_total{actor=\"cache\"}").unwrap() >= 6.0);
    assert!(sample(&text, "image_job_queue_wait_seconds_count").unwrap() >= 1.0);
    assert!(text.contains("http_request_duration_seconds_bucket{route=\"/employee/list\""));
}

#[actix_web::test]
async fn the_queue_depth_rises_under_slow_jobs_and_falls_back_to_zero() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.images.workers = 1;
        s.images.max_upload_bytes = 256 << 20;
    })
    .await;
    let account = app.master("fleet").await;
    let id = app
        .create_employee(&account, json!({"first_name": "A"}))
        .await;
    // Large PNGs keep the single worker busy long enough to see a queue.
    let slow = encoded(&photo(4000, 3000, 3), image::ImageFormat::Png);
    let uploads = futures::future::join_all((0..4).map(|_| {
        let form = upload_form(&account.hash, &id.to_string(), slow.clone(), "image/png");
        app.client
            .post(app.url("/employee/avatar/upload"))
            .multipart(form)
            .send()
    }));
    let watch = async {
        let deadline = Instant::now() + Duration::from_secs(60);
        let mut deepest = 0.0f64;
        while Instant::now() < deadline {
            let text = metrics_text(&app).await;
            let queued = sample(&text, "actor_mailbox_depth{actor=\"image_supervisor\"}").unwrap();
            deepest = deepest.max(queued);
            let handled = sample(
                &text,
                "actor_messages_handled_total{actor=\"image_workers\"}",
            );
            if handled.unwrap_or(0.0) >= 4.0 {
                break;
            }
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        deepest
    };
    let (responses, deepest) = futures::join!(uploads, watch);
    for response in responses {
        assert_eq!(response.unwrap().status(), StatusCode::OK);
    }
    assert!(
        deepest >= 1.0,
        "jobs waited for the busy worker (deepest {deepest})"
    );
    // The background thumbnails follow; then the pool is idle again.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let text = metrics_text(&app).await;
        let queued = sample(&text, "actor_mailbox_depth{actor=\"image_supervisor\"}");
        let running = sample(&text, "actor_mailbox_depth{actor=\"image_workers\"}");
        if (queued, running) == (Some(0.0), Some(0.0)) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "still {queued:?} queued, {running:?} running"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
}

#[actix_web::test]
async fn readiness_follows_redis() {
    let mut redis = TestRedis::not_started();
    redis.start().await;
    let url = redis.url();
    let app = spawn_app_with(Backend::Sqlite, |s| use_redis(s, &url)).await;
    let ready = || async { json_of(app.get("/ready").await).await };
    let health = app.get("/health").await;
    assert_eq!(health.status(), StatusCode::OK);
    let (status, body) = ready().await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(
        body,
        json!({"ready": true, "database": "up", "redis": "up"})
    );
    redis.stop();
    let (status, body) = ready().await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["redis"], json!("down"));
    assert_eq!(body["database"], json!("up"));
    assert_eq!(app.get("/health").await.status(), StatusCode::OK);
    redis.start().await;
    let deadline = Instant::now() + Duration::from_secs(15);
    while ready().await.0 != StatusCode::OK {
        assert!(Instant::now() < deadline, "/ready did not recover");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[actix_web::test]
async fn bursts_get_error_15_and_the_limit_recovers() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.limits.requests_per_second = 5;
        s.limits.burst = 5;
    })
    .await;
    let account = app.master("fleet").await;
    let burst = (0..30).map(|_| {
        app.client
            .get(app.url(&format!("/employee/list?hash={}", account.hash)))
            .send()
    });
    let mut limited = 0;
    for response in futures::future::join_all(burst).await {
        let response = response.unwrap();
        if response.status() == StatusCode::TOO_MANY_REQUESTS {
            assert!(response.headers().contains_key("retry-after"));
            let (_, body) = json_of(response).await;
            assert_eq!(error_code(&body), 15);
            limited += 1;
        }
    }
    assert!(limited >= 20, "only {limited} of 30 were limited");
    // Operators' endpoints are never limited.
    assert_eq!(app.get("/health").await.status(), StatusCode::OK);
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let response = app
        .get(&format!("/employee/list?hash={}", account.hash))
        .await;
    assert_eq!(response.status(), StatusCode::OK);
}

/// The real binary, serving on a free port, with its log captured.
struct ServerProcess {
    process: Child,
    port: u16,
    log: std::path::PathBuf,
    _dir: tempfile::TempDir,
    pub storage: std::path::PathBuf,
}

impl ServerProcess {
    async fn start(extra_env: &[(&str, &str)]) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let storage = dir.path().join("avatars");
        // A file, not a pipe: a verbose server must never block on a full pipe.
        let log = dir.path().join("server.log");
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let mut command = Command::new(BINARY);
        command
            .current_dir(dir.path())
            .env("APP__SERVER__BIND", format!("127.0.0.1:{port}"))
            .env("APP__DATABASE__URL", "sqlite://app.db?mode=rwc")
            .env("APP__STORAGE__DIR", &storage)
            .env("APP__DEMO__SEED", "true")
            .env("APP__LIMITS__REQUESTS_PER_SECOND", "100000")
            .env("APP__LIMITS__BURST", "100000")
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(&log).unwrap());
        for (key, value) in extra_env {
            command.env(key, value);
        }
        let process = command.spawn().unwrap();
        let server = Self {
            process,
            port,
            log,
            _dir: dir,
            storage,
        };
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        while client.get(server.url("/health")).send().await.is_err() {
            assert!(Instant::now() < deadline, "the server did not start");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        server
    }

    fn url(&self, path: &str) -> String {
        format!("http://127.0.0.1:{}{path}", self.port)
    }

    fn signal(&self, name: &str) {
        let sent = Command::new("kill")
            .args([format!("-{name}"), self.process.id().to_string()])
            .status()
            .unwrap();
        assert!(sent.success());
    }

    /// Waits for the process to end; its exit code and everything it logged.
    fn finish(&mut self) -> (Option<i32>, String) {
        let status = self.process.wait().unwrap();
        let log = std::fs::read_to_string(&self.log).unwrap_or_default();
        (status.code(), log)
    }

    /// Runs a command of the binary on the server's database.
    fn cli(&self, args: &[&str]) {
        let status = Command::new(BINARY)
            .args(args)
            .current_dir(self._dir.path())
            .env("APP__DATABASE__URL", "sqlite://app.db?mode=rwc")
            .env("APP__DEMO__SEED", "false")
            .stdout(Stdio::null())
            .status()
            .unwrap();
        assert!(status.success(), "{args:?}");
    }
}

async fn session(
    client: &reqwest::Client,
    server: &ServerProcess,
    login: &str,
    password: &str,
) -> String {
    let response = client
        .post(server.url("/user/auth"))
        .json(&json!({"login": login, "password": password}))
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!(status, StatusCode::OK, "{body}");
    body["hash"].as_str().unwrap().to_owned()
}

#[actix_web::test]
async fn sigterm_during_a_burst_of_uploads_exits_0_and_keeps_every_answered_file() {
    let server = ServerProcess::start(&[("APP__IMAGES__WORKERS", "1")]).await;
    let client = reqwest::Client::new();
    let hash = session(&client, &server, "demo", "demo").await;
    let uploads = (0..12u8).map(|n| {
        let form = upload_form(&hash, "1", photo_jpeg(1600, 1200, n), "image/jpeg");
        client
            .post(server.url("/employee/avatar/upload"))
            .multipart(form)
            .send()
    });
    let stop = async {
        tokio::time::sleep(Duration::from_millis(150)).await;
        server.signal("TERM");
    };
    let (responses, ()) = futures::join!(futures::future::join_all(uploads), stop);
    let mut answered = Vec::new();
    for response in responses.into_iter().flatten() {
        if let Ok((StatusCode::OK, body)) = async { Ok::<_, ()>(json_of(response).await) }.await {
            answered.push(body["value"].as_str().unwrap().to_owned());
        }
    }
    let mut server = server;
    let (code, log) = server.finish();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("SIGTERM"), "{log}");
    assert!(
        !answered.is_empty(),
        "some uploads finished before the stop"
    );
    for name in &answered {
        assert!(
            server.storage.join(name).is_file(),
            "{name} was answered but is not stored"
        );
    }
}

#[actix_web::test]
async fn sigint_stops_gracefully_too() {
    let mut server = ServerProcess::start(&[]).await;
    server.signal("INT");
    let (code, log) = server.finish();
    assert_eq!(code, Some(0), "{log}");
    assert!(log.contains("SIGINT"), "{log}");
}

#[actix_web::test]
async fn no_session_hash_and_no_password_reaches_the_log() {
    for format in ["pretty", "json"] {
        let mut server =
            ServerProcess::start(&[("RUST_LOG", "trace"), ("APP__LOG__FORMAT", format)]).await;
        server.cli(&[
            "user",
            "create",
            "--login",
            "driver-boss",
            "--password",
            "C0rrect-Secret-pw",
        ]);
        let client = reqwest::Client::new();
        client
            .post(server.url("/user/auth"))
            .form(&[("login", "demo"), ("password", "Wr0ng-Secret-pw")])
            .send()
            .await
            .unwrap();
        let hash = session(&client, &server, "driver-boss", "C0rrect-Secret-pw").await;
        let list = server.url(&format!("/employee/list?hash={hash}&filter=x"));
        client.get(&list).send().await.unwrap();
        client
            .get(server.url("/employee/read?employee_id=1"))
            .header("Authorization", format!("NVX {hash}"))
            .send()
            .await
            .unwrap();
        client
            .post(server.url("/employee/create"))
            .json(&json!({"hash": hash, "employee": {"first_name": "Logged"}}))
            .send()
            .await
            .unwrap();
        let form = upload_form(&hash, "1", photo_jpeg(64, 64, 1), "image/jpeg");
        client
            .post(server.url("/employee/avatar/upload"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        client
            .post(server.url("/user/logout"))
            .form(&[("hash", hash.as_str())])
            .send()
            .await
            .unwrap();
        server.signal("TERM");
        let (code, log) = server.finish();
        assert_eq!(code, Some(0));
        assert!(log.contains("answered"), "requests are logged ({format})");
        for secret in [hash.as_str(), "Wr0ng-Secret-pw", "C0rrect-Secret-pw"] {
            assert!(
                !log.contains(secret),
                "{secret:?} is in the {format} log:\n{log}"
            );
        }
    }
}

#[actix_web::test]
async fn gc_removes_exactly_the_unreferenced_files() {
    let app = spawn_app(Backend::Sqlite).await;
    let account = app.master("fleet").await;
    let keeper = app
        .create_employee(&account, json!({"first_name": "Keeper"}))
        .await;
    let changer = app
        .create_employee(&account, json!({"first_name": "Changer"}))
        .await;
    let leaver = app
        .create_employee(&account, json!({"first_name": "Leaver"}))
        .await;
    let sharer = app
        .create_employee(&account, json!({"first_name": "Sharer"}))
        .await;
    let upload = |id: i64, seed: u8| {
        let app = &app;
        let account = &account;
        async move {
            let (_, body) = app
                .upload(account, id, photo_jpeg(300, 200, seed), "image/jpeg")
                .await;
            let name = body["value"].as_str().unwrap().to_owned();
            for size in [32, 64, 128, 256] {
                let thumbnail = app
                    .get(&format!("/static/employee/avatars/{size}/{name}"))
                    .await;
                assert_eq!(thumbnail.status(), StatusCode::OK);
            }
            name
        }
    };
    let kept = upload(keeper, 1).await;
    let replaced = upload(changer, 2).await;
    let current = upload(changer, 3).await;
    let departed = upload(leaver, 4).await;
    let shared = upload(sharer, 5).await;
    assert_eq!(upload(leaver, 5).await, shared);
    app.call_as(&account, "/employee/delete", json!({"employee_id": leaver}))
        .await;
    let stray = format!("{}.png", "ab".repeat(32));
    std::fs::write(app.storage_dir.join(&stray), b"not ours").unwrap();

    let gc = |args: &[&str]| {
        let output = Command::new(BINARY)
            .arg("gc")
            .args(args)
            .env("APP__DATABASE__URL", &app.settings.database.url)
            .env("APP__STORAGE__DIR", &app.storage_dir)
            .env("APP__DEMO__SEED", "false")
            .output()
            .unwrap();
        assert!(
            output.status.success(),
            "{}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).into_owned()
    };
    let before = files_below(&app.storage_dir);
    assert!(
        gc(&[]).contains("removed 0 file(s)"),
        "the grace period protects new files"
    );
    let planned = gc(&["--dry-run", "--grace-hours", "0"]);
    assert_eq!(
        files_below(&app.storage_dir),
        before,
        "a dry run removes nothing"
    );
    let report = gc(&["--grace-hours", "0"]);
    assert_eq!(
        report.replace("would remove", "removed"),
        planned.replace("would remove", "removed")
    );
    assert!(report.contains("removed 11 file(s)"), "{report}");

    let mut expected = Vec::new();
    for name in [&kept, &current, &shared] {
        expected.push(name.clone());
        for size in [128, 256, 32, 64] {
            expected.push(format!("{size}/{name}"));
        }
    }
    expected.sort();
    assert_eq!(files_below(&app.storage_dir), expected);
    for gone in [&replaced, &departed, &stray] {
        assert!(report.contains(gone.as_str()), "{gone} in {report}");
    }
    // Removed files stay servable for employees that still show theirs.
    let list: Value = app.list(&account, json!({"sort": ["id"]})).await;
    for employee in list["list"].as_array().unwrap() {
        let name = employee["avatar_file_name"].as_str().unwrap();
        let served = app.get(&format!("/static/employee/avatars/{name}")).await;
        assert_eq!(served.status(), StatusCode::OK);
    }
}

#[actix_web::test]
async fn a_lost_database_is_error_14_and_not_ready() {
    let app = spawn_app(Backend::Postgres).await;
    let account = app.master("fleet").await;
    let name = app
        .settings
        .database
        .url
        .rsplit('/')
        .next()
        .unwrap()
        .to_owned();
    let admin = sea_orm::Database::connect(crate::helpers::postgres_admin_url())
        .await
        .unwrap();
    sea_orm::ConnectionTrait::execute_unprepared(
        &admin,
        &format!("DROP DATABASE {name} WITH (FORCE)"),
    )
    .await
    .unwrap();
    let (status, body) = app.call_as(&account, "/employee/list", json!({})).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::SERVICE_UNAVAILABLE, 14),
        "{body}"
    );
    let (status, body) = json_of(app.get("/ready").await).await;
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE);
    assert_eq!(body["database"], json!("down"));
}

#[actix_web::test]
async fn a_failing_query_is_error_1_as_json() {
    let app = spawn_app(Backend::Sqlite).await;
    let account = app.master("fleet").await;
    sea_orm::ConnectionTrait::execute_unprepared(&app.db, "DROP TABLE employees")
        .await
        .unwrap();
    let (status, body) = app.call_as(&account, "/employee/list", json!({})).await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::INTERNAL_SERVER_ERROR, 1),
        "{body}"
    );
    // Nothing of the database's own message reaches the client.
    assert_eq!(body["status"]["description"], json!("Database error"));
}
