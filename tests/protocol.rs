//! Bad and unusual input on the wire. Each misbehaving client gets Redis's error or is closed,
//! and a bystander connected at the same time keeps being served: every test checks that.

#[macro_use]
mod common;

use common::{against_redis, encode, frame_end, Client, Reply, Server, SPREAD_KEYS};
use proptest::prelude::*;
use proptest::test_runner::{Config, TestRunner};
use std::io::{ErrorKind, Read, Write};
use std::net::{Shutdown, TcpStream};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Keys the bystander owns, spread over the shards.
const BY_KEYS: [&str; 4] = ["by:a", "by:b", "by:c", "by:d"];

/// A client connected before the trouble starts; `check` asserts it is still served, with a
/// single-shard and a multi-shard command.
struct Bystander(Client);

impl Bystander {
    fn new(s: &Server) -> Bystander {
        let mut c = s.client();
        check!(c, "MSET by:a 1 by:b 2 by:c 3 by:d 4", Reply::ok());
        Bystander(c)
    }

    fn check(&mut self) {
        check!(self.0, "PING", Reply::status("PONG"));
        check!(self.0, "GET by:a", Reply::bulk("1"));
        assert_eq!(
            self.0
                .cmd(&["MGET", BY_KEYS[0], BY_KEYS[1], BY_KEYS[2], BY_KEYS[3]]),
            Reply::bulks(&["1", "2", "3", "4"])
        );
    }
}

/// Sends `bytes` on a new connection and returns everything the server sends until it closes
/// the connection or stays quiet for `timeout`.
fn listen_after(s: &Server, bytes: &[u8], timeout: Duration) -> Vec<u8> {
    let mut t = TcpStream::connect(s.addr()).unwrap();
    t.set_read_timeout(Some(timeout)).unwrap();
    t.write_all(bytes).unwrap();
    let mut out = Vec::new();
    let _ = t.read_to_end(&mut out);
    out
}

/// Sends bytes that must get exactly `reply` and then a closed connection.
fn refused(s: &Server, bytes: &[u8], reply: &str) {
    let mut c = s.client_noauth();
    c.send_raw(bytes);
    assert_eq!(
        c.read(),
        Reply::err(reply),
        "input {:?}",
        String::from_utf8_lossy(bytes)
    );
    assert!(
        c.closed_within(Duration::from_secs(10)),
        "connection left open after {:?}",
        String::from_utf8_lossy(bytes)
    );
}

#[test]
fn protocol_errors_have_redis_texts() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let cases: &[(&[u8], &str)] = &[
        (
            b"*1\r\n$1000000000000\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (b"*1\r\n$-5\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$-1\r\n", "ERR Protocol error: invalid bulk length"),
        (b"*1\r\n$4x\r\n", "ERR Protocol error: invalid bulk length"),
        (
            b"*1\r\n$536870913\r\n",
            "ERR Protocol error: invalid bulk length",
        ),
        (
            b"*3000000000\r\n",
            "ERR Protocol error: invalid multibulk length",
        ),
        (b"*abc\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1x\r\n", "ERR Protocol error: invalid multibulk length"),
        (b"*1\r\n+x\r\n", "ERR Protocol error: expected '$', got '+'"),
        (
            b"*2\r\n$4\r\nECHO\r\n:1\r\n",
            "ERR Protocol error: expected '$', got ':'",
        ),
        (
            b"set a \"b\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
        (
            b"ECHO \"a\"b\r\n",
            "ERR Protocol error: unbalanced quotes in request",
        ),
    ];
    for (bytes, reply) in cases {
        refused(&s, bytes, reply);
        by.check();
    }
    // Replies to the requests before the bad one still arrive, in order.
    let out = s.exchange(b"*1\r\n$4\r\nPING\r\n*2\r\n$3\r\nGET\r\n$4\r\nby:a\r\n*1\r\n:1\r\n");
    assert_eq!(
        out,
        b"+PONG\r\n$1\r\n1\r\n-ERR Protocol error: expected '$', got ':'\r\n"
    );
    by.check();
    // Oversized headers.
    let mut long = b"*".to_vec();
    long.extend(std::iter::repeat_n(b'1', 70 * 1024));
    refused(&s, &long, "ERR Protocol error: too big mbulk count string");
    let mut long = b"*1\r\n$".to_vec();
    long.extend(std::iter::repeat_n(b'1', 70 * 1024));
    refused(&s, &long, "ERR Protocol error: too big bulk count string");
    by.check();
}

#[test]
fn empty_and_odd_requests_are_skipped() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let mut c = s.client();
    // Blank lines, *0 and negative counts are skipped, as in Redis.
    c.send_raw(b"\r\n\n*0\r\n*-1\r\n*-5\r\nPING\r\n");
    assert_eq!(c.read(), Reply::status("PONG"));
    // Bytes after a bulk payload are skipped without a check (Redis does the same).
    c.send_raw(b"*1\r\n$4\r\nPINGxx*1\r\n$4\r\nPING\r\n");
    assert_eq!(c.read(), Reply::status("PONG"));
    assert_eq!(c.read(), Reply::status("PONG"));
    // Stray RESP type bytes in inline mode are unknown commands.
    c.send_raw(b"+PING\r\n");
    assert_eq!(
        c.read(),
        Reply::err("ERR unknown command '+PING', with args beginning with: ")
    );
    check!(c, "PING", Reply::status("PONG"));
    by.check();
}

