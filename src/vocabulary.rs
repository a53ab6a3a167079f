//! The words stored in text columns — statuses, kinds, levels — as Rust enums, each with the
//! text it is stored as and the badge a page shows it with. A new variant makes every `match` on
//! its enum fail to compile until it is handled; nothing compares these words as strings.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};

/// An enum stored as the given texts: `ALL`, `as_str`, `parse` and `Display` from one table.
macro_rules! stored_words {
    ($(#[$meta:meta])* $name:ident { $($(#[$vmeta:meta])* $variant:ident = $text:literal),+ $(,)? }) => {
        $(#[$meta])*
        #[derive(
            Clone, Copy, Debug, PartialEq, Eq, Hash, EnumIter, DeriveActiveEnum, Serialize,
            Deserialize,
        )]
        #[sea_orm(rs_type = "String", db_type = "Text")]
        pub enum $name {
            $($(#[$vmeta])* #[sea_orm(string_value = $text)] #[serde(rename = $text)] $variant),+
        }

        impl $name {
            pub const ALL: &'static [$name] = &[$($name::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self {
                    $($name::$variant => $text),+
                }
            }

            pub fn parse(text: &str) -> Option<Self> {
                Self::ALL.iter().copied().find(|v| v.as_str() == text)
            }
        }

        /// In the API's description: a string, one of the stored words.
        impl utoipa::PartialSchema for $name {
            fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
                utoipa::openapi::ObjectBuilder::new()
                    .schema_type(utoipa::openapi::schema::Type::String)
                    .enum_values(Some([$($text),+]))
                    .into()
            }
        }

        impl utoipa::ToSchema for $name {
            fn name() -> std::borrow::Cow<'static, str> {
                std::borrow::Cow::Borrowed(stringify!($name))
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

stored_words! {
    /// Where a job stands.
    JobStatus {
        Queued = "queued",
        Running = "running",
        Success = "success",
        /// Some devices failed, some succeeded.
        Partial = "partial",
        Failed = "failed",
        Cancelled = "cancelled",
    }
}

impl JobStatus {
    /// Not finished yet: it can still be cancelled and its page still changes.
    pub fn is_open(self) -> bool {
        match self {
            JobStatus::Queued | JobStatus::Running => true,
            JobStatus::Success | JobStatus::Partial | JobStatus::Failed | JobStatus::Cancelled => {
                false
            }
        }
    }

    pub fn badge(self) -> &'static str {
        match self {
            JobStatus::Success => "badge-ok",
            JobStatus::Failed => "badge-err",
            JobStatus::Partial | JobStatus::Cancelled => "badge-warn",
            JobStatus::Queued | JobStatus::Running => "badge-info",
        }
    }
}

stored_words! {
    /// Where one device of a job stands (also a device's last backup).
    ResultStatus {
        Queued = "queued",
        Running = "running",
        Success = "success",
        Failed = "failed",
        /// Not tried: the device was deleted or disabled in the meantime.
        Skipped = "skipped",
        Cancelled = "cancelled",
    }
}

impl ResultStatus {
    /// Still to run or running.
    pub fn is_open(self) -> bool {
        match self {
            ResultStatus::Queued | ResultStatus::Running => true,
            ResultStatus::Success
            | ResultStatus::Failed
            | ResultStatus::Skipped
            | ResultStatus::Cancelled => false,
        }
    }

    pub fn badge(self) -> &'static str {
        match self {
            ResultStatus::Success => "badge-ok",
            ResultStatus::Failed => "badge-err",
            ResultStatus::Cancelled => "badge-warn",
            ResultStatus::Queued | ResultStatus::Running => "badge-info",
            ResultStatus::Skipped => "badge-muted",
        }
    }

    /// How a job's progress card counts it ("3 ok").
    pub fn tally_word(self) -> &'static str {
        match self {
            ResultStatus::Success => "ok",
            ResultStatus::Failed => "failed",
            ResultStatus::Running => "running",
            ResultStatus::Queued => "waiting",
            ResultStatus::Skipped => "skipped",
            ResultStatus::Cancelled => "cancelled",
        }
    }

    /// Where a job page lists it: failures first, then what is still running.
    pub fn list_rank(self) -> u8 {
        match self {
            ResultStatus::Failed => 0,
            ResultStatus::Running => 1,
            ResultStatus::Queued => 2,
            ResultStatus::Success | ResultStatus::Skipped | ResultStatus::Cancelled => 3,
        }
    }
}

