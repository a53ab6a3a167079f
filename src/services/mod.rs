//! Business logic. Each function takes a database connection so handlers, the CLI, workers and
//! tests share it.

pub mod after_backup;
pub mod api_tokens;
pub mod audit;
pub mod backups;
pub mod checkmk;
pub mod commands;
pub mod config_diff;
pub mod config_search;
pub mod credentials;
pub mod dashboard;
pub mod device_access;
pub mod device_csv;
pub mod devices;
pub mod discovery;
pub mod git;
pub mod http;
pub mod jobs;
pub mod keys;
pub mod nautobot;
pub mod oxidized;
pub mod push;
pub mod query;
pub mod retention;
pub mod rule_criteria;
pub mod schedules;
pub mod seed;
pub mod settings;
pub mod sign_in;
pub mod tag_rules;
pub mod tags;
pub mod templates;
pub mod users;
pub mod validation;
