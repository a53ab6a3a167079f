//! Devices on their own addresses: several loopback addresses sharing one port, and IPv6.

mod common;

use std::net::{IpAddr, SocketAddr};

use common::{Shell, spec};
use devsim::{Platform, Sim};

/// A port that is free on `ip` right now (bound, then released).
fn free_port(ip: IpAddr) -> u16 {
    let probe = std::net::TcpListener::bind(SocketAddr::new(ip, 0)).expect("probe bind");
    probe.local_addr().expect("probe address").port()
}

#[tokio::test]
async fn two_addresses_share_one_port() {
    let (a, b): (IpAddr, IpAddr) = ("127.0.0.2".parse().unwrap(), "127.0.0.3".parse().unwrap());
    let port = free_port(a);
    let mut specs = vec![
        spec(Platform::CiscoIos, "r2"),
        spec(Platform::AristaEos, "r3"),
    ];
    for (spec, ip) in specs.iter_mut().zip([a, b]) {
        spec.addr = Some(ip);
        spec.port = Some(port);
    }
    // `bind` and `base_port` only matter for devices without their own address and port.
    let sim = Sim::start(specs, "127.0.0.1".parse().unwrap(), 0)
        .await
        .expect("start");
    assert_eq!(sim.devices()[0].addr, SocketAddr::new(a, port));
    assert_eq!(sim.devices()[1].addr, SocketAddr::new(b, port));
    assert_eq!(sim.devices()[1].port, port);
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("r2#").await;
    let mut sh = Shell::start(&sim, 1, "admin", "secret").await;
    sh.until_end("r3#").await;
    assert_eq!((sim.sessions_served(0), sim.sessions_served(1)), (1, 1));
}

#[tokio::test]
async fn an_address_without_a_port_keeps_the_derived_port() {
    let mut own = spec(Platform::CiscoIos, "r1");
    own.addr = Some("127.0.0.4".parse().unwrap());
    let specs = vec![spec(Platform::CiscoIos, "r0"), own];
    let sim = Sim::start(specs, "127.0.0.1".parse().unwrap(), 0)
        .await
        .expect("start");
    assert_eq!(sim.devices()[0].addr.ip().to_string(), "127.0.0.1");
    assert_eq!(sim.devices()[1].addr.ip().to_string(), "127.0.0.4");
    assert_ne!(sim.devices()[1].port, 0, "the actual, ephemeral port");
    Shell::start(&sim, 1, "admin", "secret")
        .await
        .until_end("r1#")
        .await;
}

#[tokio::test]
async fn ipv6_loopback() {
    let v6: IpAddr = "::1".parse().unwrap();
    if let Err(e) = std::net::TcpListener::bind(SocketAddr::new(v6, 0)) {
        println!("skipped: cannot listen on [::1] here ({e})");
        return;
    }
    let mut device = spec(Platform::JuniperJunos, "j1");
    device.addr = Some(v6);
    device.port = Some(0);
    let sim = Sim::start(vec![device], "127.0.0.1".parse().unwrap(), 0)
        .await
        .expect("start");
    let addr = sim.devices()[0].addr;
    assert_eq!(addr.ip(), v6);
    assert_eq!(addr.to_string(), format!("[::1]:{}", sim.devices()[0].port));
    Shell::start(&sim, 0, "admin", "secret")
        .await
        .until_end("admin@j1> ")
        .await;
}

#[tokio::test]
async fn one_address_and_port_cannot_be_shared() {
    let ip: IpAddr = "127.0.0.5".parse().unwrap();
    let port = free_port(ip);
    let specs: Vec<_> = ["r1", "r2"]
        .into_iter()
        .map(|host| {
            let mut spec = spec(Platform::CiscoIos, host);
            spec.addr = Some(ip);
            spec.port = Some(port);
            spec
        })
        .collect();
    let error = Sim::start(specs, "127.0.0.1".parse().unwrap(), 0)
        .await
        .expect_err("two listeners on one socket address");
    assert!(
        error
            .to_string()
            .starts_with(&format!("cannot listen on 127.0.0.5:{port}: ")),
        "{error}"
    );
}