stored_words! {
    /// What a job does.
    JobType {
        Backup = "backup",
        /// Removes old configuration versions and job logs.
        Retention = "retention",
        /// Brings a git repository's local copy up to date with its remote.
        GitSync = "git_sync",
        /// Reads a Nautobot source and plans (preview) or applies its devices.
        NautobotSync = "nautobot_sync",
        /// Compares the CheckMK mapping's devices with CheckMK's hosts (and, when scheduled,
        /// applies what the mapping allows).
        CheckmkCompare = "checkmk_compare",
        /// Adds, updates or deletes CheckMK hosts from comparison results, and activates.
        CheckmkApply = "checkmk_apply",
        /// Runs commands on devices and keeps their outputs.
        CommandRun = "command_run",
        /// Pushes configuration lines to devices, then backs them up.
        ConfigPush = "config_push",
        /// Scans address ranges for devices and identifies them.
        Discovery = "discovery",
    }
}

impl JobType {
    /// What the job does, for the schedule form's menu.
    pub fn label(self) -> &'static str {
        match self {
            JobType::Backup => "Backup: fetch and store configurations",
            JobType::Retention => "Retention: remove old versions and job logs",
            JobType::GitSync => "Git sync: update a repository's local copy",
            JobType::NautobotSync => "Nautobot sync: apply a source's devices",
            JobType::CheckmkCompare => {
                "CheckMK sync: compare hosts (and apply what the mapping allows)"
            }
            JobType::CheckmkApply => "CheckMK changes: add, update, delete hosts, activate",
            JobType::CommandRun => "Command run: run commands on devices",
            JobType::ConfigPush => "Configuration push: send lines to devices",
            JobType::Discovery => "Discovery: scan address ranges for devices",
        }
    }

    /// A job of devices: one task and one result per device (the others are one task).
    pub fn on_devices(self) -> bool {
        matches!(
            self,
            JobType::Backup | JobType::CommandRun | JobType::ConfigPush
        )
    }

    /// What a schedule can run (a git sync starts from its repository's page).
    pub const SCHEDULED: [JobType; 5] = [
        JobType::Backup,
        JobType::Retention,
        JobType::NautobotSync,
        JobType::CheckmkCompare,
        JobType::Discovery,
    ];
}

stored_words! {
    /// How much a job log entry matters.
    LogLevel {
        Debug = "debug",
        Info = "info",
        Warning = "warning",
        Error = "error",
    }
}

impl LogLevel {
    pub fn badge(self) -> &'static str {
        match self {
            LogLevel::Error => "badge-err",
            LogLevel::Warning => "badge-warn",
            LogLevel::Debug => "badge-muted",
            LogLevel::Info => "badge-info",
        }
    }
}

stored_words! {
    /// What a credential is for.
    CredentialKind {
        Ssh = "ssh",
        /// A TACACS+ account (keyboard-interactive logins).
        Tacacs = "tacacs",
        Generic = "generic",
        /// An API token (a username is optional).
        Token = "token",
    }
}

stored_words! {
    /// How a schedule repeats.
    ScheduleKind {
        Once = "once",
        Interval = "interval",
        Daily = "daily",
        Weekly = "weekly",
        Monthly = "monthly",
        Cron = "cron",
    }
}

impl ScheduleKind {
    pub fn label(self) -> &'static str {
        match self {
            ScheduleKind::Once => "Once",
            ScheduleKind::Interval => "Every N minutes",
            ScheduleKind::Daily => "Daily",
            ScheduleKind::Weekly => "Weekly",
            ScheduleKind::Monthly => "Monthly",
            ScheduleKind::Cron => "Cron expression",
        }
    }
}

stored_words! {
    /// Which devices a job or schedule covers (the ids live beside it).
    TargetKind {
        Device = "device",
        Tag = "tag",
        /// A selection from the device list (jobs only).
        Devices = "devices",
        All = "all",
        /// A Nautobot source (the `nautobot_sync` job type).
        NautobotSource = "nautobot_source",
        /// The ranges, ports and credentials of a scan (the `discovery` job type).
        Scan = "scan",
    }
}

impl TargetKind {
    /// The choices a schedule offers.
    pub const FOR_SCHEDULES: [TargetKind; 3] =
        [TargetKind::All, TargetKind::Device, TargetKind::Tag];

    pub fn label(self) -> &'static str {
        match self {
            TargetKind::Device => "One device",
            TargetKind::Tag => "Devices with a tag",
            TargetKind::Devices => "Selected devices",
            TargetKind::All => "All devices",
            TargetKind::NautobotSource => "A Nautobot source",
            TargetKind::Scan => "The ranges of a scan",
        }
    }
}

