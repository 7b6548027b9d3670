//! The operations contract: `/metrics` in Prometheus text format with the promised families and
//! real values, `/health`, and INFO agreeing with the metrics.

mod common;

use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Duration;

use common::{against_redis, free_port, Server};

/// A plain HTTP/1.0 GET on loopback: (status, body).
fn http_get(port: u16, path: &str) -> (u16, String) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to the metrics port");
    s.set_read_timeout(Some(Duration::from_secs(10)))
        .expect("timeout");
    write!(s, "GET {path} HTTP/1.0\r\nHost: localhost\r\n\r\n").expect("send request");
    let mut raw = Vec::new();
    if let Err(e) = s.read_to_end(&mut raw) {
        panic!(
            "read response: {e}; got so far: {:?}",
            String::from_utf8_lossy(&raw)
        );
    }
    let text = String::from_utf8_lossy(&raw).into_owned();
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|c| c.parse().ok())
        .expect("status line");
    let body = text
        .split_once("\r\n\r\n")
        .map(|(_, b)| b.to_string())
        .unwrap_or_default();
    (status, body)
}

/// The value of the sample whose name-and-labels text is exactly `series`.
fn sample(body: &str, series: &str) -> Option<f64> {
    body.lines().filter(|l| !l.starts_with('#')).find_map(|l| {
        l.rsplit_once(' ')
            .filter(|(s, _)| *s == series)
            .and_then(|(_, v)| v.parse().ok())
    })
}

fn start_with_metrics(extra: &[&str]) -> (Server, u16) {
    let port = free_port();
    let port_text = port.to_string();
    let mut args = vec!["--metrics-port", port_text.as_str()];
    args.extend_from_slice(extra);
    (Server::start_with(2, &args), port)
}

