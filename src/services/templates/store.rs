//! Templates and their versions: the form and its checks, create and update (a new version only
//! when the content changed), restore (an old version's content as a new version), soft delete
//! (the history stays) and purge, each audited. A private template exists only for its owner.

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, Func};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait,
    DatabaseConnection, EntityTrait, IntoActiveModel, QueryFilter, QueryOrder, QuerySelect,
};
use serde::{Deserialize, Serialize};
use serde_json::json;

use super::check;
use crate::crypto::sha256_hex;
use crate::entity::{template_versions as versions, templates};
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::credentials::Viewer;
use crate::services::query::{Page, Paging, contains_ci, fetch_page};
use crate::services::validation::{FieldErrors, MAX_NAME};
use crate::vocabulary::{TemplateKind, TemplateScope, TemplateSource};

/// The largest template accepted.
pub const MAX_CONTENT: usize = 1024 * 1024;

/// A declared variable: its name, default and what it is for.
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
pub struct Variable {
    pub name: String,
    pub default: String,
    pub description: String,
}

/// Variables, one per line: `name = default  # description` (default and description optional).
pub fn parse_variables(text: &str) -> Result<Vec<Variable>, String> {
    let mut out: Vec<Variable> = Vec::new();
    for (i, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() {
            continue;
        }
        let (def, description) = match line.split_once(" #") {
            Some((d, c)) => (d.trim(), c.trim()),
            None => (line, ""),
        };
        let (name, default) = match def.split_once('=') {
            Some((n, d)) => (n.trim(), d.trim()),
            None => (def, ""),
        };
        let valid = !name.is_empty()
            && name.len() <= 64
            && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_')
            && !name.starts_with(|c: char| c.is_ascii_digit());
        if !valid {
            return Err(format!(
                "line {}: {name:?} is not a variable name (letters, digits, _; not first a digit)",
                i + 1
            ));
        }
        if out.iter().any(|v| v.name == name) {
            return Err(format!("line {}: {name} is declared twice", i + 1));
        }
        out.push(Variable {
            name: name.to_string(),
            default: default.to_string(),
            description: description.to_string(),
        });
    }
    Ok(out)
}

/// A template's declared variables.
pub fn variables_of(t: &templates::Model) -> Vec<Variable> {
    t.variables
        .as_ref()
        .and_then(|v| serde_json::from_value(v.clone()).ok())
        .unwrap_or_default()
}

/// Variables as the form shows them.
pub fn variables_text(vars: &[Variable]) -> String {
    vars.iter()
        .map(|v| {
            let mut line = v.name.clone();
            if !v.default.is_empty() {
                line.push_str(&format!(" = {}", v.default));
            }
            if !v.description.is_empty() {
                line.push_str(&format!("  # {}", v.description));
            }
            line
        })
        .collect::<Vec<_>>()
        .join("\n")
}

/// The template form as sent (the editor, or an uploaded file's text put in `content`).
#[derive(Clone, Debug, Default, Deserialize)]
pub struct TemplateInput {
    pub name: String,
    pub template_type: String,
    pub category: String,
    pub description: String,
    pub variables: String,
    pub scope: String,
    pub content: String,
    #[serde(default)]
    pub change_note: String,
    /// `editor` or `git` (new templates only).
    #[serde(default)]
    pub source: String,
    #[serde(default)]
    pub git_repository_id: String,
    #[serde(default)]
    pub file_path: String,
    /// Jinja2 only: a command run on the device before rendering (empty: none).
    #[serde(default)]
    pub pre_run_command: String,
    /// The TextFSM template that parses the pre-run command's output.
    #[serde(default)]
    pub pre_run_parser_id: String,
}

impl TemplateInput {
    pub fn for_new() -> Self {
        TemplateInput {
            template_type: TemplateKind::Jinja2.as_str().into(),
            scope: TemplateScope::Global.as_str().into(),
            source: TemplateSource::Editor.as_str().into(),
            ..TemplateInput::default()
        }
    }