#[test]
fn inline_commands() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let mut c = s.client();
    c.send_raw(b"PING\r\n");
    assert_eq!(c.read(), Reply::status("PONG"));
    c.send_raw(b"SET a \"hello world\"\r\n");
    assert_eq!(c.read(), Reply::ok());
    c.send_raw(b"GET a\n"); // a bare LF ends a line too
    assert_eq!(c.read(), Reply::bulk("hello world"));
    c.send_raw(b"   ECHO    'a b'   \r\n");
    assert_eq!(c.read(), Reply::bulk("a b"));
    c.send_raw(b"ECHO \"\\x41\\n\\t\\\\\"\r\n");
    assert_eq!(c.read(), Reply::bulk("A\n\t\\"));
    c.send_raw(b"ECHO 'it\\'s'\r\n");
    assert_eq!(c.read(), Reply::bulk("it's"));
    c.send_raw(b"ECHO \"\"\r\n");
    assert_eq!(c.read(), Reply::bulk(""));
    // Several inline commands in one write, to keys on every shard.
    c.send_raw(b"MSET a 1 b 2 c 3 d 4\r\nMGET a b c d\r\nDEL a b c d\r\n");
    assert_eq!(c.read(), Reply::ok());
    assert_eq!(c.read(), Reply::bulks(&["1", "2", "3", "4"]));
    assert_eq!(c.read(), Reply::int(4));
    // Inline and multibulk mixed.
    let mut mixed = b"SET e 5\r\n".to_vec();
    mixed.extend(encode(&["GET", "e"]));
    mixed.extend_from_slice(b"DEL e\r\n");
    c.send_raw(&mixed);
    assert_eq!(c.read(), Reply::ok());
    assert_eq!(c.read(), Reply::bulk("5"));
    assert_eq!(c.read(), Reply::int(1));
    by.check();
}

#[test]
fn huge_inline_request_is_refused_early() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let stream = TcpStream::connect(s.addr()).unwrap();
    stream
        .set_write_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    let mut reader = stream.try_clone().unwrap();
    reader
        .set_read_timeout(Some(Duration::from_secs(60)))
        .unwrap();
    let done = Arc::new(AtomicBool::new(false));
    let done2 = done.clone();
    let read_thread = std::thread::spawn(move || {
        let mut out = Vec::new();
        let mut buf = [0u8; 4096];
        loop {
            match reader.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(_) => break,
            }
        }
        done2.store(true, Ordering::SeqCst);
        out
    });
    // Up to 1 GB of one line without a newline; stop as soon as the server answers or closes.
    let chunk = vec![b'a'; 16 * 1024];
    let mut sent: u64 = 0;
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut writer = &stream;
    while sent < (1 << 30) && !done.load(Ordering::SeqCst) && Instant::now() < deadline {
        match writer.write(&chunk) {
            Ok(n) => sent += n as u64,
            Err(e) if e.kind() == ErrorKind::Interrupted => {}
            Err(_) => break, // reset by the server
        }
    }
    let out = read_thread.join().unwrap();
    assert_eq!(
        String::from_utf8_lossy(&out),
        "-ERR Protocol error: too big inline request\r\n"
    );
    assert!(
        sent < 64 << 20,
        "sent {sent} bytes before the server gave up on the line"
    );
    by.check();
}

