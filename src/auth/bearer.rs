//! API tokens as a request presents them: `Authorization: Bearer <token>`, `Token <token>` (the
//! NetBox and Nautobot habit), or HTTP Basic with the token as the password (tools that take
//! only a URL with credentials, such as the Oxidized clients). A request that presents one is
//! authenticated by it alone; its cookies are not looked at.

use actix_web::HttpRequest;
use actix_web::http::{Method, header};
use base64::Engine;

/// How the token came.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scheme {
    Bearer,
    Token,
    Basic,
}

/// What the `Authorization` header holds.
pub enum Presented {
    Token {
        scheme: Scheme,
        secret: String,
    },
    /// A header this application does not read (another scheme, broken Basic): refused as an
    /// invalid token rather than ignored, so a misconfigured client hears why.
    Unreadable,
}

pub fn presented(req: &HttpRequest) -> Option<Presented> {
    let value = req.headers().get(header::AUTHORIZATION)?;
    let Ok(value) = value.to_str() else {
        return Some(Presented::Unreadable);
    };
    let (name, rest) = value.trim().split_once(' ').unwrap_or((value.trim(), ""));
    let rest = rest.trim();
    let token = |scheme, secret: &str| Presented::Token {
        scheme,
        secret: secret.to_string(),
    };
    Some(match name.to_ascii_lowercase().as_str() {
        "bearer" if !rest.is_empty() => token(Scheme::Bearer, rest),
        "token" if !rest.is_empty() => token(Scheme::Token, rest),
        "basic" => match basic_password(rest) {
            Some(password) => token(Scheme::Basic, &password),
            None => Presented::Unreadable,
        },
        _ => Presented::Unreadable,
    })
}

/// The password of `base64(user:password)`; the user name is whatever the tool put there.
fn basic_password(encoded: &str) -> Option<String> {
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(encoded)
        .ok()?;
    let text = String::from_utf8(bytes).ok()?;
    let (_, password) = text.split_once(':')?;
    (!password.is_empty()).then(|| password.to_string())
}

/// Whether a request authenticated this way needs no CSRF token. A page cannot make a browser
/// send a Bearer or Token header to another site without the site's CORS consent, which this one
/// never gives; but a browser does resend cached Basic credentials with a cross-site form post,
/// so a Basic POST is checked like a session's.
pub fn skips_csrf(req: &HttpRequest) -> bool {
    match presented(req) {
        Some(Presented::Token { scheme, .. }) => {
            scheme != Scheme::Basic || *req.method() != Method::POST
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use actix_web::test::TestRequest;

    fn read(value: &str) -> Option<(Scheme, String)> {
        let req = TestRequest::default()
            .insert_header((header::AUTHORIZATION, value))
            .to_http_request();
        match presented(&req) {
            Some(Presented::Token { scheme, secret }) => Some((scheme, secret)),
            _ => None,
        }
    }

    #[test]
    fn schemes() {
        assert_eq!(
            read("Bearer nrv_abc"),
            Some((Scheme::Bearer, "nrv_abc".into()))
        );
        assert_eq!(
            read("token  nrv_abc "),
            Some((Scheme::Token, "nrv_abc".into()))
        );
        // "librenms:nrv_abc"
        assert_eq!(
            read("Basic bGlicmVubXM6bnJ2X2FiYw=="),
            Some((Scheme::Basic, "nrv_abc".into()))
        );
        assert_eq!(read("Basic !!"), None);
        assert_eq!(read("Digest x"), None);
        assert_eq!(read("Bearer"), None);
    }
}
