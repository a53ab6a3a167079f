//! Starting the application: keys, first admin, refusal to start with the wrong key.

use netraven::bootstrap::StartError;
use netraven::crypto::FERNET_KEY_FILE;
use netraven::startup::Application;

use crate::helpers::{new_data_dir, spawn_with, test_database_url, test_settings};

#[tokio::test]
async fn key_files_are_created_with_mode_0600() {
    let dir = new_data_dir();
    let url = test_database_url(&dir).await;
    let app = spawn_with(test_settings(dir.clone(), url)).await;
    for name in [FERNET_KEY_FILE, "session.key"] {
        let meta = std::fs::metadata(app.data_dir.join(name)).expect("key file exists");
        use std::os::unix::fs::PermissionsExt;
        assert_eq!(meta.permissions().mode() & 0o777, 0o600, "{name} mode");
    }
}

#[tokio::test]
async fn wrong_or_missing_fernet_key_refuses_to_start_once_data_is_encrypted() {
    let dir = new_data_dir();
    let url = test_database_url(&dir).await;
    let settings = test_settings(dir.clone(), url);
    let app = spawn_with(settings.clone()).await;
    // No registered setting is a secret yet; a value stored by an earlier release under a
    // setting that is no longer registered is encrypted data all the same.
    crate::settings::store_unregistered_secret(&app, "tok-123456").await;
    let key_path = dir.join(FERNET_KEY_FILE);
    let original = std::fs::read_to_string(&key_path).unwrap();

    // Another valid key: refused, names the key file.
    std::fs::write(&key_path, "ZmRqc2tsZmpkc2tsZmpkc2xrZmpkc2xrZmpsa2RzamY=\n").unwrap();
    let err = Application::build(settings.clone())
        .await
        .err()
        .expect("refused");
    assert!(matches!(err, StartError::Crypto(_)), "{err}");
    assert!(err.to_string().contains(FERNET_KEY_FILE), "{err}");
    assert!(
        err.to_string()
            .contains("setting notifications.smtp_password"),
        "{err}"
    );
    assert_eq!(err.exit_code(), 78);

    // Missing key file: refused, and no new key is generated next to the data.
    std::fs::remove_file(&key_path).unwrap();
    let err = Application::build(settings.clone())
        .await
        .err()
        .expect("refused");
    assert!(err.to_string().contains("is missing"), "{err}");
    assert!(
        !key_path.exists(),
        "no key generated while encrypted data exists"
    );

    // The right key starts again and the data is intact.
    std::fs::write(&key_path, original).unwrap();
    assert!(Application::build(settings).await.is_ok());
}

#[tokio::test]
async fn a_weak_admin_password_from_the_environment_is_refused() {
    let dir = new_data_dir();
    let url = test_database_url(&dir).await;
    let mut settings = test_settings(dir, url);
    settings.admin_password = Some("short".into());
    let err = Application::build(settings).await.err().expect("refused");
    assert!(err.to_string().contains("NETRAVEN_ADMIN_PASSWORD"), "{err}");
}
