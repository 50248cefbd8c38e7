//! The least an HTTP service on this stack can cost: actix-web, and per worker a deadpool pool of
//! sqlx connections, answering `GET /api/workflows/workflows/{id}/` with GET's statement and the
//! row written out as JSON, and nothing else (no token, no middleware, no store). The harness
//! measures it beside pgbench, so GET's ratio to pgbench splits into what any service on this
//! stack pays for its HTTP hop on this machine and what ours adds to that (bench/README finding 22).
//!
//! floor-server <database url> <port> <connections per worker>

use actix_web::{App, HttpResponse, HttpServer, web};
use anyhow::Context;
use deadpool::managed::{self, Metrics, Pool, RecycleResult};
use sea_orm::sqlx::postgres::{PgConnectOptions, PgConnection, PgRow};
use sea_orm::sqlx::{self, Connection as _, Row as _};
use std::fmt::Write as _;
use std::str::FromStr;

const SELECT_BY_ID: &str = "SELECT id, user_id, project_id, project_name, name, slug, description, \
     app_name, is_active, created_at, updated_at, version, execution_count, last_executed_at, \
     molecules_used_text, atoms_in_molecules_text, dag_spec_text \
     FROM workflows_workflow WHERE id = $1";

struct Connector(PgConnectOptions);

impl managed::Manager for Connector {
    type Type = PgConnection;
    type Error = sqlx::Error;

    async fn create(&self) -> Result<PgConnection, sqlx::Error> {
        PgConnection::connect_with(&self.0).await
    }

    async fn recycle(&self, _: &mut PgConnection, _: &Metrics) -> RecycleResult<sqlx::Error> {
        Ok(())
    }
}

type WorkerPool = Pool<Connector>;

fn json_text(out: &mut String, value: Option<&str>) {
    match value {
        Some(text) => out.push_str(&serde_json::Value::from(text).to_string()),
        None => out.push_str("null"),
    }
}

/// The row as the service writes it: the three JSON columns verbatim, the rest as JSON values.
fn document(row: &PgRow) -> Result<String, sqlx::Error> {
    type Stamp = chrono::DateTime<chrono::Utc>;
    let mut out = String::with_capacity(2048);
    let _ = write!(
        out,
        "{{\"id\":{},\"user_id\":{},\"project_id\":{},\"project_name\":",
        row.try_get::<i64, _>(0)?,
        row.try_get::<Option<i64>, _>(1)?.unwrap_or_default(),
        row.try_get::<i32, _>(2)?
    );
    json_text(&mut out, Some(row.try_get::<&str, _>(3)?));
    out.push_str(",\"name\":");
    json_text(&mut out, Some(row.try_get::<&str, _>(4)?));
    out.push_str(",\"slug\":");
    json_text(&mut out, Some(row.try_get::<&str, _>(5)?));
    out.push_str(",\"description\":");
    json_text(&mut out, row.try_get::<Option<&str>, _>(6)?);
    out.push_str(",\"app_name\":");
    json_text(&mut out, row.try_get::<Option<&str>, _>(7)?);
    let stamp = |at: Option<Stamp>| at.map(|at| at.to_rfc3339());
    let _ = write!(
        out,
        ",\"is_active\":{},\"created_at\":\"{}\",\"updated_at\":\"{}\",\"version\":{},\"execution_count\":{},\"last_executed_at\":",
        row.try_get::<Option<bool>, _>(8)?.unwrap_or(true),
        row.try_get::<Stamp, _>(9)?.to_rfc3339(),
        row.try_get::<Stamp, _>(10)?.to_rfc3339(),
        row.try_get::<Option<i32>, _>(11)?.unwrap_or(1),
        row.try_get::<Option<i32>, _>(12)?.unwrap_or_default()
    );
    json_text(
        &mut out,
        stamp(row.try_get::<Option<Stamp>, _>(13)?).as_deref(),
    );
    for (at, key) in [
        (14, "molecules_used"),
        (15, "atoms_in_molecules"),
        (16, "dag_spec"),
    ] {
        let _ = write!(out, ",\"{key}\":");
        out.push_str(row.try_get::<Option<&str>, _>(at)?.unwrap_or("null"));
    }
    out.push('}');
    Ok(out)
}

async fn retrieve(pool: web::Data<WorkerPool>, id: web::Path<i64>) -> HttpResponse {
    let answer = async {
        let mut connection = pool.get().await.map_err(|e| e.to_string())?;
        let row = sqlx::query(SELECT_BY_ID)
            .bind(*id)
            .fetch_optional(&mut *connection)
            .await
            .map_err(|e| e.to_string())?;
        match row {
            Some(row) => document(&row).map(Some).map_err(|e| e.to_string()),
            None => Ok(None),
        }
    };
    match answer.await {
        Ok(Some(body)) => HttpResponse::Ok()
            .content_type("application/json")
            .body(body),
        Ok(None) => HttpResponse::NotFound().finish(),
        Err(error) => HttpResponse::ServiceUnavailable().body(error),
    }
}

#[actix_web::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().collect();
    let [_, url, port, per_worker] = args.as_slice() else {
        anyhow::bail!("usage: floor-server <database url> <port> <connections per worker>");
    };
    let options = PgConnectOptions::from_str(url).context("the database url")?;
    let port: u16 = port.parse().context("the port")?;
    let per_worker: usize = per_worker.parse().context("connections per worker")?;
    HttpServer::new(move || {
        // Built on each worker's own thread, so its connections live on that worker's reactor
        // (finding 16).
        let pool = WorkerPool::builder(Connector(options.clone()))
            .max_size(per_worker)
            .build()
            .expect("a pool without a runtime-dependent setting builds");
        App::new()
            .app_data(web::Data::new(pool))
            .route("/api/workflows/workflows/{id}/", web::get().to(retrieve))
    })
    .bind(("127.0.0.1", port))?
    .run()
    .await?;
    Ok(())
}
