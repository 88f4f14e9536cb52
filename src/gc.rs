//! `employee-avatars gc`: deletes stored avatars (and their thumbnails) that no employee shows
//! and that were not stored within the grace period.

use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use sea_orm::{DatabaseConnection, TransactionTrait};

use crate::images::AvatarName;
use crate::repo::{self, avatars};

/// What a sweep removed (or, in a dry run, would remove), as paths below the storage folder.
pub async fn sweep(
    db: &DatabaseConnection,
    storage: &Path,
    grace: Duration,
    dry_run: bool,
) -> anyhow::Result<Vec<String>> {
    let cutoff = repo::now() - grace.as_secs() as i64;
    let mut removed = Vec::new();
    for name in avatars::unreferenced_before(db, cutoff).await? {
        if dry_run {
            removed.extend(copies_of(storage, &name));
            continue;
        }
        // The file goes while the row is locked, so an upload of the same picture waits and
        // then writes it anew.
        let txn = db.begin().await?;
        if avatars::forget_if_unreferenced(&txn, &name, cutoff).await? {
            removed.extend(delete_copies(storage, &name)?);
        }
        txn.commit().await?;
    }
    removed.extend(sweep_strays(db, storage, grace, dry_run).await?);
    Ok(removed)
}

/// The avatar and every thumbnail of `name` present below `storage`.
fn copies_of(storage: &Path, name: &str) -> Vec<String> {
    let mut copies = Vec::new();
    if storage.join(name).is_file() {
        copies.push(name.to_owned());
    }
    for folder in size_folders(storage) {
        let thumbnail = format!("{folder}/{name}");
        if storage.join(&thumbnail).is_file() {
            copies.push(thumbnail);
        }
    }
    copies
}

fn delete_copies(storage: &Path, name: &str) -> std::io::Result<Vec<String>> {
    let copies = copies_of(storage, name);
    for copy in &copies {
        std::fs::remove_file(storage.join(copy))?;
    }
    Ok(copies)
}

/// The thumbnail folders: every sub-folder named by a number.
fn size_folders(storage: &Path) -> Vec<String> {
    let Ok(entries) = std::fs::read_dir(storage) else {
        return Vec::new();
    };
    entries
        .flatten()
        .filter(|e| e.path().is_dir())
        .filter_map(|e| e.file_name().into_string().ok())
        .filter(|name| name.parse::<u32>().is_ok())
        .collect()
}

/// Files the database does not know (left by an interrupted write or copied in by hand) and
/// abandoned temporary files, once older than the grace period.
async fn sweep_strays(
    db: &DatabaseConnection,
    storage: &Path,
    grace: Duration,
    dry_run: bool,
) -> anyhow::Result<Vec<String>> {
    let mut folders = vec![PathBuf::new()];
    folders.extend(size_folders(storage).into_iter().map(PathBuf::from));
    let mut removed = Vec::new();
    for folder in folders {
        let Ok(entries) = std::fs::read_dir(storage.join(&folder)) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            let file_name = entry.file_name().to_string_lossy().into_owned();
            let old_enough = entry
                .metadata()
                .and_then(|m| m.modified())
                .ok()
                .and_then(|modified| SystemTime::now().duration_since(modified).ok())
                .is_some_and(|age| age >= grace);
            if !path.is_file() || !old_enough {
                continue;
            }
            let stray = if file_name.starts_with(".incoming-") {
                true
            } else if AvatarName::parse(&file_name).is_some() {
                !avatars::is_known(db, &file_name).await?
            } else {
                false
            };
            if stray {
                if !dry_run {
                    std::fs::remove_file(&path)?;
                }
                removed.push(folder.join(&file_name).display().to_string());
            }
        }
    }
    Ok(removed)
}
