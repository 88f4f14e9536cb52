use reqwest::StatusCode;
use serde_json::{json, Value};

use crate::helpers::{error_code, spawn_app, Backend};
use crate::on_both_databases;

on_both_databases!(
    create_read_update_delete,
    every_field_round_trips,
    update_keeps_omitted_fields_and_ignores_avatar_fields,
    tracker_id_is_unique_per_account,
    list_pages_sorts_and_filters,
    filter_and_sort_are_data_never_sql,
    missing_employees_are_201,
    another_accounts_employees_are_invisible,
    sub_users_need_employee_update_to_write,
    field_rules_answer_7_naming_the_field,
);

const FIELDS: [&str; 19] = [
    "id",
    "tracker_id",
    "first_name",
    "middle_name",
    "last_name",
    "email",
    "phone",
    "driver_license_number",
    "driver_license_cats",
    "driver_license_issue_date",
    "driver_license_valid_till",
    "hardware_key",
    "icon_id",
    "avatar_file_name",
    "department_id",
    "location",
    "personnel_number",
    "ssn",
    "tags",
];

fn assert_all_fields(employee: &Value) {
    for field in FIELDS {
        assert!(
            employee.get(field).is_some(),
            "{field} missing in {employee}"
        );
    }
}

async fn create_read_update_delete(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let id = app
        .create_employee(&account, json!({"first_name": "Ann"}))
        .await;
    let (status, body) = app.read_employee(&account, id).await;
    assert_eq!(status, StatusCode::OK);
    let value = &body["value"];
    assert_all_fields(value);
    assert_eq!(value["id"], json!(id));
    assert_eq!(value["first_name"], json!("Ann"));
    assert_eq!(value["last_name"], json!(""));
    assert_eq!(value["tracker_id"], Value::Null);
    assert_eq!(value["location"], Value::Null);
    assert_eq!(value["tags"], json!([]));

    let (status, body) = app
        .call_as(
            &account,
            "/employee/update",
            json!({"employee": {"id": id, "last_name": "Lee"}}),
        )
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let (_, body) = app.read_employee(&account, id).await;
    assert_eq!(body["value"]["last_name"], json!("Lee"));

    let list = app.list(&account, json!({})).await;
    assert_eq!(list["count"], json!(1));
    assert_eq!(list["list"][0]["last_name"], json!("Lee"));
    assert_all_fields(&list["list"][0]);

    let (status, body) = app
        .call_as(&account, "/employee/delete", json!({"employee_id": id}))
        .await;
    assert_eq!((status, body), (StatusCode::OK, json!({"success": true})));
    let (_, body) = app.read_employee(&account, id).await;
    assert_eq!(error_code(&body), 201);
    assert_eq!(app.list(&account, json!({})).await["count"], json!(0));
}

async fn every_field_round_trips(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let full = json!({
        "tracker_id": 77,
        "first_name": "Émilie",
        "middle_name": "J.",
        "last_name": "Durand",
        "email": "emilie@example.fr",
        "phone": "33612345678",
        "driver_license_number": "FR-1234",
        "driver_license_cats": "B,C1",
        "driver_license_issue_date": "2015-06-01",
        "driver_license_valid_till": "2030-06-01",
        "hardware_key": "A1B2C3",
        "department_id": 12,
        "location": {"lat": 48.85, "lng": 2.35, "address": "Rue de Rivoli", "radius": 150},
        "personnel_number": "P-0001",
        "ssn": "1850675123456",
        "tags": [3, 1, 2],
    });
    let id = app.create_employee(&account, full.clone()).await;
    let (_, body) = app.read_employee(&account, id).await;
    let mut expected = full;
    expected["id"] = json!(id);
    expected["icon_id"] = Value::Null;
    expected["avatar_file_name"] = Value::Null;
    assert_eq!(body["value"], expected);
}

async fn update_keeps_omitted_fields_and_ignores_avatar_fields(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let id = app
        .create_employee(
            &account,
            json!({"first_name": "Bo", "last_name": "Ek", "tracker_id": 5, "ssn": "123",
                   "location": {"lat": 1.0, "lng": 2.0, "address": "", "radius": 0}}),
        )
        .await;
    let (status, body) = app
        .call_as(
            &account,
            "/employee/update",
            json!({"employee": {"id": id, "ssn": null, "location": null, "phone": "123",
                                "icon_id": 99, "avatar_file_name": "evil.jpg", "unknown": 1}}),
        )
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    let (_, body) = app.read_employee(&account, id).await;
    let value = &body["value"];
    assert_eq!(value["first_name"], json!("Bo"));
    assert_eq!(value["last_name"], json!("Ek"));
    assert_eq!(value["tracker_id"], json!(5));
    assert_eq!(value["ssn"], Value::Null);
    assert_eq!(value["location"], Value::Null);
    assert_eq!(value["phone"], json!("123"));
    assert_eq!(value["icon_id"], Value::Null);
    assert_eq!(value["avatar_file_name"], Value::Null);
}

