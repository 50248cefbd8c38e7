//! The command line: `serve` (the default), `migrate`, `users`, `tokens`, `config`. What a command
//! prints on stdout is its answer; logs go to stderr.
#![allow(clippy::print_stdout)]

use crate::settings::Settings;
use crate::startup::Application;
use crate::state::EngineHandle;
use anyhow::{Context, bail};
use clap::{Parser, Subcommand};
use migration::{Migrator, MigratorTrait};
use std::io::Write;
use tokio_util::sync::CancellationToken;
use workflows_store::Store;

#[derive(Debug, Parser)]
#[command(name = "workflows-api", version, about = "The workflows service")]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Serve the HTTP API (the default).
    Serve {
        /// Also execute runs in this process (the embedded default).
        #[arg(long)]
        with_worker: bool,
    },
    /// Execute runs: claim pending runs and run their workflows, until SIGTERM or SIGINT.
    Worker {
        /// Runs at once (default: engine.concurrency).
        #[arg(long)]
        concurrency: Option<usize>,
    },
    /// Apply or roll back schema migrations.
    Migrate {
        #[command(subcommand)]
        action: Option<MigrateAction>,
    },
    /// Manage users.
    Users {
        #[command(subcommand)]
        action: UsersAction,
    },
    /// Manage API tokens.
    Tokens {
        #[command(subcommand)]
        action: TokensAction,
    },
    /// Maintain run history.
    Runs {
        #[command(subcommand)]
        action: RunsAction,
    },
    /// Show configuration.
    Config {
        #[command(subcommand)]
        action: ConfigAction,
    },
}

#[derive(Debug, Subcommand)]
pub enum MigrateAction {
    /// Apply every pending migration (the default).
    Up,
    /// Roll back the last migration, or `-n` of them.
    Down {
        #[arg(short = 'n', long, default_value_t = 1)]
        steps: u32,
    },
    /// List migrations and whether each is applied.
    Status,
}

#[derive(Debug, Subcommand)]
pub enum UsersAction {
    /// Create a user.
    Create {
        username: String,
        #[arg(long)]
        staff: bool,
        #[arg(long, default_value = "")]
        email: String,
    },
    /// List users.
    List,
    /// Deactivate a user: their tokens stop working (within the token cache time).
    Deactivate { username: String },
}

#[derive(Debug, Subcommand)]
pub enum TokensAction {
    /// Create a token for a user and print it once.
    Create {
        username: String,
        #[arg(long, default_value = "")]
        name: String,
        /// e.g. 30d, 12h, 90m.
        #[arg(long)]
        expires_in: Option<String>,
    },
    /// List tokens (never their secrets).
    List,
    /// Revoke a token by id or visible prefix.
    Revoke { id_or_prefix: String },
}

#[derive(Debug, Subcommand)]
pub enum RunsAction {
    /// Delete the finished runs past the retention bounds (retention.max_age,
    /// retention.max_runs_per_workflow, or the flags below), in batches; never a pending or
    /// running run.
    Prune {
        /// Only count what would be deleted.
        #[arg(long)]
        dry_run: bool,
        /// Overrides retention.max_age, e.g. 90d.
        #[arg(long)]
        max_age: Option<String>,
        /// Overrides retention.max_runs_per_workflow.
        #[arg(long)]
        max_runs_per_workflow: Option<u64>,
    },
}

#[derive(Debug, Subcommand)]
pub enum ConfigAction {
    /// Print the effective configuration, secrets masked.
    Show,
}

pub async fn run(cli: Cli, settings: Settings) -> anyhow::Result<()> {
    match cli.command.unwrap_or(Command::Serve { with_worker: false }) {
        Command::Serve { with_worker } => serve(settings, with_worker).await,
        Command::Worker { concurrency } => worker(settings, concurrency).await,
        Command::Migrate { action } => {
            migrate(&settings, action.unwrap_or(MigrateAction::Up)).await
        }
        Command::Users { action } => users(&open(&settings).await?, action).await,
        Command::Tokens { action } => tokens(&open(&settings).await?, action).await,
        Command::Runs { action } => runs(settings, action).await,
        Command::Config {
            action: ConfigAction::Show,
        } => {
            print!("{}", toml_of(&settings.masked())?);
            Ok(())
        }
    }
}

fn toml_of(settings: &Settings) -> anyhow::Result<String> {
    Ok(toml::to_string_pretty(settings)?)
}

