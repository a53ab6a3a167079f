//! One integration-test binary: every module drives the real application over HTTP.

mod auth;
mod backups;
mod browser;
mod credential_abuse;
mod credentials;
mod device_access;
mod device_csv;
mod engine;
mod errors;
mod hardening;
mod helpers;
mod inventory;
mod job_live;
mod jobs;
mod lists;
mod matrix;
mod multinode;
mod reliability;
mod schedules;
mod search;
mod security;
mod settings;
mod startup;
mod tag_rules;
mod templates;
mod users;
