//! Property tests: random and mutated frames fed to `receive` never panic, and never break a
//! connection in progress (frames that could legitimately affect it, such as an in-window RST,
//! are not generated: mutations of them fail the checksum).

mod common;

use std::net::Ipv4Addr;
use std::time::Duration;

use common::*;
use netstack::iface::{Config, Event};
use proptest::collection::vec;
use proptest::prelude::*;
use smoltcp::wire::{IpProtocol, Ipv4Packet};

const OTHER_PEER: Ipv4Addr = Ipv4Addr::new(10, 0, 0, 3);

/// A TCP segment with arbitrary fields and options, valid checksums, from another peer.
fn foreign_segment() -> impl Strategy<Value = Vec<u8>> {
    (
        any::<(u16, u16, u32, Option<u32>)>(),
        any::<(bool, bool, bool, u16)>(),
        vec(any::<u8>(), 0..40),
        vec(any::<u8>(), 0..64),
    )
        .prop_map(
            |((src_port, dst, seq, ack), (syn, fin, rst, window), options, payload)| {
                tcp_frame(
                    PEER_MAC,
                    OTHER_PEER,
                    OUR_IP,
                    &Seg {
                        src_port,
                        dst_port: if dst % 2 == 0 { PORT } else { dst },
                        seq,
                        ack,
                        syn,
                        fin,
                        rst,
                        window,
                        extra_options: options,
                        payload,
                        ..Seg::default()
                    },
                )
            },
        )
}

/// A segment on the live connection's 4-tuple whose sequence number is far outside the
/// window: whatever its flags, it may only draw an ACK.
fn stray_segment(peer_seq: u32) -> impl Strategy<Value = Vec<u8>> {
    (
        0u32..1 << 30,
        any::<(bool, bool, bool)>(),
        vec(any::<u8>(), 0..32),
    )
        .prop_map(move |(distance, (syn, fin, rst), payload)| {
            tcp_frame(
                PEER_MAC,
                PEER_IP,
                OUR_IP,
                &Seg {
                    seq: peer_seq.wrapping_add(0x8000_0000).wrapping_add(distance),
                    ack: Some(distance),
                    syn,
                    fin,
                    rst,
                    payload,
                    ..Seg::from_peer()
                },
            )
        })
}

/// A frame mutated in a few bytes and possibly truncated.
fn mutated(base: impl Strategy<Value = Vec<u8>>) -> impl Strategy<Value = Vec<u8>> {
    (
        base,
        vec(any::<(usize, u8)>(), 0..4),
        any::<Option<usize>>(),
    )
        .prop_map(|(mut frame, flips, cut)| {
            for (at, value) in flips {
                if !frame.is_empty() {
                    let at = at % frame.len();
                    frame[at] ^= value;
                }
            }
            if let Some(cut) = cut {
                frame.truncate(cut % (frame.len() + 1));
            }
            frame
        })
}

/// An IPv4 header (valid checksum, our address) over arbitrary bytes as the TCP segment.
fn garbage_tcp() -> impl Strategy<Value = Vec<u8>> {
    vec(any::<u8>(), 0..80).prop_map(|tcp| {
        let mut frame = vec![0u8; 34 + tcp.len()];
        write_ip_headers(
            &mut frame,
            PEER_MAC,
            OUR_MAC,
            OTHER_PEER,
            OUR_IP,
            IpProtocol::Tcp,
            tcp.len(),
        );
        frame[34..].copy_from_slice(&tcp);
        frame
    })
}

fn any_frame(peer_seq: u32) -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        vec(any::<u8>(), 0..128),
        mutated(foreign_segment()),
        foreign_segment(),
        stray_segment(peer_seq),
        mutated(stray_segment(peer_seq)),
        garbage_tcp(),
    ]
}

/// The live connection's peer sequence number at the time the fuzz frames arrive.
const PEER_ISN_NEXT: u32 = 1001;

proptest! {
    #![proptest_config(ProptestConfig { cases: 512, ..ProptestConfig::default() })]

    #[test]
    fn random_frames_never_break_a_connection_in_progress(
        frames in vec(any_frame(PEER_ISN_NEXT + 5), 1..24),
    ) {
        let mut h = Harness::new(config());
        let (conn, peer_seq, our_seq) = h.handshake();
        prop_assert_eq!(peer_seq, PEER_ISN_NEXT);
        // In progress: unread data on one side, unacknowledged data on the other.
        h.send(&Seg { seq: peer_seq, ack: Some(our_seq), payload: b"GET a".to_vec(), ..Seg::from_peer() });
        h.iface.send(conn, b"$1\r\nx\r\n").unwrap();
        h.poll();
        for frame in &frames {
            h.receive(frame);
            h.advance(Duration::from_millis(1));
            h.iface.poll(h.now, &mut h.wire);
        }
        h.wire.frames.clear();
        let events = h.events();
        prop_assert!(!events.contains(&Event::Closed(conn)), "{:?}", events);
        // The connection carries on.
        h.send(&Seg { seq: peer_seq + 5, ack: Some(our_seq + 7), payload: b"\r\n".to_vec(), ..Seg::from_peer() });
        prop_assert_eq!(h.read_all(conn), b"GET a\r\n".to_vec());
        h.iface.send(conn, b"+OK\r\n").unwrap();
        let out = h.poll();
        prop_assert!(out.iter().any(|s| s.seq == our_seq + 7 && s.payload == b"+OK\r\n"), "{:?}", out);
    }

    #[test]
    fn anything_reaching_tcp_unverified_never_panics(
        frames in vec(prop_oneof![garbage_tcp(), mutated(foreign_segment())], 1..32),
    ) {
        let mut h = Harness::new(Config { verify_checksums: false, ..config() });
        let (conn, _, _) = h.handshake();
        for frame in &frames {
            h.receive(frame);
            let _ = h.iface.send(conn, b"data");
            h.advance(Duration::from_millis(7));
            h.iface.poll(h.now, &mut h.wire);
            while let Some(event) = h.iface.next_event() {
                if let Event::Readable(c) | Event::Accepted { conn: c, .. } = event {
                    let _ = h.iface.recv(c, &mut [0u8; 64]);
                }
            }
        }
    }

    #[test]
    fn ipv4_header_fields_never_panic(header in vec(any::<u8>(), 20..60), tail in vec(any::<u8>(), 0..40)) {
        let mut frame = vec![0u8; 14];
        frame[..6].copy_from_slice(&OUR_MAC);
        frame[12..14].copy_from_slice(&[0x08, 0x00]);
        frame.extend_from_slice(&header);
        frame.extend_from_slice(&tail);
        if let Ok(mut ip) = Ipv4Packet::new_checked(&mut frame[14..]) {
            ip.fill_checksum();
        }
        let mut h = Harness::new(config());
        h.receive(&frame);
        h.iface.poll(h.now, &mut h.wire);
    }
}
