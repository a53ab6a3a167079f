//! The device page's connection actions: test the connection (log in, enable, read facts),
//! accept a changed SSH host key, forget the recorded one.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use super::{page_or_block, redirect};
use crate::auth::flash::FlashKind;
use crate::auth::permissions::{ADMIN, WRITE};
use crate::auth::{Auth, Ctx};
use crate::entity::devices as device_entity;
use crate::services::device_access::{self, ConnectionTest, HostKeyEvent};
use crate::services::devices;
use crate::web::error::AppError;

routes! {
    POST r"/devices/{id:\d+}/test-connection" => test_connection,
    POST r"/devices/{id:\d+}/host-key/accept" => accept_host_key,
    POST r"/devices/{id:\d+}/host-key/forget" => forget_host_key,
}

#[derive(Template)]
#[template(path = "devices/connection_test.html", blocks = ["result"])]
struct TestPage {
    ctx: Ctx,
    device: device_entity::Model,
    test: ConnectionTest,
}

impl TestPage {
    fn error_class(&self) -> &'static str {
        self.test.error.as_ref().map_or("", |(c, _)| c.describe())
    }

    fn host_key_note(&self) -> Option<(&'static str, String)> {
        match &self.test.host_key {
            HostKeyEvent::Unchanged => None,
            HostKeyEvent::Recorded(fp) => Some((
                "flash-info",
                format!("First contact: the SSH host key {fp} is now recorded for this device."),
            )),
            HostKeyEvent::Changed { presented } => Some((
                "flash-error",
                format!(
                    "The device presented a different SSH host key ({presented}). Nothing was read. An administrator can accept the new key on the device page."
                ),
            )),
        }
    }
}

pub async fn test_connection(
    auth: Auth<WRITE>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    let test = device_access::test_connection(
        auth.db(),
        &auth.state.vault,
        &auth.audit_actor(),
        id,
        auth.user.debug,
    )
    .await?;
    let device = devices::get(auth.db(), id).await?;
    let fragment = auth.wants_fragment();
    let view = TestPage {
        ctx: auth.0,
        device,
        test,
    };
    page_or_block(fragment, StatusCode::OK, &view, TestPage::as_result)
}

pub async fn accept_host_key(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    device_access::accept_host_key(auth.db(), &auth.audit_actor(), id).await?;
    auth.flash(
        FlashKind::Success,
        "The new SSH host key is now trusted for this device.",
    );
    Ok(redirect(&format!("/devices/{id}")))
}

pub async fn forget_host_key(
    auth: Auth<ADMIN>,
    id: web::Path<i32>,
) -> Result<HttpResponse, AppError> {
    let id = id.into_inner();
    device_access::forget_host_key(auth.db(), &auth.audit_actor(), id).await?;
    auth.flash(
        FlashKind::Success,
        "The SSH host key was forgotten; the next connection records the key the device presents.",
    );
    Ok(redirect(&format!("/devices/{id}")))
}
