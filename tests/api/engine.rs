//! The device engine against devsim: real SSH servers on loopback speaking each platform's CLI.

use std::time::{Duration, Instant};

use devsim::{AuthMode, DeviceSpec, Fault, Paging, Platform, Sim};
use netraven::device::fetch::{Credential, FetchError, Fetched, Options, Target, fetch};
use netraven::device::{ErrorClass, profile, scrub};

pub const USER: &str = "netops";
pub const PASSWORD: &str = "Sim-passw0rd";

pub fn credential(name: &str, user: &str, password: &str) -> Credential {
    Credential {
        name: name.into(),
        username: user.into(),
        private: false,
        password: Some(password.into()),
        enable_secret: None,
        private_key: None,
    }
}

pub async fn start(specs: Vec<DeviceSpec>) -> Sim {
    Sim::start(specs, "127.0.0.1".parse().expect("ip"), 0)
        .await
        .expect("devsim starts")
}

fn options(step: Duration) -> Options {
    Options {
        step_timeout: step,
        ..Options::default()
    }
}

async fn fetch_device(
    sim: &Sim,
    index: usize,
    creds: &[Credential],
    known: Option<&str>,
    opts: &Options,
) -> Result<Fetched, FetchError> {
    let device = &sim.devices()[index];
    let profile = profile::find(device.platform.as_str()).expect("profile for platform");
    let host = device.addr.ip().to_string();
    let target = Target {
        host: &host,
        port: device.port,
        profile,
        known_host_key: known,
    };
    fetch(&target, creds, opts).await
}

fn ok(result: Result<Fetched, FetchError>, what: &str) -> Fetched {
    match result {
        Ok(f) => f,
        Err(e) => panic!(
            "{what}: {} ({:?})\ntranscript:\n{}",
            e.error,
            e.class(),
            e.transcript.unwrap_or_default()
        ),
    }
}

/// Secret values devsim writes into configurations (see devsim's renderers, many of them after a
/// second keyword: `pre-shared-key address X key V`, SNMPv3 `auth sha A priv aes 128 P`): none
/// of them may survive masking, and each must be in some configuration read.
const SECRET_WORDS: &[&str] = &[
    "S3cr3t",
    "MyPreSharedKey",
    "$9$",
    "$6$",
    // Keyrings, IKE and IPsec pre-shared keys
    "Br4nchPsk",
    "Br4nchHostPsk",
    "Ik2LocalPsk",
    "Ik2RemotePsk",
    "Ik2ProfPsk",
    "XrIkePsk",
    "AsaIk1Psk",
    "AsaIk2Remote",
    "AsaIk2Local",
    "EosSharedK3y",
    "FgtBranchPskX",
    "PanIkePsk",
    "HwIkePsk",
    // SNMPv3 authentication and privacy keys, SNMP notification communities
    "AuthPassV3x",
    "PrivPassV3x",
    "Tr4pC0mm",
    // TACACS+ and RADIUS keys after the server address
    "T4cHostK3y",
    "R4dHostK3y",
    "R4dHostNx",
    "XrTacGlob",
    "BrcdRadK3y",
    "Os10RadK3y",
    "Os6RadK3y",
    "R4diusK3y",
    // Routing-protocol, key-chain and NTP keys
    "OspfMd5",
    "HwOspfSimple",
    "NtpMd5",
    "NtpK3y",
    "SntpK3yHp",
    "XrKeyStrPw",
    "FrrKeyStr",
    "XrBgpPeer",
    "BgpMd5Mt",
    // Local users, LDAP binds, private keys, wireless keys
    "FgtLocalPasswdX",
    "PanBindPw",
    "PanPrivK3y",
    "PppS3cretMt",
    "Wpa2PskMt",
    "WgPskMt",
    "WlanPskLinux",
];

