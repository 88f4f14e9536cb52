//! API.md section 5: assign, upload, and the static files.

use image::ImageFormat;
use reqwest::multipart::Form;
use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{
    error_code, files_below, json_of, spawn_app, spawn_app_with, testdata_dir, upload_form,
    Account, Backend, TestApp,
};
use crate::images::{
    encoded, gif_claiming_huge_screen, mean_difference, photo, photo_jpeg, png_claiming,
    png_with_alpha, random_bytes,
};
use crate::on_both_databases;

on_both_databases!(
    an_upload_is_listed_and_served_with_its_thumbnails,
    the_same_image_twice_is_one_name_and_one_file,
    bad_uploads_get_their_error_and_change_nothing,
    assign_sets_and_clears_the_icon_and_keeps_the_upload,
);

fn name_of(body: &Value) -> String {
    assert_eq!(body["success"], json!(true), "{body}");
    body["value"].as_str().expect("value").to_owned()
}

fn assert_service_name(name: &str, extension: &str) {
    let (hash, ext) = name.split_once('.').unwrap();
    assert_eq!(ext, extension, "{name}");
    assert_eq!(hash.len(), 64, "{name}");
    assert!(hash.bytes().all(|b| b.is_ascii_hexdigit()), "{name}");
}

async fn new_employee(app: &TestApp, account: &Account) -> i64 {
    app.create_employee(account, json!({"first_name": "Driver"}))
        .await
}

async fn served_image(app: &TestApp, path: &str) -> (reqwest::header::HeaderMap, Vec<u8>) {
    let response = app.get(path).await;
    assert_eq!(response.status(), StatusCode::OK, "{path}");
    let headers = response.headers().clone();
    (headers, response.bytes().await.unwrap().to_vec())
}

async fn an_upload_is_listed_and_served_with_its_thumbnails(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    let (status, body) = app
        .upload(&account, id, photo_jpeg(1600, 1200, 1), "image/jpeg")
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let name = name_of(&body);
    assert_service_name(&name, "jpg");

    let list = app.list(&account, json!({})).await;
    assert_eq!(list["list"][0]["avatar_file_name"], json!(name));
    let (_, read) = app.read_employee(&account, id).await;
    assert_eq!(read["value"]["avatar_file_name"], json!(name));

    let (headers, bytes) = served_image(&app, &format!("/static/employee/avatars/{name}")).await;
    assert_eq!(headers["content-type"], "image/jpeg");
    assert_eq!(headers["x-content-type-options"], "nosniff");
    assert_eq!(
        headers["cache-control"],
        "public, max-age=31536000, immutable"
    );
    let etag = headers["etag"].to_str().unwrap().to_owned();
    assert!(etag.starts_with('"') && !etag.starts_with("W/"), "{etag}");
    let stored = image::load_from_memory(&bytes).unwrap();
    assert_eq!((stored.width(), stored.height()), (1024, 768));

    let revalidated = app
        .client
        .get(app.url(&format!("/static/employee/avatars/{name}")))
        .header("If-None-Match", &etag)
        .send()
        .await
        .unwrap();
    assert_eq!(revalidated.status(), StatusCode::NOT_MODIFIED);
    assert_eq!(revalidated.headers()["etag"], etag.as_str());

    let mut thumbnail_tags = Vec::new();
    for size in [32u32, 64, 128, 256] {
        let path = format!("/static/employee/avatars/{size}/{name}");
        let (headers, bytes) = served_image(&app, &path).await;
        assert_eq!(headers["content-type"], "image/jpeg");
        assert_eq!(headers["x-content-type-options"], "nosniff");
        assert_eq!(
            headers["cache-control"],
            "public, max-age=31536000, immutable"
        );
        thumbnail_tags.push(headers["etag"].to_str().unwrap().to_owned());
        let thumbnail = image::load_from_memory(&bytes).unwrap();
        assert_eq!((thumbnail.width(), thumbnail.height()), (size, size));
    }
    thumbnail_tags.push(etag);
    thumbnail_tags.sort();
    thumbnail_tags.dedup();
    assert_eq!(thumbnail_tags.len(), 5, "every file has its own ETag");

    for missing in [
        format!("/static/employee/avatars/100/{name}"),
        format!("/static/employee/avatars/{}", name.replace(".jpg", ".png")),
        "/static/employee/avatars/..%2F..%2Fetc%2Fpasswd".to_owned(),
        "/static/employee/avatars/photo.jpg".to_owned(),
        format!("/static/employee/avatars/{}.jpg", "0".repeat(64)),
    ] {
        assert_eq!(
            app.get(&missing).await.status(),
            StatusCode::NOT_FOUND,
            "{missing}"
        );
    }
}

