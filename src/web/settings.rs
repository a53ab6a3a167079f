use std::collections::HashMap;

use actix_web::{HttpResponse, web};
use askama::Template;

use super::form::{Form, accepted, again};
use super::{page, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::ADMIN;
use crate::auth::{Auth, Ctx};
use crate::services::nautobot::client::Connection;
use crate::services::nautobot::probe;
use crate::services::settings::registry::{self, Category};
use crate::services::settings::{self, CategoryView};
use crate::services::validation::FieldErrors;
use crate::web::error::AppError;

routes! {
    GET r"/settings" => show,
    POST r"/settings/{category}" => update,
    POST r"/settings/nautobot/test" => test_nautobot,
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
        id == Category::Nautobot.id()
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

/// The connection the Nautobot form describes: typed values over the saved ones (an empty token
/// field keeps the saved token, as saving does).
async fn typed_connection(
    auth: &Auth<ADMIN>,
    form: &HashMap<String, String>,
) -> Result<Connection, AppError> {
    let saved = Connection::load(auth.db(), &auth.state.vault).await?;
    let field = |s: &registry::TextSetting| form.get(s.meta.key).map(|v| v.trim().to_string());
    let cleared = form.contains_key(&format!("{}__clear", registry::NAUTOBOT_TOKEN.meta.key));
    let token = match form.get(registry::NAUTOBOT_TOKEN.meta.key) {
        Some(t) if !t.is_empty() => Some(t.clone()),
        _ if cleared => None,
        _ => saved.token,
    };
    Ok(Connection {
        url: field(&registry::NAUTOBOT_URL).unwrap_or(saved.url),
        token,
        timeout_seconds: form
            .get(registry::NAUTOBOT_TIMEOUT_SECONDS.meta.key)
            .and_then(|v| v.trim().parse::<u64>().ok())
            .map_or(saved.timeout_seconds, |t| t.clamp(1, 600)),
        verify_tls: form
            .get(registry::NAUTOBOT_VERIFY_TLS.meta.key)
            .map_or(saved.verify_tls, |v| v == "on"),
        ca_file: field(&registry::NAUTOBOT_CA_FILE).unwrap_or(saved.ca_file),
    })
}

/// *Test connection* on the Nautobot form: tries the typed values without saving them.
pub async fn test_nautobot(
    auth: Auth<ADMIN>,
    Form(sent): Form<HashMap<String, Vec<String>>>,
) -> Result<HttpResponse, AppError> {
    let form = last_values(sent);
    let connection = typed_connection(&auth, &form).await?;
    let test = match probe::test(&connection).await {
        Ok(report) => (Category::Nautobot, true, report.words()),
        Err(e) => (
            Category::Nautobot,
            false,
            format!("Connection failed: {e}."),
        ),
    };
    let categories = settings::grouped(auth.db()).await?;
    page(&SettingsPage {
        ctx: auth.0,
        categories,
        errors: FieldErrors::new(),
        submitted: form,
        failed_category: Category::Nautobot.id().to_string(),
        test: Some(test),
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
            // A wrong address or token is said at once, not at the first sync.
            if category == Category::Nautobot.id() && !keys.is_empty() {
                let saved = Connection::load(auth.db(), &auth.state.vault).await?;
                if saved.is_configured()
                    && let Err(e) = probe::test(&saved).await
                {
                    auth.flash(
                        FlashKind::Warning,
                        format!("The connection test with the saved values failed: {e}."),
                    );
                }
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