#[tokio::test]
async fn every_platform_fetches_with_facts_filters_and_masking() {
    let specs: Vec<DeviceSpec> = Platform::ALL
        .iter()
        .enumerate()
        .map(|(i, p)| {
            let mut s = DeviceSpec::new(*p, format!("dev{i}"), USER, PASSWORD);
            s.seed = i as u64 + 1;
            s
        })
        .collect();
    let sim = start(specs).await;
    let creds = [credential("lab", USER, PASSWORD)];
    let opts = Options {
        debug: true,
        ..options(Duration::from_secs(10))
    };
    let mut report = Vec::new();
    let mut seen: std::collections::BTreeSet<&str> = std::collections::BTreeSet::new();
    for (i, device) in sim.devices().iter().enumerate() {
        let platform = device.platform.as_str();
        let profile = profile::find(platform).expect("profile");
        let first = ok(fetch_device(&sim, i, &creds, None, &opts).await, platform);
        let config = first.config.as_ref().expect("config");
        assert!(
            config.text.lines().count() > 20,
            "{platform}: configuration too short:\n{}",
            config.text
        );
        // Stripped lines are gone.
        for line in config.text.lines() {
            assert!(
                !profile.filters.strip.iter().any(|r| r.is_match(line)),
                "{platform}: stripped line still stored: {line:?}"
            );
        }
        // Secrets masked (RouterOS 7 hides them itself in a plain `/export`).
        if platform != "mikrotik_routeros" {
            assert!(
                config.masked.contains(scrub::MASK_MARKER),
                "{platform}: nothing masked in:\n{}",
                config.text
            );
        }
        for word in SECRET_WORDS {
            assert!(
                !config.masked.contains(word),
                "{platform}: {word:?} survives masking:\n{}",
                config.masked
            );
        }
        seen.extend(
            SECRET_WORDS
                .iter()
                .copied()
                .filter(|w| config.text.contains(w)),
        );
        // RouterOS 7 shows its secrets only when asked to: they must be masked then too.
        if platform == "mikrotik_routeros" {
            let sensitive = Options {
                config_commands: Some(vec!["/export show-sensitive".into()]),
                ..opts.clone()
            };
            let fetched = ok(
                fetch_device(&sim, i, &creds, None, &sensitive).await,
                platform,
            );
            let config = fetched.config.as_ref().expect("config");
            assert!(config.masked.contains(scrub::MASK_MARKER));
            for word in SECRET_WORDS {
                assert!(
                    !config.masked.contains(word),
                    "{platform} show-sensitive: {word:?} survives masking:\n{}",
                    config.masked
                );
            }
            seen.extend(
                SECRET_WORDS
                    .iter()
                    .copied()
                    .filter(|w| config.text.contains(w)),
            );
        }
        // The transcript never shows the password, and masks the config's secrets too.
        let transcript = first.transcript.as_deref().unwrap_or_default();
        assert!(
            !transcript.contains(PASSWORD),
            "{platform}: password in transcript"
        );
        // Facts parsed.
        let facts = &first.facts;
        assert!(
            facts.os_version.is_some(),
            "{platform}: no OS version in {facts:?}"
        );
        if platform != "linux" {
            assert!(
                facts.model.is_some() && facts.serial.is_some(),
                "{platform}: facts incomplete: {facts:?}"
            );
        }
        // Lines that differ on every read are recognised by the ignore filter.
        if !profile.filters.ignore.is_empty() {
            assert!(
                !scrub::ignored_lines(&profile.filters, &config.text).is_empty(),
                "{platform}: no ignore-filter line found in:\n{}",
                config.text
            );
        }
        // A second read: volatile lines differ, the change key does not.
        let second = ok(fetch_device(&sim, i, &creds, None, &opts).await, platform);
        let again = second.config.as_ref().expect("config");
        assert_eq!(
            config.change_key, again.change_key,
            "{platform}: an unchanged device looks changed:\n--- first\n{}\n--- second\n{}",
            config.text, again.text
        );
        report.push(format!(
            "{platform}: {} lines, {} ignored, facts {:?}",
            config.text.lines().count(),
            scrub::ignored_lines(&profile.filters, &config.text).len(),
            facts
        ));
    }
    let unseen: Vec<_> = SECRET_WORDS.iter().filter(|w| !seen.contains(*w)).collect();
    assert!(
        unseen.is_empty(),
        "no configuration holds {unseen:?}: the check above proves nothing for them"
    );
    println!("{}", report.join("\n"));
    sim.shutdown().await;
}