    pub fn of(t: &templates::Model) -> Self {
        TemplateInput {
            name: t.name.clone(),
            template_type: t.template_type.as_str().into(),
            category: t.category.clone().unwrap_or_default(),
            description: t.description.clone().unwrap_or_default(),
            variables: variables_text(&variables_of(t)),
            scope: t.scope.as_str().into(),
            content: t.content.clone(),
            change_note: String::new(),
            source: t.source.as_str().into(),
            git_repository_id: t
                .git_repository_id
                .map(|i| i.to_string())
                .unwrap_or_default(),
            file_path: t.file_path.clone().unwrap_or_default(),
            pre_run_command: t.pre_run_command.clone().unwrap_or_default(),
            pre_run_parser_id: t
                .pre_run_parser_id
                .map(|i| i.to_string())
                .unwrap_or_default(),
        }
    }
}

struct Valid {
    name: String,
    kind: TemplateKind,
    category: Option<String>,
    description: Option<String>,
    variables: Vec<Variable>,
    scope: TemplateScope,
    content: String,
    change_note: Option<String>,
    /// The pre-run command and its parser.
    pre_run: Option<(String, i32)>,
}

fn visible_to(viewer: Viewer) -> Condition {
    Condition::any()
        .add(templates::Column::Scope.eq(TemplateScope::Global))
        .add(templates::Column::OwnerId.eq(viewer.user_id))
}

async fn validate(
    db: &impl ConnectionTrait,
    input: &TemplateInput,
    existing: Option<i32>,
) -> Result<Valid, Error> {
    let mut errors = FieldErrors::new();
    let name = errors.required("name", &input.name, MAX_NAME);
    let kind = TemplateKind::parse(input.template_type.trim());
    if kind.is_none() {
        errors.add(
            "template_type",
            "Choose Jinja2, text, YAML, JSON or TextFSM.",
        );
    }
    let scope = TemplateScope::parse(input.scope.trim());
    if scope.is_none() {
        errors.add("scope", "Choose general or private.");
    }
    let category = errors.optional("category", &input.category, 100);
    let description = errors.optional("description", &input.description, 2000);
    let change_note = errors.optional("change_note", &input.change_note, 500);
    let variables = parse_variables(&input.variables).unwrap_or_else(|m| {
        errors.add("variables", m);
        Vec::new()
    });
    // Line endings as a browser sends them are not a change.
    let content = input.content.replace("\r\n", "\n");
    if content.trim().is_empty() {
        errors.add("content", "A template needs content.");
    } else if content.len() > MAX_CONTENT {
        errors.add("content", "At most 1 MiB.");
    } else if let Some(kind) = kind
        && let Err(m) = check::check(kind, &content)
    {
        errors.add(
            "content",
            format!("This is not valid {}: {m}", kind.label()),
        );
    }
    if errors.get("name").is_none() {
        let mut q = templates::Entity::find()
            .filter(templates::Column::DeletedAt.is_null())
            .filter(
                Expr::expr(Func::lower(Expr::col(templates::Column::Name))).eq(name.to_lowercase()),
            );
        if let Some(id) = existing {
            q = q.filter(templates::Column::Id.ne(id));
        }
        if q.one(db).await?.is_some() {
            errors.add("name", "A template with this name already exists.");
        }
    }
    let pre_run = validate_pre_run(db, input, kind, &mut errors).await?;
    errors.into_result()?;
    Ok(Valid {
        pre_run,
        name,
        kind: kind.unwrap_or(TemplateKind::Text),
        category,
        description,
        variables,
        scope: scope.unwrap_or(TemplateScope::Global),
        content,
        change_note,
    })
}

