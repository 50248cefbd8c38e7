use sea_orm_migration::prelude::*;

/// `cargo run -p migration -- up | down | status | fresh`, against `DATABASE_URL`.
#[tokio::main]
async fn main() {
    cli::run_cli(migration::Migrator).await;
}
