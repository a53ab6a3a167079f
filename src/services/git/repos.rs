//! Registered repositories: the form, its checks, and changes (each audited). A repository's
//! credential comes from the vault and must suit its transport: a token or username/password
//! for HTTPS, a private key for SSH, none for a local path.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, DatabaseConnection,
    EntityTrait, IntoActiveModel, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect,
};
use serde::Deserialize;

use super::layout;
use super::remote::Transport;
use crate::entity::{credentials, git_repositories as repo};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::validation::{FieldErrors, MAX_NAME, toggle};
use crate::vocabulary::{CredentialKind, RepoCategory};

/// The repository form as sent: the form's body, this service's input, and what a form shown
/// again holds.
#[derive(Clone, Debug, Deserialize)]
pub struct RepoInput {
    pub name: String,
    pub url: String,
    pub branch: String,
    pub category: String,
    /// A credential id, or "" for none.
    pub credential_id: String,
    #[serde(deserialize_with = "toggle")]
    pub verify_ssl: bool,
    pub author_name: String,
    pub author_email: String,
    pub description: String,
    #[serde(deserialize_with = "toggle")]
    pub is_active: bool,
    #[serde(deserialize_with = "toggle")]
    pub is_mirror: bool,
    pub mirror_dir: String,
    pub file_template: String,
}

impl RepoInput {
    pub fn for_new() -> Self {
        RepoInput {
            name: String::new(),
            url: String::new(),
            branch: "main".into(),
            category: RepoCategory::Configs.as_str().into(),
            credential_id: String::new(),
            verify_ssl: true,
            author_name: String::new(),
            author_email: String::new(),
            description: String::new(),
            is_active: true,
            is_mirror: false,
            mirror_dir: String::new(),
            file_template: layout::DEFAULT_TEMPLATE.into(),
        }
    }

    pub fn of(r: &repo::Model) -> Self {
        RepoInput {
            name: r.name.clone(),
            url: r.url.clone(),
            branch: r.branch.clone(),
            category: r.category.as_str().into(),
            credential_id: r.credential_id.map(|c| c.to_string()).unwrap_or_default(),
            verify_ssl: r.verify_ssl,
            author_name: r.author_name.clone().unwrap_or_default(),
            author_email: r.author_email.clone().unwrap_or_default(),
            description: r.description.clone().unwrap_or_default(),
            is_active: r.is_active,
            is_mirror: r.is_mirror,
            mirror_dir: r.mirror_dir.clone(),
            file_template: r.file_template.clone(),
        }
    }
}

struct Valid {
    name: String,
    url: String,
    branch: String,
    category: RepoCategory,
    credential_id: Option<i32>,
    verify_ssl: bool,
    author_name: Option<String>,
    author_email: Option<String>,
    description: Option<String>,
    is_active: bool,
    is_mirror: bool,
    mirror_dir: String,
    file_template: String,
}

/// A branch name git accepts (`git check-ref-format --branch`, the common rules).
fn valid_branch(b: &str) -> bool {
    !b.is_empty()
        && !b.starts_with(['-', '/', '.'])
        && !b.ends_with(['/', '.'])
        && !b.ends_with(".lock")
        && !b.contains("..")
        && !b.contains("//")
        && !b.contains("@{")
        && !b
            .chars()
            .any(|c| c.is_control() || c.is_whitespace() || "~^:?*[\\".contains(c))
}

/// A URL's password part (`https://user:secret@host`), which must never be stored.
fn has_password(url: &str) -> bool {
    url.split_once("://")
        .map(|(_, rest)| rest.split('/').next().unwrap_or(""))
        .and_then(|authority| authority.rsplit_once('@'))
        .is_some_and(|(userinfo, _)| userinfo.contains(':'))
}

