//! The command line, run as the operator runs it: the real binary with environment settings.

use std::process::{Command, Output, Stdio};
use std::time::{Duration, Instant};

use reqwest::StatusCode;
use serde_json::json;

use crate::helpers::{json_of, spawn_app_with, Backend};

const BINARY: &str = env!("CARGO_BIN_EXE_employee-avatars");

struct Cli {
    dir: tempfile::TempDir,
}

impl Cli {
    fn new() -> Self {
        Self {
            dir: tempfile::tempdir().unwrap(),
        }
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BINARY);
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("APP_CONFIG")
            .env("APP__DATABASE__URL", "sqlite://cli.db?mode=rwc")
            .env("APP__STORAGE__DIR", "avatars")
            .env("APP__DEMO__SEED", "false")
            .stdin(Stdio::null());
        command
    }

    fn run(&self, args: &[&str]) -> Output {
        self.command(args).output().expect("the binary runs")
    }
}

fn stdout(output: &Output) -> String {
    String::from_utf8_lossy(&output.stdout).into_owned()
}

fn stderr(output: &Output) -> String {
    String::from_utf8_lossy(&output.stderr).into_owned()
}

#[test]
fn users_and_subusers_are_created_and_listed() {
    let cli = Cli::new();
    let migrated = cli.run(&["migrate"]);
    assert!(migrated.status.success(), "{}", stderr(&migrated));
    let created = cli.run(&["user", "create", "--login", "boss", "--password", "pw"]);
    assert!(created.status.success(), "{}", stderr(&created));
    let sub = cli.run(&[
        "subuser",
        "create",
        "--master",
        "boss",
        "--login",
        "clerk",
        "--password",
        "pw2",
        "--rights",
        "employee_update",
    ]);
    assert!(sub.status.success(), "{}", stderr(&sub));
    let listed = cli.run(&["user", "list"]);
    assert!(listed.status.success());
    let listing = stdout(&listed);
    assert!(listing.contains("boss\tmaster"), "{listing}");
    assert!(
        listing.contains("clerk\tsubuser of 1, rights [employee_update]"),
        "{listing}"
    );
    assert!(
        !listing.contains("pw"),
        "no passwords or hashes are shown: {listing}"
    );

    let again = cli.run(&["user", "create", "--login", "boss", "--password", "x"]);
    assert!(!again.status.success());
    assert!(stderr(&again).contains("taken"), "{}", stderr(&again));
    let orphan = cli.run(&[
        "subuser",
        "create",
        "--master",
        "nobody",
        "--login",
        "x",
        "--password",
        "y",
    ]);
    assert!(!orphan.status.success());
}

#[test]
fn wrong_arguments_print_usage_and_fail() {
    let cli = Cli::new();
    for args in [
        vec!["frobnicate"],
        vec!["user", "create", "--login", "only"],
        vec![
            "subuser",
            "create",
            "--master",
            "m",
            "--login",
            "l",
            "--password",
            "p",
            "--rights",
            "fly",
        ],
    ] {
        let output = cli.run(&args);
        assert!(!output.status.success(), "{args:?}");
        let message = stderr(&output);
        assert!(
            message.contains("Usage") || message.contains("--help"),
            "{args:?}: {message}"
        );
    }
}

#[test]
fn an_invalid_setting_stops_with_one_line_naming_its_key() {
    let cli = Cli::new();
    for (variable, value, key) in [
        ("APP__SERVER__BIND", "not-an-address", "server.bind"),
        ("APP__SERVER__MAX_BODY_BYTES", "lots", "max_body_bytes"),
        ("APP__DATABASE__URL", "mysql://x", "database.url"),
        ("APP__LOG__FORMAT", "xml", "log.format"),
    ] {
        let output = cli
            .command(&["migrate"])
            .env(variable, value)
            .output()
            .unwrap();
        assert!(!output.status.success(), "{variable}");
        let message = stderr(&output);
        assert_eq!(message.trim().lines().count(), 1, "{variable}: {message}");
        assert!(message.contains(key), "{variable}: {message}");
    }
}

#[test]
fn serve_is_the_default_and_seeds_the_demo_account() {
    let cli = Cli::new();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut server = cli
        .command(&[])
        .env("APP__SERVER__BIND", format!("127.0.0.1:{port}"))
        .env("APP__DEMO__SEED", "true")
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let answer = runtime.block_on(async {
        let client = reqwest::Client::new();
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            let sent = client
                .post(format!("http://127.0.0.1:{port}/user/auth"))
                .json(&json!({"login": "demo", "password": "demo"}))
                .send()
                .await;
            match sent {
                Ok(response) => break Some(json_of(response).await),
                Err(_) if Instant::now() < deadline => {
                    tokio::time::sleep(Duration::from_millis(100)).await
                }
                Err(_) => break None,
            }
        }
    });
    server.kill().unwrap();
    let output = server.wait_with_output().unwrap();
    let (status, body) = answer.expect("the server answered");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(stderr(&output).contains("demo"), "{}", stderr(&output));
}

#[actix_web::test]
async fn the_demo_account_has_employees() {
    let app = spawn_app_with(Backend::Sqlite, |s| s.demo.seed = true).await;
    let hash = app.login("demo", "demo").await;
    let (status, body) = app.call("/employee/list", json!({"hash": hash})).await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(body["count"], json!(5));
}

#[test]
fn normalize_writes_what_the_store_would_and_reports_each_file() {
    let cli = Cli::new();
    let folder = cli.dir.path();
    std::fs::write(
        folder.join("good.jpg"),
        crate::images::photo_jpeg(1500, 1000, 1),
    )
    .unwrap();
    std::fs::write(
        folder.join("alpha.png"),
        crate::images::png_with_alpha(80, 60),
    )
    .unwrap();
    std::fs::write(folder.join("page.jpg"), b"<html></html>").unwrap();
    std::fs::write(folder.join("empty.jpg"), b"").unwrap();
    let output = cli.run(&[
        "normalize",
        "--out",
        "out",
        "good.jpg",
        "alpha.png",
        "page.jpg",
        "empty.jpg",
    ]);
    assert!(
        !output.status.success(),
        "a refused file makes the exit non-zero"
    );
    let lines: Vec<String> = stdout(&output).lines().map(str::to_owned).collect();
    assert_eq!(lines.len(), 4, "{lines:?}");
    let name_of = |file: &str| {
        let line = lines.iter().find(|l| l.starts_with(file)).unwrap();
        line.split('\t').nth(1).unwrap().to_owned()
    };
    let good = name_of("good.jpg");
    let alpha = name_of("alpha.png");
    assert!(
        good.ends_with(".jpg") && alpha.ends_with(".png"),
        "{lines:?}"
    );
    assert!(name_of("page.jpg").starts_with("error 234"), "{lines:?}");
    assert!(name_of("empty.jpg").starts_with("error 274"), "{lines:?}");
    let out = folder.join("out");
    let stored = image::open(out.join(&good)).unwrap();
    assert_eq!((stored.width(), stored.height()), (1024, 683));
    for name in [&good, &alpha] {
        for size in [32u32, 64, 128, 256] {
            let thumbnail = image::open(out.join(size.to_string()).join(name)).unwrap();
            assert_eq!((thumbnail.width(), thumbnail.height()), (size, size));
        }
    }
    assert_eq!(crate::helpers::files_below(&out).len(), 10);
}
