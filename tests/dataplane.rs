//! The kernel-bypass dataplane, end to end: each test builds its own veth/netns lab with
//! `scripts/lab.sh` (removed again on drop, also when the test fails), runs the real `ferrite`
//! binary in the server namespace with `[dataplane] mode = "af_xdp"`, and talks to it from the
//! client namespace with Debian's redis-cli and redis-benchmark, a raw TCP socket and a raw
//! Ethernet socket. Needs root, as CI runs.

mod common;

use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddrV4, TcpStream};
use std::os::fd::AsRawFd;
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{ferrite_bin, run_bounded, scratch_dir};

const DATAPLANE: &str = "10.77.0.1";
const FALLBACK: &str = "10.77.0.2";

fn lab_script() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("scripts/lab.sh")
}

/// One lab: namespaces, veth pair and a Ferrite serving the dataplane. Torn down on drop.
struct Lab {
    id: String,
    ferrite: Option<Child>,
    dir: PathBuf,
}

impl Lab {
    fn start(queues: usize, shards: usize) -> Lab {
        assert!(
            unsafe { libc::geteuid() } == 0,
            "the dataplane tests need root (network namespaces, veth, XDP); CI runs as root"
        );
        static N: AtomicUsize = AtomicUsize::new(0);
        let id = format!(
            "t{}x{}",
            std::process::id() % 100_000,
            N.fetch_add(1, Ordering::Relaxed)
        );
        let mut lab = Lab {
            id,
            ferrite: None,
            dir: scratch_dir(),
        };
        let up = lab.script(&["up"], &[("LAB_QUEUES", &queues.to_string())]);
        assert!(
            up.status.success(),
            "lab up failed: {}",
            String::from_utf8_lossy(&up.stderr)
        );
        let config = lab.script(
            &["config"],
            &[
                ("LAB_QUEUES", &queues.to_string()),
                ("LAB_SHARDS", &shards.to_string()),
            ],
        );
        // The metrics endpoint listens inside the server namespace: port 9090 is free there.
        let path = lab.dir.join("lab.toml");
        std::fs::write(&path, &config.stdout).expect("write lab config");
        let log = std::fs::File::create(lab.dir.join("ferrite.log")).expect("log file");
        let child = Command::new("ip")
            .args(["netns", "exec", &lab.srv_ns()])
            .arg(ferrite_bin())
            .arg("--config")
            .arg(&path)
            .env("RUST_LOG", "ferrite=info")
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log file"))
            .stderr(log)
            .spawn()
            .expect("start ferrite in the server namespace");
        lab.ferrite = Some(child);
        lab.wait_ready();
        lab
    }

    fn srv_ns(&self) -> String {
        format!("ferrite-srv-{}", self.id)
    }

    fn cli_ns(&self) -> String {
        format!("ferrite-cli-{}", self.id)
    }

    fn script(&self, args: &[&str], env: &[(&str, &str)]) -> Output {
        let mut cmd = Command::new("bash");
        cmd.arg(lab_script()).args(args).env("LAB_ID", &self.id);
        for (k, v) in env {
            cmd.env(k, v);
        }
        run_bounded(&mut cmd, Duration::from_secs(60))
    }

    fn log(&self) -> String {
        std::fs::read_to_string(self.dir.join("ferrite.log")).unwrap_or_default()
    }

