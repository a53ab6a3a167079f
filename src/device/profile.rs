//! Platform profiles: everything the engine knows about one network operating system, as data.
//! Each platform is one TOML file in `src/device/profiles/`, compiled into the binary; adding a
//! platform means adding a file and naming it in `PROFILE_FILES`, with no change to the engine.

use std::sync::LazyLock;

use regex::Regex;
use serde::Deserialize;

/// The compiled-in profile files, one per platform.
const PROFILE_FILES: [&str; 16] = [
    include_str!("profiles/arista_eos.toml"),
    include_str!("profiles/aruba_aoscx.toml"),
    include_str!("profiles/brocade_fastiron.toml"),
    include_str!("profiles/cisco_asa.toml"),
    include_str!("profiles/cisco_ios.toml"),
    include_str!("profiles/cisco_iosxr.toml"),
    include_str!("profiles/cisco_nxos.toml"),
    include_str!("profiles/dell_os10.toml"),
    include_str!("profiles/dell_os6.toml"),
    include_str!("profiles/fortinet_fortios.toml"),
    include_str!("profiles/hp_procurve.toml"),
    include_str!("profiles/huawei_vrp.toml"),
    include_str!("profiles/juniper_junos.toml"),
    include_str!("profiles/linux.toml"),
    include_str!("profiles/mikrotik_routeros.toml"),
    include_str!("profiles/paloalto_panos.toml"),
];

static PROFILES: LazyLock<Vec<Profile>> = LazyLock::new(|| {
    let mut all: Vec<Profile> = PROFILE_FILES
        .iter()
        .map(|text| {
            // The files are part of the source; the unit tests load every one of them.
            Profile::parse(text).unwrap_or_else(|e| panic!("built-in platform profile: {e}"))
        })
        .collect();
    all.sort_by(|a, b| a.id.cmp(&b.id));
    all
});

/// Every platform, sorted by id.
pub fn all() -> &'static [Profile] {
    &PROFILES
}

pub fn find(id: &str) -> Option<&'static Profile> {
    PROFILES.iter().find(|p| p.id == id)
}

#[derive(Debug)]
pub struct Profile {
    pub id: String,
    pub name: String,
    /// The name Oxidized gives this platform's model (its Ruby class: `IOS`, `JunOS`), which
    /// the Oxidized-compatible routes answer so that their clients see familiar values.
    pub oxidized_model: String,
    /// Matches the whole last line of output when the device waits for a command.
    pub prompt: Regex,
    /// Matches a prompt of privileged (enable) mode; when absent every prompt is privileged.
    pub privileged: Option<Regex>,
    /// Appended to the login name (MikroTik's `+ct` turns off colours and terminal detection).
    pub username_suffix: String,
    /// What ends a typed command line.
    pub newline: String,
    /// Prompts that may appear before the first command prompt, and what to answer.
    pub login: Vec<LoginStep>,
    pub enable: Option<Enable>,
    /// Enter enable mode before the paging commands (they need privileges on some platforms).
    pub enable_before_paging: bool,
    pub paging_off: Vec<String>,
    /// Matches a pager waiting for a key at the end of the output so far.
    pub pager: Option<Regex>,
    pub pager_answer: String,
    /// Any output line matching one of these means the command was rejected.
    pub command_errors: Vec<Regex>,
    pub exit_command: String,
    /// Commands whose output is the configuration (joined when several).
    pub config_commands: Vec<String>,
    /// Commands a command run refuses on this platform, besides the ones refused everywhere
    /// (anchored, case-insensitive).
    pub denied_commands: Vec<Regex>,
    pub facts: Vec<FactsCommand>,
    pub filters: Filters,
    /// How a push changes the configuration; `None`: the platform takes no pushes.
    pub configure: Option<Configure>,
    /// How discovery recognises the platform; `None`: never recognised by a scan.
    pub detect: Option<Detect>,
}

