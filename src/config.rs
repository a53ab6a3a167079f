//! Settings: built-in defaults, then an optional TOML file, then `NETRAVEN_*` environment variables.

use std::path::{Path, PathBuf};

use serde::Deserialize;

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("cannot read config file {path}: {source}")]
    Read {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("config file {path} is not valid TOML: {message}")]
    Parse { path: PathBuf, message: String },
    #[error("config file {path}: {message}")]
    Value { path: PathBuf, message: String },
    #[error("environment variable {name} has an invalid value {value:?}: expected {expected}")]
    Env {
        name: &'static str,
        value: String,
        expected: &'static str,
    },
}

/// Everything the process needs to start. Secrets (session key, Fernet keys) are read from here
/// when given in the environment; otherwise `crypto` keeps them in files inside `data_dir`.
#[derive(Clone, Debug)]
pub struct Settings {
    pub data_dir: PathBuf,
    pub database_url: String,
    pub bind: String,
    pub admin_password: Option<String>,
    pub behind_tls: bool,
    pub cookie_secure: bool,
    pub log: String,
    pub session_key: Option<String>,
    pub fernet_keys: Option<String>,
    /// The origin (scheme://host[:port]) browsers use to reach this server, from
    /// `NETRAVEN_PUBLIC_URL`. When set, unsafe requests must come from it (or `trusted_origins`).
    pub public_origin: Option<String>,
    /// Extra origins (scheme://host[:port]) accepted by the CSRF origin check, for reverse proxies
    /// that rewrite the Host header.
    pub trusted_origins: Vec<String>,
    /// Peers whose `X-Forwarded-For` / `-Proto` / `-Host` headers are believed (reverse proxies).
    /// From anyone else those headers are ignored: a client could name any address or host.
    pub trusted_proxies: Vec<ipnet::IpNet>,
    /// Threads that serve HTTP. Each request hands most of its work to the database (SQLite's
    /// connection threads, or PostgreSQL's processes), which need cores of their own.
    pub http_workers: usize,
    /// How long `netraven worker` lets its workers retry without working before it exits
    /// non-zero for its service manager to start it again.
    pub worker_give_up: std::time::Duration,
}

/// The optional TOML file: same names as the environment variables, lower case, without prefix.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct FileSettings {
    data_dir: Option<PathBuf>,
    database_url: Option<String>,
    bind: Option<String>,
    behind_tls: Option<bool>,
    cookie_secure: Option<bool>,
    log: Option<String>,
    public_url: Option<String>,
    trusted_origins: Option<Vec<String>>,
    trusted_proxies: Option<Vec<String>>,
    http_workers: Option<usize>,
    worker_give_up_secs: Option<usize>,
}

impl Settings {
    /// Loads settings from the optional file (`NETRAVEN_CONFIG`) and the process environment.
    pub fn load(config_file: Option<&Path>) -> Result<Self, ConfigError> {
        let env = |name: &str| std::env::var(name).ok().filter(|v| !v.is_empty());
        let file_path = config_file
            .map(Path::to_path_buf)
            .or_else(|| env("NETRAVEN_CONFIG").map(PathBuf::from));
        Self::from_sources(file_path.as_deref(), env)
    }

