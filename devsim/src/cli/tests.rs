//! Unit tests of the CLI: they drive [`Cli::execute`] directly, one platform dialect at a time.

use super::*;
use crate::spec::DeviceSpec;

fn cli(platform: Platform, secret: Option<&str>) -> Cli {
    let mut spec = DeviceSpec::new(platform, "r1", "admin", "pw");
    spec.enable_secret = secret.map(str::to_string);
    spec.config_lines = 60;
    let device = Arc::new(Device::new(spec).expect("device"));
    Cli::new(device, "admin", true)
}

#[test]
fn ios_errors_and_modes() {
    let mut c = cli(Platform::CiscoIos, Some("s3"));
    assert_eq!(c.prompt(), "r1>");
    let r = c.execute("show foo");
    assert_eq!(
        r.text,
        "        ^\n% Invalid input detected at '^' marker.\n"
    );
    let r = c.execute("show running-config");
    assert!(r.text.contains('^'));
    assert_eq!(c.execute("enable").after, After::AskEnableSecret);
    assert!(!c.try_enable("nope"));
    assert!(c.try_enable("s3"));
    assert_eq!(c.prompt(), "r1#");
    c.execute("conf t");
    assert_eq!(c.prompt(), "r1(config)#");
    c.execute("interface Loopback99");
    assert_eq!(c.prompt(), "r1(config-if)#");
    c.execute("description added-by-test");
    c.execute("end");
    assert_eq!(c.prompt(), "r1#");
    let config = c.execute("sh run | include added-by-test").text;
    assert_eq!(config, " description added-by-test\n");
}

#[test]
fn other_dialects() {
    let mut j = cli(Platform::JuniperJunos, None);
    assert_eq!(j.prompt(), "admin@r1> ");
    assert!(j.execute("foo").text.ends_with("^\nunknown command.\n"));
    assert!(
        j.execute("show foo")
            .text
            .ends_with("syntax error, expecting <command>.\n")
    );
    assert_eq!(
        j.execute("set cli screen-length 0").text,
        "Screen length set to 0\n"
    );
    assert!(j.pager().is_none());
    let mut m = cli(Platform::MikrotikRouteros, None);
    assert_eq!(
        m.execute("/foo").text,
        "bad command name foo (line 1 column 2)\n"
    );
    assert!(
        m.execute("/system/resource/print")
            .text
            .contains("board-name: CCR2004")
    );
    let mut f = cli(Platform::FortinetFortios, None);
    f.execute("config system console");
    assert_eq!(f.prompt(), "r1 (console) # ");
    f.execute("set output standard");
    f.execute("end");
    assert!(f.pager().is_none());
    let mut l = cli(Platform::Linux, None);
    assert_eq!(l.execute("foo").text, "bash: foo: command not found\n");
    assert_eq!(l.execute("exit").after, After::Close);
    let mut h = cli(Platform::HuaweiVrp, None);
    assert!(
        h.execute("dis foo")
            .text
            .ends_with("^\nError: Unrecognized command found at '^' position.\n")
    );
    assert!(h.execute("dis cur").config);
    let _ = h.render_config(ConfigView::Native);
}

/// The configuration as the config command prints it.
fn config(c: &Cli) -> String {
    c.render_config(ConfigView::Native)
}

fn saves(c: &Cli) -> usize {
    c.device.saves()
}

/// Runs lines that must succeed silently.
fn quiet(c: &mut Cli, lines: &[&str]) {
    for line in lines {
        let r = c.execute(line);
        assert_eq!((r.text.as_str(), r.status), ("", 0), "{line:?}");
    }
}

