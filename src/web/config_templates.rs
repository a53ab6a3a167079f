//! Configuration templates (`/templates`): the list, the editor, an upload, a template's page
//! with its versions, a version, the difference between two versions, restore, delete and purge,
//! and the preview that renders a template for a device. Reading and previewing need `read`;
//! changing `write`; purging `delete`. A private template is its owner's only.

use actix_multipart::Multipart;
use actix_web::{HttpRequest, HttpResponse, http::StatusCode, web};
use askama::Template;
use futures_util::StreamExt;
use serde::{Deserialize, Serialize};

use super::diff_view::{DiffQuery, DiffView};
use super::form::{Form, accepted, page_or_again};
use super::list::{ListQuery, Pager, lenient};
use super::{page, redirect, render};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{git_repositories, template_versions, templates};
use crate::error::Error;
use crate::services::config_diff::{LineDiff, Row, SideRow};
use crate::services::credentials::Viewer;
use crate::services::git::{GitHome, repos};
use crate::services::templates::git_source;
use crate::services::templates::render::Rendered;
use crate::services::templates::rendering::DeviceRendering;
use crate::services::templates::store::{self, TemplateFilter, TemplateInput, Variable};
use crate::services::templates::{context, pre_run, rendering};
use crate::services::validation::FieldErrors;
use crate::services::{backups, devices};
use crate::vocabulary::{RepoCategory, TemplateKind, TemplateScope, TemplateSource};
use crate::web::error::AppError;

routes! {
    GET r"/templates" => index,
    POST r"/templates" => create,
    GET r"/templates/new" => new_form,
    POST r"/templates/upload" => upload,
    GET r"/templates/{id:\d+}" => show,
    POST r"/templates/{id:\d+}" => update,
    GET r"/templates/{id:\d+}/edit" => edit_form,
    GET r"/templates/{id:\d+}/versions/{version:\d+}" => show_version,
    POST r"/templates/{id:\d+}/versions/{version:\d+}/restore" => restore,
    GET r"/templates/{id:\d+}/diff" => diff,
    GET r"/templates/{id:\d+}/delete" => confirm_delete,
    POST r"/templates/{id:\d+}/delete" => delete,
    POST r"/templates/{id:\d+}/purge" => purge,
    POST r"/templates/{id:\d+}/preview" => preview,
    POST r"/templates/{id:\d+}/sync" => sync_from_git,
}

fn viewer(ctx: &Ctx) -> Viewer {
    ctx.credential_viewer()
}

/// The list's filters, by their names in the address.
#[derive(Default, Deserialize, Serialize)]
#[serde(default)]
pub struct TemplateFilters {
    #[serde(deserialize_with = "lenient")]
    template_type: Option<TemplateKind>,
    category: String,
    q: String,
    deleted: String,
}

#[derive(Template)]
#[template(path = "config_templates/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<templates::Model>,
    f: TemplateFilters,
    categories: Vec<String>,
    pager: Pager,
}

impl ListPage {
    fn kinds(&self) -> &'static [TemplateKind] {
        TemplateKind::ALL
    }
    fn chosen(&self, k: &TemplateKind) -> bool {
        self.f.template_type == Some(*k)
    }
    fn deleted(&self) -> bool {
        self.f.deleted == "1"
    }
}

pub async fn index(
    auth: Auth<READ>,
    list: ListQuery<TemplateFilters>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let v = viewer(&auth);
    let filter = TemplateFilter {
        kind: list.filters.template_type,
        category: list.filters.category.clone(),
        q: list.filters.q.clone(),
        deleted: list.filters.deleted == "1",
    };
    let result = store::list(db, v, &filter, list.paging).await?;
    let pager = list.pager(&result);
    let view = ListPage {
        categories: store::categories(db, v).await?,
        ctx: auth.0,
        rows: result.items,
        f: list.filters,
        pager,
    };
    page(&view)
}

