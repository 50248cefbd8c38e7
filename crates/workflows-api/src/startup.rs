//! Building the app (shared by `serve` and the tests) and running the server.

use crate::auth::TokenCache;
use crate::error::ApiError;
use crate::metrics::{self, Metrics};
use crate::settings::Settings;
use crate::state::{AppState, EngineHandle};
use crate::telemetry::RequestSpan;
use crate::{openapi, request_id, routes, trailing_slash};
use actix_cors::Cors;
use actix_web::body::MessageBody;
use actix_web::dev::{Server, Service, ServiceFactory, ServiceRequest, ServiceResponse};
use actix_web::middleware::{Condition, from_fn};
use actix_web::{App, HttpResponse, HttpServer, web};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tracing_actix_web::TracingLogger;
use utoipa_swagger_ui::SwaggerUi;
use workflows_store::{ConnectSettings, Store};

/// The shared state for a store and settings.
pub fn state(store: Store, settings: &Settings) -> anyhow::Result<web::Data<AppState>> {
    state_with_engine(store, settings, None)
}

/// [`state`] with an in-process worker to wake and report on.
pub fn state_with_engine(
    store: Store,
    settings: &Settings,
    engine: Option<EngineHandle>,
) -> anyhow::Result<web::Data<AppState>> {
    Ok(web::Data::new(AppState {
        engine,
        pools: Arc::new(Mutex::new(vec![store.clone()])),
        store,
        tokens: TokenCache::new(Duration::from_secs(settings.auth.token_cache_seconds)),
        base_path: settings.server.base_path.clone(),
        body_limit: settings.server.body_limit_bytes,
        metrics: Metrics::new()?,
        metrics_token: Some(settings.metrics.token.clone()).filter(|t| !t.is_empty()),
        session_hours: settings.admin.session_hours,
    }))
}

fn cors(settings: &Settings) -> Cors {
    settings
        .cors
        .allowed_origins
        .iter()
        .fold(Cors::default(), |cors, origin| cors.allowed_origin(origin))
        .allowed_methods(["GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"])
        .allowed_headers([
            "authorization",
            "content-type",
            "if-match",
            "idempotency-key",
            "x-request-id",
            "x-csrftoken",
        ])
        .expose_headers(["etag", "location", "x-request-id"])
        .supports_credentials()
        .max_age(3600)
}

/// The whole application: routes, error shapes, request ids, logging and CORS.
pub fn build_app(
    state: web::Data<AppState>,
    settings: Settings,
) -> App<
    impl ServiceFactory<
        ServiceRequest,
        Config = (),
        Response = ServiceResponse<impl MessageBody>,
        Error = actix_web::Error,
        InitError = (),
    >,
> {
    let base = settings.server.base_path.clone();
    let docs = format!("{base}/docs");
    let docs_index = format!("{docs}/");
    let http_metrics = state.metrics.http.clone();
    App::new()
        .app_data(state)
        .app_data(web::PathConfig::default().error_handler(|_, _| ApiError::NotFound.into()))
        .app_data(
            web::QueryConfig::default()
                .error_handler(|e, _| ApiError::BadRequest(e.to_string()).into()),
        )
        .service(routes::resource("/healthz", &["GET"]).route(web::get().to(routes::healthz)))
        .service(routes::resource("/readyz", &["GET"]).route(web::get().to(routes::readyz)))
        .service(routes::resource("/metrics", &["GET"]).route(web::get().to(metrics::scrape)))
        .service(
            SwaggerUi::new(format!("{docs}/{{_:.*}}")).external_url_unchecked(
                format!("{base}/openapi.json"),
                openapi::document_json(&base),
            ),
        )
        .route(
            &docs,
            web::get().to(move || {
                let to = docs_index.clone();
                async move {
                    HttpResponse::PermanentRedirect()
                        .insert_header(("Location", to))
                        .finish()
                }
            }),
        )
        .service(web::scope(&base).configure(routes::configure))
        .service(web::scope("/admin").configure(crate::admin::configure))
        .default_service(web::to(routes::not_found))
        .wrap(Condition::new(
            !settings.cors.allowed_origins.is_empty(),
            cors(&settings),
        ))
        .wrap(http_metrics)
        .wrap(TracingLogger::<RequestSpan>::new())
        .wrap(from_fn(request_id::middleware))
        .wrap_fn(move |mut req, app| {
            trailing_slash::route_with_slash(&mut req, &base);
            app.call(req)
        })
}

/// Each HTTP worker's own pool on PostgreSQL with `database.pool_per_worker`: the workers share
/// `database.max_connections` (and `min_connections`, `read_connections`) between them.
fn worker_pool_settings(settings: &Settings) -> Option<ConnectSettings> {
    let database = &settings.database;
    if !(database.pool_per_worker && database.url.starts_with("postgres")) {
        return None;
    }
    // actix's own default when `server.workers` is 0.
    let workers = match settings.server.workers {
        0 => crate::settings::cores(),
        n => n,
    };
    let workers = u32::try_from(workers).unwrap_or(u32::MAX);
    let mut own = settings.connect_settings();
    own.max_connections = own.max_connections.div_ceil(workers);
    own.read_connections = own.read_connections.div_ceil(workers);
    own.min_connections = own
        .min_connections
        .div_ceil(workers)
        .min(own.max_connections);
    Some(own)
}

/// A bound, not yet running server.
pub struct Application {
    port: u16,
    server: Server,
}

impl Application {
    /// Binds `server.host:server.port` (port 0 picks a free one) and builds the server.
    pub fn build(settings: &Settings, store: Store) -> anyhow::Result<Self> {
        Self::build_with_engine(settings, store, None)
    }

    /// [`Application::build`] with an in-process worker.
    pub fn build_with_engine(
        settings: &Settings,
        store: Store,
        engine: Option<EngineHandle>,
    ) -> anyhow::Result<Self> {
        let listener = TcpListener::bind((settings.server.host.as_str(), settings.server.port))?;
        let port = listener.local_addr()?.port();
        let state = state_with_engine(store, settings, engine)?;
        let app_settings = settings.clone();
        let own_pool = worker_pool_settings(settings);
        let mut server = HttpServer::new(move || {
            build_app(
                AppState::for_worker(&state, own_pool.as_ref()),
                app_settings.clone(),
            )
        })
        .shutdown_timeout(settings.server.shutdown_grace_seconds)
        // `serve` stops the server gracefully on SIGINT and SIGTERM alike; actix's own
        // handling force-closes connections on SIGINT (Ctrl-C), dropping requests mid-query.
        .disable_signals()
        .h1_write_buffer_size(crate::sliced::BODY_SLICE)
        // An answer in several writes must not wait on Nagle for the client's delayed ACK
        // (list pages took 40 ms more at the median without it).
        .tcp_nodelay(true)
        .listen(listener)?;
        if settings.server.workers > 0 {
            server = server.workers(settings.server.workers);
        }
        Ok(Self {
            port,
            server: server.run(),
        })
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    /// Stops the server from elsewhere: `stop(true)` finishes the requests under way first.
    pub fn handle(&self) -> actix_web::dev::ServerHandle {
        self.server.handle()
    }

    /// Serves until stopped through [`Application::handle`], letting in-flight requests finish
    /// within the grace period.
    pub async fn run_until_stopped(self) -> std::io::Result<()> {
        self.server.await
    }
}
