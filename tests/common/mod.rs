//! Shared harness for the integration tests: start the real `ferrite` binary (or Debian's
//! `redis-server` for differential tests) on a free loopback port, talk to it with real clients,
//! and stop it when the guard is dropped.
//!
//! Every wait here is bounded; every socket has a read timeout, so a server that stops answering
//! fails the test instead of hanging it.
//!
//! Environment:
//! - `FERRITE_BIN=/path/to/ferrite` tests another build (a release binary, an older commit).
//! - `FERRITE_IT_TARGET=redis` runs the tests against Debian's redis-server instead of Ferrite,
//!   to check that what they expect is what Redis 7 does (Ferrite-only checks are skipped).

#![allow(dead_code)]

use std::fmt;
use std::io::{self, Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::PathBuf;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// How long a server may take to start answering PING (generous: the machine may be busy).
pub const START_TIMEOUT: Duration = Duration::from_secs(20);
/// Read timeout of every test socket.
pub const IO_TIMEOUT: Duration = Duration::from_secs(20);

pub const REDIS_SERVER: &str = "/usr/bin/redis-server";
pub const REDIS_CLI: &str = "/usr/bin/redis-cli";

/// Keys that land on all four shards of a `--shards 4` server (one shard each for a, b, c, d;
/// then e..h again on shards 3, 0, 1, 2).
pub const SPREAD_KEYS: [&str; 8] = ["a", "b", "c", "d", "e", "f", "g", "h"];

/// Whether `FERRITE_IT_TARGET=redis` asks to run the tests against redis-server.
pub fn against_redis() -> bool {
    std::env::var("FERRITE_IT_TARGET").is_ok_and(|v| v == "redis")
}

/// The `ferrite` binary under test: this build's, or `FERRITE_BIN` (e.g. a release build).
pub fn ferrite_bin() -> PathBuf {
    std::env::var_os("FERRITE_BIN")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_BIN_EXE_ferrite")))
}

/// A free loopback port: bind port 0, read the port, let it go.
pub fn free_port() -> u16 {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind 127.0.0.1:0");
    l.local_addr().unwrap().port()
}

/// A `ferrite.toml` holding `text`, in a scratch directory of its own.
pub fn config_file(text: &str) -> PathBuf {
    let path = scratch_dir().join("ferrite.toml");
    std::fs::write(&path, text).expect("write config");
    path
}

/// A per-process scratch directory for server logs and files.
pub fn scratch_dir() -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join(format!(
        "ferrite-it-{}-{}",
        std::process::id(),
        N.fetch_add(1, Ordering::Relaxed)
    ));
    std::fs::create_dir_all(&dir).expect("create scratch dir");
    dir
}

/// A child server process on a loopback port; killed and reaped on drop.
pub struct Server {
    child: Option<Child>,
    pub port: u16,
    pub pid: u32,
    pub dir: PathBuf,
    log: PathBuf,
    /// Password to send on new connections made by the helpers.
    pub password: Option<String>,
    what: &'static str,
}

impl Server {
    /// `ferrite --config FILE` (see [`config_file`]) on `shards` shards.
    pub fn start_configured(shards: usize, config: &std::path::Path) -> Server {
        Server::start_with(shards, &["--config", config.to_str().expect("utf-8 path")])
    }

    /// `ferrite --port P --shards N`.
    pub fn start(shards: usize) -> Server {
        Server::start_with(shards, &[])
    }

    /// `ferrite --port P --shards N <extra>`.
    ///
    /// With `FERRITE_IT_TARGET=redis` in the environment, starts Debian's redis-server instead
    /// (passing `extra` on): a way to check the expectations of these tests against Redis itself.
    pub fn start_with(shards: usize, extra: &[&str]) -> Server {
        let password = extra
            .iter()
            .position(|a| *a == "--requirepass")
            .and_then(|i| extra.get(i + 1))
            .map(|p| p.to_string());
        if against_redis() {
            let extra: Vec<String> = extra.iter().map(|s| s.to_string()).collect();
            return Server::launch("redis-server", password, move |port, dir| {
                let mut cmd = Server::redis_command(port, dir);
                cmd.args(&extra);
                cmd
            });
        }
        Server::launch("ferrite", password, |port, _dir| {
            let mut cmd = Command::new(ferrite_bin());
            cmd.arg("--port")
                .arg(port.to_string())
                .arg("--shards")
                .arg(shards.to_string());
            // Tests run side by side: no metrics endpoint unless a test asks for one.
            if !extra.contains(&"--metrics-port") {
                cmd.args(["--metrics-port", "0"]);
            }
            cmd.args(extra).env("RUST_LOG", "ferrite=warn");
            cmd
        })
    }