#[test]
fn announced_sizes_are_not_reserved() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let before = s.rss_kb();
    // Fifty clients each announce a 512 MB argument (and a huge count) and send a few bytes.
    let mut held = Vec::new();
    for i in 0..50 {
        let mut t = TcpStream::connect(s.addr()).unwrap();
        if i % 2 == 0 {
            t.write_all(b"*2\r\n$3\r\nSET\r\n$536870912\r\nabc")
                .unwrap();
        } else {
            t.write_all(b"*2147483647\r\n$3\r\nGET\r\n").unwrap();
        }
        held.push(t);
    }
    by.check();
    let after = s.rss_kb();
    assert!(
        after < before + 200 * 1024,
        "RSS grew from {before} kB to {after} kB"
    );
    drop(held);
    by.check();
}

#[test]
fn client_disconnecting_mid_command() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    // Partial multibulk requests, cut at various points, on keys of every shard.
    let full = encode(&["MSET", "a", "1", "b", "2", "c", "3", "d", "4"]);
    for cut in [1, 5, 9, 14, 20, full.len() - 3, full.len() - 1] {
        let mut t = TcpStream::connect(s.addr()).unwrap();
        t.write_all(&full[..cut]).unwrap();
        drop(t);
        by.check();
        // Nothing of the cut request was applied.
        check!(by.0, "MGET a b c d", Reply::Array(vec![Reply::nil(); 4]));
    }
    // A partial inline line.
    let mut t = TcpStream::connect(s.addr()).unwrap();
    t.write_all(b"SET a 1").unwrap();
    drop(t);
    by.check();
    // The server forgets them: CLIENT LIST comes back to the bystander alone.
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = by.0.line("CLIENT LIST").text();
        if list.lines().count() == 1 {
            break;
        }
        assert!(Instant::now() < deadline, "clients linger:\n{list}");
        std::thread::sleep(Duration::from_millis(50));
    }
    // Clients that send many requests and vanish without reading the replies.
    for _ in 0..20 {
        let mut t = TcpStream::connect(s.addr()).unwrap();
        let mut burst = Vec::new();
        for (i, k) in SPREAD_KEYS.iter().enumerate() {
            burst.extend(encode(&["SET", &format!("tmp{k}"), &i.to_string()]));
            burst.extend(encode(&["MGET", "tmpa", "tmpb", "tmpc", "tmpd"]));
        }
        t.write_all(&burst).unwrap();
        drop(t);
    }
    by.check();
}

/// Clients that connect, sit idle a moment, then send a few bytes and close at once (data and
/// FIN arrive together) must be released: nothing may linger in CLIENT LIST.
#[test]
fn closed_connections_are_released() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let partials: [&[u8]; 4] = [
        b"SET a 1",
        b"PING",
        b"*1\r\n",
        b"*2\r\n$3\r\nGET\r\n$1\r\na",
    ];
    for i in 0..40 {
        let mut t = TcpStream::connect(s.addr()).unwrap();
        // Let the server take the connection in before the data and the FIN arrive.
        std::thread::sleep(Duration::from_millis(20));
        t.write_all(partials[i % partials.len()]).unwrap();
        drop(t);
    }
    by.check();
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let list = by.0.line("CLIENT LIST").text();
        if list.lines().count() == 1 {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{} closed connections still held by the server:\n{list}",
            list.lines().count() - 1
        );
        std::thread::sleep(Duration::from_millis(50));
    }
    by.check();
}

/// A client that sends its requests and shuts down its writing side (`printf 'PING\r\n' | nc -N`)
/// still gets every reply before the server closes: Redis answers all of them.
#[test]
fn half_closed_client_gets_its_replies() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let mut request = b"PING\r\n".to_vec();
    let mut expected = b"+PONG\r\n".to_vec();
    for k in ["a", "b", "c", "d"] {
        request.extend(encode(&["GET", k]));
        expected.extend_from_slice(b"$-1\r\n");
    }
    for round in 0..20 {
        let mut t = TcpStream::connect(s.addr()).unwrap();
        t.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        t.write_all(&request).unwrap();
        t.shutdown(Shutdown::Write).unwrap();
        let mut out = Vec::new();
        let _ = t.read_to_end(&mut out);
        assert_eq!(
            String::from_utf8_lossy(&out),
            String::from_utf8_lossy(&expected),
            "round {round}: replies lost after the client half-closed"
        );
    }
    by.check();
}