    /// The pure part of `load`, so tests can pass their own environment.
    pub fn from_sources(
        file: Option<&Path>,
        env: impl Fn(&str) -> Option<String>,
    ) -> Result<Self, ConfigError> {
        let file_path = file.map(Path::to_path_buf).unwrap_or_default();
        let file = match file {
            Some(path) => {
                let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
                    path: path.to_path_buf(),
                    source,
                })?;
                toml::from_str::<FileSettings>(&text).map_err(|e| ConfigError::Parse {
                    path: path.to_path_buf(),
                    message: e.to_string(),
                })?
            }
            None => FileSettings::default(),
        };

        let data_dir = env("NETRAVEN_DATA_DIR")
            .map(PathBuf::from)
            .or(file.data_dir)
            .unwrap_or_else(|| PathBuf::from("./data"));
        let database_url = env("NETRAVEN_DATABASE_URL")
            .or(file.database_url)
            .unwrap_or_else(|| default_sqlite_url(&data_dir));
        let behind_tls = match env("NETRAVEN_BEHIND_TLS") {
            Some(v) => parse_bool("NETRAVEN_BEHIND_TLS", &v)?,
            None => file.behind_tls.unwrap_or(false),
        };
        let cookie_secure = match env("NETRAVEN_COOKIE_SECURE") {
            Some(v) => parse_bool("NETRAVEN_COOKIE_SECURE", &v)?,
            None => file.cookie_secure.unwrap_or(behind_tls),
        };
        let list = |v: String| -> Vec<String> {
            v.split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect()
        };
        let trusted_origins = match env("NETRAVEN_TRUSTED_ORIGINS") {
            Some(v) => list(v),
            None => file.trusted_origins.unwrap_or_default(),
        }
        .iter()
        .map(|o| o.trim_end_matches('/').to_ascii_lowercase())
        .collect();
        let public_origin = match env("NETRAVEN_PUBLIC_URL") {
            Some(v) => Some(parse_origin("NETRAVEN_PUBLIC_URL", &v)?),
            None => match file.public_url {
                Some(v) => {
                    Some(
                        parse_origin("public_url", &v).map_err(|_| ConfigError::Value {
                            path: file_path.clone(),
                            message: format!("public_url = {v:?}: expected http(s)://host[:port]"),
                        })?,
                    )
                }
                None => None,
            },
        };
        let (proxies_name, proxies) = match env("NETRAVEN_TRUSTED_PROXIES") {
            Some(v) => ("NETRAVEN_TRUSTED_PROXIES", list(v)),
            None => ("trusted_proxies", file.trusted_proxies.unwrap_or_default()),
        };
        let trusted_proxies = proxies
            .iter()
            .map(|p| parse_network(p))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| ConfigError::Env {
                name: proxies_name,
                value: proxies.join(","),
                expected: "addresses or networks like 10.0.0.5 or 10.0.0.0/24, comma-separated",
            })?;

        let http_workers = bounded_number(&env, &file_path, file.http_workers, HTTP_WORKERS)?
            .unwrap_or_else(default_http_workers);
        let worker_give_up =
            bounded_number(&env, &file_path, file.worker_give_up_secs, WORKER_GIVE_UP)?
                .map_or(DEFAULT_WORKER_GIVE_UP, |s| {
                    std::time::Duration::from_secs(s as u64)
                });

        Ok(Self {
            bind: env("NETRAVEN_BIND")
                .or(file.bind)
                .unwrap_or_else(|| "127.0.0.1:8080".to_string()),
            admin_password: env("NETRAVEN_ADMIN_PASSWORD"),
            log: env("NETRAVEN_LOG")
                .or(file.log)
                .unwrap_or_else(|| "info,sqlx=warn,sea_orm=warn".to_string()),
            session_key: env("NETRAVEN_SESSION_KEY"),
            fernet_keys: env("NETRAVEN_FERNET_KEYS"),
            data_dir,
            database_url,
            behind_tls,
            cookie_secure,
            public_origin,
            trusted_origins,
            trusted_proxies,
            http_workers,
            worker_give_up,
        })
    }

    pub fn is_sqlite(&self) -> bool {
        self.database_url.starts_with("sqlite:")
    }
}

/// A whole-number setting: its names in the file and the environment, and what it may be.
struct Bounded {
    name: &'static str,
    env: &'static str,
    range: std::ops::RangeInclusive<usize>,
    expected: &'static str,
}

const HTTP_WORKERS: Bounded = Bounded {
    name: "http_workers",
    env: "NETRAVEN_HTTP_WORKERS",
    range: 1..=256,
    expected: "a whole number from 1 to 256",
};
const WORKER_GIVE_UP: Bounded = Bounded {
    name: "worker_give_up_secs",
    env: "NETRAVEN_WORKER_GIVE_UP_SECS",
    range: 5..=86_400,
    expected: "a number of seconds from 5 to 86400",
};
const DEFAULT_WORKER_GIVE_UP: std::time::Duration = std::time::Duration::from_secs(600);