#[tokio::test]
async fn paging_answered_when_it_cannot_be_turned_off() {
    let mut paged = DeviceSpec::new(Platform::CiscoIos, "paged", USER, PASSWORD);
    paged.paging = Paging::Forced;
    let mut junos = DeviceSpec::new(Platform::JuniperJunos, "junos-paged", USER, PASSWORD);
    junos.paging = Paging::Forced;
    let plain = DeviceSpec::new(Platform::CiscoIos, "paged", USER, PASSWORD);
    let sim = start(vec![paged, plain, junos]).await;
    let creds = [credential("lab", USER, PASSWORD)];
    let opts = options(Duration::from_secs(10));
    let forced = ok(
        fetch_device(&sim, 0, &creds, None, &opts).await,
        "forced paging",
    );
    let off = ok(
        fetch_device(&sim, 1, &creds, None, &opts).await,
        "paging off",
    );
    let (forced, off) = (forced.config.expect("config"), off.config.expect("config"));
    assert!(
        !forced.text.contains("More"),
        "pager text left in:\n{}",
        forced.text
    );
    assert_eq!(
        forced.change_key, off.change_key,
        "the paged read differs from the unpaged one:\n{}\n---\n{}",
        forced.text, off.text
    );
    let junos = ok(
        fetch_device(&sim, 2, &creds, None, &opts).await,
        "junos paged",
    );
    let text = junos.config.expect("config").text;
    assert!(!text.contains("(more"), "junos pager left in:\n{text}");
    assert!(text.lines().count() > 100);
    sim.shutdown().await;
}

#[tokio::test]
async fn enable_with_the_right_and_the_wrong_secret() {
    let mut ios = DeviceSpec::new(Platform::CiscoIos, "ios-enable", USER, PASSWORD);
    ios.enable_secret = Some("En4ble-secret".into());
    let mut asa = DeviceSpec::new(Platform::CiscoAsa, "asa-enable", USER, PASSWORD);
    asa.enable_secret = Some("En4ble-secret".into());
    let sim = start(vec![ios, asa]).await;
    let opts = options(Duration::from_secs(10));
    for index in 0..2 {
        let mut right = credential("with enable", USER, PASSWORD);
        right.enable_secret = Some("En4ble-secret".into());
        let fetched = ok(
            fetch_device(&sim, index, &[right], None, &opts).await,
            "right enable secret",
        );
        assert!(fetched.config.expect("config").text.contains("hostname"));

        let mut wrong = credential("wrong enable", USER, PASSWORD);
        wrong.enable_secret = Some("not-it".into());
        let err = fetch_device(&sim, index, &[wrong], None, &opts)
            .await
            .expect_err("wrong enable secret must fail");
        assert_eq!(err.class(), ErrorClass::EnableRefused, "{}", err.error);
        assert!(err.error.to_string().contains("wrong enable"));

        let missing = credential("no enable", USER, PASSWORD);
        let err = fetch_device(&sim, index, &[missing], None, &opts)
            .await
            .expect_err("no enable secret must fail");
        assert_eq!(err.class(), ErrorClass::EnableRefused, "{}", err.error);
    }
    sim.shutdown().await;
}