/// Discovery's hints, cheapest first: the SSH identification string (free, before logging in),
/// the prompt (the profile's own `prompt`, free after logging in), then one probe command whose
/// output must match one of `confirm`.
#[derive(Debug)]
pub struct Detect {
    /// Patterns of the SSH identification string (`SSH-2.0-Cisco-1.25`); a platform none of whose
    /// patterns match is still tried when no platform's pattern matches.
    pub banner: Vec<Regex>,
    pub probe: String,
    pub confirm: Vec<Regex>,
}

impl Detect {
    pub fn banner_matches(&self, banner: &str) -> bool {
        self.banner.iter().any(|r| r.is_match(banner))
    }
    pub fn confirms(&self, output: &str) -> bool {
        self.confirm.iter().any(|r| r.is_match(output))
    }
}

/// Configuration mode, as a push drives it: `enter`, the lines, `commit` then `exit` when every
/// line was accepted, `abort` instead when one was refused (or the commit failed), then `save`
/// when asked.
#[derive(Debug)]
pub struct Configure {
    /// Commands that enter configuration mode (none: lines are typed at the normal prompt).
    pub enter: Vec<String>,
    /// Commands that make the changes take effect (Junos, IOS XR, Huawei, PAN-OS).
    pub commit: Vec<String>,
    pub exit: Vec<String>,
    /// Commands that discard what is not committed and leave; without them a refused line
    /// leaves with `exit` (what was accepted before it stays: the platform applies each line).
    pub abort: Vec<String>,
    /// Commands that save the running configuration for the next boot.
    pub save: Vec<String>,
    /// Output lines that mean a configuration line was refused, besides `command_errors`.
    pub rejected: Vec<Regex>,
    /// Prompts of configuration mode the platform's `prompt` does not cover (FRR's vtysh).
    pub prompt: Option<Regex>,
    /// Questions these commands may ask, and the answer (`Are you sure you want to save? (y/n)`).
    pub answers: Vec<LoginStep>,
}

impl Configure {
    /// Whether a line refused a configuration line: the platform's errors or the push's own.
    pub fn refuses(&self, profile: &Profile, line: &str) -> bool {
        profile.command_errors.iter().any(|r| r.is_match(line))
            || self.rejected.iter().any(|r| r.is_match(line))
    }
}

#[derive(Debug)]
pub struct LoginStep {
    pub expect: Regex,
    pub send: String,
}

#[derive(Debug)]
pub struct Enable {
    pub command: String,
    pub password_prompt: Regex,
    pub refused: Regex,
}

#[derive(Debug)]
pub struct FactsCommand {
    pub command: String,
    /// For each fact, patterns tried in order; the first capture group is the value.
    pub model: Vec<Regex>,
    pub serial: Vec<Regex>,
    pub os_version: Vec<Regex>,
}

#[derive(Debug, Default)]
pub struct Filters {
    /// Lines removed before the configuration is stored (volatile: clocks, counters, banners).
    pub strip: Vec<Regex>,
    /// Secrets: the span of the group named `secret` is replaced by a marker.
    pub mask: Vec<MaskRule>,
    /// Lines (or the span of a group named `value`) left out when deciding whether the config changed.
    pub ignore: Vec<Regex>,
}

/// A secret pattern, anywhere or only inside a configuration section (FortiOS `config ... end`,
/// RouterOS `/menu`), where the same words mean something else elsewhere.
#[derive(Debug)]
pub struct MaskRule {
    pub pattern: Regex,
    pub section: Option<Section>,
}

#[derive(Debug)]
pub struct Section {
    /// The line that opens the section.
    pub start: Regex,
    /// The line that closes it.
    pub end: Regex,
}

