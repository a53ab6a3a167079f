//! Interactive CLI behaviour over real SSH sessions.

mod common;

use common::{Shell, spec, start};
use devsim::Platform;

#[tokio::test]
async fn ios_login_show_version_and_running_config() {
    let sim = start(vec![spec(Platform::CiscoIos, "r1")]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    let banner = sh.until_end("r1#").await;
    assert!(banner.contains("Authorized access only"), "{banner:?}");
    assert_eq!(sh.cmd("terminal length 0", "r1#").await, "");
    let version = sh.cmd("show version", "r1#").await;
    assert!(
        version.contains("Cisco IOS XE Software, Version 17.03.04a\r\n"),
        "{version}"
    );
    assert!(version.contains("Processor board ID FOC"));
    let config = sh.cmd("show running-config", "r1#").await;
    assert!(config.starts_with("Building configuration...\r\n\r\nCurrent configuration : "));
    assert!(config.contains("\r\nhostname r1\r\n"));
    assert!(config.contains("enable secret 9 $9$"));
    assert!(
        config.ends_with("end\r\n"),
        "{:?}",
        &config[config.len() - 40..]
    );
    let error = sh.cmd("show foo", "r1#").await;
    assert_eq!(
        error,
        "        ^\r\n% Invalid input detected at '^' marker.\r\n"
    );
    sh.send("exit\r").await;
    sh.until_closed().await;
    assert_eq!(sim.sessions_served(0), 1);
}