async fn tracker_id_is_unique_per_account(backend: Backend) {
    let app = spawn_app(backend).await;
    let a = app.master("fleet-a").await;
    let b = app.master("fleet-b").await;
    app.create_employee(&a, json!({"first_name": "One", "tracker_id": 10}))
        .await;
    let (status, body) = app
        .call_as(
            &a,
            "/employee/create",
            json!({"employee": {"first_name": "Two", "tracker_id": 10}}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, 247));
    // Null repeats freely; the same tracker in another account is fine.
    app.create_employee(&a, json!({"first_name": "N1", "tracker_id": null}))
        .await;
    app.create_employee(&a, json!({"first_name": "N2"})).await;
    app.create_employee(&b, json!({"first_name": "Other", "tracker_id": 10}))
        .await;
    let three = app
        .create_employee(&a, json!({"first_name": "Three", "tracker_id": 11}))
        .await;
    let (status, body) = app
        .call_as(
            &a,
            "/employee/update",
            json!({"employee": {"id": three, "tracker_id": 10}}),
        )
        .await;
    assert_eq!((status, error_code(&body)), (StatusCode::CONFLICT, 247));
    let (_, body) = app.read_employee(&a, three).await;
    assert_eq!(body["value"]["tracker_id"], json!(11));
    assert_eq!(app.list(&a, json!({})).await["count"], json!(4));
}

fn first_names(list: &Value) -> Vec<&str> {
    list["list"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["first_name"].as_str().unwrap())
        .collect()
}

async fn list_pages_sorts_and_filters(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    for (first, last) in [
        ("Cara", "Smith"),
        ("Abe", "Jones"),
        ("Bea", "Smithson"),
        ("Abe", "Adams"),
        ("Dan", "Brown"),
    ] {
        app.create_employee(&account, json!({"first_name": first, "last_name": last}))
            .await;
    }
    let sorted = app
        .list(
            &account,
            json!({"sort": ["first_name=asc", "last_name=desc"]}),
        )
        .await;
    assert_eq!(first_names(&sorted), ["Abe", "Abe", "Bea", "Cara", "Dan"]);
    assert_eq!(sorted["list"][0]["last_name"], json!("Jones"));

    let page = app
        .list(
            &account,
            json!({"sort": ["first_name=desc"], "limit": 2, "offset": 1}),
        )
        .await;
    assert_eq!(first_names(&page), ["Cara", "Bea"]);
    assert_eq!(page["count"], json!(5));

    let filtered = app
        .list(&account, json!({"filter": "SMITH", "sort": ["id"]}))
        .await;
    assert_eq!(first_names(&filtered), ["Cara", "Bea"]);
    assert_eq!(filtered["count"], json!(2));

    let (_, body) = app
        .call_as(&account, "/employee/list", json!({"sort": ["salary=asc"]}))
        .await;
    assert_eq!(error_code(&body), 7);
    assert_eq!(body["errors"][0]["parameter"], json!("sort"));
    let (_, body) = app
        .call_as(
            &account,
            "/employee/list",
            json!({"filter": "x".repeat(101)}),
        )
        .await;
    assert_eq!(error_code(&body), 7);
    let (_, body) = app
        .call_as(&account, "/employee/list", json!({"limit": "ten"}))
        .await;
    assert_eq!(error_code(&body), 7);
}

async fn filter_and_sort_are_data_never_sql(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    app.create_employee(&account, json!({"first_name": "O'Brien"}))
        .await;
    app.create_employee(&account, json!({"first_name": "100% sure_thing"}))
        .await;
    app.create_employee(&account, json!({"first_name": "Plain"}))
        .await;
    for (filter, expected) in [
        ("o'b", vec!["O'Brien"]),
        ("%", vec!["100% sure_thing"]),
        ("_", vec!["100% sure_thing"]),
        ("' OR '1'='1", vec![]),
        ("\\", vec![]),
        ("'; DROP TABLE employees; --", vec![]),
    ] {
        let list = app.list(&account, json!({"filter": filter})).await;
        assert_eq!(first_names(&list), expected, "filter {filter:?}");
    }
    for sort in ["id; DROP TABLE employees", "first_name=asc, (SELECT 1)"] {
        let (_, body) = app
            .call_as(&account, "/employee/list", json!({"sort": [sort]}))
            .await;
        assert_eq!(error_code(&body), 7, "{sort}");
    }
    assert_eq!(app.list(&account, json!({})).await["count"], json!(3));
}

