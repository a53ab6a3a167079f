//! SSH authentication and transport: credentials, auth methods, public keys, legacy algorithms,
//! host-key rotation.

mod common;

use std::sync::Arc;

use common::{Shell, config, connect_with, legacy_preferred, spec, start};
use devsim::{AuthMode, Platform};
use russh::client::KeyboardInteractiveAuthResponse;
use russh::keys::ssh_key::private::Ed25519Keypair;
use russh::keys::{Algorithm, PrivateKey, PrivateKeyWithHashAlg};

fn client_key(seed: u8) -> PrivateKey {
    PrivateKey::from(Ed25519Keypair::from_seed(&[seed; 32]))
}

#[tokio::test]
async fn only_listed_credentials_log_in() {
    let mut device = spec(Platform::CiscoIos, "r1");
    device.credentials = vec![("admin".into(), "one".into()), ("ops".into(), "two".into())];
    let sim = start(vec![device]).await;
    let addr = sim.devices()[0].addr;
    for (user, password, ok) in [
        ("admin", "one", true),
        ("ops", "two", true),
        ("admin", "two", false),
        ("root", "one", false),
    ] {
        let (mut handle, _) = connect_with(addr, config()).await.expect("connect");
        let auth = handle
            .authenticate_password(user, password)
            .await
            .expect("auth");
        assert_eq!(auth.success(), ok, "{user}/{password}");
    }
    // A client may retry on the same connection after a failure, as on a real device.
    let (mut handle, _) = connect_with(addr, config()).await.expect("connect");
    assert!(
        !handle
            .authenticate_password("admin", "bad")
            .await
            .expect("auth")
            .success()
    );
    assert!(
        handle
            .authenticate_password("admin", "one")
            .await
            .expect("auth")
            .success()
    );
    assert_eq!(sim.sessions_served(0), 3);
}

#[tokio::test]
async fn keyboard_interactive_only_refuses_the_password_method() {
    let mut device = spec(Platform::CiscoIos, "r1");
    device.auth_mode = AuthMode::KeyboardInteractiveOnly;
    let sim = start(vec![device]).await;
    let addr = sim.devices()[0].addr;
    let (mut handle, _) = connect_with(addr, config()).await.expect("connect");
    assert!(
        !handle
            .authenticate_password("admin", "secret")
            .await
            .expect("auth")
            .success()
    );
    let reply = handle
        .authenticate_keyboard_interactive_start("admin", None)
        .await
        .expect("start");
    let KeyboardInteractiveAuthResponse::InfoRequest { prompts, .. } = reply else {
        panic!("expected a prompt, got {reply:?}");
    };
    assert_eq!(prompts.len(), 1);
    assert_eq!(prompts[0].prompt, "Password: ");
    assert!(!prompts[0].echo);
    let reply = handle
        .authenticate_keyboard_interactive_respond(vec!["secret".into()])
        .await
        .expect("respond");
    assert!(
        matches!(reply, KeyboardInteractiveAuthResponse::Success),
        "{reply:?}"
    );
    let mut sh = Shell::open(handle).await;
    sh.until_end("r1#").await;

    // A wrong answer fails.
    let (mut handle, _) = connect_with(addr, config()).await.expect("connect");
    handle
        .authenticate_keyboard_interactive_start("admin", None)
        .await
        .expect("start");
    let reply = handle
        .authenticate_keyboard_interactive_respond(vec!["nope".into()])
        .await
        .expect("respond");
    assert!(matches!(
        reply,
        KeyboardInteractiveAuthResponse::Failure { .. }
    ));
}

#[tokio::test]
async fn password_only_refuses_keyboard_interactive() {
    let mut device = spec(Platform::DellOs10, "d1");
    device.auth_mode = AuthMode::PasswordOnly;
    let sim = start(vec![device]).await;
    let (mut handle, _) = connect_with(sim.devices()[0].addr, config())
        .await
        .expect("connect");
    let reply = handle
        .authenticate_keyboard_interactive_start("admin", None)
        .await
        .expect("start");
    assert!(
        matches!(reply, KeyboardInteractiveAuthResponse::Failure { .. }),
        "{reply:?}"
    );
    assert!(
        handle
            .authenticate_password("admin", "secret")
            .await
            .expect("auth")
            .success()
    );
}

