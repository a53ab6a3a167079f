//! *Add to Nautobot*: create a NetRaven device in Nautobot through the REST API, step by step
//! (device, management interface, IP address, its assignment, primary IP), and delete what was
//! created when a step fails, so Nautobot is never left with half a device.

use std::net::IpAddr;

use reqwest::Method;
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter};
use serde::Deserialize;
use serde_json::{Value, json};

use super::client::{Client, NautobotError};
use crate::crypto::Vault;
use crate::entity::devices;
use crate::error::Error;
use crate::services::audit::{self, Actor, Event};
use crate::services::settings::{self, registry};
use crate::services::validation::{FieldErrors, MAX_NAME};

/// The form: where and what the device is in Nautobot.
#[derive(Clone, Debug, Default, Deserialize)]
pub struct OnboardInput {
    pub location: String,
    pub role: String,
    pub status: String,
    /// A device type's model.
    pub device_type: String,
    /// A platform's name; empty: the platform whose network driver is the device's platform.
    pub platform: String,
    pub namespace: String,
    pub interface: String,
}

/// Names Nautobot offers for each field (suggestions on the form).
#[derive(Clone, Debug, Default)]
pub struct Choices {
    pub locations: Vec<String>,
    pub roles: Vec<String>,
    pub statuses: Vec<String>,
    pub device_types: Vec<String>,
    pub platforms: Vec<String>,
    pub namespaces: Vec<String>,
}

/// The form's starting values: the settings' defaults, the device type matching the device's
/// model fact when one does.
pub async fn defaults(
    db: &DatabaseConnection,
    device: &devices::Model,
    choices: &Choices,
) -> Result<OnboardInput, Error> {
    let text = |s| settings::text(db, s);
    let model_match = device.model.as_deref().and_then(|m| {
        choices
            .device_types
            .iter()
            .find(|t| t.eq_ignore_ascii_case(m.trim()))
            .cloned()
    });
    Ok(OnboardInput {
        location: text(&registry::NAUTOBOT_ONBOARD_LOCATION).await?,
        role: text(&registry::NAUTOBOT_ONBOARD_ROLE).await?,
        status: text(&registry::NAUTOBOT_ONBOARD_STATUS).await?,
        device_type: match model_match {
            Some(m) => m,
            None => text(&registry::NAUTOBOT_ONBOARD_DEVICE_TYPE).await?,
        },
        platform: String::new(),
        namespace: text(&registry::NAUTOBOT_ONBOARD_NAMESPACE).await?,
        interface: text(&registry::NAUTOBOT_ONBOARD_INTERFACE).await?,
    })
}

fn names(list: Vec<Value>, key: &str) -> Vec<String> {
    let mut out: Vec<String> = list
        .iter()
        .filter_map(|o| o.get(key).and_then(Value::as_str).map(str::to_string))
        .collect();
    out.sort_by_key(|n| n.to_lowercase());
    out.dedup();
    out
}

/// What Nautobot offers for the form's fields.
pub async fn choices(client: &Client) -> Result<Choices, NautobotError> {
    const CAP: usize = 5000;
    let for_devices = [("content_types", "dcim.device".to_string())];
    Ok(Choices {
        locations: names(client.list("/api/dcim/locations/", &[], CAP).await?, "name"),
        roles: names(
            client.list("/api/extras/roles/", &for_devices, CAP).await?,
            "name",
        ),
        statuses: names(
            client
                .list("/api/extras/statuses/", &for_devices, CAP)
                .await?,
            "name",
        ),
        device_types: names(
            client.list("/api/dcim/device-types/", &[], CAP).await?,
            "model",
        ),
        platforms: names(client.list("/api/dcim/platforms/", &[], CAP).await?, "name"),
        namespaces: names(
            client.list("/api/ipam/namespaces/", &[], CAP).await?,
            "name",
        ),
    })
}

struct Valid {
    location: String,
    role: String,
    status: String,
    device_type: String,
    platform: Option<String>,
    namespace: String,
    interface: String,
}

