//! `/employee/*`: parse, authorise, call the repository, answer.

use actix_web::http::header::ContentType;
use actix_web::{web, HttpResponse};
use bytes::Bytes;
use serde::Serialize;
use serde_json::{json, Value};

use super::auth::Authenticated;
use super::error::ApiError;
use super::params::Params;
use super::success;
use crate::actors::{Lookup, PageKey};
use crate::domain::employee::{Employee, EmployeeId, EmployeeUpdate, NewEmployee};
use crate::domain::list::ListQuery;
use crate::domain::user::Right;
use crate::repo::employees;
use crate::startup::AppState;

pub fn employee_id(params: &Params) -> Result<EmployeeId, ApiError> {
    EmployeeId::parse("employee_id", params.required("employee_id")?)
}

/// The answer of `/employee/list`, serialised once and cached as bytes.
#[derive(Serialize)]
struct ListPage<'a> {
    success: bool,
    list: &'a [Employee],
    count: u64,
}

/// Served from the list cache; a miss reads the database and offers the page back to the cache.
pub async fn list(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let query = ListQuery::parse(&call.params)?;
    let account_id = call.user.account_id;
    let key = PageKey {
        account_id,
        query: query.digest(),
    };
    let lookup = state.cache.find(key).await;
    let page = match lookup {
        Lookup::Hit(page) => page,
        Lookup::Miss(_) | Lookup::Uncached => {
            let (list, count) = employees::list(&state.db, account_id, &query).await?;
            let page = ListPage {
                success: true,
                list: &list,
                count,
            };
            let page = serde_json::to_vec(&page).map_err(|e| ApiError::Internal(e.into()))?;
            let page = Bytes::from(page);
            if let Lookup::Miss(ticket) = lookup {
                state.cache.keep(ticket, page.clone());
            }
            page
        }
    };
    Ok(HttpResponse::Ok()
        .content_type(ContentType::json())
        .body(page))
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
    state.lists_changed(call.user.account_id).await;
    Ok(success(json!({"id": id})))
}

pub async fn update(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    call.require(Right::EmployeeUpdate)?;
    let update = EmployeeUpdate::parse(&call.params.required::<Value>("employee")?)?;
    employees::update(&state.db, call.user.account_id, update).await?;
    state.lists_changed(call.user.account_id).await;
    Ok(success(json!({})))
}

pub async fn delete(
    call: Authenticated,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    call.require(Right::EmployeeUpdate)?;
    let id = employee_id(&call.params)?;
    employees::delete(&state.db, call.user.account_id, id).await?;
    state.lists_changed(call.user.account_id).await;
    Ok(success(json!({})))
}