    /// Debian's `redis-server --port P --save '' --appendonly no`, for differential tests.
    /// CI installs it, so a missing binary is a failure, not a skip.
    pub fn start_redis() -> Server {
        assert!(
            std::path::Path::new(REDIS_SERVER).exists(),
            "{REDIS_SERVER} is missing: install the redis-server package (apt-get install redis-server)"
        );
        Server::launch("redis-server", None, Server::redis_command)
    }

    fn redis_command(port: u16, dir: &PathBuf) -> Command {
        let mut cmd = Command::new(REDIS_SERVER);
        cmd.arg("--port")
            .arg(port.to_string())
            .args(["--bind", "127.0.0.1"])
            .args(["--save", ""])
            .args(["--appendonly", "no"])
            .args(["--daemonize", "no"])
            .arg("--dir")
            .arg(dir);
        cmd
    }

    fn launch(
        what: &'static str,
        password: Option<String>,
        make: impl Fn(u16, &PathBuf) -> Command,
    ) -> Server {
        let dir = scratch_dir();
        let log = dir.join(format!("{what}.log"));
        let mut last_log = String::new();
        // A port picked as free may be taken before the child binds it: try a few.
        for _ in 0..3 {
            // A failed attempt's guard removed the directory when it was dropped.
            std::fs::create_dir_all(&dir).expect("create scratch dir");
            let port = free_port();
            let mut cmd = make(port, &dir);
            let logfile = std::fs::File::create(&log).expect("create log");
            cmd.current_dir(&dir)
                .stdin(Stdio::null())
                .stdout(logfile.try_clone().unwrap())
                .stderr(logfile);
            let child = cmd
                .spawn()
                .unwrap_or_else(|e| panic!("cannot start {what}: {e}"));
            let mut server = Server {
                pid: child.id(),
                child: Some(child),
                port,
                dir: dir.clone(),
                log: log.clone(),
                password: password.clone(),
                what,
            };
            if server.wait_ready() {
                return server;
            }
            last_log = server.log_text();
            drop(server);
        }
        panic!("{what} did not start answering PING within {START_TIMEOUT:?}; log:\n{last_log}");
    }

    /// Waits (bounded) until a TCP connect + PING gets +PONG (or -NOAUTH under requirepass).
    fn wait_ready(&mut self) -> bool {
        let deadline = Instant::now() + START_TIMEOUT;
        while Instant::now() < deadline {
            if let Some(child) = self.child.as_mut() {
                if let Ok(Some(_)) = child.try_wait() {
                    return false; // exited: port taken or bad flags
                }
            }
            if let Ok(mut s) = TcpStream::connect(self.addr()) {
                let _ = s.set_read_timeout(Some(Duration::from_secs(2)));
                let mut buf = [0u8; 64];
                if s.write_all(b"PING\r\n").is_ok() {
                    if let Ok(n) = s.read(&mut buf) {
                        let reply = &buf[..n];
                        if reply.starts_with(b"+PONG") || reply.starts_with(b"-NOAUTH") {
                            return true;
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(25));
        }
        false
    }

    pub fn addr(&self) -> SocketAddr {
        SocketAddr::from(([127, 0, 0, 1], self.port))
    }

    pub fn url(&self) -> String {
        match &self.password {
            Some(p) => format!("redis://:{p}@127.0.0.1:{}/", self.port),
            None => format!("redis://127.0.0.1:{}/", self.port),
        }
    }

    /// A `redis` crate connection (authenticated when the server has a password).
    pub fn conn(&self) -> redis::Connection {
        let client = redis::Client::open(self.url()).expect("redis client");
        let con = client
            .get_connection_with_timeout(IO_TIMEOUT)
            .expect("redis connection");
        con.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        con.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        con
    }

    /// A raw RESP client (authenticated when the server has a password).
    pub fn client(&self) -> Client {
        let mut c = Client::connect(self.addr());
        if let Some(p) = self.password.clone() {
            assert_eq!(c.cmd(&["AUTH", &p]), Reply::ok());
        }
        c
    }

    /// A raw RESP client that does not authenticate.
    pub fn client_noauth(&self) -> Client {
        Client::connect(self.addr())
    }

    /// Sends `bytes` on a fresh connection and returns what comes back until the server closes
    /// the connection or stays quiet for `quiet`.
    pub fn raw_with(&self, bytes: &[u8], quiet: Duration) -> Vec<u8> {
        let mut s = TcpStream::connect(self.addr()).expect("connect");
        s.set_read_timeout(Some(quiet)).unwrap();
        s.write_all(bytes).expect("write");
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            match s.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e)
                    if e.kind() == io::ErrorKind::WouldBlock
                        || e.kind() == io::ErrorKind::TimedOut =>
                {
                    break
                }
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break,
                Err(e) => panic!("read: {e}"),
            }
        }
        out
    }