async fn the_same_image_twice_is_one_name_and_one_file(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let first = new_employee(&app, &account).await;
    let second = new_employee(&app, &account).await;
    let photo = photo_jpeg(800, 600, 2);
    let (_, a) = app
        .upload(&account, first, photo.clone(), "image/jpeg")
        .await;
    let (_, b) = app.upload(&account, second, photo, "image/pjpeg").await;
    let name = name_of(&a);
    assert_eq!(name, name_of(&b));
    let avatars: Vec<String> = files_below(&app.storage_dir)
        .into_iter()
        .filter(|f| !f.contains('/'))
        .collect();
    assert_eq!(avatars, [name]);
}

/// Every refused upload: its error, and afterwards no new file and the employee unchanged.
async fn bad_uploads_get_their_error_and_change_nothing(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    let (_, before) = app.read_employee(&account, id).await;
    let files_before = files_below(&app.storage_dir);
    let hash = account.hash.clone();
    let employee = id.to_string();

    let jpeg = photo_jpeg(400, 300, 3);
    let html = b"<!DOCTYPE html><html><body><script>alert(1)</script></body></html>".to_vec();
    let svg = br#"<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>"#.to_vec();
    let cases: Vec<(&str, Form, i64)> = vec![
        (
            "no file part",
            Form::new()
                .text("hash", hash.clone())
                .text("employee_id", employee.clone()),
            233,
        ),
        (
            "empty file",
            upload_form(&hash, &employee, Vec::new(), "image/jpeg"),
            274,
        ),
        (
            "declared html",
            upload_form(&hash, &employee, jpeg.clone(), "text/html"),
            234,
        ),
        (
            "declared svg",
            upload_form(&hash, &employee, svg.clone(), "image/svg+xml"),
            234,
        ),
        (
            "html as png",
            upload_form(&hash, &employee, html, "image/png"),
            234,
        ),
        (
            "svg as png",
            upload_form(&hash, &employee, svg, "image/png"),
            234,
        ),
        (
            "truncated jpeg",
            upload_form(
                &hash,
                &employee,
                jpeg[..jpeg.len() / 2].to_vec(),
                "image/jpeg",
            ),
            234,
        ),
        (
            "png claiming 100000 x 100000",
            upload_form(
                &hash,
                &employee,
                png_claiming(100_000, 100_000),
                "image/png",
            ),
            234,
        ),
        (
            "gif claiming a 65535 x 65535 screen",
            upload_form(&hash, &employee, gif_claiming_huge_screen(), "image/gif"),
            234,
        ),
        (
            "random bytes",
            upload_form(&hash, &employee, random_bytes(5000), "image/webp"),
            234,
        ),
        (
            "another account's employee",
            upload_form(
                &app.master("stranger").await.hash,
                &employee,
                jpeg.clone(),
                "image/jpeg",
            ),
            201,
        ),
        (
            "sub-user without the right",
            upload_form(
                &app.subuser("fleet", "viewer", "").await.hash,
                &employee,
                jpeg.clone(),
                "image/jpeg",
            ),
            13,
        ),
        (
            "employee_id=abc",
            upload_form(&hash, "abc", jpeg.clone(), "image/jpeg"),
            7,
        ),
        (
            "missing employee",
            upload_form(&hash, "99999", jpeg.clone(), "image/jpeg"),
            201,
        ),
        (
            "no hash",
            upload_form("", &employee, jpeg.clone(), "image/jpeg"),
            3,
        ),
        (
            "unknown session",
            upload_form(
                "0123456789abcdef0123456789abcdef",
                &employee,
                jpeg.clone(),
                "image/jpeg",
            ),
            4,
        ),
    ];
    for (case, form, code) in cases {
        let (status, body) = app.upload_form(form).await;
        assert_eq!(error_code(&body), code, "{case}: {body}");
        assert!(status.is_client_error(), "{case}: {status}");
    }

    // 17 MiB against the 16 MiB default.
    let mut oversized = jpeg.clone();
    oversized.resize(17 << 20, 0);
    let (status, body) = app.upload(&account, id, oversized, "image/jpeg").await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::PAYLOAD_TOO_LARGE, 271)
    );

    // A multipart body cut off in the middle of the file.
    let mut cut = b"--XyZ\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a.jpg\"\r\nContent-Type: image/jpeg\r\n\r\n".to_vec();
    cut.extend_from_slice(&jpeg[..1000]);
    let response = app
        .client
        .post(app.url(&format!(
            "/employee/avatar/upload?hash={hash}&employee_id={id}"
        )))
        .header("Content-Type", "multipart/form-data; boundary=XyZ")
        .body(cut)
        .send()
        .await
        .unwrap();
    let (status, body) = json_of(response).await;
    assert_eq!((status, error_code(&body)), (StatusCode::BAD_REQUEST, 5));

    // Not multipart at all: the checks before the file still run, then there is no file.
    let (_, body) = app
        .call_as(
            &account,
            "/employee/avatar/upload",
            json!({"employee_id": id}),
        )
        .await;
    assert_eq!(error_code(&body), 233);

    assert_eq!(files_below(&app.storage_dir), files_before);
    let (_, after) = app.read_employee(&account, id).await;
    assert_eq!(after, before);
    // And the server still serves.
    let (status, _) = app.upload(&account, id, jpeg, "image/jpeg").await;
    assert_eq!(status, StatusCode::OK);
}

