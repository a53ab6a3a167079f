//! The form contract every handler uses. A form body is `application/x-www-form-urlencoded`
//! (anything else is a 415), at most [`MAX_FORM_BYTES`] (else a 413), with UTF-8 fields (a field
//! that is not gets a message naming it). Every field the handler expects must be present: a
//! missing one is a 400 and changes nothing, so a careless client cannot wipe a value by leaving
//! it out. Checkboxes that hold a state are [`Toggle`]s, which the page sends as a hidden "off"
//! followed by the box's "on", so an unticked box is "off" rather than absent. A field the form
//! repeats (selected rows, weekdays, rule lines) is a `Vec` in the form's struct
//! (`serde_html_form`); any other field sent twice is refused.

use std::future::Future;
use std::pin::Pin;

use actix_web::http::header;
use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Deserializer};

use crate::error::AppError;
use crate::services::validation::FieldErrors;

/// actix-web's own limit for a body read whole; far above any form here.
pub const MAX_FORM_BYTES: usize = 256 * 1024;

/// A form read into a struct.
pub struct Form<T>(pub T);

/// A form read as its fields in order: the schedule form's, until its fields have one struct.
pub struct FormPairs(pub Vec<(String, String)>);

impl FormPairs {
    /// The last value of `name`, if the form has it.
    pub fn last(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .rev()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// The last value of `name`, which the form must have.
    pub fn required(&self, name: &str) -> Result<&str, AppError> {
        self.last(name).ok_or_else(|| missing(&[name]))
    }

    /// The state of a [`Toggle`] field, which the form must have.
    pub fn toggle(&self, name: &str) -> Result<bool, AppError> {
        parse_toggle(self.required(name)?).map_err(|m| AppError::BadRequest(format!("{name}: {m}")))
    }

    /// Every value of `name`, in order.
    pub fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.0
            .iter()
            .filter(move |(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The 400 for a form without fields the handler needs.
pub fn missing(names: &[&str]) -> AppError {
    AppError::BadRequest(format!(
        "The form is incomplete (missing: {}); nothing was changed. Reload the page and submit it again.",
        names.join(", ")
    ))
}

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { parse(&body.await?).map(Form) })
    }
}

impl FromRequest for FormPairs {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let body = read_body(req, payload);
        Box::pin(async move { pairs(&body.await?).map(FormPairs) })
    }
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
    pairs(body).map(drop)
}

/// The fields in order, each checked for UTF-8.
fn pairs(body: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    let mut errors = FieldErrors::new();
    let mut out = Vec::new();
    for pair in body.split(|b| *b == b'&').filter(|p| !p.is_empty()) {
        let mut parts = pair.splitn(2, |b| *b == b'=');
        let name = decode(parts.next().unwrap_or_default());
        let value = decode(parts.next().unwrap_or_default());
        match (name, value) {
            (Ok(name), Ok(value)) => out.push((name, value)),
            (Ok(name), Err(())) => errors.add(&name, "This is not valid UTF-8 text."),
            (Err(()), _) => errors.add("form", "A field name is not valid UTF-8 text."),
        }
    }
    errors.into_result()?;
    Ok(out)
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

/// A checkbox that holds a state (active, enabled, private ...). Its page sends
/// `<input type="hidden" name="x" value="off">` before `<input type="checkbox" name="x"
/// value="on">`, so the field is always present; a form without it is refused.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Toggle(pub bool);

impl Toggle {
    pub fn on(self) -> bool {
        self.0
    }
}

fn parse_toggle(value: &str) -> Result<bool, &'static str> {
    match value {
        "on" => Ok(true),
        "off" => Ok(false),
        _ => Err("expected on or off"),
    }
}

/// The box's value is the last one sent: "off" alone, or "off" then "on" when it is ticked.
impl<'de> Deserialize<'de> for Toggle {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let sent = OneOrMore::deserialize(deserializer)?;
        let last = match &sent {
            OneOrMore::One(value) => Some(value),
            OneOrMore::More(values) => values.last(),
        };
        parse_toggle(last.map_or("", String::as_str))
            .map(Toggle)
            .map_err(serde::de::Error::custom)
    }
}

#[derive(Deserialize)]
#[serde(untagged)]
enum OneOrMore {
    One(String),
    More(Vec<String>),
}

/// An action checkbox (also delete the backups, remove the stored secret): absent means "do not".
pub fn checked(field: &Option<String>) -> bool {
    field.is_some()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::AppError;

    #[derive(serde::Deserialize, Debug)]
    struct F {
        name: String,
    }

    #[derive(serde::Deserialize, Debug)]
    struct WithToggle {
        active: Toggle,
    }

    #[test]
    fn rejects_non_utf8_by_field() {
        match parse::<F>(b"name=%FF%FE") {
            Err(AppError::Validation(e)) => assert!(e.get("name").is_some()),
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
        assert!(
            parse::<WithToggle>(b"active=off&active=on")
                .unwrap()
                .active
                .on()
        );
        assert!(!parse::<WithToggle>(b"active=off").unwrap().active.on());
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
