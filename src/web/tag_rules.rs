use actix_web::{HttpResponse, web};
use askama::Template;

use super::form::{Form, accepted, again};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{DELETE, READ, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::{tag_rules as rule_entity, tags as tag_entity};
use crate::services::rule_criteria::{FIELDS, Group, GroupOp, OPERATORS, Row, RowKind};
use crate::services::tag_rules::{self, Preview, RuleInput};
use crate::services::tags;
use crate::services::validation::FieldErrors;
use crate::services::validation::toggle;
use crate::web::error::AppError;

routes! {
    GET r"/tags/{id:\d+}/rules" => index,
    POST r"/tags/{id:\d+}/rules" => create,
    GET r"/tags/{id:\d+}/rules/new" => new_form,
    GET r"/tags/{id:\d+}/rules/{rule_id:\d+}" => edit_form,
    POST r"/tags/{id:\d+}/rules/{rule_id:\d+}" => update,
    POST r"/tags/{id:\d+}/rules/{rule_id:\d+}/apply" => apply,
    GET r"/tags/{id:\d+}/rules/{rule_id:\d+}/delete" => confirm_delete,
    POST r"/tags/{id:\d+}/rules/{rule_id:\d+}/delete" => delete,
}

/// Blank rows offered under the existing ones, so the editor works without JavaScript.
const BLANK_ROWS: usize = 4;
const MAX_DEPTH: usize = 3;

struct RuleRow {
    rule: rule_entity::Model,
    summary: String,
    assigned: u64,
}

#[derive(Template)]
#[template(path = "tags/rules.html")]
struct ListPage {
    ctx: Ctx,
    tag: tag_entity::Model,
    rules: Vec<RuleRow>,
}

pub async fn index(auth: Auth<READ>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    let mut rules = Vec::new();
    for rule in tag_rules::for_tag(auth.db(), tag.id).await? {
        let summary = tag_rules::criteria_of(&rule)
            .map(|g| g.summary())
            .unwrap_or_else(|e| e.to_string());
        let assigned = tag_rules::assigned_count(auth.db(), rule.id).await?;
        rules.push(RuleRow {
            rule,
            summary,
            assigned,
        });
    }
    page(&ListPage {
        ctx: auth.0,
        tag,
        rules,
    })
}

#[derive(Template)]
#[template(path = "tags/rule_form.html")]
struct EditorPage {
    ctx: Ctx,
    tag: tag_entity::Model,
    rule_id: Option<i32>,
    editor: Editor,
    errors: FieldErrors,
    preview: Option<Preview>,
}

impl EditorPage {
    fn fields(&self) -> &'static [&'static str] {
        &FIELDS
    }
    fn operators(&self) -> &'static [&'static str] {
        &OPERATORS
    }
    fn depths(&self) -> std::ops::RangeInclusive<usize> {
        0..=MAX_DEPTH
    }
    fn action(&self) -> String {
        match self.rule_id {
            Some(r) => format!("/tags/{}/rules/{r}", self.tag.id),
            None => format!("/tags/{}/rules", self.tag.id),
        }
    }
    /// The lines to show: the rule's, then empty slots for new conditions.
    fn rows(&self) -> Vec<Row> {
        let mut rows = self.editor.rows.clone();
        rows.extend((0..BLANK_ROWS).map(|_| Row {
            field: "hostname".into(),
            operator: "contains".into(),
            ..Default::default()
        }));
        rows
    }
}

/// The editor's state: a stored rule's, or what was submitted (the form's lines read into rows).
struct Editor {
    name: String,
    is_active: bool,
    top: Group,
    rows: Vec<Row>,
    /// Which button was pressed (preview or save).
    intent: String,
}

