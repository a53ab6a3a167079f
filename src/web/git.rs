//! Git repositories: the list, the form, a repository's page (settings, where its copy stands,
//! its actions) and the browser of its local copy (folders, files, a file's history, a file's
//! diff between two commits). Reading needs `read`, syncing `write`, everything else `admin`.

use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use super::diff_view::{DiffQuery, DiffView};
use super::form::{Form, accepted, page_or_again};
use super::{page, redirect, urlencode};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{ADMIN, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::git_repositories as repo;
use crate::error::Error;
use crate::services::backups::mask_for_platform;
use crate::services::config_diff::{LineDiff, Row, SideRow};
use crate::services::git::browse::{self, CommitRow, Content, Entry, Reader};
use crate::services::git::repos::{self, RepoInput};
use crate::services::git::sync::{self, Connection};
use crate::services::git::{GitHome, cli, copy, layout, mirror};
use crate::services::validation::FieldErrors;
use crate::vocabulary::{CredentialKind, RepoCategory};
use crate::web::error::AppError;

routes! {
    GET r"/git" => index,
    POST r"/git" => create,
    GET r"/git/new" => new_form,
    GET r"/git/{id:\d+}" => show,
    POST r"/git/{id:\d+}" => update,
    GET r"/git/{id:\d+}/edit" => edit_form,
    GET r"/git/{id:\d+}/delete" => confirm_delete,
    POST r"/git/{id:\d+}/delete" => delete,
    POST r"/git/{id:\d+}/test" => test_connection,
    POST r"/git/{id:\d+}/trust-host-key" => trust_host_key,
    POST r"/git/{id:\d+}/sync" => sync_now,
    POST r"/git/{id:\d+}/reclone" => reclone,
    POST r"/git/{id:\d+}/rebuild" => rebuild,
    GET r"/git/{id:\d+}/tree" => tree,
    GET r"/git/{id:\d+}/file" => file,
    GET r"/git/{id:\d+}/history" => history,
    GET r"/git/{id:\d+}/diff" => diff,
}

fn home(ctx: &Ctx) -> GitHome {
    GitHome::new(&ctx.state.config.data_dir)
}

/// `git` missing or too old, said on the pages that need it.
fn git_problem() -> Option<String> {
    cli::check_installed().err().map(|e| e.to_string())
}

#[derive(Template)]
#[template(path = "git/list.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<repo::Model>,
    git_problem: Option<String>,
}

pub async fn index(auth: Auth<READ>) -> Result<HttpResponse, AppError> {
    let rows = repos::list(auth.db()).await?;
    let git_problem = if rows.is_empty() { None } else { git_problem() };
    page(&ListPage {
        ctx: auth.0,
        rows,
        git_problem,
    })
}

#[derive(Template)]
#[template(path = "git/form.html")]
struct FormPage {
    ctx: Ctx,
    repo: Option<repo::Model>,
    input: RepoInput,
    errors: FieldErrors,
    credentials: Vec<(i32, String, CredentialKind)>,
}

impl FormPage {
    fn categories(&self) -> &'static [RepoCategory] {
        RepoCategory::ALL
    }
    fn placeholders(&self) -> String {
        layout::PLACEHOLDERS.map(|p| format!("{{{p}}}")).join(" ")
    }
    fn is_credential(&self, id: &i32) -> bool {
        self.input.credential_id == id.to_string()
    }
}

async fn form_page(
    auth: Auth<ADMIN>,
    repo: Option<repo::Model>,
    input: RepoInput,
    errors: FieldErrors,
) -> Result<HttpResponse, AppError> {
    let credentials = repos::usable_credentials(auth.db()).await?;
    let view = FormPage {
        ctx: auth.0,
        repo,
        input,
        errors,
        credentials,
    };
    page_or_again(&view, view.errors.is_empty())
}

pub async fn new_form(auth: Auth<ADMIN>) -> Result<HttpResponse, AppError> {
    form_page(auth, None, RepoInput::for_new(), FieldErrors::new()).await
}

