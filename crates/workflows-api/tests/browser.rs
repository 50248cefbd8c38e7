//! End-to-end tests of the web admin in headless Chromium (Debian's `chromium` and
//! `chromium-driver`), driven over WebDriver. They need those packages, so they are ignored by
//! `make test` and run by `make test-browser` (which installs them); CI runs both.
//!
//! With `UPDATE_SCREENSHOTS=1` the dashboard and a workflow page are saved under `docs/`.

mod support;

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;
use std::net::TcpListener;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use support::Server;
use workflows_domain::{
    ExecutionRequest, NewWorkflow, Ordering, PageRequest, RunFilter, RunStatus, WorkflowId,
};
use workflows_tests::{Backend, TestDb, run_on};

// Ignored in `make test`, which must pass on a fresh machine without a browser; `make
// test-browser` installs chromium and chromium-driver and runs these with `--ignored`, in CI too.
#[ignore = "needs chromium and chromedriver: make test-browser"] // reason: no browser on a fresh machine; CI runs it
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_in_a_browser_on_sqlite() {
    run_on(Backend::Sqlite, admin_in_a_browser).await;
}

// Ignored in `make test` (no browser on a fresh machine); `make test-browser` runs it, in CI too.
#[ignore = "needs chromium and chromedriver: make test-browser"] // reason: no browser on a fresh machine; CI runs it
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_in_a_browser_on_postgres() {
    run_on(Backend::Postgres, admin_in_a_browser).await;
}

/// A chromedriver on a free port, stopped on drop.
struct Driver {
    child: Child,
    url: String,
}

impl Driver {
    fn start() -> Self {
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("a free port")
            .port();
        let child = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs (apt-get install chromium-driver)");
        let deadline = Instant::now() + Duration::from_secs(20);
        while std::net::TcpStream::connect(("127.0.0.1", port)).is_err() {
            assert!(Instant::now() < deadline, "chromedriver did not start");
            std::thread::sleep(Duration::from_millis(100));
        }
        Self {
            child,
            url: format!("http://127.0.0.1:{port}"),
        }
    }
}

