//! `netraven device bench`: fetch every device of an inventory concurrently, as a backup job
//! would, and report wall time, per-device times, client CPU and peak memory of this process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::{Duration, Instant};

use clap::Args;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;

use super::device::{DeviceCliError, LoginArgs, credential, platform};
use crate::device::fetch::{Options, Target, fetch};
use crate::device::profile::Profile;

struct Row {
    ip: String,
    port: u16,
    profile: &'static Profile,
}

fn read_inventory(path: &Path) -> Result<Vec<Row>, DeviceCliError> {
    let usage = |m: String| DeviceCliError::Usage(m);
    let mut reader = csv::Reader::from_path(path)
        .map_err(|e| usage(format!("cannot read {}: {e}", path.display())))?;
    let headers = reader
        .headers()
        .map_err(|e| usage(format!("{}: {e}", path.display())))?
        .clone();
    let column = |name: &str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or_else(|| usage(format!("{}: no column {name:?}", path.display())))
    };
    let (ip, port, platform_col) = (column("ip")?, column("port")?, column("device_type")?);
    let mut rows = Vec::new();
    for (n, record) in reader.records().enumerate() {
        let line = n + 2;
        let record = record.map_err(|e| usage(format!("line {line}: {e}")))?;
        let field = |i: usize| record.get(i).unwrap_or_default().trim().to_string();
        rows.push(Row {
            ip: field(ip),
            port: field(port)
                .parse()
                .map_err(|_| usage(format!("line {line}: bad port {:?}", field(port))))?,
            profile: platform(&field(platform_col))?,
        });
    }
    Ok(rows)
}

/// User + system CPU time of this process, from /proc (Linux), in clock ticks of 10 ms.
fn cpu_time() -> Option<Duration> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // Fields after the command name, which is in parentheses and may contain spaces.
    let rest = &stat[stat.rfind(')')? + 2..];
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let utime: u64 = fields.get(11)?.parse().ok()?;
    let stime: u64 = fields.get(12)?.parse().ok()?;
    Some(Duration::from_millis((utime + stime) * 10))
}

/// Peak resident memory of this process in MiB (VmHWM).
fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    if sorted.is_empty() {
        return Duration::ZERO;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[derive(Args, Debug)]
pub struct BenchArgs {
    /// Inventory CSV with the columns hostname, ip, port, device_type (devsim writes one).
    #[arg(long)]
    pub inventory: PathBuf,
    #[command(flatten)]
    pub login: LoginArgs,
    /// How many devices are fetched at the same time.
    #[arg(long, default_value_t = 256)]
    pub concurrency: usize,
    /// Print a JSON summary instead of text.
    #[arg(long)]
    pub json: bool,
}

pub async fn run_bench(args: BenchArgs) -> Result<(), DeviceCliError> {
    let rows = read_inventory(&args.inventory)?;
    let credential = Arc::new(credential(&args.login)?);
    let options = Arc::new(Options {
        step_timeout: Duration::from_secs(args.login.timeout.max(1)),
        ..Options::default()
    });
    let limit = Arc::new(Semaphore::new(args.concurrency.max(1)));
    let cpu_before = cpu_time();
    let started = Instant::now();
    let mut tasks = JoinSet::new();
    for row in rows {
        let (credential, options, limit) = (credential.clone(), options.clone(), limit.clone());
        tasks.spawn(async move {
            let _permit = limit.acquire_owned().await;
            let begun = Instant::now();
            let target = Target {
                host: &row.ip,
                port: row.port,
                profile: row.profile,
                known_host_key: None,
            };
            let result = fetch(&target, std::slice::from_ref(&credential), &options).await;
            (
                begun.elapsed(),
                result
                    .map(|f| f.config.map_or(0, |c| c.text.len()))
                    .map_err(|e| (e.class().id(), e.error.to_string())),
            )
        });
    }
    let mut times = Vec::new();
    let mut bytes = 0usize;
    let mut failures: BTreeMap<&'static str, (usize, String)> = BTreeMap::new();
    while let Some(joined) = tasks.join_next().await {
        let Ok((took, result)) = joined else { continue };
        times.push(took);
        match result {
            Ok(n) => bytes += n,
            Err((class, message)) => {
                let entry = failures.entry(class).or_insert((0, message));
                entry.0 += 1;
            }
        }
    }
    let wall = started.elapsed();
    let cpu = match (cpu_before, cpu_time()) {
        (Some(a), Some(b)) => b.saturating_sub(a),
        _ => Duration::ZERO,
    };
    times.sort();
    let devices = times.len();
    let failed: usize = failures.values().map(|(n, _)| n).sum();
    let cpu_per_device_ms = cpu.as_secs_f64() * 1000.0 / devices.max(1) as f64;
    let rss = peak_rss_mib().unwrap_or(0.0);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    if args.json {
        let summary = serde_json::json!({
            "devices": devices,
            "ok": devices - failed,
            "failed": failed,
            "failures": failures.iter().map(|(k, (n, m))| (k.to_string(), serde_json::json!({"count": n, "example": m}))).collect::<serde_json::Map<_, _>>(),
            "concurrency": args.concurrency,
            "wall_s": wall.as_secs_f64(),
            "p50_ms": ms(percentile(&times, 0.50)),
            "p95_ms": ms(percentile(&times, 0.95)),
            "max_ms": ms(times.last().copied().unwrap_or_default()),
            "cpu_s": cpu.as_secs_f64(),
            "cpu_per_device_ms": cpu_per_device_ms,
            "peak_rss_mib": rss,
            "config_bytes": bytes,
        });
        println!("{summary}");
    } else {
        println!(
            "devices {devices}: {} ok, {failed} failed (concurrency {})",
            devices - failed,
            args.concurrency
        );
        for (class, (n, example)) in &failures {
            println!("  {n} x {class}: {example}");
        }
        println!(
            "wall {:.2} s; per device p50 {:.0} ms, p95 {:.0} ms, max {:.0} ms",
            wall.as_secs_f64(),
            ms(percentile(&times, 0.50)),
            ms(percentile(&times, 0.95)),
            ms(times.last().copied().unwrap_or_default())
        );
        println!(
            "client CPU {:.2} s = {cpu_per_device_ms:.2} ms per device; peak RSS {rss:.1} MiB; {:.1} MiB of configuration",
            cpu.as_secs_f64(),
            bytes as f64 / 1_048_576.0
        );
    }
    if failed > 0 && failed == devices {
        return Err(DeviceCliError::Usage("every device failed".into()));
    }
    Ok(())
}
