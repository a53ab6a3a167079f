//! Misbehaving devices: dropped connections, silent devices, latency.

mod common;

use std::time::{Duration, Instant};

use common::{Shell, spec, start};
use devsim::{Fault, Platform};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

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
async fn silent_accepts_tcp_and_sends_nothing() {
    let mut device = spec(Platform::CiscoIos, "r1");
    device.fault = Some(Fault::Silent);
    let sim = start(vec![device]).await;
    let mut tcp = tokio::net::TcpStream::connect(sim.devices()[0].addr)
        .await
        .expect("TCP is accepted");
    let mut buf = [0u8; 64];
    // Neither data (an SSH identification string) nor a close: the read simply waits.
    let read = tokio::time::timeout(Duration::from_millis(500), tcp.read(&mut buf)).await;
    assert!(read.is_err(), "the device answered: {read:?}");
    // Still silent after the client speaks first, as an SSH client does.
    tcp.write_all(b"SSH-2.0-scanner\r\n").await.expect("write");
    let read = tokio::time::timeout(Duration::from_millis(300), tcp.read(&mut buf)).await;
    assert!(read.is_err(), "the device answered: {read:?}");
    assert_eq!(sim.sessions_served(0), 0);
    // Shutting the simulator down closes the connection.
    sim.shutdown().await;
    let read = tokio::time::timeout(Duration::from_secs(5), tcp.read(&mut buf)).await;
    assert!(matches!(read, Ok(Ok(0)) | Ok(Err(_))), "{read:?}");
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
