//! The registry: every admin setting NetRaven reads, in one table. The database holds only the
//! values; a setting's key, type, bounds, default, category and wording live here, so no reader
//! names a key or repeats a default and the settings page shows exactly what some code reads.
//!
//! A setting enters the registry with the feature that reads it. `admin_settings` rows without
//! an entry (the SMTP fields seeded ahead of their feature) are kept, and
//! their secrets still take part in key rotation and the start-up key check, but nobody can see
//! or edit them until that feature registers them.
//!
//! Each default equals the value a fresh database holds (the migrations' seeds are history and
//! are not changed; a test compares both), so a missing row and a fresh one behave the same.

use serde_json::Value;

/// A section of the settings page, and the `{category}` of `POST /settings/{category}`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Category {
    Security,
    Jobs,
    Backups,
    Credentials,
    Nautobot,
    Checkmk,
    Discovery,
}

impl Category {
    /// In page order.
    pub const ALL: [Category; 7] = [
        Category::Security,
        Category::Jobs,
        Category::Backups,
        Category::Credentials,
        Category::Nautobot,
        Category::Checkmk,
        Category::Discovery,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Category::Security => "security",
            Category::Jobs => "jobs",
            Category::Backups => "backups",
            Category::Credentials => "credentials",
            Category::Nautobot => "nautobot",
            Category::Checkmk => "checkmk",
            Category::Discovery => "discovery",
        }
    }

    pub fn title(self) -> &'static str {
        match self {
            Category::Security => "Security",
            Category::Jobs => "Jobs",
            Category::Backups => "Backups",
            Category::Credentials => "Credentials",
            Category::Nautobot => "Nautobot",
            Category::Checkmk => "CheckMK",
            Category::Discovery => "Discovery",
        }
    }

    pub fn from_id(id: &str) -> Option<Category> {
        Category::ALL.into_iter().find(|c| c.id() == id)
    }
}

/// What every setting has, whatever its type.
#[derive(Debug)]
pub struct Meta {
    pub key: &'static str,
    pub category: Category,
    pub label: &'static str,
    pub help: &'static str,
}

/// A whole number the page accepts only within `min..=max`.
#[derive(Debug)]
pub struct IntSetting {
    pub meta: Meta,
    pub min: i64,
    pub max: i64,
    pub default: i64,
}

/// An on/off setting (a checkbox on the page).
#[derive(Debug)]
pub struct BoolSetting {
    pub meta: Meta,
    pub default: bool,
}

/// One line of text, at most `validation::MAX_NAME` characters, checked by its `format`.
#[derive(Debug)]
pub struct TextSetting {
    pub meta: Meta,
    pub format: TextFormat,
    pub default: &'static str,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum TextFormat {
    Plain,
    /// Empty, or starting with http:// or https://.
    Url,
    /// A host name or IP address.
    Host,
}

/// A sensitive value: stored as a Fernet token, write-only on the page, unset by default.
#[derive(Debug)]
pub struct SecretSetting {
    pub meta: Meta,
}