#[derive(Deserialize)]
#[serde(untagged)]
enum RawMask {
    Anywhere(String),
    InSection {
        section: String,
        until: String,
        pattern: String,
    },
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawProfile {
    id: String,
    name: String,
    oxidized_model: String,
    prompt: String,
    privileged: Option<String>,
    #[serde(default)]
    username_suffix: String,
    #[serde(default = "newline")]
    newline: String,
    #[serde(default)]
    login: Vec<RawLogin>,
    enable: Option<RawEnable>,
    #[serde(default)]
    enable_before_paging: bool,
    #[serde(default)]
    paging_off: Vec<String>,
    pager: Option<String>,
    #[serde(default = "space")]
    pager_answer: String,
    #[serde(default)]
    command_errors: Vec<String>,
    #[serde(default = "exit")]
    exit_command: String,
    config_commands: Vec<String>,
    #[serde(default)]
    denied_commands: Vec<String>,
    #[serde(default)]
    facts: Vec<RawFacts>,
    #[serde(default)]
    filters: RawFilters,
    configure: Option<RawConfigure>,
    detect: Option<RawDetect>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDetect {
    #[serde(default)]
    banner: Vec<String>,
    probe: String,
    confirm: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfigure {
    #[serde(default)]
    enter: Vec<String>,
    #[serde(default)]
    commit: Vec<String>,
    #[serde(default)]
    exit: Vec<String>,
    #[serde(default)]
    abort: Vec<String>,
    #[serde(default)]
    save: Vec<String>,
    #[serde(default)]
    rejected: Vec<String>,
    prompt: Option<String>,
    #[serde(default)]
    answers: Vec<RawLogin>,
}

fn newline() -> String {
    "\n".into()
}

fn space() -> String {
    " ".into()
}

fn exit() -> String {
    "exit".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawLogin {
    expect: String,
    send: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawEnable {
    #[serde(default = "enable_command")]
    command: String,
    password_prompt: String,
    refused: String,
}

fn enable_command() -> String {
    "enable".into()
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RawFacts {
    command: String,
    #[serde(default)]
    model: Vec<String>,
    #[serde(default)]
    serial: Vec<String>,
    #[serde(default)]
    os_version: Vec<String>,
}

#[derive(Deserialize, Default)]
#[serde(deny_unknown_fields)]
struct RawFilters {
    #[serde(default)]
    strip: Vec<String>,
    #[serde(default)]
    mask: Vec<RawMask>,
    #[serde(default)]
    ignore: Vec<String>,
}

fn compile(what: &str, pattern: &str) -> Result<Regex, String> {
    // Line-oriented patterns: `^`/`$` anchor at line boundaries everywhere.
    Regex::new(&format!("(?m){pattern}")).map_err(|e| format!("{what} {pattern:?}: {e}"))
}

fn compile_all(what: &str, patterns: &[String]) -> Result<Vec<Regex>, String> {
    patterns.iter().map(|p| compile(what, p)).collect()
}

fn compile_mask(what: &str, raw: &RawMask) -> Result<MaskRule, String> {
    let (pattern, section) = match raw {
        RawMask::Anywhere(p) => (p, None),
        RawMask::InSection {
            section,
            until,
            pattern,
        } => (
            pattern,
            Some(Section {
                start: compile(what, section)?,
                end: compile(what, until)?,
            }),
        ),
    };
    let pattern = compile(what, pattern)?;
    if !pattern.capture_names().any(|n| n == Some("secret")) {
        return Err(format!("{what} {pattern} has no group named `secret`"));
    }
    Ok(MaskRule { pattern, section })
}

fn compile_configure(id: &str, raw: RawConfigure) -> Result<Configure, String> {
    let ctx = |what: &str| format!("{id}: configure.{what}");
    Ok(Configure {
        rejected: compile_all(&ctx("rejected"), &raw.rejected)?,
        prompt: raw
            .prompt
            .as_deref()
            .map(|p| compile(&ctx("prompt"), &format!("^(?:{p})$")))
            .transpose()?,
        answers: raw
            .answers
            .into_iter()
            .map(|a| {
                Ok(LoginStep {
                    expect: compile(&ctx("answers.expect"), &a.expect)?,
                    send: a.send,
                })
            })
            .collect::<Result<_, String>>()?,
        enter: raw.enter,
        commit: raw.commit,
        exit: raw.exit,
        abort: raw.abort,
        save: raw.save,
    })
}

impl Profile {
    pub fn parse(text: &str) -> Result<Profile, String> {
        let raw: RawProfile = toml::from_str(text).map_err(|e| e.to_string())?;
        let id = raw.id.clone();
        let ctx = |what: &str| format!("{id}: {what}");
        let mask = raw
            .filters
            .mask
            .iter()
            .map(|m| compile_mask(&ctx("mask"), m))
            .collect::<Result<Vec<_>, String>>()?;
        if raw.config_commands.is_empty() {
            return Err(format!("{id}: config_commands is empty"));
        }
        Ok(Profile {
            prompt: compile(&ctx("prompt"), &format!("^(?:{})$", raw.prompt))?,
            privileged: raw
                .privileged
                .as_deref()
                .map(|p| compile(&ctx("privileged"), p))
                .transpose()?,
            username_suffix: raw.username_suffix,
            oxidized_model: raw.oxidized_model,
            newline: raw.newline,
            login: raw
                .login
                .into_iter()
                .map(|l| {
                    Ok(LoginStep {
                        expect: compile(&ctx("login.expect"), &l.expect)?,
                        send: l.send,
                    })
                })
                .collect::<Result<_, String>>()?,
            enable: raw
                .enable
                .map(|e| {
                    Ok::<_, String>(Enable {
                        command: e.command,
                        password_prompt: compile(
                            &ctx("enable.password_prompt"),
                            &e.password_prompt,
                        )?,
                        refused: compile(&ctx("enable.refused"), &e.refused)?,
                    })
                })
                .transpose()?,
            enable_before_paging: raw.enable_before_paging,
            paging_off: raw.paging_off,
            pager: raw
                .pager
                .as_deref()
                .map(|p| compile(&ctx("pager"), p))
                .transpose()?,
            pager_answer: raw.pager_answer,
            command_errors: compile_all(&ctx("command_errors"), &raw.command_errors)?,
            exit_command: raw.exit_command,
            config_commands: raw.config_commands,
            denied_commands: raw
                .denied_commands
                .iter()
                .map(|d| compile(&ctx("denied_commands"), &format!("(?i)^\\s*(?:{d})")))
                .collect::<Result<_, String>>()?,
            facts: raw
                .facts
                .into_iter()
                .map(|f| {
                    Ok(FactsCommand {
                        model: compile_all(&ctx("facts.model"), &f.model)?,
                        serial: compile_all(&ctx("facts.serial"), &f.serial)?,
                        os_version: compile_all(&ctx("facts.os_version"), &f.os_version)?,
                        command: f.command,
                    })
                })
                .collect::<Result<_, String>>()?,
            filters: Filters {
                strip: compile_all(&ctx("strip"), &raw.filters.strip)?,
                mask,
                ignore: compile_all(&ctx("ignore"), &raw.filters.ignore)?,
            },
            configure: raw
                .configure
                .map(|c| compile_configure(&id, c))
                .transpose()?,
            detect: raw
                .detect
                .map(|d| {
                    if d.confirm.is_empty() {
                        return Err(format!("{id}: detect.confirm is empty"));
                    }
                    Ok::<_, String>(Detect {
                        banner: compile_all(&ctx("detect.banner"), &d.banner)?,
                        confirm: compile_all(&ctx("detect.confirm"), &d.confirm)?,
                        probe: d.probe,
                    })
                })
                .transpose()?,
            id: raw.id,
            name: raw.name,
        })
    }

    /// Whether this prompt line is privileged mode.
    pub fn is_privileged(&self, prompt: &str) -> bool {
        self.privileged.as_ref().is_none_or(|r| r.is_match(prompt))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_profile_loads_and_ids_are_unique() {
        for text in PROFILE_FILES {
            if let Err(e) = Profile::parse(text) {
                panic!("{e}");
            }
        }
        let ids: std::collections::BTreeSet<_> = all().iter().map(|p| p.id.as_str()).collect();
        assert_eq!(ids.len(), PROFILE_FILES.len());
    }
}
