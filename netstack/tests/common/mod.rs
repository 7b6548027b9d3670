//! Test support: an in-memory device, frame builders and parsers, and a scripted peer
//! ([`Harness`]) in the style of smoltcp's `send!`/`recv!` socket tests.
#![allow(dead_code)] // each test binary uses a different part

use std::net::{Ipv4Addr, SocketAddrV4};
use std::time::{Duration, Instant};

use netstack::iface::{Config, ConnHandle, Event, Interface};
use netstack::phy::Transmit;
use smoltcp::wire::{
    EthernetAddress, EthernetFrame, EthernetProtocol, IpAddress, IpProtocol, Ipv4Packet, TcpPacket,
    TcpSeqNumber,
};

pub const OUR_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x01];
pub const OUR_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 1);
pub const PORT: u16 = 6379;
pub const PEER_MAC: [u8; 6] = [0x02, 0, 0, 0, 0, 0x02];
pub const PEER_IP: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 2);
pub const PEER_PORT: u16 = 40_000;

/// The in-memory device: every frame sent, optionally refusing after `capacity` frames.
#[derive(Default)]
pub struct Wire {
    pub frames: Vec<Vec<u8>>,
    pub capacity: Option<usize>,
}

impl Transmit for Wire {
    fn transmit<F: FnOnce(&mut [u8])>(&mut self, len: usize, emit: F) -> bool {
        if self.capacity.is_some_and(|cap| self.frames.len() >= cap) {
            return false;
        }
        let mut frame = vec![0u8; len];
        emit(&mut frame);
        self.frames.push(frame);
        true
    }
}

pub fn config() -> Config {
    Config {
        mac: OUR_MAC,
        addr: OUR_IP,
        port: PORT,
        ..Config::default()
    }
}

/// A TCP segment as a test writes or reads it.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Seg {
    pub src_port: u16,
    pub dst_port: u16,
    pub seq: u32,
    pub ack: Option<u32>,
    pub syn: bool,
    pub fin: bool,
    pub rst: bool,
    pub psh: bool,
    pub window: u16,
    pub mss: Option<u16>,
    pub wscale: Option<u8>,
    /// Raw extra options appended after MSS/WS (padded to 4 bytes with NOPs).
    pub extra_options: Vec<u8>,
    pub payload: Vec<u8>,
}

impl Seg {
    /// A segment from the peer's default port to ours.
    pub fn from_peer() -> Seg {
        Seg {
            src_port: PEER_PORT,
            dst_port: PORT,
            window: 65_535,
            ..Seg::default()
        }
    }
}

/// An Ethernet/IPv4/TCP frame from `src` to `dst`, checksums filled.
pub fn tcp_frame(src_mac: [u8; 6], src: Ipv4Addr, dst: Ipv4Addr, seg: &Seg) -> Vec<u8> {
    let mut options = Vec::new();
    if let Some(mss) = seg.mss {
        options.extend_from_slice(&[2, 4]);
        options.extend_from_slice(&mss.to_be_bytes());
    }
    if let Some(ws) = seg.wscale {
        options.extend_from_slice(&[1, 3, 3, ws]);
    }
    options.extend_from_slice(&seg.extra_options);
    while options.len() % 4 != 0 {
        options.push(1);
    }
    let tcp_len = 20 + options.len() + seg.payload.len();
    let mut frame = vec![0u8; 14 + 20 + tcp_len];
    write_ip_headers(
        &mut frame,
        src_mac,
        OUR_MAC,
        src,
        dst,
        IpProtocol::Tcp,
        tcp_len,
    );
    let mut tcp = TcpPacket::new_unchecked(&mut frame[34..]);
    tcp.set_src_port(seg.src_port);
    tcp.set_dst_port(seg.dst_port);
    tcp.set_seq_number(TcpSeqNumber(seg.seq as i32));
    tcp.set_ack_number(TcpSeqNumber(seg.ack.unwrap_or(0) as i32));
    tcp.set_header_len((20 + options.len()) as u8);
    tcp.clear_flags();
    tcp.set_syn(seg.syn);
    tcp.set_fin(seg.fin);
    tcp.set_rst(seg.rst);
    tcp.set_psh(seg.psh);
    tcp.set_ack(seg.ack.is_some());
    tcp.set_window_len(seg.window);
    tcp.options_mut().copy_from_slice(&options);
    tcp.payload_mut().copy_from_slice(&seg.payload);
    tcp.fill_checksum(&IpAddress::Ipv4(src), &IpAddress::Ipv4(dst));
    frame
}

/// Writes Ethernet and IPv4 headers (checksummed) for an IP payload of `len` bytes.
pub fn write_ip_headers(
    frame: &mut [u8],
    src_mac: [u8; 6],
    dst_mac: [u8; 6],
    src: Ipv4Addr,
    dst: Ipv4Addr,
    protocol: IpProtocol,
    len: usize,
) {
    let mut eth = EthernetFrame::new_unchecked(&mut frame[..]);
    eth.set_src_addr(EthernetAddress(src_mac));
    eth.set_dst_addr(EthernetAddress(dst_mac));
    eth.set_ethertype(EthernetProtocol::Ipv4);
    let mut ip = Ipv4Packet::new_unchecked(&mut frame[14..]);
    ip.set_version(4);
    ip.set_header_len(20);
    ip.set_total_len((20 + len) as u16);
    ip.set_ident(7);
    ip.clear_flags();
    ip.set_dont_frag(true);
    ip.set_hop_limit(64);
    ip.set_next_header(protocol);
    ip.set_src_addr(src);
    ip.set_dst_addr(dst);
    ip.fill_checksum();
}

