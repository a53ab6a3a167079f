//! Misbehaving devices: dropped connections, silent devices, latency.

mod common;

use std::time::{Duration, Instant};

use common::{Shell, spec, start};
use devsim::{Fault, Platform};

#[tokio::test]
async fn drop_mid_output_cuts_the_tcp_connection() {
    let mut device = spec(Platform::CiscoIos, "r1");
    device.fault = Some(Fault::DropMidOutput);
    let sim = start(vec![device]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("r1#").await;
    sh.cmd("terminal length 0", "r1#").await;
    // Other commands work normally.
    assert!(sh.cmd("show version", "r1#").await.contains("Cisco IOS XE"));
    sh.send("show running-config\r").await;
    let partial = sh.until_closed().await;
    assert!(partial.contains("hostname r1"), "{partial:?}");
    assert!(!partial.contains("\r\nend\r\n"));
    assert!(!partial.ends_with("r1#"));
    // No clean SSH goodbye: the transport itself is gone.
    assert!(sh.handle.is_closed() || sh.handle.channel_open_session().await.is_err());
}

#[tokio::test]
async fn no_prompt_prints_the_banner_then_stays_silent() {
    let mut device = spec(Platform::CiscoIos, "r1");
    device.fault = Some(Fault::NoPrompt);
    let sim = start(vec![device]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until("Authorized access only").await;
    sh.send("\r\nshow version\r\n").await;
    let silence = tokio::time::timeout(Duration::from_millis(800), sh.channel.wait()).await;
    assert!(silence.is_err(), "the device said something: {silence:?}");
    assert!(!sh.pending.contains("r1#"));
    assert!(!sh.handle.is_closed(), "the connection stays open");
}

#[tokio::test]
async fn login_and_command_latency_are_honoured() {
    let mut device = spec(Platform::AristaEos, "e1");
    device.login_latency = Duration::from_millis(400);
    device.command_latency = Duration::from_millis(300);
    let sim = start(vec![device]).await;
    let started = Instant::now();
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("e1#").await;
    assert!(started.elapsed() >= Duration::from_millis(400));
    let started = Instant::now();
    sh.cmd("terminal length 0", "e1#").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
}

#[tokio::test]
async fn shutdown_ends_sessions_and_listeners() {
    let sim = start(vec![spec(Platform::DellOs10, "d1")]).await;
    let addr = sim.devices()[0].addr;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("d1# ").await;
    sim.shutdown().await;
    sh.until_closed().await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}

#[tokio::test]
async fn dropping_the_sim_stops_it_too() {
    let sim = start(vec![spec(Platform::Linux, "l1")]).await;
    let addr = sim.devices()[0].addr;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("admin@l1:~$ ").await;
    drop(sim);
    sh.until_closed().await;
    tokio::time::sleep(Duration::from_millis(50)).await;
    assert!(tokio::net::TcpStream::connect(addr).await.is_err());
}
