//! Every platform's mask filter against the secret forms its configurations carry, above all the
//! ones whose value follows a second keyword (`pre-shared-key address X key V`, SNMPv3
//! `auth sha A priv aes 128 P`, `password encrypted V`): masking the word after the first keyword
//! there leaves the secret readable to viewers and to search.

use super::profile;
use super::scrub::{MASK_MARKER, mask};

/// A configuration excerpt, the secret values that must be gone after masking, and the text
/// around them that must survive. No secrets means the excerpt must come through unchanged.
struct Case {
    text: &'static str,
    secrets: &'static [&'static str],
    kept: &'static [&'static str],
}

const fn case(
    text: &'static str,
    secrets: &'static [&'static str],
    kept: &'static [&'static str],
) -> Case {
    Case {
        text,
        secrets,
        kept,
    }
}

/// Lines that hold no secret, however close they come to one.
const fn plain(text: &'static str) -> Case {
    case(text, &[], &[])
}

fn cases(platform: &str) -> &'static [Case] {
    match platform {
        "cisco_ios" => CISCO_IOS,
        "cisco_nxos" => CISCO_NXOS,
        "cisco_iosxr" => CISCO_IOSXR,
        "cisco_asa" => CISCO_ASA,
        "arista_eos" => ARISTA_EOS,
        "juniper_junos" => JUNIPER_JUNOS,
        "hp_procurve" => HP_PROCURVE,
        "aruba_aoscx" => ARUBA_AOSCX,
        "brocade_fastiron" => BROCADE_FASTIRON,
        "dell_os10" => DELL_OS10,
        "dell_os6" => DELL_OS6,
        "fortinet_fortios" => FORTINET_FORTIOS,
        "paloalto_panos" => PALOALTO_PANOS,
        "huawei_vrp" => HUAWEI_VRP,
        "linux" => LINUX,
        "mikrotik_routeros" => MIKROTIK_ROUTEROS,
        _ => &[],
    }
}

const CISCO_IOS: &[Case] = &[
    case("enable secret 9 $9$abc", &["$9$abc"], &["enable secret 9 "]),
    case(
        "username admin privilege 15 secret 9 $9$def",
        &["$9$def"],
        &["username admin privilege 15 secret 9 "],
    ),
    case(
        "username netops privilege 15 password 7 N3tOpsIos",
        &["N3tOpsIos"],
        &["username netops privilege 15 password 7 "],
    ),
    case(
        "snmp-server community S3cr3tCommunity RO SNMP-RO",
        &["S3cr3tCommunity"],
        &["snmp-server community ", " RO SNMP-RO"],
    ),
    case(
        "crypto isakmp key MyPreSharedKey address 0.0.0.0",
        &["MyPreSharedKey"],
        &["crypto isakmp key ", " address 0.0.0.0"],
    ),
    case(
        "crypto keyring KR-BRANCH\n  pre-shared-key address 198.51.100.7 key Br4nchPsk",
        &["Br4nchPsk"],
        &["crypto keyring KR-BRANCH\n  pre-shared-key address 198.51.100.7 key "],
    ),
    case(
        "  pre-shared-key address 198.51.100.0 255.255.255.0 key 6 Br4nchNetPsk",
        &["Br4nchNetPsk"],
        &["  pre-shared-key address 198.51.100.0 255.255.255.0 key 6 "],
    ),
    case(
        "  pre-shared-key hostname branch2.example.net key Br4nchHostPsk",
        &["Br4nchHostPsk"],
        &["  pre-shared-key hostname branch2.example.net key "],
    ),
    case(
        "crypto ikev2 keyring IK2-KR\n peer HQ\n  address 198.51.100.9\n  pre-shared-key local Ik2LocalPsk\n  pre-shared-key remote 6 Ik2RemotePsk\n  pre-shared-key Ik2BothPsk",
        &["Ik2LocalPsk", "Ik2RemotePsk", "Ik2BothPsk"],
        &[
            "  address 198.51.100.9\n",
            "  pre-shared-key local ",
            "  pre-shared-key remote 6 ",
        ],
    ),
    case(
        "crypto ikev2 profile IK2-PROF\n authentication remote pre-share key Ik2ProfRemote\n authentication local pre-share key 6 Ik2ProfLocal",
        &["Ik2ProfRemote", "Ik2ProfLocal"],
        &[
            " authentication remote pre-share key ",
            " authentication local pre-share key 6 ",
        ],
    ),
    case(
        "snmp-server user netops-v3 NETOPS-V3 v3 auth sha AuthPassV3x priv aes 128 PrivPassV3x",
        &["AuthPassV3x", "PrivPassV3x"],
        &[
            "snmp-server user netops-v3 NETOPS-V3 v3 auth sha ",
            " priv aes 128 ",
        ],
    ),
    case(
        "snmp-server user mon MON-V3 v3 encrypted auth md5 AuthMd5V3x priv des PrivDesV3x access SNMP-RO",
        &["AuthMd5V3x", "PrivDesV3x"],
        &[
            "snmp-server user mon MON-V3 v3 encrypted auth md5 ",
            " priv des ",
            " access SNMP-RO",
        ],
    ),
    case(
        "snmp-server host 10.0.0.51 version 2c Tr4pC0mmV2",
        &["Tr4pC0mmV2"],
        &["snmp-server host 10.0.0.51 version 2c "],
    ),
    case(
        "snmp-server host 10.0.0.52 informs Tr4pC0mmV1 udp-port 162 config snmp",
        &["Tr4pC0mmV1"],
        &[
            "snmp-server host 10.0.0.52 informs ",
            " udp-port 162 config snmp",
        ],
    ),
    plain("snmp-server host 10.0.0.53 version 3 priv netops-v3"),
    plain("snmp-server group NETOPS-V3 v3 priv read V1 write V1"),
    case(
        "ntp authentication-key 1 md5 NtpMd5K3y 7",
        &["NtpMd5K3y"],
        &["ntp authentication-key 1 md5 ", " 7"],
    ),
    case(
        "tacacs-server host 10.0.0.49 key 7 T4cHostK3y",
        &["T4cHostK3y"],
        &["tacacs-server host 10.0.0.49 key 7 "],
    ),
    case(
        "tacacs-server key 7 0822455D0A16",
        &["0822455D0A16"],
        &["tacacs-server key 7 "],
    ),
    case(
        "radius-server host 10.0.1.49 auth-port 1812 acct-port 1813 key R4dHostK3y",
        &["R4dHostK3y"],
        &["radius-server host 10.0.1.49 auth-port 1812 acct-port 1813 key "],
    ),
    case(
        "tacacs server ISE-1\n address ipv4 10.0.0.49\n key T4cPlainK3y\ntacacs server ISE-2\n address ipv4 10.0.1.49\n key 7 T4cTypedK3y\n!",
        &["T4cPlainK3y", "T4cTypedK3y"],
        &[
            "tacacs server ISE-1\n address ipv4 10.0.0.49\n key ",
            "tacacs server ISE-2\n address ipv4 10.0.1.49\n key 7 ",
        ],
    ),
    case(
        "radius server ISE\n address ipv4 10.0.0.49 auth-port 1812 acct-port 1813\n pac key 7 R4dPacK3y",
        &["R4dPacK3y"],
        &[" address ipv4 10.0.0.49 auth-port 1812 acct-port 1813\n pac key 7 "],
    ),
    case(
        "key chain OSPF-KEYS\n key 1\n  key-string 7 KeyStr1os",
        &["KeyStr1os"],
        &["key chain OSPF-KEYS\n key 1\n  key-string 7 "],
    ),
    case(
        "interface Vlan10\n ip ospf message-digest-key 1 md5 7 OspfMd5Ios\n ip ospf authentication-key 7 OspfAuthIos",
        &["OspfMd5Ios", "OspfAuthIos"],
        &[
            " ip ospf message-digest-key 1 md5 7 ",
            " ip ospf authentication-key 7 ",
        ],
    ),
    case(
        " area 1 virtual-link 10.255.0.2 message-digest-key 1 md5 OspfVlinkIos",
        &["OspfVlinkIos"],
        &[" area 1 virtual-link 10.255.0.2 message-digest-key 1 md5 "],
    ),
    case(
        " neighbor 172.16.1.2 password 7 BgpPeerIos",
        &["BgpPeerIos"],
        &[" neighbor 172.16.1.2 password 7 "],
    ),
    case(
        " standby 10 authentication md5 key-string 7 HsrpK3yStr timeout 30",
        &["HsrpK3yStr"],
        &[
            " standby 10 authentication md5 key-string 7 ",
            " timeout 30",
        ],
    ),
    case(
        " standby 10 authentication HsrpPlain\n vrrp 1 authentication text VrrpText",
        &["HsrpPlain", "VrrpText"],
        &[
            " standby 10 authentication ",
            " vrrp 1 authentication text ",
        ],
    ),
    plain(" standby 10 authentication md5 key-chain HSRP-KEYS"),
    case(
        " ppp chap password 7 PppChapPw\n ppp pap sent-username branch password 0 PppPapPw",
        &["PppChapPw", "PppPapPw"],
        &[
            " ppp chap password 7 ",
            " ppp pap sent-username branch password 0 ",
        ],
    ),
    case(
        " isis password IsisIosPw level-1\n area-password AreaIosPw\n domain-password DomIosPw",
        &["IsisIosPw", "AreaIosPw", "DomIosPw"],
        &[
            " isis password ",
            " level-1",
            " area-password ",
            " domain-password ",
        ],
    ),
    case(
        " ip nhrp authentication NhrpK3y",
        &["NhrpK3y"],
        &[" ip nhrp authentication "],
    ),
    case(
        "line vty 0 4\n password 7 VtyPassIos",
        &["VtyPassIos"],
        &["line vty 0 4\n password 7 "],
    ),
    plain("key chain OSPF-KEYS\n key 1\n accept-lifetime 00:00:00 Jan 1 2024 infinite"),
    plain("crypto key generate rsa modulus 2048"),
    plain("interface GigabitEthernet1/0/5\n description Badge key 7 reader\n tunnel key 1234"),
];

