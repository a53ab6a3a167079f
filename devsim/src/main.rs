//! devsim: a network-device simulator. One process serves many simulated devices, each a real
//! SSH server (russh) on its own loopback port (or, with `--spread`, its own loopback address)
//! speaking one platform's CLI.
//!
//! ```text
//! devsim --devices 1000 --mix cisco_ios:60,arista_eos:20,juniper_junos:20 \
//!        --base-port 20000 --inventory out.csv --fault drop:2%,badauth:5
//! devsim --devices 200 --spread 127.0.4.0/22 --base-port 2222 --fault silent:5
//! ```

use std::collections::BTreeMap;
use std::fmt::Display;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use devsim::fleet::{FaultPlan, FleetFault, Mix, Spread, hostname, inventory_csv};
use devsim::{DeviceSpec, Paging, Platform, RunningDevice, Sim, SimError};

#[derive(Debug, Clone, Copy, ValueEnum)]
enum PagingArg {
    On,
    Forced,
}

/// Simulates a fleet of SSH network devices for NetRaven demos and benchmarks.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Number of devices.
    #[arg(long, default_value_t = 10)]
    devices: usize,
    /// Platforms and their share in percent (weights): `cisco_ios:60,arista_eos:40`.
    #[arg(long, default_value = "cisco_ios:100")]
    mix: String,
    /// First TCP port; devices get consecutive ports (0: ephemeral ports). With --spread, the
    /// one port every device listens on (not 0).
    #[arg(long, default_value_t = 20000)]
    base_port: u16,
    /// Where to write NetRaven's inventory import CSV.
    #[arg(long)]
    inventory: Option<std::path::PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1", conflicts_with = "spread")]
    bind: IpAddr,
    /// One address per device instead of one port: device i listens on the i-th usable host
    /// address of this range, on --base-port. Loopback only (inside 127.0.0.0/8, or ::1/128):
    /// `127.0.4.0/22`.
    #[arg(long, value_name = "CIDR")]
    spread: Option<String>,
    #[arg(long, default_value = "admin")]
    username: String,
    #[arg(long, default_value = "admin")]
    password: String,
    /// Enable secret for platforms with `enable` (omit: logins land in privileged mode).
    #[arg(long)]
    enable_secret: Option<String>,
    /// Delay before the first prompt, in milliseconds.
    #[arg(long, default_value_t = 0)]
    login_latency_ms: u64,
    /// Delay before every command's output, in milliseconds.
    #[arg(long, default_value_t = 0)]
    command_latency_ms: u64,
    /// Approximate lines of each running configuration.
    #[arg(long, default_value_t = 300)]
    config_lines: usize,
    /// `on`: paging until switched off; `forced`: the pager must always be answered.
    #[arg(long, value_enum, default_value = "on")]
    paging: PagingArg,
    /// Offer only legacy SSH algorithms (group14/group1-sha1, ssh-rsa, aes128-cbc/3des-cbc,
    /// hmac-sha1).
    #[arg(long)]
    legacy_only: bool,
    /// Seed for generated content (device i uses seed + i) and for which devices are faulty.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Faulty devices, as `fault:N` (devices) or `fault:N%` (of --devices, rounded down):
    /// `drop` cuts the TCP connection halfway through the configuration, `noprompt` prints the
    /// banner and then nothing, `silent` accepts TCP and never sends anything (not even the SSH
    /// version), `badauth` refuses --password (its password is `<password>-badauth`), `legacy`
    /// offers only legacy algorithms. Example: `drop:2,noprompt:1,silent:1,badauth:5%,legacy:1`.
    #[arg(long, value_name = "FAULT:N,...")]
    fault: Option<String>,
}

/// The faults asked for and which one each device gets (index = device index).
struct Faults {
    plan: FaultPlan,
    assignment: Vec<Option<FleetFault>>,
}

fn faults(args: &Args) -> Result<Faults, SimError> {
    let plan: FaultPlan = args.fault.as_deref().unwrap_or_default().parse()?;
    // Refused rather than ignored: the user expects some devices to differ from the rest.
    if args.legacy_only && plan.faults().any(|f| f == FleetFault::Legacy) {
        return Err(SimError::Faults(
            "`legacy` makes no difference with --legacy-only (every device is legacy)".into(),
        ));
    }
    let assignment = plan.assign(args.devices, args.seed)?;
    Ok(Faults { plan, assignment })
}

/// `--spread`: the range and each device's address in it (index = device index).
fn spread(args: &Args) -> Result<Option<(Spread, Vec<IpAddr>)>, SimError> {
    let Some(range) = &args.spread else {
        return Ok(None);
    };
    let spread: Spread = range.parse()?;
    // A discovery scan probes one port across the range; ephemeral ports would differ per
    // device.
    if args.base_port == 0 {
        return Err(SimError::Spread(
            "every device listens on --base-port, which must not be 0".into(),
        ));
    }
    let hosts = spread.hosts(args.devices)?;
    Ok(Some((spread, hosts)))
}

