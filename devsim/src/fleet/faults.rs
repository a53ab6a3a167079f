//! Faulty devices in a command-line fleet:
//! `--fault drop:2,noprompt:5%,silent:1,badauth:1,legacy:1`
//! names how many devices misbehave in which way, and a seeded plan picks which ones.

use std::str::FromStr;

use crate::error::SimError;
use crate::rng::Rng;
use crate::spec::{DeviceSpec, Fault};

/// One way a device of a command-line fleet misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum FleetFault {
    /// [`Fault::DropMidOutput`]: the configuration output stops halfway, the TCP connection
    /// is cut.
    Drop,
    /// [`Fault::NoPrompt`]: the banner, then silence on an open connection.
    NoPrompt,
    /// [`Fault::Silent`]: TCP is accepted, then nothing is ever sent (no SSH identification).
    Silent,
    /// The device's password differs from the configured one, so logins with it fail.
    BadAuth,
    /// The device offers only legacy algorithms ([`DeviceSpec::legacy_only`]).
    Legacy,
}

impl FleetFault {
    /// Every fault, in the order the help text lists them.
    pub const ALL: [FleetFault; 5] = [
        FleetFault::Drop,
        FleetFault::NoPrompt,
        FleetFault::Silent,
        FleetFault::BadAuth,
        FleetFault::Legacy,
    ];

    /// The name used on the command line and in the startup summary.
    pub fn name(self) -> &'static str {
        match self {
            FleetFault::Drop => "drop",
            FleetFault::NoPrompt => "noprompt",
            FleetFault::Silent => "silent",
            FleetFault::BadAuth => "badauth",
            FleetFault::Legacy => "legacy",
        }
    }

    fn from_name(name: &str) -> Option<FleetFault> {
        FleetFault::ALL
            .into_iter()
            .find(|f| f.name().eq_ignore_ascii_case(name))
    }

    /// Makes `spec` misbehave this way. A bad-auth device keeps its usernames but every
    /// password gets a `-badauth` suffix: the configured password is refused, yet the device
    /// stays reachable for anyone who knows the rule (a test can "fix" the credential).
    pub fn apply(self, spec: &mut DeviceSpec) {
        match self {
            FleetFault::Drop => spec.fault = Some(Fault::DropMidOutput),
            FleetFault::NoPrompt => spec.fault = Some(Fault::NoPrompt),
            FleetFault::Silent => spec.fault = Some(Fault::Silent),
            FleetFault::BadAuth => {
                for (_, password) in &mut spec.credentials {
                    password.push_str("-badauth");
                }
            }
            FleetFault::Legacy => spec.legacy_only = true,
        }
    }
}

/// How many devices get one fault.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Amount {
    Devices(usize),
    /// Percent of the fleet, 0 to 100, rounded down: percentages that add up to at most 100
    /// never ask for more devices than there are.
    Percent(u32),
}

impl Amount {
    fn of(self, devices: usize) -> usize {
        match self {
            Amount::Devices(n) => n,
            // u128: `devices * 100` cannot overflow.
            Amount::Percent(p) => (devices as u128 * u128::from(p) / 100) as usize,
        }
    }
}

impl FromStr for Amount {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || {
            SimError::Faults(format!(
                "`{s}` is not a device count or a percentage (`3` or `5%`)"
            ))
        };
        match s.strip_suffix('%') {
            Some(percent) => {
                let p: u32 = percent.trim().parse().map_err(|_| invalid())?;
                if p > 100 {
                    return Err(SimError::Faults(format!("`{s}` is more than 100%")));
                }
                Ok(Amount::Percent(p))
            }
            None => s.parse().map(Amount::Devices).map_err(|_| invalid()),
        }
    }
}

/// The faults asked for, in command-line order, each at most once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FaultPlan(Vec<(FleetFault, Amount)>);

impl FromStr for FaultPlan {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let mut plan = Vec::new();
        for item in s.split(',').map(str::trim).filter(|i| !i.is_empty()) {
            let Some((name, amount)) = item.split_once(':') else {
                return Err(SimError::Faults(format!(
                    "`{item}` needs a count: `{item}:N` or `{item}:N%`"
                )));
            };
            let fault = FleetFault::from_name(name.trim()).ok_or_else(|| {
                let known: Vec<&str> = FleetFault::ALL.iter().map(|f| f.name()).collect();
                SimError::Faults(format!(
                    "unknown fault `{}` (known: {})",
                    name.trim(),
                    known.join(", ")
                ))
            })?;
            // Two counts for one fault are most likely a typo; adding them up would hide it.
            if plan.iter().any(|(f, _)| *f == fault) {
                return Err(SimError::Faults(format!(
                    "`{}` is given twice",
                    fault.name()
                )));
            }
            plan.push((fault, amount.trim().parse()?));
        }
        // Rounding down could squeeze 60% + 50% into a small fleet; such a list is a mistake
        // whatever the fleet's size.
        let percent: u32 = plan
            .iter()
            .map(|(_, a)| match a {
                Amount::Percent(p) => *p,
                Amount::Devices(_) => 0,
            })
            .sum();
        if percent > 100 {
            return Err(SimError::Faults(format!(
                "the percentages add up to {percent}%"
            )));
        }
        Ok(FaultPlan(plan))
    }
}