pub async fn create(
    auth: Auth<ADMIN>,
    Form(input): Form<RepoInput>,
) -> Result<HttpResponse, AppError> {
    let result = repos::create(auth.db(), &auth.audit_actor(), &input).await;
    match accepted(result)? {
        Ok(r) => {
            let mut note = format!("Repository {} added.", r.name);
            if let Some(problem) = git_problem() {
                note.push_str(&format!(" It cannot be synced on this server: {problem}."));
            } else {
                note.push_str(" Test the connection, then sync it.");
            }
            auth.flash(FlashKind::Success, note);
            Ok(redirect(&format!("/git/{}", r.id)))
        }
        Err(errors) => form_page(auth, None, input, errors).await,
    }
}

pub async fn edit_form(auth: Auth<ADMIN>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let r = repos::get(auth.db(), id.into_inner()).await?;
    let input = RepoInput::of(&r);
    form_page(auth, Some(r), input, FieldErrors::new()).await
}

pub async fn update(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
    Form(input): Form<RepoInput>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let result = repos::update(auth.db(), &auth.audit_actor(), id, &input).await;
    match accepted(result)? {
        Ok(r) => {
            auth.flash(FlashKind::Success, format!("Repository {} saved.", r.name));
            Ok(redirect(&format!("/git/{id}")))
        }
        Err(errors) => {
            let r = repos::get(auth.db(), id).await?;
            form_page(auth, Some(r), input, errors).await
        }
    }
}

#[derive(Template)]
#[template(path = "git/show.html")]
struct ShowPage {
    ctx: Ctx,
    repo: repo::Model,
    credential: Option<(String, CredentialKind)>,
    ssh: bool,
    git_problem: Option<String>,
    /// The root folder of this server's copy (`None`: no copy here yet).
    entries: Option<Vec<Entry>>,
    mirrored: u64,
}

impl ShowPage {
    fn short_head(&self) -> &str {
        self.repo
            .head_commit
            .as_deref()
            .map_or("", |c| &c[..c.len().min(12)])
    }
}

pub async fn show(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let r = repos::get(auth.db(), id.into_inner()).await?;
    let credential = match r.credential_id {
        Some(c) => repos::usable_credentials(auth.db())
            .await?
            .into_iter()
            .find(|(id, _, _)| *id == c)
            .map(|(_, name, kind)| (name, kind)),
        None => None,
    };
    let home = home(&auth);
    sync::catch_up(auth.db(), &auth.state.vault, &home, &r).await;
    let entries = match Reader::open(&home, r.id) {
        Some(reader) if reader.has_commits().await => Some(reader.tree("HEAD", "").await?),
        Some(_) => Some(Vec::new()),
        None => None,
    };
    let mirrored = mirror::recorded_count(auth.db(), r.id).await?;
    page(&ShowPage {
        ssh: crate::services::git::remote::Transport::of(&r.url)
            == Some(crate::services::git::remote::Transport::Ssh),
        git_problem: git_problem(),
        ctx: auth.0,
        repo: r,
        credential,
        entries,
        mirrored,
    })
}

#[derive(Template)]
#[template(path = "git/delete.html")]
struct DeletePage {
    ctx: Ctx,
    repo: repo::Model,
}

pub async fn confirm_delete(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let repo = repos::get(auth.db(), id.into_inner()).await?;
    page(&DeletePage { ctx: auth.0, repo })
}

pub async fn delete(auth: Auth<ADMIN>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let r = repos::delete(auth.db(), &auth.audit_actor(), id.into_inner()).await?;
    // This server's copy goes with it; other servers' copies are never read again.
    if let Err(e) = copy::remove_dir(&home(&auth).copy_dir(r.id)) {
        tracing::warn!(repository = r.id, error = %e, "cannot remove the local copy of a deleted repository");
    }
    auth.flash(
        FlashKind::Success,
        format!("Repository {} removed; the remote was not touched.", r.name),
    );
    Ok(redirect("/git"))
}