async fn assign_sets_and_clears_the_icon_and_keeps_the_upload(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    let (_, body) = app
        .upload(&account, id, photo_jpeg(300, 300, 4), "image/jpeg")
        .await;
    let name = name_of(&body);
    let (status, body) = app
        .call_as(
            &account,
            "/employee/avatar/assign",
            json!({"employee_id": id, "icon_id": 3654}),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let (_, read) = app.read_employee(&account, id).await;
    assert_eq!(read["value"]["icon_id"], json!(3654));
    assert_eq!(read["value"]["avatar_file_name"], json!(name));

    // The platform's GET form: icon_id=null as JSON text.
    let response = app
        .client
        .get(app.url(&format!(
            "/employee/avatar/assign?hash={}&employee_id={id}&icon_id=null",
            account.hash
        )))
        .send()
        .await
        .unwrap();
    assert_eq!(json_of(response).await.0, StatusCode::OK);
    let (_, read) = app.read_employee(&account, id).await;
    assert_eq!(read["value"]["icon_id"], Value::Null);
    assert_eq!(read["value"]["avatar_file_name"], json!(name));

    let (_, body) = app
        .call_as(
            &account,
            "/employee/avatar/assign",
            json!({"employee_id": 99999, "icon_id": 1}),
        )
        .await;
    assert_eq!(error_code(&body), 201);
    let (_, body) = app
        .call_as(
            &account,
            "/employee/avatar/assign",
            json!({"employee_id": id}),
        )
        .await;
    assert_eq!(error_code(&body), 7);
    let (_, body) = app
        .call_as(
            &account,
            "/employee/avatar/assign",
            json!({"employee_id": id, "icon_id": "x"}),
        )
        .await;
    assert_eq!(error_code(&body), 7);
    let viewer = app.subuser("fleet", "viewer", "").await;
    let (status, body) = app
        .call_as(
            &viewer,
            "/employee/avatar/assign",
            json!({"employee_id": id, "icon_id": 1}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::FORBIDDEN, 13));
    let stranger = app.master("stranger").await;
    let (_, body) = app
        .call_as(
            &stranger,
            "/employee/avatar/assign",
            json!({"employee_id": id, "icon_id": 1}),
        )
        .await;
    assert_eq!(error_code(&body), 201);
}

/// Metadata markers that must not survive: EXIF/XMP (APP1), comments (COM), IPTC (APP13).
fn jpeg_metadata(bytes: &[u8]) -> Vec<&'static str> {
    let mut found = Vec::new();
    if bytes.windows(6).any(|w| w == b"Exif\0\0") {
        found.push("EXIF");
    }
    if bytes.windows(9).any(|w| w == b"ns.adobe.") {
        found.push("XMP");
    }
    if bytes.windows(2).any(|w| w == [0xFF, 0xFE]) {
        found.push("comment");
    }
    if bytes.windows(2).any(|w| w == [0xFF, 0xED]) {
        found.push("IPTC");
    }
    found
}

