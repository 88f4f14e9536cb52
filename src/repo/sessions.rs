//! Sessions: created by `/user/auth`, ended by `/user/logout` or by idleness.

use std::time::Duration;

use sea_orm::{ActiveModelTrait, ConnectionTrait, DbErr, EntityTrait, IntoActiveModel, Set};

use super::entities::{session, user};
use super::users::current_user;
use crate::domain::user::{CurrentUser, SessionHash};

/// A session's expiry is pushed forward at most this often, so reads do not all become writes.
const TOUCH_INTERVAL_SECONDS: i64 = 60;

pub async fn create(
    db: &impl ConnectionTrait,
    user_id: i64,
    idle_timeout: Duration,
) -> Result<SessionHash, DbErr> {
    let hash = SessionHash::generate();
    let now = super::now();
    session::ActiveModel {
        hash: Set(hash.as_str().to_owned()),
        user_id: Set(user_id),
        created_at: Set(now),
        last_used_at: Set(now),
        expires_at: Set(now + idle_timeout.as_secs() as i64),
    }
    .insert(db)
    .await?;
    Ok(hash)
}

/// The user of a live session, pushing its expiry forward; `None` if unknown or expired.
pub async fn authenticate(
    db: &impl ConnectionTrait,
    hash: &SessionHash,
    idle_timeout: Duration,
) -> Result<Option<CurrentUser>, DbErr> {
    let Some((found, Some(owner))) = session::Entity::find_by_id(hash.as_str())
        .find_also_related(user::Entity)
        .one(db)
        .await?
    else {
        return Ok(None);
    };
    let now = super::now();
    if found.expires_at <= now {
        session::Entity::delete_by_id(hash.as_str())
            .exec(db)
            .await?;
        return Ok(None);
    }
    let idle = idle_timeout.as_secs() as i64;
    if now - found.last_used_at >= TOUCH_INTERVAL_SECONDS.min(idle / 10) {
        let mut active = found.into_active_model();
        active.last_used_at = Set(now);
        active.expires_at = Set(now + idle);
        active.update(db).await?;
    }
    Ok(Some(current_user(&owner)))
}

/// Ends a session; `false` if there was none.
pub async fn end(db: &impl ConnectionTrait, hash: &SessionHash) -> Result<bool, DbErr> {
    let result = session::Entity::delete_by_id(hash.as_str())
        .exec(db)
        .await?;
    Ok(result.rows_affected > 0)
}