impl Editor {
    fn top_any(&self) -> bool {
        self.top.op == GroupOp::Any
    }
    fn of(rule: Option<&rule_entity::Model>) -> Result<Self, AppError> {
        let (name, is_active, top) = match rule {
            Some(r) => (r.name.clone(), r.is_active, tag_rules::criteria_of(r)?),
            None => (String::new(), true, Group::default()),
        };
        Ok(Editor {
            name,
            is_active,
            rows: top.rows(),
            top,
            intent: String::new(),
        })
    }
    /// The criteria the lines describe.
    fn criteria(&self) -> Group {
        Group::from_rows(self.top.op, self.top.negate, &self.rows)
    }
}

fn editor(
    ctx: Ctx,
    tag: tag_entity::Model,
    rule: Option<&rule_entity::Model>,
) -> Result<EditorPage, AppError> {
    Ok(EditorPage {
        ctx,
        tag,
        rule_id: rule.map(|r| r.id),
        editor: Editor::of(rule)?,
        errors: FieldErrors::new(),
        preview: None,
    })
}

pub async fn new_form(auth: Auth<WRITE>, id: web::Path<i32>) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), id.into_inner()).await?;
    page(&editor(auth.0, tag, None)?)
}

pub async fn edit_form(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (tag_id, rule_id) = path.into_inner();
    let tag = tags::get(auth.db(), tag_id).await?;
    let rule = tag_rules::get(auth.db(), tag_id, rule_id).await?;
    page(&editor(auth.0, tag, Some(&rule))?)
}

/// The editor's form: one field each, and the rule's lines as parallel repeated fields.
#[derive(serde::Deserialize)]
pub struct RuleForm {
    name: String,
    #[serde(deserialize_with = "toggle")]
    is_active: bool,
    top_op: String,
    top_negate: String,
    /// Which button was pressed (preview or save); Enter in a field sends none.
    #[serde(default)]
    intent: String,
    #[serde(default)]
    row_kind: Vec<String>,
    #[serde(default)]
    row_depth: Vec<String>,
    #[serde(default)]
    row_op: Vec<String>,
    #[serde(default)]
    row_field: Vec<String>,
    #[serde(default)]
    row_operator: Vec<String>,
    #[serde(default)]
    row_value: Vec<String>,
    #[serde(default)]
    row_negate: Vec<String>,
}

impl From<RuleForm> for Editor {
    fn from(f: RuleForm) -> Self {
        let get = |v: &Vec<String>, i: usize| v.get(i).cloned().unwrap_or_default();
        let rows = (0..f.row_kind.len())
            .filter_map(|i| {
                Some(Row {
                    kind: RowKind::parse(&get(&f.row_kind, i))?,
                    depth: get(&f.row_depth, i)
                        .parse::<usize>()
                        .unwrap_or(0)
                        .min(MAX_DEPTH),
                    op: GroupOp::parse(&get(&f.row_op, i)),
                    field: get(&f.row_field, i),
                    operator: get(&f.row_operator, i),
                    value: get(&f.row_value, i),
                    negate: get(&f.row_negate, i) == "not",
                })
            })
            // A blank condition row is an unused slot of the editor.
            .filter(|r| r.is_group() || !r.value.trim().is_empty())
            .collect();
        Editor {
            name: f.name,
            is_active: f.is_active,
            top: Group {
                op: GroupOp::parse(&f.top_op),
                negate: f.top_negate == "not",
                items: Vec::new(),
            },
            rows,
            intent: f.intent,
        }
    }
}

pub async fn create(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
    Form(form): Form<RuleForm>,
) -> Result<HttpResponse, AppError> {
    submit(auth, id.into_inner(), None, form.into()).await
}

pub async fn update(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
    Form(form): Form<RuleForm>,
) -> Result<HttpResponse, AppError> {
    let (tag_id, rule_id) = path.into_inner();
    tag_rules::get(auth.db(), tag_id, rule_id).await?;
    submit(auth, tag_id, Some(rule_id), form.into()).await
}

