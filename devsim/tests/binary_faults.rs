//! The devsim binary's `--fault` option: the faulty devices it names behave as named over real
//! SSH, the others are healthy, and bad fault lists stop it with a one-line message.

mod common;

use std::collections::HashMap;
use std::io::{BufRead, BufReader};
use std::net::SocketAddr;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Shell, config, connect_with, legacy_preferred, login};
use tokio::io::AsyncReadExt;

/// Kills the simulator even when an assertion fails.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Starts devsim and returns it with its startup summary (every line up to `listening`).
fn start(args: &[&str], inventory: &Path) -> (Running, Vec<String>) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_devsim"))
        .args(args)
        .args(["--base-port", "0", "--config-lines", "50", "--inventory"])
        .arg(inventory)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("start devsim");
    let stdout = child.stdout.take().expect("stdout");
    let running = Running(child);
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines() {
            let Ok(line) = line else { break };
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let mut summary = Vec::new();
    loop {
        let line = rx
            .recv_timeout(Duration::from_secs(20))
            .unwrap_or_else(|_| panic!("no startup summary; got {summary:?}"));
        let done = line.contains(" devices listening on ");
        summary.push(line);
        if done {
            return (running, summary);
        }
    }
}

/// `fault drop   1 devices  host ...` lines: fault name -> host names.
fn faulty_hosts(summary: &[String]) -> HashMap<String, Vec<String>> {
    summary
        .iter()
        .filter_map(|line| line.strip_prefix("fault "))
        .map(|rest| {
            let mut words = rest.split_whitespace();
            let name = words.next().expect("fault name").to_string();
            let count: usize = words.next().expect("count").parse().expect("number");
            assert_eq!(words.next(), Some("devices"));
            let hosts: Vec<String> = words.map(str::to_string).collect();
            assert_eq!(hosts.len(), count, "{rest}");
            (name, hosts)
        })
        .collect()
}

/// The inventory CSV: host name -> address.
fn inventory(path: &Path) -> HashMap<String, SocketAddr> {
    let csv = std::fs::read_to_string(path).expect("inventory");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("hostname,ip,port,device_type,description,tags")
    );
    lines
        .map(|line| {
            let fields: Vec<&str> = line.split(',').collect();
            assert_eq!(fields.len(), 6, "{line}");
            let addr = format!("{}:{}", fields[1], fields[2]);
            (fields[0].to_string(), addr.parse().expect("address"))
        })
        .collect()
}

async fn shell(addr: SocketAddr, host: &str) -> Shell {
    let mut sh = Shell::open(login(addr, "admin", "admin").await).await;
    sh.until_end(&format!("{host}#")).await;
    sh.cmd("terminal length 0", &format!("{host}#")).await;
    sh
}

