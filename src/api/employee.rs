//! `/employee/*`: parse, authorise, call the repository, answer.

use actix_web::{web, HttpResponse};
use serde_json::{json, Value};

use super::auth::Authenticated;
use super::error::ApiError;
use super::params::Params;
use super::success;
use crate::domain::employee::{EmployeeId, EmployeeUpdate, NewEmployee};
use crate::domain::list::ListQuery;
use crate::domain::user::Right;
use crate::repo::employees;
use crate::startup::AppState;

pub fn employee_id(params: &Params) -> Result<EmployeeId, ApiError> {
    EmployeeId::parse("employee_id", params.required("employee_id")?)
}

pub async fn list(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(&call.params)?;
    let (list, count) = employees::list(&state.db, call.user.account_id, &query).await?;
    Ok(success(json!({"list": list, "count": count})))
}

pub async fn read(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let id = employee_id(&call.params)?;
    let employee = employees::read(&state.db, call.user.account_id, id).await?;
    Ok(success(json!({"value": employee})))
}

pub async fn create(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    call.require(Right::EmployeeUpdate)?;
    let employee = NewEmployee::parse(&call.params.required::<Value>("employee")?)?;
    let id = employees::create(&state.db, call.user.account_id, employee).await?;
    Ok(success(json!({"id": id})))
}

pub async fn update(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    call.require(Right::EmployeeUpdate)?;
    let update = EmployeeUpdate::parse(&call.params.required::<Value>("employee")?)?;
    employees::update(&state.db, call.user.account_id, update).await?;
    Ok(success(json!({})))
}

pub async fn delete(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    call.require(Right::EmployeeUpdate)?;
    let id = employee_id(&call.params)?;
    employees::delete(&state.db, call.user.account_id, id).await?;
    Ok(success(json!({})))
}
