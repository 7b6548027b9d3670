//! A seeded network simulation: clients on smoltcp's own TCP socket (with smoltcp's
//! `Interface`, so ARP too) talk to our `Interface` running an echo server, over a link that
//! drops and reorders a seeded share of frames, in simulated time. Transfers must complete with
//! exactly the bytes sent, and every connection must close on both sides.

mod common;

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, VecDeque};
use std::io::ErrorKind;
use std::time::Duration;

use common::{Wire, OUR_IP, OUR_MAC, PEER_IP, PEER_MAC, PORT};
use netstack::iface::{Config, ConnHandle, Event, Interface};
use smoltcp::iface::{Config as ClientConfig, Interface as ClientIface, SocketHandle, SocketSet};
use smoltcp::phy::{Device, DeviceCapabilities, Medium, RxToken, TxToken};
use smoltcp::socket::tcp;
use smoltcp::time::Instant as SimInstant;
use smoltcp::wire::{EthernetAddress, HardwareAddress, IpAddress, IpCidr};

/// xorshift64*: deterministic, good enough for loss and jitter.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }

    fn below(&mut self, n: u64) -> u64 {
        self.next() % n.max(1)
    }
}

/// One direction of the link: frames in flight keyed by delivery time (µs). Frames keep their
/// order except a seeded share that is held back (and so overtaken), and a seeded share that is
/// lost.
struct Link {
    in_flight: BinaryHeap<Reverse<(u64, u64, Vec<u8>)>>,
    sent: u64,
    dropped: u64,
    reordered: u64,
    loss_per_mille: u64,
    reorder_per_mille: u64,
    /// Delivery time of the last in-order frame: the next one arrives no earlier.
    last_delivery: u64,
}

/// One-way latency and the time a frame takes on the wire.
const LATENCY_US: u64 = 50;
const FRAME_TIME_US: u64 = 1;
/// The most a reordered frame is held back.
const REORDER_DELAY_US: u64 = 200;

impl Link {
    fn new(loss_per_mille: u64, reorder_per_mille: u64) -> Link {
        Link {
            in_flight: BinaryHeap::new(),
            sent: 0,
            dropped: 0,
            reordered: 0,
            loss_per_mille,
            reorder_per_mille,
            last_delivery: 0,
        }
    }

    fn send(&mut self, now: u64, frame: Vec<u8>, rng: &mut Rng) {
        self.sent += 1;
        if rng.below(1000) < self.loss_per_mille {
            self.dropped += 1;
            return;
        }
        let in_order = (now + LATENCY_US).max(self.last_delivery + FRAME_TIME_US);
        let at = if rng.below(1000) < self.reorder_per_mille {
            self.reordered += 1;
            in_order + 1 + rng.below(REORDER_DELAY_US)
        } else {
            self.last_delivery = in_order;
            in_order
        };
        self.in_flight.push(Reverse((at, self.sent, frame)));
    }

    fn deliver(&mut self, now: u64) -> Option<Vec<u8>> {
        if self.in_flight.peek()?.0 .0 > now {
            return None;
        }
        self.in_flight.pop().map(|Reverse((_, _, frame))| frame)
    }

    fn next_at(&self) -> Option<u64> {
        self.in_flight.peek().map(|Reverse((at, _, _))| *at)
    }
}

/// smoltcp's side of the link.
#[derive(Default)]
struct ClientDevice {
    rx: VecDeque<Vec<u8>>,
    tx: Vec<Vec<u8>>,
}

struct ClientRx(Vec<u8>);
struct ClientTx<'a>(&'a mut Vec<Vec<u8>>);

impl RxToken for ClientRx {
    fn consume<R, F: FnOnce(&[u8]) -> R>(self, f: F) -> R {
        f(&self.0)
    }
}

impl TxToken for ClientTx<'_> {
    fn consume<R, F: FnOnce(&mut [u8]) -> R>(self, len: usize, f: F) -> R {
        let mut frame = vec![0u8; len];
        let result = f(&mut frame);
        self.0.push(frame);
        result
    }
}

impl Device for ClientDevice {
    type RxToken<'a> = ClientRx;
    type TxToken<'a> = ClientTx<'a>;

    fn receive(&mut self, _: SimInstant) -> Option<(ClientRx, ClientTx<'_>)> {
        let frame = self.rx.pop_front()?;
        Some((ClientRx(frame), ClientTx(&mut self.tx)))
    }

    fn transmit(&mut self, _: SimInstant) -> Option<ClientTx<'_>> {
        Some(ClientTx(&mut self.tx))
    }

    fn capabilities(&self) -> DeviceCapabilities {
        let mut caps = DeviceCapabilities::default();
        caps.medium = Medium::Ethernet;
        caps.max_transmission_unit = 1514;
        caps
    }
}

