//! The command line: `serve` (the default), `migrate`, and account administration. Every
//! command reads the same configuration as `serve`.

use std::process::ExitCode;

use std::path::PathBuf;
use std::sync::Arc;

use bytes::Bytes;
use clap::{Parser, Subcommand};
use futures::StreamExt;

use crate::actors::ImageSupervisor;
use crate::api::error::ApiError;
use crate::avatars::Avatars;
use crate::images::AvatarName;
use crate::metrics::Metrics;
use crate::store::LocalStore;

use crate::config::Settings;
use crate::domain::user::{Login, Password, Rights};
use crate::gc;
use crate::repo::{self, users};
use crate::startup::Application;
use crate::telemetry;

#[derive(Debug, Parser)]
#[command(
    name = "employee-avatars",
    version,
    about = "Navixy-compatible employee and avatar service"
)]
struct Cli {
    #[command(subcommand)]
    command: Option<Command>,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Run the HTTP service (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Master accounts.
    User {
        #[command(subcommand)]
        action: UserAction,
    },
    /// Sub-users of a master account.
    Subuser {
        #[command(subcommand)]
        action: SubuserAction,
    },
    /// Delete stored avatars and thumbnails no employee shows, older than the grace period.
    Gc {
        /// Print what would be removed, remove nothing.
        #[arg(long)]
        dry_run: bool,
        /// Keep files stored within this many hours.
        #[arg(long, default_value_t = 24)]
        grace_hours: u64,
    },
    /// Run the upload pipeline on local files, writing DIR/<name> and DIR/<size>/<name>.
    Normalize {
        /// Where the normalised images and thumbnails go.
        #[arg(long, value_name = "DIR")]
        out: PathBuf,
        #[arg(required = true, value_name = "FILE")]
        files: Vec<PathBuf>,
    },
}

#[derive(Debug, Subcommand)]
enum UserAction {
    /// Create a master account.
    Create {
        #[arg(long, value_parser = Login::parse)]
        login: Login,
        #[arg(long, value_parser = Password::parse)]
        password: Password,
    },
    /// List every account.
    List,
}

#[derive(Debug, Subcommand)]
enum SubuserAction {
    /// Create a sub-user of a master account.
    Create {
        #[arg(long, value_parser = Login::parse)]
        master: Login,
        #[arg(long, value_parser = Login::parse)]
        login: Login,
        #[arg(long, value_parser = Password::parse)]
        password: Password,
        /// Comma-separated rights, e.g. employee_update.
        #[arg(long, default_value = "", value_parser = |s: &str| s.parse::<Rights>())]
        rights: Rights,
    },
}

pub fn run() -> ExitCode {
    let cli = Cli::parse();
    let settings = match Settings::load() {
        Ok(settings) => settings,
        Err(e) => {
            eprintln!("{e}");
            return ExitCode::FAILURE;
        }
    };
    telemetry::init(settings.log.format);
    let outcome = actix_web::rt::System::new().block_on(execute(cli.command, settings));
    match outcome {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn execute(command: Option<Command>, settings: Settings) -> anyhow::Result<()> {
    let command = command.unwrap_or(Command::Serve);
    match command {
        Command::Serve => {
            let app = Application::build(settings).await?;
            tracing::info!(port = app.port(), "listening");
            app.run_until_stopped(true).await?;
            tracing::info!("stopped");
            return Ok(());
        }
        Command::Normalize { out, files } => return normalize(&settings, out, files).await,
        _ => {}
    }
    let db = repo::connect(&settings.database).await?;
    repo::migrate(&db).await?;
    match command {
        Command::Serve | Command::Normalize { .. } => unreachable!("handled above"),
        Command::Gc {
            dry_run,
            grace_hours,
        } => {
            let grace = std::time::Duration::from_secs(grace_hours * 3600);
            let removed = gc::sweep(&db, &settings.storage.dir, grace, dry_run).await?;
            let verb = if dry_run { "would remove" } else { "removed" };
            for path in &removed {
                println!("{verb} {path}");
            }
            println!("{verb} {} file(s)", removed.len());
        }
        Command::Migrate => println!("migrations applied"),
        Command::User {
            action: UserAction::Create { login, password },
        } => {
            let id = users::create_master(&db, &login, password).await?;
            println!("created master account {} (id {id})", login.as_str());
        }
        Command::User {
            action: UserAction::List,
        } => {
            for user in users::list(&db).await? {
                let kind = match user.master_id {
                    None => "master".to_owned(),
                    Some(master) => format!("subuser of {master}, rights [{}]", user.rights),
                };
                println!("{}\t{}\t{kind}", user.id, user.login);
            }
        }
        Command::Subuser {
            action:
                SubuserAction::Create {
                    master,
                    login,
                    password,
                    rights,
                },
        } => {
            let id = users::create_subuser(&db, &master, &login, password, &rights).await?;
            println!(
                "created sub-user {} of {} (id {id}) with rights [{rights}]",
                login.as_str(),
                master.as_str()
            );
        }
    }
    Ok(())
}

/// Normalises each file with the server's pipeline and worker pool, as many at once as there are
/// workers, printing `<file>\t<name>` or `<file>\terror <code>: <reason>` per file.
async fn normalize(settings: &Settings, out: PathBuf, files: Vec<PathBuf>) -> anyhow::Result<()> {
    let images = &settings.images;
    let (pool, _) = ImageSupervisor::start(images, &Metrics::new());
    let avatars = Avatars::new(pool, Arc::new(LocalStore::new(out)), images);
    let outcomes = futures::stream::iter(files)
        .map(|file| {
            let avatars = avatars.clone();
            async move {
                let outcome = normalize_file(&avatars, &file, images.max_upload_bytes).await;
                (file, outcome)
            }
        })
        .buffered(images.worker_count());
    let failures = outcomes
        .fold(0usize, |failures, (file, outcome)| async move {
            match outcome {
                Ok(name) => {
                    println!("{}\t{name}", file.display());
                    failures
                }
                Err(error) => {
                    println!("{}\terror {}: {error}", file.display(), error.code());
                    failures + 1
                }
            }
        })
        .await;
    if failures > 0 {
        anyhow::bail!("{failures} file(s) could not be normalised");
    }
    Ok(())
}

async fn normalize_file(
    avatars: &Avatars,
    file: &std::path::Path,
    max_upload_bytes: usize,
) -> Result<AvatarName, ApiError> {
    let bytes = tokio::fs::read(file)
        .await
        .map_err(|e| ApiError::Unparsable(format!("cannot read the file: {e}")))?;
    if bytes.is_empty() {
        return Err(ApiError::EmptyFile);
    }
    if bytes.len() > max_upload_bytes {
        return Err(ApiError::FileTooLarge {
            max_bytes: max_upload_bytes,
        });
    }
    let normalised = avatars.normalise(Bytes::from(bytes)).await?;
    avatars.store_with_thumbnails(normalised).await
}