pub async fn test_connection(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let r = repos::get(auth.db(), id.into_inner()).await?;
    let home = home(&auth);
    match sync::test_connection(auth.db(), &auth.state.vault, &home, &r).await {
        Ok(Connection::Reached {
            branches,
            has_branch,
        }) => {
            let (kind, words) = match (branches.is_empty(), has_branch) {
                (true, _) => (
                    FlashKind::Success,
                    "Connected: the repository is empty (no branches yet); the first mirror commit creates the branch.".to_string(),
                ),
                (false, true) => (
                    FlashKind::Success,
                    format!(
                        "Connected. Branches: {}. The branch {} exists.",
                        branches.join(", "),
                        r.branch
                    ),
                ),
                (false, false) => (
                    FlashKind::Warning,
                    format!(
                        "Connected, but the branch {} does not exist. Branches: {}.",
                        r.branch,
                        branches.join(", ")
                    ),
                ),
            };
            auth.flash(kind, words);
        }
        Ok(Connection::Failed(e)) => {
            auth.flash(FlashKind::Error, format!("Connection failed: {e}."))
        }
        Err(Error::Refused(m)) => auth.flash(FlashKind::Error, format!("Connection failed: {m}.")),
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&format!("/git/{}", r.id)))
}

pub async fn trust_host_key(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let r = repos::get(auth.db(), id.into_inner()).await?;
    let home = home(&auth);
    match sync::trust_host_key(auth.db(), &auth.state.vault, &home, &auth.audit_actor(), &r).await {
        Ok(fingerprints) => auth.flash(
            FlashKind::Success,
            format!(
                "Host key trusted: {}. Compare it with the server's own fingerprint.",
                fingerprints.join(", ")
            ),
        ),
        Err(Error::Refused(m)) => {
            auth.flash(FlashKind::Error, format!("No host key trusted: {m}."))
        }
        Err(e) => return Err(e.into()),
    }
    Ok(redirect(&format!("/git/{}", r.id)))
}

async fn start_sync(auth: &Ctx, id: i32, fresh: bool) -> Result<HttpResponse, AppError> {
    let job = sync::start(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        id,
        fresh,
        Some(auth.user.id),
    )
    .await?;
    Ok(redirect(&format!("/jobs/{}", job.id)))
}

pub async fn sync_now(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    start_sync(&auth, id.into_inner(), false).await
}

pub async fn reclone(auth: Auth<ADMIN>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    start_sync(&auth, id.into_inner(), true).await
}

pub async fn rebuild(auth: Auth<ADMIN>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let job = mirror::rebuild(
        auth.db(),
        &auth.state.queue,
        &auth.audit_actor(),
        id.into_inner(),
        Some(auth.user.id),
    )
    .await?;
    Ok(redirect(&format!("/jobs/{}", job.id)))
}

/// `path` and `rev` of a browser address.
#[derive(Deserialize)]
pub struct At {
    #[serde(default)]
    path: String,
    #[serde(default)]
    rev: String,
}

impl At {
    fn rev(&self) -> &str {
        if self.rev.trim().is_empty() {
            "HEAD"
        } else {
            self.rev.trim()
        }
    }
}

/// The repository and this server's copy of it, or a page that says there is none yet.
async fn open<'a>(
    auth: &Ctx,
    home: &'a GitHome,
    id: i32,
) -> Result<(repo::Model, Reader<'a>), AppError> {
    let r = repos::get(auth.db(), id).await?;
    sync::catch_up(auth.db(), &auth.state.vault, home, &r).await;
    let reader = Reader::open(home, r.id).ok_or_else(|| {
        AppError::Domain(Error::Conflict(format!(
            "This server has no local copy of {} yet: sync it first.",
            r.name
        )))
    })?;
    Ok((r, reader))
}

/// `open`, and the address's path and commit checked.
async fn open_at<'a>(
    auth: &Ctx,
    home: &'a GitHome,
    id: i32,
    at: &At,
) -> Result<(repo::Model, Reader<'a>, String, String), AppError> {
    let (r, reader) = open(auth, home, id).await?;
    let path = browse::check_path(&at.path)?;
    let rev = browse::check_rev(at.rev())?.to_string();
    Ok((r, reader, path, rev))
}

/// `open`, and the file an address names (`missing` says what to do when it names none).
async fn open_file<'a>(
    auth: &Ctx,
    home: &'a GitHome,
    id: i32,
    raw_path: &str,
    missing: &str,
) -> Result<(repo::Model, Reader<'a>, String), AppError> {
    let (r, reader) = open(auth, home, id).await?;
    let path = browse::check_path(raw_path)?;
    if path.is_empty() {
        return Err(AppError::BadRequest(missing.into()));
    }
    Ok((r, reader, path))
}

