//! devsim: a network-device simulator. One process serves many simulated devices, each a real
//! SSH server (russh) on its own loopback port speaking one platform's CLI.
//!
//! ```text
//! devsim --devices 1000 --mix cisco_ios:60,arista_eos:20,juniper_junos:20 \
//!        --base-port 20000 --inventory out.csv --fault drop:2%,badauth:5
//! ```

use std::collections::BTreeMap;
use std::net::IpAddr;
use std::process::ExitCode;
use std::time::Duration;

use clap::{Parser, ValueEnum};
use devsim::fleet::{FaultPlan, FleetFault, Mix, hostname, inventory_csv};
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
    /// First TCP port; devices get consecutive ports (0: ephemeral ports).
    #[arg(long, default_value_t = 20000)]
    base_port: u16,
    /// Where to write NetRaven's inventory import CSV.
    #[arg(long)]
    inventory: Option<std::path::PathBuf>,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    bind: IpAddr,
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
    /// banner and then nothing, `badauth` refuses --password (its password is
    /// `<password>-badauth`), `legacy` offers only legacy algorithms. Example:
    /// `drop:2,noprompt:1,badauth:5%,legacy:1`.
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

fn specs(args: &Args, mix: &Mix, faults: &Faults) -> Vec<DeviceSpec> {
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
    check_file_limit(args.devices);
    let sim = Sim::start(specs(&args, &mix, &faults), args.bind, args.base_port).await?;
    if let Some(path) = &args.inventory {
        std::fs::write(path, inventory_csv(sim.devices())).map_err(SimError::Inventory)?;
    }
    let mut per_platform: BTreeMap<Platform, (usize, u16, u16)> = BTreeMap::new();
    for d in sim.devices() {
        let entry = per_platform.entry(d.platform).or_insert((0, u16::MAX, 0));
        entry.0 += 1;
        entry.1 = entry.1.min(d.port);
        entry.2 = entry.2.max(d.port);
    }
    for (platform, (count, low, high)) in per_platform {
        println!(
            "{:<18} {count:>5} devices  ports {low}-{high}",
            platform.as_str()
        );
    }
    print_faults(sim.devices(), &faults);
    println!(
        "devsim: {} devices listening on {}; Ctrl-C to stop",
        sim.devices().len(),
        args.bind
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