    fn wait_ready(&mut self) {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Some(Ok(Some(status))) = self.ferrite.as_mut().map(Child::try_wait) {
                panic!("ferrite exited ({status}) before serving:\n{}", self.log());
            }
            let out = self.cli(&["-h", DATAPLANE, "PING"]);
            if String::from_utf8_lossy(&out.stdout).trim() == "PONG" {
                return;
            }
            assert!(
                Instant::now() < deadline,
                "dataplane never answered PING:\n{}",
                self.log()
            );
            std::thread::sleep(Duration::from_millis(200));
        }
    }

    /// Runs a command in the client namespace, bounded.
    fn in_client(&self, program: &str, args: &[&str], timeout: Duration) -> Output {
        let mut cmd = Command::new("ip");
        cmd.args(["netns", "exec", &self.cli_ns(), program])
            .args(args);
        run_bounded(&mut cmd, timeout)
    }

    fn cli(&self, args: &[&str]) -> Output {
        self.in_client("redis-cli", args, Duration::from_secs(20))
    }

    fn cli_text(&self, args: &[&str]) -> String {
        let out = self.cli(args);
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    fn benchmark(&self, args: &[&str], timeout: Duration) -> String {
        // 1,000 clients need more descriptors than the default soft limit of 1,024.
        let line = format!(
            "ulimit -n $(ulimit -Hn); exec redis-benchmark -h {DATAPLANE} {}",
            args.join(" ")
        );
        let out = self.in_client("sh", &["-c", &line], timeout);
        let text = String::from_utf8_lossy(&out.stdout).to_string();
        assert!(
            out.status.success(),
            "redis-benchmark failed: {text}{}\n{}",
            String::from_utf8_lossy(&out.stderr),
            self.log()
        );
        text
    }

    fn metrics(&self) -> String {
        let mut cmd = Command::new("ip");
        cmd.args([
            "netns",
            "exec",
            &self.srv_ns(),
            "curl",
            "-sf",
            "http://127.0.0.1:9090/metrics",
        ]);
        String::from_utf8_lossy(&run_bounded(&mut cmd, Duration::from_secs(20)).stdout).to_string()
    }

    /// Runs `f` on a thread that has entered the client namespace, so it can use std sockets.
    fn in_client_thread<T: Send + 'static>(&self, f: impl FnOnce() -> T + Send + 'static) -> T {
        let path = format!("/run/netns/{}", self.cli_ns());
        std::thread::spawn(move || {
            let ns = std::fs::File::open(&path).expect("open netns");
            // SAFETY: setns only switches this thread's network namespace.
            let rc = unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) };
            assert_eq!(rc, 0, "setns: {}", std::io::Error::last_os_error());
            f()
        })
        .join()
        .expect("client thread")
    }

    /// A new connection is served, and so is the fallback port.
    fn assert_serving(&self) {
        assert_eq!(
            self.cli_text(&["-h", DATAPLANE, "PING"]),
            "PONG",
            "{}",
            self.log()
        );
        assert_eq!(
            self.cli_text(&["-h", FALLBACK, "PING"]),
            "PONG",
            "{}",
            self.log()
        );
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        if let Some(mut child) = self.ferrite.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
        let _ = self.script(&["down"], &[]);
        if std::thread::panicking() {
            eprintln!("lab {} ferrite log:\n{}", self.id, self.log());
        } else {
            let _ = std::fs::remove_dir_all(&self.dir);
        }
    }
}

/// `requests_per_second` of each test in redis-benchmark's `-q` output.
fn benchmark_ran(text: &str, tests: &[&str]) {
    for t in tests {
        assert!(
            // -q ends each progress line with \r, the final one with \n.
            text.split(['\r', '\n'])
                .any(|l| l.trim_start().starts_with(t) && l.contains("requests per second")),
            "redis-benchmark did not complete {t}: {text}"
        );
    }
}

#[test]
fn redis_cli_through_the_dataplane_and_the_fallback_port_at_once() {
    let lab = Lab::start(1, 1);
    assert_eq!(
        lab.cli_text(&["-h", DATAPLANE, "SET", "greeting", "hello"]),
        "OK"
    );
    assert_eq!(lab.cli_text(&["-h", DATAPLANE, "GET", "greeting"]), "hello");
    // The kernel-socket fallback serves the same keyspace meanwhile.
    assert_eq!(lab.cli_text(&["-h", FALLBACK, "GET", "greeting"]), "hello");
    assert_eq!(lab.cli_text(&["-h", FALLBACK, "SET", "other", "x"]), "OK");
    assert_eq!(lab.cli_text(&["-h", DATAPLANE, "GET", "other"]), "x");
    // A value larger than one segment and than the initial window, both ways.
    let big = "v".repeat(300_000);
    let file = lab.dir.join("big.txt");
    std::fs::write(&file, &big).expect("write value");
    let line = format!(
        "redis-cli -h {DATAPLANE} -x SET big < {} >/dev/null && redis-cli -h {DATAPLANE} STRLEN big",
        file.display()
    );
    let out = lab.in_client("sh", &["-c", &line], Duration::from_secs(30));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim(), "300000");
    let out = lab.cli(&["-h", DATAPLANE, "GET", "big"]);
    let got = String::from_utf8_lossy(&out.stdout).trim().to_string();
    assert!(
        got == big,
        "GET big returned {} bytes, not the 300000 v's",
        got.len()
    );
    // ICMP echo and ARP are answered by the dataplane.
    let ping = lab.in_client(
        "ping",
        &["-c", "3", "-i", "0.2", "-W", "2", DATAPLANE],
        Duration::from_secs(20),
    );
    assert!(
        ping.status.success(),
        "ping: {}",
        String::from_utf8_lossy(&ping.stdout)
    );
    // Another TCP port of the dataplane address is refused (RST), not left hanging.
    let refused = lab.in_client_thread(|| {
        TcpStream::connect_timeout(
            &SocketAddrV4::new(Ipv4Addr::new(10, 77, 0, 1), 6380).into(),
            Duration::from_secs(5),
        )
        .map_err(|e| e.kind())
    });
    assert_eq!(refused.err(), Some(std::io::ErrorKind::ConnectionRefused));
    let metrics = lab.metrics();
    assert!(
        metrics.contains("ferrite_dataplane_xdp_frames_total{action=\"redirected\"}"),
        "{metrics}"
    );
    assert!(
        metrics.contains("ferrite_connections_total{listener=\"dataplane\"}"),
        "{metrics}"
    );
    // Every metric the dashboard's dataplane row queries is one the dataplane exports.
    let dashboard = std::fs::read_to_string(
        PathBuf::from(env!("CARGO_MANIFEST_DIR"))
            .join("ferrite-ops/grafana/ferrite-dashboard.json"),
    )
    .expect("dashboard");
    let mut queried = 0;
    for name in dashboard.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')) {
        if name.starts_with("ferrite_dataplane_") {
            queried += 1;
            assert!(
                metrics.contains(&format!("\n{name}{{")),
                "dashboard queries {name}, not exported:\n{metrics}"
            );
        }
    }
    assert!(queried >= 8, "the dashboard has a dataplane row");
}