#[derive(Template)]
#[template(path = "config_templates/form.html")]
struct FormPage {
    ctx: Ctx,
    template: Option<templates::Model>,
    input: TemplateInput,
    categories: Vec<String>,
    /// Repositories of the templates category, for templates kept in git.
    repositories: Vec<git_repositories::Model>,
    /// TextFSM templates, for the pre-run command's parser.
    parsers: Vec<templates::Model>,
    errors: FieldErrors,
}

impl FormPage {
    fn parser_chosen(&self, id: &i32) -> bool {
        self.input.pre_run_parser_id == id.to_string()
    }
    fn kinds(&self) -> &'static [TemplateKind] {
        TemplateKind::ALL
    }
    fn scopes(&self) -> &'static [TemplateScope] {
        TemplateScope::ALL
    }
    fn kept_in_git(&self) -> bool {
        self.input.source == TemplateSource::Git.as_str()
    }
    fn repository_chosen(&self, id: &i32) -> bool {
        self.input.git_repository_id == id.to_string()
    }
}

async fn form_page(
    auth: Auth<WRITE>,
    template: Option<templates::Model>,
    input: TemplateInput,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let repositories = repos::list(auth.db())
        .await?
        .into_iter()
        .filter(|r| r.category == RepoCategory::Templates)
        .collect();
    let view = FormPage {
        categories: store::categories(auth.db(), viewer(&auth)).await?,
        parsers: store::active_of_kinds(auth.db(), viewer(&auth), &[TemplateKind::Textfsm]).await?,
        repositories,
        ctx: auth.0,
        template,
        input,
        errors,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn new_form(auth: Auth<WRITE>) -> Result<HttpResponse, AppError> {
    form_page(auth, None, TemplateInput::for_new(), FieldErrors::new()).await
}

/// Creates a template from the editor or an upload; its page's address, or the form's messages.
async fn create_from(
    auth: &Ctx,
    input: &TemplateInput,
    source: TemplateSource,
) -> Result<Result<String, FieldErrors>, AppError> {
    let result = store::create(auth.db(), &auth.audit_actor(), viewer(auth), input, source).await;
    Ok(accepted(result)?.map(|t| {
        auth.flash(
            FlashKind::Success,
            format!("Template {} saved as version 1.", t.name),
        );
        format!("/templates/{}", t.id)
    }))
}

pub async fn create(
    auth: Auth<WRITE>,
    Form(mut input): Form<TemplateInput>,
) -> Result<HttpResponse, AppError> {
    let mut source = TemplateSource::Editor;
    if input.source == TemplateSource::Git.as_str() {
        source = TemplateSource::Git;
        let repository = input.git_repository_id.trim().parse::<i32>().unwrap_or(0);
        let read = git_source::read(
            auth.db(),
            &auth.state.vault,
            &git_home(&auth),
            repository,
            &input.file_path,
        )
        .await?;
        match read {
            Ok((text, commit)) => {
                input.content = text;
                if input.change_note.trim().is_empty() {
                    input.change_note = format!("read at {}", &commit[..commit.len().min(12)]);
                }
            }
            Err(why) => {
                let mut errors = FieldErrors::new();
                errors.add("file_path", why);
                return form_page(auth, None, input, errors).await;
            }
        }
    }
    match create_from(&auth, &input, source).await? {
        Ok(to) => Ok(redirect(&to)),
        Err(errors) => form_page(auth, None, input, errors).await,
    }
}

/// What an upload's form fields other than the file may hold.
const MAX_UPLOAD_FIELD: usize = 4096;

#[derive(Template)]
#[template(path = "config_templates/upload_result.html")]
struct UploadResult {
    errors: FieldErrors,
}

/// The upload form's fields, the file's text as the content.
async fn read_upload(mut payload: Multipart) -> Result<TemplateInput, String> {
    let mut input = TemplateInput::default();
    while let Some(item) = payload.next().await {
        let mut field = item.map_err(|e| format!("The upload could not be read: {e}"))?;
        let name = field.name().unwrap_or_default().to_string();
        let limit = if name == "file" {
            store::MAX_CONTENT
        } else {
            MAX_UPLOAD_FIELD
        };
        let bytes = match field.bytes(limit).await {
            Ok(Ok(b)) => b,
            Ok(Err(e)) => return Err(format!("The upload could not be read: {e}")),
            Err(_) => {
                return Err(format!(
                    "The field {name:?} is too large (a template holds at most 1 MiB)."
                ));
            }
        };
        let text = String::from_utf8(bytes.to_vec())
            .map_err(|_| format!("The field {name:?} is not UTF-8 text."))?;
        match name.as_str() {
            "file" => input.content = text,
            "name" => input.name = text,
            "template_type" => input.template_type = text,
            "category" => input.category = text,
            "description" => input.description = text,
            "variables" => input.variables = text,
            "scope" => input.scope = text,
            "change_note" => input.change_note = text,
            _ => {}
        }
    }
    Ok(input)
}

/// An uploaded file as a new template (an htmx form: errors come back as a fragment, success
/// sends the browser to the template).
pub async fn upload(
    auth: Auth<WRITE>,
    req: HttpRequest,
    payload: Multipart,
) -> Result<HttpResponse, AppError> {
    let input = match read_upload(payload).await {
        Ok(i) => i,
        Err(message) => {
            let mut errors = FieldErrors::new();
            errors.add("file", message);
            return render(StatusCode::UNPROCESSABLE_ENTITY, &UploadResult { errors });
        }
    };
    match create_from(&auth, &input, TemplateSource::Upload).await? {
        Ok(to) => {
            if req.headers().contains_key("HX-Request") {
                Ok(HttpResponse::Ok()
                    .insert_header(("HX-Redirect", to))
                    .finish())
            } else {
                Ok(redirect(&to))
            }
        }
        Err(errors) => render(StatusCode::UNPROCESSABLE_ENTITY, &UploadResult { errors }),
    }
}

/// What a preview rendered, or why it could not.
#[derive(Default)]
struct Preview {
    device: String,
    tag_id: String,
    values: String,
    outcome: Option<Result<Rendered, String>>,
    warnings: Vec<String>,
    /// A tag's devices, each rendered (at most `PREVIEW_DEVICES`), and how many have the tag.
    many: Vec<DeviceRendering>,
    tagged: u64,
}

/// Devices a tag's preview renders on one page.
const PREVIEW_DEVICES: u64 = 500;

#[derive(Template)]
#[template(path = "config_templates/show.html")]
struct ShowPage {
    ctx: Ctx,
    tags: Vec<crate::entity::tags::Model>,
    template: templates::Model,
    variables: Vec<Variable>,
    versions: Vec<template_versions::Model>,
    preview: Preview,
    errors: FieldErrors,
}

impl ShowPage {
    fn renders(&self) -> bool {
        self.template.template_type == TemplateKind::Jinja2
    }
    fn latest(&self) -> i32 {
        self.versions.first().map_or(0, |v| v.version)
    }
    fn tag_chosen(&self, id: &i32) -> bool {
        self.preview.tag_id == id.to_string()
    }
    fn failed(&self) -> usize {
        self.preview
            .many
            .iter()
            .filter(|r| r.outcome.is_err())
            .count()
    }
}

async fn show_page(
    auth: Auth<READ>,
    id: i32,
    preview: Preview,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let t = store::get(db, viewer(&auth), id).await?;
    let view = ShowPage {
        tags: crate::services::tags::all(db).await?,
        variables: store::variables_of(&t),
        versions: store::versions(db, t.id).await?,
        ctx: auth.0,
        template: t,
        preview,
        errors,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    show_page(
        auth,
        id.into_inner(),
        Preview::default(),
        FieldErrors::new(),
    )
    .await
}

pub async fn edit_form(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let t = store::get(auth.db(), viewer(&auth), id.into_inner()).await?;
    let input = TemplateInput::of(&t);
    form_page(auth, Some(t), input, FieldErrors::new()).await
}

pub async fn update(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(input): Form<TemplateInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let v = viewer(&auth);
    let result = store::update(auth.db(), &auth.audit_actor(), v, id, &input).await;
    match accepted(result)? {
        Ok((t, version)) => {
            let message = match version {
                Some(n) => format!("Template {} saved as version {n}.", t.name),
                None => format!(
                    "Template {} saved; the content is unchanged, so no new version.",
                    t.name
                ),
            };
            auth.flash(FlashKind::Success, message);
            Ok(redirect(&format!("/templates/{id}")))
        }
        Err(errors) => {
            let t = store::get(auth.db(), v, id).await?;
            form_page(auth, Some(t), input, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "config_templates/version.html")]
struct VersionPage {
    ctx: Ctx,
    template: templates::Model,
    version: template_versions::Model,
    latest: i32,
}

pub async fn show_version(
    auth: Auth<READ>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, v) = path.into_inner();
    let db = auth.db();
    let template = store::get(db, viewer(&auth), id).await?;
    let version = store::version(db, id, v).await?;
    let latest = store::versions(db, id)
        .await?
        .first()
        .map_or(0, |x| x.version);
    page(&VersionPage {
        ctx: auth.0,
        template,
        version,
        latest,
    })
}

pub async fn restore(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (id, v) = path.into_inner();
    match store::restore(auth.db(), &auth.audit_actor(), viewer(&auth), id, v).await? {
        Some(n) => auth.flash(
            FlashKind::Success,
            format!("Version {v} restored as version {n}."),
        ),
        None => auth.flash(
            FlashKind::Info,
            format!("Version {v} is the current content already."),
        ),
    }
    Ok(redirect(&format!("/templates/{id}")))
}

#[derive(Template)]
#[template(path = "config_templates/diff.html")]
struct DiffPage<'a> {
    ctx: Ctx,
    template: templates::Model,
    old: &'a template_versions::Model,
    new: &'a template_versions::Model,
    diff: DiffView<'a>,
}

fn version_param(which: &str, value: Option<&str>) -> Result<i32, AppError> {
    value
        .map(str::trim)
        .and_then(|v| v.parse::<i32>().ok())
        .filter(|v| *v >= 1)
        .ok_or_else(|| AppError::BadRequest(format!("Choose the {which} version to compare.")))
}

pub async fn diff(
    auth: Auth<READ>,
    id: web::Path<i32>,
    query: web::Query<DiffQuery>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let db = auth.db();
    let template = store::get(db, viewer(&auth), id).await?;
    let from = version_param("first", query.from.as_deref())?;
    let to = version_param("second", query.to.as_deref())?;
    let old = store::version(db, id, from).await?;
    let new = store::version(db, id, to).await?;
    let lines = LineDiff::new(&old.content, &new.content);
    let keep = vec![("from", from.to_string()), ("to", to.to_string())];
    let labels = (format!("v{from}"), format!("v{to}"));
    let diff = DiffView::new(
        Some(&lines),
        &query,
        format!("/templates/{id}/diff"),
        keep,
        labels,
    );
    page(&DiffPage {
        ctx: auth.0,
        template,
        old: &old,
        new: &new,
        diff,
    })
}

#[derive(Template)]
#[template(path = "config_templates/delete.html")]
struct DeletePage {
    ctx: Ctx,
    template: templates::Model,
    versions: usize,
}

pub async fn confirm_delete(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let template = store::get(db, viewer(&auth), id.into_inner()).await?;
    let versions = store::versions(db, template.id).await?.len();
    page(&DeletePage {
        ctx: auth.0,
        template,
        versions,
    })
}

pub async fn delete(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let t = store::delete(
        auth.db(),
        &auth.audit_actor(),
        viewer(&auth),
        id.into_inner(),
    )
    .await?;
    auth.flash(
        FlashKind::Success,
        format!(
            "Template {} deleted; its history stays under deleted templates.",
            t.name
        ),
    );
    Ok(redirect("/templates"))
}

pub async fn purge(auth: Auth<DELETE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let t = store::purge(
        auth.db(),
        &auth.audit_actor(),
        viewer(&auth),
        id.into_inner(),
    )
    .await?;
    auth.flash(
        FlashKind::Success,
        format!("Template {} and its history removed for good.", t.name),
    );
    Ok(redirect("/templates"))
}

fn git_home(ctx: &Ctx) -> GitHome {
    GitHome::new(&ctx.state.config.data_dir)
}

/// Reads a git template's file again now.
pub async fn sync_from_git(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let db = auth.db();
    let t = store::get(db, viewer(&auth), id.into_inner()).await?;
    if t.deleted_at.is_some() {
        return Err(Error::Refused(format!("template {} was deleted", t.name)).into());
    }
    let outcome = git_source::refresh(
        db,
        &auth.state.vault,
        &git_home(&auth),
        &auth.audit_actor(),
        &t,
    )
    .await?;
    match outcome {
        Ok(Some(v)) => auth.flash(
            FlashKind::Success,
            format!("The file changed: version {v} saved."),
        ),
        Ok(None) => auth.flash(FlashKind::Info, "The file is unchanged."),
        Err(why) => auth.flash(FlashKind::Error, format!("Not synced: {why}.")),
    }
    Ok(redirect(&format!("/templates/{}", t.id)))
}

/// The preview form: a device (its host name) or a tag, and `name = value` lines.
#[derive(Deserialize)]
pub struct PreviewInput {
    device: String,
    #[serde(default)]
    tag_id: String,
    #[serde(default)]
    values: String,
}

pub async fn preview(
    auth: Auth<READ>,
    id: web::Path<i32>,
    Form(input): Form<PreviewInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let db = auth.db();
    let t = store::get(db, viewer(&auth), id).await?;
    let mut errors = FieldErrors::new();
    let given = context::parse_values(&input.values).unwrap_or_else(|m| {
        errors.add("values", m);
        Vec::new()
    });
    let tag = input.tag_id.trim().parse::<i32>().ok();
    let mut chosen = Vec::new();
    let mut tagged = 0;
    match (input.device.trim(), tag) {
        ("", None) => errors.add("device", "Enter a device's host name, or choose a tag."),
        (_, Some(tag)) => {
            (chosen, tagged) = devices::enabled_with_tag(db, tag, PREVIEW_DEVICES).await?;
            if chosen.is_empty() {
                errors.add("tag_id", "No enabled device has this tag.");
            }
        }
        (name, None) => match devices::find_by_hostname(db, name).await? {
            Some(d) => chosen.push(d),
            None => errors.add("device", "No device has this host name."),
        },
    }
    if t.template_type != TemplateKind::Jinja2 {
        errors.add(
            "device",
            format!(
                "A {} template is not rendered: only Jinja2 templates take a device's data.",
                t.template_type.label()
            ),
        );
    }
    let mut preview = Preview {
        device: input.device.clone(),
        tag_id: input.tag_id.clone(),
        values: input.values.clone(),
        tagged,
        ..Preview::default()
    };
    if errors.is_empty() {
        let vars = context::vars(&store::variables_of(&t), &given);
        let reveal = backups::reveals_secrets(db, auth.is_admin()).await?;
        let vault = &auth.state.vault;
        let pre_run = pre_run::collect(db, vault, &t, &chosen, Some(auth.user.id)).await?;
        match rendering::for_devices(db, vault, &t.content, &chosen, &vars, reveal, &pre_run)
            .await?
        {
            Ok(mut done) if tag.is_none() => {
                if let Some(r) = done.pop() {
                    preview.outcome = Some(r.outcome);
                    preview.warnings = r.warnings;
                }
            }
            Ok(done) => preview.many = done,
            Err(why) => preview.outcome = Some(Err(why)),
        }
    }
    show_page(auth, id, preview, errors).await
}
