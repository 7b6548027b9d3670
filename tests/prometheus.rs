//! The operations material against real Prometheus (Debian's `prometheus` package): the alert
//! rules and scrape configuration load, `/metrics` passes `promtool check metrics`, and every
//! query on the Grafana dashboard returns data from a Prometheus scraping a Ferrite under load.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{against_redis, free_port, run_bounded, scratch_dir, Server};

const OPS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/ferrite-ops");

fn http_get(port: u16, path: &str) -> Option<String> {
    let mut s = TcpStream::connect(("127.0.0.1", port)).ok()?;
    s.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").ok()?;
    let mut text = String::new();
    s.read_to_string(&mut text).ok()?;
    text.split_once("\r\n\r\n").map(|(_, b)| b.to_string())
}

/// Percent-encodes a query parameter.
fn encode(q: &str) -> String {
    q.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            _ => format!("%{b:02X}"),
        })
        .collect()
}

#[test]
fn alert_rules_and_scrape_config_load() {
    let rules = run_bounded(
        Command::new("promtool").args(["check", "rules", &format!("{OPS}/prometheus/alerts.yml")]),
        Duration::from_secs(30),
    );
    assert!(
        rules.status.success(),
        "{}",
        String::from_utf8_lossy(&rules.stderr)
    );
    let config = run_bounded(
        Command::new("promtool").args([
            "check",
            "config",
            &format!("{OPS}/prometheus/prometheus.yml"),
        ]),
        Duration::from_secs(30),
    );
    assert!(
        config.status.success(),
        "{}",
        String::from_utf8_lossy(&config.stderr)
    );
}

#[test]
fn metrics_pass_promtool() {
    if against_redis() {
        return;
    }
    let port = free_port();
    let s = Server::start_with(2, &["--metrics-port", &port.to_string()]);
    s.client().cmd(&["SET", "k", "v"]);
    let body = http_get(port, "/metrics").expect("scrape");
    let mut check = Command::new("promtool")
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start promtool");
    check
        .stdin
        .take()
        .expect("stdin")
        .write_all(body.as_bytes())
        .expect("feed promtool");
    let out = check.wait_with_output().expect("promtool result");
    let problems =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    // The one lint left is the contract's own name: the operations guide promises a gauge called
    // ferrite_keys_total, and promtool would rather non-counters did not end in _total.
    let unexpected: Vec<&str> = problems
        .lines()
        .filter(|l| !l.trim().is_empty())
        .filter(|l| {
            !l.starts_with(
                "ferrite_keys_total non-counter metrics should not have \"_total\" suffix",
            )
        })
        .collect();
    assert!(unexpected.is_empty(), "promtool check metrics:\n{problems}");
}

struct Prometheus {
    child: Child,
    port: u16,
}

impl Prometheus {
    fn start(target: u16, dir: &Path) -> Prometheus {
        let port = free_port();
        let config = dir.join("prometheus.yml");
        std::fs::write(
            &config,
            format!(
                "global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: ferrite\n    static_configs:\n      - targets: [\"127.0.0.1:{target}\"]\n"
            ),
        )
        .expect("write prometheus config");
        let child = Command::new("prometheus")
            .arg(format!("--config.file={}", config.display()))
            .arg(format!(
                "--storage.tsdb.path={}",
                dir.join("data").display()
            ))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .stdout(Stdio::null())
            .stderr(std::fs::File::create(dir.join("prometheus.log")).expect("log file"))
            .spawn()
            .expect("start prometheus (apt-get install prometheus)");
        Prometheus { child, port }
    }

    fn query(&self, expr: &str) -> Option<serde_json::Value> {
        let body = http_get(self.port, &format!("/api/v1/query?query={}", encode(expr)))?;
        serde_json::from_str(&body).ok()
    }

    /// Whether `expr` returns at least one sample.
    fn has_data(&self, expr: &str) -> bool {
        self.query(expr)
            .and_then(|v| v["data"]["result"].as_array().map(|r| !r.is_empty()))
            .unwrap_or(false)
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

#[test]
fn every_dashboard_query_returns_data() {
    if against_redis() {
        return;
    }
    let metrics_port = free_port();
    let s = Server::start_with(
        2,
        &[
            "--metrics-port",
            &metrics_port.to_string(),
            "--requirepass",
            "pw",
        ],
    );
    let dir = scratch_dir();
    let prom = Prometheus::start(metrics_port, &dir);

    let dashboard: serde_json::Value = serde_json::from_str(
        &std::fs::read_to_string(format!("{OPS}/grafana/ferrite-dashboard.json"))
            .expect("read dashboard"),
    )
    .expect("dashboard is JSON");
    assert_eq!(
        dashboard["__inputs"][0]["type"], "datasource",
        "the datasource is an input"
    );
    let mut exprs: Vec<String> = Vec::new();
    for panel in dashboard["panels"].as_array().expect("panels") {
        for target in panel["targets"].as_array().expect("targets") {
            let expr = target["expr"].as_str().expect("expr");
            // The dataplane row needs an AF_XDP lab: tests/dataplane.rs checks its queries.
            if expr.contains("ferrite_dataplane_") {
                continue;
            }
            exprs.push(
                target["expr"]
                    .as_str()
                    .expect("expr")
                    .replace("$instance", ".*"),
            );
        }
    }
    assert!(exprs.len() >= 15, "the dashboard has its panels");

    // A little load, with a failed AUTH, while Prometheus scrapes every second.
    let mut c = s.client();
    let mut bad = s.client_noauth();
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut missing: Vec<String> = exprs.clone();
    let mut round = 0;
    while !missing.is_empty() && Instant::now() < deadline {
        for i in 0..50 {
            c.cmd(&[
                "SET",
                &format!("key{}", (round * 50 + i) % 300),
                "value",
                "EX",
                "600",
            ]);
            c.cmd(&["GET", &format!("key{i}")]);
            c.cmd(&["GET", "missing"]);
        }
        c.cmd(&["MSET", "a", "1", "b", "2", "c", "3"]);
        bad.cmd(&["AUTH", "wrong"]);
        round += 1;
        std::thread::sleep(Duration::from_millis(500));
        missing.retain(|e| !prom.has_data(e));
    }
    assert!(
        missing.is_empty(),
        "dashboard queries without data after {round} rounds: {missing:#?}\nprometheus log: {}",
        std::fs::read_to_string(dir.join("prometheus.log")).unwrap_or_default()
    );
}