const CISCO_NXOS: &[Case] = &[
    case(
        "snmp-server user admin network-admin auth md5 0xAuthHexNx priv 0xPrivHexNx localizedkey",
        &["0xAuthHexNx", "0xPrivHexNx"],
        &[
            "snmp-server user admin network-admin auth md5 ",
            " priv ",
            " localizedkey",
        ],
    ),
    case(
        "snmp-server user netops-v3 network-operator auth sha AuthPassV3x priv aes-128 PrivPassV3x",
        &["AuthPassV3x", "PrivPassV3x"],
        &[
            "snmp-server user netops-v3 network-operator auth sha ",
            " priv aes-128 ",
        ],
    ),
    case(
        "snmp-server user monitor auth md5 MonAuthNx priv MonPrivNx",
        &["MonAuthNx", "MonPrivNx"],
        &["snmp-server user monitor auth md5 ", " priv "],
    ),
    case(
        "username admin password 5 $5$abc  role network-admin",
        &["$5$abc"],
        &["username admin password 5 ", "  role network-admin"],
    ),
    case(
        "snmp-server community S3cr3tCommunity group network-operator",
        &["S3cr3tCommunity"],
        &["snmp-server community ", " group network-operator"],
    ),
    case(
        "snmp-server host 10.0.0.51 traps version 2c Tr4pC0mmNx udp-port 162",
        &["Tr4pC0mmNx"],
        &[
            "snmp-server host 10.0.0.51 traps version 2c ",
            " udp-port 162",
        ],
    ),
    case(
        "tacacs-server key 7 \"T4cGlobNx\"",
        &["T4cGlobNx"],
        &["tacacs-server key 7 \""],
    ),
    case(
        "tacacs-server host 10.0.0.49 key 7 \"T4cHostNx\" ",
        &["T4cHostNx"],
        &["tacacs-server host 10.0.0.49 key 7 \""],
    ),
    case(
        "radius-server host 10.0.1.49 key 7 \"R4dHostNx\" authentication accounting",
        &["R4dHostNx"],
        &[
            "radius-server host 10.0.1.49 key 7 \"",
            "\" authentication accounting",
        ],
    ),
    case(
        "ntp authentication-key 1 md5 NtpMd5Nx 7",
        &["NtpMd5Nx"],
        &["ntp authentication-key 1 md5 ", " 7"],
    ),
    case(
        "interface Ethernet1/1\n  ip ospf authentication-key 3 OspfAuthNx\n  ip ospf message-digest-key 1 md5 3 OspfMd5Nx",
        &["OspfAuthNx", "OspfMd5Nx"],
        &[
            "  ip ospf authentication-key 3 ",
            "  ip ospf message-digest-key 1 md5 3 ",
        ],
    ),
    case(
        "  neighbor 172.16.1.2\n    remote-as 65000\n    password 3 BgpPeerNx",
        &["BgpPeerNx"],
        &["    remote-as 65000\n    password 3 "],
    ),
    case(
        "key chain KC-NX\n  key 1\n    key-string 7 KeyStrNx",
        &["KeyStrNx"],
        &["key chain KC-NX\n  key 1\n    key-string 7 "],
    ),
    case(
        "  hsrp 10\n    authentication md5 key-string HsrpNx\n  vrrp 1\n    authentication text VrrpNx",
        &["HsrpNx", "VrrpNx"],
        &[
            "    authentication md5 key-string ",
            "    authentication text ",
        ],
    ),
    plain("key chain KC-NX\n  key 1"),
    plain("no password strength-check"),
    plain("interface Ethernet1/5\n  description key 7 room"),
];

