//! Scripted loss recovery and flow control: RTO with backoff and give-up, fast retransmit,
//! out-of-order arrival, zero-window probes, window updates, and a full device.

mod common;

use std::time::Duration;

use common::*;
use netstack::iface::{Config, Event};

const MSS: usize = 1460;

#[test]
fn rto_retransmits_with_exponential_backoff_then_resets() {
    let mut h = Harness::new(Config {
        max_retransmits: 3,
        ..config()
    });
    // The handshake's RTT sample is ~0, so the RTO sits on its 20 ms floor.
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.send(conn, b"hello").unwrap();
    assert_eq!(h.poll().len(), 1);
    for (i, wait) in [20u64, 40, 80].into_iter().enumerate() {
        h.advance(Duration::from_millis(wait - 1));
        assert!(h.poll().is_empty(), "retransmission {i} too early");
        h.advance(Duration::from_millis(1));
        let out = h.poll();
        assert_eq!(out.len(), 1, "retransmission {i}");
        assert_eq!(
            (out[0].seq, out[0].payload.as_slice()),
            (our_seq, &b"hello"[..])
        );
    }
    assert_eq!(h.iface.stats().tcp_retransmits_timeout, 3);
    h.advance(Duration::from_millis(160));
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert!(out[0].rst, "gave up with a RST");
    assert_eq!(out[0].ack, Some(peer_seq));
    assert_eq!(h.events(), vec![Event::Closed(conn)]);
    assert_eq!(h.iface.connections(), 0);
    assert_eq!(h.iface.stats().tcp_timeouts, 1);
}

#[test]
fn ack_after_timeout_resumes_from_the_acknowledged_point() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.send(conn, &vec![1u8; 4 * MSS]).unwrap();
    assert_eq!(h.poll().len(), 4);
    h.advance(Duration::from_millis(20));
    let out = h.poll();
    assert_eq!(out.len(), 1, "one segment after a timeout (cwnd = 1 MSS)");
    assert_eq!(out[0].seq, our_seq);
    // The peer had everything but the first ACK was lost: it acknowledges all of it.
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq + (4 * MSS) as u32),
        ..Seg::from_peer()
    });
    assert!(h.poll().is_empty());
    h.advance(Duration::from_secs(1));
    assert!(
        h.poll().is_empty(),
        "nothing outstanding, nothing retransmitted"
    );
}

#[test]
fn three_duplicate_acks_trigger_fast_retransmit() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.send(conn, &vec![2u8; 6 * MSS]).unwrap();
    let out = h.poll();
    assert_eq!(out.len(), 6);
    let dup = Seg {
        seq: peer_seq,
        ack: Some(our_seq),
        ..Seg::from_peer()
    };
    h.send(&dup);
    h.send(&dup);
    assert!(h.poll().is_empty(), "two duplicates are not enough");
    h.send(&dup);
    let out = h.poll();
    assert_eq!(out.len(), 1, "{out:?}");
    assert_eq!(out[0].seq, our_seq);
    assert_eq!(out[0].payload.len(), MSS);
    assert_eq!(h.iface.stats().tcp_retransmits_fast, 1);
    // NewReno partial ACK: the next hole is retransmitted at once.
    h.send(&Seg {
        ack: Some(our_seq + 2 * MSS as u32),
        ..dup.clone()
    });
    let out = h.poll();
    assert_eq!(out[0].seq, our_seq + 2 * MSS as u32);
    assert_eq!(h.iface.stats().tcp_retransmits_fast, 2);
    assert_eq!(h.iface.stats().tcp_retransmits_timeout, 0);
}

#[test]
fn out_of_order_data_gets_immediate_duplicate_acks_and_is_reassembled() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    let seg = |offset: u32, data: &[u8]| Seg {
        seq: peer_seq + offset,
        ack: Some(our_seq),
        payload: data.to_vec(),
        ..Seg::from_peer()
    };
    h.send(&seg(5, b"world"));
    h.send(&seg(10, b"!"));
    let out = h.sent();
    assert_eq!(
        out.len(),
        2,
        "a duplicate ACK per out-of-order segment, before any poll"
    );
    assert!(out.iter().all(|s| s.ack == Some(peer_seq)));
    assert!(h.events().is_empty());
    h.send(&seg(0, b"hello"));
    assert_eq!(h.events(), vec![Event::Readable(conn)]);
    assert_eq!(h.read_all(conn), b"helloworld!");
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].ack, Some(peer_seq + 11));
    assert_eq!(h.iface.stats().tcp_out_of_order, 2);
}

#[test]
fn zero_window_is_probed_until_it_opens() {
    let mut h = Harness::new(config());
    let (conn, peer_seq, our_seq) = h.handshake();
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq),
        window: 0,
        ..Seg::from_peer()
    });
    h.iface.send(conn, b"queued").unwrap();
    assert!(h.poll().is_empty(), "nothing fits a zero window");
    h.advance(Duration::from_millis(20));
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert_eq!(
        out[0].seq,
        our_seq.wrapping_sub(1),
        "probe just below the window"
    );
    assert!(out[0].payload.is_empty());
    // Still closed: the next probe backs off.
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq),
        window: 0,
        ..Seg::from_peer()
    });
    h.advance(Duration::from_millis(39));
    assert!(h.poll().is_empty());
    h.advance(Duration::from_millis(1));
    assert_eq!(h.poll().len(), 1);
    assert_eq!(h.iface.stats().tcp_window_probes, 2);
    // The window opens: the data goes out.
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq),
        window: 1000,
        ..Seg::from_peer()
    });
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert_eq!(out[0].payload, b"queued");
    assert_eq!(h.iface.connections(), 1);
}