    /// Sends `bytes` and then `ECHO <sentinel>` on a fresh connection; returns what comes back
    /// before the sentinel's reply, or before the server closed the connection. No quiet-period
    /// guessing: it waits (bounded) for one or the other.
    pub fn exchange(&self, bytes: &[u8]) -> Vec<u8> {
        const SENTINEL: &[u8] = b"$16\r\n__exchange_end__\r\n";
        let mut s = TcpStream::connect(self.addr()).expect("connect");
        s.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        let mut request = bytes.to_vec();
        request.extend(encode(&["ECHO", "__exchange_end__"]));
        // The server may close before taking everything; what it answered is still readable.
        let _ = s.write_all(&request);
        let mut out = Vec::new();
        let mut buf = [0u8; 65536];
        loop {
            if out.ends_with(SENTINEL) {
                out.truncate(out.len() - SENTINEL.len());
                return out;
            }
            match s.read(&mut buf) {
                Ok(0) => return out,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => return out,
                Err(e) => panic!(
                    "no reply to {:?} within {IO_TIMEOUT:?}: {e}",
                    String::from_utf8_lossy(bytes)
                ),
            }
        }
    }

    /// `raw_with` with a 500 ms quiet period.
    pub fn raw(&self, bytes: &[u8]) -> Vec<u8> {
        self.raw_with(bytes, Duration::from_millis(500))
    }

    /// Runs `/usr/bin/redis-cli -p P <args>` (with `-a` when the server has a password).
    pub fn redis_cli(&self, args: &[&str]) -> Output {
        assert!(
            std::path::Path::new(REDIS_CLI).exists(),
            "{REDIS_CLI} is missing: install the redis-tools package"
        );
        let mut cmd = Command::new(REDIS_CLI);
        cmd.args(["-h", "127.0.0.1", "-p", &self.port.to_string()]);
        if let Some(p) = &self.password {
            cmd.args(["-a", p, "--no-auth-warning"]);
        }
        run_bounded(cmd.args(args), IO_TIMEOUT)
    }

    /// The server's resident set size in kB, from /proc/<pid>/status.
    pub fn rss_kb(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.pid))
            .expect("read /proc/<pid>/status");
        status
            .lines()
            .find_map(|l| l.strip_prefix("VmRSS:"))
            .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
            .expect("VmRSS line")
    }

    /// Waits (bounded) for the process to exit on its own and returns its status.
    pub fn wait_exit(&mut self, timeout: Duration) -> Option<ExitStatus> {
        let deadline = Instant::now() + timeout;
        let child = self.child.as_mut()?;
        while Instant::now() < deadline {
            if let Ok(Some(status)) = child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        None
    }

    /// Whether the process is still running.
    pub fn alive(&mut self) -> bool {
        self.child
            .as_mut()
            .is_some_and(|c| matches!(c.try_wait(), Ok(None)))
    }

    pub fn log_text(&self) -> String {
        std::fs::read_to_string(&self.log).unwrap_or_default()
    }

    /// One field of `INFO <section>`, e.g. `info_field("stats", "expired_keys")`.
    pub fn info_field(&self, section: &str, field: &str) -> Option<String> {
        let mut c = self.client();
        let text = c.cmd(&["INFO", section]).text();
        text.lines()
            .find_map(|l| l.strip_prefix(&format!("{field}:")))
            .map(|v| v.trim().to_string())
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.dir);
        } else {
            eprintln!(
                "{} (port {}) log kept at {}",
                self.what,
                self.port,
                self.log.display()
            );
        }
    }
}

