//! The demo account that makes a newcomer's first curl work.

use sea_orm::{DatabaseConnection, TransactionTrait};
use serde_json::json;

use crate::domain::employee::NewEmployee;
use crate::domain::user::{Login, Password};
use crate::repo::{employees, users};

pub const LOGIN: &str = "demo";
const PASSWORD: &str = "demo";

/// Creates `demo`/`demo` with a few employees when the database has no users at all.
pub async fn seed_if_empty(db: &DatabaseConnection) -> anyhow::Result<()> {
    if users::count(db).await? > 0 {
        return Ok(());
    }
    let txn = db.begin().await?;
    let login = Login::parse(LOGIN).map_err(anyhow::Error::msg)?;
    let password = Password::parse(PASSWORD).map_err(anyhow::Error::msg)?;
    let account_id = users::create_master(&txn, &login, password).await?;
    let people = [
        json!({"first_name": "Anna", "last_name": "Schmidt", "phone": "4915112345678",
               "email": "anna.schmidt@example.com", "driver_license_cats": "B,C"}),
        json!({"first_name": "Carlos", "last_name": "Ortega", "tracker_id": 1001,
               "driver_license_number": "X123456", "driver_license_valid_till": "2029-05-31"}),
        json!({"first_name": "Mei", "last_name": "Tanaka", "personnel_number": "E-042",
               "location": {"lat": 35.68, "lng": 139.69, "address": "Depot 3, Tokyo", "radius": 150}}),
        json!({"first_name": "Olu", "middle_name": "K.", "last_name": "Adeyemi", "tags": [1, 2]}),
        json!({"first_name": "Sven", "last_name": "Lindqvist", "department_id": 7}),
    ];
    for person in &people {
        let employee = NewEmployee::parse(person)?;
        employees::create(&txn, account_id, employee).await?;
    }
    txn.commit().await?;
    tracing::info!(
        login = LOGIN,
        "created the demo account (password as in README.md)"
    );
    Ok(())
}