#[test]
fn redis_benchmark_completes_with_50_and_with_1000_clients() {
    let lab = Lab::start(1, 1);
    let text = lab.benchmark(
        &[
            "-t", "set,get", "-r", "100000", "-c", "50", "-n", "50000", "-P", "16", "-q",
        ],
        Duration::from_secs(120),
    );
    benchmark_ran(&text, &["SET", "GET"]);
    let text = lab.benchmark(
        &[
            "-t", "set,get", "-r", "100000", "-c", "1000", "-n", "50000", "-q",
        ],
        Duration::from_secs(180),
    );
    benchmark_ran(&text, &["SET", "GET"]);
    lab.assert_serving();
}

#[test]
fn two_queues_served_by_two_shards_with_keys_on_both() {
    let lab = Lab::start(2, 2);
    // Many connections, so the client kernel spreads them over both queues.
    let text = lab.benchmark(
        &["-t", "set", "-r", "10000", "-c", "64", "-n", "40000", "-q"],
        Duration::from_secs(120),
    );
    benchmark_ran(&text, &["SET"]);
    let metrics = lab.metrics();
    for queue in ["0", "1"] {
        let received = metrics
            .lines()
            .find(|l| {
                l.starts_with(&format!(
                    "ferrite_dataplane_rx_frames_total{{queue=\"{queue}\"}}"
                ))
            })
            .and_then(|l| l.rsplit(' ').next())
            .and_then(|v| v.parse::<f64>().ok())
            .unwrap_or(0.0);
        assert!(received > 0.0, "queue {queue} received nothing:\n{metrics}");
    }
    // Keys on both shards, reached from either connection's shard; MSET is atomic across them.
    let keys: Vec<String> = (0..40).map(|i| format!("k{i}")).collect();
    let mut mset = vec!["-h", DATAPLANE, "MSET"];
    for k in &keys {
        mset.push(k);
        mset.push(k);
    }
    assert_eq!(lab.cli_text(&mset), "OK");
    for _ in 0..4 {
        let mut mget = vec!["-h", DATAPLANE, "MGET"];
        mget.extend(keys.iter().map(String::as_str));
        let got = lab.cli_text(&mget);
        assert_eq!(
            got.lines().collect::<Vec<_>>(),
            keys.iter().map(String::as_str).collect::<Vec<_>>()
        );
    }
}

#[test]
fn one_percent_loss_on_the_client_link_every_request_completes() {
    let lab = Lab::start(1, 1);
    let loss = lab.script(&["loss", "1"], &[]);
    assert!(
        loss.status.success(),
        "lab loss: {}",
        String::from_utf8_lossy(&loss.stderr)
    );
    // redis-benchmark only finishes when every one of its requests got its reply.
    let text = lab.benchmark(
        &[
            "-t", "set,get", "-r", "100000", "-c", "50", "-n", "20000", "-q",
        ],
        Duration::from_secs(180),
    );
    benchmark_ran(&text, &["SET", "GET"]);
    let text = lab.benchmark(
        &[
            "-t", "set,get", "-r", "100000", "-c", "50", "-n", "50000", "-P", "16", "-q",
        ],
        Duration::from_secs(180),
    );
    benchmark_ran(&text, &["SET", "GET"]);
    let metrics = lab.metrics();
    assert!(
        metrics.lines().any(|l| l.starts_with("ferrite_dataplane_tcp_retransmits_total") && !l.ends_with(" 0")),
        "1% loss should have caused retransmissions:\n{metrics}"
    );
    lab.assert_serving();
}

