//! One `TestApp` owns a real server on a random port, its own database (a SQLite file or a
//! fresh PostgreSQL database) and its temporary folders.

use std::path::{Path, PathBuf};
use std::sync::Arc;

use employee_avatars::config::{LogFormat, Settings};
use employee_avatars::domain::user::{Login, Password, Rights};
use employee_avatars::metrics::Metrics;
use employee_avatars::repo::users;
use employee_avatars::startup::Application;
use reqwest::multipart::{Form, Part};
use reqwest::{Response, StatusCode};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection};
use serde_json::{json, Value};
use tempfile::TempDir;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

/// Runs an `async fn(Backend)` test once on SQLite and once on PostgreSQL.
#[macro_export]
macro_rules! on_both_databases {
    ($($name:ident),* $(,)?) => {$(
        mod $name {
            #[actix_web::test]
            async fn sqlite() {
                super::$name($crate::helpers::Backend::Sqlite).await
            }
            #[actix_web::test]
            async fn postgres() {
                super::$name($crate::helpers::Backend::Postgres).await
            }
        }
    )*};
}

pub fn postgres_admin_url() -> String {
    std::env::var("TEST_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/test".to_owned())
}

/// A database of its own for one test; a PostgreSQL one is dropped with it.
pub struct TestDatabase {
    pub url: String,
    postgres_name: Option<String>,
    _dir: TempDir,
}

impl TestDatabase {
    pub async fn new(backend: Backend) -> Self {
        let dir = tempfile::tempdir().expect("temp dir");
        match backend {
            Backend::Sqlite => Self {
                url: format!("sqlite://{}?mode=rwc", dir.path().join("test.db").display()),
                postgres_name: None,
                _dir: dir,
            },
            Backend::Postgres => {
                let admin_url = postgres_admin_url();
                let name = format!("ea_test_{}", uuid::Uuid::new_v4().simple());
                let admin = Database::connect(&admin_url)
                    .await
                    .expect("PostgreSQL answers at TEST_DATABASE_URL");
                admin
                    .execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .expect("create test database");
                admin.close().await.ok();
                let (server, _) = admin_url
                    .rsplit_once('/')
                    .expect("TEST_DATABASE_URL names a database");
                Self {
                    url: format!("{server}/{name}"),
                    postgres_name: Some(name),
                    _dir: dir,
                }
            }
        }
    }
}

impl Drop for TestDatabase {
    fn drop(&mut self) {
        let Some(name) = self.postgres_name.take() else {
            return;
        };
        let dropped = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("runtime");
            runtime.block_on(async {
                if let Ok(admin) = Database::connect(&postgres_admin_url()).await {
                    let _ = admin
                        .execute_unprepared(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                        .await;
                    admin.close().await.ok();
                }
            })
        });
        let _ = dropped.join();
    }
}

pub struct TestApp {
    pub address: String,
    pub port: u16,
    pub client: reqwest::Client,
    pub db: DatabaseConnection,
    pub storage_dir: PathBuf,
    pub settings: Settings,
    pub metrics: Arc<Metrics>,
    /// The database and storage folder, shared with sibling servers.
    _owned: Arc<(TestDatabase, TempDir)>,
}

/// Settings of a test server: random port, its own database and storage, no demo data.
pub fn test_settings(database_url: &str, storage_dir: &Path) -> Settings {
    let mut settings = Settings::defaults();
    settings.server.bind = "127.0.0.1:0".into();
    settings.database.url = database_url.into();
    settings.database.max_connections = 8;
    settings.storage.dir = storage_dir.to_path_buf();
    settings.demo.seed = false;
    // Tests make bursts from one address; the rate-limit test sets its own limits.
    settings.limits.requests_per_second = 1_000_000;
    settings.limits.burst = 1_000_000;
    settings
}

pub fn test_redis_url() -> String {
    std::env::var("TEST_REDIS_URL").unwrap_or_else(|_| "redis://127.0.0.1:6379".to_owned())
}

/// Points the list cache at a Redis, under a key prefix no other test uses.
pub fn use_redis(settings: &mut Settings, url: &str) {
    settings.redis.url = url.to_owned();
    settings.cache.key_prefix = format!("ea-test-{}", uuid::Uuid::new_v4().simple());
}

pub async fn spawn_app(backend: Backend) -> TestApp {
    spawn_app_with(backend, |_| {}).await
}

pub async fn spawn_app_with(backend: Backend, adjust: impl FnOnce(&mut Settings)) -> TestApp {
    if std::env::var_os("TEST_LOG").is_some() {
        employee_avatars::telemetry::init(LogFormat::Pretty);
    }
    let database = TestDatabase::new(backend).await;
    let storage = tempfile::tempdir().expect("temp dir");
    let mut settings = test_settings(&database.url, storage.path());
    adjust(&mut settings);
    start(settings, Arc::new((database, storage))).await
}

async fn start(settings: Settings, owned: Arc<(TestDatabase, TempDir)>) -> TestApp {
    let app = Application::build(settings.clone())
        .await
        .expect("the app starts");
    let port = app.port();
    let metrics = app.metrics();
    actix_web::rt::spawn(app.run_until_stopped(false));
    let db = Database::connect(&owned.0.url)
        .await
        .expect("test connection");
    TestApp {
        address: format!("http://127.0.0.1:{port}{}", settings.server.api_prefix),
        port,
        client: reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap(),
        db,
        storage_dir: settings.storage.dir.clone(),
        settings,
        metrics,
        _owned: owned,
    }
}

