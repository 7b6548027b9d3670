//! Command-line clients against the real server: Debian's redis-cli, and ferrite-cli one-shot.

#[macro_use]
mod common;

use common::{free_port, run_bounded, Reply, Server, IO_TIMEOUT};
use std::io::Write;
use std::process::{Command, Output, Stdio};

fn stdout(o: &Output) -> String {
    String::from_utf8_lossy(&o.stdout).into_owned()
}

fn lines(o: &Output) -> Vec<String> {
    let mut v: Vec<String> = stdout(o).lines().map(str::to_string).collect();
    v.sort();
    v
}

fn ferrite_cli(args: &[&str]) -> Output {
    run_bounded(
        Command::new(env!("CARGO_BIN_EXE_ferrite-cli")).args(args),
        IO_TIMEOUT,
    )
}

#[test]
fn redis_cli_basics() {
    let s = Server::start(4);
    let o = s.redis_cli(&["SET", "a", "b"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "OK\n");
    assert_eq!(stdout(&s.redis_cli(&["GET", "a"])), "b\n");
    assert_eq!(stdout(&s.redis_cli(&["GET", "nosuch"])), "\n");
    assert_eq!(stdout(&s.redis_cli(&["PING"])), "PONG\n");
    assert_eq!(
        stdout(&s.redis_cli(&["MSET", "b", "1", "c", "2", "d", "3"])),
        "OK\n"
    );
    assert_eq!(stdout(&s.redis_cli(&["DBSIZE"])), "4\n");
    assert_eq!(
        stdout(&s.redis_cli(&["MGET", "a", "b", "c", "d", "e"])),
        "b\n1\n2\n3\n\n"
    );
    // (redis-cli adds a blank line after an error when not on a terminal.)
    assert_eq!(
        stdout(&s.redis_cli(&["INCR", "a"])).trim_end(),
        "ERR value is not an integer or out of range"
    );
    // -n selects a database.
    assert_eq!(stdout(&s.redis_cli(&["-n", "2", "SET", "q", "1"])), "OK\n");
    assert_eq!(stdout(&s.redis_cli(&["-n", "2", "DBSIZE"])), "1\n");
    assert_eq!(stdout(&s.redis_cli(&["DBSIZE"])), "4\n");
    // RESP3 with -3.
    let hello = stdout(&s.redis_cli(&["-3", "HELLO"]));
    assert!(hello.lines().any(|l| l == "proto 3"), "{hello}");
    // INFO is readable.
    let info = stdout(&s.redis_cli(&["INFO", "server"]));
    assert!(info.contains("redis_version:7.0.15"), "{info}");
}

#[test]
fn redis_cli_scan_and_pipe() {
    let s = Server::start(4);
    let mut c = s.client();
    let mut args = vec!["MSET".to_string()];
    for i in 0..500 {
        args.push(format!("key:{i}"));
        args.push(i.to_string());
    }
    assert_eq!(c.cmd(&args), Reply::ok());
    // --scan walks every shard and returns what KEYS returns.
    let scanned = lines(&s.redis_cli(&["--scan"]));
    let mut keys = c.line("KEYS *").strings();
    keys.sort();
    assert_eq!(scanned, keys);
    assert_eq!(scanned.len(), 500);
    let some = lines(&s.redis_cli(&["--scan", "--pattern", "key:4??"]));
    let mut want: Vec<String> = (400..500).map(|i| format!("key:{i}")).collect();
    want.sort();
    assert_eq!(some, want);
    // --pipe mass insertion.
    let mut input = Vec::new();
    for i in 0..1000 {
        input.extend(common::encode(&[
            "SET",
            &format!("piped:{i}"),
            &i.to_string(),
        ]));
    }
    let mut child = Command::new(common::REDIS_CLI)
        .args(["-h", "127.0.0.1", "-p", &s.port.to_string(), "--pipe"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("redis-cli --pipe");
    child.stdin.take().unwrap().write_all(&input).unwrap();
    let deadline = std::time::Instant::now() + IO_TIMEOUT;
    while child.try_wait().unwrap().is_none() {
        assert!(
            std::time::Instant::now() < deadline,
            "redis-cli --pipe hangs"
        );
        std::thread::sleep(std::time::Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    assert!(out.status.success(), "{out:?}");
    assert!(
        stdout(&out).contains("errors: 0, replies: 1000"),
        "{}",
        stdout(&out)
    );
    check!(c, "DBSIZE", Reply::int(1500));
    check!(c, "GET piped:999", Reply::bulk("999"));
}

#[test]
fn ferrite_cli_one_shot() {
    let s = Server::start(4);
    let port = s.port.to_string();
    let o = ferrite_cli(&["-p", &port, "PING"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "PONG\n");
    let o = ferrite_cli(&["-p", &port, "SET", "a", "hello world"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "OK\n");
    assert_eq!(
        stdout(&ferrite_cli(&["-p", &port, "GET", "a"])),
        "hello world\n"
    );
    assert_eq!(stdout(&ferrite_cli(&["-p", &port, "GET", "nosuch"])), "\n");
    assert_eq!(
        stdout(&ferrite_cli(&["-p", &port, "MSET", "b", "1", "c", "2"])),
        "OK\n"
    );
    assert_eq!(
        stdout(&ferrite_cli(&["-p", &port, "MGET", "a", "b", "c"])),
        "hello world\n1\n2\n"
    );
    // An error reply: printed, non-zero exit.
    let o = ferrite_cli(&["-p", &port, "INCR", "a"]);
    assert!(!o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "ERR value is not an integer or out of range\n");
    let o = ferrite_cli(&["-p", &port, "NOSUCHCMD"]);
    assert!(!o.status.success());
    // -n selects a database.
    let o = ferrite_cli(&["-p", &port, "-n", "2", "SET", "q", "in-db-2"]);
    assert!(o.status.success(), "{o:?}");
    let mut c = s.client();
    check!(c, "EXISTS q", Reply::int(0));
    check!(c, "SELECT 2", Reply::ok());
    check!(c, "GET q", Reply::bulk("in-db-2"));
    assert_eq!(
        stdout(&ferrite_cli(&["-p", &port, "-n", "2", "GET", "q"])),
        "in-db-2\n"
    );
    let o = ferrite_cli(&["-p", &port, "-n", "16", "PING"]);
    assert!(!o.status.success(), "SELECT 16 should fail: {o:?}");
    // --resp3 speaks RESP3 for the command.
    let info = stdout(&ferrite_cli(&["-p", &port, "--resp3", "CLIENT", "INFO"]));
    assert!(info.split_whitespace().any(|f| f == "resp=3"), "{info}");
    let info = stdout(&ferrite_cli(&["-p", &port, "CLIENT", "INFO"]));
    assert!(info.split_whitespace().any(|f| f == "resp=2"), "{info}");
    assert_eq!(
        stdout(&ferrite_cli(&[
            "-p",
            &port,
            "--resp3",
            "CONFIG",
            "GET",
            "maxclients"
        ])),
        "maxclients\n10000\n"
    );
    let o = ferrite_cli(&["-p", &port, "--resp3", "GET", "nosuch"]);
    assert!(o.status.success());
    assert_eq!(stdout(&o), "\n");
}

#[test]
fn ferrite_cli_connection_refused() {
    // A port nothing listens on.
    let port = free_port().to_string();
    let o = ferrite_cli(&["-p", &port, "PING"]);
    assert!(!o.status.success(), "{o:?}");
    assert!(o.stdout.is_empty());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("Could not connect"),
        "{o:?}"
    );
}

#[test]
fn ferrite_cli_with_a_password() {
    let s = Server::start_with(4, &["--requirepass", "pw"]);
    let port = s.port.to_string();
    let o = ferrite_cli(&["-p", &port, "PING"]);
    assert!(!o.status.success(), "PING without AUTH: {o:?}");
    assert_eq!(stdout(&o), "NOAUTH Authentication required.\n");
    let o = ferrite_cli(&["-p", &port, "-a", "pw", "PING"]);
    assert!(o.status.success(), "{o:?}");
    assert_eq!(stdout(&o), "PONG\n");
    let o = ferrite_cli(&["-p", &port, "-a", "wrong", "PING"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("WRONGPASS"),
        "{o:?}"
    );
    let o = ferrite_cli(&[
        "-p", &port, "-a", "pw", "--resp3", "-n", "3", "SET", "x", "1",
    ]);
    assert!(o.status.success(), "{o:?}");
    let mut c = s.client();
    check!(c, "SELECT 3", Reply::ok());
    check!(c, "GET x", Reply::bulk("1"));
}

/// Runs a ferrite-cli mode that never ends by itself for `run`, then stops it; its output.
fn ferrite_cli_for(args: &[&str], run: std::time::Duration) -> String {
    let mut child = Command::new(env!("CARGO_BIN_EXE_ferrite-cli"))
        .args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start ferrite-cli");
    std::thread::sleep(run);
    let _ = child.kill();
    let out = child.wait_with_output().expect("output");
    stdout(&out)
}

#[test]
fn ferrite_cli_scan_stat_and_latency() {
    let s = Server::start(4);
    let port = s.addr().port().to_string();
    let mut c = s.client();
    for i in 0..50 {
        c.cmd(&["SET", &format!("user:{i}"), "x"]);
    }
    c.cmd(&["SET", "other", "y"]);

    let scanned = lines(&ferrite_cli(&[
        "-p",
        &port,
        "--scan",
        "--pattern",
        "user:*",
    ]));
    let mut expected: Vec<String> = (0..50).map(|i| format!("user:{i}")).collect();
    expected.sort();
    assert_eq!(scanned, expected);
    assert_eq!(lines(&ferrite_cli(&["-p", &port, "--scan"])).len(), 51);

    let stat = ferrite_cli_for(
        &["-p", &port, "--stat", "-i", "0.2"],
        std::time::Duration::from_millis(1100),
    );
    let rows: Vec<&str> = stat.lines().filter(|l| l.starts_with("51 ")).collect();
    assert!(rows.len() >= 2, "--stat printed:\n{stat}");
    assert!(stat.contains("keys") && stat.contains("requests"), "{stat}");

    let latency = ferrite_cli_for(
        &["-p", &port, "--latency", "-i", "0.3"],
        std::time::Duration::from_millis(1200),
    );
    let report = latency.lines().last().unwrap_or_default();
    assert!(
        report.starts_with("min: ") && report.contains("samples)"),
        "--latency printed:\n{latency}"
    );
}

#[test]
fn ferrite_cli_prints_info_as_text() {
    let s = Server::start(2);
    let out = ferrite_cli(&["-p", &s.addr().port().to_string(), "INFO", "server"]);
    assert!(out.status.success());
    let text = stdout(&out);
    assert!(text.starts_with("# Server"), "{text}");
    assert!(
        text.lines().any(|l| l.starts_with("redis_version:")),
        "{text}"
    );
}