/// The pre-run command (one read-only command, as a command run would accept it) and its TextFSM
/// parser (an active TextFSM template), for Jinja2 templates.
async fn validate_pre_run(
    db: &impl ConnectionTrait,
    input: &TemplateInput,
    kind: Option<TemplateKind>,
    errors: &mut FieldErrors,
) -> Result<Option<(String, i32)>, Error> {
    let command = input.pre_run_command.trim();
    if command.is_empty() {
        return Ok(None);
    }
    if kind != Some(TemplateKind::Jinja2) {
        errors.add(
            "pre_run_command",
            "Only a Jinja2 template has a pre-run command.",
        );
        return Ok(None);
    }
    let command = match crate::services::commands::parse(command) {
        Ok(c) if c.len() == 1 => c[0].clone(),
        Ok(_) => {
            errors.add("pre_run_command", "One command.");
            return Ok(None);
        }
        Err(m) => {
            errors.add("pre_run_command", m);
            return Ok(None);
        }
    };
    if let Some(why) = crate::services::commands::refusal("", &command) {
        errors.add("pre_run_command", why);
        return Ok(None);
    }
    let parser = match input.pre_run_parser_id.trim().parse::<i32>() {
        Ok(id) => {
            templates::Entity::find_by_id(id)
                .filter(templates::Column::TemplateType.eq(TemplateKind::Textfsm))
                .filter(templates::Column::DeletedAt.is_null())
                .one(db)
                .await?
        }
        Err(_) => None,
    };
    match parser {
        Some(p) => Ok(Some((command, p.id))),
        None => {
            errors.add(
                "pre_run_parser_id",
                "Choose the TextFSM template that parses the command's output.",
            );
            Ok(None)
        }
    }
}

/// A template the viewer may see (deleted ones included: their history stays readable).
pub async fn get(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
) -> Result<templates::Model, Error> {
    templates::Entity::find_by_id(id)
        .filter(visible_to(viewer))
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

/// A template that is not deleted, for changes.
async fn get_active(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    id: i32,
) -> Result<templates::Model, Error> {
    let t = get(db, viewer, id).await?;
    if t.deleted_at.is_some() {
        return Err(Error::Refused(format!(
            "template {} was deleted: its history can be read, not changed",
            t.name
        )));
    }
    Ok(t)
}

/// The list's filters.
#[derive(Clone, Debug, Default)]
pub struct TemplateFilter {
    pub kind: Option<TemplateKind>,
    pub category: String,
    pub q: String,
    pub deleted: bool,
}

pub async fn list(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    f: &TemplateFilter,
    paging: Paging,
) -> Result<Page<templates::Model>, Error> {
    let mut q = templates::Entity::find()
        .filter(visible_to(viewer))
        .order_by_asc(templates::Column::Name)
        .order_by_asc(templates::Column::Id);
    q = if f.deleted {
        q.filter(templates::Column::DeletedAt.is_not_null())
    } else {
        q.filter(templates::Column::DeletedAt.is_null())
    };
    if let Some(k) = f.kind {
        q = q.filter(templates::Column::TemplateType.eq(k));
    }
    if !f.category.trim().is_empty() {
        q = q.filter(templates::Column::Category.eq(f.category.trim()));
    }
    let text = f.q.trim();
    if !text.is_empty() {
        q = q.filter(
            Condition::any()
                .add(contains_ci(Expr::col(templates::Column::Name), text))
                .add(contains_ci(Expr::col(templates::Column::Description), text)),
        );
    }
    Ok(fetch_page(db, q, paging).await?)
}

/// The active templates of these kinds the viewer may use, by name (a form's menu).
pub async fn active_of_kinds(
    db: &impl ConnectionTrait,
    viewer: Viewer,
    kinds: &[TemplateKind],
) -> Result<Vec<templates::Model>, Error> {
    Ok(templates::Entity::find()
        .filter(visible_to(viewer))
        .filter(templates::Column::DeletedAt.is_null())
        .filter(templates::Column::TemplateType.is_in(kinds.iter().copied()))
        .order_by_asc(templates::Column::Name)
        .all(db)
        .await?)
}

/// The categories in use, for the form's suggestions.
pub async fn categories(db: &impl ConnectionTrait, viewer: Viewer) -> Result<Vec<String>, Error> {
    let mut c: Vec<String> = templates::Entity::find()
        .select_only()
        .column(templates::Column::Category)
        .filter(visible_to(viewer))
        .filter(templates::Column::Category.is_not_null())
        .distinct()
        .into_tuple::<Option<String>>()
        .all(db)
        .await?
        .into_iter()
        .flatten()
        .collect();
    c.sort();
    Ok(c)
}

pub async fn versions(db: &impl ConnectionTrait, id: i32) -> Result<Vec<versions::Model>, Error> {
    Ok(versions::Entity::find()
        .filter(versions::Column::TemplateId.eq(id))
        .order_by_desc(versions::Column::Version)
        .all(db)
        .await?)
}

pub async fn version(db: &impl ConnectionTrait, id: i32, v: i32) -> Result<versions::Model, Error> {
    versions::Entity::find()
        .filter(versions::Column::TemplateId.eq(id))
        .filter(versions::Column::Version.eq(v))
        .one(db)
        .await?
        .ok_or(Error::NotFound)
}

async fn add_version(
    db: &impl ConnectionTrait,
    template_id: i32,
    content: &str,
    note: Option<String>,
    by: Option<i32>,
) -> Result<i32, Error> {
    let last: Option<i32> = versions::Entity::find()
        .select_only()
        .column_as(versions::Column::Version.max(), "v")
        .filter(versions::Column::TemplateId.eq(template_id))
        .into_tuple::<Option<i32>>()
        .one(db)
        .await?
        .flatten();
    let next = last.unwrap_or(0) + 1;
    versions::ActiveModel {
        template_id: Set(template_id),
        version: Set(next),
        content: Set(content.to_string()),
        content_hash: Set(sha256_hex(content.as_bytes())),
        change_notes: Set(note),
        created_by: Set(by),
        created_at: Set(Utc::now()),
        ..Default::default()
    }
    .insert(db)
    .await?;
    Ok(next)
}

fn actor_id(viewer: Viewer) -> Option<i32> {
    Some(viewer.user_id)
}

pub async fn create(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    input: &TemplateInput,
    source: TemplateSource,
) -> Result<templates::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let v = validate(&txn, input, None).await?;
    let now = Utc::now();
    let t = templates::ActiveModel {
        name: Set(v.name.clone()),
        source: Set(source),
        template_type: Set(v.kind),
        category: Set(v.category),
        content: Set(v.content.clone()),
        variables: Set(Some(json!(v.variables))),
        description: Set(v.description),
        scope: Set(v.scope),
        owner_id: Set(actor_id(viewer)),
        // The file it is read from (checked by the caller, which read it).
        git_repository_id: Set((source == TemplateSource::Git)
            .then(|| input.git_repository_id.trim().parse().ok())
            .flatten()),
        file_path: Set((source == TemplateSource::Git)
            .then(|| input.file_path.trim().trim_matches('/').to_string())),
        pre_run_command: Set(v.pre_run.as_ref().map(|(c, _)| c.clone())),
        pre_run_parser_id: Set(v.pre_run.as_ref().map(|(_, p)| *p)),
        created_at: Set(now),
        updated_at: Set(now),
        ..Default::default()
    }
    .insert(&txn)
    .await?;
    add_version(&txn, t.id, &v.content, v.change_note, actor_id(viewer)).await?;
    audit::record(
        &txn,
        actor,
        Event::data("template.create")
            .target("template", t.id)
            .detail("name", t.name.clone())
            .detail("type", t.template_type.as_str())
            .detail("source", source.as_str()),
    )
    .await?;
    txn.commit().await?;
    Ok(t)
}