#[actix_web::test]
async fn all_eight_exif_orientations_come_out_upright_without_metadata() {
    let app = spawn_app(Backend::Sqlite).await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    let folder = testdata_dir().join("exif-orientation");
    for family in ["Landscape", "Portrait"] {
        let mut reference = None;
        for n in [1, 0, 2, 3, 4, 5, 6, 7, 8] {
            let source = std::fs::read(folder.join(format!("{family}_{n}.jpg")))
                .expect("the shared EXIF test photos (TESTDATA_DIR)");
            let (status, body) = app.upload(&account, id, source, "image/jpeg").await;
            assert_eq!(status, StatusCode::OK, "{family}_{n}: {body}");
            let name = name_of(&body);
            let (_, bytes) = served_image(&app, &format!("/static/employee/avatars/{name}")).await;
            assert!(
                jpeg_metadata(&bytes).is_empty(),
                "{family}_{n}: {:?}",
                jpeg_metadata(&bytes)
            );
            let stored = image::load_from_memory(&bytes).unwrap();
            let (w, h) = (stored.width(), stored.height());
            match family {
                "Landscape" => assert!(w > h, "{family}_{n} is {w}x{h}"),
                _ => assert!(h > w, "{family}_{n} is {w}x{h}"),
            }
            let reference = reference.get_or_insert(stored.clone());
            let difference = mean_difference(reference, &stored);
            assert!(
                difference < 6.0,
                "{family}_{n} differs from {family}_1 by {difference}"
            );
        }
    }
}

#[actix_web::test]
async fn a_png_with_alpha_stays_a_png_with_alpha() {
    let app = spawn_app(Backend::Sqlite).await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    let (_, body) = app
        .upload(&account, id, png_with_alpha(200, 100), "image/png")
        .await;
    let name = name_of(&body);
    assert_service_name(&name, "png");
    let (headers, bytes) = served_image(&app, &format!("/static/employee/avatars/{name}")).await;
    assert_eq!(headers["content-type"], "image/png");
    let stored = image::load_from_memory(&bytes).unwrap().to_rgba8();
    assert_eq!(stored.get_pixel(10, 50).0[3], 0);
    assert_eq!(stored.get_pixel(190, 50).0[3], 255);
    let (headers, bytes) = served_image(&app, &format!("/static/employee/avatars/64/{name}")).await;
    assert_eq!(headers["content-type"], "image/png");
    assert!(image::load_from_memory(&bytes).unwrap().color().has_alpha());
    // A PNG declared as JPEG is the PNG it is.
    let (_, body) = app
        .upload(
            &account,
            id,
            encoded(&photo(50, 40, 9), ImageFormat::Png),
            "image/jpeg",
        )
        .await;
    assert_service_name(&name_of(&body), "jpg");
}

/// The JSON answer carried by a redirect to `<prefix><percent-encoded JSON>`.
fn redirected_answer(response: &reqwest::Response, prefix: &str) -> Value {
    assert_eq!(response.status(), StatusCode::FOUND);
    let location = response.headers()["location"].to_str().unwrap();
    let encoded = location.strip_prefix(prefix).expect(location);
    let decoded = percent_encoding::percent_decode_str(encoded)
        .decode_utf8()
        .unwrap();
    serde_json::from_str(&decoded).unwrap()
}

#[actix_web::test]
async fn redirect_target_carries_the_answer() {
    let app = spawn_app(Backend::Sqlite).await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    for (target, separator) in [
        ("https://fleet.example/done", "?"),
        ("https://fleet.example/done?tab=drivers", "&"),
    ] {
        let form = upload_form(
            &account.hash,
            &id.to_string(),
            photo_jpeg(64, 64, 5),
            "image/jpeg",
        )
        .text("redirect_target", target);
        let response = app
            .client
            .post(app.url("/employee/avatar/upload"))
            .multipart(form)
            .send()
            .await
            .unwrap();
        let answer = redirected_answer(&response, &format!("{target}{separator}response="));
        assert_eq!(answer["success"], json!(true));
        assert!(answer["value"].as_str().unwrap().ends_with(".jpg"));
    }
    // An error travels the same way; here the target comes in the query string.
    let form = Form::new()
        .text("hash", account.hash.clone())
        .text("employee_id", id.to_string());
    let response = app
        .client
        .post(app.url("/employee/avatar/upload?redirect_target=%2Fprofile%3Fid%3D1"))
        .multipart(form)
        .send()
        .await
        .unwrap();
    let answer = redirected_answer(&response, "/profile?id=1&response=");
    assert_eq!(answer["status"]["code"], json!(233));
}

