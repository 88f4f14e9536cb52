use sea_orm::entity::prelude::*;

#[sea_orm::model]
#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "employees")]
pub struct Model {
    #[sea_orm(primary_key)]
    pub id: i64,
    /// The master account that owns the employee.
    pub account_id: i64,
    pub tracker_id: Option<i64>,
    pub first_name: String,
    pub middle_name: String,
    pub last_name: String,
    pub email: String,
    pub phone: String,
    pub driver_license_number: String,
    pub driver_license_cats: String,
    pub driver_license_issue_date: Option<Date>,
    pub driver_license_valid_till: Option<Date>,
    pub hardware_key: Option<String>,
    pub icon_id: Option<i64>,
    pub avatar_file_name: Option<String>,
    pub department_id: Option<i64>,
    pub location_lat: Option<f64>,
    pub location_lng: Option<f64>,
    pub location_address: Option<String>,
    pub location_radius: Option<i64>,
    pub personnel_number: Option<String>,
    pub ssn: Option<String>,
    /// A JSON array of integers.
    pub tags: String,
}

impl ActiveModelBehavior for ActiveModel {}
