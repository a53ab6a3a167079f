//! The one guard every route uses: `Auth<P>` loads the signed-in user from the session and checks
//! that they hold all permission bits in `P` (`Auth<0>` = signed in, nothing more).

use std::future::Future;
use std::pin::Pin;

use actix_session::{Session, SessionExt};
use actix_web::{FromRequest, HttpRequest, dev::Payload, web};

use super::bearer::{self, Presented};
use super::flash::{self, Flash, FlashKind};
use super::permissions::{ADMIN, DELETE, Permissions, READ, USER_MANAGE, WRITE};
use super::session_store::{USER_ID, session_user};
use crate::entity::users;
use crate::services::api_tokens::{self, Refusal};
use crate::web::AppState;
use crate::web::error::AppError;

/// What every page needs: who is signed in, their permissions, the CSRF token, flash messages.
pub struct Ctx {
    pub user: users::Model,
    pub perms: Permissions,
    pub csrf: String,
    /// The messages this page shows, taken from the session when the context was built.
    pub flashes: Vec<Flash>,
    pub path: String,
    pub session: Session,
    pub state: web::Data<AppState>,
    pub request: HttpRequest,
    /// The API token the request came with (`None`: a browser session).
    pub token: Option<TokenRef>,
}

/// The API token a request acts with.
#[derive(Clone, Debug)]
pub struct TokenRef {
    pub id: i32,
    pub name: String,
}

impl Ctx {
    pub fn can(&self, bits: i32) -> bool {
        self.perms.has(bits)
    }

    // Named for templates, which must not spell permission bits.
    pub fn can_read(&self) -> bool {
        self.can(READ)
    }
    pub fn can_write(&self) -> bool {
        self.can(WRITE)
    }
    pub fn can_delete(&self) -> bool {
        self.can(DELETE)
    }
    pub fn can_execute(&self) -> bool {
        self.can(super::permissions::EXECUTE)
    }
    pub fn is_admin(&self) -> bool {
        self.can(ADMIN)
    }
    pub fn can_manage_users(&self) -> bool {
        self.can(USER_MANAGE)
    }

    /// Who asks, for the credential services (which show each user only general credentials and
    /// their own private ones).
    pub fn credential_viewer(&self) -> crate::services::credentials::Viewer {
        crate::services::credentials::Viewer {
            user_id: self.user.id,
            is_admin: self.can(ADMIN),
        }
    }

    /// With whose authority this request changes accounts: the permissions it acts with (a
    /// token's, when it came with one), not all of its user's.
    pub fn manager(&self) -> crate::services::users::Manager {
        crate::services::users::Manager::acting(&self.user, self.perms)
    }

    pub fn db(&self) -> &sea_orm::DatabaseConnection {
        &self.state.db
    }

    /// Queues a message for the next page shown to this user (after the redirect that usually
    /// follows; this request's own `flashes` were taken already).
    pub fn flash(&self, kind: FlashKind, text: impl Into<String>) {
        flash::push(&self.session, kind, text.into());
    }

    /// Whether the navigation link to `prefix` is the current section.
    pub fn in_section(&self, prefix: &str) -> bool {
        if prefix == "/" {
            self.path == "/"
        } else {
            self.path == prefix || self.path.starts_with(&format!("{prefix}/"))
        }
    }

    pub fn audit_actor(&self) -> crate::services::audit::Actor {
        let mut actor = crate::web::client::actor(&self.request, Some(&self.user));
        if let Some(token) = &self.token {
            // Which of the user's tokens made a change is worth as much as who.
            actor.name = Some(format!("{} (token {})", self.user.username, token.name));
        }
        actor
    }

    pub fn css_href(&self) -> &'static str {
        crate::web::assets::css_href()
    }

    pub fn version(&self) -> &'static str {
        env!("CARGO_PKG_VERSION")
    }

    pub fn htmx_href(&self) -> &'static str {
        crate::web::assets::HTMX_HREF
    }
}

pub struct Auth<const P: i32>(pub Ctx);

