//! The devsim binary: starts a fleet and writes NetRaven's inventory CSV.

use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[test]
fn binary_writes_the_inventory() {
    let dir = std::env::temp_dir().join(format!("devsim-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let inventory = dir.join("inventory.csv");
    let mut child = Command::new(env!("CARGO_BIN_EXE_devsim"))
        .args([
            "--devices",
            "5",
            "--mix",
            "cisco_ios:60,juniper_junos:40",
            "--base-port",
            "0",
        ])
        .args(["--config-lines", "50", "--inventory"])
        .arg(&inventory)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start devsim");
    let deadline = Instant::now() + Duration::from_secs(20);
    let csv = loop {
        if let Ok(csv) = std::fs::read_to_string(&inventory)
            && csv.lines().count() == 6
        {
            break csv;
        }
        assert!(Instant::now() < deadline, "no inventory written");
        assert!(
            child.try_wait().expect("wait").is_none(),
            "devsim exited early"
        );
        std::thread::sleep(Duration::from_millis(100));
    };
    child.kill().expect("kill");
    let output = child.wait_with_output().expect("output");
    let stdout = String::from_utf8_lossy(&output.stdout);
    let lines: Vec<&str> = csv.lines().collect();
    assert_eq!(lines[0], "hostname,ip,port,device_type,description,tags");
    assert!(
        lines[1].starts_with("sim-cisco-ios-0001,127.0.0.1,"),
        "{csv}"
    );
    assert!(lines[1].ends_with(",cisco_ios,devsim simulated cisco_ios,devsim;cisco_ios"));
    assert_eq!(
        lines.iter().filter(|l| l.contains(",cisco_ios,")).count(),
        3
    );
    assert_eq!(
        lines
            .iter()
            .filter(|l| l.contains(",juniper_junos,"))
            .count(),
        2
    );
    assert!(lines[5].starts_with("sim-juniper-junos-0002,"));
    for line in &lines[1..] {
        let port: u16 = line
            .split(',')
            .nth(2)
            .expect("port")
            .parse()
            .expect("number");
        assert!(port > 0);
    }
    assert!(stdout.contains("cisco_ios"), "{stdout}");
    let _ = std::fs::remove_dir_all(&dir);
}
