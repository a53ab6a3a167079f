use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use super::form::{Form, accepted, again};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::ADMIN;
use crate::auth::{Auth, Ctx};
use crate::services::settings::{self, CategoryView};
use crate::services::validation::FieldErrors;
use crate::web::error::AppError;

routes! {
    GET r"/settings" => show,
    POST r"/settings/{category}" => update,
}

#[derive(Template)]
#[template(path = "settings.html")]
struct SettingsPage {
    ctx: Ctx,
    categories: Vec<CategoryView>,
    errors: FieldErrors,
    /// Values as submitted in the rejected category, so the form shows what was typed.
    submitted: HashMap<String, String>,
    failed_category: String,
}

impl SettingsPage {
    fn value(&self, s: &settings::SettingView) -> String {
        match self.submitted.get(s.key) {
            Some(v) if self.failed_category == s.category => v.clone(),
            _ => s.display.clone(),
        }
    }
}

pub async fn show(auth: Auth<ADMIN>) -> Result<HttpResponse, AppError> {
    let categories = settings::grouped(auth.db()).await?;
    page(&SettingsPage {
        ctx: auth.0,
        categories,
        errors: FieldErrors::new(),
        submitted: HashMap::new(),
        failed_category: String::new(),
    })
}

pub async fn update(
    auth: Auth<ADMIN>,
    category: web::Path<String>,
    Form(sent): Form<HashMap<String, Vec<String>>>,
) -> Result<HttpResponse, AppError> {
    let category = category.into_inner();
    // A checkbox sends its hidden "off" and, when ticked, "on": the last value counts.
    let form: HashMap<String, String> = sent
        .into_iter()
        .filter_map(|(key, mut values)| values.pop().map(|last| (key, last)))
        .collect();
    let result = settings::update_category(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        &category,
        &form,
    )
    .await;
    match accepted(result)? {
        Ok(keys) => {
            let text = if keys.is_empty() {
                "Nothing changed.".to_string()
            } else {
                format!("Saved: {}.", keys.join(", "))
            };
            auth.flash(FlashKind::Success, text);
            Ok(redirect(&format!("/settings#{category}")))
        }
        Err(errors) => {
            let categories = settings::grouped(auth.db()).await?;
            again(&SettingsPage {
                ctx: auth.0,
                categories,
                errors,
                submitted: form,
                failed_category: category,
            })
        }
    }
}