#[test]
fn pipelined_commands_reply_in_order() {
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let mut c = s.client();
    let n = 1000;
    let mut batch = Vec::new();
    for i in 0..n {
        batch.extend(encode(&["SET", &format!("k{i}"), &i.to_string()]));
        batch.extend(encode(&["GET", &format!("k{i}")]));
    }
    c.send_raw(&batch);
    for i in 0..n {
        assert_eq!(c.read(), Reply::ok(), "reply to SET k{i}");
        assert_eq!(c.read(), Reply::bulk(i.to_string()), "reply to GET k{i}");
    }
    // Multi-shard commands in a pipeline see the effects of the requests before them.
    let mut batch = Vec::new();
    for i in 0..300 {
        let v = i.to_string();
        batch.extend(encode(&["MSET", "a", &v, "b", &v, "c", &v, "d", &v]));
        batch.extend(encode(&["MGET", "a", "b", "c", "d"]));
        batch.extend(encode(&["INCR", "a"]));
        batch.extend(encode(&["GET", "a"]));
        batch.extend(encode(&["RENAME", "b", "e"]));
        batch.extend(encode(&["EXISTS", "b", "e"]));
        batch.extend(encode(&["RENAME", "e", "b"]));
        batch.extend(encode(&["PING"]));
    }
    c.send_raw(&batch);
    for i in 0..300 {
        let v = i.to_string();
        let next = (i + 1).to_string();
        assert_eq!(c.read(), Reply::ok());
        assert_eq!(c.read(), Reply::bulks(&[v.as_str(); 4]), "round {i}");
        assert_eq!(c.read(), Reply::int(i + 1));
        assert_eq!(c.read(), Reply::bulk(&next));
        assert_eq!(c.read(), Reply::ok());
        assert_eq!(c.read(), Reply::int(1));
        assert_eq!(c.read(), Reply::ok());
        assert_eq!(c.read(), Reply::status("PONG"));
    }
    // The same with replies read byte by byte at the end: nothing is lost or reordered.
    let mut batch = Vec::new();
    let mut want = Vec::new();
    for i in 0..2000 {
        let k = SPREAD_KEYS[i % SPREAD_KEYS.len()];
        batch.extend(encode(&["APPEND", &format!("log{k}"), "x"]));
        want.extend(format!(":{}\r\n", i / SPREAD_KEYS.len() + 1).into_bytes());
    }
    c.send_raw(&batch);
    let mut got = Vec::new();
    while got.len() < want.len() {
        let mut one = [0u8; 1];
        c.stream.read_exact(&mut one).expect("read reply byte");
        got.push(one[0]);
    }
    assert_eq!(
        String::from_utf8_lossy(&got),
        String::from_utf8_lossy(&want)
    );
    by.check();
}

#[test]
fn garbage_bytes_never_hurt_other_clients() {
    let s = Server::start(4);
    let by = std::cell::RefCell::new(Bystander::new(&s));
    let mut runner = TestRunner::new(Config {
        cases: 64,
        failure_persistence: None,
        ..Config::default()
    });
    let any_bytes = proptest::collection::vec(any::<u8>(), 1..2048);
    let resp_like = proptest::collection::vec(
        prop_oneof![
            Just(b'*'),
            Just(b'$'),
            Just(b'\r'),
            Just(b'\n'),
            Just(b'-'),
            b'0'..=b'9',
            Just(b'"'),
            Just(b'\''),
            Just(b'\\'),
            Just(b' '),
            Just(b'P'),
        ],
        1..400,
    );
    for strategy in [any_bytes.boxed(), resp_like.boxed()] {
        runner
            .run(&strategy, |bytes| {
                let out = listen_after(&s, &bytes, Duration::from_millis(200));
                // Whatever came back is a sequence of whole RESP replies.
                let mut pos = 0;
                while pos < out.len() {
                    match frame_end(&out, pos) {
                        Some(end) => pos = end,
                        None => prop_assert!(
                            false,
                            "partial reply {:?}",
                            String::from_utf8_lossy(&out[pos..])
                        ),
                    }
                }
                by.borrow_mut().check();
                Ok(())
            })
            .unwrap();
    }
    by.borrow_mut().check();
}

