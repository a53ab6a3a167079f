use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use super::form::{Form, accepted, again};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::ADMIN;
use crate::auth::{Auth, Ctx};
use crate::services::settings::registry::{self, Category};
use crate::services::settings::{self, CategoryView};
use crate::services::validation::FieldErrors;
use crate::services::{checkmk, nautobot};
use crate::web::error::AppError;

routes! {
    GET r"/settings" => show,
    POST r"/settings/{category}" => update,
    POST r"/settings/{category}/test" => test_connection,
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
    /// A connection test's category, outcome and words.
    test: Option<(Category, bool, String)>,
}

impl SettingsPage {
    /// Categories whose form has *Test connection*.
    fn testable(&self, id: &str) -> bool {
        TESTABLE.iter().any(|c| c.id() == id)
    }
    fn test_of(&self, id: &str) -> Option<&(Category, bool, String)> {
        self.test.as_ref().filter(|(c, _, _)| c.id() == id)
    }
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
        test: None,
    })
}

/// A checkbox sends its hidden "off" and, when ticked, "on": the last value counts.
fn last_values(sent: HashMap<String, Vec<String>>) -> HashMap<String, String> {
    sent.into_iter()
        .filter_map(|(key, mut values)| values.pop().map(|last| (key, last)))
        .collect()
}

/// The categories whose form has *Test connection*.
const TESTABLE: [Category; 2] = [Category::Nautobot, Category::Checkmk];

/// A secret field as typed over its saved value: an empty field keeps the saved one (as saving
/// does), a ticked "clear" drops it.
fn typed_secret(
    form: &HashMap<String, String>,
    setting: &registry::SecretSetting,
    saved: Option<String>,
) -> Option<String> {
    let key = setting.meta.key;
    match form.get(key) {
        Some(t) if !t.is_empty() => Some(t.clone()),
        _ if form.contains_key(&format!("{key}__clear")) => None,
        _ => saved,
    }
}

fn typed_text(
    form: &HashMap<String, String>,
    setting: &registry::TextSetting,
    saved: String,
) -> String {
    form.get(setting.meta.key)
        .map_or(saved, |v| v.trim().to_string())
}

fn typed_seconds(
    form: &HashMap<String, String>,
    setting: &registry::IntSetting,
    saved: u64,
) -> u64 {
    form.get(setting.meta.key)
        .and_then(|v| v.trim().parse::<u64>().ok())
        .map_or(saved, |t| t.clamp(1, 600))
}

fn typed_flag(
    form: &HashMap<String, String>,
    setting: &registry::BoolSetting,
    saved: bool,
) -> bool {
    form.get(setting.meta.key).map_or(saved, |v| v == "on")
}

/// Runs the connection test of `category` with the typed values over the saved ones (`form`
/// empty: the saved values alone). `None` when the saved values are not configured and nothing
/// was typed; else the outcome in words.
async fn connection_test(
    auth: &Auth<ADMIN>,
    category: Category,
    form: &HashMap<String, String>,
) -> Result<Option<(bool, String)>, AppError> {
    use registry::*;
    let (db, vault) = (auth.db(), &auth.state.vault);
    let outcome = match category {
        Category::Nautobot => {
            let saved = nautobot::client::Connection::load(db, vault).await?;
            let c = nautobot::client::Connection {
                url: typed_text(form, &NAUTOBOT_URL, saved.url),
                token: typed_secret(form, &NAUTOBOT_TOKEN, saved.token),
                timeout_seconds: typed_seconds(
                    form,
                    &NAUTOBOT_TIMEOUT_SECONDS,
                    saved.timeout_seconds,
                ),
                verify_tls: typed_flag(form, &NAUTOBOT_VERIFY_TLS, saved.verify_tls),
                ca_file: typed_text(form, &NAUTOBOT_CA_FILE, saved.ca_file),
            };
            if form.is_empty() && !c.is_configured() {
                return Ok(None);
            }
            nautobot::probe::test(&c)
                .await
                .map(|r| r.words())
                .map_err(|e| e.to_string())
        }
        Category::Checkmk => {
            let saved = checkmk::client::Connection::load(db, vault).await?;
            let c = checkmk::client::Connection {
                url: typed_text(form, &CHECKMK_URL, saved.url),
                user: typed_text(form, &CHECKMK_USER, saved.user),
                secret: typed_secret(form, &CHECKMK_SECRET, saved.secret),
                timeout_seconds: typed_seconds(
                    form,
                    &CHECKMK_TIMEOUT_SECONDS,
                    saved.timeout_seconds,
                ),
                verify_tls: typed_flag(form, &CHECKMK_VERIFY_TLS, saved.verify_tls),
            };
            if form.is_empty() && !c.is_configured() {
                return Ok(None);
            }
            checkmk::probe::test(&c)
                .await
                .map(|r| r.words())
                .map_err(|e| e.to_string())
        }
        _ => return Err(AppError::from(crate::error::Error::NotFound)),
    };
    Ok(Some(match outcome {
        Ok(words) => (true, words),
        Err(e) => (false, format!("Connection failed: {e}.")),
    }))
}

/// *Test connection* on a form: tries the typed values without saving them.
pub async fn test_connection(
    auth: Auth<ADMIN>,
    category: web::Path<String>,
    Form(sent): Form<HashMap<String, Vec<String>>>,
) -> Result<HttpResponse, AppError> {
    let category = Category::from_id(&category)
        .filter(|c| TESTABLE.contains(c))
        .ok_or(crate::error::Error::NotFound)?;
    let form = last_values(sent);
    let outcome = connection_test(&auth, category, &form).await?;
    let categories = settings::grouped(auth.db()).await?;
    page(&SettingsPage {
        ctx: auth.0,
        categories,
        errors: FieldErrors::new(),
        submitted: form,
        failed_category: category.id().to_string(),
        test: outcome.map(|(ok, words)| (category, ok, words)),
    })
}

pub async fn update(
    auth: Auth<ADMIN>,
    category: web::Path<String>,
    Form(sent): Form<HashMap<String, Vec<String>>>,
) -> Result<HttpResponse, AppError> {
    let category = category.into_inner();
    let form = last_values(sent);
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
            // A wrong address or secret is said at once, not at the first sync.
            if let Some(c) = Category::from_id(&category).filter(|c| TESTABLE.contains(c))
                && !keys.is_empty()
                && let Some((false, words)) = connection_test(&auth, c, &HashMap::new()).await?
            {
                let why = words.trim_start_matches("Connection failed: ");
                auth.flash(
                    FlashKind::Warning,
                    format!("The connection test with the saved values failed: {why}"),
                );
            }
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
                test: None,
            })
        }
    }
}