const CISCO_IOSXR: &[Case] = &[
    case(
        "username admin\n group root-lr\n secret 10 $6$abc\n password 7 XrUserPw",
        &["$6$abc", "XrUserPw"],
        &[
            "username admin\n group root-lr\n secret 10 ",
            " password 7 ",
        ],
    ),
    case(
        " neighbor 172.16.1.2\n  remote-as 65000\n  password encrypted XrBgpPw",
        &["XrBgpPw"],
        &["  remote-as 65000\n  password encrypted "],
    ),
    case(
        "key chain KC-ISIS\n key 1\n  key-string password XrKeyStrPw\n  cryptographic-algorithm HMAC-MD5",
        &["XrKeyStrPw"],
        &[
            "key chain KC-ISIS\n key 1\n  key-string password ",
            "  cryptographic-algorithm HMAC-MD5",
        ],
    ),
    case(
        "snmp-server user netops-v3 NETOPS-V3 v3 auth sha encrypted AuthPassV3x priv aes 128 encrypted PrivPassV3x",
        &["AuthPassV3x", "PrivPassV3x"],
        &[
            "snmp-server user netops-v3 NETOPS-V3 v3 auth sha encrypted ",
            " priv aes 128 encrypted ",
        ],
    ),
    case(
        "tacacs-server host 10.0.0.49 port 49\n key 7 XrTacK3y\n!\ntacacs-server key 7 XrTacGlob",
        &["XrTacK3y", "XrTacGlob"],
        &[
            "tacacs-server host 10.0.0.49 port 49\n key 7 ",
            "tacacs-server key 7 ",
        ],
    ),
    case(
        "radius-server host 10.0.1.49 auth-port 1812 acct-port 1813\n key 7 XrRadK3y",
        &["XrRadK3y"],
        &["radius-server host 10.0.1.49 auth-port 1812 acct-port 1813\n key 7 "],
    ),
    case(
        "ntp\n authentication-key 1 md5 encrypted NtpMd5Xr\n server 10.0.0.123",
        &["NtpMd5Xr"],
        &[
            "ntp\n authentication-key 1 md5 encrypted ",
            "\n server 10.0.0.123",
        ],
    ),
    case(
        "router ospf 1\n area 0\n  interface TenGigE0/0/0/0\n   message-digest-key 1 md5 encrypted OspfMd5Xr\n   authentication-key encrypted OspfAuthXr",
        &["OspfMd5Xr", "OspfAuthXr"],
        &[
            "   message-digest-key 1 md5 encrypted ",
            "   authentication-key encrypted ",
        ],
    ),
    case(
        "keyring KR-HQ\n peer HQ\n  pre-shared-key password XrIkePsk\n  address 198.51.100.7",
        &["XrIkePsk"],
        &["  pre-shared-key password ", "\n  address 198.51.100.7"],
    ),
    case(
        "snmp-server community S3cr3tCommunity RO\nsnmp-server community encrypted XrCommEnc RO",
        &["S3cr3tCommunity", "XrCommEnc"],
        &["snmp-server community ", "snmp-server community encrypted "],
    ),
    case(
        "snmp-server host 10.0.0.51 traps version 2c Tr4pC0mmXr",
        &["Tr4pC0mmXr"],
        &["snmp-server host 10.0.0.51 traps version 2c "],
    ),
    case(
        "router isis CORE\n lsp-password hmac-md5 encrypted XrLspPw",
        &["XrLspPw"],
        &[" lsp-password hmac-md5 encrypted "],
    ),
    plain("key chain KC-ISIS\n key 1\n  accept-lifetime 00:00:00 january 01 2024 infinite"),
    plain("interface TenGigE0/0/0/5\n description key 7 room"),
];

const CISCO_ASA: &[Case] = &[
    case(
        "enable password $sha512$5000$abc$def pbkdf2",
        &["$sha512$5000$abc$def"],
        &["enable password ", " pbkdf2"],
    ),
    case(
        "passwd AsaPasswd1 encrypted",
        &["AsaPasswd1"],
        &["passwd ", " encrypted"],
    ),
    case(
        "username admin password AsaUserPw pbkdf2 privilege 15",
        &["AsaUserPw"],
        &["username admin password ", " pbkdf2 privilege 15"],
    ),
    case(
        "tunnel-group 198.51.100.9 ipsec-attributes\n ikev2 remote-authentication pre-shared-key AsaIk2Remote\n ikev2 local-authentication pre-shared-key AsaIk2Local\n ikev1 pre-shared-key AsaIk1Psk",
        &["AsaIk2Remote", "AsaIk2Local", "AsaIk1Psk"],
        &[
            "tunnel-group 198.51.100.9 ipsec-attributes\n",
            " ikev2 remote-authentication pre-shared-key ",
            " ikev2 local-authentication pre-shared-key ",
            " ikev1 pre-shared-key ",
        ],
    ),
    case(
        " ikev2 remote-authentication pre-shared-key hex 0A1B2C3DEAD",
        &["0A1B2C3DEAD"],
        &[" ikev2 remote-authentication pre-shared-key hex "],
    ),
    case(
        "aaa-server TACACS (inside) host 10.0.0.49\n key AsaTacK3y",
        &["AsaTacK3y"],
        &["aaa-server TACACS (inside) host 10.0.0.49\n key "],
    ),
    case(
        "snmp-server host inside 10.0.0.51 community AsaTrapComm version 2c",
        &["AsaTrapComm"],
        &[
            "snmp-server host inside 10.0.0.51 community ",
            " version 2c",
        ],
    ),
    case(
        "snmp-server community AsaComm",
        &["AsaComm"],
        &["snmp-server community "],
    ),
    case(
        "snmp-server user netops-v3 NETOPS-V3 v3 engineID 80000009fe encrypted auth sha AuthPassV3x priv aes 256 PrivPassV3x",
        &["AuthPassV3x", "PrivPassV3x"],
        &[
            "v3 engineID 80000009fe encrypted auth sha ",
            " priv aes 256 ",
        ],
    ),
    case(
        "ntp authentication-key 1 md5 AsaNtpK3y",
        &["AsaNtpK3y"],
        &["ntp authentication-key 1 md5 "],
    ),
    case(
        "interface GigabitEthernet1/2\n ospf message-digest-key 1 md5 AsaOspfMd5\n ospf authentication-key AsaOspfAuth",
        &["AsaOspfMd5", "AsaOspfAuth"],
        &[
            " ospf message-digest-key 1 md5 ",
            " ospf authentication-key ",
        ],
    ),
    case(
        "  neighbor 172.16.1.2 password 0 AsaBgpPw",
        &["AsaBgpPw"],
        &["  neighbor 172.16.1.2 password 0 "],
    ),
    case(
        "failover key AsaFailK3y",
        &["AsaFailK3y"],
        &["failover key "],
    ),
    plain("crypto ikev1 policy 10\n authentication pre-share\n encryption aes-256"),
    plain("crypto key generate rsa modulus 2048"),
    plain("interface GigabitEthernet1/9\n description key 7 room"),
];

