//! Which avatar files exist and which employee shows which: the bookkeeping that lets a later
//! `gc` delete only files nothing uses.

use sea_orm::sea_query::{Expr, OnConflict};
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
