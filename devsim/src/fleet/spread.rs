//! `--spread 127.0.4.0/22`: one loopback address per device, for address-range discovery.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};
use std::str::FromStr;

use crate::error::SimError;

/// An address range in CIDR notation that lies entirely on loopback: inside 127.0.0.0/8, or
/// `::1/128`. Its usable host addresses are handed out in order, one per device.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Spread {
    network: IpAddr,
    prefix: u32,
}

impl FromStr for Spread {
    type Err = SimError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let malformed = || SimError::Spread(format!("`{s}` is not a range like 127.0.4.0/22"));
        let (addr, prefix) = s.trim().split_once('/').ok_or_else(malformed)?;
        let network: IpAddr = addr.parse().map_err(|_| malformed())?;
        let prefix: u32 = prefix.parse().map_err(|_| malformed())?;
        let spread = Spread { network, prefix };
        if prefix > spread.bits() {
            return Err(malformed());
        }
        // Host bits are refused rather than masked: `127.0.1.10/24` most likely means "from
        // .10 on", and silently starting at .1 would put devices where nobody looks.
        if number(network) & spread.host_mask() != 0 {
            let start = spread.address(number(network) & !spread.host_mask());
            return Err(SimError::Spread(format!(
                "`{s}` has host bits set (the range would be {start}/{prefix})"
            )));
        }
        // Never listen where other hosts can connect: every address of the range is loopback.
        let loopback = match network {
            IpAddr::V4(v4) => prefix >= 8 && v4.octets()[0] == 127,
            IpAddr::V6(v6) => prefix == 128 && v6 == Ipv6Addr::LOCALHOST,
        };
        if !loopback {
            return Err(SimError::Spread(format!(
                "`{s}` is not inside 127.0.0.0/8 or ::1/128 (devsim listens on loopback only)"
            )));
        }
        Ok(spread)
    }
}

impl fmt::Display for Spread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}/{}", self.network, self.prefix)
    }
}

impl Spread {
    fn bits(&self) -> u32 {
        match self.network {
            IpAddr::V4(_) => 32,
            IpAddr::V6(_) => 128,
        }
    }

    /// The address of the range's family with this [`number`].
    fn address(&self, number: u128) -> IpAddr {
        match self.network {
            // Numbers within an IPv4 range never exceed u32::MAX.
            IpAddr::V4(_) => IpAddr::V4(Ipv4Addr::from(number as u32)),
            IpAddr::V6(_) => IpAddr::V6(Ipv6Addr::from(number)),
        }
    }

    /// The bits that vary within the range.
    fn host_mask(&self) -> u128 {
        u128::MAX
            .checked_shr(128 - (self.bits() - self.prefix))
            .unwrap_or(0)
    }

    /// The first usable host (as an offset from the network address) and how many there are.
    /// The network address is skipped, and on IPv4 the broadcast address; point-to-point
    /// ranges (/31, /127) and single addresses (/32, /128) use every address (RFC 3021).
    fn usable(&self) -> (u128, u128) {
        let size = self.host_mask().saturating_add(1);
        let host_bits = self.bits() - self.prefix;
        match (self.network, host_bits) {
            (_, 0 | 1) => (0, size),
            (IpAddr::V4(_), _) => (1, size - 2),
            (IpAddr::V6(_), _) => (1, size - 1),
        }
    }

    /// The addresses of `devices` devices: the first `devices` usable hosts of the range.
    pub fn hosts(&self, devices: usize) -> Result<Vec<IpAddr>, SimError> {
        let (first, count) = self.usable();
        if devices as u128 > count {
            let noun = if count == 1 { "address" } else { "addresses" };
            return Err(SimError::Spread(format!(
                "`{self}` has {count} usable {noun}, fewer than --devices ({devices})"
            )));
        }
        let network = number(self.network);
        Ok((0..devices as u128)
            .map(|i| self.address(network + first + i))
            .collect())
    }
}

/// An address as a number, for range arithmetic (IPv4 and IPv6 alike fit in a u128).
fn number(addr: IpAddr) -> u128 {
    match addr {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hosts(range: &str, devices: usize) -> Result<Vec<String>, String> {
        range
            .parse::<Spread>()
            .and_then(|s| s.hosts(devices))
            .map(|hosts| hosts.iter().map(IpAddr::to_string).collect())
            .map_err(|e| e.to_string())
    }

    #[test]
    fn hands_out_usable_hosts_in_order() {
        let all = hosts("127.0.4.0/22", 1022).expect("fits");
        assert_eq!(all[0], "127.0.4.1");
        assert_eq!(all[255], "127.0.5.0");
        assert_eq!(all[1021], "127.0.7.254");
        assert_eq!(
            hosts("127.0.0.0/30", 2).expect("fits"),
            ["127.0.0.1", "127.0.0.2"]
        );
        assert_eq!(hosts("127.0.0.0/8", 0).expect("fits"), Vec::<String>::new());
        assert_eq!(hosts("127.0.0.0/8", 3).expect("fits")[2], "127.0.0.3");
        assert_eq!(hosts("::1/128", 1).expect("fits"), ["::1"]);
        assert_eq!(
            "127.0.4.0/22".parse::<Spread>().expect("range").to_string(),
            "127.0.4.0/22"
        );
    }

    #[test]
    fn point_to_point_and_single_addresses_use_every_address() {
        assert_eq!(
            hosts("127.0.0.2/31", 2).expect("fits"),
            ["127.0.0.2", "127.0.0.3"]
        );
        assert_eq!(hosts("127.0.0.9/32", 1).expect("fits"), ["127.0.0.9"]);
        assert_eq!(
            hosts("127.0.0.9/32", 2).expect_err("too small"),
            "invalid --spread: `127.0.0.9/32` has 1 usable address, fewer than --devices (2)"
        );
        assert!(hosts("127.0.0.2/31", 3).is_err());
    }

    #[test]
    fn a_range_too_small_is_refused() {
        assert_eq!(
            hosts("127.0.4.0/22", 1023).expect_err("too small"),
            "invalid --spread: `127.0.4.0/22` has 1022 usable addresses, fewer than --devices (1023)"
        );
        assert!(hosts("127.0.0.0/30", 3).is_err());
    }

    #[test]
    fn non_loopback_ranges_are_refused() {
        for range in [
            "10.0.0.0/24",
            "128.0.0.0/8",
            "126.0.0.0/7",
            "0.0.0.0/0",
            "0.0.0.0/32",
            "::/0",
            "::2/128",
            "::/127",
            "::ffff:127.0.0.1/128",
        ] {
            let error = hosts(range, 1).expect_err(range);
            assert_eq!(
                error,
                format!(
                    "invalid --spread: `{range}` is not inside 127.0.0.0/8 or ::1/128 (devsim \
                     listens on loopback only)"
                )
            );
        }
    }

    #[test]
    fn malformed_ranges_are_refused() {
        for range in [
            "127.0.0.1",
            "127.0.0.0/33",
            "::1/129",
            "x/8",
            "127.0.0.0/",
            "/8",
        ] {
            assert_eq!(
                hosts(range, 1).expect_err(range),
                format!("invalid --spread: `{range}` is not a range like 127.0.4.0/22")
            );
        }
        assert_eq!(
            hosts("127.0.1.10/24", 1).expect_err("host bits"),
            "invalid --spread: `127.0.1.10/24` has host bits set (the range would be \
             127.0.1.0/24)"
        );
    }
}
