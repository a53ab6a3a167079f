//! Permission bit flags and the role presets built from them.

use crate::services::validation::toggle;

pub const READ: i32 = 1;
pub const WRITE: i32 = 2;
pub const ADMIN: i32 = 4;
pub const DELETE: i32 = 8;
pub const USER_MANAGE: i32 = 16;
/// Running commands on devices and pushing configuration to them.
pub const EXECUTE: i32 = 32;
pub const ALL: i32 = READ | WRITE | ADMIN | DELETE | USER_MANAGE | EXECUTE;

/// Every flag with its name and what it allows, in display order.
pub const FLAGS: [(i32, &str, &str); 6] = [
    (READ, "read", "see inventory, backups, jobs"),
    (WRITE, "write", "change inventory, run jobs"),
    (
        DELETE,
        "delete",
        "delete devices, backups and other objects",
    ),
    (
        ADMIN,
        "admin",
        "settings, audit log, credentials administration",
    ),
    (
        USER_MANAGE,
        "user_manage",
        "create and change user accounts",
    ),
    (
        EXECUTE,
        "execute",
        "run commands on devices and push configuration",
    ),
];

/// Role presets are just flag sets.
pub const ROLES: [(&str, i32); 4] = [
    ("viewer", READ),
    ("operator", READ | WRITE),
    ("engineer", READ | WRITE | DELETE),
    ("admin", ALL),
];

/// Permission bits. A user form sends them as a preset role, or "custom" and the ticked flags.
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(from = "RoleChoice")]
pub struct Permissions(pub i32);

/// The permission fields of the user form.
#[derive(serde::Deserialize)]
struct RoleChoice {
    role: String,
    #[serde(deserialize_with = "toggle")]
    perm_read: bool,
    #[serde(deserialize_with = "toggle")]
    perm_write: bool,
    #[serde(deserialize_with = "toggle")]
    perm_delete: bool,
    #[serde(deserialize_with = "toggle")]
    perm_admin: bool,
    #[serde(deserialize_with = "toggle")]
    perm_user_manage: bool,
    /// Forms from before the flag existed leave it off.
    #[serde(default, deserialize_with = "toggle")]
    perm_execute: bool,
}

/// A preset role wins; "custom" takes the ticked flags.
impl From<RoleChoice> for Permissions {
    fn from(c: RoleChoice) -> Self {
        if let Some(bits) = role_bits(&c.role) {
            return Permissions(bits);
        }
        let ticked = [
            (READ, c.perm_read),
            (WRITE, c.perm_write),
            (DELETE, c.perm_delete),
            (ADMIN, c.perm_admin),
            (USER_MANAGE, c.perm_user_manage),
            (EXECUTE, c.perm_execute),
        ];
        Permissions(
            ticked
                .iter()
                .filter(|(_, on)| *on)
                .fold(0, |acc, (bit, _)| acc | bit),
        )
    }
}

impl Permissions {
    pub fn has(self, required: i32) -> bool {
        self.0 & required == required
    }

    /// Names of the flags in `required` that these permissions lack.
    pub fn missing(self, required: i32) -> Vec<&'static str> {
        FLAGS
            .iter()
            .filter(|(bit, _, _)| required & bit != 0 && self.0 & bit == 0)
            .map(|(_, name, _)| *name)
            .collect()
    }

    pub fn names(self) -> Vec<&'static str> {
        FLAGS
            .iter()
            .filter(|(bit, _, _)| self.0 & bit != 0)
            .map(|(_, name, _)| *name)
            .collect()
    }

    /// The preset these flags match exactly, if any.
    pub fn role(self) -> Option<&'static str> {
        ROLES
            .iter()
            .find(|(_, bits)| *bits == self.0)
            .map(|(name, _)| *name)
    }

    /// A short label for lists: the role name, or the flag names.
    pub fn label(self) -> String {
        match self.role() {
            Some(role) => role.to_string(),
            None if self.0 == 0 => "no access".to_string(),
            None => self.names().join(", "),
        }
    }
}

pub fn role_bits(name: &str) -> Option<i32> {
    ROLES
        .iter()
        .find(|(role, _)| role.eq_ignore_ascii_case(name))
        .map(|(_, bits)| *bits)
}

pub fn flag_bits(name: &str) -> Option<i32> {
    FLAGS
        .iter()
        .find(|(_, flag, _)| flag.eq_ignore_ascii_case(name))
        .map(|(bit, _, _)| *bit)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn presets_and_missing_names() {
        assert_eq!(role_bits("engineer"), Some(READ | WRITE | DELETE));
        assert_eq!(Permissions(READ).missing(ADMIN | READ), vec!["admin"]);
        assert_eq!(Permissions(ALL).role(), Some("admin"));
        assert_eq!(Permissions(READ | ADMIN).label(), "read, admin");
        assert!(Permissions(ALL).has(USER_MANAGE | DELETE));
        assert!(!Permissions(READ | WRITE).has(DELETE));
    }
}
