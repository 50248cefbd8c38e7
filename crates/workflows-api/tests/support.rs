//! Running the real binary and talking plain HTTP/1.1 to it.
#![allow(dead_code)]

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A started `workflows-api serve` with the bootstrap admin's token.
pub struct Server {
    pub child: Child,
    pub address: String,
    pub token: String,
}

impl Server {
    /// Starts `serve` on a free port against `database_url`, with a bootstrap admin, migrations
    /// applied on start, and `extra` environment.
    pub fn start(database_url: &str, extra: &[(&str, &str)]) -> Server {
        Self::start_logging(database_url, extra, None)
    }

    /// [`Server::start`], writing the server's log (stderr) to `log` when given.
    pub fn start_logging(
        database_url: &str,
        extra: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> Server {
        Self::start_command(&["serve"], database_url, extra, log)
    }

    /// Starts the binary with `args` (a form of `serve`).
    pub fn start_command(
        args: &[&str],
        database_url: &str,
        extra: &[(&str, &str)],
        log: Option<&std::path::Path>,
    ) -> Server {
        let mut command = Command::new(env!("CARGO_BIN_EXE_workflows-api"));
        command
            .args(args)
            .env("APP_ENV", "test")
            .env(
                "WORKFLOWS_CONFIG_DIR",
                concat!(env!("CARGO_MANIFEST_DIR"), "/../../config"),
            )
            .env("DATABASE_URL", database_url)
            .env("PORT", "0")
            .env("WORKFLOWS__AUTH__BOOTSTRAP_ADMIN", "true")
            .env("WORKFLOWS__DATABASE__MIGRATE_ON_START", "true")
            .env("RUST_LOG", "warn")
            .stdout(Stdio::piped())
            .stderr(match log {
                Some(path) => Stdio::from(std::fs::File::create(path).expect("log file")),
                None => Stdio::null(),
            });
        for (key, value) in extra {
            command.env(key, value);
        }
        let mut child = command.spawn().expect("serve starts");
        let stdout = child.stdout.take().expect("stdout");
        let mut lines = BufReader::new(stdout).lines();
        let deadline = Instant::now() + Duration::from_secs(30);
        let (mut token, mut url) = (None, None);
        while (token.is_none() || url.is_none()) && Instant::now() < deadline {
            let Some(Ok(line)) = lines.next() else { break };
            let line = line.trim().to_owned();
            if line.starts_with("wfk_") {
                token = Some(line);
            } else if line.starts_with("http://") {
                url = Some(line);
            }
        }
        let (Some(token), Some(url)) = (token, url) else {
            let _ = child.kill();
            panic!("serve printed no token or URL");
        };
        // Keep reading, so the server never writes into a closed pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let address = url
            .trim_start_matches("http://")
            .split('/')
            .next()
            .unwrap_or("")
            .to_owned();
        Server {
            child,
            address,
            token,
        }
    }

    /// Sends the signal named: `TERM` as an orchestrator stopping the service would, `INT` as
    /// Ctrl-C.
    pub fn signal(&self, name: &str) {
        let status = Command::new("kill")
            .arg(format!("-{name}"))
            .arg(self.child.id().to_string())
            .status();
        assert!(status.is_ok_and(|s| s.success()), "kill -{name}");
    }

    /// Waits for the process to exit, up to `limit`.
    pub fn wait_exit(&mut self, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while Instant::now() < deadline {
            if let Ok(Some(_)) = self.child.try_wait() {
                return true;
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        false
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An answer's status, or `None` when the connection failed or closed without a full answer.
pub fn request(
    address: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Option<u16> {
    exchange(address, method, path, token, body, timeout).map(|(status, _)| status)
}

/// An answer's status and body, or `None` when the connection failed or was cut short.
pub fn exchange(
    address: &str,
    method: &str,
    path: &str,
    token: &str,
    body: Option<&str>,
    timeout: Duration,
) -> Option<(u16, String)> {
    let mut stream = TcpStream::connect(address).ok()?;
    stream.set_read_timeout(Some(timeout)).ok()?;
    let body = body.unwrap_or("");
    write!(
        stream,
        "{method} {path} HTTP/1.1\r\nHost: {address}\r\nAuthorization: Bearer {token}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .ok()?;
    read_answer(&mut stream)
}

/// Reads a whole answer and returns its status, or `None` if it was cut short.
pub fn read_status(stream: &mut TcpStream) -> Option<u16> {
    read_answer(stream).map(|(status, _)| status)
}

/// Reads a whole answer: its status and body.
pub fn read_answer(stream: &mut TcpStream) -> Option<(u16, String)> {
    let mut raw = Vec::new();
    // A reset after the whole answer arrived still counts; completeness is judged by its length.
    let _ = stream.read_to_end(&mut raw);
    let text = String::from_utf8_lossy(&raw);
    let (head, rest) = text.split_once("\r\n\r\n")?;
    let status = head.split_whitespace().nth(1)?.parse().ok()?;
    let length: Option<usize> = head
        .lines()
        .find_map(|l| {
            l.to_ascii_lowercase()
                .strip_prefix("content-length:")
                .map(|v| v.trim().to_owned())
        })
        .and_then(|v| v.parse().ok());
    match length {
        Some(n) if rest.len() < n => None,
        _ => Some((status, rest.to_owned())),
    }
}
