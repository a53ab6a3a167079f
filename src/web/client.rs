//! What a request says about its client and the address it was sent to. `X-Forwarded-*` headers
//! are believed only from the configured trusted proxies: from anyone else they are whatever the
//! client chose to write (an address to dodge the sign-in limit, a host to pass the CSRF check).

use std::net::IpAddr;

use actix_web::HttpRequest;
use actix_web::http::header;

use crate::config::Settings;
use crate::entity::users;
use crate::services::audit::Actor;
use crate::web::AppState;

fn settings(req: &HttpRequest) -> Option<&Settings> {
    req.app_data::<actix_web::web::Data<AppState>>()
        .map(|state| &state.config)
}

fn from_trusted_proxy(req: &HttpRequest, settings: &Settings) -> bool {
    req.peer_addr()
        .is_some_and(|peer| is_trusted(settings, peer.ip()))
}

fn is_trusted(settings: &Settings, ip: IpAddr) -> bool {
    settings.trusted_proxies.iter().any(|net| net.contains(&ip))
}

fn header_text<'a>(req: &'a HttpRequest, name: &str) -> Option<&'a str> {
    req.headers()
        .get(name)
        .and_then(|v| v.to_str().ok())
        .map(str::trim)
        .filter(|v| !v.is_empty())
}

/// The client's address: the peer, or, behind trusted proxies, the nearest address in
/// `X-Forwarded-For` that is not one of them.
pub fn client_ip(req: &HttpRequest) -> Option<String> {
    let peer = req.peer_addr()?.ip();
    let Some(settings) = settings(req).filter(|s| is_trusted(s, peer)) else {
        return Some(peer.to_string());
    };
    let forwarded = header_text(req, "x-forwarded-for")
        .into_iter()
        .flat_map(|v| v.rsplit(','))
        .map(|hop| hop.trim().parse::<IpAddr>());
    let mut nearest = peer;
    for hop in forwarded {
        match hop {
            Ok(ip) if is_trusted(settings, ip) => nearest = ip,
            Ok(ip) => return Some(ip.to_string()),
            // A hop we cannot read: stop at the last one we could.
            Err(_) => break,
        }
    }
    Some(nearest.to_string())
}

/// `scheme://host[:port]` this request was addressed to, as the browser saw it.
pub fn request_origin(req: &HttpRequest) -> Option<String> {
    let settings = settings(req)?;
    let proxied = from_trusted_proxy(req, settings);
    let forwarded = |name| {
        if proxied {
            header_text(req, name)
        } else {
            None
        }
    };
    let scheme = forwarded("x-forwarded-proto")
        .and_then(|v| v.split(',').next())
        .map(|v| v.trim().to_ascii_lowercase())
        .unwrap_or_else(|| {
            if settings.behind_tls {
                "https".into()
            } else {
                "http".into()
            }
        });
    let host = forwarded("x-forwarded-host")
        .and_then(|v| v.split(',').next())
        .map(str::trim)
        .or_else(|| header_text(req, header::HOST.as_str()))
        .or_else(|| req.uri().authority().map(|a| a.as_str()))?;
    Some(format!("{scheme}://{}", host.to_ascii_lowercase()))
}

/// Whether `origin` (from an `Origin` or `Referer` header) is this site: the configured public
/// origin when there is one, else the origin the request was addressed to; or a trusted origin.
pub fn is_own_origin(req: &HttpRequest, origin: &str) -> bool {
    let Some(settings) = settings(req) else {
        return false;
    };
    let origin = origin.trim_end_matches('/').to_ascii_lowercase();
    let own = match &settings.public_origin {
        Some(public) => *public == origin,
        None => request_origin(req).is_some_and(|o| o == origin),
    };
    own || settings.trusted_origins.contains(&origin)
}

/// Who is acting, and from where, for the audit trail: the request's facts as a plain value, so
/// services never see the request.
pub fn actor(req: &HttpRequest, user: Option<&users::Model>) -> Actor {
    Actor {
        id: user.map(|u| u.id),
        name: user.map(|u| u.username.clone()),
        ip: client_ip(req),
        user_agent: req
            .headers()
            .get(header::USER_AGENT)
            .and_then(|v| v.to_str().ok())
            .map(|v| v.chars().take(255).collect()),
    }
}