/// The parts of a path, each with the path up to it, for the breadcrumb.
fn crumbs(path: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut so_far = String::new();
    for part in path.split('/').filter(|p| !p.is_empty()) {
        if !so_far.is_empty() {
            so_far.push('/');
        }
        so_far.push_str(part);
        out.push((part.to_string(), so_far.clone()));
    }
    out
}

#[derive(Template)]
#[template(path = "git/tree.html")]
struct TreePage {
    ctx: Ctx,
    repo: repo::Model,
    path: String,
    rev: String,
    crumbs: Vec<(String, String)>,
    entries: Vec<Entry>,
}

impl TreePage {
    fn rev_query(&self) -> String {
        if self.rev == "HEAD" {
            String::new()
        } else {
            format!("&rev={}", self.rev)
        }
    }
}

pub async fn tree(
    auth: Auth<READ>,
    id: web::Path<i32>,
    at: web::Query<At>,
) -> Result<HttpResponse, AppError> {
    let home = home(&auth);
    let (r, reader, path, rev) = open_at(&auth, &home, id.into_inner(), &at).await?;
    if !reader.has_commits().await {
        return Err(Error::Conflict(format!("{} has no commits yet.", r.name)).into());
    }
    if !reader.is_dir(&rev, &path).await? {
        return Ok(redirect(&format!(
            "/git/{}/file?path={}&rev={}",
            r.id,
            urlencode(&path),
            rev
        )));
    }
    let entries = reader.tree(&rev, &path).await?;
    page(&TreePage {
        ctx: auth.0,
        crumbs: crumbs(&path),
        repo: r,
        path,
        rev,
        entries,
    })
}

/// A file's text as a page may show it: in a configurations repository every file is masked
/// as the backup pages mask configurations, whatever the mirror stored.
fn shown_text(r: &repo::Model, platform: Option<&str>, text: String) -> String {
    match r.category {
        RepoCategory::Configs => mask_for_platform(platform.unwrap_or(""), &text),
        RepoCategory::Templates | RepoCategory::Inventory => text,
    }
}

#[derive(Template)]
#[template(path = "git/file.html")]
struct FilePage {
    ctx: Ctx,
    repo: repo::Model,
    path: String,
    rev: String,
    crumbs: Vec<(String, String)>,
    /// The text, or why it is not shown.
    text: Result<String, String>,
}

impl FilePage {
    fn lines(&self) -> Vec<(usize, &str)> {
        match &self.text {
            Ok(t) => t.lines().enumerate().map(|(i, l)| (i + 1, l)).collect(),
            Err(_) => Vec::new(),
        }
    }
}

fn size_words(size: u64) -> String {
    crate::web::backups::human_size(&i32::try_from(size).unwrap_or(i32::MAX))
}

pub async fn file(
    auth: Auth<READ>,
    id: web::Path<i32>,
    at: web::Query<At>,
) -> Result<HttpResponse, AppError> {
    let home = home(&auth);
    let (r, reader, path, rev) = open_at(&auth, &home, id.into_inner(), &at).await?;
    if path.is_empty() || reader.is_dir(&rev, &path).await? {
        return Ok(redirect(&format!(
            "/git/{}/tree?path={}&rev={rev}",
            r.id,
            urlencode(&path)
        )));
    }
    let platform = mirror::platform_of(auth.db(), r.id, &path).await?;
    let text = match reader.content(&rev, &path).await? {
        None => return Err(AppError::not_found()),
        Some(Content::Text(t)) => Ok(shown_text(&r, platform.as_deref(), t)),
        Some(Content::Binary { size }) => {
            Err(format!("A binary file ({}): not shown.", size_words(size)))
        }
        Some(Content::TooLarge { size }) => Err(format!(
            "{} is too large to show here (more than {}).",
            size_words(size),
            size_words(browse::MAX_SHOWN)
        )),
    };
    page(&FilePage {
        ctx: auth.0,
        crumbs: crumbs(&path),
        repo: r,
        path,
        rev,
        text,
    })
}

#[derive(Deserialize)]
pub struct HistoryQuery {
    #[serde(default)]
    path: String,
    #[serde(default)]
    from: String,
}

#[derive(Template)]
#[template(path = "git/history.html")]
struct HistoryPage {
    ctx: Ctx,
    repo: repo::Model,
    path: String,
    crumbs: Vec<(String, String)>,
    rows: Vec<CommitRow>,
    /// Where the next (older) page starts.
    next: Option<String>,
    first_page: bool,
}

