//! PostgreSQL stops and starts under load: requests answer 503 quickly while it is down, and the
//! service recovers by itself when it is back. The test owns a throw-away cluster on its own port.

mod support;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::time::{Duration, Instant};
use support::{Server, request};

/// `initdb`/`pg_ctl` of the newest PostgreSQL installed.
fn postgres_bin() -> Option<PathBuf> {
    let mut versions: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .flatten()
        .map(|e| e.path())
        .collect();
    versions.sort();
    versions
        .pop()
        .map(|v| v.join("bin"))
        .filter(|bin| bin.join("initdb").exists())
}

fn is_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"))
}

/// A cluster this test made, stopped and deleted when dropped.
struct Cluster {
    bin: PathBuf,
    dir: tempfile::TempDir,
    port: u16,
}

impl Cluster {
    fn run(&self, program: &str, args: &[&str]) -> bool {
        let path = self.bin.join(program);
        // initdb and pg_ctl refuse to run as root.
        let mut command = if is_root() {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(path);
            c
        } else {
            Command::new(path)
        };
        command
            .args(args)
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null());
        command.status().is_ok_and(|s| s.success())
    }

    fn data(&self) -> String {
        self.dir.path().join("data").display().to_string()
    }

    fn create(bin: PathBuf) -> Cluster {
        let dir = tempfile::tempdir().expect("tempdir");
        if is_root() {
            assert!(
                Command::new("chown")
                    .args(["postgres:postgres", &dir.path().display().to_string()])
                    .status()
                    .is_ok_and(|s| s.success())
            );
        }
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .map(|a| a.port())
            .expect("a free port");
        let cluster = Cluster { bin, dir, port };
        assert!(
            cluster.run(
                "initdb",
                &["-D", &cluster.data(), "-A", "trust", "-U", "postgres"]
            ),
            "initdb"
        );
        cluster
    }

    fn start(&self) {
        let options = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1",
            self.port,
            self.dir.path().display()
        );
        assert!(
            self.run(
                "pg_ctl",
                &[
                    "-D",
                    &self.data(),
                    "-o",
                    &options,
                    "-w",
                    "-t",
                    "30",
                    "start"
                ]
            ),
            "pg_ctl start"
        );
    }

    fn stop(&self) {
        assert!(
            self.run("pg_ctl", &["-D", &self.data(), "-m", "fast", "-w", "stop"]),
            "pg_ctl stop"
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        self.run("pg_ctl", &["-D", &self.data(), "-m", "immediate", "stop"]);
    }
}

const UP: u8 = 0;
const DOWN: u8 = 1;
const BACK: u8 = 2;
const ACQUIRE_TIMEOUT: Duration = Duration::from_millis(1000);

#[test]
fn requests_answer_503_while_postgres_is_down_and_recover_without_restart() {
    let Some(bin) = postgres_bin() else {
        if std::env::var_os("WORKFLOWS_TEST_POSTGRES_URL").is_some() {
            panic!("PostgreSQL binaries are required for the outage test");
        }
        eprintln!(
            "\n!!!!!!!! no PostgreSQL binaries under /usr/lib/postgresql: OUTAGE TEST SKIPPED !!!!!!!!\n"
        );
        return;
    };
    let cluster = Cluster::create(bin);
    cluster.start();
    let server = Arc::new(Server::start(
        &cluster.url(),
        &[
            (
                "WORKFLOWS__DATABASE__ACQUIRE_TIMEOUT_MS",
                &ACQUIRE_TIMEOUT.as_millis().to_string(),
            ),
            ("WORKFLOWS__DATABASE__MAX_CONNECTIONS", "10"),
            ("WORKFLOWS__AUTH__TOKEN_CACHE_SECONDS", "0"),
        ],
    ));

    let phase = Arc::new(AtomicU8::new(UP));
    let stop = Arc::new(AtomicBool::new(false));
    let workers: Vec<_> = (0..6)
        .map(|_| {
            let (server, phase, stop) = (server.clone(), phase.clone(), stop.clone());
            std::thread::spawn(move || {
                let mut seen = Vec::new();
                while !stop.load(Ordering::Relaxed) {
                    let current = phase.load(Ordering::Relaxed);
                    let started = Instant::now();
                    let status = request(
                        &server.address,
                        "GET",
                        "/api/workflows/workflows/",
                        &server.token,
                        None,
                        Duration::from_secs(20),
                    );
                    // The phase moves to DOWN just before PostgreSQL stops, so a request that
                    // began while UP and ended after the move overlapped the outage: it counts
                    // with the outage (a stop mid-request made one such answer 503 in CI).
                    let overlapped = current == UP && phase.load(Ordering::Relaxed) != UP;
                    let counted = if overlapped { DOWN } else { current };
                    seen.push((counted, status, started.elapsed()));
                }
                seen
            })
        })
        .collect();

    std::thread::sleep(Duration::from_secs(2));
    phase.store(DOWN, Ordering::Relaxed);
    cluster.stop();
    std::thread::sleep(Duration::from_secs(4));
    let ready_while_down = request(
        &server.address,
        "GET",
        "/readyz",
        "",
        None,
        Duration::from_secs(10),
    );
    cluster.start();
    phase.store(BACK, Ordering::Relaxed);
    std::thread::sleep(Duration::from_secs(6));
    stop.store(true, Ordering::Relaxed);
    let seen: Vec<_> = workers
        .into_iter()
        .flat_map(|w| w.join().expect("worker"))
        .collect();
    let ready_after = request(
        &server.address,
        "GET",
        "/readyz",
        "",
        None,
        Duration::from_secs(10),
    );

    let mut counts: BTreeMap<(u8, Option<u16>), usize> = BTreeMap::new();
    for (p, status, _) in &seen {
        *counts.entry((*p, *status)).or_default() += 1;
    }
    eprintln!("answers by (phase, status): {counts:?}");
    let slowest_while_down = seen
        .iter()
        .filter(|(p, ..)| *p == DOWN)
        .map(|(.., t)| *t)
        .max()
        .unwrap_or_default();
    eprintln!("slowest answer while down: {slowest_while_down:?}");

    assert!(
        seen.iter()
            .filter(|(p, ..)| *p == UP)
            .all(|(_, s, _)| *s == Some(200)),
        "all 200 while up: {counts:?}"
    );
    assert!(
        seen.iter().all(|(_, s, _)| s.is_some()),
        "the service always answered"
    );
    assert!(
        seen.iter()
            .all(|(_, s, _)| matches!(s, Some(200) | Some(503))),
        "only 200 or 503: {counts:?}"
    );
    assert!(
        counts.get(&(DOWN, Some(503))).copied().unwrap_or(0) > 0,
        "503s while down"
    );
    // No hang past the acquire timeout (plus room for the connect attempt and a busy machine).
    assert!(
        slowest_while_down < ACQUIRE_TIMEOUT * 4,
        "an answer took {slowest_while_down:?} while down"
    );
    assert_eq!(ready_while_down, Some(503));
    // Recovered by itself: the last answers are all 200 again.
    let tail: Vec<_> = seen
        .iter()
        .filter(|(p, ..)| *p == BACK)
        .rev()
        .take(20)
        .collect();
    assert!(
        tail.len() == 20 && tail.iter().all(|(_, s, _)| *s == Some(200)),
        "recovered: {counts:?}"
    );
    assert_eq!(ready_after, Some(200));
    drop(server);
}