/// One entry of the table: the typed handle behind it.
#[derive(Clone, Copy, Debug)]
pub enum Setting {
    Integer(&'static IntSetting),
    Boolean(&'static BoolSetting),
    Text(&'static TextSetting),
    Secret(&'static SecretSetting),
}

impl Setting {
    pub fn meta(self) -> &'static Meta {
        match self {
            Setting::Integer(s) => &s.meta,
            Setting::Boolean(s) => &s.meta,
            Setting::Text(s) => &s.meta,
            Setting::Secret(s) => &s.meta,
        }
    }

    pub fn key(self) -> &'static str {
        self.meta().key
    }

    pub fn category(self) -> Category {
        self.meta().category
    }

    /// Sensitive settings are the secrets: encrypted at rest, never shown, never audited by value.
    pub fn is_sensitive(self) -> bool {
        matches!(self, Setting::Secret(_))
    }

    /// The value a missing row stands for.
    pub fn default_value(self) -> Value {
        match self {
            Setting::Integer(s) => Value::from(s.default),
            Setting::Boolean(s) => Value::Bool(s.default),
            Setting::Text(s) => Value::String(s.default.to_string()),
            Setting::Secret(_) => Value::Null,
        }
    }

    /// The `value_type` column of a row written for this setting (the words the seeds used).
    pub fn value_type(self) -> &'static str {
        match self {
            Setting::Integer(_) => "integer",
            Setting::Boolean(_) => "boolean",
            Setting::Text(_) => "string",
            Setting::Secret(_) => "secret",
        }
    }
}

/// The settings of one category, in page order.
pub fn in_category(category: Category) -> impl Iterator<Item = Setting> {
    ALL.iter()
        .copied()
        .filter(move |s| s.category() == category)
}

/// Declares each handle as a `pub const` and lists every one in `ALL`: a handle cannot exist
/// outside the table, and a handle cannot be listed as another type than it has.
macro_rules! registry {
    ($($(#[$doc:meta])* $name:ident = $variant:ident($ty:ident $fields:tt);)+) => {
        $($(#[$doc])* pub const $name: $ty = $ty $fields;)+

        /// Every registered setting, in page order within its category.
        pub static ALL: &[Setting] = &[$(Setting::$variant(&$name)),+];

        #[cfg(test)]
        const HANDLE_NAMES: &[&str] = &[$(stringify!($name)),+];
    };
}

registry! {
    SECURITY_LOCKOUT_THRESHOLD = Integer(IntSetting {
        meta: Meta {
            key: "security.lockout_threshold",
            category: Category::Security,
            label: "Lockout threshold",
            help: "Failed sign-ins before an account is locked",
        },
        min: 1,
        max: 100,
        default: 5,
    });
    SECURITY_LOCKOUT_MINUTES = Integer(IntSetting {
        meta: Meta {
            key: "security.lockout_minutes",
            category: Category::Security,
            label: "Lockout minutes",
            help: "Minutes an account (or a source address) stays locked after too many failed sign-ins",
        },
        min: 1,
        max: 1440,
        default: 15,
    });
    SECURITY_ADDRESS_FAILURE_LIMIT = Integer(IntSetting {
        meta: Meta {
            key: "security.address_failure_limit",
            category: Category::Security,
            label: "Failures per source address",
            help: "Failed sign-ins from one source address, to any accounts, before that address is refused for the lockout minutes",
        },
        min: 1,
        max: 10_000,
        default: 20,
    });
    SECURITY_SESSION_LIFETIME_MINUTES = Integer(IntSetting {
        meta: Meta {
            key: "security.session_lifetime_minutes",
            category: Category::Security,
            label: "Session lifetime (minutes)",
            help: "Minutes a sign-in session lasts before the user must sign in again",
        },
        min: 5,
        max: 43_200,
        default: 480,
    });
    SECURITY_PASSWORD_MIN_LENGTH = Integer(IntSetting {
        meta: Meta {
            key: "security.password_min_length",
            category: Category::Security,
            label: "Minimum password length",
            help: "Characters a new password needs at least",
        },
        min: 8,
        max: 128,
        default: 10,
    });
    SECURITY_PASSWORD_REQUIRE_MIXED = Boolean(BoolSetting {
        meta: Meta {
            key: "security.password_require_mixed",
            category: Category::Security,
            label: "Passwords mix letters and digits",
            help: "New passwords must contain letters and digits",
        },
        default: true,
    });
    // A fresh database holds 100: the first schema seeded 8 and the jobs migration raised an
    // unchanged 8 to 100 (backups mostly wait on the network; docs/BENCHMARKS.md).
    JOBS_CONCURRENCY = Integer(IntSetting {
        meta: Meta {
            key: "jobs.concurrency",
            category: Category::Jobs,
            label: "Devices at the same time",
            help: "Devices backed up at the same time by each worker process (applies after a restart)",
        },
        min: 1,
        max: 2000,
        default: 100,
    });
    JOBS_DEVICE_TIMEOUT_SECONDS = Integer(IntSetting {
        meta: Meta {
            key: "jobs.device_timeout_seconds",
            category: Category::Jobs,
            label: "Device step timeout (seconds)",
            help: "Timeout for each step of a device session",
        },
        min: 5,
        max: 3600,
        default: 60,
    });
    JOBS_LOG_RETENTION_DAYS = Integer(IntSetting {
        meta: Meta {
            key: "jobs.log_retention_days",
            category: Category::Jobs,
            label: "Job log retention (days)",
            help: "Days finished job logs are kept",
        },
        min: 1,
        max: 3650,
        default: 90,
    });
    BACKUPS_RETENTION_VERSIONS = Integer(IntSetting {
        meta: Meta {
            key: "backups.retention_versions",
            category: Category::Backups,
            label: "Versions kept per device",
            help: "Configuration versions kept per device (0 keeps all)",
        },
        min: 0,
        max: 100_000,
        default: 0,
    });
    BACKUPS_RETENTION_DAYS = Integer(IntSetting {
        meta: Meta {
            key: "backups.retention_days",
            category: Category::Backups,
            label: "Days versions are kept",
            help: "Days unchanged old versions are kept (0 keeps all)",
        },
        min: 0,
        max: 36_500,
        default: 0,
    });
    BACKUPS_STORE_SECRETS_MASKED = Boolean(BoolSetting {
        meta: Meta {
            key: "backups.store_secrets_masked",
            category: Category::Backups,
            label: "Store configurations masked",
            help: "Store configurations with secrets replaced by a marker",
        },
        default: true,
    });
    BACKUPS_SHOW_SECRETS_TO_ADMINS = Boolean(BoolSetting {
        meta: Meta {
            key: "backups.show_secrets_to_admins",
            category: Category::Backups,
            label: "Show secrets to administrators",
            help: "Administrators see secrets in stored configurations (when they were stored unmasked)",
        },
        default: false,
    });
    CREDENTIALS_EXPIRY_WARNING_DAYS = Integer(IntSetting {
        meta: Meta {
            key: "credentials.expiry_warning_days",
            category: Category::Credentials,
            label: "Expiry warning (days)",
            help: "Days before expiry a credential is shown as expiring",
        },
        min: 0,
        max: 365,
        default: 7,
    });
    NAUTOBOT_URL = Text(TextSetting {
        meta: Meta {
            key: "nautobot.url",
            category: Category::Nautobot,
            label: "Nautobot URL",
            help: "Base address of Nautobot, e.g. https://nautobot.example.net (empty: not configured)",
        },
        format: TextFormat::Url,
        default: "",
    });
    NAUTOBOT_TOKEN = Secret(SecretSetting {
        meta: Meta {
            key: "nautobot.token",
            category: Category::Nautobot,
            label: "API token",
            help: "Nautobot API token (a read-write token is needed for write-back and onboarding)",
        },
    });
    NAUTOBOT_TIMEOUT_SECONDS = Integer(IntSetting {
        meta: Meta {
            key: "nautobot.timeout_seconds",
            category: Category::Nautobot,
            label: "Timeout (seconds)",
            help: "Time each request to Nautobot may take",
        },
        min: 1,
        max: 600,
        default: 30,
    });
    NAUTOBOT_VERIFY_TLS = Boolean(BoolSetting {
        meta: Meta {
            key: "nautobot.verify_tls",
            category: Category::Nautobot,
            label: "Verify TLS certificates",
            help: "Refuse a Nautobot whose certificate is not trusted (turn off only for a lab)",
        },
        default: true,
    });
    NAUTOBOT_CA_FILE = Text(TextSetting {
        meta: Meta {
            key: "nautobot.ca_file",
            category: Category::Nautobot,
            label: "CA certificate file",
            help: "PEM file on the NetRaven server with the CA that signed Nautobot's certificate, trusted besides the system's (empty: system CAs only)",
        },
        format: TextFormat::Plain,
        default: "",
    });
    NAUTOBOT_ONBOARD_LOCATION = Text(TextSetting {
        meta: Meta {
            key: "nautobot.onboard_location",
            category: Category::Nautobot,
            label: "Onboarding: location",
            help: "Location a device added to Nautobot gets unless another is chosen",
        },
        format: TextFormat::Plain,
        default: "",
    });
    NAUTOBOT_ONBOARD_ROLE = Text(TextSetting {
        meta: Meta {
            key: "nautobot.onboard_role",
            category: Category::Nautobot,
            label: "Onboarding: role",
            help: "Role a device added to Nautobot gets unless another is chosen",
        },
        format: TextFormat::Plain,
        default: "",
    });
    NAUTOBOT_ONBOARD_STATUS = Text(TextSetting {
        meta: Meta {
            key: "nautobot.onboard_status",
            category: Category::Nautobot,
            label: "Onboarding: status",
            help: "Status of a device added to Nautobot, and of its interface and IP address",
        },
        format: TextFormat::Plain,
        default: "Active",
    });
    NAUTOBOT_ONBOARD_DEVICE_TYPE = Text(TextSetting {
        meta: Meta {
            key: "nautobot.onboard_device_type",
            category: Category::Nautobot,
            label: "Onboarding: device type",
            help: "Device type (model) used when the device's model fact matches none in Nautobot",
        },
        format: TextFormat::Plain,
        default: "",
    });
    NAUTOBOT_ONBOARD_NAMESPACE = Text(TextSetting {
        meta: Meta {
            key: "nautobot.onboard_namespace",
            category: Category::Nautobot,
            label: "Onboarding: IP namespace",
            help: "Namespace the management address is created in",
        },
        format: TextFormat::Plain,
        default: "Global",
    });
    NAUTOBOT_ONBOARD_INTERFACE = Text(TextSetting {
        meta: Meta {
            key: "nautobot.onboard_interface",
            category: Category::Nautobot,
            label: "Onboarding: management interface",
            help: "Name of the interface created to carry the management address",
        },
        format: TextFormat::Plain,
        default: "Management",
    });
    CHECKMK_URL = Text(TextSetting {
        meta: Meta {
            key: "checkmk.url",
            category: Category::Checkmk,
            label: "CheckMK site URL",
            help: "The site's address, e.g. https://monitoring.example.net/prod (empty: not configured)",
        },
        format: TextFormat::Url,
        default: "",
    });
    CHECKMK_USER = Text(TextSetting {
        meta: Meta {
            key: "checkmk.user",
            category: Category::Checkmk,
            label: "Automation user",
            help: "The CheckMK automation user NetRaven signs in as",
        },
        format: TextFormat::Plain,
        default: "automation",
    });
    CHECKMK_SECRET = Secret(SecretSetting {
        meta: Meta {
            key: "checkmk.secret",
            category: Category::Checkmk,
            label: "Automation secret",
            help: "The automation user's secret",
        },
    });
    CHECKMK_TIMEOUT_SECONDS = Integer(IntSetting {
        meta: Meta {
            key: "checkmk.timeout_seconds",
            category: Category::Checkmk,
            label: "Timeout (seconds)",
            help: "Time each request to CheckMK may take",
        },
        min: 1,
        max: 600,
        default: 30,
    });
    CHECKMK_VERIFY_TLS = Boolean(BoolSetting {
        meta: Meta {
            key: "checkmk.verify_tls",
            category: Category::Checkmk,
            label: "Verify TLS certificates",
            help: "Refuse a CheckMK whose certificate is not trusted (turn off only for a lab)",
        },
        default: true,
    });
    DISCOVERY_MAX_ADDRESSES = Integer(IntSetting {
        meta: Meta {
            key: "discovery.max_addresses",
            category: Category::Discovery,
            label: "Addresses per scan",
            help: "The most addresses one scan may cover (after exclusions)",
        },
        min: 1,
        max: 65_536,
        default: 4096,
    });
    DISCOVERY_SSH_PORTS = Text(TextSetting {
        meta: Meta {
            key: "discovery.ssh_ports",
            category: Category::Discovery,
            label: "SSH ports",
            help: "The TCP ports a scan probes unless its form says otherwise (comma-separated)",
        },
        format: TextFormat::Plain,
        default: "22",
    });
    DISCOVERY_MAX_CONCURRENCY = Integer(IntSetting {
        meta: Meta {
            key: "discovery.max_concurrency",
            category: Category::Discovery,
            label: "Most addresses at the same time",
            help: "The highest concurrency a scan may ask for",
        },
        min: 1,
        max: 4096,
        default: 512,
    });
    DISCOVERY_MAX_TIMEOUT_SECONDS = Integer(IntSetting {
        meta: Meta {
            key: "discovery.max_timeout_seconds",
            category: Category::Discovery,
            label: "Longest timeout (seconds)",
            help: "The longest wait a scan may ask for at each step (connecting, the banner, each prompt)",
        },
        min: 1,
        max: 600,
        default: 30,
    });
    DISCOVERY_RATE_PER_SECOND = Integer(IntSetting {
        meta: Meta {
            key: "discovery.rate_per_second",
            category: Category::Discovery,
            label: "New connections per second",
            help: "How fast one scan opens connections (a rate limit per scan)",
        },
        min: 1,
        max: 10_000,
        default: 500,
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_unique_and_named_after_their_handles() {
        for (i, s) in ALL.iter().enumerate() {
            assert!(
                ALL[..i].iter().all(|other| other.key() != s.key()),
                "{} twice",
                s.key()
            );
            assert_eq!(HANDLE_NAMES[i], s.key().replace('.', "_").to_uppercase());
        }
    }

    #[test]
    fn each_key_starts_with_its_category() {
        for s in ALL {
            assert!(
                s.key().starts_with(&format!("{}.", s.category().id())),
                "{}",
                s.key()
            );
        }
    }

    #[test]
    fn every_category_has_settings_and_ids_round_trip() {
        for c in Category::ALL {
            assert!(in_category(c).next().is_some(), "{c:?} is empty");
            assert_eq!(Category::from_id(c.id()), Some(c));
        }
    }

    #[test]
    fn integer_defaults_lie_within_their_bounds() {
        for s in ALL {
            if let Setting::Integer(i) = s {
                assert!(
                    i.min <= i.max && (i.min..=i.max).contains(&i.default),
                    "{s:?}"
                );
            }
        }
    }

    #[test]
    fn features_without_a_reader_are_not_registered() {
        assert!(ALL.iter().all(|s| !s.key().starts_with("notifications.")));
        assert_eq!(Category::from_id("notifications"), None);
    }
}
