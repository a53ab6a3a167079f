//! The devsim binary's `--spread` option: one loopback address per device, all on one port.

mod common;

use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use common::{Shell, login};

/// Kills the simulator even when an assertion fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[tokio::test]
async fn devices_get_consecutive_addresses_on_one_port() {
    let dir = std::env::temp_dir().join(format!("devsim-spread-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("inventory.csv");
    let probe = std::net::TcpListener::bind("127.0.9.1:0").expect("probe bind");
    let port = probe
        .local_addr()
        .expect("probe address")
        .port()
        .to_string();
    drop(probe);
    let mut child = Command::new(env!("CARGO_BIN_EXE_devsim"))
        .args(["--devices", "3", "--mix", "cisco_ios:70,linux:30"])
        .args(["--spread", "127.0.9.0/29", "--base-port", &port])
        .args(["--config-lines", "50", "--inventory"])
        .arg(&csv)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start devsim");
    let stdout = child.stdout.take().expect("stdout");
    let _devsim = Running(child);
    // The summary is complete once devsim says it listens (the inventory is written before).
    let summary = tokio::task::spawn_blocking(move || {
        let mut summary = Vec::new();
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            let done = line.contains(" devices listening on ");
            summary.push(line);
            if done {
                break;
            }
        }
        summary
    });
    let summary = tokio::time::timeout(Duration::from_secs(20), summary)
        .await
        .expect("startup summary in time")
        .expect("reader");
    assert_eq!(
        summary[0].split_whitespace().collect::<Vec<_>>(),
        [
            "cisco_ios",
            "2",
            "devices",
            "addresses",
            "127.0.9.1-127.0.9.2"
        ],
        "{summary:?}"
    );
    assert!(
        summary[1].ends_with("addresses 127.0.9.3-127.0.9.3"),
        "{summary:?}"
    );
    assert_eq!(
        summary.last().map(String::as_str),
        Some(
            format!("devsim: 3 devices listening on 127.0.9.0/29 port {port}; Ctrl-C to stop")
                .as_str()
        )
    );

    let inventory = std::fs::read_to_string(&csv).expect("inventory");
    let rows: Vec<Vec<&str>> = inventory
        .lines()
        .skip(1)
        .map(|l| l.split(',').collect())
        .collect();
    let hosts: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[0], r[1], r[2])).collect();
    assert_eq!(
        hosts,
        [
            ("sim-cisco-ios-0001", "127.0.9.1", port.as_str()),
            ("sim-cisco-ios-0002", "127.0.9.2", port.as_str()),
            ("sim-linux-0001", "127.0.9.3", port.as_str()),
        ]
    );
    for (host, ip, _) in &hosts[..2] {
        let addr: SocketAddr = format!("{ip}:{port}").parse().expect("address");
        let mut sh = Shell::open(login(addr, "admin", "admin").await).await;
        sh.until_end(&format!("{host}#")).await;
    }
    // Nothing listens on the next address of the range.
    let next: SocketAddr = format!("127.0.9.4:{port}").parse().expect("address");
    assert!(tokio::net::TcpStream::connect(next).await.is_err());
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_spreads_exit_with_one_line() {
    for (args, message) in [
        (
            &["--spread", "10.0.0.0/24"][..],
            "devsim: invalid --spread: `10.0.0.0/24` is not inside 127.0.0.0/8 or ::1/128 \
             (devsim listens on loopback only)",
        ),
        (
            &["--spread", "127.0.9.8/30"],
            "devsim: invalid --spread: `127.0.9.8/30` has 2 usable addresses, fewer than \
             --devices (4)",
        ),
        (
            &["--spread", "127.0.9.8/29", "--base-port", "0"],
            "devsim: invalid --spread: every device listens on --base-port, which must not be 0",
        ),
        (
            &["--spread", "127.0.9"],
            "devsim: invalid --spread: `127.0.9` is not a range like 127.0.4.0/22",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_devsim"))
            .args(["--devices", "4"])
            .args(args)
            .output()
            .expect("run devsim");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{args:?}: {stderr}");
        assert_eq!(stderr, format!("{message}\n"), "{args:?}");
        assert!(output.stdout.is_empty(), "{args:?} started devices");
    }
}