stored_words! {
    /// What an audit entry is about.
    AuditKind {
        /// Signing in and out.
        Auth = "auth",
        /// Inventory, credentials, users, schedules.
        Data = "data",
        /// Settings.
        Admin = "admin",
        /// Lockouts, refused requests, password resets.
        Security = "security",
        Job = "job",
    }
}

stored_words! {
    /// Whether an audited action went through.
    Outcome {
        Success = "success",
        Failure = "failure",
    }
}

impl Outcome {
    pub fn badge(self) -> &'static str {
        match self {
            Outcome::Success => "badge-ok",
            Outcome::Failure => "badge-err",
        }
    }
}

stored_words! {
    /// What a git repository holds.
    RepoCategory {
        /// Device configurations (the mirror writes here).
        Configs = "configs",
        Templates = "templates",
        /// Onboarding and inventory files.
        Inventory = "inventory",
    }
}

impl RepoCategory {
    pub fn label(self) -> &'static str {
        match self {
            RepoCategory::Configs => "Configurations",
            RepoCategory::Templates => "Templates",
            RepoCategory::Inventory => "Inventory",
        }
    }
}

stored_words! {
    /// Where a git repository's local copy stands.
    SyncStatus {
        Synced = "synced",
        Syncing = "syncing",
        Error = "error",
    }
}

impl SyncStatus {
    pub fn badge(self) -> &'static str {
        match self {
            SyncStatus::Synced => "badge-ok",
            SyncStatus::Syncing => "badge-info",
            SyncStatus::Error => "badge-err",
        }
    }
}

stored_words! {
    /// Where a device came from.
    DeviceSource {
        /// Typed in on the device form (or through the API).
        Manual = "manual",
        Csv = "csv",
        /// Imported by a Nautobot source's sync (`nautobot_source_id`).
        Nautobot = "nautobot",
    }
}

impl DeviceSource {
    /// Added by a person: a sync never disables or deletes such a device.
    pub fn is_by_hand(self) -> bool {
        matches!(self, DeviceSource::Manual | DeviceSource::Csv)
    }
}

stored_words! {
    /// What a Nautobot sync does (or would do) with one device.
    SyncAction {
        Add = "add",
        Update = "update",
        /// Left the source: disabled (or deleted, as the source says).
        Disable = "disable",
        Delete = "delete",
        /// A hand-added device has the name; left alone unless the source adopts such devices.
        Conflict = "conflict",
        /// Cannot be imported (the reason says why); nothing of it is stored.
        Skip = "skip",
    }
}

impl SyncAction {
    pub fn badge(self) -> &'static str {
        match self {
            SyncAction::Add => "badge-ok",
            SyncAction::Update => "badge-info",
            SyncAction::Disable | SyncAction::Conflict => "badge-warn",
            SyncAction::Delete => "badge-err",
            SyncAction::Skip => "badge-muted",
        }
    }

    /// Changes the inventory when applied.
    pub fn changes(self) -> bool {
        matches!(
            self,
            SyncAction::Add | SyncAction::Update | SyncAction::Disable | SyncAction::Delete
        )
    }
}

stored_words! {
    /// What a sync does with a device that left its source.
    LeaveAction {
        Disable = "disable",
        Delete = "delete",
    }
}

stored_words! {
    /// Where the CheckMK mapping takes its devices from.
    CheckmkSourceKind {
        /// NetRaven's own inventory, limited by a tag.
        Inventory = "inventory",
        /// A Nautobot source's devices, read from Nautobot.
        Nautobot = "nautobot",
    }
}

stored_words! {
    /// How a device's desired CheckMK host compares with CheckMK.
    CheckmkStatus {
        Equal = "equal",
        /// In CheckMK, with other attributes or in another folder.
        Diff = "diff",
        /// Not in CheckMK.
        Missing = "missing",
        /// Could not be compared (the message says why).
        Error = "error",
        /// In a mapped folder of CheckMK, produced by no source device.
        Extra = "extra",
    }
}