impl Drop for Driver {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

async fn browser(driver: &Driver, profile: &std::path::Path) -> Client {
    let mut capabilities = serde_json::Map::new();
    capabilities.insert(
        "goog:chromeOptions".to_owned(),
        json!({
            "binary": "/usr/bin/chromium",
            "args": [
                "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--disable-quic", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--window-size=1280,1000",
                format!("--user-data-dir={}", profile.display()),
            ]
        }),
    );
    ClientBuilder::new(hyper_util::client::legacy::connect::HttpConnector::new())
        .capabilities(capabilities)
        .connect(&driver.url)
        .await
        .expect("a browser session")
}

async fn text_of(client: &Client, css: &str) -> String {
    client
        .find(Locator::Css(css))
        .await
        .unwrap_or_else(|e| panic!("{css}: {e}"))
        .text()
        .await
        .expect("text")
}

/// Waits for an element, following the page's own refreshes.
async fn wait_for(client: &Client, css: &str, limit: Duration) {
    let found = client
        .wait()
        .at_most(limit)
        .for_element(Locator::Css(css))
        .await;
    if found.is_err() {
        let page = client.source().await.unwrap_or_default();
        panic!("{css} did not appear within {limit:?}; the page:\n{page}");
    }
}

/// Saves the page as `docs/<name>` when `UPDATE_SCREENSHOTS` is set.
async fn screenshot(client: &Client, name: &str) {
    if std::env::var_os("UPDATE_SCREENSHOTS").is_some() {
        let docs = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs");
        let png = client.screenshot().await.expect("png");
        std::fs::write(docs.join(name), png).expect("save");
    }
}

/// Finds an element and clicks it.
async fn click(client: &Client, locator: Locator<'_>) {
    client
        .find(locator)
        .await
        .unwrap_or_else(|e| panic!("{locator:?}: {e}"))
        .click()
        .await
        .unwrap_or_else(|e| panic!("clicking {locator:?}: {e}"));
}

async fn workflow(
    db: &TestDb,
    actor: &workflows_domain::Actor,
    body: serde_json::Value,
) -> WorkflowId {
    db.store
        .create_workflow(actor, NewWorkflow::from_json(&body).expect("valid"))
        .await
        .expect("create")
        .id
}

async fn admin_in_a_browser(db: TestDb) {
    // First, while the database has no users, so the server makes its bootstrap admin (and says so).
    let server = Server::start_command(
        &["serve", "--with-worker"],
        &db.url,
        &[
            ("WORKFLOWS__ENGINE__BUILTIN_ATOMS", "true"),
            ("WORKFLOWS__ENGINE__RETRY__MAX_ATTEMPTS", "1"),
            ("WORKFLOWS__SERVER__WORKERS", "2"),
        ],
        None,
    );
    let alice = db
        .store
        .create_user("alice", "", false)
        .await
        .expect("alice");
    let bob = db.store.create_user("bob", "", false).await.expect("bob");
    let token = db
        .store
        .create_token(alice.id, "browser", None)
        .await
        .expect("token")
        .secret;
    let (a, b) = (alice.actor(), bob.actor());
    let nightly = workflow(&db, &a, json!({
        "project_id": 7, "project_name": "Sales", "name": "Nightly sales report", "app_name": "Trinity Analytics",
        "molecules_used": ["load", "clean", "enrich", "report"],
        "atoms_in_molecules": {"load": ["builtin.echo"], "clean": ["builtin.echo"], "enrich": ["builtin.echo"], "report": ["builtin.echo"]},
        "dag_spec": {"nodes": [{"id": "load"}, {"id": "clean"}, {"id": "enrich"}, {"id": "report"}],
                     "edges": [{"source": "load", "target": "clean"}, {"source": "load", "target": "enrich"},
                               {"source": "clean", "target": "report"}, {"source": "enrich", "target": "report"}]}
    })).await;
    let slow = workflow(&db, &a, json!({
        "project_id": 7, "project_name": "Sales", "name": "Slow import", "app_name": "Trinity Analytics",
        "molecules_used": ["wait"], "atoms_in_molecules": {"wait": ["builtin.sleep"]},
        "dag_spec": {"nodes": [{"id": "wait", "data": {"sleep_ms": 60000}}]}
    })).await;
    let flaky = workflow(&db, &a, json!({
        "project_id": 8, "project_name": "Ops", "name": "Flaky check", "app_name": "Ops Console",
        "molecules_used": ["probe"], "atoms_in_molecules": {"probe": ["builtin.fail"]},
        "dag_spec": {"nodes": [{"id": "probe"}]}
    })).await;
    let private = workflow(
        &db,
        &b,
        json!({"project_id": 9, "project_name": "Bob", "name": "Bob private plan"}),
    )
    .await;
    for (w, times) in [(nightly, 3), (flaky, 2)] {
        for _ in 0..times {
            db.store
                .execute_workflow(&a, w, ExecutionRequest::default(), None)
                .await
                .expect("execute");
        }
    }

    let base = format!("http://{}", server.address);
    let driver = Driver::start();
    let profile = tempfile::tempdir().expect("a profile directory");
    let client = browser(&driver, profile.path()).await;

    // Signing in: the admin sends an unsigned visitor to the form, and back after it.
    client.goto(&format!("{base}/admin/")).await.expect("open");
    wait_for(&client, "input#token", Duration::from_secs(10)).await;
    client
        .find(Locator::Css("input#token"))
        .await
        .expect("token field")
        .send_keys(&token)
        .await
        .expect("type");
    click(&client, Locator::Css("main form button[type=submit]")).await;
    wait_for(&client, "[data-testid=summary]", Duration::from_secs(10)).await;
    assert_eq!(
        text_of(&client, "[data-figure=workflows]").await,
        "3",
        "Alice's three workflows"
    );
    // The seeded runs finish under the in-process worker before the charts are looked at.
    let live = RunFilter {
        workflow_id: None,
        statuses: vec![RunStatus::Pending, RunStatus::Running],
    };
    let deadline = Instant::now() + Duration::from_secs(30);
    while db
        .store
        .list_runs(&a, &live, Ordering::default(), PageRequest::default())
        .await
        .expect("runs")
        .count
        > 0
    {
        assert!(Instant::now() < deadline, "the seeded runs did not finish");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    client
        .goto(&format!("{base}/admin/"))
        .await
        .expect("reload");
    wait_for(&client, "figure.chart svg rect", Duration::from_secs(5)).await;
    wait_for(&client, "svg.bars rect", Duration::from_secs(5)).await;
    let bars = client
        .find_all(Locator::Css("svg.bars rect"))
        .await
        .expect("bars");
    assert!(bars.len() >= 4, "top molecules and atoms are drawn");
    screenshot(&client, "admin-dashboard.png").await;

    // Search a workflow, open it, see its graph.
    client
        .goto(&format!("{base}/admin/workflows/"))
        .await
        .expect("list");
    let search = client
        .find(Locator::Css("input#search"))
        .await
        .expect("search field");
    search.send_keys("nightly").await.expect("type");
    click(&client, Locator::Css("form.filters button")).await;
    // The unfiltered list has the same table: wait for the filtered page's address first.
    let deadline = Instant::now() + Duration::from_secs(5);
    while !client
        .current_url()
        .await
        .expect("url")
        .as_str()
        .contains("search=nightly")
    {
        assert!(Instant::now() < deadline, "the filter did not submit");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    wait_for(&client, "[data-testid=workflows]", Duration::from_secs(5)).await;
    let listed = text_of(&client, "[data-testid=workflows] tbody").await;
    assert!(
        listed.contains("Nightly sales report") && !listed.contains("Slow import"),
        "{listed}"
    );
    click(&client, Locator::LinkText("Nightly sales report")).await;
    wait_for(&client, "svg.dag g.node", Duration::from_secs(5)).await;
    let nodes = client
        .find_all(Locator::Css("svg.dag g.node"))
        .await
        .expect("nodes");
    assert_eq!(nodes.len(), 4);
    assert_eq!(
        client
            .find_all(Locator::Css("svg.dag path.edge"))
            .await
            .expect("edges")
            .len(),
        4
    );
    screenshot(&client, "admin-workflow.png").await;

    // Execute it and watch the run finish (the page refreshes itself while the run is active).
    click(
        &client,
        Locator::XPath("//button[normalize-space()='Execute']"),
    )
    .await;
    wait_for(
        &client,
        "[data-testid=run-status] .badge-success",
        Duration::from_secs(30),
    )
    .await;
    let progress = text_of(&client, "[data-testid=progress]").await;
    assert!(
        progress.contains("report") && progress.contains("builtin.echo"),
        "{progress}"
    );

    // Start the slow one and cancel it from its page.
    client
        .goto(&format!("{base}/admin/workflows/{slow}/"))
        .await
        .expect("open");
    click(
        &client,
        Locator::XPath("//button[normalize-space()='Execute']"),
    )
    .await;
    wait_for(
        &client,
        "[data-testid=run-status] .badge-running",
        Duration::from_secs(20),
    )
    .await;
    click(
        &client,
        Locator::XPath("//button[normalize-space()='Cancel run']"),
    )
    .await;
    wait_for(
        &client,
        "[data-testid=run-status] .badge-cancelled",
        Duration::from_secs(10),
    )
    .await;

    // Bob's workflow is not Alice's to see, in the list or by its address.
    client
        .goto(&format!("{base}/admin/workflows/?search=plan"))
        .await
        .expect("list");
    assert!(
        client
            .source()
            .await
            .expect("source")
            .contains("No workflows match.")
    );
    client
        .goto(&format!("{base}/admin/workflows/{private}/"))
        .await
        .expect("open");
    assert_eq!(text_of(&client, "h1").await, "Not Found");

    // At phone width nothing runs off the side of the dashboard.
    client.set_window_size(390, 844).await.expect("resize");
    client
        .goto(&format!("{base}/admin/"))
        .await
        .expect("dashboard");
    let overflow = client
        .execute(
            "return document.documentElement.scrollWidth - window.innerWidth;",
            vec![],
        )
        .await
        .expect("measure");
    assert!(
        overflow.as_i64().is_some_and(|o| o <= 0),
        "the page is {overflow} px too wide"
    );
    client.set_window_size(1280, 1000).await.expect("resize");

    // Signing out ends the session: the next page asks to sign in again.
    client
        .goto(&format!("{base}/admin/"))
        .await
        .expect("dashboard");
    click(&client, Locator::Css("form.signout button")).await;
    wait_for(&client, "input#token", Duration::from_secs(10)).await;
    client
        .goto(&format!("{base}/admin/runs/"))
        .await
        .expect("runs");
    wait_for(&client, "input#token", Duration::from_secs(10)).await;
    client.close().await.expect("close the browser");
    drop(server);
}
