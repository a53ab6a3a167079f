//! Load check: 1,000 devices, one concurrent backup-like session each. Ignored by default
//! (run with `cargo test -p devsim --release --test load -- --ignored --nocapture`).

mod common;

use std::time::{Duration, Instant};

use common::{Shell, start};
use devsim::{DeviceSpec, Platform};

/// User + system CPU time of this process so far (Linux only).
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    Some(Duration::from_millis(ticks * 10))
}

#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn thousand_concurrent_backups() {
    let devices = 1000;
    let platforms = [
        Platform::CiscoIos,
        Platform::AristaEos,
        Platform::JuniperJunos,
    ];
    let specs: Vec<DeviceSpec> = (0..devices)
        .map(|i| {
            let platform = platforms[i % platforms.len()];
            let mut spec = DeviceSpec::new(platform, format!("d{i:04}"), "admin", "secret");
            spec.seed = i as u64;
            spec.command_latency = Duration::from_millis(200);
            spec
        })
        .collect();
    let started = Instant::now();
    let sim = start(specs).await;
    println!("started {devices} devices in {:?}", started.elapsed());
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut tasks = tokio::task::JoinSet::new();
    for (i, device) in sim.devices().iter().enumerate() {
        let addr = device.addr;
        let host = device.hostname.clone();
        let platform = platforms[i % platforms.len()];
        tasks.spawn(async move {
            let handle = common::login(addr, "admin", "secret").await;
            let mut sh = Shell::open(handle).await;
            let (prompt, paging, config) = match platform {
                Platform::JuniperJunos => (
                    format!("admin@{host}> "),
                    "set cli screen-length 0",
                    "show configuration | display set",
                ),
                _ => (
                    format!("{host}#"),
                    "terminal length 0",
                    "show running-config",
                ),
            };
            sh.until_end(&prompt).await;
            sh.cmd(paging, &prompt).await;
            let config = sh.cmd(config, &prompt).await;
            assert!(config.lines().count() > 250);
            sh.cmd("show version", &prompt).await;
        });
    }
    while let Some(result) = tasks.join_next().await {
        result.expect("session");
    }
    let wall = started.elapsed();
    let cpu = cpu_time()
        .zip(cpu_before)
        .map(|(after, before)| after - before);
    println!("{devices} concurrent backups in {wall:?}, CPU (client + server) {cpu:?}");
    sim.shutdown().await;
}
