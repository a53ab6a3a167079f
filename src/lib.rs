//! NetRaven: network configuration backup and management.
//! The binary (`src/main.rs`) and the integration tests both use this library.

pub mod auth;
pub mod background;
pub mod bootstrap;
pub mod cli;
pub mod config;
pub mod crypto;
pub mod data_dir;
pub mod db;
pub mod device;
pub mod entity;
pub mod error;
pub mod services;
pub mod startup;
pub mod telemetry;
pub mod vocabulary;
pub mod web;