async fn missing_employees_are_201(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    for (path, params) in [
        ("/employee/read", json!({"employee_id": 999})),
        ("/employee/delete", json!({"employee_id": 999})),
        (
            "/employee/update",
            json!({"employee": {"id": 999, "first_name": "X"}}),
        ),
    ] {
        let (status, body) = app.call_as(&account, path, params).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, 201),
            "{path}"
        );
    }
}

async fn another_accounts_employees_are_invisible(backend: Backend) {
    let app = spawn_app(backend).await;
    let owner = app.master("owner").await;
    let stranger = app.master("stranger").await;
    let id = app
        .create_employee(&owner, json!({"first_name": "Mine"}))
        .await;
    for (path, params) in [
        ("/employee/read", json!({"employee_id": id})),
        ("/employee/delete", json!({"employee_id": id})),
        (
            "/employee/update",
            json!({"employee": {"id": id, "first_name": "Stolen"}}),
        ),
    ] {
        let (_, body) = app.call_as(&stranger, path, params).await;
        assert_eq!(error_code(&body), 201, "{path}");
    }
    assert_eq!(app.list(&stranger, json!({})).await["count"], json!(0));
    let (_, body) = app.read_employee(&owner, id).await;
    assert_eq!(body["value"]["first_name"], json!("Mine"));
}

async fn sub_users_need_employee_update_to_write(backend: Backend) {
    let app = spawn_app(backend).await;
    let master = app.master("boss").await;
    let id = app
        .create_employee(&master, json!({"first_name": "Kept"}))
        .await;
    let reader = app.subuser("boss", "reader", "").await;
    let writer = app.subuser("boss", "writer", "employee_update").await;

    assert_eq!(app.list(&reader, json!({})).await["count"], json!(1));
    let (status, _) = app.read_employee(&reader, id).await;
    assert_eq!(status, StatusCode::OK);
    for (path, params) in [
        (
            "/employee/create",
            json!({"employee": {"first_name": "New"}}),
        ),
        (
            "/employee/update",
            json!({"employee": {"id": id, "first_name": "X"}}),
        ),
        ("/employee/delete", json!({"employee_id": id})),
    ] {
        let (status, body) = app.call_as(&reader, path, params).await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::FORBIDDEN, 13),
            "{path}"
        );
    }
    let created = app
        .create_employee(&writer, json!({"first_name": "ByWriter"}))
        .await;
    let (_, body) = app.read_employee(&master, created).await;
    assert_eq!(body["value"]["first_name"], json!("ByWriter"));
    let (status, _) = app
        .call_as(&writer, "/employee/delete", json!({"employee_id": id}))
        .await;
    assert_eq!(status, StatusCode::OK);
}

async fn field_rules_answer_7_naming_the_field(backend: Backend) {
    let app = spawn_app(backend).await;
    let account = app.master("fleet").await;
    let cases = [
        (json!({"first_name": ""}), "employee.first_name"),
        (
            json!({"first_name": "x".repeat(101)}),
            "employee.first_name",
        ),
        (json!({"last_name": "Nofirst"}), "employee.first_name"),
        (
            json!({"first_name": "A", "email": "nope"}),
            "employee.email",
        ),
        (
            json!({"first_name": "A", "phone": "+4912"}),
            "employee.phone",
        ),
        (
            json!({"first_name": "A", "personnel_number": "x".repeat(16)}),
            "employee.personnel_number",
        ),
        (
            json!({"first_name": "A", "hardware_key": "k".repeat(65)}),
            "employee.hardware_key",
        ),
        (
            json!({"first_name": "A", "driver_license_valid_till": "31.12.2030"}),
            "employee.driver_license_valid_till",
        ),
        (
            json!({"first_name": "A", "location": {"lat": 0, "lng": 181}}),
            "employee.location",
        ),
        (
            json!({"first_name": "A", "tracker_id": "abc"}),
            "employee.tracker_id",
        ),
        (json!({"first_name": "A", "tags": ["a"]}), "employee.tags"),
    ];
    for (employee, parameter) in cases {
        let (status, body) = app
            .call_as(&account, "/employee/create", json!({"employee": employee}))
            .await;
        assert_eq!(
            (status, error_code(&body)),
            (StatusCode::BAD_REQUEST, 7),
            "{employee}"
        );
        let named: Vec<&str> = body["errors"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["parameter"].as_str().unwrap())
            .collect();
        assert_eq!(named, [parameter], "{employee}");
    }
    let (_, body) = app
        .call_as(&account, "/employee/create", json!({"employee": "Ann"}))
        .await;
    assert_eq!(body["errors"][0]["parameter"], json!("employee"));
    let (_, body) = app.call_as(&account, "/employee/create", json!({})).await;
    assert_eq!(body["errors"][0]["parameter"], json!("employee"));
    assert_eq!(app.list(&account, json!({})).await["count"], json!(0));
}