/// Runs a command to completion, killing it if it takes longer than `timeout`. Its output is
/// drained while it runs, so a command that prints more than a pipe holds cannot block on it.
pub fn run_bounded(cmd: &mut Command, timeout: Duration) -> Output {
    let mut child = cmd
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap_or_else(|e| panic!("cannot run {cmd:?}: {e}"));
    let drain = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut buf = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut buf);
            }
            buf
        })
    };
    let stdout = drain(
        child
            .stdout
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let stderr = drain(
        child
            .stderr
            .take()
            .map(|p| Box::new(p) as Box<dyn Read + Send>),
    );
    let deadline = Instant::now() + timeout;
    let status = loop {
        match child.try_wait() {
            Ok(Some(status)) => break status,
            Ok(None) if Instant::now() < deadline => std::thread::sleep(Duration::from_millis(10)),
            _ => {
                let _ = child.kill();
                let _ = child.wait();
                panic!("{cmd:?} did not finish within {timeout:?}");
            }
        }
    };
    Output {
        status,
        stdout: stdout.join().unwrap_or_default(),
        stderr: stderr.join().unwrap_or_default(),
    }
}

// ---- a small exact RESP client -------------------------------------------------------------

/// One reply, as the server sent it (RESP2 and RESP3 types kept apart).
#[derive(Clone, PartialEq)]
pub enum Reply {
    Status(String),
    Error(String),
    Int(i64),
    Bulk(Vec<u8>),
    /// `$-1`
    NilBulk,
    /// `*-1`
    NilArray,
    /// RESP3 `_`
    Null,
    Array(Vec<Reply>),
    Map(Vec<(Reply, Reply)>),
    Set(Vec<Reply>),
    Double(String),
    Bool(bool),
    Verbatim(String, Vec<u8>),
}

impl fmt::Debug for Reply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Reply::Status(s) => write!(f, "+{s}"),
            Reply::Error(s) => write!(f, "-{s}"),
            Reply::Int(n) => write!(f, ":{n}"),
            Reply::Bulk(b) => write!(f, "{:?}", String::from_utf8_lossy(b)),
            Reply::NilBulk => write!(f, "$-1"),
            Reply::NilArray => write!(f, "*-1"),
            Reply::Null => write!(f, "_"),
            Reply::Array(items) => f.debug_list().entries(items).finish(),
            Reply::Set(items) => write!(f, "~{items:?}"),
            Reply::Map(pairs) => f
                .debug_map()
                .entries(pairs.iter().map(|(k, v)| (k, v)))
                .finish(),
            Reply::Double(d) => write!(f, ",{d}"),
            Reply::Bool(b) => write!(f, "#{b}"),
            Reply::Verbatim(fmt_, b) => write!(f, "={fmt_}:{:?}", String::from_utf8_lossy(b)),
        }
    }
}

impl Reply {
    pub fn ok() -> Reply {
        Reply::Status("OK".into())
    }

    pub fn status(s: &str) -> Reply {
        Reply::Status(s.into())
    }

    pub fn err(s: &str) -> Reply {
        Reply::Error(s.into())
    }

    pub fn int(n: i64) -> Reply {
        Reply::Int(n)
    }

    pub fn bulk(s: impl AsRef<[u8]>) -> Reply {
        Reply::Bulk(s.as_ref().to_vec())
    }

    pub fn nil() -> Reply {
        Reply::NilBulk
    }

    pub fn arr(items: Vec<Reply>) -> Reply {
        Reply::Array(items)
    }

    /// An array of bulk strings.
    pub fn bulks(items: &[&str]) -> Reply {
        Reply::Array(items.iter().map(Reply::bulk).collect())
    }

    /// The text of a bulk, status, verbatim or error reply; panics otherwise.
    pub fn text(&self) -> String {
        match self {
            Reply::Bulk(b) | Reply::Verbatim(_, b) => String::from_utf8_lossy(b).into_owned(),
            Reply::Status(s) | Reply::Error(s) | Reply::Double(s) => s.clone(),
            other => panic!("expected a string reply, got {other:?}"),
        }
    }

