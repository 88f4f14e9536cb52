//! Employees of one account. Every query is scoped by the account, so another account's
//! employee is indistinguishable from a missing one.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DatabaseConnection, DbErr,
    EntityTrait, IntoActiveModel, Order, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set,
    SqlErr, TransactionTrait,
};

use super::entities::employee::{self, Column};
use crate::api::error::ApiError;
use crate::domain::employee::{
    Employee, EmployeeData, EmployeeId, EmployeeUpdate, Location, NewEmployee,
};
use crate::domain::list::{ListQuery, SortKey, SortOrder};

fn to_employee(model: employee::Model) -> Employee {
    let location = match (model.location_lat, model.location_lng) {
        (Some(lat), Some(lng)) => Some(Location {
            lat,
            lng,
            address: model.location_address.unwrap_or_default(),
            radius: model.location_radius.unwrap_or_default(),
        }),
        _ => None,
    };
    Employee {
        id: EmployeeId::from_stored(model.id),
        data: EmployeeData {
            tracker_id: model.tracker_id,
            first_name: model.first_name,
            middle_name: model.middle_name,
            last_name: model.last_name,
            email: model.email,
            phone: model.phone,
            driver_license_number: model.driver_license_number,
            driver_license_cats: model.driver_license_cats,
            driver_license_issue_date: model.driver_license_issue_date,
            driver_license_valid_till: model.driver_license_valid_till,
            hardware_key: model.hardware_key,
            department_id: model.department_id,
            location,
            personnel_number: model.personnel_number,
            ssn: model.ssn,
            tags: serde_json::from_str(&model.tags).unwrap_or_default(),
        },
        icon_id: model.icon_id,
        avatar_file_name: model.avatar_file_name,
    }
}

/// Sets every client-writable column of `active` from `data`.
fn write_data(active: &mut employee::ActiveModel, data: EmployeeData) {
    let location = data.location;
    active.tracker_id = Set(data.tracker_id);
    active.first_name = Set(data.first_name);
    active.middle_name = Set(data.middle_name);
    active.last_name = Set(data.last_name);
    active.email = Set(data.email);
    active.phone = Set(data.phone);
    active.driver_license_number = Set(data.driver_license_number);
    active.driver_license_cats = Set(data.driver_license_cats);
    active.driver_license_issue_date = Set(data.driver_license_issue_date);
    active.driver_license_valid_till = Set(data.driver_license_valid_till);
    active.hardware_key = Set(data.hardware_key);
    active.department_id = Set(data.department_id);
    active.location_lat = Set(location.as_ref().map(|l| l.lat));
    active.location_lng = Set(location.as_ref().map(|l| l.lng));
    active.location_radius = Set(location.as_ref().map(|l| l.radius));
    active.location_address = Set(location.map(|l| l.address));
    active.personnel_number = Set(data.personnel_number);
    active.ssn = Set(data.ssn);
    active.tags = Set(serde_json::to_string(&data.tags).expect("a list of integers serialises"));
}

fn conflict_or_database(err: DbErr) -> ApiError {
    match err.sql_err() {
        Some(SqlErr::UniqueConstraintViolation(_)) => ApiError::AlreadyExists,
        _ => err.into(),
    }
}

fn sort_column(key: SortKey) -> Column {
    match key {
        SortKey::Id => Column::Id,
        SortKey::TrackerId => Column::TrackerId,
        SortKey::FirstName => Column::FirstName,
        SortKey::MiddleName => Column::MiddleName,
        SortKey::LastName => Column::LastName,
        SortKey::Email => Column::Email,
        SortKey::Phone => Column::Phone,
        SortKey::DriverLicenseNumber => Column::DriverLicenseNumber,
        SortKey::DriverLicenseCats => Column::DriverLicenseCats,
        SortKey::DriverLicenseIssueDate => Column::DriverLicenseIssueDate,
        SortKey::DriverLicenseValidTill => Column::DriverLicenseValidTill,
        SortKey::HardwareKey => Column::HardwareKey,
        SortKey::DepartmentId => Column::DepartmentId,
        SortKey::PersonnelNumber => Column::PersonnelNumber,
    }
}