async fn open(settings: &Settings) -> anyhow::Result<Store> {
    Store::connect_with(&settings.connect_settings())
        .await
        .context("opening the database (database.url)")
}

async fn serve(settings: Settings, with_worker: bool) -> anyhow::Result<()> {
    let store = open(&settings).await?;
    if settings.database.migrate_on_start {
        store.migrate().await.context("applying migrations")?;
    }
    let stop_worker = CancellationToken::new();
    let (engine, worker_task, cleaner_task) = if with_worker {
        let worker = crate::engine::worker(store.clone(), &settings.engine, None)?;
        let handle = EngineHandle {
            wake: worker.waker(),
            stats: worker.stats(),
        };
        let cleaner = crate::engine::cleaner(store.clone(), &settings.retention)?
            .map(|cleaner| tokio::spawn(cleaner.run(stop_worker.clone())));
        let token = stop_worker.clone();
        (Some(handle), Some(tokio::spawn(worker.run(token))), cleaner)
    } else {
        (None, None, None)
    };
    let fold_task = crate::usage_fold::spawn(store.clone(), stop_worker.clone());
    let app = Application::build_with_engine(&settings, store.clone(), engine)?;
    if settings.auth.bootstrap_admin {
        bootstrap_admin(&store, &settings, app.port()).await?;
    }
    tracing::info!(host = %settings.server.host, port = app.port(), base_path = %settings.server.base_path, with_worker, "serving");
    let server = app.handle();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stop signal: finishing the requests under way");
        server.stop(true).await;
    });
    app.run_until_stopped().await?;
    // The server has finished its requests; the worker hands back the runs it has under way.
    stop_worker.cancel();
    if let Some(task) = worker_task {
        task.await??;
    }
    if let Some(task) = cleaner_task {
        task.await?;
    }
    fold_task.await?;
    Ok(())
}

async fn worker(settings: Settings, concurrency: Option<usize>) -> anyhow::Result<()> {
    let store = open(&settings).await?;
    let worker = crate::engine::worker(store.clone(), &settings.engine, concurrency)?;
    let stop = CancellationToken::new();
    let fold_task = crate::usage_fold::spawn(store.clone(), stop.clone());
    let cleaner_task = crate::engine::cleaner(store, &settings.retention)?
        .map(|cleaner| tokio::spawn(cleaner.run(stop.clone())));
    let signal_stop = stop.clone();
    tokio::spawn(async move {
        wait_for_stop_signal().await;
        tracing::info!("stop signal: finishing up");
        signal_stop.cancel();
    });
    worker.run(stop).await?;
    if let Some(task) = cleaner_task {
        task.await?;
    }
    fold_task.await?;
    Ok(())
}

async fn runs(mut settings: Settings, action: RunsAction) -> anyhow::Result<()> {
    let RunsAction::Prune {
        dry_run,
        max_age,
        max_runs_per_workflow,
    } = action;
    if let Some(age) = max_age {
        settings.retention.max_age = age;
    }
    if let Some(count) = max_runs_per_workflow {
        settings.retention.max_runs_per_workflow = count;
    }
    let policy = settings.retention.policy()?;
    if policy.is_off() {
        println!(
            "retention is off (set retention.max_age or retention.max_runs_per_workflow, or pass \
             --max-age / --max-runs-per-workflow): nothing to prune"
        );
        return Ok(());
    }
    let store = open(&settings).await?;
    let now = chrono::Utc::now();
    if dry_run {
        let count = store.count_prunable_runs(&policy, now).await?;
        println!("would delete {count} finished run(s)");
    } else {
        let deleted = store
            .prune_runs(&policy, now, settings.retention.batch_size)
            .await?;
        println!("deleted {deleted} finished run(s)");
    }
    Ok(())
}

/// SIGTERM or SIGINT.
async fn wait_for_stop_signal() {
    let interrupt = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut terminate) => {
                tokio::select! {
                    _ = interrupt => {}
                    _ = terminate.recv() => {}
                }
            }
            Err(_) => {
                let _ = interrupt.await;
            }
        }
    }
    #[cfg(not(unix))]
    {
        let _ = interrupt.await;
    }
}