async fn submit(
    auth: Auth<WRITE>,
    tag_id: i32,
    rule_id: Option<i32>,
    editor: Editor,
) -> Result<HttpResponse, AppError> {
    let tag = tags::get(auth.db(), tag_id).await?;
    let criteria = editor.criteria();
    let input = RuleInput {
        name: editor.name.clone(),
        is_active: editor.is_active,
        criteria: criteria.clone(),
    };
    let preview_only = editor.intent == "preview";
    let mut view = EditorPage {
        ctx: auth.0,
        tag,
        rule_id,
        editor,
        errors: FieldErrors::new(),
        preview: None,
    };
    if preview_only {
        match accepted(tag_rules::preview(view.ctx.db(), tag_id, rule_id, &criteria).await)? {
            Ok(p) => view.preview = Some(p),
            Err(errors) => {
                view.errors = errors;
                return again(&view);
            }
        }
        return page(&view);
    }
    let result = tag_rules::save(
        view.ctx.db(),
        &view.ctx.audit_actor(),
        tag_id,
        rule_id,
        input,
    )
    .await;
    match accepted(result)? {
        Ok((rule, applied)) => {
            let text = if rule.is_active {
                format!(
                    "Rule {} saved and applied: {} devices gained the tag, {} lost it.{}",
                    rule.name,
                    applied.added,
                    applied.removed,
                    withheld_note(applied.withheld)
                )
            } else {
                format!("Rule {} saved (inactive, not applied).", rule.name)
            };
            view.ctx.flash(FlashKind::Success, text);
            Ok(redirect(&format!("/tags/{tag_id}/rules")))
        }
        Err(errors) => {
            view.errors = errors;
            again(&view)
        }
    }
}

fn withheld_note(withheld: usize) -> String {
    if withheld == 0 {
        String::new()
    } else {
        format!(
            " {withheld} matching devices did not get it: their addresses are outside the allowed networks of a credential the tag carries."
        )
    }
}

pub async fn apply(
    auth: Auth<WRITE>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (tag_id, rule_id) = path.into_inner();
    let applied = tag_rules::apply(auth.db(), &auth.audit_actor(), tag_id, rule_id).await?;
    auth.flash(
        FlashKind::Success,
        format!(
            "Rule applied: {} devices gained the tag, {} lost it.{}",
            applied.added,
            applied.removed,
            withheld_note(applied.withheld)
        ),
    );
    Ok(redirect(&format!("/tags/{tag_id}/rules")))
}

#[derive(Template)]
#[template(path = "tags/rule_delete.html")]
struct DeletePage {
    ctx: Ctx,
    tag: tag_entity::Model,
    rule: rule_entity::Model,
    assigned: u64,
}

pub async fn confirm_delete(
    auth: Auth<DELETE>,
    path: web::Path<(i32, i32)>,
) -> Result<HttpResponse, AppError> {
    let (tag_id, rule_id) = path.into_inner();
    let tag = tags::get(auth.db(), tag_id).await?;
    let rule = tag_rules::get(auth.db(), tag_id, rule_id).await?;
    let assigned = tag_rules::assigned_count(auth.db(), rule_id).await?;
    page(&DeletePage {
        ctx: auth.0,
        tag,
        rule,
        assigned,
    })
}

#[derive(serde::Deserialize)]
pub struct DeleteForm {
    remove_assigned: Option<String>,
}

pub async fn delete(
    auth: Auth<DELETE>,
    path: web::Path<(i32, i32)>,
    Form(form): Form<DeleteForm>,
) -> Result<HttpResponse, AppError> {
    let (tag_id, rule_id) = path.into_inner();
    let removed = tag_rules::delete(
        auth.db(),
        &auth.audit_actor(),
        tag_id,
        rule_id,
        form.remove_assigned.is_some(),
    )
    .await?;
    auth.flash(
        FlashKind::Success,
        format!("Rule deleted; {removed} tags it had given were removed."),
    );
    Ok(redirect(&format!("/tags/{tag_id}/rules")))
}