/// Saves the form; a new version when the content changed. The version saved, if any.
pub async fn update(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: i32,
    input: &TemplateInput,
) -> Result<(templates::Model, Option<i32>), Error> {
    let txn = crate::db::begin_write(db).await?;
    let old = get_active(&txn, viewer, id).await?;
    let mut v = validate(&txn, input, Some(id)).await?;
    // A git template's content is its file's: it changes with the repository, not here.
    if old.source == TemplateSource::Git {
        v.content = old.content.clone();
    }
    if v.scope == TemplateScope::Private && old.owner_id != Some(viewer.user_id) {
        return Err(FieldErrors::single(
            "scope",
            "Only the template's owner can make it private.",
        ));
    }
    let content_changed = old.content != v.content;
    let changed = audit::changed_fields(&[
        ("name", old.name != v.name),
        ("type", old.template_type != v.kind),
        ("category", old.category != v.category),
        ("description", old.description != v.description),
        ("variables", variables_of(&old) != v.variables),
        ("scope", old.scope != v.scope),
        ("content", content_changed),
        (
            "pre_run",
            old.pre_run_command.as_ref().zip(old.pre_run_parser_id)
                != v.pre_run.as_ref().map(|(c, p)| (c, *p)),
        ),
    ]);
    let mut a = old.clone().into_active_model();
    a.name = Set(v.name);
    a.template_type = Set(v.kind);
    a.category = Set(v.category);
    a.description = Set(v.description);
    a.variables = Set(Some(json!(v.variables)));
    a.scope = Set(v.scope);
    a.content = Set(v.content.clone());
    a.pre_run_command = Set(v.pre_run.as_ref().map(|(c, _)| c.clone()));
    a.pre_run_parser_id = Set(v.pre_run.as_ref().map(|(_, p)| *p));
    if !changed.is_empty() {
        a.updated_at = Set(Utc::now());
    }
    let t = a.update(&txn).await?;
    let version = if content_changed {
        Some(add_version(&txn, id, &v.content, v.change_note, actor_id(viewer)).await?)
    } else {
        None
    };
    if !changed.is_empty() {
        audit::record(
            &txn,
            actor,
            Event::data("template.update")
                .target("template", id)
                .detail("name", t.name.clone())
                .detail("changed", json!(changed))
                .detail("version", json!(version)),
        )
        .await?;
    }
    txn.commit().await?;
    Ok((t, version))
}