const ARISTA_EOS: &[Case] = &[
    case(
        "username admin privilege 15 role network-admin secret sha512 $6$abc",
        &["$6$abc"],
        &["username admin privilege 15 role network-admin secret sha512 "],
    ),
    case(
        "username netops role network-operator secret sha512 EosUserHash",
        &["EosUserHash"],
        &["username netops role network-operator secret sha512 "],
    ),
    case(
        "enable password sha512 $6$en\naaa root secret sha512 $6$root",
        &["$6$en", "$6$root"],
        &["enable password sha512 ", "aaa root secret sha512 "],
    ),
    case(
        "snmp-server community S3cr3tCommunity ro",
        &["S3cr3tCommunity"],
        &["snmp-server community ", " ro"],
    ),
    case(
        "snmp-server user netops netops-group v3 localized 0011 auth sha AuthPassV3x priv aes PrivPassV3x",
        &["AuthPassV3x", "PrivPassV3x"],
        &["v3 localized 0011 auth sha ", " priv aes "],
    ),
    case(
        "snmp-server user mon mon-group v3 auth sha512 AuthSha512Eos priv aes256 PrivAes256Eos",
        &["AuthSha512Eos", "PrivAes256Eos"],
        &[
            "snmp-server user mon mon-group v3 auth sha512 ",
            " priv aes256 ",
        ],
    ),
    case(
        "snmp-server host 10.0.0.51 vrf MGMT version 2c Tr4pC0mmEos",
        &["Tr4pC0mmEos"],
        &["snmp-server host 10.0.0.51 vrf MGMT version 2c "],
    ),
    case(
        "radius-server host 10.0.0.49 vrf MGMT key 7 R4dHostEos\ntacacs-server host 10.0.0.49 vrf MGMT key 7 T4cHostEos\ntacacs-server key 7 T4cGlobEos",
        &["R4dHostEos", "T4cHostEos", "T4cGlobEos"],
        &[
            "radius-server host 10.0.0.49 vrf MGMT key 7 ",
            "tacacs-server host 10.0.0.49 vrf MGMT key 7 ",
            "tacacs-server key 7 ",
        ],
    ),
    case(
        "   neighbor 172.16.1.2 password 7 BgpPeerEos",
        &["BgpPeerEos"],
        &["   neighbor 172.16.1.2 password 7 "],
    ),
    case(
        "interface Ethernet1\n   ip ospf message-digest-key 1 md5 7 OspfMd5Eos\n   ip ospf authentication-key 7 OspfAuthEos",
        &["OspfMd5Eos", "OspfAuthEos"],
        &[
            "   ip ospf message-digest-key 1 md5 7 ",
            "   ip ospf authentication-key 7 ",
        ],
    ),
    case(
        "ntp authentication-key 1 md5 7 NtpMd5Eos",
        &["NtpMd5Eos"],
        &["ntp authentication-key 1 md5 7 "],
    ),
    case(
        "ip security\n   profile HQ\n      shared-key 7 EosSharedK3y",
        &["EosSharedK3y"],
        &["   profile HQ\n      shared-key 7 "],
    ),
    case(
        "router isis CORE\n   authentication key 7 IsisEosK3y",
        &["IsisEosK3y"],
        &["router isis CORE\n   authentication key 7 "],
    ),
    plain("interface Ethernet5\n   description key 7 room"),
    plain("management security\n   ssl profile TLS\n      certificate server.crt key server.key"),
];

const JUNIPER_JUNOS: &[Case] = &[
    case(
        "set security ike policy IKE-HQ pre-shared-key ascii-text \"$9$IkePskJun0s\"",
        &["$9$IkePskJun0s"],
        &["set security ike policy IKE-HQ pre-shared-key ascii-text \""],
    ),
    case(
        "set security ike policy IKE-HEX pre-shared-key hexadecimal \"$9$HexPskJun0s\"",
        &["$9$HexPskJun0s"],
        &["set security ike policy IKE-HEX pre-shared-key hexadecimal \""],
    ),
    case(
        "set system tacplus-server 10.0.0.49 secret \"$9$TacJun0s\"",
        &["$9$TacJun0s"],
        &["set system tacplus-server 10.0.0.49 secret \""],
    ),
    case(
        "set protocols bgp group CORE authentication-key \"$9$BgpJun0s\"",
        &["$9$BgpJun0s"],
        &["set protocols bgp group CORE authentication-key \""],
    ),
    case(
        "set snmp v3 usm local-engine user netops authentication-sha authentication-key \"$9$AuthV3Jun0s\"\nset snmp v3 usm local-engine user netops privacy-aes128 privacy-key \"$9$PrivV3Jun0s\"",
        &["$9$AuthV3Jun0s", "$9$PrivV3Jun0s"],
        &[
            "user netops authentication-sha authentication-key \"",
            "user netops privacy-aes128 privacy-key \"",
        ],
    ),
    case(
        "set system ntp authentication-key 1 type md5 value \"$9$NtpJun0s\"",
        &["$9$NtpJun0s"],
        &["set system ntp authentication-key 1 type md5 value \""],
    ),
    case(
        "set system root-authentication encrypted-password \"$6$rootJun0s\"",
        &["$6$rootJun0s"],
        &["set system root-authentication encrypted-password \""],
    ),
    case(
        "set protocols ospf area 0.0.0.0 interface xe-0/1/0.0 authentication md5 1 key \"$9$OspfJun0s\"",
        &["$9$OspfJun0s"],
        &["interface xe-0/1/0.0 authentication md5 1 key \""],
    ),
    case(
        "set snmp community S3cr3tCommunity authorization read-only",
        &["S3cr3tCommunity"],
        &["set snmp community ", " authorization read-only"],
    ),
    case(
        "        authentication-key \"$9$BgpCurly\"; ## SECRET-DATA\n    community S3cr3tCurly {",
        &["$9$BgpCurly", "S3cr3tCurly"],
        &[
            "        authentication-key \"",
            "\"; ## SECRET-DATA",
            "    community ",
        ],
    ),
    case(
        "set system archival configuration archive-sites \"scp://backup:Backup123@10.0.0.5:/configs\"",
        &["Backup123"],
        &["scp://backup:", "@10.0.0.5:/configs"],
    ),
    plain("set interfaces xe-0/1/2 description \"key room\""),
    plain("set system login user admin authentication ssh-rsa \"ssh-rsa AAAAB3Nz admin@host\""),
];