    pub fn as_int(&self) -> i64 {
        match self {
            Reply::Int(n) => *n,
            other => panic!("expected an integer reply, got {other:?}"),
        }
    }

    pub fn items(&self) -> &[Reply] {
        match self {
            Reply::Array(items) | Reply::Set(items) => items,
            other => panic!("expected an array reply, got {other:?}"),
        }
    }

    pub fn is_error(&self) -> bool {
        matches!(self, Reply::Error(_))
    }

    /// The texts of an array of strings, in order.
    pub fn strings(&self) -> Vec<String> {
        self.items().iter().map(Reply::text).collect()
    }

    /// Flattens a map (RESP3) or a flat key/value array (RESP2) into pairs of texts where the
    /// value is a string or an integer.
    pub fn pairs(&self) -> Vec<(String, Reply)> {
        match self {
            Reply::Map(pairs) => pairs.iter().map(|(k, v)| (k.text(), v.clone())).collect(),
            Reply::Array(items) => items
                .chunks(2)
                .map(|p| (p[0].text(), p[1].clone()))
                .collect(),
            other => panic!("expected a map reply, got {other:?}"),
        }
    }
}

/// Encodes a request as a RESP array of bulk strings.
pub fn encode<A: AsRef<[u8]>>(args: &[A]) -> Vec<u8> {
    let mut out = format!("*{}\r\n", args.len()).into_bytes();
    for a in args {
        let a = a.as_ref();
        out.extend_from_slice(format!("${}\r\n", a.len()).as_bytes());
        out.extend_from_slice(a);
        out.extend_from_slice(b"\r\n");
    }
    out
}

/// Splits a command line on blanks; `"..."` groups words (no escapes inside), `""` is empty.
pub fn split_line(line: &str) -> Vec<String> {
    let mut args = Vec::new();
    let mut chars = line.chars().peekable();
    loop {
        while chars.peek().is_some_and(|c| c.is_whitespace()) {
            chars.next();
        }
        let Some(&first) = chars.peek() else {
            return args;
        };
        let mut arg = String::new();
        if first == '"' {
            chars.next();
            for c in chars.by_ref() {
                if c == '"' {
                    break;
                }
                arg.push(c);
            }
        } else {
            while let Some(&c) = chars.peek() {
                if c.is_whitespace() {
                    break;
                }
                arg.push(c);
                chars.next();
            }
        }
        args.push(arg);
    }
}

/// Where a complete reply starting at `pos` ends, or None if `buf` does not hold all of it yet.
/// Panics on bytes that are not RESP.
pub fn frame_end(buf: &[u8], pos: usize) -> Option<usize> {
    let line_end = pos + buf.get(pos..)?.windows(2).position(|w| w == b"\r\n")?;
    let kind = buf[pos];
    // Status and error lines may carry any bytes (Redis echoes unknown command names raw).
    let text = String::from_utf8_lossy(&buf[pos + 1..line_end]);
    let after = line_end + 2;
    match kind {
        b'+' | b'-' | b':' | b'_' | b',' | b'#' | b'(' => Some(after),
        b'$' | b'=' | b'!' => {
            let n: i64 = text.parse().expect("bulk length");
            if n < 0 {
                return Some(after);
            }
            let end = after + n as usize + 2;
            (buf.len() >= end).then_some(end)
        }
        b'*' | b'~' | b'>' | b'%' | b'|' => {
            let n: i64 = text.parse().expect("aggregate length");
            if n < 0 {
                return Some(after);
            }
            let n = if matches!(kind, b'%' | b'|') {
                2 * n
            } else {
                n
            };
            let mut p = after;
            for _ in 0..n {
                p = frame_end(buf, p)?;
            }
            Some(p)
        }
        other => panic!(
            "not a RESP reply: {:?} (starts with {:?})",
            String::from_utf8_lossy(&buf[pos..buf.len().min(pos + 200)]),
            other as char
        ),
    }
}