/// A git template's file read again: its content when it changed and is still valid for its
/// kind (a new version, audited as `template.sync`); the version made, or why not.
pub async fn replace_content(
    db: &DatabaseConnection,
    actor: &Actor,
    t: &templates::Model,
    content: &str,
    note: &str,
) -> Result<Result<Option<i32>, String>, Error> {
    let content = content.replace("\r\n", "\n");
    if content == t.content {
        return Ok(Ok(None));
    }
    if content.len() > MAX_CONTENT {
        return Ok(Err("the file is larger than 1 MiB".into()));
    }
    if let Err(m) = check::check(t.template_type, &content) {
        return Ok(Err(format!(
            "the file is not valid {}: {m}",
            t.template_type.label()
        )));
    }
    let txn = crate::db::begin_write(db).await?;
    let new = add_version(&txn, t.id, &content, Some(note.to_string()), actor.id).await?;
    let mut a = t.clone().into_active_model();
    a.content = Set(content);
    a.updated_at = Set(Utc::now());
    a.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("template.sync")
            .target("template", t.id)
            .detail("name", t.name.clone())
            .detail("version", new)
            .detail("note", note),
    )
    .await?;
    txn.commit().await?;
    Ok(Ok(Some(new)))
}

/// Makes an old version's content the current one, as a new version.
pub async fn restore(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: i32,
    from: i32,
) -> Result<Option<i32>, Error> {
    let txn = crate::db::begin_write(db).await?;
    let t = get_active(&txn, viewer, id).await?;
    let old = version(&txn, id, from).await?;
    if old.content == t.content {
        return Ok(None);
    }
    let note = Some(format!("restored from version {from}"));
    let new = add_version(&txn, id, &old.content, note, actor_id(viewer)).await?;
    let mut a = t.clone().into_active_model();
    a.content = Set(old.content);
    a.updated_at = Set(Utc::now());
    a.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("template.restore")
            .target("template", id)
            .detail("name", t.name)
            .detail("from", from)
            .detail("version", new),
    )
    .await?;
    txn.commit().await?;
    Ok(Some(new))
}

/// Soft delete: gone from lists and pickers, its history kept.
pub async fn delete(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: i32,
) -> Result<templates::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let t = get_active(&txn, viewer, id).await?;
    let mut a = t.clone().into_active_model();
    a.deleted_at = Set(Some(Utc::now()));
    a.update(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("template.delete")
            .target("template", id)
            .detail("name", t.name.clone()),
    )
    .await?;
    txn.commit().await?;
    Ok(t)
}

/// Removes a template and all its versions for good.
pub async fn purge(
    db: &DatabaseConnection,
    actor: &Actor,
    viewer: Viewer,
    id: i32,
) -> Result<templates::Model, Error> {
    let txn = crate::db::begin_write(db).await?;
    let t = get(&txn, viewer, id).await?;
    let n = versions(&txn, id).await?.len();
    templates::Entity::delete_by_id(id).exec(&txn).await?;
    audit::record(
        &txn,
        actor,
        Event::data("template.purge")
            .target("template", id)
            .detail("name", t.name.clone())
            .detail("versions", n),
    )
    .await?;
    txn.commit().await?;
    Ok(t)
}
