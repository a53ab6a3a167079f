//! A rendered configuration split into stable text (built once per configuration revision) and
//! volatile pieces (timestamps, counters, re-salted secrets) filled in on every read.

use crate::clock::Stamp;
use crate::rng::Rng;

/// A piece of output that changes on every read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Volatile {
    /// IOS `! Last configuration change at 10:01:02 UTC Wed Nov 25 2026 by admin`
    IosLastChange,
    /// IOS `! NVRAM config last updated at ...`
    IosNvramUpdated,
    /// IOS `ntp clock-period 17179869` (a drift estimate that keeps moving)
    NtpClockPeriod,
    /// NX-OS `!Time: Wed Nov 25 10:01:02 2026`
    NxosTime,
    /// IOS-XR `Wed Nov 25 10:01:02.123 UTC`
    XrDateLine,
    /// IOS-XR `!! Last configuration change at Wed Nov 25 10:01:02 2026 by admin`
    XrLastChange,
    /// EOS `! Time: Wed Nov 25 10:01:02 2026`
    EosTime,
    /// Junos `## Last commit: 2026-11-25 10:01:02 UTC by admin`
    JunosLastCommit,
    /// RouterOS `# 2026-11-25 10:01:02 by RouterOS 7.12.1`
    MikrotikHeader,
    /// FortiOS `#conf_file_ver=...`
    FortiConfFileVer,
    /// FortiOS `ENC <base64>`: FortiOS re-encrypts secrets with a new salt on every read.
    FortiEnc(usize),
    /// Dell OS10 `! Last configuration change at Nov 25 10:01:02 2026`
    Os10LastChange,
    /// Huawei `!Last configuration was updated at 2026-11-25 10:01:02+00:00`
    HuaweiUpdated,
}

impl Volatile {
    fn render(self, now: &Stamp, rng: &mut Rng, out: &mut String) {
        let cisco_time = || {
            format!(
                "{} UTC {} {} {} {}",
                now.hms(),
                now.weekday_abbr(),
                now.month_abbr(),
                now.day,
                now.year
            )
        };
        let text = match self {
            Volatile::IosLastChange => {
                format!("! Last configuration change at {} by admin", cisco_time())
            }
            Volatile::IosNvramUpdated => {
                format!("! NVRAM config last updated at {} by admin", cisco_time())
            }
            Volatile::NtpClockPeriod => {
                format!("ntp clock-period {}", rng.range(17_179_000, 17_180_999))
            }
            Volatile::NxosTime => format!("!Time: {}", now.ctime()),
            Volatile::XrDateLine => format!(
                "{} {} {:2} {}.{:03} UTC",
                now.weekday_abbr(),
                now.month_abbr(),
                now.day,
                now.hms(),
                now.millis
            ),
            Volatile::XrLastChange => {
                format!("!! Last configuration change at {} by admin", now.ctime())
            }
            Volatile::EosTime => format!("! Time: {}", now.ctime()),
            Volatile::JunosLastCommit => {
                format!("## Last commit: {} UTC by admin", now.iso())
            }
            Volatile::MikrotikHeader => format!("# {} by RouterOS 7.12.1", now.iso()),
            Volatile::FortiConfFileVer => {
                format!(
                    "#conf_file_ver={}",
                    rng.range(1_000_000_000_000, 999_999_999_999_999)
                )
            }
            Volatile::FortiEnc(n) => rng.base64(n),
            Volatile::Os10LastChange => format!(
                "! Last configuration change at {} {:2} {} {}",
                now.month_abbr(),
                now.day,
                now.hms(),
                now.year
            ),
            Volatile::HuaweiUpdated => format!(
                "!Last configuration was updated at {}+00:00 by admin",
                now.iso()
            ),
        };
        out.push_str(&text);
    }

    /// Whether the piece is a whole line (as opposed to a value inside a line).
    fn is_line(self) -> bool {
        !matches!(self, Volatile::FortiEnc(_))
    }
}

#[derive(Debug, Clone)]
enum Part {
    Text(String),
    Volatile(Volatile),
}

/// Output made of stable text and volatile pieces. Text uses `\n`; the session converts line
/// endings for the wire.
#[derive(Debug, Clone, Default)]
pub(crate) struct Template {
    parts: Vec<Part>,
    stable_bytes: usize,
    lines: usize,
}

impl Template {
    pub(crate) fn new() -> Self {
        Template::default()
    }

    /// Appends stable text (may hold several lines).
    pub(crate) fn text(&mut self, text: &str) -> &mut Self {
        self.stable_bytes += text.len();
        self.lines += text.matches('\n').count();
        if let Some(Part::Text(last)) = self.parts.last_mut() {
            last.push_str(text);
        } else {
            self.parts.push(Part::Text(text.to_string()));
        }
        self
    }

    /// Appends one stable line.
    pub(crate) fn line(&mut self, line: impl AsRef<str>) -> &mut Self {
        self.text(line.as_ref());
        self.text("\n")
    }

    /// Appends a volatile piece; whole-line pieces get their line ending.
    pub(crate) fn volatile(&mut self, v: Volatile) -> &mut Self {
        self.parts.push(Part::Volatile(v));
        if v.is_line() {
            self.text("\n");
        }
        self
    }

    /// Appends another template.
    pub(crate) fn append(&mut self, other: &Template) -> &mut Self {
        for part in &other.parts {
            match part {
                Part::Text(t) => {
                    self.text(t);
                }
                Part::Volatile(v) => self.parts.push(Part::Volatile(*v)),
            }
        }
        self
    }

    /// Number of lines so far (volatile lines included).
    #[cfg(test)]
    pub(crate) fn line_count(&self) -> usize {
        self.lines
    }

    /// Bytes of stable text, a close estimate of the rendered size (for "N bytes" headers).
    pub(crate) fn approx_bytes(&self) -> usize {
        // A volatile piece renders to about 60 bytes (a timestamp line, a counter).
        let volatile = self
            .parts
            .iter()
            .filter(|p| matches!(p, Part::Volatile(_)))
            .count();
        self.stable_bytes + 60 * volatile
    }

    /// Stable text only, for checksums that change with content but not with time.
    pub(crate) fn stable_text(&self) -> String {
        let mut out = String::with_capacity(self.stable_bytes);
        for part in &self.parts {
            if let Part::Text(t) = part {
                out.push_str(t);
            }
        }
        out
    }

    /// The text as read at `now`, with fresh volatile values.
    pub(crate) fn render(&self, now: &Stamp) -> String {
        let mut rng = Rng::fresh();
        let mut out = String::with_capacity(self.stable_bytes + 64 * self.parts.len());
        for part in &self.parts {
            match part {
                Part::Text(t) => out.push_str(t),
                Part::Volatile(v) => v.render(now, &mut rng, &mut out),
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn volatile_parts_change_and_lines_count() {
        let mut t = Template::new();
        t.line("hostname r1").volatile(Volatile::NtpClockPeriod);
        t.text("set password ENC ")
            .volatile(Volatile::FortiEnc(12))
            .text("\n");
        assert_eq!(t.line_count(), 3);
        let now = Stamp::from_unix(1_795_600_862, 0);
        let a = t.render(&now);
        let b = t.render(&now);
        assert!(a.starts_with("hostname r1\nntp clock-period 171"));
        assert_ne!(a, b);
        let mut u = Template::new();
        u.append(&t);
        assert_eq!(u.line_count(), 3);
    }
}
