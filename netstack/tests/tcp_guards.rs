//! Scripted checks of what the endpoint refuses: RST generation (RFC 793), RST and SYN
//! acceptance (RFC 5961), the backlog and connection limits, and stale handles.

mod common;

use std::io::ErrorKind;
use std::time::Duration;

use common::*;
use netstack::iface::{Config, Event};

#[test]
fn segments_to_other_ports_and_unknown_connections_get_rst() {
    let mut h = Harness::new(config());
    // SYN to a closed port: <SEQ=0><ACK=SEG.SEQ+SEG.LEN><CTL=RST,ACK>, from that port.
    h.send(&Seg {
        dst_port: 80,
        seq: 500,
        syn: true,
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert!(out[0].rst && !out[0].syn);
    assert_eq!(out[0].src_port, 80);
    assert_eq!((out[0].seq, out[0].ack), (0, Some(501)));
    // A segment with ACK: <SEQ=SEG.ACK><CTL=RST>.
    h.send(&Seg {
        seq: 9,
        ack: Some(5555),
        payload: b"x".to_vec(),
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert!(out[0].rst);
    assert_eq!((out[0].seq, out[0].ack), (5555, None));
    // A RST is never answered.
    h.send(&Seg {
        dst_port: 80,
        seq: 1,
        rst: true,
        ..Seg::from_peer()
    });
    assert!(h.sent().is_empty());
    assert_eq!(h.iface.stats().tcp_resets_sent, 2);
    assert_eq!(h.iface.connections(), 0);
}

#[test]
fn rst_resets_only_on_an_exact_sequence_match() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    // In window but not exact: challenge ACK (RFC 5961 §3.2), right away.
    h.send(&Seg {
        seq: peer_seq + 100,
        rst: true,
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert!(!out[0].rst);
    assert_eq!((out[0].seq, out[0].ack), (our_seq, Some(peer_seq)));
    // Outside the window: ignored.
    h.send(&Seg {
        seq: peer_seq.wrapping_sub(1_000_000),
        rst: true,
        ..Seg::from_peer()
    });
    assert!(h.sent().is_empty());
    assert_eq!(h.iface.connections(), 1);
    assert!(h.events().is_empty());
    // Exact: the connection is reset and the application told.
    h.send(&Seg {
        seq: peer_seq,
        rst: true,
        ..Seg::from_peer()
    });
    assert_eq!(h.events(), vec![Event::Closed(conn)]);
    assert_eq!(h.iface.connections(), 0);
    assert_eq!(
        h.iface.recv(conn, &mut [0; 8]).unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    assert_eq!(h.iface.stats().tcp_resets_received, 1);
    assert_eq!(h.iface.stats().tcp_challenge_acks, 1);
}

#[test]
fn syn_on_an_established_connection_draws_a_challenge_ack() {
    let mut h = Harness::new(config());
    let (_conn, peer_seq, our_seq) = h.handshake();
    h.send(&Seg {
        seq: peer_seq + 12_345,
        syn: true,
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert!(!out[0].syn && !out[0].rst);
    assert_eq!((out[0].seq, out[0].ack), (our_seq, Some(peer_seq)));
    assert_eq!(h.iface.connections(), 1);
}

#[test]
fn retransmitted_syn_gets_the_syn_ack_again_and_a_bad_ack_gets_rst() {
    let mut h = Harness::new(config());
    let syn = Seg {
        seq: 10,
        syn: true,
        ..Seg::from_peer()
    };
    h.send(&syn);
    let first = h.sent().remove(0);
    h.send(&syn);
    let again = h.sent();
    assert_eq!(again.len(), 1);
    assert!(again[0].syn);
    assert_eq!(again[0].seq, first.seq);
    // An ACK that does not acknowledge our SYN: RST <SEQ=SEG.ACK>, connection kept.
    h.send(&Seg {
        seq: 11,
        ack: Some(first.seq.wrapping_add(50)),
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert!(out[0].rst);
    assert_eq!(out[0].seq, first.seq.wrapping_add(50));
    assert_eq!(h.iface.connections(), 1);
    assert!(h.events().is_empty());
}

#[test]
fn full_backlog_drops_syns_until_a_handshake_completes() {
    let mut h = Harness::new(Config {
        backlog: 2,
        ..config()
    });
    for port in 1000..1003 {
        h.send(&Seg {
            src_port: port,
            seq: 1,
            syn: true,
            ..Seg::from_peer()
        });
    }
    let out = h.sent();
    assert_eq!(out.len(), 2, "the third SYN is dropped silently");
    assert_eq!(h.iface.stats().tcp_syn_dropped_backlog, 1);
    assert_eq!(h.iface.connections(), 2);
    h.send(&Seg {
        src_port: 1000,
        seq: 2,
        ack: Some(out[0].seq.wrapping_add(1)),
        ..Seg::from_peer()
    });
    assert!(matches!(h.events()[..], [Event::Accepted { .. }]));
    h.send(&Seg {
        src_port: 1002,
        seq: 1,
        syn: true,
        ..Seg::from_peer()
    });
    assert!(h.sent()[0].syn, "room again in the backlog");
}

#[test]
fn connection_limit_refuses_with_rst() {
    let mut h = Harness::new(Config {
        max_connections: 2,
        ..config()
    });
    h.handshake_from(1000, None);
    h.handshake_from(1001, None);
    h.send(&Seg {
        src_port: 1002,
        seq: 77,
        syn: true,
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert_eq!(out.len(), 1);
    assert!(out[0].rst);
    assert_eq!(out[0].ack, Some(78));
    assert_eq!(h.iface.stats().tcp_connections_refused, 1);
    assert_eq!(h.iface.connections(), 2);
}

#[test]
fn stale_handle_never_reaches_the_reused_slot() {
    let mut h = Harness::new(config());
    let (old, peer_seq, _) = h.handshake();
    h.send(&Seg {
        seq: peer_seq,
        rst: true,
        ..Seg::from_peer()
    });
    assert_eq!(h.events(), vec![Event::Closed(old)]);
    let (new, peer_seq, our_seq) = h.handshake_from(PEER_PORT + 1, None);
    assert_ne!(old, new);
    h.send(&Seg {
        src_port: PEER_PORT + 1,
        seq: peer_seq,
        ack: Some(our_seq),
        payload: b"hi".to_vec(),
        ..Seg::from_peer()
    });
    let mut buf = [0u8; 8];
    assert_eq!(
        h.iface.recv(old, &mut buf).unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    assert_eq!(
        h.iface.send(old, b"x").unwrap_err().kind(),
        ErrorKind::NotConnected
    );
    h.iface.close(old);
    h.iface.abort(old);
    assert_eq!(h.iface.peer(old), None);
    assert_eq!(h.iface.connections(), 1);
    assert_eq!(h.read_all(new), b"hi");
}

#[test]
fn syn_ack_is_retransmitted_with_backoff_then_given_up() {
    let mut h = Harness::new(Config {
        initial_rto: Duration::from_millis(100),
        max_retransmits: 2,
        ..config()
    });
    h.send(&Seg {
        seq: 1,
        syn: true,
        ..Seg::from_peer()
    });
    assert_eq!(h.sent().len(), 1);
    h.advance(Duration::from_millis(99));
    assert!(h.poll().is_empty());
    h.advance(Duration::from_millis(1));
    assert!(h.poll()[0].syn);
    h.advance(Duration::from_millis(199));
    assert!(h.poll().is_empty());
    h.advance(Duration::from_millis(1));
    assert!(h.poll()[0].syn);
    h.advance(Duration::from_millis(400));
    let out = h.poll();
    assert!(out.iter().all(|s| !s.syn), "given up: {out:?}");
    assert_eq!(h.iface.connections(), 0);
    assert!(h.events().is_empty(), "never accepted, so no Closed");
    assert_eq!(h.iface.stats().tcp_retransmits_timeout, 2);
}

#[test]
fn new_syn_reuses_a_time_wait_slot() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.close(conn);
    h.poll();
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq + 1),
        fin: true,
        ..Seg::from_peer()
    });
    h.poll();
    assert_eq!(h.iface.connections(), 1); // TIME_WAIT
    h.send(&Seg {
        seq: peer_seq + 100_000,
        syn: true,
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert!(
        out[0].syn,
        "RFC 1122 §4.2.2.13: a higher SYN reopens: {out:?}"
    );
    assert_eq!(h.iface.connections(), 1);
}