const HP_PROCURVE: &[Case] = &[
    case(
        "password manager user-name \"admin\" sha1 \"HpMgrSha1\"",
        &["HpMgrSha1"],
        &["password manager user-name \"admin\" sha1 \""],
    ),
    case(
        "password manager user-name admin sha1 HpMgrBare",
        &["HpMgrBare"],
        &["password manager user-name admin sha1 "],
    ),
    case(
        "password operator user-name \"operator\" sha1 \"HpOperSha1\"",
        &["HpOperSha1"],
        &["password operator user-name \"operator\" sha1 \""],
    ),
    case(
        "snmpv3 user \"netops\" auth sha \"AuthPassV3x\" priv aes \"PrivPassV3x\"",
        &["AuthPassV3x", "PrivPassV3x"],
        &["snmpv3 user \"netops\" auth sha \"", "\" priv aes \""],
    ),
    case(
        "snmpv3 user netops2 auth sha AuthBareHp priv aes PrivBareHp",
        &["AuthBareHp", "PrivBareHp"],
        &["snmpv3 user netops2 auth sha ", " priv aes "],
    ),
    case(
        "radius-server host 10.0.0.49 key \"R4dHostHp\"\nradius-server host 10.0.0.50 key R4dBareHp",
        &["R4dHostHp", "R4dBareHp"],
        &[
            "radius-server host 10.0.0.49 key \"",
            "radius-server host 10.0.0.50 key ",
        ],
    ),
    case(
        "tacacs-server host 10.0.1.49 key \"T4cacsK3y\"\ntacacs-server key T4cGlobHp",
        &["T4cacsK3y", "T4cGlobHp"],
        &["tacacs-server host 10.0.1.49 key \"", "tacacs-server key "],
    ),
    case(
        "radius-server host 10.0.0.49 encrypted-key \"U2FsdHpEnc\"",
        &["U2FsdHpEnc"],
        &["radius-server host 10.0.0.49 encrypted-key \""],
    ),
    case(
        "snmp-server community \"S3cr3tCommunity\" manager unrestricted",
        &["S3cr3tCommunity"],
        &["snmp-server community \"", "\" manager unrestricted"],
    ),
    case(
        "snmp-server host 10.0.0.51 community \"Tr4pC0mmHp\" trap-level all",
        &["Tr4pC0mmHp"],
        &[
            "snmp-server host 10.0.0.51 community \"",
            "\" trap-level all",
        ],
    ),
    case(
        "sntp authentication key-id 1 authentication-mode md5 key-value \"SntpK3yHp\"",
        &["SntpK3yHp"],
        &["sntp authentication key-id 1 authentication-mode md5 key-value \""],
    ),
    case(
        "aaa authentication local-user \"netops\" group \"Level-15\" password sha1 \"HpLocalSha1\"",
        &["HpLocalSha1"],
        &["aaa authentication local-user \"netops\" group \"Level-15\" password sha1 \""],
    ),
    plain("interface 5\n   name \"Badge key reader\"\n   exit"),
    plain("crypto key generate ssh rsa bits 2048"),
];

const ARUBA_AOSCX: &[Case] = &[
    case(
        "user admin group administrators password ciphertext AQBapUserCx",
        &["AQBapUserCx"],
        &["user admin group administrators password ciphertext "],
    ),
    case(
        "radius-server host 10.0.0.49 key ciphertext AQBapRadCx vrf mgmt",
        &["AQBapRadCx"],
        &["radius-server host 10.0.0.49 key ciphertext ", " vrf mgmt"],
    ),
    case(
        "tacacs-server host 10.0.0.49 key plaintext T4cPlainCx vrf mgmt",
        &["T4cPlainCx"],
        &["tacacs-server host 10.0.0.49 key plaintext ", " vrf mgmt"],
    ),
    case(
        "snmpv3 user netops auth sha auth-pass ciphertext AQBapAuthV3x priv aes priv-pass ciphertext AQBapPrivV3x",
        &["AQBapAuthV3x", "AQBapPrivV3x"],
        &[
            "snmpv3 user netops auth sha auth-pass ciphertext ",
            " priv aes priv-pass ciphertext ",
        ],
    ),
    case(
        "ntp authentication-key 1 md5 ciphertext AQBapNtpCx",
        &["AQBapNtpCx"],
        &["ntp authentication-key 1 md5 ciphertext "],
    ),
    case(
        "snmp-server community S3cr3tCommunity",
        &["S3cr3tCommunity"],
        &["snmp-server community "],
    ),
    case(
        "snmp-server host 10.0.0.51 trap version v2c community Tr4pC0mmCx",
        &["Tr4pC0mmCx"],
        &["snmp-server host 10.0.0.51 trap version v2c community "],
    ),
    case(
        "interface 1/1/1\n    ip ospf message-digest-key 1 md5 ciphertext AQBapOspfCx",
        &["AQBapOspfCx"],
        &["    ip ospf message-digest-key 1 md5 ciphertext "],
    ),
    case(
        "router bgp 65100\n    neighbor 172.16.1.2 password ciphertext AQBapBgpCx",
        &["AQBapBgpCx"],
        &["    neighbor 172.16.1.2 password ciphertext "],
    ),
    plain("interface 1/1/5\n    description Badge key reader"),
];