#[tokio::test]
async fn faulty_devices_misbehave_as_announced() {
    let dir = std::env::temp_dir().join(format!("devsim-faults-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let csv = dir.join("inventory.csv");
    let (_devsim, summary) = start(
        &[
            "--devices",
            "7",
            "--mix",
            "cisco_ios:50,arista_eos:50",
            "--fault",
            "drop:1,noprompt:1,badauth:1,legacy:1,silent:1",
        ],
        &csv,
    );
    let faults = faulty_hosts(&summary);
    let one = |name: &str| -> String {
        let hosts = &faults[name];
        assert_eq!(hosts.len(), 1, "{name}: {summary:?}");
        hosts[0].clone()
    };
    let (drop, noprompt, badauth, legacy, silent) = (
        one("drop"),
        one("noprompt"),
        one("badauth"),
        one("legacy"),
        one("silent"),
    );
    // Faulty devices stay in the inventory: NetRaven is meant to meet them.
    let addrs = inventory(&csv);
    assert_eq!(addrs.len(), 7);
    let faulty = [&drop, &noprompt, &badauth, &legacy, &silent];
    let healthy: Vec<&String> = addrs.keys().filter(|h| !faulty.contains(h)).collect();
    assert_eq!(healthy.len(), 2, "{summary:?}");

    for host in healthy {
        let mut sh = shell(addrs[host], host).await;
        let config = sh.cmd("show running-config", &format!("{host}#")).await;
        assert!(config.contains(&format!("hostname {host}")), "{config}");
    }

    let mut sh = shell(addrs[&drop], &drop).await;
    sh.send("show running-config\r").await;
    let partial = sh.until_closed().await;
    assert!(partial.contains(&format!("hostname {drop}")), "{partial:?}");
    assert!(!partial.ends_with(&format!("{drop}#")));

    let mut sh = Shell::open(login(addrs[&noprompt], "admin", "admin").await).await;
    sh.send("\r\nshow version\r\n").await;
    let prompt = format!("{noprompt}#");
    let silence = tokio::time::timeout(Duration::from_millis(800), sh.until_end(&prompt)).await;
    assert!(silence.is_err(), "{noprompt} answered");
    assert!(!sh.handle.is_closed(), "the connection stays open");

    let mut tcp = tokio::net::TcpStream::connect(addrs[&silent])
        .await
        .expect("TCP is accepted");
    let mut buf = [0u8; 64];
    let read = tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut buf)).await;
    assert!(read.is_err(), "{silent} sent something: {read:?}");

    let (mut handle, _) = connect_with(addrs[&badauth], config())
        .await
        .expect("connect");
    let auth = handle.authenticate_password("admin", "admin").await;
    assert!(!auth.expect("auth").success(), "{badauth} took --password");
    let auth = handle.authenticate_password("admin", "admin-badauth").await;
    assert!(auth.expect("auth").success());

    assert!(connect_with(addrs[&legacy], config()).await.is_err());
    let old = russh::client::Config {
        preferred: legacy_preferred(),
        ..config()
    };
    let (mut handle, _) = connect_with(addrs[&legacy], old)
        .await
        .expect("legacy client connects");
    let auth = handle.authenticate_password("admin", "admin").await;
    assert!(auth.expect("auth").success());
    Shell::open(handle)
        .await
        .until_end(&format!("{legacy}#"))
        .await;

    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_same_seed_picks_the_same_devices() {
    let dir = std::env::temp_dir().join(format!("devsim-fault-seed-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let run = |seed: &str| {
        let args = ["--devices", "20", "--fault", "drop:10%,badauth:3", "--seed"];
        let (devsim, summary) = start(&[&args[..], &[seed]].concat(), &dir.join("inv.csv"));
        drop(devsim);
        faulty_hosts(&summary)
    };
    let first = run("5");
    assert_eq!(first["drop"].len(), 2);
    assert_eq!(first["badauth"].len(), 3);
    assert_eq!(run("5"), first);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn bad_fault_lists_exit_with_one_line() {
    for (fault, message) in [
        (
            "hang:1",
            "devsim: invalid --fault: unknown fault `hang` (known: drop, noprompt, silent, badauth, legacy)",
        ),
        (
            "drop:x",
            "devsim: invalid --fault: `x` is not a device count or a percentage (`3` or `5%`)",
        ),
        (
            "drop:3,badauth:2",
            "devsim: invalid --fault: the faults need 5 devices but there are only 4",
        ),
        (
            "drop:60%,legacy:50%",
            "devsim: invalid --fault: the percentages add up to 110%",
        ),
    ] {
        let output = Command::new(env!("CARGO_BIN_EXE_devsim"))
            .args(["--devices", "4", "--base-port", "0", "--fault", fault])
            .output()
            .expect("run devsim");
        let stderr = String::from_utf8_lossy(&output.stderr);
        assert_eq!(output.status.code(), Some(1), "{fault}: {stderr}");
        assert_eq!(stderr, format!("{message}\n"), "{fault}");
        assert!(output.stdout.is_empty(), "{fault} started devices");
    }
}