impl FaultPlan {
    /// The faults asked for, in command-line order (also those with a count of 0).
    pub fn faults(&self) -> impl Iterator<Item = FleetFault> + '_ {
        self.0.iter().map(|(f, _)| *f)
    }

    /// Resolves percentages against a fleet of `devices`; fails when the faults need more
    /// devices than there are (no device gets two faults).
    pub fn counts(&self, devices: usize) -> Result<Vec<(FleetFault, usize)>, SimError> {
        let counts: Vec<(FleetFault, usize)> =
            self.0.iter().map(|(f, a)| (*f, a.of(devices))).collect();
        let total = counts
            .iter()
            .fold(0usize, |sum, (_, n)| sum.saturating_add(*n));
        if total > devices {
            return Err(SimError::Faults(format!(
                "the faults need {total} devices but there are only {devices}"
            )));
        }
        Ok(counts)
    }

    /// Which fault each of `devices` devices gets (index = device index), at most one each.
    ///
    /// The faulty devices sit at evenly spaced positions from a seeded offset, so they are
    /// spread over the fleet (and so over the platforms, which are grouped), and the faults are
    /// shuffled over those positions. The same plan, fleet size and seed always give the same
    /// assignment.
    pub fn assign(&self, devices: usize, seed: u64) -> Result<Vec<Option<FleetFault>>, SimError> {
        let mut faults: Vec<FleetFault> = self
            .counts(devices)?
            .into_iter()
            .flat_map(|(f, n)| std::iter::repeat_n(f, n))
            .collect();
        let mut assignment = vec![None; devices];
        if faults.is_empty() {
            return Ok(assignment);
        }
        // Own stream: fault placement must not shift when content generation changes.
        let mut rng = Rng::from_parts(&[b"devsim fleet faults", &seed.to_le_bytes()]);
        shuffle(&mut faults, &mut rng);
        let offset = rng.below(devices as u64) as usize;
        let total = faults.len();
        for (k, fault) in faults.into_iter().enumerate() {
            assignment[(offset + spaced(k, total, devices)) % devices] = Some(fault);
        }
        Ok(assignment)
    }
}

/// The `k`th of `total` evenly spaced positions in `0..devices`; distinct for distinct `k`
/// because `total <= devices`.
fn spaced(k: usize, total: usize, devices: usize) -> usize {
    (k as u128 * devices as u128 / total as u128) as usize
}