/// The environment's value, else the file's, within the setting's bounds.
fn bounded_number(
    env: &impl Fn(&str) -> Option<String>,
    file_path: &Path,
    from_file: Option<usize>,
    setting: Bounded,
) -> Result<Option<usize>, ConfigError> {
    let Bounded {
        name,
        env: env_name,
        range,
        expected,
    } = setting;
    match env(env_name) {
        Some(v) => match v.trim().parse::<usize>() {
            Ok(n) if range.contains(&n) => Ok(Some(n)),
            _ => Err(ConfigError::Env {
                name: env_name,
                value: v,
                expected,
            }),
        },
        None => match from_file {
            Some(n) if !range.contains(&n) => Err(ConfigError::Value {
                path: file_path.to_path_buf(),
                message: format!("{name} = {n}: expected {expected}"),
            }),
            other => Ok(other),
        },
    }
}

/// Half the cores, at least one. Measured on two cores (docs/BENCHMARKS.md, run 13): one HTTP
/// thread beside SQLite's connection threads served the device list with ~10% less CPU per
/// request than two (fewer threads taking turns on the cores), on PostgreSQL as well.
fn default_http_workers() -> usize {
    std::thread::available_parallelism().map_or(1, |n| (n.get() / 2).max(1))
}

fn default_sqlite_url(data_dir: &Path) -> String {
    format!(
        "sqlite://{}?mode=rwc",
        data_dir.join("netraven.db").display()
    )
}

/// `scheme://host[:port]` of an http(s) URL, lower case, without a path.
fn parse_origin(name: &'static str, value: &str) -> Result<String, ConfigError> {
    let bad = || ConfigError::Env {
        name,
        value: value.to_string(),
        expected: "a URL like https://netraven.example.com",
    };
    let (scheme, rest) = value.trim().split_once("://").ok_or_else(bad)?;
    let scheme = scheme.to_ascii_lowercase();
    let authority = rest.split(['/', '?', '#']).next().unwrap_or_default();
    if !(scheme == "http" || scheme == "https") || authority.is_empty() || authority.contains('@') {
        return Err(bad());
    }
    Ok(format!("{scheme}://{}", authority.to_ascii_lowercase()))
}

/// An address (a single host) or a network in CIDR notation.
pub fn parse_network(text: &str) -> Option<ipnet::IpNet> {
    let text = text.trim();
    text.parse::<ipnet::IpNet>()
        .ok()
        .or_else(|| {
            text.parse::<std::net::IpAddr>()
                .ok()
                .map(ipnet::IpNet::from)
        })
        .map(|n| n.trunc())
}