#[test]
fn metrics_have_the_contract_families_with_real_values() {
    if against_redis() {
        return;
    }
    let (s, port) = start_with_metrics(&["--requirepass", "sekret"]);
    let mut c = s.client();
    for i in 0..10 {
        assert_eq!(c.cmd(&["SET", &format!("key{i}"), "value"]).text(), "OK");
    }
    for i in 0..5 {
        assert_eq!(c.cmd(&["GET", &format!("key{i}")]).text(), "value");
    }
    assert_eq!(c.cmd(&["SET", "ttl", "v", "EX", "100"]).text(), "OK");
    let mut bad = s.client_noauth();
    assert!(bad.cmd(&["AUTH", "wrong"]).is_error());
    assert!(bad.cmd(&["AUTH", "default", "nope"]).is_error());

    let (status, body) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    for family in [
        "ferrite_commands_total",
        "ferrite_connections_total",
        "ferrite_memory_bytes",
        "ferrite_keys_total",
        "ferrite_latency_seconds",
        "ferrite_auth_failures_total",
        "ferrite_persistence_last_save",
    ] {
        assert!(
            body.contains(&format!("# TYPE {family} ")),
            "{family} missing from:\n{body}"
        );
    }
    assert_eq!(
        sample(&body, r#"ferrite_commands_total{command="set"}"#),
        Some(11.0)
    );
    assert_eq!(
        sample(&body, r#"ferrite_commands_total{command="get"}"#),
        Some(5.0)
    );
    assert_eq!(
        sample(&body, r#"ferrite_latency_seconds_count{command="get"}"#),
        Some(5.0)
    );
    assert_eq!(
        sample(
            &body,
            r#"ferrite_latency_seconds_bucket{command="get",le="+Inf"}"#
        ),
        Some(5.0)
    );
    assert_eq!(sample(&body, r#"ferrite_keys_total{db="0"}"#), Some(11.0));
    assert_eq!(sample(&body, r#"ferrite_keys_with_ttl{db="0"}"#), Some(1.0));
    assert_eq!(sample(&body, "ferrite_auth_failures_total"), Some(2.0));
    assert!(
        sample(&body, r#"ferrite_connections_total{listener="fallback"}"#).unwrap_or(0.0) >= 2.0
    );
    assert!(sample(&body, r#"ferrite_memory_bytes{category="keyspace"}"#).unwrap_or(0.0) > 0.0);
    assert!(sample(&body, r#"ferrite_memory_bytes{category="resident"}"#).unwrap_or(0.0) > 0.0);
    let last_save = sample(&body, "ferrite_persistence_last_save").expect("last save");
    assert!(last_save > 1.7e9, "a unix time, got {last_save}");
}

#[test]
fn info_agrees_with_metrics() {
    if against_redis() {
        return;
    }
    let (s, port) = start_with_metrics(&[]);
    let mut c = s.client();
    for i in 0..25 {
        c.cmd(&["INCR", &format!("counter{}", i % 7)]);
    }
    let info = c.cmd(&["INFO", "commandstats"]).text();
    let calls: f64 = info
        .lines()
        .find_map(|l| l.strip_prefix("cmdstat_incr:calls="))
        .and_then(|r| r.split(',').next())
        .and_then(|n| n.parse().ok())
        .expect("cmdstat_incr in INFO");
    let (_, body) = http_get(port, "/metrics");
    assert_eq!(calls, 25.0);
    assert_eq!(
        sample(&body, r#"ferrite_commands_total{command="incr"}"#),
        Some(calls)
    );
    let dbsize = c.cmd(&["DBSIZE"]).as_int() as f64;
    assert_eq!(sample(&body, r#"ferrite_keys_total{db="0"}"#), Some(dbsize));

    // Waiting clients and subscriptions, counted once across shards, as INFO counts them.
    let mut waiter = s.client();
    waiter.send(&["BLPOP", "queue", "0"]);
    let mut subs: Vec<_> = (0..3).map(|_| s.client()).collect();
    for sub in &mut subs {
        sub.send(&["SUBSCRIBE", "news", "sport"]);
        sub.read();
        sub.read();
    }
    subs[0].send(&["PSUBSCRIBE", "n*"]);
    subs[0].read();
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    while s.info_field("clients", "blocked_clients").as_deref() != Some("1") {
        assert!(std::time::Instant::now() < deadline, "BLPOP did not block");
        std::thread::sleep(Duration::from_millis(5));
    }
    assert_eq!(
        s.info_field("stats", "pubsub_channels").as_deref(),
        Some("2")
    );
    assert_eq!(
        s.info_field("stats", "pubsub_patterns").as_deref(),
        Some("1")
    );
    let (_, body) = http_get(port, "/metrics");
    assert_eq!(sample(&body, "ferrite_blocked_clients"), Some(1.0));
    assert_eq!(sample(&body, "ferrite_pubsub_channels"), Some(2.0));
    assert_eq!(sample(&body, "ferrite_pubsub_patterns"), Some(1.0));
    c.cmd(&["RPUSH", "queue", "job"]);
    assert_eq!(waiter.read(), common::Reply::bulks(&["queue", "job"]));
}

#[test]
fn health_answers_and_unknown_paths_are_404() {
    if against_redis() {
        return;
    }
    let (_s, port) = start_with_metrics(&[]);
    let (status, body) = http_get(port, "/health");
    assert_eq!(status, 200, "{body}");
    assert!(body.starts_with("OK"), "{body}");
    assert_eq!(http_get(port, "/nope").0, 404);
}

#[test]
fn slow_and_garbage_http_clients_do_not_block_scrapes() {
    if against_redis() {
        return;
    }
    let (s, port) = start_with_metrics(&[]);
    let mut stuck = Vec::new();
    for i in 0..40 {
        let mut c = TcpStream::connect(("127.0.0.1", port)).expect("connect");
        let bytes: &[u8] = if i % 2 == 0 {
            b"GET /metrics HTTP/1.1\r\nHost: loc" // a request that never finishes
        } else {
            b"\x00\xff\x13garbage\r\n\r\n\xde\xad\xbe\xef" // not HTTP at all
        };
        c.write_all(bytes).expect("send");
        stuck.push(c);
    }
    // All at once, and they never read what they were sent either.
    let started = std::time::Instant::now();
    let (status, body) = http_get(port, "/metrics");
    assert_eq!(status, 200);
    assert!(body.contains("ferrite_commands_total"));
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "scrape took {:?}",
        started.elapsed()
    );
    assert_eq!(s.client().cmd(&["PING"]).text(), "PONG");
    drop(stuck);
}