fn validate(input: &OnboardInput) -> Result<Valid, Error> {
    let mut e = FieldErrors::new();
    let v = Valid {
        location: e.required("location", &input.location, MAX_NAME),
        role: e.required("role", &input.role, MAX_NAME),
        status: e.required("status", &input.status, MAX_NAME),
        device_type: e.required("device_type", &input.device_type, MAX_NAME),
        platform: e.optional("platform", &input.platform, MAX_NAME),
        namespace: e.required("namespace", &input.namespace, MAX_NAME),
        interface: e.required("interface", &input.interface, 64),
    };
    e.into_result()?;
    Ok(v)
}

/// What was created so far, deleted in reverse order when a later step fails.
#[derive(Default)]
struct Created {
    device: Option<String>,
    ip: Option<String>,
}

/// The single object a filtered list finds, by its id; `what` names it in the error.
async fn one_id(
    client: &Client,
    path: &str,
    query: &[(&str, String)],
    what: &str,
) -> Result<String, String> {
    let found = client
        .list(path, query, 2)
        .await
        .map_err(|e| e.to_string())?;
    match found.as_slice() {
        [one] => one
            .get("id")
            .and_then(Value::as_str)
            .map(str::to_string)
            .ok_or_else(|| format!("{what}: Nautobot's answer has no id")),
        [] => Err(format!("{what} does not exist in Nautobot")),
        _ => Err(format!("{what} matches several objects in Nautobot")),
    }
}

fn id_of(v: &Value) -> Result<String, String> {
    v.get("id")
        .and_then(Value::as_str)
        .map(str::to_string)
        .ok_or_else(|| "Nautobot's answer has no id".to_string())
}

/// Adds device `device_id` to Nautobot and records its Nautobot id. Returns that id.
pub async fn onboard(
    db: &DatabaseConnection,
    vault: &Vault,
    actor: &Actor,
    device_id: i32,
    input: &OnboardInput,
) -> Result<String, Error> {
    let device = crate::services::devices::get(db, device_id).await?;
    if let Some(id) = &device.external_id {
        return Err(Error::Conflict(format!(
            "{} is already in Nautobot (id {id})",
            device.hostname
        )));
    }
    let v = validate(input)?;
    let client = Client::from_settings(db, vault).await?;
    let mut created = Created::default();
    let result = create(&client, &device, &v, &mut created).await;
    let nautobot_id = match result {
        Ok(id) => id,
        Err((step, reason)) => {
            let undone = roll_back(&client, &created).await;
            audit::record(
                db,
                actor,
                Event::data("nautobot.onboard")
                    .target("device", device.id)
                    .failure()
                    .detail("hostname", device.hostname.clone())
                    .detail("step", step.clone())
                    .detail("rolled_back", undone.clone()),
            )
            .await?;
            return Err(Error::Refused(format!(
                "Adding {} to Nautobot failed while trying to {step}: {reason}. {undone}",
                device.hostname
            )));
        }
    };
    let txn = crate::db::begin_write(db).await?;
    devices::Entity::update_many()
        .col_expr(
            devices::Column::ExternalId,
            Expr::value(nautobot_id.clone()),
        )
        .filter(devices::Column::Id.eq(device.id))
        .exec(&txn)
        .await?;
    audit::record(
        &txn,
        actor,
        Event::data("nautobot.onboard")
            .target("device", device.id)
            .detail("hostname", device.hostname.clone())
            .detail("nautobot_id", nautobot_id.clone())
            .detail("location", v.location)
            .detail("role", v.role),
    )
    .await?;
    txn.commit().await?;
    Ok(nautobot_id)
}

