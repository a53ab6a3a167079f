//! Templates kept in a git repository (a repository of the *templates* category and a path):
//! the file is read from this server's copy at HEAD when the template is made, when someone asks,
//! and after every sync of the repository; a changed file is a new version (when it is still
//! valid for its kind; otherwise the sync says why and the template keeps its content).

use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};

use super::store;
use crate::crypto::Vault;
use crate::entity::{git_repositories as repo, templates};
use crate::error::Error;
use crate::services::audit::Actor;
use crate::services::git::browse::{Content, Reader, check_path};
use crate::services::git::{GitHome, repos, sync};
use crate::vocabulary::RepoCategory;

/// The text of `path` at HEAD of repository `repository_id`, or why not, in words.
pub async fn read(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    repository_id: i32,
    path: &str,
) -> Result<Result<(String, String), String>, Error> {
    let r = match repos::get(db, repository_id).await {
        Ok(r) => r,
        Err(Error::NotFound) => return Ok(Err("Choose one of the repositories.".into())),
        Err(e) => return Err(e),
    };
    if r.category != RepoCategory::Templates {
        return Ok(Err(format!(
            "{} holds {}, not templates: choose a templates repository.",
            r.name,
            r.category.label().to_lowercase()
        )));
    }
    let path = match check_path(path) {
        Ok(p) if !p.is_empty() => p,
        Ok(_) => return Ok(Err("Enter the file's path in the repository.".into())),
        Err(e) => return Ok(Err(e.to_string())),
    };
    read_at_head(db, vault, home, &r, &path).await
}

/// The file and the commit it was read at, or why not.
async fn read_at_head(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    r: &repo::Model,
    path: &str,
) -> Result<Result<(String, String), String>, Error> {
    sync::catch_up(db, vault, home, r).await;
    let Some(reader) = Reader::open(home, r.id) else {
        return Ok(Err(format!(
            "{} has no copy on this server yet: sync it first",
            r.name
        )));
    };
    if !reader.has_commits().await {
        return Ok(Err(format!("{} has no commits yet", r.name)));
    }
    let commit = reader.resolve("HEAD").await?;
    Ok(match reader.content("HEAD", path).await? {
        Some(Content::Text(text)) => Ok((text, commit)),
        Some(Content::Binary { .. }) => Err(format!("{path} in {} is not text", r.name)),
        Some(Content::TooLarge { size }) => {
            Err(format!("{path} in {} is too large ({size} bytes)", r.name))
        }
        None => Err(format!(
            "{path} does not exist in {} at its latest commit",
            r.name
        )),
    })
}

/// Reads a git template's file again; the version made, or why the template stayed as it was.
pub async fn refresh(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    actor: &Actor,
    t: &templates::Model,
) -> Result<Result<Option<i32>, String>, Error> {
    let (Some(repository_id), Some(path)) = (t.git_repository_id, t.file_path.as_deref()) else {
        return Ok(Err(format!("{} is not kept in a git repository", t.name)));
    };
    let r = match repos::get(db, repository_id).await {
        Ok(r) => r,
        Err(Error::NotFound) => return Ok(Err("its repository was deleted".into())),
        Err(e) => return Err(e),
    };
    let (text, commit) = match read_at_head(db, vault, home, &r, path).await? {
        Ok(read) => read,
        Err(why) => return Ok(Err(why)),
    };
    let note = format!(
        "synced from {} at {}",
        r.name,
        &commit[..commit.len().min(12)]
    );
    store::replace_content(db, actor, t, &text, &note).await
}

/// After a sync of repository `r`: every template kept in it read again. Notes for the job log.
pub async fn refresh_repository(
    db: &DatabaseConnection,
    vault: &Vault,
    home: &GitHome,
    r: &repo::Model,
) -> Result<Vec<String>, Error> {
    let kept = templates::Entity::find()
        .filter(templates::Column::GitRepositoryId.eq(r.id))
        .filter(templates::Column::DeletedAt.is_null())
        .all(db)
        .await?;
    let actor = Actor::system(&format!("git sync of {}", r.name));
    let mut notes = Vec::new();
    for t in &kept {
        notes.push(match refresh(db, vault, home, &actor, t).await? {
            Ok(Some(v)) => format!(
                "template {}: version {v} from {}",
                t.name,
                t.file_path.as_deref().unwrap_or("")
            ),
            Ok(None) => continue,
            Err(why) => format!("template {} kept as it was: {why}", t.name),
        });
    }
    Ok(notes)
}