const FILTERED_COLUMNS: [Column; 9] = [
    Column::FirstName,
    Column::MiddleName,
    Column::LastName,
    Column::Email,
    Column::Phone,
    Column::DriverLicenseNumber,
    Column::DriverLicenseCats,
    Column::HardwareKey,
    Column::PersonnelNumber,
];

/// Case-insensitive substring match over the text columns; the filter is data, never SQL
/// or a LIKE pattern.
fn filter_condition(filter: &str) -> Condition {
    let mut escaped = String::with_capacity(filter.len() + 2);
    escaped.push('%');
    for c in filter.to_lowercase().chars() {
        if matches!(c, '%' | '_' | '\\') {
            escaped.push('\\');
        }
        escaped.push(c);
    }
    escaped.push('%');
    FILTERED_COLUMNS
        .into_iter()
        .fold(Condition::any(), |any, column| {
            let lowered: SimpleExpr = Func::lower(Expr::col(column)).into();
            any.add(lowered.like(LikeExpr::new(escaped.clone()).escape('\\')))
        })
}

/// One page of the account's employees and the number of all that match.
pub async fn list(
    db: &impl ConnectionTrait,
    account_id: i64,
    query: &ListQuery,
) -> Result<(Vec<Employee>, u64), DbErr> {
    let mut select = employee::Entity::find().filter(Column::AccountId.eq(account_id));
    if let Some(filter) = &query.filter {
        select = select.filter(filter_condition(filter.as_str()));
    }
    let count = select.clone().count(db).await?;
    for (key, order) in &query.sort {
        let order = match order {
            SortOrder::Asc => Order::Asc,
            SortOrder::Desc => Order::Desc,
        };
        select = select.order_by(sort_column(*key), order);
    }
    select = select.order_by_asc(Column::Id);
    if query.limit.is_some() || query.offset > 0 {
        // SQLite takes an OFFSET only after a LIMIT; i64::MAX is "no limit" on both backends.
        let limit = query.limit.unwrap_or(i64::MAX as u64);
        select = select.limit(limit).offset(query.offset);
    }
    let page = select.all(db).await?.into_iter().map(to_employee).collect();
    Ok((page, count))
}

async fn find(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: EmployeeId,
) -> Result<Option<employee::Model>, DbErr> {
    employee::Entity::find_by_id(id.get())
        .filter(Column::AccountId.eq(account_id))
        .one(db)
        .await
}

pub async fn read(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: EmployeeId,
) -> Result<Employee, ApiError> {
    find(db, account_id, id)
        .await?
        .map(to_employee)
        .ok_or(ApiError::NotFound)
}

pub async fn create(
    db: &impl ConnectionTrait,
    account_id: i64,
    NewEmployee(data): NewEmployee,
) -> Result<EmployeeId, ApiError> {
    let mut active = employee::ActiveModel {
        account_id: Set(account_id),
        icon_id: Set(None),
        avatar_file_name: Set(None),
        ..Default::default()
    };
    write_data(&mut active, data);
    let model = active.insert(db).await.map_err(conflict_or_database)?;
    Ok(EmployeeId::from_stored(model.id))
}

pub async fn update(
    db: &DatabaseConnection,
    account_id: i64,
    update: EmployeeUpdate,
) -> Result<(), ApiError> {
    let txn = db.begin().await?;
    let stored = find(&txn, account_id, update.id)
        .await?
        .ok_or(ApiError::NotFound)?;
    let mut data = to_employee(stored.clone()).data;
    update.changes.apply_to(&mut data);
    let mut active = stored.into_active_model();
    write_data(&mut active, data);
    active.update(&txn).await.map_err(conflict_or_database)?;
    txn.commit().await?;
    Ok(())
}

pub async fn delete(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: EmployeeId,
) -> Result<(), ApiError> {
    let result = employee::Entity::delete_many()
        .filter(Column::Id.eq(id.get()))
        .filter(Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(())
}