/// Parses one complete reply at `pos`; returns it and where it ends.
pub fn parse_reply(buf: &[u8], pos: usize) -> (Reply, usize) {
    let line_end = pos + buf[pos..].windows(2).position(|w| w == b"\r\n").unwrap();
    let kind = buf[pos];
    let text = String::from_utf8_lossy(&buf[pos + 1..line_end]).into_owned();
    let after = line_end + 2;
    match kind {
        b'+' => (Reply::Status(text), after),
        b'-' => (Reply::Error(text), after),
        b':' => (Reply::Int(text.parse().unwrap()), after),
        b'_' => (Reply::Null, after),
        b',' => (Reply::Double(text), after),
        b'#' => (Reply::Bool(text == "t"), after),
        b'$' | b'=' | b'!' => {
            let n: i64 = text.parse().unwrap();
            if n < 0 {
                return (Reply::NilBulk, after);
            }
            let body = buf[after..after + n as usize].to_vec();
            let end = after + n as usize + 2;
            match kind {
                b'$' => (Reply::Bulk(body), end),
                b'!' => (
                    Reply::Error(String::from_utf8_lossy(&body).into_owned()),
                    end,
                ),
                _ => (
                    Reply::Verbatim(
                        String::from_utf8_lossy(&body[..3]).into_owned(),
                        body[4..].to_vec(),
                    ),
                    end,
                ),
            }
        }
        b'*' | b'~' | b'>' => {
            let n: i64 = text.parse().unwrap();
            if n < 0 {
                return (Reply::NilArray, after);
            }
            let mut p = after;
            let mut items = Vec::new();
            for _ in 0..n {
                let (r, next) = parse_reply(buf, p);
                items.push(r);
                p = next;
            }
            if kind == b'~' {
                (Reply::Set(items), p)
            } else {
                (Reply::Array(items), p)
            }
        }
        b'%' | b'|' => {
            let n: i64 = text.parse().unwrap();
            let mut p = after;
            let mut pairs = Vec::new();
            for _ in 0..n {
                let (k, next) = parse_reply(buf, p);
                let (v, next) = parse_reply(buf, next);
                pairs.push((k, v));
                p = next;
            }
            (Reply::Map(pairs), p)
        }
        other => panic!("not a RESP reply type: {:?}", other as char),
    }
}

/// A blocking RESP connection that keeps the exact bytes of every reply.
pub struct Client {
    pub stream: TcpStream,
    buf: Vec<u8>,
}

impl Client {
    pub fn connect(addr: SocketAddr) -> Client {
        let stream = TcpStream::connect(addr).unwrap_or_else(|e| panic!("connect {addr}: {e}"));
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_nodelay(true).unwrap();
        Client {
            stream,
            buf: Vec::new(),
        }
    }

    pub fn send<A: AsRef<[u8]>>(&mut self, args: &[A]) {
        self.stream.write_all(&encode(args)).expect("send request");
    }

    /// Sends a request; an error when the server is gone (a test that kills it on purpose).
    pub fn try_send<A: AsRef<[u8]>>(&mut self, args: &[A]) -> io::Result<()> {
        self.stream.write_all(&encode(args))
    }

    pub fn send_raw(&mut self, bytes: &[u8]) {
        self.stream.write_all(bytes).expect("send bytes");
    }

    /// The exact bytes of the next reply. Panics on timeout or if the server closes first.
    pub fn read_raw(&mut self) -> Vec<u8> {
        self.try_read_raw()
            .unwrap_or_else(|e| panic!("reading a reply: {e}"))
    }