#[test]
fn ios_style_config_mode_rejects_unknown_lines_and_saves() {
    struct Case {
        platform: Platform,
        configure: &'static str,
        error: &'static str,
        save: &'static str,
        saved: &'static str,
    }
    let case = |platform, configure, error, save, saved| Case {
        platform,
        configure,
        error,
        save,
        saved,
    };
    let cases = [
        case(
            Platform::CiscoIos,
            "conf t",
            "              ^\n% Invalid input detected at '^' marker.\n",
            "wr mem",
            "Building configuration...\n[OK]\n",
        ),
        case(
            Platform::CiscoNxos,
            "configure terminal",
            "               ^\n% Invalid command at '^' marker.\n",
            "copy running-config startup-config",
            "[########################################] 100%\nCopy complete.\n",
        ),
        case(
            Platform::AristaEos,
            "configure",
            "% Invalid input (at token 0: 'frobnicate')\n",
            "write",
            "Copy completed successfully.\n",
        ),
        case(
            Platform::HpProcurve,
            "configure",
            "Invalid input: frobnicate\n",
            "write memory",
            "",
        ),
        case(
            Platform::ArubaAoscx,
            "configure terminal",
            "Invalid input: frobnicate\n",
            "write mem",
            "Configuration changes will take time to process, please be patient.\n",
        ),
        case(
            Platform::DellOs10,
            "configure terminal",
            "% Error: Unrecognized command.\n",
            "copy running-configuration startup-configuration",
            "",
        ),
        case(
            Platform::BrocadeFastiron,
            "configure terminal",
            "Invalid input -> frobnicate\nType ? for a list\n",
            "write memory",
            "Write startup-config done.\n",
        ),
    ];
    for case in cases {
        let p = case.platform;
        let mut c = cli(p, None);
        c.execute(case.configure);
        assert!(c.in_config_mode(), "{p}");
        quiet(&mut c, &["int Loopback99", "description pushed-by-test"]);
        let r = c.execute("frobnicate 1");
        assert_eq!((r.text.as_str(), r.status), (case.error, 1), "{p}");
        assert!(c.execute("no frobnicate").status == 1, "{p}");
        quiet(&mut c, &["exit"]);
        assert_eq!(
            c.execute("frobnicate 1").status,
            1,
            "{p}: rejected at the top too"
        );
        quiet(&mut c, &["snmp-server location lab", "end"]);
        assert!(!c.in_config_mode(), "{p}");
        let text = config(&c);
        assert!(text.contains("int Loopback99\n"), "{p}: {text}");
        assert!(text.contains("description pushed-by-test\n"), "{p}");
        assert!(text.contains("\nsnmp-server location lab\n"), "{p}");
        assert!(!text.contains("frobnicate"), "{p}");
        assert_eq!(saves(&c), 0, "{p}");
        assert_eq!(c.execute(case.save).text, case.saved, "{p}");
        assert_eq!(saves(&c), 1, "{p}");
        assert_eq!(config(&c).lines().count(), text.lines().count(), "{p}");
    }
}

#[test]
fn ios_copy_asks_for_the_destination() {
    let mut c = cli(Platform::CiscoIos, None);
    assert_eq!(c.execute("copy run start").text, "");
    assert_eq!(c.prompt(), "Destination filename [startup-config]? ");
    assert!(c.takes_empty_lines());
    assert_eq!(c.execute("").text, "Building configuration...\n[OK]\n");
    assert_eq!((c.prompt().as_str(), saves(&c)), ("r1#", 1));
    // Ctrl-C abandons the question.
    c.execute("copy running-config startup-config");
    c.interrupt();
    assert_eq!((c.prompt().as_str(), saves(&c)), ("r1#", 1));
    // `do` saves from configuration mode too.
    c.execute("conf t");
    c.execute("do write");
    assert_eq!((c.prompt().as_str(), saves(&c)), ("r1(config)#", 2));
}

#[test]
fn asa_writes_memory_with_its_checksum() {
    let mut c = cli(Platform::CiscoAsa, None);
    c.execute("configure terminal");
    assert!(
        c.execute("frobnicate 1")
            .text
            .ends_with("^\nERROR: % Invalid input detected at '^' marker.\n")
    );
    quiet(&mut c, &["object network WEB1", "host 10.1.1.1", "end"]);
    assert!(config(&c).contains("\nobject network WEB1\n host 10.1.1.1\n"));
    let text = c.execute("write memory").text;
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Building configuration...");
    let groups: Vec<&str> = lines[1]
        .trim_start_matches("Cryptochecksum: ")
        .split(' ')
        .collect();
    assert_eq!(groups.len(), 4, "{text}");
    assert!(
        groups
            .iter()
            .all(|g| g.len() == 8 && g.chars().all(|c| c.is_ascii_hexdigit()))
    );
    assert_eq!(&lines[2..], ["", "[OK]"]);
    assert_eq!(saves(&c), 1);
}

#[test]
fn dell_os6_asks_before_saving() {
    let mut c = cli(Platform::DellOs6, None);
    c.execute("configure");
    assert!(
        c.execute("frobnicate 1")
            .text
            .ends_with("^\n% Invalid input detected at '^' marker.\n")
    );
    quiet(&mut c, &["vlan 99", "name pushed", "exit"]);
    c.execute("do write memory");
    assert_eq!(
        c.prompt(),
        "This operation may take a few minutes.\nManagement interfaces will not be available \
         during this time.\n\nAre you sure you want to save? (y/n) "
    );
    assert_eq!(c.execute("n").text, "Configuration Not Saved!\n");
    assert_eq!((c.prompt().as_str(), saves(&c)), ("r1(config)#", 0));
    c.execute("end");
    c.execute("copy running-config startup-config");
    assert_eq!(c.execute("y").text, "Configuration Saved!\n");
    assert_eq!((c.prompt().as_str(), saves(&c)), ("r1#", 1));
    assert!(config(&c).contains("\nvlan 99\nname pushed\n"));
}

