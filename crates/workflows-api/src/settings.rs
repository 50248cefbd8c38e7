//! Configuration, loaded once in `main` into one typed struct and passed down.

use anyhow::{Context, bail};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::Duration;
use workflows_domain::RetentionPolicy;
use workflows_store::ConnectSettings;

/// The defaults, compiled in so the binary starts from any directory.
const DEFAULTS: &str = include_str!("../../../config/default.toml");

/// All settings.
#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct Settings {
    pub server: ServerSettings,
    pub database: DatabaseSettings,
    pub auth: AuthSettings,
    pub cors: CorsSettings,
    pub log: LogSettings,
    pub metrics: MetricsSettings,
    pub engine: EngineSettings,
    pub retention: RetentionSettings,
    pub admin: AdminSettings,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AdminSettings {
    pub session_hours: u32,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct RetentionSettings {
    pub max_age: String,
    pub max_runs_per_workflow: u64,
    pub interval_seconds: u64,
    pub batch_size: u64,
}

impl RetentionSettings {
    /// The policy these settings describe; off when neither bound is set.
    pub fn policy(&self) -> anyhow::Result<RetentionPolicy> {
        let max_age = match self.max_age.trim() {
            "" => None,
            text => {
                let span = humantime::parse_duration(text).with_context(|| {
                    format!("retention.max_age: '{text}' is not a duration like 90d")
                })?;
                Some(chrono::TimeDelta::from_std(span).context("retention.max_age: too long")?)
            }
        };
        Ok(RetentionPolicy {
            max_age,
            max_runs_per_workflow: (self.max_runs_per_workflow > 0)
                .then_some(self.max_runs_per_workflow),
        })
    }
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct EngineSettings {
    pub concurrency: usize,
    pub per_run_concurrency: usize,
    pub lease_seconds: u64,
    pub poll_interval_ms: u64,
    pub sweep_interval_seconds: u64,
    pub run_timeout_seconds: u64,
    pub max_claims: u32,
    pub shutdown_grace_seconds: u64,
    pub builtin_atoms: bool,
    pub retry: RetrySettings,
    #[serde(default)]
    pub atom_retry: HashMap<String, RetrySettings>,
    pub http: HttpAtomSettings,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize)]
pub struct RetrySettings {
    pub max_attempts: u32,
    pub backoff_base_ms: u64,
    pub backoff_max_ms: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct HttpAtomSettings {
    pub base_url: String,
    pub timeout_ms: u64,
    #[serde(default)]
    pub timeouts_ms: HashMap<String, u64>,
    #[serde(default)]
    pub atoms: HashMap<String, String>,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct MetricsSettings {
    /// When not empty, `/metrics` wants `Authorization: Bearer <token>`.
    pub token: String,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct ServerSettings {
    pub host: String,
    pub port: u16,
    pub base_path: String,
    pub body_limit_bytes: usize,
    pub workers: usize,
    pub shutdown_grace_seconds: u64,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct DatabaseSettings {
    pub url: String,
    pub max_connections: u32,
    pub min_connections: u32,
    /// 0: one per core of this machine.
    pub read_connections: u32,
    pub acquire_timeout_ms: u64,
    pub statement_timeout_ms: u64,
    pub migrate_on_start: bool,
    pub pool_per_worker: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct AuthSettings {
    pub token_cache_seconds: u64,
    pub bootstrap_admin: bool,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct CorsSettings {
    pub allowed_origins: Vec<String>,
}

#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum LogFormat {
    Pretty,
    Json,
}

#[derive(Debug, Clone, Deserialize, Serialize)]
pub struct LogSettings {
    pub format: LogFormat,
}

impl Settings {
    /// Defaults, then `config/$APP_ENV.toml` (from `WORKFLOWS_CONFIG_DIR`, else `./config`), then
    /// `WORKFLOWS__SECTION__KEY`, `DATABASE_URL` and `PORT`.
    pub fn load() -> anyhow::Result<Self> {
        let env = std::env::var("APP_ENV").unwrap_or_else(|_| "local".to_owned());
        let dir = std::env::var("WORKFLOWS_CONFIG_DIR")
            .map(PathBuf::from)
            .unwrap_or_else(|_| PathBuf::from("config"));
        Self::load_from(&dir, &env, &std::env::vars().collect())
    }

    /// [`Settings::load`] with the directory, environment name and variables given.
    pub fn load_from(
        dir: &Path,
        env: &str,
        vars: &HashMap<String, String>,
    ) -> anyhow::Result<Self> {
        let var = |key: &str| vars.get(key).cloned();
        if !matches!(env, "local" | "production" | "test") {
            bail!("APP_ENV: '{env}' is not one of local, production, test");
        }
        let mut environment = config::Environment::with_prefix("WORKFLOWS")
            .prefix_separator("__")
            .separator("__")
            .try_parsing(true)
            .list_separator(",")
            .with_list_parse_key("cors.allowed_origins");
        let overrides: config::Map<String, String> = vars
            .iter()
            .filter(|(k, _)| k.starts_with("WORKFLOWS__"))
            .map(|(k, v)| (k.clone(), v.clone()))
            .collect();
        environment = environment.source(Some(overrides));
        let built = config::Config::builder()
            .add_source(config::File::from_str(DEFAULTS, config::FileFormat::Toml))
            .add_source(config::File::from(dir.join(format!("{env}.toml"))).required(false))
            .add_source(environment)
            .set_override_option("database.url", var("DATABASE_URL"))?
            .set_override_option("server.port", var("PORT"))?
            .build()
            .context("configuration")?;
        let settings: Settings = built.try_deserialize().context("configuration")?;
        settings.validate()?;
        Ok(settings)
    }

    fn validate(&self) -> anyhow::Result<()> {
        let base = &self.server.base_path;
        if !base.starts_with('/') || base.len() < 2 || base.ends_with('/') {
            bail!("server.base_path: '{base}' must start with '/' and not end with one");
        }
        if self.server.body_limit_bytes == 0 {
            bail!("server.body_limit_bytes: must be above 0");
        }
        if !(self.database.url.starts_with("postgres://")
            || self.database.url.starts_with("postgresql://")
            || self.database.url.starts_with("sqlite:"))
        {
            bail!("database.url: must start with postgres://, postgresql:// or sqlite:");
        }
        if self.database.max_connections == 0 {
            bail!("database.max_connections: must be above 0");
        }
        if self.database.min_connections > self.database.max_connections {
            bail!("database.min_connections: must not exceed database.max_connections");
        }
        let engine = &self.engine;
        if engine.concurrency == 0 || engine.per_run_concurrency == 0 {
            bail!("engine.concurrency and engine.per_run_concurrency: must be above 0");
        }
        if engine.lease_seconds < 3 {
            bail!("engine.lease_seconds: must be at least 3 (it is renewed every third)");
        }
        for (atom, retry) in std::iter::once(("default", &engine.retry))
            .chain(engine.atom_retry.iter().map(|(a, r)| (a.as_str(), r)))
        {
            if retry.max_attempts == 0 {
                bail!("engine.retry.max_attempts ({atom}): must be at least 1");
            }
        }
        for url in std::iter::once(&engine.http.base_url).chain(engine.http.atoms.values()) {
            if !url.is_empty() && !url.starts_with("http://") {
                bail!(
                    "engine.http: '{url}' must be an http:// URL (put a TLS proxy in front of https atoms)"
                );
            }
        }
        if self.admin.session_hours == 0 {
            bail!("admin.session_hours: must be above 0");
        }
        self.retention.policy()?;
        if self.retention.interval_seconds == 0 || self.retention.batch_size == 0 {
            bail!("retention.interval_seconds and retention.batch_size: must be above 0");
        }
        for origin in &self.cors.allowed_origins {
            if !(origin.starts_with("http://") || origin.starts_with("https://"))
                || origin.ends_with('/')
            {
                bail!("cors.allowed_origins: '{origin}' must be a scheme://host[:port] origin");
            }
        }
        Ok(())
    }

    /// The store's connection settings.
    pub fn connect_settings(&self) -> ConnectSettings {
        let db = &self.database;
        ConnectSettings {
            max_connections: db.max_connections,
            min_connections: db.min_connections,
            read_connections: match db.read_connections {
                0 => u32::try_from(cores()).unwrap_or(u32::MAX),
                n => n,
            },
            acquire_timeout: Duration::from_millis(db.acquire_timeout_ms),
            statement_timeout: (db.statement_timeout_ms > 0)
                .then(|| Duration::from_millis(db.statement_timeout_ms)),
            ..ConnectSettings::new(db.url.clone())
        }
    }

    /// The settings as TOML with the database password masked.
    pub fn masked(&self) -> Settings {
        let mut shown = self.clone();
        shown.database.url = mask_password(&shown.database.url);
        if !shown.metrics.token.is_empty() {
            shown.metrics.token = "****".to_owned();
        }
        shown
    }
}

/// This machine's cores: actix's count of workers when `server.workers` is 0, and the reads'
/// connections when `database.read_connections` is, for a database on the same machine.
pub fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, std::num::NonZero::get)
}

/// `postgres://user:secret@host/db` → `postgres://user:****@host/db`.
fn mask_password(url: &str) -> String {
    let Some((scheme, rest)) = url.split_once("://") else {
        return url.to_owned();
    };
    let Some((credentials, host)) = rest.split_once('@') else {
        return url.to_owned();
    };
    match credentials.split_once(':') {
        Some((user, _)) => format!("{scheme}://{user}:****@{host}"),
        None => url.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load(vars: &[(&str, &str)]) -> anyhow::Result<Settings> {
        let vars: HashMap<String, String> = vars
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config");
        Settings::load_from(&dir, "local", &vars)
    }

    #[test]
    fn local_overlay_turns_on_bootstrap_and_migrations() {
        let settings = load(&[]).expect("defaults load");
        assert!(settings.auth.bootstrap_admin);
        assert!(settings.database.migrate_on_start);
        assert_eq!(settings.server.base_path, "/api/workflows");
    }

    #[test]
    fn read_connections_default_to_the_cores_and_may_be_set() {
        let defaults = load(&[]).expect("defaults load");
        assert_eq!(defaults.database.read_connections, 0);
        assert_eq!(
            defaults.connect_settings().read_connections as usize,
            cores()
        );
        let set = load(&[("WORKFLOWS__DATABASE__READ_CONNECTIONS", "3")]).expect("load");
        assert_eq!(set.connect_settings().read_connections, 3);
    }

    #[test]
    fn conventional_variables_win() {
        let settings =
            load(&[("DATABASE_URL", "postgres://u:pw@h/db"), ("PORT", "9100")]).expect("load");
        assert_eq!(settings.server.port, 9100);
        assert_eq!(settings.masked().database.url, "postgres://u:****@h/db");
    }

    #[test]
    fn retention_is_off_by_default_and_reads_durations() {
        let settings = load(&[]).expect("defaults load");
        assert!(settings.retention.policy().expect("policy").is_off());
        let on = load(&[
            ("WORKFLOWS__RETENTION__MAX_AGE", "30d"),
            ("WORKFLOWS__RETENTION__MAX_RUNS_PER_WORKFLOW", "100"),
        ])
        .expect("load");
        let policy = on.retention.policy().expect("policy");
        assert_eq!(policy.max_age, Some(chrono::TimeDelta::days(30)));
        assert_eq!(policy.max_runs_per_workflow, Some(100));
        let err = load(&[("WORKFLOWS__RETENTION__MAX_AGE", "a while")]).expect_err("refused");
        assert!(format!("{err:#}").contains("retention.max_age"), "{err:#}");
    }

    #[test]
    fn bad_values_name_their_key() {
        let err = load(&[("PORT", "eighty")]).expect_err("refused");
        assert!(format!("{err:#}").contains("port"), "{err:#}");
        let err = load(&[("DATABASE_URL", "mysql://x")]).expect_err("refused");
        assert!(format!("{err:#}").contains("database.url"), "{err:#}");
    }
}