/// A client connection: sends `data`, expects it echoed, then closes.
struct Client {
    socket: SocketHandle,
    data: Vec<u8>,
    sent: usize,
    echoed: usize,
    closed: bool,
}

/// The echo server's state per connection.
#[derive(Default)]
struct Echo {
    pending: Vec<u8>,
    eof: bool,
}

struct Sim {
    rng: Rng,
    now_us: u64,
    base: std::time::Instant,
    server: Interface,
    server_wire: Wire,
    echoes: HashMap<ConnHandle, Echo>,
    accepted: usize,
    to_server: Link,
    to_client: Link,
    client: ClientIface,
    device: ClientDevice,
    sockets: SocketSet<'static>,
    clients: Vec<Client>,
}

impl Sim {
    fn new(seed: u64, loss_per_mille: u64, connections: usize, bytes: usize, buffer: usize) -> Sim {
        let mut rng = Rng(seed | 1);
        let mut device = ClientDevice::default();
        let mut client_config =
            ClientConfig::new(HardwareAddress::Ethernet(EthernetAddress(PEER_MAC)));
        client_config.random_seed = seed;
        let mut client = ClientIface::new(client_config, &mut device, SimInstant::from_micros(0));
        client.update_ip_addrs(|addrs| {
            addrs
                .push(IpCidr::new(IpAddress::Ipv4(PEER_IP), 24))
                .expect("address");
        });
        let mut sockets = SocketSet::new(Vec::new());
        let mut clients = Vec::new();
        for i in 0..connections {
            let mut socket = tcp::Socket::new(
                tcp::SocketBuffer::new(vec![0; buffer]),
                tcp::SocketBuffer::new(vec![0; buffer]),
            );
            socket.set_nagle_enabled(false);
            socket
                .connect(
                    client.context(),
                    (IpAddress::Ipv4(OUR_IP), PORT),
                    49_152 + i as u16,
                )
                .expect("connect");
            let data = (0..bytes).map(|_| rng.next() as u8).collect();
            clients.push(Client {
                socket: sockets.add(socket),
                data,
                sent: 0,
                echoed: 0,
                closed: false,
            });
        }
        Sim {
            rng,
            now_us: 0,
            base: std::time::Instant::now(),
            server: Interface::new(Config {
                mac: OUR_MAC,
                addr: OUR_IP,
                port: PORT,
                ..Config::default()
            }),
            server_wire: Wire::default(),
            echoes: HashMap::new(),
            accepted: 0,
            to_server: Link::new(loss_per_mille, loss_per_mille),
            to_client: Link::new(loss_per_mille, loss_per_mille),
            client,
            device,
            sockets,
            clients,
        }
    }

    fn server_now(&self) -> std::time::Instant {
        self.base + Duration::from_micros(self.now_us)
    }

    fn done(&self) -> bool {
        self.clients.iter().all(|c| c.closed) && self.server.connections() == 0
    }

    /// Runs until every transfer completed and closed; panics on a stall or a timeout.
    fn run(&mut self, limit: Duration) {
        let limit_us = limit.as_micros() as u64;
        while !self.done() {
            assert!(self.now_us < limit_us, "stalled: {}", self.progress());
            self.step();
            let next = [
                self.to_server.next_at(),
                self.to_client.next_at(),
                self.server
                    .poll_at()
                    .map(|at| at.saturating_duration_since(self.base).as_micros() as u64),
                self.client
                    .poll_at(SimInstant::from_micros(self.now_us as i64), &self.sockets)
                    .map(|at| at.total_micros() as u64),
            ]
            .into_iter()
            .flatten()
            .min();
            let Some(next) = next else {
                panic!("nothing left to do: {}", self.progress());
            };
            self.now_us = next.max(self.now_us + 1);
        }
    }

    fn progress(&self) -> String {
        let sent: usize = self.clients.iter().map(|c| c.sent).sum();
        let echoed: usize = self.clients.iter().map(|c| c.echoed).sum();
        let closed = self.clients.iter().filter(|c| c.closed).count();
        format!(
            "t={}us accepted={} sent={sent} echoed={echoed} closed={closed}/{} server conns={} stats={:?}",
            self.now_us,
            self.accepted,
            self.clients.len(),
            self.server.connections(),
            self.server.stats()
        )
    }