/// The devices' specs; `addrs` holds each device's own address with `--spread` (else empty).
fn specs(args: &Args, mix: &Mix, faults: &Faults, addrs: &[IpAddr]) -> Vec<DeviceSpec> {
    let mut specs = Vec::with_capacity(args.devices);
    for (platform, count) in mix.counts(args.devices) {
        for n in 1..=count {
            let mut spec = DeviceSpec::new(
                platform,
                hostname(platform, n),
                &args.username,
                &args.password,
            );
            spec.enable_secret = args.enable_secret.clone();
            spec.login_latency = Duration::from_millis(args.login_latency_ms);
            spec.command_latency = Duration::from_millis(args.command_latency_ms);
            spec.config_lines = args.config_lines;
            spec.paging = match args.paging {
                PagingArg::On => Paging::On,
                PagingArg::Forced => Paging::Forced,
            };
            spec.legacy_only = args.legacy_only;
            spec.seed = args.seed.wrapping_add(specs.len() as u64);
            if let Some(addr) = addrs.get(specs.len()) {
                // --spread: the device's own address, and the one port all devices share.
                spec.addr = Some(*addr);
                spec.port = Some(args.base_port);
            }
            if let Some(fault) = faults.assignment.get(specs.len()).copied().flatten() {
                fault.apply(&mut spec);
            }
            specs.push(spec);
        }
    }
    specs
}

/// One summary line per fault asked for: how many devices got it and their host names (also
/// when none did, e.g. a percentage of a small fleet rounded down to 0).
fn print_faults(devices: &[RunningDevice], faults: &Faults) {
    for fault in faults.plan.faults() {
        let hosts: Vec<&str> = devices
            .iter()
            .zip(&faults.assignment)
            .filter(|(_, assigned)| **assigned == Some(fault))
            .map(|(d, _)| d.hostname.as_str())
            .collect();
        println!(
            "{:<18} {:>5} devices  {}",
            format!("fault {}", fault.name()),
            hosts.len(),
            hosts.join(" ")
        );
    }
}

/// `low-high` of a platform's ports or addresses.
fn span<T: Ord + Display>(values: impl Iterator<Item = T>) -> String {
    let mut values: Vec<T> = values.collect();
    values.sort();
    match (values.first(), values.last()) {
        (Some(low), Some(high)) => format!("{low}-{high}"),
        _ => String::new(),
    }
}

/// Warns when the open-file limit cannot hold every listener plus a session per device.
fn check_file_limit(devices: usize) {
    let Ok(limits) = std::fs::read_to_string("/proc/self/limits") else {
        return;
    };
    let soft = limits
        .lines()
        .find(|l| l.starts_with("Max open files"))
        .and_then(|l| l.split_whitespace().nth(3))
        .and_then(|v| v.parse::<usize>().ok());
    let needed = 3 * devices + 64;
    if let Some(soft) = soft.filter(|soft| *soft < needed) {
        eprintln!(
            "warning: the open-file limit is {soft}; {devices} devices with a session each need \
             about {needed} (raise it with `ulimit -n {needed}`)"
        );
    }
}

async fn wait_for_stop() {
    #[cfg(unix)]
    {
        use tokio::signal::unix::{SignalKind, signal};
        if let Ok(mut term) = signal(SignalKind::terminate()) {
            tokio::select! {
                _ = tokio::signal::ctrl_c() => {}
                _ = term.recv() => {}
            }
            return;
        }
    }
    let _ = tokio::signal::ctrl_c().await;
}

async fn run(args: Args) -> Result<(), SimError> {
    let mix: Mix = args.mix.parse()?;
    let faults = faults(&args)?;
    let spread = spread(&args)?;
    check_file_limit(args.devices);
    let addrs = spread.as_ref().map_or(&[][..], |(_, addrs)| addrs);
    let specs = specs(&args, &mix, &faults, addrs);
    let sim = Sim::start(specs, args.bind, args.base_port).await?;
    if let Some(path) = &args.inventory {
        std::fs::write(path, inventory_csv(sim.devices())).map_err(SimError::Inventory)?;
    }
    let mut per_platform: BTreeMap<Platform, Vec<&RunningDevice>> = BTreeMap::new();
    for d in sim.devices() {
        per_platform.entry(d.platform).or_default().push(d);
    }
    for (platform, devices) in per_platform {
        let place = if spread.is_some() {
            format!("addresses {}", span(devices.iter().map(|d| d.addr.ip())))
        } else {
            format!("ports {}", span(devices.iter().map(|d| d.port)))
        };
        println!(
            "{:<18} {:>5} devices  {place}",
            platform.as_str(),
            devices.len()
        );
    }
    print_faults(sim.devices(), &faults);
    let place = match &spread {
        Some((range, _)) => format!("{range} port {}", args.base_port),
        None => args.bind.to_string(),
    };
    println!(
        "devsim: {} devices listening on {place}; Ctrl-C to stop",
        sim.devices().len()
    );
    wait_for_stop().await;
    sim.shutdown().await;
    Ok(())
}

#[tokio::main]
async fn main() -> ExitCode {
    match run(Args::parse()).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("devsim: {e}");
            ExitCode::FAILURE
        }
    }
}
