//! The form contract every handler uses. A form body is `application/x-www-form-urlencoded`
//! (anything else is a 415), at most [`MAX_FORM_BYTES`] (else a 413), with UTF-8 fields (a field
//! that is not gets a message naming it). Every field the handler expects must be present: a
//! missing one is a 400 and changes nothing, so a careless client cannot wipe a value by leaving
//! it out. Checkboxes that hold a state are `bool`s read with `validation::toggle`: the page
//! sends a hidden "off" followed by the box's "on", so an unticked box is "off" rather than
//! absent. A field the form
//! repeats (selected rows, weekdays, rule lines) is a `Vec` in the form's struct
//! (`serde_html_form`); any other field sent twice is refused.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::{StatusCode, header};
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, HttpResponse, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::Error;
use crate::services::validation::FieldErrors;
use crate::web::error::AppError;

/// actix-web's own limit for a body read whole; far above any form here.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// A form read into a struct.
pub struct Form<T>(pub T);

/// The 400 for a form without fields the handler needs.
pub fn missing(names: &[&str]) -> AppError {
    AppError::BadRequest(crate::services::validation::incomplete_form(names))
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { parse(&body.await?).map(Form) })
    }
}

/// A form sent as a query string (the live previews htmx asks for while a form is edited), read
/// like a posted one.
pub struct FormQuery<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for FormQuery<T> {
    type Error = AppError;
    type Future = std::future::Ready<Result<Self, AppError>>;

    fn from_request(req: &HttpRequest, _: &mut Payload) -> Self::Future {
        std::future::ready(parse(req.query_string().as_bytes()).map(FormQuery))
    }
}

/// A form post's service result, split for its handler: `Ok(Ok(value))` when the change was
/// made, `Ok(Err(messages))` when the input was invalid and the form is shown [`again`], and
/// any other error as the error.
pub fn accepted<T>(result: Result<T, Error>) -> Result<Result<T, FieldErrors>, AppError> {
    match result {
        Ok(value) => Ok(Ok(value)),
        Err(Error::Invalid(errors)) => Ok(Err(errors)),
        Err(e) => Err(e.into()),
    }
}

/// A page with a form: 200 when it shows no messages (`valid`), else 422 as [`again`].
pub fn page_or_again(view: &impl askama::Template, valid: bool) -> Result<HttpResponse, AppError> {
    if valid {
        super::page(view)
    } else {
        again(view)
    }
}

/// The form shown again after invalid input: a 422 with what the user typed and the messages.
pub fn again(view: &impl askama::Template) -> Result<HttpResponse, AppError> {
    super::render(StatusCode::UNPROCESSABLE_ENTITY, view)
}

/// Whether a request declares an urlencoded form body.
pub fn is_form(req: &HttpRequest) -> bool {
    req.headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| {
            v.trim()
                .eq_ignore_ascii_case("application/x-www-form-urlencoded")
        })
}

/// The body error worded for the user: too large is a 413, anything else a 400.
pub fn body_error(error: &actix_web::Error) -> AppError {
    if error.as_response_error().status_code() == actix_web::http::StatusCode::PAYLOAD_TOO_LARGE {
        AppError::TooLarge(format!(
            "The form is larger than {} KB, which no form here needs. Shorten the longest field.",
            MAX_FORM_BYTES / 1024
        ))
    } else {
        AppError::BadRequest(format!("The form could not be read: {error}"))
    }
}

fn read_body(
    req: &HttpRequest,
    payload: &mut Payload,
) -> impl Future<Output = Result<Bytes, AppError>> + 'static {
    let declared = is_form(req).then(|| Bytes::from_request(req, payload));
    let content_type = req
        .headers()
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("none")
        .chars()
        .take(60)
        .collect::<String>();
    async move {
        match declared {
            Some(bytes) => bytes.await.map_err(|e| body_error(&e)),
            None => Err(AppError::UnsupportedMediaType(format!(
                "This address takes an HTML form (application/x-www-form-urlencoded), not {content_type}."
            ))),
        }
    }
}

/// Every field's name and value must be UTF-8; a field that is not gets a message naming it
/// (serde would only say the form is malformed).
fn check_utf8(body: &[u8]) -> Result<(), AppError> {
    let mut errors = FieldErrors::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(2, |b| *b == b'=');
        let name = decode(parts.next().unwrap_or_default());
        let value = decode(parts.next().unwrap_or_default());
        match (name, value) {
            (Ok(_), Ok(_)) => {}
            (Ok(name), Err(())) => errors.add(&name, "This is not valid UTF-8 text."),
            (Err(()), _) => errors.add("form", "A field name is not valid UTF-8 text."),
        }
    }
    Ok(errors.into_result()?)
}

pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
    check_utf8(body)?;
    serde_html_form::from_bytes(body).map_err(|e| {
        let text = e.to_string();
        match text.strip_prefix("missing field `") {
            Some(rest) => missing(&[rest.trim_end_matches('`')]),
            None => AppError::BadRequest(format!("The form is malformed: {text}")),
        }
    })
}

fn decode(raw: &[u8]) -> Result<String, ()> {
    let spaced: Vec<u8> = raw
        .iter()
        .map(|b| if *b == b'+' { b' ' } else { *b })
        .collect();
    percent_encoding::percent_decode(&spaced)
        .decode_utf8()
        .map(|s| s.into_owned())
        .map_err(|_| ())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(serde::Deserialize, Debug)]
    struct F {
        name: String,
    }

    #[derive(serde::Deserialize, Debug)]
    struct WithToggle {
        #[serde(deserialize_with = "crate::services::validation::toggle")]
        active: bool,
    }

    #[test]
    fn rejects_non_utf8_by_field() {
        match parse::<F>(b"name=%FF%FE") {
            Err(AppError::Domain(Error::Invalid(e))) => assert!(e.get("name").is_some()),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(parse::<F>(b"name=a+b%21").unwrap().name, "a b!");
    }

    #[test]
    fn a_missing_field_is_a_bad_request_naming_it() {
        match parse::<F>(b"other=1") {
            Err(AppError::BadRequest(m)) => assert!(m.contains("missing: name"), "{m}"),
            other => panic!("unexpected {other:?}"),
        }
    }

    #[test]
    fn toggles_need_their_field_and_the_last_value_wins() {
        assert!(parse::<WithToggle>(b"active=off&active=on").unwrap().active);
        assert!(!parse::<WithToggle>(b"active=off").unwrap().active);
        assert!(matches!(
            parse::<WithToggle>(b""),
            Err(AppError::BadRequest(_))
        ));
        assert!(matches!(
            parse::<WithToggle>(b"active=yes"),
            Err(AppError::BadRequest(_))
        ));
    }
}
