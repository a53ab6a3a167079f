//! Interactive CLI behaviour over real SSH sessions: prompts, echo, commands, paging, enable,
//! configuration changes, volatile lines, exec channels.

mod common;

use std::time::{Duration, Instant};

use common::{Shell, exec, login, spec, start};
use devsim::{DeviceSpec, Paging, Platform};

#[tokio::test]
async fn ios_login_show_version_and_running_config() {
    let sim = start(vec![spec(Platform::CiscoIos, "r1")]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    let banner = sh.until_end("r1#").await;
    assert!(banner.contains("Authorized access only"), "{banner:?}");
    assert_eq!(sh.cmd("terminal length 0", "r1#").await, "");
    assert_eq!(sh.cmd("terminal width 0", "r1#").await, "");
    let version = sh.cmd("show version", "r1#").await;
    assert!(
        version.contains("Cisco IOS XE Software, Version 17.03.04a\r\n"),
        "{version}"
    );
    assert!(version.contains("Processor board ID FOC"));
    assert!(version.contains("r1 uptime is "));
    let config = sh.cmd("show running-config", "r1#").await;
    assert!(config.starts_with("Building configuration...\r\n\r\nCurrent configuration : "));
    assert!(config.contains("\r\nhostname r1\r\n"));
    assert!(config.contains("enable secret 9 $9$"));
    assert!(config.contains("snmp-server community S3cr3tCommunity RO"));
    assert!(config.contains("! Last configuration change at "));
    assert!(
        config.ends_with("end\r\n"),
        "{:?}",
        &config[config.len() - 40..]
    );
    let error = sh.cmd("show foo", "r1#").await;
    assert_eq!(
        error,
        "        ^\r\n% Invalid input detected at '^' marker.\r\n"
    );
    // Lines may end with \n alone, too.
    sh.send("show clock\n").await;
    let clock = sh.until_end("r1#").await;
    assert!(
        clock.starts_with("show clock\r\n*") && clock.contains(" UTC "),
        "{clock:?}"
    );
    sh.send("exit\r").await;
    sh.until_closed().await;
    assert_eq!(sim.sessions_served(0), 1);
}

/// Logs in to one device of each platform, checks the prompt, the echo, a facts command and
/// the platform's error for an unknown command.
#[tokio::test]
async fn every_platform_answers_in_its_dialect() {
    struct Case {
        platform: Platform,
        user: &'static str,
        prompt: &'static str,
        command: &'static str,
        expect: &'static str,
        error: &'static str,
        /// Commands that switch paging off, with the prompt after each.
        paging_off: &'static [(&'static str, &'static str)],
    }
    let cases = [
        Case {
            platform: Platform::CiscoNxos,
            user: "admin",
            prompt: "h# ",
            command: "show version",
            expect: "NXOS: version 9.3(8)",
            error: "% Invalid command at '^' marker.",
            paging_off: &[("terminal length 0", "h# ")],
        },
        Case {
            platform: Platform::CiscoIosxr,
            user: "admin",
            prompt: "RP/0/RSP0/CPU0:h#",
            command: "show inventory",
            expect: "PID: ASR-9006-AC-V2, VID: V02, SN: FOX",
            error: "% Invalid input detected at '^' marker.",
            paging_off: &[
                ("terminal length 0", "RP/0/RSP0/CPU0:h#"),
                ("terminal width 0", "RP/0/RSP0/CPU0:h#"),
            ],
        },
        Case {
            platform: Platform::CiscoAsa,
            user: "admin",
            prompt: "h# ",
            command: "show version",
            expect: "Cisco Adaptive Security Appliance Software Version 9.16(3)",
            error: "ERROR: % Invalid input detected at '^' marker.",
            paging_off: &[("terminal pager 0", "h# ")],
        },
        Case {
            platform: Platform::AristaEos,
            user: "admin",
            prompt: "h#",
            command: "show version",
            expect: "Software image version: 4.28.3M",
            error: "% Invalid input (at token 0: 'bogus')",
            paging_off: &[("terminal length 0", "h#")],
        },
        Case {
            platform: Platform::JuniperJunos,
            user: "admin",
            prompt: "admin@h> ",
            command: "show version",
            expect: "Junos: 21.4R3-S4.9",
            error: "unknown command.",
            paging_off: &[
                ("set cli screen-length 0", "admin@h> "),
                ("set cli screen-width 0", "admin@h> "),
            ],
        },
        Case {
            platform: Platform::ArubaAoscx,
            user: "admin",
            prompt: "h# ",
            command: "show system",
            expect: "ArubaOS-CX Version    : FL.10.10.1040",
            error: "Invalid input: bogus",
            paging_off: &[("no page", "h# ")],
        },
        Case {
            platform: Platform::MikrotikRouteros,
            user: "admin+ct",
            prompt: "[admin@h] > ",
            command: "/system routerboard print",
            expect: "model: CCR2004-1G-12S+2XS",
            error: "bad command name bogus (line 1 column 1)",
            paging_off: &[],
        },
        Case {
            platform: Platform::FortinetFortios,
            user: "admin",
            prompt: "h # ",
            command: "get system status",
            expect: "Version: FortiGate-60F v7.2.5,build1517,230606 (GA.F)",
            error: "Unknown action 0",
            paging_off: &[
                ("config system console", "h (console) # "),
                ("set output standard", "h (console) # "),
                ("end", "h # "),
            ],
        },
        Case {
            platform: Platform::PaloaltoPanos,
            user: "admin",
            prompt: "admin@h> ",
            command: "show system info",
            expect: "sw-version: 10.2.4",
            error: "Unknown command: bogus",
            paging_off: &[("set cli pager off", "admin@h> ")],
        },
        Case {
            platform: Platform::HuaweiVrp,
            user: "admin",
            prompt: "<h>",
            command: "display esn",
            expect: "ESN of slot 1: 2102350DLS10K3",
            error: "Error: Unrecognized command found at '^' position.",
            paging_off: &[("screen-length 0 temporary", "<h>")],
        },
        Case {
            platform: Platform::DellOs10,
            user: "admin",
            prompt: "h# ",
            command: "show version",
            expect: "OS Version: 10.5.4.0",
            error: "% Error: Unrecognized command.",
            paging_off: &[("terminal length 0", "h# ")],
        },
        Case {
            platform: Platform::DellOs6,
            user: "admin",
            prompt: "h#",
            command: "show version",
            expect: "Machine Type................................... Dell Networking N3048",
            error: "% Invalid input detected at '^' marker.",
            paging_off: &[("terminal length 0", "h#")],
        },
        Case {
            platform: Platform::BrocadeFastiron,
            user: "admin",
            prompt: "SSH@h#",
            command: "show version",
            expect: "  HW: Stackable ICX7450-48P",
            error: "Invalid input -> bogus",
            paging_off: &[("skip-page-display", "SSH@h#")],
        },
        Case {
            platform: Platform::Linux,
            user: "admin",
            prompt: "admin@h:~$ ",
            command: "uname -sr",
            expect: "Linux 6.1.0-13-amd64",
            error: "bash: bogus: command not found",
            paging_off: &[],
        },
    ];
    let specs: Vec<DeviceSpec> = cases.iter().map(|c| spec(c.platform, "h")).collect();
    let sim = start(specs).await;
    for (i, case) in cases.iter().enumerate() {
        let mut sh = Shell::start(&sim, i, case.user, "secret").await;
        sh.until_end(case.prompt).await;
        for (command, prompt) in case.paging_off {
            sh.cmd(command, prompt).await;
        }
        let output = sh.cmd(case.command, case.prompt).await;
        assert!(
            output.contains(case.expect),
            "{:?}: {output}",
            case.platform
        );
        let error = sh.cmd("bogus", case.prompt).await;
        assert!(error.contains(case.error), "{:?}: {error:?}", case.platform);
    }
}

#[tokio::test]
async fn procurve_waits_for_a_key_and_uses_vt100_prompts() {
    let sim = start(vec![spec(Platform::HpProcurve, "sw1")]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("Press any key to continue").await;
    sh.send(" ").await;
    let prompt = sh.until_end("sw1# ").await;
    assert!(prompt.contains("\x1b[24;1H"), "{prompt:?}");
    let system = sh.cmd("show system", "sw1# ").await;
    assert!(
        system.contains("Software revision  : WB.16.10.0012"),
        "{system}"
    );
    assert!(system.contains("Serial Number      : SG"));
}

#[tokio::test]
async fn mikrotik_colours_unless_the_login_says_ct() {
    let sim = start(vec![spec(Platform::MikrotikRouteros, "mt")]).await;
    let mut plain = Shell::start(&sim, 0, "admin+ct", "secret").await;
    let banner = plain.until_end("[admin@mt] > ").await;
    assert!(!banner.contains('\x1b'));
    let export = plain.cmd("/export", "[admin@mt] > ").await;
    assert!(export.contains("# software id = "));
    assert!(export.contains("# model = CCR2004-1G-12S+2XS"));
    assert!(export.contains(" \\\r\n    "), "long lines are continued");
    assert!(!export.contains("secret=R4diusK3y"));
    let sensitive = plain.cmd("/export show-sensitive", "[admin@mt] > ").await;
    assert!(sensitive.contains("secret=R4diusK3y"));
    let mut colour = Shell::start(&sim, 0, "admin", "secret").await;
    let prompt = colour.until("[admin@mt] > ").await;
    assert!(prompt.contains('\x1b'), "{prompt:?}");
}

#[tokio::test]
async fn paging_pager_continues_with_space_and_turns_off() {
    let sim = start(vec![spec(Platform::CiscoIos, "r1")]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("r1#").await;
    sh.send("show running-config\r").await;
    let first = sh.until_end(" --More-- ").await;
    assert_eq!(first.matches("\r\n").count(), 24, "echo line plus one page");
    sh.send(" ").await;
    let second = sh.until_end(" --More-- ").await;
    assert!(second.starts_with("\x08\x08\x08\x08\x08\x08\x08\x08\x08\x08          \x08"));
    sh.send("\r").await;
    let one_line = sh.until_end(" --More-- ").await;
    assert_eq!(one_line.matches("\r\n").count(), 1);
    sh.send("q").await;
    sh.until_end("r1#").await;
    // Paging off: the whole configuration arrives without a pager.
    sh.cmd("terminal length 0", "r1#").await;
    let config = sh.cmd("show running-config", "r1#").await;
    assert!(!config.contains("--More--"));
    assert!(config.lines().count() > 100);
}

#[tokio::test]
async fn forced_paging_ignores_the_paging_off_command() {
    let mut forced = spec(Platform::JuniperJunos, "j1");
    forced.paging = Paging::Forced;
    let sim = start(vec![forced]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("admin@j1> ").await;
    assert_eq!(
        sh.cmd("set cli screen-length 0", "admin@j1> ").await,
        "Screen length set to 0\r\n\r\n"
    );
    sh.send("show configuration | display set\r").await;
    sh.until_end("---(more)---").await;
    let mut pages = 1;
    loop {
        sh.send(" ").await;
        tokio::time::timeout(common::TIMEOUT, async {
            loop {
                if sh.pending.ends_with("---(more)---") || sh.pending.ends_with("admin@j1> ") {
                    break;
                }
                match sh.channel.wait().await {
                    Some(russh::ChannelMsg::Data { data }) => {
                        sh.pending.push_str(&String::from_utf8_lossy(&data))
                    }
                    Some(_) => {}
                    None => panic!("closed"),
                }
            }
        })
        .await
        .expect("page");
        pages += 1;
        if std::mem::take(&mut sh.pending).ends_with("admin@j1> ") {
            break;
        }
    }
    assert!(pages >= 4, "{pages} pages");
}

#[tokio::test]
async fn enable_with_right_and_wrong_secret() {
    let mut device = spec(Platform::CiscoIos, "r1");
    device.enable_secret = Some("En4ble".into());
    let mut eos = spec(Platform::AristaEos, "e1");
    eos.enable_secret = Some("En4ble".into());
    let sim = start(vec![device, eos]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("r1>").await;
    sh.cmd("terminal length 0", "r1>").await;
    let denied = sh.cmd("show running-config", "r1>").await;
    assert!(denied.contains("% Invalid input detected at '^' marker."));
    sh.send("enable\r").await;
    sh.until_end("Password: ").await;
    for _ in 0..2 {
        sh.send("wrong\r").await;
        let again = sh.until_end("Password: ").await;
        assert!(!again.contains("wrong"), "secrets are not echoed");
    }
    sh.send("wrong\r").await;
    let failed = sh.until_end("r1>").await;
    assert!(failed.contains("% Bad secrets"), "{failed:?}");
    sh.send("enable\r").await;
    sh.until_end("Password: ").await;
    sh.send("En4ble\r").await;
    sh.until_end("r1#").await;
    assert!(
        sh.cmd("show running-config", "r1#")
            .await
            .contains("hostname r1")
    );
    sh.cmd("disable", "r1>").await;

    let mut sh = Shell::start(&sim, 1, "admin", "secret").await;
    sh.until_end("e1>").await;
    sh.send("enable\r").await;
    sh.until_end("Password: ").await;
    sh.send("nope\r").await;
    let failed = sh.until_end("e1>").await;
    assert!(failed.contains("% Access denied"), "{failed:?}");
    sim.set_enable_secret(1, None);
    let mut sh = Shell::start(&sim, 1, "admin", "secret").await;
    sh.until_end("e1#").await;
}

#[tokio::test]
async fn config_changes_show_up_in_the_next_read() {
    let sim = start(vec![
        spec(Platform::CiscoIos, "r1"),
        spec(Platform::JuniperJunos, "j1"),
    ])
    .await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("r1#").await;
    sh.cmd("terminal length 0", "r1#").await;
    let before = sh.cmd("show running-config", "r1#").await;
    assert!(!before.contains("snmp-server location lab-42"));
    sim.change_config(0, "snmp-server location lab-42");
    let after = sh.cmd("show running-config", "r1#").await;
    assert!(after.contains("\r\nsnmp-server location lab-42\r\n"));
    // Configuration mode appends typed lines too.
    let message = sh.cmd("configure terminal", "r1(config)#").await;
    assert_eq!(
        message,
        "Enter configuration commands, one per line.  End with CNTL/Z.\r\n"
    );
    sh.cmd("interface Loopback7", "r1(config-if)#").await;
    sh.cmd("description added in config mode", "r1(config-if)#")
        .await;
    sh.cmd("end", "r1#").await;
    let all = sh.cmd("show running-config", "r1#").await;
    assert!(all.contains("interface Loopback7\r\n description added in config mode\r\n"));
    let filtered = sh
        .cmd("show running-config | include added in", "r1#")
        .await;
    assert_eq!(filtered, " description added in config mode\r\n");

    let mut j = Shell::start(&sim, 1, "admin", "secret").await;
    j.until_end("admin@j1> ").await;
    j.cmd("set cli screen-length 0", "admin@j1> ").await;
    j.cmd("configure", "admin@j1# ").await;
    j.cmd("set snmp location lab-7", "admin@j1# ").await;
    let committed = j.cmd("commit and-quit", "admin@j1> ").await;
    assert_eq!(
        committed,
        "commit complete\r\nExiting configuration mode\r\n\r\n"
    );
    let set = j
        .cmd(
            "show configuration | display set | match location",
            "admin@j1> ",
        )
        .await;
    assert!(set.contains("set snmp location lab-7\r\n"), "{set}");
    let curly = j.cmd("show configuration", "admin@j1> ").await;
    assert!(curly.contains("\r\nsnmp {\r\n"));
    assert!(curly.contains("\r\n    location lab-7;\r\n"), "{curly}");
    assert!(curly.contains("## SECRET-DATA"));
}

#[tokio::test]
async fn volatile_lines_change_between_reads() {
    let sim = start(vec![
        spec(Platform::CiscoIos, "r1"),
        spec(Platform::FortinetFortios, "fw"),
    ])
    .await;
    let handle = login(sim.devices()[0].addr, "admin", "secret").await;
    let (a, status) = exec(&handle, "show running-config").await;
    let (b, _) = exec(&handle, "show running-config").await;
    assert_eq!(status, Some(0));
    assert_ne!(a, b);
    let stable = |s: &str| {
        s.lines()
            .filter(|l| {
                !l.starts_with("ntp clock-period")
                    && !l.starts_with("! Last")
                    && !l.starts_with("! NVRAM")
            })
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(stable(&a), stable(&b), "only the volatile lines differ");
    let handle = login(sim.devices()[1].addr, "admin", "secret").await;
    let (a, _) = exec(&handle, "show full-configuration").await;
    let (b, _) = exec(&handle, "show full-configuration").await;
    let enc = |s: &str| {
        s.lines()
            .filter(|l| l.contains(" ENC "))
            .map(str::to_string)
            .collect::<Vec<_>>()
    };
    assert_eq!(enc(&a).len(), 9);
    assert!(
        enc(&a).iter().zip(enc(&b)).all(|(x, y)| *x != y),
        "ENC values are re-salted"
    );
    assert!(a.starts_with("#config-version=FGT60F-7.2.5-FW-build1517-230606:opmode=0:vdom=0:user=admin\r\n#conf_file_ver="));
}

#[tokio::test]
async fn exec_channel_runs_one_command() {
    let sim = start(vec![
        spec(Platform::AristaEos, "e1"),
        spec(Platform::Linux, "l1"),
    ])
    .await;
    let handle = login(sim.devices()[0].addr, "admin", "secret").await;
    let (output, status) = exec(&handle, "show version").await;
    assert!(output.starts_with("Arista DCS-7050TX-64-R\r\n"), "{output}");
    assert_eq!(status, Some(0));
    let handle = login(sim.devices()[1].addr, "admin", "secret").await;
    let (output, status) = exec(&handle, "cat /etc/os-release").await;
    assert!(output.contains("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nNAME="));
    assert_eq!(status, Some(0));
    let (output, status) = exec(&handle, "frobnicate").await;
    assert_eq!(output, "bash: frobnicate: command not found\n");
    assert_eq!(status, Some(127));
}

#[tokio::test]
async fn configuration_push_over_ssh() {
    let mut ios = spec(Platform::CiscoIos, "r1");
    ios.command_latency = Duration::from_millis(100);
    let sim = start(vec![ios, spec(Platform::HuaweiVrp, "h1")]).await;
    let mut sh = Shell::start(&sim, 0, "admin", "secret").await;
    sh.until_end("r1#").await;
    sh.cmd("configure terminal", "r1(config)#").await;
    // Every line in configuration mode costs the latency once, empty lines included.
    let started = Instant::now();
    sh.cmd("interface Loopback42", "r1(config-if)#").await;
    sh.cmd("description pushed over ssh", "r1(config-if)#")
        .await;
    sh.cmd("", "r1(config-if)#").await;
    assert!(started.elapsed() >= Duration::from_millis(300));
    let error = sh.cmd("frobnicate 1", "r1(config-if)#").await;
    assert_eq!(
        error,
        "              ^\r\n% Invalid input detected at '^' marker.\r\n"
    );
    sh.send("\x1a").await;
    assert_eq!(sh.until_end("r1#").await, "^Z\r\nr1#");
    // The question has no newline after it; Enter answers it.
    assert_eq!(
        sh.cmd("copy running-config startup-config", "]? ").await,
        "Destination filename [startup-config"
    );
    assert_eq!(
        sh.cmd("", "r1#").await,
        "Building configuration...\r\n[OK]\r\n"
    );
    assert_eq!(sim.saves(0), 1);
    let handle = login(sim.devices()[0].addr, "admin", "secret").await;
    let (config, status) = exec(&handle, "show running-config").await;
    assert_eq!(status, Some(0));
    assert!(config.contains("\r\ninterface Loopback42\r\n description pushed over ssh\r\n"));
    assert!(!config.contains("frobnicate"));

    let mut h = Shell::start(&sim, 1, "admin", "secret").await;
    h.until_end("<h1>").await;
    h.cmd("system-view", "[~h1]").await;
    h.cmd("snmp-agent sys-info location lab-42", "[*h1]").await;
    let question = h.cmd("return", "[Y(yes)/N(no)/C(cancel)]:").await;
    assert!(question.starts_with("Warning: Uncommitted configurations found."));
    h.cmd("y", "<h1>").await;
    h.cmd("save", "Continue? [Y/N]:").await;
    let saved = h.cmd("y", "<h1>").await;
    assert_eq!(saved, "Info: Save the configuration successfully.\r\n");
    assert_eq!(sim.saves(1), 1);
    let config = h
        .cmd("display current-configuration | include lab-42", "<h1>")
        .await;
    assert_eq!(config, "snmp-agent sys-info location lab-42\r\n");
}