/// On a database with no users at all, makes a staff user `admin` and prints its token once.
async fn bootstrap_admin(store: &Store, settings: &Settings, port: u16) -> anyhow::Result<()> {
    if store.count_users().await? > 0 {
        return Ok(());
    }
    let admin = store.create_user("admin", "", true).await?;
    let token = store.create_token(admin.id, "bootstrap", None).await?;
    let host = match settings.server.host.as_str() {
        "0.0.0.0" | "::" => "127.0.0.1",
        other => other,
    };
    let banner = format!(
        "\n==================================================================\n \
         No users existed, so a staff user 'admin' was created.\n \
         Its API token (shown only this once):\n\n   {secret}\n\n \
         Try: curl -H 'Authorization: Bearer {secret}' \\\n        \
         http://{host}:{port}{base}/workflows/\n\
         ==================================================================\n",
        secret = token.secret,
        base = settings.server.base_path,
    );
    // A closed stdout (`serve | head`) must not take the server down with it.
    let mut out = std::io::stdout().lock();
    let _ = out.write_all(banner.as_bytes()).and_then(|()| out.flush());
    Ok(())
}

async fn migrate(settings: &Settings, action: MigrateAction) -> anyhow::Result<()> {
    let store = open(settings).await?;
    match action {
        MigrateAction::Up => {
            store.migrate().await?;
            println!("migrations applied");
        }
        MigrateAction::Down { steps } => {
            store.migrate_down(steps).await?;
            println!("rolled back {steps} migration(s)");
        }
        MigrateAction::Status => {
            let pending = store.pending_migrations().await?;
            for name in Migrator::migrations().iter().map(|m| m.name().to_owned()) {
                let state = if pending.contains(&name) {
                    "pending"
                } else {
                    "applied"
                };
                println!("{state:8} {name}");
            }
        }
    }
    Ok(())
}

async fn users(store: &Store, action: UsersAction) -> anyhow::Result<()> {
    match action {
        UsersAction::Create {
            username,
            staff,
            email,
        } => {
            let user = store.create_user(&username, &email, staff).await?;
            println!(
                "created user {} (id {}){}",
                user.username,
                user.id,
                if staff { ", staff" } else { "" }
            );
        }
        UsersAction::List => {
            println!(
                "{:>6}  {:<24} {:<6} {:<7} email",
                "id", "username", "staff", "active"
            );
            for u in store.list_users().await? {
                println!(
                    "{:>6}  {:<24} {:<6} {:<7} {}",
                    u.id, u.username, u.is_staff, u.is_active, u.email
                );
            }
        }
        UsersAction::Deactivate { username } => {
            store.set_user_active(&username, false).await?;
            println!("deactivated {username}");
        }
    }
    Ok(())
}

async fn tokens(store: &Store, action: TokensAction) -> anyhow::Result<()> {
    match action {
        TokensAction::Create {
            username,
            name,
            expires_in,
        } => {
            let user = store
                .find_user(&username)
                .await
                .with_context(|| format!("no user named '{username}'"))?;
            let expires_at = match expires_in {
                None => None,
                Some(text) => {
                    let span = humantime::parse_duration(&text).with_context(|| {
                        format!("--expires-in: '{text}' is not a duration like 30d")
                    })?;
                    Some(chrono::Utc::now() + chrono::Duration::from_std(span)?)
                }
            };
            let made = store.create_token(user.id, &name, expires_at).await?;
            println!("{}", made.secret);
            eprintln!(
                "token {} (prefix {}) for {}; it is shown only now",
                made.token.id, made.token.prefix, user.username
            );
        }
        TokensAction::List => {
            let users = store.list_users().await?;
            println!(
                "{:>6}  {:<14} {:<16} {:<10} {:<25} {:<25} name",
                "id", "prefix", "user", "state", "created", "expires"
            );
            let now = chrono::Utc::now();
            for t in store.list_tokens().await? {
                let user = users
                    .iter()
                    .find(|u| u.id == t.user_id)
                    .map_or("?", |u| u.username.as_str());
                let state = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.is_usable_at(now) {
                    "active"
                } else {
                    "expired"
                };
                let expires = t.expires_at.map_or("never".to_owned(), |e| e.to_rfc3339());
                println!(
                    "{:>6}  {:<14} {:<16} {:<10} {:<25} {:<25} {}",
                    t.id,
                    t.prefix,
                    user,
                    state,
                    t.created_at.to_rfc3339(),
                    expires,
                    t.name
                );
            }
        }
        TokensAction::Revoke { id_or_prefix } => {
            if id_or_prefix.is_empty() {
                bail!("give a token id or prefix");
            }
            let token = store.revoke_token(&id_or_prefix).await?;
            println!("revoked token {} ({})", token.id, token.prefix);
        }
    }
    Ok(())
}