    fn step(&mut self) {
        let now = self.server_now();
        while let Some(frame) = self.to_server.deliver(self.now_us) {
            self.server.receive(now, &frame, &mut self.server_wire);
        }
        self.serve();
        self.server.poll(now, &mut self.server_wire);
        for frame in self.server_wire.frames.drain(..) {
            self.to_client.send(self.now_us, frame, &mut self.rng);
        }

        while let Some(frame) = self.to_client.deliver(self.now_us) {
            self.device.rx.push_back(frame);
        }
        let client_now = SimInstant::from_micros(self.now_us as i64);
        self.client
            .poll(client_now, &mut self.device, &mut self.sockets);
        self.drive_clients();
        self.client
            .poll(client_now, &mut self.device, &mut self.sockets);
        for frame in self.device.tx.drain(..) {
            self.to_server.send(self.now_us, frame, &mut self.rng);
        }
    }

    /// The echo server: what it reads it writes back; it closes after the peer's FIN.
    fn serve(&mut self) {
        while let Some(event) = self.server.next_event() {
            match event {
                Event::Accepted { conn, .. } => {
                    self.accepted += 1;
                    self.echoes.insert(conn, Echo::default());
                }
                Event::Readable(conn) | Event::Writable(conn) => self.echo(conn),
                Event::Closed(conn) => {
                    panic!("server connection {conn:?} was reset: {}", self.progress())
                }
            }
        }
    }

    fn echo(&mut self, conn: ConnHandle) {
        let Some(echo) = self.echoes.get_mut(&conn) else {
            return;
        };
        let mut buf = [0u8; 16 * 1024];
        loop {
            if !echo.pending.is_empty() {
                match self.server.send(conn, &echo.pending) {
                    Ok(n) => {
                        echo.pending.drain(..n);
                    }
                    Err(e) if e.kind() == ErrorKind::WouldBlock => {}
                    Err(e) => panic!("send: {e}"),
                }
                if !echo.pending.is_empty() {
                    break; // Writable follows
                }
            }
            match self.server.recv(conn, &mut buf) {
                Ok(0) => {
                    echo.eof = true;
                    break;
                }
                Ok(n) => echo.pending.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == ErrorKind::WouldBlock => break,
                Err(e) => panic!("recv: {e}"),
            }
        }
        if echo.eof && echo.pending.is_empty() {
            self.server.close(conn);
            self.echoes.remove(&conn);
        }
    }

    fn drive_clients(&mut self) {
        for client in &mut self.clients {
            let socket = self.sockets.get_mut::<tcp::Socket>(client.socket);
            if socket.can_send() && client.sent < client.data.len() {
                client.sent += socket
                    .send_slice(&client.data[client.sent..])
                    .expect("send");
            }
            while socket.can_recv() {
                let expected = &client.data[client.echoed..];
                let got = socket
                    .recv(|buf| {
                        let n = buf.len().min(expected.len());
                        assert_eq!(&buf[..n], &expected[..n], "echoed bytes differ");
                        assert_eq!(n, buf.len(), "more bytes echoed than sent");
                        (n, n)
                    })
                    .expect("recv");
                client.echoed += got;
            }
            if client.echoed == client.data.len() && !client.closed {
                socket.close();
                client.closed = true;
            }
        }
    }
}

#[test]
fn one_mebibyte_each_way_over_a_lossy_reordering_link() {
    for seed in [1, 2, 3] {
        let mut sim = Sim::new(seed, 20, 4, 1 << 20, 256 * 1024);
        sim.run(Duration::from_secs(600));
        let stats = sim.server.stats();
        assert_eq!(sim.accepted, 4);
        assert_eq!(stats.tcp_accepted, 4);
        assert_eq!(stats.tcp_closed, 4);
        assert!(sim.to_server.dropped > 0 && sim.to_client.dropped > 0);
        assert!(
            stats.tcp_retransmits_fast + stats.tcp_retransmits_timeout > 0,
            "losses were recovered by retransmission: {stats:?}"
        );
        assert!(stats.tcp_out_of_order > 0, "reordering was seen: {stats:?}");
    }
}

#[test]
fn four_hundred_concurrent_connections() {
    let mut sim = Sim::new(42, 10, 400, 16 * 1024, 32 * 1024);
    sim.run(Duration::from_secs(600));
    assert_eq!(sim.accepted, 400);
    assert_eq!(sim.server.stats().tcp_closed, 400);
}

#[test]
fn clean_link_needs_no_retransmission() {
    let mut sim = Sim::new(7, 0, 8, 200 * 1024, 64 * 1024);
    sim.run(Duration::from_secs(60));
    let stats = sim.server.stats();
    assert_eq!(
        stats.tcp_retransmits_fast + stats.tcp_retransmits_timeout,
        0,
        "{stats:?}"
    );
    assert_eq!(stats.rx_dropped_checksum + stats.rx_dropped_malformed, 0);
}