/// A sent frame parsed back, after checking what every frame of ours must satisfy: our
/// source MAC and address, DF, TTL 64, valid IPv4 and TCP checksums.
#[derive(Debug)]
pub struct Sent {
    pub dst_mac: [u8; 6],
    pub dst: Ipv4Addr,
    pub ident: u16,
    pub seg: Seg,
}

pub fn parse_tcp(frame: &[u8]) -> Sent {
    let eth = EthernetFrame::new_checked(frame).expect("ethernet");
    assert_eq!(eth.src_addr(), EthernetAddress(OUR_MAC));
    assert_eq!(eth.ethertype(), EthernetProtocol::Ipv4);
    let ip = Ipv4Packet::new_checked(eth.payload()).expect("ipv4");
    assert!(ip.verify_checksum(), "IPv4 checksum");
    assert!(ip.dont_frag());
    assert_eq!(ip.hop_limit(), 64);
    assert_eq!(ip.src_addr(), OUR_IP);
    assert_eq!(ip.next_header(), IpProtocol::Tcp);
    assert_eq!(ip.total_len() as usize, eth.payload().len());
    let tcp = TcpPacket::new_checked(ip.payload()).expect("tcp");
    assert!(
        tcp.verify_checksum(&IpAddress::Ipv4(OUR_IP), &IpAddress::Ipv4(ip.dst_addr())),
        "TCP checksum"
    );
    let summary = tcp.options_summary().expect("options");
    Sent {
        dst_mac: eth.dst_addr().0,
        dst: ip.dst_addr(),
        ident: ip.ident(),
        seg: Seg {
            src_port: tcp.src_port(),
            dst_port: tcp.dst_port(),
            seq: tcp.seq_number().0 as u32,
            ack: tcp.ack().then(|| tcp.ack_number().0 as u32),
            syn: tcp.syn(),
            fin: tcp.fin(),
            rst: tcp.rst(),
            psh: tcp.psh(),
            window: tcp.window_len(),
            mss: summary.max_segment_size,
            wscale: summary.window_scale,
            extra_options: Vec::new(),
            payload: tcp.payload().to_vec(),
        },
    }
}

/// Our interface and a scripted peer at `PEER_IP`, with time under the test's control.
pub struct Harness {
    pub iface: Interface,
    pub wire: Wire,
    pub now: Instant,
}

impl Harness {
    pub fn new(config: Config) -> Harness {
        Harness {
            iface: Interface::new(config),
            wire: Wire::default(),
            now: Instant::now(),
        }
    }

    pub fn advance(&mut self, by: Duration) {
        self.now += by;
    }

    /// Feeds one raw frame.
    pub fn receive(&mut self, frame: &[u8]) {
        self.iface.receive(self.now, frame, &mut self.wire);
    }

    /// Feeds a segment from the peer.
    pub fn send(&mut self, seg: &Seg) {
        let frame = tcp_frame(PEER_MAC, PEER_IP, OUR_IP, seg);
        self.receive(&frame);
    }

    /// Frames sent since the last call, parsed as TCP.
    pub fn sent(&mut self) -> Vec<Seg> {
        self.wire
            .frames
            .drain(..)
            .map(|frame| {
                let sent = parse_tcp(&frame);
                assert_eq!(sent.dst_mac, PEER_MAC);
                assert_eq!(sent.dst, PEER_IP);
                sent.seg
            })
            .collect()
    }

    /// Polls and returns what was sent.
    pub fn poll(&mut self) -> Vec<Seg> {
        self.iface.poll(self.now, &mut self.wire);
        self.sent()
    }

    pub fn events(&mut self) -> Vec<Event> {
        std::iter::from_fn(|| self.iface.next_event()).collect()
    }

    /// Completes a handshake from `port` with MSS 1460 and window scale `wscale`; returns the
    /// handle, the peer's next sequence number and ours.
    pub fn handshake_from(&mut self, port: u16, wscale: Option<u8>) -> (ConnHandle, u32, u32) {
        let isn = 1000;
        self.send(&Seg {
            src_port: port,
            seq: isn,
            syn: true,
            mss: Some(1460),
            wscale,
            ..Seg::from_peer()
        });
        let out = self.sent();
        assert_eq!(out.len(), 1, "one SYN-ACK: {out:?}");
        let syn_ack = &out[0];
        assert!(syn_ack.syn && !syn_ack.rst);
        assert_eq!(syn_ack.ack, Some(isn + 1));
        let our_next = syn_ack.seq.wrapping_add(1);
        self.send(&Seg {
            src_port: port,
            seq: isn + 1,
            ack: Some(our_next),
            ..Seg::from_peer()
        });
        let events = self.events();
        let Some(Event::Accepted { conn, peer }) = events.first().copied() else {
            panic!("expected Accepted, got {events:?}");
        };
        assert_eq!(peer, SocketAddrV4::new(PEER_IP, port));
        (conn, isn + 1, our_next)
    }

    pub fn handshake(&mut self) -> (ConnHandle, u32, u32) {
        self.handshake_from(PEER_PORT, None)
    }

    /// Reads everything currently readable.
    pub fn read_all(&mut self, conn: ConnHandle) -> Vec<u8> {
        let mut data = Vec::new();
        let mut buf = [0u8; 4096];
        while let Ok(n) = self.iface.recv(conn, &mut buf) {
            if n == 0 {
                break;
            }
            data.extend_from_slice(&buf[..n]);
        }
        data
    }
}
