//! Employees of one account. Every query is scoped by the account, so another account's
//! employee is indistinguishable from a missing one.

use sea_orm::sea_query::{Expr, ExprTrait, Func, LikeExpr, SimpleExpr};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, Condition, ConnectionTrait, DbErr, EntityTrait, Order,
    PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, Set, SqlErr,
};

use super::entities::employee::{self, Column};
use crate::api::error::ApiError;
use crate::domain::employee::{
    Employee, EmployeeData, EmployeeId, EmployeeUpdate, FieldChange, Location, NewEmployee,
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

/// Sets the columns of one changed field.
fn write_change(active: &mut employee::ActiveModel, change: FieldChange) {
    use FieldChange::*;
    match change {
        TrackerId(v) => active.tracker_id = Set(v),
        FirstName(v) => active.first_name = Set(v),
        MiddleName(v) => active.middle_name = Set(v),
        LastName(v) => active.last_name = Set(v),
        Email(v) => active.email = Set(v),
        Phone(v) => active.phone = Set(v),
        DriverLicenseNumber(v) => active.driver_license_number = Set(v),
        DriverLicenseCats(v) => active.driver_license_cats = Set(v),
        DriverLicenseIssueDate(v) => active.driver_license_issue_date = Set(v),
        DriverLicenseValidTill(v) => active.driver_license_valid_till = Set(v),
        HardwareKey(v) => active.hardware_key = Set(v),
        DepartmentId(v) => active.department_id = Set(v),
        Location(location) => {
            active.location_lat = Set(location.as_ref().map(|l| l.lat));
            active.location_lng = Set(location.as_ref().map(|l| l.lng));
            active.location_radius = Set(location.as_ref().map(|l| l.radius));
            active.location_address = Set(location.map(|l| l.address));
        }
        PersonnelNumber(v) => active.personnel_number = Set(v),
        Ssn(v) => active.ssn = Set(v),
        Tags(tags) => {
            let json = serde_json::to_string(&tags).expect("a list of integers serialises");
            active.tags = Set(json);
        }
    }
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
    for change in data.into_changes() {
        write_change(&mut active, change);
    }
    let model = active.insert(db).await.map_err(conflict_or_database)?;
    Ok(EmployeeId::from_stored(model.id))
}

/// Writes only the fields the update names, in one statement: concurrent updates of other
/// fields are not lost, and no transaction has to upgrade a read lock.
pub async fn update(
    db: &impl ConnectionTrait,
    account_id: i64,
    update: EmployeeUpdate,
) -> Result<(), ApiError> {
    let changes = update.changes.into_vec();
    if changes.is_empty() {
        return read(db, account_id, update.id).await.map(|_| ());
    }
    let mut active = <employee::ActiveModel as Default>::default();
    for change in changes {
        write_change(&mut active, change);
    }
    let result = employee::Entity::update_many()
        .set(active)
        .filter(Column::Id.eq(update.id.get()))
        .filter(Column::AccountId.eq(account_id))
        .exec(db)
        .await
        .map_err(conflict_or_database)?;
    if result.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
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