const BROCADE_FASTIRON: &[Case] = &[
    case(
        "enable super-user-password 8 $1$abc\nenable read-only-password 8 $1$ro",
        &["$1$abc", "$1$ro"],
        &[
            "enable super-user-password 8 ",
            "enable read-only-password 8 ",
        ],
    ),
    case(
        "username admin password 8 $1$def\nusername ops privilege 0 password 8 $1$ops",
        &["$1$def", "$1$ops"],
        &[
            "username admin password 8 ",
            "username ops privilege 0 password 8 ",
        ],
    ),
    case(
        "tacacs-server key 2 $BrcdTacK3y",
        &["$BrcdTacK3y"],
        &["tacacs-server key 2 "],
    ),
    case(
        "radius-server host 10.0.1.49 auth-port 1812 acct-port 1813 default key 2 $BrcdRadK3y dot1x",
        &["$BrcdRadK3y"],
        &["auth-port 1812 acct-port 1813 default key 2 ", " dot1x"],
    ),
    case(
        "snmp-server community 2 $BrcdComm ro",
        &["$BrcdComm"],
        &["snmp-server community 2 ", " ro"],
    ),
    case(
        "snmp-server user netops-v3 admin v3 encrypted auth md5 AuthPassV3x priv encrypted des PrivPassV3x",
        &["AuthPassV3x", "PrivPassV3x"],
        &[
            "snmp-server user netops-v3 admin v3 encrypted auth md5 ",
            " priv encrypted des ",
        ],
    ),
    case(
        "snmp-server host 10.0.0.51 version v2c 2 $Tr4pC0mmBr",
        &["$Tr4pC0mmBr"],
        &["snmp-server host 10.0.0.51 version v2c 2 "],
    ),
    case(
        "interface ve 10\n ip ospf md5-authentication key-id 1 key 2 $OspfMd5Br\n ip ospf authentication-key 2 $OspfAuthBr",
        &["$OspfMd5Br", "$OspfAuthBr"],
        &[
            " ip ospf md5-authentication key-id 1 key 2 ",
            " ip ospf authentication-key 2 ",
        ],
    ),
    case(
        "router bgp\n neighbor 172.16.1.2 password 2 $BgpPeerBr",
        &["$BgpPeerBr"],
        &[" neighbor 172.16.1.2 password 2 "],
    ),
    case(
        "ntp\n authentication-key key-id 1 md5 2 $NtpBr",
        &["$NtpBr"],
        &[" authentication-key key-id 1 md5 2 "],
    ),
    plain("interface ethernet 1/1/5\n port-name Badge key reader\n!"),
    plain("crypto key generate rsa modulus 2048"),
    plain("ip ssh  key-exchange-method dh-group14-sha256\nenable password-display"),
];

const DELL_OS10: &[Case] = &[
    case(
        "username admin password $6$abc role sysadmin priv-lvl 15",
        &["$6$abc"],
        &["username admin password ", " role sysadmin priv-lvl 15"],
    ),
    case(
        "username netops password Os10UserPw role netoperator",
        &["Os10UserPw"],
        &["username netops password ", " role netoperator"],
    ),
    case(
        "system-user linuxadmin password $6$sys",
        &["$6$sys"],
        &["system-user linuxadmin password "],
    ),
    case(
        "tacacs-server host 10.0.0.49 key 9 Os10TacK3y",
        &["Os10TacK3y"],
        &["tacacs-server host 10.0.0.49 key 9 "],
    ),
    case(
        "radius-server host 10.0.1.49 auth-port 1812 key 9 Os10RadK3y",
        &["Os10RadK3y"],
        &["radius-server host 10.0.1.49 auth-port 1812 key 9 "],
    ),
    case(
        "snmp-server community S3cr3tCommunity ro",
        &["S3cr3tCommunity"],
        &["snmp-server community ", " ro"],
    ),
    case(
        "snmp-server user netops-v3 netops-group 3 auth sha AuthPassV3x priv aes PrivPassV3x",
        &["AuthPassV3x", "PrivPassV3x"],
        &[
            "snmp-server user netops-v3 netops-group 3 auth sha ",
            " priv aes ",
        ],
    ),
    case(
        "snmp-server host 10.0.0.51 traps version 2c Tr4pC0mmO10 udp-port 162",
        &["Tr4pC0mmO10"],
        &[
            "snmp-server host 10.0.0.51 traps version 2c ",
            " udp-port 162",
        ],
    ),
    case(
        " neighbor 172.16.1.2\n  password 9 Os10BgpPw",
        &["Os10BgpPw"],
        &[" neighbor 172.16.1.2\n  password 9 "],
    ),
    case(
        "interface vlan10\n ip ospf message-digest-key 1 md5 9 Os10OspfMd5",
        &["Os10OspfMd5"],
        &[" ip ospf message-digest-key 1 md5 9 "],
    ),
    case(
        "ntp authentication-key 1 md5 9 Os10NtpK3y",
        &["Os10NtpK3y"],
        &["ntp authentication-key 1 md5 9 "],
    ),
    plain("interface ethernet1/1/3\n description \"password reset kiosk\""),
    plain("interface ethernet1/1/4\n description \"Badge key reader\""),
];

const DELL_OS6: &[Case] = &[
    case(
        "username \"admin\" password Os6UserHash privilege 15 encrypted",
        &["Os6UserHash"],
        &["username \"admin\" password ", " privilege 15 encrypted"],
    ),
    case(
        "enable password Os6EnableHash encrypted",
        &["Os6EnableHash"],
        &["enable password ", " encrypted"],
    ),
    case(
        "tacacs-server host 10.0.0.49\nkey 7 \"Os6TacK3y\"\nexit",
        &["Os6TacK3y"],
        &["tacacs-server host 10.0.0.49\nkey 7 \"", "\"\nexit"],
    ),
    case(
        "radius-server key 7 \"Os6RadK3y\"",
        &["Os6RadK3y"],
        &["radius-server key 7 \""],
    ),
    case(
        "snmp-server community \"S3cr3tCommunity\" ro",
        &["S3cr3tCommunity"],
        &["snmp-server community \"", "\" ro"],
    ),
    case(
        "snmp-server user \"netops\" \"netops-group\" auth-sha-key AuthPassV3x priv-des-key PrivPassV3x",
        &["AuthPassV3x", "PrivPassV3x"],
        &["\"netops-group\" auth-sha-key ", " priv-des-key "],
    ),
    case(
        "interface vlan 10\nip ospf authentication encrypt \"Os6OspfK3y\" 1\nexit",
        &["Os6OspfK3y"],
        &["ip ospf authentication encrypt \"", "\" 1\nexit"],
    ),
    case(
        "line telnet\npassword Os6LinePw encrypted\nexit",
        &["Os6LinePw"],
        &["line telnet\npassword ", " encrypted\nexit"],
    ),
    plain("interface Gi1/0/4\ndescription \"Badge key reader\"\nexit"),
    plain("crypto key generate rsa"),
];