#[tokio::test]
async fn credential_list_falls_back_and_says_which_worked() {
    let mut spec = DeviceSpec::new(Platform::AristaEos, "eos-creds", "third", "Third-passw0rd");
    spec.credentials
        .push(("other".into(), "Other-passw0rd".into()));
    let sim = start(vec![spec]).await;
    let creds = [
        credential("first", "first", "First-passw0rd"),
        credential("second", "third", "wrong-password"),
        credential("third", "third", "Third-passw0rd"),
    ];
    let fetched = ok(
        fetch_device(&sim, 0, &creds, None, &options(Duration::from_secs(10))).await,
        "third credential",
    );
    assert_eq!(fetched.credential_index, 2);
    assert_eq!(fetched.credential_name, "third");
    let outcomes: Vec<Option<&str>> = fetched.attempts.iter().map(|a| a.error_class).collect();
    assert_eq!(
        outcomes,
        vec![Some("auth_failed"), Some("auth_failed"), None],
        "{:?}",
        fetched.attempts
    );
    let err = fetch_device(
        &sim,
        0,
        &creds[..2],
        None,
        &options(Duration::from_secs(10)),
    )
    .await
    .expect_err("no working credential");
    assert_eq!(err.class(), ErrorClass::AuthFailed);
    assert!(
        err.error.to_string().contains("\"second\""),
        "{}",
        err.error
    );
    sim.shutdown().await;
}

#[tokio::test]
async fn keyboard_interactive_and_public_key_logins() {
    let mut seed = [0u8; 32];
    getrandom::fill(&mut seed).expect("random");
    let key = russh::keys::PrivateKey::from(
        russh::keys::ssh_key::private::Ed25519Keypair::from_seed(&seed),
    );
    let pem = key
        .to_openssh(russh::keys::ssh_key::LineEnding::LF)
        .expect("pem")
        .to_string();
    let mut tacacs = DeviceSpec::new(Platform::CiscoIos, "tacacs", USER, PASSWORD);
    tacacs.auth_mode = AuthMode::KeyboardInteractiveOnly;
    let mut keyed = DeviceSpec::new(Platform::JuniperJunos, "keyed", USER, "unused-Passw0rd");
    keyed.authorized_keys.push(key.public_key().clone());
    let sim = start(vec![tacacs, keyed]).await;
    let opts = options(Duration::from_secs(10));
    ok(
        fetch_device(
            &sim,
            0,
            &[credential("tacacs", USER, PASSWORD)],
            None,
            &opts,
        )
        .await,
        "keyboard-interactive",
    );
    let with_key = Credential {
        name: "key".into(),
        username: USER.into(),
        private: false,
        password: None,
        enable_secret: None,
        private_key: Some(pem),
    };
    ok(
        fetch_device(&sim, 1, &[with_key], None, &opts).await,
        "public key",
    );
    let bad_key = Credential {
        name: "broken key".into(),
        username: USER.into(),
        private: false,
        password: None,
        enable_secret: None,
        private_key: Some("-----BEGIN OPENSSH PRIVATE KEY-----\nnot a key\n".into()),
    };
    let err = fetch_device(&sim, 1, &[bad_key], None, &opts)
        .await
        .expect_err("unreadable key");
    assert_eq!(err.class(), ErrorClass::Configuration);
    sim.shutdown().await;
}

#[tokio::test]
async fn legacy_only_device_connects() {
    let mut old = DeviceSpec::new(Platform::CiscoIos, "old-gear", USER, PASSWORD);
    old.legacy_only = true;
    let sim = start(vec![old]).await;
    let fetched = ok(
        fetch_device(
            &sim,
            0,
            &[credential("lab", USER, PASSWORD)],
            None,
            &options(Duration::from_secs(20)),
        )
        .await,
        "legacy algorithms",
    );
    assert!(fetched.host_key.openssh.starts_with("ssh-rsa "));
    sim.shutdown().await;
}

