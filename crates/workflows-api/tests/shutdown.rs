//! SIGTERM (an orchestrator) or SIGINT (Ctrl-C) during requests: the server stops accepting,
//! finishes what it has, then exits.

mod support;

use std::io::Write;
use std::net::TcpStream;
use std::time::Duration;
use support::{Server, read_status, request};

#[test]
fn sigterm_finishes_in_flight_requests_before_exiting() {
    finishes_in_flight_requests_before_exiting_on("TERM");
}

// actix's own handling force-closes connections on SIGINT; the service stops on it gracefully.
#[test]
fn sigint_finishes_in_flight_requests_before_exiting() {
    finishes_in_flight_requests_before_exiting_on("INT");
}

fn finishes_in_flight_requests_before_exiting_on(signal: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let url = format!(
        "sqlite://{}?mode=rwc",
        dir.path().join("shutdown.sqlite3").display()
    );
    let mut server = Server::start(&url, &[("WORKFLOWS__SERVER__SHUTDOWN_GRACE_SECONDS", "10")]);
    let body = r#"{"project_id": 1, "project_name": "P", "name": "in flight"}"#;
    let (first_half, second_half) = body.split_at(body.len() / 2);

    // Requests whose bodies are still arriving when the signal comes.
    let mut in_flight: Vec<TcpStream> = (0..20)
        .map(|_| {
            let mut stream = TcpStream::connect(&server.address).expect("connect");
            stream.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
            write!(
                stream,
                "POST /api/workflows/workflows/ HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{first_half}",
                server.token,
                body.len()
            )
            .expect("first half");
            stream
        })
        .collect();
    std::thread::sleep(Duration::from_millis(500));
    server.signal(signal);
    std::thread::sleep(Duration::from_millis(500));

    // New connections are no longer served...
    let after = request(
        &server.address,
        "GET",
        "/healthz",
        &server.token,
        None,
        Duration::from_secs(2),
    );
    assert_eq!(after, None, "a request after SIG{signal} was served");

    // ...but every request already under way completes.
    let statuses: Vec<Option<u16>> = in_flight
        .iter_mut()
        .map(|stream| {
            stream.write_all(second_half.as_bytes()).ok()?;
            read_status(stream)
        })
        .collect();
    assert!(
        statuses.iter().all(|s| *s == Some(201)),
        "in-flight answers: {statuses:?}"
    );
    assert!(
        server.wait_exit(Duration::from_secs(15)),
        "the server exits once its requests are done"
    );
}
