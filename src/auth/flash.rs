//! Flash messages: a handler queues one for the next page the user sees (`Ctx::flash`), the `Ctx`
//! extractor takes the queued ones for the page it is building (`Ctx::flashes`), and
//! `keep_unshown` puts them back when the response turns out not to be a page that showed them.

use actix_session::{Session, SessionExt};
use actix_web::body::MessageBody;
use actix_web::dev::{ServiceRequest, ServiceResponse};
use actix_web::http::{Method, header};
use actix_web::middleware::Next;
use actix_web::{Error, HttpMessage, HttpRequest};
use serde::{Deserialize, Serialize};

const SESSION_KEY: &str = "flash";

#[derive(Clone, Debug, Serialize, Deserialize)]
pub struct Flash {
    pub kind: FlashKind,
    pub text: String,
}

/// How a message is shown (its CSS class is `flash-<kind>`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum FlashKind {
    Success,
    Info,
    Warning,
    Error,
}

impl FlashKind {
    pub fn as_str(self) -> &'static str {
        match self {
            FlashKind::Success => "success",
            FlashKind::Info => "info",
            FlashKind::Warning => "warning",
            FlashKind::Error => "error",
        }
    }
}

impl std::fmt::Display for FlashKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// What `take` removed from the session during this request, for `keep_unshown`.
struct Taken(Vec<Flash>);

fn queued(session: &Session) -> Vec<Flash> {
    session.get(SESSION_KEY).ok().flatten().unwrap_or_default()
}

fn store(session: &Session, list: Vec<Flash>) {
    // Insert fails only if the value cannot be serialised, which a list of flashes always can.
    let _ = session.insert(SESSION_KEY, list);
}

/// Queues a message for the next page shown to this session.
pub fn push(session: &Session, kind: FlashKind, text: String) {
    let mut list = queued(session);
    list.push(Flash { kind, text });
    store(session, list);
}

/// Removes the queued messages from the session for the page this request renders.
pub fn take(req: &HttpRequest, session: &Session) -> Vec<Flash> {
    let list = queued(session);
    if !list.is_empty() {
        session.remove(SESSION_KEY);
        req.extensions_mut().insert(Taken(list.clone()));
    }
    list
}

/// Middleware (inside the session middleware): the extractor cannot know what its handler will
/// answer, so messages it took for a redirect, an error page, a download or a HEAD request go
/// back to the session, in front of any queued meanwhile, for the next page to show.
pub async fn keep_unshown(
    req: ServiceRequest,
    next: Next<impl MessageBody>,
) -> Result<ServiceResponse<impl MessageBody>, Error> {
    let res = next.call(req).await?;
    let taken = res.request().extensions_mut().remove::<Taken>();
    if let Some(Taken(mut list)) = taken
        && !showed_page(&res)
    {
        let session = res.request().get_session();
        list.extend(queued(&session));
        store(&session, list);
    }
    Ok(res)
}

/// Whether the browser received a page rendered for this request: HTML that is not an error
/// page (error pages leave base.html and its messages out; a form shown again with a 422 is a
/// page and showed them).
fn showed_page<B>(res: &ServiceResponse<B>) -> bool {
    res.request().method() != Method::HEAD
        && res.response().error().is_none()
        && res
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .is_some_and(|v| v.starts_with("text/html"))
}