#[test]
fn slow_reader_memory_is_bounded() {
    if against_redis() {
        return; // Redis buffers replies for normal clients without a limit
    }
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    let mut c = s.client();
    // 4 MB values on every shard, so most GETs are answered by a shard other than the
    // connection's own.
    let big = vec![b'v'; 4 << 20];
    for k in SPREAD_KEYS {
        assert_eq!(c.cmd(&[&b"SET"[..], k.as_bytes(), &big]), Reply::ok());
    }
    let before = s.rss_kb();
    // 320 GETs of 4 MB (1.3 GB of replies) that this client does not read.
    let mut batch = Vec::new();
    for i in 0..320 {
        batch.extend(encode(&["GET", SPREAD_KEYS[i % SPREAD_KEYS.len()]]));
    }
    c.send_raw(&batch);
    std::thread::sleep(Duration::from_millis(1000));
    by.check();
    let after = s.rss_kb();
    assert!(
        after < before + 300 * 1024,
        "RSS grew from {before} kB to {after} kB with a client that does not read its replies"
    );
    // Reading them all works.
    for _ in 0..320 {
        // "$4194304\r\n" + payload + "\r\n"
        assert_eq!(c.read_raw().len(), (4 << 20) + 12);
    }
    by.check();
}

// ---- many connections ------------------------------------------------------------------------

#[repr(C)]
struct RLimit {
    cur: u64,
    max: u64,
}

extern "C" {
    fn getrlimit(resource: i32, rlim: *mut RLimit) -> i32;
    fn setrlimit(resource: i32, rlim: *const RLimit) -> i32;
}

const RLIMIT_NOFILE: i32 = 7;

/// Raises this process's open-file limit to at least `want` (children inherit it).
fn raise_nofile(want: u64) {
    let mut lim = RLimit { cur: 0, max: 0 };
    // SAFETY: plain libc calls on a struct laid out as `struct rlimit` (two rlim_t) on Linux.
    unsafe {
        assert_eq!(getrlimit(RLIMIT_NOFILE, &mut lim), 0);
        if lim.cur >= want {
            return;
        }
        assert!(
            lim.max >= want,
            "the hard open-file limit ({}) is below the {want} this test needs",
            lim.max
        );
        lim.cur = want;
        assert_eq!(setrlimit(RLIMIT_NOFILE, &lim), 0, "setrlimit");
    }
}

#[test]
fn ten_thousand_idle_connections() {
    const IDLE: usize = 10_000;
    // The test holds one end of each connection, the server (which inherits the limit) the other.
    raise_nofile(IDLE as u64 + 1024);
    let s = Server::start(4);
    let mut by = Bystander::new(&s);
    check!(by.0, "CONFIG SET maxclients 10100", Reply::ok());
    let mut idle = Vec::with_capacity(IDLE);
    let deadline = Instant::now() + Duration::from_secs(120);
    while idle.len() < IDLE {
        assert!(
            Instant::now() < deadline,
            "only {} connections opened",
            idle.len()
        );
        match TcpStream::connect(s.addr()) {
            Ok(t) => idle.push(t),
            Err(e) => panic!("connection {} failed: {e}", idle.len()),
        }
    }
    // Wait (bounded) until the server has taken them all.
    let deadline = Instant::now() + Duration::from_secs(120);
    loop {
        let n: usize =
            by.0.line("INFO clients")
                .text()
                .lines()
                .find_map(|l| l.strip_prefix("connected_clients:"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
        if n > IDLE {
            break;
        }
        assert!(Instant::now() < deadline, "server reports {n} clients");
        std::thread::sleep(Duration::from_millis(100));
    }
    by.check();
    let mut fresh = s.client();
    check!(fresh, "PING", Reply::status("PONG"));
    check!(fresh, "SET a 1", Reply::ok());
    check!(
        fresh,
        "MGET a b c d",
        Reply::Array(vec![
            Reply::bulk("1"),
            Reply::nil(),
            Reply::nil(),
            Reply::nil()
        ])
    );
    check!(fresh, "DEL a", Reply::int(1));
    // A few of the idle ones wake up and are served.
    for t in idle.iter_mut().step_by(997) {
        t.set_read_timeout(Some(Duration::from_secs(20))).unwrap();
        t.write_all(b"PING\r\n").unwrap();
        let mut buf = [0u8; 7];
        t.read_exact(&mut buf).unwrap();
        assert_eq!(&buf, b"+PONG\r\n");
    }
    let rss = s.rss_kb();
    assert!(
        rss < 500 * 1024,
        "RSS {rss} kB with {IDLE} idle connections"
    );
    drop(idle);
    // They are all let go.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let n: usize =
            by.0.line("INFO clients")
                .text()
                .lines()
                .find_map(|l| l.strip_prefix("connected_clients:"))
                .unwrap()
                .trim()
                .parse()
                .unwrap();
        if n <= 2 {
            break;
        }
        assert!(Instant::now() < deadline, "{n} clients still counted");
        std::thread::sleep(Duration::from_millis(100));
    }
    by.check();
}