/// Fisher-Yates.
fn shuffle<T>(items: &mut [T], rng: &mut Rng) {
    for i in (1..items.len()).rev() {
        let j = rng.below(i as u64 + 1) as usize;
        items.swap(i, j);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platform::Platform;

    fn plan(s: &str) -> FaultPlan {
        s.parse().expect("valid fault list")
    }

    fn error(s: &str, devices: usize) -> String {
        match s.parse::<FaultPlan>().and_then(|p| p.assign(devices, 1)) {
            Ok(a) => panic!("{s} accepted: {a:?}"),
            Err(e) => e.to_string(),
        }
    }

    #[test]
    fn parses_a_mix_of_counts_and_percentages() {
        let p = plan("drop:2, noprompt:10% ,BadAuth:1,legacy:0,SILENT:5%");
        assert_eq!(
            p.faults().collect::<Vec<_>>(),
            vec![
                FleetFault::Drop,
                FleetFault::NoPrompt,
                FleetFault::BadAuth,
                FleetFault::Legacy,
                FleetFault::Silent
            ]
        );
        assert_eq!(
            p.counts(20).expect("fits"),
            vec![
                (FleetFault::Drop, 2),
                (FleetFault::NoPrompt, 2),
                (FleetFault::BadAuth, 1),
                (FleetFault::Legacy, 0),
                (FleetFault::Silent, 1)
            ]
        );
        assert_eq!(plan(""), FaultPlan::default());
    }

    #[test]
    fn percentages_round_down_and_stay_within_the_fleet() {
        assert_eq!(
            plan("drop:50%").counts(5).expect("fits"),
            vec![(FleetFault::Drop, 2)]
        );
        assert_eq!(
            plan("legacy:100%").counts(7).expect("fits"),
            vec![(FleetFault::Legacy, 7)]
        );
        assert_eq!(
            plan("drop:5%").counts(10).expect("fits"),
            vec![(FleetFault::Drop, 0)]
        );
        // 3 x 33% of 100 is 99, never more than the fleet, whatever its size.
        for devices in 0..300 {
            let counts = plan("drop:34%,noprompt:33%,badauth:33%")
                .counts(devices)
                .expect("fits");
            assert!(counts.iter().map(|c| c.1).sum::<usize>() <= devices);
        }
    }

    #[test]
    fn totals_may_not_exceed_the_fleet() {
        assert!(plan("drop:2,badauth:2").counts(4).is_ok());
        assert_eq!(
            error("drop:3,badauth:2", 4),
            "invalid --fault: the faults need 5 devices but there are only 4"
        );
        assert!(error("drop:60%,legacy:40%,badauth:1", 10).contains("need 11 devices"));
        assert_eq!(
            error("drop:60%,legacy:50%", 4),
            "invalid --fault: the percentages add up to 110%"
        );
        assert!(error("drop:1", 0).contains("only 0"));
    }

    #[test]
    fn bad_input_is_an_error_with_a_clear_message() {
        assert_eq!(
            error("hang:1", 10),
            "invalid --fault: unknown fault `hang` (known: drop, noprompt, silent, badauth, legacy)"
        );
        assert!(error("silent", 10).contains("`silent` needs a count"));
        assert!(error("silent:1,SILENT:2", 10).contains("`silent` is given twice"));
        assert!(error("silent:6,drop:5", 10).contains("need 11 devices"));
        assert!(error("drop", 10).contains("`drop` needs a count"));
        assert!(error("drop:x", 10).contains("`x` is not a device count"));
        assert!(error("drop:-1", 10).contains("`-1` is not a device count"));
        assert!(error("drop:1.5", 10).contains("not a device count"));
        assert!(error("drop:%", 10).contains("not a device count"));
        assert!(error("drop:101%", 10).contains("more than 100%"));
        assert!(error("drop:1000%", 10).contains("more than 100%"));
        assert!(error(":1", 10).contains("unknown fault ``"));
        assert!(error("drop:1,drop:2", 10).contains("`drop` is given twice"));
        assert!(error("drop:99999999999999999999999", 10).contains("not a device count"));
        for message in ["drop", "drop:x", "x:1", "drop:1,drop:1", "drop:9"] {
            assert!(!error(message, 5).contains('\n'));
        }
    }

    #[test]
    fn assignment_is_exact_spread_and_seeded() {
        let p = plan("drop:3,noprompt:3,silent:1,badauth:2,legacy:1");
        let a = p.assign(100, 7).expect("fits");
        assert_eq!(a.len(), 100);
        for (fault, n) in [
            (FleetFault::Drop, 3),
            (FleetFault::NoPrompt, 3),
            (FleetFault::Silent, 1),
            (FleetFault::BadAuth, 2),
            (FleetFault::Legacy, 1),
        ] {
            assert_eq!(a.iter().filter(|f| **f == Some(fault)).count(), n);
        }
        // Evenly spaced: every run of 10 consecutive devices (wrapping) holds exactly one.
        for start in 0..100 {
            let faulty = (start..start + 10).filter(|i| a[i % 100].is_some()).count();
            assert_eq!(faulty, 1, "devices {start}..{}", start + 10);
        }
        assert_eq!(a, p.assign(100, 7).expect("fits"));
        let seeds: Vec<_> = (0..8).map(|s| p.assign(100, s).expect("fits")).collect();
        assert!(seeds.iter().any(|other| *other != seeds[0]));
        // Not simply the first devices.
        assert!(
            (0..8)
                .map(|s| plan("drop:2").assign(10, s).expect("fits"))
                .any(|a| a[0].is_none() || a[1].is_none())
        );
    }

    #[test]
    fn a_full_fleet_and_an_empty_plan() {
        let a = plan("drop:50%,badauth:50%").assign(6, 3).expect("fits");
        assert!(a.iter().all(Option::is_some));
        assert_eq!(
            a.iter().filter(|f| **f == Some(FleetFault::Drop)).count(),
            3
        );
        assert_eq!(plan("").assign(3, 3).expect("fits"), vec![None; 3]);
        assert!(plan("drop:1").assign(0, 3).is_err());
        assert_eq!(plan("drop:0").assign(0, 3).expect("fits"), vec![]);
    }

    #[test]
    fn faults_change_the_spec() {
        let base = DeviceSpec::new(Platform::CiscoIos, "r1", "admin", "admin");
        let mut spec = base.clone();
        FleetFault::Drop.apply(&mut spec);
        assert_eq!(spec.fault, Some(Fault::DropMidOutput));
        let mut spec = base.clone();
        FleetFault::NoPrompt.apply(&mut spec);
        assert_eq!(spec.fault, Some(Fault::NoPrompt));
        let mut spec = base.clone();
        FleetFault::Silent.apply(&mut spec);
        assert_eq!(spec.fault, Some(Fault::Silent));
        let mut spec = base.clone();
        FleetFault::BadAuth.apply(&mut spec);
        assert_eq!(
            spec.credentials,
            vec![("admin".to_string(), "admin-badauth".to_string())]
        );
        assert_eq!(spec.fault, None);
        let mut spec = base;
        FleetFault::Legacy.apply(&mut spec);
        assert!(spec.legacy_only);
        assert_eq!(spec.fault, None);
    }
}