/// Signed in, no particular permission (profile, logout).
pub type SignedIn = Auth<0>;

impl<const P: i32> std::ops::Deref for Auth<P> {
    type Target = Ctx;
    fn deref(&self) -> &Ctx {
        &self.0
    }
}

impl<const P: i32> FromRequest for Auth<P> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        let req = req.clone();
        Box::pin(async move {
            let ctx = load_ctx(&req).await?;
            if !ctx.perms.has(P) {
                return Err(AppError::Forbidden {
                    missing: ctx.perms.missing(P),
                });
            }
            Ok(Auth(ctx))
        })
    }
}

pub fn is_htmx(req: &HttpRequest) -> bool {
    req.headers().contains_key("HX-Request")
}

/// Whether a request wants only the fragment htmx swaps in, rather than the page. A history
/// restore after a cache miss (`HX-History-Restore-Request`) and a boosted link or form
/// (`HX-Boosted`) replace the whole body, so they get the page like any plain request.
pub fn wants_fragment(req: &HttpRequest) -> bool {
    let headers = req.headers();
    headers.contains_key("HX-Request")
        && !headers.contains_key("HX-History-Restore-Request")
        && !headers.contains_key("HX-Boosted")
}

impl Ctx {
    /// `wants_fragment` for this request.
    pub fn wants_fragment(&self) -> bool {
        wants_fragment(&self.request)
    }
}

async fn load_ctx(req: &HttpRequest) -> Result<Ctx, AppError> {
    let state = req
        .app_data::<web::Data<AppState>>()
        .cloned()
        .ok_or_else(|| AppError::internal("application state missing"))?;
    let session = req.get_session();
    if let Some(presented) = bearer::presented(req) {
        return token_ctx(req, state, session, presented).await;
    }
    let login_required = || AppError::LoginRequired {
        next: req
            .uri()
            .path_and_query()
            .map(|p| p.as_str().to_string())
            .unwrap_or_else(|| "/".into()),
        htmx: is_htmx(req),
    };
    let Some(user_id) = session.get::<i32>(USER_ID).ok().flatten() else {
        return Err(login_required());
    };
    // The user's row came with the session (see `session_store::session_user`).
    let user = session_user(&session).filter(|u| u.id == user_id);
    let Some(user) = user.filter(|u| u.is_active) else {
        // Deactivated or deleted while signed in: end this session now.
        session.purge();
        return Err(login_required());
    };
    // A fragment is swapped into a page already on screen and has no place for messages: taking
    // them for it would lose them before the next full page. They stay queued for that page.
    let flashes = if wants_fragment(req) {
        Vec::new()
    } else {
        flash::take(req, &session)
    };
    Ok(Ctx {
        perms: Permissions(user.permissions),
        csrf: super::csrf::token(&session),
        flashes,
        path: req.path().to_string(),
        user,
        session,
        state,
        request: req.clone(),
        token: None,
    })
}

/// The context of a request that presents an API token: no CSRF token (it needs none), no
/// flash messages, and the session left untouched (no cookie is set).
async fn token_ctx(
    req: &HttpRequest,
    state: web::Data<AppState>,
    session: Session,
    presented: Presented,
) -> Result<Ctx, AppError> {
    let Presented::Token { secret, .. } = presented else {
        return Err(AppError::TokenRefused);
    };
    let ip = crate::web::client::client_ip(req);
    let bearer = match api_tokens::authenticate(&state.db, &secret, ip.as_deref()).await? {
        Ok(bearer) => bearer,
        Err(Refusal::Invalid(_)) => return Err(AppError::TokenRefused),
        Err(Refusal::Throttled { until }) => return Err(AppError::TooManyAttempts { until }),
    };
    Ok(Ctx {
        perms: bearer.perms,
        csrf: String::new(),
        flashes: Vec::new(),
        path: req.path().to_string(),
        user: bearer.user,
        session,
        state,
        request: req.clone(),
        token: Some(TokenRef {
            id: bearer.token_id,
            name: bearer.token_name,
        }),
    })
}