/// The steps; on failure, the step (in words) and the reason.
async fn create(
    client: &Client,
    device: &devices::Model,
    v: &Valid,
    created: &mut Created,
) -> Result<String, (String, String)> {
    let step = |s: &str| s.to_string();
    let address: IpAddr = device.ip_address.parse().map_err(|_| {
        (
            step("read the device's address"),
            format!("{:?} is not an IP address", device.ip_address),
        )
    })?;
    let device_type = one_id(
        client,
        "/api/dcim/device-types/",
        &[("model", v.device_type.clone())],
        &format!("device type {:?}", v.device_type),
    )
    .await
    .map_err(|r| (step("find the device type"), r))?;
    let platform = match &v.platform {
        Some(name) => {
            one_id(
                client,
                "/api/dcim/platforms/",
                &[("name", name.clone())],
                &format!("platform {name:?}"),
            )
            .await
        }
        None => {
            one_id(
                client,
                "/api/dcim/platforms/",
                &[("network_driver", device.device_type.clone())],
                &format!("a platform with network driver {:?}", device.device_type),
            )
            .await
        }
    }
    .map_err(|r| (step("find the platform"), r))?;
    let mut body = json!({
        "name": device.hostname,
        "device_type": device_type,
        "role": v.role,
        "location": v.location,
        "status": v.status,
        "platform": platform,
    });
    if let Some(serial) = device.serial_number.as_deref().filter(|s| !s.is_empty()) {
        body["serial"] = json!(serial);
    }
    let made = client
        .call(Method::POST, "/api/dcim/devices/", &[], Some(&body))
        .await
        .map_err(|e| (step("create the device"), e.to_string()))?;
    let nautobot_id = id_of(&made).map_err(|r| (step("create the device"), r))?;
    created.device = Some(nautobot_id.clone());
    let interface = client
        .call(
            Method::POST,
            "/api/dcim/interfaces/",
            &[],
            Some(&json!({"device": nautobot_id, "name": v.interface, "type": "virtual", "status": v.status})),
        )
        .await
        .map(|i| id_of(&i).unwrap_or_default())
        .map_err(|e| (format!("create the interface {}", v.interface), e.to_string()))?;
    let host_len = if address.is_ipv4() { 32 } else { 128 };
    let cidr = format!("{address}/{host_len}");
    let existing = client
        .list(
            "/api/ipam/ip-addresses/",
            &[
                ("address", address.to_string()),
                ("namespace", v.namespace.clone()),
            ],
            1,
        )
        .await
        .map_err(|e| (step("look up the IP address"), e.to_string()))?;
    let ip = match existing
        .first()
        .and_then(|i| i.get("id"))
        .and_then(Value::as_str)
    {
        // Already in Nautobot: used, and never deleted by a rollback.
        Some(id) => id.to_string(),
        None => {
            let ip = client
                .call(
                    Method::POST,
                    "/api/ipam/ip-addresses/",
                    &[],
                    Some(&json!({"address": cidr, "namespace": v.namespace, "status": v.status})),
                )
                .await
                .map_err(|e| (format!("create the IP address {cidr}"), e.to_string()))?;
            let id = id_of(&ip).map_err(|r| (format!("create the IP address {cidr}"), r))?;
            created.ip = Some(id.clone());
            id
        }
    };
    client
        .call(
            Method::POST,
            "/api/ipam/ip-address-to-interface/",
            &[],
            Some(&json!({"ip_address": ip, "interface": interface})),
        )
        .await
        .map_err(|e| {
            (
                step("assign the IP address to the interface"),
                e.to_string(),
            )
        })?;
    let primary = if address.is_ipv4() {
        "primary_ip4"
    } else {
        "primary_ip6"
    };
    client
        .call(
            Method::PATCH,
            &format!("/api/dcim/devices/{nautobot_id}/"),
            &[],
            Some(&json!({primary: ip})),
        )
        .await
        .map_err(|e| (step("make it the device's primary IP"), e.to_string()))?;
    Ok(nautobot_id)
}

/// Deletes what was created (the device takes its interface and IP assignment with it); says
/// what was undone and what could not be.
async fn roll_back(client: &Client, created: &Created) -> String {
    let mut done = Vec::new();
    let mut left = Vec::new();
    let targets = [
        ("IP address", "/api/ipam/ip-addresses/", &created.ip),
        ("device", "/api/dcim/devices/", &created.device),
    ];
    for (what, path, id) in targets {
        let Some(id) = id else { continue };
        match client
            .call(Method::DELETE, &format!("{path}{id}/"), &[], None)
            .await
        {
            Ok(_) => done.push(format!("the {what}")),
            Err(e) => left.push(format!("the {what} {id} ({e})")),
        }
    }
    match (done.is_empty(), left.is_empty()) {
        (true, true) => "Nothing had been created in Nautobot.".into(),
        (false, true) => format!("Rolled back: deleted {} in Nautobot.", done.join(" and ")),
        (_, false) => format!(
            "Could not delete {} in Nautobot: remove it by hand.",
            left.join(" and ")
        ),
    }
}
