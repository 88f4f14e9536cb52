//! Which avatar files exist and which employee shows which: the bookkeeping that lets a later
//! `gc` delete only files nothing uses.

use sea_orm::sea_query::{Expr, OnConflict, Query, SelectStatement};
use sea_orm::{ColumnTrait, ConnectionTrait, DbErr, EntityTrait, QueryFilter, Set};

use super::entities::{avatar_file, employee};
use crate::api::error::ApiError;
use crate::domain::employee::EmployeeId;
use crate::images::AvatarName;

/// Records that `name` is being stored now; done before the file is written, so a sweep that
/// runs meanwhile sees a fresh file and keeps it.
pub async fn record_file(db: &impl ConnectionTrait, name: &AvatarName) -> Result<(), DbErr> {
    let row = avatar_file::ActiveModel {
        name: Set(name.to_string()),
        stored_at: Set(super::now()),
    };
    avatar_file::Entity::insert(row)
        .on_conflict(
            OnConflict::column(avatar_file::Column::Name)
                .update_column(avatar_file::Column::StoredAt)
                .to_owned(),
        )
        .exec(db)
        .await?;
    Ok(())
}

async fn set_column(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: EmployeeId,
    column: employee::Column,
    value: Expr,
) -> Result<(), ApiError> {
    let result = employee::Entity::update_many()
        .col_expr(column, value)
        .filter(employee::Column::Id.eq(id.get()))
        .filter(employee::Column::AccountId.eq(account_id))
        .exec(db)
        .await?;
    if result.rows_affected == 0 {
        return Err(ApiError::NotFound);
    }
    Ok(())
}

/// Points the employee at a stored file; call only once the file is durable.
pub async fn show_uploaded(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: EmployeeId,
    name: &AvatarName,
) -> Result<(), ApiError> {
    let value = Expr::value(name.to_string());
    set_column(db, account_id, id, employee::Column::AvatarFileName, value).await
}

/// Sets or clears the employee's preset icon; the uploaded file, if any, is kept.
pub async fn assign_icon(
    db: &impl ConnectionTrait,
    account_id: i64,
    id: EmployeeId,
    icon_id: Option<i64>,
) -> Result<(), ApiError> {
    let value = Expr::value(icon_id);
    set_column(db, account_id, id, employee::Column::IconId, value).await
}

/// Employees' avatar names, as a subquery.
fn referenced_names() -> SelectStatement {
    Query::select()
        .column(employee::Column::AvatarFileName)
        .from(employee::Entity)
        .and_where(employee::Column::AvatarFileName.is_not_null())
        .to_owned()
}

/// Files stored at or before `cutoff` that no employee shows.
pub async fn unreferenced_before(
    db: &impl ConnectionTrait,
    cutoff: i64,
) -> Result<Vec<String>, DbErr> {
    let rows = avatar_file::Entity::find()
        .filter(avatar_file::Column::StoredAt.lte(cutoff))
        .filter(avatar_file::Column::Name.not_in_subquery(referenced_names()))
        .all(db)
        .await?;
    Ok(rows.into_iter().map(|row| row.name).collect())
}

/// Forgets a file if it is still unreferenced and stored at or before `cutoff`. Run inside the
/// transaction that also deletes the file: an upload recording the same name waits for it.
pub async fn forget_if_unreferenced(
    db: &impl ConnectionTrait,
    name: &str,
    cutoff: i64,
) -> Result<bool, DbErr> {
    let result = avatar_file::Entity::delete_many()
        .filter(avatar_file::Column::Name.eq(name))
        .filter(avatar_file::Column::StoredAt.lte(cutoff))
        .filter(avatar_file::Column::Name.not_in_subquery(referenced_names()))
        .exec(db)
        .await?;
    Ok(result.rows_affected == 1)
}

/// Whether the database knows the file at all (recorded or shown by an employee).
pub async fn is_known(db: &impl ConnectionTrait, name: &str) -> Result<bool, DbErr> {
    let recorded = avatar_file::Entity::find_by_id(name.to_owned())
        .one(db)
        .await?;
    if recorded.is_some() {
        return Ok(true);
    }
    let shown = employee::Entity::find()
        .filter(employee::Column::AvatarFileName.eq(name))
        .one(db)
        .await?;
    Ok(shown.is_some())
}