const FORTINET_FORTIOS: &[Case] = &[
    case(
        "config vpn ipsec phase1-interface\n    edit \"to-hq\"\n        set remote-gw 198.51.100.7\n        set psksecret ENC FgtPskSecretX\n    next\nend",
        &["FgtPskSecretX"],
        &["        set remote-gw 198.51.100.7\n        set psksecret ENC "],
    ),
    case(
        "config user local\n    edit \"vpnuser\"\n        set passwd ENC FgtLocalPasswdX\n    next\nend",
        &["FgtLocalPasswdX"],
        &["    edit \"vpnuser\"\n        set passwd ENC "],
    ),
    case(
        "config system snmp user\n    edit \"netops\"\n        set auth-proto sha256\n        set auth-pwd ENC AuthPassV3x\n        set priv-proto aes256\n        set priv-pwd ENC PrivPassV3x\n    next\nend",
        &["AuthPassV3x", "PrivPassV3x"],
        &["        set auth-pwd ENC ", "        set priv-pwd ENC "],
    ),
    case(
        "config system snmp community\n    edit 1\n        set name \"S3cr3tCommunity\"\n        config hosts\n            edit 1\n                set ip 10.0.0.51 255.255.255.255\n            next\n        end\n    next\nend",
        &["S3cr3tCommunity"],
        &[
            "        set name \"",
            "                set ip 10.0.0.51 255.255.255.255",
        ],
    ),
    plain(
        "config firewall address\n    edit \"NET-KEYS\"\n        set name \"key-room\"\n        set comment \"key room\"\n    next\nend",
    ),
];

const PALOALTO_PANOS: &[Case] = &[
    case(
        "      admin {\n        phash $5$abc;",
        &["$5$abc"],
        &["        phash "],
    ),
    case(
        "          pre-shared-key {\n            key -AQ==PanIkePsk;\n          }",
        &["-AQ==PanIkePsk"],
        &[
            "          pre-shared-key {\n            key ",
            ";\n          }",
        ],
    ),
    case(
        "            secret -AQ==PanTacSecret;\n            bind-password -AQ==PanBindPw;",
        &["-AQ==PanTacSecret", "-AQ==PanBindPw"],
        &["            secret ", "            bind-password "],
    ),
    case(
        "              snmp-community-string S3cr3tCommunity;",
        &["S3cr3tCommunity"],
        &["              snmp-community-string "],
    ),
    case(
        "                authpwd -AQ==AuthPassV3x;\n                privpwd -AQ==PrivPassV3x;",
        &["-AQ==AuthPassV3x", "-AQ==PrivPassV3x"],
        &["                authpwd ", "                privpwd "],
    ),
    case(
        "        pre-shared-key { key -AQ==PanInlinePsk; }",
        &["-AQ==PanInlinePsk"],
        &["        pre-shared-key { key ", "; }"],
    ),
    case(
        "        private-key -----BEGIN RSA PRIVATE KEY-----PanPrivK3yBody-----END RSA PRIVATE KEY-----;",
        &["PanPrivK3yBody"],
        &["        private-key "],
    ),
    case(
        "<entry name=\"admin\">\n  <phash>$5$xml</phash>\n</entry>\n<pre-shared-key>\n  <key>-AQ==PanXmlPsk</key>\n</pre-shared-key>\n<password>PanXmlPw</password>",
        &["$5$xml", "-AQ==PanXmlPsk", "PanXmlPw"],
        &[
            "<entry name=\"admin\">\n  <phash>",
            "  <key>",
            "</key>\n</pre-shared-key>",
            "<password>",
        ],
    ),
    case(
        "<authpwd>-AQ==AuthXmlPan</authpwd><privpwd>-AQ==PrivXmlPan</privpwd>",
        &["-AQ==AuthXmlPan", "-AQ==PrivXmlPan"],
        &["<authpwd>", "</authpwd><privpwd>", "</privpwd>"],
    ),
    plain("            comment \"Badge key reader\";"),
    plain("          key-size 2048;"),
];

const HUAWEI_VRP: &[Case] = &[
    case(
        "ike peer HQ\n pre-shared-key cipher %^%#HwIkePsk%^%#\n remote-address 198.51.100.7",
        &["HwIkePsk"],
        &[
            "ike peer HQ\n pre-shared-key cipher ",
            "\n remote-address 198.51.100.7",
        ],
    ),
    case(
        " local-user admin password irreversible-cipher $1c$HwUserHash$",
        &["$1c$HwUserHash$"],
        &[" local-user admin password irreversible-cipher "],
    ),
    case(
        "snmp-agent community read cipher %^%#HwCommRead%^%#\nsnmp-agent community write HwCommPlain",
        &["HwCommRead", "HwCommPlain"],
        &[
            "snmp-agent community read cipher ",
            "snmp-agent community write ",
        ],
    ),
    case(
        "interface 10GE1/0/1\n ospf authentication-mode simple cipher %^%#HwOspfSimple%^%#",
        &["HwOspfSimple"],
        &[" ospf authentication-mode simple cipher "],
    ),
    case(
        " ospf authentication-mode md5 1 cipher %^%#HwOspfMd5%^%#",
        &["HwOspfMd5"],
        &[" ospf authentication-mode md5 1 cipher "],
    ),
    case(
        " isis authentication-mode simple plain HwIsisPlain",
        &["HwIsisPlain"],
        &[" isis authentication-mode simple plain "],
    ),
    case(
        "snmp-agent usm-user v3 netops authentication-mode sha cipher %^%#AuthPassV3x%^%# privacy-mode aes128 cipher %^%#PrivPassV3x%^%#",
        &["AuthPassV3x", "PrivPassV3x"],
        &[
            "snmp-agent usm-user v3 netops authentication-mode sha cipher ",
            " privacy-mode aes128 cipher ",
        ],
    ),
    case(
        " hwtacacs-server shared-key cipher %^%#HwTacK3y%^%#\n peer 172.16.1.2 password cipher %^%#HwBgpPw%^%#",
        &["HwTacK3y", "HwBgpPw"],
        &[
            " hwtacacs-server shared-key cipher ",
            " peer 172.16.1.2 password cipher ",
        ],
    ),
    plain("ssh server cipher aes256_ctr aes128_ctr\nssh client cipher aes256_ctr"),
    plain("interface 10GE1/0/5\n description cipher lab simple test"),
];