impl TestApp {
    /// A second server on the same database, storage and Redis, as another instance would be.
    pub async fn sibling(&self) -> TestApp {
        start(self.settings.clone(), self._owned.clone()).await
    }
}

/// A logged-in account: its session hash.
#[derive(Debug, Clone)]
pub struct Account {
    pub hash: String,
}

/// The status and JSON body of an answer, checking that it is JSON.
pub async fn json_of(response: Response) -> (StatusCode, Value) {
    let status = response.status();
    let content_type = response
        .headers()
        .get("content-type")
        .map(|v| v.to_str().unwrap().to_owned())
        .unwrap_or_default();
    assert!(
        content_type.starts_with("application/json"),
        "answer is {content_type:?}, not JSON"
    );
    (status, response.json().await.expect("a JSON body"))
}

/// The Navixy error code of an answer, asserting the envelope's shape.
pub fn error_code(body: &Value) -> i64 {
    assert_eq!(body["success"], json!(false), "{body}");
    assert!(body["status"]["description"].is_string(), "{body}");
    body["status"]["code"].as_i64().expect("status.code")
}

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("{}{path}", self.address)
    }

    /// POSTs `body` as JSON.
    pub async fn call(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url(path))
            .json(&body)
            .send()
            .await
            .expect("request");
        json_of(response).await
    }

    /// POSTs `body` as JSON in the session of `account`.
    pub async fn call_as(&self, account: &Account, path: &str, body: Value) -> (StatusCode, Value) {
        let mut body = body;
        body["hash"] = json!(account.hash);
        self.call(path, body).await
    }

    pub async fn new_master(&self, login: &str, password: &str) -> i64 {
        users::create_master(
            &self.db,
            &Login::parse(login).unwrap(),
            Password::parse(password).unwrap(),
        )
        .await
        .expect("create master")
    }

    pub async fn new_subuser(
        &self,
        master: &str,
        login: &str,
        password: &str,
        rights: &str,
    ) -> i64 {
        users::create_subuser(
            &self.db,
            &Login::parse(master).unwrap(),
            &Login::parse(login).unwrap(),
            Password::parse(password).unwrap(),
            &rights.parse::<Rights>().unwrap(),
        )
        .await
        .expect("create subuser")
    }

    pub async fn login(&self, login: &str, password: &str) -> String {
        let (status, body) = self
            .call("/user/auth", json!({"login": login, "password": password}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["hash"].as_str().expect("hash").to_owned()
    }

    /// A new master account, logged in.
    pub async fn master(&self, login: &str) -> Account {
        self.new_master(login, "secret-pw").await;
        Account {
            hash: self.login(login, "secret-pw").await,
        }
    }

    /// A new sub-user of `master` with `rights`, logged in.
    pub async fn subuser(&self, master: &str, login: &str, rights: &str) -> Account {
        self.new_subuser(master, login, "secret-pw", rights).await;
        Account {
            hash: self.login(login, "secret-pw").await,
        }
    }

    /// Creates an employee and returns its id.
    pub async fn create_employee(&self, account: &Account, employee: Value) -> i64 {
        let (status, body) = self
            .call_as(account, "/employee/create", json!({"employee": employee}))
            .await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body["id"].as_i64().expect("id")
    }

    pub async fn read_employee(&self, account: &Account, id: i64) -> (StatusCode, Value) {
        self.call_as(account, "/employee/read", json!({"employee_id": id}))
            .await
    }

    pub async fn list(&self, account: &Account, params: Value) -> Value {
        let (status, body) = self.call_as(account, "/employee/list", params).await;
        assert_eq!(status, StatusCode::OK, "{body}");
        body
    }
}

/// Every file below `dir`, relative to it, sorted.
pub fn files_below(dir: &Path) -> Vec<String> {
    fn walk(root: &Path, dir: &Path, found: &mut Vec<String>) {
        let Ok(entries) = std::fs::read_dir(dir) else {
            return;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                walk(root, &path, found);
            } else {
                found.push(path.strip_prefix(root).unwrap().display().to_string());
            }
        }
    }
    let mut found = Vec::new();
    walk(dir, dir, &mut found);
    found.sort();
    found
}

/// The folder of the shared test images (`TESTDATA_DIR` overrides it).
pub fn testdata_dir() -> PathBuf {
    std::env::var_os("TESTDATA_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../shared/testdata"))
}

/// A multipart upload form: `hash`, `employee_id` and a `file` part.
pub fn upload_form(hash: &str, employee_id: &str, bytes: Vec<u8>, mime: &str) -> Form {
    Form::new()
        .text("hash", hash.to_owned())
        .text("employee_id", employee_id.to_owned())
        .part(
            "file",
            Part::bytes(bytes)
                .file_name("photo.bin")
                .mime_str(mime)
                .unwrap(),
        )
}

impl TestApp {
    pub async fn upload_form(&self, form: Form) -> (StatusCode, Value) {
        let response = self
            .client
            .post(self.url("/employee/avatar/upload"))
            .multipart(form)
            .send()
            .await
            .expect("upload request");
        json_of(response).await
    }

    /// Uploads `bytes` declared as `mime` for the employee.
    pub async fn upload(
        &self,
        account: &Account,
        employee_id: i64,
        bytes: Vec<u8>,
        mime: &str,
    ) -> (StatusCode, Value) {
        let form = upload_form(&account.hash, &employee_id.to_string(), bytes, mime);
        self.upload_form(form).await
    }

    pub async fn get(&self, path: &str) -> Response {
        self.client.get(self.url(path)).send().await.expect("GET")
    }
}