#[tokio::test]
async fn public_key_login() {
    let good = client_key(1);
    let bad = client_key(2);
    let mut device = spec(Platform::JuniperJunos, "j1");
    device.authorized_keys = vec![good.public_key().clone()];
    let sim = start(vec![device]).await;
    let addr = sim.devices()[0].addr;
    let (mut handle, _) = connect_with(addr, config()).await.expect("connect");
    let auth = handle
        .authenticate_publickey("admin", PrivateKeyWithHashAlg::new(Arc::new(bad), None))
        .await
        .expect("auth");
    assert!(!auth.success());
    let auth = handle
        .authenticate_publickey(
            "nobody",
            PrivateKeyWithHashAlg::new(Arc::new(good.clone()), None),
        )
        .await
        .expect("auth");
    assert!(!auth.success(), "the key only works for the device's users");
    let auth = handle
        .authenticate_publickey("admin", PrivateKeyWithHashAlg::new(Arc::new(good), None))
        .await
        .expect("auth");
    assert!(auth.success());
    let mut sh = Shell::open(handle).await;
    sh.until_end("admin@j1> ").await;
}

#[tokio::test]
async fn legacy_device_speaks_only_legacy_algorithms() {
    let mut device = spec(Platform::CiscoIos, "old");
    device.legacy_only = true;
    let sim = start(vec![device, spec(Platform::CiscoIos, "new")]).await;
    let legacy = russh::client::Config {
        preferred: legacy_preferred(),
        ..config()
    };
    let (mut handle, recorder) = connect_with(sim.devices()[0].addr, legacy)
        .await
        .expect("legacy client connects");
    let key = recorder.key.lock().unwrap().clone().expect("host key");
    assert_eq!(key.algorithm(), Algorithm::Rsa { hash: None });
    assert_eq!(
        key.fingerprint(russh::keys::HashAlg::Sha256).to_string(),
        sim.devices()[0].fingerprint()
    );
    assert!(
        handle
            .authenticate_password("admin", "secret")
            .await
            .expect("auth")
            .success()
    );
    let mut sh = Shell::open(handle).await;
    sh.until_end("old#").await;
    assert!(
        sh.cmd("show inventory", "old#")
            .await
            .contains("PID: C9300-24P")
    );

    // A client with only modern algorithms cannot agree on a key exchange.
    assert!(connect_with(sim.devices()[0].addr, config()).await.is_err());
    // A modern device refuses the legacy-only client.
    let legacy = russh::client::Config {
        preferred: legacy_preferred(),
        ..config()
    };
    assert!(connect_with(sim.devices()[1].addr, legacy).await.is_err());
}

#[tokio::test]
async fn rotated_host_key_is_presented_to_new_connections() {
    let sim = start(vec![spec(Platform::AristaEos, "e1"), {
        let mut legacy = spec(Platform::CiscoAsa, "fw");
        legacy.legacy_only = true;
        legacy
    }])
    .await;
    let device = &sim.devices()[0];
    let before = device.fingerprint();
    assert!(before.starts_with("SHA256:"));
    let (_, recorder) = connect_with(device.addr, config()).await.expect("connect");
    let seen = recorder.key.lock().unwrap().clone().expect("key");
    assert_eq!(seen, device.public_key());
    let rotated = sim.rotate_host_key(0).expect("rotate");
    assert_ne!(device.fingerprint(), before);
    let (_, recorder) = connect_with(device.addr, config()).await.expect("connect");
    let seen = recorder.key.lock().unwrap().clone().expect("key");
    assert_eq!(seen, rotated);
    assert_ne!(
        seen.fingerprint(russh::keys::HashAlg::Sha256).to_string(),
        before
    );

    let before = sim.devices()[1].fingerprint();
    sim.rotate_host_key(1).expect("rotate legacy");
    let legacy = russh::client::Config {
        preferred: legacy_preferred(),
        ..config()
    };
    let (_, recorder) = connect_with(sim.devices()[1].addr, legacy)
        .await
        .expect("connect");
    let seen = recorder.key.lock().unwrap().clone().expect("key");
    assert_ne!(
        seen.fingerprint(russh::keys::HashAlg::Sha256).to_string(),
        before
    );
}
