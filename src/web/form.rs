//! The form extractor every handler uses: a bounded urlencoded body whose fields must be UTF-8
//! (a field that is not gets a message naming it) before serde reads it into `T`.

use std::future::Future;
use std::pin::Pin;

use actix_web::web::Bytes;
use actix_web::{FromRequest, HttpRequest, dev::Payload};
use serde::de::DeserializeOwned;

use crate::error::AppError;
use crate::services::validation::FieldErrors;

pub struct Form<T>(pub T);

impl<T: DeserializeOwned + 'static> FromRequest for Form<T> {
    type Error = AppError;
    type Future = Pin<Box<dyn Future<Output = Result<Self, AppError>>>>;

    fn from_request(req: &HttpRequest, payload: &mut Payload) -> Self::Future {
        let bytes = Bytes::from_request(req, payload);
        Box::pin(async move {
            let bytes = bytes
                .await
                .map_err(|e| AppError::BadRequest(format!("The form could not be read: {e}")))?;
            parse(&bytes).map(Form)
        })
    }
}

pub fn parse<T: DeserializeOwned>(body: &[u8]) -> Result<T, AppError> {
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
    errors.into_result()?;
    serde_urlencoded::from_bytes(body)
        .map_err(|e| AppError::BadRequest(format!("The form is malformed: {e}")))
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

/// A ticked HTML checkbox sends its field; an unticked one sends nothing.
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

    #[test]
    fn rejects_non_utf8_by_field() {
        match parse::<F>(b"name=%FF%FE") {
            Err(AppError::Validation(e)) => assert!(e.get("name").is_some()),
            other => panic!("unexpected {other:?}"),
        }
        assert_eq!(parse::<F>(b"name=a+b%21").unwrap().name, "a b!");
        assert!(matches!(
            parse::<F>(b"other=1"),
            Err(AppError::BadRequest(_))
        ));
    }
}