    /// The exact bytes of the next reply, or the I/O error (EOF is `UnexpectedEof`).
    pub fn try_read_raw(&mut self) -> io::Result<Vec<u8>> {
        let mut chunk = [0u8; 65536];
        loop {
            if !self.buf.is_empty() {
                if let Some(end) = frame_end(&self.buf, 0) {
                    return Ok(self.buf.drain(..end).collect());
                }
            }
            match self.stream.read(&mut chunk) {
                Ok(0) => {
                    return Err(io::Error::new(
                        io::ErrorKind::UnexpectedEof,
                        format!(
                            "server closed the connection (partial: {:?})",
                            String::from_utf8_lossy(&self.buf)
                        ),
                    ))
                }
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
    }

    pub fn read(&mut self) -> Reply {
        let raw = self.read_raw();
        parse_reply(&raw, 0).0
    }

    pub fn try_read(&mut self) -> io::Result<Reply> {
        let raw = self.try_read_raw()?;
        Ok(parse_reply(&raw, 0).0)
    }

    /// Sends a command and reads its reply.
    /// Runs a set-up line and asserts that it did not fail.
    pub fn setup(&mut self, line: &str) {
        let r = self.line(line);
        assert!(!r.is_error(), "{line}: {r:?}");
    }

    pub fn cmd<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Reply {
        self.send(args);
        self.read()
    }

    /// `cmd` with the arguments of a command line (see [`split_line`]).
    pub fn line(&mut self, line: &str) -> Reply {
        self.cmd(&split_line(line))
    }

    /// Sends a command and returns the exact bytes of its reply.
    pub fn cmd_raw<A: AsRef<[u8]>>(&mut self, args: &[A]) -> Vec<u8> {
        self.send(args);
        self.read_raw()
    }

    /// Whether the server has closed this connection: reads until EOF or `within` passes.
    pub fn closed_within(&mut self, within: Duration) -> bool {
        let _ = self.stream.set_read_timeout(Some(within));
        let mut chunk = [0u8; 4096];
        let deadline = Instant::now() + within;
        let closed = loop {
            match self.stream.read(&mut chunk) {
                Ok(0) => break true,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => break true,
                Err(_) => break false,
            }
            if Instant::now() >= deadline {
                break false;
            }
        };
        let _ = self.stream.set_read_timeout(Some(IO_TIMEOUT));
        closed
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.stream.local_addr().unwrap()
    }
}

/// The text of a `redis` crate error as the server sent it: `ERR syntax error`, `WRONGPASS ...`.
pub fn err_text(e: &redis::RedisError) -> String {
    format!("{} {}", e.code().unwrap_or("?"), e.detail().unwrap_or(""))
}

/// Asserts that `TTL key` is `secs`, or one less if the machine stalled half a second between
/// setting it and asking (TTL rounds to the nearest second).
pub fn assert_ttl(c: &mut Client, key: &str, secs: i64) {
    let ttl = c.cmd(&["TTL", key]);
    assert!(
        ttl == Reply::Int(secs) || ttl == Reply::Int(secs - 1),
        "TTL {key}: {ttl:?}, expected {secs}"
    );
}

/// Asserts a reply, printing the command on failure.
#[allow(unused_macros)]
macro_rules! check {
    ($client:expr, $line:expr, $expected:expr) => {{
        let got = $client.line($line);
        assert_eq!(got, $expected, "command: {}", $line);
    }};
}

/// Asserts that `lines` get byte-identical replies from a fresh `ferrite --shards 4` and a fresh
/// redis-server, in RESP2 and then in RESP3 (each protocol on fresh servers).
pub fn assert_matches_redis(lines: &[&str]) {
    for resp3 in [false, true] {
        let diffs = differences_with_redis(lines, resp3);
        assert!(
            diffs.is_empty(),
            "resp3={resp3}: {} of {} commands differ from redis-server:\n{}",
            diffs.len(),
            lines.len(),
            diffs.join("\n")
        );
    }
}

/// Runs `lines` on a fresh `ferrite --shards 4` and a fresh redis-server (RESP3 after HELLO 3
/// when asked) and returns the lines whose raw replies differ, numbered, with both replies.
pub fn differences_with_redis(lines: &[&str], resp3: bool) -> Vec<String> {
    let ferrite = Server::start(4);
    let redis = Server::start_redis();
    let mut f = ferrite.client();
    let mut r = redis.client();
    if resp3 {
        for c in [&mut f, &mut r] {
            assert!(!c.cmd(&["HELLO", "3"]).is_error());
        }
    }
    let mut diffs = Vec::new();
    for (n, line) in lines.iter().enumerate() {
        let args = split_line(line);
        let (a, b) = (f.cmd_raw(&args), r.cmd_raw(&args));
        assert_eq!(frame_end(&a, 0), Some(a.len()), "{line}: one whole reply");
        if a != b {
            diffs.push(format!(
                "#{n} {line}\n    ferrite: {:?}\n    redis:   {:?}",
                String::from_utf8_lossy(&a),
                String::from_utf8_lossy(&b)
            ));
        }
    }
    diffs
}
