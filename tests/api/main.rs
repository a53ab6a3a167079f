//! One integration-test binary: every module drives the real application over HTTP.

mod auth;
mod browser;
mod credentials;
mod device_access;
mod device_csv;
mod engine;
mod helpers;
mod inventory;
mod jobs;
mod matrix;
mod schedules;
mod multinode;
mod settings;
mod startup;
mod tag_rules;
mod users;