#[tokio::test]
async fn host_key_recorded_then_a_change_is_refused() {
    let sim = start(vec![DeviceSpec::new(
        Platform::CiscoNxos,
        "nx",
        USER,
        PASSWORD,
    )])
    .await;
    let creds = [credential("lab", USER, PASSWORD)];
    let opts = options(Duration::from_secs(10));
    let first = ok(
        fetch_device(&sim, 0, &creds, None, &opts).await,
        "first contact",
    );
    assert!(first.host_key_first_seen);
    assert_eq!(first.host_key.fingerprint, sim.devices()[0].fingerprint());
    let known = first.host_key.openssh.clone();
    let again = ok(
        fetch_device(&sim, 0, &creds, Some(&known), &opts).await,
        "same key",
    );
    assert!(!again.host_key_first_seen);
    sim.rotate_host_key(0).expect("rotate");
    let err = fetch_device(&sim, 0, &creds, Some(&known), &opts)
        .await
        .expect_err("changed key");
    assert_eq!(err.class(), ErrorClass::HostKeyChanged, "{}", err.error);
    let presented = err.host_key.expect("presented key");
    assert_eq!(presented.fingerprint, sim.devices()[0].fingerprint());
    assert_ne!(presented.openssh, known);
    sim.shutdown().await;
}

#[tokio::test]
async fn failures_are_typed_and_bounded_by_the_step_timeout() {
    let mut drop = DeviceSpec::new(Platform::CiscoIos, "dropper", USER, PASSWORD);
    drop.fault = Some(Fault::DropMidOutput);
    let mut silent = DeviceSpec::new(Platform::AristaEos, "silent", USER, PASSWORD);
    silent.fault = Some(Fault::NoPrompt);
    let sim = start(vec![drop, silent]).await;
    let creds = [credential("lab", USER, PASSWORD)];
    let step = Duration::from_secs(2);
    let opts = options(step);

    let err = fetch_device(&sim, 0, &creds, None, &opts)
        .await
        .expect_err("dropped mid-output");
    assert_eq!(err.class(), ErrorClass::ConnectionDropped, "{}", err.error);
    assert!(
        err.error.to_string().contains("show running-config"),
        "{}",
        err.error
    );

    let started = Instant::now();
    let err = fetch_device(&sim, 1, &creds, None, &opts)
        .await
        .expect_err("never a prompt");
    assert_eq!(
        err.class(),
        ErrorClass::PromptNotRecognised,
        "{}",
        err.error
    );
    assert!(started.elapsed() < step * 3, "took {:?}", started.elapsed());

    // Nothing listens: refused at once.
    let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop_listener(closed);
    let profile = profile::find("cisco_ios").expect("ios");
    let target = Target {
        host: "127.0.0.1",
        port,
        profile,
        known_host_key: None,
    };
    let err = fetch(&target, &creds, &opts).await.expect_err("refused");
    assert_eq!(err.class(), ErrorClass::ConnectionRefused, "{}", err.error);

    // Something listens but never speaks SSH: a timeout, within the step timeout.
    let mute = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let port = mute.local_addr().expect("addr").port();
    let holder = tokio::spawn(async move {
        let mut held = Vec::new();
        while let Ok((socket, _)) = mute.accept().await {
            held.push(socket);
        }
    });
    let target = Target { port, ..target };
    let started = Instant::now();
    let err = fetch(&target, &creds, &opts).await.expect_err("mute");
    assert_eq!(err.class(), ErrorClass::Unreachable, "{}", err.error);
    assert!(started.elapsed() < step * 2, "took {:?}", started.elapsed());
    holder.abort();
    sim.shutdown().await;
}

fn drop_listener(listener: std::net::TcpListener) {
    drop(listener);
}

#[tokio::test]
async fn a_changed_config_changes_the_key_and_volatile_lines_do_not() {
    let sim = start(vec![
        DeviceSpec::new(Platform::CiscoIos, "r-change", USER, PASSWORD),
        DeviceSpec::new(Platform::FortinetFortios, "fw-change", USER, PASSWORD),
    ])
    .await;
    let creds = [credential("lab", USER, PASSWORD)];
    let opts = options(Duration::from_secs(10));
    for index in 0..2 {
        let a = ok(
            fetch_device(&sim, index, &creds, None, &opts).await,
            "first",
        )
        .config
        .expect("config");
        let b = ok(
            fetch_device(&sim, index, &creds, None, &opts).await,
            "second",
        )
        .config
        .expect("config");
        assert_eq!(a.change_key, b.change_key);
        if index == 1 {
            // FortiOS re-salts its encrypted secrets on every read: the stored text differs.
            assert_ne!(
                a.sha256, b.sha256,
                "devsim's re-salted values did not change"
            );
        }
        sim.change_config(index, "snmp-server location lab-rack-7");
        let c = ok(
            fetch_device(&sim, index, &creds, None, &opts).await,
            "changed",
        )
        .config
        .expect("config");
        assert_ne!(a.change_key, c.change_key);
        assert!(c.text.contains("lab-rack-7"));
    }
    sim.shutdown().await;
}