#[test]
fn a_client_that_resets_mid_request_affects_nobody_else() {
    let lab = Lab::start(1, 1);
    let (steady, reset_ok) = lab.in_client_thread(|| {
        let addr = SocketAddrV4::new(Ipv4Addr::new(10, 77, 0, 1), 6379);
        let mut steady = TcpStream::connect(addr).expect("connect");
        steady
            .set_read_timeout(Some(Duration::from_secs(10)))
            .unwrap();
        let mut resets = 0;
        for _ in 0..20 {
            let s = TcpStream::connect(addr).expect("connect");
            // Half a SET, then an abortive close: SO_LINGER 0 makes close() send RST.
            (&s).write_all(b"*3\r\n$3\r\nSET\r\n$1\r\nk\r\n$100\r\nabc")
                .unwrap();
            let linger = libc::linger {
                l_onoff: 1,
                l_linger: 0,
            };
            // SAFETY: a valid socket and a correctly sized option value.
            let rc = unsafe {
                libc::setsockopt(
                    s.as_raw_fd(),
                    libc::SOL_SOCKET,
                    libc::SO_LINGER,
                    &linger as *const libc::linger as *const libc::c_void,
                    std::mem::size_of::<libc::linger>() as libc::socklen_t,
                )
            };
            assert_eq!(rc, 0);
            drop(s);
            resets += 1;
            steady.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
            let mut buf = [0u8; 7];
            steady.read_exact(&mut buf).unwrap();
            assert_eq!(&buf, b"+PONG\r\n");
        }
        (steady, resets == 20)
    });
    assert!(reset_ok);
    drop(steady);
    // The half-sent SETs never ran, and the server forgets the reset connections.
    assert_eq!(lab.cli_text(&["-h", DATAPLANE, "EXISTS", "k"]), "0");
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let clients = lab.cli_text(&["-h", DATAPLANE, "INFO", "clients"]);
        if clients.lines().any(|l| l.trim() == "connected_clients:1") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "reset clients still listed: {clients}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

/// A raw Ethernet frame from the client's veth to the server's, bypassing the client's stack.
fn frame(dst: [u8; 6], src: [u8; 6], ethertype: u16, payload: &[u8]) -> Vec<u8> {
    let mut f = Vec::with_capacity(14 + payload.len());
    f.extend_from_slice(&dst);
    f.extend_from_slice(&src);
    f.extend_from_slice(&ethertype.to_be_bytes());
    f.extend_from_slice(payload);
    f
}

fn ipv4_checksum(header: &[u8]) -> u16 {
    let mut sum: u32 = header
        .chunks(2)
        .map(|c| u32::from(u16::from_be_bytes([c[0], *c.get(1).unwrap_or(&0)])))
        .sum();
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    !(sum as u16)
}

/// An IPv4 header to the dataplane from the client, with a correct header checksum.
fn ipv4(total_len: u16, flags_frag: u16, proto: u8, payload: &[u8]) -> Vec<u8> {
    let mut h = vec![
        0x45, 0, 0, 0, 0, 1, 0, 0, 64, proto, 0, 0, 10, 77, 0, 10, 10, 77, 0, 1,
    ];
    h[2..4].copy_from_slice(&total_len.to_be_bytes());
    h[6..8].copy_from_slice(&flags_frag.to_be_bytes());
    let c = ipv4_checksum(&h);
    h[10..12].copy_from_slice(&c.to_be_bytes());
    h.extend_from_slice(payload);
    h
}

fn mac_of(ns: &str, ifname: &str) -> [u8; 6] {
    let out = run_bounded(
        Command::new("ip").args(["-n", ns, "-br", "link", "show", ifname]),
        Duration::from_secs(10),
    );
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = text
        .split_whitespace()
        .nth(2)
        .unwrap_or_else(|| panic!("no MAC in {text:?}"));
    let mut mac = [0u8; 6];
    for (m, part) in mac.iter_mut().zip(field.split(':')) {
        *m = u8::from_str_radix(part, 16).expect("hex");
    }
    mac
}

#[test]
fn malformed_frames_neither_crash_nor_stall_the_dataplane() {
    let lab = Lab::start(1, 1);
    let dst = mac_of(&lab.srv_ns(), "fsrv0");
    let src = mac_of(&lab.cli_ns(), "fcli0");
    // A connection that must survive everything below.
    let steady = lab.in_client_thread(|| {
        let s = TcpStream::connect(SocketAddrV4::new(Ipv4Addr::new(10, 77, 0, 1), 6379))
            .expect("connect");
        s.set_read_timeout(Some(Duration::from_secs(10))).unwrap();
        s
    });
    let tcp_header = |options: &[u8], checksum: u16| {
        let mut t = vec![
            0xc3, 0x50, 0x18, 0xeb, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0x02, 0xff, 0xff, 0, 0, 0, 0,
        ];
        t[12] = (((20 + options.len()) / 4) as u8) << 4;
        t[16..18].copy_from_slice(&checksum.to_be_bytes());
        t.extend_from_slice(options);
        t
    };
    let mut frames = vec![
        frame(dst, src, 0x0800, &[]),           // empty IPv4
        frame(dst, src, 0x0800, &[0x45, 0, 0]), // truncated header
        frame(dst, src, 0x0800, &ipv4(9000, 0, 6, &tcp_header(&[], 0))), // total length past the frame
        frame(dst, src, 0x0800, &ipv4(10, 0, 6, &tcp_header(&[], 0))), // total length inside the header
        frame(dst, src, 0x0800, &ipv4(40, 0, 6, &tcp_header(&[], 0xdead))), // bad TCP checksum
        frame(dst, src, 0x0800, &ipv4(40, 0x2000, 6, &tcp_header(&[], 0))), // first fragment
        frame(dst, src, 0x0800, &ipv4(40, 0x0010, 6, &tcp_header(&[], 0))), // later fragment
        frame(
            dst,
            src,
            0x0800,
            &ipv4(48, 0, 6, &tcp_header(&[2, 0, 3, 40, 8, 1, 0, 0], 0)),
        ), // option garbage
        frame(
            dst,
            src,
            0x0800,
            &ipv4(44, 0, 6, &tcp_header(&[2, 4, 0, 0], 0)),
        ), // MSS 0
        frame(dst, src, 0x0800, &ipv4(28, 0, 1, &[8, 0, 0, 0, 0, 0, 0, 0])), // ICMP echo, bad checksum
        frame(dst, src, 0x86dd, &[0x60; 60]),                                // IPv6: unknown here
        frame(dst, src, 0x88b5, &[1, 2, 3]),                                 // unknown ethertype
        frame(dst, src, 0x0806, &[0, 1, 8, 0, 6, 4, 0, 1]),                  // ARP cut short
    ];
    // And a spray of deterministic garbage behind valid Ethernet + IPv4 headers.
    let mut x: u32 = 0x1234_5678;
    for n in 0..500 {
        let len = 20 + (n % 120);
        let mut payload = Vec::with_capacity(len);
        for _ in 0..len {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            payload.push(x as u8);
        }
        frames.push(frame(
            dst,
            src,
            0x0800,
            &ipv4((20 + len) as u16, 0, 6, &payload),
        ));
    }
    let sent = lab.in_client_thread(move || {
        // SAFETY: plain socket calls on a descriptor this closure owns.
        unsafe {
            let fd = libc::socket(libc::AF_PACKET, libc::SOCK_RAW, 0);
            assert!(
                fd >= 0,
                "AF_PACKET socket: {}",
                std::io::Error::last_os_error()
            );
            let name = std::ffi::CString::new("fcli0").unwrap();
            let ifindex = libc::if_nametoindex(name.as_ptr());
            assert!(ifindex > 0);
            let mut addr: libc::sockaddr_ll = std::mem::zeroed();
            addr.sll_family = libc::AF_PACKET as u16;
            addr.sll_ifindex = ifindex as i32;
            addr.sll_halen = 6;
            addr.sll_addr[..6].copy_from_slice(&dst);
            let mut sent = 0;
            for f in &frames {
                let n = libc::sendto(
                    fd,
                    f.as_ptr() as *const libc::c_void,
                    f.len(),
                    0,
                    &addr as *const libc::sockaddr_ll as *const libc::sockaddr,
                    std::mem::size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                );
                if n == f.len() as isize {
                    sent += 1;
                }
            }
            libc::close(fd);
            sent
        }
    });
    assert!(sent > 500, "only {sent} raw frames went out");
    // The old connection and new ones are served as before.
    let mut steady = steady;
    steady.write_all(b"*1\r\n$4\r\nPING\r\n").unwrap();
    let mut buf = [0u8; 7];
    steady.read_exact(&mut buf).unwrap();
    assert_eq!(&buf, b"+PONG\r\n");
    lab.assert_serving();
    let metrics = lab.metrics();
    assert!(
        metrics
            .lines()
            .any(|l| l.starts_with("ferrite_dataplane_rx_dropped_total") && !l.ends_with(" 0")),
        "malformed frames should be counted as dropped:\n{metrics}"
    );
}