#[test]
fn iosxr_commits_its_candidate() {
    let mut c = cli(Platform::CiscoIosxr, None);
    c.execute("conf t");
    assert_eq!(c.prompt(), "RP/0/RSP0/CPU0:r1(config)#");
    quiet(&mut c, &["interface Loopback99"]);
    assert_eq!(c.prompt(), "RP/0/RSP0/CPU0:r1(config-if)#");
    quiet(&mut c, &["description pushed-by-test"]);
    assert_eq!(
        c.execute("frobnicate 1").text,
        format!(
            "{}^\n% Invalid input detected at '^' marker.\n",
            " ".repeat(29)
        )
    );
    quiet(&mut c, &["exit", "router bgp 65000"]);
    assert_eq!(c.prompt(), "RP/0/RSP0/CPU0:r1(config-bgp)#");
    c.execute("exit");
    assert!(!config(&c).contains("pushed-by-test"), "not before commit");
    assert!(
        c.execute("show configuration")
            .text
            .contains("\n description pushed-by-test\n")
    );
    quiet(&mut c, &["commit"]);
    assert_eq!(saves(&c), 1);
    assert!(
        config(&c)
            .contains("\ninterface Loopback99\n description pushed-by-test\nrouter bgp 65000\n")
    );
    assert_eq!(
        c.execute("commit").text,
        "% No configuration changes to commit.\n"
    );
    quiet(&mut c, &["end"]);
    assert_eq!(c.prompt(), "RP/0/RSP0/CPU0:r1#");
    // Leaving with uncommitted changes asks first.
    quiet(&mut c, &["configure", "ntp server 192.0.2.9", "end"]);
    assert_eq!(
        c.prompt(),
        "Uncommitted changes found, commit them before exiting(yes/no/cancel)? [cancel]:"
    );
    quiet(&mut c, &[""]);
    assert_eq!(c.prompt(), "RP/0/RSP0/CPU0:r1(config)#");
    quiet(&mut c, &["exit", "no"]);
    assert_eq!(c.prompt(), "RP/0/RSP0/CPU0:r1#");
    assert!(!config(&c).contains("ntp server 192.0.2.9"));
    quiet(&mut c, &["configure", "ntp server 192.0.2.9", "end", "yes"]);
    assert!(config(&c).contains("\nntp server 192.0.2.9\nend\n"));
    quiet(&mut c, &["configure", "ntp server 192.0.2.10", "abort"]);
    assert_eq!((c.prompt().as_str(), saves(&c)), ("RP/0/RSP0/CPU0:r1#", 2));
    assert!(!config(&c).contains("192.0.2.10"));
}

#[test]
fn huawei_two_stage_commit_and_save() {
    let mut c = cli(Platform::HuaweiVrp, None);
    assert_eq!(
        c.execute("sys").text,
        "Enter system view, return user view with return command.\n"
    );
    assert_eq!(c.prompt(), "[~r1]");
    quiet(&mut c, &["interface 10GE1/0/9"]);
    assert_eq!(c.prompt(), "[*r1-10GE1/0/9]");
    quiet(&mut c, &["description pushed-by-test"]);
    assert_eq!(
        c.execute("frobnicate 1").text,
        format!(
            "{}^\nError: Unrecognized command found at '^' position.\n",
            " ".repeat(15)
        )
    );
    quiet(&mut c, &["quit"]);
    assert_eq!(c.prompt(), "[*r1]");
    assert!(!config(&c).contains("pushed-by-test"));
    quiet(&mut c, &["commit"]);
    assert_eq!(c.prompt(), "[~r1]");
    assert!(config(&c).contains("\ninterface 10GE1/0/9\n description pushed-by-test\nreturn\n"));
    assert!(c.execute("dis cur").config);
    // Leaving with uncommitted changes asks first: C stays, N discards.
    quiet(&mut c, &["vlan 99", "return"]);
    assert_eq!(
        c.prompt(),
        "Warning: Uncommitted configurations found. Are you sure to commit them before exiting? \
         [Y(yes)/N(no)/C(cancel)]:"
    );
    quiet(&mut c, &["c"]);
    assert_eq!(c.prompt(), "[*r1-vlan99]");
    quiet(&mut c, &["quit", "quit", "n"]);
    assert_eq!(c.prompt(), "<r1>");
    assert!(!config(&c).contains("vlan 99"));
    c.execute("system-view");
    quiet(
        &mut c,
        &["undo interface 10GE1/0/9", "clear configuration candidate"],
    );
    assert_eq!(c.prompt(), "[~r1]");
    quiet(&mut c, &["sysname core-9", "quit", "y"]);
    assert!(config(&c).contains("\nsysname core-9\nreturn\n"));
    assert_eq!(saves(&c), 0, "commit is not a save");
    c.execute("save");
    assert_eq!(
        c.prompt(),
        "Warning: The current configuration will be written to the device. Continue? [Y/N]:"
    );
    assert_eq!(
        c.execute("y").text,
        "Info: Save the configuration successfully.\n"
    );
    assert_eq!((c.prompt().as_str(), saves(&c)), ("<r1>", 1));
}