impl CheckmkStatus {
    pub fn badge(self) -> &'static str {
        match self {
            CheckmkStatus::Equal => "badge-ok",
            CheckmkStatus::Diff => "badge-info",
            CheckmkStatus::Missing | CheckmkStatus::Extra => "badge-warn",
            CheckmkStatus::Error => "badge-err",
        }
    }

    /// What acting on a result of this status does.
    pub fn action(self) -> Option<CheckmkAction> {
        match self {
            CheckmkStatus::Missing => Some(CheckmkAction::Add),
            CheckmkStatus::Diff => Some(CheckmkAction::Update),
            CheckmkStatus::Extra => Some(CheckmkAction::Delete),
            CheckmkStatus::Equal | CheckmkStatus::Error => None,
        }
    }
}

stored_words! {
    /// What NetRaven did in CheckMK about a comparison result.
    CheckmkAction {
        /// Created the host (and its folders).
        Add = "add",
        /// Moved the host and replaced its attributes.
        Update = "update",
        Delete = "delete",
    }
}

stored_words! {
    /// How far discovery got with one address, and why it stopped there.
    DiscoveryOutcome {
        /// Logged in and recognised the platform: host name and facts read.
        Identified = "identified",
        /// Nothing listens on the port (the connection was refused).
        Closed = "closed",
        /// No answer to the connection (filtered, or no host).
        Timeout = "timeout",
        /// Something answered that is not an SSH server.
        NotSsh = "not_ssh",
        /// The connection was accepted and nothing was said (no SSH identification).
        Silent = "silent",
        /// SSH, and every credential was refused.
        AuthFailed = "auth_failed",
        /// SSH, and there was no credential to try.
        NoCredential = "no_credential",
        /// Logged in, and no platform profile recognised the device.
        Unrecognised = "unrecognised",
        /// SSH, and the session failed on the way (negotiation, dropped connection).
        Failed = "failed",
    }
}

impl DiscoveryOutcome {
    /// The furthest stage reached, in words.
    pub fn stage(self) -> &'static str {
        match self {
            DiscoveryOutcome::Closed | DiscoveryOutcome::Timeout => "unreachable",
            DiscoveryOutcome::NotSsh | DiscoveryOutcome::Silent => "reachable",
            DiscoveryOutcome::AuthFailed
            | DiscoveryOutcome::NoCredential
            | DiscoveryOutcome::Failed => "SSH",
            DiscoveryOutcome::Unrecognised => "authenticated",
            DiscoveryOutcome::Identified => "identified",
        }
    }

    pub fn badge(self) -> &'static str {
        match self {
            DiscoveryOutcome::Identified => "badge-ok",
            DiscoveryOutcome::Closed | DiscoveryOutcome::Timeout => "badge-muted",
            DiscoveryOutcome::Unrecognised
            | DiscoveryOutcome::NotSsh
            | DiscoveryOutcome::Silent => "badge-warn",
            DiscoveryOutcome::AuthFailed
            | DiscoveryOutcome::NoCredential
            | DiscoveryOutcome::Failed => "badge-err",
        }
    }
}

stored_words! {
    /// Where a configuration push stands on one device.
    PushStatus {
        /// Not started yet (or never, when the job was cancelled first).
        Pending = "pending",
        /// Every line is in (and committed where the platform commits).
        Applied = "applied",
        /// The device refused a line or the commit; the push stopped there.
        Refused = "refused",
        /// The device could not be reached or the session broke.
        Failed = "failed",
    }
}

impl PushStatus {
    pub fn badge(self) -> &'static str {
        match self {
            PushStatus::Applied => "badge-ok",
            PushStatus::Refused | PushStatus::Failed => "badge-err",
            PushStatus::Pending => "badge-muted",
        }
    }
}

stored_words! {
    /// What a template's text is.
    TemplateKind {
        Jinja2 = "jinja2",
        /// Sent as written.
        Text = "text",
        Yaml = "yaml",
        Json = "json",
        /// Parses command output into records.
        Textfsm = "textfsm",
    }
}

impl TemplateKind {
    pub fn label(self) -> &'static str {
        match self {
            TemplateKind::Jinja2 => "Jinja2",
            TemplateKind::Text => "text",
            TemplateKind::Yaml => "YAML",
            TemplateKind::Json => "JSON",
            TemplateKind::Textfsm => "TextFSM",
        }
    }
}

stored_words! {
    /// Where a template's text comes from.
    TemplateSource {
        /// Typed in the editor.
        Editor = "editor",
        /// An uploaded file.
        Upload = "upload",
        /// A file of a git repository.
        Git = "git",
    }
}

stored_words! {
    /// Who sees a template.
    TemplateScope {
        /// Everyone who may read templates ("general").
        Global = "global",
        /// Its owner only.
        Private = "private",
    }
}