fn parse_bool(name: &'static str, value: &str) -> Result<bool, ConfigError> {
    match value.to_ascii_lowercase().as_str() {
        "1" | "true" | "yes" | "on" => Ok(true),
        "0" | "false" | "no" | "off" => Ok(false),
        _ => Err(ConfigError::Env {
            name,
            value: value.to_string(),
            expected: "true or false",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashMap;

    fn with(vars: &[(&str, &str)]) -> Result<Settings, ConfigError> {
        let map: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Settings::from_sources(None, |k| map.get(k).cloned())
    }

    #[test]
    fn defaults_use_sqlite_in_data_dir() {
        let s = with(&[]).unwrap();
        assert_eq!(s.bind, "127.0.0.1:8080");
        assert_eq!(s.database_url, "sqlite://./data/netraven.db?mode=rwc");
        assert!(!s.cookie_secure);
    }

    #[test]
    fn file_values_sit_between_defaults_and_environment() {
        let path =
            std::env::temp_dir().join(format!("netraven-config-{}.toml", std::process::id()));
        std::fs::write(&path, "bind = \"0.0.0.0:9000\"\nlog = \"debug\"\n").unwrap();
        let env: HashMap<&str, &str> = [("NETRAVEN_LOG", "warn")].into();
        let s = Settings::from_sources(Some(&path), |k| env.get(k).map(|v| v.to_string())).unwrap();
        assert_eq!(s.bind, "0.0.0.0:9000");
        assert_eq!(s.log, "warn");
        std::fs::write(&path, "unknown_key = 1\n").unwrap();
        let err = Settings::from_sources(Some(&path), |_| None).unwrap_err();
        assert!(err.to_string().contains("not valid TOML"), "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn cookie_secure_follows_tls_unless_set() {
        assert!(
            with(&[("NETRAVEN_BEHIND_TLS", "true")])
                .unwrap()
                .cookie_secure
        );
        let s = with(&[
            ("NETRAVEN_BEHIND_TLS", "true"),
            ("NETRAVEN_COOKIE_SECURE", "false"),
        ])
        .unwrap();
        assert!(!s.cookie_secure);
        assert!(with(&[("NETRAVEN_COOKIE_SECURE", "maybe")]).is_err());
    }

    #[test]
    fn public_url_and_trusted_proxies_are_parsed_or_refused() {
        let s = with(&[
            ("NETRAVEN_PUBLIC_URL", "HTTPS://NetRaven.example.com/app/"),
            ("NETRAVEN_TRUSTED_PROXIES", "10.0.0.5, 192.0.2.0/24"),
        ])
        .unwrap();
        assert_eq!(
            s.public_origin.as_deref(),
            Some("https://netraven.example.com")
        );
        assert_eq!(s.trusted_proxies.len(), 2);
        assert!(with(&[("NETRAVEN_PUBLIC_URL", "netraven.example.com")]).is_err());
        assert!(with(&[("NETRAVEN_PUBLIC_URL", "ftp://x")]).is_err());
        assert!(with(&[("NETRAVEN_TRUSTED_PROXIES", "proxy.local")]).is_err());
        let d = with(&[]).unwrap();
        assert!(d.public_origin.is_none() && d.trusted_proxies.is_empty());
    }

    #[test]
    fn http_workers_default_to_half_the_cores_and_reject_nonsense() {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
        assert_eq!(with(&[]).unwrap().http_workers, (cores / 2).max(1));
        assert_eq!(
            with(&[("NETRAVEN_HTTP_WORKERS", "3")])
                .unwrap()
                .http_workers,
            3
        );
        for bad in ["0", "-1", "two", "257"] {
            let err = with(&[("NETRAVEN_HTTP_WORKERS", bad)]).unwrap_err();
            assert!(err.to_string().contains("NETRAVEN_HTTP_WORKERS"), "{err}");
        }
        let path =
            std::env::temp_dir().join(format!("netraven-workers-{}.toml", std::process::id()));
        std::fs::write(&path, "http_workers = 0\n").unwrap();
        let err = Settings::from_sources(Some(&path), |_| None).unwrap_err();
        assert!(err.to_string().contains("http_workers"), "{err}");
        std::fs::write(&path, "http_workers = 2\n").unwrap();
        let s = Settings::from_sources(Some(&path), |_| None).unwrap();
        assert_eq!(s.http_workers, 2);
        std::fs::remove_file(&path).unwrap();
    }

    #[test]
    fn a_worker_process_gives_up_after_ten_minutes_unless_told_otherwise() {
        let secs = |s: &Settings| s.worker_give_up.as_secs();
        assert_eq!(secs(&with(&[]).unwrap()), 600);
        let s = with(&[("NETRAVEN_WORKER_GIVE_UP_SECS", "30")]).unwrap();
        assert_eq!(secs(&s), 30);
        for bad in ["4", "1e3", "86401", "soon"] {
            let err = with(&[("NETRAVEN_WORKER_GIVE_UP_SECS", bad)]).unwrap_err();
            assert!(
                err.to_string().contains("NETRAVEN_WORKER_GIVE_UP_SECS"),
                "{err}"
            );
        }
    }
}
