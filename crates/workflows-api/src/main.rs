use clap::Parser;
use workflows_api::cli::Cli;
use workflows_api::settings::Settings;

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let settings = Settings::load()?;
    workflows_api::telemetry::init(settings.log.format);
    workflows_api::cli::run(cli, settings).await
}