#[test]
fn window_closes_when_full_and_reopens_after_the_app_reads() {
    let mut h = Harness::new(Config {
        rx_buffer: 4096,
        ..config()
    });
    let (conn, peer_seq, our_seq) = h.handshake();
    let mut offset = 0u32;
    for len in [1460usize, 1460, 1176] {
        h.send(&Seg {
            seq: peer_seq + offset,
            ack: Some(our_seq),
            payload: vec![9u8; len],
            ..Seg::from_peer()
        });
        offset += len as u32;
    }
    let out = h.poll();
    assert_eq!(out.len(), 1);
    assert_eq!((out[0].ack, out[0].window), (Some(peer_seq + 4096), 0));
    // Beyond a zero window: not accepted, answered with an ACK.
    h.send(&Seg {
        seq: peer_seq + 4096,
        ack: Some(our_seq),
        payload: vec![1u8; 100],
        ..Seg::from_peer()
    });
    let out = h.poll();
    assert_eq!((out[0].ack, out[0].window), (Some(peer_seq + 4096), 0));
    // Receiver SWS avoidance: no update for less than min(MSS, buffer / 2).
    let mut buf = [0u8; 1000];
    assert_eq!(h.iface.recv(conn, &mut buf).unwrap(), 1000);
    assert!(h.poll().is_empty());
    assert_eq!(h.iface.recv(conn, &mut buf[..500]).unwrap(), 500);
    let out = h.poll();
    assert_eq!(out.len(), 1, "window update once it grew by an MSS");
    assert_eq!(out[0].window, 1500);
    assert_eq!(h.read_all(conn).len(), 2596);
    let out = h.poll();
    assert_eq!(out[0].window, 4096);
    assert!(h.poll().is_empty());
}

#[test]
fn acks_beyond_a_zero_receive_window_still_count() {
    let mut h = Harness::new(Config {
        rx_buffer: 1460,
        ..config()
    });
    let (conn, peer_seq, our_seq) = h.handshake();
    h.iface.send(conn, b"reply").unwrap();
    assert_eq!(h.poll().len(), 1);
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq),
        payload: vec![1u8; 1460],
        ..Seg::from_peer()
    });
    assert_eq!(h.poll()[0].window, 0);
    // The peer's next segment lies beyond our (zero) window, but it acknowledges our data:
    // the ACK is processed (RFC 9293 §3.10.7.4), the data is not.
    h.send(&Seg {
        seq: peer_seq + 1460 + 100,
        ack: Some(our_seq + 5),
        payload: vec![2u8; 10],
        ..Seg::from_peer()
    });
    let out = h.sent();
    assert_eq!((out[0].ack, out[0].window), (Some(peer_seq + 1460), 0));
    h.advance(Duration::from_secs(5));
    assert!(h.poll().is_empty(), "nothing left to retransmit");
    assert_eq!(h.read_all(conn).len(), 1460);
}

#[test]
fn a_full_device_loses_nothing() {
    let mut h = Harness::new(config());
    let (conn, _, our_seq) = h.handshake();
    h.iface.send(conn, &vec![5u8; 3 * MSS]).unwrap();
    h.wire.capacity = Some(1);
    let out = h.poll();
    assert_eq!(out.len(), 1);
    h.wire.capacity = Some(0);
    assert!(h.poll().is_empty());
    assert!(h.iface.poll_at().is_some_and(|at| at <= h.now), "still due");
    h.wire.capacity = None;
    let out = h.poll();
    let seqs: Vec<u32> = out.iter().map(|s| s.seq).collect();
    assert_eq!(seqs, vec![our_seq + MSS as u32, our_seq + 2 * MSS as u32]);
    assert!(h.iface.stats().tx_full >= 2);
}

#[test]
fn send_buffer_limit_then_writable() {
    let mut h = Harness::new(Config {
        tx_buffer: 2000,
        ..config()
    });
    let (conn, peer_seq, our_seq) = h.handshake();
    assert_eq!(h.iface.send(conn, &[1u8; 3000]).unwrap(), 2000);
    assert_eq!(
        h.iface.send(conn, b"x").unwrap_err().kind(),
        std::io::ErrorKind::WouldBlock
    );
    h.poll();
    assert!(h.events().is_empty());
    h.send(&Seg {
        seq: peer_seq,
        ack: Some(our_seq + 1460),
        ..Seg::from_peer()
    });
    assert_eq!(h.events(), vec![Event::Writable(conn)]);
    assert_eq!(h.iface.send(conn, &[1u8; 3000]).unwrap(), 1460);
}

#[test]
fn ip_identification_increments() {
    let mut h = Harness::new(config());
    let (conn, _, _) = h.handshake();
    h.iface.send(conn, &vec![0u8; 3 * MSS]).unwrap();
    h.iface.poll(h.now, &mut h.wire);
    let ids: Vec<u16> = h.wire.frames.iter().map(|f| parse_tcp(f).ident).collect();
    assert_eq!(ids.len(), 3);
    assert_eq!(ids[1], ids[0].wrapping_add(1));
    assert_eq!(ids[2], ids[0].wrapping_add(2));
}