const LINUX: &[Case] = &[
    case(
        "password zebra\nenable password S3cretEnable",
        &["zebra", "S3cretEnable"],
        &["password ", "enable password "],
    ),
    case(
        " neighbor 172.16.1.2 password BgpPeerSecret",
        &["BgpPeerSecret"],
        &[" neighbor 172.16.1.2 password "],
    ),
    case(
        "interface ens18\n ip ospf message-digest-key 1 md5 OspfMd5Key\n ip ospf authentication-key OspfAuthFrr",
        &["OspfMd5Key", "OspfAuthFrr"],
        &[
            " ip ospf message-digest-key 1 md5 ",
            " ip ospf authentication-key ",
        ],
    ),
    case(
        "key chain RIP-KEYS\n key 1\n  key-string FrrKeyStr",
        &["FrrKeyStr"],
        &["key chain RIP-KEYS\n key 1\n  key-string "],
    ),
    case(
        "interface ens19\n isis password clear IsisFrrPw\nrouter isis CORE\n area-password md5 AreaFrrPw",
        &["IsisFrrPw", "AreaFrrPw"],
        &[" isis password clear ", " area-password md5 "],
    ),
    case(
        " ipv6 ospf6 authentication key-id 1 hash-algo md5 key Ospf6FrrK3y",
        &["Ospf6FrrK3y"],
        &[" ipv6 ospf6 authentication key-id 1 hash-algo md5 key "],
    ),
    case(
        "iface wlan0 inet dhcp\n    wpa-ssid corp\n    wpa-psk WlanPskLinux",
        &["WlanPskLinux"],
        &["    wpa-ssid corp\n    wpa-psk "],
    ),
    plain("interface ens20\n description Link to key server\nkey chain RIP-KEYS\n key 1"),
];

const MIKROTIK_ROUTEROS: &[Case] = &[
    case(
        "/ppp secret\nadd name=vpn-user password=PppS3cretMt profile=default-encryption",
        &["PppS3cretMt"],
        &["add name=vpn-user password=", " profile=default-encryption"],
    ),
    case(
        "/snmp community\nset [ find default=yes ] addresses=10.0.0.0/8 name=S3cr3tCommunity\nadd addresses=10.0.0.0/8 authentication-password=AuthPassV3x authentication-protocol=SHA1 encryption-password=PrivPassV3x encryption-protocol=AES name=netops-v3 security=private\n/interface bridge port",
        &["S3cr3tCommunity", "AuthPassV3x", "PrivPassV3x"],
        &[
            " authentication-password=",
            " authentication-protocol=SHA1 encryption-password=",
            " encryption-protocol=AES ",
            "/interface bridge port",
        ],
    ),
    case(
        "/interface wireless security-profiles\nadd authentication-types=wpa2-psk mode=dynamic-keys name=corp wpa-pre-shared-key=WpaPskMt wpa2-pre-shared-key=Wpa2PskMt",
        &["WpaPskMt", "Wpa2PskMt"],
        &[" name=corp wpa-pre-shared-key=", " wpa2-pre-shared-key="],
    ),
    case(
        "/interface wireguard\nadd listen-port=13231 name=wg-mgmt private-key=\"WgPrivMt=\"\n/interface wireguard peers\nadd allowed-address=10.9.0.2/32 interface=wg-mgmt preshared-key=\"WgPskMt=\" public-key=\"WgPubKeyMt=\"",
        &["WgPrivMt=", "WgPskMt="],
        &[
            " name=wg-mgmt private-key=",
            " preshared-key=",
            " public-key=\"WgPubKeyMt=\"",
        ],
    ),
    case(
        "/routing bgp connection\nadd as=65100 name=core-01 remote.address=172.16.1.2/32 tcp-md5-key=BgpMd5Mt",
        &["BgpMd5Mt"],
        &[" remote.address=172.16.1.2/32 tcp-md5-key="],
    ),
    case(
        "/ip ipsec identity\nadd peer=branch-hq secret=\"IpsecMtPsk\"\n/radius\nadd address=10.0.0.49 secret=R4diusK3y service=login",
        &["IpsecMtPsk", "R4diusK3y"],
        &[
            "add peer=branch-hq secret=",
            "add address=10.0.0.49 secret=",
            " service=login",
        ],
    ),
    case(
        "/system ntp key\nadd key=NtpK3yMt key-id=1",
        &["NtpK3yMt"],
        &["add key=", " key-id=1"],
    ),
    plain(
        "/interface ethernet\nset [ find default-name=sfp-sfpplus1 ] comment=\"key room\" name=uplink",
    ),
];

#[test]
fn every_platform_masks_each_secret_form_and_nothing_else() {
    let mut failures = Vec::new();
    for profile in profile::all() {
        let id = profile.id.as_str();
        let table = cases(id);
        if table.is_empty() {
            failures.push(format!("{id}: no mask cases"));
        }
        for case in table {
            let masked = mask(&profile.filters, case.text);
            let mut wrong = Vec::new();
            if case.secrets.is_empty() && masked != case.text {
                wrong.push("masked a line that holds no secret".to_string());
            }
            for secret in case.secrets {
                if masked.contains(secret) {
                    wrong.push(format!("{secret:?} survives"));
                }
            }
            if !case.secrets.is_empty() && masked.matches(MASK_MARKER).count() < case.secrets.len()
            {
                wrong.push("fewer markers than secrets".to_string());
            }
            for kept in case.kept {
                if !masked.contains(kept) {
                    wrong.push(format!("{kept:?} lost"));
                }
            }
            if masked.lines().count() != case.text.lines().count() {
                wrong.push("line count changed".to_string());
            }
            if !wrong.is_empty() {
                failures.push(format!(
                    "{id}: {}\n  in:  {:?}\n  out: {:?}",
                    wrong.join(", "),
                    case.text,
                    masked
                ));
            }
        }
    }
    assert!(
        failures.is_empty(),
        "{} mask case(s) failed:\n{}",
        failures.len(),
        failures.join("\n")
    );
}