#[test]
fn junos_rejects_unknown_hierarchies_and_deletes_at_commit() {
    let mut j = cli(Platform::JuniperJunos, None);
    j.execute("configure");
    assert_eq!(j.prompt(), "[edit]\nadmin@r1# ");
    quiet(
        &mut j,
        &["set system location building-9", "set snmp location lab-9"],
    );
    assert_eq!(
        j.execute("set frobnicate 1").text,
        format!("{}^\nsyntax error.\n", " ".repeat(14))
    );
    assert_eq!(
        j.execute("show | compare").text,
        "[edit]\n+ set system location building-9\n+ set snmp location lab-9\n"
    );
    assert_eq!(j.execute("rollback 0").text, "load complete\n");
    assert_eq!(j.execute("show | compare").text, "");
    quiet(
        &mut j,
        &["set system location building-9", "set snmp location lab-9"],
    );
    assert_eq!(j.execute("commit").text, "commit complete\n");
    assert_eq!(saves(&j), 1);
    let set = j.render_config(ConfigView::SetCommands);
    assert!(set.contains("\nset snmp location lab-9\n"), "{set}");
    assert!(!set.contains("frobnicate"));
    quiet(&mut j, &["delete snmp location"]);
    assert!(
        j.render_config(ConfigView::SetCommands)
            .contains("set snmp location lab-9")
    );
    j.execute("commit and-quit");
    let set = j.render_config(ConfigView::SetCommands);
    assert!(!set.contains("lab-9"));
    assert!(set.contains("set system location building-9"));
    assert_eq!((j.prompt().as_str(), saves(&j)), ("admin@r1> ", 2));
}

#[test]
fn panos_commits_set_lines() {
    let mut p = cli(Platform::PaloaltoPanos, None);
    assert_eq!(p.execute("configure").text, "Entering configuration mode\n");
    assert_eq!(p.prompt(), "[edit]\nadmin@r1# ");
    quiet(&mut p, &["set address WEB-9 ip-netmask 10.9.9.9/32"]);
    assert_eq!(p.execute("set frobnicate 1").text, "Invalid syntax.\n");
    assert_eq!(
        p.execute("frobnicate 1").text,
        "Unknown command: frobnicate\n"
    );
    assert!(!config(&p).contains("WEB-9"));
    assert_eq!(
        p.execute("commit").text,
        "Commit job 42 is in progress. Use Ctrl+C to return to command prompt\n\
         ..........55%....98%.......100%\nConfiguration committed successfully\n"
    );
    assert_eq!(saves(&p), 1);
    assert!(config(&p).contains("        address WEB-9 ip-netmask 10.9.9.9/32;\n"));
    quiet(&mut p, &["set tag pushed"]);
    assert_eq!(
        p.execute("revert config").text,
        "Candidate configuration reverted\n"
    );
    p.execute("commit");
    assert!(!config(&p).contains("tag pushed"));
    assert_eq!(p.execute("exit").text, "Exiting configuration mode\n");
    assert_eq!(p.prompt(), "admin@r1> ");
}