#[actix_web::test]
async fn a_storage_failure_is_254_and_the_employee_keeps_its_avatar() {
    let blocked = tempfile::tempdir().unwrap();
    let not_a_folder = blocked.path().join("file");
    std::fs::write(&not_a_folder, b"x").unwrap();
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.storage.dir = not_a_folder.join("avatars")
    })
    .await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    let (status, body) = app
        .upload(&account, id, photo_jpeg(100, 80, 6), "image/jpeg")
        .await;
    assert_eq!(
        (status, error_code(&body)),
        (StatusCode::INTERNAL_SERVER_ERROR, 254)
    );
    let (_, read) = app.read_employee(&account, id).await;
    assert_eq!(read["value"]["avatar_file_name"], Value::Null);
    assert_eq!(files_below(blocked.path()), ["file"]);
}

#[actix_web::test]
async fn fifty_concurrent_uploads_against_a_queue_of_four_are_served_or_refused_at_once() {
    let app = spawn_app_with(Backend::Sqlite, |s| {
        s.images.workers = 1;
        s.images.queue_capacity = 4;
    })
    .await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    let photo = photo_jpeg(2000, 1500, 7);
    let uploads = (0..50).map(|_| {
        let form = upload_form(&account.hash, &id.to_string(), photo.clone(), "image/jpeg");
        app.client
            .post(app.url("/employee/avatar/upload"))
            .multipart(form)
            .send()
    });
    let responses = futures::future::join_all(uploads).await;
    let (mut served, mut refused) = (0, 0);
    for response in responses {
        let response = response.expect("every upload is answered");
        let retry_after = response.headers().get("retry-after").cloned();
        let (status, body) = json_of(response).await;
        match status {
            StatusCode::OK => served += 1,
            StatusCode::SERVICE_UNAVAILABLE => {
                assert_eq!(error_code(&body), 8);
                assert!(retry_after.is_some(), "error 8 carries Retry-After");
                refused += 1;
            }
            other => panic!("unexpected {other}: {body}"),
        }
    }
    assert_eq!(served + refused, 50);
    assert!(served >= 1, "served {served}");
    assert!(refused >= 1, "a queue of 4 refused none of 50 at once");
    // The server is still up and takes the next upload.
    let (status, _) = app
        .upload(&account, id, photo_jpeg(64, 64, 8), "image/jpeg")
        .await;
    assert_eq!(status, StatusCode::OK);
}

#[actix_web::test]
async fn a_missing_thumbnail_is_made_on_demand_once_for_many_requests() {
    let app = spawn_app(Backend::Sqlite).await;
    let account = app.master("fleet").await;
    let id = new_employee(&app, &account).await;
    let (_, body) = app
        .upload(&account, id, photo_jpeg(900, 700, 10), "image/jpeg")
        .await;
    let name = name_of(&body);
    // Let the background thumbnails land, then lose them.
    let thumbnail_dir = |size: u32| app.storage_dir.join(size.to_string());
    for _ in 0..200 {
        if [32, 64, 128, 256]
            .iter()
            .all(|s| thumbnail_dir(*s).join(&name).exists())
        {
            break;
        }
        tokio::time::sleep(std::time::Duration::from_millis(25)).await;
    }
    for size in [32, 64, 128, 256] {
        std::fs::remove_file(thumbnail_dir(size).join(&name)).unwrap();
    }
    let path = format!("/static/employee/avatars/128/{name}");
    let requests = (0..20).map(|_| app.get(&path));
    let mut bodies = Vec::new();
    for response in futures::future::join_all(requests).await {
        assert_eq!(response.status(), StatusCode::OK);
        bodies.push(response.bytes().await.unwrap());
    }
    bodies.dedup();
    assert_eq!(bodies.len(), 1, "every request got the same thumbnail");
    let thumbnail = image::load_from_memory(&bodies[0]).unwrap();
    assert_eq!((thumbnail.width(), thumbnail.height()), (128, 128));
    for size in [32, 64, 128, 256] {
        assert!(thumbnail_dir(size).join(&name).exists(), "{size}");
    }
}