async fn validate(
    db: &impl ConnectionTrait,
    input: &RepoInput,
    existing_id: Option<i32>,
) -> Result<Valid, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.required("name", &input.name, MAX_NAME);
    let url = errors.required("url", &input.url, 1000);
    let transport = Transport::of(&url);
    if !url.is_empty() {
        if url.starts_with('-') || url.chars().any(char::is_whitespace) {
            errors.add("url", "A URL cannot start with - or contain spaces.");
        } else if transport.is_none() {
            errors.add(
                "url",
                "Enter an https:// or ssh:// URL, user@host:path, or a local path (/srv/git/configs.git or file://...).",
            );
        } else if has_password(&url) {
            errors.add(
                "url",
                "Do not put a password or token in the URL: store it as a credential and choose it below.",
            );
        }
    }
    let branch = input.branch.trim().to_string();
    if !valid_branch(&branch) {
        errors.add(
            "branch",
            "Enter a branch name git accepts, for example main.",
        );
    }
    let category = RepoCategory::parse(input.category.trim());
    if category.is_none() {
        errors.add("category", "Choose configurations, templates or inventory.");
    }
    let credential_id = match input.credential_id.trim() {
        "" => None,
        raw => match raw.parse::<i32>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add("credential_id", "Choose a credential from the list.");
                None
            }
        },
    };
    if let Some(id) = credential_id {
        let credential = credentials::Entity::find_by_id(id)
            .filter(credentials::Column::OwnerId.is_null())
            .one(db)
            .await?;
        match (credential, transport) {
            (None, _) => errors.add(
                "credential_id",
                "Choose a shared credential from the list (a private credential cannot be used by a repository).",
            ),
            (Some(_), Some(Transport::Local)) => errors.add(
                "credential_id",
                "A local path needs no credential: choose none.",
            ),
            (Some(c), Some(Transport::Https))
                if !matches!(c.kind, CredentialKind::Token | CredentialKind::Generic) =>
            {
                errors.add(
                    "credential_id",
                    "An HTTPS remote needs a token or a username/password (generic) credential.",
                )
            }
            (Some(c), Some(Transport::Https)) if c.secret.is_none() => errors.add(
                "credential_id",
                "This credential has no secret stored: add its token or password first.",
            ),
            (Some(c), Some(Transport::Ssh)) if c.private_key.is_none() => errors.add(
                "credential_id",
                "An SSH remote needs a credential with a private key.",
            ),
            _ => {}
        }
    }
    let author_name = errors.optional("author_name", &input.author_name, MAX_NAME);
    let author_email = errors.email("author_email", &input.author_email);
    let description = errors.optional("description", &input.description, 2000);
    let mirror_dir = input.mirror_dir.trim().trim_end_matches('/').to_string();
    if let Err(m) = layout::check_dir(&mirror_dir) {
        errors.add("mirror_dir", m);
    }
    let file_template = input.file_template.trim().to_string();
    if let Err(m) = layout::check_template(&file_template) {
        errors.add("file_template", m);
    }
    if input.is_mirror && category.is_some_and(|c| c != RepoCategory::Configs) {
        errors.add(
            "is_mirror",
            "Only a configurations repository can mirror the stored configurations.",
        );
    }
    if errors.get("name").is_none() {
        let mut q = repo::Entity::find()
            .filter(Expr::expr(Func::lower(Expr::col(repo::Column::Name))).eq(name.to_lowercase()));
        if let Some(id) = existing_id {
            q = q.filter(repo::Column::Id.ne(id));
        }
        if q.count(db).await? > 0 {
            errors.add("name", "A repository with this name already exists.");
        }
    }
    errors.into_result()?;
    Ok(Valid {
        name,
        url,
        branch,
        category: category.unwrap_or(RepoCategory::Configs),
        credential_id,
        verify_ssl: input.verify_ssl,
        author_name,
        author_email,
        description,
        is_active: input.is_active,
        is_mirror: input.is_mirror,
        mirror_dir,
        file_template,
    })
}

impl Valid {
    /// The checked form's values on a new or stored row.
    fn set_on(self, active: &mut repo::ActiveModel) {
        active.name = Set(self.name);
        active.url = Set(self.url);
        active.branch = Set(self.branch);
        active.category = Set(self.category);
        active.credential_id = Set(self.credential_id);
        active.verify_ssl = Set(self.verify_ssl);
        active.author_name = Set(self.author_name);
        active.author_email = Set(self.author_email);
        active.description = Set(self.description);
        active.is_active = Set(self.is_active);
        active.is_mirror = Set(self.is_mirror);
        active.mirror_dir = Set(self.mirror_dir);
        active.file_template = Set(self.file_template);
        active.updated_at = Set(Utc::now());
    }
}