#[test]
fn fortios_config_blocks_apply_at_end() {
    let mut f = cli(Platform::FortinetFortios, None);
    quiet(&mut f, &["config firewall address", "edit \"WEB-9\""]);
    assert_eq!(f.prompt(), "r1 (WEB-9) # ");
    quiet(&mut f, &["set subnet 10.9.9.9 255.255.255.255", "next"]);
    assert_eq!(f.prompt(), "r1 (address) # ");
    assert_eq!(
        f.execute("frobnicate 1").text,
        "command parse error before 'frobnicate'\nCommand fail. Return code -61\n"
    );
    quiet(&mut f, &["edit 7", "set comment \"seven\"", "end"]);
    assert_eq!(f.prompt(), "r1 # ");
    assert!(config(&f).ends_with(
        "end\nconfig firewall address\n    edit \"WEB-9\"\n        set subnet 10.9.9.9 255.255.255.255\n    next\n    edit 7\n        set comment \"seven\"\n    next\nend\n"
    ));
    assert_eq!(saves(&f), 1);
    quiet(
        &mut f,
        &["config system global", "set hostname fw-9", "abort"],
    );
    assert!(!config(&f).contains("fw-9"));
    assert_eq!(saves(&f), 1);
}

#[test]
fn routeros_changes_apply_at_once() {
    let mut m = cli(Platform::MikrotikRouteros, None);
    m.colour = false;
    quiet(
        &mut m,
        &[
            "/ip address add address=10.9.9.1/24 interface=ether1",
            "/ip/address/add address=10.9.8.1/24 interface=ether2 comment=\"two words\"",
        ],
    );
    assert!(config(&m).ends_with(
        "\n/ip address\nadd address=10.9.9.1/24 interface=ether1\nadd address=10.9.8.1/24 \
         interface=ether2 comment=\"two words\"\n"
    ));
    assert_eq!(
        m.execute("/ip frobnicate add x=1").text,
        "bad command name frobnicate (line 1 column 5)\n"
    );
    assert_eq!(
        m.execute("/ip address add address=10.9.7.1/24 bogus").text,
        "expected end of command (line 1 column 37)\n"
    );
    quiet(
        &mut m,
        &[
            "/ip address remove [find address=\"10.9.8.1/24\"]",
            "/system identity set name=core-9",
        ],
    );
    let text = config(&m);
    assert!(!text.contains("10.9.8.1") && !text.contains("10.9.7.1"));
    assert!(
        text.ends_with("\n/system identity\nset name=core-9\n"),
        "{text}"
    );
    assert_eq!(saves(&m), 4);
    assert!(m.execute("/system resource print").text.contains("uptime"));
}

#[test]
fn frr_vtysh_configures_and_writes() {
    let mut l = cli(Platform::Linux, None);
    assert_eq!(
        l.execute("vtysh").text,
        "\nHello, this is FRRouting (version 8.4.4).\nCopyright 1996-2005 Kunihiro Ishiguro, et al.\n\n"
    );
    assert_eq!(l.prompt(), "r1# ");
    quiet(&mut l, &["conf t"]);
    assert_eq!(l.prompt(), "r1(config)# ");
    quiet(&mut l, &["router bgp 65009"]);
    assert_eq!(l.prompt(), "r1(config-router)# ");
    quiet(&mut l, &["neighbor 192.0.2.9 remote-as 65010"]);
    assert_eq!(
        l.execute("frobnicate 1").text,
        "% Unknown command: frobnicate 1\n"
    );
    quiet(&mut l, &["exit", "interface ens9"]);
    assert_eq!(l.prompt(), "r1(config-if)# ");
    quiet(&mut l, &["end"]);
    assert_eq!(l.prompt(), "r1# ");
    assert_eq!(
        l.execute("wr").text,
        "Note: this version of vtysh never writes vtysh.conf\nBuilding Configuration...\n\
         Integrated configuration saved to /etc/frr/frr.conf\n[OK]\n"
    );
    assert_eq!(saves(&l), 1);
    assert_eq!(
        l.execute("frobnicate").text,
        "% Unknown command: frobnicate\n"
    );
    assert!(l.execute("show running-config").config);
    quiet(&mut l, &["exit"]);
    assert_eq!(l.prompt(), "admin@r1:~$ ");
    // The way scripts save: one vtysh command from bash.
    assert!(
        l.execute("vtysh -c 'write memory'")
            .text
            .ends_with("[OK]\n")
    );
    assert_eq!((l.prompt().as_str(), saves(&l)), ("admin@r1:~$ ", 2));
    quiet(
        &mut l,
        &["vtysh -c \"conf t\" -c 'ip route 192.0.2.0/24 null0'"],
    );
    assert_eq!(l.execute("vtysh -c frob").text, "% Unknown command: frob\n");
    assert_eq!(l.execute("vtysh -x").status, 1);
    let text = l.execute("cat /etc/frr/frr.conf").text;
    assert!(
        text.ends_with(
            "router bgp 65009\n neighbor 192.0.2.9 remote-as 65010\ninterface ens9\n\
             ip route 192.0.2.0/24 null0\nend\n"
        ),
        "{text}"
    );
    assert!(!text.contains("frobnicate"));
}
