//! The employee-list cache, against real Redis servers (and the in-process fallback).

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    spawn_app, spawn_app_with, test_redis_url, use_redis, Account, Backend, TestApp,
};
use crate::images::photo_jpeg;

/// A Redis server of the test's own, on a free port, that the test may stop and start again.
pub struct TestRedis {
    port: u16,
    process: Option<Child>,
}

impl TestRedis {
    fn free_port() -> u16 {
        std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port()
    }

    pub fn url(&self) -> String {
        format!("redis://127.0.0.1:{}", self.port)
    }

    /// A port where no Redis runs yet.
    pub fn not_started() -> Self {
        Self {
            port: Self::free_port(),
            process: None,
        }
    }

    pub async fn start(&mut self) {
        let process = Command::new("redis-server")
            .args(["--port", &self.port.to_string(), "--bind", "127.0.0.1"])
            .args(["--save", "", "--appendonly", "no"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("redis-server is installed");
        self.process = Some(process);
        let deadline = Instant::now() + Duration::from_secs(10);
        while self.cli(&["PING"]) != "PONG" {
            assert!(Instant::now() < deadline, "redis-server did not start");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    pub fn stop(&mut self) {
        if let Some(mut process) = self.process.take() {
            process.kill().ok();
            process.wait().ok();
        }
    }

    fn cli(&self, args: &[&str]) -> String {
        Command::new("redis-cli")
            .args(["-p", &self.port.to_string()])
            .args(args)
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
            .unwrap_or_default()
    }
}

impl Drop for TestRedis {
    fn drop(&mut self) {
        self.stop();
    }
}

fn hits(app: &TestApp) -> u64 {
    app.metrics.cache_hits.get()
}

fn misses(app: &TestApp) -> u64 {
    app.metrics.cache_misses.get()
}

fn fallbacks(app: &TestApp) -> u64 {
    app.metrics.cache_fallbacks.get()
}

fn last_names(list: &Value) -> Vec<String> {
    list["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["last_name"].as_str().unwrap().to_owned())
        .collect()
}

async fn hit_miss_and_every_kind_of_write(app: &TestApp) {
    let account = app.master("fleet").await;
    let id = app
        .create_employee(&account, json!({"first_name": "Ann", "last_name": "One"}))
        .await;
    let first = app.list(&account, json!({"sort": ["id"]})).await;
    assert_eq!((hits(app), misses(app)), (0, 1));
    let second = app.list(&account, json!({"sort": ["id"]})).await;
    assert_eq!((hits(app), misses(app)), (1, 1));
    assert_eq!(first, second, "a hit answers the stored page");
    // The same query written another way is the same page.
    app.list(&account, json!({"sort": "id=asc"})).await;
    assert_eq!((hits(app), misses(app)), (2, 1));
    // Another account's list is its own.
    let other = app.master("other").await;
    assert_eq!(
        app.list(&other, json!({"sort": ["id"]})).await["count"],
        json!(0)
    );
    assert_eq!(misses(app), 2);

    let writes: Vec<(&str, Value)> = vec![
        (
            "/employee/create",
            json!({"employee": {"first_name": "Bo", "last_name": "Two"}}),
        ),
        (
            "/employee/update",
            json!({"employee": {"id": id, "last_name": "Changed"}}),
        ),
        (
            "/employee/avatar/assign",
            json!({"employee_id": id, "icon_id": 7}),
        ),
    ];
    for (path, params) in writes {
        let (status, body) = app.call_as(&account, path, params).await;
        assert_eq!(status, StatusCode::OK, "{path}: {body}");
        let misses_before = misses(app);
        app.list(&account, json!({"sort": ["id"]})).await;
        assert_eq!(
            misses(app),
            misses_before + 1,
            "{path} invalidated the list"
        );
    }
    let list = app.list(&account, json!({"sort": ["id"]})).await;
    assert_eq!(last_names(&list), ["Changed", "Two"]);
    assert_eq!(list["list"][0]["icon_id"], json!(7));

    let (status, body) = app
        .upload(&account, id, photo_jpeg(120, 90, 1), "image/jpeg")
        .await;
    assert_eq!(status, StatusCode::OK);
    let list = app.list(&account, json!({"sort": ["id"]})).await;
    assert_eq!(list["list"][0]["avatar_file_name"], body["value"]);

    let second_id = list["list"][1]["id"].clone();
    app.call_as(
        &account,
        "/employee/delete",
        json!({"employee_id": second_id}),
    )
    .await;
    let list = app.list(&account, json!({"sort": ["id"]})).await;
    assert_eq!(list["count"], json!(1));
}

#[actix_web::test]
async fn redis_hits_misses_and_invalidation_by_every_write() {
    let app = spawn_app_with(Backend::Sqlite, |s| use_redis(s, &test_redis_url())).await;
    hit_miss_and_every_kind_of_write(&app).await;
    assert_eq!(fallbacks(&app), 0);
}

#[actix_web::test]
async fn the_in_process_cache_behaves_the_same() {
    let app = spawn_app(Backend::Sqlite).await;
    hit_miss_and_every_kind_of_write(&app).await;
}

#[actix_web::test]
async fn a_disabled_cache_reads_the_database_every_time() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.cache.enabled = false).await;
    let account = app.master("fleet").await;
    app.list(&account, json!({})).await;
    app.list(&account, json!({})).await;
    assert_eq!((hits(&app), misses(&app), fallbacks(&app)), (0, 0, 0));
}

/// Writers each own an employee; after every answered update the writer's next list must show
/// it, while readers keep the cache full of pages computed around the writes. On PostgreSQL,
/// whose reads run truly in parallel, an invalidation that merely deleted the account's pages
/// fails this within the first few writes.
async fn no_stale_list_after_an_answered_write(app: &TestApp) {
    let account = app.master("fleet").await;
    let mut ids = Vec::new();
    for writer in 0..3 {
        let name = format!("writer{writer}");
        ids.push(
            app.create_employee(&account, json!({"first_name": name}))
                .await,
        );
    }
    let deadline = Instant::now() + Duration::from_secs(4);
    let reader = |account: Account| async move {
        let mut reads = 0;
        while Instant::now() < deadline && reads < 5_000 {
            app.list(&account, json!({"sort": ["id"]})).await;
            reads += 1;
        }
    };
    let writer = |account: Account, id: i64| async move {
        let mut version = 0;
        while Instant::now() < deadline && version < 2_000 {
            version += 1;
            let last_name = format!("v{version}");
            let (status, _) = app
                .call_as(
                    &account,
                    "/employee/update",
                    json!({"employee": {"id": id, "last_name": last_name}}),
                )
                .await;
            assert_eq!(status, StatusCode::OK);
            let list = app.list(&account, json!({"sort": ["id"]})).await;
            let mine = list["list"]
                .as_array()
                .unwrap()
                .iter()
                .find(|e| e["id"] == json!(id))
                .unwrap()
                .clone();
            assert_eq!(
                mine["last_name"],
                json!(last_name),
                "stale list after write {version}"
            );
        }
        version
    };
    let readers = futures::future::join_all((0..6).map(|_| reader(account.clone())));
    let writers = futures::future::join_all(ids.iter().map(|id| writer(account.clone(), *id)));
    let (_, versions) = futures::join!(readers, writers);
    assert!(versions.iter().all(|v| *v > 10), "{versions:?}");
    assert!(hits(app) > 0, "the readers were served from the cache");
}

#[actix_web::test]
async fn redis_never_serves_a_list_older_than_an_answered_write() {
    let app = spawn_app_with(Backend::Postgres, |s| use_redis(s, &test_redis_url())).await;
    no_stale_list_after_an_answered_write(&app).await;
}

#[actix_web::test]
async fn the_in_process_cache_never_serves_a_stale_list() {
    let app = spawn_app(Backend::Postgres).await;
    no_stale_list_after_an_answered_write(&app).await;
}

/// Lists until one is served from the cache again, within a bound.
async fn until_cache_hit(app: &TestApp, account: &Account) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let before = hits(app);
        let list = app.list(account, json!({})).await;
        if hits(app) > before {
            return list;
        }
        assert!(Instant::now() < deadline, "the cache was not used again");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[actix_web::test]
async fn lists_stay_correct_while_redis_is_down_and_the_cache_returns() {
    let mut redis = TestRedis::not_started();
    let url = redis.url();
    let app = spawn_app_with(Backend::Sqlite, |s| {
        use_redis(s, &url);
        s.redis.retry_interval_ms = 200;
    })
    .await;
    let account = app.master("fleet").await;
    // Unreachable at start: lists come from the database.
    app.create_employee(&account, json!({"first_name": "A", "last_name": "a"}))
        .await;
    assert_eq!(app.list(&account, json!({})).await["count"], json!(1));
    assert!(fallbacks(&app) >= 1);

    redis.start().await;
    until_cache_hit(&app, &account).await;

    // Lost mid-test: every list stays right and quick enough to answer.
    redis.stop();
    for n in 2..6 {
        app.create_employee(
            &account,
            json!({"first_name": "B", "last_name": format!("b{n}")}),
        )
        .await;
        assert_eq!(app.list(&account, json!({})).await["count"], json!(n));
    }
    let fallbacks_during_outage = fallbacks(&app);
    assert!(fallbacks_during_outage >= 2);

    redis.start().await;
    let list = until_cache_hit(&app, &account).await;
    assert_eq!(list["count"], json!(5));
}

#[actix_web::test]
async fn writes_missed_during_an_outage_are_replayed_before_the_cache_is_trusted() {
    let mut redis = TestRedis::not_started();
    redis.start().await;
    let url = redis.url();
    let app = spawn_app_with(Backend::Sqlite, |s| {
        use_redis(s, &url);
        s.redis.retry_interval_ms = 200;
        s.redis.command_timeout_ms = 100;
    })
    .await;
    let account = app.master("fleet").await;
    app.create_employee(&account, json!({"first_name": "A", "last_name": "before"}))
        .await;
    app.list(&account, json!({})).await;
    until_cache_hit(&app, &account).await;
    // Redis keeps its pages but stops answering: the write's invalidation cannot reach it.
    redis.cli(&["CLIENT", "PAUSE", "1500", "ALL"]);
    let (status, _) = app
        .call_as(
            &account,
            "/employee/create",
            json!({"employee": {"first_name": "B", "last_name": "during"}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(app.list(&account, json!({})).await["count"], json!(2));
    tokio::time::sleep(Duration::from_millis(1600)).await;
    // Redis answers again with the old page still stored; it must not be served.
    let list = until_cache_hit(&app, &account).await;
    assert_eq!(list["count"], json!(2));
}

#[actix_web::test]
async fn two_servers_share_one_redis_and_one_database() {
    let a = spawn_app_with(Backend::Postgres, |s| use_redis(s, &test_redis_url())).await;
    let b = a.sibling().await;
    let account = a.master("fleet").await;
    a.create_employee(&account, json!({"first_name": "Ann"}))
        .await;
    a.list(&account, json!({})).await;
    let from_b = b.list(&account, json!({})).await;
    assert_eq!(hits(&b), 1, "B is served the page A stored");
    assert_eq!(from_b["count"], json!(1));
    for n in 2..5 {
        a.create_employee(&account, json!({"first_name": format!("E{n}")}))
            .await;
        assert_eq!(b.list(&account, json!({})).await["count"], json!(n));
        b.create_employee(&account, json!({"first_name": format!("F{n}")}))
            .await;
        assert_eq!(a.list(&account, json!({})).await["count"], json!(n + 1));
        let id = b.list(&account, json!({"sort": ["id=desc"]})).await["list"][0]["id"].clone();
        a.call_as(&account, "/employee/delete", json!({"employee_id": id}))
            .await;
        assert_eq!(b.list(&account, json!({})).await["count"], json!(n));
    }
}