pub async fn get(db: &impl ConnectionTrait, id: i32) -> Result<repo::Model, Error> {
    repo::Entity::find_by_id(id)
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<repo::Model>, Error> {
    Ok(repo::Entity::find()
        .order_by_asc(repo::Column::Name)
        .all(db)
        .await?)
}

/// Active mirrors: the repositories a backup job's new versions go to.
pub async fn mirrors(db: &impl ConnectionTrait) -> Result<Vec<repo::Model>, Error> {
    Ok(repo::Entity::find()
        .filter(repo::Column::IsMirror.eq(true))
        .filter(repo::Column::IsActive.eq(true))
        .order_by_asc(repo::Column::Id)
        .all(db)
        .await?)
}

/// The credentials a repository may use: shared ones of the kinds git can send.
pub async fn usable_credentials(
    db: &impl ConnectionTrait,
) -> Result<Vec<(i32, String, CredentialKind)>, Error> {
    Ok(credentials::Entity::find()
        .select_only()
        .column(credentials::Column::Id)
        .column(credentials::Column::Name)
        .column(credentials::Column::Kind)
        .filter(credentials::Column::OwnerId.is_null())
        .filter(credentials::Column::Kind.is_in([
            CredentialKind::Token,
            CredentialKind::Generic,
            CredentialKind::Ssh,
        ]))
        .order_by_asc(credentials::Column::Name)
        .into_tuple()
        .all(db)
        .await?)
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    input: &RepoInput,
) -> Result<repo::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let v = validate(&txn, input, None).await?;
    let mut active = repo::ActiveModel {
        created_at: Set(Utc::now()),
        ..Default::default()
    };
    v.set_on(&mut active);
    let r = active.insert(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("git_repository.create")
            .target("git_repository", r.id)
            .detail("name", r.name.clone())
            .detail("url", r.url.clone())
            .detail("category", r.category.as_str())
            .detail("mirror", r.is_mirror),
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    input: &RepoInput,
) -> Result<repo::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let r = get(&txn, id).await?;
    let v = validate(&txn, input, Some(id)).await?;
    let fields = audit::changed_fields(&[
        ("name", v.name != r.name),
        ("url", v.url != r.url),
        ("branch", v.branch != r.branch),
        ("category", v.category != r.category),
        ("credential", v.credential_id != r.credential_id),
        ("verify_ssl", v.verify_ssl != r.verify_ssl),
        ("author_name", v.author_name != r.author_name),
        ("author_email", v.author_email != r.author_email),
        ("description", v.description != r.description),
        ("is_active", v.is_active != r.is_active),
        ("is_mirror", v.is_mirror != r.is_mirror),
        ("mirror_dir", v.mirror_dir != r.mirror_dir),
        ("file_template", v.file_template != r.file_template),
    ]);
    let moved = v.url != r.url || v.branch != r.branch;
    let mut active = r.into_active_model();
    if moved {
        // Another remote or branch: the host keys and the mirror's record belong to the old one.
        active.known_hosts = Set(None);
        crate::entity::git_mirror_files::Entity::delete_many()
            .filter(crate::entity::git_mirror_files::Column::RepositoryId.eq(id))
            .exec(&txn)
            .await?;
    }
    v.set_on(&mut active);
    let r = active.update(&txn).await?;
    if !fields.is_empty() {
        audit::record(
            &txn,
            actor,
            Event::data("git_repository.update")
                .target("git_repository", id)
                .detail("name", r.name.clone())
                .detail("fields", fields),
        )
        .await?;
    }
    txn.commit().await?;
    Ok(r)
}

pub async fn delete(db: &DatabaseConnection, actor: &Actor, id: i32) -> Result<repo::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let r = get(&txn, id).await?;
    repo::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("git_repository.delete")
            .target("git_repository", id)
            .detail("name", r.name.clone())
            .detail("url", r.url.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(r)
}

/// Record the SSH host keys an administrator chose to trust.
pub async fn trust_host_keys(
    db: &DatabaseConnection,
    actor: &Actor,
    id: i32,
    known_hosts: &str,
    fingerprints: &[String],
) -> Result<(), Error> {
    let txn = crate::db::begin_write(db).await?;
    let r = get(&txn, id).await?;
    let mut active = r.into_active_model();
    active.known_hosts = Set(Some(known_hosts.to_string()));
    active.updated_at = Set(Utc::now());
    active.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::security("git_repository.trust_host_key")
            .target("git_repository", id)
            .detail("fingerprints", fingerprints.to_vec()),
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn branches_and_passwords() {
        assert!(valid_branch("main"));
        assert!(valid_branch("feature/x-1"));
        assert!(!valid_branch("-x"));
        assert!(!valid_branch("a..b"));
        assert!(!valid_branch("a b"));
        assert!(has_password("https://u:tok@git.example.com/r.git"));
        assert!(!has_password("https://u@git.example.com/r.git"));
        assert!(!has_password("ssh://git@h:22/r.git"));
    }
}