impl HistoryPage {
    /// The commit before row `i` in this file's history (for "changes"), if known here.
    fn before(&self, i: &usize) -> Option<&str> {
        self.rows
            .get(i + 1)
            .map(|r| r.commit.as_str())
            .or(self.next.as_deref())
    }
    fn path_q(&self) -> String {
        urlencode(&self.path)
    }
}

pub async fn history(
    auth: Auth<READ>,
    id: web::Path<i32>,
    q: web::Query<HistoryQuery>,
) -> Result<HttpResponse, AppError> {
    let home = home(&auth);
    let (r, reader, path) = open_file(
        &auth,
        &home,
        id.into_inner(),
        &q.path,
        "Choose a file to see its history.",
    )
    .await?;
    let from = if q.from.trim().is_empty() {
        "HEAD"
    } else {
        q.from.trim()
    };
    if !reader.has_commits().await {
        return Err(Error::Conflict(format!("{} has no commits yet.", r.name)).into());
    }
    let (rows, next) = reader.history(&path, from, browse::HISTORY_PAGE).await?;
    page(&HistoryPage {
        ctx: auth.0,
        crumbs: crumbs(&path),
        first_page: from == "HEAD",
        repo: r,
        path,
        rows,
        next,
    })
}

#[derive(Template)]
#[template(path = "git/diff.html")]
struct DiffPage<'a> {
    ctx: Ctx,
    repo: repo::Model,
    path: String,
    from: String,
    to: String,
    diff: DiffView<'a>,
    /// The file does not exist on one side (added or removed between the commits).
    missing_side: Option<&'static str>,
}

pub async fn diff(
    auth: Auth<READ>,
    id: web::Path<i32>,
    q: web::Query<DiffQuery>,
) -> Result<HttpResponse, AppError> {
    let home = home(&auth);
    let (r, reader, path) = open_file(
        &auth,
        &home,
        id.into_inner(),
        &q.path,
        "Choose a file to compare.",
    )
    .await?;
    let side = |which: &str, value: &Option<String>| -> Result<String, AppError> {
        let v = value.as_deref().map(str::trim).unwrap_or("");
        if v.is_empty() {
            return Err(AppError::BadRequest(format!(
                "Choose the {which} commit to compare."
            )));
        }
        Ok(browse::check_rev(v)?.to_string())
    };
    let (from, to) = (side("first", &q.from)?, side("second", &q.to)?);
    let from = reader
        .resolve(&from)
        .await
        .map_err(|_| AppError::BadRequest(format!("{} has no commit {from}.", r.name)))?;
    let to = reader
        .resolve(&to)
        .await
        .map_err(|_| AppError::BadRequest(format!("{} has no commit {to}.", r.name)))?;
    let platform = mirror::platform_of(auth.db(), r.id, &path).await?;
    let read = async |rev: &str| -> Result<Option<String>, AppError> {
        Ok(match reader.content(rev, &path).await? {
            None => None,
            Some(Content::Text(t)) => Some(shown_text(&r, platform.as_deref(), t)),
            Some(Content::Binary { .. }) | Some(Content::TooLarge { .. }) => {
                return Err(AppError::BadRequest(
                    "This file is binary or too large to compare here.".into(),
                ));
            }
        })
    };
    let old = read(&from).await?;
    let new = read(&to).await?;
    if old.is_none() && new.is_none() {
        return Err(AppError::not_found());
    }
    let missing_side = match (&old, &new) {
        (None, _) => Some("first"),
        (_, None) => Some("second"),
        _ => None,
    };
    let (old, new) = (old.unwrap_or_default(), new.unwrap_or_default());
    let line_diff = LineDiff::new(&old, &new);
    let keep = vec![
        ("path", path.clone()),
        ("from", from.clone()),
        ("to", to.clone()),
    ];
    let labels = (
        from[..from.len().min(10)].to_string(),
        to[..to.len().min(10)].to_string(),
    );
    let view = DiffView::new(
        Some(&line_diff),
        &q,
        format!("/git/{}/diff", r.id),
        keep,
        labels,
    );
    page(&DiffPage {
        ctx: auth.0,
        repo: r,
        path,
        from,
        to,
        diff: view,
        missing_side,
    })
}
