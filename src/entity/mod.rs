//! SeaORM entities, one module per table.

pub mod admin_settings;
pub mod api_tokens;
pub mod audit_logs;
pub mod backups;
pub mod credential_tags;
pub mod credentials;
pub mod device_tags;
pub mod devices;
pub mod git_mirror_files;
pub mod git_repositories;
pub mod job_log_entries;
pub mod job_logs;
pub mod job_results;
pub mod login_throttle;
pub mod nautobot_platforms;
pub mod nautobot_sources;
pub mod nautobot_sync_items;
pub mod nb2cmk_results;
pub mod scheduled_jobs;
pub mod sessions;
pub mod tag_rules;
pub mod tags;
pub mod template_versions;
pub mod templates;
pub mod user_login_addresses;
pub mod users;
