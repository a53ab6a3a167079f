//! What can go wrong while talking to a device, worded for the engineer who reads the job log.
//! Every error belongs to a class with a stable id (stored with job results) and a CLI exit code.

use std::time::Duration;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ErrorClass {
    ConnectionRefused,
    Unreachable,
    HostKeyChanged,
    AuthFailed,
    EnableRefused,
    PromptNotRecognised,
    CommandRejected,
    ConnectionDropped,
    Protocol,
    Configuration,
}

impl ErrorClass {
    pub const ALL: [ErrorClass; 10] = [
        ErrorClass::ConnectionRefused,
        ErrorClass::Unreachable,
        ErrorClass::HostKeyChanged,
        ErrorClass::AuthFailed,
        ErrorClass::EnableRefused,
        ErrorClass::PromptNotRecognised,
        ErrorClass::CommandRejected,
        ErrorClass::ConnectionDropped,
        ErrorClass::Protocol,
        ErrorClass::Configuration,
    ];

    /// Stable id, stored in `job_results.error_class`.
    pub fn id(self) -> &'static str {
        match self {
            ErrorClass::ConnectionRefused => "connection_refused",
            ErrorClass::Unreachable => "unreachable",
            ErrorClass::HostKeyChanged => "host_key_changed",
            ErrorClass::AuthFailed => "auth_failed",
            ErrorClass::EnableRefused => "enable_refused",
            ErrorClass::PromptNotRecognised => "prompt_not_recognised",
            ErrorClass::CommandRejected => "command_rejected",
            ErrorClass::ConnectionDropped => "connection_dropped",
            ErrorClass::Protocol => "ssh_protocol",
            ErrorClass::Configuration => "configuration",
        }
    }

    /// Exit code of `netraven device fetch` (documented in its `--help`).
    pub fn exit_code(self) -> i32 {
        match self {
            ErrorClass::ConnectionRefused => 10,
            ErrorClass::Unreachable => 11,
            ErrorClass::HostKeyChanged => 12,
            ErrorClass::AuthFailed => 13,
            ErrorClass::EnableRefused => 14,
            ErrorClass::PromptNotRecognised => 15,
            ErrorClass::CommandRejected => 16,
            ErrorClass::ConnectionDropped => 17,
            ErrorClass::Protocol => 18,
            ErrorClass::Configuration => 19,
        }
    }

    pub fn describe(self) -> &'static str {
        match self {
            ErrorClass::ConnectionRefused => "connection refused",
            ErrorClass::Unreachable => "no route or no answer (timeout)",
            ErrorClass::HostKeyChanged => "SSH host key changed",
            ErrorClass::AuthFailed => "authentication failed",
            ErrorClass::EnableRefused => "enable refused",
            ErrorClass::PromptNotRecognised => "prompt not recognised",
            ErrorClass::CommandRejected => "command rejected",
            ErrorClass::ConnectionDropped => "connection dropped",
            ErrorClass::Protocol => "SSH negotiation failed",
            ErrorClass::Configuration => "bad local settings (platform, key, credentials)",
        }
    }
}

#[derive(Debug, Clone, thiserror::Error)]
pub enum DeviceError {
    #[error("connection refused by {addr}: nothing listens on that port, or a firewall rejects it")]
    ConnectionRefused { addr: String },
    #[error("no route to {addr}: {detail}")]
    NoRoute { addr: String, detail: String },
    #[error("no answer from {addr} within {}s while {stage}", .after.as_secs_f32())]
    Timeout {
        addr: String,
        stage: &'static str,
        after: Duration,
    },
    #[error(
        "the SSH host key of {addr} changed: NetRaven knows {expected}, the device presented {presented}. \
         If the device was replaced or re-keyed, an administrator can accept the new key; otherwise \
         someone may be intercepting the connection"
    )]
    HostKeyChanged {
        addr: String,
        expected: String,
        presented: String,
        /// The presented key as an OpenSSH line, kept for an administrator to accept.
        presented_key: String,
    },
    #[error(
        "authentication failed with credential {credential:?}{}: {detail}",
        .username.as_ref().map(|u| format!(" (user {u:?})")).unwrap_or_default()
    )]
    AuthFailed {
        credential: String,
        /// None for a private credential, whose username is its owner's to see.
        username: Option<String>,
        detail: String,
    },
    #[error("enable refused with credential {credential:?}: {detail}")]
    EnableRefused { credential: String, detail: String },
    #[error("prompt not recognised within {}s while {stage}; last output seen: {tail:?}", .after.as_secs_f32())]
    PromptNotRecognised {
        stage: &'static str,
        after: Duration,
        tail: String,
    },
    #[error("the device rejected {command:?}: {message}")]
    CommandRejected { command: String, message: String },
    #[error("the connection was dropped while {stage} ({bytes} bytes of output received)")]
    ConnectionDropped { stage: String, bytes: usize },
    #[error("SSH negotiation with {addr} failed: {detail}")]
    Protocol { addr: String, detail: String },
    #[error("{0}")]
    Configuration(String),
}

impl DeviceError {
    pub fn class(&self) -> ErrorClass {
        match self {
            DeviceError::ConnectionRefused { .. } => ErrorClass::ConnectionRefused,
            DeviceError::NoRoute { .. } | DeviceError::Timeout { .. } => ErrorClass::Unreachable,
            DeviceError::HostKeyChanged { .. } => ErrorClass::HostKeyChanged,
            DeviceError::AuthFailed { .. } => ErrorClass::AuthFailed,
            DeviceError::EnableRefused { .. } => ErrorClass::EnableRefused,
            DeviceError::PromptNotRecognised { .. } => ErrorClass::PromptNotRecognised,
            DeviceError::CommandRejected { .. } => ErrorClass::CommandRejected,
            DeviceError::ConnectionDropped { .. } => ErrorClass::ConnectionDropped,
            DeviceError::Protocol { .. } => ErrorClass::Protocol,
            DeviceError::Configuration(_) => ErrorClass::Configuration,
        }
    }

    /// Errors that another credential could fix: the next credential is tried after these.
    pub fn is_credential_problem(&self) -> bool {
        matches!(
            self.class(),
            ErrorClass::AuthFailed | ErrorClass::EnableRefused
        )
    }
}

/// The last `n` bytes of output as text, for error messages about unrecognised prompts.
pub fn tail_text(output: &[u8], n: usize) -> String {
    let start = output.len().saturating_sub(n);
    String::from_utf8_lossy(&output[start..]).into_owned()
}
