//! Helpers for simulating a fleet from the command line: the platform mix, device names and
//! NetRaven's inventory import file, which devices misbehave (`--fault`) and the address range
//! devices are spread over (`--spread`).

mod faults;
mod spread;

use std::str::FromStr;

pub use faults::{Amount, FaultPlan, FleetFault};
pub use spread::Spread;

use crate::error::SimError;
use crate::platform::Platform;
use crate::sim::RunningDevice;

/// A weighted list of platforms, parsed from `cisco_ios:60,arista_eos:20,juniper_junos:20`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Mix(Vec<(Platform, u32)>);

impl FromStr for Mix {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut parts = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let (id, weight) = item.split_once(':').unwrap_or((item, "1"));
            let platform: Platform = id
                .trim()
                .parse()
                .map_err(|e: crate::error::UnknownPlatform| SimError::Mix(e.to_string()))?;
            let weight: u32 = weight
                .trim()
                .parse()
                .map_err(|_| SimError::Mix(format!("`{weight}` is not a whole number")))?;
            parts.push((platform, weight));
        }
        if parts.iter().map(|(_, w)| u64::from(*w)).sum::<u64>() == 0 {
            return Err(SimError::Mix(format!(
                "`{s}` has no platform with a weight above 0"
            )));
        }
        Ok(Mix(parts))
    }
}

impl Mix {
    /// Splits `total` devices by weight (largest remainder, so the counts add up exactly).
    pub fn counts(&self, total: usize) -> Vec<(Platform, usize)> {
        let sum: u64 = self.0.iter().map(|(_, w)| u64::from(*w)).sum();
        let total64 = total as u64;
        let mut counts: Vec<(Platform, usize, u64)> = self
            .0
            .iter()
            .map(|(p, w)| {
                let exact = total64 * u64::from(*w);
                (*p, (exact / sum) as usize, exact % sum)
            })
            .collect();
        let assigned: usize = counts.iter().map(|c| c.1).sum();
        let mut order: Vec<usize> = (0..counts.len()).collect();
        // Largest remainder first; ties go to the platform listed first.
        order.sort_by(|a, b| counts[*b].2.cmp(&counts[*a].2).then(a.cmp(b)));
        for &i in order.iter().take(total - assigned) {
            counts[i].1 += 1;
        }
        counts.into_iter().map(|(p, n, _)| (p, n)).collect()
    }
}

/// The host name of the `n`th (1-based) device of a platform: `sim-cisco-ios-0001`.
pub fn hostname(platform: Platform, n: usize) -> String {
    format!("sim-{}-{n:04}", platform.as_str().replace('_', "-"))
}

fn csv_field(value: &str) -> String {
    if value.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", value.replace('"', "\"\""))
    } else {
        value.to_string()
    }
}

/// NetRaven's inventory import CSV for the devices
/// (`hostname,ip,port,device_type,description,tags`; tags `devsim;<platform>`).
pub fn inventory_csv(devices: &[RunningDevice]) -> String {
    let mut out = String::from("hostname,ip,port,device_type,description,tags\n");
    for d in devices {
        let row = [
            d.hostname.clone(),
            d.addr.ip().to_string(),
            d.port.to_string(),
            d.platform.as_str().to_string(),
            format!("devsim simulated {}", d.platform.as_str()),
            format!("devsim;{}", d.platform.as_str()),
        ];
        let row: Vec<String> = row.iter().map(|f| csv_field(f)).collect();
        out.push_str(&row.join(","));
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mix_rounds_to_exact_total() {
        let mix: Mix = "cisco_ios:60,arista_eos:20,juniper_junos:20"
            .parse()
            .expect("mix");
        assert_eq!(
            mix.counts(1000),
            vec![
                (Platform::CiscoIos, 600),
                (Platform::AristaEos, 200),
                (Platform::JuniperJunos, 200)
            ]
        );
        let odd: Mix = "cisco_ios:1,arista_eos:1,linux:1".parse().expect("mix");
        assert_eq!(odd.counts(10).iter().map(|c| c.1).sum::<usize>(), 10);
        assert!("cisco:1".parse::<Mix>().is_err());
        assert!("cisco_ios:x".parse::<Mix>().is_err());
        assert_eq!(hostname(Platform::CiscoIos, 1), "sim-cisco-ios-0001");
        assert_eq!(csv_field("a,b"), "\"a,b\"");
    }
}