/// Runs the real `netraven device fetch` binary with the given stdin.
async fn run_cli(args: &[&str], stdin: &str) -> (i32, String, String) {
    use tokio::io::AsyncWriteExt;
    let mut child = tokio::process::Command::new(env!("CARGO_BIN_EXE_netraven"))
        .args(args)
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn netraven");
    let mut input = child.stdin.take().expect("stdin");
    input
        .write_all(stdin.as_bytes())
        .await
        .expect("write stdin");
    drop(input);
    let out = child.wait_with_output().await.expect("netraven runs");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[tokio::test]
async fn the_fetch_command_prints_the_config_and_exits_with_the_error_class() {
    let mut spec = DeviceSpec::new(Platform::CiscoIos, "cli-r1", USER, PASSWORD);
    spec.enable_secret = Some("En4ble-secret".into());
    let sim = start(vec![spec]).await;
    let port = sim.devices()[0].port.to_string();
    let base = [
        "device",
        "fetch",
        "--host",
        "127.0.0.1",
        "--port",
        &port,
        "--platform",
        "cisco_ios",
        "--username",
        USER,
        "--password-stdin",
        "--enable-stdin",
        "--timeout",
        "5",
    ];
    let input = format!("{PASSWORD}\nEn4ble-secret\n");
    let (code, stdout, stderr) =
        run_cli(&[&base[..], &["--facts", "--debug"]].concat(), &input).await;
    assert_eq!(code, 0, "stderr: {stderr}");
    assert!(stdout.contains("hostname cli-r1"), "{stdout}");
    assert!(!stdout.contains("Building configuration"));
    let facts_line = stderr
        .lines()
        .find(|l| l.starts_with('{'))
        .expect("facts JSON on stderr");
    let facts: serde_json::Value = serde_json::from_str(facts_line).expect("JSON");
    assert_eq!(facts["model"], "C9300-24P");
    assert_eq!(
        facts["host_key_fingerprint"],
        sim.devices()[0].fingerprint()
    );
    assert!(
        stderr.contains("> show running-config"),
        "transcript: {stderr}"
    );
    assert!(!stderr.contains(PASSWORD) && !stderr.contains("En4ble-secret"));

    let (code, masked, _) = run_cli(&[&base[..], &["--mask"]].concat(), &input).await;
    assert_eq!(code, 0);
    assert!(masked.contains(scrub::MASK_MARKER));

    let (code, _, stderr) = run_cli(&base, "Wrong-passw0rd\nEn4ble-secret\n").await;
    assert_eq!(
        code, 13,
        "authentication failure exit code; stderr: {stderr}"
    );
    let (code, _, _) = run_cli(&base, &format!("{PASSWORD}\nnope\n")).await;
    assert_eq!(code, 14, "enable refused exit code");
    let (code, _, stderr) = run_cli(&base, "").await;
    assert_eq!(code, 2, "no password on stdin: usage error; {stderr}");
    let (code, _, stderr) = run_cli(
        &[
            "device",
            "fetch",
            "--host",
            "127.0.0.1",
            "--platform",
            "nope",
            "--username",
            "x",
            "--password-stdin",
        ],
        "x\n",
    )
    .await;
    assert_eq!(code, 2);
    assert!(stderr.contains("unknown platform"), "{stderr}");
    let (code, stdout, _) = run_cli(&["device", "fetch", "--help"], "").await;
    assert_eq!(code, 0);
    assert!(stdout.contains("13  authentication failed"), "{stdout}");
    sim.shutdown().await;
}
